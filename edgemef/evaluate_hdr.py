"""Score a linear-HDR model on brackets made from radiance maps: PSNR-mu, SSIM-mu, PSNR-L and SSIM-L against
the radiance the frames were exposed from (:mod:`edgemef.data.hdr_brackets`).

HDR-VDP-2, the paper's fifth metric, needs MATLAB and is not reproduced.
"""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from edgemef import __version__
from edgemef.data.hdr_brackets import HdrBracket
from edgemef.evaluate import report_dict
from edgemef.metrics import psnr_l, psnr_mu, ssim_l, ssim_mu
from edgemef.models.spec import FusionModel

#: The scores of a result, in table order.
HDR_METRICS = ("psnr_mu", "ssim_mu", "psnr_l", "ssim_l")


@dataclass(frozen=True)
class HdrResult:
    """Scores of one merged bracket."""

    source: str
    sample: int
    size: int
    psnr_mu: float
    ssim_mu: float
    psnr_l: float
    ssim_l: float
    fuse_ms: float


@dataclass(frozen=True)
class HdrEvalReport:
    """An HDR evaluation run."""

    model: str
    dataset: str
    protocol: str
    results: tuple[HdrResult, ...]
    environment: dict[str, str] = field(default_factory=dict)

    def means(self) -> dict[str, float]:
        """Mean of every score over the brackets (PSNR means of finite values)."""
        means = {}
        for name in (*HDR_METRICS, "fuse_ms"):
            values = [getattr(r, name) for r in self.results if math.isfinite(getattr(r, name))]
            means[name] = sum(values) / len(values) if values else math.nan
        return means

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary (an infinite PSNR becomes the string "inf")."""
        return report_dict(self)


def evaluate_hdr(
    model: FusionModel,
    brackets: Iterable[HdrBracket],
    *,
    dataset: str,
    protocol: str,
    total: int | None = None,
    progress: bool = True,
) -> HdrEvalReport:
    """Merge every bracket with ``model`` (``fuse(frames, exposure_times)``) and score it against the
    bracket's radiance (both clipped to [0, 1], the darkest frame's saturation)."""
    results = []
    counts: dict[str, int] = {}
    for bracket in tqdm(
        brackets, desc=f"eval {model.name}", unit="bracket", total=total, disable=not progress
    ):
        start = time.perf_counter()
        radiance = model.fuse(bracket.frames, exposure_times=bracket.exposure_times)  # type: ignore[call-arg]
        fuse_ms = (time.perf_counter() - start) * 1000.0
        sample = counts.get(bracket.source, 0)
        counts[bracket.source] = sample + 1
        truth = bracket.radiance
        results.append(
            HdrResult(
                source=bracket.source,
                sample=sample,
                size=truth.shape[0],
                psnr_mu=psnr_mu(radiance, truth),
                ssim_mu=ssim_mu(radiance, truth),
                psnr_l=psnr_l(radiance, truth),
                ssim_l=ssim_l(radiance, truth),
                fuse_ms=fuse_ms,
            )
        )
    environment = {"edgemef": __version__, "python": platform.python_version(), "machine": platform.machine()}
    return HdrEvalReport(model.name, dataset, protocol, tuple(results), environment)


def format_hdr_report(report: HdrEvalReport) -> str:
    """The per-bracket table and the mean row, as aligned plain text."""
    header = ("bracket", "size", "PSNR-mu", "SSIM-mu", "PSNR-L", "SSIM-L", "fuse ms")

    def row(label: str, size: str, scores: Sequence[float]) -> tuple[str, ...]:
        digits = (2, 4, 2, 4, 0)
        return (label, size, *(f"{value:.{d}f}" for value, d in zip(scores, digits, strict=True)))

    rows = [
        row(
            f"{Path(r.source).stem}#{r.sample}",
            str(r.size),
            (r.psnr_mu, r.ssim_mu, r.psnr_l, r.ssim_l, r.fuse_ms),
        )
        for r in report.results
    ]
    means = report.means()
    mean_row = row("mean", "", [means[name] for name in (*HDR_METRICS, "fuse_ms")])
    widths = [max(len(r[i]) for r in [header, *rows, mean_row]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "-" * len(line(header))
    title = f"model {report.model} on {report.dataset} ({report.protocol})"
    return "\n".join([title, line(header), rule, *(line(r) for r in rows), rule, line(mean_row)])
