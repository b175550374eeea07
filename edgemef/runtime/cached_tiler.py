"""A per-tile network over brackets of any size, with a cache of per-tile results (torch-free).

:class:`CachedTiler` pads the bracket to what the network accepts, runs it over overlapping ``tile x tile``
windows (:func:`~edgemef.runtime.tiling.run_tiled`: seamless, memory bounded by one band of tiles), and
consults an :class:`~edgemef.runtime.attention_cache.AttentionCache` (asymmetric per-tensor int8) before each
tile. The network is a :class:`TileNetwork`: exported graphs in a runtime or a PyTorch model; both share
this code, so PyTorch and devices cache the same way. IPL's chunk-cache-quantize pipeline is this tiler
with IPL's two tile graphs (``edgemef.models.ipl``).

**The cache key.** Every part of a tile's result is a function of the tile's input, so the cache is keyed
per tile: the *slot* is (frame size, tile index) and the *input* compared is the tile's bracket area-pooled
``SIGNATURE_POOL`` times (``threshold > 0``; the largest absolute difference of pooled values, in [0, 1]:
pooling averages sensor noise away while a moving object still changes some pooled values a lot), or its
exact bytes (``threshold == 0``: exact reuse only; identical tiles anywhere share an entry). Within a frame,
identical tiles hit with threshold 0; across the frames of a stream (burst, video, preview), a tile whose
input has not changed beyond the threshold hits.

**What a hit reuses** (``mode``):

- ``"attention"``: the network's cached intermediate (the second output of its full graph, int8) is read
  instead of computed, and its *replay* graph runs the rest of the network with it (IPL: every FIB's
  attention weights, the paper's attention cache).
- ``"output"``: the tile's fused output (int8) is read and no graph runs.
- ``"off"``: no cache.

Entries are evicted least-recently-used beyond the byte budget; :attr:`CachedTiler.cache` has the counters.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from edgemef.errors import ArtifactError, BracketError
from edgemef.io import check_bracket_array
from edgemef.runtime.attention_cache import AttentionCache
from edgemef.runtime.contract import Contract
from edgemef.runtime.tiling import run_tiled

CACHE_MODES = ("output", "attention", "off")
#: Area pooling of a tile's bracket before it is compared with the cached one.
SIGNATURE_POOL = 8
DEFAULT_THRESHOLD = 0.03
DEFAULT_BUDGET_BYTES = 64 * 2**20


class TileNetwork(Protocol):
    """A network on tiles, ``1 x 3N x T x T`` float32 in [0, 1] (the N frames' channels, darkest first)."""

    def full(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(image 1 x 3 x T x T, the intermediate the "attention" cache mode stores)``."""
        ...

    def replay(self, x: np.ndarray, attention: np.ndarray) -> np.ndarray:
        """The image computed with a cached intermediate."""
        ...


@dataclass(frozen=True)
class TilingSettings:
    """How a bracket is cut into the network's tiles (recorded in the contract's ``postprocessing``)."""

    tile: int = 256
    overlap: int = 64
    halo: int = 16
    scale: int = 2  # tile and image sides are padded to multiples of this

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass
class TileTimes:
    """Where a fusion's time went, in milliseconds, and what the cache did."""

    network_ms: float = 0.0
    cache_ms: float = 0.0
    tiles: int = 0
    full_runs: int = 0
    replays: int = 0
    reused: int = 0


def check_tiled_contract(
    contract: Contract, artifact: Path, outputs: tuple[str, ...], channels: int, what: str
) -> TilingSettings:
    """The tiling of a tile-graph artifact's contract, after checking that its tensors are what the tiler
    feeds and reads: ``frames (1 x channels x T x T) -> image (1 x 3 x T x T)`` and then ``outputs[1:]``.

    Raises:
        ArtifactError: naming what is wrong (an edited or foreign contract); ``what`` names the graphs.
    """
    tiling = contract.postprocessing.get("tiling")
    try:
        settings = TilingSettings(**tiling)  # type: ignore[arg-type]
        if min(settings.tile, settings.scale) < 1 or settings.overlap < 0 or settings.halo < 0:
            raise ValueError
        if settings.overlap <= 2 * settings.halo or settings.tile <= settings.overlap:
            raise ValueError
    except (TypeError, ValueError):
        raise ArtifactError(
            f"{artifact}: its contract's postprocessing.tiling is not a tiling of {what} ({tiling!r})"
        ) from None
    t, problems = settings.tile, []
    names = ([s.name for s in contract.inputs], [s.name for s in contract.outputs])
    if names != (["frames"], list(outputs)):
        problems.append(f"tensors {names[0]} -> {names[1]}, expected ['frames'] -> {list(outputs)}")
    else:
        if contract.inputs[0].shape != (1, channels, t, t):
            problems.append(f"frames shape {contract.inputs[0].shape}, expected (1, {channels}, {t}, {t})")
        if contract.output("image").shape != (1, 3, t, t):
            problems.append(f"image shape {contract.output('image').shape}, expected (1, 3, {t}, {t})")
    if problems:
        raise ArtifactError(f"{artifact}: its contract does not describe {what}: {'; '.join(problems)}")
    return settings


def pad_to(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """Reflect-pad ``N x h x w x 3`` at the bottom and right to ``height x width`` (edge-pad tiny frames)."""
    pad_h, pad_w = height - frames.shape[1], width - frames.shape[2]
    if pad_h == 0 and pad_w == 0:
        return frames
    mode = "reflect" if pad_h < frames.shape[1] and pad_w < frames.shape[2] else "edge"
    return np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode=mode)


def _signature(window: np.ndarray, exact: bool) -> np.ndarray:
    """What the cache compares: the tile's bytes (exact) or its bracket area-pooled, in [0, 1]."""
    if exact:
        return window
    small = (max(1, window.shape[2] // SIGNATURE_POOL), max(1, window.shape[1] // SIGNATURE_POOL))
    return (
        np.stack([cv2.resize(f, small, interpolation=cv2.INTER_AREA) for f in window]).astype(np.float32)
        / 255
    )


def tile_input(window: np.ndarray) -> np.ndarray:
    """The tile graph's input for uint8 windows ``N x T x T x 3``: ``1 x 3N x T x T`` float32, uint8 / 255."""
    x = np.empty((1, 3 * len(window), *window.shape[1:3]), np.float32)
    np.divide(window.transpose(0, 3, 1, 2).reshape(x.shape[1:]), np.float32(255.0), out=x[0])
    return x


class CachedTiler:
    """A :class:`TileNetwork` over brackets of any size, with the cache (module docstring).

    Args:
        network: the tile graphs.
        n_exposures: frames per bracket.
        settings: tile size, overlap, halo and the size multiple.
        mode: what a cache hit reuses: "output", "attention" or "off".
        threshold: cache match threshold (0: exact reuse only).
        budget_bytes: the cache's byte budget.
    """

    def __init__(
        self,
        network: TileNetwork,
        n_exposures: int,
        settings: TilingSettings = TilingSettings(),
        mode: str = "output",
        threshold: float = DEFAULT_THRESHOLD,
        budget_bytes: int = DEFAULT_BUDGET_BYTES,
    ) -> None:
        if mode not in CACHE_MODES:
            raise ValueError(f"cache mode must be one of {', '.join(CACHE_MODES)}, got {mode!r}")
        self.network = network
        self.n_exposures = n_exposures
        self.settings = settings
        self.mode = mode
        self.cache = AttentionCache(budget_bytes, threshold, match="max") if mode != "off" else None
        self.last_times = TileTimes()

    def fuse(self, frames: np.ndarray) -> np.ndarray:
        """Fuse uint8 sRGB frames (N x H x W x 3, darkest first) into one uint8 sRGB image."""
        check_bracket_array(frames)
        if len(frames) != self.n_exposures:
            raise BracketError(f"this model fuses {self.n_exposures} exposures, got {len(frames)}")
        _, height, width, _ = frames.shape
        s = self.settings
        padded = pad_to(frames, -(-height // s.scale) * s.scale, -(-width // s.scale) * s.scale)
        times = self.last_times = TileTimes()
        index = itertools.count()
        frame_key = padded.shape

        def tile(window: np.ndarray) -> np.ndarray:
            return self._tile(window, (frame_key, next(index)), times)

        fused = run_tiled(padded, tile, s.tile, s.overlap, s.halo)
        return np.ascontiguousarray(fused[:height, :width])

    def _tile(self, window: np.ndarray, slot: tuple, times: TileTimes) -> np.ndarray:
        times.tiles += 1
        h, w = window.shape[1:3]
        t = self.settings.tile
        padded = pad_to(window, max(h, t), max(w, t))
        x = tile_input(padded)
        cache = self.cache
        started = time.perf_counter()
        signature = _signature(padded, exact=cache.threshold == 0.0) if cache is not None else None
        cached = cache.lookup(slot, signature) if cache is not None else None
        times.cache_ms += (time.perf_counter() - started) * 1000.0
        started = time.perf_counter()
        if cached is not None and self.mode == "output":
            times.reused += 1
            image = cached
        elif cached is not None:
            times.replays += 1
            image = self.network.replay(x, cached)[0].transpose(1, 2, 0)
        else:
            times.full_runs += 1
            full_image, attention = self.network.full(x)
            image = full_image[0].transpose(1, 2, 0)
            if cache is not None:
                stored = np.clip(image, 0.0, 1.0) if self.mode == "output" else attention
                cache.store(slot, signature, stored)
        times.network_ms += (time.perf_counter() - started) * 1000.0
        return np.clip(image[:h, :w], 0.0, 1.0)
