"""The STHDR network (the paper's Fig. 2-5), in PyTorch.

Input: three frames, darkest first, the middle one the reference, each as ``X_i = concat(I_i, H_i)`` with
``H_i = I_i**2.2 / t_i`` (eq. 1-2; :func:`network_input`). Output: linear HDR in [0, 1] (eq. 3), one image
per scale, finest last (eq. 5 supervises every scale).

Per scale (coarse to fine, every module shared across scales as the paper says, L73 and Table 3):

* **frame features**: a 3x3 convolution + LeakyReLU of each ``X_i`` (6 -> C), shared by the frames;
* **Align Net** (Fig. 3): ``AF_i = SCM_i(F_i, F_ref)`` for the two non-reference frames (two SCMs), then
  ``Z = conv(AF_1, F_ref, AF_3)`` (3C -> C);
* **SCM**, the spatial correct module (Fig. 4): ``X = lrelu(conv(F_i, F_ref))``; ``W = GCB(X)``, per-channel
  weights (the Global Context Block's context, softmax attention pooling, through its bottleneck transform
  and a sigmoid); ``F_i * W``; ``conv(F_ref, F_i * W)`` (2C -> C); a modulated deformable convolution of
  that, its offsets and masks predicted from it and ``F_ref`` (DCNv2, :mod:`edgemef.models.layers.deform`);
  ``lrelu(conv(.)) + F_ref`` (the skip into the reference);
* **Merge Net**, two stages joined by MPRNet's supervised attention module (SAM): stage 1 is a U-Net of
  HINet's half-instance-normalisation blocks on ``(Z, guide)``, where ``guide`` is the coarser scale's
  output upsampled (the reference's ``H`` at the coarsest scale); the SAM makes an HDR image from its
  features (added to the reference's ``H``) and attention-weighted features; stage 2, another such U-Net,
  takes ``(SAM features, Z)``; a 3x3 convolution and a sigmoid give the scale's HDR image.

Where the paper is silent, the choices here (written down in docs/models/sthdr.md): the frames' shared
feature convolution (the SCM's products need C-channel features of each frame), the GCB output used as
channel weights, the deformable offsets predicted from the SCM's features and the reference's, U-Nets of 3
levels doubling the width (HINet's), HIN in the encoder blocks, 3x3 stride-2 convolutions down and 2x2
transposed ones up, one deformable group, offsets bounded to 16 px, the SAM's image added to the reference's
linear frame, average-pooled inputs and bilinearly upsampled outputs between scales, and the coarsest scale
guided by the reference's ``H``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from edgemef.models.layers.deform import DeformableConv2d
from edgemef.models.sthdr.config import FRAMES, GAMMA, SthdrConfig

__all__ = ["Sthdr", "network_input"]


def network_input(frames: Tensor, exposure_times: Tensor) -> Tensor:
    """Eq. 1-2: ``B x 3 x 3 x H x W`` frames in [0, 1] and ``B x 3`` relative exposure times (darkest 1) ->
    ``B x 3 x 6 x H x W`` ``concat(I_i, I_i**2.2 / t_i)``."""
    linear = frames.clamp(0.0, 1.0) ** GAMMA / exposure_times[:, :, None, None, None]
    return torch.cat([frames, linear], dim=2)


class HinBlock(nn.Module):
    """HINet's block: conv 3x3, half instance normalisation (instance norm on half the channels), LeakyReLU,
    conv 3x3, LeakyReLU, plus a 1x1 projection of the input."""

    def __init__(self, in_channels: int, out_channels: int, slope: float, *, half_norm: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.identity = nn.Conv2d(in_channels, out_channels, 1)
        self.norm = nn.InstanceNorm2d(out_channels // 2, affine=True) if half_norm else None
        self.slope = slope

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv1(x)
        if self.norm is not None:
            normed, kept = torch.chunk(out, 2, dim=1)
            out = torch.cat([self.norm(normed), kept], dim=1)
        out = F.leaky_relu(out, self.slope)
        out = F.leaky_relu(self.conv2(out), self.slope)
        return out + self.identity(x)


class HinUnet(nn.Module):
    """A U-Net of :class:`HinBlock` (HIN in the encoder), widths ``C, 2C, 4C, ...``; ``C`` channels out."""

    def __init__(self, in_channels: int, channels: int, levels: int, slope: float) -> None:
        super().__init__()
        widths = [channels * 2**level for level in range(levels)]
        self.head = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.encoders = nn.ModuleList(HinBlock(w, w, slope, half_norm=True) for w in widths)
        self.downs = nn.ModuleList(
            nn.Conv2d(a, b, 3, stride=2, padding=1) for a, b in itertools.pairwise(widths)
        )
        self.ups = nn.ModuleList(nn.ConvTranspose2d(b, a, 2, stride=2) for a, b in itertools.pairwise(widths))
        self.decoders = nn.ModuleList(HinBlock(2 * w, w, slope, half_norm=False) for w in widths[:-1])

    def forward(self, x: Tensor) -> Tensor:
        x = self.head(x)
        skips = []
        for level, encoder in enumerate(self.encoders):
            x = encoder(x)
            if level < len(self.downs):
                skips.append(x)
                x = self.downs[level](x)
        for level in reversed(range(len(self.decoders))):
            x = self.decoders[level](torch.cat([self.ups[level](x), skips[level]], dim=1))
        return x


class SupervisedAttention(nn.Module):
    """MPRNet's SAM: an image from the features (plus ``base``), and the features reweighted by a sigmoid
    attention computed from that image."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.features = nn.Conv2d(channels, channels, 3, padding=1)
        self.to_image = nn.Conv2d(channels, 3, 3, padding=1)
        self.from_image = nn.Conv2d(3, channels, 3, padding=1)

    def forward(self, x: Tensor, base: Tensor) -> tuple[Tensor, Tensor]:
        image = self.to_image(x) + base
        attention = torch.sigmoid(self.from_image(image))
        return self.features(x) * attention + x, image


