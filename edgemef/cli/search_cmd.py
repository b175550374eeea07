"""``edgemef search MODEL``: a latency-constrained architecture search, with the latency table measured in
the runtime the searched network will be deployed in (needs the authoring extra). The searchable models and
their options come from the families' declarations (``searches``)."""

from __future__ import annotations

import argparse
import importlib

from edgemef.models.registry import list_families


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "search",
        help="search a model's architecture under a latency table measured in the deploy runtime",
        description="Latency-constrained architecture search; each searchable model has its own options "
        "(edgemef search MODEL --help).",
    )
    models = parser.add_subparsers(dest="model", metavar="MODEL", required=True)
    for family in list_families():
        for model, module_name in family.searches.items():
            module = importlib.import_module(module_name)
            searched = models.add_parser(
                model, help=module.HELP, description=module.DESCRIPTION, epilog=module.EPILOG
            )
            module.add_arguments(searched)
            searched.set_defaults(run=module.run, large_blocks="reuse")
