"""Full-reference fidelity metrics: PSNR, SSIM and the HDR metrics PSNR-mu, SSIM-mu, PSNR-L and SSIM-L.

Images are numpy arrays, ``H x W`` (grayscale) or ``H x W x C`` (colour, normally RGB
``H x W x 3``). ``uint8`` (range 0..255) is the usual type; ``uint16`` (0..65535) and float
(by convention 0..1) are accepted too. ``data_range`` is the distance between the smallest
and the largest possible value; when it is not given it follows from the dtype: 255 for
``uint8``, 65535 for ``uint16`` and 1.0 for float. The colour space does not matter to these
metrics (every channel is treated alike), but both images must use the same one.

:func:`ssim` is the SSIM index of Wang, Bovik, Sheikh & Simoncelli, "Image quality
assessment: from error visibility to structural similarity", IEEE TIP 2004, computed exactly
as ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=...)`` does.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "SsimTerms",
    "default_data_range",
    "mu_law",
    "psnr",
    "psnr_l",
    "psnr_mu",
    "ssim",
    "ssim_l",
    "ssim_mu",
    "ssim_terms",
]

#: SSIM window: 11 x 11 Gaussian with sigma 1.5 (radius 5), as in Wang et al. 2004.
SSIM_SIGMA = 1.5
SSIM_RADIUS = 5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def default_data_range(dtype: np.dtype | type) -> float:
    """The ``data_range`` implied by an image dtype.

    Args:
        dtype: a numpy dtype.

    Returns:
        255.0 for ``uint8``, 65535.0 for ``uint16`` and 1.0 for floating point types.

    Raises:
        ValueError: for any other dtype (pass ``data_range`` explicitly then).
    """
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return 255.0
    if dtype == np.uint16:
        return 65535.0
    if np.issubdtype(dtype, np.floating):
        return 1.0
    raise ValueError(f"no default data_range for dtype {dtype}; pass data_range explicitly")


def _as_pair(
    image: ArrayLike, reference: ArrayLike, data_range: float | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Checks two images against each other; returns them as float64 plus the data range."""
    a = np.asarray(image)
    b = np.asarray(reference)
    if a.shape != b.shape:
        raise ValueError(f"image shape {a.shape} does not match reference shape {b.shape}")
    if a.ndim not in (2, 3):
        raise ValueError(f"expected an H x W or H x W x C image, got shape {a.shape}")
    if data_range is None:
        if a.dtype != b.dtype:
            raise ValueError(
                f"image dtype {a.dtype} differs from reference dtype {b.dtype}; pass data_range explicitly"
            )
        data_range = default_data_range(b.dtype)
    if not data_range > 0:
        raise ValueError(f"data_range must be positive, got {data_range}")
    return a.astype(np.float64), b.astype(np.float64), float(data_range)