class GlobalContext(nn.Module):
    """The Global Context Block's context and transform (Cao et al., GCNet): softmax attention pooling over
    the image, a bottleneck 1x1 -> LayerNorm -> ReLU -> 1x1; here ending in a sigmoid, the per-channel weights
    ``W`` of the SCM."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.attention = nn.Conv2d(channels, 1, 1)
        self.squeeze = nn.Conv2d(channels, hidden, 1)
        self.norm = nn.LayerNorm([hidden, 1, 1])
        self.expand = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        batch, channels = x.shape[:2]
        weights = torch.softmax(self.attention(x).reshape(batch, 1, -1), dim=-1)  # B x 1 x HW
        context = torch.matmul(x.reshape(batch, channels, -1), weights.transpose(1, 2))  # B x C x 1
        # the 1x1 convolutions of a 1x1 context, as matrix products: LiteRT's converter fails on a
        # convolution of a 1x1 map fed by a matrix product (tfl.batch_matmul rank); the result is the same
        hidden = F.linear(context.reshape(batch, channels), self.squeeze.weight.flatten(1), self.squeeze.bias)
        norm = self.norm
        hidden = F.layer_norm(hidden, hidden.shape[-1:], norm.weight.flatten(), norm.bias.flatten(), norm.eps)
        weights = F.linear(F.relu(hidden), self.expand.weight.flatten(1), self.expand.bias)
        return torch.sigmoid(weights).reshape(batch, channels, 1, 1)


class SpatialCorrection(nn.Module):
    """The SCM, the spatial correct module (Fig. 4): a non-reference frame's features aligned to the
    reference's."""

    def __init__(self, config: SthdrConfig) -> None:
        super().__init__()
        c = config.channels
        self.slope = config.negative_slope
        self.mix = nn.Conv2d(2 * c, c, 3, padding=1)
        self.context = GlobalContext(c, config.context_reduction)
        self.compress = nn.Conv2d(2 * c, c, 3, padding=1)
        self.deform = DeformableConv2d(
            c,
            c,
            3,
            guide_channels=2 * c,
            deformable_groups=config.deformable_groups,
            max_offset=config.max_offset,
        )
        self.out = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, frame: Tensor, reference: Tensor) -> Tensor:
        mixed = F.leaky_relu(self.mix(torch.cat([frame, reference], dim=1)), self.slope)
        weighted = frame * self.context(mixed)
        compressed = self.compress(torch.cat([reference, weighted], dim=1))
        details = self.deform(compressed, torch.cat([compressed, reference], dim=1))
        return F.leaky_relu(self.out(details), self.slope) + reference


