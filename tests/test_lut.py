"""Torch-free LUT appliers (edgemef.lut): the canonical layout, fast path vs reference, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgemef.errors import BracketError
from edgemef.lut import (
    check_lut,
    color_cube_data,
    fuse_and_apply,
    fuse_and_apply_reference,
    identity_lut,
    upsample_weight_maps,
    warm_up,
    weight_map_sampling,
)
from tests.conftest import exposure_bracket, shared_data, textured_scene

SIZES = [2, 17, 33, 64]


@pytest.fixture(scope="module", autouse=True, params=["c", "c-lookup4", "numba"])
def kernel(request: pytest.FixtureRequest):
    """Every test runs on both fast kernels: the compiled C one (where it was built; also with its 4-lane
    lookup, which CPUs without AVX2 and ARM run) and numba's."""
    from edgemef import lut

    try:
        name = lut.use_kernel(request.param.split("-")[0])
    except ImportError as exc:
        pytest.skip(str(exc))
    warm_up()  # loads the kernel (numba: compiles it the first time, a few seconds)
    narrow = lut._load_kernel().use_lookup4(True) if request.param == "c-lookup4" else None
    yield name
    if narrow is not None:
        lut._load_kernel().use_lookup4(narrow)
    lut.use_kernel(None)


def random_case(seed: int, n_frames: int, height: int, width: int, size: int, low=-0.3, high=1.3):
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (n_frames, height, width, 3), dtype=np.uint8)
    weights = rng.uniform(-0.5, 1.5, n_frames)
    lut = rng.uniform(low, high, (size, size, size, 3)).astype(np.float32)
    return frames, weights, lut


def assert_close(fast: np.ndarray, reference: np.ndarray) -> None:
    assert fast.dtype == np.uint8 and fast.shape == reference.shape
    diff = np.abs(fast.astype(np.int16) - reference.astype(np.int16))
    assert diff.max() <= 1, (
        f"max difference {diff.max()} grey levels at {np.unravel_index(diff.argmax(), diff.shape)}"
    )


# --- the layout ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_identity_lut_layout(size: int) -> None:
    lut = identity_lut(size)
    assert lut.shape == (size, size, size, 3) and lut.dtype == np.float32
    b, g, r = 1, size - 1, 0
    np.testing.assert_allclose(lut[b, g, r], np.array([r, g, b]) / (size - 1), rtol=0, atol=1e-7)
    check_lut(lut)


@pytest.mark.parametrize("size", SIZES)
def test_identity_with_one_hot_weights_reproduces_the_frame_exactly(size: int) -> None:
    frames = exposure_bracket(textured_scene(37, 53))
    for fn in (fuse_and_apply, fuse_and_apply_reference):
        np.testing.assert_array_equal(fn(frames, [0.0, 1.0, 0.0], identity_lut(size)), frames[1])
    every_value = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, axis=3)
    every_value[..., 0] = every_value[..., 0][:, ::-1]  # red and green/blue differ per pixel
    np.testing.assert_array_equal(fuse_and_apply(every_value, [1.0], identity_lut(size)), every_value[0])


def test_axis_order_is_blue_green_red() -> None:
    size = 5
    frames = np.array([[[[200, 100, 20]]]], dtype=np.uint8)  # R=200, G=100, B=20: all different
    red_only = np.zeros((size, size, size, 3), np.float32)
    red_only[..., 0] = (np.arange(size) / (size - 1))[None, None, :]  # varies along axis 2 only
    swap = identity_lut(size)[..., ::-1].copy()  # output (B, G, R)
    for fn in (fuse_and_apply, fuse_and_apply_reference):
        np.testing.assert_array_equal(fn(frames, [1.0], red_only)[0, 0], [200, 0, 0])
        np.testing.assert_array_equal(fn(frames, [1.0], swap)[0, 0], [20, 100, 200])


def test_color_cube_data_is_rgba_float32_red_fastest() -> None:
    lut = identity_lut(3)
    texels = np.frombuffer(color_cube_data(lut), "<f4").reshape(-1, 4)
    assert texels.shape == (27, 4) and (texels[:, 3] == 1).all()
    # texel index r + 3 g + 9 b holds (r, g, b) / 2: red fastest, then green, then blue (CIColorCube's order)
    assert texels[1, :3].tolist() == [0.5, 0, 0] and texels[3, :3].tolist() == [0, 0.5, 0]
    assert texels[9, :3].tolist() == [0, 0, 0.5]
    with pytest.raises(ValueError):
        color_cube_data(np.zeros((3, 3, 3, 4), np.float32))


