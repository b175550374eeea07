"""IPL (UHD dynamic-scene fusion with a chunk-cache-quantize pipeline): the network, not yet trained or
registered (issue 7). See :mod:`edgemef.models.ipl.network` for the architecture and the readings taken."""

from edgemef.models.ipl.network import IPL, IPLConfig, complexity

__all__ = ["IPL", "IPLConfig", "complexity"]
