"""MEF-SSIM: the standard quality index for multi-exposure image fusion.

K. Ma, K. Zeng and Z. Wang, "Perceptual Quality Assessment for Multi-Exposure Image Fusion",
IEEE Transactions on Image Processing 24(11), 2015. The index needs no ground truth: it
builds, for every 11 x 11 patch, the "desired" patch from the exposures of the bracket and
compares the fused image with it by the structure part of SSIM.

This module follows the authors' MATLAB release ("Multi-exposure fused (MEF) image quality
model Version 1.0", ``mef_ms_ssim.m`` with its ``mef_ssim.m``, (c) 2015 Kede Ma, Kai Zeng and
Zhou Wang), with its default arguments:

* Input: grayscale on a 0..255 scale. The reference demo converts with MATLAB ``rgb2gray``
  on ``uint8`` images, i.e. ``Y = 0.298936 R + 0.587043 G + 0.114021 B`` rounded to an
  integer; this module does the same for ``uint8`` input (``uint16`` and float input are
  scaled to 0..255 and not rounded).
* Per patch (11 x 11 square window, positions where the window fits the image, "valid"):
  ``mu_k`` is the patch mean and ``ed_k = ||x_k - mu_k|| + 0.001`` the contrast of exposure
  ``k``. The desired contrast is ``max_k ed_k``. The desired structure is the weighted sum
  ``sum_k w_k (x_k - mu_k) / ed_k``, normalised to unit length, with weights
  ``w_k ∝ (ed_k / 11)^p + eps`` whose exponent adapts to the patch: ``p = tan(pi/2 * R)``
  capped at 10, where ``R = ||sum_k x_k - mean|| / sum_k ||x_k - mu_k||`` measures how
  consistent the structures of the exposures are (``R`` in [0, 1]).
* The desired patch (structure times desired contrast) and the fused patch are compared with
  ``(2 sigma_12 + C) / (sigma_1^2 + sigma_2^2 + C)``, ``C = (0.03 * 255)^2``, where the
  statistics use the 11 x 11 Gaussian window (sigma 1.5) over the patch; there is no
  luminance term. The score of a scale is the mean of this quality map.
* Three scales: the images are filtered with a 2 x 2 mean (symmetric padding, MATLAB
  ``imfilter(..., 'symmetric', 'same')``) and subsampled by 2 between scales; the overall
  score is ``prod_l Q_l^(beta_l)`` with beta = [0.0448, 0.2856, 0.3001] / sum.

Instead of the reference's per-pixel loops, the patch statistics are expanded into sums of
local moments (box- and Gaussian-filtered products of exposure pairs), which is the same
arithmetic up to rounding. Deliberate deviations, both only matter at the level of
floating-point noise: local variances below ``1e-8`` (on the 0..255 scale; an integer image
that is not flat has at least 0.008) are taken as exactly 0, and local covariances are
clipped to the Cauchy-Schwarz bound, so that flat patches (e.g. saturated everywhere) give
exactly the reference's result instead of amplified rounding noise. Images smaller than
44 pixels on a side, where the reference returns ``-Inf``, raise an error instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from edgemef.errors import BracketError
from edgemef.metrics.fidelity import default_data_range, filter_sep, gaussian_kernel

__all__ = ["MEF_SSIM_SCALE_WEIGHTS", "MefSsimResult", "mef_ssim", "mef_ssim_details", "to_gray255"]

#: Weights of the three scales (those of MS-SSIM's first three), normalised to sum to 1.
MEF_SSIM_SCALE_WEIGHTS: tuple[float, ...] = tuple(
    float(w) for w in np.array([0.0448, 0.2856, 0.3001]) / (0.0448 + 0.2856 + 0.3001)
)
#: MATLAB ``rgb2gray`` weights (first row of the inverse of the NTSC YIQ matrix).
RGB2GRAY_WEIGHTS: tuple[float, float, float] = (0.298936021293775, 0.587043074451121, 0.114020904255103)

_F64 = NDArray[np.float64]

_WIN = 11  # side of the square and of the Gaussian window
_BD = _WIN // 2
_C = (0.03 * 255.0) ** 2
_P_MAX = 10.0
_FLAT_VAR = 1e-8  # local variances below this (0..255 scale) are rounding noise
_EPS = float(np.finfo(np.float64).eps)  # MATLAB eps


class MefSsimResult(NamedTuple):
    """MEF-SSIM with its parts.

    Attributes:
        score: the overall multi-scale score, ``prod(scale_scores ** weights)``.
        scale_scores: the mean quality of each scale, finest first.
        quality_maps: the quality map of each scale, finest first, float64; a map is
            ``(h - 10) x (w - 10)`` for a scale of ``h x w`` pixels (window centres only).
    """

    score: float
    scale_scores: tuple[float, ...]
    quality_maps: tuple[_F64, ...]


def to_gray255(image: ArrayLike) -> _F64:
    """Converts an image to MEF-SSIM's grayscale, float64 on a 0..255 scale.

    Args:
        image: ``H x W`` grayscale or ``H x W x 3`` RGB (``H x W x 1`` also works);
            ``uint8`` (0..255), ``uint16`` (0..65535) or float (0..1, values outside
            are clipped). RGB is reduced with :data:`RGB2GRAY_WEIGHTS`, rounded to integers
            for ``uint8`` input as MATLAB ``rgb2gray`` does.

    Returns:
        ``H x W`` float64 array in [0, 255].

    Raises:
        ValueError: unsupported layout or dtype, or a float image that is clearly not 0..1.
    """
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 3)):
        raise ValueError(f"expected an H x W or H x W x 3 image, got shape {a.shape}")
    scale = 255.0 / default_data_range(a.dtype)
    x = a.astype(np.float64)
    if np.issubdtype(a.dtype, np.floating):
        if x.size and float(x.max()) > 1.5:
            raise ValueError(f"float images must be scaled to [0, 1], got values up to {float(x.max()):g}")
        x = np.clip(x, 0.0, 1.0)
    if x.ndim == 3:
        x = x @ np.asarray(RGB2GRAY_WEIGHTS)
        if a.dtype == np.uint8:
            return np.clip(np.floor(x + 0.5), 0.0, 255.0)
    return x * scale if scale != 1.0 else x


def _bracket_to_gray(bracket: ArrayLike | Sequence[ArrayLike]) -> _F64:
    """``N x H x W`` float64 grayscale (0..255) from a bracket."""
    if isinstance(bracket, np.ndarray):
        if bracket.ndim not in (3, 4):
            raise BracketError(
                f"a bracket must be N x H x W x 3 (or N x H x W grayscale), got shape {bracket.shape}"
            )
        frames: Sequence[ArrayLike] = list(bracket)
    else:
        frames = list(bracket)
    if len(frames) < 2:
        raise BracketError(f"MEF-SSIM needs a bracket of at least 2 exposures, got {len(frames)}")
    shapes = [np.shape(f) for f in frames]
    if len(set(shapes)) != 1:
        raise BracketError(f"the exposures of a bracket must all have the same shape, got {shapes}")
    return np.stack([to_gray255(f) for f in frames])


def _downsample(image: _F64) -> _F64:
    """2 x 2 mean (symmetric padding at the bottom/right) then every other pixel: ceil(h/2)."""
    h, w = image.shape
    if h % 2 or w % 2:
        image = np.pad(image, ((0, h % 2), (0, w % 2)), mode="symmetric")
    return 0.25 * (image[0::2, 0::2] + image[1::2, 0::2] + image[0::2, 1::2] + image[1::2, 1::2])


def _quality_map(seq: _F64, fused: _F64) -> _F64:
    """Single-scale MEF-SSIM map (reference ``mef_ssim.m``), ``(H - 10) x (W - 10)``."""
    n = seq.shape[0]
    npix = float(_WIN * _WIN)
    box_k = np.full(_WIN, 1.0 / _WIN)
    gauss_k = gaussian_kernel(1.5, _BD)

    def box(img: _F64) -> _F64:
        return filter_sep(img, box_k)[_BD:-_BD, _BD:-_BD]

    def gauss(img: _F64) -> _F64:
        return filter_sep(img, gauss_k)[_BD:-_BD, _BD:-_BD]

    def var(mean_sq: _F64, mean: _F64) -> _F64:
        v = mean_sq - mean * mean
        v[v < _FLAT_VAR] = 0.0
        return v

    def cov(mean_xy: _F64, mean_x: _F64, mean_y: _F64, var_x: _F64, var_y: _F64) -> _F64:
        bound = np.sqrt(var_x * var_y)  # Cauchy-Schwarz
        return np.clip(mean_xy - mean_x * mean_y, -bound, bound)

    # Moments are shift-invariant; centring the values reduces cancellation.
    x = seq - 128.0
    f = fused - 128.0

    # Box (square window) statistics: means, contrasts ed_k and the consistency R.
    mu = [box(x[k]) for k in range(n)]
    vbox = [var(box(x[k] * x[k]), mu[k]) for k in range(n)]
    norms = [np.sqrt(npix * v) for v in vbox]  # ||x_k - mu_k||
    ed = [nk + 0.001 for nk in norms]
    s = x.sum(axis=0)
    mu_s = box(s)
    num = np.sqrt(npix * var(box(s * s), mu_s))  # ||sum_k x_k - mean||
    r = (num + _EPS) / (sum(norms) + _EPS)
    r[r > 1.0] = 1.0 - _EPS
    r[r < 0.0] = _EPS
    p = np.minimum(np.tan(np.pi / 2.0 * r), _P_MAX)
    weights = [(e / _WIN) ** p + _EPS for e in ed]
    total = sum(weights)
    a = [w / total / e for w, e in zip(weights, ed, strict=True)]  # coefficient of x_k - mu_k
    max_ed = np.maximum.reduce(ed)

    # Gaussian statistics of the fused image and of the exposures.
    gf = gauss(f)
    vf = np.maximum(gauss(f * f) - gf * gf, 0.0)
    gm = [gauss(x[k]) for k in range(n)]
    vg = [var(gauss(x[k] * x[k]), gm[k]) for k in range(n)]
    vg = [np.where(vb > 0.0, v, 0.0) for v, vb in zip(vg, vbox, strict=True)]

    # Desired (unscaled) patch d = sum_k a_k (x_k - mu_k): its squared norm over the box,
    # its Gaussian variance and its Gaussian covariance with the fused patch.
    norm_sq = np.zeros_like(gf)
    var_d = np.zeros_like(gf)
    cov_df = np.zeros_like(gf)
    for k in range(n):
        cov_df += a[k] * cov(gauss(x[k] * f), gm[k], gf, vg[k], vf)
        norm_sq += a[k] * a[k] * vbox[k]
        var_d += a[k] * a[k] * vg[k]
        for j in range(k + 1, n):
            xx = x[k] * x[j]
            two_aa = 2.0 * a[k] * a[j]
            norm_sq += two_aa * cov(box(xx), mu[k], mu[j], vbox[k], vbox[j])
            var_d += two_aa * cov(gauss(xx), gm[k], gm[j], vg[k], vg[j])
    norm = np.sqrt(np.maximum(npix * norm_sq, 0.0))
    # Rescale d to the desired contrast (left as is where it is zero, like the reference).
    scale = np.divide(max_ed, norm, out=np.ones_like(norm), where=norm > 0.0)
    sigma1_sq = scale * scale * np.maximum(var_d, 0.0)
    sigma12 = scale * cov_df
    return (2.0 * sigma12 + _C) / (sigma1_sq + vf + _C)


def mef_ssim_details(bracket: ArrayLike | Sequence[ArrayLike], fused: ArrayLike) -> MefSsimResult:
    """MEF-SSIM (Ma, Zeng & Wang 2015) of a fused image, with per-scale scores and maps.

    Args:
        bracket: the source exposures, ``N x H x W x 3`` RGB (or ``N x H x W`` grayscale)
            array or a sequence of ``H x W x 3`` / ``H x W`` images, ``N >= 2``; ``uint8``,
            ``uint16`` or float in [0, 1]. The order of the exposures does not matter.
        fused: the fused image, ``H x W x 3`` RGB or ``H x W``, same ``H x W`` as the bracket,
            any of the dtypes above (independently of the bracket's).

    Returns:
        A :class:`MefSsimResult`. The score is at most 1 (1 when every exposure and the
        fused image are the same); it is NaN if a scale scores below 0, which needs a fused
        image whose structure is inverted with respect to the bracket.

    Raises:
        BracketError: fewer than 2 exposures, exposures of different sizes, a fused image
            whose size differs from the bracket's, or images under 44 pixels on a side.
        ValueError: unsupported layout or dtype.
    """
    fused_arr = np.asarray(fused)
    if isinstance(bracket, np.ndarray) and bracket.ndim == 3 and bracket.shape == fused_arr.shape:
        raise BracketError(f"the bracket is a single image of shape {bracket.shape}, not N x H x W x 3")
    seq = _bracket_to_gray(bracket)
    f = to_gray255(fused_arr)
    if f.shape != seq.shape[1:]:
        raise BracketError(
            f"fused image shape {fused_arr.shape} does not match the bracket's frames "
            f"{seq.shape[1]} x {seq.shape[2]} (bracket shape {np.shape(bracket)})"
        )
    levels = len(MEF_SSIM_SCALE_WEIGHTS)
    min_side = _WIN * 2 ** (levels - 1)
    if min(f.shape) < min_side:
        raise BracketError(f"MEF-SSIM needs images of at least {min_side} pixels on a side, got {f.shape}")
    maps = []
    for level in range(levels):
        if level:
            seq = np.stack([_downsample(frame) for frame in seq])
            f = _downsample(f)
        maps.append(_quality_map(seq, f))
    scores = tuple(float(m.mean()) for m in maps)
    with np.errstate(invalid="ignore"):
        score = float(np.prod(np.power(scores, MEF_SSIM_SCALE_WEIGHTS)))
    return MefSsimResult(score, scores, tuple(maps))


def mef_ssim(bracket: ArrayLike | Sequence[ArrayLike], fused: ArrayLike) -> float:
    """MEF-SSIM (Ma, Zeng & Wang, IEEE TIP 2015): no-reference quality of a fused image.

    Faithful to the authors' MATLAB ``mef_ms_ssim.m`` (3 scales, grayscale via MATLAB
    ``rgb2gray`` weights); see the module docstring and :func:`mef_ssim_details`.

    Args:
        bracket: the source exposures, ``N x H x W x 3`` RGB ``uint8`` (or any layout/dtype
            accepted by :func:`mef_ssim_details`), ``N >= 2``.
        fused: the fused image, ``H x W x 3`` RGB, same ``H x W``.

    Returns:
        The overall score, at most 1; good fusions of natural scenes score about 0.9-0.98.

    Raises:
        BracketError: too few exposures or mismatched sizes (see :func:`mef_ssim_details`).
        ValueError: unsupported layout or dtype.
    """
    return mef_ssim_details(bracket, fused).score
