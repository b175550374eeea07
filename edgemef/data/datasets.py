"""Datasets of exposure brackets on disk: one folder per scene.

Layouts (``layout=``):

* ``sice``: ``<root>/<scene>/ev1.jpg ... evK.jpg`` plus ``gt.jpg``, the reference image
  (SICE, Cai et al. TIP 2018).
* ``mefb``: ``<root>/<scene>/a.png b.png``, no reference; which frame is darker is not given
  (MEFB, Zhang 2021).
* ``folder``: any folder per scene with two or more images; a file named ``gt``, ``ref``,
  ``reference`` or ``ground_truth`` (any image extension) is the reference. A folder of images
  with no sub-folders is one scene.
* ``auto`` (default): the generic ``folder`` reader, which reads the two layouts above too.

The frames of a scene are put in darkest-to-brightest order by :func:`edgemef.io.read_bracket`
(whatever their file names say), then :func:`select_exposures` picks the ones to fuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgemef.data.choices import EXPOSURE_CHOICES, LAYOUTS
from edgemef.errors import DatasetError
from edgemef.io import DEFAULT_MAX_PIXELS, Bracket, images_in_folder, natural_key, read_bracket, read_image

REFERENCE_STEMS = ("gt", "ref", "reference", "ground_truth", "groundtruth")


@dataclass(frozen=True)
class Scene:
    """One scene of a dataset.

    Attributes:
        name: the scene folder's name.
        exposures: the exposure files (in file-name order; exposure order is decided when read).
        reference: the ground-truth image, or ``None`` for no-reference datasets.
    """

    name: str
    exposures: tuple[Path, ...]
    reference: Path | None


def _scene_from_folder(folder: Path, layout: str) -> Scene | None:
    images = images_in_folder(folder)
    references = [p for p in images if p.stem.lower() in REFERENCE_STEMS]
    exposures = [p for p in images if p not in references]
    if layout == "sice":
        exposures = [p for p in exposures if p.stem.lower().startswith("ev")]
        references = [p for p in references if p.stem.lower() == "gt"]
        if not references:
            raise DatasetError(f"{folder}: SICE layout needs a gt.jpg reference beside ev*.jpg")
    elif layout == "mefb":
        exposures = [p for p in exposures if p.stem.lower() in ("a", "b")]
        if len(exposures) != 2:
            raise DatasetError(f"{folder}: MEFB layout needs a.png and b.png")
    if len(references) > 1:
        raise DatasetError(
            f"{folder}: more than one reference image ({', '.join(p.name for p in references)})"
        )
    if len(exposures) < 2:
        return None
    return Scene(folder.name, tuple(exposures), references[0] if references else None)


def find_scenes(root: str | Path, layout: str = "auto") -> list[Scene]:
    """List the scenes of the dataset at ``root``, in natural name order (scene2 before scene10).

    Raises:
        DatasetError: ``root`` is not a folder, the layout is unknown, or no scene was found.
    """
    root = Path(root)
    if layout not in LAYOUTS:
        raise DatasetError(f"unknown dataset layout {layout!r}; choose one of: {', '.join(LAYOUTS)}")
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder not found")
    subfolders = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=natural_key
    )
    scenes = [s for s in (_scene_from_folder(f, layout) for f in subfolders) if s is not None]
    if not scenes:  # a plain folder of images is one scene
        single = _scene_from_folder(root, layout)
        scenes = [single] if single else []
    if not scenes:
        raise DatasetError(f"{root}: no scenes found (expected one folder per scene with two or more images)")
    return scenes


def select_exposures(n_available: int, exposures: str | None) -> list[int]:
    """Indices (into a darkest-to-brightest bracket) of the frames to fuse.

    Args:
        n_available: frames in the scene.
        exposures: "2" (darkest and brightest), "3" (darkest, middle, brightest), "all", or ``None``
            for "3" where the scene has three or more frames and all of them otherwise.

    Raises:
        DatasetError: the scene has fewer frames than asked for.
    """
    if exposures is None:
        exposures = "3" if n_available >= 3 else "all"
    if exposures not in EXPOSURE_CHOICES:
        raise DatasetError(
            f"unknown exposure choice {exposures!r}; choose one of: {', '.join(EXPOSURE_CHOICES)}"
        )
    if exposures == "all":
        return list(range(n_available))
    wanted = int(exposures)
    if n_available < wanted:
        raise DatasetError(f"scene has {n_available} exposures, {wanted} asked for (use --exposures all)")
    if wanted == 2:
        return [0, n_available - 1]
    return [0, n_available // 2, n_available - 1]


def load_scene(
    scene: Scene, exposures: str | None = None, *, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> tuple[Bracket, np.ndarray | None]:
    """Read a scene: the selected exposures (darkest first) and the reference image if there is one.

    Raises:
        DatasetError: the reference image's size differs from the exposures'.
    """
    bracket = read_bracket(scene.exposures, max_pixels=max_pixels)
    bracket = bracket.select(select_exposures(len(bracket), exposures))
    if scene.reference is None:
        return bracket, None
    reference = read_image(scene.reference, max_pixels=max_pixels).pixels
    if reference.shape != bracket.frames.shape[1:]:
        raise DatasetError(
            f"{scene.reference}: reference is {reference.shape[1]}x{reference.shape[0]}, "
            f"exposures are {bracket.size[0]}x{bracket.size[1]}"
        )
    return bracket, reference
