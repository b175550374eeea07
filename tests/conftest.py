"""Shared fixtures: synthetic brackets written to disk, and the optional ../shared/data folder."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, skipping the test with a reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present: real-data tests need ../shared/data beside the repo")
    return path


def textured_scene(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """A deterministic uint8 RGB scene with gradients, edges and texture (no data files needed)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 0.5 + 0.35 * np.sin(x / 5.0) * np.cos(y / 7.0)
    ramp = x / max(width - 1, 1)
    image = np.stack([base * (0.6 + 0.4 * ramp), base, base * (1.0 - 0.4 * ramp)], axis=2)
    image += rng.normal(0.0, 0.02, image.shape).astype(np.float32)
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)


def exposure_bracket(scene: np.ndarray, gains: tuple[float, ...] = (0.25, 1.0, 4.0)) -> np.ndarray:
    """A simple bracket: the scene's linear light scaled by each gain, clipped, back to sRGB-ish gamma."""
    linear = (scene.astype(np.float32) / 255.0) ** 2.2
    frames = [np.clip(linear * g, 0, 1) ** (1 / 2.2) for g in gains]
    return (np.stack(frames) * 255 + 0.5).astype(np.uint8)


def write_sice_dataset(root: Path, scenes: int = 2, with_reference: bool = True) -> Path:
    """A small SICE-layout dataset: ``sceneN/ev1..ev5.jpg`` (+ ``gt.jpg``) of textured 64x96 scenes."""
    import cv2

    for index in range(scenes):
        folder = root / f"scene{index + 1}"
        folder.mkdir(parents=True)
        scene = textured_scene(64, 96, seed=index)
        for ev, frame in enumerate(exposure_bracket(scene, (0.1, 0.3, 1.0, 3.0, 8.0)), start=1):
            cv2.imwrite(str(folder / f"ev{ev}.jpg"), frame[..., ::-1])
        if with_reference:
            cv2.imwrite(str(folder / "gt.jpg"), scene[..., ::-1])
    return root


@pytest.fixture
def scene() -> np.ndarray:
    return textured_scene()


@pytest.fixture
def bracket_files(tmp_path: Path, scene: np.ndarray) -> list[Path]:
    """Three PNG exposures of one scene, named so that file order is NOT exposure order."""
    import cv2

    frames = exposure_bracket(scene)
    names = ["b_middle.png", "c_dark.png", "a_bright.png"]
    order = [1, 0, 2]
    paths = []
    for name, index in zip(names, order, strict=True):
        path = tmp_path / name
        cv2.imwrite(str(path), cv2.cvtColor(frames[index], cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def family_artifact(tmp_path_factory: pytest.TempPathFactory):
    """``family_artifact(family, runtime, precision)``: a conversion of the family's convertible model with
    its quick options (a smaller artifact of the same graph) for the first target that uses ``runtime``,
    once per session; tests must not modify it (copy it first)."""
    pytest.importorskip("torch")
    from converters import TARGETS, ConvertConfig, convert
    from edgemef.models.registry import get_family

    made: dict[tuple[str, str, str], object] = {}

    def make(family: str, runtime: str, precision: str):
        key = (family, runtime, precision)
        if key not in made:
            spec = get_family(family)
            target = next(t.name for t in TARGETS.values() if runtime in t.runtimes)
            config = ConvertConfig(
                target=target,
                runtime=runtime,
                model=spec.convertible,
                precision=precision,
                options=spec.quick_options(),
                out=tmp_path_factory.mktemp(f"{family}-{runtime}-{precision}"),
            )
            made[key] = convert(config)
        return made[key]

    return make


@pytest.fixture(scope="session")
def converted(family_artifact, tmp_path_factory: pytest.TempPathFactory):
    """``converted(target, precision, grid)``: a LUT-distill student artifact made by ``edgemef convert``
    for the target's default runtime, once per session (at the quick grid, the same conversion as
    ``family_artifact``'s). Conversions take 10-60 s each, so modules that need the same artifact share it;
    tests must not modify it (copy it first).
    """
    pytest.importorskip("torch")
    from converters import TARGETS, ConvertConfig, convert
    from edgemef.models.registry import get_family

    quick = get_family("lut-distill").quick_options()["grid"]
    made: dict[tuple[str, str, int], Path] = {}

    def make(target: str, precision: str, grid: int) -> Path:
        if grid == quick:
            return family_artifact("lut-distill", TARGETS[target].runtimes[0], precision).artifact
        key = (target, precision, grid)
        if key not in made:
            out = tmp_path_factory.mktemp(f"{target}-{precision}-g{grid}")
            config = ConvertConfig(target=target, precision=precision, options={"grid": grid}, out=out)
            made[key] = convert(config).artifact
        return made[key]

    return make


def run_python_without_torch(body: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``body`` in a fresh interpreter where ``import torch`` (and executorch) fail; it also fails if
    anything managed to import torch anyway. ``sys`` is imported for ``body``."""
    code = (
        "import sys\n"
        "sys.modules['torch'] = None; sys.modules['executorch'] = None\n"
        "try:\n" + textwrap.indent(body, "    ") + "\n"
        "finally:\n"
        "    assert 'torch' not in [m for m, v in sys.modules.items() if v is not None]\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
