"""``edgemef convert``: model -> export (+ int8) -> parity gate -> latency -> artifact + contract.

Everything is built in a temporary folder inside the output folder and moved into place only when the
parity gate passes, so a failed conversion leaves nothing behind (and never half-replaces an old artifact).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from converters.base import ExportResult, Predictor, torch_predictor
from converters.calibration import load_stacks
from converters.capabilities import CONVERTIBLE_MODELS, PARITY_GATE_DB, PRECISIONS, TargetSpec, resolve_target
from converters.parity import ParityReport, check_parity
from edgemef.errors import ArtifactError, ConversionError
from edgemef.lut import LUT_LAYOUT
from edgemef.models.lut_distill.student import ExportableStudent, Student
from edgemef.models.lut_distill.weights import load_weights
from edgemef.runtime.backends import open_backend
from edgemef.runtime.contract import Contract, TensorSpec, artifact_sha256, contract_path
from edgemef.runtime.preprocess import RESIZE_METHOD
from edgemef.weights import shipped_exposure_counts, shipped_weights

LATENCY_RUNS = 20


@dataclass(frozen=True)
class ConvertConfig:
    """What to convert, for which target, how.

    Attributes:
        target: a row of :data:`~converters.capabilities.TARGETS`.
        model: a convertible model (``lut-student``).
        precision: ``None`` for the target's default.
        grid: LUT size baked into the artifact (8..128).
        out: output folder; default ``dist/<target>``.
        weights: a ``.safetensors`` file; default the shipped weights for ``n_exposures``.
        n_exposures: bracket size of the shipped weights to use when ``weights`` is not given.
        calibration: folder with ``calibration/`` and ``parity/`` stacks; default ``calibration_data/``.
        tile: IPL only: the side of the exported tile graphs.
    """

    target: str = "android"
    model: str = "lut-student"
    precision: str | None = None
    grid: int = 33
    out: Path | None = None
    weights: Path | None = None
    n_exposures: int = 3
    calibration: Path | None = None
    tile: int = 256


@dataclass(frozen=True)
class ConversionResult:
    """A verified artifact."""

    artifact: Path
    contract_file: Path
    contract: Contract

    def summary_row(self) -> dict[str, str]:
        c = self.contract
        return {
            "artifact": str(self.artifact),
            "size": f"{c.size_bytes / 1e6:.2f} MB",
            "precision": c.precision,
            "parity PSNR": f"{c.parity['min_psnr_db']:.1f} dB (gate {c.parity['gate_db']:.0f})",
            "predictor latency": (
                f"{c.latency['median_ms']:.1f} ms"
                if c.latency.get("median_ms") is not None
                else "n/a (macOS only)"
            ),
        }


def _log(message: str) -> None:
    print(f"edgemef convert: {message}", file=sys.stderr, flush=True)


def _load_student(config: ConvertConfig) -> Student:
    if config.model not in CONVERTIBLE_MODELS:
        raise ConversionError(
            f"model {config.model!r} cannot be converted; convertible: {', '.join(CONVERTIBLE_MODELS)}"
        )
    if config.weights is not None:
        path = Path(config.weights)
    else:
        path = shipped_weights(config.model, config.n_exposures)
        if not path.exists():
            shipped = ", ".join(map(str, shipped_exposure_counts(config.model))) or "none"
            raise ConversionError(
                f"{config.model} ships weights for {shipped}-exposure brackets, not {config.n_exposures}; "
                "pass --weights FILE from 'edgemef train'"
            )
    model = load_weights(path, expected=config.model)
    if not isinstance(model, Student):
        raise ConversionError(f"{path}: not {config.model} weights")
    if not model.config.min_grid_size <= config.grid <= model.config.max_grid_size:
        raise ConversionError(
            f"--grid must be between {model.config.min_grid_size} and {model.config.max_grid_size}, "
            f"got {config.grid}"
        )
    return model.eval()


def artifact_name(model: str, precision: str, grid: int, spec: TargetSpec, n_exposures: int = 3) -> str:
    """``lut-student-int8-g33.pte`` (3 exposures) or ``lut-student-2exp-int8-g33.pte``."""
    exposures = "" if n_exposures == 3 else f"-{n_exposures}exp"
    return f"{model}{exposures}-{precision}-g{grid}{spec.suffix}"


def _contract(
    config: ConvertConfig, spec: TargetSpec, precision: str, student: Student, exported: ExportResult
) -> Contract:
    n = student.config.n_exposures
    size = student.config.thumbnail_size
    grid = config.grid
    inputs = (
        TensorSpec(
            name="thumbnails",
            shape=(1, 3 * n, size, size),
            dtype="float32",
            layout="NCHW",
            description=(
                f"the {n} exposures, darkest first, each resized to {size}x{size}; channels R, G, B of the "
                "darkest frame, then of the next; sRGB-encoded values / 255"
            ),
            runtime_name=exported.input_names[0],
            index=0,
            value_range=(0.0, 1.0),
        ),
    )
    outputs = (
        TensorSpec(
            name="weights",
            shape=(1, n),
            dtype="float32",
            layout="NC",
            description="one fusion weight per exposure, darkest first (softmax: they sum to 1)",
            runtime_name=exported.output_names[0],
            index=0,
            value_range=(0.0, 1.0),
        ),
        TensorSpec(
            name="lut",
            shape=(1, grid, grid, grid, 3),
            dtype="float32",
            layout="N,blue,green,red,RGB",
            description="the 3D LUT in edgemef's canonical layout (see postprocessing.lut_layout)",
            runtime_name=exported.output_names[1],
            index=1,
            value_range=(0.0, 1.0),
        ),
    )
    path = exported.path
    return Contract(
        model=config.model,
        family="lut-distill",
        target=spec.name,
        backend=spec.backend,
        precision=precision,
        artifact=path.name,
        sha256=artifact_sha256(path),
        size_bytes=_size(path),
        n_exposures=n,
        grid_size=grid,
        inputs=inputs,
        outputs=outputs,
        preprocessing={
            "thumbnail_size": size,
            "resize": RESIZE_METHOD,
            "frame_order": "darkest to brightest (EXIF exposure time x ISO / f-number^2, else mean luma)",
            "input_encoding": "8-bit sRGB RGB frames; thumbnails as float32 = uint8 / 255",
        },
        postprocessing={
            "fusion": "fused = clamp(sum_k weights[k] * frame_k / 255, 0, 1), per pixel and channel, at full "
            "resolution",
            "lut_apply": "out = uint8(floor(clamp(trilinear(lut, fused), 0, 1) * 255 + 0.5))",
            "lut_layout": LUT_LAYOUT,
            "reference_implementation": "edgemef.lut.fuse_and_apply",
            **exported.extra_postprocessing,
        },
        toolchain={"edgemef": _edgemef_version(), **exported.toolchain},
        parity={},
        latency={},
        created=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def _size(path: Path) -> int:
    return (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        if path.is_dir()
        else path.stat().st_size
    )


def _edgemef_version() -> str:
    from edgemef import __version__

    return __version__


def _latency(predict: Predictor, thumbnails: np.ndarray) -> dict[str, object]:
    predict(thumbnails)  # warm-up (allocations, XNNPACK packing)
    times = []
    for _ in range(LATENCY_RUNS):
        start = time.perf_counter()
        predict(thumbnails)
        times.append((time.perf_counter() - start) * 1000.0)
    return {
        "what": "one network inference (thumbnails -> weights, LUT), the artifact's runtime on this machine",
        "median_ms": round(statistics.median(times), 2),
        "runs": LATENCY_RUNS,
        "threads": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "machine": _machine(),
    }


def _machine() -> str:
    from edgemef.bench import machine_description

    info = machine_description()
    return ", ".join(f"{k} {v}" for k, v in info.items())


def _runtime_predictor(path: Path, contract: Contract) -> Predictor:
    backend = open_backend(path, contract)
    grid, n = contract.grid_size, contract.n_exposures

    def predict(thumbnails: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = backend.run(thumbnails)
        weights = np.asarray(out["weights"], np.float32).reshape(n)
        return weights, np.ascontiguousarray(np.asarray(out["lut"], np.float32).reshape(grid, grid, grid, 3))

    return predict


@contextlib.contextmanager
def exporter_errors(spec: TargetSpec) -> Iterator[None]:
    """An exporter's own exception becomes a one-line :class:`ConversionError` naming the target."""
    try:
        yield
    except (ArtifactError, ConversionError):
        raise
    except Exception as exc:
        raise ConversionError(
            f"{spec.name} export failed: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:400]}"
        ) from exc


