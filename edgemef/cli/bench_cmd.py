"""``edgemef bench``: the speed matrix (models x resolutions), every row with its ratio to OpenCV Mertens."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from edgemef.errors import EdgemefError
from edgemef.models import get_model_spec, list_models
from edgemef.models.registry import default_models


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from edgemef.sizes import RESOLUTIONS

    default = default_models()[0].name

    parser = subparsers.add_parser(
        "bench",
        help="time models at several resolutions beside OpenCV Mertens",
        description=(
            "Time each model on a synthetic 3-exposure bracket at each resolution (median of --runs after a "
            "warm-up), with OpenCV Mertens measured in the same run, and print a Markdown table with the "
            "speed-up of each row over Mertens. Figures are for the machine that runs the command."
        ),
        epilog=f"example: edgemef bench --models {default} --resolutions 4k,8k --grids 17,33,64",
    )
    parser.add_argument(
        "--models",
        default=default,
        help=f"comma-separated, of {', '.join(s.name for s in list_models())} (default {default})",
    )
    parser.add_argument(
        "--resolutions",
        default="1080p,4k",
        help=f"comma-separated, of {', '.join(f'{k} ({w}x{h})' for k, (w, h) in RESOLUTIONS.items())}",
    )
    parser.add_argument("--grids", default="33", help="LUT grid sizes for LUT models (default 33)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (default 5)")
    parser.add_argument(
        "--artifacts",
        nargs="*",
        default=(),
        metavar="FILE",
        help="exported models of any family (.pte/.tflite/.onnx from edgemef convert), run in their runtime",
    )
    parser.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--csv", type=Path, default=None, metavar="FILE", help="also write the rows as CSV")
    parser.set_defaults(run=run, large_blocks="glibc")


def run(args: argparse.Namespace) -> int:
    from edgemef.bench import (
        RESOLUTIONS,
        format_rows,
        machine_description,
        rows_as_csv,
        rows_as_dicts,
        run_matrix,
    )
    from edgemef.io import atomic_write_bytes

    models = [m for m in args.models.split(",") if m]
    artifacts = [str(a) for a in args.artifacts]
    for name in models:
        get_model_spec(name)
    resolutions = [r for r in args.resolutions.split(",") if r]
    unknown = [r for r in resolutions if r not in RESOLUTIONS]
    if unknown:
        raise EdgemefError(
            f"unknown resolution(s) {', '.join(unknown)}; choose from: {', '.join(RESOLUTIONS)}"
        )
    try:
        grids = [int(g) for g in args.grids.split(",") if g]
    except ValueError:
        raise EdgemefError(f"--grids takes comma-separated integers, got {args.grids!r}") from None
    if args.runs < 1:
        raise EdgemefError("--runs must be at least 1")
    rows = run_matrix(models, resolutions, runs=args.runs, grids=grids, artifacts=artifacts)
    machine = machine_description()
    print(f"machine: {machine['cpu']}, {machine['cores']} cores (medians of {args.runs} runs)")
    print(format_rows(rows))
    if args.json is not None:
        payload = {"machine": machine, "runs": args.runs, "rows": rows_as_dicts(rows)}
        atomic_write_bytes(args.json, (json.dumps(payload, indent=2) + "\n").encode())
    if args.csv is not None:
        atomic_write_bytes(args.csv, rows_as_csv(rows).encode())
    return 0
