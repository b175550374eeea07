"""Convert the shipped student for every target, runtime and precision; print docs/convert.md's conversion
table.

    python benchmarks/convert_matrix.py [--grid 33] [--out dist/matrix]

Each row is one ``edgemef convert`` (export, quantization, parity gate in the real runtime, latency), so the
figures are exactly what the contracts say. Latency is the median of 20 network inferences on this machine.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from converters import RUNTIMES, TARGETS, ConvertConfig, convert


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=33)
    parser.add_argument("--out", type=Path, default=Path("dist/matrix"))
    args = parser.parse_args()
    rows = [
        "| target | artifact | precision | size | parity PSNR (worst stack, gate) | predictor latency |",
        "|---|---|---|---|---|---|",
    ]
    for target, spec in TARGETS.items():
        for runtime in spec.runtimes:
            for precision in RUNTIMES[runtime].precisions:
                config = ConvertConfig(
                    target,
                    runtime=runtime,
                    precision=precision,
                    options={"grid": args.grid},
                    out=args.out / target / runtime,
                )
                result = convert(config)
                row = result.summary_row()
                rows.append(
                    f"| {target} | `{result.artifact.name}` | {precision} | {row['size']} | "
                    f"{row['parity PSNR']} | {row['latency']} |"
                )
                print(rows[-1], flush=True)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
