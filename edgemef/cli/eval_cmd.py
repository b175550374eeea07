"""``edgemef eval``: score a fusion model on a dataset of brackets."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from edgemef.cli.common import add_max_pixels_argument, add_model_argument, add_model_options, model_options
from edgemef.data.choices import EXPOSURE_CHOICES, LAYOUTS
from edgemef.errors import DatasetError, ImageWriteError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="score a model on a dataset (PSNR/SSIM against references, MEF-SSIM)",
        description=(
            "Fuse every scene of a dataset and print a per-scene and mean table of PSNR and SSIM "
            "against the reference image (when the dataset has one, e.g. SICE's gt.jpg) and the "
            "no-reference MEF-SSIM (Ma, Zeng, Wang 2015) against the fused exposures."
        ),
        epilog="example: edgemef eval --dataset ../shared/data/sice --model mertens --exposures 3",
    )
    parser.add_argument(
        "--dataset", required=True, type=Path, help="dataset folder (one sub-folder per scene)"
    )
    add_model_argument(parser, "mertens")
    add_model_options(parser)
    parser.add_argument(
        "--exposures",
        choices=EXPOSURE_CHOICES,
        default=None,
        help="frames to fuse per scene: 2 = darkest+brightest, 3 = darkest+middle+brightest, all "
        "(default: 3 where a scene has 3 or more, else all)",
    )
    parser.add_argument("--layout", choices=LAYOUTS, default="auto", help="dataset layout (default: auto)")
    parser.add_argument(
        "--scenes",
        default=None,
        metavar="A,B",
        help="only these comma-separated scenes (e.g. the held-out ones)",
    )
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N scenes")
    parser.add_argument(
        "--shake",
        type=float,
        default=0.0,
        metavar="PX",
        help="misaligned brackets: move every frame but the brightest by PX pixels in a random direction "
        "and up to 0.25 degrees (seeded by the scene's name); the reference keeps the brightest frame's "
        "geometry (default 0: as stored)",
    )
    parser.add_argument(
        "--json", type=Path, default=None, metavar="FILE", help="also write the results as JSON"
    )
    add_max_pixels_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from edgemef.data.datasets import find_scenes
    from edgemef.evaluate import evaluate, format_report
    from edgemef.io import atomic_write_bytes
    from edgemef.models import create_model
    from edgemef.models.registry import family_of

    options = model_options(args)  # an unknown name or a bad option fails before any work
    if not (0.0 <= args.shake <= 256.0):
        raise DatasetError(f"--shake must be between 0 and 256 pixels, got {args.shake}")
    if args.json is not None and not (args.json.parent if str(args.json.parent) else Path(".")).is_dir():
        raise ImageWriteError(f"{args.json}: output folder {args.json.parent} does not exist")
    scenes = find_scenes(args.dataset, args.layout)
    if args.scenes:
        wanted = [name for name in args.scenes.split(",") if name]
        missing = sorted(set(wanted) - {scene.name for scene in scenes})
        if missing:
            raise DatasetError(f"scene(s) {', '.join(missing)} not in {args.dataset}")
        scenes = [scene for scene in scenes if scene.name in wanted]
    if args.limit is not None:
        scenes = scenes[: max(args.limit, 0)]
    model = create_model(args.model, **options)
    report = evaluate(
        model,
        scenes,
        dataset=str(args.dataset),
        exposures=args.exposures,
        max_pixels=args.max_pixels,
        progress=sys.stderr.isatty(),
        output_kind=family_of(args.model).output_kind.value,
        shake_px=args.shake,
    )
    print(format_report(report))
    if args.json is not None:
        atomic_write_bytes(args.json, (json.dumps(report.to_dict(), indent=2) + "\n").encode())
        print(f"wrote {args.json}")
    return 0
