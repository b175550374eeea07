"""3D colour look-up tables (LUTs) and the LUT-distill deploy path: fuse the exposures, then apply the LUT.

Torch-free (numpy; numba where the C kernel was not built): this is what runs at full resolution on a
device, after the network has predicted, from 128x128 thumbnails, one fusion weight per exposure and a LUT.

Canonical LUT layout (every applier in edgemef uses it; the torch twin is
:mod:`edgemef.models.lut_distill.trilinear`)
------------------------------------------------------------------------------------------------------------
A LUT of size ``N`` (2 <= N <= 256; typically 17, 33 or 64) is a float32 numpy array of shape
``(N, N, N, 3)`` indexed ``lut[b, g, r, c]``:

- axis 0 is the **blue** input index, axis 1 **green**, axis 2 **red**: red varies fastest in memory, which
  is exactly the layout of iOS ``CIColorCube`` data and of an OpenGL/Vulkan/Metal 3D texture with
  width = red, height = green, depth = blue, so a device uploads it without reordering;
- the last axis holds the output colour **(R, G, B)**, nominally in [0, 1]; values outside are allowed
  (they take part in the interpolation) and the *interpolated* result is clamped to [0, 1] when it is
  quantised to uint8;
- an input value ``v`` in [0, 1] of a channel maps to the continuous grid coordinate ``v * (N - 1)`` (the
  first and last lattice points sit exactly on 0 and 1); the output is the trilinear interpolation of the 8
  lattice points around that coordinate (inputs outside [0, 1] are clamped first, like a texture's
  clamp-to-edge);
- the identity LUT is ``lut[b, g, r] = (r, g, b) / (N - 1)`` (:func:`identity_lut`).

Fusion (eqs. 3-5 of the LUT-distill paper), per pixel and channel, with frames ``I_k`` in [0, 1]::

    fused = sum_k w_k * I_k          # one scalar weight per exposure
    out   = uint8(floor(clamp(trilinear(lut, clamp(fused, 0, 1)), 0, 1) * 255 + 0.5))

The weights need not sum to 1 (a softmax makes them do so in the model, but any finite weights work; the
clamp of ``fused`` to [0, 1] handles over- and under-shoot).

Spatially adaptive fusion: instead of one weight per exposure, a **weight map** per exposure, ``K x Gh x Gw``
(a low-resolution grid over the whole frame, whatever its aspect), upsampled bilinearly to every pixel with
half-pixel centres and clamp-to-edge (:func:`weight_map_sampling`: OpenGL's ``GL_LINEAR`` with
``CLAMP_TO_EDGE``, Core Image's linear sampling, OpenCV's ``INTER_LINEAR``, torch's ``align_corners=False``),
so ``fused = sum_k W_k(x, y) * I_k``, then the same LUT. ``fuse_and_apply`` and the reference take either.

Two implementations:

- :func:`fuse_and_apply_reference`: plain float64 numpy, written to be obviously correct;
- :func:`fuse_and_apply`: the fast path (a compiled C kernel, or numba where it was not built; parallel over
  rows, explicit SIMD), agrees with the reference within 1 grey level everywhere; no full-resolution float
  temporaries.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Sequence
from types import ModuleType

import numpy as np

from edgemef.io import check_bracket_array

__all__ = [
    "LUT_LAYOUT",
    "LUT_MAX_SIZE",
    "LUT_MIN_SIZE",
    "check_lut",
    "color_cube_data",
    "fuse_and_apply",
    "fuse_and_apply_reference",
    "identity_lut",
    "upsample_weight_maps",
    "warm_up",
    "weight_map_sampling",
]

LUT_MIN_SIZE = 2
#: the canonical layout in one line (contracts carry it)
#: how weight maps (``K x Gh x Gw``, covering the whole frame) are sampled at full resolution, as contracts
#: state it (:func:`weight_map_sampling`)
WEIGHT_MAP_SAMPLING = (
    "bilinear, half-pixel centres, clamp-to-edge: pixel (x, y) of a W x H frame samples map coordinate "
    "u = clamp((x + 0.5) * Gw / W - 0.5, 0, Gw - 1), v = clamp((y + 0.5) * Gh / H - 0.5, 0, Gh - 1) "
    "(= OpenGL GL_LINEAR with CLAMP_TO_EDGE, OpenCV INTER_LINEAR, torch align_corners=False)"
)
LUT_LAYOUT = (
    "float32 (S, S, S, 3) indexed lut[b, g, r, c]: axis 0 blue, 1 green, 2 red (red fastest in memory, "
    "as CIColorCube data and a 3D texture with width=red, height=green, depth=blue); c = output R, G, B "
    "in [0, 1]; "
    "input v in [0, 1] maps to grid coordinate v * (S - 1); trilinear interpolation, clamp-to-edge"
)
LUT_MAX_SIZE = 256
_MAX_WEIGHT = 1e6
#: the largest weight-map side and bracket the fast kernels take (the C kernel's per-row buffers)
MAX_MAP_SIDE = 256
MAX_MAP_FRAMES = 16


# --------------------------------------------------------------------------------------------------------
# LUTs and argument checks
# --------------------------------------------------------------------------------------------------------


def identity_lut(size: int) -> np.ndarray:
    """The identity LUT ``(size, size, size, 3)`` float32: ``lut[b, g, r] = (r, g, b) / (size - 1)``."""
    if not isinstance(size, (int, np.integer)) or not LUT_MIN_SIZE <= size <= LUT_MAX_SIZE:
        raise ValueError(f"a LUT size must be an integer in [{LUT_MIN_SIZE}, {LUT_MAX_SIZE}], got {size!r}")
    v = np.arange(size, dtype=np.float64) / (size - 1)
    b, g, r = np.meshgrid(v, v, v, indexing="ij")
    return np.stack([r, g, b], axis=-1).astype(np.float32)


def color_cube_data(lut: np.ndarray) -> bytes:
    """The LUT as iOS Core Image ``CIColorCube`` data: ``N^3`` RGBA texels of little-endian float32 in the
    canonical order as it is (red fastest), alpha 1 (the iOS demo's ``ColorCube.data`` packs the same bytes).
    """
    check_lut(lut)
    texels = np.ones((*lut.shape[:3], 4), "<f4")
    texels[..., :3] = lut
    return texels.tobytes()


def check_lut(lut: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``lut`` is a canonical LUT: ``(N, N, N, 3)`` floats, 2 <= N <= 256, finite.

    float32 is the canonical dtype; float16 and float64 are accepted (the appliers convert them).
    """
    if not isinstance(lut, np.ndarray):
        raise ValueError(f"a LUT must be a numpy array, got {type(lut).__name__}")
    shape = lut.shape
    if lut.ndim != 4 or shape[3] != 3 or not shape[0] == shape[1] == shape[2]:
        raise ValueError(
            f"a LUT must have shape (N, N, N, 3) indexed lut[blue, green, red, (R, G, B)], got {shape}"
        )
    if not LUT_MIN_SIZE <= shape[0] <= LUT_MAX_SIZE:
        raise ValueError(f"a LUT size N must be in [{LUT_MIN_SIZE}, {LUT_MAX_SIZE}], got N={shape[0]}")
    if lut.dtype not in (np.float16, np.float32, np.float64):
        raise ValueError(f"a LUT must hold float32 values (float16/float64 accepted), got {lut.dtype}")
    if not np.isfinite(lut).all():
        raise ValueError("a LUT must hold finite values (found NaN or infinity)")


def _check_weights(weights: Sequence[float] | np.ndarray, n_frames: int) -> np.ndarray:
    """``weights`` as a float64 array of shape (n_frames,), or ``ValueError``."""
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"fusion weights must be numbers, got {weights!r}") from error
    if w.shape != (n_frames,):
        raise ValueError(f"expected one fusion weight per exposure, shape ({n_frames},), got shape {w.shape}")
    if not np.isfinite(w).all():
        raise ValueError(f"fusion weights must be finite, got {w.tolist()}")
    if np.abs(w).max() > _MAX_WEIGHT:
        # keeps every float32 partial sum of the fast path finite (no inf - inf = NaN grid coordinates)
        raise ValueError(f"fusion weights must be at most {_MAX_WEIGHT:g} in magnitude, got {w.tolist()}")
    return w


