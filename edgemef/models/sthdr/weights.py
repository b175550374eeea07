"""Save and load STHDR weights (safetensors with the :class:`SthdrConfig` in the metadata)."""

from __future__ import annotations

from pathlib import Path

from edgemef.models.sthdr.config import SthdrConfig
from edgemef.models.sthdr.network import Sthdr
from edgemef.models.weights_file import WeightsError, build_model, read_model_file, save_model_file

FAMILY = "sthdr"
NAME = "sthdr"


def save_sthdr(path: str | Path, model: Sthdr, extra: dict[str, str] | None = None) -> Path:
    """Write ``model``'s parameters and configuration to ``path`` (safetensors, atomically)."""
    return save_model_file(path, FAMILY, NAME, model, extra)


def load_sthdr(path: str | Path) -> Sthdr:
    """Load weights saved by :func:`save_sthdr` (eval mode).

    Raises:
        WeightsError: missing or corrupt file, another model's weights, or tensors that do not fit.
    """
    metadata, state = read_model_file(path)
    if metadata.get("edgemef.family") != FAMILY:
        family = metadata.get("edgemef.family")
        raise WeightsError(f"{path}: not STHDR weights (metadata says family={family})")
    return build_model(path, metadata, state, SthdrConfig, Sthdr)  # type: ignore[return-value]
