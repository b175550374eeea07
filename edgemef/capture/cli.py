"""``rpi/capture_and_fuse.py`` (entry point ``edgemef-capture``): capture or replay brackets, fuse them with
an exported model in the torch-free runtime, write the result atomically, time every stage, and judge the
fusion latency against the paper's 89 ms on a Raspberry Pi.

Sources: ``picamera2`` (Raspberry Pi camera), ``webcam`` (OpenCV VideoCapture), ``files`` (replay a bracket
or a folder of brackets), ``simulated`` (a software camera, for trying the capture path without hardware).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgemef.capture.align import ALIGN_METHODS, align_bracket
from edgemef.capture.camera import AcceptancePolicy, Camera, capture_bracket
from edgemef.capture.files_source import FilesSource
from edgemef.capture.latency import (
    Budget,
    RollingStats,
    fusion_ms,
    judge,
    loop_stages,
    raspberry_pi_model,
    total_ms,
)
from edgemef.capture.planning import Metering, describe_plan
from edgemef.errors import BracketError, EdgemefError, ImageReadError
from edgemef.io import DEFAULT_MAX_PIXELS, atomic_write_bytes, check_output_path, write_fused, write_image
from edgemef.io.bracket import exposure_times
from edgemef.models.family import ModelFamily
from edgemef.models.registry import get_family

SOURCES = ("picamera2", "webcam", "files", "simulated")
_STOP = threading.Event()  # set by SIGTERM


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None
    if width < 16 or height < 16:
        raise argparse.ArgumentTypeError(f"size too small: {text}")
    return width, height


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Capture (or replay) exposure brackets, fuse them on this machine without PyTorch "
        "with an artifact of any model family, and check the fusion latency against the Raspberry Pi "
        "figure the model's paper claims.",
        epilog="Example: python rpi/capture_and_fuse.py --source files --input shots/ "
        "--artifact dist/rpi/MODEL.tflite (from 'edgemef convert --target rpi')",
    )
    parser.add_argument(
        "--artifact",
        metavar="FILE",
        required=True,
        type=Path,
        help="a .tflite or .onnx from 'edgemef convert'",
    )
    parser.add_argument(
        "--source",
        choices=SOURCES,
        default=None,
        help="where brackets come from (default: files with --input, else picamera2)",
    )
    parser.add_argument(
        "--input",
        metavar="PATH",
        nargs="+",
        type=Path,
        help="files source: a bracket's files or folder, or a folder of bracket folders",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", type=Path, default=Path("fused.jpg"), help="fused image (.jpg/.png)"
    )
    parser.add_argument("--save-brackets", action="store_true", help="also write the captured frames")
    parser.add_argument("--align", choices=ALIGN_METHODS, default="none", help="align hand-held brackets")
    parser.add_argument(
        "--runs", metavar="N", type=int, default=10, help="timed brackets after one warm-up (default 10)"
    )
    parser.add_argument("--loop", action="store_true", help="capture and fuse until interrupted")
    parser.add_argument(
        "--interval", type=float, default=0.0, metavar="S", help="--loop: seconds between brackets"
    )
    parser.add_argument(
        "--window", metavar="N", type=int, default=30, help="--loop: brackets in the rolling statistics"
    )
    parser.add_argument(
        "--keep", action="store_true", help="--loop: number the outputs instead of replacing one"
    )
    parser.add_argument(
        "--budget-ms",
        metavar="MS",
        type=float,
        default=None,
        help="latency budget (default: the Raspberry Pi figure the model's paper claims, if it claims one)",
    )
    parser.add_argument("--check", action="store_true", help="exit with status 1 when the budget is missed")
    parser.add_argument(
        "--timings", metavar="FILE", type=Path, help="append one JSON line of stage timings per bracket"
    )
    parser.add_argument(
        "--report", metavar="FILE", type=Path, help="write a profile report JSON ('edgemef profile --render')"
    )
    parser.add_argument(
        "--threads", metavar="N", type=int, default=None, help="CPU threads for the runtime (default: all)"
    )
    parser.add_argument(
        "--max-pixels", metavar="N", type=int, default=DEFAULT_MAX_PIXELS, help="files: per-frame pixel guard"
    )
    camera = parser.add_argument_group("cameras")
    camera.add_argument(
        "--camera", metavar="N", type=int, default=0, help="camera number (picamera2) or /dev/videoN index"
    )
    camera.add_argument(
        "--size", metavar="WxH", type=_size, default=(1920, 1080), help="capture size (default 1920x1080)"
    )
    camera.add_argument(
        "--ev-step",
        metavar="EV",
        type=float,
        default=2.0,
        help="EV between frames (default 2; for HDR models, also the spacing of files without EXIF times)",
    )
    camera.add_argument(
        "--max-attempts", metavar="N", type=int, default=10, help="frames to wait for an exposure to apply"
    )
    camera.add_argument(
        "--remeter", type=int, default=50, metavar="N", help="--loop: meter again every N brackets"
    )
    camera.add_argument(
        "--camera-hdr", action="store_true", help="picamera2 on a Pi 5: also save the ISP's HDR"
    )
    return parser


@dataclass
class _Bracket:
    """One bracket from any source, with its capture/decode times and what to log about it."""

    frames: np.ndarray
    capture_ms: float
    decode_ms: float
    info: dict[str, Any]
    #: the frames' exposure times (any unit, darkest first): the camera's plan, else EXIF; None if unknown
    exposure_times: list[float] | None = None


def _open_camera(args: argparse.Namespace) -> Camera:
    if args.source == "picamera2":
        from edgemef.capture.picamera2_camera import Picamera2Camera

        return Picamera2Camera(args.camera, args.size)
    if args.source == "webcam":
        from edgemef.capture.webcam_camera import WebcamCamera

        return WebcamCamera(args.camera, args.size)
    from edgemef.capture.simulated_camera import SimulatedCamera

    return SimulatedCamera(args.size)


class _Capture:
    """Brackets from the chosen source; a camera meters on the first bracket and every ``remeter`` after."""

    def __init__(self, args: argparse.Namespace, n_exposures: int) -> None:
        self.args = args
        self.n_exposures = n_exposures
        self.files: FilesSource | None = None
        self.camera: Camera | None = None
        self.metering: Metering | None = None
        self.count = 0
        if args.source == "files":
            if not args.input:
                raise EdgemefError("--source files needs --input (a bracket's files or folder)")
            self.files = FilesSource(args.input, n_exposures, args.max_pixels or None)
        else:
            if args.input:
                raise EdgemefError(f"--input replays files; it does not go with --source {args.source}")
            self.camera = _open_camera(args)
        self.policy = AcceptancePolicy(max_attempts=args.max_attempts)

    def next(self) -> _Bracket:
        self.count += 1
        if self.files is not None:
            start = time.perf_counter()
            bracket = self.files.next()
            decode = (time.perf_counter() - start) * 1000.0
            files = {"files": [str(p) for p in bracket.paths]}
            return _Bracket(bracket.frames, 0.0, decode, files, exposure_times(bracket))
        assert self.camera is not None
        if self.args.remeter and (self.count - 1) % self.args.remeter == 0:
            self.metering = None
        captured = capture_bracket(
            self.camera, self.n_exposures, self.args.ev_step, self.policy, self.metering
        )
        if self.metering is None:
            print(f"{self.camera.name}: metered, bracket:\n{describe_plan(captured.plan)}", file=sys.stderr)
        self.metering = captured.metering
        info = {
            "exposure_us": [request.exposure_us for request in captured.plan],
            "gain": captured.plan[0].gain,
            "attempts": captured.attempts,
        }
        times = [request.exposure_us * request.gain for request in captured.plan]
        return _Bracket(captured.frames, captured.capture_ms, 0.0, info, times)

    def close(self) -> None:
        if self.camera is not None:
            self.camera.close()


def _output_path(args: argparse.Namespace, index: int) -> Path:
    if args.loop and args.keep:
        return args.output.with_name(f"{args.output.stem}_{index:06d}{args.output.suffix}")
    return args.output


def _fuse_one(fusion: Any, bracket: _Bracket, args: argparse.Namespace, out: Path) -> dict[str, float]:
    timings = {"capture": bracket.capture_ms, "decode": bracket.decode_ms}
    start = time.perf_counter()
    alignment = align_bracket(bracket.frames, args.align)
    timings["align"] = (time.perf_counter() - start) * 1000.0 if args.align != "none" else 0.0
    if alignment.failed:
        print(
            f"warning: ECC could not register frame(s) {alignment.failed}; left as captured", file=sys.stderr
        )
    kind = fusion.contract.output_kind
    if kind == "scene-linear":
        fused, parts = fusion.fuse_timed(alignment.frames, _linear_times(bracket, args))
    else:
        fused, parts = fusion.fuse_timed(alignment.frames)
    timings.update(parts)
    start = time.perf_counter()
    write_fused(out, fused, kind)
    timings["encode"] = (time.perf_counter() - start) * 1000.0
    if args.save_brackets and args.source != "files":
        suffix = out.suffix if kind != "scene-linear" else ".jpg"
        for index, frame in enumerate(alignment.frames):
            write_image(out.with_name(f"{out.stem}_frame{index}{suffix}"), frame)
    bracket.info["align_shifts"] = [[round(dx, 2), round(dy, 2)] for dx, dy in alignment.shifts]
    return timings


def _linear_times(bracket: _Bracket, args: argparse.Namespace) -> list[float]:
    """An HDR model's exposure times: the bracket's (camera plan or EXIF), else ``--ev-step`` apart (said
    once on stderr)."""
    if bracket.exposure_times is not None:
        return bracket.exposure_times
    if not getattr(args, "_noted_times", False):
        args._noted_times = True
        print(
            f"note: the frames carry no exposure times (EXIF); the HDR model takes them --ev-step "
            f"{args.ev_step:g} EV apart",
            file=sys.stderr,
        )
    return [2.0 ** (args.ev_step * index) for index in range(len(bracket.frames))]


def _log(
    args: argparse.Namespace, index: int, timings: dict[str, float], bracket: _Bracket, out: Path
) -> None:
    if args.timings is None:
        return
    line = {
        "bracket": index,
        "source": args.source,
        "size": [int(bracket.frames.shape[2]), int(bracket.frames.shape[1])],
        "timings_ms": {stage: round(value, 3) for stage, value in timings.items()},
        "fusion_ms": round(fusion_ms(timings), 3),
        "total_ms": round(total_ms(timings), 3),
        "output": str(out),
        **bracket.info,
    }
    with open(args.timings, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")


def _summary(stats: RollingStats) -> str:
    summary = stats.summary()
    lines = [f"{'stage':<12}{'median ms':>11}{'p90 ms':>10}{'min ms':>10}{'max ms':>10}"]
    for key, row in summary.items():
        name = {"fusion": "fusion*", "total": "total**"}.get(key, key)
        lines.append(
            f"{name:<12}{row['median_ms']:>11.1f}{row['p90_ms']:>10.1f}{row['min_ms']:>10.1f}{row['max_ms']:>10.1f}"
        )
    lines.append("* capture excluded (decode .. encode)   ** capture included")
    return "\n".join(lines)


class _Skips:
    """Bad brackets are reported and skipped; ``limit`` failures in a row (every bracket of a files
    source) end the run with an error, so a loop over nothing but bad input does not spin."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.count = 0
        self._in_a_row = 0

    def attempt(self, action: Callable[[], Any]) -> Any:
        """``action()``, or ``None`` after reporting a bad bracket."""
        try:
            result = action()
        except (BracketError, ImageReadError) as exc:
            self.count += 1
            self._in_a_row += 1
            print(f"skipped a bad bracket: {exc}", file=sys.stderr, flush=True)
            if self._in_a_row >= self.limit:
                raise EdgemefError(
                    f"{self._in_a_row} bad brackets in a row, none fused; last: {exc}"
                ) from None
            return None
        self._in_a_row = 0
        return result