def claim_contract_slot(out: Path, artifact: str) -> None:
    """Refuse, before any work, to convert ``artifact`` into ``out`` where its contract file is already
    another artifact's (two targets that share a stem, e.g. ``.pte`` and ``.tflite``, in one ``--out``):
    writing it would orphan that artifact.

    Raises:
        ConversionError: the contract slot belongs to another artifact.
    """
    existing = contract_path(out / artifact)
    if not existing.is_file():
        return
    try:
        owner = json.loads(existing.read_text(encoding="utf-8")).get("artifact")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        owner = None  # not a readable contract: nothing it describes can be orphaned
    if isinstance(owner, str) and owner != artifact and (out / owner).exists():
        raise ConversionError(
            f"{existing} is the contract of {out / owner}; converting {artifact} into {out} would overwrite "
            "it. Convert each target into its own folder (the default --out is dist/TARGET)"
        )


def _install(source: Path, destination: Path) -> None:
    """Move a finished file or folder into place, replacing an older one."""
    if destination.is_dir() and not destination.is_symlink():
        old = destination.with_name(f".{destination.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(destination, old)
        os.replace(source, destination)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, destination)


def convert(config: ConvertConfig) -> ConversionResult:
    """Convert, verify and write one artifact with its contract (see the module docstring).

    Raises:
        ConversionError: bad target/precision/model/grid, an exporter failure, or a failed parity gate (the
            message reports what diverged).
    """
    if config.model == "ipl":
        from converters.ipl_pipeline import convert_ipl

        spec = resolve_target(config.target, None)[0]
        artifact, contract_file, contract = convert_ipl(config, spec, config.precision, _log)
        return ConversionResult(artifact, contract_file, contract)
    spec, precision = resolve_target(config.target, config.precision)
    student = _load_student(config)
    n = student.config.n_exposures
    out = Path(config.out) if config.out is not None else Path("dist") / spec.name
    claim_contract_slot(out, artifact_name(config.model, precision, config.grid, spec, n))
    calibration = [
        s.thumbnails(student.config.thumbnail_size) for s in load_stacks("calibration", n, config.calibration)
    ]
    parity_stacks = load_stacks("parity", n, config.calibration)
    out.mkdir(parents=True, exist_ok=True)
    module = ExportableStudent(student, config.grid).eval()
    example = torch.from_numpy(calibration[0])
    target = importlib.import_module(spec.module)
    name = artifact_name(config.model, precision, config.grid, spec, n)
    _log(f"{config.model} -> {spec.summary}, {precision} ({PRECISIONS[precision]}), grid {config.grid}")
    with tempfile.TemporaryDirectory(dir=out, prefix=".convert-") as tmp:
        start = time.perf_counter()
        with exporter_errors(spec):
            exported = target.export(module, example, precision, calibration, Path(tmp) / name)
        _log(f"exported in {time.perf_counter() - start:.1f} s ({_size(exported.path) / 1e6:.2f} MB)")
        contract = _contract(config, spec, precision, student, exported)
        reference = torch_predictor(module)
        if exported.emulator is not None:
            candidate = exported.emulator
            how = "emulated (the artifact's runtime needs macOS); see report"
        else:
            candidate = _runtime_predictor(exported.path, contract)
            how = f"run in {spec.backend}"
        report: ParityReport = check_parity(
            reference, candidate, parity_stacks, student.config.thumbnail_size, PARITY_GATE_DB[precision]
        )
        _log(f"parity ({how}): worst {report.min_psnr_db:.2f} dB, gate {report.gate_db:.0f} dB")
        if not report.passed:
            raise ConversionError(f"{name} failed its parity gate, nothing written:\n{report.describe()}")
        parity = {**report.as_dict(), "how": how, "stacks_from": "calibration_data/parity (held out)"}
        latency = _latency(candidate, calibration[0]) if exported.emulator is None else {"median_ms": None}
        contract = replace(contract, parity=parity, latency=latency, checks=exported.report)
        staged_contract = contract.write(Path(tmp) / contract_path(exported.path).name)
        destination = out / name
        _install(exported.path, destination)
        final_contract = out / staged_contract.name
        os.replace(staged_contract, final_contract)
    return ConversionResult(destination, final_contract, contract)
