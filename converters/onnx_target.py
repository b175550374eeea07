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
            # the softmax stays float: its weights then sum to 1 exactly (quantized, 0.996; 2 dB worse parity)
            quantize_int8(fp32_path, path, [{INPUT_NAMES[0]: sample} for sample in calibration])
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


#: What int8 covers in IPL's tile graphs: the convolutions and the 1x1 "convolutions" on pooled vectors
#: (Gemm). Quantizing every operator (the reshapes, transposes, sums and products of the attention and DRTM
#: too) measured 29.7 dB against fp32 on the parity tiles and ran slower in onnxruntime (QDQ pairs around
#: cheap operators); Conv and Gemm only: 35.5 dB.
GRAPH_INT8_OPS = ("Conv", "Gemm")


def export_graph(
    module: torch.nn.Module,
    inputs: dict[str, torch.Tensor],
    output_names: tuple[str, ...],
    path: Path,
    precision: str = "fp32",
    calibration: list[dict[str, np.ndarray]] | None = None,
) -> ExportResult:
    """Any network with named inputs and outputs (IPL's tile graphs) as an ``.onnx`` file; int8: static QDQ
    of its :data:`GRAPH_INT8_OPS`, observing the ``calibration`` feeds."""
    report: dict[str, object] = {"quantization": "none"}
    if precision == "int8":
        feeds = calibration or []
        with tempfile.TemporaryDirectory() as tmp:
            fp32_path = Path(tmp) / "fp32.onnx"
            _save_onnx(module, inputs, output_names, fp32_path)
            quantize_int8(fp32_path, path, feeds, keep_float=(), op_types=GRAPH_INT8_OPS)
        report["quantization"] = (
            f"onnxruntime static QDQ of {', '.join(GRAPH_INT8_OPS)}: int8 weights per output channel, int8 "
            f"activations (min-max over {len(feeds)} calibration tiles); the rest float32"
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
