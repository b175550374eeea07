"""edgemef.runtime: artifacts load by their contract, run torch-free, and refuse every bad input clearly."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edgemef.cli.main import main
from edgemef.errors import ArtifactError, BracketError
from edgemef.models.lut_distill.runtime import LutArtifactFusion
from edgemef.runtime import Contract, artifact_sha256, contract_path, read_contract
from tests.conftest import run_python_without_torch

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "brackets"
COFFEE = sorted(str(p) for p in (EXAMPLES / "coffee").glob("*.jpg"))
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def onnx_artifact(converted) -> Path:
    return converted("onnx", "fp32", 17)


@pytest.fixture
def artifact_copy(onnx_artifact: Path, tmp_path: Path) -> Path:
    """A private copy of the artifact and its contract, free to damage."""
    copy = tmp_path / onnx_artifact.name
    shutil.copy(onnx_artifact, copy)
    shutil.copy(contract_path(onnx_artifact), contract_path(copy))
    return copy


def _rewrite_contract(artifact: Path, **changes: object) -> None:
    path = contract_path(artifact)
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_contract_round_trips(onnx_artifact: Path) -> None:
    contract = read_contract(onnx_artifact)
    assert Contract.from_dict(json.loads(contract.to_json())) == contract
    assert contract.input("thumbnails").shape == (1, 9, 128, 128)
    assert contract.output("lut").layout == "N,blue,green,red,RGB"
    assert contract.toolchain["onnxruntime"] and contract.sha256 == artifact_sha256(onnx_artifact)


def test_missing_contract(artifact_copy: Path) -> None:
    contract_path(artifact_copy).unlink()
    with pytest.raises(ArtifactError, match="no contract"):
        LutArtifactFusion(artifact_copy)


def test_sha256_mismatch(artifact_copy: Path) -> None:
    data = bytearray(artifact_copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact_copy.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="does not match its contract"):
        LutArtifactFusion(artifact_copy)


@pytest.fixture(scope="module")
def pte_artifact(converted) -> Path:
    pytest.importorskip("executorch")
    return converted("android", "fp32", 9)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "runtime"), [("onnx", "onnxruntime"), ("tflite", "LiteRT"), ("pte", "ExecuTorch")]
)
def test_truncated_artifact_with_matching_contract_fails_to_load(
    request: pytest.FixtureRequest, kind: str, runtime: str, tmp_path: Path
) -> None:
    """A damaged model file whose contract was 'fixed' to match still fails cleanly in its runtime."""
    source = request.getfixturevalue(f"{kind}_artifact")
    artifact = tmp_path / source.name
    artifact.write_bytes(source.read_bytes()[: source.stat().st_size // 3])
    shutil.copy(contract_path(source), contract_path(artifact))
    _rewrite_contract(artifact, sha256=artifact_sha256(artifact))
    with pytest.raises(ArtifactError, match=f"{runtime} cannot load it"):
        LutArtifactFusion(artifact).fuse(np.zeros((3, 16, 16, 3), np.uint8))


def test_other_format_version(artifact_copy: Path) -> None:
    _rewrite_contract(artifact_copy, format_version=99)
    with pytest.raises(ArtifactError, match="format version 99"):
        LutArtifactFusion(artifact_copy)


@pytest.mark.parametrize("damage", ["not json", "[]", '{"format": "edgemef-contract", "format_version": 1}'])
def test_malformed_contract(artifact_copy: Path, damage: str) -> None:
    contract_path(artifact_copy).write_text(damage)
    with pytest.raises(ArtifactError, match="contract"):
        LutArtifactFusion(artifact_copy)


def _edit(data: dict, where: str, value: object) -> None:
    """Set ``data[a][b]...`` for ``where`` = "a.b" (list indices as numbers)."""
    *path, last = where.split(".")
    for key in path:
        data = data[int(key)] if isinstance(data, list) else data[key]
    data[int(last) if isinstance(data, list) else last] = value


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("family", "ipl", "not a tiling of IPL tile graphs"),
        ("family", "no-such-family", "unknown model family 'no-such-family'"),
        ("postprocessing.grid_size", 9, "grid_size 9 != LUT side 17"),
        ("preprocessing", {}, "thumbnails shape .* expected \\(1, 9, None, None\\)"),
        ("outputs.1.runtime_name", "lut_renamed", "names output 'lut' as 'lut_renamed'"),
        ("inputs.0.shape", [1, 9, 64, 64], "thumbnails shape \\(1, 9, 64, 64\\)"),
        ("outputs.1.shape", [1, 9, 9, 9, 3], "lut shape|grid_size 17 != LUT side 9"),
        ("n_exposures", 2, "thumbnails shape"),
        ("n_exposures", "3", "n_exposures must be an integer"),
        ("output_kind", "hdr", "output_kind must be one of"),
        ("inputs", [], "inputs must be a non-empty list"),
        ("sha256", "abc", "sha256"),
    ],
)
def test_edited_contract_is_refused_with_one_clear_error(
    artifact_copy: Path, where: str, value: object, message: str
) -> None:
    """A contract edited after conversion (its sha256 still matching the model file) is validated as a
    whole, against the model file's own tensors too, before anything runs."""
    from edgemef.runtime import open_artifact

    path = contract_path(artifact_copy)
    data = json.loads(path.read_text())
    _edit(data, where, value)
    path.write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match=message) as caught:
        open_artifact(artifact_copy)
    assert "\n" not in str(caught.value)


