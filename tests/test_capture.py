"""The Raspberry Pi runner (edgemef.capture, rpi/): bracket planning, exposure acceptance, alignment, latency
verdicts, files replay end to end without torch, and every bad input ending in a clear error and no files."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgemef.capture.align import align_bracket
from edgemef.capture.camera import AcceptancePolicy, capture_bracket, capture_frame, exposure_applied
from edgemef.capture.cli import main as capture_main
from edgemef.capture.files_source import FilesSource
from edgemef.capture.latency import Budget, RollingStats, judge, loop_stages, raspberry_pi_model
from edgemef.capture.planning import FrameRequest, Metering, SensorLimits, ev_offsets, plan_bracket
from edgemef.capture.simulated_camera import SimulatedCamera
from edgemef.errors import BracketError, CameraError
from edgemef.io import read_bracket
from tests.conftest import run_python_without_torch

REPO = Path(__file__).resolve().parents[1]
COFFEE = REPO / "examples" / "brackets" / "coffee"
SCRIPT = REPO / "rpi" / "capture_and_fuse.py"
LIMITS = SensorLimits(min_exposure_us=100, max_exposure_us=100_000, min_gain=1.0, max_gain=8.0)


# ---------------------------------------------------------------------------------------------- planning


def test_ev_offsets_are_centred_and_ordered() -> None:
    assert ev_offsets(3, 2.0) == (-2.0, 0.0, 2.0)
    assert ev_offsets(2, 3.0) == (-1.5, 1.5)
    assert ev_offsets(5, 1.0) == (-2.0, -1.0, 0.0, 1.0, 2.0)
    with pytest.raises(CameraError, match="at least 2 frames"):
        ev_offsets(1, 2.0)


def test_plan_inside_limits_doubles_per_ev() -> None:
    plan = plan_bracket(Metering(exposure_us=8000, gain=2.0), 3, 2.0, LIMITS)
    assert [f.exposure_us for f in plan] == [2000, 8000, 32000]
    assert all(f.gain == 2.0 and not f.clamped for f in plan)


def test_plan_clamps_to_the_sensor_and_reports_the_achieved_ev() -> None:
    plan = plan_bracket(Metering(exposure_us=40_000, gain=1.0), 3, 2.0, LIMITS)
    assert [f.exposure_us for f in plan] == [10_000, 40_000, 100_000]
    bright = plan[-1]
    assert bright.clamped and bright.ev == 2.0 and bright.achieved_ev == pytest.approx(np.log2(2.5))
    # the metered gain is kept inside the sensor's gain range
    assert plan_bracket(Metering(8000, gain=20.0), 2, 1.0, LIMITS)[0].gain == 8.0


def test_plan_that_collapses_is_refused_with_advice() -> None:
    with pytest.raises(CameraError, match="smaller --ev-step"):
        plan_bracket(Metering(exposure_us=100_000, gain=1.0), 3, 2.0, LIMITS)  # two frames at the maximum


# ---------------------------------------------------------------------------------- metadata acceptance


def test_exposure_applied_tolerates_line_quantisation_only() -> None:
    request = FrameRequest(ev=0.0, exposure_us=10_000, gain=2.0, achieved_ev=0.0)
    policy = AcceptancePolicy()
    assert exposure_applied(request, {"ExposureTime": 10_310, "AnalogueGain": 2.02}, policy)
    assert not exposure_applied(request, {"ExposureTime": 12_000, "AnalogueGain": 2.0}, policy)
    assert not exposure_applied(request, {"ExposureTime": 10_000, "AnalogueGain": 4.0}, policy)
    assert not exposure_applied(request, {"AnalogueGain": 2.0}, policy)  # no exposure reported
    short = FrameRequest(ev=-2.0, exposure_us=200, gain=1.0, achieved_ev=-2.0)
    assert exposure_applied(short, {"ExposureTime": 240}, policy)  # within one-line slack


@pytest.mark.parametrize("lag", [1, 3, 5])
def test_frames_are_accepted_once_the_exposure_reaches_the_sensor(lag: int) -> None:
    camera = SimulatedCamera((96, 64), lag=lag)
    request = FrameRequest(0.0, 4000, 1.0, 0.0)
    frame = capture_frame(camera, request, None, AcceptancePolicy(max_attempts=10))
    assert frame.attempts == lag and frame.metadata["ExposureTime"] == 4000


def test_retries_are_bounded_and_reported() -> None:
    camera = SimulatedCamera((96, 64), lag=6)
    with pytest.raises(CameraError, match=r"after 3 frames.*raise --max-attempts"):
        capture_frame(camera, FrameRequest(0.0, 4000, 1.0, 0.0), None, AcceptancePolicy(max_attempts=3))
    assert camera.frames_grabbed == 3


def test_camera_refusing_manual_exposure_is_a_clear_error() -> None:
    camera = SimulatedCamera((96, 64), ignores_manual=True)
    with pytest.raises(CameraError, match="does not apply manual exposure"):
        capture_bracket(camera, 3, 2.0, AcceptancePolicy(max_attempts=4))


def test_captured_bracket_is_dark_to_bright_with_the_planned_exposures() -> None:
    camera = SimulatedCamera((160, 96), lag=2)
    bracket = capture_bracket(camera, 3, 2.0)
    means = [float(frame.mean()) for frame in bracket.frames]
    assert means[0] < means[1] < means[2]
    assert [m["ExposureTime"] for m in bracket.metadata] == [r.exposure_us for r in bracket.plan]
    assert bracket.attempts == [2, 2, 2] and bracket.capture_ms > 0
    assert bracket.frames.shape == (3, 96, 160, 3) and bracket.frames.dtype == np.uint8


# ------------------------------------------------------------------------------------------- alignment


def _moved(frame: np.ndarray, dx: float, dy: float) -> np.ndarray:
    h, w = frame.shape[:2]
    matrix = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
    return cv2.warpAffine(frame, matrix, (w, h), borderMode=cv2.BORDER_REFLECT)


@pytest.mark.parametrize("method", ["mtb", "ecc"])
def test_alignment_undoes_a_hand_shake(method: str) -> None:
    frames = read_bracket(COFFEE).frames
    shaken = np.stack([_moved(frames[0], 7, -4), frames[1], _moved(frames[2], -5, 3)])
    aligned = align_bracket(shaken, method)
    assert aligned.shifts[1] == (0.0, 0.0)
    assert aligned.shifts[0] == pytest.approx((-7, 4), abs=0.5)
    assert aligned.shifts[2] == pytest.approx((5, -3), abs=0.5)
    inner = (slice(20, -20), slice(20, -20))
    for index in (0, 2):
        error = np.abs(aligned.frames[index][inner].astype(int) - frames[index][inner].astype(int)).mean()
        assert error < 1.0, (method, index, error)


def test_alignment_of_a_still_bracket_moves_nothing() -> None:
    frames = read_bracket(COFFEE).frames
    assert align_bracket(frames, "none").frames is frames
    for method in ("mtb", "ecc"):
        shifts = align_bracket(frames, method).shifts
        assert max(abs(v) for shift in shifts for v in shift) < 0.5, (method, shifts)


# --------------------------------------------------------------------------------------- files source


def test_files_source_cycles_through_bracket_folders(tmp_path: Path) -> None:
    for name in ("shot2", "shot10"):
        shutil.copytree(COFFEE, tmp_path / name)
    source = FilesSource([tmp_path], n_exposures=2, max_pixels=None)
    assert [Path(b[0]).name for b in source.brackets] == ["shot2", "shot10"]  # natural order
    first, second, third = source.next(), source.next(), source.next()
    assert len(first) == 2 and first.paths[0].parent.name == "shot2"  # darkest and brightest of 3
    assert second.paths[0].parent.name == "shot10" and third.paths[0].parent.name == "shot2"


def test_files_source_with_too_few_frames(tmp_path: Path) -> None:
    for path in sorted(COFFEE.glob("*.jpg"))[:2]:
        shutil.copy(path, tmp_path / path.name)
    with pytest.raises(BracketError, match="2 exposures, the model fuses 3"):
        FilesSource([tmp_path], n_exposures=3, max_pixels=None).next()


# ---------------------------------------------------------------------------------------------- latency


def test_verdict_names_the_machine_and_the_budget() -> None:
    budget = Budget(89.0, "a paper's claim")
    verdict = judge([80.0, 95.0, 85.0], budget, "Intel Xeon", on_pi=False)
    assert verdict.passed and verdict.median_ms == 85.0
    assert "LATENCY PASS" in verdict.line() and "NOT a Raspberry Pi" in verdict.line()
    verdict = judge([120.0], budget, "Raspberry Pi 5 Model B Rev 1.0", on_pi=True)
    assert not verdict.passed and verdict.line().startswith(
        "LATENCY FAIL: fusion median 120.0 ms > budget 89 ms (a paper's claim)"
    )
    assert "NOT" not in verdict.line()
    unbudgeted = judge([120.0], None, "Raspberry Pi 5 Model B Rev 1.0", on_pi=True)
    assert unbudgeted.passed and "no budget" in unbudgeted.line()


def test_rolling_statistics_keep_the_window() -> None:
    stats = RollingStats(window=3, stages=loop_stages(("predictor",)))
    for value in (100.0, 1.0, 2.0, 3.0):
        stats.add({"capture": 50.0, "predictor": value})
    assert len(stats) == 3 and stats.column("predictor") == [1.0, 2.0, 3.0]
    summary = stats.summary()
    assert summary["fusion"]["median_ms"] == 2.0 and summary["total"]["median_ms"] == 52.0
    assert list(summary) == ["capture", "decode", "align", "predictor", "encode", "fusion", "total"]


def test_raspberry_pi_detection(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")
    assert raspberry_pi_model(model) == "Raspberry Pi 5 Model B Rev 1.0"
    model.write_bytes(b"QEMU Virtual Machine\x00")
    assert raspberry_pi_model(model) is None
    assert raspberry_pi_model(tmp_path / "missing") is None


# ------------------------------------------------------------------------------------ end to end, CLI


@pytest.fixture(scope="module")
def rpi_artifacts(converted) -> dict[str, Path]:
    return {"tflite": converted("rpi", "int8", 17), "onnx": converted("onnx", "fp32", 17)}


def _run_script_without_torch(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``rpi/capture_and_fuse.py ARGS`` in a fresh interpreter where torch and executorch fail to import."""
    script = str(SCRIPT)
    body = (
        f"import runpy\nsys.argv = [{script!r}, *{args!r}]\nrunpy.run_path({script!r}, run_name='__main__')"
    )
    return run_python_without_torch(body, cwd)


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "runtime"), [("tflite", "litert int8"), ("onnx", "onnxruntime fp32")])
def test_files_replay_without_torch(
    rpi_artifacts: dict[str, Path], kind: str, runtime: str, tmp_path: Path
) -> None:
    out = tmp_path / "fused.png"
    timings, report = tmp_path / "timings.jsonl", tmp_path / "report.json"
    args = ["--source", "files", "--input", str(COFFEE), "--artifact", str(rpi_artifacts[kind])]
    args += ["-o", str(out), "--runs", "3", "--timings", str(timings), "--report", str(report)]
    done = _run_script_without_torch(args, tmp_path)
    assert done.returncode == 0, done.stderr
    assert runtime in done.stderr
    verdict = re.search(r"LATENCY (PASS|FAIL): fusion median ([\d.]+) ms", done.stdout)
    assert verdict and "capture excluded" in done.stdout and "NOT a Raspberry Pi" in done.stdout
    fused = cv2.imread(str(out))
    assert fused.shape == (400, 600, 3) and 40 < fused.mean() < 220
    lines = [json.loads(line) for line in timings.read_text().splitlines()]
    assert len(lines) == 3 and all(line["timings_ms"]["predictor"] > 0 for line in lines)
    assert lines[0]["size"] == [600, 400] and lines[0]["fusion_ms"] == pytest.approx(
        sum(v for k, v in lines[0]["timings_ms"].items() if k != "capture"), abs=0.01
    )
    data = json.loads(report.read_text())
    assert data["end_to_end"]["median_ms"] == pytest.approx(float(verdict.group(2)), abs=0.06)
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary files left


