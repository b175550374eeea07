"""IPL (UHD dynamic-scene fusion with a chunk-cache-quantize pipeline). The network is
:mod:`edgemef.models.ipl.network` (architecture and the readings taken), its two exported tile graphs
:mod:`~edgemef.models.ipl.graphs`, the torch-free tiled runtime :mod:`~edgemef.models.ipl.runtime`, the
export :mod:`~edgemef.models.ipl.export`; declared in :mod:`~edgemef.models.ipl.family`. Importing this
package needs no torch."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "IPL": "edgemef.models.ipl.network",
    "IPLConfig": "edgemef.models.ipl.network",
    "complexity": "edgemef.models.ipl.network",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
