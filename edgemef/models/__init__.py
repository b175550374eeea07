"""Fusion models: the registry and the model families that join it."""

from edgemef.models.registry import (
    FusionModel,
    ModelSpec,
    create_model,
    get_model_spec,
    list_models,
    register_model,
)

__all__ = ["FusionModel", "ModelSpec", "create_model", "get_model_spec", "list_models", "register_model"]
