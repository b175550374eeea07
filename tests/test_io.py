"""Bracket I/O: formats, bit depths, EXIF, ordering, every error case, atomic writes."""

from __future__ import annotations

import io
import itertools
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from edgemef.errors import BracketError, ImageReadError, ImageTooLargeError, ImageWriteError
from edgemef.io import (
    ExposureInfo,
    expand_sources,
    order_by_exposure,
    read_bracket,
    read_image,
    write_image,
)
from edgemef.io.bracket import permute_in_place
from tests.conftest import exposure_bracket, textured_scene


def write_bgr(path: Path, rgb: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), rgb[..., ::-1] if rgb.ndim == 3 and rgb.shape[2] == 3 else rgb)
    return path


def jpeg_with_exif(path: Path, rgb: np.ndarray, **tags: object) -> Path:
    """Save a JPEG whose EXIF carries the given tags (orientation, exposure_time, iso, f_number)."""
    exif = Image.Exif()
    if "orientation" in tags:
        exif[0x0112] = tags["orientation"]
    exif_ifd = {}
    if "exposure_time" in tags:
        exif_ifd[0x829A] = tags["exposure_time"]
    if "iso" in tags:
        exif_ifd[0x8827] = tags["iso"]
    if "f_number" in tags:
        exif_ifd[0x829D] = tags["f_number"]
    if exif_ifd:
        exif[0x8769] = exif_ifd
    Image.fromarray(rgb).save(path, quality=98, exif=exif)
    return path


# --- formats and bit depths ---------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".png", ".tif", ".jpg"])
def test_reads_8bit_rgb(tmp_path: Path, scene: np.ndarray, ext: str) -> None:
    image = read_image(write_bgr(tmp_path / f"x{ext}", scene))
    assert image.pixels.dtype == np.uint8 and image.pixels.shape == scene.shape
    assert image.bit_depth == 8
    if ext == ".jpg":  # lossy: close on average
        assert np.abs(image.pixels.astype(int) - scene).mean() < 4
    else:
        np.testing.assert_array_equal(image.pixels, scene)  # channel order: RGB, not BGR


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_reads_16bit_and_rounds_to_8(tmp_path: Path, ext: str) -> None:
    rng = np.random.default_rng(1)
    rgb16 = rng.integers(0, 65536, (20, 30, 3), dtype=np.uint16)
    rgb16[0, 0] = (0, 65535, 128)  # 128/257 = 0.498 -> 0
    image = read_image(write_bgr(tmp_path / f"x{ext}", rgb16))
    assert image.bit_depth == 16
    expected = np.round(rgb16 / 257.0).astype(np.uint8)
    np.testing.assert_array_equal(image.pixels, expected)
    assert tuple(image.pixels[0, 0]) == (0, 255, 0)


def test_grayscale_is_promoted_to_rgb(tmp_path: Path, scene: np.ndarray) -> None:
    grey = scene[..., 1]
    image = read_image(write_bgr(tmp_path / "g.png", grey))
    assert image.pixels.shape == (*grey.shape, 3)
    for channel in range(3):
        np.testing.assert_array_equal(image.pixels[..., channel], grey)


def test_grey16_and_grey_alpha(tmp_path: Path) -> None:
    grey16 = (np.arange(24 * 8, dtype=np.uint16).reshape(24, 8) * 300).astype(np.uint16)
    image = read_image(write_bgr(tmp_path / "g16.png", grey16))
    assert image.pixels.shape == (24, 8, 3) and image.bit_depth == 16
    np.testing.assert_array_equal(image.pixels[..., 0], np.round(grey16 / 257.0).astype(np.uint8))
    grey_alpha = Image.fromarray(
        np.stack([grey16.astype(np.uint8), np.full_like(grey16, 7, np.uint8)], 2), "LA"
    )
    grey_alpha.save(tmp_path / "la.png")
    la = read_image(tmp_path / "la.png")
    np.testing.assert_array_equal(la.pixels[..., 2], grey16.astype(np.uint8))