def _check_weight_maps(maps: np.ndarray, n_frames: int) -> np.ndarray:
    """``maps`` as a float64 ``K x Gh x Gw`` array, or ``ValueError``."""
    m = np.asarray(maps, dtype=np.float64)
    if m.ndim != 3 or m.shape[0] != n_frames or min(m.shape[1:]) < 1:
        raise ValueError(f"expected one weight map per exposure, shape ({n_frames}, Gh, Gw), got {m.shape}")
    if max(m.shape[1:]) > MAX_MAP_SIDE or n_frames > MAX_MAP_FRAMES:
        raise ValueError(
            f"weight maps are at most {MAX_MAP_SIDE} cells a side for at most {MAX_MAP_FRAMES} exposures, "
            f"got {m.shape}"
        )
    if not np.isfinite(m).all() or np.abs(m).max() > _MAX_WEIGHT:
        raise ValueError(f"weight maps must be finite and at most {_MAX_WEIGHT:g} in magnitude")
    return m


def _check_any_weights(weights: Sequence[float] | np.ndarray, n_frames: int) -> np.ndarray:
    """One weight per frame (``K``) or one weight map per frame (``K x Gh x Gw``), checked."""
    if np.ndim(weights) == 3:
        return _check_weight_maps(np.asarray(weights), n_frames)
    return _check_weights(weights, n_frames)


