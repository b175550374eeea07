"""converters.observers: a layer applied to several parts of a tensor quantizes as the unsplit layer."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from converters.observers import share_call_observers  # noqa: E402


class _Mlp(torch.nn.Module):
    def __init__(self, passes: int) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
        self.passes = passes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.passes == 1:
            return self.mlp(x)
        return torch.cat([self.mlp(part) for part in x.chunk(self.passes)])


def _int8(module: torch.nn.Module, feeds: list[torch.Tensor], share: bool) -> tuple[torch.nn.Module, int]:
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    prepared = prepare_pt2e(torch.export.export(module, (feeds[0],)).module(), quantizer)
    merged = share_call_observers(prepared) if share else 0
    with torch.no_grad():
        for feed in feeds:
            prepared(feed)
    return convert_pt2e(prepared), merged


def test_split_layer_quantizes_like_the_whole_one() -> None:
    generator = torch.Generator().manual_seed(1)
    # the three thirds of the rows have very different ranges: per-pass observers would fit each
    scale = torch.tensor([0.1] * 8 + [1.0] * 8 + [10.0] * 8).reshape(-1, 1)
    feeds = [torch.randn(24, 4, generator=generator) * scale for _ in range(4)]
    test = torch.randn(24, 4, generator=generator) * scale.flip(0)  # ranges in other rows than calibrated
    whole, merged_whole = _int8(_Mlp(1), feeds, share=True)
    shared, merged = _int8(_Mlp(3), feeds, share=True)
    separate, _ = _int8(_Mlp(3), feeds, share=False)
    assert merged_whole == 0 and merged > 0
    with torch.no_grad():
        want = whole(test)
        shared_error = float((shared(test) - want).abs().max())
        separate_error = float((separate(test) - want).abs().max())
    # shared: within one output int8 step (about 0.04 here) of the unsplit layer; separate: the passes'
    # own ranges clip rows whose range the calibration showed elsewhere (errors of several units)
    assert shared_error < 0.1 < 1.0 < separate_error


class _TwiceConv(torch.nn.Module):
    """One convolution applied to two halves of the input (CRMEF's feature convolution on both frames)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"y": self.conv(x[:, :3]) + self.conv(x[:, 3:])}


@pytest.mark.slow
def test_int8_executorch_program_with_a_convolution_applied_twice_loads_and_runs(tmp_path) -> None:
    """Without untying the shared weight, XNNPACK refuses the program at load (the second convolution
    stays float between int8 tensors); with it, both convolutions are int8 and the result is close."""
    import numpy as np
    from executorch.runtime import Runtime

    from converters.executorch_target import export_graph

    module = _TwiceConv().eval()
    rng = np.random.default_rng(0)
    feeds = [{"x": rng.random((1, 6, 16, 16), dtype=np.float32)} for _ in range(4)]
    x = torch.from_numpy(feeds[0]["x"])
    path = tmp_path / "twice.pte"
    export_graph(module, {"x": x}, ("y",), path, "int8", feeds)
    got = Runtime.get().load_program(path).load_method("forward").execute([x])[0].numpy()
    want = module(x)["y"].detach().numpy()
    assert np.abs(got - want).max() < 0.05 * np.abs(want).max()
