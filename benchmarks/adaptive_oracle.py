"""How far can *spatially adaptive* LUT fusion go on a scene? A per-scene oracle of that form.

The adaptive form: a low-resolution weight map per exposure (``grid`` cells on the short side), upsampled
bilinearly (``edgemef.lut.weight_map_sampling``) and one global 3D LUT. This script fits both to each scene
by gradient descent (Adam, from the shipped student's weights and LUT) on
``L1 + a (1 - SSIM) + b (1 - MEF-SSIM)`` against the reference and the bracket, then scores the result with
the torch-free applier, next to Mertens. It uses the references, so it is an upper bound of what a network
of this form could predict, never a model to ship; it says whether the form can beat Mertens in PSNR, SSIM
and MEF-SSIM at once, and at which loss mix.

    python benchmarks/adaptive_oracle.py --dataset ../shared/data/sice --scenes scene1,scene10 \\
        --configs 16:1:0,16:1:1,16:1:3,32:1:3,16:1:1:curves,16:1:1:bilateral

A config ending in ``:curves`` adds per-pixel *exposedness curves*: each exposure also gets a positive curve
``c_k`` over its own pixel's luma (32 knots, linear between them, as a 256-entry table on 8-bit luma), and a
pixel's weights are ``m_k(x, y) c_k(L_k(x, y)) / sum_j m_j(x, y) c_j(L_j(x, y))`` (Mertens' well-exposedness
term, learned, under the low-resolution maps). A config ending in ``:bilateral`` makes the maps a bilateral
grid instead: ``K x 8 x Gh x Gw`` cells, the third axis the mean luma of the bracket's frames, sliced
trilinearly at every pixel (HDRNet's guided upsampling, with a fixed guide). Results of both are the torch
fusion rounded to 8 bits (no applier implements either form). ``:fixedmaps`` or ``:fixedlut`` keeps that
part of the starting prediction (``--start lut-adaptive`` starts from the shipped adaptive model's maps and
LUT), to tell which of the two a learned model gets wrong.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from edgemef.data import find_scenes, load_scene
from edgemef.data.hdr_brackets import find_radiance_maps, split_radiance_maps
from edgemef.lut import fuse_and_apply
from edgemef.metrics import psnr, ssim
from edgemef.metrics.mef_ssim import mef_ssim
from edgemef.models import create_model
from edgemef.models.lut_distill.trilinear import apply_lut
from edgemef.train.mef_ssim_loss import multiscale_unpaired_loss, ssim_loss, unpaired_loss
from edgemef.train.radiance_samples import validation_frames


def luma_index(frames: np.ndarray) -> torch.Tensor:
    """8-bit luma (Rec. 601 weights) of each frame, ``K x H x W`` int64."""
    luma = frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return torch.from_numpy(np.clip(np.rint(luma), 0, 255).astype(np.int64))


def curve_tables(knots: torch.Tensor) -> torch.Tensor:
    """``K x 32`` curve logits -> ``K x 256`` positive weights (linear between the knots)."""
    return F.interpolate(torch.exp(knots)[:, None], size=256, mode="linear", align_corners=True)[:, 0]


BILATERAL_DEPTH = 8


def slice_bilateral(cells: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
    """A bilateral grid of weights ``K x D x Gh x Gw`` (D bins of the guide) sliced trilinearly at every
    pixel ``(x, y, guide(x, y))``, half-pixel centres, clamped to the edge cells: ``K x H x W``."""
    height, width = guide.shape
    ys = (torch.arange(height, dtype=torch.float32) + 0.5) / height * 2 - 1
    xs = (torch.arange(width, dtype=torch.float32) + 0.5) / width * 2 - 1
    coords = torch.stack(
        [xs[None].expand(height, width), ys[:, None].expand(height, width), guide * 2 - 1], dim=-1
    )
    sliced = F.grid_sample(
        cells[None], coords[None, None], mode="bilinear", padding_mode="border", align_corners=False
    )
    return sliced[0, :, 0]


def fit(
    frames: np.ndarray,
    truth: np.ndarray | None,
    weights,
    lut,
    grid: int,
    a: float,
    b: float,
    steps: int,
    form: str = "maps",
    multiscale: bool = False,
    frozen: frozenset[str] = frozenset(),
):
    """Weight maps (K x Gh x Gw), LUT and (``form`` "curves" or "bilateral") the per-pixel weight of each
    fused pixel (``K x H x W``) fitted to one scene (to its bracket alone when ``truth`` is None).
    ``weights`` are K global weights or K x Gh x Gw maps (then they set the grid); ``frozen`` may name "maps"
    and "lut" to keep them as given."""
    curves, bilateral = form == "curves", form == "bilateral"
    height, width = frames.shape[1:3]
    gh, gw = (grid, round(grid * width / height)) if height <= width else (round(grid * height / width), grid)
    x = torch.from_numpy(frames.astype(np.float32) / 255).permute(0, 3, 1, 2)
    t = None if truth is None else torch.from_numpy(truth.astype(np.float32) / 255).permute(2, 0, 1)[None]
    start = torch.log(torch.from_numpy(np.asarray(weights, np.float32)).clamp_min(1e-6))
    if start.dim() == 1:
        start = start[:, None, None].repeat(1, gh, gw)
    depth = BILATERAL_DEPTH if bilateral else 1
    logits = start[:, None].repeat(1, depth, 1, 1).requires_grad_("maps" not in frozen)
    table = torch.from_numpy(lut).clone()[None].requires_grad_("lut" not in frozen)
    knots = torch.zeros(len(frames), 32, requires_grad=True)
    luma = luma_index(frames)
    guide = luma.float().mean(0) / 255
    rates = ((logits, 0.05), (table, 0.003))
    groups = [{"params": [tensor], "lr": lr} for tensor, lr in rates if tensor.requires_grad]
    optimiser = torch.optim.Adam([*groups, {"params": [knots], "lr": 0.05}] if curves else groups)

    def pixel_weights() -> torch.Tensor:
        if bilateral:
            return slice_bilateral(torch.softmax(logits, 0), guide)
        maps = F.interpolate(
            torch.softmax(logits, 0)[:, 0][None], size=(height, width), mode="bilinear", align_corners=False
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
        loss = b * structure
        if t is not None:
            loss = loss + (out - t).abs().mean() + a * ssim_loss(out, t)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        per_pixel = pixel_weights() if curves or bilateral else None
    maps = torch.softmax(logits, 0)[:, 0].detach().numpy()
    return maps, table[0].detach().numpy().astype(np.float32), per_pixel


def row(scene: str, name: str, image: np.ndarray, frames: np.ndarray, truth: np.ndarray | None) -> None:
    fidelity = "- | -" if truth is None else f"{psnr(image, truth):.2f} | {ssim(image, truth):.4f}"
    print(f"| {scene} | {name} | {fidelity} | {mef_ssim(frames, image):.4f} |", flush=True)


def sice_scenes(dataset: str, names: list[str], exposures: str, size: int):
    """(name, frames, reference) of SICE-layout scenes, resized to ``size`` on the long side."""
    for scene in [s for s in find_scenes(dataset) if s.name in names]:
        bracket, reference = load_scene(scene, exposures)
        assert reference is not None
        scale = size / max(reference.shape[:2])
        shape = (round(reference.shape[1] * scale), round(reference.shape[0] * scale))
        frames = np.stack([cv2.resize(f, shape, interpolation=cv2.INTER_AREA) for f in bracket.frames])
        yield scene.name, frames, cv2.resize(reference, shape, interpolation=cv2.INTER_AREA)


def radiance_scenes(folder: str, indices: list[int], exposures: str, size: int):
    """(name, frames, None) of ``edgemef eval --dataset HDR``'s validation brackets (``size`` pixels)."""
    _, validation_maps = split_radiance_maps(find_radiance_maps(folder))
    brackets = validation_frames(validation_maps, int(exposures), size)
    names = [f"{path.stem} {k}" for path in validation_maps for k in range(2)]
    for index in indices:
        yield names[index], brackets[index], None


