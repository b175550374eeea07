"""Synthesise an exposure bracket from one well-exposed image.

Used for training-data augmentation, calibration data for int8 quantization and the example
brackets in the docs. Two models:

* :func:`synthesize_gamma_bracket`, the LUT-distill paper's eq. 7 (after Lv et al.): per-image
  random gamma curves applied to the display-referred (sRGB-encoded) pixel values.
* :func:`synthesize_camera_bracket`, a small camera model: linearise the image with the inverse
  sRGB EOTF, scale the radiance by ``2**ev``, add shot and read noise in the linear sensor domain,
  clip at the sensor's saturation level, apply a camera response curve and quantise to 8 bits;
  optionally with camera shake and a moving object for dynamic scenes.

Every image at the public boundary is ``uint8`` RGB, ``H x W x 3``; every bracket is
``N x H x W x 3`` uint8, ordered darkest to brightest. Every function is deterministic under its
random source: pass a :class:`numpy.random.Generator` (``rng=``) or an integer ``seed=``; the same
seed gives bit-identical output. With neither, seed 0 is used, so docs examples and calibration
sets are reproducible by default; for augmentation pass one shared Generator.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from edgemef.errors import BracketError

__all__ = [
    "CameraBracketConfig",
    "FrameMotion",
    "GammaBracketConfig",
    "GammaParams",
    "GammaResponse",
    "MovingObject",
    "ResponseCurve",
    "SRGBResponse",
    "SyntheticBracket",
    "apply_gamma_params",
    "expose_radiance",
    "linear_to_srgb",
    "random_camera_config",
    "sample_gamma_params",
    "shake_frames",
    "srgb_to_linear",
    "synthesize_camera_bracket",
    "synthesize_gamma_bracket",
]


# --------------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------------


def _resolve_rng(rng: np.random.Generator | None, seed: int | None) -> np.random.Generator:
    """The random source of a call: ``rng`` or a Generator seeded with ``seed`` (default 0)."""
    if rng is not None and seed is not None:
        raise ValueError("pass either rng or seed, not both")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        return rng
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ValueError(f"seed must be an int, got {type(seed).__name__}")
    return np.random.default_rng(0 if seed is None else int(seed))


def _check_image(image: np.ndarray) -> None:
    """Raise :class:`BracketError` unless ``image`` is a non-empty H x W x 3 uint8 array."""
    if not isinstance(image, np.ndarray):
        raise BracketError(f"bracket synthesis needs a numpy array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise BracketError(f"bracket synthesis needs an H x W x 3 RGB image, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise BracketError(f"bracket synthesis needs a uint8 image, got {image.dtype}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise BracketError(f"bracket synthesis needs a non-empty image, got shape {image.shape}")


def _check_range(
    name: str, value: Sequence[float], low: float, high: float, *, open_low: bool
) -> tuple[float, float]:
    """``value`` as a float (lo, hi) pair; ValueError unless lo <= hi and both lie in [low, high]."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(f"{name} must be a (low, high) pair, got {value!r}")
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold two numbers, got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if lo > hi:
        raise ValueError(f"{name} must have low <= high, got {value!r}")
    too_low = lo <= low if open_low else lo < low
    if too_low or hi > high:
        bracket = "(" if open_low else "["
        raise ValueError(f"{name} must lie in {bracket}{low}, {high}], got {value!r}")
    return lo, hi


def _quantize(encoded: np.ndarray) -> np.ndarray:
    """Display values in [0, 1] (float) -> uint8 with round-half-to-even and clipping."""
    return np.rint(np.clip(encoded, 0.0, 1.0) * 255.0).astype(np.uint8)


_SRGB_TO_LINEAR_LUT: np.ndarray | None = None


