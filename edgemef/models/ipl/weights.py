"""Save and load IPL weights (safetensors with the :class:`IPLConfig` in the metadata)."""

from __future__ import annotations

from pathlib import Path

from edgemef.models.ipl.network import IPL, IPLConfig
from edgemef.models.weights_file import WeightsError, build_model, read_model_file, save_model_file

FAMILY = "ipl"
NAME = "ipl"


def save_ipl(path: str | Path, model: IPL, extra: dict[str, str] | None = None) -> Path:
    """Write ``model``'s parameters and config to ``path`` (safetensors, atomically)."""
    return save_model_file(path, FAMILY, NAME, model, extra)


def load_ipl(path: str | Path) -> IPL:
    """Load IPL weights saved by :func:`save_ipl` (eval mode).

    Raises:
        WeightsError: missing or corrupt file, another model's weights, or tensors that do not fit.
    """
    metadata, state = read_model_file(path)
    if metadata.get("edgemef.family") != FAMILY:
        raise WeightsError(f"{path}: not IPL weights (metadata says family={metadata.get('edgemef.family')})")
    return build_model(path, metadata, state, IPLConfig, IPL)  # type: ignore[return-value]
