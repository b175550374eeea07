"""``edgemef models``: list the registered fusion models."""

from __future__ import annotations

import argparse

from edgemef.models import list_models


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models", help="list the fusion models", description="List the registered fusion models."
    )
    parser.add_argument("pattern", nargs="?", default="*", help="shell-style name filter (default: all)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    specs = list_models(args.pattern)
    if not specs:
        print(f"no model matches {args.pattern!r}")
        return 1
    rows = [("name", "family", "exposures", "needs", "summary")]
    for spec in specs:
        exposures = (
            f"{spec.min_exposures}-{spec.max_exposures}" if spec.max_exposures else f"{spec.min_exposures}+"
        )
        rows.append((spec.name, spec.family, exposures, "torch" if spec.needs_torch else "-", spec.summary))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
    return 0
