"""Run a per-tile network over a full-resolution bracket with overlapping tiles and no seams (torch-free).

For IPL's UHD inference (and any fully convolutional model): the network sees ``tile x tile`` windows of the
N frames; neighbouring windows share ``overlap`` pixels. At an inner tile edge the first ``halo`` pixels are
discarded (a convolution's border there saw padding, not the neighbour), and across the rest of the shared
strip the two tiles' results are cross-faded with linear ramps whose weights sum to one. At the image border
a tile's edge is the image's edge, so nothing is discarded. With ``halo`` at least the network's receptive
field radius, the tiled result equals the whole-image result (tested with a blur).

Memory: the frames and the output (uint8, or float32 for linear HDR) are image-sized (they are the input
and the answer); everything else is bounded by the tiles, not the image: the float accumulator holds one
band of tile rows (``tile x width``), finished rows are written out as the band moves down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TilePlan:
    """Where the tiles of one axis start; every tile is ``tile`` long (or the whole axis if shorter)."""

    starts: tuple[int, ...]
    tile: int
    length: int


def plan_axis(length: int, tile: int, overlap: int) -> TilePlan:
    """Tile starts along an axis: ``tile - overlap`` apart, the last one flush with the end."""
    if tile <= overlap:
        raise ValueError(f"the tile ({tile}) must be larger than the overlap ({overlap})")
    if length <= tile:
        return TilePlan((0,), length, length)
    stride = tile - overlap
    starts = [*range(0, length - tile, stride), length - tile]
    return TilePlan(tuple(dict.fromkeys(starts)), tile, length)


def _ramp(size: int, overlap: int, halo: int, leading: bool, trailing: bool) -> np.ndarray:
    """Weights along one tile axis: 0 on discarded halos, linear cross-fades, 1 elsewhere."""
    weights = np.ones(size, np.float32)
    fade = max(overlap - 2 * halo, 1)
    edge = np.clip((np.arange(overlap, dtype=np.float32) - halo + 0.5) / fade, 0.0, 1.0)
    if leading:
        weights[:overlap] = np.minimum(weights[:overlap], edge)
    if trailing:
        weights[size - overlap :] = np.minimum(weights[size - overlap :], edge[::-1])
    return weights


def run_tiled(
    frames: np.ndarray,
    network: Callable[[np.ndarray], np.ndarray],
    tile: int = 512,
    overlap: int = 64,
    halo: int | None = None,
    output_dtype: type = np.uint8,
) -> np.ndarray:
    """``network`` over ``frames`` (N x H x W x 3 uint8) tile by tile; returns its H x W x C output as
    ``output_dtype``: uint8 (the [0, 1] results scaled to 0..255) or float32 (the results as they are).

    ``network`` takes an N x h x w x 3 uint8 window and returns an h x w x C float array (in [0, 1] for
    uint8).
    ``halo`` (default ``overlap // 4``) pixels are discarded at inner tile edges; it must leave room to fade
    (``overlap > 2 * halo``).
    """
    halo = overlap // 4 if halo is None else halo
    if output_dtype not in (np.uint8, np.float32):
        raise ValueError(f"output_dtype must be uint8 or float32, got {output_dtype}")
    if overlap <= 2 * halo:
        raise ValueError(f"overlap {overlap} must exceed twice the halo {halo}")
    _, height, width, _ = frames.shape
    rows, cols = plan_axis(height, tile, overlap), plan_axis(width, tile, overlap)
    output: np.ndarray | None = None
    band_top, band = 0, None  # float accumulator (and weight sum) of the rows not yet final
    for r, y0 in enumerate(rows.starts):
        y1 = y0 + rows.tile
        wy = _ramp(rows.tile, overlap, halo, leading=r > 0, trailing=r < len(rows.starts) - 1)
        for c, x0 in enumerate(cols.starts):
            x1 = x0 + cols.tile
            result = np.asarray(network(frames[:, y0:y1, x0:x1]), dtype=np.float32)
            if result.shape[:2] != (y1 - y0, x1 - x0):
                raise ValueError(f"the network returned {result.shape[:2]} for a {(y1 - y0, x1 - x0)} tile")
            if output is None:
                output = np.empty((height, width, result.shape[2]), output_dtype)
            if band is None:
                band = np.zeros((rows.tile, width, result.shape[2] + 1), np.float32)
            wx = _ramp(cols.tile, overlap, halo, leading=c > 0, trailing=c < len(cols.starts) - 1)
            weight = wy[:, None, None] * wx[None, :, None]
            target = band[y0 - band_top : y1 - band_top, x0:x1]
            target[..., :-1] += result * weight
            target[..., -1:] += weight
        next_top = rows.starts[r + 1] if r + 1 < len(rows.starts) else height
        assert output is not None and band is not None
        _finish(band[: next_top - band_top], output[band_top:next_top])
        kept = band[next_top - band_top :].copy()  # the rows the next tile row adds to
        band[: len(kept)] = kept
        band[len(kept) :] = 0.0
        band_top = next_top
    assert output is not None
    return output


def _finish(accumulated: np.ndarray, out: np.ndarray) -> None:
    """Weighted sums / weight sums -> ``out`` (uint8 or float32), in place in the (finished) accumulator
    rows."""
    values = accumulated[..., :-1]
    values /= np.maximum(accumulated[..., -1:], 1e-12)
    if out.dtype == np.float32:
        out[...] = values
        return
    np.clip(values, 0.0, 1.0, out=values)
    values *= 255.0
    values += 0.5
    out[...] = values.astype(np.uint8)
