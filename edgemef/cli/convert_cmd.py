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
from edgemef.models.family import FamilyOption
from edgemef.models.registry import list_families, torch_available

#: the platform presets and runtimes (kept in step with converters.capabilities, which needs torch to import)
TARGET_NAMES = ("android", "ios", "rpi", "onnx")
RUNTIME_NAMES = ("executorch", "coreml", "litert", "onnxruntime")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    families = [f for f in list_families() if f.convertible]
    default = families[0].convertible if families else None
    examples = [f"edgemef convert --target android --model {f.convertible}" for f in families]
    parser = subparsers.add_parser(
        "convert",
        help="export a model to an on-device artifact (ExecuTorch, CoreML, LiteRT, ONNX) and verify it",
        description=(
            "Export the network(s) of a model for a device, quantize them if asked, run them in their real "
            "runtime on held-out brackets, and write the artifact with its contract (<name>.json) only if "
            "its fused images match PyTorch fp32 (40 dB for fp32/fp16, 32 dB for int8). Targets: android "
            "(ExecuTorch .pte, XNNPACK; --runtime litert for a .tflite), ios (CoreML .mlpackage, iOS 17), "
            "rpi (LiteRT .tflite; --runtime onnxruntime), onnx (.onnx). Needs the authoring extra."
        ),
        epilog="examples: " + "; ".join(examples),
    )
    parser.add_argument("--target", required=True, help=f"one of: {', '.join(TARGET_NAMES)}")
    parser.add_argument(
        "--runtime",
        default=None,
        help=f"the runtime, where a target has several ({', '.join(RUNTIME_NAMES)}; default: the "
        "target's first)",
    )
    parser.add_argument(
        "-m",
        "--model",
        default=None,
        help=f"model to convert (default {default}; convertible: "
        f"{', '.join(f.convertible for f in families)})",
    )
    parser.add_argument(
        "--precision",
        default=None,
        help="fp32, fp16 or int8, as the runtime takes (default: per runtime and model family)",
    )
    options: dict[str, list[tuple[str, FamilyOption]]] = {}
    for family in families:
        for option in family.convert_options:
            options.setdefault(option.name, []).append((str(family.convertible), option))
    for name, takers in options.items():  # families may share an option (--tile): one flag, each's help
        parser.add_argument(
            f"--{name}",
            type=type(takers[0][1].default),
            default=None,
            metavar=takers[0][1].metavar,
            help="; ".join(f"{model}: {option.help}" for model, option in takers),
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


def family_option_values(args: argparse.Namespace) -> dict[str, object]:
    """The family options given on the command line (``--grid``, ``--tile``...), by name."""
    names = {option.name for family in list_families() for option in family.convert_options}
    return {name: getattr(args, name) for name in sorted(names) if getattr(args, name, None) is not None}


def run(args: argparse.Namespace) -> int:
    if not args.verbose:
        _quiet_toolchains()
    if not torch_available():
        raise ConversionError("converting needs PyTorch and the exporters: pip install 'edgemef[author]'")
    from converters import ConvertConfig, convert

    result = convert(
        ConvertConfig(
            target=args.target,
            model=args.model,
            precision=args.precision,
            runtime=args.runtime,
            out=args.out,
            weights=args.weights,
            n_exposures=args.exposures,
            calibration=args.calibration,
            options=family_option_values(args),
        )
    )
    row = result.summary_row()
    widths = [max(len(k), len(v)) for k, v in row.items()]
    print(" | ".join(k.ljust(w) for k, w in zip(row, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    print(" | ".join(v.ljust(w) for v, w in zip(row.values(), widths, strict=True)))
    print(f"contract: {result.contract_file}", file=sys.stderr)
    return 0
