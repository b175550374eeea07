"""The adaptive LUT model: weight maps instead of weights, trained, saved, fused, and its contract checked."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the adaptive model needs the authoring extra (torch)")

from edgemef.cli.main import main  # noqa: E402
from edgemef.errors import ArtifactError  # noqa: E402
from edgemef.lut import fuse_and_apply as fuse_and_apply_np  # noqa: E402
from edgemef.models.lut_adaptive import AdaptiveConfig, AdaptiveStudent, load_weights, save_weights  # noqa: E402
from edgemef.models.lut_distill import Student, StudentConfig  # noqa: E402
from edgemef.models.weights_file import WeightsError  # noqa: E402
from edgemef.runtime.contract import Contract, TensorSpec  # noqa: E402
from tests.conftest import exposure_bracket, textured_scene, write_sice_dataset  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_maps_are_a_softmax_per_cell_and_start_uniform() -> None:
    torch.manual_seed(0)
    model = AdaptiveStudent(AdaptiveConfig(n_exposures=3)).eval()
    with torch.no_grad():
        maps, lut = model(torch.rand(2, 9, 128, 128), 9)
    assert maps.shape == (2, 3, 16, 16) and lut.shape == (2, 9, 9, 9, 3)
    assert torch.allclose(maps.sum(dim=1), torch.ones(2, 16, 16), atol=1e-6)
    assert float((maps - 1 / 3).abs().max()) < 0.01  # untrained: the average of the exposures
    assert model.config.map_grid == 16


def test_map_grid_follows_the_stride_two_layers() -> None:
    from edgemef.models.lut_adaptive import WeightMapConfig

    config = AdaptiveConfig(n_exposures=2, weight_maps=WeightMapConfig(down_widths=(16, 32)))
    maps, _ = AdaptiveStudent(config).eval()(torch.rand(1, 6, 128, 128), 9)
    assert maps.shape == (1, 2, 32, 32) and config.map_grid == 32
    with pytest.raises(ValueError, match="stride-2"):
        AdaptiveConfig(weight_maps=WeightMapConfig(down_widths=(8,) * 7))
    assert WeightMapConfig.for_grid(16) == WeightMapConfig()  # the default network
    assert WeightMapConfig.for_grid(32).down_widths == (32, 64)
    for grid in (20, 128, 0):
        with pytest.raises(ValueError, match="halved"):
            WeightMapConfig.for_grid(grid)


def test_warm_start_across_map_grids_copies_every_shared_layer() -> None:
    from edgemef.models.lut_adaptive import WeightMapConfig

    torch.manual_seed(4)
    coarse = AdaptiveStudent(AdaptiveConfig(n_exposures=3)).eval()
    fine = AdaptiveStudent(AdaptiveConfig(n_exposures=3, weight_maps=WeightMapConfig.for_grid(32))).eval()
    assert fine.load_other_grid(coarse) == []  # the 16-grid's third stride-2 layer is dropped
    thumbs = torch.rand(1, 9, 128, 128)
    assert torch.equal(coarse(thumbs, 9)[1], fine(thumbs, 9)[1])
    assert torch.equal(fine.iw.out.weight, coarse.iw.out.weight)
    back = AdaptiveStudent(AdaptiveConfig(n_exposures=3))
    assert back.load_other_grid(fine) == ["iw.down.4.bias", "iw.down.4.weight"]


def test_added_context_layers_start_as_the_identity() -> None:
    from edgemef.models.lut_adaptive import WeightMapConfig

    torch.manual_seed(5)
    shallow = AdaptiveStudent(AdaptiveConfig(n_exposures=2)).eval()
    torch.nn.init.normal_(shallow.iw.out.weight, std=0.5)  # maps far from uniform
    deep_maps = WeightMapConfig.for_grid(16, context_layers=4)
    assert deep_maps.context_widths == (64, 64, 64, 64)
    deep = AdaptiveStudent(AdaptiveConfig(n_exposures=2, weight_maps=deep_maps)).eval()
    added = ["iw.context.2.bias", "iw.context.2.weight", "iw.context.4.bias", "iw.context.4.weight"]
    assert deep.load_other_grid(shallow) == added
    thumbs = torch.rand(2, 6, 128, 128)
    with torch.no_grad():
        (maps, lut), (deep_out, deep_lut) = shallow(thumbs, 9), deep(thumbs, 9)
    assert float((maps - 0.5).abs().max()) > 0.05
    assert torch.allclose(maps, deep_out, atol=1e-6) and torch.equal(lut, deep_lut)
    with pytest.raises(ValueError, match="context layer"):
        WeightMapConfig.for_grid(16, context_layers=0)


def test_warm_start_copies_the_students_lut_network() -> None:
    torch.manual_seed(1)
    student = Student(StudentConfig(n_exposures=3)).eval()
    model = AdaptiveStudent(AdaptiveConfig(n_exposures=3)).load_student(student).eval()
    thumbs = torch.rand(1, 9, 128, 128)
    assert torch.equal(student(thumbs, 9)[1], model(thumbs, 9)[1])  # same LUT, only the weights differ
    with pytest.raises(ValueError, match="n_exposures"):
        AdaptiveStudent(AdaptiveConfig(n_exposures=2)).load_student(student)


def test_torch_fusion_equals_the_torch_free_applier() -> None:
    torch.manual_seed(2)
    model = AdaptiveStudent(AdaptiveConfig(n_exposures=3)).eval()
    with torch.no_grad():  # give the maps some structure
        model.iw.out.weight.normal_(std=0.5)
    frames = exposure_bracket(textured_scene(90, 140))  # 3 x H x W x 3 uint8
    tensor = torch.from_numpy(frames).permute(0, 3, 1, 2)[None].float() / 255.0
    with torch.no_grad():
        fused = model.fuse_frames(tensor, 17)
    assert float(fused.weights.std()) > 0.01
    expected = fuse_and_apply_np(frames, fused.weights[0].numpy(), fused.lut[0].numpy())
    got = (fused.image[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    assert np.abs(got.astype(int) - expected).max() <= 1


def test_weights_round_trip_and_refusals(tmp_path: Path) -> None:
    model = AdaptiveStudent(AdaptiveConfig(n_exposures=2))
    path = save_weights(tmp_path / "a.safetensors", model)
    loaded = load_weights(path)
    assert loaded.config == model.config
    assert all(
        torch.equal(a, b)
        for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True)
    )
    with pytest.raises(WeightsError, match="not lut-adaptive"):
        load_weights(ROOT / "edgemef" / "weights" / "lut-student-3exp.safetensors")


@pytest.mark.slow
def test_train_resume_and_fuse(tmp_path: Path) -> None:
    data = write_sice_dataset(tmp_path / "sice", 3)
    out = tmp_path / "run"
    args = [
        "train", "lut-adaptive", "--data", str(data), "--out", str(out), "--steps", "2", "--batch-size", "2",
        "--holdout", "scene3", "--validate-every", "2",
    ]  # fmt: skip
    assert main(args) == 0
    assert main([*args, "--steps", "3", "--mef-ssim-weight", "0.5"]) == 0  # resumes at step 2
    logged = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert all(0.0 < entry["mef_ssim"] < 2.0 for entry in logged if "mef_ssim" in entry)
    assert any("mef_ssim" in entry for entry in logged) and any("validation" in entry for entry in logged)
    from edgemef.models.weights_file import read_metadata

    meta = json.loads(read_metadata(out / "model.safetensors")["edgemef.training"])
    assert meta["mef_ssim_weight"] == 0.5 and meta["ssim_weight"] == 1.0 and meta["resumed_from"] == 2
    assert 0.0 < meta["validation"]["scene3_mef_ssim"] <= 1.0
    # another map grid, warm-started from the 16-grid run
    fine = tmp_path / "fine"
    init = ["--map-grid", "32", "--init", str(out / "model.safetensors")]
    assert main([*args[:5], str(fine), *args[6:], *init]) == 0
    assert load_weights(fine / "model.safetensors").config.map_grid == 32
    assert main([*args[:5], str(tmp_path / "bad"), *args[6:], "--map-grid", "20"]) == 2
    deep = tmp_path / "deep"
    init = ["--map-context-layers", "3", "--init", str(out / "model.safetensors")]
    assert main([*args[:5], str(deep), *args[6:], *init]) == 0
    assert load_weights(deep / "model.safetensors").config.weight_maps.context_widths == (64, 64, 64)
    frames = exposure_bracket(textured_scene(60, 80))
    paths = []
    for i, frame in enumerate(frames):
        paths.append(tmp_path / f"f{i}.png")
        cv2.imwrite(str(paths[-1]), frame[..., ::-1])
    fused = tmp_path / "fused.png"
    weights = str(out / "model.safetensors")
    assert main(["fuse", *map(str, paths), "-o", str(fused), "-m", "lut-adaptive", "--weights", weights]) == 0
    assert cv2.imread(str(fused)).shape == (60, 80, 3)


def _contract(weights_shape: tuple[int, ...], postprocessing: dict[str, object]) -> Contract:
    def tensor(name: str, shape: tuple[int, ...], index: int) -> TensorSpec:
        return TensorSpec(name, shape, "float32", "", "", name, index)

    return Contract(
        model="lut-adaptive",
        family="lut-adaptive",
        target="onnx",
        backend="onnxruntime",
        precision="fp32",
        artifact="x.onnx",
        sha256="0" * 64,
        size_bytes=1,
        n_exposures=3,
        inputs=(tensor("thumbnails", (1, 9, 128, 128), 0),),
        outputs=(tensor("weights", weights_shape, 0), tensor("lut", (1, 17, 17, 17, 3), 1)),
        preprocessing={"thumbnail_size": 128},
        postprocessing={"grid_size": 17, **postprocessing},
        toolchain={},
    )


@pytest.mark.parametrize(
    ("weights_shape", "postprocessing", "problem"),
    [
        ((1, 3, 16), {"weight_maps": "bilinear"}, r"expected \(1, 3\) or \(1, 3, Gh, Gw\)"),
        ((1, 3, 16, 16), {}, "postprocessing.weight_maps"),
        ((1, 3, 512, 16), {"weight_maps": "bilinear"}, r"expected \(1, 3, Gh, Gw\)"),
    ],
)
def test_runtime_refuses_a_contract_without_usable_maps(
    weights_shape: tuple[int, ...], postprocessing: dict[str, object], problem: str
) -> None:
    from edgemef.models.lut_distill.runtime import check_lut_contract

    check_lut_contract(_contract((1, 3, 16, 16), {"weight_maps": "bilinear"}), Path("x.onnx"))  # accepted
    with pytest.raises(ArtifactError, match=problem):
        check_lut_contract(_contract(weights_shape, postprocessing), Path("x.onnx"))
