"""LUT-distill's artifact runtime: contract -> backend -> (weights, LUT) -> the full-resolution applier.
Torch-free. It runs the artifacts of every family that names it as its runtime; where a contract's
``weights`` are per-exposure weight maps (``1 x N x Gh x Gw``, with ``postprocessing.weight_maps``), the
applier samples them bilinearly."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from edgemef.errors import ArtifactError, BracketError
from edgemef.io import check_bracket_array
from edgemef.lut import MAX_MAP_SIDE, fuse_and_apply, warm_up
from edgemef.models.registry import list_families
from edgemef.runtime.backends import Backend, open_backend
from edgemef.runtime.contract import Contract, read_contract
from edgemef.runtime.preprocess import network_input


class LutArtifactFusion:
    """An exported LUT-distill network (``.pte``, ``.tflite``, ``.onnx``) behind the fusion-model interface.

    Loading verifies the contract (format version, file name, sha256) and opens the backend it names; the
    full-resolution weighted sum and LUT lookup run in :func:`edgemef.lut.fuse_and_apply`. ``threads``: CPU
    threads of the backend (default: all this process may use).

    Example:
        >>> fusion = LutArtifactFusion("dist/onnx/lut-student-fp32-g33.onnx")   # doctest: +SKIP
        >>> fused = fusion.fuse(frames)                                        # doctest: +SKIP
    """

    def __init__(self, artifact: str | Path, threads: int | None = None) -> None:
        self.artifact = Path(artifact)
        self.contract: Contract = read_contract(self.artifact)
        fuses = families_run_here()
        if self.contract.family not in fuses:
            raise ArtifactError(
                f"{self.artifact}: a {self.contract.family} model; this runtime fuses {', '.join(fuses)}"
            )
        check_lut_contract(self.contract, self.artifact)
        self.backend: Backend = open_backend(self.artifact, self.contract, threads)
        self.name = f"{self.contract.model} ({self.contract.backend} {self.contract.precision})"
        self.settings = f"grid {self.grid_size}"
        self.last_predict_ms = float("nan")

    @property
    def n_exposures(self) -> int:
        return self.contract.n_exposures

    def warm_up(self) -> None:
        """Load the fast applier's kernel (compiled on first use ever)."""
        warm_up()

    @property
    def grid_size(self) -> int:
        """The LUT's side, from the ``lut`` output's shape."""
        return self.contract.output("lut").shape[1]

    def predict(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fusion weights (N,; or weight maps N x Gh x Gw) and the LUT (S x S x S x 3, canonical
        layout) for uint8 frames."""
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
        weights_shape = self.contract.output("weights").shape[1:]
        weights = np.asarray(outputs["weights"], dtype=np.float32).reshape(weights_shape)
        grid = self.grid_size
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


def families_run_here() -> list[str]:
    """The families whose declarations name this runtime."""
    here = f"{__name__}:{LutArtifactFusion.__name__}"
    return [family.name for family in list_families() if family.runtime == here]


def check_lut_contract(contract: Contract, artifact: Path) -> None:
    """Refuse a contract whose tensors are not what this runtime reads (an edited or foreign contract).

    Raises:
        ArtifactError: naming what is wrong.
    """
    n = contract.n_exposures
    problems = []
    names = ([s.name for s in contract.inputs], [s.name for s in contract.outputs])
    if names != (["thumbnails"], ["weights", "lut"]):
        problems.append(f"tensors {names[0]} -> {names[1]}, expected ['thumbnails'] -> ['weights', 'lut']")
    else:
        thumbs, weights, lut = (
            contract.inputs[0].shape,
            contract.output("weights").shape,
            contract.output("lut").shape,
        )
        size = contract.preprocessing.get("thumbnail_size")
        if thumbs != (1, 3 * n, size, size):
            problems.append(
                f"thumbnails shape {thumbs}, expected (1, {3 * n}, {size}, {size}) for {n} exposures"
            )
        if len(weights) == 4:  # weight maps
            if weights[:2] != (1, n) or not 1 <= min(weights[2:]) <= max(weights[2:]) <= MAX_MAP_SIDE:
                problems.append(f"weights shape {weights}, expected (1, {n}, Gh, Gw) weight maps")
            elif "weight_maps" not in contract.postprocessing:
                problems.append("postprocessing.weight_maps (how the maps are sampled) is missing")
        elif weights != (1, n):
            problems.append(f"weights shape {weights}, expected (1, {n}) or (1, {n}, Gh, Gw) weight maps")
        if len(lut) != 5 or lut[0] != 1 or lut[4] != 3 or not lut[1] == lut[2] == lut[3] >= 2:
            problems.append(f"lut shape {lut}, expected (1, S, S, S, 3)")
        elif contract.postprocessing.get("grid_size") != lut[1]:
            problems.append(
                f"postprocessing.grid_size {contract.postprocessing.get('grid_size')!r} != LUT side {lut[1]}"
            )
    if problems:
        raise ArtifactError(
            f"{artifact}: its contract does not describe a LUT-distill predictor: {'; '.join(problems)}"
        )
