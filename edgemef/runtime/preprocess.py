"""The one preprocessing of the LUT-distill networks: frames -> 128x128 thumbnails (torch-free).

Training (:mod:`edgemef.train.data`), the PyTorch fusion model, the converters' calibration and parity, and
every runtime use these functions, so the thumbnails a network sees are the same everywhere. The contract
records the method as ``preprocessing.resize`` (:data:`RESIZE_METHOD`).
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType

import numpy as np

#: how the contract names the resize (a device app must match it: halvings by box filter, then area)
RESIZE_METHOD = (
    "halve the uint8 frame (OpenCV INTER_AREA to floor(w/2) x floor(h/2)) while both sides are at least "
    "4 x size, then area (INTER_AREA) to size x size ignoring aspect"
)


@functools.cache
def _area_kernel() -> ModuleType | None:
    """The compiled area-resize kernel (``edgemef/_fastresize.c``), or ``None`` where it was not built."""
    try:
        return importlib.import_module("edgemef._fastresize")
    except ImportError:
        return None


def area_resize(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """OpenCV's ``INTER_AREA`` resize of a uint8 ``H x W x 3`` frame, pixel for pixel.

    Downscales run in the compiled kernel, which does not load OpenCV (16 MiB of a deploy process); an
    upscale, or a machine without the kernel, uses OpenCV itself.
    """
    kernel = _area_kernel()
    fits = (
        frame.dtype == np.uint8
        and frame.shape[2:] == (3,)
        and width <= frame.shape[1]
        and height <= frame.shape[0]
    )
    if kernel is None or not fits:
        import cv2

        return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    out = np.empty((height, width, 3), np.uint8)
    kernel.area_resize(np.ascontiguousarray(frame), out)
    return out


def _thumbnail(frame: np.ndarray, size: int) -> np.ndarray:
    while frame.shape[0] >= 4 * size and frame.shape[1] >= 4 * size:
        frame = area_resize(frame, frame.shape[1] // 2, frame.shape[0] // 2)
    return area_resize(frame, size, size)


def resize_thumbnails(frames: np.ndarray, size: int) -> np.ndarray:
    """``N x H x W x 3`` uint8 -> ``N x size x size x 3`` uint8.

    Large frames are first halved with a 2x2 box filter (OpenCV's fast integer-factor ``INTER_AREA``, like
    a mipmap chain) while both sides stay at least ``4 x size``, then area-resized to ``size``: 3 frames at 4K
    take about 6 ms instead of about 30 ms for one area resize from full size, and the fused images of
    the shipped student differ from that by at most 1 grey level (mean 0.05-0.2 on SICE and a 4K
    bracket). Frames under ``4 x size`` (the training crops) resize in one area step, as before.
    """
    return np.stack([_thumbnail(frame, size) for frame in frames])


def network_input(frames: np.ndarray, size: int) -> np.ndarray:
    """``N x H x W x 3`` uint8 (darkest first) -> ``1 x 3N x size x size`` float32 in [0, 1].

    Channels are R, G, B of the darkest frame, then of the next, and so on. No full-resolution float copy
    is made, so this is cheap at 4K.
    """
    small = resize_thumbnails(frames, size)
    out = np.empty((1, 3 * len(small), size, size), np.float32)  # real strides (a [None] view has 0)
    np.divide(small.transpose(0, 3, 1, 2).reshape(-1, size, size), np.float32(255.0), out=out[0])
    return out