def weight_map_sampling(map_size: int, image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """How a weight map of ``map_size`` cells is sampled along an image axis of ``image_size`` pixels.

    Pixel ``i`` sits at map coordinate ``u = (i + 0.5) * map_size / image_size - 0.5`` (half-pixel centres),
    clamped to ``[0, map_size - 1]`` (clamp-to-edge); its weight is ``(1 - f) * m[i0] + f * m[i0 + 1]`` with
    ``i0 = floor(u)``, ``f = u - i0`` (``m`` padded with a copy of its last cell).

    Returns:
        ``i0`` (int32) and ``f`` (float32), ``image_size`` each.
    """
    u = (np.arange(image_size, dtype=np.float64) + 0.5) * (map_size / image_size) - 0.5
    u = np.clip(u, 0.0, map_size - 1)
    low = np.floor(u).astype(np.int32)
    return low, (u - low).astype(np.float32)


def upsample_weight_maps(maps: np.ndarray, height: int, width: int, rows: slice = slice(None)) -> np.ndarray:
    """``K x Gh x Gw`` weight maps -> ``K x H x W`` float64 per-pixel weights (:func:`weight_map_sampling`);
    ``rows``: only these output rows."""
    m = np.pad(np.asarray(maps, dtype=np.float64), ((0, 0), (0, 1), (0, 1)), mode="edge")
    y0, fy = weight_map_sampling(maps.shape[1], height)
    x0, fx = weight_map_sampling(maps.shape[2], width)
    y0, fy = y0[rows], fy[rows].astype(np.float64)[:, None]
    lines = m[:, y0] * (1.0 - fy) + m[:, y0 + 1] * fy  # K x rows x (Gw + 1)
    fx64 = fx.astype(np.float64)
    return lines[:, :, x0] * (1.0 - fx64) + lines[:, :, x0 + 1] * fx64


# --------------------------------------------------------------------------------------------------------
# Reference implementation
# --------------------------------------------------------------------------------------------------------


def _trilinear_reference(table: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """``... x 3`` (R, G, B) in any range -> ``... x 3`` float64: the 8-corner weighted sum, clamp-to-edge."""
    n = table.shape[0]
    x = np.clip(rgb, 0.0, 1.0) * (n - 1)
    lower = np.minimum(np.floor(x), n - 2).astype(np.intp)  # the top value 1.0 uses cell N-2, fraction 1
    frac = x - lower
    r0, g0, b0 = lower[..., 0], lower[..., 1], lower[..., 2]
    fr, fg, fb = frac[..., 0:1], frac[..., 1:2], frac[..., 2:3]
    result = np.zeros(rgb.shape, dtype=np.float64)
    for db in (0, 1):
        wb = fb if db else 1.0 - fb
        for dg in (0, 1):
            wg = fg if dg else 1.0 - fg
            for dr in (0, 1):
                wr = fr if dr else 1.0 - fr
                result += wb * wg * wr * table[b0 + db, g0 + dg, r0 + dr]
    return result


def fuse_and_apply_reference(
    frames: np.ndarray, weights: Sequence[float] | np.ndarray, lut: np.ndarray
) -> np.ndarray:
    """Fuse ``frames`` with ``weights`` and map the result through ``lut``: the plain float64 reference.

    Args:
        frames: uint8 RGB bracket ``K x H x W x 3`` (K >= 1).
        weights: K finite fusion weights, |w| <= 1e6 (need not sum to 1), or K weight maps ``K x Gh x Gw``
            (upsampled as :func:`upsample_weight_maps` does).
        lut: canonical LUT (see the module docstring).

    Returns:
        uint8 ``H x W x 3``: ``floor(clamp(trilinear(lut, fused), 0, 1) * 255 + 0.5)`` with
        ``fused = clamp(sum_k w_k I_k / 255, 0, 1)``.

    Raises:
        BracketError: ``frames`` is not a uint8 ``K x H x W x 3`` array.
        ValueError: bad weights or a malformed LUT.
    """
    check_bracket_array(frames, min_frames=1)
    w = _check_any_weights(weights, frames.shape[0])
    check_lut(lut)
    table = lut.astype(np.float64)
    height, width = frames.shape[1:3]
    out = np.empty(frames.shape[1:], dtype=np.uint8)
    rows = max(1, 65536 // frames.shape[2])  # bounded float64 temporaries at any size
    for top in range(0, height, rows):
        block = frames[:, top : top + rows].astype(np.float64) / 255.0
        if w.ndim == 3:
            per_pixel = upsample_weight_maps(w, height, width, slice(top, top + rows))
            fused = (per_pixel[..., None] * block).sum(axis=0)
        else:
            fused = np.tensordot(w, block, axes=1)
        value = np.clip(_trilinear_reference(table, fused), 0.0, 1.0)
        out[top : top + rows] = np.floor(value * 255.0 + 0.5).astype(np.uint8)
    return out


# --------------------------------------------------------------------------------------------------------
# Fast path: the compiled C kernel (edgemef/_fastlut.c, built at install where a C compiler is found) or the
# numba kernel (edgemef/lut_numba.py). Both run the same two passes per chunk of a row (see lut_numba) and
# agree with the reference within 1 grey level. The C kernel loads in a millisecond; numba's cached kernel
# costs about half a second per process (importing numba and loading the cache), which a command-line
# fusion of one bracket notices.
# --------------------------------------------------------------------------------------------------------

#: ``EDGEMEF_LUT_KERNEL=numba`` (or ``c``) forces a kernel; default: C where it was built, else numba
KERNEL_VARIABLE = "EDGEMEF_LUT_KERNEL"
# numba's "workqueue" threading layer (the fallback where neither OpenMP nor TBB is available) aborts the
# process on concurrent parallel launches from several Python threads; either kernel uses every core.
_KERNEL_LOCK = threading.Lock()
_kernel: ModuleType | None = None


def kernel_name() -> str:
    """Which fast kernel :func:`fuse_and_apply` runs: ``"c"`` or ``"numba"``."""
    return _load_kernel().__name__.rsplit(".", 1)[-1].replace("_fastlut", "c").replace("lut_numba", "numba")


def use_kernel(name: str | None) -> str:
    """Run ``"c"`` or ``"numba"`` from now on (``None``: the default choice again); returns the kernel.

    Raises:
        ImportError: the C kernel was asked for and not built.
    """
    global _kernel
    _kernel = None
    return _load_kernel(name) and kernel_name()


def _load_kernel(name: str | None = None) -> ModuleType:
    global _kernel
    if _kernel is None:
        wanted = (name or os.environ.get(KERNEL_VARIABLE, "")).lower()
        if wanted not in ("", "c", "numba"):
            raise ValueError(f"the LUT kernel is 'c' or 'numba', not {wanted!r} ({KERNEL_VARIABLE})")
        if wanted != "numba":
            # OpenMP threads sleep when a row loop ends instead of spinning for a while (libgomp's default):
            # spinning threads would take the cores from the OpenCV and LiteRT thread pools that run next
            # (measured: 4K thumbnails 8.8 ms instead of 6.9 after an apply). Read when libgomp loads.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                _kernel = importlib.import_module("edgemef._fastlut")
            except ImportError:
                if wanted == "c":
                    raise ImportError(
                        "the C kernel (edgemef._fastlut) was not built: no C compiler at install?"
                    ) from None
        if _kernel is None:
            _kernel = importlib.import_module("edgemef.lut_numba")
    return _kernel


def _flat_lut(lut: np.ndarray, padding: int) -> np.ndarray:
    """The LUT as a flat float32 array (canonical order) with ``padding`` zero floats after it (the kernel's
    ``LUT_PADDING``; without padding, a float32 LUT is not copied)."""
    if padding == 0:
        return np.ascontiguousarray(lut, dtype=np.float32).reshape(-1)
    flat = np.zeros(lut.size + padding, dtype=np.float32)
    flat[: lut.size] = lut.reshape(-1)
    return flat


def fuse_and_apply(
    frames: np.ndarray,
    weights: Sequence[float] | np.ndarray,
    lut: np.ndarray,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Fuse ``frames`` with ``weights`` and map the result through ``lut``: the fast path.

    Same contract as :func:`fuse_and_apply_reference` and within 1 grey level of it everywhere: per pixel
    and channel ``fused = sum_k w_k I_k`` (frames in [0, 1]), clamped to [0, 1], trilinear lookup in the
    canonical LUT, clamped to [0, 1] and quantised as ``floor(x * 255 + 0.5)``. (It computes in float32, the
    reference in float64: the bound holds for weights of ordinary magnitude, |w| up to ~10; huge weights
    that cancel each other lose precision to float32 rounding.)

    Runs on every core this process may use (the C kernel: OpenMP threads, ``OMP_NUM_THREADS``; numba's:
    ``NUMBA_NUM_THREADS``), row by row, with no full-resolution temporaries: the extra memory is the output
    (unless ``out`` is given) plus float32 copies of the LUT. The first call in a process loads the
    kernel (numba's: compiles it, the first time ever); call :func:`warm_up` beforehand to keep that out of
    timings.

    Args:
        frames: uint8 RGB bracket ``K x H x W x 3`` (K >= 1); a non-contiguous array is copied first.
        weights: K finite fusion weights, |w| <= 1e6 (need not sum to 1), or K weight maps ``K x Gh x Gw``
            (at most 256 cells a side, 16 exposures; sampled as :func:`weight_map_sampling` says).
        lut: canonical LUT ``(N, N, N, 3)`` (see the module docstring).
        out: optional writeable C-contiguous uint8 ``H x W x 3`` array to write into (not sharing memory
            with ``frames``).

    Returns:
        uint8 ``H x W x 3`` (``out`` when given).

    Raises:
        BracketError: ``frames`` is not a uint8 ``K x H x W x 3`` array.
        ValueError: bad weights, a malformed LUT or a bad ``out``.
    """
    check_bracket_array(frames, min_frames=1)
    n_frames, height, width = frames.shape[:3]
    w = _check_any_weights(weights, n_frames)
    check_lut(lut)
    size = lut.shape[0]
    if out is None:
        out = np.empty((height, width, 3), dtype=np.uint8)
    elif not (
        isinstance(out, np.ndarray)
        and out.dtype == np.uint8
        and out.shape == (height, width, 3)
        and out.flags.c_contiguous
        and out.flags.writeable
    ):
        shape = getattr(out, "shape", None)
        dtype = getattr(out, "dtype", type(out).__name__)
        raise ValueError(
            f"out must be a writeable C-contiguous uint8 array of shape {(height, width, 3)}, "
            f"got {dtype} {shape}"
        )
    elif np.may_share_memory(out, frames):
        raise ValueError("out must not share memory with frames")
    frames3 = np.ascontiguousarray(frames).reshape(n_frames, height, width * 3)
    scale = (w * ((size - 1) / 255.0)).astype(np.float32)
    kernel = _load_kernel()
    lut_flat = _flat_lut(lut, kernel.LUT_PADDING)
    if w.ndim == 3:
        maps = np.ascontiguousarray(np.pad(scale, ((0, 0), (0, 1), (0, 1)), mode="edge"))
        row_y0, row_fy = weight_map_sampling(w.shape[1], height)
        col_x0, col_fx = weight_map_sampling(w.shape[2], width)
        # the end of each column's run of columns with the same map column (the kernels fuse run by run)
        starts = np.flatnonzero(np.diff(col_x0)) + 1
        col_end = np.append(starts, width)[np.searchsorted(starts, np.arange(width), side="right")]
        col_fx3 = np.repeat(col_fx, 3)
        with _KERNEL_LOCK:
            kernel.fuse_apply_maps(
                frames3,
                maps,
                row_y0,
                row_fy,
                col_x0,
                col_end.astype(np.int32),
                col_fx3,
                lut_flat,
                size,
                out.reshape(-1),
            )
        return out
    with _KERNEL_LOCK:
        kernel.fuse_apply(frames3, scale, lut_flat, size, out.reshape(-1))
    return out


def warm_up() -> None:
    """Load the fast kernel (numba's: compile it, the first time ever: a few seconds) on a tiny input."""
    frames = np.zeros((2, 2, 3, 3), dtype=np.uint8)
    fuse_and_apply(frames, np.array([0.5, 0.5]), identity_lut(2))