FORM_LABELS = {
    "maps": "",
    "curves": " + exposedness curves",
    "bilateral": f" x {BILATERAL_DEPTH} luma bins (bilateral grid)",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--scenes", default="scene1,scene10")
    parser.add_argument("--size", type=int, default=768, help="long side the scenes are resized to")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument(
        "--configs",
        default="16:1:1",
        help="grid:a:b[:curves|:bilateral][:fixedmaps|:fixedlut],... (a: weight of 1-SSIM, b: of 1-MEF-SSIM "
        "in the loss; curves: add per-pixel exposedness curves; bilateral: maps indexed by luma too; "
        "fixedmaps, fixedlut: keep that part of the starting prediction)",
    )
    parser.add_argument("--exposures", default="3", help="which exposures of each scene (edgemef.data)")
    parser.add_argument(
        "--multiscale",
        action="store_true",
        help="the MEF-SSIM term as the metric scores it (three scales), not the paper's single scale",
    )
    parser.add_argument(
        "--start",
        choices=("lut-student", "lut-adaptive"),
        default="lut-student",
        help="the shipped model whose prediction the fit starts from (lut-adaptive: its maps set the grid)",
    )
    parser.add_argument(
        "--radiance",
        action="store_true",
        help="--dataset is a folder of radiance maps: fit `edgemef eval`'s validation brackets (--scenes are "
        "their indices, 0-21; --size their side, 512 there), to MEF-SSIM alone (they have no reference)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    start, mertens = create_model(args.start), create_model("mertens")
    configs = []
    for config in args.configs.split(","):
        parts = config.split(":")
        forms = [p for p in parts[3:] if p in FORM_LABELS]
        frozen = frozenset(p.removeprefix("fixed") for p in parts[3:] if p in ("fixedmaps", "fixedlut"))
        grid, a, b = (float(v) for v in parts[:3])
        configs.append((grid, a, b, forms[0] if forms else "maps", frozen))
    print("| scene | fusion | PSNR dB | SSIM | MEF-SSIM |")
    print("|---|---|---|---|---|")
    if args.radiance:
        scenes = radiance_scenes(
            args.dataset, [int(i) for i in args.scenes.split(",")], args.exposures, args.size
        )
    else:
        scenes = sice_scenes(args.dataset, args.scenes.split(","), args.exposures, args.size)
    for scene, frames, truth in scenes:
        row(scene, "Mertens", mertens.fuse(frames), frames, truth)
        if truth is not None:
            row(scene, "the reference itself", truth, frames, truth)
        weights, lut = start.predict(frames)
        row(scene, f"{args.start} as predicted", fuse_and_apply(frames, weights, lut), frames, truth)
        for grid, a, b, form, frozen in configs:
            began = time.perf_counter()
            maps, table, per_pixel = fit(
                frames, truth, weights, lut, int(grid), a, b, args.steps, form, args.multiscale, frozen
            )
            took = time.perf_counter() - began
            label = FORM_LABELS[form] + "".join(f", {part} fixed" for part in sorted(frozen))
            loss = f"{b:g} MEF-SSIM" if truth is None else f"L1 + {a:g} SSIM + {b:g} MEF-SSIM"
            name = f"oracle, grid {int(grid)}{label}, {loss} ({took:.0f} s)"
            if per_pixel is None:
                image = fuse_and_apply(frames, maps, table)
            else:
                x = torch.from_numpy(frames.astype(np.float32) / 255).permute(0, 3, 1, 2)
                fused = (per_pixel[:, None] * x).sum(0, keepdim=True).clamp(0, 1)
                out = apply_lut(fused, torch.from_numpy(table)[None]).clamp(0, 1)[0].permute(1, 2, 0).numpy()
                image = np.floor(out * 255 + 0.5).astype(np.uint8)
            row(scene, name, image, frames, truth)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
