"""The CRMEF fusion network (Section III-A, Fig. 2): scene relighting (SRSM), deformable alignment (DASM, the
misaligned scenario only) and detail repletion (DRM), with its searched layers left to a chooser: the
super-network puts a mixed operation there (:mod:`edgemef.models.crmef.search`), a searched network the
operation its genotype names.

Input ``B x 6 x H x W``: the under-exposed frame's R, G, B, then the over-exposed frame's, sRGB in [0, 1]
(darkest first, as every edgemef network). Output ``B x 3 x H x W``, the fused sRGB image (clamped to
[0, 1] in eval mode).

Readings of the paper, where it is silent (the numbers are the seed file's lines):

- SRSM (L94-102), one stage: 3x3 conv (3 -> C) + LeakyReLU, two searched layers, 3x3 max pooling then 3x3
  average pooling (stride 1, so the map keeps the resolution), one searched layer, 3x3 conv (C -> 3) +
  sigmoid: the illumination map S. Each exposure has its own cascade of ``relight_stages`` stages, each
  stage relighting the previous stage's output; eq. 1 as the config's ``relight`` says.
- Features: one 3x3 conv (3 -> C) + LeakyReLU shared by both relit frames gives F_U and F_0.
- DASM (L104-110), EDVR's PCD: a pyramid of both frames' features (3x3 stride-2 convs, shared), at each level
  from the coarsest an offset feature from both frames (and the coarser level's, upsampled), a searched
  deformable convolution of F_U guided by it, merged with the coarser level's aligned features; then the
  cascading step, one more searched deformable convolution at full resolution guided by (aligned, F_0).
  Eq. 2: ``F_A = A(F_U, F_0) + F_0``: the under-exposed frame is aligned to the over-exposed one, whose
  geometry the output keeps. In the general scenario ``F_A = F_U + F_0``.
- DRM (L112-118): ``repletion_layers`` searched residual layers on F_A give D; eq. 3 ``y = F_A / R(F_A)``
  needs an image over an illumination map, so ``y = conv3x3(D) / max(sigmoid(conv3x3(D)), min_illumination)``
  (both C -> 3).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from edgemef.models.crmef.config import CrmefConfig

__all__ = ["Crmef", "LayerChooser", "receptive_radius", "searched_layers"]

#: builds the module of a searched layer from its name and kind ("relighting", "repletion", "alignment")
LayerChooser = Callable[[str, str], nn.Module]


def _conv(in_channels: int, out_channels: int, slope: float | None, stride: int = 1) -> nn.Module:
    conv = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1)
    return conv if slope is None else nn.Sequential(conv, nn.LeakyReLU(slope))


class Relighting(nn.Module):
    """One SRSM stage: the relit image and its illumination map."""

    def __init__(self, config: CrmefConfig, name: str, choose: LayerChooser) -> None:
        super().__init__()
        c, slope = config.channels, config.negative_slope
        self.config = config
        self.head = _conv(3, c, slope)
        self.first = choose(f"{name}.0", "relighting")
        self.second = choose(f"{name}.1", "relighting")
        self.max_pool = nn.MaxPool2d(3, stride=1, padding=1)
        self.avg_pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.third = choose(f"{name}.2", "relighting")
        self.tail = _conv(c, 3, None)

    def forward(self, image: Tensor) -> tuple[Tensor, Tensor]:
        features = self.second(self.first(self.head(image)))
        features = self.third(self.avg_pool(self.max_pool(features)))
        illumination = torch.sigmoid(self.tail(features))
        if self.config.relight == "retinex":
            return image / illumination.clamp(min=self.config.min_illumination), illumination
        return image * illumination, illumination


class Alignment(nn.Module):
    """DASM: aligns F_U to F_0 (pyramid, cascading, deformable); returns A(F_U, F_0)."""

    def __init__(self, config: CrmefConfig, choose: LayerChooser) -> None:
        super().__init__()
        c, slope = config.channels, config.negative_slope
        levels = config.pyramid_levels
        self.levels = levels
        self.down = nn.ModuleList(_conv(c, c, slope, stride=2) for _ in range(levels - 1))
        self.offset = nn.ModuleList(_conv(2 * c, c, slope) for _ in range(levels))
        self.offset_merge = nn.ModuleList(_conv(2 * c, c, slope) for _ in range(levels - 1))
        self.deform = nn.ModuleList(choose(f"dasm.{level}", "alignment") for level in range(levels))
        self.merge = nn.ModuleList(_conv(2 * c, c, slope) for _ in range(levels - 1))
        self.cascade_offset = _conv(2 * c, c, slope)
        self.cascade = choose("dasm.cascade", "alignment")

    @staticmethod
    def _up(x: Tensor, like: Tensor) -> Tensor:
        return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)

    def forward(self, under: Tensor, over: Tensor) -> Tensor:
        pyramid = [(under, over)]
        for down in self.down:
            u, o = pyramid[-1]
            pyramid.append((down(u), down(o)))
        offset = aligned = None
        for level in reversed(range(self.levels)):
            u, o = pyramid[level]
            feature = self.offset[level](torch.cat([u, o], dim=1))
            if offset is not None:
                feature = self.offset_merge[level](torch.cat([feature, self._up(offset, u)], dim=1))
            current = self.deform[level](u, feature)
            if aligned is not None:
                current = self.merge[level](torch.cat([current, self._up(aligned, u)], dim=1))
            offset, aligned = feature, current
        return self.cascade(aligned, self.cascade_offset(torch.cat([aligned, over], dim=1)))


class Repletion(nn.Module):
    """DRM: searched residual layers, then eq. 3's pixel-wise division by an illumination map."""

    def __init__(self, config: CrmefConfig, choose: LayerChooser) -> None:
        super().__init__()
        c = config.channels
        self.min_illumination = config.min_illumination
        self.layers = nn.Sequential(
            *(choose(f"drm.{i}", "repletion") for i in range(config.repletion_layers))
        )
        self.image = _conv(c, 3, None)
        self.illumination = _conv(c, 3, None)

    def forward(self, fused: Tensor) -> Tensor:
        details = self.layers(fused)
        illumination = torch.sigmoid(self.illumination(details)).clamp(min=self.min_illumination)
        return self.image(details) / illumination


