"""The picture of docs/hdr.md: validation brackets made from radiance maps, merged.

    python benchmarks/hdr_examples.py [--maps ../shared/data/hdr] [--out docs/images/hdr_brackets.jpg]

One row per bracket (the first of three validation maps, seed 0, 384 px): the three frames as the camera
wrote them, OpenCV's Debevec merge, STHDR's (the shipped weights) and the ground-truth radiance (all through
the same reinhard-global preview operator), and Mertens' fusion of the same frames (a display image, for the
look). The maps are CC0
(Poly Haven) and BSD-3-Clause (OpenEXR sample images), so the picture may ship.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from edgemef.data.hdr_brackets import (
    HdrBracketConfig,
    find_radiance_maps,
    split_radiance_maps,
    validation_brackets,
)
from edgemef.io.hdr import tonemap_preview
from edgemef.models import create_model

ROOT = Path(__file__).resolve().parents[1]
MAPS = ("openexr_GoldenGate", "polyhaven_brown_photostudio_02", "polyhaven_vestibule")


def label(image: np.ndarray, text: str) -> np.ndarray:
    out = image.copy()
    cv2.rectangle(out, (0, 0), (8 + 9 * len(text), 22), (0, 0, 0), thickness=-1)
    cv2.putText(out, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maps", type=Path, default=ROOT.parent / "shared" / "data" / "hdr")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "hdr_brackets.jpg")
    args = parser.parse_args()
    _, validation = split_radiance_maps(find_radiance_maps(args.maps))
    chosen = [p for p in validation if p.stem in MAPS]
    debevec, sthdr, mertens = create_model("debevec"), create_model("sthdr"), create_model("mertens")
    rows = []
    brackets = validation_brackets(chosen, HdrBracketConfig(size=384), per_map=1, seed=0)
    for bracket in brackets:
        merged = debevec.fuse(bracket.frames, exposure_times=bracket.exposure_times)
        tiles = [
            label(frame, f"t = {t:g}")
            for frame, t in zip(bracket.frames, bracket.exposure_times, strict=True)
        ]
        tiles += [
            label(tonemap_preview(merged), "Debevec (OpenCV)"),
            label(
                tonemap_preview(sthdr.fuse(bracket.frames, exposure_times=bracket.exposure_times)), "STHDR"
            ),
            label(mertens.fuse(bracket.frames), "Mertens (display)"),
            label(tonemap_preview(bracket.radiance), "ground truth"),
        ]
        rows.append(np.concatenate(tiles, axis=1))
    picture = cv2.resize(np.concatenate(rows, axis=0), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(args.out), picture[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {args.out} ({picture.shape[1]}x{picture.shape[0]})")


if __name__ == "__main__":
    main()
