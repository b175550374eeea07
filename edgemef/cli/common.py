"""Arguments shared by several sub-commands."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from edgemef.errors import UnknownModelError
from edgemef.io.limits import DEFAULT_MAX_PIXELS
from edgemef.models import get_model_spec, list_models
from edgemef.models.registry import default_models


def add_model_argument(parser: argparse.ArgumentParser, default: str | None) -> None:
    """``--model NAME``, listing the registered names in the help (``None``: the command chooses)."""
    names = ", ".join(spec.name for spec in list_models())
    preferred = [spec.name for spec in default_models()]
    shown = default or (
        f"{preferred[0]} where it can run (PyTorch installed, weights shipped), else {preferred[-1]}"
        if len(preferred) > 1
        else ", ".join(preferred)
    )
    parser.add_argument(
        "-m", "--model", default=default, help=f"fusion model (default: {shown}; one of: {names})"
    )


def add_max_pixels_argument(parser: argparse.ArgumentParser) -> None:
    """``--max-pixels N``: the per-frame pixel-count guard."""

    def positive_or_zero(text: str) -> int | None:
        valid = "a whole number of pixels >= 0, e.g. 200000000 or 2e8 (0 disables the guard)"
        try:
            number = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {valid}") from None
        if not math.isfinite(number) or number < 0 or number != int(number):
            raise argparse.ArgumentTypeError(f"{text!r} is not {valid}")
        return int(number) or None

    parser.add_argument(
        "--max-pixels",
        type=positive_or_zero,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help=f"refuse frames over N pixels (default {DEFAULT_MAX_PIXELS:.0e}; 0 disables the guard)",
    )


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--grid`` and ``--weights``: options of the learned models."""
    takes_grid = ", ".join(spec.name for spec in list_models() if "grid" in spec.options)
    parser.add_argument(
        "--grid",
        type=int,
        default=None,
        metavar="S",
        help=f"LUT grid size for {takes_grid} (editable mode: 8..128; default 33)",
    )
    add_weights_argument(parser)


def add_weights_argument(parser: argparse.ArgumentParser) -> None:
    """``--weights FILE``: a ``.safetensors`` file from ``edgemef train`` instead of the shipped weights."""
    parser.add_argument(
        "--weights",
        type=Path,
        default=None,
        metavar="FILE",
        help="weights from 'edgemef train' (default: shipped)",
    )


def model_options(args: argparse.Namespace) -> dict[str, object]:
    """Keyword options for :func:`edgemef.models.create_model` from ``--grid``/``--weights``."""
    spec = get_model_spec(args.model)
    options: dict[str, object] = {}
    for flag, value in (("grid", args.grid), ("weights", args.weights)):
        if value is None:
            continue
        if flag not in spec.options:
            which = ", ".join(s.name for s in list_models() if flag in s.options)
            raise UnknownModelError(f"--{flag} applies to {which}, not {spec.name}")
        options[flag] = value
    grid = options.get("grid")
    if grid is not None and not 8 <= int(grid) <= 128:  # type: ignore[call-overload]
        raise UnknownModelError(f"--grid must be between 8 and 128, got {grid}")
    return options