def test_hand_computed_trilinear_value() -> None:
    # N=2: the grid coordinate is the input value itself. Input (R, G, B) = (0.2, 0.6, 0.4).
    lut = np.zeros((2, 2, 2, 3), np.float32)
    lut[1, 1, 1] = (1.0, 0.5, 0.25)  # corner b=1, g=1, r=1: weight fb*fg*fr = 0.4*0.6*0.2 = 0.048
    lut[0, 0, 1] = (1.0, 1.0, 1.0)  # corner b=0, g=0, r=1: weight (1-fb)(1-fg)fr = 0.6*0.4*0.2 = 0.048
    frames = np.array([[[[51, 153, 102]]], [[[0, 0, 0]]]], dtype=np.uint8)  # 0.2, 0.6, 0.4 exactly
    # R: 0.048*1 + 0.048*1 = 0.096 -> 24.48 -> 24; G: 0.024 + 0.048 = 0.072 -> 18.36 -> 18;
    # B: 0.012 + 0.048 = 0.06 -> 15.3 -> 15.
    for fn in (fuse_and_apply, fuse_and_apply_reference):
        np.testing.assert_array_equal(fn(frames, [1.0, 0.7], lut)[0, 0], [24, 18, 15])


def test_quantisation_rounds_half_up_and_clamps() -> None:
    # Inputs 0 and 255 sit on the lattice corners (0,0,0) and (1,1,1) of an N=2 LUT: the output is the entry.
    frames = np.array([[[[0, 0, 0], [255, 255, 255]]]], dtype=np.uint8)
    lut = np.zeros((2, 2, 2, 3), np.float32)
    lut[0, 0, 0] = ((0.5 + 1e-3) / 255, (2.5 - 1e-3) / 255, -3.0)  # -> 1, 2, 0 (clamped)
    lut[1, 1, 1] = (7.0, (254.5 + 1e-3) / 255, (253.5 - 1e-3) / 255)  # -> 255 (clamped), 255, 253
    for fn in (fuse_and_apply, fuse_and_apply_reference):
        np.testing.assert_array_equal(fn(frames, [1.0], lut)[0], [[1, 2, 0], [255, 255, 253]])


def test_fused_values_outside_0_1_are_clamped() -> None:
    frames = np.full((2, 2, 2, 3), 200, np.uint8)
    lut = identity_lut(9)
    for fn in (fuse_and_apply, fuse_and_apply_reference):
        assert (fn(frames, [1.0, 1.0], lut) == 255).all()  # 400/255 -> 1
        assert (fn(frames, [-1.0, 0.5], lut) == 0).all()  # negative -> 0


# --- fast path vs reference ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("height", "width"), [(1, 1), (3, 5), (17, 31), (2, 512), (2, 513), (9, 1100)])
def test_fast_matches_reference_on_random_data(size: int, height: int, width: int) -> None:
    frames, weights, lut = random_case(size * 1000 + width, 3, height, width, size)
    assert_close(fuse_and_apply(frames, weights, lut), fuse_and_apply_reference(frames, weights, lut))


@pytest.mark.parametrize("size", SIZES)
def test_fast_matches_reference_on_a_real_ish_bracket(size: int) -> None:
    frames = exposure_bracket(textured_scene(120, 160, seed=3), gains=(0.2, 0.6, 1.5, 4.0))
    x = np.linspace(0, 1, size)
    b, g, r = np.meshgrid(x, x, x, indexing="ij")
    tone = np.stack([r**0.8, 0.1 + 0.8 * g**1.2, np.sqrt(b) * 0.9 + 0.05 * r], axis=-1).astype(np.float32)
    weights = np.array([0.1, 0.4, 0.3, 0.2])
    assert_close(fuse_and_apply(frames, weights, tone), fuse_and_apply_reference(frames, weights, tone))


@pytest.mark.data
def test_fast_matches_reference_on_real_frames() -> None:
    import cv2

    from edgemef.io import read_bracket

    folder = shared_data("uhd", "scene1")
    frames = read_bracket(sorted(folder.glob("ev*.jpg"))).frames
    frames = np.stack([cv2.resize(f, (480, 320), interpolation=cv2.INTER_AREA) for f in frames])
    lut = identity_lut(33) ** 0.8
    weights = np.full(len(frames), 1.0 / len(frames))
    assert_close(fuse_and_apply(frames, weights, lut), fuse_and_apply_reference(frames, weights, lut))