def psnr(image: ArrayLike, reference: ArrayLike, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio ``10 log10(data_range^2 / MSE)`` in dB.

    Args:
        image: the image under test, ``H x W`` or ``H x W x C``.
        reference: the ground truth, same shape (and, without ``data_range``, same dtype).
        data_range: peak-to-peak range of the pixel values; default from the reference dtype
            (255 for ``uint8``, 65535 for ``uint16``, 1.0 for float).

    Returns:
        The PSNR in dB over all pixels and channels; ``math.inf`` for identical images.

    Raises:
        ValueError: shapes differ, dtypes differ without ``data_range``, or bad ``data_range``.
    """
    a, b, data_range = _as_pair(image, reference, data_range)
    mse = float(np.mean((a - b) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(data_range * data_range / mse)


def gaussian_kernel(sigma: float = SSIM_SIGMA, radius: int = SSIM_RADIUS) -> NDArray[np.float64]:
    """A normalised 1-D Gaussian of ``2 * radius + 1`` taps (MATLAB ``fspecial`` style)."""
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return k / k.sum()


def filter_sep(image: NDArray[np.float64], kernel: NDArray[np.float64]) -> NDArray[np.float64]:
    """Correlates a float64 ``H x W`` image with the separable kernel ``kernel x kernel``.

    The output has the input size; its border (``len(kernel) // 2`` pixels) depends on
    reflection and is meant to be cropped by the caller.
    """
    return cv2.sepFilter2D(
        np.ascontiguousarray(image), cv2.CV_64F, kernel, kernel, borderType=cv2.BORDER_REFLECT
    )


def _local_statistics(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    """Gaussian-window local means, variances and covariance of two channels (SSIM's window)."""
    k = gaussian_kernel()
    mx, my = filter_sep(x, k), filter_sep(y, k)
    vx = filter_sep(x * x, k) - mx * mx
    vy = filter_sep(y * y, k) - my * my
    return mx, my, vx, vy, filter_sep(x * y, k) - mx * my


def _ssim_channel(x: NDArray[np.float64], y: NDArray[np.float64], data_range: float) -> float:
    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    mx, my, vx, vy, cxy = _local_statistics(x, y)
    s = ((2.0 * mx * my + c1) * (2.0 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    r = SSIM_RADIUS
    return float(s[r:-r, r:-r].mean())


def ssim(image: ArrayLike, reference: ArrayLike, data_range: float | None = None) -> float:
    """Mean SSIM index (Wang et al. 2004) with an 11 x 11 Gaussian window, sigma 1.5.

    K1 = 0.01, K2 = 0.03, population (biased) local variances, and the mean is taken over
    the pixels whose window lies inside the image (a 5 pixel border is left out), like
    ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False)``. Colour images score the mean of the per-channel SSIM
    (no colour conversion is done).

    Args:
        image: the image under test, ``H x W`` or ``H x W x C``, at least 11 x 11.
        reference: the ground truth, same shape (and, without ``data_range``, same dtype).
        data_range: peak-to-peak range of the pixel values; default from the reference dtype.

    Returns:
        The mean SSIM, at most 1.0 (exactly 1.0 for identical images).

    Raises:
        ValueError: shapes differ, image smaller than 11 x 11, or bad ``data_range``.
    """
    a, b, data_range = _as_pair(image, reference, data_range)
    size = 2 * SSIM_RADIUS + 1
    if min(a.shape[:2]) < size:
        raise ValueError(f"SSIM needs images of at least {size} x {size} pixels, got shape {a.shape}")
    if a.ndim == 2:
        return _ssim_channel(a, b, data_range)
    return float(np.mean([_ssim_channel(a[..., c], b[..., c], data_range) for c in range(a.shape[2])]))


class SsimTerms(NamedTuple):
    """SSIM's three factors, each averaged like :func:`ssim` (same window, border and channel mean).

    ``luminance`` compares local means, ``contrast`` local standard deviations, ``structure`` the local
    correlation; with SSIM's ``C3 = C2 / 2`` their per-pixel product is the SSIM map. ``contrast_ratio``
    is the median of ``sigma_image / sigma_reference`` (local standard deviations, +1 in both): below 1,
    the image is flatter than the reference.
    """

    luminance: float
    contrast: float
    structure: float
    contrast_ratio: float


def _ssim_terms_channel(x: NDArray[np.float64], y: NDArray[np.float64], data_range: float) -> NDArray:
    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    mx, my, vx, vy, cxy = _local_statistics(x, y)
    sx, sy = np.sqrt(np.maximum(vx, 0.0)), np.sqrt(np.maximum(vy, 0.0))
    r = SSIM_RADIUS
    inner = (slice(r, -r), slice(r, -r))
    luminance = (2.0 * mx * my + c1) / (mx * mx + my * my + c1)
    contrast = (2.0 * sx * sy + c2) / (sx * sx + sy * sy + c2)
    structure = (cxy + c2 / 2.0) / (sx * sy + c2 / 2.0)
    ratio = (sx + data_range / 255.0) / (sy + data_range / 255.0)
    return np.array(
        [luminance[inner].mean(), contrast[inner].mean(), structure[inner].mean(), np.median(ratio[inner])]
    )


def ssim_terms(image: ArrayLike, reference: ArrayLike, data_range: float | None = None) -> SsimTerms:
    """Where an SSIM score is lost: its luminance, contrast and structure factors (see :class:`SsimTerms`).

    Same inputs and conventions as :func:`ssim`.
    """
    a, b, data_range = _as_pair(image, reference, data_range)
    size = 2 * SSIM_RADIUS + 1
    if min(a.shape[:2]) < size:
        raise ValueError(f"SSIM needs images of at least {size} x {size} pixels, got shape {a.shape}")
    channels = [a] if a.ndim == 2 else [a[..., c] for c in range(a.shape[2])]
    references = [b] if b.ndim == 2 else [b[..., c] for c in range(b.shape[2])]
    terms = np.mean(
        [_ssim_terms_channel(x, y, data_range) for x, y in zip(channels, references, strict=True)], 0
    )
    return SsimTerms(*(float(t) for t in terms))


def mu_law(hdr: ArrayLike, mu: float = 5000.0) -> NDArray[np.float64]:
    """The mu-law tonemap ``log(1 + mu * x) / log(1 + mu)`` of a linear HDR image.

    Args:
        hdr: linear radiance, float, normalised so that the range of interest is [0, 1]
            (any layout). Values outside [0, 1] are clipped to it first.
        mu: compression strength (5000 in Kalantari & Ramamoorthi 2017).

    Returns:
        The tonemapped image as float64 in [0, 1], same shape.
    """
    x = np.clip(np.asarray(hdr, dtype=np.float64), 0.0, 1.0)
    return np.log1p(mu * x) / math.log1p(mu)


def _check_hdr_pair(hdr: ArrayLike, reference_hdr: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(hdr)
    b = np.asarray(reference_hdr)
    for name, arr in (("hdr", a), ("reference_hdr", b)):
        if not np.issubdtype(arr.dtype, np.floating):
            raise ValueError(f"{name} must be a float array of linear radiance in [0, 1], got {arr.dtype}")
    if a.shape != b.shape:
        raise ValueError(f"hdr shape {a.shape} does not match reference_hdr shape {b.shape}")
    return a, b


def psnr_mu(hdr: ArrayLike, reference_hdr: ArrayLike, mu: float = 5000.0) -> float:
    """PSNR-mu: the PSNR of mu-law tonemapped HDR images, the usual HDR reconstruction metric.

    As in Kalantari & Ramamoorthi, "Deep High Dynamic Range Imaging of Dynamic Scenes",
    SIGGRAPH 2017: both images are tonemapped with :func:`mu_law` and compared with
    :func:`psnr` at ``data_range=1``.

    Args:
        hdr: the reconstructed HDR image, float, linear (not gamma-encoded) radiance
            normalised to [0, 1]; ``H x W`` or ``H x W x C``. Values above 1 (and below 0)
            are clipped, so normalise (e.g. divide by the reference maximum) beforehand.
        reference_hdr: the ground truth HDR image, same shape and conventions.
        mu: mu-law compression strength.

    Returns:
        PSNR-mu in dB; ``math.inf`` when the tonemapped images are identical.

    Raises:
        ValueError: shapes differ or an input is not floating point.
    """
    a, b = _check_hdr_pair(hdr, reference_hdr)
    return psnr(mu_law(a, mu), mu_law(b, mu), data_range=1.0)


def psnr_l(hdr: ArrayLike, reference_hdr: ArrayLike) -> float:
    """PSNR-L: the PSNR of the linear images (clipped to [0, 1], ``data_range=1``); same conventions and
    errors as :func:`psnr_mu`."""
    a, b = _check_hdr_pair(hdr, reference_hdr)
    return psnr(np.clip(a, 0.0, 1.0), np.clip(b, 0.0, 1.0), data_range=1.0)


def ssim_mu(hdr: ArrayLike, reference_hdr: ArrayLike, mu: float = 5000.0) -> float:
    """SSIM-mu: :func:`ssim` of the mu-law tonemapped images (``data_range=1``); as :func:`psnr_mu`."""
    a, b = _check_hdr_pair(hdr, reference_hdr)
    return ssim(mu_law(a, mu), mu_law(b, mu), data_range=1.0)


def ssim_l(hdr: ArrayLike, reference_hdr: ArrayLike) -> float:
    """SSIM-L: :func:`ssim` of the linear images clipped to [0, 1] (``data_range=1``); as :func:`psnr_mu`."""
    a, b = _check_hdr_pair(hdr, reference_hdr)
    return ssim(np.clip(a, 0.0, 1.0), np.clip(b, 0.0, 1.0), data_range=1.0)
