"""The options of ``edgemef train sthdr`` (torch-free: the CLI parser is built without torch)."""

from __future__ import annotations

import argparse


def add_arguments(group: argparse._ArgumentGroup) -> None:
    """``--channels``, ``--patch`` and ``--single-scale-single-stage`` (passed to ``make_task`` by name)."""
    group.add_argument(
        "--channels", type=int, default=None, metavar="C", help="sthdr: network width (paper 32; default 16)"
    )
    group.add_argument(
        "--patch",
        type=int,
        default=None,
        metavar="PX",
        help="sthdr: training crop side (paper 256; default 128)",
    )
    group.add_argument(
        "--single-scale-single-stage",
        action="store_true",
        help="sthdr: the ablation's HSS network (one U-Net of HIN blocks, no alignment, one scale, one "
        "stage)",
    )
