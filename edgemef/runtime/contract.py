"""The contract: the JSON file beside every exported model that says how to feed it and read it.

Apps, the Raspberry Pi runner and ``edgemef fuse --artifact`` read only the contract; nothing re-derives
shapes. ``dist/android/lut-student-int8-g33.pte`` has its contract in
``dist/android/lut-student-int8-g33.json``.

Format (``format_version`` 1)::

    {
      "format": "edgemef-contract", "format_version": 1,
      "model": "lut-student", "family": "lut-distill", "target": "android", "backend": "executorch",
      "precision": "int8", "artifact": "lut-student-int8-g33.pte", "sha256": "...", "size_bytes": 123,
      "n_exposures": 3, "grid_size": 33,
      "inputs":  [{"name": "thumbnails", "shape": [1, 9, 128, 128], "dtype": "float32", "layout": "NCHW",
                   "range": [0, 1], "runtime_name": "..."}],
      "outputs": [{"name": "weights", ...}, {"name": "lut", ...}],
      "preprocessing": {...}, "postprocessing": {...},
      "parity": {...}, "latency": {...}, "checks": {...}, "toolchain": {...},
      "created": "2026-11-22T01:00:00Z"
    }

``runtime_name`` is what the tensor is called inside the model file (a TFLite signature key, an ONNX value
name, a CoreML feature name); ``index`` is its position for runtimes that address tensors by position
(ExecuTorch). Torch-free.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgemef.errors import ArtifactError
from edgemef.io.write import atomic_write_bytes

FORMAT = "edgemef-contract"
FORMAT_VERSION = 1
#: artifact file suffix -> backend that runs it
BACKEND_OF_SUFFIX = {
    ".pte": "executorch",
    ".tflite": "litert",
    ".onnx": "onnxruntime",
    ".mlpackage": "coreml",
}


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of an exported model."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    layout: str
    description: str
    runtime_name: str
    index: int
    value_range: tuple[float, float] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TensorSpec:
        value_range = data.get("value_range")
        return cls(
            name=str(data["name"]),
            shape=tuple(int(s) for s in data["shape"]),
            dtype=str(data["dtype"]),
            layout=str(data["layout"]),
            description=str(data.get("description", "")),
            runtime_name=str(data["runtime_name"]),
            index=int(data["index"]),
            value_range=None if value_range is None else (float(value_range[0]), float(value_range[1])),
        )


@dataclass(frozen=True)
class Contract:
    """Everything about an exported model that a runtime needs (see the module docstring)."""

    model: str
    family: str
    target: str
    backend: str
    precision: str
    artifact: str
    sha256: str
    size_bytes: int
    n_exposures: int
    grid_size: int
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    preprocessing: dict[str, Any]
    postprocessing: dict[str, Any]
    toolchain: dict[str, str]
    parity: dict[str, Any] = field(default_factory=dict)
    latency: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def input(self, name: str) -> TensorSpec:
        return _by_name(self.inputs, name, "input")

    def output(self, name: str) -> TensorSpec:
        return _by_name(self.outputs, name, "output")

    def to_json(self) -> str:
        data = asdict(self)
        ordered = {"format": data.pop("format"), "format_version": data.pop("format_version"), **data}
        return json.dumps(ordered, indent=2) + "\n"

    def write(self, path: Path) -> Path:
        """Write the contract atomically."""
        atomic_write_bytes(path, self.to_json().encode())
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "contract") -> Contract:
        if data.get("format") != FORMAT:
            raise ArtifactError(f"{source}: not an edgemef contract (format {data.get('format')!r})")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ArtifactError(
                f"{source}: contract format version {version!r}, this edgemef reads version "
                f"{FORMAT_VERSION}; "
                "re-run 'edgemef convert' with this edgemef, or use the edgemef that made it"
            )
        try:
            return cls(
                model=str(data["model"]),
                family=str(data["family"]),
                target=str(data["target"]),
                backend=str(data["backend"]),
                precision=str(data["precision"]),
                artifact=str(data["artifact"]),
                sha256=str(data["sha256"]),
                size_bytes=int(data["size_bytes"]),
                n_exposures=int(data["n_exposures"]),
                grid_size=int(data["grid_size"]),
                inputs=tuple(TensorSpec.from_dict(d) for d in data["inputs"]),
                outputs=tuple(TensorSpec.from_dict(d) for d in data["outputs"]),
                preprocessing=dict(data["preprocessing"]),
                postprocessing=dict(data["postprocessing"]),
                toolchain=dict(data["toolchain"]),
                parity=dict(data.get("parity", {})),
                latency=dict(data.get("latency", {})),
                checks=dict(data.get("checks", {})),
                created=str(data.get("created", "")),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ArtifactError(f"{source}: malformed contract ({type(exc).__name__}: {exc})") from None


def _by_name(specs: tuple[TensorSpec, ...], name: str, kind: str) -> TensorSpec:
    for spec in specs:
        if spec.name == name:
            return spec
    raise ArtifactError(f"the contract has no {kind} named {name!r} (has {[s.name for s in specs]})")


def contract_path(artifact: Path) -> Path:
    """Where the contract of ``artifact`` lives: same folder, same stem, ``.json``."""
    return artifact.with_name(artifact.stem + ".json") if artifact.suffix else artifact.with_suffix(".json")


def artifact_sha256(path: Path) -> str:
    """sha256 of a model file; for a directory bundle (``.mlpackage``), of its files' relative paths and
    contents in sorted order."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def read_contract(artifact: Path) -> Contract:
    """The contract of an artifact, after checking it belongs to this file (name and sha256).

    Raises:
        ArtifactError: the artifact or its contract is missing or unreadable, the contract is malformed or
            of another format version, or it describes another file (name or sha256 differ).
    """
    artifact = Path(artifact)
    if not artifact.exists():
        raise ArtifactError(f"{artifact}: no such model file")
    if artifact.suffix not in BACKEND_OF_SUFFIX:
        raise ArtifactError(
            f"{artifact}: unknown model file type '{artifact.suffix}'; edgemef artifacts are "
            f"{', '.join(BACKEND_OF_SUFFIX)}"
        )
    path = contract_path(artifact)
    if not path.is_file():
        raise ArtifactError(
            f"{artifact}: no contract {path.name} beside it; artifacts come from 'edgemef convert', which "
            "writes the model file and its contract together"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path}: unreadable contract ({exc})") from None
    if not isinstance(data, dict):
        raise ArtifactError(f"{path}: not an edgemef contract (a JSON object is expected)")
    contract = Contract.from_dict(data, source=str(path))
    if contract.artifact != artifact.name:
        raise ArtifactError(f"{path}: describes {contract.artifact}, not {artifact.name}")
    actual = artifact_sha256(artifact)
    if actual != contract.sha256:
        raise ArtifactError(
            f"{artifact}: sha256 {actual[:12]}... does not match its contract ({contract.sha256[:12]}...); "
            "the file was changed, truncated or replaced after conversion"
        )
    return contract
