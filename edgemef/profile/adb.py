"""``edgemef profile --adb``: profile an artifact on an Android phone or emulator through the demo app.

The app's benchmark mode (``android_demo``) is started over adb with the artifact and a bracket pushed to
the device; it fuses the bracket ``runs`` times after ``warmup`` runs and writes one report in the profile
schema (its Java core's ``ProfileReport``), which is pulled, checked, given the papers' claims judged
against the device's kind (an emulator is ``android-emulator``, anything else ``android-device``) and
rendered like a desktop report. Every step that can fail says what to do in one line.

The interface with the app (kept in step with ``android_demo``): the activity :data:`BENCHMARK_ACTIVITY`,
started with ``--es artifact PATH --es bracket DIR --es report PATH --ei runs N --ei warmup W``; the artifact,
its contract and the bracket are pushed under :data:`DEVICE_DIR`, the report is written (atomically) under
:data:`REPORT_DIR`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from edgemef.errors import EdgemefError

APP_PACKAGE = "org.edgemef.demo"
BENCHMARK_ACTIVITY = f"{APP_PACKAGE}/.BenchmarkActivity"
DEVICE_DIR = "/data/local/tmp/edgemef"
#: where the app writes its report: its own external files folder (an app cannot write /data/local/tmp;
#: adb's shell reads both)
REPORT_DIR = f"/sdcard/Android/data/{APP_PACKAGE}/files"


class AdbError(EdgemefError):
    """No adb, no device, no app, or a benchmark that did not report."""


def adb(serial: str | None = None) -> list[str]:
    """The adb command line for ``serial`` (or the only device).

    Raises:
        AdbError: adb is not installed.
    """
    found = shutil.which("adb")
    if found is None:
        raise AdbError(
            "adb not found: install Android's platform tools (Debian: apt-get install adb) and connect a "
            "phone or start an emulator"
        )
    return [found, *(["-s", serial] if serial else [])]


def _run(command: Sequence[str], what: str, timeout: float = 120.0) -> str:
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AdbError(f"{what}: adb gave no answer in {timeout:.0f} s") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise AdbError(f"{what}: {detail[-1] if detail else f'adb exited with {done.returncode}'}")
    return done.stdout


def connected(command: list[str]) -> None:
    """Raises :class:`AdbError` in one line unless a device answers."""
    try:
        state = _run([*command, "get-state"], "no Android device or emulator", timeout=20).strip()
    except AdbError as exc:
        raise AdbError(f"{exc} (adb devices lists none ready; connect one or pass --serial)") from None
    if state != "device":
        raise AdbError(f"the Android device is {state!r}, not ready (adb get-state)")


def machine(command: list[str]) -> tuple[str, str]:
    """(kind, description) of the connected device, named as it is."""

    def prop(name: str) -> str:
        return _run([*command, "shell", "getprop", name], f"getprop {name}").strip()

    kind = "android-emulator" if prop("ro.kernel.qemu") == "1" else "android-device"
    description = (
        f"{prop('ro.product.manufacturer')} {prop('ro.product.model')}, Android "
        f"{prop('ro.build.version.release')} (API {prop('ro.build.version.sdk')}), "
        f"{prop('ro.product.cpu.abi')}"
    )
    return kind, description


def profile_on_device(
    artifact: Path,
    bracket: Sequence[Path],
    *,
    serial: str | None = None,
    install: Path | None = None,
    runs: int = 10,
    warmup: int = 2,
    timeout_s: float = 600.0,
) -> dict:
    """Run the app's benchmark mode on ``artifact`` and ``bracket``; the report (profile schema).

    Raises:
        AdbError: no adb, no device, the app missing, or no report in time.
        ArtifactError: a bad artifact (checked before anything is pushed).
    """
    from edgemef.profile.claims import all_claims, judge
    from edgemef.runtime.contract import contract_path, read_contract

    contract = read_contract(artifact)
    command = adb(serial)
    connected(command)
    if install is not None:
        _run([*command, "install", "-r", str(install)], f"installing {install}", timeout=300)
    if not _run([*command, "shell", "pm", "path", APP_PACKAGE], "checking for the app").strip():
        raise AdbError(
            f"the edgemef demo app ({APP_PACKAGE}) is not on the device: build android_demo and pass "
            "--install APP.apk"
        )
    remote = f"{DEVICE_DIR}/{int(time.time())}"
    _run([*command, "shell", "mkdir", "-p", f"{remote}/bracket"], "preparing the device folder")
    for local in (artifact, contract_path(artifact)):
        _run([*command, "push", str(local), f"{remote}/{local.name}"], f"pushing {local.name}", timeout=300)
    for frame in bracket:
        _run([*command, "push", str(frame), f"{remote}/bracket/{frame.name}"], f"pushing {frame.name}")
    report_path = f"{REPORT_DIR}/report-{remote.rsplit('/', 1)[-1]}.json"
    _run(
        [
            *command, "shell", "am", "start", "-W", "-n", BENCHMARK_ACTIVITY,
            "--es", "artifact", f"{remote}/{artifact.name}", "--es", "bracket", f"{remote}/bracket",
            "--es", "report", report_path, "--ei", "runs", str(runs), "--ei", "warmup", str(warmup),
        ],
        "starting the benchmark",
    )  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while True:
        listing = subprocess.run([*command, "shell", "ls", report_path], capture_output=True, text=True)
        if listing.returncode == 0 and report_path in listing.stdout:
            break
        if time.monotonic() > deadline:
            raise AdbError(
                f"no report at {report_path} after {timeout_s:.0f} s (adb logcat -s edgemef says why)"
            )
        time.sleep(1.0)
    report = json.loads(_run([*command, "shell", "cat", report_path], "reading the report"))
    kind, description = machine(command)
    report["machine"]["kind"], report["machine"]["description"] = kind, description
    report["claims"] = judge(all_claims(), contract.family, kind, float(report["end_to_end"]["median_ms"]))
    return report
