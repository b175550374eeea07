"""``edgemef search crmef``: CRMEF's latency-constrained architecture search, with the latency table
measured in the runtime the searched network will be deployed in. This module declares the command's
options (torch-free); :func:`run` imports the search (authoring extra)."""

from __future__ import annotations

import argparse
from pathlib import Path

from edgemef.cli.train_cmd import DEFAULT_HOLDOUT

HELP = "search CRMEF's architecture under a latency table measured in the deploy runtime"
DESCRIPTION = (
    "Differentiable architecture search of CRMEF (first-order DARTS, eq. 4-6 of the paper): every searched "
    "layer's operation is chosen by its alphas, with the expected latency from a table measured by exporting "
    "each candidate operation to the deploy runtime and timing it on this machine. Writes the genotype, the "
    "architecture weights as a picture, and the latency the table predicts next to the latency the exported "
    "network takes. Resumable: re-run the same command."
)
EPILOG = "example: edgemef search crmef --target rpi --eta 0.5 --data ../shared/data/sice --out runs/search"

#: deploy target -> the runtime whose latency the search minimises (the first of the target's runtimes that
#: runs on this machine; iOS's CoreML does not)
TARGET_RUNTIMES = {"rpi": "litert", "android": "executorch", "onnx": "onnxruntime"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The search's options."""
    parser.add_argument("--data", required=True, type=Path, help="dataset folder (SICE layout)")
    parser.add_argument("--out", required=True, type=Path, help="run folder")
    parser.add_argument(
        "--target",
        choices=sorted(TARGET_RUNTIMES),
        default="rpi",
        help="deploy target whose runtime the latency is measured in: "
        + ", ".join(f"{t} {r}" for t, r in sorted(TARGET_RUNTIMES.items()))
        + " (default rpi)",
    )
    parser.add_argument(
        "--eta", type=float, default=0.5, help="latency weight (paper: 0.5 'Ours', 1 'Ours*')"
    )
    parser.add_argument(
        "--channels",
        type=int,
        default=16,
        help="feature channels (paper 64; default 16, searchable on a CPU)",
    )
    parser.add_argument("--misaligned", action="store_true", help="the misaligned scenario (with the DASM)")
    parser.add_argument("--steps", type=int, default=1000, help="search steps (default 1000)")
    parser.add_argument(
        "--warmup-steps", type=int, default=100, help="weights-only steps first (default 100)"
    )
    parser.add_argument("--batch-size", type=int, default=4, help="samples per step (default 4)")
    parser.add_argument("--patch", type=int, default=64, help="side of the training crops (default 64)")
    parser.add_argument("--weight-lr", type=float, default=3e-4, help="SGD learning rate (paper 3e-4)")
    parser.add_argument(
        "--alpha-lr", type=float, default=1e-4, help="Adam learning rate of the alphas (1e-4)"
    )
    parser.add_argument(
        "--latency-table", type=Path, help="a table from an earlier run (default: measure it into --out)"
    )
    parser.add_argument(
        "--latency-size", type=int, nargs=2, default=(256, 256), metavar=("H", "W"),
        help="frame size the latencies are measured at (default 256 256)",
    )  # fmt: skip
    parser.add_argument(
        "--holdout", nargs="+", default=list(DEFAULT_HOLDOUT), help="scenes kept out of the search"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--no-resume", action="store_true", help="start afresh even if a checkpoint exists")


def run(args: argparse.Namespace) -> int:
    from edgemef.models.crmef.config import CrmefConfig
    from edgemef.models.crmef.latency import LatencyTable
    from edgemef.models.crmef.search_task import SearchConfig, run_search
    from edgemef.train.data import split_scenes

    try:
        config = CrmefConfig(channels=args.channels, misaligned=args.misaligned)
        search = SearchConfig(
            eta=args.eta,
            steps=args.steps,
            warmup_steps=args.warmup_steps,
            batch_size=args.batch_size,
            patch=args.patch,
            weight_lr=args.weight_lr,
            alpha_lr=args.alpha_lr,
            seed=args.seed,
        )
        table = LatencyTable.load(args.latency_table) if args.latency_table else None
    except ValueError as error:
        print(f"edgemef search: {error}")
        return 2
    runtime = TARGET_RUNTIMES[args.target]
    train, _ = split_scenes(args.data, args.holdout)
    genotype = run_search(
        config,
        search,
        train,
        runtime,
        args.out,
        table=table,
        latency_size=tuple(args.latency_size),
        resume=not args.no_resume,
    )
    print(f"genotype: {args.out / 'genotype.json'} ({', '.join(sorted(set(genotype.layers.values())))})")
    print(
        f"architecture weights: {args.out / 'alphas.svg'}; latency report: {args.out / 'search_report.json'}"
    )
    return 0
