"""The onnxruntime runtime: an ``.onnx`` model, fp32 or int8.

- fp32: ``torch.onnx.export(..., dynamo=True)`` of the graph (opset 18), constants folded.
- int8: onnxruntime static post-training quantization of that model (QDQ format, int8 weights per output
  channel, int8 activations, min-max calibration on the graph's calibration feeds), after onnxruntime's
  shape-inference pre-processing; the graph's :class:`~converters.graphs.QuantizationHints` choose the
  operator types quantized and those kept float.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from converters.base import ExportResult, versions
from converters.graphs import NO_HINTS, QuantizationHints

OPSET = 18


def _save_onnx(
    module: torch.nn.Module, inputs: dict[str, torch.Tensor], output_names: tuple[str, ...], path: Path
) -> None:
    program = torch.onnx.export(
        module,
        tuple(inputs.values()),
        dynamo=True,
        opset_version=OPSET,
        input_names=list(inputs),
        output_names=list(output_names),
        optimize=True,
        verbose=False,
    )
    program.save(str(path))


class FeedReader(CalibrationDataReader):
    """onnxruntime's calibration reader over a list of feeds (input name -> array)."""

    def __init__(self, feeds: list[dict[str, np.ndarray]]) -> None:
        self._feeds = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def quantize_int8(
    fp32_path: Path,
    path: Path,
    feeds: list[dict[str, np.ndarray]],
    keep_float: tuple[str, ...] = ("Softmax",),
    op_types: tuple[str, ...] | None = None,
) -> None:
    """Static int8 quantization (QDQ) of an fp32 ONNX file, observing ``feeds``; operators of the types in
    ``keep_float`` stay float (``op_types``: quantize only these types; None: every type onnxruntime can)."""
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        logging.getLogger("root").setLevel(logging.ERROR)
        excluded = [node.name for node in onnx.load(str(prepared)).graph.node if node.op_type in keep_float]
        quantize_static(
            str(prepared),
            str(path),
            FeedReader(feeds),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            # 7-bit weights: x86 CPUs without VNNI run int8 convolutions with VPMADDUBSW, whose 16-bit
            # intermediate sums saturate with full-range weights (measured: 28 and 25 dB parity on an AVX2
            # EPYC, against 37+ dB on a VNNI machine); onnxruntime's advice for portable artifacts
            reduce_range=True,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
            op_types_to_quantize=list(op_types) if op_types is not None else None,
            extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
        )


def _op_report(path: Path) -> dict[str, object]:
    """Operator counts of the graph (QuantizeLinear/DequantizeLinear pairs show what int8 covers)."""
    model = onnx.load(str(path))
    counts: dict[str, int] = {}
    for node in model.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return {"opset": OPSET, "operators": dict(sorted(counts.items()))}


def export_graph(
    module: torch.nn.Module,
    inputs: dict[str, torch.Tensor],
    output_names: tuple[str, ...],
    path: Path,
    precision: str = "fp32",
    calibration: list[dict[str, np.ndarray]] | None = None,
    hints: QuantizationHints = NO_HINTS,
) -> ExportResult:
    """A graph with named inputs and outputs as an ``.onnx`` file; int8: static QDQ as ``hints`` say,
    observing the ``calibration`` feeds."""
    report: dict[str, object] = {"quantization": "none"}
    if precision == "int8":
        feeds = calibration or []
        with tempfile.TemporaryDirectory() as tmp:
            fp32_path = Path(tmp) / "fp32.onnx"
            _save_onnx(module, inputs, output_names, fp32_path)
            quantize_int8(fp32_path, path, feeds, keep_float=hints.keep_float, op_types=hints.op_types)
        covered = ", ".join(hints.op_types) if hints.op_types else "every operator type onnxruntime quantizes"
        kept = f"; {', '.join(hints.keep_float)} kept float" if hints.keep_float else ""
        report["quantization"] = (
            f"onnxruntime static QDQ of {covered}{kept}: int8 weights per output channel (7-bit range), int8 "
            f"activations (min-max over {len(feeds)} calibration inputs)"
        )
    else:
        _save_onnx(module, inputs, output_names, path)
    return ExportResult(
        path=path,
        input_names=tuple(inputs),
        output_names=output_names,
        toolchain=versions("torch", "onnx", "onnxscript", "onnxruntime"),
        report={**report, **_op_report(path)},
    )
