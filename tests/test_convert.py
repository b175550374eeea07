"""edgemef convert: every target x precision converts, runs in its real runtime and passes its parity gate;
bad targets, precisions and models fail with the valid choices."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgemef.cli.main import main
from edgemef.errors import ConversionError
from tests.conftest import shared_data

pytest.importorskip("torch")

from converters import TARGETS, ConvertConfig, convert, resolve_target
from converters.calibration import load_stacks, pick_exposures
from converters.capabilities import PARITY_GATE_DB, capability_table
from edgemef.runtime import ArtifactFusion, artifact_sha256, read_contract

TEST_GRID = 17  # small grid: same graph, faster conversions
CASES = [(target, precision) for target, spec in TARGETS.items() for precision in spec.precisions]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory):
    """Converts each (target, precision) once per test module, on demand."""
    cache: dict[tuple[str, str], object] = {}
    root = tmp_path_factory.mktemp("dist")

    def get(target: str, precision: str):
        if (target, precision) not in cache:
            config = ConvertConfig(target=target, precision=precision, grid=TEST_GRID, out=root / target)
            cache[target, precision] = convert(config)
        return cache[target, precision]

    return get


def test_resolve_target_defaults_and_choices() -> None:
    assert resolve_target("android", None)[1] == "int8"
    assert resolve_target("ios", None)[1] == "fp16"
    assert resolve_target("rpi", None)[1] == "int8"
    assert resolve_target("onnx", None)[1] == "fp32"
    with pytest.raises(ConversionError, match="android, ios, rpi, onnx"):
        resolve_target("andriod", None)
    with pytest.raises(ConversionError, match="it takes: int8, fp32"):
        resolve_target("android", "fp16")
    assert "| ios |" in capability_table()


def test_cli_rejects_bad_target_precision_and_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["convert", "--target", "iphone", "--out", str(tmp_path)]) == 2
    assert "choose one of: android, ios, rpi, onnx" in capsys.readouterr().err
    assert main(["convert", "--target", "rpi", "--precision", "fp16", "--out", str(tmp_path)]) == 2
    assert "it takes: int8, fp32" in capsys.readouterr().err
    assert main(["convert", "--target", "onnx", "--model", "mertens", "--out", str(tmp_path)]) == 2
    assert "convertible: lut-student" in capsys.readouterr().err
    assert main(["convert", "--target", "onnx", "--grid", "300", "--out", str(tmp_path)]) == 2
    assert "--grid must be between 8 and 128" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_calibration_and_parity_stacks_are_disjoint() -> None:
    calibration = load_stacks("calibration", 3)
    parity = load_stacks("parity", 3)
    assert len(calibration) >= 8 and len(parity) >= 2
    assert not {s.name for s in calibration} & {s.name for s in parity}
    two = load_stacks("parity", 2)
    assert all(s.frames.shape[0] == 2 for s in two)
    assert pick_exposures(3, 2) == [0, 2] and pick_exposures(7, 3) == [0, 3, 6]


def test_missing_calibration_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match=r"make_calibration\.py"):
        convert(ConvertConfig(target="onnx", out=tmp_path / "out", calibration=tmp_path / "nothing"))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    ("model", "earlier", "later"), [("lut-student", "android", "rpi"), ("ipl", "rpi", "android")]
)
def test_two_targets_in_one_out_folder_refuse_before_overwriting_a_contract(
    tmp_path: Path, model: str, earlier: str, later: str
) -> None:
    """``.pte`` and ``.tflite`` of one model share a stem, so their contracts would share a file: the second
    conversion into the same folder stops before any work and the first artifact keeps its contract."""
    from converters.ipl_pipeline import ipl_artifact_name
    from converters.pipeline import artifact_name

    def name(target: str) -> str:
        spec, precision = resolve_target(target, "fp32")
        if model == "ipl":
            return ipl_artifact_name(precision, 256, spec)
        return artifact_name(model, precision, TEST_GRID, spec)

    first = tmp_path / name(earlier)
    first.write_bytes(b"an earlier artifact")
    contract = first.with_suffix(".json")
    contract.write_text(json.dumps({"format": "edgemef-contract", "artifact": first.name}))
    before = contract.read_bytes()
    config = ConvertConfig(target=later, precision="fp32", grid=TEST_GRID, model=model, out=tmp_path)
    with pytest.raises(ConversionError, match=rf"contract of .*{first.name}.*own folder"):
        convert(config)
    assert contract.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.name, contract.name])


@pytest.mark.slow
def test_failed_parity_gate_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An impossible gate: the conversion fails, reports per stack what diverged, and leaves no file."""
    import converters.pipeline as pipeline

    monkeypatch.setitem(pipeline.PARITY_GATE_DB, "int8", 120.0)
    out = tmp_path / "out"
    with pytest.raises(
        ConversionError, match=r"failed its parity gate, nothing written(.|\n)*coffee_ev2: .* dB"
    ):
        convert(ConvertConfig(target="onnx", precision="int8", grid=9, out=out))
    assert list(out.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize(("target", "precision"), CASES)
def test_conversion_passes_parity_in_its_runtime(converted, target: str, precision: str) -> None:
    result = converted(target, precision)
    contract = result.contract
    assert result.artifact.exists() and result.contract_file.exists()
    assert json.loads(result.contract_file.read_text())["sha256"] == artifact_sha256(result.artifact)
    assert contract.target == target and contract.precision == precision and contract.grid_size == TEST_GRID
    assert contract.parity["passed"] and contract.parity["min_psnr_db"] >= PARITY_GATE_DB[precision]
    assert [s.name for s in contract.outputs] == ["weights", "lut"]
    assert contract.outputs[1].shape == (1, TEST_GRID, TEST_GRID, TEST_GRID, 3)
    if TARGETS[target].runs_here:
        assert contract.parity["how"] == f"run in {TARGETS[target].backend}"
        assert contract.latency["median_ms"] > 0
        assert read_contract(result.artifact) == contract
    else:  # CoreML: checked by spec, parity emulated
        assert contract.checks["spec"]["inputs"]["thumbnails"] == [1, 9, 128, 128]


@pytest.mark.slow
@pytest.mark.parametrize(("target", "precision"), [c for c in CASES if TARGETS[c[0]].runs_here])
def test_artifact_fuses_like_pytorch(converted, target: str, precision: str) -> None:
    from edgemef.metrics import psnr
    from edgemef.models import create_model

    result = converted(target, precision)
    frames = load_stacks("parity", 3)[0].frames
    reference = create_model("lut-student", grid=TEST_GRID).fuse(frames)
    fused = ArtifactFusion(result.artifact).fuse(frames)
    assert fused.shape == frames.shape[1:] and fused.dtype == np.uint8
    assert psnr(fused, reference) >= PARITY_GATE_DB[precision]


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.parametrize(
    "target", [t for t, spec in TARGETS.items() if spec.runs_here and "int8" in spec.precisions]
)
def test_int8_artifacts_hold_the_gate_on_real_held_out_brackets(converted, target: str) -> None:
    """SICE scenes 1 and 10 (held out from training) at 1/4 size: int8 fused image vs PyTorch fp32."""
    import cv2

    from edgemef.data import find_scenes, load_scene
    from edgemef.metrics import psnr
    from edgemef.models import create_model

    scenes = {s.name: s for s in find_scenes(shared_data("sice"))}
    reference_model = create_model("lut-student", grid=TEST_GRID)
    artifact = ArtifactFusion(converted(target, "int8").artifact)
    for name in ("scene1", "scene10"):
        bracket, _ = load_scene(scenes[name], "3")
        small = np.stack(
            [cv2.resize(f, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA) for f in bracket.frames]
        )
        assert psnr(artifact.fuse(small), reference_model.fuse(small)) >= 32.0


@pytest.mark.slow
def test_readme_first_command_writes_a_verified_pte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``edgemef convert --target android`` with every default (int8, grid 33): the README's first command."""
    assert main(["convert", "--target", "android", "--out", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "lut-student-int8-g33.pte" in table and "parity PSNR" in table
    contract = read_contract(tmp_path / "lut-student-int8-g33.pte")
    assert contract.precision == "int8" and contract.grid_size == 33 and contract.parity["passed"]
    assert contract.checks["delegation"]["delegated_share"] > 0.9
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "lut-student-int8-g33.json",
        "lut-student-int8-g33.pte",
    ]


@pytest.mark.slow
def test_two_exposure_student_converts_and_fuses_pairs(tmp_path: Path) -> None:
    from edgemef.weights import shipped_exposure_counts

    if 2 not in shipped_exposure_counts("lut-student"):
        pytest.skip("no shipped 2-exposure student")
    result = convert(ConvertConfig(target="onnx", precision="int8", grid=9, n_exposures=2, out=tmp_path))
    assert result.artifact.name == "lut-student-2exp-int8-g9.onnx"
    assert result.contract.n_exposures == 2 and result.contract.inputs[0].shape == (1, 6, 128, 128)
    pair = load_stacks("parity", 2)[0].frames
    fused = ArtifactFusion(result.artifact).fuse(pair)
    assert fused.shape == pair.shape[1:]
