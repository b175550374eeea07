"""``edgemef fuse``: fuse one exposure bracket into one image, or a whole shoot into a folder of images.

Without ``--model`` or ``--artifact`` the default model fuses: its shipped artifact (``edgemef/artifacts``,
LiteRT int8, no torch needed) where one fits the bracket, else the model in PyTorch where installed, else
the classical baseline; the command says which on stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from edgemef.cli.common import add_max_pixels_argument, add_model_argument, add_model_options, model_options
from edgemef.errors import ArtifactError, BracketError, EdgemefError, ImageWriteError
from edgemef.io.limits import OUTPUT_EXTENSIONS, WRITABLE_DTYPES
from edgemef.models import create_model, get_model_spec
from edgemef.models.registry import default_models, family_of, torch_available
from edgemef.weights import shipped_exposure_counts, shipped_weights

if TYPE_CHECKING:
    from edgemef.io import Bracket


def choose_default(n_exposures: int) -> tuple[str, Path | None, str | None]:
    """What fuses a bracket of ``n_exposures`` without ``--model``: ``(model, artifact or None, why the
    preferred ones could not)``, trying each default model's shipped artifact, then the model itself."""
    from edgemef.artifacts import shipped_artifact

    reasons = []
    for spec in default_models():
        artifact = shipped_artifact(spec.name, n_exposures) if spec.needs_torch else None
        if artifact is not None:
            return spec.name, artifact, "; ".join(reasons) or None
        if spec.needs_torch and not torch_available():
            reasons.append(
                f"{spec.name} ships no artifact for {n_exposures}-exposure brackets and needs PyTorch"
            )
        elif spec.shipped_weights and not shipped_weights(spec.name, n_exposures).exists():
            shipped = ", ".join(map(str, shipped_exposure_counts(spec.name))) or "no"
            reasons.append(f"{spec.name} ships weights for {shipped}-exposure brackets, not {n_exposures}")
        else:
            return spec.name, None, "; ".join(reasons) or None
    raise BracketError(f"no default model can fuse this bracket: {'; '.join(reasons)}")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fuse",
        help="fuse an exposure bracket into one image, or every bracket of a shoot into a folder",
        description=(
            "Fuse 2 or more exposures of one scene into one well-exposed image. Inputs are JPEG, PNG or TIFF "
            "(8 or 16 bit, colour or grey) files, folders or glob patterns; they are ordered darkest to "
            "brightest by EXIF exposure when every file has it, else by mean brightness. With -o FOLDER (no "
            "image extension) every bracket of the inputs is fused in one process: folders of bracket "
            "folders, or flat folders of a camera's auto-bracketed shots, split into brackets by EXIF (or "
            "--bracket-size); a bracket that fails is reported and skipped. HDR models (debevec) need the "
            "frames' exposure times (EXIF, --ev or --times) and write linear radiance (.hdr, .exr, float "
            ".tif) or a tonemapped preview (.jpg, .png)."
        ),
        epilog="examples: edgemef fuse dark.jpg mid.jpg bright.jpg -o fused.jpg; "
        "edgemef fuse shoot/ -o fused/ --bracket-size 3",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="exposure files, folders or glob patterns")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        help=f"fused image ({', '.join(sorted(WRITABLE_DTYPES))}; HDR models also .hdr, .exr), or a folder "
        "for a whole shoot; written atomically",
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
    times = parser.add_mutually_exclusive_group()
    times.add_argument(
        "--ev",
        type=_numbers,
        default=None,
        metavar="E,E,...",
        help="HDR models: the frames' exposure values, e.g. -2,0,2 (default: from EXIF); matched to the "
        "frames darkest first",
    )
    times.add_argument(
        "--times",
        type=_numbers,
        default=None,
        metavar="T,T,...",
        help="HDR models: the frames' exposure times in seconds, e.g. 1/200,1/50,1/12 (default: from EXIF)",
    )
    parser.add_argument(
        "--bracket-size",
        type=int,
        default=None,
        metavar="N",
        help="shoot: cut flat folders into brackets of N frames in capture order (default: by EXIF)",
    )
    parser.add_argument(
        "--format",
        default="jpg",
        choices=("jpg", "png", "tif", "hdr", "exr"),
        help="shoot: output format (default jpg; hdr, exr or tif keep an HDR model's linear radiance, jpg "
        "and png get a tonemapped preview)",
    )
    parser.add_argument("--overwrite", action="store_true", help="shoot: replace fused images that exist")
    add_max_pixels_argument(parser)
    parser.set_defaults(run=run)


