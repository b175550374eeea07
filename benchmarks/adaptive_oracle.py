"""How far can *spatially adaptive* LUT fusion go on a scene? A per-scene oracle of that form.

The adaptive form: a low-resolution weight map per exposure (``grid`` cells on the short side), upsampled
bilinearly (``edgemef.lut.weight_map_sampling``) and one global 3D LUT. This script fits both to each scene
by gradient descent (Adam, from the shipped student's weights and LUT) on
``L1 + a (1 - SSIM) + b (1 - MEF-SSIM)`` against the reference and the bracket, then scores the result with
the torch-free applier, next to Mertens. It uses the references, so it is an upper bound of what a network
of this form could predict, never a model to ship; it says whether the form can beat Mertens in PSNR, SSIM
and MEF-SSIM at once, and at which loss mix.

    python benchmarks/adaptive_oracle.py --dataset ../shared/data/sice --scenes scene1,scene10 \\
        --configs 16:1:0,16:1:1,16:1:3,32:1:3,16:1:1:curves

A config ending in ``:curves`` adds per-pixel *exposedness curves*: each exposure also gets a positive curve
``c_k`` over its own pixel's luma (32 knots, linear between them, as a 256-entry table on 8-bit luma), and a
pixel's weights are ``m_k(x, y) c_k(L_k(x, y)) / sum_j m_j(x, y) c_j(L_j(x, y))`` (Mertens' well-exposedness
term, learned, under the low-resolution maps). Those results are the torch fusion rounded to 8 bits (no
applier implements the form yet).
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
from edgemef.models.lut_distill.trilinear import apply_lut
from edgemef.train.mef_ssim_loss import multiscale_unpaired_loss, ssim_loss, unpaired_loss


def luma_index(frames: np.ndarray) -> torch.Tensor:
    """8-bit luma (Rec. 601 weights) of each frame, ``K x H x W`` int64."""
    luma = frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return torch.from_numpy(np.clip(np.rint(luma), 0, 255).astype(np.int64))


def curve_tables(knots: torch.Tensor) -> torch.Tensor:
    """``K x 32`` curve logits -> ``K x 256`` positive weights (linear between the knots)."""
    return F.interpolate(torch.exp(knots)[:, None], size=256, mode="linear", align_corners=True)[:, 0]


def fit(
    frames: np.ndarray,
    truth: np.ndarray,
    weights,
    lut,
    grid: int,
    a: float,
    b: float,
    steps: int,
    curves: bool = False,
    multiscale: bool = False,
):
    """Weight maps (K x Gh x Gw), LUT and (``curves``) the per-pixel weight of each fused pixel
    (``K x H x W``) fitted to one scene."""
    height, width = truth.shape[:2]
    gh, gw = (grid, round(grid * width / height)) if height <= width else (round(grid * height / width), grid)
    x = torch.from_numpy(frames.astype(np.float32) / 255).permute(0, 3, 1, 2)
    t = torch.from_numpy(truth.astype(np.float32) / 255).permute(2, 0, 1)[None]
    start = torch.log(torch.from_numpy(np.asarray(weights, np.float32)))[:, None, None]
    logits = start.repeat(1, gh, gw).requires_grad_(True)
    table = torch.from_numpy(lut).clone()[None].requires_grad_(True)
    knots = torch.zeros(len(frames), 32, requires_grad=True)
    luma = luma_index(frames)
    groups = [{"params": [logits], "lr": 0.05}, {"params": [table], "lr": 0.003}]
    optimiser = torch.optim.Adam([*groups, {"params": [knots], "lr": 0.05}] if curves else groups)

    def pixel_weights() -> torch.Tensor:
        maps = F.interpolate(
            torch.softmax(logits, 0)[None], size=(height, width), mode="bilinear", align_corners=False
        )[0]
        if not curves:
            return maps
        tables = curve_tables(knots)
        raw = maps * torch.stack([tables[k][luma[k]] for k in range(len(frames))])
        return raw / raw.sum(0, keepdim=True)

    for _ in range(steps):
        maps = pixel_weights()
        fused = (maps[:, None] * x).sum(0, keepdim=True).clamp(0, 1)
        out = apply_lut(fused, table).clamp(0, 1)
        structure = (multiscale_unpaired_loss if multiscale else unpaired_loss)(x[None], out)
        loss = (out - t).abs().mean() + a * ssim_loss(out, t) + b * structure
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        per_pixel = pixel_weights() if curves else None
    return torch.softmax(logits, 0).detach().numpy(), table[0].detach().numpy().astype(np.float32), per_pixel


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
        "--configs",
        default="16:1:1",
        help="grid:a:b[:curves],... (a: weight of 1-SSIM, b: of 1-MEF-SSIM in the loss; curves: add "
        "per-pixel exposedness curves)",
    )
    parser.add_argument("--exposures", default="3", help="which exposures of each scene (edgemef.data)")
    parser.add_argument(
        "--multiscale",
        action="store_true",
        help="the MEF-SSIM term as the metric scores it (three scales), not the paper's single scale",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    student, mertens = create_model("lut-student"), create_model("mertens")
    configs = []
    for config in args.configs.split(","):
        parts = config.split(":")
        curves = parts[-1] == "curves"
        grid, a, b = (float(v) for v in parts[:3])
        configs.append((grid, a, b, curves))
    print("| scene | fusion | PSNR dB | SSIM | MEF-SSIM |")
    print("|---|---|---|---|---|")
    for scene in [s for s in find_scenes(args.dataset) if s.name in args.scenes.split(",")]:
        bracket, reference = load_scene(scene, args.exposures)
        assert reference is not None
        scale = args.size / max(reference.shape[:2])
        size = (round(reference.shape[1] * scale), round(reference.shape[0] * scale))
        frames = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in bracket.frames])
        truth = cv2.resize(reference, size, interpolation=cv2.INTER_AREA)

        row(scene.name, "Mertens", mertens.fuse(frames), frames, truth)
        row(scene.name, "the reference itself", truth, frames, truth)
        weights, lut = student.predict(frames)
        row(scene.name, "student (global weights + LUT)", fuse_and_apply(frames, weights, lut), frames, truth)
        for grid, a, b, curves in configs:
            began = time.perf_counter()
            maps, table, per_pixel = fit(
                frames, truth, weights, lut, int(grid), a, b, args.steps, curves, args.multiscale
            )
            took = time.perf_counter() - began
            form = " + exposedness curves" if curves else ""
            name = f"oracle, grid {int(grid)}{form}, L1 + {a:g} SSIM + {b:g} MEF-SSIM ({took:.0f} s)"
            if per_pixel is None:
                image = fuse_and_apply(frames, maps, table)
            else:
                x = torch.from_numpy(frames.astype(np.float32) / 255).permute(0, 3, 1, 2)
                fused = (per_pixel[:, None] * x).sum(0, keepdim=True).clamp(0, 1)
                out = apply_lut(fused, torch.from_numpy(table)[None]).clamp(0, 1)[0].permute(1, 2, 0).numpy()
                image = np.floor(out * 255 + 0.5).astype(np.uint8)
            row(scene.name, name, image, frames, truth)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
