"""IPL's attention cache on a stream: speed, cache memory and fused quality with and without the cache.

The stream is what the cache is for: a static camera shooting brackets of the same scene, a textured object
moving across it, fresh sensor noise in every frame (the bracket synthesis's camera model: shot and read
noise in the linear domain, EV -2/0/+2). Every frame is fused by the same exported tile graphs three ways:

- ``off``: no cache (the reference for speed and quality);
- ``output``: a tile whose pooled input has not changed beyond the threshold reuses its int8 output;
- ``attention``: the paper's attention cache: the tile's int8 LFE attention weights are reused and the
  replay graph recomputes the rest.

Reported per mode: median fusion time over the frames after the first (the first fills the cache), the
speed-up over ``off``, hit rate, the cache's bytes against the same entries in fp32, and the PSNR of the
fused frames against ``off`` and against the ground truth (the scene with the object, before the camera
model). The scene is ``../shared/data/uhd/scene1/gt.jpg`` resized when present (development only; nothing of
it is written), otherwise the repository's licence-clean example photo.

    python benchmarks/ipl_stream.py --artifact dist/rpi/ipl-fp32-t256.tflite --size 1920x1080 --frames 8
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from edgemef.data import CameraBracketConfig, synthesize_camera_bracket
from edgemef.io import read_image
from edgemef.metrics import psnr
from edgemef.models.ipl.runtime import IplArtifactFusion
from edgemef.runtime.cached_tiler import CACHE_MODES

ROOT = Path(__file__).resolve().parents[1]
SHARED_SCENE = ROOT.parent / "shared" / "data" / "uhd" / "scene1" / "gt.jpg"
EXAMPLE_SCENE = ROOT / "examples" / "brackets" / "coffee"


def scene_image(width: int, height: int) -> tuple[np.ndarray, str]:
    """The well-exposed scene the stream is made of, and where it came from."""
    if SHARED_SCENE.exists():
        image, source = read_image(SHARED_SCENE).pixels, "../shared/data/uhd/scene1/gt.jpg"
    else:
        frames = sorted(EXAMPLE_SCENE.glob("*.jpg")) + sorted(EXAMPLE_SCENE.glob("*.png"))
        image, source = (
            read_image(frames[len(frames) // 2]).pixels,
            f"examples/brackets/coffee/{frames[len(frames) // 2].name}",
        )
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), source


def stream(scene: np.ndarray, frames: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``frames`` (bracket, ground truth) pairs: the scene with a textured square moving left to right."""
    height, width = scene.shape[:2]
    side = max(16, min(height, width) // 6)
    patch = scene[height - side :, width - side :].copy()[::-1, ::-1]  # a textured piece, flipped
    top = height // 3
    step = max(1, (width - side) // max(frames, 1) // 2)
    pairs = []
    for t in range(frames):
        image = scene.copy()
        left = min(width - side, width // 8 + t * step)
        image[top : top + side, left : left + side] = patch
        config = CameraBracketConfig(shot_noise_gain=2e-4, read_noise_std=2e-3)
        bracket = synthesize_camera_bracket(image, config, seed=seed + t).frames
        pairs.append((bracket, image))
    return pairs


def measure(artifact: Path, pairs: list[tuple[np.ndarray, np.ndarray]], threshold: float | None) -> dict:
    fused_off: list[np.ndarray] = []
    results = {}
    for mode in CACHE_MODES[::-1]:  # off first: the others are compared with it
        fusion = IplArtifactFusion(artifact, cache=mode, threshold=threshold)
        times, versus_off, versus_truth = [], [], []
        for t, (bracket, truth) in enumerate(pairs):
            start = time.perf_counter()
            fused = fusion.fuse(bracket)
            elapsed = (time.perf_counter() - start) * 1000.0
            if mode == "off":
                fused_off.append(fused)
            if t == 0:
                continue  # the first frame fills the cache
            times.append(elapsed)
            versus_off.append(min(99.0, psnr(fused, fused_off[t])))
            versus_truth.append(psnr(fused, truth))
        cache = fusion.tiler.cache
        stats = cache.stats if cache is not None else None
        results[mode] = {
            "median_ms": statistics.median(times),
            "psnr_vs_off_db": statistics.mean(versus_off),
            "psnr_vs_truth_db": statistics.mean(versus_truth),
            "hit_rate": stats.hit_rate if stats else 0.0,
            "cache_bytes": stats.bytes if stats else 0,
            "cache_fp32_bytes": stats.fp32_bytes if stats else 0,
        }
    for row in results.values():
        row["speedup"] = results["off"]["median_ms"] / row["median_ms"]
    return results


def markdown(results: dict, header: str) -> str:
    lines = [
        header,
        "",
        "| cache | median ms / frame | speed-up | hit rate | cache int8 MB (fp32 MB) | PSNR vs no cache "
        "| PSNR vs truth |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode, r in results.items():
        memory = (
            f"{r['cache_bytes'] / 1e6:.1f} ({r['cache_fp32_bytes'] / 1e6:.1f})" if r["cache_bytes"] else "-"
        )
        vs_off = "-" if mode == "off" else f"{r['psnr_vs_off_db']:.2f} dB"
        lines.append(
            f"| {mode} | {r['median_ms']:.0f} | {r['speedup']:.2f}x | {r['hit_rate']:.0%} | {memory} | "
            f"{vs_off} | {r['psnr_vs_truth_db']:.2f} dB |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--artifact", type=Path, required=True, help="an IPL artifact from 'edgemef convert --model ipl'"
    )
    parser.add_argument("--size", default="1920x1080", help="frame size WxH (default 1920x1080)")
    parser.add_argument("--frames", type=int, default=8, help="brackets in the stream (default 8)")
    parser.add_argument(
        "--threshold", type=float, default=None, help="cache threshold (default: the contract's)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    scene, source = scene_image(width, height)
    pairs = stream(scene, args.frames)
    print(f"ipl stream: {args.frames} brackets of {width}x{height} from {source}", file=sys.stderr)
    results = measure(args.artifact, pairs, args.threshold)
    print(
        markdown(
            results,
            f"`{args.artifact.name}`, {args.frames} brackets of {width}x{height}, "
            f"medians of frames 2..{args.frames}",
        )
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"size": [width, height], "frames": args.frames, "scene": source, "results": results},
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
