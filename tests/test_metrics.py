"""Tests of edgemef.metrics: PSNR, SSIM, PSNR-mu and MEF-SSIM."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from edgemef.errors import BracketError
from edgemef.metrics import (
    MEF_SSIM_SCALE_WEIGHTS,
    mef_ssim,
    mef_ssim_details,
    mu_law,
    psnr,
    psnr_mu,
    ssim,
    ssim_terms,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SICE = DATA / "sice"

FAST = settings(max_examples=20, deadline=None)


# ----------------------------------------------------------------------------- helpers
def textured(h: int = 96, w: int = 128) -> np.ndarray:
    """A deterministic uint8 RGB test image: smooth gradient plus sinusoidal texture."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    base = 40.0 + 170.0 * (xx / (w - 1)) * (0.6 + 0.4 * yy / (h - 1))
    tex = 25.0 * np.sin(xx / 3.0) * np.cos(yy / 5.0) + 15.0 * np.sin((xx + 2.0 * yy) / 7.0)
    rgb = np.stack([base + tex, 0.9 * base + tex, 0.8 * base + 0.5 * tex], axis=-1)
    return np.clip(np.floor(rgb + 0.5), 0, 255).astype(np.uint8)


def synthetic_bracket(image: np.ndarray, times: tuple[float, ...] = (0.25, 1.0, 4.0)) -> np.ndarray:
    """N x H x W x 3 uint8 exposures of ``image`` (taken as gamma-2.2 encoded), darkest first."""
    linear = (image.astype(np.float64) / 255.0) ** 2.2
    frames = [np.clip(linear * t, 0.0, 1.0) ** (1.0 / 2.2) * 255.0 for t in times]
    return np.stack([np.clip(np.floor(f + 0.5), 0, 255).astype(np.uint8) for f in frames])


def mertens(bracket: np.ndarray) -> np.ndarray:
    """Mertens et al. exposure fusion (OpenCV, default weights) of an RGB bracket, as uint8 RGB."""
    fused = cv2.createMergeMertens().process([np.ascontiguousarray(f[..., ::-1]) for f in bracket])
    return np.clip(np.floor(fused[..., ::-1] * 255.0 + 0.5), 0, 255).astype(np.uint8)


def add_noise(image: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, sigma, image.shape)
    return np.clip(np.floor(image + noise + 0.5), 0, 255).astype(np.uint8)


def read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def skimage_ssim(a: np.ndarray, b: np.ndarray, data_range: float) -> float:
    return structural_similarity(
        a,
        b,
        channel_axis=2 if a.ndim == 3 else None,
        data_range=data_range,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
    )


IMAGE = textured()
BRACKET = synthetic_bracket(IMAGE)
FUSED = mertens(BRACKET)


# ----------------------------------------------------------------------------- PSNR
def test_psnr_hand_computed_value():
    ref = np.zeros((4, 4), np.uint8)
    img = ref.copy()
    img[1, 2] = 10  # MSE = 100 / 16
    assert psnr(img, ref) == pytest.approx(10 * math.log10(255**2 * 16 / 100))
    assert psnr(img, ref) == pytest.approx(40.1720, abs=1e-4)


def test_psnr_identical_is_inf():
    assert psnr(IMAGE, IMAGE.copy()) == math.inf


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float64])
def test_psnr_matches_skimage(dtype):
    rng = np.random.default_rng(1)
    ref = rng.random((40, 50, 3))
    img = np.clip(ref + rng.normal(0, 0.05, ref.shape), 0, 1)
    if dtype is not np.float64:
        top = np.iinfo(dtype).max
        ref, img = (np.floor(x * top + 0.5).astype(dtype) for x in (ref, img))
    data_range = 1.0 if dtype is np.float64 else None
    expected = peak_signal_noise_ratio(ref, img, data_range=data_range)
    assert psnr(img, ref) == pytest.approx(expected, rel=1e-12)


def test_psnr_errors():
    with pytest.raises(ValueError, match=r"\(4, 4\).*\(4, 5\)"):
        psnr(np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8))
    with pytest.raises(ValueError, match="data_range"):
        psnr(np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.float32))
    assert psnr(np.zeros((4, 4), np.uint8), np.ones((4, 4), np.float32), data_range=1.0) == 0.0


