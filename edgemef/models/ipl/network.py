"""The IPL network (seed ``ipl-uhd``, L59-L159), in PyTorch.

Input: the N exposures (darkest first) concatenated on channels, values in [0, 1]. DownSampler: a 3x3
convolution to ``channels / scale**2`` at full resolution, then the sub-pixel rearrangement (pixel unshuffle
by ``scale``) to ``channels`` (48) features F0 (this order: a 3x3 convolution after the unshuffle alone costs
81 * 48 MACs per input pixel, 255 M at 256x256 for N = 3, four times the paper's whole 66.95 M). Eight Feature
Integration Blocks (eqs. 13-14): ``F_d = DAEM(F)``, ``F_out = F_d + DRTM(F_d)``. The final features
``F0 + F8`` (the paper's "sum of the final features", read as a global residual) go through the UpSampler
(3x3 convolution to ``3 * scale**2``, pixel shuffle) and multiply the middle exposure (eq. in L59; with an
even N, the mean of the two middle ones).

DAEM (L65, eqs. 1-3): the features are sliced into chunks along the channel, width and height axes; a
"cyclic scanner" runs that axis's local feature extractor (LFE) on every chunk in turn; the chunks are put
back in place and the three axes' results are summed. LFE is taken as printed: ``F_m = GAP(x)`` (eq. 1),
``F_w = sigmoid(conv1x1(relu(conv1x1(x))))`` on the chunk at full resolution (eq. 2), ``F_m * F_w`` (eq. 3).
The per-pixel eq. 2 is what makes LFE worth caching (the attention cache stores its outputs per chunk).

DRTM (eqs. 10-12): interpolate (bilinear) to a fixed ``drtm_size`` square, three times (1x1 convolution,
GELU, rotate the channel/height/width axes so the next convolution mixes the next axis), interpolate back,
multiply with the input.

Readings where the paper is silent (the text gives neither; Fig. 2 is not in the text): ``scale`` 2, chunks
of 16 along each axis, no LFE channel reduction, ``drtm_size`` 16, no output activation. :func:`complexity`
counts 0.109 M parameters and 1,566 M MACs at 256x256 for 3 exposures, against the paper's 0.9747 M and
66.95 M: the per-pixel LFE of eq. 2 costs 2 * 48 * 48 MACs per position and axis, and the paper's pair
(~69 positions per parameter) only fits parameters that act on pooled vectors or tiny maps. No reading of
the text found so far reaches both numbers; the next step (training, the cache, UHD tiling) decides.
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
        if self.channels % self.chunk and self.chunk > self.channels:
            raise ValueError(f"chunk {self.chunk} is larger than the {self.channels} channels")


class LFE(nn.Module):
    """Local feature extractor, eqs. 1-3."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 1)
        self.conv2 = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3), keepdim=True)  # eq. 1
        gate = torch.sigmoid(self.conv2(F.relu(self.conv1(x))))  # eq. 2
        return pooled * gate  # eq. 3


class DAEM(nn.Module):
    """Chunks along channel, height and width; each axis's LFE over its chunks; the three results summed."""

    def __init__(self, channels: int, chunk: int) -> None:
        super().__init__()
        self.chunk = chunk
        self.lfe_channel = LFE(min(chunk, channels))
        self.lfe_height = LFE(channels)
        self.lfe_width = LFE(channels)

    def scan(self, x: torch.Tensor, dim: int, lfe: LFE) -> torch.Tensor:
        """The cyclic scanner: LFE on every chunk along ``dim``, chunks back in place."""
        return torch.cat([lfe(part) for part in torch.split(x, self.chunk, dim=dim)], dim=dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] % self.chunk:
            raise ValueError(f"{x.shape[1]} channels do not split into chunks of {self.chunk}")
        return (
            self.scan(x, 1, self.lfe_channel)
            + self.scan(x, 2, self.lfe_height)
            + self.scan(x, 3, self.lfe_width)
        )


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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.daem(x)
        return features + self.drtm(features)


class IPL(nn.Module):
    """frames (B x 3N x H x W, darkest first, [0, 1]) -> fused image (B x 3 x H x W)."""

    def __init__(self, config: IPLConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or IPLConfig()
        s = config.scale
        self.down = nn.Sequential(  # 3x3 conv at full resolution, then the sub-pixel rearrangement
            nn.Conv2d(3 * config.n_exposures, config.channels // (s * s), 3, padding=1), nn.PixelUnshuffle(s)
        )
        self.blocks = nn.Sequential(*(FIB(config) for _ in range(config.blocks)))
        self.up = nn.Sequential(nn.Conv2d(config.channels, 3 * s * s, 3, padding=1), nn.PixelShuffle(s))

    def reference(self, frames: torch.Tensor) -> torch.Tensor:
        """The middle exposure (the mean of the two middle ones for an even count)."""
        n = self.config.n_exposures
        lo, hi = (n - 1) // 2, n // 2
        return (frames[:, 3 * lo : 3 * lo + 3] + frames[:, 3 * hi : 3 * hi + 3]) / 2

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        n, s = self.config.n_exposures, self.config.scale
        if frames.shape[1] != 3 * n:
            raise ValueError(f"IPL built for {n} exposures expects {3 * n} channels, got {frames.shape[1]}")
        if frames.shape[2] % s or frames.shape[3] % s:
            raise ValueError(f"height and width must be multiples of {s}, got {tuple(frames.shape[2:])}")
        features = self.down(frames)
        gain = self.up(features + self.blocks(features))
        return gain * self.reference(frames)


def complexity(config: IPLConfig | None = None, size: int = 256) -> tuple[int, int]:
    """(parameters, multiply-accumulates of the convolutions) at ``size x size``, as papers count them."""
    model = IPL(config)
    macs = 0

    def count(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal macs
        assert isinstance(module, nn.Conv2d)
        per_output = (module.in_channels // module.groups) * module.kernel_size[0] * module.kernel_size[1]
        macs += output[0].numel() * per_output

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(1, 3 * model.config.n_exposures, size, size))
    for hook in hooks:
        hook.remove()
    return sum(p.numel() for p in model.parameters()), macs
