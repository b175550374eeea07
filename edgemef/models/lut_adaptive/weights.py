"""Save and load the adaptive LUT model's weights (safetensors, config in the metadata; see
:mod:`edgemef.models.weights_file`)."""

from __future__ import annotations

from pathlib import Path

from edgemef.models.lut_adaptive.config import AdaptiveConfig
from edgemef.models.lut_adaptive.network import AdaptiveStudent
from edgemef.models.weights_file import WeightsError, build_model, read_model_file, save_model_file

FAMILY = "lut-adaptive"
MODEL = "lut-adaptive"


def save_weights(path: str | Path, model: AdaptiveStudent, extra: dict[str, str] | None = None) -> Path:
    """Write ``model``'s parameters and config to ``path`` (safetensors, atomically)."""
    return save_model_file(path, FAMILY, MODEL, model, extra)


def load_weights(path: str | Path, expected: str | None = MODEL) -> AdaptiveStudent:
    """Load a model saved by :func:`save_weights` (in eval mode).

    Raises:
        WeightsError: missing or corrupt file, another model's weights, or tensors that do not fit.
    """
    metadata, state = read_model_file(path)
    name = metadata.get("edgemef.model")
    if metadata.get("edgemef.family") != FAMILY or name != MODEL or expected not in (None, MODEL):
        raise WeightsError(
            f"{path}: not {MODEL} weights (metadata says family={metadata.get('edgemef.family')}, "
            f"model={name})"
        )
    return build_model(path, metadata, state, AdaptiveConfig, AdaptiveStudent)  # type: ignore[return-value]
