"""The CoreML runtime: an ML program (``.mlpackage``, iOS 17), fp16 (default), fp32, or int8 weights.

- ``ct.convert(torch.export.export(m, x).run_decompositions({}), minimum_deployment_target=iOS17,
  compute_precision=...)`` with the graph's input and output names (float32 at the interface in every
  precision).
- int8: the fp16 program, then ``coremltools.optimize.coreml.linear_quantize_weights`` on the conv and linear
  weights (linear symmetric, int8, per output channel; weights of any size). Constants that are not
  parameters (e.g. a LUT's identity lattice and coordinates) stay fp16: quantizing them would shift every
  LUT entry.

CoreML predictions need macOS, so the parity gate cannot run the artifact here. Instead the spec is checked
(names, shapes, dtypes, op types, precision of ops and constants) and the same exported
graph is run in PyTorch with CoreML's numerics: fp16 weights and compute, and for int8 the weights
fake-quantized exactly as coremltools does (``scale = max|w| / 127`` per output channel in fp16, ``q =
clip(round(w / scale), -127, 127)``). For int8 the check also reads the quantized weights back out of the
artifact and compares them with the emulation's (``checks[GRAPH].spec.int8_weights_vs_emulation``).
"""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from converters.base import ExportResult, versions
from converters.graphs import NO_HINTS, QuantizationHints, TorchRunner


def coreml_int8(weight: np.ndarray) -> np.ndarray:
    """What ``linear_quantize_weights`` (linear_symmetric, int8, per channel on axis 0) makes of an fp16
    weight, dequantized back to fp16."""
    w = weight.astype(np.float16)
    peak = np.abs(w).reshape(w.shape[0], -1).max(axis=1).reshape((-1,) + (1,) * (w.ndim - 1))
    scale = (2 * peak / np.float16(254)).astype(np.float16)
    scale[scale == 0] = np.float16(1)
    q = np.clip(np.round(w / scale), -127, 127)
    return (q.astype(np.float16) * scale).astype(np.float16)


def coreml_numerics(module: torch.nn.Module, precision: str) -> tuple[torch.nn.Module, torch.dtype]:
    """A copy of ``module`` with CoreML's numerics for ``precision`` (fp16 compute; int8: coremltools' weight
    rounding), and its dtype."""
    model = copy.deepcopy(module).eval()
    if precision == "int8":
        for layer in model.modules():
            if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
                layer.weight.data = torch.from_numpy(
                    coreml_int8(layer.weight.detach().numpy()).astype(np.float32)
                )
    dtype = torch.float32 if precision == "fp32" else torch.float16
    return model.to(dtype), dtype


def emulate(module: torch.nn.Module, precision: str) -> TorchRunner:
    """The graph with CoreML's numerics for ``precision`` (see the module docstring), as a runner: what the
    parity gate compares with PyTorch fp32 in place of the artifact."""
    return TorchRunner(*coreml_numerics(module, precision))


def export_graph(
    module: torch.nn.Module,
    inputs: dict[str, torch.Tensor],
    output_names: tuple[str, ...],
    path: Path,
    precision: str = "fp16",
    calibration: list[dict[str, np.ndarray]] | None = None,
    hints: QuantizationHints = NO_HINTS,
) -> ExportResult:
    """A graph with named inputs and outputs as an ``.mlpackage``, checked by its spec (its parity is
    checked against :func:`emulate`; int8 is weight-only, so calibration and ``hints`` are not needed)."""
    model, quantization = _convert(module, inputs, output_names, precision)
    model.save(str(path))
    spec = inspect_spec(path)
    if precision == "int8":
        spec["int8_weights_vs_emulation"] = _compare_int8_weights(path, module)
    _check_spec(spec, precision, {name: list(x.shape) for name, x in inputs.items()}, output_names)
    return ExportResult(
        path=path,
        input_names=tuple(inputs),
        output_names=output_names,
        toolchain=versions("torch", "coremltools"),
        report={"quantization": quantization, "spec": spec},
    )


def _without_aliases(program: torch.export.ExportedProgram) -> torch.export.ExportedProgram:
    """Drop ``aten.alias`` nodes (identities, e.g. a slice over a whole axis; coremltools has no lowering
    for them)."""
    graph_module = program.graph_module
    for node in list(graph_module.graph.nodes):
        if node.op == "call_function" and node.target == torch.ops.aten.alias.default:
            node.replace_all_uses_with(node.args[0])
            graph_module.graph.erase_node(node)
    graph_module.recompile()
    return program


def _convert(
    module: torch.nn.Module, inputs: dict[str, torch.Tensor], output_names: tuple[str, ...], precision: str
) -> tuple[object, str]:
    """coremltools conversion (and int8 weight quantization) of ``module``; the model and what was done."""
    import coremltools as ct
    import coremltools.optimize.coreml as cto

    program = _without_aliases(
        torch.export.export(module.eval(), tuple(inputs.values())).run_decompositions({})
    )
    model = ct.convert(
        program,
        minimum_deployment_target=ct.target.iOS17,
        compute_precision=ct.precision.FLOAT32 if precision == "fp32" else ct.precision.FLOAT16,
        convert_to="mlprogram",
        inputs=[
            ct.TensorType(name=name, shape=tuple(x.shape), dtype=np.float32) for name, x in inputs.items()
        ],
        outputs=[ct.TensorType(name=name, dtype=np.float32) for name in output_names],
    )
    quantization = "none"
    if precision == "int8":
        config = cto.OpLinearQuantizerConfig(
            mode="linear_symmetric", dtype="int8", granularity="per_channel", weight_threshold=0
        )
        # only the network's parameters (exported as ``p_*`` consts); lattice constants such as the latent
        # interpolation matrix stay fp16, so the emulation below is exact
        constants = {
            op.name: None
            for op in model._mil_program.functions["main"].operations
            if op.op_type == "const" and not op.name.startswith("p_")
        }
        model = cto.linear_quantize_weights(
            model,
            config=cto.OptimizationConfig(
                op_type_configs={"conv": config, "linear": config, "matmul": config},
                op_name_configs=constants,
            ),
        )
        quantization = "weights only: conv and linear weights int8 per output channel (linear symmetric)"
    return model, quantization


