"""Self-describing weights files (safetensors) shared by every model family.

A file holds the state dict and, in its metadata, ``edgemef.family``, ``edgemef.model`` (the registry name)
and ``edgemef.config`` (the frozen config dataclass as JSON), plus any extra strings (training summary).
Loading never unpickles anything.
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


class WeightsError(EdgemefError):
    """A weights file is missing, corrupt, or not weights of the expected kind."""


def config_from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a (possibly nested) frozen config dataclass from its JSON dictionary."""
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        if field.name not in data:
            continue
        value, hint = data[field.name], hints[field.name]
        if dataclasses.is_dataclass(hint):
            value = config_from_dict(hint, value)
        elif typing.get_origin(hint) is tuple:
            value = tuple(value)
        values[field.name] = value
    return cls(**values)


def save_model_file(
    path: str | Path, family: str, name: str, model: nn.Module, extra: dict[str, str] | None = None
) -> Path:
    """Write ``model``'s state dict and its ``config`` attribute to ``path`` (safetensors, atomically)."""
    metadata = {
        "edgemef.family": family,
        "edgemef.model": name,
        "edgemef.config": json.dumps(dataclasses.asdict(model.config)),  # type: ignore[arg-type]
        **(extra or {}),
    }
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    atomic_write_bytes(path, save_tensors(state, metadata=metadata))
    return Path(path)


def read_model_file(path: str | Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """(metadata, state dict) of a weights file.

    Raises:
        WeightsError: the file is missing or not readable safetensors.
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
    return dict(metadata), state


def build_model(
    path: str | Path,
    metadata: dict[str, str],
    state: dict[str, torch.Tensor],
    config_cls: type,
    model_cls: type[nn.Module],
) -> nn.Module:
    """The model of ``model_cls`` built from the file's config and loaded with its state (eval mode).

    Raises:
        WeightsError: the config or the tensors do not fit the architecture.
    """
    name = metadata.get("edgemef.model")
    try:
        config = config_from_dict(config_cls, json.loads(metadata["edgemef.config"]))
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