def extreme_luts(size: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(size)
    idx = np.indices((size, size, size)).sum(axis=0)
    checker = np.repeat((idx % 2).astype(np.float32)[..., None], 3, axis=3)
    return {
        "zeros": np.zeros((size, size, size, 3), np.float32),
        "ones": np.ones((size, size, size, 3), np.float32),
        "checkerboard 0/1": checker,
        "checkerboard -20/+20": checker * 40 - 20,
        "wide random": rng.uniform(-50, 50, (size, size, size, 3)).astype(np.float32),
        "inverted": 1.0 - identity_lut(size),
    }


@pytest.mark.parametrize("size", SIZES)
def test_fast_matches_reference_on_extreme_luts(size: int) -> None:
    frames = random_case(size, 3, 23, 41, 2)[0]
    for name, lut in extreme_luts(size).items():
        for weights in ([0.2, 0.3, 0.5], [1.0, 1.0, 1.0], [-0.5, 2.0, 0.1]):
            fast, reference = (
                fuse_and_apply(frames, weights, lut),
                fuse_and_apply_reference(frames, weights, lut),
            )
            assert np.abs(fast.astype(int) - reference).max() <= 1, (name, weights)


@pytest.mark.parametrize("n_frames", [1, 2, 5, 9])
def test_any_number_of_exposures(n_frames: int) -> None:
    frames, weights, lut = random_case(n_frames, n_frames, 7, 13, 17)
    assert_close(fuse_and_apply(frames, weights, lut), fuse_and_apply_reference(frames, weights, lut))


def test_float64_and_float16_luts_are_accepted() -> None:
    frames, weights, lut = random_case(5, 3, 6, 7, 9, low=0.0, high=1.0)
    expected = fuse_and_apply_reference(frames, weights, lut)
    assert_close(fuse_and_apply(frames, weights, lut.astype(np.float64)), expected)
    half = lut.astype(np.float16)
    assert_close(fuse_and_apply(frames, weights, half), fuse_and_apply_reference(frames, weights, half))


def test_out_argument_and_non_contiguous_input() -> None:
    frames, weights, lut = random_case(11, 3, 20, 30, 17)
    expected = fuse_and_apply_reference(frames[:, ::2, 1::2], weights, lut)
    out = np.empty(expected.shape, np.uint8)
    result = fuse_and_apply(frames[:, ::2, 1::2], weights, lut, out=out)
    assert result is out
    assert_close(out, expected)


def test_result_does_not_depend_on_the_thread_count(kernel: str) -> None:
    if kernel != "numba":
        pytest.skip("the C kernel's threads are OpenMP's (OMP_NUM_THREADS), fixed for the process")
    import numba

    frames, weights, lut = random_case(12, 3, 50, 70, 33)
    default = numba.get_num_threads()
    first = fuse_and_apply(frames, weights, lut)
    numba.set_num_threads(1)
    try:
        np.testing.assert_array_equal(fuse_and_apply(frames, weights, lut), first)
    finally:
        numba.set_num_threads(default)


def test_large_image() -> None:
    frames, weights, lut = random_case(13, 3, 2000, 3000, 33, low=0.0, high=1.0)
    fused = fuse_and_apply(frames, weights, lut)
    assert fused.shape == (2000, 3000, 3)
    for rows, cols in [
        (slice(0, 8), slice(None)),
        (slice(1000, 1010), slice(None)),
        (slice(-3, None), slice(-500, None)),
    ]:
        assert_close(fused[rows, cols], fuse_and_apply_reference(frames[:, rows, cols], weights, lut))


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_frames=st.integers(1, 4),
    height=st.integers(1, 6),
    width=st.integers(1, 40),
    size=st.sampled_from([2, 3, 4, 17]),
    weights=st.lists(st.floats(-2.0, 3.0, allow_nan=False), min_size=4, max_size=4),
)
def test_property_fast_equals_reference(seed, n_frames, height, width, size, weights) -> None:
    frames, _, lut = random_case(seed, n_frames, height, width, size, low=-1.0, high=2.0)
    w = weights[:n_frames]
    assert_close(fuse_and_apply(frames, w, lut), fuse_and_apply_reference(frames, w, lut))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.sampled_from([2, 5, 33]))
def test_property_identity_lut_with_unit_weight_is_exact(seed: int, size: int) -> None:
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (3, 4, 9, 3), dtype=np.uint8)
    k = int(rng.integers(0, 3))
    weights = np.eye(3)[k]
    np.testing.assert_array_equal(fuse_and_apply(frames, weights, identity_lut(size)), frames[k])


# --- bad inputs ---------------------------------------------------------------------------------------------


