"""Align the frames of a hand-held bracket before fusion (OpenCV).

- ``mtb``: median threshold bitmaps (Ward 2003, ``cv2.AlignMTB``): integer translations, insensitive to the
  exposure differences between frames, fast; for small shakes.
- ``ecc``: enhanced correlation coefficient (``cv2.findTransformECC``) with a Euclidean motion (shift and
  rotation), estimated coarse-to-fine on a reduced copy; ECC's zero-mean normalised correlation tolerates the
  brightness change between exposures. For larger shakes and rolls; slower.

Every frame is aligned to the middle exposure (the best exposed one in a bracket) and keeps its size; the
border a shift uncovers is filled by reflecting the frame. A frame ECC cannot register keeps its position and
is reported in the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

ALIGN_METHODS = ("none", "mtb", "ecc")
ECC_WORK_SIDE = 640  # longest side of the copy the ECC motion is estimated on
ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)


@dataclass
class Alignment:
    frames: np.ndarray
    method: str
    shifts: list[tuple[float, float]] = field(default_factory=list)  # (dx, dy) per frame, pixels
    failed: list[int] = field(default_factory=list)  # frames ECC could not register


def _mtb(frames: np.ndarray) -> Alignment:
    aligner = cv2.createAlignMTB()
    reference = cv2.cvtColor(frames[len(frames) // 2], cv2.COLOR_RGB2GRAY)
    out, shifts = [], []
    for frame in frames:
        dx, dy = aligner.calculateShift(reference, cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY))
        shifts.append((float(dx), float(dy)))  # calculateShift gives the shift that aligns the frame
        out.append(_warp(frame, np.array([[1, 0, dx], [0, 1, dy]], np.float32)))
    return Alignment(np.stack(out), "mtb", shifts)


def _warp(frame: np.ndarray, matrix: np.ndarray, inverse: bool = False) -> np.ndarray:
    if np.allclose(matrix, np.eye(2, 3)):
        return frame
    height, width = frame.shape[:2]
    flags = cv2.INTER_LINEAR | (cv2.WARP_INVERSE_MAP if inverse else 0)
    return cv2.warpAffine(frame, matrix, (width, height), flags=flags, borderMode=cv2.BORDER_REFLECT)


def _small_gray(frame: np.ndarray, scale: float) -> np.ndarray:
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    if scale != 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return gray


def _match_histogram(source: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``source``'s grey levels remapped so its histogram matches ``reference``'s (exposure compensation)."""
    src_cdf = np.cumsum(np.bincount(source.ravel(), minlength=256)) / source.size
    ref_cdf = np.cumsum(np.bincount(reference.ravel(), minlength=256)) / reference.size
    mapping = np.searchsorted(ref_cdf, src_cdf, side="left").clip(0, 255).astype(np.uint8)
    return mapping[source]


def _well_exposed(gray: np.ndarray) -> np.ndarray:
    return ((gray > 8) & (gray < 247)).astype(np.uint8)


def _ecc(frames: np.ndarray) -> Alignment:
    height, width = frames.shape[1:3]
    scale = min(1.0, ECC_WORK_SIDE / max(height, width))
    middle = len(frames) // 2
    reference = _small_gray(frames[middle], scale)
    out, shifts, failed = [], [], []
    for index, frame in enumerate(frames):
        if index == middle:
            out.append(frame)
            shifts.append((0.0, 0.0))
            continue
        gray = _small_gray(frame, scale)
        # Compare like with like: the frame's tones matched to the reference's, and only pixels that are
        # neither clipped nor black in both frames (clipped areas have no texture to register).
        mask = cv2.erode(_well_exposed(gray) & _well_exposed(reference), np.ones((5, 5), np.uint8))
        matched = _match_histogram(gray, reference)
        warp = np.eye(2, 3, dtype=np.float32)
        try:
            _, warp = cv2.findTransformECC(
                reference.astype(np.float32) / 255.0,
                matched.astype(np.float32) / 255.0,
                warp,
                cv2.MOTION_EUCLIDEAN,
                ECC_CRITERIA,
                mask,
                5,
            )
        except cv2.error:
            failed.append(index)
            out.append(frame)
            shifts.append((0.0, 0.0))
            continue
        warp[:, 2] /= scale  # the translation was estimated on the reduced copy
        # ECC maps reference coordinates into the frame: warping with the inverse map aligns the frame.
        shifts.append((-float(warp[0, 2]), -float(warp[1, 2])))
        out.append(_warp(frame, warp, inverse=True))
    return Alignment(np.stack(out), "ecc", shifts, failed)


def align_bracket(frames: np.ndarray, method: str) -> Alignment:
    """Align ``frames`` (N x H x W x 3 uint8, darkest first) to the middle one with ``method``."""
    if method not in ALIGN_METHODS:
        raise ValueError(f"unknown alignment {method!r}; choose one of {', '.join(ALIGN_METHODS)}")
    if method == "none":
        return Alignment(frames, "none", [(0.0, 0.0)] * len(frames))
    return _mtb(frames) if method == "mtb" else _ecc(frames)
