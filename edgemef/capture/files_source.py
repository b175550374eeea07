"""Replay brackets from files, so the runner can be used and tested without a camera.

``--input`` is either one bracket (a folder of 2..N exposures, or the files themselves) or a folder of
bracket folders (``shots/0001/``, ``shots/0002/``, ...), which ``--loop`` and ``--runs`` cycle through. Each
bracket is read and decoded anew every time (that is the "decode" stage), ordered darkest first (EXIF, else
mean luminance), and reduced to the frames the model fuses (darkest and brightest, plus the middle one).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edgemef.data.datasets import select_exposures
from edgemef.errors import BracketError, ImageReadError
from edgemef.io import Bracket, images_in_folder, natural_key, read_bracket


def bracket_sources(inputs: Sequence[Path]) -> list[list[Path]]:
    """The brackets in ``inputs``: files or one folder of frames give one; a folder of folders gives many."""
    if len(inputs) == 1 and inputs[0].is_dir() and not images_in_folder(inputs[0]):
        folders = sorted((p for p in inputs[0].iterdir() if p.is_dir()), key=natural_key)
        brackets = [[folder] for folder in folders if images_in_folder(folder)]
        if not brackets:
            raise ImageReadError(f"{inputs[0]}: no images, and no sub-folders with images")
        return brackets
    return [list(inputs)]


class FilesSource:
    """Cycles through the brackets in ``inputs``; :meth:`next` reads one and keeps ``n_exposures`` frames."""

    name = "files"

    def __init__(self, inputs: Sequence[Path], n_exposures: int, max_pixels: int | None) -> None:
        self.brackets = bracket_sources([Path(p) for p in inputs])
        self.n_exposures = n_exposures
        self.max_pixels = max_pixels
        self._next = 0

    def next(self) -> Bracket:
        sources = self.brackets[self._next % len(self.brackets)]
        self._next += 1
        bracket = read_bracket(sources, max_pixels=self.max_pixels)
        if len(bracket) < self.n_exposures:
            raise BracketError(
                f"{', '.join(map(str, sources))}: {len(bracket)} exposures, "
                f"the model fuses {self.n_exposures}"
            )
        if len(bracket) > self.n_exposures:
            bracket = bracket.select(select_exposures(len(bracket), str(self.n_exposures)))
        return bracket
