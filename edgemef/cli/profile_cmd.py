"""``edgemef profile``: measure an exported model end to end on this machine and write a report."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from edgemef.errors import ArtifactError, EdgemefError
from edgemef.models.registry import list_families

MACHINE_KINDS = ("desktop", "raspberry-pi", "android-device", "android-emulator", "ios-device", "gpu")


class ProfileError(EdgemefError):
    """Bad profile arguments."""


def parse_resolution(text: str) -> tuple[int, int]:
    """``3840x2160`` or one of ``720p, 1080p, 4k, 8k``."""
    from edgemef.sizes import RESOLUTIONS

    if text.lower() in RESOLUTIONS:
        return RESOLUTIONS[text.lower()]
    match = re.fullmatch(r"(\d+)x(\d+)", text.strip().lower())
    if not match or min(int(match[1]), int(match[2])) < 16:
        raise ProfileError(
            f"resolution {text!r}: use WIDTHxHEIGHT (e.g. 3840x2160) or one of {', '.join(RESOLUTIONS)}"
        )
    return int(match[1]), int(match[2])


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "profile",
        help="profile an exported model: latency per stage and per operator, memory, the papers' claims",
        description=(
            "Fuse a synthetic bracket at the given resolution with an artifact from 'edgemef convert', "
            "after a warm-up, and report latency per stage (decode, the model family's stages, encode: "
            + "; ".join(
                f"{f.name}: {', '.join(f.profile_stages)}" for f in list_families() if f.profile_stages
            )
            + ") and end to end, the runtime's own "
            "per-operator profile, memory, and the papers' latency claims. "
            "Writes a self-contained HTML report and its JSON."
        ),
        epilog="examples: edgemef profile --target android --report r.html; edgemef profile --adb "
        "dist/android/ARTIFACT.pte --report phone.html",
    )
    parser.add_argument(
        "artifact", nargs="?", type=Path, help="a .pte/.tflite/.onnx artifact or its contract .json"
    )
    parser.add_argument(
        "--target", help="profile dist/TARGET's default artifact (converting it first if absent)"
    )
    parser.add_argument(
        "--model",
        default=None,
        choices=[f.convertible for f in list_families() if f.convertible],
        help="with --target: which model's default artifact (default: convert's)",
    )
    parser.add_argument(
        "--adb",
        action="store_true",
        help="run it on the Android phone or emulator adb reaches, in the demo app's benchmark mode",
    )
    parser.add_argument("--serial", default=None, help="--adb: the device's serial (adb devices)")
    parser.add_argument(
        "--install", type=Path, default=None, metavar="APK", help="--adb: install the app first"
    )
    parser.add_argument(
        "--bracket",
        nargs="+",
        type=Path,
        default=None,
        metavar="FRAME",
        help="--adb: the bracket to fuse on the device (default: examples/brackets/rocket)",
    )
    parser.add_argument(
        "--resolution", default="3840x2160", help="frame size, WxH or 720p/1080p/4k/8k (default 4K)"
    )
    parser.add_argument("--runs", type=int, default=10, help="measured runs after the warm-up (default 10)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all available)")
    parser.add_argument(
        "--sweep",
        default="720p,1080p,4k",
        help="resolutions of the latency curve ('' for none; default 720p,1080p,4k)",
    )
    parser.add_argument(
        "--machine-kind", default="desktop", choices=MACHINE_KINDS, help="what this machine is"
    )
    parser.add_argument(
        "--report", type=Path, default=None, help="HTML report to write (its JSON goes beside)"
    )
    parser.add_argument(
        "--render", type=Path, default=None, metavar="JSON", help="only render a report JSON to --report"
    )
    parser.set_defaults(run=run)


def _artifact_for_target(target: str, model: str | None) -> Path:
    """dist/TARGET's default artifact of ``model``; converted first when absent."""
    from edgemef.models.registry import torch_available

    if not torch_available():
        raise ProfileError("--target needs the authoring extra: pip install 'edgemef[author]'")
    from converters import ConvertConfig, convert, resolve_target
    from converters.pipeline import artifact_path

    if not resolve_target(target).runtime.runs_here:
        raise ProfileError(f"{target} artifacts run on macOS/iOS only; profile android, rpi or onnx here")
    config = ConvertConfig(target=target, model=model)
    path = artifact_path(config)
    if not path.exists():
        print(f"edgemef profile: {path} not found, converting it first", file=sys.stderr)
        path = convert(config).artifact
    return path


