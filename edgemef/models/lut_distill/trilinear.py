"""3D LUT operations in exportable torch: the canonical layout, trilinear lookup, lattice resampling.

Canonical LUT layout (shared with the torch-free numpy applier in :mod:`edgemef.lut`)
--------------------------------------------------------------------------------------
A LUT of size ``S`` is a float tensor ``(S, S, S, 3)`` per image (``B x S x S x S x 3`` batched), indexed
``lut[b, g, r, c]``:

- axis 0 is the **blue** input index, axis 1 **green**, axis 2 **red** (red varies fastest in memory, as in
  iOS ``CIColorCube`` data and a GL/Metal 3D texture whose x axis is red);
- the last axis is the output colour **(R, G, B)**, sRGB-encoded values in [0, 1];
- an input value ``v`` in [0, 1] maps to the grid coordinate ``v * (S - 1)`` (the ``align_corners=True``
  convention: the first and last lattice points sit exactly on 0 and 1); values between lattice points are
  trilinearly interpolated from the 8 neighbours;
- the identity LUT is ``lut[b, g, r] = (r, g, b) / (S - 1)``.

Everything here is written with gathers, matmuls and lerps, never with 5-D ``F.grid_sample`` (which exports to
ONNX only; ExecuTorch, CoreML and LiteRT reject it), and is differentiable with respect to the LUT, the fusion
weights and the images, so the same code trains the models and exports with them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def check_lut(lut: Tensor) -> int:
    """Check that ``lut`` is a batched canonical LUT ``B x S x S x S x 3`` (S >= 2) and return ``S``."""
    _check(
        lut.dim() == 5 and lut.shape[1] == lut.shape[2] == lut.shape[3] and lut.shape[4] == 3,
        f"a LUT must be B x S x S x S x 3 (axes blue, green, red, output RGB), got {tuple(lut.shape)}",
    )
    size = int(lut.shape[1])
    _check(size >= 2, f"a LUT needs at least 2 lattice points per axis, got {size}")
    return size


def lattice_values(
    size: int, *, dtype: torch.dtype = torch.float32, device: torch.device | None = None
) -> Tensor:
    """Input values of the ``size`` lattice points along one axis: ``i / (size - 1)``, shape ``(size,)``."""
    _check(size >= 2, f"a lattice needs at least 2 points per axis, got {size}")
    return torch.arange(size, dtype=dtype, device=device) / (size - 1)


def identity_lut(
    size: int, *, dtype: torch.dtype = torch.float32, device: torch.device | None = None
) -> Tensor:
    """The identity LUT ``(S, S, S, 3)`` in the canonical layout: ``lut[b, g, r] = (r, g, b) / (S - 1)``.

    The same tensor is the table of lattice coordinates: entry ``[b, g, r]`` holds the (R, G, B) input colour
    of that lattice point.
    """
    v = lattice_values(size, dtype=dtype, device=device)
    blue = v.view(size, 1, 1).expand(size, size, size)
    green = v.view(1, size, 1).expand(size, size, size)
    red = v.view(1, 1, size).expand(size, size, size)
    return torch.stack([red, green, blue], dim=-1)


def interpolation_matrix(
    in_size: int, out_size: int, *, dtype: torch.dtype = torch.float32, device: torch.device | None = None
) -> Tensor:
    """Linear interpolation from ``in_size`` lattice points to ``out_size`` lattice points on [0, 1].

    Returns ``M`` of shape ``(out_size, in_size)`` with ``M[j, i] = max(0, 1 - |x_j - i|)``, where
    ``x_j = j (in_size - 1) / (out_size - 1)`` is output point ``j`` in input grid units (align_corners=True).
    Each row holds the two lerp weights of one output point, so ``M @ values`` is piecewise-linear resampling.
    """
    _check(in_size >= 2 and out_size >= 2, f"lattices need >= 2 points, got {in_size} -> {out_size}")
    # Built in ``dtype`` (float64 would put float64 ops into exported graphs, which LiteRT rejects); the
    # product j (in_size - 1) is an exact integer, so x_j is correctly rounded.
    x = torch.arange(out_size, dtype=dtype, device=device) * (in_size - 1) / (out_size - 1)
    i = torch.arange(in_size, dtype=dtype, device=device)
    return torch.clamp(1.0 - (x[:, None] - i[None, :]).abs(), min=0.0)


def resample_lattice(volume: Tensor, size: int, *, channels_last: bool = True) -> Tensor:
    """Trilinearly resample a cubic lattice volume to ``size`` points per axis (align_corners=True).

    Separable: one small matmul per axis with :func:`interpolation_matrix`. At lattice points this is exactly
    trilinear sampling (what 5-D ``grid_sample(..., align_corners=True)`` would give), but it lowers to plain
    matmuls on every export target.

    Args:
        volume: ``B x D x D x D x C`` (``channels_last=True``, e.g. a LUT) or ``B x C x D x D x D``; the three
            lattice axes are (blue, green, red) as in the canonical LUT layout.
        size: points per axis of the result (>= 2).

    Returns:
        The resampled volume in the same layout with ``D`` replaced by ``size``.
    """
    lattice_dims = (1, 2, 3) if channels_last else (2, 3, 4)
    _check(
        volume.dim() == 5 and len({volume.shape[d] for d in lattice_dims}) == 1,
        f"expected a cubic 5-D lattice volume, got {tuple(volume.shape)}",
    )
    in_size = int(volume.shape[lattice_dims[0]])
    if in_size == size:
        return volume
    m = interpolation_matrix(in_size, size, dtype=volume.dtype, device=volume.device)
    out = volume
    for dim in lattice_dims:
        moved = torch.movedim(out, dim, -1)
        # 2-D matmuls: an N-D @ 2-D matmul lowers to a batched matmul with broadcast copies on ExecuTorch
        flat = moved.reshape(-1, in_size) @ m.t()
        out = torch.movedim(flat.reshape(*moved.shape[:-1], size), -1, dim)
    return out


def trilinear_sample(volume: Tensor, rgb: Tensor) -> Tensor:
    """Trilinear lookup of points in a lattice volume: the core of :func:`apply_lut`.

    Args:
        volume: ``B x S x S x S x C`` in the canonical layout (axes blue, green, red; ``C`` values per point;
            a LUT has ``C = 3``).
        rgb: ``B x P x 3`` query points, (R, G, B) in [0, 1] (values outside are clamped).

    Returns:
        ``B x P x C``: the trilinearly interpolated values.
    """
    _check(
        volume.dim() == 5 and volume.shape[1] == volume.shape[2] == volume.shape[3],
        f"expected a B x S x S x S x C volume, got {tuple(volume.shape)}",
    )
    _check(
        rgb.dim() == 3 and rgb.shape[2] == 3 and rgb.shape[0] == volume.shape[0],
        f"expected B x P x 3 query colours with B={volume.shape[0]}, got {tuple(rgb.shape)}",
    )
    batch, size, channels = int(volume.shape[0]), int(volume.shape[1]), int(volume.shape[4])
    _check(size >= 2, f"a lattice needs at least 2 points per axis, got {size}")
    points = int(rgb.shape[1])
    x = rgb.clamp(0.0, 1.0) * (size - 1)
    # Lower corner index; the top value 1.0 uses cell S-2 with fraction 1 so the +1 neighbour stays in range.
    x0 = torch.clamp(torch.floor(x), max=size - 2)
    frac = x - x0
    i0 = x0.to(torch.int64)
    base = (i0[..., 2] * size + i0[..., 1]) * size + i0[..., 0]  # flat index of (b0, g0, r0)
    # The 8 corners in the order (db, dg, dr) = 000, 001, 010, 011, 100, 101, 110, 111: red fastest.
    offsets = torch.tensor(
        [db * size * size + dg * size + dr for db in (0, 1) for dg in (0, 1) for dr in (0, 1)],
        dtype=torch.int64,
        device=rgb.device,
    )
    index = (base[:, :, None] + offsets).reshape(batch, points * 8, 1).expand(batch, points * 8, channels)
    flat = volume.reshape(batch, size * size * size, channels)
    # Tensors stay at rank <= 5 (CoreML's limit): corners are B x P x (b, g) x r x C.
    corners = torch.gather(flat, 1, index).reshape(batch, points, 4, 2, channels)
    fr = frac[..., 0, None, None]
    fg = frac[..., 1, None, None]
    fb = frac[..., 2, None]
    along_r = corners[:, :, :, 0] + fr * (corners[:, :, :, 1] - corners[:, :, :, 0])  # B x P x 4 x C
    along_r = along_r.reshape(batch, points, 2, 2, channels)  # B x P x b x g x C
    along_g = along_r[:, :, :, 0] + fg * (along_r[:, :, :, 1] - along_r[:, :, :, 0])  # B x P x 2 x C
    return along_g[:, :, 0] + fb * (along_g[:, :, 1] - along_g[:, :, 0])


def apply_lut(images: Tensor, lut: Tensor) -> Tensor:
    """Map every pixel of ``images`` through its image's 3D LUT (trilinear interpolation).

    Args:
        images: ``B x 3 x H x W``, RGB, sRGB-encoded values in [0, 1] (clamped).
        lut: ``B x S x S x S x 3`` in the canonical layout (module docstring).

    Returns:
        ``B x 3 x H x W``: the mapped images, in the LUT's output range (no clamping here).
    """
    check_lut(lut)
    _check(
        images.dim() == 4 and images.shape[1] == 3 and images.shape[0] == lut.shape[0],
        f"images must be B x 3 x H x W with B={lut.shape[0]} like the LUT, got {tuple(images.shape)}",
    )
    batch, _, height, width = (int(s) for s in images.shape)
    rgb = images.permute(0, 2, 3, 1).reshape(batch, height * width, 3)
    mapped = trilinear_sample(lut, rgb)
    return mapped.reshape(batch, height, width, 3).permute(0, 3, 1, 2)


def fuse_frames(frames: Tensor, weights: Tensor) -> Tensor:
    """Eq. 3 of the paper: ``I_f = sum_k w_k I_k`` with one global scalar weight per exposure, or with a
    weight map per exposure (spatially adaptive fusion).

    Args:
        frames: ``B x N x 3 x H x W``, sRGB-encoded values in [0, 1], darkest exposure first.
        weights: ``B x N`` (softmax outputs of the IW network: non-negative, summing to 1), or weight maps
            ``B x N x Gh x Gw``, upsampled bilinearly with half-pixel centres and clamp-to-edge
            (``align_corners=False``: the sampling of :func:`edgemef.lut.weight_map_sampling`).

    Returns:
        ``B x 3 x H x W``: the weighted sum (in [0, 1] when the weights are a convex combination).
    """
    _check(
        frames.dim() == 5 and frames.shape[2] == 3,
        f"frames must be B x N x 3 x H x W, got {tuple(frames.shape)}",
    )
    if weights.dim() == 4:
        _check(
            weights.shape[:2] == frames.shape[:2],
            f"weight maps must be B x N x Gh x Gw with B x N = {tuple(frames.shape[:2])}, "
            f"got {tuple(weights.shape)}",
        )
        maps = F.interpolate(weights, size=frames.shape[-2:], mode="bilinear", align_corners=False)
        return (maps[:, :, None] * frames).sum(dim=1)
    _check(
        weights.shape == frames.shape[:2],
        f"weights must be B x N = {tuple(frames.shape[:2])}, got {tuple(weights.shape)}",
    )
    return (weights[:, :, None, None, None] * frames).sum(dim=1)


def fuse_and_apply(frames: Tensor, weights: Tensor, lut: Tensor) -> Tensor:
    """Eqs. 3-5 of the paper: fuse the exposures with global weights, then map the result through the LUT.

    Args:
        frames: ``B x N x 3 x H x W``, sRGB-encoded values in [0, 1], darkest exposure first, full resolution.
        weights: ``B x N`` fusion weights (IW output), or weight maps ``B x N x Gh x Gw``
            (:func:`fuse_frames`).
        lut: ``B x S x S x S x 3`` canonical LUT.

    Returns:
        ``I_E = V (trilinear) I_f``: ``B x 3 x H x W``, sRGB-encoded, nominally in [0, 1].
    """
    return apply_lut(fuse_frames(frames, weights), lut)
