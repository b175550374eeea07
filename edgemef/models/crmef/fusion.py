"""CRMEF behind the registry's :class:`~edgemef.models.spec.FusionModel` interface (PyTorch).

It fuses a bracket's darkest and brightest frames (the pair with the largest exposure ratio, as the paper),
in overlapping tiles so that any size fits in bounded memory: each tile runs with ``margin`` pixels of
context on every side (reflected at the image border, padded to the network's size multiple) and keeps its
centre. Default weights: the shipped ``crmef-2exp`` (any bracket: the extremes are fused), or for
``crmef-misaligned`` the shipped ``crmef-misaligned-2exp``; ``--weights FILE`` from ``edgemef train crmef``
for others.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from edgemef.errors import BracketError
from edgemef.models.crmef.network import receptive_radius
from edgemef.models.crmef.weights import load_crmef
from edgemef.models.weights_file import WeightsError
from edgemef.weights import shipped_weights


class CrmefFusion:
    """Fuse with a trained CRMEF network.

    Args:
        weights: a ``.safetensors`` file from ``edgemef train crmef``; default: the shipped weights of
            ``name``.
        tile: side of the part of the image each network run keeps.
        margin: context around each tile, at least the network's receptive field radius (both rounded up to
            the network's size multiple).
        name: the registry name (``crmef``, ``crmef-misaligned``).
    """

    def __init__(
        self,
        weights: str | Path | None = None,
        tile: int = 1024,
        margin: int = 96,
        name: str = "crmef",
    ) -> None:
        self.name = name
        if weights is None:
            weights = shipped_weights(name, 2)
            if not weights.exists():
                raise WeightsError(
                    f"no shipped {name} weights: pass --weights FILE from 'edgemef train crmef'"
                )
        self.model = load_crmef(weights)
        multiple = self.model.config.size_multiple
        try:  # at least the receptive field; multiples of the pyramid's scale keep its sampling grid
            margin = max(margin, receptive_radius(self.model))
        except ValueError:  # a misaligned network with unbounded offsets: the margin as given
            pass
        self.tile = -(-tile // multiple) * multiple
        self.margin = -(-margin // multiple) * multiple

    def _run(self, window: np.ndarray) -> np.ndarray:
        """``2 x h x w x 3`` uint8 -> ``h x w x 3`` float in [0, 1]."""
        multiple = self.model.config.size_multiple
        height, width = window.shape[1:3]
        pad_h, pad_w = (-height) % multiple, (-width) % multiple
        x = torch.from_numpy(np.ascontiguousarray(window)).float().div(255.0)
        x = x.permute(0, 3, 1, 2).reshape(1, 6, height, width)
        if pad_h or pad_w:
            x = torch.nn.functional.pad(
                x, (0, pad_w, 0, pad_h), mode="reflect" if min(height, width) > 1 else "replicate"
            )
        with torch.inference_mode():
            fused = self.model(x)[0, :, :height, :width]
        return fused.permute(1, 2, 0).numpy()

    def fuse(self, frames: np.ndarray) -> np.ndarray:
        """Fuse uint8 sRGB frames (N x H x W x 3, darkest first; the extremes are used) into uint8 sRGB."""
        if frames.ndim != 4 or len(frames) < 2:
            raise BracketError(
                "crmef fuses a bracket of at least 2 exposures (it uses the darkest and brightest)"
            )
        pair = frames[[0, len(frames) - 1]]
        height, width = pair.shape[1:3]
        out = np.empty((height, width, 3), np.uint8)
        for top in range(0, height, self.tile):
            for left in range(0, width, self.tile):
                bottom, right = min(top + self.tile, height), min(left + self.tile, width)
                y0, x0 = max(0, top - self.margin), max(0, left - self.margin)
                y1, x1 = min(height, bottom + self.margin), min(width, right + self.margin)
                fused = self._run(pair[:, y0:y1, x0:x1])[top - y0 : bottom - y0, left - x0 : right - x0]
                out[top:bottom, left:right] = np.floor(np.clip(fused, 0.0, 1.0) * 255.0 + 0.5).astype(
                    np.uint8
                )
        return out


def crmef(weights: str | Path | None = None, tile: int = 1024) -> CrmefFusion:
    """The registry's factory of ``crmef`` (``tile``: the part of the image each network run keeps)."""
    return CrmefFusion(weights, tile=tile)


def crmef_misaligned(weights: str | Path | None = None, tile: int = 1024) -> CrmefFusion:
    """The registry's factory of ``crmef-misaligned``: the network with deformable alignment (DASM), for
    hand-held brackets; the over-exposed frame's geometry is kept."""
    return CrmefFusion(weights, tile=tile, name="crmef-misaligned")
