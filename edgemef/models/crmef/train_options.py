"""The options of ``edgemef train crmef`` (torch-free: the CLI parser is built without torch)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(group: argparse._ArgumentGroup) -> None:
    """``--genotype``: the searched architecture to train (passed to ``make_task`` by name)."""
    group.add_argument(
        "--genotype", type=Path, metavar="FILE", help="crmef: genotype.json from 'edgemef search crmef'"
    )