class Crmef(nn.Module):
    """The CRMEF network; ``choose`` builds each searched layer (see the module docstring)."""

    def __init__(self, config: CrmefConfig, choose: LayerChooser) -> None:
        super().__init__()
        self.config = config
        names = ("under", "over")
        self.relight = nn.ModuleDict(
            {
                exposure: nn.ModuleList(
                    Relighting(config, f"srsm.{exposure}.{stage}", choose)
                    for stage in range(config.relight_stages)
                )
                for exposure in names
            }
        )
        self.features = _conv(3, config.channels, config.negative_slope)
        self.align = Alignment(config, choose) if config.misaligned else None
        self.repletion = Repletion(config, choose)

    def forward(self, frames: Tensor) -> Tensor:
        if frames.ndim != 4 or frames.shape[1] != 6:
            raise ValueError(f"CRMEF takes B x 6 x H x W (under RGB, over RGB), got {tuple(frames.shape)}")
        multiple = self.config.size_multiple
        if frames.shape[-1] % multiple or frames.shape[-2] % multiple:
            raise ValueError(f"the misaligned CRMEF needs sides that are multiples of {multiple}")
        relit = []
        for exposure, image in zip(("under", "over"), (frames[:, :3], frames[:, 3:]), strict=True):
            for stage in self.relight[exposure]:
                image, _ = stage(image)
            relit.append(image)
        under, over = self.features(relit[0]), self.features(relit[1])
        fused = (self.align(under, over) if self.align is not None else under) + over
        out = self.repletion(fused)
        return out if self.training else out.clamp(0.0, 1.0)


def searched_layers(config: CrmefConfig) -> dict[str, str]:
    """The searched layers of a configuration, name -> kind, in the network's order."""
    found: dict[str, str] = {}

    def record(name: str, kind: str) -> nn.Module:
        found[name] = kind
        return nn.Identity()

    Crmef(config, record)
    return found


def _spatial_radius(module: nn.Module) -> int:
    """How far (pixels) a chain of the module's convolutions and poolings, run one after another, reaches."""
    radius = 0
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            radius += layer.dilation[0] * (layer.kernel_size[0] - 1) // 2
        elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
            size = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
            radius += (size - 1) // 2
    return radius


def _deform_reach(op: nn.Module, scale: int, guide: float, source: float) -> float:
    """Full-resolution reach of a bounded deformable layer at pyramid scale ``scale``: its offsets come from
    a 3x3 convolution of the guide (reach ``guide``), its taps sample ``source`` (reach ``source``) at most
    ``dilation * (K - 1) / 2 + max_offset`` of that level's pixels away, plus one for the bilinear weights."""
    conv = op.conv
    taps = conv.dilation * (conv.kernel_size - 1) // 2
    return max(scale + guide, (taps + conv.max_offset + 1) * scale + source)


def _alignment_reach(align: Alignment, features: float) -> float:
    """Full-resolution reach of the DASM's output over the relit frames, given the features' reach: a bound
    that follows every path (each convolution one pixel of its level, each resampling one pixel of the
    coarser level)."""
    pyramid = [features]
    for level in range(1, align.levels):
        pyramid.append(pyramid[-1] + 2 * 2 ** (level - 1))  # a 3x3 stride-2 convolution
    offset = aligned = None
    for level in reversed(range(align.levels)):
        scale, coarser = 2**level, 2 ** (level + 1)
        feature = scale + pyramid[level]
        if offset is not None:
            feature = scale + max(feature, coarser + offset)
        current = _deform_reach(align.deform[level], scale, feature, pyramid[level])
        if aligned is not None:
            current = scale + max(current, coarser + aligned)
        offset, aligned = feature, current
    guide = 1 + max(aligned, features)
    return _deform_reach(align.cascade, 1, guide, aligned)


def receptive_radius(model: Crmef) -> int:
    """The receptive field radius of the network, in pixels: an output pixel depends on the inputs at most
    this far away, so tiles with this much context fuse seamlessly. For the misaligned network, a bound
    from its deformable offsets' bound (``CrmefConfig.max_offset``).

    Raises:
        ValueError: for a misaligned network with unbounded offsets (``max_offset`` None).
    """
    relighting = max(sum(_spatial_radius(stage) for stage in stages) for stages in model.relight.values())
    features = relighting + _spatial_radius(model.features)
    if model.align is not None:
        if model.config.max_offset is None:
            raise ValueError("the misaligned CRMEF's deformable offsets are unbounded (max_offset None)")
        features = math.ceil(_alignment_reach(model.align, features))
    repletion = model.repletion
    tail = max(_spatial_radius(repletion.image), _spatial_radius(repletion.illumination))
    return features + _spatial_radius(repletion.layers) + tail
