"""Linear HDR images: reading and writing .hdr/.exr/.tif, the HDR metrics, and brackets made from radiance
maps with their ground truth."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgemef.data.hdr_brackets import (
    HdrBracketConfig,
    find_radiance_maps,
    make_hdr_bracket,
    panorama_view,
    split_radiance_maps,
    validation_brackets,
)
from edgemef.errors import DatasetError, ImageReadError, ImageWriteError
from edgemef.io.hdr import encode_hdr, read_hdr, tonemap_preview
from edgemef.io.write import write_hdr
from edgemef.metrics import mu_law, psnr_l, psnr_mu, ssim_l, ssim_mu
from tests.conftest import shared_data


def radiance_scene(height: int = 40, width: int = 56, seed: int = 0) -> np.ndarray:
    """Linear radiance over 14 stops (float32 RGB), smooth with fine texture."""
    gen = np.random.default_rng(seed)
    stops = cv2.resize(gen.uniform(-8.0, 6.0, (5, 7)), (width, height), interpolation=cv2.INTER_CUBIC)
    colour = gen.uniform(0.5, 1.0, (height, width, 3))
    return (np.exp2(stops)[..., None] * colour).astype(np.float32)


# ------------------------------------------------------------------------------------------ files


@pytest.mark.parametrize("extension", [".hdr", ".exr", ".tif", ".tiff"])
def test_every_format_round_trips(tmp_path: Path, extension: str) -> None:
    image = radiance_scene()
    path = write_hdr(tmp_path / f"scene{extension}", image)
    back = read_hdr(path)
    assert back.dtype == np.float32 and back.shape == image.shape
    if (
        extension == ".hdr"
    ):  # RGBE: 8-bit mantissas with a shared exponent, within 1 % of the brightest channel
        assert np.all(np.abs(back - image) <= 0.01 * image.max(axis=2, keepdims=True))
    else:
        np.testing.assert_array_equal(back, image)


def test_half_exr_keeps_eleven_bits_and_refuses_overflow(tmp_path: Path) -> None:
    image = radiance_scene()
    back = read_hdr(write_hdr(tmp_path / "half.exr", image, exr_half=True))
    np.testing.assert_allclose(back, image, rtol=2**-11, atol=6e-8)
    assert (tmp_path / "half.exr").stat().st_size < encode_hdr(image, ".exr").__len__()
    with pytest.raises(ImageWriteError, match="half floats"):
        write_hdr(tmp_path / "big.exr", image * 1e6, exr_half=True)
    assert not (tmp_path / "big.exr").exists()


def test_other_tools_read_what_edgemef_writes(tmp_path: Path) -> None:
    """OpenCV and imageio read the .hdr and .tif back equal to edgemef's reading; the .exr is read by the
    OpenEXR library itself (OpenCV's pip wheel is built without OpenEXR, imageio needs FreeImage for it)."""
    import imageio.v3 as iio
    import OpenEXR
    import tifffile

    image = radiance_scene()
    for extension in (".hdr", ".tif"):
        path = write_hdr(tmp_path / f"scene{extension}", image)
        ours = read_hdr(path)
        np.testing.assert_array_equal(cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1], ours)
        np.testing.assert_array_equal(iio.imread(path, plugin="opencv", flags=cv2.IMREAD_UNCHANGED), ours)
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "scene.tif"), image)
    write_hdr(tmp_path / "scene.exr", image)
    with OpenEXR.File(str(tmp_path / "scene.exr")) as exr:
        np.testing.assert_array_equal(exr.channels()["RGB"].pixels, image)


def test_luminance_exr_and_16_bit_tiff_read_as_linear_rgb(tmp_path: Path) -> None:
    import OpenEXR

    grey = np.ascontiguousarray(radiance_scene()[..., 0])
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with OpenEXR.File(header, {"Y": grey}) as exr:
        exr.write(str(tmp_path / "grey.exr"))
    back = read_hdr(tmp_path / "grey.exr")
    assert back.shape == (*grey.shape, 3) and np.array_equal(back[..., 1], grey)
    codes = np.arange(40 * 56 * 3, dtype=np.uint16).reshape(40, 56, 3) * 20
    cv2.imwrite(str(tmp_path / "linear16.tif"), codes[..., ::-1])
    np.testing.assert_allclose(read_hdr(tmp_path / "linear16.tif"), codes / 65535.0, rtol=1e-6)


