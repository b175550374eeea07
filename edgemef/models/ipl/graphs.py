"""IPL's two exported tile graphs: the full pass (image + attention weights) and the cache-hit replay.

The runtime (:mod:`edgemef.models.ipl.runtime`) fuses a bracket tile by tile. On a cache miss it runs the
*full* graph, which returns the fused tile and every FIB's attention weights packed in one tensor; on a hit
it runs the *replay* graph, which takes the cached (int8-decoded) weights instead of computing the LFEs.

Packed attention layout: ``1 x blocks x C x (1 + nH + nW)``; for block ``b``, column 0 holds the channel
chunks' weights ``A_c``, columns ``1..nH`` the row bands' ``A_h`` and the last ``nW`` the column bands'
``A_w`` (``nH = nW = ceil(tile / scale / chunk)``; see :class:`edgemef.models.ipl.network.DAEM`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from edgemef.models.ipl.network import IPL, Attention

FULL_INPUTS = ("frames",)
FULL_OUTPUTS = ("image", "attention")
REPLAY_INPUTS = ("frames", "attention")
REPLAY_OUTPUTS = ("image",)


def bands(model: IPL, tile: int) -> int:
    """Chunks per spatial axis of a ``tile x tile`` input."""
    return math.ceil(tile // model.config.scale / model.config.chunk)


def attention_shape(model: IPL, tile: int) -> tuple[int, int, int, int]:
    n = bands(model, tile)
    return (1, model.config.blocks, model.config.channels, 1 + 2 * n)


def pack_attention(attention: Attention) -> torch.Tensor:
    """Per-block ``(A_c, A_h, A_w)`` -> ``B x blocks x C x (1 + nH + nW)``."""
    return torch.stack([torch.cat([a_c[..., None], a_h, a_w], dim=-1) for a_c, a_h, a_w in attention], dim=1)


def unpack_attention(packed: torch.Tensor, n_bands: int) -> Attention:
    """The inverse of :func:`pack_attention` for square tiles of ``n_bands`` chunks per axis."""
    return [
        (packed[:, b, :, 0], packed[:, b, :, 1 : 1 + n_bands], packed[:, b, :, 1 + n_bands :])
        for b in range(packed.shape[1])
    ]


class FullTileGraph(nn.Module):
    """``frames (1 x 3N x T x T) -> {"image": 1 x 3 x T x T, "attention": packed weights}``."""

    def __init__(self, model: IPL) -> None:
        super().__init__()
        self.model = model

    def forward(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        image, attention = self.model.forward_with_attention(frames)
        return {"image": image, "attention": pack_attention(attention)}


class ReplayTileGraph(nn.Module):
    """``(frames, attention) -> {"image": ...}``: the network with the given attention weights."""

    def __init__(self, model: IPL, tile: int) -> None:
        super().__init__()
        self.model = model
        self.n_bands = bands(model, tile)

    def forward(self, frames: torch.Tensor, attention: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"image": self.model.replay(frames, unpack_attention(attention, self.n_bands))}