def _check_output(output: Path, inputs: list[Path]) -> None:
    """Fail before any work if the output cannot be written or would overwrite an input."""
    from edgemef.io import check_output_path

    check_output_path(output)
    if output.exists() and any(output.resolve() == p.resolve() for p in inputs):
        raise ImageWriteError(f"{output}: is one of the inputs; refusing to overwrite it")


class Fuser(NamedTuple):
    """A fusion model and the kind of image it makes (its family's ``output_kind``)."""

    model: Any
    output_kind: str


class Fusers:
    """The fusion model(s) of one command, created once and reused for every bracket (by exposure count)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.options: dict[str, object] = {}
        if args.artifact is not None:
            if args.model is not None or args.grid is not None or args.weights is not None:
                raise ArtifactError(
                    "--artifact replaces --model, --grid and --weights (the contract fixes them)"
                )
        elif args.model is not None or args.grid is not None or args.weights is not None:
            args.model = args.model or default_models()[0].name
            self.options = model_options(args)  # option mistakes fail before any work
        self._made: dict[int, Fuser] = {}
        if args.artifact is not None:
            self._made[-1] = self._open(args.artifact)  # a bad artifact fails before the frames are read

    def _open(self, artifact: Path) -> Fuser:
        """An artifact's runtime; its contract says what it makes."""
        from edgemef.runtime import open_artifact

        fusion = open_artifact(artifact)
        fusion.warm_up()
        return Fuser(fusion, str(fusion.contract.output_kind))

    def __call__(self, n_exposures: int) -> Fuser:
        """The model for brackets of ``n_exposures`` (made on first use; the default one says on stderr
        what it is)."""
        if -1 in self._made:
            return self._made[-1]
        if n_exposures not in self._made:
            model_name, artifact = self.args.model, None
            if model_name is None:
                model_name, artifact, reason = choose_default(n_exposures)
                if reason:
                    print(f"edgemef fuse: note: {reason}", file=sys.stderr)
            if artifact is not None:
                fuser = self._open(artifact)
                print(
                    f"edgemef fuse: {n_exposures} exposures: {fuser.model.name} from {artifact}",
                    file=sys.stderr,
                )
            else:
                spec = get_model_spec(model_name)
                if n_exposures < spec.min_exposures or (
                    spec.max_exposures and n_exposures > spec.max_exposures
                ):
                    most = spec.max_exposures or "any number of"
                    raise BracketError(
                        f"model {spec.name} fuses {spec.min_exposures} to {most} exposures, got {n_exposures}"
                    )
                fusion = create_model(model_name, **self.options)
                fuser = Fuser(fusion, family_of(model_name).output_kind.value)
                warm = getattr(fusion, "warm_up", None)
                if warm is not None:
                    warm()  # one-time loads (a fast kernel) are not part of the fusion time
                if self.args.model is None:
                    where = " in PyTorch" if spec.needs_torch else ""
                    print(f"edgemef fuse: {n_exposures} exposures: {model_name}{where}", file=sys.stderr)
            self._made[n_exposures] = fuser
        return self._made[n_exposures]


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.quality <= 100:
        raise ImageWriteError(f"--quality must be between 1 and 100, got {args.quality}")
    if args.bracket_size is not None and args.bracket_size < 2:
        raise BracketError(f"--bracket-size must be at least 2, got {args.bracket_size}")
    if args.output.is_dir() or not args.output.suffix:
        return _run_shoot(args)
    from edgemef.io import expand_sources, read_bracket, write_fused

    paths = expand_sources(args.inputs)
    _check_output(args.output, paths)
    fusers = Fusers(args)
    bracket = read_bracket(paths, max_pixels=args.max_pixels)
    fuser = fusers(len(bracket))
    _check_kind(args.output, fuser.output_kind)
    described = _describe(bracket)
    start = time.perf_counter()
    fused = _fuse(fuser, bracket, args)
    elapsed_ms = (time.perf_counter() - start) * 1000.0
    del bracket  # the frames go before encoding allocates (a lower peak of resident memory)
    write_fused(args.output, fused, fuser.output_kind, jpeg_quality=args.quality)
    network = getattr(fuser.model, "last_predict_ms", None)
    detail = f", network {network:.0f} ms" if network else ""
    if fuser.output_kind == "scene-linear" and args.output.suffix.lower() in (".jpg", ".jpeg", ".png"):
        from edgemef.io.hdr import PREVIEW_OPERATOR

        detail += f"; the radiance written as a {PREVIEW_OPERATOR} tonemapped preview"
    print(
        f"fused {described} with {fuser.model.name} in {elapsed_ms:.0f} ms (one cold run; 'edgemef bench' "
        f"times the steady state){detail} -> {args.output}"
    )
    return 0


