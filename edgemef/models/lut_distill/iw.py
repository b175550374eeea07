"""IW (image weighting, eq. 3) and the thumbnails every LUT-distill network sees.

Thumbnails: each frame is resized to ``size x size`` (128) with an exact box (area) filter and the frames are
stacked on channels darkest first: ``B x N x 3 x H x W -> B x 3N x 128 x 128``, channels
``[R0, G0, B0, R1, G1, B1, ...]``. The filter is OpenCV's ``INTER_AREA`` written in torch, so the deploy side
(no torch) produces the same thumbnails with::

    thumb = cv2.resize(frame_float32_rgb, (128, 128), interpolation=cv2.INTER_AREA)

on float32 RGB frames in [0, 1] (agreement to about 1e-6; see the tests). Resizing uint8 frames instead
rounds the thumbnail to 1/255 steps (error <= 0.5/255): harmless, but not bit-identical.

Why not ``F.interpolate(mode="area")``: that is adaptive average pooling over whole pixels, equal to
INTER_AREA only when the size divides evenly; for other sizes (4032 -> 128, 1080 -> 128) it averages
overlapping integer windows and differs from OpenCV by up to a few 1e-2 on edges. The box filter here weighs
partial pixels by their covered fraction, as INTER_AREA does, both when shrinking and when enlarging
(INTER_AREA's enlarging rule is the same area overlap). OpenCV uses another rule when one axis shrinks and
the other grows (e.g. a 100 x 300 frame); only that rare case differs.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from edgemef.errors import BracketError
from edgemef.models.lut_distill.config import IWConfig


def _box_taps(in_size: int, out_size: int, device: torch.device | None) -> tuple[Tensor, Tensor]:
    """Indices and weights ``(out_size, K)`` of the exact area filter from ``in_size`` to ``out_size`` pixels.

    Output pixel ``j`` covers the input interval ``[j s, (j + 1) s)`` with ``s = in_size / out_size``; input
    pixel ``i`` (interval ``[i, i + 1)``) gets the weight of its overlap divided by ``s``.
    """
    scale = in_size / out_size
    j = torch.arange(out_size, dtype=torch.float64)
    start, stop = j * scale, (j + 1) * scale
    first = torch.floor(start)
    taps = int(torch.max(torch.ceil(stop - 1e-9) - first).item())
    index = first[:, None] + torch.arange(taps, dtype=torch.float64)[None, :]
    overlap = torch.minimum(index + 1, stop[:, None]) - torch.maximum(index, start[:, None])
    weight = torch.clamp(overlap, min=0.0) / scale
    weight = weight / weight.sum(dim=1, keepdim=True)
    index = index.clamp(max=in_size - 1).to(torch.int64)
    return index.to(device), weight.to(device)


def area_resize(images: Tensor, height: int, width: int) -> Tensor:
    """Resize the last two axes of ``images`` with the exact area (box) filter of OpenCV's ``INTER_AREA``.

    Args:
        images: ``... x H x W`` float tensor.
        height, width: the output size.

    Returns:
        ``... x height x width`` in the input's dtype. Not meant to be differentiated or exported (it prepares
        inputs; the deploy side uses ``cv2.resize(..., interpolation=cv2.INTER_AREA)``).
    """
    if images.dim() < 2 or height < 1 or width < 1:
        raise ValueError(f"cannot area-resize a tensor of shape {tuple(images.shape)} to {height} x {width}")
    out = images
    for axis, size in ((-1, width), (-2, height)):
        in_size = int(out.shape[axis])
        if in_size == size:
            continue
        index, weight = _box_taps(in_size, size, out.device)
        moved = torch.movedim(out, axis, -1)
        gathered = moved[..., index]  # ... x size x taps
        out = torch.movedim((gathered * weight.to(out.dtype)).sum(dim=-1), -1, axis)
    return out


def thumbnails(frames: Tensor, size: int = 128) -> Tensor:
    """Thumbnails of a bracket, stacked on channels darkest exposure first (the input of IW, WP and the INN).

    Args:
        frames: ``B x N x 3 x H x W``, RGB, sRGB-encoded values in [0, 1], ordered darkest to brightest.
        size: thumbnail side (128 in the paper); the aspect ratio is not kept (as in the paper).

    Returns:
        ``B x 3N x size x size`` float32, channels ``[R0, G0, B0, R1, ...]`` (frame 0 = darkest).
    """
    if frames.dim() != 5 or frames.shape[2] != 3:
        raise ValueError(f"frames must be B x N x 3 x H x W, got {tuple(frames.shape)}")
    batch, n_frames = int(frames.shape[0]), int(frames.shape[1])
    small = area_resize(frames.to(torch.float32), size, size)
    return small.reshape(batch, 3 * n_frames, size, size)


def check_thumbnails(thumbs: Tensor, n_exposures: int, size: int) -> None:
    """Refuse thumbnails that are not ``B x 3N x size x size`` for this model's ``N``."""
    if thumbs.dim() != 4 or thumbs.shape[2] != size or thumbs.shape[3] != size:
        raise ValueError(f"thumbnails must be B x 3N x {size} x {size}, got {tuple(thumbs.shape)}")
    if thumbs.shape[1] != 3 * n_exposures:
        raise BracketError(
            f"this model fuses {n_exposures} exposures (thumbnails with {3 * n_exposures} channels), "
            f"got {thumbs.shape[1]} channels ({thumbs.shape[1] / 3:g} exposures)"
        )


class ImageWeighting(nn.Module):
    """IW: global fusion weights of the exposures from their thumbnails (eq. 3, ``I_f = sum_k w_k I_k``).

    Layers (defaults): conv3x3(3N->16, stride 2) ReLU, conv3x3(16->32, s2) ReLU, conv3x3(32->64, s2) ReLU,
    global average pool, linear(64->64) ReLU, linear(64->N), softmax over the exposures. The last linear layer
    starts near zero, so an untrained IW averages the exposures (weights ~ 1/N).
    """

    def __init__(self, n_exposures: int, config: IWConfig | None = None) -> None:
        super().__init__()
        config = config or IWConfig()
        self.n_exposures = n_exposures
        layers: list[nn.Module] = []
        channels = 3 * n_exposures
        for width in config.conv_widths:
            layers += [nn.Conv2d(channels, width, 3, stride=config.conv_stride, padding=1), nn.ReLU()]
            channels = width
        self.features = nn.Sequential(*layers)
        self.mlp = nn.Sequential(
            nn.Linear(channels, config.mlp_hidden), nn.ReLU(), nn.Linear(config.mlp_hidden, n_exposures)
        )
        last = self.mlp[-1]
        nn.init.normal_(last.weight, std=1e-2)
        nn.init.zeros_(last.bias)

    def forward(self, thumbs: Tensor) -> Tensor:
        """Fusion weights.

        Args:
            thumbs: ``B x 3N x h x w`` thumbnails (see :func:`thumbnails`), sRGB values in [0, 1].

        Returns:
            ``B x N`` weights, non-negative, summing to 1 over the exposures (softmax).
        """
        if thumbs.dim() != 4 or thumbs.shape[1] != 3 * self.n_exposures:
            raise BracketError(
                f"IW expects B x {3 * self.n_exposures} x h x w thumbnails, got {tuple(thumbs.shape)}"
            )
        pooled = self.features(thumbs).mean(dim=(2, 3), keepdim=True).flatten(1)  # keepdim: XNNPACK takes it
        return torch.softmax(self.mlp(pooled), dim=1)
