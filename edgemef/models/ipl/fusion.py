"""IPL behind the registry's :class:`~edgemef.models.registry.FusionModel` interface (PyTorch).

The network runs tile by tile through the same torch-free tiler and attention cache as the exported graphs
(:class:`edgemef.runtime.cached_tiler.CachedTiler`), so any size (4K, 8K) fuses with memory bounded by the
tiles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from edgemef.errors import BracketError
from edgemef.models.ipl.graphs import pack_attention, unpack_attention
from edgemef.models.ipl.network import IPL
from edgemef.models.ipl.weights import load_ipl
from edgemef.runtime.cached_tiler import CachedTiler, TilingSettings
from edgemef.weights import shipped_exposure_counts, shipped_weights


class TorchTileNetwork:
    """:class:`edgemef.models.ipl.runtime.TileNetwork` in PyTorch (``dtype``: the model's parameters' and
    compute's). Inputs and outputs are float32."""

    def __init__(self, model: IPL, dtype: torch.dtype = torch.float32) -> None:
        self.model = model.eval()
        self.dtype = dtype

    def _tensor(self, x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x, np.float32)).to(self.dtype)

    def full(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():
            image, attention = self.model.forward_with_attention(self._tensor(x))
            return image.float().numpy(), pack_attention(attention).float().numpy()

    def replay(self, x: np.ndarray, attention: np.ndarray) -> np.ndarray:
        n_bands = (attention.shape[-1] - 1) // 2
        with torch.inference_mode():
            weights = unpack_attention(self._tensor(attention), n_bands)
            return self.model.replay(self._tensor(x), weights).float().numpy()


class IplFusion:
    """Fuse with IPL in PyTorch.

    Args:
        weights: a ``.safetensors`` file from ``edgemef train ipl``; default: the shipped weights.
        cache: what a cache hit reuses ("output", "attention" or "off"; see
            :mod:`edgemef.models.ipl.runtime`).
            Default "off": one bracket at a time gains nothing from a cache.
        tile: tile side (default 256, the training crops).
    """

    name = "ipl"

    def __init__(self, weights: str | Path | None = None, cache: str = "off", tile: int = 256) -> None:
        self._weights = Path(weights) if weights is not None else None
        self.cache = cache
        self.tile = tile
        self._tilers: dict[int, CachedTiler] = {}

    def tiler(self, n_exposures: int) -> CachedTiler:
        if n_exposures not in self._tilers:
            path = self._weights or shipped_weights("ipl", n_exposures)
            if self._weights is None and not path.exists():
                shipped = ", ".join(str(n) for n in shipped_exposure_counts("ipl")) or "none"
                raise BracketError(
                    f"ipl ships weights for brackets of {shipped} exposures, not {n_exposures}; "
                    "use --model mertens for this bracket"
                )
            model = load_ipl(path)
            if model.config.n_exposures != n_exposures:
                raise BracketError(
                    f"{path.name} fuses {model.config.n_exposures} exposures, the bracket has {n_exposures}"
                )
            settings = TilingSettings(tile=self.tile, scale=model.config.scale)
            self._tilers[n_exposures] = CachedTiler(
                TorchTileNetwork(model), n_exposures, settings, mode=self.cache
            )
        return self._tilers[n_exposures]

    def fuse(self, frames: np.ndarray) -> np.ndarray:
        """Fuse uint8 sRGB frames (N x H x W x 3, darkest first) into one uint8 sRGB image."""
        return self.tiler(len(frames)).fuse(frames)


def ipl(weights: str | Path | None = None, cache: str = "off", tile: int = 256) -> IplFusion:
    """The registry's factory of ``ipl``."""
    return IplFusion(weights, cache, tile)
