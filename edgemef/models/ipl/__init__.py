"""IPL (UHD dynamic-scene fusion with a chunk-cache-quantize pipeline). The network is
:mod:`edgemef.models.ipl.network` (architecture and the readings taken), its two exported tile graphs
:mod:`~edgemef.models.ipl.graphs`, the torch-free tiled runtime :mod:`~edgemef.models.ipl.runtime`, the
export :mod:`~edgemef.models.ipl.export`; declared in :mod:`~edgemef.models.ipl.family`. Importing this
package needs no torch."""

from edgemef.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "IPL": "edgemef.models.ipl.network",
        "IPLConfig": "edgemef.models.ipl.network",
        "complexity": "edgemef.models.ipl.network",
    },
)
