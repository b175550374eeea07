"""``--target onnx``: an ``.onnx`` model for onnxruntime, fp32 or int8.

- fp32: ``torch.onnx.export(..., dynamo=True)`` of the network (opset 18), constants folded.
- int8: onnxruntime static post-training quantization of that model (QDQ format, int8 weights per output
  channel, int8 activations, min-max calibration on ``calibration_data/calibration``; the softmax of the
  fusion weights stays float), after onnxruntime's shape-inference pre-processing.
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

INPUT_NAMES = ("thumbnails",)
OUTPUT_NAMES = ("weights", "lut")
OPSET = 18


def export_fp32(module: torch.nn.Module, example: torch.Tensor, path: Path) -> None:
    """The network as an fp32 ONNX file with named inputs and outputs."""
    _save_onnx(module, {INPUT_NAMES[0]: example}, OUTPUT_NAMES, path)


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


class ThumbnailReader(CalibrationDataReader):
    """onnxruntime's calibration reader over a list of thumbnails."""

    def __init__(self, samples: list[np.ndarray]) -> None:
        self._samples = iter(samples)

    def get_next(self) -> dict[str, np.ndarray] | None:
        sample = next(self._samples, None)
        return None if sample is None else {INPUT_NAMES[0]: sample}


def quantize_int8(fp32_path: Path, path: Path, calibration: list[np.ndarray]) -> None:
    """Static int8 quantization (QDQ) of an fp32 ONNX file."""
    reader = ThumbnailReader(calibration)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        logging.getLogger("root").setLevel(logging.ERROR)
        # the softmax stays float: its weights then sum to 1 exactly (quantized, 0.996; 2 dB worse parity)
        softmax = [node.name for node in onnx.load(str(prepared)).graph.node if node.op_type == "Softmax"]
        quantize_static(
            str(prepared),
            str(path),
            reader,
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QInt8,
            nodes_to_exclude=softmax,
            extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
        )


def export(
    module: torch.nn.Module, example: torch.Tensor, precision: str, calibration: list[np.ndarray], path: Path
) -> ExportResult:
    """Write the ``.onnx`` artifact at ``path``."""
    if precision == "fp32":
        export_fp32(module, example, path)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            fp32_path = Path(tmp) / "fp32.onnx"
            export_fp32(module, example, fp32_path)
            quantize_int8(fp32_path, path, calibration)
    report = _op_report(path)
    return ExportResult(
        path=path,
        input_names=INPUT_NAMES,
        output_names=OUTPUT_NAMES,
        toolchain=versions("torch", "onnx", "onnxscript", "onnxruntime"),
        report=report,
    )


def _op_report(path: Path) -> dict[str, object]:
    """Operator counts of the graph (QuantizeLinear/DequantizeLinear pairs show what int8 covers)."""
    model = onnx.load(str(path))
    counts: dict[str, int] = {}
    for node in model.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return {"opset": OPSET, "operators": dict(sorted(counts.items()))}


def export_graph(
    module: torch.nn.Module, inputs: dict[str, torch.Tensor], output_names: tuple[str, ...], path: Path
) -> ExportResult:
    """Any fp32 network with named inputs and outputs (IPL's tile graphs) as an ``.onnx`` file."""
    _save_onnx(module, inputs, output_names, path)
    return ExportResult(
        path=path,
        input_names=tuple(inputs),
        output_names=output_names,
        toolchain=versions("torch", "onnx", "onnxscript", "onnxruntime"),
        report=_op_report(path),
    )
