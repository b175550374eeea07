"""The classical baseline: exposure fusion of Mertens, Kautz and Van Reeth (2007), via OpenCV
(:mod:`edgemef.models.mertens.fusion`; declared in :mod:`edgemef.models.mertens.family`)."""
