"""``edgemef fuse``: fuse one exposure bracket into one image."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from edgemef.cli.common import add_max_pixels_argument, add_model_argument, add_model_options, model_options
from edgemef.errors import ArtifactError, BracketError, ImageWriteError
from edgemef.io.limits import WRITABLE_DTYPES
from edgemef.models import create_model, get_model_spec
from edgemef.models.registry import default_models, torch_available
from edgemef.weights import shipped_exposure_counts, shipped_weights

if TYPE_CHECKING:
    from edgemef.io import Bracket


def choose_default_model(n_exposures: int) -> tuple[str, str | None]:
    """The model used without ``--model``: the most preferred default model that can run on this bracket
    (PyTorch installed where it needs it, weights shipped for this exposure count), and why the ones before
    it could not."""
    reasons = []
    for spec in default_models():
        if spec.needs_torch and not torch_available():
            reasons.append(f"{spec.name} needs PyTorch (pip install 'edgemef[author]')")
        elif spec.shipped_weights and not shipped_weights(spec.name, n_exposures).exists():
            shipped = ", ".join(map(str, shipped_exposure_counts(spec.name))) or "no"
            reasons.append(f"{spec.name} ships weights for {shipped}-exposure brackets, not {n_exposures}")
        else:
            return spec.name, "; ".join(reasons) or None
    raise BracketError(f"no default model can fuse this bracket: {'; '.join(reasons)}")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fuse",
        help="fuse an exposure bracket into one image",
        description=(
            "Fuse 2 or more exposures of one scene into one well-exposed image. Inputs are JPEG, PNG "
            "or TIFF (8 or 16 bit, colour or grey) files, folders or glob patterns; they are ordered "
            "darkest to brightest by EXIF exposure when every file has it, else by mean brightness."
        ),
        epilog="example: edgemef fuse dark.jpg mid.jpg bright.jpg -o fused.jpg",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="exposure files, folders or glob patterns")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        help=f"fused image to write ({', '.join(sorted(WRITABLE_DTYPES))}); written atomically",
    )
    add_model_argument(parser, None)
    add_model_options(parser)
    parser.add_argument(
        "--artifact",
        type=Path,
        default=None,
        metavar="FILE",
        help="fuse with an exported model of any family (.pte, .tflite or .onnx from 'edgemef convert', its "
        "contract beside it) instead of --model; .tflite and .onnx run without PyTorch",
    )
    parser.add_argument(
        "--quality", type=int, default=95, metavar="Q", help="JPEG quality 1-100 (default 95)"
    )
    add_max_pixels_argument(parser)
    parser.set_defaults(run=run)


def _check_output(output: Path, inputs: list[Path]) -> None:
    """Fail before any work if the output cannot be written or would overwrite an input."""
    from edgemef.io import check_output_path

    check_output_path(output)
    if output.exists() and any(output.resolve() == p.resolve() for p in inputs):
        raise ImageWriteError(f"{output}: is one of the inputs; refusing to overwrite it")


def run(args: argparse.Namespace) -> int:
    from edgemef.io import expand_sources, read_bracket, write_image

    if not 1 <= args.quality <= 100:
        raise ImageWriteError(f"--quality must be between 1 and 100, got {args.quality}")
    if args.artifact is not None:
        return _run_artifact(args)
    if args.model is not None or args.grid is not None or args.weights is not None:
        args.model = args.model or default_models()[0].name
        options = model_options(args)  # option mistakes fail before any work
    paths = expand_sources(args.inputs)
    _check_output(args.output, paths)
    bracket = read_bracket(paths, max_pixels=args.max_pixels)
    if args.model is None:
        args.model, reason = choose_default_model(len(bracket))
        options = {}
        if reason:
            print(f"edgemef fuse: note: fusing with {args.model}: {reason}", file=sys.stderr)
    spec = get_model_spec(args.model)
    if len(bracket) < spec.min_exposures or (spec.max_exposures and len(bracket) > spec.max_exposures):
        most = spec.max_exposures or "any number of"
        raise BracketError(
            f"model {spec.name} fuses {spec.min_exposures} to {most} exposures, got {len(bracket)}"
        )
    model = create_model(args.model, **options)
    warm = getattr(model, "warm_up", None)
    if warm is not None:
        warm()  # one-time loads (a fast kernel) are not part of the fusion time
    start = time.perf_counter()
    fused = model.fuse(bracket.frames)
    elapsed_ms = (time.perf_counter() - start) * 1000.0
    write_image(args.output, fused, jpeg_quality=args.quality)
    _report(bracket, model.name, elapsed_ms, args.output)
    return 0


def _run_artifact(args: argparse.Namespace) -> int:
    """``--artifact``: the exported model, by its contract, in its runtime (no PyTorch for .tflite/.onnx)."""
    from edgemef.io import expand_sources, read_bracket, write_image
    from edgemef.runtime import open_artifact

    if args.model is not None or args.grid is not None or args.weights is not None:
        raise ArtifactError("--artifact replaces --model, --grid and --weights (the contract fixes them)")
    paths = expand_sources(args.inputs)
    _check_output(args.output, paths)
    model = open_artifact(args.artifact)  # a bad artifact fails before the frames are read
    bracket = read_bracket(paths, max_pixels=args.max_pixels)
    model.warm_up()
    start = time.perf_counter()
    fused = model.fuse(bracket.frames)
    elapsed_ms = (time.perf_counter() - start) * 1000.0
    write_image(args.output, fused, jpeg_quality=args.quality)
    _report(bracket, model.name, elapsed_ms, args.output, f"network {model.last_predict_ms:.0f} ms")
    return 0


def _report(bracket: Bracket, model: str, elapsed_ms: float, output: Path, detail: str = "") -> None:
    order = " < ".join(p.name if p else "?" for p in bracket.paths)
    width, height = bracket.size
    extra = f", {detail}" if detail else ""
    print(
        f"fused {len(bracket)} exposures {width}x{height} "
        f"(darkest to brightest by {bracket.ordered_by}: {order}) "
        f"with {model} in {elapsed_ms:.0f} ms (one cold run; 'edgemef bench' times the steady state){extra} "
        f"-> {output}"
    )
