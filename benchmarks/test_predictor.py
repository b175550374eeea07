"""The predictor (thumbnails -> weights + LUT) per runtime at 4K: PyTorch eager, and the int8/fp32
artifacts of ``edgemef convert`` in ExecuTorch, LiteRT and onnxruntime. Artifacts are converted once per
session (grid 33).

    python -m pytest benchmarks/test_predictor.py --benchmark-columns=median,iqr,min,max
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

CASES = [
    ("android", "int8"),
    ("android", "fp32"),
    ("rpi", "int8"),
    ("rpi", "fp32"),
    ("onnx", "int8"),
    ("onnx", "fp32"),
]


@pytest.fixture(scope="session")
def artifact_of(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Path]:
    from converters import ConvertConfig, convert

    root = tmp_path_factory.mktemp("artifacts")
    cache: dict[tuple[str, str], Path] = {}

    def get(target: str, precision: str) -> Path:
        if (target, precision) not in cache:
            config = ConvertConfig(target=target, precision=precision, out=root / target)
            cache[target, precision] = convert(config).artifact
        return cache[target, precision]

    return get


def test_predictor_pytorch_4k(benchmark, bracket_of: Callable[[str], np.ndarray]) -> None:
    from edgemef.models import create_model

    frames = bracket_of("4k")
    model = create_model("lut-student", grid=33)
    weights, lut = benchmark(model.predict, frames)
    assert lut.shape == (33, 33, 33, 3) and abs(float(weights.sum()) - 1.0) < 1e-4


@pytest.mark.parametrize(("target", "precision"), CASES)
def test_predictor_artifact_4k(
    benchmark, bracket_of: Callable[[str], np.ndarray], artifact_of, target: str, precision: str
) -> None:
    from edgemef.runtime import open_artifact

    frames = bracket_of("4k")
    fusion = open_artifact(artifact_of(target, precision))
    weights, lut = benchmark(fusion.predict, frames)
    assert lut.shape == (33, 33, 33, 3) and abs(float(weights.sum()) - 1.0) < 1e-2