def test_rgba_alpha_is_dropped(tmp_path: Path, scene: np.ndarray) -> None:
    rgba = np.dstack([scene, np.zeros(scene.shape[:2], np.uint8)])  # fully transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    np.testing.assert_array_equal(read_image(tmp_path / "a.png").pixels, scene)


# --- EXIF ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(tmp_path: Path, orientation: int) -> None:
    scene = textured_scene(30, 50)
    path = jpeg_with_exif(tmp_path / "o.jpg", scene, orientation=orientation)
    ours = read_image(path).pixels
    with Image.open(path) as im:
        expected = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    assert ours.shape == expected.shape
    assert ours.shape[:2] == ((50, 30) if orientation >= 5 else (30, 50))
    assert np.abs(ours.astype(int) - expected).max() <= 2  # two JPEG decoders


def test_exif_exposure_is_read(tmp_path: Path, scene: np.ndarray) -> None:
    from PIL.TiffImagePlugin import IFDRational

    path = jpeg_with_exif(tmp_path / "e.jpg", scene, exposure_time=IFDRational(1, 250), iso=400, f_number=2.8)
    info = read_image(path).exposure
    assert info == ExposureInfo(exposure_time=pytest.approx(0.004), iso=400.0, f_number=pytest.approx(2.8))
    assert read_image(write_bgr(tmp_path / "n.png", scene)).exposure == ExposureInfo()


def test_exif_exposure_decides_order_over_file_names(tmp_path: Path, scene: np.ndarray) -> None:
    frames = exposure_bracket(scene)
    # File names sort bright-first; EXIF says which is darker.
    paths = [
        jpeg_with_exif(tmp_path / "1.jpg", frames[2], exposure_time=1 / 30, iso=100),
        jpeg_with_exif(tmp_path / "2.jpg", frames[0], exposure_time=1 / 500, iso=100),
        jpeg_with_exif(tmp_path / "3.jpg", frames[1], exposure_time=1 / 125, iso=100),
    ]
    bracket = read_bracket(paths)
    assert bracket.ordered_by == "exif"
    assert [p.name for p in bracket.paths] == ["2.jpg", "3.jpg", "1.jpg"]
    means = bracket.frames.reshape(3, -1).mean(axis=1)
    assert means[0] < means[1] < means[2]


def test_exif_gain_counts_in_the_order() -> None:
    frames = np.zeros((2, 4, 4, 3), np.uint8)
    # Same shutter, different ISO: ISO 800 gathers more signal than ISO 100 at 1/60.
    exposures = [ExposureInfo(1 / 60, 800, None), ExposureInfo(1 / 60, 100, None)]
    assert order_by_exposure(frames, exposures) == ([1, 0], "exif")


def test_luminance_order_when_exif_is_missing_or_tied(bracket_files: list[Path]) -> None:
    bracket = read_bracket(bracket_files)
    assert bracket.ordered_by == "luminance"
    assert [p.name for p in bracket.paths] == ["c_dark.png", "b_middle.png", "a_bright.png"]
    frames = bracket.frames
    tied = [ExposureInfo(0.01, 100, 2.0)] * 3
    assert order_by_exposure(frames[::-1], tied) == ([2, 1, 0], "luminance")


# --- gathering sources --------------------------------------------------------------------------


def test_folder_and_glob_sources(tmp_path: Path, scene: np.ndarray) -> None:
    for name in ["ev10.png", "ev2.png", "ev1.png", "notes.txt"]:
        (tmp_path / name).write_bytes(b"x") if name.endswith(".txt") else write_bgr(tmp_path / name, scene)
    assert [p.name for p in expand_sources([tmp_path])] == ["ev1.png", "ev2.png", "ev10.png"]
    assert [p.name for p in expand_sources([str(tmp_path / "ev1*.png")])] == ["ev1.png", "ev10.png"]


# --- errors -------------------------------------------------------------------------------------


def test_single_frame_is_refused(bracket_files: list[Path]) -> None:
    with pytest.raises(BracketError, match="at least 2 exposures, got 1"):
        read_bracket(bracket_files[:1])


