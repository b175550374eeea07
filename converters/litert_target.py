"""The LiteRT runtime: a ``.tflite`` flatbuffer (ai-edge-litert, XNNPACK CPU), int8 or fp32.

- fp32: ``litert_torch.convert`` of the graph.
- int8: litert-torch's PT2E quantizer (static, symmetric, int8 weights per output channel, int8 activations)
  through torchao's ``prepare_pt2e`` / ``convert_pt2e``, calibrated on the graph's feeds. Its ``mul`` rule
  is switched off: multiplications by constants (e.g. lattice interpolation matrices built from ``arange``)
  fail to quantize on the int64 constant. The float ELU chains it leaves between int8 tensors are then
  rewritten as LiteRT's int8 ELU (:mod:`converters.litert_elu`).

The graph takes keyword inputs and returns a dict, so the ``serving_default`` signature names its tensors
as the contract does.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch

from converters.base import ExportResult, versions
from converters.graphs import NO_HINTS, QuantizationHints
from converters.litert_elu import fuse_float_elus
from converters.observers import share_call_observers

SIGNATURE = "serving_default"


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
    share_call_observers(prepared)
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
    hints: QuantizationHints = NO_HINTS,
) -> ExportResult:
    """A graph taking keyword inputs and returning a dict of ``output_names`` as a ``.tflite`` file whose
    ``serving_default`` signature uses those names; int8: PT2E, observing the ``calibration`` feeds
    (``hints`` are onnxruntime's; PT2E quantizes what its quantizer annotates)."""
    feeds = calibration or []
    _convert(module, inputs, precision, feeds, path)
    rewrites = {"int8 ELUs from float chains": fuse_float_elus(path)} if precision == "int8" else {}
    return ExportResult(
        path=path,
        input_names=tuple(inputs),
        output_names=output_names,
        toolchain=versions("torch", "torchao", "litert-torch", "ai-edge-litert"),
        report={
            "quantization": _quantization(precision, len(feeds)),
            "operators": _op_counts(path),
            **({"rewrites": rewrites} if rewrites else {}),
        },
        extra_postprocessing={"signature": SIGNATURE},
    )
