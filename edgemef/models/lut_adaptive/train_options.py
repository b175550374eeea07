"""``edgemef train lut-adaptive`` options (torch-free: the CLI builds its parser from them). It also takes
LUT-distill's ``--ssim-weight``, ``--native-loss-fraction`` and ``--strong-augmentation``."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(group: argparse._ArgumentGroup) -> None:
    """The options of the lut-adaptive task (passed to ``make_task`` by name)."""
    group.add_argument(
        "--mef-ssim-weight",
        type=float,
        default=None,
        metavar="M",
        help="lut-adaptive: weight of 1 - MEF-SSIM(bracket, output) in the loss (default 1)",
    )
    group.add_argument(
        "--map-grid",
        type=int,
        default=None,
        metavar="G",
        help="lut-adaptive: cells a side of the weight maps, the 128-pixel thumbnails halved (16 or 32; "
        "default 16); --init FILE of another grid warm-starts every layer both have",
    )
    group.add_argument(
        "--map-context-layers",
        type=int,
        default=None,
        metavar="K",
        help="lut-adaptive: 3x3 convolutions of the weight-map network at the map grid (default 2); "
        "--init FILE with fewer starts the added ones as the identity",
    )
    group.add_argument(
        "--student",
        type=Path,
        default=None,
        metavar="FILE",
        help="lut-adaptive: LUT-distill student weights whose encoder and LUT network start the training "
        "(default: the shipped student for the bracket size; --init FILE continues lut-adaptive weights)",
    )
