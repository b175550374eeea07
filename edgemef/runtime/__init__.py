"""The deploy side: run exported models by their contract, without PyTorch.

- :mod:`~edgemef.runtime.contract`: the JSON contract beside every artifact (read, write, verify sha256);
  its published JSON Schema is ``contract.schema.json`` beside it;
- :mod:`~edgemef.runtime.backends`: one runner per runtime (onnxruntime, ai-edge-litert, executorch);
- :mod:`~edgemef.runtime.artifact`: :func:`open_artifact` picks the runtime of the contract's family (each
  family's runtime lives in its own package, ``edgemef.models.<family>.runtime``);
- :mod:`~edgemef.runtime.preprocess`: thumbnails shared by training, the converters and the runtimes;
- :mod:`~edgemef.runtime.tiling`: a per-tile network over UHD frames, seamless, memory bounded by tiles;
- :mod:`~edgemef.runtime.attention_cache`: an int8 cache of per-tile results, for PyTorch and devices.

Example:
    >>> from edgemef.runtime import open_artifact                                  # doctest: +SKIP
    >>> fused = open_artifact("dist/rpi/lut-student-int8-g33.tflite").fuse(frames)  # doctest: +SKIP
"""

from edgemef.runtime.artifact import ArtifactRuntime, open_artifact
from edgemef.runtime.contract import (
    FORMAT_VERSION,
    Contract,
    GraphFile,
    TensorSpec,
    artifact_sha256,
    contract_path,
    read_contract,
)

__all__ = [
    "FORMAT_VERSION",
    "ArtifactRuntime",
    "Contract",
    "GraphFile",
    "TensorSpec",
    "artifact_sha256",
    "contract_path",
    "open_artifact",
    "read_contract",
]
