"""edgemef convert: every convertible family x runtime x precision (generated from the registries) converts,
runs in its real runtime and passes its parity gate; bad targets, runtimes, precisions, models and options
fail with the valid choices before any work."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgemef.cli.main import main
from edgemef.errors import ConversionError
from edgemef.models.registry import list_families
from tests.conftest import shared_data

pytest.importorskip("torch")

from converters import RUNTIMES, ConvertConfig, convert, resolve_target
from converters.calibration import load_stacks, pick_exposures
from converters.capabilities import PARITY_GATE_DB, capability_table
from edgemef.models.lut_distill.runtime import LutArtifactFusion
from edgemef.runtime import artifact_sha256, open_artifact, read_contract

TEST_GRID = 17  # small grid: same graph, faster conversions
FAMILIES = [family for family in list_families() if family.convertible]
#: the families whose artifacts make display images (uint8 sRGB)
DISPLAY_FAMILIES = {family.name for family in FAMILIES if family.output_kind.value == "display-srgb8"}
#: (family, runtime, precision) for every convertible family and every precision of every runtime
CASES = [
    pytest.param(family.name, runtime.name, precision, id=f"{family.name}-{runtime.name}-{precision}")
    for family in FAMILIES
    for runtime in RUNTIMES.values()
    for precision in runtime.precisions
    if family.refusal(runtime.name, precision) is None
]


@pytest.fixture
def converted(family_artifact):
    """The session's conversions (see ``tests/conftest.py``), by (family, runtime, precision)."""
    return family_artifact


def test_resolve_target_defaults_and_choices() -> None:
    assert resolve_target("android").precision == "int8"
    assert resolve_target("android").runtime.name == "executorch"
    assert resolve_target("android", runtime="litert").runtime.suffix == ".tflite"
    assert resolve_target("ios").precision == "fp16"
    assert resolve_target("rpi").precision == "int8"
    assert resolve_target("onnx").precision == "fp32"
    assert resolve_target("android", family_defaults={"executorch": "fp32"}).precision == "fp32"
    with pytest.raises(ConversionError, match="android, ios, rpi, onnx"):
        resolve_target("andriod")
    with pytest.raises(ConversionError, match="it takes: int8, fp32"):
        resolve_target("android", "fp16")
    with pytest.raises(ConversionError, match=r"uses the runtime.* executorch, litert, not coreml"):
        resolve_target("android", runtime="coreml")
    with pytest.raises(ConversionError, match="choose one of: executorch, coreml, litert, onnxruntime"):
        resolve_target("android", runtime="tflite")
    assert "| ios | coreml |" in capability_table()


