"""Score a fusion model on a dataset: PSNR/SSIM against the reference (when there is one) and MEF-SSIM."""

from __future__ import annotations

import math
import platform
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from edgemef import __version__
from edgemef.data.datasets import Scene, load_scene
from edgemef.data.synthesis import shake_frames
from edgemef.io import DEFAULT_MAX_PIXELS
from edgemef.metrics import mef_ssim, psnr, ssim
from edgemef.models.registry import FusionModel


@dataclass(frozen=True)
class SceneResult:
    """Scores of one fused scene (``psnr``/``ssim`` are ``None`` without a reference image)."""

    scene: str
    n_exposures: int
    width: int
    height: int
    psnr: float | None
    ssim: float | None
    mef_ssim: float
    fuse_ms: float


@dataclass(frozen=True)
class EvalReport:
    """An evaluation run: what was fused how, and the per-scene scores."""

    model: str
    dataset: str
    exposures: str
    results: tuple[SceneResult, ...]
    environment: dict[str, str] = field(default_factory=dict)
    #: the misaligned protocol's camera shake in pixels (0: the brackets as stored)
    shake_px: float = 0.0

    def means(self) -> dict[str, float | None]:
        """Mean of each score over the scenes that have it (``None`` when no scene has it)."""

        def mean(values: Sequence[float | None]) -> float | None:
            present = [v for v in values if v is not None]
            return sum(present) / len(present) if present else None

        return {
            "psnr": mean([r.psnr for r in self.results]),
            "ssim": mean([r.ssim for r in self.results]),
            "mef_ssim": mean([r.mef_ssim for r in self.results]),
            "fuse_ms": mean([r.fuse_ms for r in self.results]),
        }

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary (infinite PSNR, from a perfect match, becomes the string "inf")."""
        return report_dict(self)


def report_dict(report: Any) -> dict[str, object]:
    """A report dataclass with ``results`` and ``means()`` as a JSON-ready dictionary: every field, the
    results with infinite values (a perfect match's PSNR) as the string "inf", and the means."""
    data = asdict(report)
    data["results"] = [
        {k: ("inf" if isinstance(v, float) and math.isinf(v) else v) for k, v in asdict(r).items()}
        for r in report.results
    ]
    data["mean"] = report.means()
    return data


def evaluate(
    model: FusionModel,
    scenes: Sequence[Scene],
    *,
    dataset: str,
    exposures: str | None = None,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    progress: bool = True,
    shake_px: float = 0.0,
) -> EvalReport:
    """Fuse every scene with ``model`` and score it.

    Args:
        model: a registered :class:`FusionModel` of display images (linear-HDR models are scored by
            :func:`edgemef.evaluate_hdr.evaluate_hdr`).
        scenes: from :func:`edgemef.data.find_scenes`.
        dataset: a label for the report (usually the dataset folder).
        exposures: which frames to fuse ("2", "3", "all", or ``None``: see
            :func:`edgemef.data.select_exposures`).
        max_pixels: per-frame pixel guard.
        progress: show a progress bar on stderr.
        shake_px: misaligned brackets: every frame but the brightest moved by this many pixels in a random
            direction and rotated by up to 0.25 degrees (:func:`edgemef.data.synthesis.shake_frames`, seeded
            by the scene's name), the reference keeping the brightest frame's geometry; 0: as stored.
    """

    def brackets() -> Iterator[tuple[str, np.ndarray, np.ndarray | None]]:
        for scene in scenes:
            bracket, reference = load_scene(scene, exposures, max_pixels=max_pixels)
            frames = bracket.frames
            if shake_px > 0.0:
                rng = np.random.default_rng(zlib.crc32(scene.name.encode()))
                frames = shake_frames(frames, rng, (shake_px, shake_px), max_rotation_deg=0.25)
            yield scene.name, frames, reference

    return evaluate_brackets(
        model,
        brackets(),
        dataset=dataset,
        exposures=exposures or "auto",
        total=len(scenes),
        progress=progress,
        shake_px=shake_px,
    )


def evaluate_brackets(
    model: FusionModel,
    brackets: Iterable[tuple[str, np.ndarray, np.ndarray | None]],
    *,
    dataset: str,
    exposures: str,
    total: int | None = None,
    progress: bool = True,
    shake_px: float = 0.0,
) -> EvalReport:
    """Fuse and score ``(name, frames N x H x W x 3 uint8, reference or None)`` brackets: what
    :func:`evaluate` does with a dataset's scenes, for brackets made otherwise (e.g. from radiance maps)."""
    results = []
    for name, frames, reference in tqdm(
        brackets, desc=f"eval {model.name}", unit="scene", total=total, disable=not progress, leave=False
    ):
        start = time.perf_counter()
        fused = model.fuse(frames)
        fuse_ms = (time.perf_counter() - start) * 1000.0
        height, width = frames.shape[1:3]
        scores = _scores(fused, reference, frames)
        results.append(SceneResult(name, len(frames), width, height, **scores, fuse_ms=fuse_ms))
    environment = {"edgemef": __version__, "python": platform.python_version(), "machine": platform.machine()}
    return EvalReport(model.name, dataset, exposures, tuple(results), environment, shake_px=shake_px)


def _scores(fused: Any, reference: Any, frames: Any) -> dict[str, float | None]:
    """PSNR, SSIM (with a reference) and MEF-SSIM of one fused display image."""
    return {
        "psnr": psnr(fused, reference) if reference is not None else None,
        "ssim": ssim(fused, reference) if reference is not None else None,
        "mef_ssim": mef_ssim(frames, fused),
    }


def _cell(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_report(report: EvalReport) -> str:
    """The per-scene table and the mean row, as aligned plain text."""
    header = ("scene", "frames", "size", "PSNR dB", "SSIM", "MEF-SSIM", "fuse ms")
    rows = [
        (
            r.scene,
            str(r.n_exposures),
            f"{r.width}x{r.height}",
            _cell(r.psnr, 2),
            _cell(r.ssim, 4),
            _cell(r.mef_ssim, 4),
            _cell(r.fuse_ms, 0),
        )
        for r in report.results
    ]
    means = report.means()
    rows.append(
        (
            "mean",
            "",
            "",
            _cell(means["psnr"], 2),
            _cell(means["ssim"], 4),
            _cell(means["mef_ssim"], 4),
            _cell(means["fuse_ms"], 0),
        )
    )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )

    rule = "-" * len(line(header))
    shaken = f", camera shake {report.shake_px:g} px" if report.shake_px else ""
    title = f"model {report.model} on {report.dataset} (exposures: {report.exposures}{shaken})"
    return "\n".join([title, line(header), rule, *(line(r) for r in rows[:-1]), rule, line(rows[-1])])
