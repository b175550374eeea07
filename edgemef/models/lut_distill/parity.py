"""Parity gates: the fused image of an artifact against the fused image of PyTorch fp32.

For every held-out stack, the reference is ``fuse_and_apply(frames, *pytorch_fp32(thumbnails))`` and the
candidate ``fuse_and_apply(frames, *artifact(thumbnails))``, both at the stack's full resolution through the
same applier, so the comparison isolates what the export (and quantization) changed. The gate is the
lowest PSNR over the stacks: 40 dB for fp32/fp16, 32 dB for int8
(:data:`~converters.capabilities.PARITY_GATE_DB`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from converters.calibration import Stack
from edgemef.lut import fuse_and_apply
from edgemef.metrics import psnr

#: PSNR reported for identical images (JSON has no infinity)
IDENTICAL_DB = 99.0

Predictor = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class StackParity:
    """How one stack came out: fused-image PSNR and the largest output deviations."""

    stack: str
    psnr_db: float
    max_abs_weights: float
    max_abs_lut: float
    max_abs_pixel: int


@dataclass(frozen=True)
class ParityReport:
    """The parity of an artifact over the held-out stacks."""

    gate_db: float
    stacks: tuple[StackParity, ...]

    @property
    def min_psnr_db(self) -> float:
        return min(s.psnr_db for s in self.stacks)

    @property
    def passed(self) -> bool:
        return self.min_psnr_db >= self.gate_db

    def as_dict(self) -> dict[str, object]:
        return {
            "reference": "PyTorch fp32 network, same thumbnails, same full-resolution applier",
            "metric": "PSNR of the fused uint8 image, dB (99 = identical)",
            "gate_db": self.gate_db,
            "min_psnr_db": round(self.min_psnr_db, 2),
            "passed": self.passed,
            "stacks": [asdict(s) for s in self.stacks],
        }

    def describe(self) -> str:
        """A few lines saying what diverged and by how much."""
        lines = [f"parity gate {self.gate_db:.0f} dB, worst {self.min_psnr_db:.2f} dB:"]
        for s in self.stacks:
            mark = "ok" if s.psnr_db >= self.gate_db else "FAILED"
            lines.append(
                f"  {s.stack}: {s.psnr_db:.2f} dB ({mark}); max |diff| weights {s.max_abs_weights:.2e}, "
                f"LUT {s.max_abs_lut:.2e}, pixels {s.max_abs_pixel} grey levels"
            )
        return "\n".join(lines)


def check_parity(
    reference: Predictor, candidate: Predictor, stacks: Sequence[Stack], thumbnail_size: int, gate_db: float
) -> ParityReport:
    """Compare ``candidate`` with ``reference`` on every stack (both map thumbnails to (weights, LUT))."""
    results = []
    for stack in stacks:
        thumbs = stack.thumbnails(thumbnail_size)
        ref_w, ref_lut = reference(thumbs)
        got_w, got_lut = candidate(thumbs)
        ref_img = fuse_and_apply(stack.frames, ref_w, ref_lut)
        got_img = fuse_and_apply(stack.frames, got_w, got_lut)
        value = psnr(got_img, ref_img)
        results.append(
            StackParity(
                stack=stack.name,
                psnr_db=round(IDENTICAL_DB if not math.isfinite(value) else min(value, IDENTICAL_DB), 3),
                max_abs_weights=float(np.max(np.abs(got_w - ref_w))),
                max_abs_lut=float(np.max(np.abs(got_lut - ref_lut))),
                max_abs_pixel=int(np.max(np.abs(got_img.astype(np.int16) - ref_img.astype(np.int16)))),
            )
        )
    return ParityReport(gate_db, tuple(results))
