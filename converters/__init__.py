"""Export edgemef models to on-device formats (ExecuTorch, CoreML, LiteRT, ONNX), quantize, verify.

Needs the authoring extra (``pip install 'edgemef[author]'``). One module per runtime
(``executorch_target``, ``coreml_target``, ``litert_target``, ``onnx_target``, each with ``export_graph``),
one capability table (:mod:`converters.capabilities`), what families hand over (:mod:`converters.graphs`),
the calibration and parity brackets (:mod:`converters.calibration`) and one conversion loop for every
family (:mod:`converters.pipeline`). A family's own export code lives in its package
(``edgemef.models.<family>.export``).

Example:
    >>> from converters import ConvertConfig, convert                        # doctest: +SKIP
    >>> result = convert(ConvertConfig(target="android"))                    # doctest: +SKIP
    >>> result.artifact                                                      # doctest: +SKIP
    PosixPath('dist/android/lut-student-int8-g33.pte')
"""

from converters.capabilities import (
    RUNTIMES,
    TARGETS,
    RuntimeSpec,
    TargetSpec,
    capability_table,
    resolve_target,
)
from converters.pipeline import ConversionResult, ConvertConfig, convert

__all__ = [
    "RUNTIMES",
    "TARGETS",
    "ConversionResult",
    "ConvertConfig",
    "RuntimeSpec",
    "TargetSpec",
    "capability_table",
    "convert",
    "resolve_target",
]
