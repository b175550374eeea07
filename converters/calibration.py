"""The calibration and parity brackets of ``calibration_data/`` (see its MANIFEST.md).

``calibration/`` stacks are what int8 quantization observes; ``parity/`` stacks are held out and are what
every artifact is checked on. A model of ``n`` exposures takes, from each stack, the darkest and brightest
frames and ``n - 2`` evenly spaced ones between.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgemef.errors import ConversionError
from edgemef.io import read_bracket
from edgemef.runtime.preprocess import network_input

#: the repository's calibration_data/ (present in a source checkout / editable install)
DEFAULT_CALIBRATION_DIR = Path(__file__).resolve().parent.parent / "calibration_data"
SUBSETS = ("calibration", "parity")


@dataclass(frozen=True)
class Stack:
    """One bracket: its name and uint8 frames (N x H x W x 3, darkest first)."""

    name: str
    frames: np.ndarray

    def thumbnails(self, size: int) -> np.ndarray:
        """The network's input for this bracket (``1 x 3N x size x size`` float32)."""
        return network_input(self.frames, size)


def pick_exposures(count: int, wanted: int) -> list[int]:
    """Indices of ``wanted`` frames of ``count``: darkest, brightest, and evenly spaced ones between."""
    if wanted > count:
        raise ConversionError(f"a stack of {count} exposures cannot feed a model of {wanted}")
    if wanted == 1:
        return [count // 2]
    return sorted({round(i * (count - 1) / (wanted - 1)) for i in range(wanted)})


def load_stacks(subset: str, n_exposures: int, root: Path | None = None) -> list[Stack]:
    """Every stack of ``root/subset`` with ``n_exposures`` frames picked from each.

    Raises:
        ConversionError: the folder is missing or empty (the message says how to make it).
    """
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
    root = Path(root) if root is not None else DEFAULT_CALIBRATION_DIR
    folder = root / subset
    folders = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if not folders:
        raise ConversionError(
            f"no {subset} brackets in {folder}; pass --calibration DIR (a folder with calibration/ and "
            "parity/ stack folders) or re-create them with 'python calibration_data/make_calibration.py'"
        )
    stacks = []
    for stack_dir in folders:
        bracket = read_bracket(stack_dir)
        frames = bracket.frames[pick_exposures(len(bracket), n_exposures)]
        stacks.append(Stack(stack_dir.name, np.ascontiguousarray(frames)))
    return stacks
