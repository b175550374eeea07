"""The capability table: which target makes which artifact, with which precisions, run by which runtime.

One row per ``edgemef convert --target``. An unknown target or a precision a target does not take is an
error that lists the valid choices; nothing guesses the nearest name.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgemef.errors import ConversionError


@dataclass(frozen=True)
class TargetSpec:
    """One export target.

    Attributes:
        name: what users type after ``--target``.
        summary: the artifact, in words.
        backend: the runtime named in the contract (``edgemef.runtime.backends``).
        suffix: the artifact's file suffix.
        precisions: the precisions this target takes; ``default_precision`` is used without ``--precision``.
        module: the converter module (one per target) in this package.
        runs_here: whether the artifact runs on this Linux machine (CoreML needs macOS).
    """

    name: str
    summary: str
    backend: str
    suffix: str
    precisions: tuple[str, ...]
    default_precision: str
    module: str
    runs_here: bool = True


TARGETS: dict[str, TargetSpec] = {
    spec.name: spec
    for spec in (
        TargetSpec(
            "android",
            "ExecuTorch program (.pte), XNNPACK delegate",
            "executorch",
            ".pte",
            ("int8", "fp32"),
            "int8",
            "converters.executorch_target",
        ),
        TargetSpec(
            "ios",
            "CoreML ML program (.mlpackage), iOS 17",
            "coreml",
            ".mlpackage",
            ("fp16", "int8", "fp32"),
            "fp16",
            "converters.coreml_target",
            runs_here=False,
        ),
        TargetSpec(
            "rpi",
            "LiteRT flatbuffer (.tflite), XNNPACK CPU",
            "litert",
            ".tflite",
            ("int8", "fp32"),
            "int8",
            "converters.litert_target",
        ),
        TargetSpec(
            "onnx",
            "ONNX model (.onnx), onnxruntime CPU",
            "onnxruntime",
            ".onnx",
            ("fp32", "int8"),
            "fp32",
            "converters.onnx_target",
        ),
    )
}

#: what each precision means, for the contract and the README
PRECISIONS = {
    "fp32": "float32 weights and compute",
    "fp16": "float16 weights and compute (inputs and outputs float32)",
    "int8": "int8 weights (per channel); int8 activations where the target quantizes them statically",
}

#: parity gate on the fused image, PSNR in dB against PyTorch fp32 (issue 4)
PARITY_GATE_DB = {"fp32": 40.0, "fp16": 40.0, "int8": 32.0}

#: models that can be converted
CONVERTIBLE_MODELS = ("lut-student", "ipl")


def resolve_target(target: str, precision: str | None) -> tuple[TargetSpec, str]:
    """The target's spec and the precision to use (its default when ``precision`` is None).

    Raises:
        ConversionError: unknown target, or a precision the target does not take (the message lists the
            valid choices).
    """
    spec = TARGETS.get(target)
    if spec is None:
        raise ConversionError(f"unknown target {target!r}; choose one of: {', '.join(TARGETS)}")
    if precision is None:
        return spec, spec.default_precision
    if precision not in spec.precisions:
        raise ConversionError(
            f"target {target} does not take precision {precision!r}; it takes: {', '.join(spec.precisions)}"
        )
    return spec, precision


def capability_table() -> str:
    """The table as Markdown (``edgemef convert --list``, README)."""
    lines = [
        "| target | artifact | runtime | precisions (default first) | runs on this machine |",
        "|---|---|---|---|---|",
    ]
    for spec in TARGETS.values():
        ordered = [spec.default_precision, *(p for p in spec.precisions if p != spec.default_precision)]
        lines.append(
            f"| {spec.name} | {spec.summary} | {spec.backend} | {', '.join(ordered)} | "
            f"{'yes' if spec.runs_here else 'no (macOS/iOS); checked by spec + emulation'} |"
        )
    return "\n".join(lines)