# ----------------------------------------------------------------------------- SSIM
def _ssim_cases():
    rng = np.random.default_rng(2)
    noisy = add_noise(IMAGE, 10.0, seed=3)
    gray = cv2.cvtColor(IMAGE, cv2.COLOR_RGB2GRAY)
    return {
        "random-colour": (
            rng.integers(0, 256, (37, 41, 3), np.uint8),
            rng.integers(0, 256, (37, 41, 3), np.uint8),
        ),
        "random-gray": (rng.integers(0, 256, (30, 33), np.uint8), rng.integers(0, 256, (30, 33), np.uint8)),
        "structured-colour": (noisy, IMAGE),
        "structured-gray": (cv2.GaussianBlur(gray, (5, 5), 1.2), gray),
        "exposures": (BRACKET[0], FUSED),
        "float": (IMAGE / 255.0, noisy.astype(np.float32) / np.float32(255.0)),
    }


@pytest.mark.parametrize("case", list(_ssim_cases()))
def test_ssim_matches_skimage(case):
    a, b = _ssim_cases()[case]
    data_range = 1.0 if a.dtype.kind == "f" else 255.0
    expected = skimage_ssim(a.astype(np.float64), b.astype(np.float64), data_range)
    assert ssim(a, b, data_range=data_range) == pytest.approx(expected, abs=1e-9)


def test_ssim_identical_and_symmetric():
    noisy = add_noise(IMAGE, 8.0, seed=4)
    assert ssim(IMAGE, IMAGE.copy()) == pytest.approx(1.0, abs=1e-12)
    assert ssim(noisy, IMAGE) == pytest.approx(ssim(IMAGE, noisy), abs=1e-12)
    assert ssim(noisy, IMAGE) < 1.0


def test_ssim_terms_say_which_factor_is_lost():
    """The factors of SSIM: all 1 for identical images; a flatter copy (half the contrast about the mean)
    loses the contrast factor and keeps the structure; a noisy copy loses structure. Their per-pixel
    product is SSIM's map, so for smooth losses their product is close to SSIM."""
    image = IMAGE.astype(np.float64)
    same = ssim_terms(IMAGE, IMAGE.copy())
    assert same == pytest.approx((1.0, 1.0, 1.0, 1.0), abs=1e-9)
    flat = np.clip(0.5 * (image - image.mean()) + image.mean(), 0, 255).astype(np.uint8)
    terms = ssim_terms(flat, IMAGE)
    assert terms.contrast < 0.95 and terms.structure > 0.97 and 0.4 < terms.contrast_ratio < 0.6
    noisy = ssim_terms(add_noise(IMAGE, 20.0, seed=2), IMAGE)
    assert noisy.structure < terms.structure and noisy.contrast_ratio > 1.0
    product = terms.luminance * terms.contrast * terms.structure
    assert product == pytest.approx(ssim(flat, IMAGE), abs=0.02)


def test_ssim_errors():
    with pytest.raises(ValueError, match="11 x 11"):
        ssim(np.zeros((10, 20), np.uint8), np.zeros((10, 20), np.uint8))
    with pytest.raises(ValueError, match=r"\(20, 20, 3\).*\(20, 20\)"):
        ssim(np.zeros((20, 20, 3), np.uint8), np.zeros((20, 20), np.uint8))


# ----------------------------------------------------------------------------- properties
@FAST
@given(arrays(np.uint8, st.tuples(st.integers(11, 24), st.integers(11, 24), st.sampled_from([1, 3]))))
def test_identical_inputs_score_perfectly(image):
    assert psnr(image, image.copy()) == math.inf
    assert ssim(image, image.copy()) == pytest.approx(1.0, abs=1e-12)


@FAST
@given(st.integers(0, 2**32 - 1))
def test_more_noise_scores_lower(seed):
    sigmas = (2.0, 8.0, 20.0)
    noisy = [add_noise(FUSED, s, seed) for s in sigmas]
    p = [psnr(n, FUSED) for n in noisy]
    s = [ssim(n, FUSED) for n in noisy]
    m = [mef_ssim(BRACKET, n) for n in noisy]
    assert p[0] > p[1] > p[2]
    assert s[0] > s[1] > s[2]
    assert m[0] > m[1] > m[2]
    assert mef_ssim(BRACKET, FUSED) > m[0]


