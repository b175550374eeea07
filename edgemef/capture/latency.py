"""Per-stage timings of the capture-and-fuse loop, their statistics, and the verdict against a latency budget.

Stages, in milliseconds:

- ``capture``: metering (first bracket only), exposure changes and frame grabs, retries included; 0 for files;
- ``decode``: captured data into RGB arrays (files: read and decode; cameras: the colour conversion is part
  of the grab, so 0);
- ``align``: optional bracket alignment;
- the model's stages, as its family declares them (``edgemef profile``'s; LUT-distill: ``thumbnails``,
  ``predictor``, ``apply``);
- ``encode``: JPEG/PNG encoding and the atomic write of the fused image.

``fusion_ms`` (capture excluded) is what the budget is judged on: a paper's Raspberry Pi figure is the
model's fusion time, not the camera's. ``total_ms`` adds the capture and is reported beside it.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def loop_stages(model_stages: Sequence[str]) -> tuple[str, ...]:
    """Every stage of one bracket, in order, for a model whose runtime times ``model_stages``."""
    return ("capture", "decode", "align", *model_stages, "encode")


def fusion_ms(timings: dict[str, float]) -> float:
    """Capture excluded: decode through encode."""
    return sum(value for stage, value in timings.items() if stage != "capture")


def total_ms(timings: dict[str, float]) -> float:
    """Capture included."""
    return timings.get("capture", 0.0) + fusion_ms(timings)


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(list(values), q)) if len(values) > 1 else float(values[0])


def raspberry_pi_model(path: Path = Path("/proc/device-tree/model")) -> str | None:
    """``"Raspberry Pi 5 Model B Rev 1.0"`` on a Pi, else ``None``."""
    try:
        model = path.read_bytes().rstrip(b"\x00").decode("ascii", "replace").strip()
    except OSError:
        return None
    return model if model.startswith("Raspberry Pi") else None


@dataclass(frozen=True)
class Budget:
    """A latency budget and where it comes from (a paper's claim, or ``--budget-ms``)."""

    ms: float
    source: str


@dataclass(frozen=True)
class Verdict:
    passed: bool
    median_ms: float
    budget: Budget | None
    machine: str
    on_pi: bool

    def line(self) -> str:
        where = self.machine if self.on_pi else f"this machine ({self.machine}), NOT a Raspberry Pi"
        if self.budget is None:
            return (
                f"LATENCY: fusion median {self.median_ms:.1f} ms, capture excluded, measured on {where}; no "
                "budget (the model's paper states no Raspberry Pi figure; pass --budget-ms)"
            )
        word = "PASS" if self.passed else "FAIL"
        relation = "<=" if self.passed else ">"
        return (
            f"LATENCY {word}: fusion median {self.median_ms:.1f} ms {relation} "
            f"budget {self.budget.ms:.0f} ms ({self.budget.source}), capture excluded, measured on {where}"
        )


def judge(fusion_times: Sequence[float], budget: Budget | None, machine: str, on_pi: bool) -> Verdict:
    median = statistics.median(fusion_times)
    return Verdict(budget is None or median <= budget.ms, median, budget, machine, on_pi)


class RollingStats:
    """Statistics over the last ``window`` brackets of a ``--loop`` (all of them when ``window`` is 0)."""

    def __init__(self, window: int = 30, stages: Sequence[str] = loop_stages(())) -> None:
        self._rows: deque[dict[str, float]] = deque(maxlen=window or None)
        self.stages = tuple(stages)

    def add(self, timings: dict[str, float]) -> None:
        self._rows.append(dict(timings))

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def rows(self) -> list[dict[str, float]]:
        """The stage timings of the brackets in the window, oldest first."""
        return list(self._rows)

    def column(self, key: str) -> list[float]:
        if key == "fusion":
            return [fusion_ms(row) for row in self._rows]
        if key == "total":
            return [total_ms(row) for row in self._rows]
        return [row.get(key, 0.0) for row in self._rows]

    def summary(self, keys: Iterable[str] | None = None) -> dict[str, dict[str, float]]:
        out = {}
        for key in keys if keys is not None else (*self.stages, "fusion", "total"):
            values = self.column(key)
            out[key] = {
                "median_ms": round(statistics.median(values), 3),
                "p90_ms": round(percentile(values, 90), 3),
                "min_ms": round(min(values), 3),
                "max_ms": round(max(values), 3),
            }
        return out

    def status_line(self) -> str:
        fusion, total = self.column("fusion"), self.column("total")
        return (
            f"last {len(self)}: fusion median {statistics.median(fusion):.1f} ms "
            f"(p90 {percentile(fusion, 90):.1f}), capture included median {statistics.median(total):.1f} ms"
        )
