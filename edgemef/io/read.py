"""Read one image file into the package's pixel convention (uint8 RGB, H x W x 3).

JPEG files are decoded by libjpeg-turbo through simplejpeg (strict: data the decoder calls corrupt is an
error; the same pixels as OpenCV's decoder, without loading OpenCV), PNG and TIFF by OpenCV (it keeps 16
bits per channel); EXIF comes from Pillow's header parser. Every failure a user can cause is an
:class:`~edgemef.errors.ImageReadError` or an :class:`~edgemef.errors.ImageTooLargeError` naming the file.
"""

from __future__ import annotations

import contextlib
import io
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import simplejpeg
from PIL import Image

from edgemef.errors import ImageReadError, ImageTooLargeError
from edgemef.io.exif import ExposureInfo, apply_orientation, read_metadata
from edgemef.io.limits import DEFAULT_MAX_PIXELS
from edgemef.native_output import Captured, captured_stderr

#: File formats edgemef reads, by their leading bytes.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
SUPPORTED_FORMATS = ("JPEG", "PNG", "TIFF")
#: The most bytes a file may have per pixel the guard allows (16-bit RGBA uncompressed is 8), plus headroom
#: for metadata: a file larger than that cannot be an image within the guard, and is not read.
MAX_BYTES_PER_PIXEL = 8
HEADER_ROOM_BYTES = 64 * 2**20
#: The most pixels a JPEG may have (OpenCV's decoders' limit, ``CV_IO_MAX_IMAGE_PIXELS``, for PNG and TIFF).
DECODER_MAX_PIXELS = 1 << 30
#: What a decoder's warning says when it has decoded a corrupt file anyway (libjpeg).
_CORRUPTION_WARNINGS = (
    "Corrupt JPEG data",
    "Premature end of JPEG file",
    "JPEG datastream contains no image",
)

# edgemef's own pixel guard (``max_pixels``) replaces Pillow's decompression-bomb check, which would
# otherwise refuse to even read the header of a large image that the user has allowed.
Image.MAX_IMAGE_PIXELS = None


@dataclass(frozen=True)
class LoadedImage:
    """One decoded frame.

    Attributes:
        path: where it was read from.
        pixels: uint8 RGB, H x W x 3, upright (EXIF orientation applied).
        exposure: EXIF exposure settings (fields are ``None`` when absent).
        bit_depth: bits per channel in the file (8 or 16); 16-bit files are rounded to 8 bits.
        file_format: "JPEG", "PNG" or "TIFF".
    """

    path: Path
    pixels: np.ndarray
    exposure: ExposureInfo
    bit_depth: int
    file_format: str
    taken: float | None = None


def sniff_format(data: bytes) -> str | None:
    """Return "JPEG", "PNG" or "TIFF" from a file's leading bytes, else ``None``."""
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    return None


def _check_complete(data: bytes, file_format: str, path: Path) -> None:
    """Reject truncated JPEG and PNG files, which decoders would otherwise pad with grey."""
    if file_format == "JPEG":
        # Entropy-coded data never contains FF D9 (bytes are stuffed), so a complete file has an
        # end-of-image marker after its last start-of-scan marker.
        if data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda"):
            raise ImageReadError(f"{path}: truncated JPEG (the file ends before its end-of-image marker)")
    elif file_format == "PNG" and b"IEND" not in data[-16:]:
        raise ImageReadError(f"{path}: truncated PNG (no IEND chunk at the end of the file)")


def _header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the header without decoding pixels; ``None`` if Pillow cannot parse it."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:
        return None


def check_pixel_count(width: int, height: int, max_pixels: int | None, path: Path) -> None:
    if max_pixels is not None and width * height > max_pixels:
        raise ImageTooLargeError(
            f"{path}: {width}x{height} is {width * height / 1e6:.1f} megapixels, over the "
            f"{max_pixels / 1e6:.0f} MP guard; raise it (--max-pixels) if this is intended"
        )


def _to_rgb8(decoded: np.ndarray, path: Path) -> tuple[np.ndarray, int]:
    if decoded.dtype == np.uint8:
        bit_depth = 8
        pixels = decoded
    elif decoded.dtype == np.uint16:
        bit_depth = 16
        # Round to the nearest 8-bit level: v8 = round(v16 / 257).
        pixels = ((decoded.astype(np.uint32) + 128) // 257).astype(np.uint8)
    else:
        raise ImageReadError(
            f"{path}: unsupported sample type {decoded.dtype} (edgemef reads 8- and 16-bit integer images)"
        )
    if pixels.ndim == 2:
        return np.repeat(pixels[:, :, None], 3, axis=2), bit_depth
    channels = pixels.shape[2]
    if channels == 1:
        return np.repeat(pixels, 3, axis=2), bit_depth
    if channels == 2:  # grey + alpha
        return np.repeat(pixels[:, :, :1], 3, axis=2), bit_depth
    import cv2

    if channels == 3:  # in place: a frame's decode holds one copy of its pixels at a time
        return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB, dst=pixels), bit_depth
    if channels == 4:  # BGRA: drop alpha
        return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGB), bit_depth
    raise ImageReadError(f"{path}: unsupported channel count {channels}")


