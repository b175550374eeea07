"""CRMEF: the exportable deformable convolution against its definition, the network and its search space,
the super-network (eq. 4-6), genotypes, and the searched network exported and run in ONNX Runtime, LiteRT
and ExecuTorch."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from edgemef.models.crmef.config import CrmefConfig  # noqa: E402
from edgemef.models.crmef.network import searched_layers  # noqa: E402
from edgemef.models.crmef.ops import KINDS  # noqa: E402
from edgemef.models.crmef.search import (  # noqa: E402
    Genotype,
    MixedOp,
    architecture_parameters,
    derive_genotype,
    latency_penalty,
    searched_network,
    supernet,
    weight_parameters,
)
from edgemef.models.layers.deform import (  # noqa: E402
    DeformableConv2d,
    deform_conv2d,
    deform_conv2d_gathered,
    deform_conv2d_reference,
)

SMALL = CrmefConfig(channels=16, deformable_groups=4, misaligned=True)


@pytest.mark.parametrize("sampling", [deform_conv2d, deform_conv2d_gathered])
@pytest.mark.parametrize(("kernel", "dilation", "groups"), [(3, 1, 1), (3, 2, 2), (5, 1, 4), (7, 1, 1)])
def test_deformable_with_zero_offsets_is_a_convolution(
    kernel: int, dilation: int, groups: int, sampling: Callable[..., torch.Tensor]
) -> None:
    generator = torch.Generator().manual_seed(kernel * 10 + dilation)
    x = torch.randn(2, 4, 9, 11, generator=generator)
    weight = torch.randn(5, 4, kernel, kernel, generator=generator)
    bias = torch.randn(5, generator=generator)
    offsets = torch.zeros(2, groups * 2 * kernel * kernel, 9, 11)
    masks = torch.ones(2, groups * kernel * kernel, 9, 11)
    got = sampling(x, offsets, masks, weight, bias, dilation)
    want = F.conv2d(x, weight, bias, padding=dilation * (kernel - 1) // 2, dilation=dilation)
    assert torch.allclose(got, want, atol=1e-4)


@pytest.mark.parametrize("sampling", [deform_conv2d, deform_conv2d_gathered])
@pytest.mark.parametrize(("kernel", "groups", "modulated"), [(3, 1, True), (3, 2, False), (5, 2, True)])
def test_deformable_matches_its_definition(
    kernel: int, groups: int, modulated: bool, sampling: Callable[..., torch.Tensor]
) -> None:
    """Random fractional offsets (some pointing outside the image) and masks, against the per-point sum:
    the one-``grid_sample`` sampling and the tap-by-tap gathers (LiteRT's) alike."""
    generator = torch.Generator().manual_seed(kernel + groups)
    x = torch.randn(1, 4, 6, 7, generator=generator)
    weight = torch.randn(3, 4, kernel, kernel, generator=generator)
    bias = torch.randn(3, generator=generator)
    offsets = 2.5 * torch.randn(1, groups * 2 * kernel * kernel, 6, 7, generator=generator)
    masks = torch.rand(1, groups * kernel * kernel, 6, 7, generator=generator) if modulated else None
    got = sampling(x, offsets, masks, weight, bias)
    want = deform_conv2d_reference(x, offsets, masks, weight, bias)
    assert torch.allclose(got.double(), want, atol=1e-4)


def test_a_new_deformable_layer_starts_as_a_plain_convolution() -> None:
    layer = DeformableConv2d(8, 8, 3, deformable_groups=4)
    x = torch.randn(1, 8, 10, 12)
    # offsets 0, masks sigmoid(0) = 0.5: half the plain convolution's response, plus the bias
    want = 0.5 * F.conv2d(x, layer.weight, None, padding=1) + layer.bias.reshape(1, -1, 1, 1)
    assert torch.allclose(layer(x, torch.randn(1, 8, 10, 12)), want, atol=1e-5)


def test_bounded_offsets_are_soft_clamped() -> None:
    torch.manual_seed(0)
    layer = DeformableConv2d(8, 8, 3, deformable_groups=2, max_offset=2.0)
    with torch.no_grad():
        layer.offset_mask.bias.normal_(std=20.0)  # offsets far beyond the bound
    x, guide = torch.rand(1, 8, 12, 12), torch.rand(1, 8, 12, 12)
    predicted = layer.offset_mask(guide)
    offsets = predicted[:, : 2 * 2 * 9]
    masks = torch.sigmoid(predicted[:, 2 * 2 * 9 :])
    bounded = 2.0 * torch.tanh(offsets / 2.0)
    assert bounded.abs().max() <= 2.0 < offsets.abs().max()
    expected = deform_conv2d(x, bounded, masks, layer.weight, layer.bias)
    torch.testing.assert_close(layer(x, guide), expected)
    with pytest.raises(ValueError, match="max_offset"):
        DeformableConv2d(8, 8, 3, deformable_groups=2, max_offset=0.0)


def test_config_refuses_bad_values() -> None:
    for bad in (
        {"channels": 12},  # not divisible by 8 groups
        {"n_exposures": 3},
        {"relight": "gamma"},
        {"min_illumination": 0.0},
        {"max_offset": 0.0},
        {"max_offset": 100.0},
        {"repletion_layers": 0},
    ):
        with pytest.raises(ValueError):
            CrmefConfig(**bad)


def test_searched_layers_follow_the_paper() -> None:
    general = searched_layers(CrmefConfig())
    # 2 exposures x 2 SRSM stages x 3 searched layers, and 4 DRM layers; no DASM
    assert sum(kind == "relighting" for kind in general.values()) == 12
    assert sum(kind == "repletion" for kind in general.values()) == 4
    assert "alignment" not in general.values()
    misaligned = searched_layers(CrmefConfig(misaligned=True))
    # a deformable layer per pyramid level and the cascading one
    assert [name for name, kind in misaligned.items() if kind == "alignment"] == [
        "dasm.0",
        "dasm.1",
        "dasm.2",
        "dasm.cascade",
    ]


def test_parameter_counts_bracket_the_papers() -> None:
    """The paper's searched C64 network has 1.879 M parameters and C32 0.684 M (general scenario): the
    all-smallest and all-largest networks of the search space bracket them."""
    for channels, paper in ((64, 1.879e6), (32, 0.684e6)):
        config = CrmefConfig(channels=channels)
        small = searched_network(Genotype.uniform(config, "conv_1", "rconv_1"))
        large = searched_network(Genotype.uniform(config, "dilconv_7", "rdconv_7"))
        count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
        assert count(small) < paper < count(large)


@pytest.mark.parametrize("misaligned", [False, True])
def test_supernet_runs_and_separates_alphas(misaligned: bool) -> None:
    config = CrmefConfig(channels=16, deformable_groups=4, misaligned=misaligned)
    net = supernet(config).eval()
    frames = torch.rand(2, 6, 16, 24)
    out = net(frames)
    assert out.shape == (2, 3, 16, 24)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    alphas = architecture_parameters(net)
    assert len(alphas) == len(searched_layers(config))
    weights = weight_parameters(net)
    assert not {id(p) for p in alphas} & {id(p) for p in weights}
    assert len(alphas) + len(weights) == len(list(net.parameters()))


def test_supernet_refuses_bad_inputs() -> None:
    net = supernet(SMALL)
    with pytest.raises(ValueError, match="B x 6 x H x W"):
        net(torch.rand(1, 9, 16, 16))
    with pytest.raises(ValueError, match="multiples of 4"):
        net(torch.rand(1, 6, 18, 16))


def test_latency_penalty_is_the_expected_latency_and_differentiable() -> None:
    net = supernet(SMALL)
    layers = searched_layers(SMALL)
    table = {name: {op: float(i + 1) for i, op in enumerate(KINDS[kind])} for name, kind in layers.items()}
    penalty = latency_penalty(net, table)
    # uniform alphas: each layer costs the mean of its candidates' latencies
    want = sum(np.mean(list(row.values())) for row in table.values())
    assert float(penalty) == pytest.approx(want, rel=1e-6)
    penalty.backward()
    assert all(
        alpha.grad is not None and alpha.grad.abs().sum() > 0 for alpha in architecture_parameters(net)
    )
    # pushing a layer's alpha toward its fastest operation lowers the penalty
    with torch.no_grad():
        architecture_parameters(net)[0][0] += 5.0
    assert float(latency_penalty(net, table)) < want
    table.pop(next(iter(table)))
    with pytest.raises(KeyError):
        latency_penalty(net, table)


def test_derived_genotype_round_trips_and_builds(tmp_path: Path) -> None:
    net = supernet(SMALL)
    with torch.no_grad():
        for op in net.modules():
            if isinstance(op, MixedOp):
                op.alpha[len(op.candidates) - 1] = 1.0  # the last candidate wins everywhere
    genotype = derive_genotype(net)
    assert set(genotype.layers.values()) == {"dilconv_7", "rdconv_7", "deform_7"}
    path = tmp_path / "genotype.json"
    genotype.save(path)
    assert Genotype.load(path) == genotype
    fixed = searched_network(Genotype.load(path)).eval()
    assert fixed(torch.rand(1, 6, 16, 16)).shape == (1, 3, 16, 16)
    assert not any(isinstance(m, MixedOp) for m in fixed.modules())


def test_genotype_refuses_wrong_files(tmp_path: Path) -> None:
    good = json.loads(Genotype.uniform(SMALL, "conv_3", "rconv_3").to_json())
    with pytest.raises(ValueError, match="not a CRMEF genotype"):
        Genotype.from_json(json.dumps({**good, "format": "other"}))
    with pytest.raises(ValueError, match="not one of"):
        Genotype.from_json(json.dumps({**good, "layers": {**good["layers"], "drm.0": "conv_3"}}))
    with pytest.raises(ValueError, match="missing"):
        Genotype.from_json(json.dumps({**good, "layers": {"drm.0": "rconv_3"}}))
    truncated = tmp_path / "cut.json"
    truncated.write_text(Genotype.uniform(SMALL, "conv_3", "rconv_3").to_json()[:50])
    with pytest.raises(ValueError, match="not a readable CRMEF genotype"):
        Genotype.load(truncated)


class _Graph(torch.nn.Module):
    def __init__(self, network: torch.nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"fused": self.network(frames)}


@pytest.fixture(scope="module")
def misaligned_network() -> torch.nn.Module:
    torch.manual_seed(0)
    net = searched_network(Genotype.uniform(SMALL, "dilconv_3", "rconv_3", "deform_5")).eval()
    for module in net.modules():  # offsets of a few pixels, so the deformable sampling is exercised
        if isinstance(module, DeformableConv2d):
            torch.nn.init.normal_(module.offset_mask.weight, std=0.05)
    return net


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["onnxruntime", "litert", "executorch"])
def test_searched_network_with_deformable_alignment_exports(
    runtime: str, misaligned_network: torch.nn.Module, tmp_path: Path
) -> None:
    """The misaligned network (deformable convolutions as grid_sample) in each real runtime, fp32."""
    import importlib

    module, suffix = {
        "onnxruntime": ("converters.onnx_target", ".onnx"),
        "litert": ("converters.litert_target", ".tflite"),
        "executorch": ("converters.executorch_target", ".pte"),
    }[runtime]
    frames = torch.rand(1, 6, 32, 48, generator=torch.Generator().manual_seed(1))
    want = misaligned_network(frames).detach().numpy()
    path = tmp_path / f"crmef{suffix}"
    importlib.import_module(module).export_graph(
        _Graph(misaligned_network), {"frames": frames}, ("fused",), path
    )
    feed = frames.numpy()
    if runtime == "onnxruntime":
        import onnxruntime

        got = onnxruntime.InferenceSession(str(path)).run(["fused"], {"frames": feed})[0]
    elif runtime == "litert":
        from ai_edge_litert.interpreter import Interpreter

        got = Interpreter(model_path=str(path)).get_signature_runner("serving_default")(frames=feed)["fused"]
    else:
        from executorch.runtime import Runtime

        method = Runtime.get().load_program(str(path)).load_method("forward")
        got = method.execute([frames])[0].numpy()
    assert got.shape == want.shape
    assert np.abs(got - want).max() < 1e-3