class AlignNet(nn.Module):
    """Fig. 3: two SCMs (under and over frame against the reference) and a compressing convolution."""

    def __init__(self, config: SthdrConfig) -> None:
        super().__init__()
        self.under = SpatialCorrection(config)
        self.over = SpatialCorrection(config)
        self.compress = nn.Conv2d(3 * config.channels, config.channels, 3, padding=1)

    def forward(self, features: Sequence[Tensor]) -> Tensor:
        under, reference, over = features
        aligned = [self.under(under, reference), reference, self.over(over, reference)]
        return self.compress(torch.cat(aligned, dim=1))


class Sthdr(nn.Module):
    """The whole network: ``forward(x)`` with ``x`` from :func:`network_input` (``B x 3 x 6 x H x W``, sides
    divisible by ``config.size_multiple``) -> one ``B x 3 x H_k x W_k`` HDR image in [0, 1] per scale,
    coarsest first (the last is the result)."""

    def __init__(self, config: SthdrConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or SthdrConfig()
        c, slope = config.channels, config.negative_slope
        self.embed = nn.Conv2d(6, c, 3, padding=1)
        self.align = AlignNet(config) if config.align else nn.Conv2d(3 * c, c, 3, padding=1)
        self.stage1 = HinUnet(c + 3, c, config.unet_levels, slope)
        if config.two_stage:
            self.attention = SupervisedAttention(c)
            self.stage2 = HinUnet(2 * c, c, config.unet_levels, slope)
        self.to_hdr = nn.Conv2d(c, 3, 3, padding=1)

    def forward(self, x: Tensor) -> list[Tensor]:
        if x.dim() != 5 or x.shape[1] != FRAMES or x.shape[2] != 6:
            raise ValueError(f"expected B x {FRAMES} x 6 x H x W (network_input), got {tuple(x.shape)}")
        multiple = self.config.size_multiple
        if x.shape[-2] % multiple or x.shape[-1] % multiple:
            raise ValueError(f"the sides must divide by {multiple}, got {tuple(x.shape[-2:])}")
        outputs: list[Tensor] = []
        for scale in reversed(range(self.config.scales)):
            level = x if scale == 0 else _downscale(x, 2**scale)
            reference_hdr = level[:, FRAMES // 2, 3:]
            guide = reference_hdr if not outputs else _upscale_to(outputs[-1], reference_hdr)
            outputs.append(self._scale(level, guide, reference_hdr))
        return outputs

    def _scale(self, x: Tensor, guide: Tensor, reference_hdr: Tensor) -> Tensor:
        batch, frames = x.shape[:2]
        features = F.leaky_relu(self.embed(x.flatten(0, 1)), self.config.negative_slope)
        features = features.reshape(batch, frames, *features.shape[1:])
        if self.config.align:
            merged = self.align(features.unbind(1))
        else:
            merged = self.align(features.flatten(1, 2))
        out = self.stage1(torch.cat([merged, guide], dim=1))
        if self.config.two_stage:
            attended, _ = self.attention(out, reference_hdr)
            out = self.stage2(torch.cat([attended, merged], dim=1))
        return torch.sigmoid(self.to_hdr(out))


def _downscale(x: Tensor, factor: int) -> Tensor:
    batch, frames = x.shape[:2]
    flat = F.avg_pool2d(x.flatten(0, 1), factor)
    return flat.reshape(batch, frames, *flat.shape[1:])


def _upscale_to(image: Tensor, like: Tensor) -> Tensor:
    return F.interpolate(image, size=like.shape[-2:], mode="bilinear", align_corners=False)
