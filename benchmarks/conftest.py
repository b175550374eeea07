"""Benchmark inputs: real UHD brackets from ../shared/data when present, else synthetic ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgemef.data import CameraBracketConfig, synthesize_camera_bracket
from edgemef.io import read_bracket

UHD = Path(__file__).resolve().parents[2] / "shared" / "data" / "uhd" / "scene1"
RESOLUTIONS = {"1080p": (1920, 1080), "4k": (3840, 2160)}


def synthetic_bracket(width: int, height: int) -> np.ndarray:
    """A 3-frame bracket (EV -2, 0, +2) of a smooth, textured synthetic scene at the given size."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    scene = 0.5 + 0.3 * np.sin(x / 37.0) * np.cos(y / 23.0) + 0.15 * np.sin(x / 3.0 + y / 5.0)
    image = (np.clip(np.stack([scene, scene * 0.9, scene * 0.8], axis=2), 0, 1) * 255).astype(np.uint8)
    return synthesize_camera_bracket(image, CameraBracketConfig(), seed=0).frames


@pytest.fixture(scope="session", params=list(RESOLUTIONS))
def bracket(request: pytest.FixtureRequest) -> np.ndarray:
    width, height = RESOLUTIONS[request.param]
    if UHD.exists():
        import cv2

        frames = read_bracket(sorted(UHD.glob("ev*.jpg"))).frames
        return np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in frames])
    return synthetic_bracket(width, height)