def _run_shoot(args: argparse.Namespace) -> int:
    """Every bracket of the inputs into the folder ``args.output``; returns 1 if any failed."""
    from tqdm import tqdm

    from edgemef.io import read_bracket, write_fused
    from edgemef.io.shoot import find_brackets

    if args.output.exists() and not args.output.is_dir():
        raise ImageWriteError(f"{args.output}: exists and is not a folder")
    fusers = Fusers(args)
    brackets = find_brackets(args.inputs, args.bracket_size)
    inputs = {path.resolve() for item in brackets for path in item.paths}
    args.output.mkdir(parents=True, exist_ok=True)
    fused, kept, failed = 0, [], []
    for item in tqdm(brackets, desc="fusing", unit="bracket", file=sys.stderr, disable=None):
        target = args.output / f"{item.name}.{args.format}"
        if target.resolve() in inputs:
            failed.append(f"{item.name}: {target} is one of the inputs; give another output folder")
            continue
        if target.exists() and not args.overwrite:
            kept.append(target)
            continue
        try:
            if item.problem:
                raise BracketError(item.problem)
            bracket = read_bracket(item.paths, max_pixels=args.max_pixels)
            fuser = fusers(len(bracket))
            _check_kind(target, fuser.output_kind)
            write_fused(target, _fuse(fuser, bracket, args), fuser.output_kind, jpeg_quality=args.quality)
            fused += 1
        except EdgemefError as exc:
            failed.append(f"{item.name} ({', '.join(p.name for p in item.paths)}): {exc}")
    summary = f"fused {fused} of {len(brackets)} bracket(s) into {args.output}"
    if kept:
        summary += f"; kept {len(kept)} existing (--overwrite replaces them)"
    if failed:
        summary += f"; {len(failed)} failed:"
    print(summary)
    for line in failed:
        print(f"  {line}")
    return 1 if failed else 0


def _numbers(text: str) -> list[float]:
    """``-2,0,2`` or ``1/200,1/50`` -> floats (argparse type)."""
    from fractions import Fraction

    try:
        return [float(Fraction(part.strip())) for part in text.split(",")]
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _fuse(fuser: Fuser, bracket: Bracket, args: argparse.Namespace) -> Any:
    """The fused image; models of linear radiance get the frames' exposure times too."""
    if fuser.output_kind != "scene-linear":
        if (args.ev is not None or args.times is not None) and not getattr(args, "_noted_times", False):
            args._noted_times = True
            print(
                f"edgemef fuse: note: {fuser.model.name} makes display images from the pixels alone; "
                "--ev/--times are for HDR models and were not used",
                file=sys.stderr,
            )
        return fuser.model.fuse(bracket.frames)
    from edgemef.io.bracket import exposure_times

    return fuser.model.fuse(bracket.frames, exposure_times=exposure_times(bracket, args.ev, args.times))


def _check_kind(output: Path, output_kind: str) -> None:
    """Refuse, before fusing, an output file that cannot hold this kind of fused image."""
    allowed = OUTPUT_EXTENSIONS[output_kind]
    if output.suffix.lower() not in allowed:
        raise ImageWriteError(
            f"{output}: this model's fused image is {output_kind}; write it as {', '.join(allowed)}"
        )


def _describe(bracket: Bracket) -> str:
    """``3 exposures 1536x1024 (darkest to brightest by exif: a.jpg < b.jpg < c.jpg)``."""
    order = " < ".join(p.name if p else "?" for p in bracket.paths)
    width, height = bracket.size
    by = bracket.ordered_by
    return f"{len(bracket)} exposures {width}x{height} (darkest to brightest by {by}: {order})"
