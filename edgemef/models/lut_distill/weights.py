"""Save and load LUT-distill weights as safetensors, with the model config in the file's metadata.

A weights file is self-describing: ``metadata["edgemef.family"] = "lut-distill"``,
``metadata["edgemef.model"]`` ("lut-student" or "lut-teacher") and ``metadata["edgemef.config"]``
(the config dataclass as JSON). Loading never unpickles anything.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as save_tensors
from torch import nn

from edgemef.errors import EdgemefError
from edgemef.io import atomic_write_bytes
from edgemef.models.lut_distill.config import StudentConfig, TeacherConfig
from edgemef.models.lut_distill.student import Student
from edgemef.models.lut_distill.teacher import Teacher

FAMILY = "lut-distill"
MODELS: dict[str, tuple[type, type[nn.Module]]] = {
    "lut-student": (StudentConfig, Student),
    "lut-teacher": (TeacherConfig, Teacher),
}


class WeightsError(EdgemefError):
    """A weights file is missing, corrupt, or not LUT-distill weights of the expected kind."""


def _config_from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a (possibly nested) frozen config dataclass from its JSON dictionary."""
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        if field.name not in data:
            continue
        value, hint = data[field.name], hints[field.name]
        if dataclasses.is_dataclass(hint):
            value = _config_from_dict(hint, value)
        elif typing.get_origin(hint) is tuple:
            value = tuple(value)
        values[field.name] = value
    return cls(**values)


def save_weights(path: str | Path, model: Student | Teacher, extra: dict[str, str] | None = None) -> Path:
    """Write ``model``'s parameters and config to ``path`` (safetensors, atomically)."""
    name = "lut-student" if isinstance(model, Student) else "lut-teacher"
    metadata = {
        "edgemef.family": FAMILY,
        "edgemef.model": name,
        "edgemef.config": json.dumps(dataclasses.asdict(model.config)),
        **(extra or {}),
    }
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    atomic_write_bytes(path, save_tensors(state, metadata=metadata))
    return Path(path)


def load_weights(path: str | Path, expected: str | None = None) -> Student | Teacher:
    """Load a model saved by :func:`save_weights` (in eval mode).

    Args:
        path: the ``.safetensors`` file.
        expected: "lut-student" or "lut-teacher" to refuse the other kind.

    Raises:
        WeightsError: missing or corrupt file, another model's weights, or tensors that do not fit.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weights file not found")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            state = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from None
    name = metadata.get("edgemef.model")
    if metadata.get("edgemef.family") != FAMILY or name not in MODELS:
        raise WeightsError(
            f"{path}: not LUT-distill weights (metadata says family={metadata.get('edgemef.family')})"
        )
    if expected is not None and name != expected:
        raise WeightsError(f"{path}: holds {name} weights, {expected} expected")
    config_cls, model_cls = MODELS[name]
    try:
        config = _config_from_dict(config_cls, json.loads(metadata["edgemef.config"]))
        model = model_cls(config)
        model.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise WeightsError(f"{path}: weights do not fit the {name} architecture ({exc})") from None
    return model.eval()


def read_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of a weights file (model name, config, training summary)."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            return dict(handle.metadata() or {})
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from None


def as_tensor_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """Parameters and buffers of ``model`` as contiguous CPU tensors."""
    return {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
