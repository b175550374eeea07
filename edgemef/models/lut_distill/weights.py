"""Save and load LUT-distill weights as safetensors, with the model config in the file's metadata.

A weights file is self-describing (:mod:`edgemef.models.weights_file`): ``metadata["edgemef.family"] =
"lut-distill"``, ``metadata["edgemef.model"]`` ("lut-student" or "lut-teacher") and
``metadata["edgemef.config"]`` (the config dataclass as JSON). Loading never unpickles anything.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from edgemef.models.lut_distill.config import StudentConfig, TeacherConfig
from edgemef.models.lut_distill.student import Student
from edgemef.models.lut_distill.teacher import Teacher
from edgemef.models.weights_file import (
    WeightsError,
    build_model,
    read_metadata,
    read_model_file,
    save_model_file,
)

__all__ = [
    "FAMILY",
    "MODELS",
    "WeightsError",
    "as_tensor_dict",
    "load_weights",
    "read_metadata",
    "save_weights",
]

FAMILY = "lut-distill"
MODELS: dict[str, tuple[type, type[nn.Module]]] = {
    "lut-student": (StudentConfig, Student),
    "lut-teacher": (TeacherConfig, Teacher),
}


def save_weights(path: str | Path, model: Student | Teacher, extra: dict[str, str] | None = None) -> Path:
    """Write ``model``'s parameters and config to ``path`` (safetensors, atomically)."""
    name = "lut-student" if isinstance(model, Student) else "lut-teacher"
    return save_model_file(path, FAMILY, name, model, extra)


def load_weights(path: str | Path, expected: str | None = None) -> Student | Teacher:
    """Load a model saved by :func:`save_weights` (in eval mode).

    Args:
        path: the ``.safetensors`` file.
        expected: "lut-student" or "lut-teacher" to refuse the other kind.

    Raises:
        WeightsError: missing or corrupt file, another model's weights, or tensors that do not fit.
    """
    metadata, state = read_model_file(path)
    name = metadata.get("edgemef.model")
    if metadata.get("edgemef.family") != FAMILY or name not in MODELS:
        raise WeightsError(
            f"{path}: not LUT-distill weights (metadata says family={metadata.get('edgemef.family')})"
        )
    if expected is not None and name != expected:
        raise WeightsError(f"{path}: holds {name} weights, {expected} expected")
    config_cls, model_cls = MODELS[name]
    return build_model(path, metadata, state, config_cls, model_cls)  # type: ignore[return-value]


def as_tensor_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """Parameters and buffers of ``model`` as contiguous CPU tensors."""
    return {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
