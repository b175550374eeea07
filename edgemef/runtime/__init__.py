"""The deploy side: run exported models by their contract, without PyTorch.

- :mod:`~edgemef.runtime.contract`: the JSON contract beside every artifact (read, write, verify sha256);
- :mod:`~edgemef.runtime.backends`: one runner per runtime (onnxruntime, ai-edge-litert, executorch);
- :mod:`~edgemef.runtime.preprocess`: the networks' thumbnails, shared with training and the converters;
- :class:`ArtifactFusion`: contract -> backend -> weights and LUT -> :func:`edgemef.lut.fuse_and_apply`.
- :mod:`~edgemef.runtime.attention_cache`: IPL's int8 attention cache (eqs. 4-9), for PyTorch and devices.
- :mod:`~edgemef.runtime.tiling`: a per-tile network over UHD frames, seamless, memory bounded by tiles.
- :mod:`~edgemef.runtime.ipl`: IPL's exported tile graphs + tiler + attention cache (:func:`open_artifact`
  picks it or :class:`ArtifactFusion` by the contract's family).

Example:
    >>> from edgemef.runtime import ArtifactFusion                                  # doctest: +SKIP
    >>> fused = ArtifactFusion("dist/rpi/lut-student-int8-g33.tflite").fuse(frames)  # doctest: +SKIP
"""

from edgemef.runtime.artifact import ArtifactFusion, open_artifact
from edgemef.runtime.contract import (
    FORMAT_VERSION,
    Contract,
    TensorSpec,
    artifact_sha256,
    contract_path,
    read_contract,
)

__all__ = [
    "FORMAT_VERSION",
    "ArtifactFusion",
    "Contract",
    "TensorSpec",
    "artifact_sha256",
    "contract_path",
    "open_artifact",
    "read_contract",
]
