#!/usr/bin/env python3
"""Prove the Raspberry Pi install without a Pi: an arm64 Debian under qemu-user runs the files replay.

1. builds an arm64 Debian userland with debootstrap from Debian's packages (trixie: the base of today's
   64-bit Raspberry Pi OS, Python 3.13; ``--suite bookworm`` for the older one, Python 3.11), the arm64
   binaries running through qemu-user-static and binfmt_misc;
2. runs ``rpi/install.sh`` inside it (apt skipped: Debian has no python3-picamera2), which installs exactly
   ``rpi/requirements.txt`` from PyPI's aarch64 wheels (downloaded on the host for the userland's Python,
   installed offline inside, wheels only) and edgemef from this checkout into ``~/edgemef-venv``, and checks
   that torch cannot be imported there;
3. runs ``rpi/capture_and_fuse.py --source files`` inside it with each artifact given (.tflite, .onnx), and
   the same on this host;
4. compares the arm64 and host fused images (PNG, lossless) and writes ``result.json``.

Not part of the test suite (it needs root, network access to Debian and PyPI, and ~15 minutes). Timings
under qemu are an emulation of an arm64 CPU on this one, NOT Raspberry Pi timings.

    sudo apt-get install debootstrap qemu-user-static
    sudo .venv/bin/python rpi/prove_on_arm64.py dist/rpi/lut-student-int8-g33.tflite \
        dist/onnx/lut-student-int8-g33.onnx
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
BRACKET = REPO / "examples" / "brackets" / "coffee"
BINFMT_CONF = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")
BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
MIRROR = "http://deb.debian.org/debian"
VENV = "/root/edgemef-venv"  # where rpi/install.sh puts it for root
PASS_PSNR_DB = 40.0  # arm64 and x86 XNNPACK kernels may round int8 differently; pixels must still agree


def say(message: str) -> None:
    print(f"[prove-arm64 {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess:
    say("$ " + " ".join(command))
    return subprocess.run(command, check=True, **kwargs)  # type: ignore[call-overload]


def ensure_binfmt() -> None:
    """Register qemu-aarch64 with binfmt_misc so the kernel runs arm64 binaries (and chroot works)."""
    if not (BINFMT_DIR / "status").exists():
        run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT_DIR)])
    if (BINFMT_DIR / "qemu-aarch64").exists():
        return
    if not BINFMT_CONF.exists():
        sys.exit("qemu-user-static is not installed: sudo apt-get install qemu-user-static debootstrap")
    (BINFMT_DIR / "register").write_text(BINFMT_CONF.read_text().strip())


def build_rootfs(rootfs: Path, suite: str) -> None:
    if (rootfs / "usr" / "bin" / "python3").exists():
        say(f"reusing {rootfs}")
        return
    if shutil.which("debootstrap") is None:
        sys.exit("debootstrap is not installed: sudo apt-get install debootstrap qemu-user-static")
    packages = "python3,python3-venv,python3-dev,gcc,ca-certificates"  # gcc: install.sh builds the C kernels
    run(
        [
            "debootstrap",
            "--arch=arm64",
            "--variant=minbase",
            f"--include={packages}",
            suite,
            str(rootfs),
            MIRROR,
        ]
    )


def python_version(rootfs: Path) -> str:
    found = sorted(glob.glob(str(rootfs / "usr" / "bin" / "python3.[0-9]*")))
    names = [Path(p).name for p in found if Path(p).name.replace("python", "").replace(".", "").isdigit()]
    if not names:
        sys.exit(f"{rootfs}: no python3 in the arm64 userland")
    return names[-1].replace("python", "")


def download_wheels(wheels: Path, version: str) -> None:
    """aarch64 wheels of the Pi requirements for the userland's Python, and edgemef's own wheel."""
    wheels.mkdir(parents=True, exist_ok=True)
    tag = version.replace(".", "")
    platforms = [f"manylinux_2_{minor}_aarch64" for minor in (17, 24, 26, 27, 28, 31, 34, 35, 36)]
    command = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--no-deps", "-d", str(wheels)]
    for platform in [*platforms, "manylinux2014_aarch64"]:
        command += ["--platform", platform]
    command += ["--python-version", version, "--implementation", "cp", "--abi", f"cp{tag}", "--abi", "abi3"]
    command += ["--abi", "none", "-r", str(REPO / "rpi" / "requirements.txt")]
    run(command)
    # what building edgemef from source needs (pyproject's build-system), for install.sh's 'pip install .'
    build = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "-d", str(wheels)]
    run([*build, "setuptools>=68", "wheel"])


def chroot(rootfs: Path, *command: str, capture: bool = False) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
    return run(["chroot", str(rootfs), *command], env=env, capture_output=capture, text=capture)


def install(rootfs: Path) -> str:
    """Run ``rpi/install.sh`` inside the userland, offline from the downloaded wheels (no apt: Debian has no
    python3-picamera2; the userland has gcc and python3-dev, what install.sh would apt-install), check the
    environment is aarch64 and has no torch, and return which LUT kernel edgemef runs there (``c``: the
    compiled kernel was built)."""
    source = rootfs / "work" / "edgemef"
    shutil.rmtree(source, ignore_errors=True)
    skip = shutil.ignore_patterns(".git", ".venv", "dist", "runs", "build", "__pycache__", "*.egg-info")
    shutil.copytree(REPO, source, ignore=skip)
    environment = "EDGEMEF_SKIP_APT=1 EDGEMEF_PIP_ARGS='--no-index --find-links /wheels'"
    chroot(rootfs, "/bin/bash", "-c", f"cd /work/edgemef && {environment} bash rpi/install.sh")
    probe = chroot(
        rootfs,
        f"{VENV}/bin/python",
        "-c",
        "import importlib.util as u, platform; from edgemef.lut import kernel_name; "
        "print(platform.machine(), u.find_spec('torch') is None, kernel_name())",
        capture=True,
    )
    machine, no_torch, kernel = probe.stdout.split()[-3:]
    if machine != "aarch64" or no_torch != "True":
        sys.exit(f"unexpected userland: machine {machine}, torch absent: {no_torch}")
    return kernel


def replay(python: list[str], script: str, artifact: str, bracket: str, out: str, report: str) -> None:
    run([*python, script, "--source", "files", "--input", bracket, "--artifact", artifact, "-o", out,
         "--runs", "3", "--report", report])  # fmt: skip


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def prove_artifact(args: argparse.Namespace, artifact: Path, work: Path) -> dict[str, object]:
    """Replay the bracket with ``artifact`` in the arm64 userland and on the host; compare the images."""
    stem = artifact.stem + artifact.suffix.replace(".", "_")  # the .tflite and .onnx may share a stem
    (work / stem).mkdir()
    for path in (artifact, artifact.with_suffix(".json")):
        shutil.copy(path, work / stem / path.name)
    tick = time.time()
    inside = ["chroot", str(args.rootfs), f"{VENV}/bin/python"]
    replay(inside, "/work/capture_and_fuse.py", f"/work/{stem}/{artifact.name}", "/work/bracket",
           f"/work/{stem}_arm64.png", f"/work/{stem}_arm64.json")  # fmt: skip
    emulated_s = time.time() - tick
    host_png = args.out / f"{stem}_host.png"
    replay([sys.executable], str(REPO / "rpi" / "capture_and_fuse.py"), str(artifact), str(BRACKET),
           str(host_png), str(args.out / f"{stem}_host.json"))  # fmt: skip
    shutil.copy(work / f"{stem}_arm64.png", args.out / f"{stem}_arm64.png")
    shutil.copy(work / f"{stem}_arm64.json", args.out / f"{stem}_arm64.json")
    arm = cv2.imread(str(args.out / f"{stem}_arm64.png"))
    host = cv2.imread(str(host_png))
    arm_report = json.loads((args.out / f"{stem}_arm64.json").read_text())
    host_report = json.loads((args.out / f"{stem}_host.json").read_text())
    row = {
        "artifact": artifact.name,
        "psnr_arm64_vs_host_db": round(psnr(arm, host), 2),
        "max_abs_diff": int(np.abs(arm.astype(int) - host.astype(int)).max()),
        "identical": bool(np.array_equal(arm, host)),
        "fusion_median_ms_under_qemu": arm_report["end_to_end"]["median_ms"],
        "fusion_median_ms_host": host_report["end_to_end"]["median_ms"],
        "replay_wall_s_under_qemu": round(emulated_s, 1),
    }
    row["passed"] = row["psnr_arm64_vs_host_db"] >= PASS_PSNR_DB
    say(json.dumps(row))
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("artifacts", nargs="+", type=Path, help=".tflite / .onnx artifacts (with contracts)")
    parser.add_argument(
        "--rootfs", type=Path, default=REPO / "build" / "rpi-arm64", help="the arm64 userland"
    )
    parser.add_argument(
        "--suite", default="trixie", help="Debian suite (trixie: Pi OS 13; bookworm: Pi OS 12)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "build" / "prove-arm64", help="results folder")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (debootstrap and chroot need it)")
    for artifact in args.artifacts:
        if not artifact.exists() or not artifact.with_suffix(".json").exists():
            sys.exit(f"{artifact}: missing artifact or contract; make it with 'edgemef convert --target rpi'")
    started = time.time()
    ensure_binfmt()
    build_rootfs(args.rootfs, args.suite)
    version = python_version(args.rootfs)
    download_wheels(args.rootfs / "wheels", version)
    kernel = install(args.rootfs)
    work = args.rootfs / "work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(BRACKET, work / "bracket")
    shutil.copy(REPO / "rpi" / "capture_and_fuse.py", work / "capture_and_fuse.py")
    args.out.mkdir(parents=True, exist_ok=True)
    # No /proc or /sys of the host inside: with the x86 host's CPU description visible, the arm64 runtimes'
    # CPU-feature detection crashed under qemu (SIGSEGV); qemu-user answers what they need without them.
    results = [prove_artifact(args, artifact, work) for artifact in args.artifacts]
    summary = {
        "suite": args.suite,
        "python": version,
        "requirements": (REPO / "rpi" / "requirements.txt").name,
        "lut_kernel": kernel,
        "results": results,
        "passed": all(row["passed"] for row in results),
        "minutes": round((time.time() - started) / 60, 1),
        "note": "timings under qemu-user emulate an arm64 CPU on an x86 host: not Raspberry Pi timings",
    }
    (args.out / "result.json").write_text(json.dumps(summary, indent=2) + "\n")
    say(f"{'PASSED' if summary['passed'] else 'FAILED'}: {args.out / 'result.json'}")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
