"""``edgemef train``: train a model family on a SICE-layout dataset (needs the authoring extra)."""

from __future__ import annotations

import argparse
import inspect
import json
from pathlib import Path

from edgemef.errors import EdgemefError
from edgemef.models.family import load_attribute
from edgemef.models.registry import list_families

#: arguments every task shares (the rest are the families' own, passed to their make_task by name)
GENERIC_ARGUMENTS = (
    "task",
    "data",
    "out",
    "exposures",
    "init",
    "steps",
    "batch_size",
    "lr",
    "lr_decay_start",
    "seed",
    "holdout",
    "validate_every",
    "workers",
    "no_resume",
    "run",
    "command",
    "verbose",
)

#: Scenes held out of training by default: never trained on and never used to pick a checkpoint.
#: scene1 and scene10 are also the two scenes of ../shared/data/uhd, so UHD tests stay held out too.
DEFAULT_HOLDOUT = ("scene1", "scene10")


def training_tasks() -> dict[str, str]:
    """Every family's training tasks: task name -> ``"module:make_task"``."""
    return {task: target for family in list_families() for task, target in family.training_tasks.items()}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    tasks = training_tasks()
    parser = subparsers.add_parser(
        "train",
        help=f"train {', '.join(tasks)} on a dataset with reference images",
        description=(
            "Train a model on a SICE-layout dataset (scene folders with exposures and a gt image). "
            "Runs are seeded and resumable (re-run the same command to continue); several processes "
            "train with DistributedDataParallel: torchrun --nproc_per_node N -m edgemef train ..."
        ),
        epilog="examples: "
        + "; ".join(f"edgemef train {task} --data ../shared/data/sice --out runs/{task}" for task in tasks)
        + " (docs/models/ has each model's training recipe)",
    )
    parser.add_argument("task", choices=sorted(tasks), help="what to train")
    parser.add_argument("--data", required=True, type=Path, help="dataset folder (SICE layout)")
    parser.add_argument("--out", required=True, type=Path, help="run folder (checkpoint, log, weights)")
    parser.add_argument("--exposures", type=int, choices=(2, 3), default=3, help="frames the model fuses")
    parser.add_argument(
        "--init",
        type=Path,
        default=None,
        metavar="FILE",
        help="start from these weights (a fine-tune, fresh optimiser; each task says which weights it takes)",
    )
    for family in list_families():
        if family.training_arguments:
            load_attribute(family.training_arguments)(parser.add_argument_group(f"{family.name} training"))
    radiance = parser.add_argument_group("radiance-map samples (fusion tasks; the others refuse them)")
    radiance.add_argument(
        "--radiance-maps",
        type=Path,
        default=None,
        metavar="DIR",
        help="also train on static brackets exposed from the radiance maps in DIR (e.g. ../shared/data/hdr); "
        "they have no reference, so only the task's MEF-SSIM term scores them; every fifth map is kept for "
        "validation (radiance_mef_ssim)",
    )
    radiance.add_argument(
        "--radiance-fraction",
        type=float,
        default=None,
        metavar="F",
        help="share of radiance-map samples with --radiance-maps (default 0.5)",
    )
    parser.add_argument("--steps", type=int, default=3000, help="optimiser steps (default 3000)")
    parser.add_argument("--batch-size", type=int, default=8, help="samples per step and process (default 8)")
    parser.add_argument(
        "--lr",
        type=float,
        default=None,
        help="AdamW learning rate (default: the task's, from its paper)",
    )
    parser.add_argument(
        "--lr-decay-start",
        type=int,
        default=None,
        metavar="STEP",
        help="keep --lr until STEP, then decay it to 0 at --steps along a cosine (default: constant)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--holdout",
        default=",".join(DEFAULT_HOLDOUT),
        help=f"comma-separated scenes kept out for validation (default {','.join(DEFAULT_HOLDOUT)})",
    )
    parser.add_argument("--validate-every", type=int, default=250, metavar="N", help="validate every N steps")
    parser.add_argument("--workers", type=int, default=0, help="data-loading worker processes (default 0)")
    parser.add_argument("--no-resume", action="store_true", help="start afresh even if a checkpoint exists")
    parser.set_defaults(run=run, large_blocks="reuse")


def run(args: argparse.Namespace) -> int:
    try:
        from edgemef.train.loop import TrainConfig, train
    except ImportError as exc:
        raise EdgemefError(f"training needs PyTorch: pip install 'edgemef[author]' ({exc})") from None
    if args.steps < 1 or args.batch_size < 1:
        raise EdgemefError("--steps and --batch-size must be at least 1")
    holdout = tuple(name for name in args.holdout.split(",") if name)
    make_task = load_attribute(training_tasks()[args.task])
    options = {k: v for k, v in vars(args).items() if k not in GENERIC_ARGUMENTS}
    if args.radiance_maps is not None and "radiance_maps" not in inspect.signature(make_task).parameters:
        raise EdgemefError(f"{args.task} does not train on --radiance-maps samples")
    task = make_task(
        args.task, data=args.data, holdout=holdout, n_exposures=args.exposures, init=args.init, **options
    )
    config = TrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.lr if args.lr is not None else getattr(task, "default_learning_rate", 1e-4),
        seed=args.seed,
        validate_every=args.validate_every,
        num_workers=args.workers,
        lr_decay_start=args.lr_decay_start,
    )
    summary = train(task, args.out, config, resume=not args.no_resume)
    print(json.dumps({k: summary[k] for k in ("task", "steps", "seconds", "validation")}))
    return 0
