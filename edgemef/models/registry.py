"""The registries of model families and models: every family joins once, and the CLI, converter, runtime,
bench, profiler and tests loop over them.

:data:`FAMILY_MODULES` names each family's declaration module (``edgemef/models/<family>/family.py``);
they are imported, torch-free, the first time a registry is read. Tests may register further families
with :func:`register_family`.
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.util

from edgemef.errors import UnknownModelError
from edgemef.models.family import ModelFamily
from edgemef.models.spec import FusionModel, ModelSpec

#: the declaration module of every family; each defines ``FAMILY``
FAMILY_MODULES = (
    "edgemef.models.mertens.family",
    "edgemef.models.lut_distill.family",
    "edgemef.models.lut_adaptive.family",
    "edgemef.models.ipl.family",
    "edgemef.models.crmef.family",
    "edgemef.models.sthdr.family",
    "edgemef.models.classical_hdr.family",
)

#: the classical model every learned model is measured against, in the same run
BASELINE = "mertens"

_FAMILIES: dict[str, ModelFamily] = {}
_MODELS: dict[str, ModelSpec] = {}
_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in FAMILY_MODULES:
        register_family(importlib.import_module(module).FAMILY)


def register_family(family: ModelFamily) -> ModelFamily:
    """Add ``family`` and its models to the registries (names are unique)."""
    _load()
    if family.name in _FAMILIES:
        raise ValueError(f"family {family.name!r} is already registered")
    clashes = [spec.name for spec in family.models if spec.name in _MODELS]
    if clashes:
        raise ValueError(f"model(s) {', '.join(clashes)} already registered")
    _FAMILIES[family.name] = family
    for spec in family.models:
        _MODELS[spec.name] = spec
    return family


def unregister_family(name: str) -> None:
    """Remove a family and its models (tests that register a family of their own)."""
    family = _FAMILIES.pop(name)
    for spec in family.models:
        _MODELS.pop(spec.name, None)


def list_families() -> list[ModelFamily]:
    """Every registered family, in registration order."""
    _load()
    return list(_FAMILIES.values())


def get_family(name: str) -> ModelFamily:
    """The family called ``name``; an unknown name lists the valid ones."""
    _load()
    try:
        return _FAMILIES[name]
    except KeyError:
        raise UnknownModelError(f"unknown model family {name!r}; known: {', '.join(_FAMILIES)}") from None


def family_of(model: str) -> ModelFamily:
    """The family of the model called ``model``."""
    return get_family(get_model_spec(model).family)


def convertible_models() -> list[str]:
    """The models ``edgemef convert`` exports, one per convertible family."""
    return [f.convertible for f in list_families() if f.convertible]


def list_models(pattern: str = "*") -> list[ModelSpec]:
    """Registered models whose name matches the shell-style ``pattern``, sorted by name."""
    _load()
    return [spec for name, spec in sorted(_MODELS.items()) if fnmatch.fnmatch(name, pattern)]


def get_model_spec(name: str) -> ModelSpec:
    """The registry entry called ``name``; an unknown name lists the valid ones."""
    _load()
    try:
        return _MODELS[name]
    except KeyError:
        valid = ", ".join(sorted(_MODELS))
        raise UnknownModelError(f"unknown model {name!r}; choose one of: {valid}") from None


def default_models() -> list[ModelSpec]:
    """The models ``edgemef fuse`` uses without ``--model``, in order of preference."""
    ranked = [spec for spec in list_models() if spec.default_rank is not None]
    return sorted(ranked, key=lambda spec: spec.default_rank or 0)


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
