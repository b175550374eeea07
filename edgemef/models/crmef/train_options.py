"""The options of ``edgemef train crmef`` (torch-free: the CLI parser is built without torch)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(group: argparse._ArgumentGroup) -> None:
    """``--genotype``: the searched architecture to train; ``--adversarial-weight``: eq. 7's beta_2 (passed
    to ``make_task`` by name)."""
    group.add_argument(
        "--genotype", type=Path, metavar="FILE", help="crmef: genotype.json from 'edgemef search crmef'"
    )
    group.add_argument(
        "--adversarial-weight",
        type=float,
        default=0.0,
        metavar="W",
        help="crmef: weight of the WGAN-GP PatchGAN term l_Dis (the paper's 0.05; default 0: off)",
    )
