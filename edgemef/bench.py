"""The benchmark matrix behind ``edgemef bench``: models and exported artifacts x resolutions, Mertens
measured in the same run.

Every figure is a median over ``runs`` timed runs after one warm-up run, on the machine that runs it.
For models that predict a LUT (:class:`LutPredictor`) the time is split into the predictor (thumbnails +
network) and the full-resolution apply (weighted sum + trilinear lookup, :func:`edgemef.lut.fuse_and_apply`).
"""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from edgemef.data.synthesis import CameraBracketConfig, synthesize_camera_bracket
from edgemef.models import OutputKind, create_model, get_model_spec
from edgemef.models.registry import BASELINE, family_of
from edgemef.sizes import RESOLUTIONS


@runtime_checkable
class LutPredictor(Protocol):
    """A model whose network predicts fusion weights and a 3D LUT that the fast applier applies."""

    def predict(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class BenchRow:
    """One model at one resolution (milliseconds; ``None`` where a stage does not apply)."""

    model: str
    resolution: str
    width: int
    height: int
    predictor_ms: float | None
    apply_ms: float | None
    total_ms: float
    mertens_ms: float
    speedup_vs_mertens: float


def synthetic_bracket(width: int, height: int, n_exposures: int = 3) -> np.ndarray:
    """A deterministic ``n_exposures``-frame bracket of a textured synthetic scene (EV -2..+2)."""
    small_w, small_h = min(width, 960), min(height, 540)
    y, x = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
    scene = 0.5 + 0.3 * np.sin(x / 37.0) * np.cos(y / 23.0) + 0.15 * np.sin(x / 3.0 + y / 5.0)
    image = (np.clip(np.stack([scene, scene * 0.9, scene * 0.8], axis=2), 0, 1) * 255).astype(np.uint8)
    stops = tuple(np.linspace(-2.0, 2.0, n_exposures).tolist())
    frames = synthesize_camera_bracket(image, CameraBracketConfig(ev_stops=stops), seed=0).frames
    if (small_w, small_h) == (width, height):
        return frames
    reps = (1, -(-height // small_h), -(-width // small_w), 1)
    return np.ascontiguousarray(np.tile(frames, reps)[:, :height, :width])


def synthetic_exposure_times(n_exposures: int) -> list[float]:
    """The exposure times of :func:`synthetic_bracket`'s frames relative to the darkest (EV -2..+2)."""
    return np.exp2(np.linspace(0.0, 4.0, n_exposures)).tolist()


def median_ms(function: Callable[[], object], runs: int) -> float:
    """Median wall time of ``function`` in ms over ``runs`` runs, after one warm-up run."""
    function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def bench_model(
    name: str, frames: np.ndarray, runs: int, **options: object
) -> tuple[float | None, float | None, float]:
    """(predictor, apply, total) medians in ms for one model on one bracket."""
    model = create_model(name, **options)
    if family_of(name).output_kind == OutputKind.SCENE_LINEAR:
        times = synthetic_exposure_times(len(frames))
        return None, None, median_ms(lambda: model.fuse(frames, exposure_times=times), runs)  # type: ignore[call-arg]
    if not isinstance(model, LutPredictor):
        return None, None, median_ms(lambda: model.fuse(frames), runs)
    return bench_predictor(model, frames, runs)


def bench_predictor(model: object, frames: np.ndarray, runs: int) -> tuple[float, float, float]:
    """(predictor, apply, total) medians in ms for anything with ``predict(frames) -> (weights, lut)``."""
    from edgemef.lut import fuse_and_apply

    weights, lut = model.predict(frames)  # type: ignore[attr-defined]
    predictor = median_ms(lambda: model.predict(frames), runs)  # type: ignore[attr-defined]
    apply = median_ms(lambda: fuse_and_apply(frames, weights, lut), runs)
    return predictor, apply, predictor + apply


def run_matrix(
    models: Sequence[str],
    resolutions: Sequence[str],
    *,
    runs: int = 5,
    grids: Sequence[int] = (33,),
    artifacts: Sequence[str] = (),
) -> list[BenchRow]:
    """Benchmark every model (every grid size for models that take one) and every exported artifact of any
    family (``.pte``, ``.tflite``, ``.onnx``) at every resolution, with Mertens beside it."""
    from edgemef.runtime import open_artifact

    exported = [open_artifact(path) for path in artifacts]
    rows = []
    for resolution in resolutions:
        width, height = RESOLUTIONS[resolution]
        frames = synthetic_bracket(width, height)
        mertens = create_model(BASELINE)
        mertens_ms = median_ms(lambda: mertens.fuse(frames), max(1, min(runs, 3)))  # noqa: B023
        for name in models:
            variants = [{"grid": g} for g in grids] if "grid" in get_model_spec(name).options else [{}]
            for options in variants:
                predictor, apply, total = bench_model(name, frames, runs, **options)
                label = f"{name} (grid {options['grid']})" if options else name
                rows.append(
                    BenchRow(
                        label,
                        resolution,
                        width,
                        height,
                        predictor,
                        apply,
                        total,
                        mertens_ms,
                        mertens_ms / total,
                    )
                )
        for fusion in exported:
            c = fusion.contract
            bracket = (
                frames if c.n_exposures == len(frames) else synthetic_bracket(width, height, c.n_exposures)
            )
            label = f"{c.model} ({fusion.settings}, {c.backend} {c.precision})"
            fusion.warm_up()
            if isinstance(fusion, LutPredictor):
                predictor, apply, total = bench_predictor(fusion, bracket, runs)
            elif c.output_kind == OutputKind.SCENE_LINEAR.value:
                predictor = apply = None
                times = synthetic_exposure_times(len(bracket))
                total = median_ms(lambda: fusion.fuse(bracket, exposure_times=times), runs)  # type: ignore[call-arg]  # noqa: B023
            else:
                predictor = apply = None
                total = median_ms(lambda: fusion.fuse(bracket), runs)  # noqa: B023
            rows.append(
                BenchRow(
                    label, resolution, width, height, predictor, apply, total, mertens_ms, mertens_ms / total
                )
            )
    return rows


def machine_description() -> dict[str, str]:
    """What the figures were measured on."""
    import os

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "os": platform.system(),
    }


def format_rows(rows: Sequence[BenchRow]) -> str:
    """The matrix as a Markdown table."""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:,.1f}"

    lines = [
        "| model | resolution | predictor ms | apply ms | total ms | Mertens ms | speed-up vs Mertens |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.model} | {r.width}x{r.height} | {ms(r.predictor_ms)} | {ms(r.apply_ms)} "
            f"| {ms(r.total_ms)} | {ms(r.mertens_ms)} | {r.speedup_vs_mertens:.1f}x |"
        )
    return "\n".join(lines)


def rows_as_dicts(rows: Sequence[BenchRow]) -> list[dict[str, object]]:
    return [asdict(r) for r in rows]


def rows_as_csv(rows: Sequence[BenchRow]) -> str:
    """The rows as CSV (one header line, the :class:`BenchRow` fields)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(BenchRow.__dataclass_fields__))
    writer.writeheader()
    writer.writerows(rows_as_dicts(rows))
    return buffer.getvalue()
