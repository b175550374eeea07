"""Benchmark inputs: real UHD brackets from ../shared/data when present, else synthetic ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edgemef.data import CameraBracketConfig, synthesize_camera_bracket
from edgemef.io import read_bracket

UHD = Path(__file__).resolve().parents[2] / "shared" / "data" / "uhd" / "scene1"
RESOLUTIONS = {"1080p": (1920, 1080), "4k": (3840, 2160)}
# Opt-in sizes: available through ``bracket_of`` but not in the ``bracket`` parametrisation.
EXTRA_RESOLUTIONS = {"8k": (7680, 4320)}


def synthetic_bracket(width: int, height: int) -> np.ndarray:
    """A 3-frame bracket (EV -2, 0, +2) of a smooth, textured synthetic scene at the given size."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    scene = 0.5 + 0.3 * np.sin(x / 37.0) * np.cos(y / 23.0) + 0.15 * np.sin(x / 3.0 + y / 5.0)
    image = (np.clip(np.stack([scene, scene * 0.9, scene * 0.8], axis=2), 0, 1) * 255).astype(np.uint8)
    return synthesize_camera_bracket(image, CameraBracketConfig(), seed=0).frames


def load_bracket(width: int, height: int) -> np.ndarray:
    """The real UHD bracket resized to ``width x height`` when present, else a synthetic one."""
    if UHD.exists():
        import cv2

        frames = read_bracket(sorted(UHD.glob("ev*.jpg"))).frames
        shrink = width <= frames.shape[2] and height <= frames.shape[1]
        interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        return np.stack([cv2.resize(f, (width, height), interpolation=interpolation) for f in frames])
    return synthetic_bracket(width, height)


@pytest.fixture(scope="session")
def bracket_of() -> Callable[[str], np.ndarray]:
    """``bracket_of("1080p" | "4k" | "8k")``: the bracket at that size, loaded once per session."""
    cache: dict[str, np.ndarray] = {}

    def get(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = load_bracket(*{**RESOLUTIONS, **EXTRA_RESOLUTIONS}[name])
        return cache[name]

    return get


@pytest.fixture(scope="session", params=list(RESOLUTIONS))
def bracket(request: pytest.FixtureRequest, bracket_of: Callable[[str], np.ndarray]) -> np.ndarray:
    return bracket_of(request.param)
