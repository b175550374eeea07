"""EXIF metadata that matters for fusion: orientation and exposure (time, ISO, aperture)."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_EXPOSURE_TIME = 0x829A
_F_NUMBER = 0x829D
_ISO = 0x8827  # PhotographicSensitivity (ISOSpeedRatings)
_DATETIME_ORIGINAL = 0x9003
_SUBSEC_ORIGINAL = 0x9291


@dataclass(frozen=True)
class ExposureInfo:
    """Exposure settings of one frame, as read from EXIF; ``None`` where the file does not say.

    Attributes:
        exposure_time: shutter time in seconds.
        iso: sensor gain as an ISO number.
        f_number: aperture as an f-number.
    """

    exposure_time: float | None = None
    iso: float | None = None
    f_number: float | None = None


@dataclass(frozen=True)
class ImageMetadata:
    """What :func:`read_metadata` finds in a file's header."""

    orientation: int = 1
    exposure: ExposureInfo = ExposureInfo()
    #: when the frame was taken, seconds (EXIF DateTimeOriginal + SubSecTimeOriginal, local clock)
    taken: float | None = None


def _positive_float(value: object) -> float | None:
    if isinstance(value, tuple):  # some writers store a single-element tuple
        value = value[0] if value else None
    try:
        number = float(value)  # type: ignore[arg-type]  # handles IFDRational and ints
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def read_metadata(data: bytes) -> ImageMetadata:
    """Read orientation and exposure tags from encoded image bytes (header only, no decoding).

    Files without EXIF, or with EXIF that Pillow cannot parse, give the defaults
    (orientation 1, no exposure information): metadata never makes a readable image fail.
    """
    try:
        with Image.open(io.BytesIO(data)) as im:
            exif = im.getexif()
            tags = dict(exif)
            try:
                tags.update(exif.get_ifd(_EXIF_IFD))
            except (KeyError, ValueError, TypeError, OSError):
                pass
    except Exception:
        return ImageMetadata()
    orientation = tags.get(_ORIENTATION, 1)
    if not isinstance(orientation, int) or not 1 <= orientation <= 8:
        orientation = 1
    exposure = ExposureInfo(
        exposure_time=_positive_float(tags.get(_EXPOSURE_TIME)),
        iso=_positive_float(tags.get(_ISO)),
        f_number=_positive_float(tags.get(_F_NUMBER)),
    )
    return ImageMetadata(orientation=orientation, exposure=exposure, taken=_taken(tags))


def _taken(tags: dict) -> float | None:
    """EXIF DateTimeOriginal (+ SubSecTimeOriginal) as seconds on the camera's clock, else ``None``."""
    import datetime

    text = tags.get(_DATETIME_ORIGINAL)
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.datetime.strptime(text.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    seconds = moment.replace(tzinfo=datetime.timezone.utc).timestamp()
    sub = tags.get(_SUBSEC_ORIGINAL)
    if isinstance(sub, str) and sub.strip("\x00 ").isdigit():
        digits = sub.strip("\x00 ")
        seconds += int(digits) / 10 ** len(digits)
    return seconds


def apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip ``image`` (H x W [x C]) so that it displays upright, per EXIF orientation 1..8."""
    if orientation == 2:
        return image[:, ::-1]
    if orientation == 3:
        return image[::-1, ::-1]
    if orientation == 4:
        return image[::-1, :]
    if orientation == 5:  # transpose
        return np.swapaxes(image, 0, 1)
    if orientation == 6:  # rotate 90 degrees clockwise
        return np.swapaxes(image, 0, 1)[:, ::-1]
    if orientation == 7:  # transverse
        return np.swapaxes(image, 0, 1)[::-1, ::-1]
    if orientation == 8:  # rotate 90 degrees counter-clockwise
        return np.swapaxes(image, 0, 1)[::-1, :]
    return image