@pytest.mark.parametrize("extension", [".hdr", ".exr", ".tif"])
def test_truncated_files_are_refused_with_the_name(tmp_path: Path, extension: str, capfd) -> None:
    data = encode_hdr(radiance_scene(), extension)
    path = tmp_path / f"cut{extension}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match=rf"cut{extension}: corrupt"):
        read_hdr(path)
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # the decoders' own complaints are captured


def test_non_hdr_inputs_are_refused(tmp_path: Path) -> None:
    eight = tmp_path / "eight.tif"
    cv2.imwrite(str(eight), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ImageReadError, match="8-bit samples are display-referred"):
        read_hdr(eight)
    jpeg = tmp_path / "photo.hdr"
    jpeg.write_bytes(cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))[1].tobytes())
    with pytest.raises(ImageReadError, match="not a linear HDR image"):
        read_hdr(jpeg)
    with pytest.raises(ImageReadError, match="no such file"):
        read_hdr(tmp_path / "missing.exr")
    nan = radiance_scene()
    nan[3, 4, 1] = np.nan
    (tmp_path / "nan.tif").write_bytes(cv2.imencode(".tiff", nan)[1].tobytes())
    with pytest.raises(ImageReadError, match="1 pixels are NaN or infinite"):
        read_hdr(tmp_path / "nan.tif")


def test_writes_refuse_bad_images_and_leave_nothing(tmp_path: Path) -> None:
    nan = radiance_scene()
    nan[0, 0, 0] = np.inf
    with pytest.raises(ImageWriteError, match="NaN or infinite"):
        write_hdr(tmp_path / "x.exr", nan)
    with pytest.raises(ImageWriteError, match="linear float RGB"):
        write_hdr(tmp_path / "x.hdr", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ImageWriteError, match=r"cannot write linear HDR as '\.png'"):
        write_hdr(tmp_path / "x.png", radiance_scene())
    assert list(tmp_path.iterdir()) == []


def test_preview_is_a_display_image_that_keeps_order() -> None:
    image = radiance_scene()
    preview = tonemap_preview(image)
    assert preview.dtype == np.uint8 and preview.shape == image.shape
    lum = image @ np.float32([0.2126, 0.7152, 0.0722])
    darkest, brightest = np.unravel_index(lum.argmin(), lum.shape), np.unravel_index(lum.argmax(), lum.shape)
    assert preview[darkest].mean() < preview[brightest].mean()
    assert 40 < preview.mean() < 200  # the key puts the log-average near middle grey


# ------------------------------------------------------------------------------------------ metrics


def test_hdr_metrics_follow_their_definitions() -> None:
    gen = np.random.default_rng(0)
    reference = gen.uniform(0.0, 1.0, (32, 32, 3))
    estimate = np.clip(reference + gen.normal(0.0, 0.01, reference.shape), 0.0, 1.0)
    assert psnr_l(estimate, reference) == pytest.approx(
        10 * math.log10(1.0 / np.mean((estimate - reference) ** 2))
    )
    tonemapped = np.mean((mu_law(estimate) - mu_law(reference)) ** 2)
    assert psnr_mu(estimate, reference) == pytest.approx(10 * math.log10(1.0 / tonemapped))
    skimage_metrics = pytest.importorskip("skimage.metrics")
    expected = skimage_metrics.structural_similarity(
        mu_law(estimate),
        mu_law(reference),
        channel_axis=2,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=1.0,
    )
    assert ssim_mu(estimate, reference) == pytest.approx(expected, abs=1e-6)
    assert ssim_l(reference, reference) == pytest.approx(1.0)
    # mu-law weighs the darks: the same error costs more PSNR-mu in the shadows than in the highlights
    dark, bright = reference * 0.01, reference * 0.01 + 0.9
    assert psnr_mu(dark * 1.1, dark) < psnr_mu(bright + dark * 0.1, bright)
    with pytest.raises(ValueError, match="float"):
        psnr_l(np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.uint8))


# ------------------------------------------------------------------------------------------ brackets


