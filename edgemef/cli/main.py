"""Entry point of the ``edgemef`` command.

User mistakes (an :class:`~edgemef.errors.EdgemefError`) end with one line on stderr and exit code 2;
``--verbose`` adds the traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Sequence

from edgemef import __version__, native_output
from edgemef.cli import (
    bench_cmd,
    convert_cmd,
    eval_cmd,
    fuse_cmd,
    models_cmd,
    profile_cmd,
    search_cmd,
    train_cmd,
)
from edgemef.errors import EdgemefError
from edgemef.memory import release_large_blocks, reuse_large_blocks

COMMANDS = (convert_cmd, fuse_cmd, eval_cmd, models_cmd, train_cmd, search_cmd, bench_cmd, profile_cmd)


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
    native_output.SHOW = bool(args.verbose)
    if not args.verbose:  # libraries' warnings (Pillow's "Corrupt EXIF", deprecations) are not edgemef's
        warnings.simplefilter("ignore")
    previous = _terminate_like_interrupt()
    large_blocks = getattr(args, "large_blocks", "release")
    if large_blocks == "reuse":  # train and search: the same large temporaries every step
        reuse_large_blocks()
    elif large_blocks == "release":  # what a user runs: freed frames leave the resident set at once
        release_large_blocks()
    # "glibc" (bench, eval): glibc's own policy, the one OpenCV's Mertens meets in a plain script (under
    # "release" every large temporary of Mertens is a fresh mmap: 1.5-2.5x its time at 4K)
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
    except Terminated:
        print(f"edgemef {args.command}: terminated (nothing partial was written)", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(f"edgemef {args.command}: interrupted (nothing partial was written)", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a service stopping, ``kill``): unwinds like Ctrl-C, so temporaries are removed."""


def _terminate_like_interrupt() -> object:
    """Make SIGTERM raise :class:`Terminated` in the main thread; the previous handler (None elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: object) -> None:
        raise Terminated

    return signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":
    raise SystemExit(main())
