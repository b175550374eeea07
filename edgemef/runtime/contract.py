"""The contract: the JSON file beside every exported model that says how to feed it and read it.

Apps, the Raspberry Pi runner and ``edgemef fuse --artifact`` read only the contract; nothing re-derives
shapes. ``dist/android/lut-student-int8-g33.pte`` has its contract in
``dist/android/lut-student-int8-g33.json``. The format is published: ``docs/contract.md`` describes it and
``contract.schema.json`` beside this module is its JSON Schema (the tests validate every contract the
converters write against it; the Android and iOS apps parse the same file).

Format (``format_version`` 2)::

    {
      "format": "edgemef-contract", "format_version": 2,
      "model": "lut-student", "family": "lut-distill", "output_kind": "display-srgb8",
      "target": "android", "backend": "executorch", "precision": "int8",
      "artifact": "lut-student-int8-g33.pte", "sha256": "...", "size_bytes": 123, "n_exposures": 3,
      "inputs":  [{"name": "thumbnails", "shape": [1, 9, 128, 128], "dtype": "float32", "layout": "NCHW",
                   "value_range": [0, 1], "runtime_name": "...", "index": 0, "description": "..."}],
      "outputs": [{"name": "weights", ...}, {"name": "lut", ...}],
      "graphs": {},
      "preprocessing": {...}, "postprocessing": {...},
      "parity": {...}, "latency": {...}, "checks": {...}, "toolchain": {...},
      "created": "2026-11-22T01:00:00Z"
    }

``inputs``/``outputs`` describe the model file ``artifact``; a model of several graphs (IPL: ``full`` and
``replay``) lists the others in ``graphs`` (name -> their own ``artifact``, ``sha256``, ``inputs`` and
``outputs``). ``runtime_name`` is what the tensor is called inside the model file (a TFLite signature key, an
ONNX value name, a CoreML feature name); ``index`` is its position for runtimes that address tensors by
position (ExecuTorch). ``output_kind`` is ``display-srgb8`` (8-bit sRGB images) or ``scene-linear`` (linear
float RGB radiance). Torch-free.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from edgemef.errors import ArtifactError
from edgemef.io.write import atomic_write_bytes

FORMAT = "edgemef-contract"
#: the published JSON Schema of the format (shipped in the package)
SCHEMA_PATH = Path(__file__).with_name("contract.schema.json")
FORMAT_VERSION = 2
OUTPUT_KINDS = ("display-srgb8", "scene-linear")
DTYPES = ("float32", "float16", "int8", "uint8", "int32", "int64")
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
    def from_dict(cls, data: Any) -> TensorSpec:
        """Read a tensor description; raises ``ValueError`` naming the first field that is wrong."""
        if not isinstance(data, dict):
            raise ValueError("a tensor must be a JSON object")
        value_range = data.get("value_range")
        shape = data.get("shape")
        if not isinstance(shape, list) or not shape or not all(_is_int(s) and s > 0 for s in shape):
            raise ValueError(f"tensor {data.get('name')!r}: shape must be a list of positive integers")
        if value_range is not None and not (
            isinstance(value_range, list)
            and len(value_range) == 2
            and all(_is_number(v) for v in value_range)
        ):
            raise ValueError(f"tensor {data.get('name')!r}: value_range must be [low, high]")
        if data.get("dtype") not in DTYPES:
            raise ValueError(f"tensor {data.get('name')!r}: dtype must be one of {', '.join(DTYPES)}")
        if not _is_int(data.get("index")) or data["index"] < 0:
            raise ValueError(f"tensor {data.get('name')!r}: index must be an integer >= 0")
        return cls(
            name=_text(data, "name"),
            shape=tuple(int(s) for s in shape),
            dtype=str(data["dtype"]),
            layout=_text(data, "layout"),
            description=str(data.get("description", "")),
            runtime_name=_text(data, "runtime_name"),
            index=int(data["index"]),
            value_range=None if value_range is None else (float(value_range[0]), float(value_range[1])),
        )


@dataclass(frozen=True)
class GraphFile:
    """A further graph of a multi-graph model: its own file, digest and tensors."""

    artifact: str
    sha256: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    @classmethod
    def from_dict(cls, data: Any) -> GraphFile:
        if not isinstance(data, dict):
            raise ValueError("a graph must be a JSON object")
        return cls(
            artifact=_text(data, "artifact"),
            sha256=_digest(data),
            inputs=_tensors(data, "inputs"),
            outputs=_tensors(data, "outputs"),
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
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    preprocessing: dict[str, Any]
    postprocessing: dict[str, Any]
    toolchain: dict[str, str]
    parity: dict[str, Any] = field(default_factory=dict)
    latency: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    graphs: dict[str, GraphFile] = field(default_factory=dict)
    output_kind: str = "display-srgb8"
    created: str = ""
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def input(self, name: str) -> TensorSpec:
        return _by_name(self.inputs, name, "input")

    def output(self, name: str) -> TensorSpec:
        return _by_name(self.outputs, name, "output")

    def graph(self, name: str, folder: Path) -> tuple[Path, Contract]:
        """The file of the further graph ``name`` and a view of this contract for it (its tensors), after
        checking its sha256.

        Raises:
            ArtifactError: no such graph, its file is missing, or its digest differs.
        """
        if name not in self.graphs:
            raise ArtifactError(f"{self.artifact}: the contract names no {name!r} graph")
        graph = self.graphs[name]
        path = Path(folder) / graph.artifact
        if not path.exists():
            raise ArtifactError(f"{path}: the {name} graph named by the contract is missing")
        if artifact_sha256(path) != graph.sha256:
            raise ArtifactError(f"{path}: sha256 differs from the contract's; re-run 'edgemef convert'")
        view = replace(
            self, artifact=graph.artifact, sha256=graph.sha256, inputs=graph.inputs, outputs=graph.outputs
        )
        return path, view

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
            unknown = sorted(set(data) - KNOWN_FIELDS)
            if unknown:
                raise ValueError(f"unknown field(s) {', '.join(unknown)}")
            output_kind = data.get("output_kind")
            if output_kind not in OUTPUT_KINDS:
                raise ValueError(f"output_kind must be one of {', '.join(OUTPUT_KINDS)}")
            if not _is_int(data.get("n_exposures")) or data["n_exposures"] < 2:
                raise ValueError("n_exposures must be an integer >= 2")
            if not _is_int(data.get("size_bytes")) or data["size_bytes"] < 0:
                raise ValueError("size_bytes must be an integer >= 0")
            graphs = data.get("graphs")
            if not isinstance(graphs, dict):
                raise ValueError("graphs must be an object")
            contract = cls(
                model=_text(data, "model"),
                family=_text(data, "family"),
                target=_text(data, "target"),
                backend=_text(data, "backend"),
                precision=_text(data, "precision"),
                artifact=_text(data, "artifact"),
                sha256=_digest(data),
                size_bytes=int(data["size_bytes"]),
                n_exposures=int(data["n_exposures"]),
                inputs=_tensors(data, "inputs"),
                outputs=_tensors(data, "outputs"),
                preprocessing=_object(data, "preprocessing"),
                postprocessing=_object(data, "postprocessing"),
                toolchain=_object(data, "toolchain"),
                parity=_object(data, "parity", required=False),
                latency=_object(data, "latency", required=False),
                checks=_object(data, "checks", required=False),
                graphs={str(name): GraphFile.from_dict(g) for name, g in graphs.items()},
                output_kind=str(output_kind),
                created=str(data.get("created", "")),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ArtifactError(f"{source}: malformed contract ({exc})") from None
        return contract


#: every top-level field of format 2 (the schema has ``additionalProperties: false`` too)
KNOWN_FIELDS = frozenset(f.name for f in dataclasses.fields(Contract))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string")
    return value


def _digest(data: dict[str, Any]) -> str:
    value = _text(data, "sha256")
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError("sha256 must be 64 lowercase hex digits")
    return value


def _object(data: dict[str, Any], key: str, required: bool = True) -> dict[str, Any]:
    value = data.get(key, None if required else {})
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be an object")
    return dict(value)


def _tensors(data: dict[str, Any], key: str) -> tuple[TensorSpec, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise ValueError(f"{key} must be a non-empty list of tensors")
    specs = tuple(TensorSpec.from_dict(d) for d in value)
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"{key}: tensor names repeat ({', '.join(names)})")
    return specs


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