@pytest.mark.slow
@pytest.mark.parametrize("family", ["ipl", "crmef"])
def test_files_replay_takes_any_family_artifact(family_artifact, family: str, tmp_path: Path) -> None:
    """A tiled model's LiteRT artifact through the runner, torch-free: its own stages are timed, and with
    no Raspberry Pi claim in its paper there is no budget unless one is given."""
    from edgemef.models.registry import get_family

    artifact = family_artifact(family, "litert", "fp32").artifact
    out, timings = tmp_path / "fused.png", tmp_path / "timings.jsonl"
    args = ["--source", "files", "--input", str(COFFEE), "--artifact", str(artifact)]
    done = _run_script_without_torch(
        [*args, "-o", str(out), "--runs", "2", "--timings", str(timings)], tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "no budget" in done.stdout and cv2.imread(str(out)).shape == (400, 600, 3)
    stages = json.loads(timings.read_text().splitlines()[0])["timings_ms"]
    assert {*get_family(family).profile_stages, "decode", "encode"} <= set(stages)
    budgeted = _run_script_without_torch(
        [*args, "-o", str(out), "--runs", "1", "--budget-ms", "1e6"], tmp_path
    )
    assert budgeted.returncode == 0 and "LATENCY PASS" in budgeted.stdout and "--budget-ms" in budgeted.stdout


@pytest.mark.slow
def test_files_replay_with_an_hdr_model_writes_radiance(family_artifact, tmp_path: Path) -> None:
    """STHDR's LiteRT artifact through the runner, torch-free: files without EXIF times take --ev-step
    (said on stderr) and the radiance is written as OpenEXR, equal to the runtime's own."""
    from edgemef.io.hdr import read_hdr
    from edgemef.runtime import open_artifact

    artifact = family_artifact("sthdr", "litert", "fp32").artifact
    out = tmp_path / "fused.exr"
    args = ["--source", "files", "--input", str(COFFEE), "--artifact", str(artifact), "--ev-step", "2"]
    done = _run_script_without_torch([*args, "-o", str(out), "--runs", "1"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "--ev-step 2 EV apart" in done.stderr and "no budget" in done.stdout
    expected = open_artifact(artifact).fuse(read_bracket(COFFEE).frames, exposure_times=[1.0, 4.0, 16.0])
    assert np.allclose(read_hdr(out), expected, atol=1e-6)


@pytest.mark.slow
def test_replay_matches_the_runtime_directly(rpi_artifacts: dict[str, Path], tmp_path: Path) -> None:
    """The runner fuses exactly what the artifact runtime fuses (no hidden re-processing)."""
    from edgemef.runtime import open_artifact

    out = tmp_path / "fused.png"
    args = ["--source", "files", "--input", str(COFFEE), "--artifact", str(rpi_artifacts["onnx"])]
    assert capture_main([*args, "-o", str(out), "--runs", "1"]) == 0
    expected = open_artifact(rpi_artifacts["onnx"]).fuse(read_bracket(COFFEE).frames)
    assert np.array_equal(cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB), expected)


@pytest.mark.slow
def test_simulated_camera_loop_report_renders(
    rpi_artifacts: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from edgemef.cli.main import main as edgemef_main
    from edgemef.profile.schema import REPORT_SCHEMA

    out, report = tmp_path / "fused.jpg", tmp_path / "report.json"
    args = ["--source", "simulated", "--size", "320x240", "--artifact", str(rpi_artifacts["tflite"])]
    args += ["-o", str(out), "--runs", "2", "--save-brackets", "--align", "mtb", "--report", str(report)]
    assert capture_main(args) == 0
    text = capsys.readouterr()
    assert "simulated camera: metered" in text.err and "EV +2.0" in text.err
    assert out.exists() and len(list(tmp_path.glob("fused_frame*.jpg"))) == 3
    data = json.loads(report.read_text())
    jsonschema.validate(data, REPORT_SCHEMA)
    assert data["stages"]["capture"]["median_ms"] > 0 and data["machine"]["kind"] == "desktop"
    assert data["end_to_end_with_capture"]["median_ms"] > data["end_to_end"]["median_ms"]
    assert any("89 ms" in claim["claim"] and "not judged" in claim["verdict"] for claim in data["claims"])
    html = tmp_path / "report.html"
    assert edgemef_main(["profile", "--render", str(report), "--report", str(html)]) == 0
    assert "capture" in html.read_text()


@pytest.mark.slow
def test_loop_stops_cleanly_on_sigterm(rpi_artifacts: dict[str, Path], tmp_path: Path) -> None:
    """``systemctl stop`` (SIGTERM) ends a --loop like Ctrl-C: summary, verdict and report are written."""
    out, report = tmp_path / "latest.jpg", tmp_path / "latency.json"
    args = [sys.executable, str(SCRIPT), "--source", "simulated", "--size", "160x120", "--loop"]
    args += [
        "--window",
        "2",
        "--artifact",
        str(rpi_artifacts["tflite"]),
        "-o",
        str(out),
        "--report",
        str(report),
    ]
    process = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not report.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)  # the loop writes the report every --window brackets
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "LATENCY" in stdout and "from simulated" in stdout
    data = json.loads(report.read_text())
    assert 1 <= data["runs"] <= 2 and out.exists()  # the rolling window, and the last fused image


@pytest.mark.slow
def test_check_flag_fails_a_missed_budget(rpi_artifacts: dict[str, Path], tmp_path: Path) -> None:
    args = ["--source", "files", "--input", str(COFFEE), "--artifact", str(rpi_artifacts["onnx"])]
    args += ["-o", str(tmp_path / "f.jpg"), "--runs", "1", "--budget-ms", "0.001"]
    assert capture_main(args) == 0  # the verdict is printed; the exit code only with --check
    assert capture_main([*args, "--check"]) == 1


# ------------------------------------------------------------------------------------------ bad input


def _fails(args: list[str], capsys: pytest.CaptureFixture[str], message: str) -> None:
    assert capture_main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_no_webcam_found(onnx_only: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "f.jpg"
    args = ["--source", "webcam", "--camera", "63", "--artifact", str(onnx_only), "-o", str(out)]
    _fails(args, capsys, "no camera found at /dev/video63")
    assert not out.exists()


def test_picamera2_missing_is_explained(
    onnx_only: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if shutil.which("rpicam-hello"):
        pytest.skip("a Raspberry Pi camera stack is installed here")
    args = ["--source", "picamera2", "--artifact", str(onnx_only), "-o", str(tmp_path / "f.jpg")]
    _fails(args, capsys, "apt install python3-picamera2")


@pytest.fixture
def onnx_only(rpi_artifacts: dict[str, Path], tmp_path: Path) -> Path:
    """A private copy of the .onnx artifact and its contract."""
    folder = tmp_path / "artifact"
    folder.mkdir()
    source = rpi_artifacts["onnx"]
    for path in (source, source.with_suffix(".json")):
        shutil.copy(path, folder / path.name)
    return folder / source.name


def test_artifact_contract_mismatch_writes_nothing(
    onnx_only: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(onnx_only.read_bytes())
    data[len(data) // 2] ^= 0xFF
    onnx_only.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    args = [
        "--source",
        "files",
        "--input",
        str(COFFEE),
        "--artifact",
        str(onnx_only),
        "-o",
        str(out / "f.jpg"),
    ]
    _fails([*args, "--report", str(out / "r.json")], capsys, "does not match its contract")
    assert list(out.iterdir()) == []


def test_unwritable_format_is_refused_before_capturing(
    onnx_only: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--source", "simulated", "--artifact", str(onnx_only), "-o", str(tmp_path / "fused.bmp")]
    _fails(args, capsys, "cannot write '.bmp'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["artifact"]


@pytest.mark.parametrize("where", ["missing-folder", "folder-is-a-file"])
def test_unwritable_output_is_refused_before_capturing(
    onnx_only: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    out = tmp_path / "nowhere" / "f.jpg" if where == "missing-folder" else blocker / "f.jpg"
    camera_args = ["--source", "simulated", "--artifact", str(onnx_only), "-o", str(out)]
    _fails(camera_args, capsys, "does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["artifact", "blocker"]


def test_files_source_needs_input(
    onnx_only: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "f.jpg")
    _fails(["--source", "files", "--artifact", str(onnx_only), "-o", out], capsys, "needs --input")
    args = ["--source", "simulated", "--input", str(COFFEE), "--artifact", str(onnx_only), "-o", out]
    _fails(args, capsys, "does not go with --source simulated")


# --------------------------------------------------------------------------------------- install files


def test_pi_requirements_pin_what_the_project_pins() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["deploy"]]
    declared += project["optional-dependencies"]["litert"] + project["optional-dependencies"]["onnx-runtime"]
    pins = dict(line.split("==") for line in declared if "==" in line)
    lines = (REPO / "rpi" / "requirements.txt").read_text().splitlines()
    required = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    for name, version in pins.items():
        assert required.get(name) == version, f"rpi/requirements.txt: {name} should be =={version}"
    assert not any(name.startswith(("torch", "executorch")) for name in required)


def test_every_camera_implements_the_protocol() -> None:
    from edgemef.capture.camera import Camera
    from edgemef.capture.picamera2_camera import Picamera2Camera
    from edgemef.capture.webcam_camera import WebcamCamera

    wanted = {name for name in vars(Camera) if not name.startswith("_")} - {"name"}
    for camera in (Picamera2Camera, WebcamCamera, SimulatedCamera):
        assert wanted <= set(vars(camera)), (camera.__name__, wanted - set(vars(camera)))


def test_install_script_and_service_are_consistent() -> None:
    tomllib = pytest.importorskip("tomllib")
    assert subprocess.run(["bash", "-n", str(REPO / "rpi" / "install.sh")]).returncode == 0
    service = (REPO / "rpi" / "edgemef-capture.service").read_text()
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["edgemef-capture"] == "edgemef.capture.cli:main"
    exec_start = next(line for line in service.splitlines() if line.startswith("ExecStart="))
    assert "@VENV@/bin/edgemef-capture" in exec_start and "--loop" in exec_start
    from edgemef.capture.cli import build_parser

    options = {o for action in build_parser()._actions for o in action.option_strings}
    used = set(re.findall(r"(--[a-z-]+)", exec_start))
    assert used <= options, used - options
