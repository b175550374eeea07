"""How far can *spatially adaptive* LUT fusion go on a scene? A per-scene oracle of that form.

The adaptive form: a low-resolution weight map per exposure (``grid`` cells on the short side), upsampled
bilinearly (``edgemef.lut.weight_map_sampling``) and one global 3D LUT. This script fits both to each scene
by gradient descent (Adam, from the shipped student's weights and LUT) on
``L1 + a (1 - SSIM) + b (1 - MEF-SSIM)`` against the reference and the bracket, then scores the result with
the torch-free applier, next to Mertens. It uses the references, so it is an upper bound of what a network
of this form could predict, never a model to ship; it says whether the form can beat Mertens in PSNR, SSIM
and MEF-SSIM at once, and at which loss mix.

    python benchmarks/adaptive_oracle.py --dataset ../shared/data/sice --scenes scene1,scene10 \\
        --configs 16:1:0,16:1:1,16:1:3,32:1:3
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from edgemef.data import find_scenes, load_scene
from edgemef.lut import fuse_and_apply
from edgemef.metrics import psnr, ssim
from edgemef.metrics.mef_ssim import mef_ssim
from edgemef.models import create_model
from edgemef.models.lut_distill.mef_ssim_loss import ssim_loss, unpaired_loss
from edgemef.models.lut_distill.trilinear import apply_lut


def fit(frames: np.ndarray, truth: np.ndarray, weights, lut, grid: int, a: float, b: float, steps: int):
    """Weight maps (K x Gh x Gw) and LUT fitted to one scene."""
    height, width = truth.shape[:2]
    gh, gw = (grid, round(grid * width / height)) if height <= width else (round(grid * height / width), grid)
    x = torch.from_numpy(frames.astype(np.float32) / 255).permute(0, 3, 1, 2)
    t = torch.from_numpy(truth.astype(np.float32) / 255).permute(2, 0, 1)[None]
    start = torch.log(torch.from_numpy(np.asarray(weights, np.float32)))[:, None, None]
    logits = start.repeat(1, gh, gw).requires_grad_(True)
    table = torch.from_numpy(lut).clone()[None].requires_grad_(True)
    optimiser = torch.optim.Adam([{"params": [logits], "lr": 0.05}, {"params": [table], "lr": 0.003}])
    for _ in range(steps):
        maps = F.interpolate(
            torch.softmax(logits, 0)[None], size=(height, width), mode="bilinear", align_corners=False
        )[0]
        fused = (maps[:, None] * x).sum(0, keepdim=True).clamp(0, 1)
        out = apply_lut(fused, table).clamp(0, 1)
        loss = (out - t).abs().mean() + a * ssim_loss(out, t) + b * unpaired_loss(x[None], out)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return torch.softmax(logits, 0).detach().numpy(), table[0].detach().numpy().astype(np.float32)


def row(scene: str, name: str, image: np.ndarray, frames: np.ndarray, truth: np.ndarray) -> None:
    print(
        f"| {scene} | {name} | {psnr(image, truth):.2f} | {ssim(image, truth):.4f} | "
        f"{mef_ssim(frames, image):.4f} |",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--scenes", default="scene1,scene10")
    parser.add_argument("--size", type=int, default=768, help="long side the scenes are resized to")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument(
        "--configs", default="16:1:1", help="grid:a:b,... (a: weight of 1-SSIM, b: of 1-MEF-SSIM in the loss)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    student, mertens = create_model("lut-student"), create_model("mertens")
    configs = [tuple(float(v) for v in c.split(":")) for c in args.configs.split(",")]
    print("| scene | fusion | PSNR dB | SSIM | MEF-SSIM |")
    print("|---|---|---|---|---|")
    for scene in [s for s in find_scenes(args.dataset) if s.name in args.scenes.split(",")]:
        bracket, reference = load_scene(scene, "3")
        assert reference is not None
        scale = args.size / max(reference.shape[:2])
        size = (round(reference.shape[1] * scale), round(reference.shape[0] * scale))
        frames = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in bracket.frames])
        truth = cv2.resize(reference, size, interpolation=cv2.INTER_AREA)

        row(scene.name, "Mertens", mertens.fuse(frames), frames, truth)
        row(scene.name, "the reference itself", truth, frames, truth)
        weights, lut = student.predict(frames)
        row(scene.name, "student (global weights + LUT)", fuse_and_apply(frames, weights, lut), frames, truth)
        for grid, a, b in configs:
            began = time.perf_counter()
            maps, table = fit(frames, truth, weights, lut, int(grid), a, b, args.steps)
            took = time.perf_counter() - began
            name = f"oracle, grid {int(grid)}, L1 + {a:g} SSIM + {b:g} MEF-SSIM ({took:.0f} s)"
            row(scene.name, name, fuse_and_apply(frames, maps, table), frames, truth)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
