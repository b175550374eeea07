"""Tests of edgemef.data.synthesis: gamma-model and camera-model bracket synthesis."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgemef.data.synthesis import (
    CameraBracketConfig,
    FrameMotion,
    GammaBracketConfig,
    GammaParams,
    GammaResponse,
    SRGBResponse,
    SyntheticBracket,
    apply_gamma_params,
    linear_to_srgb,
    random_camera_config,
    sample_gamma_params,
    shake_frames,
    srgb_to_linear,
    synthesize_camera_bracket,
    synthesize_gamma_bracket,
)
from edgemef.errors import BracketError

H, W = 64, 96
LUMA = np.array([0.299, 0.587, 0.114])
NOISELESS = {"shot_noise_gain": 0.0, "read_noise_std": 0.0}
FAST = settings(max_examples=15, deadline=None)


def make_scene(seed: int = 0, height: int = H, width: int = W) -> np.ndarray:
    """A smooth colour gradient (dark at the left, near white at the right) plus fine texture."""
    gen = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, width)[None, :, None]
    y = np.linspace(0.0, 1.0, height)[:, None, None]
    base = 0.05 + 0.9 * x * np.array([1.0, 0.95, 0.9]) + 0.05 * y
    texture = cv2.GaussianBlur(gen.random((height, width, 3)).astype(np.float32), (0, 0), 1.2)
    image = base + 0.25 * (texture - texture.mean())
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def mean_luma(frames: np.ndarray) -> np.ndarray:
    return (frames.astype(np.float64) @ LUMA).mean(axis=(1, 2))


SCENE = make_scene()


# --------------------------------------------------------------------------------------------------
# Gamma model (LUT-distill eq. 7)
# --------------------------------------------------------------------------------------------------


def test_gamma_defaults_are_the_papers_ranges() -> None:
    config = GammaBracketConfig()
    assert config.alpha_range == (0.9, 1.0)
    assert config.beta_range == (0.5, 1.0)
    assert config.gamma_range == (1.5, 5.0)


def test_gamma_deterministic_under_seed() -> None:
    a = synthesize_gamma_bracket(SCENE, 3, seed=7)
    b = synthesize_gamma_bracket(SCENE, 3, seed=7)
    c = synthesize_gamma_bracket(SCENE, 3, rng=np.random.default_rng(7))
    d = synthesize_gamma_bracket(SCENE, 3, seed=8)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, d)


def test_gamma_shared_generator_advances() -> None:
    gen = np.random.default_rng(1)
    first = synthesize_gamma_bracket(SCENE, rng=gen)
    second = synthesize_gamma_bracket(SCENE, rng=gen)
    assert not np.array_equal(first, second)


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 6))
def test_gamma_bracket_shape_and_order(seed: int, n: int) -> None:
    frames = synthesize_gamma_bracket(SCENE, n, seed=seed)
    assert frames.shape == (n, H, W, 3)
    assert frames.dtype == np.uint8
    assert np.all(np.diff(mean_luma(frames)) > 0), "mean luminance must strictly increase"
    # by construction the curves are pointwise ordered, so every pixel is non-decreasing
    assert np.all(np.diff(frames.astype(np.int16), axis=0) >= 0)
    if n % 2:
        np.testing.assert_array_equal(frames[n // 2], SCENE)


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 7))
def test_gamma_params_in_papers_ranges(seed: int, n: int) -> None:
    params = sample_gamma_params(n, seed=seed)
    assert len(params) == n
    kinds = [p.kind for p in params]
    k = n // 2
    assert kinds == ["under"] * k + ["identity"] * (n % 2) + ["over"] * k
    for p in params:
        if p.kind == "identity":
            assert (p.alpha, p.beta, p.gamma) == (1.0, 1.0, 1.0)
            continue
        assert 0.9 <= p.alpha <= 1.0
        assert 0.5 <= p.beta <= 1.0
        assert 1.5 <= p.gamma <= 5.0
    # the synthesised bracket uses exactly these parameters
    frames = synthesize_gamma_bracket(SCENE, n, seed=seed)
    for frame, p in zip(frames, params, strict=True):
        np.testing.assert_array_equal(frame, apply_gamma_params(SCENE, p))


def test_gamma_params_cover_the_range() -> None:
    gen = np.random.default_rng(0)
    draws = [sample_gamma_params(2, rng=gen)[0] for _ in range(400)]
    gammas = np.array([p.gamma for p in draws])
    betas = np.array([p.beta for p in draws])
    assert gammas.min() < 1.7 and gammas.max() > 4.8
    assert betas.min() < 0.55 and betas.max() > 0.95


def test_gamma_hand_checked_pixels() -> None:
    image = np.zeros((1, 3, 3), np.uint8)
    image[0, 0] = 200
    image[0, 1] = 0
    image[0, 2] = 255
    under = apply_gamma_params(image, GammaParams("under", alpha=0.95, beta=0.8, gamma=2.0))
    over = apply_gamma_params(image, GammaParams("over", alpha=0.95, beta=0.8, gamma=2.0))
    # under: 255 * 0.8 * (0.95 * 200/255)**2 = 113.25 -> 113; black stays 0; white -> 255*0.8*0.95**2
    assert under[0, 0].tolist() == [113, 113, 113]
    assert under[0, 1].tolist() == [0, 0, 0]
    assert under[0, 2].tolist() == [184, 184, 184]  # 184.11
    # over (eq. 7 on the negative): 255 * (1 - 0.8 * (0.95 * 55/255)**2) = 246.44 -> 246
    assert over[0, 0].tolist() == [246, 246, 246]
    assert over[0, 1].tolist() == [71, 71, 71]  # 255 * (1 - 0.722) = 70.89
    assert over[0, 2].tolist() == [255, 255, 255]


def test_gamma_fixed_ranges_give_fixed_curves() -> None:
    config = GammaBracketConfig(alpha_range=(0.95, 0.95), beta_range=(0.8, 0.8), gamma_range=(2.0, 2.0))
    image = np.full((2, 2, 3), 200, np.uint8)
    frames = synthesize_gamma_bracket(image, 3, config, seed=123)
    assert frames[:, 0, 0, 0].tolist() == [113, 200, 246]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"alpha_range": (0.9, 1.1)},
        {"alpha_range": (0.0, 1.0)},
        {"beta_range": (0.8, 0.5)},
        {"gamma_range": (0.5, 2.0)},
        {"gamma_range": (2.0, float("nan"))},
        {"gamma_range": (2.0,)},
    ],
)
def test_gamma_invalid_config(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="range"):
        GammaBracketConfig(**kwargs)


def test_gamma_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="n_exposures"):
        synthesize_gamma_bracket(SCENE, 1)
    with pytest.raises(ValueError, match="either rng or seed"):
        synthesize_gamma_bracket(SCENE, rng=np.random.default_rng(0), seed=0)
    with pytest.raises(ValueError, match="kind"):
        GammaParams("sideways", 1.0, 1.0, 1.0)


BAD_IMAGES = [
    SCENE.astype(np.float32) / 255.0,
    SCENE[..., 0],
    np.zeros((H, W, 4), np.uint8),
    np.zeros((0, W, 3), np.uint8),
    SCENE.tolist(),
]


@pytest.mark.parametrize("image", BAD_IMAGES, ids=["float", "gray", "rgba", "empty", "list"])
def test_invalid_images(image: object) -> None:
    with pytest.raises(BracketError, match="bracket synthesis needs"):
        synthesize_gamma_bracket(image)  # type: ignore[arg-type]
    with pytest.raises(BracketError, match="bracket synthesis needs"):
        synthesize_camera_bracket(image)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# Camera model
# --------------------------------------------------------------------------------------------------


def test_camera_deterministic_under_seed() -> None:
    config = CameraBracketConfig(global_motion_px=2.0, global_rotation_deg=0.5, local_motion=True)
    a = synthesize_camera_bracket(SCENE, config, seed=3)
    b = synthesize_camera_bracket(SCENE, config, rng=np.random.default_rng(3))
    c = synthesize_camera_bracket(SCENE, config, seed=4)
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.reference, b.reference)
    np.testing.assert_array_equal(a.radiance, b.radiance)
    assert a.motions == b.motions and a.moving_object == b.moving_object
    assert not np.array_equal(a.frames, c.frames)
    assert a.motions != c.motions


def test_camera_bracket_fields() -> None:
    config = CameraBracketConfig(ev_stops=(-3.0, -1.0, 0.0, 1.5))
    out = synthesize_camera_bracket(SCENE, config, seed=0)
    assert isinstance(out, SyntheticBracket)
    assert len(out) == 4
    assert out.frames.shape == (4, H, W, 3) and out.frames.dtype == np.uint8
    assert out.ev_stops == (-3.0, -1.0, 0.0, 1.5)
    assert out.exposure_times == pytest.approx((0.125, 0.5, 1.0, 2.0**1.5))
    assert out.reference_index == 2
    assert out.reference.shape == (H, W, 3) and out.reference.dtype == np.uint8
    assert out.radiance.shape == (H, W, 3) and out.radiance.dtype == np.float32
    assert 0.0 <= out.radiance.min() and out.radiance.max() <= 1.0
    assert out.motions == (FrameMotion(),) * 4
    assert out.moving_object is None
    assert np.all(np.diff(mean_luma(out.frames)) > 0)


@FAST
@given(seed=st.integers(0, 2**32 - 1), motion=st.booleans())
def test_camera_random_configs_are_ordered(seed: int, motion: bool) -> None:
    gen = np.random.default_rng(seed)
    config = random_camera_config(gen, motion=motion)
    assert len(config.ev_stops) in (2, 3)
    assert 0.0 in config.ev_stops
    steps = np.diff(config.ev_stops)
    assert np.all(steps >= 1.0 - 1e-9) and np.all(steps <= 3.0 + 1e-9)
    out = synthesize_camera_bracket(SCENE, config, rng=gen)
    assert out.frames.shape == (len(config.ev_stops), H, W, 3)
    assert np.all(np.diff(mean_luma(out.frames)) > 0)
    assert out.motions[out.reference_index] == FrameMotion()


def test_ev0_srgb_noiseless_reproduces_input() -> None:
    out = synthesize_camera_bracket(SCENE, CameraBracketConfig(**NOISELESS), seed=0)
    ev0 = out.frames[out.reference_index]
    assert np.abs(ev0.astype(int) - SCENE.astype(int)).max() <= 1
    np.testing.assert_array_equal(ev0, out.reference)
    np.testing.assert_allclose(out.radiance, srgb_to_linear(SCENE), atol=1e-6)


def test_plus_ev_saturates_bright_regions() -> None:
    out = synthesize_camera_bracket(SCENE, CameraBracketConfig(**NOISELESS), seed=0)
    linear = srgb_to_linear(SCENE)
    bright = linear * 4.0 >= 1.0
    assert bright.mean() > 0.2, "the test scene must have bright regions"
    assert np.all(out.frames[2][bright] == 255)
    assert np.all(out.frames[2][~bright] < 255)


def test_minus_ev_darkens_by_the_right_factor() -> None:
    config = CameraBracketConfig(ev_stops=(-2.0, -1.0, 0.0), **NOISELESS)
    out = synthesize_camera_bracket(SCENE, config, seed=0)
    linear = srgb_to_linear(SCENE).astype(np.float64)
    usable = linear > 0.2  # away from black, where 8-bit rounding dominates
    for frame, ev in zip(out.frames[:2], (-2.0, -1.0), strict=True):
        ratio = srgb_to_linear(frame).astype(np.float64)[usable] / linear[usable]
        assert np.median(ratio) == pytest.approx(2.0**ev, rel=0.01)
        assert np.all(np.abs(ratio - 2.0**ev) < 0.03 * 2.0**ev)


def test_gamma_response_ev0_matches_reference() -> None:
    config = CameraBracketConfig(response=GammaResponse(gamma=2.0, contrast=5.0), **NOISELESS)
    out = synthesize_camera_bracket(SCENE, config, seed=0)
    np.testing.assert_array_equal(out.frames[1], out.reference)
    assert not np.array_equal(out.reference, SCENE)  # a different curve than sRGB
    assert np.all(np.diff(mean_luma(out.frames)) > 0)


@pytest.mark.parametrize("response", [SRGBResponse(), GammaResponse(), GammaResponse(1.8, 6.0)])
def test_response_curves_invert_and_increase(response: SRGBResponse | GammaResponse) -> None:
    x = np.linspace(0.0, 1.0, 1001)
    y = response.encode(x)
    assert y.dtype == np.float32
    assert y[0] == pytest.approx(0.0, abs=1e-6) and y[-1] == pytest.approx(1.0, abs=1e-6)
    assert np.all(np.diff(y) > 0)
    np.testing.assert_allclose(response.decode(y), x, atol=2e-4)


def test_srgb_helpers_roundtrip_codes() -> None:
    codes = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(
        np.rint(linear_to_srgb(srgb_to_linear(codes)) * 255).astype(np.uint8), codes
    )


def _flat_patches(levels: list[int]) -> np.ndarray:
    """Vertical bands of constant grey, one per level."""
    band = W // len(levels)
    image = np.zeros((H, band * len(levels), 3), np.uint8)
    for i, level in enumerate(levels):
        image[:, i * band : (i + 1) * band] = level
    return image


def test_shot_noise_grows_with_signal() -> None:
    # a linear response so that DN are proportional to sensor signal
    levels = [26, 128, 204]  # linear signal 0.1, 0.5, 0.8 under GammaResponse(gamma=1)
    image = _flat_patches(levels)
    gain = 1e-3
    config = CameraBracketConfig(
        ev_stops=(0.0,), response=GammaResponse(gamma=1.0), shot_noise_gain=gain, read_noise_std=0.0
    )
    # the input is sRGB: its linear value is what the sensor sees
    signal = srgb_to_linear(np.array(levels, np.uint8)).astype(np.float64)
    frame = synthesize_camera_bracket(image, config, seed=5).frames[0].astype(np.float64)
    band = image.shape[1] // len(levels)
    stds = [frame[:, i * band + 2 : (i + 1) * band - 2].std() for i in range(len(levels))]
    assert stds[0] < stds[1] < stds[2]
    for std, s in zip(stds, signal, strict=True):
        expected = math.sqrt(gain * s + 1.0 / 12.0 / 255.0**2) * 255.0
        assert std == pytest.approx(expected, rel=0.1)


def test_read_noise_is_present_at_black() -> None:
    black = np.zeros((H, W, 3), np.uint8)
    linear = GammaResponse(gamma=1.0)
    quiet = CameraBracketConfig(ev_stops=(0.0,), response=linear, shot_noise_gain=1e-3, read_noise_std=0.0)
    assert np.all(synthesize_camera_bracket(black, quiet, seed=0).frames == 0)  # no signal, no shot noise
    noisy = CameraBracketConfig(ev_stops=(0.0,), response=linear, shot_noise_gain=0.0, read_noise_std=0.01)
    frame = synthesize_camera_bracket(black, noisy, seed=0).frames[0].astype(np.float64)
    # clipped half-normal of sigma 2.55 DN: mean sigma * 0.399 ~ 1.0, about half the pixels > 0
    assert 0.3 < (frame > 0).mean() < 0.6
    assert frame.std() > 1.0
    assert frame.mean() == pytest.approx(0.01 * 255 / math.sqrt(2 * math.pi), rel=0.15)


def _phase_shift(reference: np.ndarray, moved: np.ndarray) -> tuple[float, float]:
    window = cv2.createHanningWindow((reference.shape[1], reference.shape[0]), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(reference.astype(np.float32), moved.astype(np.float32), window)
    return dx, dy


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_global_motion_is_bounded_and_reference_unmoved(seed: int) -> None:
    scene = make_scene(seed + 10)
    max_px = 3.0
    config = CameraBracketConfig(ev_stops=(-1.0, 0.0, 1.0), global_motion_px=max_px, **NOISELESS)
    out = synthesize_camera_bracket(scene, config, seed=seed)
    assert out.reference_index == 1
    np.testing.assert_array_equal(out.frames[1], out.reference)
    assert out.motions[1] == FrameMotion()
    # normalised linear luminance of each frame: the same scene, whatever its exposure
    lum = [
        (srgb_to_linear(f).astype(np.float64) @ LUMA) / 2.0**ev
        for f, ev in zip(out.frames, out.ev_stops, strict=True)
    ]
    for i in (0, 2):
        motion = out.motions[i]
        assert motion.rotation_deg == 0.0
        assert math.hypot(*motion.shift_px) <= max_px
        measured = _phase_shift(lum[1], lum[i])
        assert math.hypot(*measured) <= max_px + 0.75
        assert measured == pytest.approx(motion.shift_px, abs=0.75)


def test_global_rotation_is_bounded() -> None:
    config = CameraBracketConfig(global_motion_px=1.0, global_rotation_deg=0.5, **NOISELESS)
    for seed in range(5):
        out = synthesize_camera_bracket(SCENE, config, seed=seed)
        assert all(abs(m.rotation_deg) <= 0.5 for m in out.motions)
        assert out.motions[out.reference_index] == FrameMotion()
        matrix = out.motions[0].affine(H, W)
        assert matrix.shape == (2, 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_local_motion_changes_only_the_object_region(seed: int) -> None:
    static = synthesize_camera_bracket(SCENE, CameraBracketConfig(**NOISELESS), seed=seed)
    config = CameraBracketConfig(local_motion=True, local_motion_px=6.0, **NOISELESS)
    out = synthesize_camera_bracket(SCENE, config, seed=seed)
    obj = out.moving_object
    assert obj is not None
    assert out.motions[out.reference_index].object_shift_px == (0.0, 0.0)
    np.testing.assert_array_equal(out.frames[out.reference_index], out.reference)
    changed_any = False
    for i, motion in enumerate(out.motions):
        assert math.hypot(*motion.object_shift_px) <= 6.0
        assert motion.shift_px == (0.0, 0.0)
        diff = np.any(out.frames[i] != static.frames[i], axis=2)
        x0, y0, x1, y1 = obj.bbox(motion.object_shift_px)
        outside = diff.copy()
        outside[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = False
        assert not outside.any(), f"frame {i} changed outside the object's box"
        changed_any |= bool(diff.any())
    assert changed_any
    # the ground-truth radiance holds the object at its reference place
    assert not np.array_equal(out.radiance, static.radiance)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ev_stops": ()}, "must not be empty"),
        ({"ev_stops": (0.0, 0.0)}, "strictly increasing"),
        ({"ev_stops": (2.0, 0.0, -2.0)}, "strictly increasing"),
        ({"ev_stops": (0.0, float("nan"))}, "finite"),
        ({"ev_stops": ("a",)}, "numbers"),
        ({"ev_stops": (0.0, 40.0)}, r"\[-16, 16\]"),
        ({"shot_noise_gain": -1e-4}, "shot_noise_gain"),
        ({"read_noise_std": -0.01}, "read_noise_std"),
        ({"read_noise_std": float("inf")}, "read_noise_std"),
        ({"global_motion_px": -1.0}, "global_motion_px"),
        ({"global_rotation_deg": 90.0}, "global_rotation_deg"),
        ({"local_motion_px": -2.0}, "local_motion_px"),
        ({"object_size": (0.3, 0.1)}, "object_size"),
        ({"response": "srgb"}, "response"),
    ],
)
def test_camera_invalid_config(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CameraBracketConfig(**kwargs)


def test_camera_config_normalises_sequences() -> None:
    config = CameraBracketConfig(ev_stops=[-1, 0, 1])  # type: ignore[arg-type]
    assert config.ev_stops == (-1.0, 0.0, 1.0)
    assert hash(config) == hash(CameraBracketConfig(ev_stops=(-1.0, 0.0, 1.0)))


@pytest.mark.parametrize(
    "kwargs",
    [{"frame_counts": ()}, {"frame_counts": (1,)}, {"ev_spread": (3.0, 1.0)}, {"ev_spread": (0.0, 1.0)}],
)
def test_random_camera_config_invalid(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        random_camera_config(seed=0, **kwargs)


def test_random_camera_config_deterministic() -> None:
    assert random_camera_config(seed=11, motion=True) == random_camera_config(seed=11, motion=True)
    configs = {random_camera_config(seed=s) for s in range(10)}
    assert len(configs) == 10
    assert not any(c.shot_noise_gain or c.read_noise_std for c in [random_camera_config(seed=1, noise=False)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shake_moves_every_frame_but_the_brightest_by_the_asked_length(seed: int) -> None:
    scene = make_scene(seed + 20)
    frames = np.stack([scene, scene, scene])
    shaken = shake_frames(frames, np.random.default_rng(seed), (3.0, 3.0), max_rotation_deg=0.0)
    assert shaken.shape == frames.shape and shaken.dtype == frames.dtype
    np.testing.assert_array_equal(shaken[2], frames[2])
    luma = [(f.astype(np.float64) @ LUMA) for f in shaken]
    shifts = [_phase_shift(luma[2], luma[i]) for i in (0, 1)]
    for dx, dy in shifts:
        assert math.hypot(dx, dy) == pytest.approx(3.0, abs=0.75)  # phase correlation, reflected borders
    assert shifts[0] != pytest.approx(shifts[1], abs=0.5)  # each frame its own direction


def test_shake_refuses_bad_ranges() -> None:
    frames = np.zeros((2, 8, 8, 3), np.uint8)
    for shift in ((2.0, 1.0), (-1.0, 1.0), (0.0, float("nan"))):
        with pytest.raises(ValueError, match="shift_px"):
            shake_frames(frames, np.random.default_rng(0), shift)
    with pytest.raises(ValueError, match="rotation"):
        shake_frames(frames, np.random.default_rng(0), (0.0, 1.0), max_rotation_deg=-1.0)