def inspect_spec(path: Path) -> dict[str, object]:
    """Names, shapes and dtypes of the interface; op types and the dtypes of op outputs and constants."""
    import coremltools as ct
    from coremltools.proto import MIL_pb2

    model = ct.models.MLModel(str(path), skip_model_load=True)
    spec = model.get_spec()
    array_type = ct.proto.FeatureTypes_pb2.ArrayFeatureType.ArrayDataType.Name
    dtype_name = {v: k for k, v in MIL_pb2.DataType.items()}
    ops: Counter[str] = Counter()
    dtypes: Counter[str] = Counter()

    def walk(block) -> None:
        for op in block.operations:
            ops[op.type] += 1
            kind = "const" if op.type == "const" else "constexpr" if op.type.startswith("constexpr") else "op"
            for output in op.outputs:
                if output.type.HasField("tensorType"):
                    dtypes[f"{kind}:{dtype_name[output.type.tensorType.dataType]}"] += 1
            for inner in op.blocks:
                walk(inner)

    main = spec.mlProgram.functions["main"]
    for block in main.block_specializations.values():
        walk(block)
    return {
        "specification_version": spec.specificationVersion,
        "opset": sorted(main.block_specializations),
        "inputs": {f.name: list(f.type.multiArrayType.shape) for f in spec.description.input},
        "outputs": {f.name: list(f.type.multiArrayType.shape) for f in spec.description.output},
        "interface_dtypes": {
            f.name: array_type(f.type.multiArrayType.dataType)
            for f in (*spec.description.input, *spec.description.output)
        },
        "op_types": dict(sorted(ops.items())),
        "dtypes": dict(sorted(dtypes.items())),
    }


def _check_spec(
    spec: dict, precision: str, inputs: dict[str, list[int]], output_names: tuple[str, ...]
) -> None:
    """Refuse an artifact whose spec is not what the contract will promise."""
    from edgemef.errors import ConversionError

    problems = []
    if spec["inputs"] != inputs:
        problems.append(f"inputs {spec['inputs']}")
    if sorted(spec["outputs"]) != sorted(output_names):
        problems.append(f"outputs {sorted(spec['outputs'])}")
    if any(v != "FLOAT32" for v in spec["interface_dtypes"].values()):
        problems.append(f"interface dtypes {spec['interface_dtypes']}")
    compute = "fp32" if precision == "fp32" else "fp16"
    want = "op:FLOAT32" if compute == "fp32" else "op:FLOAT16"
    if spec["dtypes"].get(want, 0) == 0:
        problems.append(f"no {want} ops for {precision}")
    if precision == "int8" and not any(t.startswith("constexpr") for t in spec["op_types"]):
        problems.append("no constexpr (quantized) weights")
    compared = spec.get("int8_weights_vs_emulation", {})
    if precision == "int8" and (compared.get("max_abs_diff", 1.0) > 0 or compared.get("unmatched")):
        problems.append(f"int8 weights differ from the emulation: {compared}")
    if problems:
        raise ConversionError("the CoreML spec is not as expected: " + "; ".join(problems))


def _compare_int8_weights(path: Path, module: torch.nn.Module) -> dict[str, float | int]:
    """Dequantize the artifact's int8 weights and compare with :func:`coreml_int8` of the torch weights."""
    import coremltools as ct
    from coremltools.converters.mil.frontend.milproto.load import load as milproto_load

    model = ct.models.MLModel(str(path), skip_model_load=True)
    spec = model.get_spec()
    program = milproto_load(spec, spec.specificationVersion, file_weights_dir=model.weights_dir)
    stored = {}
    for op in program.functions["main"].operations:
        if op.op_type == "constexpr_affine_dequantize":  # value = (q - zero_point) * scale along axis
            q = op.quantized_data.val.astype(np.float32)
            shape = [1] * q.ndim
            shape[int(op.axis.val)] = -1
            zero = np.asarray(op.zero_point.val, np.float32).reshape(
                shape if np.size(op.zero_point.val) > 1 else []
            )
            scale = np.asarray(op.scale.val, np.float32).reshape(shape if np.size(op.scale.val) > 1 else [])
            stored[op.outputs[0].name] = ((q - zero) * scale).astype(np.float16).astype(np.float32)
    worst, matched = 0.0, set()
    for name, parameter in module.named_parameters():
        key = "p_" + name.replace(".", "_") + "_to_fp16_quantized"
        if key in stored:
            emulated = coreml_int8(parameter.detach().numpy()).astype(np.float32)
            worst = max(worst, float(np.abs(stored[key].reshape(emulated.shape) - emulated).max()))
            matched.add(key)
    return {
        "weights_matched": len(matched),
        "unmatched": sorted(set(stored) - matched),
        "max_abs_diff": worst,
    }
