"""Save and load CRMEF weights: safetensors with the configuration and the genotype in the metadata, so a
weights file builds its own network."""

from __future__ import annotations

import json
from pathlib import Path

from edgemef.models.crmef.config import CrmefConfig
from edgemef.models.crmef.network import Crmef
from edgemef.models.crmef.search import Genotype, searched_network
from edgemef.models.weights_file import WeightsError, read_model_file, save_model_file

FAMILY = "crmef"
NAME = "crmef"
GENOTYPE_KEY = "edgemef.genotype"


def save_crmef(
    path: str | Path, model: Crmef, genotype: Genotype, extra: dict[str, str] | None = None
) -> Path:
    """Write ``model``'s parameters, config and genotype to ``path`` (safetensors, atomically)."""
    if genotype.config != model.config:
        raise ValueError("the genotype describes another configuration than the model's")
    return save_model_file(
        path, FAMILY, NAME, model, {GENOTYPE_KEY: json.dumps(genotype.layers), **(extra or {})}
    )


def load_crmef(path: str | Path) -> Crmef:
    """Load weights saved by :func:`save_crmef` (eval mode).

    Raises:
        WeightsError: missing or corrupt file, another model's weights, or tensors that do not fit.
    """
    metadata, state = read_model_file(path)
    genotype = _genotype_of(metadata, path)
    try:
        model = searched_network(genotype)
        model.load_state_dict(state)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise WeightsError(f"{path}: weights do not fit a CRMEF network ({exc})") from None
    return model.eval()


def read_genotype(path: str | Path) -> Genotype:
    """The genotype (configuration and layers) a CRMEF weights file was trained as.

    Raises:
        WeightsError: missing or corrupt file, or not CRMEF weights.
    """
    metadata, _ = read_model_file(path)
    return _genotype_of(metadata, path)


def _genotype_of(metadata: dict[str, str], path: str | Path) -> Genotype:
    if metadata.get("edgemef.family") != FAMILY:
        raise WeightsError(
            f"{path}: not CRMEF weights (metadata says family={metadata.get('edgemef.family')})"
        )
    try:
        return Genotype(
            CrmefConfig(**json.loads(metadata["edgemef.config"])), json.loads(metadata[GENOTYPE_KEY])
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise WeightsError(f"{path}: weights do not fit a CRMEF network ({exc})") from None
