"""``edgemef convert``: export a model for a device, quantize it, verify it, write it with its contract."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path

from edgemef.cli.common import add_weights_argument
from edgemef.errors import ConversionError
from edgemef.models.registry import torch_available

TARGET_NAMES = ("android", "ios", "rpi", "onnx")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="export a model to an on-device artifact (ExecuTorch, CoreML, LiteRT, ONNX) and verify it",
        description=(
            "Export the network of a model (thumbnails -> fusion weights + LUT) for a device, quantize it "
            "if asked, run it in its real runtime on held-out brackets, and write it with its contract "
            "(<name>.json) only if its fused images match PyTorch fp32 (40 dB for fp32/fp16, 32 dB for "
            "int8). Defaults: android = ExecuTorch .pte, XNNPACK, int8; ios = CoreML .mlpackage (iOS 17), "
            "fp16; rpi = LiteRT .tflite, int8; onnx = .onnx, fp32. Needs the authoring extra."
        ),
        epilog=(
            "examples: edgemef convert --target android   (writes dist/android/lut-student-int8-g33.pte); "
            "edgemef convert --model ipl --target onnx   (writes dist/onnx/ipl-fp32-t256.onnx and its "
            ".replay.onnx tile graph)"
        ),
    )
    parser.add_argument("--target", required=True, help=f"one of: {', '.join(TARGET_NAMES)}")
    parser.add_argument(
        "-m", "--model", default="lut-student", help="model to convert: lut-student (default) or ipl"
    )
    parser.add_argument(
        "--precision",
        default=None,
        help="fp32, fp16 or int8, as the target takes (default: per target; ipl: fp32, fp16 on ios)",
    )
    parser.add_argument(
        "--grid", type=int, default=33, metavar="S", help="LUT size baked in (8..128; default 33)"
    )
    parser.add_argument(
        "--tile",
        type=int,
        default=256,
        metavar="T",
        help="ipl: side of the exported tile graphs (multiple of 32; default 256, the training crops)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, metavar="DIR", help="output folder (default dist/TARGET)"
    )
    add_weights_argument(parser)
    parser.add_argument(
        "--exposures",
        type=int,
        default=3,
        metavar="N",
        help="bracket size of the shipped weights to convert (default 3)",
    )
    parser.add_argument(
        "--calibration",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder with calibration/ and parity/ bracket folders (default: calibration_data/)",
    )
    parser.set_defaults(run=run)


def _quiet_toolchains() -> None:
    """Keep the exporters' progress spam and deprecation chatter off the terminal (``-v`` shows it)."""
    os.environ.setdefault("LITERT_TORCH_SHOW_PROGRESS", "n")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    for name in (
        "torch.onnx",
        "torch._export",
        "torch.export",
        "torch.utils._pytree",
        "torchao",
        "coremltools",
        "executorch",
        "litert_torch",
    ):
        logging.getLogger(name).setLevel(logging.ERROR)


def run(args: argparse.Namespace) -> int:
    if not args.verbose:
        _quiet_toolchains()
    if not torch_available():
        raise ConversionError("converting needs PyTorch and the exporters: pip install 'edgemef[author]'")
    from converters import ConvertConfig, convert, resolve_target

    if args.model != "ipl":
        resolve_target(args.target, args.precision)  # a wrong target or precision fails before any work
    result = convert(
        ConvertConfig(
            target=args.target,
            model=args.model,
            precision=args.precision,
            grid=args.grid,
            out=args.out,
            weights=args.weights,
            n_exposures=args.exposures,
            calibration=args.calibration,
            tile=args.tile,
        )
    )
    row = result.summary_row()
    widths = [max(len(k), len(v)) for k, v in row.items()]
    print(" | ".join(k.ljust(w) for k, w in zip(row, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    print(" | ".join(v.ljust(w) for v, w in zip(row.values(), widths, strict=True)))
    print(f"contract: {result.contract_file}", file=sys.stderr)
    return 0
