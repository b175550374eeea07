"""Packages whose public names are imported on first use, so importing a package costs nothing until one
of its names is read (``edgemef --help`` imports no numpy, OpenCV or torch; the deploy side no torch)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any], list[str]]:
    """``(__getattr__, __all__)`` for ``package``: each public name -> the module defining it.

    Example (in a package's ``__init__.py``)::

        __getattr__, __all__ = lazy_exports(__name__, {"Student": "edgemef.models.lut_distill.student"})
    """

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name]), name)
        setattr(sys.modules[package], name, value)  # later reads skip this function
        return value

    return __getattr__, sorted(exports)
