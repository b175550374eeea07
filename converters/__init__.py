"""Export edgemef models to on-device formats (ExecuTorch, CoreML, LiteRT, ONNX), quantize, verify.

Needs the authoring extra (``pip install 'edgemef[author]'``). One module per export target
(``executorch_target``, ``coreml_target``, ``litert_target``, ``onnx_target``), one capability table
(:mod:`converters.capabilities`), the calibration and parity brackets (:mod:`converters.calibration`), the
parity gates (:mod:`converters.parity`) and the orchestration (:mod:`converters.pipeline`).

Example:
    >>> from converters import ConvertConfig, convert                        # doctest: +SKIP
    >>> result = convert(ConvertConfig(target="android"))                    # doctest: +SKIP
    >>> result.artifact                                                      # doctest: +SKIP
    PosixPath('dist/android/lut-student-int8-g33.pte')
"""

from converters.capabilities import TARGETS, TargetSpec, capability_table, resolve_target
from converters.pipeline import ConversionResult, ConvertConfig, convert

__all__ = [
    "TARGETS",
    "ConversionResult",
    "ConvertConfig",
    "TargetSpec",
    "capability_table",
    "convert",
    "resolve_target",
]
