"""Quality of an exported artifact, as ``edgemef fuse`` runs it, on a dataset's scenes (``edgemef eval``
scores the PyTorch model; this scores the model file in its runtime, int8 quantization included).

    python benchmarks/artifact_quality.py edgemef/artifacts/lut-adaptive-2exp-int8-g33.tflite \\
        --dataset ../shared/data/sice --scenes scene1,scene10 --exposures 2

Prints PSNR, SSIM (where the scene has a reference) and MEF-SSIM per scene and their means, the same metrics
and exposure selection as ``edgemef eval``.
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

from edgemef.data.datasets import find_scenes, load_scene
from edgemef.metrics.fidelity import psnr, ssim
from edgemef.metrics.mef_ssim import mef_ssim
from edgemef.runtime.artifact import open_artifact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("artifact", type=Path, help="model file with its contract beside it")
    parser.add_argument("--dataset", type=Path, required=True, help="dataset folder (as edgemef eval)")
    parser.add_argument("--scenes", default=None, help="comma-separated scene names (default: all)")
    parser.add_argument("--exposures", default=None, help="2, 3 or all (default: the artifact's)")
    args = parser.parse_args()
    runtime = open_artifact(args.artifact)
    exposures = args.exposures or str(runtime.n_exposures)
    wanted = None if args.scenes is None else set(args.scenes.split(","))
    rows: list[tuple[float, float, float]] = []
    print(f"{args.artifact} on {args.dataset} (exposures: {exposures})")
    print(f"{'scene':<24} {'PSNR dB':>8} {'SSIM':>7} {'MEF-SSIM':>9}")
    for scene in find_scenes(args.dataset):
        if wanted is not None and scene.name not in wanted:
            continue
        bracket, reference = load_scene(scene, exposures)
        fused = runtime.fuse(bracket.frames)
        fidelity = (math.nan, math.nan)
        if reference is not None:
            fidelity = (psnr(fused, reference), ssim(fused, reference))
        rows.append((*fidelity, mef_ssim(bracket.frames, fused)))
        print(f"{scene.name:<24} {rows[-1][0]:8.2f} {rows[-1][1]:7.4f} {rows[-1][2]:9.4f}")
    if not rows:
        raise SystemExit(f"no scenes of {args.dataset} match {args.scenes}")
    means = [statistics.fmean(column) for column in zip(*rows, strict=True)]
    print(f"{'mean':<24} {means[0]:8.2f} {means[1]:7.4f} {means[2]:9.4f}")


if __name__ == "__main__":
    main()
