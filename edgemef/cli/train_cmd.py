"""``edgemef train``: train a model family on a SICE-layout dataset (needs the authoring extra)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from edgemef.errors import EdgemefError

TASKS = ("lut-teacher", "lut-student", "ipl")
#: Scenes held out of training by default: never trained on and never used to pick a checkpoint.
#: scene1 and scene10 are also the two scenes of ../shared/data/uhd, so UHD tests stay held out too.
DEFAULT_HOLDOUT = ("scene1", "scene10")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train lut-teacher, lut-student or ipl on a dataset with reference images",
        description=(
            "Train a model on a SICE-layout dataset (scene folders with exposures and a gt image). "
            "Runs are seeded and resumable (re-run the same command to continue); several processes "
            "train with DistributedDataParallel: torchrun --nproc_per_node N -m edgemef train ..."
        ),
        epilog=(
            "example: edgemef train lut-teacher --data ../shared/data/sice --out runs/teacher && "
            "edgemef train lut-student --teacher runs/teacher/model.safetensors --data ../shared/data/sice "
            "--out runs/student; edgemef train ipl --data ../shared/data/sice --out runs/ipl"
        ),
    )
    parser.add_argument("task", choices=TASKS, help="what to train")
    parser.add_argument("--data", required=True, type=Path, help="dataset folder (SICE layout)")
    parser.add_argument("--out", required=True, type=Path, help="run folder (checkpoint, log, weights)")
    parser.add_argument("--teacher", type=Path, help="trained teacher weights (lut-student only)")
    parser.add_argument("--exposures", type=int, choices=(2, 3), default=3, help="frames the model fuses")
    parser.add_argument(
        "--init",
        type=Path,
        default=None,
        metavar="FILE",
        help="start from these weights: ipl: any exposure count (same-shape tensors are copied); "
        "lut-teacher/lut-student: the same model and exposure count (a fine-tune, fresh optimiser)",
    )
    parser.add_argument(
        "--student-grid",
        type=int,
        default=33,
        metavar="S",
        help="lattice the student is trained on, resampled to 64^3 for distillation (default 33; paper: 64)",
    )
    parser.add_argument(
        "--unpaired-weight",
        type=float,
        default=0.0,
        metavar="W",
        help="lut-student: weight of the paper's unpaired MEF-SSIM loss (eq. 12: (1-W) * eq. 6 + W * "
        "(1 - MEF-SSIM); paper: 0.1; default 0 = eq. 6 alone)",
    )
    parser.add_argument(
        "--ssim-weight",
        type=float,
        default=0.0,
        metavar="S",
        help="lut-student: add S * (1 - SSIM against the reference) to the loss (ours; default 0)",
    )
    parser.add_argument(
        "--native-loss-fraction",
        type=float,
        default=0.0,
        metavar="F",
        help="lut-teacher/lut-student: score this share of samples on a window at the scenes' stored "
        "resolution (up to 1536 px) instead of the whole crop resized (default 0)",
    )
    parser.add_argument(
        "--strong-augmentation",
        action="store_true",
        help="lut-teacher/lut-student: crops down to 20%% of the shorter side, random colour-channel "
        "permutations and vertical flips (default: crops of 40-100%%, horizontal flips)",
    )
    parser.add_argument("--steps", type=int, default=3000, help="optimiser steps (default 3000)")
    parser.add_argument("--batch-size", type=int, default=8, help="samples per step and process (default 8)")
    parser.add_argument(
        "--lr",
        type=float,
        default=None,
        help="AdamW learning rate (default: the paper's, 1e-4 LUT-distill, 2e-4 IPL)",
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
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        from edgemef.train.loop import TrainConfig, train
        from edgemef.train.lut_tasks import make_task
    except ImportError as exc:
        raise EdgemefError(f"training needs PyTorch: pip install 'edgemef[author]' ({exc})") from None
    if args.steps < 1 or args.batch_size < 1:
        raise EdgemefError("--steps and --batch-size must be at least 1")
    holdout = tuple(name for name in args.holdout.split(",") if name)
    task = make_task(
        args.task,
        data=args.data,
        holdout=holdout,
        n_exposures=args.exposures,
        teacher=args.teacher,
        student_grid=args.student_grid,
        unpaired_weight=args.unpaired_weight,
        ssim_weight=args.ssim_weight,
        native_fraction=args.native_loss_fraction,
        strong_augmentation=args.strong_augmentation,
        init=args.init,
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
