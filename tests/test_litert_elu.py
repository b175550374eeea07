"""The LiteRT int8 ELU rewrite (converters/litert_elu.py), checked by running both graphs in LiteRT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("litert_torch")

from torch import nn  # noqa: E402

from converters import litert_target  # noqa: E402
from converters.litert_elu import fuse_float_elus  # noqa: E402
from edgemef.models.lut_distill.student import LoweringFriendlyELU  # noqa: E402


class SmallMLP(nn.Module):
    """Three linear layers with the student's ELU between them (the pattern the rewrite looks for)."""

    def __init__(self, activation: type[nn.Module]) -> None:
        super().__init__()
        torch.manual_seed(0)
        layers = [nn.Linear(6, 32), activation(), nn.Linear(32, 32), activation(), nn.Linear(32, 3)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"y": self.net(x)}


def export(module: nn.Module, path: Path) -> dict:
    rng = np.random.default_rng(1)
    calibration = [{"x": rng.normal(0, 1.5, (256, 6)).astype(np.float32)} for _ in range(4)]
    example = {"x": torch.from_numpy(calibration[0]["x"])}
    return litert_target.export_graph(module.eval(), example, ("y",), path, "int8", calibration).report


def run(path: Path, x: np.ndarray) -> np.ndarray:
    """The graph's output for ``x`` (this small graph's input and output are int8: quantised here)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    (given,), (taken,) = interpreter.get_input_details(), interpreter.get_output_details()
    scale, zero = given["quantization"]
    if scale:
        x = np.clip(np.round(x / scale) + zero, -128, 127).astype(given["dtype"])
    interpreter.set_tensor(given["index"], x)
    interpreter.invoke()
    y = interpreter.get_tensor(taken["index"]).astype(np.float32)
    scale, zero = taken["quantization"]
    return (y - zero) * scale if scale else y


@pytest.mark.slow
def test_float_elu_chains_become_int8_elus_that_compute_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = SmallMLP(LoweringFriendlyELU)
    fused = tmp_path / "fused.tflite"
    report = export(module, fused)
    assert report["rewrites"] == {"int8 ELUs from float chains": 2}
    assert report["operators"]["ELU"] == 2
    assert not {"EXP", "MINIMUM", "MAXIMUM", "SUB"} & set(report["operators"])

    monkeypatch.setattr(litert_target, "fuse_float_elus", lambda path: 0)
    chains = tmp_path / "chains.tflite"
    assert "EXP" in export(module, chains)["operators"]

    x = np.random.default_rng(2).normal(0, 1.5, (256, 6)).astype(np.float32)
    with torch.no_grad():
        reference = module(torch.from_numpy(x))["y"].numpy()
    out_fused, out_chains = run(fused, x), run(chains, x)
    spread = float(np.ptp(reference))
    # int8 activations: both within a few quantisation steps of fp32, and of each other
    assert np.abs(out_fused - reference).max() < 0.05 * spread
    assert np.abs(out_fused - out_chains).max() < 0.02 * spread
    assert fuse_float_elus(fused) == 0  # nothing left to fuse; the file is untouched


@pytest.mark.slow
def test_a_graph_without_the_chain_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "relu.tflite"
    report = export(SmallMLP(nn.ReLU), path)
    assert "rewrites" not in report or report["rewrites"] == {"int8 ELUs from float chains": 0}
    before = path.read_bytes()
    assert fuse_float_elus(path) == 0
    assert path.read_bytes() == before
