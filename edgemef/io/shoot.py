"""A shoot: many brackets in folders, found and split for ``edgemef fuse SHOOT -o OUT_DIR``.

- A folder whose sub-folders hold images: each sub-folder is split (below), usually into one bracket.
- A folder of images (a camera's auto-bracketed shots, flat): split into brackets. With ``bracket_size``
  the frames, in capture order, are cut into groups of that size. Otherwise by EXIF: in capture order, a new
  bracket starts when a frame's exposure (exposure time x ISO / f-number^2) is one the current bracket already
  has, or when more than ``gap_s`` seconds passed since the previous frame; the bracket size is then the
  most common group size, and a group of another size is reported (an incomplete bracket), not fused.
  Frames without EXIF exposure make one bracket of the whole folder.

Capture order is EXIF DateTimeOriginal (+ SubSec) when every frame has it, else the natural order of the
file names. Each bracket is named after its first frame; two brackets that would share a name get their
folder's name in front. Reading headers only: no pixel is decoded here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edgemef.errors import ImageReadError
from edgemef.io.bracket import images_in_folder, natural_key
from edgemef.io.exif import ImageMetadata, read_metadata

#: frames further apart than this (seconds, EXIF clock) belong to different brackets
DEFAULT_GAP_S = 2.0


@dataclass(frozen=True)
class BracketFiles:
    """One bracket of a shoot: its frames' files (capture order), its output name, and why it cannot be
    fused where that is known before reading pixels."""

    name: str
    paths: tuple[Path, ...]
    problem: str | None = None


def _header(path: Path) -> ImageMetadata:
    """EXIF of the file's first 256 KB (a JPEG's EXIF is within its first 64 KB)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(256 * 1024)
    except OSError:
        return ImageMetadata()
    return read_metadata(head)


def _exposure_key(meta: ImageMetadata) -> float | None:
    e = meta.exposure
    if e.exposure_time is None:
        return None
    value = e.exposure_time * (e.iso or 100.0) / (e.f_number or 1.0) ** 2
    return round(math.log2(value) * 3) / 3  # to a third of a stop: a camera's EV steps


def split_frames(
    paths: Sequence[Path], bracket_size: int | None, gap_s: float = DEFAULT_GAP_S
) -> list[list[Path]]:
    """Cut the frames of one folder into brackets (see the module docstring); groups in capture order."""
    meta = {path: _header(path) for path in paths}
    if all(meta[p].taken is not None for p in paths):
        ordered = sorted(paths, key=lambda p: (meta[p].taken, natural_key(p)))
    else:
        ordered = sorted(paths, key=natural_key)
    if bracket_size:
        return [list(ordered[i : i + bracket_size]) for i in range(0, len(ordered), bracket_size)]
    keys = [_exposure_key(meta[p]) for p in ordered]
    if any(key is None for key in keys):
        return [list(ordered)]
    groups: list[list[Path]] = []
    seen: set[float] = set()
    previous: float | None = None
    for path, key in zip(ordered, keys, strict=True):
        taken = meta[path].taken
        gap = taken is not None and previous is not None and taken - previous > gap_s
        if not groups or key in seen or gap:
            groups.append([])
            seen = set()
        groups[-1].append(path)
        seen.add(key)  # type: ignore[arg-type]
        previous = taken
    return groups


def find_brackets(
    inputs: Sequence[str | Path], bracket_size: int | None = None, gap_s: float = DEFAULT_GAP_S
) -> list[BracketFiles]:
    """Every bracket in ``inputs`` (folders of brackets, or folders of flat shots), in input order.

    Raises:
        ImageReadError: an input is not a folder, or no input holds any image.
    """
    groups: list[tuple[Path, list[Path]]] = []
    for source in map(Path, inputs):
        if not source.is_dir():
            raise ImageReadError(f"{source}: a shoot is given as folders (of brackets, or of flat shots)")
        images = images_in_folder(source)
        folders = [source] if images else sorted((p for p in source.iterdir() if p.is_dir()), key=natural_key)
        for folder in folders:
            frames = images_in_folder(folder)
            if frames:
                groups += [(folder, group) for group in split_frames(frames, bracket_size, gap_s)]
    if not groups:
        raise ImageReadError(f"{', '.join(map(str, inputs))}: no images, and no sub-folders with images")
    sizes = Counter(len(group) for _, group in groups if len(group) > 1)
    usual = bracket_size or (sizes.most_common(1)[0][0] if sizes else None)
    names = Counter(group[0].stem for _, group in groups)
    brackets = []
    for folder, group in groups:
        name = group[0].stem if names[group[0].stem] == 1 else f"{folder.name}_{group[0].stem}"
        problem = None
        if len(group) < 2:
            problem = f"{group[0]}: a single frame, not a bracket"
        elif usual is not None and len(group) != usual and (bracket_size or len(sizes) > 1):
            problem = f"incomplete bracket: {len(group)} frames where the shoot's brackets have {usual}"
        brackets.append(BracketFiles(name, tuple(group), problem))
    return brackets
