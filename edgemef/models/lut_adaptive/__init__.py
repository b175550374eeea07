"""Spatially adaptive LUT fusion (ours): LUT-distill's student whose one weight per exposure becomes a
low-resolution weight map per exposure, upsampled bilinearly by the full-resolution applier.

Modules: ``config`` (the dataclasses), ``network`` (:class:`WeightMapNet`, :class:`AdaptiveStudent`),
``weights``, ``train_task`` / ``train_options`` (``edgemef train lut-adaptive``), ``family`` (the
declaration). Fusion, export and the torch-free runtime are LUT-distill's, which take weight maps wherever
they take weights.
"""

from edgemef.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "AdaptiveConfig": "edgemef.models.lut_adaptive.config",
        "AdaptiveStudent": "edgemef.models.lut_adaptive.network",
        "WeightMapConfig": "edgemef.models.lut_adaptive.config",
        "WeightMapNet": "edgemef.models.lut_adaptive.network",
        "load_weights": "edgemef.models.lut_adaptive.weights",
        "save_weights": "edgemef.models.lut_adaptive.weights",
    },
)