def test_bad_weights() -> None:
    frames, _, lut = random_case(0, 3, 4, 4, 5)
    for fn in (fuse_and_apply, fuse_and_apply_reference):
        with pytest.raises(ValueError, match=r"one fusion weight per exposure, shape \(3,\)"):
            fn(frames, [0.5, 0.5], lut)
        with pytest.raises(ValueError, match="finite"):
            fn(frames, [0.5, float("nan"), 0.5], lut)
        with pytest.raises(ValueError, match="finite"):
            fn(frames, [0.5, float("inf"), 0.5], lut)
        with pytest.raises(ValueError, match="numbers"):
            fn(frames, ["a", "b", "c"], lut)
        with pytest.raises(ValueError, match="magnitude"):
            fn(frames, [1e30, -1e30, 1.0], lut)


@pytest.mark.parametrize(
    ("lut", "message"),
    [
        (np.zeros((5, 5, 5), np.float32), r"shape \(N, N, N, 3\)"),
        (np.zeros((5, 5, 4, 3), np.float32), r"shape \(N, N, N, 3\)"),
        (np.zeros((5, 5, 5, 4), np.float32), r"shape \(N, N, N, 3\)"),
        (np.zeros((1, 1, 1, 3), np.float32), r"size N must be in \[2, 256\]"),
        (np.broadcast_to(np.float32(0), (257, 257, 257, 3)), r"size N must be in \[2, 256\]"),
        (np.zeros((5, 5, 5, 3), np.uint8), "float32"),
        (np.full((5, 5, 5, 3), np.nan, np.float32), "finite"),
        ([[[[0.0, 0.0, 0.0]]]], "numpy array"),
    ],
)
def test_malformed_lut(lut, message: str) -> None:
    frames = np.zeros((2, 3, 3, 3), np.uint8)
    with pytest.raises(ValueError, match=message):
        check_lut(lut)
    for fn in (fuse_and_apply, fuse_and_apply_reference):
        with pytest.raises(ValueError, match=message):
            fn(frames, [0.5, 0.5], lut)


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((2, 3, 3, 3), np.float32), "uint8"),
        (np.zeros((3, 3, 3), np.uint8), "N x H x W x 3"),
        (np.zeros((2, 3, 3, 4), np.uint8), "N x H x W x 3"),
        (np.zeros((2, 0, 3, 3), np.uint8), "empty"),
        ([[[[0, 0, 0]]]], "numpy array"),
    ],
)
def test_bad_bracket(frames, message: str) -> None:
    for fn in (fuse_and_apply, fuse_and_apply_reference):
        with pytest.raises(BracketError, match=message):
            fn(frames, [0.5, 0.5], identity_lut(3))


def test_bad_out() -> None:
    frames, weights, lut = random_case(0, 3, 4, 5, 5)
    for out in (
        np.empty((4, 5, 3), np.float32),
        np.empty((5, 4, 3), np.uint8),
        np.empty((4, 10, 3), np.uint8)[:, ::2],
    ):
        with pytest.raises(ValueError, match="out must be"):
            fuse_and_apply(frames, weights, lut, out=out)
    with pytest.raises(ValueError, match="share memory"):
        fuse_and_apply(frames, weights, lut, out=frames[1])


def test_bad_identity_size() -> None:
    for size in (1, 257, 2.5):
        with pytest.raises(ValueError, match="LUT size"):
            identity_lut(size)  # type: ignore[arg-type]


# --- the torch twin uses the same layout --------------------------------------------------------------------


def test_matches_the_torch_applier() -> None:
    torch = pytest.importorskip("torch")
    from edgemef.models.lut_distill.trilinear import fuse_and_apply as torch_fuse_and_apply

    frames, weights, lut = random_case(21, 3, 11, 19, 17, low=-0.2, high=1.2)
    images = torch.from_numpy(frames.astype(np.float32) / 255.0).permute(0, 3, 1, 2)[None]
    with torch.no_grad():
        fused = torch_fuse_and_apply(
            images, torch.from_numpy(weights.astype(np.float32))[None], torch.from_numpy(lut)[None]
        )
    expected = np.floor(fused[0].permute(1, 2, 0).clamp(0, 1).numpy().astype(np.float64) * 255 + 0.5)
    assert_close(fuse_and_apply(frames, weights, lut), expected.astype(np.uint8))


# --- weight maps (spatially adaptive fusion) ----------------------------------------------------------


