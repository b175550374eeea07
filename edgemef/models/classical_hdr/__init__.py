"""The classical HDR baseline: Debevec and Malik's (1997) radiance merge with known exposure times, via OpenCV
(:mod:`edgemef.models.classical_hdr.merge`; declared in :mod:`edgemef.models.classical_hdr.family`)."""
