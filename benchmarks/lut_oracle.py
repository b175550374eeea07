"""How far can LUT-distill's *architecture* go on a scene? A per-scene oracle of the same form.

LUT-distill fuses with one weight per exposure and one global 3D LUT. This script fits both to the reference
image of each scene (a grid search over the weights on the simplex in steps of 0.1, and for each the
least-squares 17^3 trilinear LUT from the weighted mean to the reference, lightly regularised towards
identity), and reports the best SSIM it reaches next to Mertens and the shipped student, plus the student's
own weights with an oracle LUT (PSNR and SSIM). It uses the references, so it is an upper bound, never a
model to ship. "contrast" is the median ratio of local standard deviations, output / reference
(``edgemef.metrics.ssim_terms``): below 1, the output is flatter than the reference.

    python benchmarks/lut_oracle.py --dataset ../shared/data/sice --scenes scene1,scene10
    python benchmarks/lut_oracle.py --dataset ../shared/data/sice --size 0 --no-weight-search  # as eval
"""

from __future__ import annotations

import argparse
import itertools

import cv2
import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve

from edgemef.data import find_scenes, load_scene
from edgemef.lut import fuse_and_apply
from edgemef.metrics import psnr, ssim, ssim_terms
from edgemef.models import create_model

GRID = 17


def _design(rgb: np.ndarray) -> sparse.csr_matrix:
    """Trilinear interpolation weights of ``P x 3`` colours in [0, 1] on the GRID^3 lattice."""
    x = rgb * (GRID - 1)
    low = np.clip(np.floor(x).astype(int), 0, GRID - 2)
    frac = x - low
    rows, cols, values = [], [], []
    index = np.arange(len(rgb))
    for dr, dg, db in itertools.product((0, 1), repeat=3):
        w = (frac[:, 0] if dr else 1 - frac[:, 0]) * (frac[:, 1] if dg else 1 - frac[:, 1])
        w = w * (frac[:, 2] if db else 1 - frac[:, 2])
        rows.append(index)
        cols.append(((low[:, 0] + dr) * GRID + low[:, 1] + dg) * GRID + low[:, 2] + db)
        values.append(w)
    where = (np.concatenate(rows), np.concatenate(cols))
    return sparse.csr_matrix((np.concatenate(values), where), shape=(len(rgb), GRID**3))


def oracle_lut_apply(fused: np.ndarray, reference: np.ndarray, regularisation: float = 1e-3) -> np.ndarray:
    """The least-squares GRID^3 LUT from ``fused`` to ``reference`` (float, [0, 1]), applied to ``fused``."""
    a = _design(fused.reshape(-1, 3))
    normal = (a.T @ a + regularisation * sparse.eye(GRID**3)).tocsc()
    identity = np.stack(np.meshgrid(*[np.linspace(0, 1, GRID)] * 3, indexing="ij"), -1).reshape(-1, 3)
    target = reference.reshape(-1, 3)
    rhs = a.T @ target + regularisation * identity
    lut = np.stack([spsolve(normal, rhs[:, c]) for c in range(3)], 1)
    return np.clip(a @ lut, 0, 1).reshape(reference.shape)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.round(image * 255), 0, 255).astype(np.uint8)


def best_oracle_weights(linear: np.ndarray, truth: np.ndarray) -> tuple[float, np.ndarray]:
    """(SSIM, weights) of the best oracle over weights on the simplex in steps of 0.1, each with its
    least-squares LUT; ``linear`` is the N x H x W x 3 bracket in [0, 1], ``truth`` the uint8 reference."""
    best: tuple[float, np.ndarray] | None = None
    for w0 in np.arange(0, 1.01, 0.1):
        for w1 in np.arange(0, 1.01 - w0, 0.1):
            w = np.array([w0, w1, max(0.0, 1 - w0 - w1)])
            score = ssim(to_uint8(oracle_lut_apply(np.tensordot(w, linear, 1), truth / 255)), truth)
            if best is None or score > best[0]:
                best = (score, w)
    assert best is not None
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--scenes", default="scene1,scene10")
    parser.add_argument(
        "--size", type=int, default=768, help="long side the scenes are resized to (0: as stored, like eval)"
    )
    parser.add_argument(
        "--no-weight-search",
        action="store_true",
        help="skip the oracle-weights column (66 LUT fits a scene; slow at full resolution)",
    )
    parser.add_argument("--weights", default=None, help="student weights (default: the shipped student)")
    args = parser.parse_args(argv)
    wanted = args.scenes.split(",")
    student = create_model("lut-student", **({"weights": args.weights} if args.weights else {}))
    mertens = create_model("mertens")
    print(
        "| scene | mertens SSIM (contrast) | student PSNR / SSIM (contrast) | student weights + oracle LUT: "
        "PSNR / SSIM | oracle weights + LUT: SSIM (weights) |"
    )
    print("|---|---|---|---|---|")
    for scene in [s for s in find_scenes(args.dataset) if s.name in wanted]:
        bracket, reference = load_scene(scene, "3")
        assert reference is not None
        frames, truth = np.stack(bracket.frames), reference
        if args.size > 0:
            scale = args.size / max(reference.shape[:2])
            size = (round(reference.shape[1] * scale), round(reference.shape[0] * scale))
            frames = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
            truth = cv2.resize(reference, size, interpolation=cv2.INTER_AREA)
        linear = frames.astype(np.float32) / 255
        weights, lut = student.predict(frames)
        fused_by_student, fused_by_mertens = fuse_and_apply(frames, weights, lut), mertens.fuse(frames)
        student_terms = ssim_terms(fused_by_student, truth)
        mertens_terms = ssim_terms(fused_by_mertens, truth)
        oracle = to_uint8(oracle_lut_apply(np.tensordot(weights, linear, 1), truth / 255))
        best = None if args.no_weight_search else best_oracle_weights(linear, truth)
        print(
            f"| {scene.name} | {ssim(fused_by_mertens, truth):.4f} ({mertens_terms.contrast_ratio:.2f}) | "
            f"{psnr(fused_by_student, truth):.2f} / {ssim(fused_by_student, truth):.4f} "
            f"({student_terms.contrast_ratio:.2f}) | {psnr(oracle, truth):.2f} / {ssim(oracle, truth):.4f} | "
            + ("- |" if best is None else f"{best[0]:.4f} ({', '.join(f'{v:.1f}' for v in best[1])}) |")
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
