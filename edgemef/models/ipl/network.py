"""The IPL network (seed ``ipl-uhd``, L59-L159), in PyTorch.

Input: the N exposures (darkest first) concatenated on channels, values in [0, 1]. DownSampler: a 3x3
convolution to ``channels / scale**2`` at full resolution, then the sub-pixel rearrangement (pixel unshuffle
by ``scale``) to ``channels`` (48) features F0. Eight Feature Integration Blocks (eqs. 13-14): ``F_d =
DAEM(F)``, ``F_out = F_d + DRTM(F_d)``. The final features ``F0 + F8`` (the paper's "sum of the final
features", read as a global residual) go through the UpSampler, the mirror of the DownSampler (pixel shuffle
to ``channels / scale**2``, then a 3x3 convolution to RGB at full resolution), and multiply the middle
exposure (L59; with an even N, the mean of the two middle ones).

DAEM (L65-L75): the features are sliced into chunks of ``chunk`` along the channel, height and width axes;
the cyclic scanner runs that axis's local feature extractor (LFE) on every chunk; the three axes' outputs are
summed. LFE, read from the prose ("global average pooling and a series of convolutions ... a sigmoid ...
attention weights for the input features ... the input features are then adjusted according to these
weights via element-wise multiplication, enabling dynamic channel importance adjustment"; eq. 2's F_w are
"the channel weights"): ``F_m = GAP(x)`` (eq. 1), ``F_w = sigmoid(conv1x1(relu(conv1x1(F_m))))`` (eq. 2, on
the pooled features), ``LFE(x) = x * F_w`` (eq. 3 with the input, as the prose says, for ``F_m``). Taking
eqs. 2-3 literally instead (a per-pixel gate times the chunk mean) costs 1,566 M MACs at 256x256 (23x the
paper's 66.95 M), 0.6 s per 256x256 tile and 7-30 s per training step (batch 4) on the 2-core CI machine;
this reading costs 93 M MACs (see :func:`complexity`).

Because every LFE output is its chunk times that chunk's channel weights, DAEM is computed in one pass:
``DAEM(x) = x * (A_c + A_h + A_w)`` where ``A_c`` (C x 1 x 1: each channel chunk's weights), ``A_h``
(C x H x 1: each row band's) and ``A_w`` (C x 1 x W: each column band's) are the *attention weights*. They
are what the attention cache stores (:mod:`edgemef.runtime.attention_cache`):
:meth:`IPL.forward_with_attention` returns them, and :meth:`IPL.replay` runs the network with given weights
instead of computing them (the runtime's cache-hit path).

DRTM (eqs. 10-12): interpolate (bilinear) to a fixed ``drtm_size`` square, three times (1x1 convolution,
GELU, rotate the channel/height/width axes so the next convolution mixes the next axis), interpolate back,
multiply with the input.

Readings where the paper is silent: ``scale`` 2, chunks of 16 along each axis (the last chunk of an axis may
be shorter), no channel reduction in the LFE, ``drtm_size`` 16, no output activation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class IPLConfig:
    n_exposures: int = 3
    channels: int = 48  # paper (L159)
    blocks: int = 8  # paper (L159)
    scale: int = 2  # sub-pixel factor (ours)
    chunk: int = 16  # chunk length along each axis (ours)
    drtm_size: int = 16  # DRTM's fixed interpolation size (ours)

    def __post_init__(self) -> None:
        if self.channels % (self.scale * self.scale):
            raise ValueError(f"channels ({self.channels}) must be a multiple of scale**2 ({self.scale**2})")
        if self.n_exposures < 2:
            raise ValueError(f"IPL fuses at least 2 exposures, got {self.n_exposures}")
        if self.channels % self.chunk:
            raise ValueError(f"{self.channels} channels do not split into chunks of {self.chunk}")


class LFE(nn.Module):
    """Local feature extractor's weights, eqs. 1-2: pooled chunk features -> sigmoid channel weights.

    ``forward`` takes the pooled features ``F_m`` (``... x C``) and returns ``F_w`` (same shape); the LFE
    output of eq. 3 is ``chunk * F_w`` (see :class:`DAEM`).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Linear(channels, channels)  # a 1x1 convolution on a pooled vector
        self.conv2 = nn.Linear(channels, channels)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv2(F.relu(self.conv1(pooled))))