def test_bracket_ground_truth_is_what_the_frames_saw() -> None:
    """Without noise, shake or objects, the reference frame is exactly the ground truth through the camera:
    clip(H * t_ref)**(1/2.2) in 8 bits, and eq. 1 linearises every frame to H where it is exposed."""
    radiance = radiance_scene(96, 128)
    config = HdrBracketConfig(
        size=64,
        shot_noise_gain=(0.0, 0.0),
        read_noise_std=(0.0, 0.0),
        shake_px=0.0,
        shake_deg=0.0,
        moving_object=0.0,
        saturated_reference=0.0,
        ev_steps=(2.0,),
    )
    sample = make_hdr_bracket(radiance, config, np.random.default_rng(1), source="synthetic")
    assert sample.frames.shape == (3, 64, 64, 3) and sample.exposure_times == (1.0, 4.0, 16.0)
    assert sample.reference_index == 1 and sample.radiance.dtype == np.float32
    assert 0.0 <= sample.radiance.min() and sample.radiance.max() <= 1.0
    expected = np.rint(np.clip(sample.radiance * 4.0, 0, 1) ** (1 / 2.2) * 255)
    assert np.abs(sample.frames[1].astype(float) - expected).max() <= 1
    linear = sample.linearised()
    for index, time in enumerate(sample.exposure_times):
        exposed = (sample.frames[index] > 40) & (sample.frames[index] < 250)
        assert exposed.any()
        relative = np.abs(linear[index] - sample.radiance)[exposed] / sample.radiance[exposed]
        assert np.median(relative) < 0.01, (index, time)


def test_panorama_view_looks_where_it_is_told() -> None:
    """A panorama whose longitude is coded in red and latitude in green: the view's centre sees the yaw and
    pitch asked for."""
    height, width = 64, 128
    longitude = (np.arange(width) + 0.5) / width * 360.0 - 180.0
    latitude = 90.0 - (np.arange(height) + 0.5) / height * 180.0
    panorama = np.zeros((height, width, 3), np.float32)
    panorama[..., 0] = longitude[None, :]
    panorama[..., 1] = latitude[:, None]
    view = panorama_view(panorama, 33, yaw_deg=40.0, pitch_deg=20.0, fov_deg=60.0)
    assert view[16, 16, 0] == pytest.approx(40.0, abs=2.0)
    assert view[16, 16, 1] == pytest.approx(20.0, abs=2.0)
    assert view[0, 16, 1] > view[32, 16, 1]  # up is up


def test_validation_brackets_are_reproducible_and_split_by_file(tmp_path: Path) -> None:
    names = [f"polyhaven_{i:02d}.hdr" for i in range(10)] + [f"openexr_{i}.hdr" for i in range(6)]
    for index, name in enumerate(names):
        shape = (32, 64) if name.startswith("polyhaven") else (48, 40)
        write_hdr(tmp_path / name, radiance_scene(*shape, seed=index))
    maps = find_radiance_maps(tmp_path)
    training, validation = split_radiance_maps(maps)
    assert sorted(training + validation) == maps and not set(training) & set(validation)
    assert [p.name for p in validation] == ["openexr_2.hdr", "polyhaven_02.hdr", "polyhaven_07.hdr"]
    config = HdrBracketConfig(size=32)
    first = list(validation_brackets(validation, config, per_map=2, seed=5))
    again = list(validation_brackets(validation[1:], config, per_map=2, seed=5))
    assert len(first) == 6 and [b.source for b in first[:2]] == ["openexr_2.hdr"] * 2
    for a, b in zip(first[2:], again, strict=True):  # a map's brackets do not depend on the other maps
        assert np.array_equal(a.frames, b.frames) and np.array_equal(a.radiance, b.radiance)
    assert not np.array_equal(first[0].frames, first[1].frames)
    with pytest.raises(DatasetError, match="no radiance maps"):
        find_radiance_maps(tmp_path / "nothing-here" if False else _empty(tmp_path))


def _empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def test_real_radiance_maps_make_brackets_with_saturated_references() -> None:
    folder = shared_data("hdr")
    training, validation = split_radiance_maps(find_radiance_maps(folder))
    assert len(validation) == 11 and len(training) == 42
    samples = list(validation_brackets(validation, HdrBracketConfig(size=128), per_map=2, seed=0))
    saturated = [float((b.frames[b.reference_index] == 255).any(axis=2).mean()) for b in samples]
    assert sum(s > 0.05 for s in saturated) >= 2  # some references clip over large areas
    assert all(b.frames.dtype == np.uint8 and b.radiance.max() <= 1.0 for b in samples)


