"""The classical baseline and the I/O floor every model is compared with (pytest-benchmark).

.venv/bin/python -m pytest benchmarks --benchmark-columns=median,iqr,min,max
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgemef.io import read_bracket, write_image
from edgemef.models import create_model


def test_mertens(benchmark, bracket: np.ndarray) -> None:
    model = create_model("mertens")
    benchmark.extra_info["megapixels"] = bracket.shape[1] * bracket.shape[2] / 1e6
    fused = benchmark.pedantic(model.fuse, args=(bracket,), rounds=5, warmup_rounds=1)
    assert fused.shape == bracket.shape[1:]


@pytest.mark.parametrize("extension", [".jpg", ".png"])
def test_read_three_frames(benchmark, bracket: np.ndarray, tmp_path: Path, extension: str) -> None:
    paths = [write_image(tmp_path / f"ev{i}{extension}", frame) for i, frame in enumerate(bracket)]
    result = benchmark.pedantic(read_bracket, args=(paths,), rounds=5, warmup_rounds=1)
    assert len(result) == 3


def test_write_jpeg(benchmark, bracket: np.ndarray, tmp_path: Path) -> None:
    benchmark.pedantic(write_image, args=(tmp_path / "fused.jpg", bracket[1]), rounds=5, warmup_rounds=1)
