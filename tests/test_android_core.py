"""The Android app's Java core (android_demo/core) against golden files the Python side writes now from a
real bracket: JUnit 5 in a JVM (javac, the JUnit console and Android's org.json from Debian's packages,
which .ci/run installs)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / "android_demo" / "core"
JARS = Path("/usr/share/java")
NEEDED = ("json-android.jar", "junit-jupiter-api.jar", "junit-platform-console-standalone.jar")


def _toolchain() -> None:
    missing = [name for name in NEEDED if not (JARS / name).is_file()]
    if shutil.which("javac") is None or missing:
        pytest.skip(
            f"the Java toolchain is missing ({', '.join(missing) or 'javac'}): apt-get install "
            "default-jdk-headless junit5 libandroid-json-org-java (.ci/run does)"
        )


@pytest.mark.slow
def test_java_core_agrees_with_python(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _toolchain()
    sys.path.insert(0, str(REPO / "android_demo" / "tools"))
    try:
        from make_golden import make_golden
    finally:
        sys.path.remove(str(REPO / "android_demo" / "tools"))
    golden = make_golden(tmp_path / "golden")
    classes = tmp_path / "classes"
    sources = sorted(map(str, CORE.glob("src/*/java/**/*.java")))
    compile_path = f"{JARS / 'json-android.jar'}:{JARS / 'junit-jupiter-api.jar'}"
    built = subprocess.run(
        ["javac", "--release", "8", "-Xlint:-options", "-cp", compile_path, "-d", str(classes), *sources],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    ran = subprocess.run(
        [
            "java",
            f"-Dedgemef.golden={golden}",
            "-jar",
            str(JARS / "junit-platform-console-standalone.jar"),
            "--class-path",
            f"{classes}:{JARS / 'json-android.jar'}",
            "--select-package",
            "org.edgemef.core",
            "--disable-banner",
            "--details=tree",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    passed = int(re.search(r"(\d+) tests successful", ran.stdout).group(1))
    failed = int(re.search(r"(\d+) tests failed", ran.stdout).group(1))
    with capsys.disabled():  # the JUnit console's own summary is not a line CI reads: say it plainly
        print(f"\njava: {passed} passed, {failed} failed")
    assert ran.returncode == 0 and failed == 0 and passed >= 9, ran.stdout[-4000:]
    # the report the Java core wrote is a valid profile report, rendered by edgemef profile --render
    jsonschema = pytest.importorskip("jsonschema")
    from edgemef.cli.main import main
    from edgemef.profile.schema import REPORT_SCHEMA

    report = golden / "android_report.json"
    jsonschema.validate(json.loads(report.read_text()), REPORT_SCHEMA)
    assert main(["profile", "--render", str(report), "--report", str(tmp_path / "android.html")]) == 0
    assert "android_demo benchmark mode" in (tmp_path / "android.html").read_text()
