"""Fusion models: the registries of families and models, and the families that join them."""

from edgemef.models.family import FamilyOption, ModelFamily, OutputKind
from edgemef.models.registry import (
    create_model,
    get_family,
    get_model_spec,
    list_families,
    list_models,
    register_family,
)
from edgemef.models.spec import FusionModel, ModelSpec

__all__ = [
    "FamilyOption",
    "FusionModel",
    "ModelFamily",
    "ModelSpec",
    "OutputKind",
    "create_model",
    "get_family",
    "get_model_spec",
    "list_families",
    "list_models",
    "register_family",
]
