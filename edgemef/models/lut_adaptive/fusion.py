"""The adaptive model behind the registry's :class:`~edgemef.models.registry.FusionModel` interface: the
network in PyTorch on the thumbnails, the weight maps and LUT applied by the torch-free applier."""

from __future__ import annotations

from pathlib import Path

from edgemef.models.lut_adaptive.weights import MODEL, load_weights
from edgemef.models.lut_distill.fusion import LutDistillFusion


def lut_adaptive(weights: str | Path | None = None, grid: int = 33) -> LutDistillFusion:
    """The registry's factory of ``lut-adaptive``."""
    return LutDistillFusion(MODEL, weights, grid, loader=load_weights)
