"""The default path without OpenCV: JPEG decode (simplejpeg), JPEG encode (Pillow) and thumbnails (the
compiled area kernel) give OpenCV's pixels and bytes, and `edgemef fuse` of JPEGs never loads OpenCV."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgemef.io import read_image
from edgemef.io.write import encode_image
from edgemef.runtime import preprocess
from tests.conftest import exposure_bracket, textured_scene

REPO = Path(__file__).resolve().parents[1]
#: (source H, W) -> (output h, w): OpenCV's three INTER_AREA regimes (halving, integer blocks, fractional
#: areas), odd sizes, a single row and column, the thumbnail chain of a 4K frame
SIZES = [
    ((2160, 3840), (1080, 1920)),
    ((270, 480), (128, 128)),
    ((256, 384), (128, 128)),
    ((511, 767), (255, 383)),
    ((300, 301), (128, 128)),
    ((129, 500), (128, 128)),
    ((128, 128), (128, 128)),
    ((37, 1000), (1, 128)),
    ((5, 3), (1, 1)),
    ((640, 482), (320, 160)),
]


def _image(height: int, width: int, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return noise if seed % 2 else cv2.GaussianBlur(noise, (0, 0), 2)  # flat areas make rounding ties


@pytest.mark.parametrize(("source", "size"), SIZES)
def test_area_resize_is_opencvs_pixel_for_pixel(source: tuple[int, int], size: tuple[int, int]) -> None:
    pytest.importorskip("edgemef._fastresize", reason="the compiled thumbnail kernel was not built here")
    for seed in range(2):
        image = _image(*source, seed)
        expected = cv2.resize(image, size[::-1], interpolation=cv2.INTER_AREA)
        assert np.array_equal(preprocess.area_resize(image, size[1], size[0]), expected)


def test_random_sizes_match_opencv_too() -> None:
    pytest.importorskip("edgemef._fastresize", reason="the compiled thumbnail kernel was not built here")
    rng = np.random.default_rng(7)
    for trial in range(30):
        height, width = (int(v) for v in rng.integers(1, 700, 2))
        size = (int(rng.integers(1, width + 1)), int(rng.integers(1, height + 1)))
        image = _image(height, width, trial)
        expected = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        assert np.array_equal(preprocess.area_resize(image, *size), expected), (height, width, size)


def test_upscales_and_a_missing_kernel_go_to_opencv(monkeypatch: pytest.MonkeyPatch) -> None:
    image = _image(20, 30, 1)
    assert np.array_equal(
        preprocess.area_resize(image, 64, 40), cv2.resize(image, (64, 40), interpolation=cv2.INTER_AREA)
    )
    monkeypatch.setattr(preprocess, "_area_kernel", lambda: None)
    frames = np.stack([_image(300, 400, seed) for seed in range(3)])
    area = cv2.INTER_AREA
    halved = [
        cv2.resize(cv2.resize(f, (200, 150), interpolation=area), (100, 75), interpolation=area)
        for f in frames
    ]
    expected = np.stack([cv2.resize(f, (32, 32), interpolation=area) for f in halved])
    assert np.array_equal(preprocess.resize_thumbnails(frames, 32), expected)


def test_jpeg_decode_and_encode_are_opencvs(tmp_path: Path) -> None:
    frame = exposure_bracket(textured_scene(120, 200), (1.0,))[0]
    data = encode_image(frame, ".jpg", jpeg_quality=90)
    assert data == cv2.imencode(".jpg", frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    path = tmp_path / "frame.jpg"
    path.write_bytes(data)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    assert np.array_equal(read_image(path).pixels, decoded)
    grey = frame[..., 1]
    assert (
        encode_image(grey, ".jpg") == cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    )


def test_the_default_fusion_of_jpegs_never_loads_opencv(tmp_path: Path) -> None:
    frames = exposure_bracket(textured_scene(160, 224), (0.25, 1.0, 4.0))  # thumbnails: downscales
    paths = []
    for index, frame in enumerate(frames):
        paths.append(tmp_path / f"ev{index}.jpg")
        paths[-1].write_bytes(encode_image(frame, ".jpg"))
    script = (
        "import sys\nfrom edgemef.cli.main import main\n"
        f"code = main(['fuse', *{[str(p) for p in paths]!r}, '-o', {str(tmp_path / 'out.jpg')!r}])\n"
        "print(code, 'cv2' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True)
    assert run.stdout.split()[-2:] == ["0", "False"], run.stdout + run.stderr


@pytest.mark.parametrize("shape", [(2160, 3840), (1024, 1536), (2052, 2048), (1031, 1100), (300, 700)])
def test_thumbnails_are_the_contracts_opencv_chain(shape: tuple[int, int]) -> None:
    """``preprocessing.resize`` of the contract, done with OpenCV, against the kernel's."""
    frame = _image(*shape, 0)
    expected = frame
    while min(expected.shape[:2]) >= 4 * 128:
        expected = cv2.resize(
            expected, (expected.shape[1] // 2, expected.shape[0] // 2), interpolation=cv2.INTER_AREA
        )
    expected = cv2.resize(expected, (128, 128), interpolation=cv2.INTER_AREA)
    assert np.array_equal(preprocess.resize_thumbnails(frame[None], 128)[0], expected)