def test_mismatched_sizes_name_files_and_sizes(tmp_path: Path) -> None:
    a = write_bgr(tmp_path / "a.png", textured_scene(48, 64))
    b = write_bgr(tmp_path / "b.png", textured_scene(40, 64))
    with pytest.raises(BracketError) as info:
        read_bracket([a, b])
    message = str(info.value)
    assert "a.png is 64x48" in message and "b.png is 64x40" in message


def test_truncated_jpeg(tmp_path: Path, scene: np.ndarray) -> None:
    path = write_bgr(tmp_path / "t.jpg", textured_scene(200, 300))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="truncated JPEG"):
        read_image(path)


def test_truncated_png(tmp_path: Path) -> None:
    path = write_bgr(tmp_path / "t.png", textured_scene(200, 300))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    with pytest.raises(ImageReadError, match="truncated PNG"):
        read_image(path)


def test_corrupt_image_data(tmp_path: Path) -> None:
    path = write_bgr(tmp_path / "c.png", textured_scene(64, 64))
    data = bytearray(path.read_bytes())
    data[60:400] = bytes(340)  # zero out the compressed pixel data, keep the header and IEND
    path.write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match="corrupt"):
        read_image(path)


def test_text_file_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("these are my holiday notes, not a photo\n")
    with pytest.raises(ImageReadError, match="not a supported image"):
        read_image(path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.jpg", "no such file"),
        (lambda p: (p / "empty.jpg").write_bytes(b"") or p / "empty.jpg", "empty file"),
        (lambda p: p, "is a folder"),
    ],
)
def test_unreadable_paths(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(ImageReadError, match=message):
        read_image(make(tmp_path))


def test_float_tiff_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.tif"
    cv2.imwrite(str(path), np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ImageReadError, match="unsupported sample type float32"):
        read_image(path)


def test_pixel_guard_and_override(tmp_path: Path) -> None:
    path = write_bgr(tmp_path / "big.png", textured_scene(100, 200))
    with pytest.raises(ImageTooLargeError, match=r"200x100 .* over the"):
        read_image(path, max_pixels=10_000)
    assert read_image(path, max_pixels=20_000).pixels.shape == (100, 200, 3)
    assert read_image(path, max_pixels=None).pixels.shape == (100, 200, 3)


def test_missing_sources(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="pattern matched no files"):
        expand_sources([str(tmp_path / "*.jpg")])
    with pytest.raises(ImageReadError, match="folder has no"):
        expand_sources([tmp_path])
    with pytest.raises(ImageReadError, match="no such file"):
        expand_sources([tmp_path / "nope.jpg"])


def test_same_file_twice(bracket_files: list[Path]) -> None:
    with pytest.raises(BracketError, match="given twice"):
        read_bracket([bracket_files[0], bracket_files[0]])


# --- writing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ext", "dtype"), [(".png", np.uint8), (".png", np.uint16), (".tif", np.uint16)])
def test_lossless_round_trip(tmp_path: Path, ext: str, dtype: type) -> None:
    rng = np.random.default_rng(2)
    image = rng.integers(0, np.iinfo(dtype).max + 1, (16, 24, 3), dtype=dtype)
    path = write_image(tmp_path / f"out{ext}", image)
    decoded = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1]
    np.testing.assert_array_equal(decoded, image)


def test_jpeg_write(tmp_path: Path, scene: np.ndarray) -> None:
    path = write_image(tmp_path / "out.jpg", scene, jpeg_quality=100)
    assert np.abs(read_image(path).pixels.astype(int) - scene).mean() < 4


def test_write_errors(tmp_path: Path, scene: np.ndarray) -> None:
    with pytest.raises(ImageWriteError, match=r"cannot write '\.gif'"):
        write_image(tmp_path / "x.gif", scene)
    with pytest.raises(ImageWriteError, match="take uint8"):
        write_image(tmp_path / "x.jpg", scene.astype(np.uint16))
    with pytest.raises(ImageWriteError, match="does not exist"):
        write_image(tmp_path / "missing" / "x.png", scene)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path, scene: np.ndarray, monkeypatch) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"previous result")

    def fail(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(ImageWriteError, match="No space left"):
        write_image(target, scene)
    assert target.read_bytes() == b"previous result"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_output_folder_is_a_file(tmp_path: Path, scene: np.ndarray) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(ImageWriteError, match="does not exist"):
        write_image(tmp_path / "file" / "x.png", scene)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_unwritable_folder(tmp_path: Path, scene: np.ndarray) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ImageWriteError, match="cannot write"):
            write_image(tmp_path / "x.png", scene)
    finally:
        tmp_path.chmod(0o700)


