"""Arguments shared by several sub-commands."""

from __future__ import annotations

import argparse

from edgemef.io import DEFAULT_MAX_PIXELS
from edgemef.models import list_models


def add_model_argument(parser: argparse.ArgumentParser, default: str) -> None:
    """``--model NAME``, listing the registered names in the help."""
    names = ", ".join(spec.name for spec in list_models())
    parser.add_argument(
        "-m", "--model", default=default, help=f"fusion model (default: {default}; one of: {names})"
    )


def add_max_pixels_argument(parser: argparse.ArgumentParser) -> None:
    """``--max-pixels N``: the per-frame pixel-count guard."""

    def positive_or_zero(text: str) -> int | None:
        try:
            value = int(float(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < 0:
            raise argparse.ArgumentTypeError("must be >= 0")
        return value or None

    parser.add_argument(
        "--max-pixels",
        type=positive_or_zero,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help=f"refuse frames over N pixels (default {DEFAULT_MAX_PIXELS:.0e}; 0 disables the guard)",
    )
