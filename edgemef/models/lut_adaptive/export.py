"""The adaptive model's export (authoring side, torch): LUT-distill's student exporter with weight maps.

The graph is ``thumbnails (1 x 3N x 128 x 128) -> {"weights": 1 x N x G x G, "lut": 1 x S x S x S x 3}``;
the contract's ``postprocessing.weight_maps`` states how an applier samples the maps at full resolution
(:data:`edgemef.lut.WEIGHT_MAP_SAMPLING`). Conversion, quantisation and the parity gate are LUT-distill's.
"""

from __future__ import annotations

from typing import Any

from converters.graphs import ExportRequest, TensorInfo
from edgemef.lut import WEIGHT_MAP_SAMPLING
from edgemef.models.lut_adaptive.network import AdaptiveStudent
from edgemef.models.lut_adaptive.weights import load_weights
from edgemef.models.lut_distill.export import LutDistillExporter
from edgemef.models.lut_distill.student import Student


class AdaptiveExporter(LutDistillExporter):
    """:class:`converters.graphs.FamilyExporter` of the adaptive LUT model."""

    latency_what = "one network inference (thumbnails -> weight maps, LUT)"

    def load_file(self, path: Any, model: str) -> Student:
        return load_weights(path)

    def weights_info(self, model: Student) -> TensorInfo:
        grid = model.config.map_grid if isinstance(model, AdaptiveStudent) else 1
        return TensorInfo(
            "weights",
            "NCHW",
            f"one {grid}x{grid} fusion weight map per exposure, darkest first, covering the whole frame "
            "(softmax over the exposures in every cell); see postprocessing.weight_maps",
            (0.0, 1.0),
        )

    def contract_fields(self, model: Student, request: ExportRequest) -> dict[str, Any]:
        fields = super().contract_fields(model, request)
        post = fields["postprocessing"]
        post["fusion"] = (
            "fused = clamp(sum_k up(weights[k])(x, y) * frame_k / 255, 0, 1), per pixel and channel, at full "
            "resolution; up: postprocessing.weight_maps"
        )
        post["weight_maps"] = WEIGHT_MAP_SAMPLING
        return fields


EXPORTER = AdaptiveExporter()
