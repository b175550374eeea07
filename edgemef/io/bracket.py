"""Exposure brackets: gather files, read them, check they belong together, order them.

The darkest-to-brightest order is decided here and nowhere else (:func:`order_by_exposure`).
"""

from __future__ import annotations

import glob
import os
import re
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgemef.errors import BracketError, ImageReadError
from edgemef.io.exif import ExposureInfo
from edgemef.io.read import DEFAULT_MAX_PIXELS, corruption_warning, read_image
from edgemef.native_output import captured_stderr

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff")
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class Bracket:
    """An exposure bracket ready to fuse.

    Attributes:
        frames: uint8 RGB, N x H x W x 3, ordered darkest to brightest.
        paths: the file of each frame (``None`` for frames made in memory), in the same order.
        exposures: EXIF exposure settings of each frame, in the same order.
        ordered_by: "exif" (exposure time x gain / aperture^2) or "luminance" (mean luma), or "given".
    """

    frames: np.ndarray
    paths: tuple[Path | None, ...]
    exposures: tuple[ExposureInfo, ...]
    ordered_by: str

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of every frame."""
        return self.frames.shape[2], self.frames.shape[1]

    def __len__(self) -> int:
        return self.frames.shape[0]

    def select(self, indices: Sequence[int]) -> Bracket:
        """A bracket of the frames at ``indices`` (which must keep the dark-to-bright order)."""
        indices = list(indices)
        if sorted(indices) != indices or len(set(indices)) != len(indices):
            raise ValueError(f"indices must be strictly increasing, got {indices}")
        return Bracket(
            frames=self.frames[indices],
            paths=tuple(self.paths[i] for i in indices),
            exposures=tuple(self.exposures[i] for i in indices),
            ordered_by=self.ordered_by,
        )


def check_bracket_array(frames: np.ndarray, *, min_frames: int = 2) -> None:
    """Raise :class:`BracketError` unless ``frames`` is N x H x W x 3 uint8 with N >= ``min_frames``."""
    if not isinstance(frames, np.ndarray):
        raise BracketError(f"a bracket must be a numpy array, got {type(frames).__name__}")
    if frames.ndim != 4 or frames.shape[3] != 3:
        raise BracketError(f"a bracket must be N x H x W x 3 (RGB), got shape {frames.shape}")
    if frames.dtype != np.uint8:
        raise BracketError(f"a bracket must hold uint8 pixels, got {frames.dtype}")
    if frames.shape[0] < min_frames:
        raise BracketError(f"fusion needs at least {min_frames} exposures, got {frames.shape[0]}")
    if frames.shape[1] == 0 or frames.shape[2] == 0:
        raise BracketError(f"a bracket must not be empty, got shape {frames.shape}")


def relative_exposure(info: ExposureInfo, *, use_iso: bool, use_aperture: bool) -> float | None:
    """Light gathered relative to other frames: time x ISO / f-number^2 (factors as requested)."""
    if info.exposure_time is None:
        return None
    value = info.exposure_time
    if use_iso and info.iso is not None:
        value *= info.iso / 100.0
    if use_aperture and info.f_number is not None:
        value /= info.f_number**2
    return value


def relative_times(exposure_times: Sequence[float] | None, n_frames: int) -> np.ndarray:
    """Exposure times of a bracket's frames (darkest first, any unit) relative to the darkest: float32, the
    first 1.0. What scene-linear models take, since their radiance is in the darkest frame's units.

    Raises:
        BracketError: missing, the wrong count, not positive and finite, or not increasing.
    """
    if exposure_times is None:
        raise BracketError(
            "this model needs each frame's exposure time: the files' EXIF has none; give --ev (e.g. -2,0,2) "
            "or --times (e.g. 1/200,1/50,1/12)"
        )
    times = np.asarray([float(t) for t in exposure_times], dtype=np.float64)
    if times.shape != (n_frames,):
        raise BracketError(f"{n_frames} frames need {n_frames} exposure times, got {len(times)}")
    if not (np.isfinite(times).all() and (times > 0).all()):
        raise BracketError(f"exposure times must be positive numbers, got {list(exposure_times)}")
    if not (np.diff(times) > 0).all():
        raise BracketError(
            "exposure times must increase from the darkest frame to the brightest, got "
            f"{list(exposure_times)}"
        )
    return (times / times[0]).astype(np.float32)


def exposure_times(
    bracket: Bracket, ev: list[float] | None = None, times: list[float] | None = None
) -> list[float] | None:
    """The frames' exposure times, darkest first: from ``ev`` (``2**ev``) or ``times`` (sorted, as the frames
    are), else from EXIF (time x ISO / f-number^2 where every frame has them); ``None`` when none is known."""
    if ev is not None:
        return sorted(2.0**value for value in ev)
    if times is not None:
        return sorted(times)
    exposures = bracket.exposures
    if not exposures or any(e.exposure_time is None for e in exposures):
        return None
    use_iso = all(e.iso is not None for e in exposures)
    use_aperture = all(e.f_number is not None for e in exposures)
    return [relative_exposure(e, use_iso=use_iso, use_aperture=use_aperture) for e in exposures]


def mean_luminance(frame: np.ndarray) -> float:
    """Mean Rec.601 luma of an H x W x 3 uint8 frame (subsampled 4x each way; fast and order-preserving)."""
    return float((frame[::4, ::4].astype(np.float32) @ _LUMA).mean())


def permute_in_place(frames: np.ndarray, order: Sequence[int]) -> None:
    """Reorder ``frames`` so that ``frames[i]`` becomes the old ``frames[order[i]]``, with one frame of
    scratch memory (not a copy of the bracket)."""
    placed = [False] * len(order)
    scratch = None
    for start in range(len(order)):
        if placed[start] or order[start] == start:
            continue
        if scratch is None:
            scratch = np.empty_like(frames[0])
        scratch[...] = frames[start]
        i = start
        while order[i] != start:
            frames[i] = frames[order[i]]
            placed[i] = True
            i = order[i]
        frames[i] = scratch
        placed[i] = True


def order_by_exposure(frames: np.ndarray, exposures: Sequence[ExposureInfo]) -> tuple[list[int], str]:
    """Decide the darkest-to-brightest order of a bracket.

    EXIF exposure (time x ISO gain / f-number^2, each factor used only when every frame has it) is
    used when every frame has an exposure time and the values are all different; otherwise the
    mean luminance of the pixels decides.

    Returns:
        The permutation (indices into ``frames``) and "exif" or "luminance".
    """
    if exposures and all(e.exposure_time is not None for e in exposures):
        use_iso = all(e.iso is not None for e in exposures)
        use_aperture = all(e.f_number is not None for e in exposures)
        values = [relative_exposure(e, use_iso=use_iso, use_aperture=use_aperture) for e in exposures]
        if len(set(values)) == len(values):
            return sorted(range(len(values)), key=lambda i: values[i]), "exif"
    luminance = [mean_luminance(frame) for frame in frames]
    return sorted(range(len(luminance)), key=lambda i: luminance[i]), "luminance"


def natural_key(path: Path) -> list[object]:
    """Sort key that orders digit runs by value: ev2 before ev10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def images_in_folder(folder: Path) -> list[Path]:
    """Image files (by extension) directly inside ``folder``, in natural order (ev2 before ev10)."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(files, key=natural_key)


def expand_sources(sources: Sequence[str | Path]) -> list[Path]:
    """Turn files, folders and glob patterns into a list of image files.

    A folder contributes the image files directly inside it; a pattern such as ``shots/*.jpg``
    contributes its matches in natural order.

    Raises:
        ImageReadError: a path that does not exist, a pattern or folder with no images.
        BracketError: the same file given twice.
    """
    paths: list[Path] = []
    for source in sources:
        source_path = Path(source)
        if source_path.is_dir():
            found = images_in_folder(source_path)
            if not found:
                raise ImageReadError(f"{source_path}: folder has no {'/'.join(IMAGE_EXTENSIONS)} files")
            paths.extend(found)
        elif source_path.exists():
            paths.append(source_path)
        elif any(ch in str(source) for ch in "*?["):
            matches = sorted((Path(m) for m in glob.glob(str(source))), key=natural_key)
            matches = [m for m in matches if m.is_file()]
            if not matches:
                raise ImageReadError(f"{source}: pattern matched no files")
            paths.extend(matches)
        else:
            raise ImageReadError(f"{source}: no such file")
    seen: set[tuple[int, int] | Path] = set()
    for path in paths:
        try:
            info = path.stat()
            identity: tuple[int, int] | Path = (info.st_dev, info.st_ino)  # hard links are one file too
        except OSError:
            identity = path.resolve()  # read_image reports what is wrong with it
        if identity in seen:
            raise BracketError(f"{path}: given twice; each exposure must be a different file")
        seen.add(identity)
    return paths


def read_bracket(
    sources: Sequence[str | Path] | str | Path,
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    min_frames: int = 2,
) -> Bracket:
    """Read 2..N exposures from files, a folder or glob patterns, check and order them.

    Args:
        sources: image files, folders or patterns (one string or path is taken as a single source).
        max_pixels: per-frame pixel-count guard (``None`` disables it).
        min_frames: the fewest frames accepted.

    Returns:
        A :class:`Bracket`, darkest frame first.

    Raises:
        BracketError: too few frames, frames of different sizes (the message names each file and size).
        ImageReadError, ImageTooLargeError: a file cannot be read, or is over the pixel guard.
    """
    if isinstance(sources, (str, Path)):
        sources = [sources]
    paths = expand_sources(sources)
    if len(paths) < min_frames:
        given = ", ".join(str(p) for p in paths) or "nothing"
        raise BracketError(f"fusion needs at least {min_frames} exposures, got {len(paths)} ({given})")
    # Decoders release the GIL: frames decode in parallel, one thread per core, their native output captured
    # around all of them; a corruption warning there is traced to its file by decoding them one by one. Each
    # frame is copied into the bracket's array as soon as it is decoded and then dropped, so reading holds
    # the bracket plus the frames in flight, not two copies of the bracket.
    frames: np.ndarray | None = None
    shapes, exposures, read_paths = [], [], []
    with captured_stderr() as native:
        with ThreadPoolExecutor(max_workers=max(1, min(len(paths), os.cpu_count() or 1))) as pool:
            pending = deque(
                pool.submit(read_image, p, max_pixels=max_pixels, watch_decoder=False) for p in paths
            )
            while pending:
                image = pending.popleft().result()  # the future, which holds the pixels, is dropped
                if frames is None:
                    frames = np.empty((len(paths), *image.pixels.shape), np.uint8)
                if image.pixels.shape == frames.shape[1:]:
                    frames[len(shapes)] = image.pixels
                shapes.append(image.pixels.shape)
                exposures.append(image.exposure)
                read_paths.append(image.path)
                del image
    if corruption_warning(native.text) is not None:
        for path in paths:
            read_image(path, max_pixels=max_pixels)  # raises for the corrupt one
    if len(set(shapes)) > 1:
        sizes = ", ".join(
            f"{path} is {shape[1]}x{shape[0]}" for path, shape in zip(read_paths, shapes, strict=True)
        )
        raise BracketError(
            f"exposures differ in size: {sizes}; all frames of a bracket must be the same size"
        )
    assert frames is not None
    order, method = order_by_exposure(frames, exposures)
    permute_in_place(frames, order)
    return Bracket(
        frames=frames,
        paths=tuple(read_paths[i] for i in order),
        exposures=tuple(exposures[i] for i in order),
        ordered_by=method,
    )