def _band_means(sums: torch.Tensor, chunk: int, length: int) -> torch.Tensor:
    """Means over consecutive bands of ``chunk`` along the last axis of ``sums`` (per-position sums over the
    other axis of ``length`` elements): ``B x C x L -> B x C x ceil(L / chunk)``."""
    size = sums.shape[-1]
    full = size // chunk
    means = [sums[..., : full * chunk].reshape(*sums.shape[:-1], full, chunk).sum(-1) / (chunk * length)]
    if size % chunk:
        means.append(sums[..., full * chunk :].sum(-1, keepdim=True) / ((size % chunk) * length))
    return torch.cat(means, dim=-1) if len(means) > 1 else means[0]


def _expand_bands(weights: torch.Tensor, chunk: int, size: int) -> torch.Tensor:
    """Per-band values back to per-position values: ``B x C x n -> B x C x size``."""
    return weights.repeat_interleave(chunk, dim=-1)[..., :size]


class DAEM(nn.Module):
    """Chunks along channel, height and width; each axis's LFE on its chunks; the three outputs summed."""

    def __init__(self, channels: int, chunk: int) -> None:
        super().__init__()
        self.chunk = chunk
        self.lfe_channel = LFE(chunk)  # one LFE shared by the channel chunks (chunk channels each)
        self.lfe_height = LFE(channels)
        self.lfe_width = LFE(channels)

    def attention(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The attention weights ``(A_c: B x C, A_h: B x C x nH, A_w: B x C x nW)``, one column per chunk."""
        b, c, h, w = x.shape
        if c % self.chunk:
            raise ValueError(f"{c} channels do not split into chunks of {self.chunk}")
        if h % self.chunk == 0 and w % self.chunk == 0:
            # Whole bands (every exported tile): average pooling, which every runtime's CPU delegate runs.
            pooled_h = F.avg_pool2d(x, (self.chunk, w))  # B x C x nH x 1
            channel_means = pooled_h.mean(dim=(2, 3), keepdim=True).reshape(b, c)  # eq. 1, every chunk
            band_h = pooled_h.squeeze(3)  # B x C x nH
            band_w = F.avg_pool2d(x, (h, self.chunk)).squeeze(2)  # B x C x nW
        else:  # a ragged last band (training crops, odd image sides)
            row_sums = x.sum(dim=3)  # B x C x H
            col_sums = x.sum(dim=2)  # B x C x W
            channel_means = row_sums.sum(dim=2) / (h * w)
            band_h = _band_means(row_sums, self.chunk, w)
            band_w = _band_means(col_sums, self.chunk, h)
        a_c = self.lfe_channel(channel_means.reshape(b, c // self.chunk, self.chunk)).reshape(b, c)
        a_h = self.lfe_height(band_h.transpose(1, 2)).transpose(1, 2)
        a_w = self.lfe_width(band_w.transpose(1, 2)).transpose(1, 2)
        return a_c, a_h, a_w

    def apply(self, x: torch.Tensor, a_c: torch.Tensor, a_h: torch.Tensor, a_w: torch.Tensor) -> torch.Tensor:
        """Eq. 3 for every chunk of the three axes, summed: ``x * (A_c + A_h + A_w)``."""
        h, w = x.shape[2:]
        gate_h = _expand_bands(a_h, self.chunk, h)[..., :, None]  # B x C x H x 1
        gate_w = _expand_bands(a_w, self.chunk, w)[..., None, :]  # B x C x 1 x W
        return x * ((gate_h + a_c[..., None, None]) + gate_w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.apply(x, *self.attention(x))


class DRTM(nn.Module):
    """Eqs. 10-12: fixed-size interpolation, three (1x1 conv, GELU, axis rotation) steps, back, multiply."""

    def __init__(self, channels: int, size: int) -> None:
        super().__init__()
        self.size = size
        self.mix_channels = nn.Conv2d(channels, channels, 1)
        self.mix_height = nn.Conv2d(size, size, 1)
        self.mix_width = nn.Conv2d(size, size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[2:]
        t = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)  # eq. 10
        t = F.gelu(self.mix_channels(t))  # (B, C, H, W): mixes channels
        t = F.gelu(self.mix_height(t.permute(0, 2, 3, 1)))  # (B, H, W, C): mixes rows
        t = F.gelu(self.mix_width(t.permute(0, 2, 3, 1)))  # (B, W, C, H): mixes columns
        t = t.permute(0, 2, 3, 1)  # back to (B, C, H, W)  -- eq. 11
        return F.interpolate(t, size=(height, width), mode="bilinear", align_corners=False) * x  # eq. 12


class FIB(nn.Module):
    """Feature Integration Block, eqs. 13-14."""

    def __init__(self, config: IPLConfig) -> None:
        super().__init__()
        self.daem = DAEM(config.channels, config.chunk)
        self.drtm = DRTM(config.channels, config.drtm_size)

    def finish(self, features: torch.Tensor) -> torch.Tensor:
        return features + self.drtm(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.finish(self.daem(x))


#: The attention weights of one forward pass: per FIB, ``(A_c, A_h, A_w)``.
Attention = list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


class IPL(nn.Module):
    """frames (B x 3N x H x W, darkest first, [0, 1]) -> fused image (B x 3 x H x W)."""

    def __init__(self, config: IPLConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or IPLConfig()
        s = config.scale
        self.down = nn.Sequential(  # 3x3 conv at full resolution, then the sub-pixel rearrangement
            nn.Conv2d(3 * config.n_exposures, config.channels // (s * s), 3, padding=1), nn.PixelUnshuffle(s)
        )
        self.blocks = nn.ModuleList(FIB(config) for _ in range(config.blocks))
        self.up = nn.Sequential(  # the mirror: sub-pixel rearrangement, then a 3x3 conv at full resolution
            nn.PixelShuffle(s), nn.Conv2d(config.channels // (s * s), 3, 3, padding=1)
        )

    def reference(self, frames: torch.Tensor) -> torch.Tensor:
        """The middle exposure (the mean of the two middle ones for an even count)."""
        n = self.config.n_exposures
        lo, hi = (n - 1) // 2, n // 2
        return (frames[:, 3 * lo : 3 * lo + 3] + frames[:, 3 * hi : 3 * hi + 3]) / 2

    def _check(self, frames: torch.Tensor) -> None:
        n, s = self.config.n_exposures, self.config.scale
        if frames.shape[1] != 3 * n:
            raise ValueError(f"IPL built for {n} exposures expects {3 * n} channels, got {frames.shape[1]}")
        if frames.shape[2] % s or frames.shape[3] % s:
            raise ValueError(f"height and width must be multiples of {s}, got {tuple(frames.shape[2:])}")

    def _output(self, frames: torch.Tensor, features: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        return self.up(features + last) * self.reference(frames)

    def forward_with_attention(self, frames: torch.Tensor) -> tuple[torch.Tensor, Attention]:
        """The fused image and every FIB's attention weights (what the attention cache stores)."""
        self._check(frames)
        features = x = self.down(frames)
        attention: Attention = []
        for block in self.blocks:
            weights = block.daem.attention(x)
            attention.append(weights)
            x = block.finish(block.daem.apply(x, *weights))
        return self._output(frames, features, x), attention

    def replay(self, frames: torch.Tensor, attention: Attention) -> torch.Tensor:
        """The network with given attention weights (cache hits) instead of computing them."""
        self._check(frames)
        if len(attention) != len(self.blocks):
            raise ValueError(f"{len(attention)} sets of attention weights for {len(self.blocks)} blocks")
        features = x = self.down(frames)
        for block, weights in zip(self.blocks, attention, strict=True):
            x = block.finish(block.daem.apply(x, *weights))
        return self._output(frames, features, x)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        self._check(frames)
        features = x = self.down(frames)
        for block in self.blocks:
            x = block(x)
        return self._output(frames, features, x)


def complexity(config: IPLConfig | None = None, size: int = 256) -> tuple[int, int]:
    """(parameters, multiply-accumulates of the convolutions and linear layers) at ``size x size``."""
    model = IPL(config)
    macs = 0

    def count(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal macs
        if isinstance(module, nn.Linear):
            macs += output[0].numel() * module.in_features
            return
        assert isinstance(module, nn.Conv2d)
        per_output = (module.in_channels // module.groups) * module.kernel_size[0] * module.kernel_size[1]
        macs += output[0].numel() * per_output

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    with torch.no_grad():
        model(torch.zeros(1, 3 * model.config.n_exposures, size, size))
    for hook in hooks:
        hook.remove()
    return sum(p.numel() for p in model.parameters()), macs
