"""LUT-distill behind the registry's :class:`~edgemef.models.registry.FusionModel` interface.

The network runs in PyTorch on 128x128 thumbnails; the full-resolution weighted sum and LUT lookup run in
the torch-free fast applier (:func:`edgemef.lut.fuse_and_apply`), as on a device.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from edgemef.errors import BracketError
from edgemef.io import check_bracket_array
from edgemef.lut import fuse_and_apply, warm_up
from edgemef.models.lut_distill.weights import load_weights
from edgemef.runtime.preprocess import network_input
from edgemef.weights import shipped_exposure_counts, shipped_weights


class LutDistillFusion:
    """Fuse with a LUT-distill student or teacher.

    Args:
        name: "lut-student", "lut-teacher", or another model whose network gives (weights, LUT).
        weights: a ``.safetensors`` file from ``edgemef train``; default: the shipped weights.
        grid: LUT size (the student's editable mode: any of 8..128; default 33).
        loader: reads a weights file of the model ``name`` (default: LUT-distill's, for the student and
            teacher).
    """

    def __init__(
        self,
        name: str = "lut-student",
        weights: str | Path | None = None,
        grid: int = 33,
        loader: Callable[[Path], torch.nn.Module] | None = None,
    ) -> None:
        self.name = name
        self.loader = loader
        self.grid = grid
        self._weights = Path(weights) if weights is not None else None
        self._models: dict[int, torch.nn.Module] = {}

    def _model(self, n_exposures: int) -> torch.nn.Module:
        if n_exposures not in self._models:
            path = self._weights or shipped_weights(self.name, n_exposures)
            if self._weights is None and not path.exists():
                shipped = ", ".join(str(n) for n in shipped_exposure_counts(self.name)) or "none"
                raise BracketError(
                    f"{self.name} ships weights for brackets of {shipped} exposures, not {n_exposures}; "
                    "use --model mertens for this bracket"
                )
            model = self._load(path)
            if model.config.n_exposures != n_exposures:
                raise BracketError(
                    f"{path.name} fuses {model.config.n_exposures} exposures, the bracket has {n_exposures}"
                )
            self._models[n_exposures] = model
        return self._models[n_exposures]

    def _load(self, path: Path) -> torch.nn.Module:
        if self.loader is not None:
            return self.loader(path)
        return load_weights(path, expected=self.name)

    def warm_up(self) -> None:
        """Load the fast applier's kernel (compiled on first use ever)."""
        warm_up()

    def predict(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fusion weights (N,; or weight maps N x G x G) and the LUT (S x S x S x 3, canonical
        layout) for uint8 frames."""
        check_bracket_array(frames)
        model = self._model(len(frames))
        thumbs = torch.from_numpy(network_input(frames, model.config.thumbnail_size))
        with torch.inference_mode():
            weights, lut = model(thumbs, self.grid)
        return weights[0].numpy().astype(np.float32), np.ascontiguousarray(lut[0].numpy(), dtype=np.float32)

    def fuse(self, frames: np.ndarray) -> np.ndarray:
        """Fuse uint8 sRGB frames (N x H x W x 3, darkest first) into one uint8 sRGB image."""
        weights, lut = self.predict(frames)
        return fuse_and_apply(frames, weights, lut)


def lut_student(weights: str | Path | None = None, grid: int = 33) -> LutDistillFusion:
    """The registry's factory of ``lut-student``."""
    return LutDistillFusion("lut-student", weights, grid)


def lut_teacher(weights: str | Path | None = None, grid: int = 33) -> LutDistillFusion:
    """The registry's factory of ``lut-teacher``."""
    return LutDistillFusion("lut-teacher", weights, grid)