def read_regular_file(path: Path, max_pixels: int | None) -> bytes:
    """The bytes of a regular file (not a FIFO, device or folder), refused when larger than any image
    within the pixel guard could be."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImageReadError(f"{path}: no such file") from None
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageReadError(f"{path}: is a folder, not an image file")
    if not stat.S_ISREG(info.st_mode):
        raise ImageReadError(f"{path}: not a regular file (a pipe, socket or device); give an image file")
    if max_pixels is not None and info.st_size > max_pixels * MAX_BYTES_PER_PIXEL + HEADER_ROOM_BYTES:
        raise ImageTooLargeError(
            f"{path}: {info.st_size / 1e6:.0f} MB is more than an image of the {max_pixels / 1e6:.0f} MP "
            "guard can take; raise it (--max-pixels) if this is intended"
        )
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _decode_jpeg(data: bytes, path: Path) -> np.ndarray:
    """libjpeg-turbo's decode (simplejpeg, strict) to RGB: what it calls corrupt is an error."""
    try:
        return simplejpeg.decode_jpeg(data, colorspace="RGB")
    except MemoryError:
        raise ImageTooLargeError(f"{path}: not enough memory to decode it") from None
    except ValueError as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else "the decoder could not read it"
        raise ImageReadError(f"{path}: corrupt JPEG data ({detail[:200]})") from None


def _decode(
    data: bytes, file_format: str, path: Path, size: tuple[int, int] | None, capture: bool
) -> np.ndarray:
    """OpenCV's decode; a decoder's corruption warning (``capture``: watched here, else by the caller), its
    refusal and its pixel limit are errors."""
    import cv2

    try:
        with captured_stderr() if capture else contextlib.nullcontext(Captured()) as native:
            decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        if "CV_IO_MAX_IMAGE_PIXELS" in str(exc) or "pixels <=" in str(exc):
            shown = f"{size[0]}x{size[1]}" if size else "its size"
            raise ImageTooLargeError(
                f"{path}: {shown} is more pixels than the image decoder accepts (about 1 gigapixel)"
            ) from None
        raise ImageReadError(
            f"{path}: corrupt {file_format} data ({str(exc).strip().splitlines()[-1]})"
        ) from None
    warning = corruption_warning(native.text)
    if warning is not None:
        raise ImageReadError(f"{path}: corrupt {file_format} data ({warning.strip()})")
    if decoded is None or decoded.size == 0:
        detail = (
            native.text.strip().splitlines()[-1][:200]
            if native.text.strip()
            else "the decoder could not read it"
        )
        raise ImageReadError(f"{path}: corrupt {file_format} data ({detail})")
    return decoded


def corruption_warning(native_output: str) -> str | None:
    """The first line of a decoder's output that says it decoded corrupt data, if any."""
    return next((line for line in native_output.splitlines() if line.startswith(_CORRUPTION_WARNINGS)), None)


def read_image(
    path: str | Path, *, max_pixels: int | None = DEFAULT_MAX_PIXELS, watch_decoder: bool = True
) -> LoadedImage:
    """Read a JPEG, PNG or TIFF file as upright uint8 RGB.

    Grayscale is promoted to RGB, alpha is dropped, 16-bit samples are rounded to 8 bits and the
    EXIF orientation is applied.

    Args:
        path: the image file.
        max_pixels: refuse images with more pixels than this (``None`` disables the guard), so a
            mistaken or hostile file cannot exhaust memory.
        watch_decoder: capture the decoder's stderr and refuse data it calls corrupt; ``False`` where the
            caller captures it around several decodes (:func:`edgemef.io.read_bracket`).

    Raises:
        ImageReadError: missing, unreadable, not a supported image, corrupt or truncated.
        ImageTooLargeError: more pixels than ``max_pixels``.
    """
    path = Path(path)
    data = read_regular_file(path, max_pixels)
    if not data:
        raise ImageReadError(f"{path}: empty file")
    file_format = sniff_format(data)
    if file_format is None:
        raise ImageReadError(
            f"{path}: not a supported image (edgemef reads {', '.join(SUPPORTED_FORMATS)}; "
            "the file's contents are not one of these whatever its extension)"
        )
    _check_complete(data, file_format, path)
    size = _header_size(data)
    if size is not None:  # checked before decoding, so a huge file costs no memory
        check_pixel_count(*size, max_pixels, path)
    if file_format == "JPEG":
        if size is not None and size[0] * size[1] > DECODER_MAX_PIXELS:
            raise ImageTooLargeError(
                f"{path}: {size[0]}x{size[1]} is more pixels than the image decoder accepts "
                "(about 1 gigapixel)"
            )
        pixels, bit_depth = _decode_jpeg(data, path), 8
    else:
        decoded = _decode(data, file_format, path, size, watch_decoder)
        if size is None:
            check_pixel_count(decoded.shape[1], decoded.shape[0], max_pixels, path)
        pixels, bit_depth = _to_rgb8(decoded, path)
    metadata = read_metadata(data)
    pixels = np.ascontiguousarray(apply_orientation(pixels, metadata.orientation))
    return LoadedImage(path, pixels, metadata.exposure, bit_depth, file_format, metadata.taken)