def test_contract_of_another_file(artifact_copy: Path) -> None:
    renamed = artifact_copy.with_name("other.onnx")
    artifact_copy.rename(renamed)
    contract_path(artifact_copy).rename(contract_path(renamed))
    with pytest.raises(ArtifactError, match="describes"):
        LutArtifactFusion(renamed)


def test_unknown_file_type(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"\0" * 10)
    with pytest.raises(ArtifactError, match="unknown model file type"):
        LutArtifactFusion(path)


def test_wrong_number_of_brackets(onnx_artifact: Path) -> None:
    fusion = LutArtifactFusion(onnx_artifact)
    frames = np.zeros((2, 32, 32, 3), np.uint8)
    with pytest.raises(BracketError, match="fuses brackets of 3 exposures, got 2"):
        fusion.fuse(frames)


def test_cli_failures_write_nothing(
    artifact_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fused.jpg"
    assert main(["fuse", "--artifact", str(artifact_copy), *COFFEE[:2], "-o", str(out)]) == 2
    assert "fuses brackets of 3 exposures, got 2" in capsys.readouterr().err
    artifact_copy.write_bytes(b"garbage")
    assert main(["fuse", "--artifact", str(artifact_copy), *COFFEE, "-o", str(out)]) == 2
    assert "does not match its contract" in capsys.readouterr().err
    assert main(["fuse", "--artifact", str(artifact_copy), "--grid", "17", *COFFEE, "-o", str(out)]) == 2
    assert "--artifact replaces" in capsys.readouterr().err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".fused")]


def _run_without_torch(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``edgemef ARGS`` in a fresh interpreter where ``import torch`` (and executorch) fail."""
    return run_python_without_torch(f"from edgemef.cli.main import main\nsys.exit(main({args!r}))", cwd)


@pytest.fixture(scope="module")
def tflite_artifact(converted) -> Path:
    return converted("rpi", "int8", 17)


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "runtime"), [("onnx", "onnxruntime fp32"), ("tflite", "litert int8")])
def test_fuse_artifact_runs_without_torch(
    request: pytest.FixtureRequest, kind: str, runtime: str, tmp_path: Path
) -> None:
    artifact = request.getfixturevalue(f"{kind}_artifact")
    out = tmp_path / "fused.jpg"
    done = _run_without_torch(["fuse", "--artifact", str(artifact), *COFFEE, "-o", str(out)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert out.exists() and runtime in done.stdout
    from edgemef.io import read_image

    fused = read_image(out).pixels
    assert fused.shape == (400, 600, 3) and 40 < fused.mean() < 220


@pytest.mark.slow
def test_pte_without_torch_is_a_clear_error(pte_artifact: Path, tmp_path: Path) -> None:
    pte = pte_artifact
    done = _run_without_torch(
        ["fuse", "--artifact", str(pte), *COFFEE, "-o", str(tmp_path / "x.jpg")], tmp_path
    )
    assert done.returncode == 2
    assert "needs ExecuTorch's Python bindings, which link libtorch" in done.stderr


@pytest.mark.slow
def test_bench_rows_for_artifacts(
    onnx_artifact: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "bench.csv"
    args = ["bench", "--models", "mertens", "--resolutions", "720p", "--runs", "1", "--csv", str(csv_path)]
    assert main([*args, "--artifacts", str(onnx_artifact)]) == 0
    table = capsys.readouterr().out
    assert "lut-student (grid 17, onnxruntime fp32)" in table and "| mertens |" in table
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("model,resolution,width,height") and len(lines) == 3


@pytest.mark.parametrize(
    "field",
    [
        "format",
        "format_version",
        "model",
        "family",
        "output_kind",
        "target",
        "backend",
        "precision",
        "artifact",
        "sha256",
        "size_bytes",
        "n_exposures",
        "inputs",
        "outputs",
        "graphs",
        "preprocessing",
        "postprocessing",
        "toolchain",
    ],
)
@pytest.mark.parametrize("edit", ["removed", "null", "wrong type"])
def test_every_contract_field_edited_is_one_clear_error(artifact_copy: Path, field: str, edit: str) -> None:
    """Each required field of the published schema, removed, null or of another type: one-line error."""
    from edgemef.runtime import open_artifact

    path = contract_path(artifact_copy)
    data = json.loads(path.read_text())
    if edit == "removed":
        del data[field]
    else:
        data[field] = None if edit == "null" else ([1] if isinstance(data[field], str) else "x")
    path.write_text(json.dumps(data))
    with pytest.raises(ArtifactError) as caught:
        open_artifact(artifact_copy)
    assert "\n" not in str(caught.value) and str(artifact_copy.parent) in str(caught.value)
