"""Write images atomically: encode in memory, write a temporary file beside the target, rename.

A failed or interrupted write never leaves a partial output file, and never clobbers an existing
one with garbage.
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from edgemef.errors import ImageWriteError
from edgemef.io.hdr import encode_hdr, tonemap_preview
from edgemef.io.limits import HDR_EXTENSIONS, OUTPUT_EXTENSIONS, WRITABLE_DTYPES

#: Output formats by extension, and the sample types each takes.
WRITABLE = {suffix: tuple(np.dtype(name).type for name in names) for suffix, names in WRITABLE_DTYPES.items()}


def check_output_path(path: str | Path, *, image: bool = True) -> None:
    """Fail before any work if ``path`` cannot be written: a known image extension (``image``) and an
    existing, writable folder."""
    path = Path(path)
    known = sorted({suffix for suffixes in OUTPUT_EXTENSIONS.values() for suffix in suffixes})
    if image and path.suffix.lower() not in known:
        raise ImageWriteError(
            f"{path}: cannot write '{path.suffix or '(no extension)'}' files; use one of {', '.join(known)}"
        )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ImageWriteError(f"{path}: output folder {folder} does not exist")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".edgemef-check-"):
            pass
    except OSError as exc:
        raise ImageWriteError(f"{path}: output folder {folder} is not writable ({exc.strerror})") from None


def _temporary_stem(path: Path) -> str:
    """What every temporary for ``path`` starts with; the writer's PID and a random tag follow."""
    return f".{path.name}.edgemef-"


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporaries that killed runs (SIGKILL, power loss) left beside ``path``: those named for
    it whose writing process no longer exists. Returns what was removed."""
    folder = path.parent if str(path.parent) else Path(".")
    removed = []
    stem = _temporary_stem(path)
    for candidate in folder.glob(f"{glob.escape(stem)}*.tmp"):
        pid_text = candidate.name[len(stem) :].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            candidate.unlink()
            removed.append(candidate)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's), or cannot tell: leave its file alone
    return True


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and an atomic rename.

    The temporary, ``.NAME.edgemef-PID-XXXXXXXX.tmp``, is removed when the write fails or is interrupted;
    one left by a killed process is removed by the next write to the same path.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ImageWriteError(f"{path}: output folder {folder} does not exist")
    remove_stale_temporaries(path)
    try:
        fd, tmp_name = tempfile.mkstemp(
            dir=folder, prefix=f"{_temporary_stem(path)}{os.getpid()}-", suffix=".tmp"
        )
    except OSError as exc:
        raise ImageWriteError(f"{path}: cannot write to {folder} ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise ImageWriteError(f"{path}: write failed ({exc.strerror or exc})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def encode_image(image: np.ndarray, extension: str, *, jpeg_quality: int = 95) -> bytes:
    """Encode an RGB (H x W x 3) or grey (H x W) uint8/uint16 image for ``extension``."""
    extension = extension.lower()
    if extension not in WRITABLE:
        raise ImageWriteError(
            f"cannot write '{extension or '(no extension)'}' files; use one of {', '.join(sorted(WRITABLE))}"
        )
    if image.dtype not in WRITABLE[extension]:
        allowed = " or ".join(np.dtype(t).name for t in WRITABLE[extension])
        raise ImageWriteError(f"{extension} files take {allowed} pixels, not {image.dtype}")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)) or image.size == 0:
        raise ImageWriteError(f"expected an H x W x 3 RGB or H x W grey image, got shape {image.shape}")
    if extension in (".jpg", ".jpeg"):  # Pillow's libjpeg: the same bytes as OpenCV's, without loading it
        buffer = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(image)).save(buffer, "JPEG", quality=int(jpeg_quality))
        return buffer.getvalue()
    import cv2

    pixels = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(extension, pixels)
    if not ok:
        raise ImageWriteError(f"OpenCV could not encode a {image.shape} {image.dtype} image as {extension}")
    return buffer.tobytes()


def write_fused(path: str | Path, image: np.ndarray, output_kind: str, *, jpeg_quality: int = 95) -> Path:
    """Write a fused image by its kind (a family's ``output_kind``), atomically: ``display-srgb8`` uint8 sRGB
    through :func:`write_image`; ``scene-linear`` float RGB radiance as an HDR file (.hdr, .exr, float .tif;
    :func:`edgemef.io.hdr.write_hdr`) or, for .jpg/.png, as a preview tonemapped by
    :func:`edgemef.io.hdr.tonemap_preview`.

    Raises:
        ImageWriteError: an extension that does not take this kind of image, or a failed write.
    """
    path = Path(path)
    allowed = OUTPUT_EXTENSIONS.get(output_kind)
    if allowed is None:
        raise ImageWriteError(f"unknown output kind {output_kind!r}; known: {', '.join(OUTPUT_EXTENSIONS)}")
    if path.suffix.lower() not in allowed:
        raise ImageWriteError(
            f"{path}: this model's fused image is {output_kind}; write it as {', '.join(allowed)}"
        )
    if output_kind == "display-srgb8":
        return write_image(path, image, jpeg_quality=jpeg_quality)
    if path.suffix.lower() in HDR_EXTENSIONS:
        return write_hdr(path, image)
    return write_image(path, tonemap_preview(image), jpeg_quality=jpeg_quality)


def write_hdr(path: str | Path, image: np.ndarray, *, exr_half: bool = False) -> Path:
    """Write linear float RGB radiance to ``path`` atomically; the extension picks the format (.hdr, .exr,
    float .tif; :func:`edgemef.io.hdr.encode_hdr`)."""
    path = Path(path)
    atomic_write_bytes(path, encode_hdr(image, path.suffix, exr_half=exr_half))
    return path


def write_image(path: str | Path, image: np.ndarray, *, jpeg_quality: int = 95) -> Path:
    """Write ``image`` (uint8 RGB H x W x 3; uint16 for PNG/TIFF) to ``path`` atomically.

    The format follows the extension: .jpg/.jpeg (8-bit), .png and .tif/.tiff (8- or 16-bit).

    Raises:
        ImageWriteError: unknown extension, wrong pixel type, missing or unwritable folder.
    """
    path = Path(path)
    atomic_write_bytes(path, encode_image(image, path.suffix, jpeg_quality=jpeg_quality))
    return path
