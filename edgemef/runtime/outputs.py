"""What every backend runner checks: the contract against the model file's own interface, the outputs
against the contract, and how a runtime's error becomes one line (torch-free, no runtime imports)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from edgemef.errors import ArtifactError
from edgemef.runtime.contract import Contract


def check_interface(
    artifact: Path,
    contract: Contract,
    inputs: Mapping[str | int, Sequence[int | None] | None],
    outputs: Mapping[str | int, Sequence[int | None] | None],
) -> None:
    """Refuse a contract whose tensors the model file does not have: ``inputs``/``outputs`` are the file's
    own, keyed by name (or by position where a runtime addresses tensors by position), with their shapes
    (``None`` or a ``None`` dimension: not fixed in the file).

    Raises:
        ArtifactError: naming the first tensor that differs.
    """
    for kind, specs, actual in (("input", contract.inputs, inputs), ("output", contract.outputs, outputs)):
        by_position = all(isinstance(key, int) for key in actual)
        if len(actual) != len(specs):
            raise ArtifactError(
                f"{artifact}: the model file has {len(actual)} {kind}s, its contract lists {len(specs)}"
            )
        for spec in specs:
            key: str | int = spec.index if by_position else spec.runtime_name
            if key not in actual:
                raise ArtifactError(
                    f"{artifact}: its contract names {kind} {spec.name!r} as {key!r}, which the model file "
                    f"does not have (it has {', '.join(map(repr, actual))})"
                )
            shape = actual[key]
            if shape is not None and (
                len(shape) != len(spec.shape)
                or any(d is not None and d != s for d, s in zip(shape, spec.shape, strict=False))
            ):
                raise ArtifactError(
                    f"{artifact}: {kind} {spec.name!r} is {tuple(shape)} in the model file, its contract "
                    f"says {spec.shape}"
                )


def check_outputs(
    outputs: dict[str, np.ndarray], contract: Contract, artifact: Path
) -> dict[str, np.ndarray]:
    for spec in contract.outputs:
        array = outputs[spec.name]
        if tuple(array.shape) != spec.shape:
            raise ArtifactError(
                f"{artifact}: output {spec.name} has shape {tuple(array.shape)}, "
                f"its contract says {spec.shape}"
            )
    return outputs


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
