"""CRMEF's artifact runtime (torch-free): its exported tile graph in its runtime, over brackets of any size
with the generic :class:`~edgemef.runtime.cached_tiler.CachedTiler` (overlapping tiles whose discarded halo
is the network's receptive field radius, so there are no seams).

CRMEF fuses a bracket's darkest and brightest frames (the pair with the largest exposure ratio), so a
bracket of any size of 2 or more is taken, as by the PyTorch model.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from edgemef.errors import ArtifactError
from edgemef.io import check_bracket_array
from edgemef.runtime.backends import Backend, open_backend
from edgemef.runtime.cached_tiler import CachedTiler, check_tiled_contract, pad_to, tile_input
from edgemef.runtime.contract import Contract, read_contract

__all__ = ["BackendTileGraph", "CrmefArtifactFusion", "pair_of"]


def pair_of(frames: np.ndarray) -> np.ndarray:
    """The darkest and the brightest frame of a bracket ordered darkest first (``2 x H x W x 3``)."""
    check_bracket_array(frames)
    return frames if len(frames) == 2 else frames[[0, len(frames) - 1]]


class BackendTileGraph:
    """The exported tile graph as the tiler's network (it has no cached intermediate)."""

    def __init__(self, graph: Backend) -> None:
        self._graph = graph

    def full(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        image = np.asarray(self._graph.run(x)["image"], np.float32)
        return image, image[:0]

    def replay(self, x: np.ndarray, attention: np.ndarray) -> np.ndarray:
        raise ArtifactError("a CRMEF artifact has one graph; its tiler runs without the attention cache")


class CrmefArtifactFusion:
    """An exported CRMEF tile graph and its contract behind the fusion interface.

    Example:
        >>> fusion = CrmefArtifactFusion("dist/rpi/crmef-int8-t256.tflite")   # doctest: +SKIP
        >>> fused = fusion.fuse(frames)                                       # doctest: +SKIP
    """

    def __init__(self, artifact: str | Path, threads: int | None = None) -> None:
        self.artifact = Path(artifact)
        self.contract: Contract = read_contract(self.artifact)
        if self.contract.family != "crmef":
            raise ArtifactError(f"{self.artifact}: a {self.contract.family} model, not CRMEF")
        settings = check_tiled_contract(self.contract, self.artifact, ("image",), 6, "a CRMEF tile graph")
        graph = BackendTileGraph(open_backend(self.artifact, self.contract, threads))
        self.tiler = CachedTiler(graph, 2, settings, mode="off")
        self.settings = f"tiles {settings.tile}"
        self.name = f"{self.contract.model} ({self.contract.backend} {self.contract.precision})"
        self.last_predict_ms = float("nan")  # the tile graph's time in the last fusion

    @property
    def n_exposures(self) -> int:
        return self.contract.n_exposures

    def warm_up(self) -> None:
        """Nothing to load before the first fusion (the runtime loaded the graph)."""

    def fuse(self, frames: np.ndarray) -> np.ndarray:
        """Fuse uint8 sRGB frames (N x H x W x 3, N >= 2, darkest first; the extremes are used) into uint8
        sRGB."""
        return self.fuse_timed(frames)[0]

    def network_example(self, frames: np.ndarray) -> np.ndarray:
        """One call's input of the tile graph: the top-left tile of the bracket's extremes."""
        t = self.tiler.settings.tile
        return tile_input(pad_to(pair_of(frames)[:, :t, :t], t, t))

    def fuse_timed(self, frames: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        """:meth:`fuse`, and its stages' milliseconds: ``network`` (the tile graph) and ``tiling``."""
        started = time.perf_counter()
        fused = self.tiler.fuse(pair_of(frames))
        total = (time.perf_counter() - started) * 1000.0
        self.last_predict_ms = self.tiler.last_times.network_ms
        return fused, {"network": self.last_predict_ms, "tiling": total - self.last_predict_ms}
