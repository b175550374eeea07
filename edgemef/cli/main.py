"""Entry point of the ``edgemef`` command.

User mistakes (an :class:`~edgemef.errors.EdgemefError`) end with one line on stderr and exit code 2;
``--verbose`` adds the traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence

from edgemef import __version__
from edgemef.cli import bench_cmd, convert_cmd, eval_cmd, fuse_cmd, models_cmd, profile_cmd, train_cmd
from edgemef.errors import EdgemefError

COMMANDS = (convert_cmd, fuse_cmd, eval_cmd, models_cmd, train_cmd, bench_cmd, profile_cmd)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="edgemef",
        description="Multi-exposure image fusion from PyTorch to phones and a Raspberry Pi.",
        epilog="Run 'edgemef COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"edgemef {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details and show tracebacks")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.run(args) or 0)
    except EdgemefError as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"edgemef {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except MemoryError:
        print(
            f"edgemef {args.command}: error: out of memory (try smaller images or --max-pixels)",
            file=sys.stderr,
        )
        return 3
    except KeyboardInterrupt:
        print(f"edgemef {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