# ----------------------------------------------------------------------------- PSNR-mu
def test_psnr_mu_identical_is_inf():
    hdr = np.random.default_rng(5).random((8, 8, 3))
    assert psnr_mu(hdr, hdr.copy()) == math.inf


def test_psnr_mu_hand_computed_value():
    zeros = np.zeros((3, 3))
    # T(0) = 0 and T(0.1) = log(501) / log(5001), so the MSE is T(0.1)^2.
    expected = -20 * math.log10(math.log(501) / math.log(5001))
    assert psnr_mu(zeros, np.full((3, 3), 0.1)) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(2.7351, abs=1e-4)
    assert psnr_mu(zeros, np.ones((3, 3))) == pytest.approx(0.0, abs=1e-12)


def test_psnr_mu_is_psnr_of_tonemapped_images_and_clips():
    rng = np.random.default_rng(6)
    ref = rng.random((16, 16, 3)) ** 3
    hdr = np.clip(ref * 1.1 + rng.normal(0, 0.01, ref.shape), 0, None)
    assert psnr_mu(hdr, ref) == pytest.approx(psnr(mu_law(hdr), mu_law(ref), data_range=1.0), rel=1e-12)
    assert psnr_mu(hdr, ref, mu=100.0) != pytest.approx(psnr_mu(hdr, ref))
    # Values above 1 are clipped to 1.
    assert psnr_mu(np.full((4, 4), 3.0), np.ones((4, 4))) == math.inf
    assert mu_law(np.array([0.0, 1.0, 7.0])) == pytest.approx([0.0, 1.0, 1.0])


def test_psnr_mu_errors():
    with pytest.raises(ValueError, match="float"):
        psnr_mu(np.zeros((4, 4), np.uint8), np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"\(4, 4\).*\(4, 5\)"):
        psnr_mu(np.zeros((4, 4)), np.zeros((4, 5)))


# ----------------------------------------------------------------------------- MEF-SSIM
def test_mef_ssim_identical_frames_score_one():
    bracket = np.stack([IMAGE] * 3)
    assert mef_ssim(bracket, IMAGE) == pytest.approx(1.0, abs=1e-6)
    flat = np.full((48, 48, 3), 200, np.uint8)
    assert mef_ssim([flat, flat], flat) == pytest.approx(1.0, abs=1e-12)


@FAST
@given(arrays(np.uint8, st.tuples(st.integers(44, 60), st.integers(44, 60), st.just(3))))
def test_mef_ssim_identical_frames_property(image):
    assert mef_ssim([image, image], image) == pytest.approx(1.0, abs=1e-6)


def test_mef_ssim_range_and_details():
    details = mef_ssim_details(BRACKET, FUSED)
    assert 0.0 < details.score <= 1.0
    assert len(details.scale_scores) == len(details.quality_maps) == 3
    assert details.score == pytest.approx(
        math.prod(q**w for q, w in zip(details.scale_scores, MEF_SSIM_SCALE_WEIGHTS, strict=True))
    )
    h, w = IMAGE.shape[:2]
    assert [m.shape for m in details.quality_maps] == [
        (h - 10, w - 10),
        (h // 2 - 10, w // 2 - 10),
        (h // 4 - 10, w // 4 - 10),
    ]
    assert [float(m.mean()) for m in details.quality_maps] == pytest.approx(details.scale_scores)
    assert sum(MEF_SSIM_SCALE_WEIGHTS) == pytest.approx(1.0)
    for frame in (*BRACKET, cv2.GaussianBlur(FUSED, (0, 0), 3.0), add_noise(FUSED, 30.0, seed=7)):
        assert 0.0 <= mef_ssim(BRACKET, frame) <= 1.0


def test_mef_ssim_input_forms_and_order():
    score = mef_ssim(BRACKET, FUSED)
    assert mef_ssim(list(BRACKET), FUSED) == score
    assert mef_ssim(BRACKET[::-1], FUSED) == pytest.approx(score, abs=1e-12)
    gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in BRACKET])
    assert 0.0 < mef_ssim(gray, cv2.cvtColor(FUSED, cv2.COLOR_RGB2GRAY)) <= 1.0
    # uint8 and float [0, 1] inputs agree up to MATLAB rgb2gray's rounding of uint8 luma.
    assert mef_ssim(BRACKET / 255.0, FUSED.astype(np.float32) / 255) == pytest.approx(score, abs=2e-3)