def _budget(budget_ms: float | None, family: ModelFamily) -> Budget | None:
    """``--budget-ms``, else the family's paper's Raspberry Pi claim, else none."""
    if budget_ms is not None:
        return Budget(budget_ms, "--budget-ms")
    for claim in family.claims:
        if claim.device_kind == "raspberry-pi":
            return Budget(claim.claimed_ms, f"{claim.source}: {claim.claim}")
    return None


def run(args: argparse.Namespace) -> int:
    from edgemef.bench import machine_description
    from edgemef.runtime import open_artifact
    from edgemef.runtime.backends import available_threads

    if args.runs < 1:
        raise EdgemefError("--runs must be at least 1")
    check_output_path(args.output)
    for path in (args.timings, args.report):
        if path is not None:
            check_output_path(path, image=False)
    threads = args.threads or available_threads()
    fusion = open_artifact(args.artifact, threads=threads)
    fusion.warm_up()
    family = get_family(fusion.contract.family)
    budget = _budget(args.budget_ms, family)
    pi_model = raspberry_pi_model()
    cpu, arch = machine_description()["cpu"], os.uname().machine
    machine = pi_model or f"{cpu if arch in cpu else f'{cpu}, {arch}'}, {os.cpu_count()} cores"
    print(
        f"model: {fusion.name}, {fusion.n_exposures} exposures; machine: {machine}"
        + ("" if pi_model else " (not a Raspberry Pi)"),
        file=sys.stderr,
    )
    capture = _Capture(args, fusion.n_exposures)
    stats = RollingStats(window=args.window if args.loop else 0, stages=loop_stages(family.profile_stages))
    size = (0, 0)
    input_bytes = 0
    index = 0
    skips = _Skips(len(capture.files.brackets) if capture.files is not None else 3)
    try:
        first = None
        while first is None and not _STOP.is_set():  # warm-up: runtime weight packing, caches
            first = skips.attempt(capture.next)
            if (
                first is not None
                and skips.attempt(lambda: _fuse_one(fusion, first, args, args.output)) is None  # noqa: B023
            ):
                first = None
        if args.camera_hdr:
            _save_camera_hdr(capture, args.output)
        while not _STOP.is_set() and (args.loop or index < args.runs):
            bracket = first if index == 0 and args.source == "files" else skips.attempt(capture.next)
            if bracket is None:
                continue
            out = _output_path(args, index)
            timings = skips.attempt(lambda: _fuse_one(fusion, bracket, args, out))  # noqa: B023
            if timings is None:
                continue
            size = (int(bracket.frames.shape[2]), int(bracket.frames.shape[1]))
            input_bytes = int(bracket.frames.nbytes)
            stats.add(timings)
            _log(args, index, timings, bracket, out)
            index += 1
            if args.loop:
                _loop_status(args, out, timings, stats, index)
                if args.report is not None and index % max(args.window, 1) == 0:
                    _write_report(args, fusion, stats.rows, size, pi_model, machine, threads, input_bytes)
                if args.interval:
                    _STOP.wait(args.interval)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        if not len(stats):
            return 130
    finally:
        capture.close()
    if not len(stats):  # SIGTERM before the first timed bracket
        print("stopped before the first timed bracket", file=sys.stderr)
        return 0
    verdict = judge(stats.column("fusion"), budget, machine, pi_model is not None)
    last = _output_path(args, index - 1)
    print(
        f"fused {index} bracket(s) at {size[0]}x{size[1]} from {args.source}; last: {last}"
        + (f"; skipped {skips.count} bad bracket(s)" if skips.count else "")
    )
    print(_summary(stats))
    print(verdict.line())
    if args.report is not None:
        _write_report(args, fusion, stats.rows, size, pi_model, machine, threads, input_bytes)
        print(f"report: {args.report} (render with: edgemef profile --render {args.report} --report r.html)")
    return 1 if args.check and not verdict.passed else 0