def srgb_to_linear(image: np.ndarray) -> np.ndarray:
    """Linearise sRGB-encoded values with the inverse sRGB transfer function (IEC 61966-2-1).

    Args:
        image: uint8 (0..255) or float (0..1) sRGB-encoded values, any shape.

    Returns:
        float32 linear values in [0, 1], same shape.
    """
    global _SRGB_TO_LINEAR_LUT
    if isinstance(image, np.ndarray) and image.dtype == np.uint8:
        if _SRGB_TO_LINEAR_LUT is None:
            codes = np.arange(256, dtype=np.float64) / 255.0
            _SRGB_TO_LINEAR_LUT = _srgb_decode(codes).astype(np.float32)
        return _SRGB_TO_LINEAR_LUT[image]
    return _srgb_decode(np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)).astype(np.float32)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Encode linear values in [0, 1] with the sRGB transfer function; returns float32 in [0, 1]."""
    return _srgb_encode(np.clip(np.asarray(linear, dtype=np.float32), 0.0, 1.0)).astype(np.float32)


def _srgb_decode(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _srgb_encode(x: np.ndarray) -> np.ndarray:
    out = np.maximum(x, x.dtype.type(0.0031308))
    np.power(out, x.dtype.type(1.0 / 2.4), out=out)
    out *= x.dtype.type(1.055)
    out -= x.dtype.type(0.055)
    low = x <= 0.0031308
    out[low] = x[low] * x.dtype.type(12.92)
    return out


# --------------------------------------------------------------------------------------------------
# (a) The LUT-distill paper's gamma model (its eq. 7)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GammaBracketConfig:
    """Sampling ranges of the LUT-distill paper's eq. 7, ``I_out = beta * (alpha * I)**gamma``.

    Each parameter is drawn from a uniform distribution over its ``(low, high)`` range; the
    defaults are the paper's: alpha ~ U(0.9, 1), beta ~ U(0.5, 1), gamma ~ U(1.5, 5).
    ``alpha`` and ``beta`` must lie in (0, 1] and ``gamma`` in [1, inf): this is what makes the
    curve darken every pixel (and its mirrored form brighten every pixel), which is how the
    bracket comes out ordered darkest to brightest by construction. A range with
    ``low == high`` fixes that parameter.

    Attributes:
        alpha_range: range of the linear pre-scale alpha, in (0, 1].
        beta_range: range of the linear post-scale beta, in (0, 1].
        gamma_range: range of the gamma exponent, in [1, 1000].
    """

    alpha_range: tuple[float, float] = (0.9, 1.0)
    beta_range: tuple[float, float] = (0.5, 1.0)
    gamma_range: tuple[float, float] = (1.5, 5.0)

    def __post_init__(self) -> None:
        for name, low, high, open_low in (
            ("alpha_range", 0.0, 1.0, True),
            ("beta_range", 0.0, 1.0, True),
            ("gamma_range", 1.0, 1000.0, False),
        ):
            pair = _check_range(name, getattr(self, name), low, high, open_low=open_low)
            object.__setattr__(self, name, pair)


@dataclass(frozen=True)
class GammaParams:
    """The transform of one synthetic exposure of the gamma model.

    ``kind`` says how the paper's curve ``f(x) = beta * (alpha * x)**gamma`` (x in [0, 1], the
    sRGB-encoded pixel value, the same curve for R, G and B) makes the frame:

    * ``"under"``: ``f(x)`` (eq. 7 as written; darkens every pixel).
    * ``"over"``: ``1 - f(1 - x)``, eq. 7 applied to the negative image (brightens every pixel).
    * ``"identity"``: ``x``, the input itself (the middle frame of an odd-length bracket);
      alpha, beta and gamma are 1.

    Attributes:
        kind: "under", "over" or "identity".
        alpha: linear pre-scale alpha.
        beta: linear post-scale beta.
        gamma: gamma exponent.
    """

    kind: str
    alpha: float
    beta: float
    gamma: float

    def __post_init__(self) -> None:
        if self.kind not in ("under", "over", "identity"):
            raise ValueError(f"kind must be 'under', 'over' or 'identity', got {self.kind!r}")
        if not (0.0 < self.alpha <= 1.0 and 0.0 < self.beta <= 1.0 and self.gamma >= 1.0):
            raise ValueError(
                f"need 0 < alpha <= 1, 0 < beta <= 1, gamma >= 1, got alpha={self.alpha}, "
                f"beta={self.beta}, gamma={self.gamma}"
            )

    def curve(self, x: np.ndarray) -> np.ndarray:
        """Apply this transform to display values ``x`` in [0, 1] (float64 in, float64 out)."""
        x = np.asarray(x, dtype=np.float64)
        if self.kind == "identity":
            return x.copy()
        if self.kind == "under":
            return self.beta * np.power(self.alpha * x, self.gamma)
        return 1.0 - self.beta * np.power(self.alpha * (1.0 - x), self.gamma)


def _n_under_over(n_exposures: int) -> tuple[int, int, bool]:
    if isinstance(n_exposures, bool) or not isinstance(n_exposures, (int, np.integer)):
        raise ValueError(f"n_exposures must be an int, got {type(n_exposures).__name__}")
    if n_exposures < 2:
        raise ValueError(f"a bracket needs n_exposures >= 2, got {n_exposures}")
    k = int(n_exposures) // 2
    return k, k, bool(n_exposures % 2)


def sample_gamma_params(
    n_exposures: int = 3,
    config: GammaBracketConfig = GammaBracketConfig(),
    rng: np.random.Generator | None = None,
    *,
    seed: int | None = None,
) -> tuple[GammaParams, ...]:
    """Draw the per-frame transforms of a gamma-model bracket, ordered darkest to brightest.

    The bracket has ``k = n_exposures // 2`` under-exposed frames, then the input itself when
    ``n_exposures`` is odd, then ``k`` over-exposed frames. With ``k == 1`` (the paper's 2- and
    3-exposure sets) each of alpha, beta and gamma is drawn from exactly the configured uniform
    range, independently for the under and the over frame. With ``k > 1`` each range is cut into
    ``k`` equal strata and the j-th strongest frame draws from the j-th stratum (largest gamma,
    smallest alpha and beta for the most extreme frame), so every parameter stays inside the
    paper's range and the curves are pointwise ordered: darkest to brightest by construction.

    Args:
        n_exposures: number of frames N >= 2.
        config: the sampling ranges.
        rng: the random source (or pass ``seed``).
        seed: convenience seed for a fresh Generator.

    Returns:
        N :class:`GammaParams`, darkest first.
    """
    k_under, k_over, middle = _n_under_over(n_exposures)
    gen = _resolve_rng(rng, seed)

    def strata(count: int) -> list[GammaParams]:
        # index 0 = the strongest curve (the most extreme exposure)
        out = []
        for j in range(count):
            lo_a, hi_a = config.alpha_range
            lo_b, hi_b = config.beta_range
            lo_g, hi_g = config.gamma_range
            da, db, dg = (hi_a - lo_a) / count, (hi_b - lo_b) / count, (hi_g - lo_g) / count
            alpha = min(lo_a + da * (j + gen.random()), hi_a)
            beta = min(lo_b + db * (j + gen.random()), hi_b)
            gamma = max(hi_g - dg * (j + gen.random()), lo_g)
            out.append((alpha, beta, gamma))
        return [GammaParams("under", a, b, g) for a, b, g in out]

    under = strata(k_under)  # strongest first = darkest first
    over = [GammaParams("over", p.alpha, p.beta, p.gamma) for p in strata(k_over)][::-1]
    ident = [GammaParams("identity", 1.0, 1.0, 1.0)] if middle else []
    return tuple(under + ident + over)


def apply_gamma_params(image: np.ndarray, params: GammaParams) -> np.ndarray:
    """Render one gamma-model exposure of ``image``.

    Args:
        image: uint8 RGB H x W x 3 (sRGB-encoded; the curve acts on these values / 255, as in the
            paper, not on linear light).
        params: the transform.

    Returns:
        uint8 RGB H x W x 3: ``round(255 * curve(image / 255))``.
    """
    _check_image(image)
    lut = _quantize(params.curve(np.arange(256, dtype=np.float64) / 255.0))
    return lut[image]


def synthesize_gamma_bracket(
    image: np.ndarray,
    n_exposures: int = 3,
    config: GammaBracketConfig = GammaBracketConfig(),
    rng: np.random.Generator | None = None,
    *,
    seed: int | None = None,
) -> np.ndarray:
    """Synthesise a bracket with the LUT-distill paper's eq. 7.

    The paper (Sec. IV, "Dataset") says: "The underexposed and overexposed images of the document
    image can be formulated as follows according to the method proposed by Lv et al. [15]:
    I_out = beta x (alpha x I_in)^gamma, i in {R, G, B}", with "alpha ~ U(0.9, 1),
    beta ~ U(0.5, 1), gamma ~ U(1.5, 5)". With these ranges the formula can only darken
    (alpha, beta <= 1 and gamma > 1 give I_out <= I_in): it is Lv et al.'s low-light simulation,
    and the paper does not say how the over-exposed image is made. We read it as:

    * under-exposure: eq. 7 as written, ``beta * (alpha * I)**gamma``;
    * over-exposure: eq. 7 applied to the negative image, ``1 - beta * (alpha * (1 - I))**gamma``,
      with its own draw of alpha, beta, gamma from the same ranges.

    The mirrored form is chosen over ``beta * (alpha * I)**(1 / gamma)`` because the latter still
    scales white down to ``beta * alpha**(1/gamma)`` (as low as 0.5): it lifts shadows but dims
    highlights and never saturates, which is not what an over-exposed photo looks like. The
    mirror crushes highlights towards 1 exactly as the under-exposure crushes shadows towards 0,
    and keeps the paper's parameter distribution. The curve acts on the sRGB-encoded pixel values
    in [0, 1] with the same parameters for R, G and B (the paper's "i in {R, G, B}"); the paper's
    extra CycleGAN noise/blur step is not reproduced.

    Frame layout: ``N // 2`` under-exposed frames, the unchanged input when N is odd (the
    paper's datasets are short/medium/long triples; its document set short/long pairs), then
    ``N // 2`` over-exposed frames; see :func:`sample_gamma_params` for N > 3.

    Args:
        image: the well-exposed scene, uint8 RGB H x W x 3 (sRGB).
        n_exposures: number of frames N >= 2.
        config: the sampling ranges (default: the paper's).
        rng: the random source (or pass ``seed``).
        seed: convenience seed for a fresh Generator.

    Returns:
        uint8 RGB bracket, N x H x W x 3, darkest to brightest (every pixel of frame i is <= the
        same pixel of frame i + 1).

    Raises:
        BracketError: ``image`` is not a non-empty H x W x 3 uint8 array.
        ValueError: ``n_exposures`` < 2, or both ``rng`` and ``seed`` given.
    """
    _check_image(image)
    params = sample_gamma_params(n_exposures, config, rng, seed=seed)
    return np.stack([apply_gamma_params(image, p) for p in params])


# --------------------------------------------------------------------------------------------------
# (b) Camera-response model
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SRGBResponse:
    """The sRGB transfer function as camera response curve (linear [0, 1] -> display [0, 1])."""

    def encode(self, linear: np.ndarray) -> np.ndarray:
        """Linear sensor values in [0, 1] -> display values in [0, 1] (float32)."""
        return linear_to_srgb(linear)

    def decode(self, encoded: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`encode`: display values (uint8 or float [0, 1]) -> linear float32."""
        return srgb_to_linear(encoded)


@dataclass(frozen=True)
class GammaResponse:
    """A parametric response: a power law followed by an optional contrast S-curve.

    ``y = x**(1 / gamma)``, then ``S(y) = (sig(c (y - 1/2)) - sig(-c/2)) / (sig(c/2) - sig(-c/2))``
    with the logistic ``sig``; ``S`` is monotone, fixes 0 and 1, and is the identity for
    ``contrast == 0``. ``gamma=1, contrast=0`` is a linear camera.

    Attributes:
        gamma: display gamma, > 0 (2.2 is typical).
        contrast: S-curve strength c >= 0 (0 = none, 4..8 = a punchy film-like look).
    """

    gamma: float = 2.2
    contrast: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.gamma) and 0.05 <= self.gamma <= 20.0):
            raise ValueError(f"GammaResponse.gamma must be in [0.05, 20], got {self.gamma}")
        if not (math.isfinite(self.contrast) and 0.0 <= self.contrast <= 50.0):
            raise ValueError(f"GammaResponse.contrast must be in [0, 50], got {self.contrast}")

    def _sig_ends(self) -> tuple[float, float]:
        c = self.contrast
        return 1.0 / (1.0 + math.exp(c / 2.0)), 1.0 / (1.0 + math.exp(-c / 2.0))

    def encode(self, linear: np.ndarray) -> np.ndarray:
        """Linear sensor values in [0, 1] -> display values in [0, 1] (float32)."""
        x = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
        y = np.power(x, 1.0 / self.gamma)
        if self.contrast > 0.0:
            lo, hi = self._sig_ends()
            y = (1.0 / (1.0 + np.exp(-self.contrast * (y - 0.5))) - lo) / (hi - lo)
        return np.clip(y, 0.0, 1.0).astype(np.float32)

    def decode(self, encoded: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`encode`: display values (uint8 or float [0, 1]) -> linear float32."""
        e = np.asarray(encoded)
        y = e.astype(np.float64) / 255.0 if e.dtype == np.uint8 else np.asarray(e, dtype=np.float64)
        y = np.clip(y, 0.0, 1.0)
        if self.contrast > 0.0:
            lo, hi = self._sig_ends()
            z = np.clip(y * (hi - lo) + lo, 1e-300, 1.0 - 1e-16)
            y = np.clip(0.5 + np.log(z / (1.0 - z)) / self.contrast, 0.0, 1.0)
        return np.power(y, self.gamma).astype(np.float32)


ResponseCurve = SRGBResponse | GammaResponse
"""A camera response curve: maps linear sensor values in [0, 1] to display values in [0, 1]."""


@dataclass(frozen=True)
class CameraBracketConfig:
    """Settings of the camera-response bracket model.

    Units: "linear" values are normalised sensor signal, 1.0 = the saturation level (full
    well) of the sensor; the input image, linearised with the inverse sRGB EOTF, is the scene
    radiance as the EV-0 frame sees it.

    Attributes:
        ev_stops: EV offset of every frame relative to the scene's exposure, strictly
            increasing (the bracket is darkest to brightest). Frame i gathers ``2**ev_stops[i]``
            times the light of the input.
        response: camera response curve applied after clipping (default sRGB).
        shot_noise_gain: shot-noise variance per unit of linear signal, ``1 / full_well_electrons``
            (1e-4 = a 10,000 e- full well); 0 turns shot noise off. Modelled as Gaussian with
            variance ``shot_noise_gain * signal``.
        read_noise_std: read-noise standard deviation in linear units (1/255 is about 1 DN of a
            linear 8-bit sensor); 0 turns it off.
        global_motion_px: camera shake, the largest translation (Euclidean length, pixels) of a
            non-reference frame; 0 turns it off. The reference frame is never moved.
        global_rotation_deg: camera shake, the largest rotation (degrees, about the image centre)
            of a non-reference frame; 0 turns it off.
        local_motion: add one moving object (an elliptical patch copied from elsewhere in the
            scene, pasted with a soft edge at a per-frame position).
        local_motion_px: the largest displacement (Euclidean length, pixels) of the object in a
            non-reference frame relative to its place in the reference frame.
        object_size: the object's semi-axes are drawn from this fraction range of
            ``min(H, W)``.
    """

    ev_stops: tuple[float, ...] = (-2.0, 0.0, 2.0)
    response: ResponseCurve = field(default_factory=SRGBResponse)
    shot_noise_gain: float = 1e-4
    read_noise_std: float = 1e-3
    global_motion_px: float = 0.0
    global_rotation_deg: float = 0.0
    local_motion: bool = False
    local_motion_px: float = 8.0
    object_size: tuple[float, float] = (0.1, 0.25)

    def __post_init__(self) -> None:
        evs = self.ev_stops
        if isinstance(evs, (str, bytes)) or not isinstance(evs, Sequence):
            raise ValueError(f"ev_stops must be a sequence of numbers, got {type(evs).__name__}")
        if len(evs) == 0:
            raise ValueError("ev_stops must not be empty: a bracket needs at least one exposure")
        try:
            evs = tuple(float(v) for v in evs)
        except (TypeError, ValueError):
            raise ValueError(f"ev_stops must hold numbers, got {self.ev_stops!r}") from None
        if not all(math.isfinite(v) for v in evs):
            raise ValueError(f"ev_stops must be finite numbers, got {evs!r}")
        if any(abs(v) > 16.0 for v in evs):
            raise ValueError(f"ev_stops must lie in [-16, 16], got {evs!r}")
        if any(b <= a for a, b in itertools.pairwise(evs)):
            raise ValueError(
                f"ev_stops must be strictly increasing (darkest first, no duplicates), got {evs!r}"
            )
        if not isinstance(self.response, (SRGBResponse, GammaResponse)):
            raise ValueError(
                f"response must be SRGBResponse or GammaResponse, got {type(self.response).__name__}"
            )
        for name in ("shot_noise_gain", "read_noise_std", "global_motion_px", "global_rotation_deg"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if self.shot_noise_gain > 1.0 or self.read_noise_std > 1.0:
            raise ValueError("noise levels are in linear units of full well and must be <= 1")
        if self.global_rotation_deg > 45.0:
            raise ValueError(f"global_rotation_deg must be <= 45, got {self.global_rotation_deg}")
        if not (math.isfinite(self.local_motion_px) and self.local_motion_px >= 0.0):
            raise ValueError(f"local_motion_px must be a finite number >= 0, got {self.local_motion_px}")
        object.__setattr__(self, "ev_stops", evs)
        object.__setattr__(
            self, "object_size", _check_range("object_size", self.object_size, 0.0, 0.5, open_low=True)
        )

    @property
    def reference_index(self) -> int:
        """Index of the reference frame: the EV closest to 0 (the darker one on a tie)."""
        return int(np.argmin(np.abs(np.asarray(self.ev_stops, dtype=np.float64))))


@dataclass(frozen=True)
class FrameMotion:
    """Motion of one synthetic frame relative to the reference frame.

    Attributes:
        shift_px: camera-shake translation (dx, dy) in pixels; image content moves by it.
        rotation_deg: camera-shake rotation in degrees about the image centre
            ((W - 1) / 2, (H - 1) / 2), counter-clockwise as in ``cv2.getRotationMatrix2D``.
        object_shift_px: displacement (dx, dy) of the moving object from its reference place,
            before the camera shake; (0, 0) without local motion.
    """

    shift_px: tuple[float, float] = (0.0, 0.0)
    rotation_deg: float = 0.0
    object_shift_px: tuple[float, float] = (0.0, 0.0)

    def affine(self, height: int, width: int) -> np.ndarray:
        """The 2 x 3 forward camera-shake matrix (as passed to ``cv2.warpAffine``)."""
        centre = ((width - 1) / 2.0, (height - 1) / 2.0)
        matrix = cv2.getRotationMatrix2D(centre, self.rotation_deg, 1.0)
        matrix[:, 2] += np.asarray(self.shift_px, dtype=np.float64)
        return matrix


@dataclass(frozen=True)
class MovingObject:
    """The moving object of a dynamic synthetic scene.

    An ellipse of the scene centred at ``source_center`` is copied and pasted (soft edge) centred
    at ``center + object_shift_px`` of each frame (at ``center`` in the reference frame).

    Attributes:
        source_center: (x, y) in pixels of the scene patch that is the object's texture.
        center: (x, y) in pixels of the object in the reference frame.
        semi_axes: (a, b) semi-axes in pixels along x and y; the mask is 0 outside the ellipse.
    """

    source_center: tuple[float, float]
    center: tuple[float, float]
    semi_axes: tuple[float, float]

    def bbox(self, shift: tuple[float, float] = (0.0, 0.0)) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) pixel box (exclusive end, unclipped) containing the shifted object."""
        cx, cy = self.center[0] + shift[0], self.center[1] + shift[1]
        a, b = self.semi_axes
        return (math.floor(cx - a), math.floor(cy - b), math.ceil(cx + a) + 1, math.ceil(cy + b) + 1)


@dataclass(frozen=True, eq=False)
class SyntheticBracket:
    """A synthetic exposure bracket and its ground truth.

    Attributes:
        frames: uint8 RGB, N x H x W x 3, darkest to brightest (ordered by ``ev_stops``).
        ev_stops: EV offset of each frame (strictly increasing).
        exposure_times: relative exposure time of each frame, ``2**ev`` (EV 0 = 1.0), so EXIF-like
            ordering works.
        reference_index: index of the reference frame (EV closest to 0), which has no motion.
        reference: uint8 RGB H x W x 3, the scene as an EV-0 frame would look with no noise and
            no camera shake (the moving object at its reference place), through the same
            response curve: the target for dynamic-scene models. Equals the input for an sRGB
            response without local motion (up to rounding).
        radiance: float32 H x W x 3, linear scene radiance in the reference geometry (1.0 = the
            EV-0 saturation level: values are in [0, 1] for a bracket synthesised from an sRGB
            image, beyond 1 for one exposed from HDR radiance by :func:`expose_radiance`).
        motions: one :class:`FrameMotion` per frame (all zero for the reference frame).
        moving_object: the :class:`MovingObject`, or None without local motion.
    """

    frames: np.ndarray
    ev_stops: tuple[float, ...]
    exposure_times: tuple[float, ...]
    reference_index: int
    reference: np.ndarray
    radiance: np.ndarray
    motions: tuple[FrameMotion, ...]
    moving_object: MovingObject | None

    def __len__(self) -> int:
        return self.frames.shape[0]


def _sample_disc(gen: np.random.Generator, radius: float) -> tuple[float, float]:
    """A point uniform in the disc of ``radius`` (two draws even when radius is 0)."""
    r = radius * math.sqrt(gen.random())
    theta = 2.0 * math.pi * gen.random()
    return (r * math.cos(theta), r * math.sin(theta))


def _sample_object(gen: np.random.Generator, config: CameraBracketConfig, h: int, w: int) -> MovingObject:
    lo, hi = config.object_size
    side = min(h, w)
    a = max(1.0, side * gen.uniform(lo, hi))
    b = max(1.0, side * gen.uniform(lo, hi))
    center = (gen.uniform(0.0, w - 1.0), gen.uniform(0.0, h - 1.0))
    source = (gen.uniform(0.0, w - 1.0), gen.uniform(0.0, h - 1.0))
    return MovingObject(source_center=source, center=center, semi_axes=(a, b))


def _object_mask(obj: MovingObject, shift: tuple[float, float], h: int, w: int) -> np.ndarray:
    """Soft ellipse mask (float32 H x W, 1 inside, 0 outside the ellipse, smooth edge)."""
    a, b = obj.semi_axes
    cx, cy = obj.center[0] + shift[0], obj.center[1] + shift[1]
    ys = (np.arange(h, dtype=np.float32)[:, None] - np.float32(cy)) / np.float32(b)
    xs = (np.arange(w, dtype=np.float32)[None, :] - np.float32(cx)) / np.float32(a)
    rho = np.sqrt(xs * xs + ys * ys)
    feather = max(1.0, 0.25 * min(a, b))  # edge width in pixels
    t = np.clip((1.0 - rho) * np.float32(min(a, b) / feather), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def _composite_object(radiance: np.ndarray, obj: MovingObject, shift: tuple[float, float]) -> np.ndarray:
    """``radiance`` with the object pasted at its (shifted) place."""
    h, w = radiance.shape[:2]
    dx = obj.center[0] + shift[0] - obj.source_center[0]
    dy = obj.center[1] + shift[1] - obj.source_center[1]
    matrix = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], dtype=np.float64)
    texture = cv2.warpAffine(radiance, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    mask = _object_mask(obj, shift, h, w)[..., None]
    return (radiance + mask * (texture - radiance)).astype(np.float32)


def synthesize_camera_bracket(
    image: np.ndarray,
    config: CameraBracketConfig = CameraBracketConfig(),
    rng: np.random.Generator | None = None,
    *,
    seed: int | None = None,
) -> SyntheticBracket:
    """Synthesise a bracket with a small camera model.

    Pipeline per frame i (all in float32):

    1. radiance ``L = srgb_to_linear(image)`` (the inverse sRGB EOTF; the input is taken as
       display-referred sRGB of a well-exposed shot, so ``L`` is in [0, 1]);
    2. with ``local_motion``: the moving object is pasted at its frame-i place (its reference
       place in the reference frame; this composite is the ground-truth ``radiance``);
    3. camera shake: ``cv2.warpAffine`` (bilinear, reflect border) by the frame's rotation and
       translation (the reference frame is not moved);
    4. exposure: ``S = L * 2**ev_i``;
    5. noise in the linear sensor domain:
       ``S + N(0, shot_noise_gain * S + read_noise_std**2)``;
    6. clipping to [0, 1]: 1 is the sensor's saturation level (full well);
    7. the camera response curve, then rounding to 8 bits.

    Random draws, in order: per frame the shake (translation, rotation), then the object
    (shape, places, per-frame displacements), then per frame the noise; the same seed gives
    bit-identical output.

    Args:
        image: the well-exposed scene, uint8 RGB H x W x 3 (sRGB).
        config: the camera model.
        rng: the random source (or pass ``seed``).
        seed: convenience seed for a fresh Generator.

    Returns:
        A :class:`SyntheticBracket` whose ``frames`` are uint8 RGB N x H x W x 3, darkest to
        brightest (in ``ev_stops`` order; frames of a scene that saturates everywhere can tie).

    Raises:
        BracketError: ``image`` is not a non-empty H x W x 3 uint8 array.
        ValueError: both ``rng`` and ``seed`` given.
    """
    _check_image(image)
    return expose_radiance(srgb_to_linear(image), config, _resolve_rng(rng, seed))


def expose_radiance(
    radiance: np.ndarray,
    config: CameraBracketConfig = CameraBracketConfig(),
    rng: np.random.Generator | None = None,
    *,
    seed: int | None = None,
) -> SyntheticBracket:
    """Steps 2-7 of :func:`synthesize_camera_bracket` on linear scene radiance: a bracket of a scene whose
    radiance is known, e.g. a real HDR radiance map (:mod:`edgemef.data.hdr_brackets`).

    Args:
        radiance: float32 ``H x W x 3``, linear, in units of the EV-0 frame's saturation level (values above
            1 clip in that frame; an HDR scene has them).
        config: the camera model.
        rng: the random source (or pass ``seed``).
        seed: convenience seed for a fresh Generator.

    Returns:
        A :class:`SyntheticBracket`; its ``radiance`` is the input (with the moving object at its reference
        place), not clipped.
    """
    gen = _resolve_rng(rng, seed)
    if not (
        isinstance(radiance, np.ndarray)
        and radiance.ndim == 3
        and radiance.shape[2] == 3
        and radiance.shape[0] > 0
        and radiance.shape[1] > 0
        and np.issubdtype(radiance.dtype, np.floating)
    ):
        raise BracketError(
            f"expose_radiance needs float H x W x 3 radiance, got {getattr(radiance, 'shape', radiance)}"
        )
    h, w = radiance.shape[:2]
    n = len(config.ev_stops)
    ref = config.reference_index

    # 1. motion parameters
    shakes: list[tuple[tuple[float, float], float]] = []
    for i in range(n):
        shift = _sample_disc(gen, config.global_motion_px)
        rotation = config.global_rotation_deg * (2.0 * gen.random() - 1.0)
        shakes.append(((0.0, 0.0), 0.0) if i == ref else (shift, rotation))
    obj: MovingObject | None = None
    object_shifts = [(0.0, 0.0)] * n
    if config.local_motion:
        obj = _sample_object(gen, config, h, w)
        object_shifts = [_sample_disc(gen, config.local_motion_px) for _ in range(n)]
        object_shifts[ref] = (0.0, 0.0)
    motions = tuple(
        FrameMotion(shift_px=s, rotation_deg=r, object_shift_px=o)
        for (s, r), o in zip(shakes, object_shifts, strict=True)
    )

    # 2. ground truth
    base = np.asarray(radiance, dtype=np.float32)
    radiance = base if obj is None else _composite_object(base, obj, (0.0, 0.0))
    reference = _quantize(config.response.encode(np.clip(radiance, 0.0, 1.0)))

    # 3. frames
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    for i, (ev, motion) in enumerate(zip(config.ev_stops, motions, strict=True)):
        scene = radiance
        if obj is not None and i != ref:
            scene = _composite_object(base, obj, motion.object_shift_px)
        if motion.shift_px != (0.0, 0.0) or motion.rotation_deg != 0.0:
            scene = cv2.warpAffine(
                scene,
                motion.affine(h, w),
                (w, h),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT,
            )
        signal = scene * np.float32(2.0**ev)
        if config.shot_noise_gain > 0.0 or config.read_noise_std > 0.0:
            variance = np.float32(config.shot_noise_gain) * signal + np.float32(config.read_noise_std**2)
            noise = gen.standard_normal(signal.shape, dtype=np.float32)
            signal = signal + noise * np.sqrt(variance)
        frames[i] = _quantize(config.response.encode(np.clip(signal, 0.0, 1.0)))

    return SyntheticBracket(
        frames=frames,
        ev_stops=tuple(float(v) for v in config.ev_stops),
        exposure_times=tuple(float(2.0**v) for v in config.ev_stops),
        reference_index=ref,
        reference=reference,
        radiance=radiance.astype(np.float32, copy=True),
        motions=motions,
        moving_object=obj,
    )


def random_camera_config(
    rng: np.random.Generator | None = None,
    *,
    seed: int | None = None,
    frame_counts: Sequence[int] = (2, 3),
    ev_spread: tuple[float, float] = (1.0, 3.0),
    noise: bool = True,
    motion: bool = False,
) -> CameraBracketConfig:
    """Sample a :class:`CameraBracketConfig` for augmentation.

    * frame count: uniform over ``frame_counts``;
    * EV step between neighbouring frames: uniform in ``ev_spread``; the stops are
      ``(-s, 0, s)``-like around 0 for odd counts and, for even counts, 0 plus frames on a
      random side, so the reference is always an EV-0 frame;
    * response: sRGB or :class:`GammaResponse` (gamma ~ U(1.8, 2.6), contrast ~ U(0, 6)), evenly;
    * with ``noise``: shot_noise_gain log-uniform in [1e-5, 1e-3] (full well 100k..1k e-),
      read_noise_std log-uniform in [1e-4, 5e-3]; otherwise both 0;
    * with ``motion``: global_motion_px ~ U(0, 4), global_rotation_deg ~ U(0, 1) and, with
      probability 1/2, a moving object with local_motion_px ~ U(2, 16).

    Args:
        rng: the random source (or pass ``seed``).
        seed: convenience seed for a fresh Generator.
        frame_counts: frame counts to choose from (each in [2, 9]).
        ev_spread: (low, high) EV step between neighbouring frames, 0 < low <= high <= 8.
        noise: sample noise levels (else noise-free).
        motion: sample camera shake and local motion (else static).

    Returns:
        A valid :class:`CameraBracketConfig`.
    """
    gen = _resolve_rng(rng, seed)
    counts = [int(c) for c in frame_counts]
    if not counts or any(c < 2 or c > 9 for c in counts):
        raise ValueError(f"frame_counts must be a non-empty list of ints in [2, 9], got {frame_counts!r}")
    spread = _check_range("ev_spread", ev_spread, 0.0, 8.0, open_low=True)

    n = counts[int(gen.integers(len(counts)))]
    step = float(gen.uniform(*spread))
    below = (n - 1) // 2 if n % 2 else (n // 2 - int(gen.integers(2)))
    evs = tuple(step * (i - below) for i in range(n))

    if gen.random() < 0.5:
        response: ResponseCurve = SRGBResponse()
    else:
        response = GammaResponse(gamma=float(gen.uniform(1.8, 2.6)), contrast=float(gen.uniform(0.0, 6.0)))

    shot = read = 0.0
    if noise:
        shot = float(10.0 ** gen.uniform(-5.0, -3.0))
        read = float(10.0 ** gen.uniform(-4.0, math.log10(5e-3)))

    shake = rotation = 0.0
    local, local_px = False, 8.0
    if motion:
        shake = float(gen.uniform(0.0, 4.0))
        rotation = float(gen.uniform(0.0, 1.0))
        local = bool(gen.random() < 0.5)
        local_px = float(gen.uniform(2.0, 16.0))

    return CameraBracketConfig(
        ev_stops=evs,
        response=response,
        shot_noise_gain=shot,
        read_noise_std=read,
        global_motion_px=shake,
        global_rotation_deg=rotation,
        local_motion=local,
        local_motion_px=local_px,
    )


def shake_frames(
    frames: np.ndarray,
    rng: np.random.Generator,
    shift_px: tuple[float, float],
    max_rotation_deg: float = 0.5,
) -> np.ndarray:
    """Camera shake between the frames of a static bracket: every frame but the brightest (the last) is
    moved by its own translation, of a length uniform in ``shift_px`` (low, high) pixels in a uniformly
    random direction, and a rotation uniform in +-``max_rotation_deg`` about the centre (bilinear, reflected
    borders). The brightest frame, and so a reference aligned with it, keeps its geometry.

    Args:
        frames: ``N x H x W x C`` (any dtype ``cv2.warpAffine`` takes), darkest first.
        rng: the random source.
        shift_px: (low, high) translation length in pixels, 0 <= low <= high.
        max_rotation_deg: the largest rotation, degrees.

    Returns:
        A new array of the same shape and dtype.
    """
    low, high = (float(v) for v in shift_px)
    if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low <= high):
        raise ValueError(f"shift_px must be (low, high) with 0 <= low <= high, got {shift_px!r}")
    if not (math.isfinite(max_rotation_deg) and max_rotation_deg >= 0.0):
        raise ValueError(f"max_rotation_deg must be a finite number >= 0, got {max_rotation_deg}")
    shaken = frames.copy()
    height, width = frames.shape[1:3]
    for index in range(len(frames) - 1):
        length = rng.uniform(low, high)
        angle = 2.0 * math.pi * rng.random()
        motion = FrameMotion(
            shift_px=(length * math.cos(angle), length * math.sin(angle)),
            rotation_deg=float(rng.uniform(-max_rotation_deg, max_rotation_deg)),
        )
        warped = cv2.warpAffine(
            np.ascontiguousarray(frames[index]),
            motion.affine(height, width),
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )
        shaken[index] = warped.reshape(shaken[index].shape)
    return shaken
