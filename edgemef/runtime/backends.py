"""Backend runners: one class per runtime, each ``run(*inputs) -> {output name: array}``.

Every runner is built from an artifact and its :class:`~edgemef.runtime.contract.Contract` and addresses the
model's tensors by what the contract says (``runtime_name`` / ``index``). Runtimes are imported when a runner
is created, so importing this module is cheap and needs none of them.

- ``onnxruntime``: ``.onnx`` (CPU execution provider). Torch-free.
- ``litert``: ``.tflite`` through ai-edge-litert's ``Interpreter`` (XNNPACK CPU delegate). Torch-free.
- ``executorch``: ``.pte`` through ``executorch.runtime`` (:mod:`edgemef.executorch_host`, outside this
  package). On a device the ``.pte`` runs in ExecuTorch's C++ runtime (Android: its Java/JNI bindings)
  without torch; on a host, the ExecuTorch Python bindings link libtorch, so running a ``.pte`` here needs
  the ``author`` extra.
- ``coreml``: ``.mlpackage`` needs macOS/iOS; on Linux it can be converted and inspected, not run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Protocol

import numpy as np

from edgemef.errors import ArtifactError
from edgemef.native_output import captured_stderr
from edgemef.runtime.contract import Contract
from edgemef.runtime.outputs import check_interface, check_outputs, first_line


class Backend(Protocol):
    """What every runner provides."""

    name: str

    def run(self, *inputs: np.ndarray) -> dict[str, np.ndarray]:
        """Run the network on its inputs (in the contract's order); outputs keyed by their contract names."""
        ...


#: the Python package each runtime needs here
RUNTIME_PACKAGES = {"onnxruntime": "onnxruntime", "litert": "ai_edge_litert", "executorch": "executorch"}


def runtime_available(backend: str) -> bool:
    """Whether this install can run ``backend``'s artifacts (checked without importing the runtime)."""
    import importlib.util

    package = RUNTIME_PACKAGES.get(backend)
    try:
        return package is not None and importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def available_threads() -> int:
    """CPU threads this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _missing(backend: str, package: str, extra: str) -> ArtifactError:
    return ArtifactError(
        f"running a {backend} artifact needs the '{package}' package: pip install 'edgemef[{extra}]'"
    )


class OnnxRuntimeBackend:
    """An ``.onnx`` file in onnxruntime (CPU)."""

    name = "onnxruntime"

    def __init__(self, artifact: Path, contract: Contract, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise _missing("onnxruntime", "onnxruntime", "onnx-runtime") from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or available_threads()
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(artifact), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for corrupt files
            raise ArtifactError(f"{artifact}: onnxruntime cannot load it ({first_line(exc)})") from None
        check_interface(
            artifact,
            contract,
            {i.name: _fixed(i.shape) for i in self._session.get_inputs()},
            {o.name: _fixed(o.shape) for o in self._session.get_outputs()},
        )
        self._artifact, self._contract = artifact, contract
        self._inputs = [spec.runtime_name for spec in contract.inputs]
        self._outputs = [spec.runtime_name for spec in contract.outputs]

    def run(self, *inputs: np.ndarray) -> dict[str, np.ndarray]:
        values = self._session.run(self._outputs, dict(zip(self._inputs, inputs, strict=True)))
        named = {spec.name: np.asarray(v) for spec, v in zip(self._contract.outputs, values, strict=True)}
        return check_outputs(named, self._contract, self._artifact)


class LiteRtBackend:
    """A ``.tflite`` file in ai-edge-litert's interpreter, through its serving signature."""

    name = "litert"

    def __init__(self, artifact: Path, contract: Contract, threads: int | None = None) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise _missing("litert", "ai-edge-litert", "litert") from None
        try:
            with captured_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
                interpreter = Interpreter(
                    model_path=str(artifact), num_threads=threads or available_threads()
                )
                self._runner = interpreter.get_signature_runner(
                    contract.postprocessing.get("signature", None)
                )
        except Exception as exc:  # the interpreter raises ValueError/RuntimeError for corrupt flatbuffers
            raise ArtifactError(f"{artifact}: LiteRT cannot load it ({first_line(exc)})") from None
        check_interface(
            artifact,
            contract,
            {name: tuple(d["shape"]) for name, d in self._runner.get_input_details().items()},
            {name: tuple(d["shape"]) for name, d in self._runner.get_output_details().items()},
        )
        self._artifact, self._contract = artifact, contract
        self._inputs = [spec.runtime_name for spec in contract.inputs]
        # An int8 model may hand out a quantized output (LiteRT keeps a sigmoid's fixed int8 range to the
        # end): dequantize it with the flatbuffer's own scale and zero point.
        self._dequantize = {
            name: (float(detail["quantization"][0]), int(detail["quantization"][1]))
            for name, detail in self._runner.get_output_details().items()
            if np.dtype(detail["dtype"]).kind in "iu" and detail["quantization"][0] != 0.0
        }
        # The interpreter applies its XNNPACK delegate at the first run, and announces it on stderr: run
        # once now on zeros (also the warm-up a timing should exclude), its announcement captured.
        try:
            with captured_stderr():
                self._runner(**{s.runtime_name: np.zeros(s.shape, np.float32) for s in contract.inputs})
        except Exception as exc:  # a model that cannot run is a bad artifact
            raise ArtifactError(f"{artifact}: LiteRT cannot run it ({first_line(exc)})") from None

    def _output(self, values: dict[str, np.ndarray], name: str) -> np.ndarray:
        value = np.asarray(values[name])
        if name in self._dequantize:
            scale, zero_point = self._dequantize[name]
            return (value.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)
        return value

    def run(self, *inputs: np.ndarray) -> dict[str, np.ndarray]:
        values = self._runner(**dict(zip(self._inputs, inputs, strict=True)))
        named = {spec.name: self._output(values, spec.runtime_name) for spec in self._contract.outputs}
        return check_outputs(named, self._contract, self._artifact)


def _fixed(shape: list) -> tuple[int | None, ...]:
    """An onnxruntime shape with symbolic dimensions as ``None``."""
    return tuple(d if isinstance(d, int) else None for d in shape)


def _executorch_backend(artifact: Path, contract: Contract, threads: int | None = None) -> Backend:
    """ExecuTorch's Python bindings link libtorch, so its runner lives outside this torch-free package."""
    from edgemef.executorch_host import ExecuTorchBackend

    return ExecuTorchBackend(artifact, contract, threads)


BACKENDS: dict[str, object] = {
    "onnxruntime": OnnxRuntimeBackend,
    "litert": LiteRtBackend,
    "executorch": _executorch_backend,
}


def open_backend(artifact: Path, contract: Contract, threads: int | None = None) -> Backend:
    """The runner for ``contract.backend``."""
    if contract.backend == "coreml":
        where = "macOS or iOS" if sys.platform != "darwin" else "the coremltools runtime"
        raise ArtifactError(
            f"{artifact}: CoreML models run on {where} only (the iOS demo app uses it); on this machine "
            "use the onnx, rpi or android artifact of the same model"
        )
    try:
        runner = BACKENDS[contract.backend]
    except KeyError:
        raise ArtifactError(
            f"{artifact}: unknown backend {contract.backend!r} in its contract (known: {', '.join(BACKENDS)})"
        ) from None
    return runner(artifact, contract, threads)  # type: ignore[operator]