def _loop_status(
    args: argparse.Namespace, out: Path, timings: dict[str, float], stats: RollingStats, index: int
) -> None:
    line = f"{out}: fusion {fusion_ms(timings):.1f} ms; {stats.status_line()}"
    if sys.stderr.isatty():
        print(f"\r{line}", end="", file=sys.stderr, flush=True)
    elif index % max(args.window, 1) == 0:  # a journal or a log file: one line per window
        print(line, file=sys.stderr, flush=True)


def _write_report(
    args: argparse.Namespace,
    fusion: Any,
    rows: list[dict[str, float]],
    size: tuple[int, int],
    pi_model: str | None,
    machine: str,
    threads: int,
    input_bytes: int,
) -> None:
    from edgemef.capture.report import runner_report

    kind = "raspberry-pi" if pi_model else "desktop"
    report = runner_report(fusion, rows, size, kind, machine, threads, input_bytes, args.source)
    atomic_write_bytes(args.report, json.dumps(report, indent=2).encode())


def _save_camera_hdr(capture: _Capture, output: Path) -> None:
    camera = capture.camera
    if camera is None or not hasattr(camera, "camera_hdr_frame"):
        raise EdgemefError("--camera-hdr needs --source picamera2 (the Raspberry Pi 5 ISP's HdrMode)")
    write_image(output.with_name(f"{output.stem}_camera_hdr{output.suffix}"), camera.camera_hdr_frame())
    capture.metering = None  # HDR mode changed the exposure: meter the next bracket afresh


def _stop_on_sigterm() -> None:
    """``systemctl stop`` sends SIGTERM: finish the bracket in hand, then close the camera and summarise."""

    def handler(signum: int, frame: object) -> None:
        _STOP.set()

    with suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGTERM, handler)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.source = args.source or ("files" if args.input else "picamera2")
    _STOP.clear()
    _stop_on_sigterm()
    try:
        return run(args)
    except EdgemefError as exc:
        if os.environ.get("EDGEMEF_TRACEBACK"):
            traceback.print_exc()
        print(f"capture_and_fuse: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        with suppress(Exception):
            print("capture_and_fuse: interrupted", file=sys.stderr)
        return 130
