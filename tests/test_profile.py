"""edgemef profile: the report validates against its schema, the per-operator figures add up, the HTML and
the claims' verdicts say what was measured where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgemef.cli.main import main
from edgemef.profile import REPORT_SCHEMA, profile, render
from edgemef.profile.claims import all_claims, judge

jsonschema = pytest.importorskip("jsonschema")

#: ExecuTorch's top-level events (portable kernel calls + delegate calls) vs its whole Method::execute
OPERATOR_SUM_TOLERANCE = 0.15


@pytest.fixture(scope="module")
def artifacts(converted) -> dict[str, Path]:
    return {target: converted(target, "int8", 9) for target in ("onnx", "android", "rpi")}


@pytest.mark.slow
@pytest.mark.parametrize("target", ["onnx", "android", "rpi"])
def test_report_matches_schema(artifacts: dict[str, Path], target: str) -> None:
    report = profile(artifacts[target], (320, 240), runs=3, sweep=[(160, 120), (320, 240)])
    jsonschema.validate(report, REPORT_SCHEMA)
    assert len(report["end_to_end"]["runs_ms"]) == 3
    parts = sum(report["stages"][s]["median_ms"] for s in report["stages"])
    assert report["end_to_end"]["min_ms"] <= parts * 1.5
    assert report["operators"]["available"] == (target != "rpi")
    assert [row["resolution"] for row in report["sweep"]] == [[160, 120], [320, 240]]
    page = render(report)
    assert page.count("<svg") == 3 + (target != "rpi") and "not judged" in page  # rpi: no per-op chart


@pytest.mark.slow
def test_executorch_operator_times_add_up(artifacts: dict[str, Path]) -> None:
    report = profile(artifacts["android"], (320, 240), runs=5, sweep=[])
    ops = report["operators"]
    assert ops["source"].startswith("ExecuTorch ETDump")
    assert abs(ops["total_ms"] - ops["inference_ms"]) <= OPERATOR_SUM_TOLERANCE * ops["inference_ms"] + 0.5
    assert any(o["delegated"] and "Fully Connected" in o["name"] for o in ops["top"])


def test_claims_are_judged_only_on_the_same_kind_of_machine() -> None:
    desktop = judge(all_claims(), "lut-distill", "desktop", 50.0)
    assert all(v["verdict"].startswith("not judged") for v in desktop)
    pi = {v["claim"]: v["verdict"] for v in judge(all_claims(), "lut-distill", "raspberry-pi", 80.0)}
    assert pi["fuses a bracket in 89 ms on a Raspberry Pi"].startswith("met")
    slow = {v["claim"]: v["verdict"] for v in judge(all_claims(), "lut-distill", "raspberry-pi", 120.0)}
    assert slow["fuses a bracket in 89 ms on a Raspberry Pi"].startswith("missed")


@pytest.mark.slow
def test_cli_writes_report_and_renders_device_json(
    artifacts: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    args = [
        "profile",
        str(artifacts["onnx"]),
        "--resolution",
        "320x240",
        "--runs",
        "2",
        "--sweep",
        "",
        "--report",
    ]
    assert main([*args, str(out)]) == 0
    assert "end to end" in capsys.readouterr().out
    data = json.loads(out.with_suffix(".json").read_text())
    data["machine"]["kind"] = "raspberry-pi"  # as the Pi runner would write it
    device = tmp_path / "pi.json"
    device.write_text(json.dumps(data))
    assert main(["profile", "--render", str(device), "--report", str(tmp_path / "pi.html")]) == 0
    assert "a Raspberry Pi" in (tmp_path / "pi.html").read_text()


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "x.onnx", "--resolution", "big"]) == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err
    assert main(["profile"]) == 2
    assert "not both" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1}')
    assert main(["profile", "--render", str(bad), "--report", str(tmp_path / "o.html")]) == 2
    assert "not a valid profile report" in capsys.readouterr().err
    assert not (tmp_path / "o.html").exists()


def test_adb_without_adb_or_a_device_is_one_line(tmp_path: Path) -> None:
    """``edgemef profile --adb`` says in one line what is missing (exit 2): adb itself, or a device."""
    import os
    import shutil
    import subprocess
    import sys

    from edgemef.artifacts import ARTIFACTS_DIR

    artifact = str(ARTIFACTS_DIR / "lut-student-int8-g33.tflite")
    edgemef = str(Path(sys.executable).with_name("edgemef"))
    no_adb = {**os.environ, "PATH": str(tmp_path)}  # a PATH with nothing on it
    done = subprocess.run([edgemef, "profile", "--adb", artifact], capture_output=True, text=True, env=no_adb)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "adb not found" in done.stderr
    adb = shutil.which("adb")
    if adb is None:
        return
    try:
        done = subprocess.run(
            [edgemef, "profile", "--adb", artifact], capture_output=True, text=True, timeout=60
        )
        if "no Android device" not in done.stderr:
            pytest.skip("an Android device is connected: this test checks the no-device path")
        assert done.returncode == 2 and done.stderr.count("\n") == 1
    finally:
        subprocess.run([adb, "kill-server"], capture_output=True, timeout=30)