@pytest.mark.slow
def test_latency_table_measured_in_a_runtime_feeds_the_penalty(tmp_path: Path) -> None:
    from edgemef.models.crmef.latency import LatencyTable, layer_shapes, measure_latency_table

    config = CrmefConfig(channels=8, misaligned=True)
    lines: list[str] = []
    table = measure_latency_table(config, "onnxruntime", size=(16, 16), runs=3, progress=lines.append)
    shapes = layer_shapes(config, (16, 16))
    assert shapes["dasm.2"][1] == (1, 8, 4, 4) and shapes["dasm.cascade"][1] == (1, 8, 16, 16)
    assert set(table.layers) == set(searched_layers(config))
    assert all(ms > 0 for row in table.layers.values() for ms in row.values())
    # one measurement per operation and shape: 7 relighting + 7 repletion ops, 3 deformable x 3 sizes
    assert len(lines) == 7 + 7 + 3 * 3
    assert table.layers["srsm.under.0.0"] == table.layers["srsm.over.1.2"]
    path = tmp_path / "table.json"
    table.save(path)
    loaded = LatencyTable.load(path)
    assert loaded == table
    assert float(latency_penalty(supernet(config), loaded.layers)) > 0
    broken = json.loads(path.read_text())
    del broken["layers"]["drm.0"]["rconv_7"]
    path.write_text(json.dumps(broken))
    with pytest.raises(ValueError, match="lacks latencies"):
        LatencyTable.load(path)
    with pytest.raises(ValueError, match="runtime is one of"):
        measure_latency_table(config, "tensorrt")


