"""The model registry: every fusion model family joins it, and tests and tables loop over it.

Entries name their implementation by import path, so listing models never imports torch; the
implementation is imported when a model is created.
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from edgemef.errors import UnknownModelError


@runtime_checkable
class FusionModel(Protocol):
    """What every registered model provides."""

    name: str

    def fuse(self, frames: np.ndarray) -> np.ndarray:
        """Fuse a bracket.

        Args:
            frames: uint8 sRGB, N x H x W x 3, ordered darkest to brightest.

        Returns:
            The fused image, uint8 sRGB, H x W x 3.
        """
        ...


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry.

    Attributes:
        name: the name users type (``--model NAME``).
        family: the model family (paper), e.g. "classical", "lut-distill".
        summary: one line for ``edgemef models``.
        target: ``"module:factory"`` returning a :class:`FusionModel` given keyword options.
        needs_torch: whether creating it needs the authoring extra.
        min_exposures / max_exposures: how many frames it fuses (``None``: no upper limit).
    """

    name: str
    family: str
    summary: str
    target: str
    needs_torch: bool = False
    min_exposures: int = 2
    max_exposures: int | None = None

    def load_factory(self) -> Callable[..., FusionModel]:
        module_name, _, attribute = self.target.partition(":")
        return getattr(importlib.import_module(module_name), attribute)


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to the registry (names are unique)."""
    if spec.name in _REGISTRY:
        raise ValueError(f"model {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def list_models(pattern: str = "*") -> list[ModelSpec]:
    """Registered models whose name matches the shell-style ``pattern``, sorted by name."""
    return [spec for name, spec in sorted(_REGISTRY.items()) if fnmatch.fnmatch(name, pattern)]


def get_model_spec(name: str) -> ModelSpec:
    """The registry entry called ``name``; an unknown name lists the valid ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        valid = ", ".join(sorted(_REGISTRY))
        raise UnknownModelError(f"unknown model {name!r}; choose one of: {valid}") from None


def torch_available() -> bool:
    """Whether PyTorch can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # ValueError: sys.modules["torch"] is None (blocked)
        return False


def create_model(name: str, **options: object) -> FusionModel:
    """Create the model called ``name`` with keyword ``options`` for its factory."""
    spec = get_model_spec(name)
    if spec.needs_torch and not torch_available():
        raise UnknownModelError(f"model {name!r} needs PyTorch: pip install 'edgemef[author]'")
    return spec.load_factory()(**options)


register_model(
    ModelSpec(
        name="mertens",
        family="classical",
        summary="Mertens-Kautz-Van Reeth exposure fusion (OpenCV createMergeMertens), the classical baseline",
        target="edgemef.models.mertens:MertensFusion",
    )
)
register_model(
    ModelSpec(
        name="lut-student",
        family="lut-distill",
        summary="LUT-distill student: IW fusion weights + an implicit-network 3D LUT of any size (--grid)",
        target="edgemef.models.lut_distill.fusion:lut_student",
        needs_torch=True,
    )
)
register_model(
    ModelSpec(
        name="lut-teacher",
        family="lut-distill",
        summary="LUT-distill teacher: basis LUTs refined by an implicit network, mixed by a U-Net",
        target="edgemef.models.lut_distill.fusion:lut_teacher",
        needs_torch=True,
    )
)
register_model(
    ModelSpec(
        name="ipl",
        family="ipl",
        summary="IPL: UHD fusion tile by tile (DAEM + DRTM blocks), any size in bounded memory, int8 cache",
        target="edgemef.models.ipl.fusion:ipl",
        needs_torch=True,
    )
)
