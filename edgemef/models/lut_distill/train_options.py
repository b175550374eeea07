"""LUT-distill's ``edgemef train`` options (torch-free: the CLI builds its parser from them)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(group: argparse._ArgumentGroup) -> None:
    """The options of the lut-teacher and lut-student tasks (passed to ``make_task`` by name)."""
    group.add_argument("--teacher", type=Path, help="trained teacher weights (lut-student)")
    group.add_argument(
        "--student-grid",
        type=int,
        default=33,
        metavar="S",
        help="lattice the student is trained on, resampled to 64^3 for distillation (default 33; paper: 64)",
    )
    group.add_argument(
        "--unpaired-weight",
        type=float,
        default=None,
        metavar="W",
        help="lut-student: weight of the paper's unpaired MEF-SSIM loss (eq. 12: (1-W) * eq. 6 + W * "
        "(1 - MEF-SSIM); paper: 0.1; default 0 = eq. 6 alone, 0.1 with --radiance-maps, whose brackets it "
        "alone scores)",
    )
    group.add_argument(
        "--ssim-weight",
        type=float,
        default=None,
        metavar="S",
        help="lut-student and the LUT tasks built on it: add S * (1 - SSIM against the reference) to the "
        "loss (ours; lut-student's default 0)",
    )
    group.add_argument(
        "--native-loss-fraction",
        type=float,
        default=0.0,
        metavar="F",
        help="LUT tasks: score this share of samples on a window at the "
        "scenes' stored resolution (up to 1536 px) instead of the whole crop resized (default 0)",
    )
    group.add_argument(
        "--strong-augmentation",
        action="store_true",
        help="LUT tasks: crops down to 20%% of the shorter side, random "
        "colour-channel permutations and vertical flips (default: crops of 40-100%%, horizontal flips)",
    )
