"""Golden files for the Java core's tests, made by the Python side from a real bracket at test time.

    python android_demo/tools/make_golden.py OUT_DIR

Writes: ``contract.json`` (the shipped 3-exposure artifact's), the bracket's frames in a shuffled order as raw
RGB (``frame_K.rgb``) with ``meta.json`` (sizes, Python's darkest-first order, thumbnail size, LUT grid),
``thumbnails.rgb`` (edgemef.runtime.preprocess), the network outputs of the artifact run in its real runtime
(``weights.f32``, ``lut.f32``, little-endian float32), ``fused_reference.rgb``
(edgemef.lut.fuse_and_apply_reference) and ``fused_runtime.rgb`` (the Python runtime's fusion), and for
the adaptive model's weight maps ``weight_maps.f32`` (3 x 4 x 6 maps around the network's weights) with
``fused_maps_reference.rgb`` (the reference fusion with those maps).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
BRACKET = REPO / "examples" / "brackets" / "rocket"


def make_golden(out: Path) -> Path:
    from edgemef.artifacts import ARTIFACTS_DIR
    from edgemef.io import read_bracket
    from edgemef.io.bracket import order_by_exposure
    from edgemef.lut import fuse_and_apply_reference
    from edgemef.runtime import open_artifact
    from edgemef.runtime.preprocess import network_input, resize_thumbnails

    out.mkdir(parents=True, exist_ok=True)
    artifact = ARTIFACTS_DIR / "lut-student-int8-g33.tflite"
    shutil.copy(artifact.with_suffix(".json"), out / "contract.json")
    fusion = open_artifact(artifact)
    frames = read_bracket(sorted(BRACKET.glob("*.jpg"))).frames  # darkest first
    shuffled = [1, 2, 0]  # frame_K.rgb holds frames[shuffled[K]]
    for index, source in enumerate(shuffled):
        frames[source].tofile(out / f"frame_{index}.rgb")
    order, how = order_by_exposure(frames[shuffled], [fusion_exposure() for _ in shuffled])
    size = int(fusion.contract.preprocessing["thumbnail_size"])
    resize_thumbnails(frames, size).tofile(out / "thumbnails.rgb")
    outputs = fusion.backend.run(network_input(frames, size))
    weights = np.asarray(outputs["weights"], np.float32).reshape(-1)
    lut = np.asarray(outputs["lut"], np.float32).reshape(
        fusion.grid_size, fusion.grid_size, fusion.grid_size, 3
    )
    weights.astype("<f4").tofile(out / "weights.f32")
    lut.astype("<f4").tofile(out / "lut.f32")
    fuse_and_apply_reference(frames, weights, lut).tofile(out / "fused_reference.rgb")
    fusion.fuse(frames).tofile(out / "fused_runtime.rgb")
    ripple = np.sin(np.arange(4 * 6).reshape(4, 6))[None] * 0.3 * np.array([1.0, -0.5, -0.5])[:, None, None]
    maps = (weights[:, None, None] + ripple[: len(weights)]).astype("<f4")
    maps.tofile(out / "weight_maps.f32")
    fuse_and_apply_reference(frames, maps, lut).tofile(out / "fused_maps_reference.rgb")
    meta = {
        "width": int(frames.shape[2]),
        "height": int(frames.shape[1]),
        "n_exposures": len(frames),
        "order": [int(i) for i in order],
        "ordered_by": how,
        "thumbnail_size": size,
        "grid": fusion.grid_size,
        "maps": list(maps.shape),
    }
    # a large frame (odd sides), so the thumbnails' halvings are exercised too
    rng = np.random.default_rng(0)
    large = np.clip(rng.normal(128, 60, (1029, 1541, 3)), 0, 255).astype(np.uint8)
    large.tofile(out / "large.rgb")
    resize_thumbnails(large[None], size)[0].tofile(out / "large_thumbnail.rgb")
    meta["large"] = [1541, 1029]
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return out


def fusion_exposure():
    from edgemef.io.exif import ExposureInfo

    return ExposureInfo()  # no EXIF: the order comes from the pixels


if __name__ == "__main__":
    print(make_golden(Path(sys.argv[1])))
