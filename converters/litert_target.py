"""``--target rpi``: a LiteRT ``.tflite`` flatbuffer (ai-edge-litert, XNNPACK CPU), int8 or fp32.

- fp32: ``litert_torch.convert`` of the network.
- int8: litert-torch's PT2E quantizer (static, symmetric, int8 weights per output channel, int8 activations)
  through torchao's ``prepare_pt2e`` / ``convert_pt2e``, calibrated on ``calibration_data/calibration``.
  Its ``mul`` rule is switched off: the only multiplications in this network act on constants (the lattice
  interpolation matrices), and quantizing ``arange(...) * k`` fails on the int64 constant.

The model is wrapped to take the keyword input ``thumbnails`` and return ``{"weights", "lut"}``, so the
``serving_default`` signature names its tensors as the contract does. A ``clamp(0, 1)`` (unquantized) in
front keeps the int8 model's input float32, so every runtime feeds the same float thumbnails; outputs are
float32 in both precisions.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch

from converters.base import ExportResult, versions

SIGNATURE = "serving_default"
INPUT_NAMES = ("thumbnails",)
OUTPUT_NAMES = ("weights", "lut")


class SignatureModel(torch.nn.Module):
    """Keyword input ``thumbnails``; dict outputs ``weights`` and ``lut``; a float clamp in front."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, thumbnails: torch.Tensor) -> dict[str, torch.Tensor]:
        weights, lut = self.model(thumbnails.clamp(0.0, 1.0))
        return {"weights": weights, "lut": lut}


def _quantizer():
    from litert_torch.quantize.pt2e_quantizer import PT2EQuantizer, get_symmetric_quantization_config

    class ConstantMulFreeQuantizer(PT2EQuantizer):
        STATIC_OPS = [op for op in PT2EQuantizer.STATIC_OPS if op != "mul"]  # noqa: RUF012 (overrides the base list)

    return ConstantMulFreeQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))


def _quantize(
    module: torch.nn.Module, kwargs: dict[str, torch.Tensor], calibration: list[dict[str, np.ndarray]]
) -> tuple[torch.nn.Module, object]:
    """PT2E static int8 (litert-torch's quantizer) of a keyword-input module, observing ``calibration``."""
    from torchao.quantization.pt2e import move_exported_model_to_eval
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = _quantizer()
    prepared = prepare_pt2e(torch.export.export(module, (), kwargs).module(), quantizer)
    with torch.no_grad():
        for feed in calibration:
            prepared(**{name: torch.from_numpy(np.ascontiguousarray(x)) for name, x in feed.items()})
    return move_exported_model_to_eval(convert_pt2e(prepared, fold_quantize=False)), quantizer


def _convert(
    module: torch.nn.Module,
    kwargs: dict[str, torch.Tensor],
    precision: str,
    calibration: list[dict[str, np.ndarray]],
    path: Path,
) -> None:
    """litert-torch conversion of a keyword-input module, fp32 or PT2E int8, written to ``path``."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("litert_torch").setLevel(logging.ERROR)
    import litert_torch

    if precision == "fp32":
        edge_model = litert_torch.convert(module.eval(), sample_kwargs=kwargs)
    else:
        from litert_torch.quantize.quant_config import QuantConfig

        quantized, quantizer = _quantize(module.eval(), kwargs, calibration)
        edge_model = litert_torch.convert(
            quantized, sample_kwargs=kwargs, quant_config=QuantConfig(pt2e_quantizer=quantizer)
        )
    edge_model.export(str(path))


def _quantization(precision: str, count: int) -> str:
    return (
        "PT2E static: int8 weights per output channel, int8 activations (min-max observers over "
        f"{count} calibration inputs); inputs/outputs float32"
        if precision == "int8"
        else "none"
    )


def export(
    module: torch.nn.Module, example: torch.Tensor, precision: str, calibration: list[np.ndarray], path: Path
) -> ExportResult:
    """Write the ``.tflite`` artifact at ``path``."""
    feeds = [{INPUT_NAMES[0]: sample} for sample in calibration]
    return export_graph(
        SignatureModel(module), {INPUT_NAMES[0]: example}, OUTPUT_NAMES, path, precision, feeds
    )


def _op_counts(path: Path) -> dict[str, int]:
    """Builtin operator counts of the flatbuffer (what runs; QUANTIZE/DEQUANTIZE show the int8 borders)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    counts: dict[str, int] = {}
    for op in interpreter._get_ops_details():
        counts[op["op_name"]] = counts.get(op["op_name"], 0) + 1
    return dict(sorted(counts.items()))


def export_graph(
    module: torch.nn.Module,
    inputs: dict[str, torch.Tensor],
    output_names: tuple[str, ...],
    path: Path,
    precision: str = "fp32",
    calibration: list[dict[str, np.ndarray]] | None = None,
) -> ExportResult:
    """Any network taking keyword inputs and returning a dict of ``output_names`` (IPL's tile graphs) as
    a ``.tflite`` file whose ``serving_default`` signature uses those names; int8: PT2E, observing the
    ``calibration`` feeds."""
    feeds = calibration or []
    _convert(module, inputs, precision, feeds, path)
    return ExportResult(
        path=path,
        input_names=tuple(inputs),
        output_names=output_names,
        toolchain=versions("torch", "torchao", "litert-torch", "ai-edge-litert"),
        report={
            "quantization": _quantization(precision, len(feeds)),
            "operators": _op_counts(path),
        },
        extra_postprocessing={"signature": SIGNATURE},
    )
