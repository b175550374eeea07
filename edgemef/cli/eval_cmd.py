"""``edgemef eval``: score a fusion model on a dataset of brackets."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

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
            "no-reference MEF-SSIM (Ma, Zeng, Wang 2015) against the fused exposures. On a folder of "
            "radiance maps, brackets are made from its validation maps (edgemef.data.hdr_brackets): HDR "
            "models (linear radiance out) get dynamic brackets scored with PSNR-mu, SSIM-mu, PSNR-L and "
            "SSIM-L against the radiance; fusion models get aligned brackets scored with MEF-SSIM (there "
            "is no reference picture)."
        ),
        epilog="examples: edgemef eval --dataset ../shared/data/sice --model mertens --exposures 3; "
        "edgemef eval --dataset ../shared/data/hdr --model debevec; "
        "edgemef eval --dataset ../shared/data/hdr --model mertens --exposures 2",
    )
    parser.add_argument(
        "--dataset",
        required=True,
        type=Path,
        help="dataset folder (one sub-folder per scene), or a folder of radiance maps (.hdr/.exr)",
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
    hdr = parser.add_argument_group("radiance-map datasets")
    hdr.add_argument(
        "--per-map", type=int, default=2, metavar="K", help="brackets made from each map (default 2)"
    )
    hdr.add_argument("--size", type=int, default=512, metavar="PX", help="side of each bracket (default 512)")
    hdr.add_argument(
        "--split",
        choices=("validation", "training", "all"),
        default="validation",
        help="which maps (edgemef.data.hdr_brackets.split_radiance_maps; default validation)",
    )
    hdr.add_argument("--seed", type=int, default=0, help="seed of the brackets (default 0)")
    parser.add_argument(
        "--json", type=Path, default=None, metavar="FILE", help="also write the results as JSON"
    )
    add_max_pixels_argument(parser)
    parser.set_defaults(run=run, large_blocks="glibc")


def run(args: argparse.Namespace) -> int:
    from edgemef.data.datasets import find_scenes
    from edgemef.evaluate import evaluate, format_report
    from edgemef.models import create_model
    from edgemef.models.registry import family_of

    options = model_options(args)  # an unknown name or a bad option fails before any work
    if not (0.0 <= args.shake <= 256.0):
        raise DatasetError(f"--shake must be between 0 and 256 pixels, got {args.shake}")
    if args.json is not None and not (args.json.parent if str(args.json.parent) else Path(".")).is_dir():
        raise ImageWriteError(f"{args.json}: output folder {args.json.parent} does not exist")
    output_kind = family_of(args.model).output_kind.value
    if output_kind == "scene-linear":
        return _run_hdr(args, create_model(args.model, **options))
    if _holds_radiance_maps(args.dataset):
        return _run_radiance_fusion(args, create_model(args.model, **options))
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
        shake_px=args.shake,
    )
    print(format_report(report))
    return _write_json(args, report)


def _write_json(args: argparse.Namespace, report: Any) -> int:
    """Write the report's ``to_dict()`` to ``--json`` (atomically), if asked; exit code 0."""
    if args.json is not None:
        from edgemef.io import atomic_write_bytes

        atomic_write_bytes(args.json, (json.dumps(report.to_dict(), indent=2) + "\n").encode())
        print(f"wrote {args.json}")
    return 0


def _holds_radiance_maps(folder: Path) -> bool:
    from edgemef.data.hdr_brackets import RADIANCE_EXTENSIONS

    return folder.is_dir() and any(p.suffix.lower() in RADIANCE_EXTENSIONS for p in folder.iterdir())


def _radiance_maps(args: argparse.Namespace) -> list[Path]:
    """The maps of ``--dataset`` that ``--split``, ``--scenes`` and ``--limit`` choose."""
    from edgemef.data.hdr_brackets import find_radiance_maps, split_radiance_maps

    if args.per_map < 1 or args.size < 32:
        raise DatasetError(f"--per-map must be >= 1 and --size >= 32, got {args.per_map} and {args.size}")
    maps = find_radiance_maps(args.dataset)
    training, validation = split_radiance_maps(maps)
    maps = {"validation": validation, "training": training, "all": maps}[args.split]
    if args.scenes:
        wanted = [name for name in args.scenes.split(",") if name]
        missing = sorted(set(wanted) - {p.stem for p in maps})
        if missing:
            raise DatasetError(
                f"map(s) {', '.join(missing)} not among the {args.split} maps of {args.dataset}"
            )
        maps = [p for p in maps if p.stem in wanted]
    if args.limit is not None:
        maps = maps[: max(args.limit, 0)]
    return maps


def _run_radiance_fusion(args: argparse.Namespace, model: object) -> int:
    """A fusion model (display images out) on static brackets made from a folder of radiance maps: no
    reference exists for them, so MEF-SSIM only."""
    from edgemef.data.hdr_brackets import (
        RadianceMapCache,
        fusion_frames,
        static_bracket_config,
        validation_brackets,
    )
    from edgemef.evaluate import evaluate_brackets, format_report

    if args.shake or args.layout != "auto" or args.exposures == "all":
        raise DatasetError(
            "--shake, --layout and --exposures all are for bracket datasets; brackets made from radiance "
            "maps are aligned, with 3 exposures (or the darkest and brightest: --exposures 2)"
        )
    maps = _radiance_maps(args)
    n_exposures = int(args.exposures or 3)
    made = validation_brackets(
        maps, static_bracket_config(args.size), per_map=args.per_map, seed=args.seed, cache=RadianceMapCache()
    )
    brackets = (
        (f"{Path(b.source).stem}#{index % args.per_map}", fusion_frames(b, n_exposures), None)
        for index, b in enumerate(made)
    )
    report = evaluate_brackets(
        model,  # type: ignore[arg-type]
        brackets,
        dataset=f"{args.dataset} ({args.split} maps, {args.per_map} static bracket(s) of {args.size} px "
        f"each, seed {args.seed})",
        exposures=str(n_exposures),
        total=len(maps) * args.per_map,
        progress=sys.stderr.isatty(),
    )
    print(format_report(report))
    return _write_json(args, report)


def _run_hdr(args: argparse.Namespace, model: object) -> int:
    """An HDR model on brackets made from a folder of radiance maps."""
    from edgemef.data.hdr_brackets import HdrBracketConfig, RadianceMapCache, validation_brackets
    from edgemef.evaluate_hdr import evaluate_hdr, format_hdr_report

    if args.shake or args.exposures or args.layout != "auto":
        raise DatasetError(
            "--shake, --exposures and --layout are for bracket datasets; radiance-map brackets have their "
            "own motion and 3 exposures"
        )
    maps = _radiance_maps(args)
    config = HdrBracketConfig(size=args.size)
    brackets = validation_brackets(
        maps, config, per_map=args.per_map, seed=args.seed, cache=RadianceMapCache()
    )
    report = evaluate_hdr(
        model,  # type: ignore[arg-type]
        brackets,
        dataset=str(args.dataset),
        protocol=f"{args.split} maps, {args.per_map} bracket(s) of {args.size} px each, seed {args.seed}",
        total=len(maps) * args.per_map,
        progress=sys.stderr.isatty(),
    )
    print(format_hdr_report(report))
    return _write_json(args, report)
