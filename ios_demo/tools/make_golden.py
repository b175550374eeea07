"""Golden files for EdgeMEFCore's XCTest, made by the Python side from a real bracket at test time.

    python ios_demo/tools/make_golden.py OUT_DIR [COREML_ARTIFACT.mlpackage]

Writes everything android_demo/tools/make_golden.py writes (the shipped artifact's contract, the
``examples/brackets/rocket`` frames shuffled, Python's order, thumbnails, the network's weights and LUT run
in LiteRT, the reference and runtime fusions, weight maps and their reference fusion, a large odd-sized frame
and its thumbnail) plus
``color_cube.bin`` (``edgemef.lut.color_cube_data`` of that LUT) and, given a CoreML artifact from
``edgemef convert --target ios``, a copy of it and its contract as ``coreml/`` with ``coreml.json``.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def make_golden(out: Path, coreml_artifact: Path | None = None) -> Path:
    from edgemef.lut import color_cube_data

    android = _load("android_make_golden", REPO / "android_demo" / "tools" / "make_golden.py")
    android.make_golden(out)
    grid = int(json.loads((out / "meta.json").read_text())["grid"])
    lut = np.fromfile(out / "lut.f32", "<f4").reshape(grid, grid, grid, 3)
    (out / "color_cube.bin").write_bytes(color_cube_data(lut))
    if coreml_artifact is not None:
        folder = out / "coreml"
        folder.mkdir()
        shutil.copytree(coreml_artifact, folder / coreml_artifact.name)
        shutil.copy(coreml_artifact.with_suffix(".json"), folder / "contract.json")
    return out


def _load(name: str, path: Path) -> ModuleType:
    """A module from a file, under its own name (both demos' tools are called make_golden)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    print(make_golden(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None))