def test_jpeg_with_trailing_data_after_eoi_is_fine(tmp_path: Path, scene: np.ndarray) -> None:
    path = write_bgr(tmp_path / "t.jpg", scene)
    path.write_bytes(path.read_bytes() + b"\x00" * 64)  # some cameras pad files
    assert read_image(path).pixels.shape == scene.shape


def test_exif_bytes_do_not_break_non_exif_reads() -> None:
    from edgemef.io import read_metadata

    assert read_metadata(b"not an image").orientation == 1
    buffer = io.BytesIO()
    Image.fromarray(textured_scene()).save(buffer, format="PNG")
    assert read_metadata(buffer.getvalue()).exposure == ExposureInfo()


def test_fused_images_are_written_by_their_kind(tmp_path: Path) -> None:
    """Display images go to 8-bit formats, scene-linear radiance to HDR files or a tonemapped preview; a
    mismatch is refused."""
    import cv2

    from edgemef.errors import ImageWriteError
    from edgemef.io import write_fused

    radiance = np.random.default_rng(0).random((8, 10, 3)).astype(np.float32) * 40.0
    path = write_fused(tmp_path / "scene.hdr", radiance, "scene-linear")
    back = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1]
    # RGBE: one shared exponent per pixel, so each channel is exact to ~1 % of the pixel's largest
    assert (
        back.dtype == np.float32 and (np.abs(back - radiance) <= 0.02 * radiance.max(-1, keepdims=True)).all()
    )
    preview = write_fused(tmp_path / "scene.jpg", radiance, "scene-linear")  # a tonemapped 8-bit preview
    assert cv2.imread(str(preview)).dtype == np.uint8
    display = np.zeros((8, 10, 3), np.uint8)
    assert write_fused(tmp_path / "d.png", display, "display-srgb8").exists()
    with pytest.raises(ImageWriteError, match=r"write it as \.hdr, \.exr"):
        write_fused(tmp_path / "scene.webp", radiance, "scene-linear")
    with pytest.raises(ImageWriteError, match=r"write it as \.jpg"):
        write_fused(tmp_path / "d.hdr", display, "display-srgb8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.png", "scene.hdr", "scene.jpg"]


def test_a_killed_writers_temporary_is_removed_by_the_next_write(tmp_path: Path) -> None:
    """A temporary named for a process that no longer exists (SIGKILL, power loss) goes on the next write
    to the same path; a live process's (another writer's) stays."""
    from edgemef.io import atomic_write_bytes

    target = tmp_path / "out.jpg"
    stale = tmp_path / f".out.jpg.edgemef-{_finished_pid()}-abcd1234.tmp"
    stale.write_bytes(b"partial")
    live = tmp_path / f".out.jpg.edgemef-{os.getppid()}-efgh5678.tmp"
    live.write_bytes(b"another writer")
    other = tmp_path / f".other.jpg.edgemef-{_finished_pid()}-ijkl9012.tmp"
    other.write_bytes(b"another output's")
    atomic_write_bytes(target, b"done")
    assert target.read_bytes() == b"done"
    assert not stale.exists() and live.exists() and other.exists()


def _finished_pid() -> int:
    """The PID of a child that has exited and been reaped: no process has it now."""
    import subprocess

    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.mark.parametrize("n_frames", [1, 2, 3, 5])
def test_permute_in_place_matches_fancy_indexing(n_frames: int) -> None:
    frames = np.arange(n_frames * 2 * 3 * 3, dtype=np.uint8).reshape(n_frames, 2, 3, 3)
    for order in itertools.permutations(range(n_frames)):
        reordered = frames.copy()
        permute_in_place(reordered, list(order))
        np.testing.assert_array_equal(reordered, frames[list(order)])