def test_cli_rejects_bad_target_precision_model_and_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["convert", "--target", "iphone", "--out", str(tmp_path)]) == 2
    assert "choose one of: android, ios, rpi, onnx" in capsys.readouterr().err
    assert main(["convert", "--target", "rpi", "--precision", "fp16", "--out", str(tmp_path)]) == 2
    assert "it takes: int8, fp32" in capsys.readouterr().err
    assert main(["convert", "--target", "onnx", "--model", "mertens", "--out", str(tmp_path)]) == 2
    assert "convertible: " + ", ".join(f.convertible for f in FAMILIES) in capsys.readouterr().err
    assert main(["convert", "--target", "onnx", "--grid", "300", "--out", str(tmp_path)]) == 2
    assert "--grid must be between 8 and 128" in capsys.readouterr().err
    assert main(["convert", "--target", "onnx", "--model", "ipl", "--grid", "9", "--out", str(tmp_path)]) == 2
    assert "--grid does not apply to ipl (it takes --tile)" in capsys.readouterr().err
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
    from converters.pipeline import artifact_path

    def name(target: str) -> str:
        return artifact_path(ConvertConfig(target=target, model=model, precision="fp32", out=tmp_path)).name

    first = tmp_path / name(earlier)
    first.write_bytes(b"an earlier artifact")
    contract = first.with_suffix(".json")
    contract.write_text(json.dumps({"format": "edgemef-contract", "artifact": first.name}))
    before = contract.read_bytes()
    config = ConvertConfig(target=later, precision="fp32", model=model, out=tmp_path)
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
        convert(ConvertConfig(target="onnx", precision="int8", options={"grid": 9}, out=out))
    assert list(out.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize(("family", "runtime", "precision"), CASES)
def test_conversion_passes_parity_in_its_runtime(
    converted, family: str, runtime: str, precision: str
) -> None:
    """Every graph of the family exported for the runtime, verified by the family's parity harness in the
    real runtime (emulated where it needs another OS), with a contract the published schema accepts."""
    jsonschema = pytest.importorskip("jsonschema")
    from edgemef.runtime.contract import SCHEMA_PATH

    result = converted(family, runtime, precision)
    contract, spec = result.contract, RUNTIMES[runtime]
    data = json.loads(result.contract_file.read_text())
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    assert data["sha256"] == artifact_sha256(result.artifact) and result.artifact.suffix == spec.suffix
    assert contract.family == family and contract.backend == runtime and contract.precision == precision
    assert contract.parity["passed"] and contract.parity["min_psnr_db"] >= PARITY_GATE_DB[precision]
    for name, graph in contract.graphs.items():  # further graphs: installed beside it, digests recorded
        assert artifact_sha256(result.artifact.parent / graph.artifact) == graph.sha256, name
    assert set(contract.checks) == {next(iter(contract.checks)), *contract.graphs}
    if not spec.runs_here:  # CoreML: checked by spec, parity emulated
        assert contract.parity["how"].startswith("emulated")
        return
    assert contract.parity["how"] == f"run in {runtime}"
    assert contract.latency["median_ms"] > 0
    assert read_contract(result.artifact) == contract


@pytest.mark.slow
@pytest.mark.parametrize(
    ("family", "runtime", "precision"),
    [
        c
        for c in CASES
        if RUNTIMES[c.values[1]].runs_here and c.values[1] != "executorch" and c.values[0] in DISPLAY_FAMILIES
    ],
)
def test_artifact_fuses_like_pytorch(converted, family: str, runtime: str, precision: str) -> None:
    """``open_artifact`` picks the family's runtime from the contract, and it fuses like the PyTorch model
    (a crop of a held-out stack; ``.pte`` fusion is covered by the parity gate, which runs it; HDR models:
    tests/test_sthdr_export.py)."""
    from edgemef.metrics import psnr
    from edgemef.models import create_model

    spec = next(f for f in FAMILIES if f.name == family)
    result = converted(family, runtime, precision)
    frames = np.ascontiguousarray(load_stacks("parity", 3)[0].frames[:, :256, :320])
    reference = create_model(spec.convertible, **spec.quick_options()).fuse(frames)
    fused = open_artifact(result.artifact).fuse(frames)
    assert fused.shape == frames.shape[1:] and fused.dtype == np.uint8
    assert psnr(fused, reference) >= PARITY_GATE_DB[precision] - 2.0


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.parametrize(
    "runtime", [r.name for r in RUNTIMES.values() if r.runs_here and "int8" in r.precisions]
)
def test_int8_artifacts_hold_the_gate_on_real_held_out_brackets(converted, runtime: str) -> None:
    """SICE scenes 1 and 10 (held out from training) at 1/4 size: int8 fused image vs PyTorch fp32."""
    import cv2

    from edgemef.data import find_scenes, load_scene
    from edgemef.metrics import psnr
    from edgemef.models import create_model

    scenes = {s.name: s for s in find_scenes(shared_data("sice"))}
    reference_model = create_model("lut-student", grid=TEST_GRID)
    artifact = LutArtifactFusion(converted("lut-distill", runtime, "int8").artifact)
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
    assert contract.precision == "int8" and contract.postprocessing["grid_size"] == 33
    assert contract.parity["passed"] and contract.output("lut").shape == (1, 33, 33, 33, 3)
    assert contract.checks["predictor"]["delegation"]["delegated_share"] > 0.9
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "lut-student-int8-g33.json",
        "lut-student-int8-g33.pte",
    ]


@pytest.mark.slow
def test_two_exposure_student_converts_and_fuses_pairs(tmp_path: Path) -> None:
    from edgemef.weights import shipped_exposure_counts

    if 2 not in shipped_exposure_counts("lut-student"):
        pytest.skip("no shipped 2-exposure student")
    result = convert(
        ConvertConfig(target="onnx", precision="int8", options={"grid": 9}, n_exposures=2, out=tmp_path)
    )
    assert result.artifact.name == "lut-student-2exp-int8-g9.onnx"
    assert result.contract.n_exposures == 2 and result.contract.inputs[0].shape == (1, 6, 128, 128)
    pair = load_stacks("parity", 2)[0].frames
    fused = LutArtifactFusion(result.artifact).fuse(pair)
    assert fused.shape == pair.shape[1:]


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["litert", "executorch", "onnxruntime"])
def test_ipl_int8_replay_reads_what_the_full_graph_wrote(converted, runtime: str) -> None:
    """The attention weights an int8 full graph hands out are floats in [0, 1] (LiteRT's come out as int8
    and are dequantized by the backend), so the replay graph reads what the full graph wrote."""
    from edgemef.metrics import psnr
    from edgemef.models.ipl.runtime import IplArtifactFusion

    result = converted("ipl", runtime, "int8")
    assert "int8" in result.contract.checks["full"]["quantization"]
    frames = np.ascontiguousarray(load_stacks("parity", 3)[0].frames[:, :140, :180])
    fused = open_artifact(result.artifact).fuse(frames)
    assert fused.shape == (140, 180, 3)
    cached = IplArtifactFusion(result.artifact, cache="attention")
    cached.fuse(frames)
    assert cached.tiler.cache is not None and len(cached.tiler.cache) > 0
    assert psnr(cached.fuse(frames), fused) > 30


@pytest.mark.slow
def test_ipl_coreml_packages_are_checked_by_their_spec(converted) -> None:
    result = converted("ipl", "coreml", "int8")
    spec = result.contract.checks["replay"]["spec"]
    assert spec["inputs"] == {"frames": [1, 9, 128, 128], "attention": [1, 8, 48, 9]}
    assert (result.artifact.parent / "ipl-int8-t128.replay.mlpackage").is_dir()
    assert result.contract.checks["full"]["quantization"] != "none"
