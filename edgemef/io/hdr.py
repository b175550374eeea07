"""Read and write scene-referred linear HDR images, and tonemap them for a preview.

Formats, told apart by their leading bytes when read and by the extension when written:

* Radiance RGBE ``.hdr`` (OpenCV), the format of most published radiance maps;
* OpenEXR ``.exr`` (the ``OpenEXR`` package): RGB, RGBA or luminance ``Y`` channels, half or float samples;
* TIFF ``.tif``/``.tiff`` with float or 16-bit samples (OpenCV); 16-bit samples are read as linear values in
  [0, 1]. An 8-bit TIFF is display-referred, not linear, and is refused.

Every image at the public boundary is float32 RGB, ``H x W x 3``, linear, non-negative and finite.
:func:`edgemef.io.write.write_hdr` writes the encoded files atomically.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from edgemef.errors import ImageReadError, ImageWriteError
from edgemef.io.limits import DEFAULT_MAX_PIXELS, HDR_EXTENSIONS
from edgemef.io.read import check_pixel_count, read_regular_file
from edgemef.native_output import captured_stderr

__all__ = [
    "HDR_EXTENSIONS",
    "HDR_FORMATS",
    "encode_hdr",
    "read_hdr",
    "sniff_hdr_format",
    "tonemap_preview",
]

#: What :func:`read_hdr` reads, by the file's leading bytes.
HDR_FORMATS = ("Radiance", "OpenEXR", "TIFF")
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"#?RADIANCE", "Radiance"),
    (b"#?RGBE", "Radiance"),
    (b"v/1\x01", "OpenEXR"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
#: The largest finite half-float value: an ``.exr`` written with half samples cannot hold more.
HALF_MAX = 65504.0
#: The preview's operator: global Reinhard (``L / (1 + L)`` on luminance scaled to this key by its log
#: average), then the sRGB encoding.
PREVIEW_OPERATOR = "reinhard-global"
PREVIEW_KEY = 0.18


def sniff_hdr_format(data: bytes) -> str | None:
    """``"Radiance"``, ``"OpenEXR"`` or ``"TIFF"`` from a file's leading bytes; None for anything else."""
    return next((name for signature, name in _SIGNATURES if data.startswith(signature)), None)