def test_mertens_beats_bad_fusions():
    good = mef_ssim(BRACKET, FUSED)
    assert good > 0.9
    assert good > mef_ssim(BRACKET, BRACKET[0]) + 0.05  # darkest exposure alone
    assert good > mef_ssim(BRACKET, BRACKET[-1]) + 0.01  # brightest exposure alone
    assert good > mef_ssim(BRACKET, cv2.GaussianBlur(FUSED, (0, 0), 2.0)) + 0.05


def test_mef_ssim_bad_input():
    with pytest.raises(BracketError, match="at least 2"):
        mef_ssim(BRACKET[:1], FUSED)
    with pytest.raises(BracketError, match="at least 2"):
        mef_ssim([FUSED], FUSED)
    with pytest.raises(BracketError, match="same shape"):
        mef_ssim([BRACKET[0], BRACKET[1, :-2]], FUSED)
    with pytest.raises(BracketError, match=r"\(96, 120, 3\).*96 x 128"):
        mef_ssim(BRACKET, FUSED[:, :120])
    with pytest.raises(BracketError, match="single image"):
        mef_ssim(FUSED, FUSED)
    with pytest.raises(BracketError, match="44 pixels"):
        mef_ssim(BRACKET[:, :40, :40], FUSED[:40, :40])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mef_ssim(BRACKET, FUSED.astype(np.float64))


# Golden values from the authors' reference code, mef_ms_ssim.m / mef_ssim.m v1.0 (Ma, Zeng &
# Wang 2015), run unchanged under GNU Octave 7.3 (image package; rgb2gray for the luma) on PNGs
# of exactly these arrays: BRACKET with its middle frame as "fused", and with the rounded
# per-pixel mean of its frames. Python and Octave agreed to 1e-12.
GOLDEN_SYNTHETIC_MIDDLE = 0.881182222880
GOLDEN_SYNTHETIC_MEAN = 0.911204205928


def test_mef_ssim_matches_reference_on_synthetic_bracket():
    mean_fusion = np.floor(BRACKET.astype(np.float64).mean(axis=0) + 0.5).astype(np.uint8)
    assert mef_ssim(BRACKET, BRACKET[1]) == pytest.approx(GOLDEN_SYNTHETIC_MIDDLE, abs=1e-6)
    assert mef_ssim(BRACKET, mean_fusion) == pytest.approx(GOLDEN_SYNTHETIC_MEAN, abs=1e-6)


def _sice_scene(name: str) -> Path:
    scene = SICE / name
    if not scene.is_dir():
        pytest.skip(f"../shared/data not present: {scene} is missing")
    return scene


# Golden values from the reference mef_ms_ssim.m v1.0 run unchanged under GNU Octave 7.3 on the
# same pixels: ev1/ev4/ev7 decoded by cv2 and saved as PNG, Mertens by cv2.createMergeMertens
# (default weights, rounded to uint8). Python agreed to 4e-9 (Mertens) and 1e-10 (middle); the
# residue is 4 luma pixels that Octave's 6-digit rgb2gray weights round differently from MATLAB's.
# OpenCV's Mertens is not bit-exact between runs (a few pixels move by 1), hence 1e-5.
GOLDEN_SCENE1_MERTENS = 0.987998587908
GOLDEN_SCENE1_MIDDLE = 0.976735576369


@pytest.mark.data
def test_mef_ssim_sice_scene1_mertens():
    scene = _sice_scene("scene1")
    bracket = np.stack([read_rgb(scene / f"ev{i}.jpg") for i in (1, 4, 7)])
    fused = mertens(bracket)
    good = mef_ssim(bracket, fused)
    middle = mef_ssim(bracket, bracket[1])
    assert 0.9 < good < 0.999
    assert good > middle
    assert good == pytest.approx(GOLDEN_SCENE1_MERTENS, abs=1e-5)
    assert middle == pytest.approx(GOLDEN_SCENE1_MIDDLE, abs=1e-5)
