"""IPL's artifact runtime (torch-free): its exported full and replay tile graphs in their runtime, driven by
the generic :class:`~edgemef.runtime.cached_tiler.CachedTiler` with the attention cache (IPL's
chunk-cache-quantize pipeline; the cache modes and key are documented there).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from edgemef.errors import ArtifactError
from edgemef.runtime.backends import Backend, open_backend
from edgemef.runtime.cached_tiler import (
    DEFAULT_BUDGET_BYTES,
    DEFAULT_THRESHOLD,
    CachedTiler,
    TilingSettings,
    check_tiled_contract,
    pad_to,
    tile_input,
)
from edgemef.runtime.contract import Contract, read_contract

__all__ = [
    "DEFAULT_BUDGET_BYTES",
    "DEFAULT_THRESHOLD",
    "BackendTileNetwork",
    "IplArtifactFusion",
    "TilingSettings",
    "check_ipl_contract",
    "pad_to",
    "tile_input",
]


class BackendTileNetwork:
    """The exported full and replay graphs in their runtime."""

    def __init__(self, full: Backend, replay: Backend | None) -> None:
        self._full, self._replay = full, replay

    def full(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self._full.run(x)
        return np.asarray(out["image"], np.float32), np.asarray(out["attention"], np.float32)

    def replay(self, x: np.ndarray, attention: np.ndarray) -> np.ndarray:
        if self._replay is None:
            raise ArtifactError("this IPL artifact has no replay graph; use cache mode 'output' or 'off'")
        return np.asarray(
            self._replay.run(x, np.ascontiguousarray(attention, np.float32))["image"], np.float32
        )


def check_ipl_contract(contract: Contract, artifact: Path) -> TilingSettings:
    """The tiling of an IPL contract, after checking its tensors are what the tiler feeds and reads.

    Raises:
        ArtifactError: naming what is wrong (an edited or foreign contract).
    """
    n = contract.n_exposures
    return check_tiled_contract(contract, artifact, ("image", "attention"), 3 * n, "IPL tile graphs")


class IplArtifactFusion:
    """An exported IPL model (full + replay tile graphs and their contract) behind the fusion interface.

    Example:
        >>> fusion = IplArtifactFusion("dist/onnx/ipl-fp32-t256.onnx", cache="output")   # doctest: +SKIP
        >>> fused = fusion.fuse(frames)                                                   # doctest: +SKIP
    """

    def __init__(
        self,
        artifact: str | Path,
        threads: int | None = None,
        cache: str = "output",
        threshold: float | None = None,
        budget_bytes: int | None = None,
    ) -> None:
        self.artifact = Path(artifact)
        self.contract: Contract = read_contract(self.artifact)
        if self.contract.family != "ipl":
            raise ArtifactError(f"{self.artifact}: a {self.contract.family} model, not IPL")
        settings = check_ipl_contract(self.contract, self.artifact)
        full = open_backend(self.artifact, self.contract, threads)
        replay_backend = None
        if cache == "attention":  # only the attention cache replays; the other modes never load that graph
            if "replay" not in self.contract.graphs:
                raise ArtifactError(
                    f"{self.artifact}: the contract names no replay graph; use cache 'output'"
                )
            replay_backend = open_backend(*self.contract.graph("replay", self.artifact.parent), threads)
        post = self.contract.postprocessing
        defaults = post.get("cache", {})
        self.tiler = CachedTiler(
            BackendTileNetwork(full, replay_backend),
            self.contract.n_exposures,
            settings,
            mode=cache,
            threshold=float(defaults.get("threshold", DEFAULT_THRESHOLD) if threshold is None else threshold),
            budget_bytes=int(
                defaults.get("budget_bytes", DEFAULT_BUDGET_BYTES) if budget_bytes is None else budget_bytes
            ),
        )
        self.settings = f"tiles {settings.tile}"
        self.name = (
            f"{self.contract.model} ({self.contract.backend} {self.contract.precision}, cache {cache})"
        )
        self.last_predict_ms = float("nan")  # the tile graphs' time in the last fusion

    @property
    def n_exposures(self) -> int:
        return self.contract.n_exposures

    def warm_up(self) -> None:
        """Nothing to load before the first fusion (the runtime loaded the graphs)."""

    def fuse(self, frames: np.ndarray) -> np.ndarray:
        """Fuse uint8 sRGB frames (N x H x W x 3, darkest first) into one uint8 sRGB image."""
        return self.fuse_timed(frames)[0]

    def network_example(self, frames: np.ndarray) -> np.ndarray:
        """One call's input of the tile graph for these frames: their top-left tile (what an operator profile
        feeds the runtime)."""
        t = self.tiler.settings.tile
        return tile_input(pad_to(frames[:, :t, :t], t, t))

    def fuse_timed(self, frames: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        """:meth:`fuse`, and its stages' milliseconds: ``network`` (tile graphs), ``cache``, ``tiling``."""
        started = time.perf_counter()
        fused = self.tiler.fuse(frames)
        total = (time.perf_counter() - started) * 1000.0
        t = self.tiler.last_times
        self.last_predict_ms = t.network_ms
        return fused, {
            "network": t.network_ms,
            "cache": t.cache_ms,
            "tiling": total - t.network_ms - t.cache_ms,
        }
