"""The capability tables: which runtime makes which artifact with which precisions, and the platform
presets (``--target``) over them.

Runtimes are what runs a model file (executorch, coreml, litert, onnxruntime); targets are the platforms
users name (android, ios, rpi, onnx), each a preset of one or more runtimes, its first the default
(``--target android`` makes an ExecuTorch program; ``--target android --runtime litert`` a LiteRT model for
the same phone). An unknown name or a precision a runtime does not take is an error that lists the valid
choices; nothing guesses the nearest name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from edgemef.errors import ConversionError


@dataclass(frozen=True)
class RuntimeSpec:
    """One runtime and the artifact it runs.

    Attributes:
        name: the runtime, as contracts name it (``backend``) and ``--runtime`` takes it.
        summary: the artifact, in words.
        suffix: the artifact's file suffix.
        precisions: the precisions it takes; ``default_precision`` is used without ``--precision``.
        module: the converter module (one per runtime) in this package, with ``export_graph``.
        runs_here: whether its artifacts run on this Linux machine (CoreML needs macOS).
    """

    name: str
    summary: str
    suffix: str
    precisions: tuple[str, ...]
    default_precision: str
    module: str
    runs_here: bool = True


@dataclass(frozen=True)
class TargetSpec:
    """A platform preset: the runtimes that serve it, the first by default."""

    name: str
    summary: str
    runtimes: tuple[str, ...]


RUNTIMES: dict[str, RuntimeSpec] = {
    spec.name: spec
    for spec in (
        RuntimeSpec(
            "executorch",
            "ExecuTorch program (.pte), XNNPACK delegate",
            ".pte",
            ("int8", "fp32"),
            "int8",
            "converters.executorch_target",
        ),
        RuntimeSpec(
            "coreml",
            "CoreML ML program (.mlpackage), iOS 17",
            ".mlpackage",
            ("fp16", "int8", "fp32"),
            "fp16",
            "converters.coreml_target",
            runs_here=False,
        ),
        RuntimeSpec(
            "litert",
            "LiteRT flatbuffer (.tflite), XNNPACK CPU",
            ".tflite",
            ("int8", "fp32"),
            "int8",
            "converters.litert_target",
        ),
        RuntimeSpec(
            "onnxruntime",
            "ONNX model (.onnx), onnxruntime CPU",
            ".onnx",
            ("fp32", "int8"),
            "fp32",
            "converters.onnx_target",
        ),
    )
}

TARGETS: dict[str, TargetSpec] = {
    spec.name: spec
    for spec in (
        TargetSpec("android", "Android phones", ("executorch", "litert")),
        TargetSpec("ios", "iPhone and iPad", ("coreml",)),
        TargetSpec("rpi", "Raspberry Pi and other Linux boards", ("litert", "onnxruntime")),
        TargetSpec("onnx", "any machine with onnxruntime", ("onnxruntime",)),
    )
}

#: what each precision means, for the contract and the docs
PRECISIONS = {
    "fp32": "float32 weights and compute",
    "fp16": "float16 weights and compute (inputs and outputs float32)",
    "int8": "int8 weights (per channel); int8 activations where the target quantizes them statically",
}

#: parity gate on the fused image, PSNR in dB against PyTorch fp32
PARITY_GATE_DB = {"fp32": 40.0, "fp16": 40.0, "int8": 32.0}


class Resolved(NamedTuple):
    """A target, the runtime chosen for it and the precision."""

    target: TargetSpec
    runtime: RuntimeSpec
    precision: str


def resolve_target(
    target: str,
    precision: str | None = None,
    runtime: str | None = None,
    family_defaults: Mapping[str, str] | None = None,
) -> Resolved:
    """The target, its runtime (its default when ``runtime`` is None) and the precision (the family's
    default for that runtime, else the runtime's, when ``precision`` is None).

    Raises:
        ConversionError: unknown target or runtime, a runtime the target does not use, or a precision the
            runtime does not take (the message lists the valid choices).
    """
    spec = TARGETS.get(target)
    if spec is None:
        raise ConversionError(f"unknown target {target!r}; choose one of: {', '.join(TARGETS)}")
    if runtime is None:
        runtime = spec.runtimes[0]
    elif runtime not in RUNTIMES:
        raise ConversionError(f"unknown runtime {runtime!r}; choose one of: {', '.join(RUNTIMES)}")
    elif runtime not in spec.runtimes:
        raise ConversionError(
            f"target {target} uses the runtime(s) {', '.join(spec.runtimes)}, not {runtime}"
        )
    run = RUNTIMES[runtime]
    if precision is None:
        return Resolved(spec, run, (family_defaults or {}).get(runtime, run.default_precision))
    if precision not in run.precisions:
        raise ConversionError(
            f"target {target} ({runtime}) does not take precision {precision!r}; it takes: "
            f"{', '.join(run.precisions)}"
        )
    return Resolved(spec, run, precision)


def capability_table() -> str:
    """The targets as Markdown (README, docs/convert.md)."""
    lines = [
        "| target | runtime (default first) | artifact | precisions (default first) | runs on this machine |",
        "|---|---|---|---|---|",
    ]
    for target in TARGETS.values():
        for index, name in enumerate(target.runtimes):
            run = RUNTIMES[name]
            ordered = [run.default_precision, *(p for p in run.precisions if p != run.default_precision)]
            lines.append(
                f"| {target.name if index == 0 else ''} | {name} | {run.summary} | {', '.join(ordered)} | "
                f"{'yes' if run.runs_here else 'no (macOS/iOS); checked by spec + emulation'} |"
            )
    return "\n".join(lines)