# ------------------------------------------------------------------------------------------ the commands


def _bracket_files(tmp_path: Path, exif_times: tuple[float, ...] | None = None) -> tuple[list[Path], object]:
    from PIL import Image

    config = HdrBracketConfig(size=96, shake_px=0.0, shake_deg=0.0, moving_object=0.0, ev_steps=(2.0,))
    sample = make_hdr_bracket(radiance_scene(128, 160), config, np.random.default_rng(3))
    paths = []
    for index, frame in enumerate(sample.frames):
        path = tmp_path / f"frame{index}.jpg"
        exif = Image.Exif()
        if exif_times is not None:
            exif[0x8769] = {0x829A: exif_times[index]}
        Image.fromarray(frame).save(path, quality=98, exif=exif)
        paths.append(path)
    return paths, sample


def test_fuse_writes_radiance_from_ev_or_exif_times(tmp_path: Path, capsys) -> None:
    from edgemef.cli.main import main

    paths, sample = _bracket_files(tmp_path)
    assert (
        main(["fuse", *map(str, paths), "--model", "debevec", "--ev=-2,0,2", "-o", str(tmp_path / "a.exr")])
        == 0
    )
    radiance = read_hdr(tmp_path / "a.exr")
    assert psnr_mu(radiance, sample.radiance) > 20.0  # JPEG frames; radiance off by 4x scores ~12 dB
    assert (
        main(["fuse", *map(str, paths), "--model", "debevec", "--ev=-2,0,2", "-o", str(tmp_path / "a.jpg")])
        == 0
    )
    assert "reinhard-global tonemapped preview" in capsys.readouterr().out
    # without times a model of radiance says what it needs and writes nothing
    assert main(["fuse", *map(str, paths), "--model", "debevec", "-o", str(tmp_path / "b.hdr")]) == 2
    assert "--ev" in capsys.readouterr().err and not (tmp_path / "b.hdr").exists()
    # EXIF exposure times (1/400, 1/100, 1/25 s) give the same radiance as --ev
    (tmp_path / "exif").mkdir()
    timed, _ = _bracket_files(tmp_path / "exif", (1 / 400, 1 / 100, 1 / 25))
    assert main(["fuse", *map(str, timed), "--model", "debevec", "-o", str(tmp_path / "c.exr")]) == 0
    np.testing.assert_allclose(read_hdr(tmp_path / "c.exr"), radiance, rtol=1e-4, atol=1e-7)


def test_eval_scores_radiance_models_on_radiance_maps(tmp_path: Path, capsys) -> None:
    from edgemef.cli.main import main

    maps = tmp_path / "maps"
    maps.mkdir()
    for index in range(5):
        write_hdr(maps / f"photo_{index}.hdr", radiance_scene(64, 80, seed=index))
    report = tmp_path / "r.json"
    code = main(["eval", "--dataset", str(maps), "--model", "debevec", "--size", "48", "--json", str(report)])
    assert code == 0
    out = capsys.readouterr().out
    assert "photo_2#0" in out and "photo_2#1" in out and "PSNR-mu" in out  # the one validation map, twice
    import json

    data = json.loads(report.read_text())
    assert len(data["results"]) == 2 and data["mean"]["psnr_mu"] > 20.0
    # a fusion model: aligned brackets of the same maps, MEF-SSIM only (no reference picture)
    fusion = ["eval", "--dataset", str(maps), "--model", "mertens", "--size", "64", "--json", str(report)]
    assert main([*fusion, "--exposures", "2"]) == 0
    out = capsys.readouterr().out
    assert "photo_2#1" in out and "static bracket" in out
    data = json.loads(report.read_text())
    assert [r["n_exposures"] for r in data["results"]] == [2, 2] and data["mean"]["psnr"] is None
    assert 0.5 < data["mean"]["mef_ssim"] <= 1.0
    assert main([*fusion, "--exposures", "all"]) == 2 and main([*fusion, "--shake", "3"]) == 2
    assert "aligned" in capsys.readouterr().err