def run(args: argparse.Namespace) -> int:
    from edgemef.io import atomic_write_bytes
    from edgemef.profile import REPORT_SCHEMA, profile, render

    if args.render is not None:
        if args.report is None:
            raise ProfileError("--render needs --report OUT.html")
        try:
            report = json.loads(args.render.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ProfileError(f"{args.render}: not a readable report JSON ({exc})") from None
        _validate(report, REPORT_SCHEMA, args.render)
        atomic_write_bytes(args.report, render(report).encode())
        print(f"report: {args.report}")
        return 0
    if (args.artifact is None) == (args.target is None):
        raise ProfileError("give an artifact (or its contract) or --target, not both")
    if args.adb:
        return _run_adb(args)
    if args.runs < 1:
        raise ProfileError(f"--runs must be at least 1, got {args.runs}")
    resolution = parse_resolution(args.resolution)
    sweep = [parse_resolution(r) for r in args.sweep.split(",") if r.strip()]
    if args.report is not None and args.report.suffix.lower() not in (".html", ".htm"):
        raise ProfileError(f"--report {args.report}: give an .html file (the JSON is written beside it)")
    if (
        args.report is not None
        and not (args.report.parent if str(args.report.parent) else Path(".")).is_dir()
    ):
        raise ProfileError(f"--report {args.report}: folder {args.report.parent} does not exist")
    artifact = _artifact_for_target(args.target, args.model) if args.target else args.artifact
    if artifact.suffix == ".json":
        try:
            artifact = artifact.with_name(json.loads(artifact.read_text())["artifact"])
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ArtifactError(f"{args.artifact}: not a readable contract ({exc})") from None
    report = profile(
        artifact,
        resolution,
        args.runs,
        args.threads,
        sweep,
        args.machine_kind,
        progress=lambda message: print(f"edgemef profile: {message}", file=sys.stderr, flush=True),
    )
    _validate(report, REPORT_SCHEMA, artifact)
    e2e, stages = report["end_to_end"], report["stages"]
    print(
        f"{artifact} at {resolution[0]}x{resolution[1]}, {report['threads']} threads, {args.runs} runs (ms):"
    )
    print("stage       median     p90     min     max")
    for name, summary in [*stages.items(), ("end to end", e2e)]:
        print(
            f"{name:<10} {summary['median_ms']:7.1f} {summary['p90_ms']:7.1f} "
            f"{summary['min_ms']:7.1f} {summary['max_ms']:7.1f}"
        )
    _claims_and_files(report, args.report)
    return 0


def _run_adb(args: argparse.Namespace) -> int:
    """``--adb``: the report of the app's benchmark mode on the device, checked and rendered."""
    from edgemef.profile import REPORT_SCHEMA
    from edgemef.profile.adb import profile_on_device

    if args.artifact is None:
        raise ProfileError("--adb profiles a given artifact (a .pte or .tflite), not --target")
    bracket = args.bracket or sorted(
        Path(__file__).resolve().parents[2].glob("examples/brackets/rocket/*.jpg")
    )
    if not bracket:
        raise ProfileError("--adb needs a bracket on this machine: pass --bracket FRAME ...")
    report = profile_on_device(
        args.artifact, bracket, serial=args.serial, install=args.install, runs=args.runs
    )
    _validate(report, REPORT_SCHEMA, args.artifact)
    e2e = report["end_to_end"]
    print(
        f"{args.artifact} on {report['machine']['description']}: end to end {e2e['median_ms']:.1f} ms median"
    )
    _claims_and_files(report, args.report)
    return 0


def _claims_and_files(report: dict, html: Path | None) -> None:
    """Print the claims' verdicts; write the HTML report and its JSON when asked."""
    from edgemef.io import atomic_write_bytes
    from edgemef.profile import render

    for claim in report["claims"]:
        print(f"claim: {claim['claim']} ({claim['source']}) -> {claim['verdict']}")
    if html is not None:
        atomic_write_bytes(html.with_suffix(".json"), (json.dumps(report, indent=1) + "\n").encode())
        atomic_write_bytes(html, render(report).encode())
        print(f"report: {html} (data: {html.with_suffix('.json')})")


def _validate(report: object, schema: dict, source: Path) -> None:
    try:
        import jsonschema
    except ImportError:  # the deploy install has no jsonschema: check the version at least
        if (
            not isinstance(report, dict)
            or report.get("schema_version") != schema["properties"]["schema_version"]["const"]
        ):
            version = schema["properties"]["schema_version"]["const"]
            raise ProfileError(f"{source}: not a profile report of schema version {version}") from None
        return
    try:
        jsonschema.validate(report, schema)
    except jsonschema.ValidationError as exc:
        raise ProfileError(
            f"{source}: not a valid profile report: {exc.message} at {list(exc.path)}"
        ) from None