@pytest.mark.slow
def test_search_writes_a_genotype_its_picture_and_the_latency_report(tmp_path: Path) -> None:
    """A few steps of the real search on a small SICE-layout dataset, latency measured in ONNX Runtime;
    then the same command resumes (nothing left to do) and gives the same genotype."""
    from edgemef.cli.main import main
    from tests.conftest import write_sice_dataset

    data = write_sice_dataset(tmp_path / "data", scenes=4)
    out = tmp_path / "search"
    command = [
        "search", "crmef", "--data", str(data), "--out", str(out), "--target", "onnx", "--channels", "8",
        "--steps", "4", "--warmup-steps", "1", "--batch-size", "2", "--patch", "32",
        "--latency-size", "32", "32", "--holdout", "scene4",
    ]  # fmt: skip
    assert main(command) == 0
    genotype = Genotype.load(out / "genotype.json")
    assert genotype.config == CrmefConfig(channels=8)
    alphas = json.loads((out / "alphas.json").read_text())
    assert set(alphas["weights"]) == set(genotype.layers)
    assert any(max(w) != min(w) for w in alphas["weights"].values()), "the alphas never moved"
    assert (out / "alphas.svg").read_text().startswith("<svg")
    report = json.loads((out / "search_report.json").read_text())
    assert report["runtime"] == "onnxruntime"
    assert set(report["networks"]) >= {"searched"}
    for row in report["networks"].values():
        assert row["measured_network_ms"] > 0 and row["predicted_searched_layers_ms"] > 0
    log = [json.loads(line) for line in (out / "search_log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log] == [4]
    assert "val_l1" in log[-1] and "expected_ms" in log[-1]
    before = (out / "genotype.json").read_text()
    assert main(command) == 0  # resumed at step 4 of 4
    assert (out / "genotype.json").read_text() == before
    assert main([*command, "--eta", "1.0"]) == 2  # another search in the same folder: one clear line


def test_search_refuses_the_misaligned_network_in_litert(tmp_path: Path) -> None:
    from edgemef.cli.main import main
    from tests.conftest import write_sice_dataset

    data = write_sice_dataset(tmp_path / "data", scenes=3)
    command = ["search", "crmef", "--data", str(data), "--out", str(tmp_path / "s"), "--misaligned"]
    assert main([*command, "--target", "rpi", "--holdout", "scene3"]) == 2
    assert not (tmp_path / "s").exists()


def test_weights_round_trip_and_refuse_other_files(tmp_path: Path) -> None:
    from edgemef.models.crmef.weights import load_crmef, save_crmef
    from edgemef.models.weights_file import WeightsError

    genotype = Genotype.uniform(CrmefConfig(channels=8), "conv_3", "rdconv_3")
    model = searched_network(genotype).eval()
    path = save_crmef(tmp_path / "model.safetensors", model, genotype)
    loaded = load_crmef(path)
    frames = torch.rand(1, 6, 16, 20)
    assert torch.equal(loaded(frames), model(frames))
    other = Genotype.uniform(CrmefConfig(channels=16), "conv_3", "rdconv_3")
    with pytest.raises(ValueError, match="another configuration"):
        save_crmef(tmp_path / "x.safetensors", model, other)
    (tmp_path / "junk.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(WeightsError):
        load_crmef(tmp_path / "junk.safetensors")


def test_fusion_uses_the_extreme_pair_and_tiles_like_one_run(tmp_path: Path) -> None:
    from edgemef.models.crmef.fusion import CrmefFusion
    from edgemef.models.crmef.weights import save_crmef

    genotype = Genotype.uniform(CrmefConfig(channels=8), "conv_3", "rconv_3")
    torch.manual_seed(0)
    path = save_crmef(tmp_path / "model.safetensors", searched_network(genotype), genotype)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (3, 37, 53, 3), dtype=np.uint8)
    whole = CrmefFusion(path, tile=4096).fuse(frames)
    assert whole.shape == (37, 53, 3) and whole.dtype == np.uint8
    assert np.array_equal(whole, CrmefFusion(path, tile=4096).fuse(frames[[0, 2]]))
    # tiles whose context covers the image are one run; a smaller context changes little
    assert np.array_equal(CrmefFusion(path, tile=16, margin=64).fuse(frames), whole)
    near = CrmefFusion(path, tile=16, margin=12).fuse(frames).astype(int)
    assert np.abs(near - whole.astype(int)).mean() < 2.0


def test_bounded_misaligned_network_reaches_no_further_than_its_radius(tmp_path: Path) -> None:
    from edgemef.models.crmef.fusion import CrmefFusion
    from edgemef.models.crmef.network import receptive_radius
    from edgemef.models.crmef.weights import save_crmef

    general = Genotype.uniform(CrmefConfig(channels=8), "conv_1", "rconv_1")
    genotype = general.misaligned("deform_3", max_offset=2.0)
    torch.manual_seed(0)
    model = searched_network(genotype).eval()
    with torch.no_grad():  # offsets pushed to their bound, so samples reach as far as they can
        for module in model.modules():
            if isinstance(module, DeformableConv2d):
                module.offset_mask.weight.normal_(std=0.5)
                module.offset_mask.bias.normal_(std=10.0)
    radius = receptive_radius(model)
    general_radius = receptive_radius(searched_network(general))
    reached = _support_radius(model, 4 * (radius // 2 + 6))
    assert general_radius < reached <= radius
    path = save_crmef(tmp_path / "m.safetensors", model, genotype)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (2, 72, 100, 3), dtype=np.uint8)
    whole = CrmefFusion(path, tile=4096).fuse(frames)
    tiled = CrmefFusion(path, tile=32, margin=0)  # the margin becomes the radius, rounded up to 4
    assert tiled.margin >= radius and tiled.margin % 4 == 0
    assert np.abs(tiled.fuse(frames).astype(int) - whole.astype(int)).max() <= 1


def test_shipped_misaligned_network_fuses_from_the_cli(tmp_path: Path) -> None:
    from edgemef.cli.main import main
    from edgemef.models import create_model
    from edgemef.models.crmef.network import receptive_radius
    from tests.conftest import exposure_bracket, textured_scene

    model = create_model("crmef-misaligned")
    assert model.name == "crmef-misaligned" and model.model.config.misaligned
    assert model.model.config.max_offset == 8.0 and model.margin >= receptive_radius(model.model)
    frames = exposure_bracket(textured_scene(90, 70))
    fused = model.fuse(frames)
    assert fused.shape == (90, 70, 3) and fused.dtype == np.uint8  # sides padded to the pyramid's 4
    paths = []
    for index, frame in enumerate(frames):
        paths.append(tmp_path / f"ev{index}.png")
        cv2.imwrite(str(paths[-1]), frame[..., ::-1])
    out = tmp_path / "fused.png"
    assert main(["fuse", *map(str, paths), "-o", str(out), "--model", "crmef-misaligned"]) == 0
    assert out.is_file()


def test_gradient_loss_scores_edges_only() -> None:
    from edgemef.models.crmef.train_task import gradient_loss, sobel_magnitude

    flat = torch.full((1, 3, 8, 8), 0.4)
    assert float(sobel_magnitude(flat).max()) < 1e-3
    edge = flat.clone()
    edge[..., 4:] = 0.9
    assert float(gradient_loss(edge, edge)) == 0.0
    assert float(gradient_loss(flat + 0.3, flat)) < 1e-6  # a brightness change has no gradient
    assert float(gradient_loss(flat, edge)) > 0.01


@pytest.mark.slow
def test_train_crmef_from_a_genotype_then_fuse(tmp_path: Path) -> None:
    from edgemef.cli.main import main
    from tests.conftest import write_sice_dataset

    data = write_sice_dataset(tmp_path / "data", scenes=3)
    genotype = tmp_path / "genotype.json"
    Genotype.uniform(CrmefConfig(channels=8), "conv_3", "rconv_1").save(genotype)
    out = tmp_path / "run"
    common = ["train", "crmef", "--data", str(data), "--out", str(out), "--holdout", "scene3"]
    assert main([*common, "--exposures", "3", "--genotype", str(genotype)]) == 2
    assert main([*common, "--exposures", "2"]) == 2  # no genotype
    command = [*common, "--exposures", "2", "--genotype", str(genotype), "--steps", "3", "--batch-size", "2"]
    assert main([*command, "--validate-every", "3"]) == 0
    weights = out / "model.safetensors"
    assert weights.is_file()
    fused = tmp_path / "fused.png"
    frames = sorted((data / "scene3").glob("ev*.jpg"))
    assert (
        main(["fuse", *map(str, frames), "-o", str(fused), "--model", "crmef", "--weights", str(weights)])
        == 0
    )
    assert fused.is_file()


def test_misaligned_training_starts_from_a_general_network(tmp_path: Path) -> None:
    from dataclasses import replace

    from edgemef.errors import DatasetError
    from edgemef.models.crmef.train_task import make_task
    from edgemef.models.crmef.weights import read_genotype, save_crmef
    from tests.conftest import write_sice_dataset

    data = write_sice_dataset(tmp_path / "data", scenes=2)
    general = Genotype.uniform(CrmefConfig(channels=8), "conv_3", "rconv_1")
    torch.manual_seed(0)
    trained = searched_network(general)
    save_crmef(tmp_path / "general.safetensors", trained, general)
    misaligned = read_genotype(tmp_path / "general.safetensors").misaligned("deform_3")
    assert misaligned.config == replace(general.config, misaligned=True, max_offset=8.0)
    assert {misaligned.layers[n] for n in ("dasm.0", "dasm.1", "dasm.2", "dasm.cascade")} == {"deform_3"}
    with pytest.raises(ValueError, match="already"):
        misaligned.misaligned()
    misaligned.save(tmp_path / "misaligned.json")
    task = make_task(
        "crmef",
        data=data,
        holdout=["scene2"],
        n_exposures=2,
        init=tmp_path / "general.safetensors",
        genotype=tmp_path / "misaligned.json",
    )
    assert task.sample_config.shake_px > 0 and not task.sample_config.motion
    model = task.build()
    started = model.state_dict()
    for key, value in trained.state_dict().items():
        torch.testing.assert_close(started[key], value)
    assert any(key.startswith("align.") for key in started)
    other = Genotype.uniform(CrmefConfig(channels=8), "conv_5", "rconv_1")
    save_crmef(tmp_path / "other.safetensors", searched_network(other), other)
    task.init = tmp_path / "other.safetensors"
    with pytest.raises(DatasetError, match="not this genotype"):
        task.build()


def test_critic_terms_train_each_side_with_its_own_objective() -> None:
    from edgemef.models.crmef.critic import PatchCritic, adversarial_losses

    torch.manual_seed(0)
    critic = PatchCritic(width=8)
    assert critic(torch.rand(2, 3, 128, 128)).shape == (2, 1, 14, 14)  # 70x70 patches
    fused = torch.rand(2, 3, 64, 64, requires_grad=True)
    network_term, critic_term, parts = adversarial_losses(critic, fused, torch.rand(2, 3, 64, 64))
    assert set(parts) == {"w_dist", "gp"} and parts["gp"] >= 0.0
    network_term.backward(retain_graph=True)
    assert fused.grad is not None and fused.grad.abs().sum() > 0
    assert all(p.grad is None for p in critic.parameters())  # the network's term leaves the critic alone
    fused.grad = None
    critic_term.backward()
    assert fused.grad is None  # the critic's term leaves the network alone
    # every weight learns (the last bias cancels in E D(y_gt) - E D(y), as in any WGAN critic)
    weights = [p for name, p in critic.named_parameters() if name.endswith("weight")]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in weights)


def test_train_with_the_critic_ships_the_network_alone(tmp_path: Path) -> None:
    from edgemef.cli.main import main
    from edgemef.models.crmef.weights import load_crmef
    from tests.conftest import write_sice_dataset

    data = write_sice_dataset(tmp_path / "data", scenes=2)
    genotype = tmp_path / "genotype.json"
    Genotype.uniform(CrmefConfig(channels=8), "conv_1", "rconv_1").save(genotype)
    out = tmp_path / "run"
    command = ["train", "crmef", "--data", str(data), "--out", str(out), "--holdout", "scene2"]
    command += ["--exposures", "2", "--genotype", str(genotype), "--steps", "2", "--batch-size", "2"]
    assert main([*command, "--adversarial-weight", "-1"]) == 2
    assert main([*command, "--adversarial-weight", "0.05"]) == 0
    assert "w_dist" in (out / "log.jsonl").read_text()
    network = load_crmef(out / "model.safetensors")
    assert not any(name.startswith("critic") for name in network.state_dict())


def _support_radius(model: torch.nn.Module, size: int) -> int:
    """How far a change of one input pixel reaches in the output (the receptive field, measured)."""
    torch.manual_seed(1)
    x = torch.rand(1, 6, size, size)
    moved = x.clone()
    moved[:, :, size // 2, size // 2] += 0.5
    with torch.no_grad():
        changed = (model(x) - model(moved)).abs().sum(dim=(0, 1)) > 0
    rows, cols = torch.nonzero(changed, as_tuple=True)
    centre = size // 2
    return int(max(centre - rows.min(), rows.max() - centre, centre - cols.min(), cols.max() - centre))


@pytest.mark.parametrize(("relighting", "repletion"), [("conv_1", "rconv_1"), ("dilconv_7", "rdconv_5")])
def test_receptive_radius_is_what_a_pixel_reaches(relighting: str, repletion: str) -> None:
    from edgemef.models.crmef.network import receptive_radius

    genotype = Genotype.uniform(CrmefConfig(channels=8), relighting, repletion)
    reached = []
    for seed in range(3):  # max pooling can hide a change at one initialisation, hardly at all three
        torch.manual_seed(seed)
        model = searched_network(genotype).eval()
        radius = receptive_radius(model)
        reached.append(_support_radius(model, 2 * radius + 21))
    assert radius == max(reached)
    with pytest.raises(ValueError, match="misaligned"):
        receptive_radius(searched_network(Genotype.uniform(SMALL, "conv_1", "rconv_1", "deform_3")))


def test_tiles_of_the_exported_graph_fuse_like_the_whole_image() -> None:
    """The tiler with the tile graph (in PyTorch), halo = the receptive field radius, equals one run of the
    network over the whole image (up to float rounding), on an image of 3 x 4 tiles."""
    from converters.graphs import TorchRunner
    from edgemef.models.crmef.export import TileGraph, tiling
    from edgemef.models.crmef.runtime import BackendTileGraph
    from edgemef.runtime.cached_tiler import CachedTiler

    torch.manual_seed(0)
    model = searched_network(Genotype.uniform(CrmefConfig(channels=8), "conv_3", "rconv_1")).eval()
    settings = tiling(model, 112)
    assert settings.halo == 16 and settings.overlap == 48
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (2, 150, 190, 3), dtype=np.uint8)
    tiled = CachedTiler(BackendTileGraph(TorchRunner(TileGraph(model))), 2, settings, mode="off").fuse(frames)
    x = torch.from_numpy(frames).float().div(255).permute(0, 3, 1, 2).reshape(1, 6, 150, 190)
    with torch.no_grad():
        whole = (model(x)[0].permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    assert np.abs(tiled.astype(int) - whole.astype(int)).max() <= 1


def test_convert_refuses_misaligned_weights_and_tiny_tiles(tmp_path: Path) -> None:
    from converters import ConvertConfig, convert
    from edgemef.errors import ConversionError
    from edgemef.models.crmef.weights import save_crmef

    genotype = Genotype.uniform(SMALL, "conv_1", "rconv_1", "deform_3")
    weights = save_crmef(tmp_path / "m.safetensors", searched_network(genotype), genotype)
    with pytest.raises(ConversionError, match="misaligned CRMEF does not export"):
        convert(ConvertConfig(target="onnx", model="crmef", weights=weights, out=tmp_path / "out"))
    with pytest.raises(ConversionError, match="too small for this network"):
        convert(ConvertConfig(target="onnx", model="crmef", options={"tile": 48}, out=tmp_path / "out"))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.slow
def test_artifact_fuses_any_bracket_by_its_extremes_without_torch(family_artifact, tmp_path: Path) -> None:
    """``edgemef fuse --artifact`` with the LiteRT tile graph in an interpreter without torch: a 3-frame
    bracket fuses its darkest and brightest frames, as the 2-frame bracket of those; an edited contract
    whose tiling cannot be seamless is refused."""
    import cv2

    from edgemef.runtime import open_artifact
    from tests.conftest import run_python_without_torch

    result = family_artifact("crmef", "litert", "fp32")
    rng = np.random.default_rng(3)
    scene = cv2.GaussianBlur(rng.random((140, 230, 3)).astype(np.float32), (0, 0), 3) * 0.8 + 0.1
    paths = []
    for index, gain in enumerate((0.3, 1.0, 2.5)):
        frame = (np.clip(scene * gain, 0, 1) * 255 + 0.5).astype(np.uint8)
        paths.append(tmp_path / f"f{index}.png")
        cv2.imwrite(str(paths[-1]), frame[..., ::-1])
    outputs = [tmp_path / "three.png", tmp_path / "two.png"]
    body = (
        "from edgemef.cli.main import main\n"
        f"assert main(['fuse', *{list(map(str, paths))!r}, '-o', {str(outputs[0])!r}, "
        f"'--artifact', {str(result.artifact)!r}]) == 0\n"
        f"assert main(['fuse', {str(paths[0])!r}, {str(paths[2])!r}, '-o', {str(outputs[1])!r}, "
        f"'--artifact', {str(result.artifact)!r}]) == 0\n"
    )
    done = run_python_without_torch(body, tmp_path)
    assert done.returncode == 0, done.stderr
    three, two = (cv2.imread(str(p)) for p in outputs)
    assert three.shape == (140, 230, 3) and np.array_equal(three, two)
    edited = tmp_path / "edited"
    edited.mkdir()
    for path in result.artifact.parent.iterdir():
        (edited / path.name).write_bytes(path.read_bytes())
    contract_path = edited / result.artifact.with_suffix(".json").name
    contract = json.loads(contract_path.read_text())
    contract["postprocessing"]["tiling"]["halo"] = contract["postprocessing"]["tiling"]["overlap"]
    contract_path.write_text(json.dumps(contract))
    from edgemef.errors import ArtifactError

    with pytest.raises(ArtifactError, match="tiling"):
        open_artifact(edited / result.artifact.name)