@pytest.mark.parametrize(("n_frames", "grid"), [(2, (1, 1)), (3, (4, 7)), (3, (16, 16)), (5, (33, 2))])
@pytest.mark.parametrize(("height", "width"), [(1, 1), (17, 31), (9, 1100), (300, 7)])
def test_weight_maps_fast_matches_reference(
    n_frames: int, grid: tuple[int, int], height: int, width: int
) -> None:
    frames, _, lut = random_case(7, n_frames, height, width, 17)
    maps = np.random.default_rng(8).uniform(-0.3, 1.2, (n_frames, *grid))
    assert_close(fuse_and_apply(frames, maps, lut), fuse_and_apply_reference(frames, maps, lut))


def test_uniform_weight_maps_equal_global_weights() -> None:
    frames, weights, lut = random_case(9, 3, 21, 45, 33)
    maps = np.broadcast_to(weights[:, None, None], (3, 6, 5))
    np.testing.assert_array_equal(fuse_and_apply(frames, maps, lut), fuse_and_apply(frames, weights, lut))
    np.testing.assert_array_equal(
        fuse_and_apply_reference(frames, maps, lut), fuse_and_apply_reference(frames, weights, lut)
    )


def test_weight_map_sampling_is_half_pixel_bilinear_clamped() -> None:
    cv2 = pytest.importorskip("cv2")
    maps = np.random.default_rng(3).random((2, 5, 9))
    upsampled = upsample_weight_maps(maps, 37, 101)
    for k in range(2):  # OpenCV's INTER_LINEAR has the same convention (GL_LINEAR, align_corners=False)
        expected = cv2.resize(maps[k], (101, 37), interpolation=cv2.INTER_LINEAR)
        np.testing.assert_allclose(upsampled[k], expected, rtol=0, atol=1e-6)  # its coefficients are float32
    low, frac = weight_map_sampling(4, 8)  # pixel i at map coordinate (i + 0.5) / 2 - 0.5, clamped
    assert low.tolist() == [0, 0, 0, 1, 1, 2, 2, 3]
    assert frac.tolist() == [0, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75, 0]
    # each exposure's weight follows its map: left half from frame 0, right half from frame 1
    frames = np.stack([np.full((4, 64, 3), 40, np.uint8), np.full((4, 64, 3), 200, np.uint8)])
    split = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    out = fuse_and_apply(frames, split, identity_lut(2))
    assert out[0, 0, 0] == 40 and out[0, -1, 0] == 200 and 40 < out[0, 32, 0] < 200


def test_bad_weight_maps() -> None:
    frames, _, lut = random_case(1, 3, 8, 8, 5)
    for maps, message in [
        (np.ones((2, 4, 4)), "one weight map per exposure"),
        (np.ones((3, 0, 4)), "one weight map per exposure"),
        (np.ones((3, 4, 300)), "at most 256 cells"),
        (np.full((3, 2, 2), np.nan), "finite"),
    ]:
        for fn in (fuse_and_apply, fuse_and_apply_reference):
            with pytest.raises(ValueError, match=message):
                fn(frames, maps, lut)


@pytest.mark.parametrize(("grid", "height", "width"), [((4, 6), 23, 37), ((16, 16), 9, 11)])
def test_weight_maps_match_the_torch_applier(grid: tuple[int, int], height: int, width: int) -> None:
    """The training/export twin (edgemef.models.lut_distill.trilinear) fuses with weight maps as this applier
    does, upsampling and downsampling alike."""
    torch = pytest.importorskip("torch")
    from edgemef.models.lut_distill.trilinear import fuse_and_apply as torch_fuse_and_apply

    frames, _, lut = random_case(22, 3, height, width, 17, low=-0.2, high=1.2)
    maps = np.random.default_rng(23).uniform(0.0, 1.0, (3, *grid))
    images = torch.from_numpy(frames.astype(np.float32) / 255.0).permute(0, 3, 1, 2)[None]
    with torch.no_grad():
        fused = torch_fuse_and_apply(
            images, torch.from_numpy(maps.astype(np.float32))[None], torch.from_numpy(lut)[None]
        )
    expected = np.floor(fused[0].permute(1, 2, 0).clamp(0, 1).numpy().astype(np.float64) * 255 + 0.5)
    assert_close(fuse_and_apply(frames, maps, lut), expected.astype(np.uint8))


def test_weight_maps_match_the_torch_upsampling() -> None:
    torch = pytest.importorskip("torch")
    maps = np.random.default_rng(4).random((3, 8, 8)).astype(np.float32)
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(maps)[None], size=(45, 70), mode="bilinear", align_corners=False
    )[0].numpy()
    np.testing.assert_allclose(upsample_weight_maps(maps, 45, 70), expected, atol=1e-6)