def read_hdr(path: str | Path, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read a linear HDR image as float32 RGB ``H x W x 3``.

    Luminance-only images are repeated into three channels and alpha is dropped; negative samples (some
    renderers write small ones) are set to 0.

    Raises:
        ImageReadError: missing, unreadable, not an HDR format, corrupt, 8-bit, or with NaN/infinite samples.
        ImageTooLargeError: more pixels than ``max_pixels``.
    """
    path = Path(path)
    data = read_regular_file(path, max_pixels)
    file_format = sniff_hdr_format(data)
    if file_format is None:
        raise ImageReadError(
            f"{path}: not a linear HDR image (edgemef reads Radiance .hdr, OpenEXR .exr and float or "
            "16-bit TIFF; the file's contents are not one of these whatever its extension)"
        )
    if file_format == "OpenEXR":
        pixels = _decode_exr(path, max_pixels)
    else:
        pixels = _decode_with_opencv(data, file_format, path, max_pixels)
    return _to_linear_rgb(pixels, path)


def _decode_with_opencv(data: bytes, file_format: str, path: Path, max_pixels: int | None) -> np.ndarray:
    import cv2  # here, not at the top: the display-referred path (edgemef.io.write) runs without OpenCV

    try:
        with captured_stderr():  # libtiff's and OpenCV's complaints; the result says what went wrong
            decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise ImageReadError(
            f"{path}: corrupt {file_format} data ({str(exc).strip().splitlines()[-1]})"
        ) from None
    if decoded is None or decoded.size == 0:
        raise ImageReadError(f"{path}: corrupt {file_format} data (the decoder could not read it)")
    check_pixel_count(decoded.shape[1], decoded.shape[0], max_pixels, path)
    if decoded.dtype == np.uint8:
        raise ImageReadError(
            f"{path}: 8-bit samples are display-referred, not linear HDR; give a float or 16-bit TIFF, "
            ".hdr or .exr"
        )
    if decoded.dtype == np.uint16:
        decoded = decoded.astype(np.float32) / np.float32(65535.0)
    if decoded.ndim == 3:
        order = {3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGB}.get(decoded.shape[2])
        if order is None:
            raise ImageReadError(f"{path}: unsupported channel count {decoded.shape[2]}")
        decoded = cv2.cvtColor(np.ascontiguousarray(decoded, dtype=np.float32), order)
    return decoded


def _decode_exr(path: Path, max_pixels: int | None) -> np.ndarray:
    import OpenEXR

    try:
        with captured_stderr(stdout=True):  # OpenEXR reports a damaged chunk on std::cout
            with OpenEXR.File(str(path), header_only=True) as header_file:
                (x0, y0), (x1, y1) = header_file.header()["dataWindow"]
            check_pixel_count(int(x1 - x0 + 1), int(y1 - y0 + 1), max_pixels, path)
            with OpenEXR.File(str(path), separate_channels=True) as exr:
                channels = {name: channel.pixels for name, channel in exr.channels().items()}
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        raise ImageReadError(
            f"{path}: corrupt or truncated OpenEXR data ({str(exc).strip()[:200]})"
        ) from None
    if all(name in channels for name in "RGB"):
        planes = [channels[name] for name in "RGB"]
    elif "Y" in channels:
        planes = [channels["Y"]] * 3
    else:
        raise ImageReadError(
            f"{path}: no R, G, B or Y channels (it has {', '.join(sorted(channels)) or 'none'}); "
            "edgemef reads RGB and luminance EXRs"
        )
    if any(np.issubdtype(plane.dtype, np.integer) for plane in planes):
        raise ImageReadError(f"{path}: integer (uint) EXR channels are not radiance; give half or float")
    return np.stack([plane.astype(np.float32, copy=False) for plane in planes], axis=-1)


def _to_linear_rgb(pixels: np.ndarray, path: Path) -> np.ndarray:
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    pixels = np.ascontiguousarray(pixels, dtype=np.float32)
    if not np.isfinite(pixels).all():
        bad = int((~np.isfinite(pixels)).any(axis=2).sum())
        raise ImageReadError(f"{path}: {bad} pixels are NaN or infinite; an HDR image needs finite radiance")
    np.maximum(pixels, 0.0, out=pixels)
    return pixels


def _check_radiance(image: np.ndarray) -> np.ndarray:
    if not (
        image.ndim == 3 and image.shape[2] == 3 and image.size and np.issubdtype(image.dtype, np.floating)
    ):
        raise ImageWriteError(f"expected linear float RGB H x W x 3, got {image.dtype} {image.shape}")
    if not np.isfinite(image).all():
        raise ImageWriteError("the HDR image has NaN or infinite samples; nothing was written")
    return np.maximum(np.asarray(image, dtype=np.float32), 0.0)


def encode_hdr(image: np.ndarray, extension: str, *, exr_half: bool = False) -> bytes:
    """Encode linear float RGB radiance for ``extension`` (.hdr, .exr, .tif/.tiff float32).

    Args:
        image: float RGB ``H x W x 3``, finite; negative samples are written as 0.
        extension: the file type.
        exr_half: write an ``.exr`` with half samples (smaller; 11 significant bits, values up to 65504)
            instead of float.

    Raises:
        ImageWriteError: another extension, not float RGB, non-finite samples, or half overflow.
    """
    extension = extension.lower()
    if extension not in HDR_EXTENSIONS:
        raise ImageWriteError(
            f"cannot write linear HDR as '{extension or '(no extension)'}'; use one of "
            f"{', '.join(HDR_EXTENSIONS)}"
        )
    radiance = _check_radiance(image)
    if extension == ".exr":
        return _encode_exr(radiance, exr_half)
    import cv2

    bgr = cv2.cvtColor(radiance, cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(".tiff" if extension.startswith(".tif") else extension, bgr)
    if not ok:
        raise ImageWriteError(f"OpenCV could not encode a {radiance.shape} float image as {extension}")
    return buffer.tobytes()


def _encode_exr(radiance: np.ndarray, half: bool) -> bytes:
    import OpenEXR

    if half and float(radiance.max()) > HALF_MAX:
        raise ImageWriteError(
            f"the brightest sample ({float(radiance.max()):.4g}) is more than half floats hold "
            f"({HALF_MAX:g}); write float samples or scale the image"
        )
    pixels = radiance.astype(np.float16 if half else np.float32)
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with tempfile.TemporaryDirectory(prefix="edgemef-exr-") as folder:
        target = Path(folder) / "image.exr"
        with OpenEXR.File(header, {"RGB": pixels}) as exr:
            exr.write(str(target))
        return target.read_bytes()


def tonemap_preview(radiance: np.ndarray, *, key: float = PREVIEW_KEY) -> np.ndarray:
    """A display preview of linear radiance: global Reinhard, then sRGB; uint8 RGB ``H x W x 3``.

    The luminance is scaled so its log average is ``key``, compressed by ``L / (1 + L)``, and the colour
    ratios are kept (each channel scaled by the luminance's ratio); the sRGB encoding follows.
    """
    from edgemef.data.synthesis import linear_to_srgb

    linear = _check_radiance(radiance)
    if not (math.isfinite(key) and key > 0.0):
        raise ValueError(f"key must be a positive number, got {key}")
    luminance = linear @ np.asarray([0.2126, 0.7152, 0.0722], dtype=np.float32)
    log_average = float(np.exp(np.mean(np.log(luminance.astype(np.float64) + 1e-6))))
    scaled = luminance * np.float32(key / log_average)
    ratio = (scaled / (1.0 + scaled)) / np.maximum(luminance, np.float32(1e-12))
    display = np.clip(linear * ratio[..., None], 0.0, 1.0)
    return np.clip(np.rint(linear_to_srgb(display) * 255.0), 0, 255).astype(np.uint8)
