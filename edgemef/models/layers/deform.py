"""Deformable convolution (DCNv2, modulated) written with ops every exporter lowers.

Deformable convolution has no kernel in XNNPACK, LiteRT or CoreML, and torchvision's compiled op does not
export; so it is built here from a plain convolution that predicts the offsets and modulation masks, one
2-D ``F.grid_sample`` (bilinear, zero padding) that fetches every kernel tap of every pixel at once, and a
1x1-style matrix product with the kernel's weights. 2-D ``grid_sample`` lowers to ExecuTorch, LiteRT,
CoreML and ONNX (``shared/DESIGN.md``), but LiteRT lowers it to gathers and selects over the whole sampling
grid (seconds and gigabytes per layer), so :func:`deform_conv2d_gathered` computes the same sampling tap by
tap with row gathers from a channels-last table (``index_select``) and one matrix product per tap; exporters
choose it with ``DeformableConv2d.sampling = "gather"``.

Definition (Zhu et al., DCNv2), for output pixel ``p`` and kernel taps ``p_k`` (a ``K x K`` grid spaced by
``dilation``), with offsets ``dp_k(p)`` and masks ``m_k(p)`` in [0, 1] predicted from the input::

    y(p) = sum_k  w_k . x(p + p_k + dp_k(p)) * m_k(p)  + b

where ``x(q)`` at a fractional ``q`` is the bilinear interpolation of the four neighbours, zero outside the
image. Offsets are in pixels, ``(dy, dx)`` per tap, tap-major (``2k`` is dy and ``2k+1`` dx of tap ``k``, taps
row by row), one set per deformable group of input channels. With zero offsets and masks of 1 this is
exactly ``F.conv2d`` with padding ``dilation * (K - 1) / 2`` (tested).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "SAMPLINGS",
    "DeformableConv2d",
    "deform_conv2d",
    "deform_conv2d_gathered",
    "deform_conv2d_reference",
]

#: how a deformable layer fetches its samples: one ``grid_sample``, or row gathers tap by tap
SAMPLINGS = ("grid_sample", "gather")


def _sampling_grid(offsets: Tensor, kernel: int, dilation: int, height: int, width: int) -> Tensor:
    """``B*G x K*K*H x W x 2`` normalised (x, y) sampling positions for ``grid_sample(align_corners=True)``.

    Args:
        offsets: ``B x G*2*K*K x H x W`` pixel offsets (dy, dx per tap).
    """
    batch = offsets.shape[0]
    taps = kernel * kernel
    groups = offsets.shape[1] // (2 * taps)
    offsets = offsets.reshape(batch * groups, taps, 2, height, width)
    half = (kernel - 1) // 2
    steps = (torch.arange(kernel, dtype=offsets.dtype, device=offsets.device) - half) * dilation
    tap_y = steps.repeat_interleave(kernel).reshape(1, taps, 1, 1)
    tap_x = steps.repeat(kernel).reshape(1, taps, 1, 1)
    rows = torch.arange(height, dtype=offsets.dtype, device=offsets.device).reshape(1, 1, height, 1)
    cols = torch.arange(width, dtype=offsets.dtype, device=offsets.device).reshape(1, 1, 1, width)
    y = rows + tap_y + offsets[:, :, 0]
    x = cols + tap_x + offsets[:, :, 1]
    # align_corners=True: pixel i of n sits at -1 + 2 i / (n - 1); a side of 1 pixel maps to 0
    gx = x * (2.0 / max(width - 1, 1)) - 1.0
    gy = y * (2.0 / max(height - 1, 1)) - 1.0
    return torch.stack([gx, gy], dim=-1).reshape(batch * groups, taps * height, width, 2)


def deform_conv2d(
    x: Tensor,
    offsets: Tensor,
    masks: Tensor | None,
    weight: Tensor,
    bias: Tensor | None,
    dilation: int = 1,
) -> Tensor:
    """The modulated deformable convolution of ``x`` (stride 1, 'same' output size).

    Args:
        x: ``B x C x H x W``.
        offsets: ``B x G*2*K*K x H x W`` (dy, dx per tap, tap-major), ``G`` deformable groups dividing ``C``.
        masks: ``B x G*K*K x H x W`` in [0, 1], or None (all 1: DCNv1).
        weight: ``O x C x K x K``; bias: ``O`` or None.
    """
    batch, channels, height, width = x.shape
    out_channels, _, kernel, _ = weight.shape
    taps = kernel * kernel
    groups = offsets.shape[1] // (2 * taps)
    grid = _sampling_grid(offsets, kernel, dilation, height, width)
    grouped = x.reshape(batch * groups, channels // groups, height, width)
    sampled = F.grid_sample(grouped, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    # B*G x C/G x K*K*H x W -> B*G x C/G x K*K x H*W (rank 4 at most: CoreML takes rank 5 at most)
    sampled = sampled.reshape(batch * groups, channels // groups, taps, height * width)
    if masks is not None:
        sampled = sampled * masks.reshape(batch * groups, 1, taps, height * width)
    columns = sampled.reshape(batch, channels * taps, height * width)  # channel-major, then tap: as weight
    out = torch.matmul(weight.reshape(out_channels, channels * taps), columns)
    out = out.reshape(batch, out_channels, height, width)
    if bias is not None:
        out = out + bias.reshape(1, out_channels, 1, 1)
    return out


def deform_conv2d_gathered(
    x: Tensor,
    offsets: Tensor,
    masks: Tensor | None,
    weight: Tensor,
    bias: Tensor | None,
    dilation: int = 1,
) -> Tensor:
    """:func:`deform_conv2d` computed tap by tap: for each kernel tap, the four bilinear neighbours of every
    pixel are gathered as rows of a ``(B*G*H*W) x C/G`` channels-last table (``index_select``; positions
    outside the image get weight 0), weighted, and multiplied by the tap's ``C x O`` weights. Peak memory is
    one ``H*W x C`` sample per tap instead of the whole ``K*K*H*W x C`` grid; the result is the same."""
    batch, channels, height, width = x.shape
    out_channels, _, kernel, _ = weight.shape
    taps = kernel * kernel
    groups = offsets.shape[1] // (2 * taps)
    per_group = channels // groups
    pixels = height * width
    table = x.reshape(batch, groups, per_group, pixels).permute(0, 1, 3, 2).reshape(-1, per_group)
    first_row = (torch.arange(batch * groups, device=x.device) * pixels).reshape(batch, groups, 1, 1)
    offsets = offsets.reshape(batch, groups, taps, 2, height, width)
    rows = torch.arange(height, dtype=x.dtype, device=x.device).reshape(1, 1, height, 1)
    cols = torch.arange(width, dtype=x.dtype, device=x.device).reshape(1, 1, 1, width)
    half = (kernel - 1) // 2
    out: Tensor | None = None
    for tap in range(taps):
        ky, kx = divmod(tap, kernel)
        y = rows + float((ky - half) * dilation) + offsets[:, :, tap, 0]
        x_ = cols + float((kx - half) * dilation) + offsets[:, :, tap, 1]
        y0, x0 = torch.floor(y), torch.floor(x_)
        fy, fx = y - y0, x_ - x0
        modulation = (
            masks.reshape(batch, groups, taps, height, width)[:, :, tap] if masks is not None else None
        )
        sampled: Tensor | None = None
        for yy, wy in ((y0, 1.0 - fy), (y0 + 1.0, fy)):
            for xx, wx in ((x0, 1.0 - fx), (x0 + 1.0, fx)):
                inside = (yy >= 0) & (yy <= height - 1) & (xx >= 0) & (xx <= width - 1)
                weights = wy * wx * inside.to(x.dtype)
                if modulation is not None:
                    weights = weights * modulation
                index = (yy.clamp(0, height - 1) * width + xx.clamp(0, width - 1)).long() + first_row
                value = torch.index_select(table, 0, index.reshape(-1)) * weights.reshape(-1, 1)
                sampled = value if sampled is None else sampled + value
        assert sampled is not None
        # (B*G*H*W) x C/G -> B x H*W x C, channel g*C/G + c as in the weight
        sampled = sampled.reshape(batch, groups, pixels, per_group).permute(0, 2, 1, 3)
        term = torch.matmul(sampled.reshape(batch, pixels, channels), weight[:, :, ky, kx].t())
        out = term if out is None else out + term
    assert out is not None
    out = out.permute(0, 2, 1).reshape(batch, out_channels, height, width)
    if bias is not None:
        out = out + bias.reshape(1, out_channels, 1, 1)
    return out


def deform_conv2d_reference(
    x: Tensor,
    offsets: Tensor,
    masks: Tensor | None,
    weight: Tensor,
    bias: Tensor | None,
    dilation: int = 1,
) -> Tensor:
    """The definition, one sampling point at a time in float64 (for tests on small inputs only)."""
    x64 = x.double()
    batch, channels, height, width = x.shape
    out_channels, _, kernel, _ = weight.shape
    taps = kernel * kernel
    groups = offsets.shape[1] // (2 * taps)
    per_group = channels // groups
    half = (kernel - 1) // 2

    def pixel(b: int, c: int, y: float, x_: float) -> float:
        y0, x0 = int(torch.floor(torch.tensor(y))), int(torch.floor(torch.tensor(x_)))
        total = 0.0
        for yy, wy in ((y0, 1.0 - (y - y0)), (y0 + 1, y - y0)):
            for xx, wx in ((x0, 1.0 - (x_ - x0)), (x0 + 1, x_ - x0)):
                if 0 <= yy < height and 0 <= xx < width:
                    total += wy * wx * float(x64[b, c, yy, xx])
        return total

    out = torch.zeros(batch, out_channels, height, width, dtype=torch.float64)
    for b in range(batch):
        for i in range(height):
            for j in range(width):
                column = torch.zeros(channels, kernel, kernel, dtype=torch.float64)
                for c in range(channels):
                    g = c // per_group
                    for ky in range(kernel):
                        for kx in range(kernel):
                            k = ky * kernel + kx
                            dy = float(offsets[b, g * 2 * taps + 2 * k, i, j])
                            dx = float(offsets[b, g * 2 * taps + 2 * k + 1, i, j])
                            m = 1.0 if masks is None else float(masks[b, g * taps + k, i, j])
                            y = i + (ky - half) * dilation + dy
                            x_ = j + (kx - half) * dilation + dx
                            column[c, ky, kx] = pixel(b, c, y, x_) * m
                out[b, :, i, j] = (weight.double() * column).sum(dim=(1, 2, 3))
    if bias is not None:
        out += bias.double().reshape(1, -1, 1, 1)
    return out


class DeformableConv2d(nn.Module):
    """A modulated deformable convolution whose offsets and masks come from a side input.

    ``forward(x, guide)``: a ``3 x 3`` convolution of ``guide`` (EDVR's PCD feeds the concatenated features
    of both frames, or the offsets of the level below) predicts ``G*2*K*K`` offsets and ``G*K*K`` masks
    (sigmoid); then the ``K x K`` deformable convolution of ``x``. The offset convolution starts at zero,
    so a new layer starts as a plain convolution. With ``max_offset`` the offsets are soft-clamped to
    +-``max_offset`` pixels (``max_offset * tanh(o / max_offset)``, the identity near 0), so an output pixel
    depends on a bounded neighbourhood of ``x``: ``dilation * (K - 1) / 2 + max_offset`` pixels.
    ``sampling`` (an attribute, not a weight) picks :func:`deform_conv2d` (``"grid_sample"``, the default)
    or :func:`deform_conv2d_gathered` (``"gather"``, for LiteRT exports).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        guide_channels: int | None = None,
        dilation: int = 1,
        deformable_groups: int = 8,
        max_offset: float | None = None,
    ) -> None:
        super().__init__()
        if max_offset is not None and not max_offset > 0.0:
            raise ValueError(f"max_offset must be > 0 (or None: unbounded), got {max_offset}")
        if kernel_size % 2 != 1:
            raise ValueError(f"a deformable kernel has an odd size, got {kernel_size}")
        if in_channels % deformable_groups:
            raise ValueError(f"{deformable_groups} deformable groups do not divide {in_channels} channels")
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.groups = deformable_groups
        self.max_offset = max_offset
        self.sampling = "grid_sample"
        taps = kernel_size * kernel_size
        self.offset_mask = nn.Conv2d(
            guide_channels or in_channels, deformable_groups * 3 * taps, 3, padding=1
        )
        nn.init.zeros_(self.offset_mask.weight)
        nn.init.zeros_(self.offset_mask.bias)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)

    def forward(self, x: Tensor, guide: Tensor) -> Tensor:
        taps = self.kernel_size * self.kernel_size
        predicted = self.offset_mask(guide)
        offsets = predicted[:, : 2 * self.groups * taps]
        if self.max_offset is not None:
            offsets = self.max_offset * torch.tanh(offsets / self.max_offset)
        masks = torch.sigmoid(predicted[:, 2 * self.groups * taps :])
        if self.sampling == "gather":
            return deform_conv2d_gathered(x, offsets, masks, self.weight, self.bias, self.dilation)
        return deform_conv2d(x, offsets, masks, self.weight, self.bias, self.dilation)
