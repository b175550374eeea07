"""Tiled full-resolution inference (edgemef.runtime.tiling): no seams, any size, memory bounded by tiles."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgemef.io import read_bracket
from edgemef.runtime.tiling import plan_axis, run_tiled

COFFEE = Path(__file__).resolve().parents[1] / "examples" / "brackets" / "coffee"


def _mean_then_blur(window: np.ndarray) -> np.ndarray:
    """A stand-in network with a 7x7 receptive field (radius 3): the frames' mean, box-blurred."""
    mean = window.astype(np.float32).mean(axis=0) / 255.0
    return cv2.blur(mean, (7, 7), borderType=cv2.BORDER_REFLECT)


def test_axis_plan_covers_everything_with_the_overlap() -> None:
    plan = plan_axis(1000, 256, 64)
    assert plan.starts == (0, 192, 384, 576, 744) and plan.tile == 256
    assert plan.starts[-1] + plan.tile == 1000
    assert all(b - a <= 256 - 64 for a, b in zip(plan.starts, plan.starts[1:], strict=False))
    assert plan_axis(100, 256, 64).starts == (0,) and plan_axis(100, 256, 64).tile == 100
    with pytest.raises(ValueError, match="larger than the overlap"):
        plan_axis(1000, 64, 64)


@pytest.mark.parametrize(("tile", "overlap", "halo"), [(128, 32, 4), (100, 24, 3), (64, 40, 8)])
def test_tiled_result_equals_the_whole_image_result(tile: int, overlap: int, halo: int) -> None:
    frames = read_bracket(COFFEE).frames  # 600 x 400, not a multiple of any tile
    whole = np.clip(_mean_then_blur(frames) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    tiled = run_tiled(frames, _mean_then_blur, tile=tile, overlap=overlap, halo=halo)
    assert tiled.shape == whole.shape and tiled.dtype == np.uint8
    assert np.abs(tiled.astype(int) - whole.astype(int)).max() <= 1  # float rounding only: no seams


def test_float_output_keeps_values_as_they_are() -> None:
    """Linear HDR tiles: no clipping to [0, 1] and no 8-bit rounding, still seamless."""
    frames = read_bracket(COFFEE).frames

    def bright(window: np.ndarray) -> np.ndarray:
        return _mean_then_blur(window) * 4.0 - 0.5

    tiled = run_tiled(frames, bright, tile=128, overlap=32, halo=4, output_dtype=np.float32)
    assert tiled.dtype == np.float32 and tiled.max() > 1.0 and tiled.min() < 0.0
    assert np.abs(tiled - bright(frames)).max() < 1e-5
    with pytest.raises(ValueError, match="uint8 or float32"):
        run_tiled(frames, bright, tile=128, overlap=32, halo=4, output_dtype=np.float64)


def test_too_small_a_halo_shows_seams() -> None:
    """The check above can fail: with no halo the blur's padded tile borders leak into the result."""
    frames = read_bracket(COFFEE).frames
    whole = np.clip(_mean_then_blur(frames) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    tiled = run_tiled(frames, _mean_then_blur, tile=128, overlap=8, halo=0)
    assert np.abs(tiled.astype(int) - whole.astype(int)).max() > 1


def test_memory_is_bounded_by_the_tiles_not_the_image() -> None:
    frames = np.random.default_rng(0).integers(0, 255, (3, 2160, 3840, 3), dtype=np.uint8)
    tracemalloc.start()
    run_tiled(frames, _mean_then_blur, tile=256, overlap=32)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    output_bytes = 2160 * 3840 * 3
    whole_float_accumulator = 2160 * 3840 * 4 * 4  # what an image-sized float32 accumulator would take
    assert peak < output_bytes + 40e6 < whole_float_accumulator, peak / 1e6


def test_bad_settings_and_bad_networks() -> None:
    frames = np.zeros((2, 64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="twice the halo"):
        run_tiled(frames, _mean_then_blur, tile=32, overlap=8, halo=4)
    with pytest.raises(ValueError, match="returned"):
        run_tiled(frames, lambda w: np.zeros((3, 3, 3), np.float32), tile=32, overlap=8)
