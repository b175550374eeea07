"""STHDR's artifact runtime (torch-free): its exported tile graph in its runtime, over 3-frame brackets of any
size, returning linear radiance.

The graph takes one tile of the network input ``X`` (eq. 1-2 of the paper: per frame ``I`` and
``I**2.2 / t``, 18 channels) and returns the finest scale's linear HDR tile. This module builds that input
from uint8 frames and the exposure times (a 256-entry table for ``I**2.2``) and runs the graph over
overlapping tiles (:func:`~edgemef.runtime.tiling.run_tiled`, float32 output). The network's instance
normalisation and global context see one tile, not the image, so tiles are not exactly the whole frame:
docs/models/sthdr.md measures the seam error of the default tiling against whole-frame PyTorch.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edgemef.errors import ArtifactError, BracketError
from edgemef.io.bracket import check_bracket_array, relative_times
from edgemef.models.sthdr.config import FRAMES, GAMMA
from edgemef.runtime.backends import Backend, open_backend
from edgemef.runtime.cached_tiler import TilingSettings, check_tiled_contract, pad_to
from edgemef.runtime.contract import Contract, read_contract
from edgemef.runtime.tiling import run_tiled

__all__ = ["SthdrArtifactFusion", "fuse_tiled", "network_input", "sthdr_tiling"]

#: channels of the network input: per frame R, G, B of ``I`` then of ``I**2.2 / t``
CHANNELS = 6 * FRAMES
#: uint8 code value -> ``(v / 255) ** 2.2`` (eq. 1's inverse camera response)
LINEAR = ((np.arange(256, dtype=np.float64) / 255.0) ** GAMMA).astype(np.float32)
#: exposure times of an operator profile's example input (EV -2, 0, +2)
EXAMPLE_TIMES = (1.0, 4.0, 16.0)


def sthdr_tiling(tile: int, size_multiple: int) -> TilingSettings:
    """The tiling of ``tile``-pixel tiles: they overlap by a quarter of the tile, of which a quarter is
    discarded at inner edges and the rest cross-faded (the measured trade-off, docs/models/sthdr.md)."""
    overlap = tile // 4
    return TilingSettings(tile=tile, overlap=overlap, halo=overlap // 4, scale=size_multiple)


def network_input(window: np.ndarray, times: np.ndarray) -> np.ndarray:
    """uint8 frames ``3 x T x T x 3`` (darkest first) and their exposure times relative to the darkest ->
    the graph's ``1 x 18 x T x T`` float32 input: per frame ``I = v / 255`` and ``I**2.2 / t``."""
    _, height, width, _ = window.shape
    x = np.empty((1, 6 * len(window), height, width), np.float32)
    for index, frame in enumerate(window):
        chw = frame.transpose(2, 0, 1)
        np.multiply(chw, np.float32(1.0 / 255.0), out=x[0, 6 * index : 6 * index + 3])
        np.multiply(LINEAR[chw], np.float32(1.0 / times[index]), out=x[0, 6 * index + 3 : 6 * index + 6])
    return x


def fuse_tiled(
    graph: Backend, settings: TilingSettings, frames: np.ndarray, times: np.ndarray
) -> tuple[np.ndarray, float]:
    """Radiance (``H x W x 3`` float32 in [0, 1]) of uint8 ``frames`` with relative exposure ``times``
    through ``graph`` (the exported tile graph, or PyTorch in the converter's parity check) tile by tile,
    and the milliseconds the graph took."""
    height, width = frames.shape[1:3]
    t, network_ms = settings.tile, 0.0
    padded = pad_to(
        frames, -(-height // settings.scale) * settings.scale, -(-width // settings.scale) * settings.scale
    )

    def tile(window: np.ndarray) -> np.ndarray:
        nonlocal network_ms
        h, w = window.shape[1:3]
        x = network_input(pad_to(window, max(h, t), max(w, t)), times)
        started = time.perf_counter()
        image = np.asarray(graph.run(x)["image"], np.float32)[0]
        network_ms += (time.perf_counter() - started) * 1000.0
        return image.transpose(1, 2, 0)[:h, :w]

    radiance = run_tiled(padded, tile, t, settings.overlap, settings.halo, output_dtype=np.float32)
    return np.ascontiguousarray(np.clip(radiance[:height, :width], 0.0, 1.0)), network_ms


class SthdrArtifactFusion:
    """An exported STHDR tile graph and its contract behind the scene-linear fusion interface
    (``fuse(frames, exposure_times)``).

    Example:
        >>> fusion = SthdrArtifactFusion("dist/rpi/sthdr-fp32-t512.tflite")            # doctest: +SKIP
        >>> radiance = fusion.fuse(frames, exposure_times=[1 / 200, 1 / 50, 1 / 12])  # doctest: +SKIP
    """

    def __init__(self, artifact: str | Path, threads: int | None = None) -> None:
        self.artifact = Path(artifact)
        self.contract: Contract = read_contract(self.artifact)
        if self.contract.family != "sthdr":
            raise ArtifactError(f"{self.artifact}: a {self.contract.family} model, not STHDR")
        self.tiling = check_tiled_contract(
            self.contract, self.artifact, ("image",), CHANNELS, "an STHDR tile graph"
        )
        self.graph = open_backend(self.artifact, self.contract, threads)
        self.settings = f"tiles {self.tiling.tile}"
        self.name = f"{self.contract.model} ({self.contract.backend} {self.contract.precision})"
        self.last_predict_ms = float("nan")  # the tile graph's time in the last fusion

    @property
    def n_exposures(self) -> int:
        return FRAMES

    def warm_up(self) -> None:
        """Nothing to load before the first fusion (the runtime loaded the graph)."""

    def fuse(self, frames: np.ndarray, exposure_times: Sequence[float] | None = None) -> np.ndarray:
        """uint8 frames ``3 x H x W x 3`` (darkest first, the middle one the reference) and their exposure
        times -> float32 radiance ``H x W x 3`` in [0, 1], in units of the darkest frame's saturation."""
        return self.fuse_timed(frames, exposure_times)[0]

    def network_example(self, frames: np.ndarray) -> np.ndarray:
        """One call's input of the tile graph: the top-left tile (EV -2, 0, +2 exposure times)."""
        t = self.tiling.tile
        return network_input(pad_to(frames[:, :t, :t], t, t), np.asarray(EXAMPLE_TIMES, np.float32))

    def fuse_timed(
        self, frames: np.ndarray, exposure_times: Sequence[float] | None = None
    ) -> tuple[np.ndarray, dict[str, float]]:
        """:meth:`fuse`, and its stages' milliseconds: ``network`` (the tile graph) and ``tiling`` (input
        building, blending).

        Raises:
            BracketError: not 3 frames, or exposure times missing, not positive or not increasing.
        """
        check_bracket_array(frames)
        if len(frames) != FRAMES:
            raise BracketError(f"sthdr merges {FRAMES} exposures (under, reference, over), got {len(frames)}")
        times = relative_times(exposure_times, FRAMES)
        started = time.perf_counter()
        radiance, network_ms = fuse_tiled(self.graph, self.tiling, frames, times)
        total = (time.perf_counter() - started) * 1000.0
        self.last_predict_ms = network_ms
        return radiance, {"network": network_ms, "tiling": total - network_ms}
