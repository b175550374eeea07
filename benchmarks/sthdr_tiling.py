"""How much STHDR loses when it runs in tiles (as its exported artifacts do) instead of on the whole frame.

    python benchmarks/sthdr_tiling.py [--maps ../shared/data/hdr] [--size 1024] [--tiles 512:128:32 256:64:16]

The network's instance normalisation and global context see one tile, so tiles are not exactly the whole
frame. On one validation bracket of each of the 11 validation maps (seed 0, ``--size`` pixels, larger than
a tile), the shipped weights in PyTorch merge the whole frame and each tiling (``tile:overlap:halo``,
through the artifacts' tiler); printed: PSNR-mu and PSNR-L of each against the ground truth, and PSNR-mu of
the tiled radiance against the whole frame's (medians over brackets). docs/models/sthdr.md has the table.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np

from converters.graphs import TorchRunner
from edgemef.data.hdr_brackets import (
    HdrBracketConfig,
    find_radiance_maps,
    split_radiance_maps,
    validation_brackets,
)
from edgemef.metrics import psnr_l, psnr_mu
from edgemef.models.sthdr.export import TileGraph
from edgemef.models.sthdr.fusion import SthdrFusion
from edgemef.models.sthdr.runtime import fuse_tiled
from edgemef.runtime.cached_tiler import TilingSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maps", type=Path, default=Path("../shared/data/hdr"))
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--tiles", nargs="+", default=["512:128:32", "512:64:16", "256:64:16"])
    args = parser.parse_args()
    whole = SthdrFusion()
    graph = TorchRunner(TileGraph(whole.model))
    multiple = whole.model.config.size_multiple
    tilings = {}
    for spec in args.tiles:
        tile, overlap, halo = (int(v) for v in spec.split(":"))
        tilings[spec] = TilingSettings(tile=tile, overlap=overlap, halo=halo, scale=multiple)
    _, validation = split_radiance_maps(find_radiance_maps(args.maps))
    config = HdrBracketConfig(size=args.size)
    rows: dict[str, list[tuple[float, float, float]]] = {"whole frame": [], **{k: [] for k in tilings}}
    for bracket in validation_brackets(validation, config, per_map=1, seed=0):
        truth = bracket.radiance
        reference = whole.fuse(bracket.frames, bracket.exposure_times)
        rows["whole frame"].append((psnr_mu(reference, truth), psnr_l(reference, truth), float("inf")))
        times = np.asarray(bracket.exposure_times, np.float32) / bracket.exposure_times[0]
        for spec, settings in tilings.items():
            tiled, _ = fuse_tiled(graph, settings, bracket.frames, times)  # type: ignore[arg-type]
            rows[spec].append((psnr_mu(tiled, truth), psnr_l(tiled, truth), psnr_mu(tiled, reference)))
        print(f"{bracket.source}: done", flush=True)
    print(f"\n{len(rows['whole frame'])} brackets of {args.size}x{args.size}, medians")
    print("| run (tile:overlap:halo) | PSNR-mu | PSNR-L | PSNR-mu vs whole frame |")
    print("|---|---|---|---|")
    for name, values in rows.items():
        mu, lin, vs = (statistics.median(column) for column in zip(*values, strict=True))
        print(f"| {name} | {mu:.2f} | {lin:.2f} | {'-' if vs == float('inf') else f'{vs:.2f}'} |")


if __name__ == "__main__":
    main()
