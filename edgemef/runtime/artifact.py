"""Fuse brackets with an exported model: contract -> backend -> (weights, LUT) -> full-resolution applier."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edgemef.errors import ArtifactError, BracketError
from edgemef.io import check_bracket_array
from edgemef.lut import fuse_and_apply
from edgemef.runtime.backends import Backend, open_backend
from edgemef.runtime.contract import Contract, read_contract
from edgemef.runtime.preprocess import network_input

if TYPE_CHECKING:
    from edgemef.runtime.ipl import IplArtifactFusion


class ArtifactFusion:
    """An exported LUT-distill network (``.pte``, ``.tflite``, ``.onnx``) behind the fusion-model interface.

    Loading verifies the contract (format version, file name, sha256) and opens the backend it names; the
    full-resolution weighted sum and LUT lookup run in :func:`edgemef.lut.fuse_and_apply`. ``threads``: CPU
    threads of the backend (default: all this process may use).

    Example:
        >>> fusion = ArtifactFusion("dist/onnx/lut-student-fp32-g33.onnx")   # doctest: +SKIP
        >>> fused = fusion.fuse(frames)                                        # doctest: +SKIP
    """

    def __init__(self, artifact: str | Path, threads: int | None = None) -> None:
        self.artifact = Path(artifact)
        self.contract: Contract = read_contract(self.artifact)
        if self.contract.family != "lut-distill":
            raise ArtifactError(
                f"{self.artifact}: a {self.contract.family} model; this runtime fuses lut-distill"
            )
        self.backend: Backend = open_backend(self.artifact, self.contract, threads)
        self.name = f"{self.contract.model} ({self.contract.backend} {self.contract.precision})"
        self.last_predict_ms = float("nan")

    @property
    def n_exposures(self) -> int:
        return self.contract.n_exposures

    def predict(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fusion weights (N,) and the LUT (S x S x S x 3, canonical layout) for uint8 frames."""
        weights, lut, _ = self._predict_timed(frames)
        return weights, lut

    def _predict_timed(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
        check_bracket_array(frames)
        if len(frames) != self.n_exposures:
            raise BracketError(
                f"{self.artifact.name} fuses brackets of {self.n_exposures} exposures, got {len(frames)}"
            )
        size = int(self.contract.preprocessing["thumbnail_size"])
        start = time.perf_counter()
        thumbnails = network_input(frames, size)
        resized = time.perf_counter()
        outputs = self.backend.run(thumbnails)
        done = time.perf_counter()
        self.last_predict_ms = (done - resized) * 1000.0
        weights = np.asarray(outputs["weights"], dtype=np.float32).reshape(self.n_exposures)
        grid = self.contract.grid_size
        lut = np.ascontiguousarray(np.asarray(outputs["lut"], dtype=np.float32).reshape(grid, grid, grid, 3))
        timings = {"thumbnails": (resized - start) * 1000.0, "predictor": self.last_predict_ms}
        return weights, lut, timings

    def fuse(self, frames: np.ndarray) -> np.ndarray:
        """Fuse uint8 sRGB frames (N x H x W x 3, darkest first) into one uint8 sRGB image."""
        return self.fuse_timed(frames)[0]

    def network_example(self, frames: np.ndarray) -> np.ndarray:
        """The predictor's input for these frames (what an operator profile feeds the runtime)."""
        return network_input(frames, int(self.contract.preprocessing["thumbnail_size"]))

    def fuse_timed(self, frames: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        """:meth:`fuse`, and the milliseconds of its stages: ``thumbnails``, ``predictor``, ``apply``."""
        weights, lut, timings = self._predict_timed(frames)
        start = time.perf_counter()
        fused = fuse_and_apply(frames, weights, lut)
        timings["apply"] = (time.perf_counter() - start) * 1000.0
        return fused, timings


def open_artifact(artifact: str | Path, threads: int | None = None) -> ArtifactFusion | IplArtifactFusion:
    """The fusion model of an exported artifact, by its contract's family (lut-distill or ipl).

    Raises:
        ArtifactError: a missing or bad contract, or a family this runtime does not fuse.
    """
    from edgemef.runtime.ipl import IplArtifactFusion

    family = read_contract(Path(artifact)).family
    if family == "ipl":
        return IplArtifactFusion(artifact, threads, cache="off")
    return ArtifactFusion(artifact, threads)
