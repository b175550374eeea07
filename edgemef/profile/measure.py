"""Measure an artifact end to end, stage by stage, on this machine: the data behind a profile report."""

from __future__ import annotations

import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from edgemef.bench import machine_description, synthetic_bracket, synthetic_exposure_times
from edgemef.io import read_bracket, write_fused, write_image
from edgemef.profile.claims import all_claims, judge
from edgemef.profile.operators import operator_profile
from edgemef.profile.schema import SCHEMA_VERSION
from edgemef.runtime import ArtifactRuntime, open_artifact
from edgemef.runtime.backends import available_threads


def summarize(times_ms: Sequence[float]) -> dict[str, object]:
    """Median, p90, min, max and every run."""
    ordered = sorted(times_ms)
    p90 = float(np.percentile(ordered, 90)) if len(ordered) > 1 else ordered[0]
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(p90, 3),
        "min_ms": round(ordered[0], 3),
        "max_ms": round(ordered[-1], 3),
        "runs_ms": [round(t, 3) for t in times_ms],
    }


def artifact_summary(fusion: ArtifactRuntime) -> dict[str, object]:
    """The report's ``artifact`` block: what was profiled, from its contract."""
    contract = fusion.contract
    first_graph = next(iter(contract.checks.values()), {})  # checks are per graph, the artifact's first
    return {
        "file": str(fusion.artifact),
        "model": contract.model,
        "family": contract.family,
        "backend": contract.backend,
        "precision": contract.precision,
        "settings": fusion.settings,
        "n_exposures": contract.n_exposures,
        "size_bytes": contract.size_bytes,
        "delegation": first_graph.get("delegation") if isinstance(first_graph, dict) else None,
        "parity_min_psnr_db": contract.parity.get("min_psnr_db"),
    }


def _timed(function: Callable[..., object], *args: object, **kwargs: object) -> tuple[Any, float]:
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, (time.perf_counter() - start) * 1000.0


def _set_threads(threads: int) -> None:
    import cv2
    import numba

    cv2.setNumThreads(threads)
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def run_stages(fusion: ArtifactRuntime, folder: Path, runs: int) -> dict[str, list[float]]:
    """Decode the JPEG bracket in ``folder``, fuse it (the fusion's own stages), encode (JPEG; linear
    radiance as Radiance .hdr); per run."""
    scene_linear = fusion.contract.output_kind == "scene-linear"
    out = folder / ("fused.hdr" if scene_linear else "fused.jpg")
    times: dict[str, list[float]] = {}
    for _ in range(runs):
        bracket, t_decode = _timed(read_bracket, folder / "frame_*.jpg", max_pixels=None)
        if scene_linear:
            exposure_times = synthetic_exposure_times(len(bracket.frames))
            fused, parts = fusion.fuse_timed(bracket.frames, exposure_times)  # type: ignore[call-arg]
        else:
            fused, parts = fusion.fuse_timed(bracket.frames)
        _, t_encode = _timed(write_fused, out, fused, fusion.contract.output_kind, jpeg_quality=95)
        for stage, value in {"decode": t_decode, **parts, "encode": t_encode}.items():
            times.setdefault(stage, []).append(value)
    return times


def _write_bracket(folder: Path, width: int, height: int, n: int) -> int:
    frames = synthetic_bracket(width, height, n)
    for index, frame in enumerate(frames):
        write_image(folder / f"frame_{index}.jpg", frame, jpeg_quality=95)
    return int(frames.nbytes)


def profile(
    artifact: str | Path,
    resolution: tuple[int, int] = (3840, 2160),
    runs: int = 10,
    threads: int | None = None,
    sweep: Sequence[tuple[int, int]] = (),
    machine_kind: str = "desktop",
    progress: Callable[[str], None] | None = None,
) -> dict[str, object]:
    """Profile an artifact (see :mod:`edgemef.profile.schema` for the result).

    The runtime runs with its family's ``runtime_options`` (a tiled model's cache off: every run fuses the
    same bracket, so a cache would measure reuse, not fusion).
    """
    say = progress or (lambda message: None)
    threads = threads or available_threads()
    _set_threads(threads)
    fusion = open_artifact(artifact, threads=threads)
    contract = fusion.contract
    fusion.warm_up()
    width, height = resolution
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        input_bytes = _write_bracket(folder, width, height, contract.n_exposures)
        say(f"warm-up and {runs} runs at {width}x{height}")
        run_stages(fusion, folder, 1)  # warm-up: caches, XNNPACK weight packing, numba load
        stage_times = run_stages(fusion, folder, runs)
        tracemalloc.start()
        run_stages(fusion, folder, 1)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        example = fusion.network_example(read_bracket(folder / "frame_*.jpg", max_pixels=None).frames)
        say("per-operator profile")
        operators = operator_profile(fusion.artifact, contract, example, runs, threads)
        sweep_rows = []
        for w, h in sweep:
            say(f"sweep {w}x{h}")
            sub = folder / f"sweep_{w}x{h}"
            sub.mkdir()
            _write_bracket(sub, w, h, contract.n_exposures)
            run_stages(fusion, sub, 1)
            times = run_stages(fusion, sub, max(3, runs // 3))
            total = [sum(parts) for parts in zip(*times.values(), strict=True)]
            sweep_rows.append(
                {
                    "resolution": [w, h],
                    "end_to_end_median_ms": round(statistics.median(total), 3),
                    "stages_median_ms": {
                        stage: round(statistics.median(values), 3) for stage, values in times.items()
                    },
                }
            )
    end_to_end = [sum(parts) for parts in zip(*stage_times.values(), strict=True)]
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    machine = machine_description()
    e2e = summarize(end_to_end)
    return {
        "schema_version": SCHEMA_VERSION,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "artifact": artifact_summary(fusion),
        "machine": {
            "kind": machine_kind,
            "description": ", ".join(f"{k} {v}" for k, v in machine.items()),
            "threads_used": threads,
            "versions": contract.toolchain,
        },
        "resolution": [width, height],
        "runs": runs,
        "threads": threads,
        "stages": {stage: summarize(values) for stage, values in stage_times.items()},
        "end_to_end": e2e,
        "memory": {
            "peak_traced_bytes": int(peak),
            "max_rss_bytes": int(maxrss),
            "input_bytes": input_bytes,
            "note": "peak_traced_bytes: Python and numpy allocations during one end-to-end run "
            "(tracemalloc); "
            "max_rss_bytes: the whole process, runtimes and libraries included",
        },
        "operators": operators,
        "sweep": sweep_rows,
        "claims": judge(all_claims(), contract.family, machine_kind, float(e2e["median_ms"])),  # type: ignore[arg-type]
    }
