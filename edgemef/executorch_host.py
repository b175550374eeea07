"""Running ExecuTorch ``.pte`` programs on a PC (``edgemef fuse --artifact x.pte``, parity gates, profiles).

ExecuTorch's Python bindings link libtorch (``import executorch.runtime`` imports torch), so this runner is
not part of the torch-free :mod:`edgemef.runtime`; on a phone the same ``.pte`` runs in ExecuTorch's C++
runtime without torch. :func:`edgemef.runtime.backends.open_backend` imports this module only for ``.pte``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgemef.errors import ArtifactError
from edgemef.native_output import captured_stderr
from edgemef.runtime.contract import Contract
from edgemef.runtime.outputs import check_interface, check_outputs, first_line


class ExecuTorchBackend:
    """A ``.pte`` file in ExecuTorch's Python runtime (XNNPACK kernels registered)."""

    name = "executorch"

    def __init__(
        self, artifact: Path, contract: Contract, threads: int | None = None, *, etdump: bool = False
    ) -> None:
        try:
            with captured_stderr():  # torchao's and torch's import-time notices
                import torch
                from executorch.extension.pybindings.portable_lib import _unsafe_reset_threadpool
                from executorch.runtime import Runtime
        except ImportError:
            raise ArtifactError(
                "running a .pte on this machine needs ExecuTorch's Python bindings, which link libtorch: "
                "pip install 'edgemef[author]' (on a phone the .pte runs in ExecuTorch's C++ runtime "
                "without torch); or convert for --target onnx or rpi, which run torch-free"
            ) from None
        self._torch = torch
        if threads:
            _unsafe_reset_threadpool(threads)
        try:
            # debug_buffer_size=0: a small debug buffer aborts the process (DESIGN.md)
            with captured_stderr():  # cpuinfo's probing lines
                program = Runtime.get().load_program(
                    Path(artifact), enable_etdump=etdump, debug_buffer_size=0
                )
                self.program = program
                self._method = program.load_method("forward")
        except Exception as exc:  # ExecuTorch raises RuntimeError for a corrupt program
            raise ArtifactError(f"{artifact}: ExecuTorch cannot load it ({first_line(exc)})") from None
        meta = program.metadata("forward")
        check_interface(
            artifact,
            contract,
            {i: tuple(meta.input_tensor_meta(i).sizes()) for i in range(meta.num_inputs())},
            {i: tuple(meta.output_tensor_meta(i).sizes()) for i in range(meta.num_outputs())},
        )
        self._artifact, self._contract = artifact, contract

    def run(self, *inputs: np.ndarray) -> dict[str, np.ndarray]:
        values = self._method.execute([self._torch.from_numpy(np.ascontiguousarray(x)) for x in inputs])
        named = {spec.name: values[spec.index].numpy() for spec in self._contract.outputs}
        return check_outputs(named, self._contract, self._artifact)
