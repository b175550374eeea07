"""The ExecuTorch runtime: a ``.pte`` program with the XNNPACK delegate, int8 or fp32.

- ``torch.export`` of the graph, then ``constant_prop_pass``: whatever depends only on constants (e.g. a
  LUT's lattice coordinates and interpolation matrices) becomes a constant instead of ``arange``/``expand``
  ops that XNNPACK does not take (quantize/dequantize ops are never folded).
- int8: PT2E with ``XNNPACKQuantizer`` (symmetric, int8 weights per output channel, int8 activations),
  ``prepare_pt2e`` / ``convert_pt2e`` from torchao, calibrated on the graph's feeds.
- ``to_edge_transform_and_lower(..., partitioner=[XnnpackPartitioner()])`` then ``to_executorch()``.

The contract's ``checks[GRAPH].delegation`` reports how many operator nodes run inside XNNPACK and which
are left on ExecuTorch's portable kernels (tuple unpacking and quantize/dequantize nodes that XNNPACK absorbs
are not counted), so nothing is silently left behind.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from converters.base import ExportResult, calibration_tensors, versions
from converters.graphs import NO_HINTS, QuantizationHints
from converters.observers import share_call_observers

_QDQ = ("quantize_per_tensor", "dequantize_per_tensor", "quantize_per_channel", "dequantize_per_channel")


def quantize_int8(
    module: torch.nn.Module, example: tuple[torch.Tensor, ...], calibration: list[tuple[np.ndarray, ...]]
) -> torch.nn.Module:
    """PT2E static int8 for XNNPACK; ``calibration``: the module's positional inputs, one tuple a call."""
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    graph = untie_conv_parameters(torch.export.export(module, example).module())
    prepared = prepare_pt2e(graph, quantizer)
    share_call_observers(prepared)
    with torch.no_grad():
        for sample in calibration:
            prepared(*calibration_tensors(list(sample)))
    return convert_pt2e(prepared)


def untie_conv_parameters(graph_module: torch.fx.GraphModule) -> torch.fx.GraphModule:
    """Give every convolution its own node of a weight or bias that several convolutions share.

    A module applied twice (CRMEF's feature convolution, run on both relit frames) is one parameter node
    used by two convolutions. ``XNNPACKQuantizer`` annotates the shared node for the first convolution
    only; the second stays float between int8 tensors, and XNNPACK refuses the program at load
    ("Failed to create convolution node ... xnn_status_invalid_parameter"). With a node per use, each
    convolution is quantized on its own (to the same ranges: the values are the same).
    """
    graph = graph_module.graph
    convolutions = {torch.ops.aten.conv2d.default, torch.ops.aten.conv1d.default}
    for node in list(graph.nodes):
        users = [user for user in node.users if user.target in convolutions]
        if node.op != "get_attr" or len(users) < 2:
            continue
        for user in users[1:]:
            with graph.inserting_after(node):
                copy = graph.get_attr(str(node.target))
            copy.meta.update(node.meta)
            user.replace_input_with(node, copy)
    graph.lint()
    graph_module.recompile()
    return graph_module


def _lower(model: torch.nn.Module, example: tuple[torch.Tensor, ...], path: Path) -> dict[str, object]:
    """Export, fold constants (never the quantize/dequantize pairs), lower to XNNPACK, write ``path``;
    returns the delegation report."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower
    from executorch.exir.operator.util import _QUANT_PRIMITIVES
    from executorch.exir.passes.constant_prop_pass import constant_prop_pass

    program = constant_prop_pass(
        torch.export.export(model, example),
        custom_skip_targets={*_QUANT_PRIMITIVES, torch.ops.aten.full.default},
    )
    edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
    delegation = delegation_report(edge.exported_program().graph_module)
    with open(path, "wb") as handle:
        edge.to_executorch().write_to_file(handle)
    return delegation


def delegation_report(graph_module: torch.fx.GraphModule) -> dict[str, object]:
    """Operator nodes inside XNNPACK subgraphs vs left on portable kernels (call before ``to_executorch``)."""
    from executorch.devtools.backend_debug import get_delegation_info

    info = get_delegation_info(graph_module)
    delegated = portable = 0
    left: dict[str, int] = {}
    for entry in info.delegation_by_operator.values():
        if entry.op_type == "getitem" or any(q in entry.op_type for q in _QDQ):
            continue
        delegated += entry.delegated
        portable += entry.non_delegated
        if entry.non_delegated:
            left[entry.op_type] = entry.non_delegated
    return {
        "delegate": "XnnpackBackend",
        "subgraphs": info.num_delegated_subgraphs,
        "delegated_ops": delegated,
        "portable_ops": portable,
        "delegated_share": round(delegated / max(delegated + portable, 1), 3),
        "left_on_portable_kernels": dict(sorted(left.items())),
    }


def export_graph(
    module: torch.nn.Module,
    inputs: dict[str, torch.Tensor],
    output_names: tuple[str, ...],
    path: Path,
    precision: str = "fp32",
    calibration: list[dict[str, np.ndarray]] | None = None,
    hints: QuantizationHints = NO_HINTS,
) -> ExportResult:
    """A graph with positional inputs (in ``inputs``' order) and outputs in ``output_names``' order as a
    ``.pte`` program lowered to XNNPACK; int8: PT2E with ``XNNPACKQuantizer``, observing the
    ``calibration`` feeds (``hints`` are onnxruntime's)."""
    example = tuple(inputs.values())
    quantization = "none"
    model = module.eval()
    if precision == "int8":
        feeds = calibration or []
        model = quantize_int8(model, example, [tuple(feed[name] for name in inputs) for feed in feeds])
        quantization = (
            "PT2E XNNPACKQuantizer: int8 weights per output channel, int8 activations (min-max observers "
            f"over {len(feeds)} calibration inputs); inputs/outputs float32"
        )
    delegation = _lower(model, example, path)
    return ExportResult(
        path=path,
        input_names=tuple(inputs),
        output_names=output_names,
        toolchain=versions("torch", "torchao", "executorch"),
        report={"quantization": quantization, "delegation": delegation},
    )
