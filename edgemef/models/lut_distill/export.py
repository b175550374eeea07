"""LUT-distill's export (authoring side, torch): the student's predictor graph, its contract fields and its
parity harness, for the conversion loop of :mod:`converters.pipeline`.

The exported network is the student with its grid size bound: ``thumbnails (1 x 3N x 128 x 128) -> {"weights":
1 x N, "lut": 1 x S x S x S x 3}``; a subclass may give weight maps instead, ``"weights": 1 x N x G x G``
(:meth:`LutDistillExporter.weights_info`), with a contract that says how the applier samples them. The full-
resolution weighted sum and LUT lookup stay outside the model (5-D ``grid_sample`` lowers to none of the
mobile formats): the torch-free applier (:func:`edgemef.lut.fuse_and_apply`), CoreImage's ``CIColorCube`` on
iOS, a 3D texture on Android GPUs. The thumbnails are clamped to [0, 1] inside the graph (a float op in front
keeps an int8 LiteRT model's input float32, so every runtime is fed the same float thumbnails).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from converters.calibration import load_stacks
from converters.graphs import ExportGraph, ExportRequest, ParityResult, QuantizationHints, Runner, TensorInfo
from edgemef.errors import ConversionError
from edgemef.lut import LUT_LAYOUT
from edgemef.models.lut_distill.parity import check_parity
from edgemef.models.lut_distill.student import ExportableStudent, Student
from edgemef.models.lut_distill.weights import load_weights
from edgemef.models.weights_file import WeightsError
from edgemef.runtime.preprocess import RESIZE_METHOD
from edgemef.weights import shipped_exposure_counts, shipped_weights


class PredictorGraph(torch.nn.Module):
    """``thumbnails -> {"weights", "lut"}``: the student at a fixed grid, thumbnails clamped to [0, 1]."""

    def __init__(self, student: Student, grid: int) -> None:
        super().__init__()
        self.network = ExportableStudent(student, grid)

    def forward(self, thumbnails: torch.Tensor) -> dict[str, torch.Tensor]:
        weights, lut = self.network(thumbnails.clamp(0.0, 1.0))
        return {"weights": weights, "lut": lut}


class LutDistillExporter:
    """:class:`converters.graphs.FamilyExporter` of LUT-distill (the student). Families built on the student
    override :meth:`load_file`, :meth:`weights_info` and :meth:`contract_fields`."""

    latency_what = "one network inference (thumbnails -> weights, LUT)"
    latency_runs = 20

    def load_file(self, path: Any, model: str) -> Student:
        """The weights file of ``model``."""
        loaded = load_weights(path, expected=model)
        if not isinstance(loaded, Student):
            raise WeightsError(f"{path}: not {model} weights")
        return loaded

    def load(self, request: ExportRequest) -> Student:
        if request.weights is not None:
            path = request.weights
        else:
            path = shipped_weights(request.model, request.n_exposures)
            if not path.exists():
                shipped = ", ".join(map(str, shipped_exposure_counts(request.model))) or "none"
                raise ConversionError(
                    f"{request.model} ships weights for {shipped}-exposure brackets, not "
                    f"{request.n_exposures}; pass --weights FILE from 'edgemef train'"
                )
        model = self.load_file(path, request.model)
        grid = int(request.options["grid"])
        if not model.config.min_grid_size <= grid <= model.config.max_grid_size:
            raise ConversionError(
                f"--grid must be between {model.config.min_grid_size} and {model.config.max_grid_size}, "
                f"got {grid}"
            )
        return model.eval()

    def artifact_stem(self, model: Student, request: ExportRequest) -> str:
        """``lut-student-int8-g33`` (3 exposures) or ``lut-student-2exp-int8-g33``."""
        n = model.config.n_exposures
        exposures = "" if n == 3 else f"-{n}exp"
        return f"{request.model}{exposures}-{request.precision}-g{request.options['grid']}"

    def weights_info(self, model: Student) -> TensorInfo:
        """The ``weights`` output: one weight per exposure."""
        return TensorInfo(
            "weights",
            "NC",
            "one fusion weight per exposure, darkest first (softmax: they sum to 1)",
            (0.0, 1.0),
        )

    def graphs(self, model: Student, request: ExportRequest, calibrate: bool) -> list[ExportGraph]:
        n, size = model.config.n_exposures, model.config.thumbnail_size
        calibration = [s.thumbnails(size) for s in load_stacks("calibration", n, request.calibration)]
        return [
            ExportGraph(
                name="predictor",
                module=PredictorGraph(model, int(request.options["grid"])).eval(),
                inputs={"thumbnails": torch.from_numpy(calibration[0])},
                input_info=(
                    TensorInfo(
                        "thumbnails",
                        "NCHW",
                        f"the {n} exposures, darkest first, each resized to {size}x{size}; channels R, G, B "
                        "of the darkest frame, then of the next; sRGB-encoded values / 255",
                        (0.0, 1.0),
                    ),
                ),
                output_info=(
                    self.weights_info(model),
                    TensorInfo(
                        "lut",
                        "N,blue,green,red,RGB",
                        "the 3D LUT in edgemef's canonical layout (see postprocessing.lut_layout)",
                        (0.0, 1.0),
                    ),
                ),
                calibration=[{"thumbnails": t} for t in calibration] if calibrate else [],
                # the softmax stays float: its weights then sum to 1 exactly (quantized: 0.996, 2 dB worse)
                hints=QuantizationHints(keep_float=("Softmax",)),
            )
        ]

    def contract_fields(self, model: Student, request: ExportRequest) -> dict[str, Any]:
        return {
            "n_exposures": model.config.n_exposures,
            "preprocessing": {
                "thumbnail_size": model.config.thumbnail_size,
                "resize": RESIZE_METHOD,
                "frame_order": "darkest to brightest (EXIF exposure time x ISO / f-number^2, else mean luma)",
                "input_encoding": "8-bit sRGB RGB frames; thumbnails as float32 = uint8 / 255",
            },
            "postprocessing": {
                "grid_size": int(request.options["grid"]),
                "fusion": "fused = clamp(sum_k weights[k] * frame_k / 255, 0, 1), per pixel and channel, at "
                "full resolution",
                "lut_apply": "out = uint8(floor(clamp(trilinear(lut, fused), 0, 1) * 255 + 0.5))",
                "lut_layout": LUT_LAYOUT,
                "reference_implementation": "edgemef.lut.fuse_and_apply",
                "ios": "CIColorCube / CIColorCubeWithColorSpace takes the lut output as is",
            },
        }

    def parity(
        self,
        model: Student,
        request: ExportRequest,
        candidate: Mapping[str, Runner],
        reference: Mapping[str, Runner],
        gate_db: float,
    ) -> ParityResult:
        report = check_parity(
            _predictor(reference["predictor"]),
            _predictor(candidate["predictor"]),
            load_stacks("parity", model.config.n_exposures, request.calibration),
            model.config.thumbnail_size,
            gate_db,
        )
        return ParityResult(report.as_dict(), report.describe())


def _predictor(runner: Runner) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A runner as ``thumbnails -> (weights (N,) or weight maps (N x G x G), LUT (S x S x S x 3))``."""

    def predict(thumbnails: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = runner.run(thumbnails)
        weights, lut = (np.asarray(out[name], np.float32) for name in ("weights", "lut"))
        return np.ascontiguousarray(weights.reshape(weights.shape[1:])), np.ascontiguousarray(
            lut.reshape(lut.shape[1:])
        )

    return predict


EXPORTER = LutDistillExporter()
