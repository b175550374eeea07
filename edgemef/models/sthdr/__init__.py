"""STHDR (Li et al., "Scale-aware Two-stage High Dynamic Range Imaging"): linear HDR from a dynamic
3-frame bracket; declared in :mod:`edgemef.models.sthdr.family`, the network in
:mod:`edgemef.models.sthdr.network`."""
