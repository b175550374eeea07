"""What a user waits for: whole processes, wall time and peak memory, against OpenCV Mertens in the same run.

    python benchmarks/whole_process.py [--runs 5] [--in-process-runs 9] [--json FILE]

Each whole-process figure is the median of ``--runs`` fresh processes (interpreter start, imports, decoding
three JPEGs, fusion, encoding, writing), and the peak resident memory of the process. Compared:
``edgemef --help``; ``edgemef fuse`` with its default (the shipped int8 LiteRT artifact of the default
model); and a five-line OpenCV Mertens script on the same JPEG brackets (1536x1024 and 3840x2560,
3 exposures, synthetic).

Then in-process at 3840x2160: the shipped default artifact's stages (thumbnails, predictor, apply; medians of
``--in-process-runs`` after a warm-up) and ``cv2.createMergeMertens().process`` on the same frames (median of
``MERTENS_RUNS``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from edgemef.artifacts import shipped_artifact
from edgemef.bench import machine_description, synthetic_bracket
from edgemef.models.registry import default_models
from edgemef.runtime import open_artifact

MERTENS = """
import sys, cv2, numpy as np
frames = [cv2.imread(p) for p in sys.argv[1:4]]
fused = cv2.createMergeMertens().process(frames)
cv2.imwrite(sys.argv[4], np.clip(fused * 255 + 0.5, 0, 255).astype(np.uint8))
"""
SIZES = {"1536x1024": (1536, 1024), "3840x2560": (3840, 2560)}
#: in-process Mertens runs (about 1 s each at 3840x2160; its time varies 10 % between runs here)
MERTENS_RUNS = 5


#: Measured processes are forked by this small launcher, not by the benchmark: a process's peak RSS
#: (``ru_maxrss``) starts at the RSS of the process that spawned it (Linux carries the old memory's high-water
#: mark across ``exec``, and ``subprocess`` spawns with ``vfork``), so children of this benchmark, which holds
#: OpenCV, the runtime and the frames, would report at least its own ~115 MB.
LAUNCHER = """
import json, os, sys, time
for line in sys.stdin:
    command, errors = json.loads(line)
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        os.dup2(os.open(errors, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
        try:
            os.execv(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    print(json.dumps([wall, usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status)]), flush=True)
"""


class Launcher:
    """A small process (``python -S``, a few MB) that runs each measured command and reports its wall time,
    peak RSS and exit code."""

    def __init__(self, folder: Path) -> None:
        self.errors = folder / "stderr.txt"
        self.process = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def run_once(self, command: list[str]) -> tuple[float, int]:
        """(wall seconds, peak RSS bytes) of one process."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps([command, str(self.errors)]) + "\n")
        self.process.stdin.flush()
        wall, peak, code = json.loads(self.process.stdout.readline())
        if code:
            raise SystemExit(f"{' '.join(command)} failed: {self.errors.read_text()[-500:]}")
        return wall, peak

    def measure(self, command: list[str], runs: int) -> dict[str, float]:
        self.run_once(command)  # warm the file cache
        results = [self.run_once(command) for _ in range(runs)]
        return {
            "wall_s": round(statistics.median(r[0] for r in results), 3),
            "peak_rss_mb": round(statistics.median(r[1] for r in results) / 1e6, 1),
        }

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def in_process(runs: int) -> dict[str, float]:
    """Median milliseconds of the default artifact's stages and of Mertens on one 3840x2160 bracket."""
    frames = synthetic_bracket(3840, 2160)
    artifact = shipped_artifact(default_models()[0].name, len(frames))
    if artifact is None:
        raise SystemExit("no shipped artifact for the default model: see edgemef/artifacts")
    runtime = open_artifact(artifact)
    runtime.warm_up()
    runtime.fuse_timed(frames)
    stages: dict[str, list[float]] = {}
    for _ in range(runs):
        _, timings = runtime.fuse_timed(frames)
        for stage, ms in timings.items():
            stages.setdefault(stage, []).append(ms)
    result = {stage: round(statistics.median(ms), 1) for stage, ms in stages.items()}
    result["total"] = round(statistics.median(map(sum, zip(*stages.values(), strict=True))), 1)
    merge = cv2.createMergeMertens()
    mertens = []
    for _ in range(MERTENS_RUNS):
        start = time.perf_counter()
        merge.process(list(frames))
        mertens.append((time.perf_counter() - start) * 1000.0)
    result["mertens"] = round(statistics.median(mertens), 1)
    result["speed_up"] = round(result["mertens"] / result["total"], 1)
    return {"artifact": artifact.name, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--in-process-runs", type=int, default=9)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    edgemef = [str(Path(sys.executable).with_name("edgemef"))]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        launcher = Launcher(folder)
        measure = launcher.measure
        rows = [{"what": "edgemef --help", **measure([*edgemef, "--help"], args.runs)}]
        script = folder / "mertens.py"
        script.write_text(MERTENS)
        for label, (width, height) in SIZES.items():
            frames = synthetic_bracket(width, height)
            paths = []
            for index, frame in enumerate(frames):
                path = folder / f"{label}_{index}.jpg"
                cv2.imwrite(str(path), frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
                paths.append(str(path))
            ours = measure([*edgemef, "fuse", *paths, "-o", str(folder / "ours.jpg")], args.runs)
            theirs = measure([sys.executable, str(script), *paths, str(folder / "mertens.jpg")], args.runs)
            rows.append(
                {
                    "what": f"fuse {label}, 3 JPEGs",
                    **ours,
                    "mertens_wall_s": theirs["wall_s"],
                    "mertens_peak_rss_mb": theirs["peak_rss_mb"],
                    "wall_ratio": round(ours["wall_s"] / theirs["wall_s"], 2),
                    "rss_ratio": round(ours["peak_rss_mb"] / theirs["peak_rss_mb"], 2),
                }
            )
        launcher.close()
    machine = machine_description()
    print(f"{machine['cpu']}, {machine['cores']} cores; medians of {args.runs} processes")
    header = "| what | edgemef wall s | peak RSS MB | Mertens script wall s | peak RSS MB | wall ratio |"
    print(header + " RSS ratio |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['what']} | {r['wall_s']:.2f} | {r['peak_rss_mb']:.0f} | {r.get('mertens_wall_s', '-')} | "
            f"{r.get('mertens_peak_rss_mb', '-')} | {r.get('wall_ratio', '-')} | {r.get('rss_ratio', '-')} |"
        )
    inside = in_process(args.in_process_runs)
    shown = ("thumbnails", "predictor", "apply", "total")
    stages = ", ".join(f"{k} {inside[k]} ms" for k in shown if k in inside)
    print(
        f"in-process 3840x2160 ({inside['artifact']}, medians of {args.in_process_runs}): {stages}; "
        f"Mertens {inside['mertens']} ms (median of {MERTENS_RUNS}; {inside['speed_up']}x)"
    )
    if args.json is not None:
        report = {"machine": machine, "runs": args.runs, "rows": rows, "in_process": inside}
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
