"""One IPL tile graph per artifact, timed in its runtime, the artifacts interleaved in one run.

Every artifact's *full* tile graph (``1 x 3N x T x T`` -> fused tile + attention weights) runs on the same
random tile; after two warm-up calls each, the artifacts take turns, ``--runs`` rounds, so a busy machine
slows them alike. Prints the median per artifact (ms) and its ratio to the first one given. The contracts'
own latency figures were measured at conversion time, under whatever load the machine had then.

    python benchmarks/ipl_tiles.py dist/rpi/ipl-fp32-t256.tflite dist/rpi/ipl-int8-t256.tflite \\
        dist/android/ipl-fp32-t256.pte dist/android/ipl-int8-t256.pte \\
        dist/onnx/ipl-fp32-t256.onnx dist/onnx/ipl-int8-t256.onnx
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from edgemef.runtime.backends import available_threads, open_backend
from edgemef.runtime.contract import read_contract


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifacts", nargs="+", type=Path, help="IPL artifacts (.tflite, .pte, .onnx)")
    parser.add_argument("--runs", type=int, default=30, help="rounds over all artifacts (default 30)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all available)")
    args = parser.parse_args()
    threads = args.threads or available_threads()
    backends = {}
    for artifact in args.artifacts:
        contract = read_contract(artifact)
        if contract.family != "ipl":
            parser.error(f"{artifact}: a {contract.family} artifact, not IPL")
        backends[artifact] = open_backend(artifact, contract, threads)
    shape = read_contract(args.artifacts[0]).inputs[0].shape
    tile = np.random.default_rng(0).random(shape, dtype=np.float32)
    for backend in backends.values():
        backend.run(tile)
        backend.run(tile)
    times: dict[Path, list[float]] = {artifact: [] for artifact in backends}
    for _ in range(args.runs):
        for artifact, backend in backends.items():
            start = time.perf_counter()
            backend.run(tile)
            times[artifact].append((time.perf_counter() - start) * 1000.0)
    first = statistics.median(times[args.artifacts[0]])
    print(f"one {shape[-2]}x{shape[-1]} tile, {threads} threads, medians of {args.runs} interleaved rounds")
    print("| artifact | ms | vs first |")
    print("|---|---|---|")
    for artifact, values in times.items():
        median = statistics.median(values)
        print(f"| `{artifact}` | {median:.1f} | {median / first:.2f}x |")


if __name__ == "__main__":
    main()
