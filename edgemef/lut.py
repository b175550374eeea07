"""3D colour look-up tables (LUTs) and the LUT-distill deploy path: fuse the exposures, then apply the LUT.

Torch-free (numpy and numba only): this is what runs at full resolution on a device, after the network has
predicted, from 128x128 thumbnails, one fusion weight per exposure and a LUT.

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

Two implementations:

- :func:`fuse_and_apply_reference`: plain float64 numpy, written to be obviously correct;
- :func:`fuse_and_apply`: the fast path (numba, parallel over rows, explicit SIMD), agrees with the
  reference within 1 grey level everywhere; no full-resolution float temporaries.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from edgemef.io import check_bracket_array

__all__ = [
    "LUT_LAYOUT",
    "LUT_MAX_SIZE",
    "LUT_MIN_SIZE",
    "check_lut",
    "fuse_and_apply",
    "fuse_and_apply_reference",
    "identity_lut",
    "warm_up",
]

LUT_MIN_SIZE = 2
#: the canonical layout in one line (contracts carry it)
LUT_LAYOUT = (
    "float32 (S, S, S, 3) indexed lut[b, g, r, c]: axis 0 blue, 1 green, 2 red (red fastest in memory, "
    "as CIColorCube data and a 3D texture with width=red, height=green, depth=blue); c = output R, G, B "
    "in [0, 1]; "
    "input v in [0, 1] maps to grid coordinate v * (S - 1); trilinear interpolation, clamp-to-edge"
)
LUT_MAX_SIZE = 256
_MAX_WEIGHT = 1e6


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
        weights: K finite fusion weights, |w| <= 1e6 (need not sum to 1).
        lut: canonical LUT (see the module docstring).

    Returns:
        uint8 ``H x W x 3``: ``floor(clamp(trilinear(lut, fused), 0, 1) * 255 + 0.5)`` with
        ``fused = clamp(sum_k w_k I_k / 255, 0, 1)``.

    Raises:
        BracketError: ``frames`` is not a uint8 ``K x H x W x 3`` array.
        ValueError: bad weights or a malformed LUT.
    """
    check_bracket_array(frames, min_frames=1)
    w = _check_weights(weights, frames.shape[0])
    check_lut(lut)
    table = lut.astype(np.float64)
    height = frames.shape[1]
    out = np.empty(frames.shape[1:], dtype=np.uint8)
    rows = max(1, 65536 // frames.shape[2])  # bounded float64 temporaries at any size
    for top in range(0, height, rows):
        block = frames[:, top : top + rows].astype(np.float64) / 255.0
        fused = np.tensordot(w, block, axes=1)
        value = np.clip(_trilinear_reference(table, fused), 0.0, 1.0)
        out[top : top + rows] = np.floor(value * 255.0 + 0.5).astype(np.uint8)
    return out


# --------------------------------------------------------------------------------------------------------
# Fast path
# --------------------------------------------------------------------------------------------------------
#
# Per row (numba prange over rows, so rows go to the numba threads), in chunks of _CHUNK pixels so that the
# scratch stays in L1:
#
#   pass A (numba, auto-vectorised, contiguous over the 3*W interleaved bytes of the row, any number of
#   exposures): x = sum_k s_k * I_k with s_k = w_k (N-1)/255 (the grid coordinate), clamped to [0, N-1];
#   cell = min(floor(x), N-2); frac[e] = x - cell; offs[e] = cell * stride_c, with the LUT strides
#   (3, 3N, 3N^2) of channel c = e % 3 (so a pixel's LUT offset is offs[3j] + offs[3j+1] + offs[3j+2]).
#
#   pass B (an LLVM-IR intrinsic, explicit SIMD, one pixel per call, ~23 instructions): the LUT is stored
#   flat with the 3 outputs contiguous, so the two red neighbours (r0, r0+1) of a (b, g) corner are 6
#   consecutive floats and one 8-float (32-byte) load fetches both. Four such loads cover the 8 corners;
#   lerp along green and blue on 8 lanes at once, then along red on 4 lanes, clamp, scale, convert and store
#   4 bytes (the 4th byte is overwritten by the next pixel; the last pixel of a row stores 3 single bytes).
#   The flat LUT carries 8 floats of padding so the last 32-byte load stays in bounds. While pass B runs,
#   the input bytes of the next pass A are prefetched.
#
# Why not a plain numba loop: written per pixel with scalar gathers it compiles to ~150 instructions per
# pixel (numba's negative-index handling on every LUT read, 24 scalar loads, 3 byte stores), ~100 ms at 4K on
# 2 cores; LLVM does not vectorise it across pixels, and where it does (AVX-512 gathers) it is slower still
# on the AMD Zen 4 reference machine. Per 4K frame on one core, pass A costs ~3 cycles per pixel (it streams
# the inputs from memory), pass B ~10 (latency-bound LUT loads from L1/L2 and the lerp chain).
#
# Nothing is allocated per pixel; per row only two scratch arrays of 3 * _CHUNK + 8 elements.

# numba's "workqueue" threading layer (the fallback where neither OpenMP nor TBB is available) aborts the
# process on concurrent parallel launches from several Python threads; the kernel already uses every core.
_KERNEL_LOCK = threading.Lock()
_CHUNK = 512  # pixels per pass-A/pass-B chunk: 2 x 6 KB scratch, in L1 with the row's input and output
_LUT_PAD = 8  # floats after the flat LUT: the last 32-byte corner load reads 2 floats past the table

_F32 = ir.FloatType()
_I8 = ir.IntType(8)
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_V4F = ir.VectorType(_F32, 4)
_V8F = ir.VectorType(_F32, 8)
_V4I = ir.VectorType(_I32, 4)
_V8I = ir.VectorType(_I32, 8)
_V4B = ir.VectorType(_I8, 4)
_FAST = ("fast",)


def _vector_function(builder: ir.IRBuilder, name: str, ty: ir.Type, n_args: int) -> ir.Function:
    return cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty] * n_args), name)


def _make_pixel_intrinsic(store_four: bool):
    """The pass-B intrinsic; ``store_four``: write 4 bytes (fast, 1 byte of slack) or exactly 3."""

    def pixel(typingctx, lut, stride_g, stride_b, frac, offs, pos, out, out_pos):
        ok = (
            isinstance(lut, types.Array)
            and lut.dtype == types.float32
            and isinstance(frac, types.Array)
            and frac.dtype == types.float32
            and isinstance(offs, types.Array)
            and offs.dtype == types.int32
            and isinstance(out, types.Array)
            and out.dtype == types.uint8
            and all(isinstance(a, types.Integer) for a in (stride_g, stride_b, pos, out_pos))
        )
        if not ok:
            return None
        sig = types.void(lut, types.int64, types.int64, frac, offs, types.int64, out, types.int64)

        def codegen(context, builder, signature, args):
            lut_v, sg, sb, frac_v, offs_v, pos_v, out_v, out_pos_v = args
            arrays = signature.args
            lut_ptr = context.make_array(arrays[0])(context, builder, value=lut_v).data
            frac_ptr = context.make_array(arrays[3])(context, builder, value=frac_v).data
            offs_ptr = context.make_array(arrays[4])(context, builder, value=offs_v).data
            out_ptr = context.make_array(arrays[6])(context, builder, value=out_v).data
            fma8 = _vector_function(builder, "llvm.fma.v8f32", _V8F, 3)
            fma4 = _vector_function(builder, "llvm.fma.v4f32", _V4F, 3)
            vmax = _vector_function(builder, "llvm.maxnum.v4f32", _V4F, 2)
            vmin = _vector_function(builder, "llvm.minnum.v4f32", _V4F, 2)

            def const64(value: int) -> ir.Constant:
                return ir.Constant(_I64, value)

            # (fr, fg, fb, junk) and the pixel's flat LUT offset.
            t = builder.load(builder.bitcast(builder.gep(frac_ptr, [pos_v]), _V4F.as_pointer()), align=4)
            o = [builder.load(builder.gep(offs_ptr, [builder.add(pos_v, const64(c))])) for c in range(3)]
            base = builder.zext(builder.add(builder.add(o[0], o[1]), o[2]), _I64)

            def corners(offset: ir.Value) -> ir.Value:
                """8 floats: (R, G, B) at red r0, (R, G, B) at r0 + 1, 2 floats of the next entry."""
                ptr = builder.gep(lut_ptr, [offset])
                return builder.load(builder.bitcast(ptr, _V8F.as_pointer()), align=4)

            def lerp(fma: ir.Function, a: ir.Value, b: ir.Value, w: ir.Value) -> ir.Value:
                return builder.call(fma, [w, builder.fsub(b, a, flags=_FAST), a], fastmath=_FAST)

            undef4 = ir.Constant(_V4F, None)
            fg = builder.shuffle_vector(t, undef4, ir.Constant(_V8I, [1] * 8))
            fb = builder.shuffle_vector(t, undef4, ir.Constant(_V8I, [2] * 8))
            fr = builder.shuffle_vector(t, undef4, ir.Constant(_V4I, [0] * 4))
            b0 = base
            b1 = builder.add(base, sb)
            g_lo = lerp(fma8, corners(b0), corners(builder.add(b0, sg)), fg)
            g_hi = lerp(fma8, corners(b1), corners(builder.add(b1, sg)), fg)
            both = lerp(fma8, g_lo, g_hi, fb)  # lanes 0-2: red neighbour r0, lanes 3-5: r0 + 1
            undef8 = ir.Constant(_V8F, None)
            at_r0 = builder.shuffle_vector(both, undef8, ir.Constant(_V4I, [0, 1, 2, 3]))
            at_r1 = builder.shuffle_vector(both, undef8, ir.Constant(_V4I, [3, 4, 5, 6]))
            value = lerp(fma4, at_r0, at_r1, fr)
            value = builder.call(vmax, [value, ir.Constant(_V4F, [0.0] * 4)], fastmath=_FAST)
            value = builder.call(vmin, [value, ir.Constant(_V4F, [1.0] * 4)], fastmath=_FAST)
            value = builder.call(
                fma4, [value, ir.Constant(_V4F, [255.0] * 4), ir.Constant(_V4F, [0.5] * 4)], fastmath=_FAST
            )
            quantised = builder.trunc(builder.fptosi(value, _V4I), _V4B)
            target = builder.gep(out_ptr, [out_pos_v])
            if store_four:
                builder.store(quantised, builder.bitcast(target, _V4B.as_pointer()), align=1)
            else:
                for c in range(3):
                    byte = builder.extract_element(quantised, ir.Constant(_I32, c))
                    builder.store(byte, builder.gep(target, [const64(c)]))
            return context.get_dummy_value()

        return sig, codegen

    pixel.__name__ = "_pixel4" if store_four else "_pixel3"
    return intrinsic(pixel)


_pixel4 = _make_pixel_intrinsic(store_four=True)
_pixel3 = _make_pixel_intrinsic(store_four=False)


@intrinsic
def _prefetch(typingctx, array, offset):
    """Hint the CPU to fetch byte ``offset`` of ``array``'s data (any offset: a prefetch never faults)."""
    if not isinstance(array, types.Array) or not isinstance(offset, types.Integer):
        return None
    sig = types.void(array, types.int64)

    def codegen(context, builder, signature, args):
        array_v, offset_v = args
        data = context.make_array(signature.args[0])(context, builder, value=array_v).data
        byte_ptr = builder.gep(builder.bitcast(data, _I8.as_pointer()), [offset_v])
        fn_type = ir.FunctionType(ir.VoidType(), [_I8.as_pointer(), _I32, _I32, _I32])
        prefetch = cgutils.get_or_insert_function(builder.module, fn_type, "llvm.prefetch.p0i8")
        # read, high temporal locality, data cache
        builder.call(prefetch, [byte_ptr, ir.Constant(_I32, 0), ir.Constant(_I32, 3), ir.Constant(_I32, 1)])
        return context.get_dummy_value()

    return sig, codegen


@njit(fastmath=True, cache=True, inline="always")
def _cells(frames3, row, start, count, scale, top_coord, top_cell, strides, frac, offs):
    """Pass A over ``count`` interleaved bytes of ``row`` from byte ``start`` (see the comment above)."""
    src = frames3[0, row, start : start + count]
    s = scale[0]
    for e in range(count):
        frac[e] = s * np.float32(src[e])
    for k in range(1, frames3.shape[0]):
        src = frames3[k, row, start : start + count]
        s = scale[k]
        for e in range(count):
            frac[e] += s * np.float32(src[e])
    for e in range(count):
        x = min(max(frac[e], np.float32(0.0)), top_coord)
        cell = min(np.int32(x), top_cell)
        offs[e] = cell * strides[e]
        frac[e] = x - np.float32(cell)


@njit(parallel=True, fastmath=True, cache=True)
def _fuse_apply_kernel(frames3, scale, lut_flat, size, out_flat):
    """``frames3``: K x H x 3W uint8; ``scale``: K float32; ``lut_flat``: 3 N^3 + pad float32; -> out."""
    n_frames = frames3.shape[0]
    height = frames3.shape[1]
    row_len = frames3.shape[2]
    width = row_len // 3
    plane = height * row_len
    top_coord = np.float32(size - 1)
    top_cell = np.int32(size - 2)
    stride_g = np.int64(3 * size)
    stride_b = np.int64(3 * size * size)
    strides = np.empty(3 * _CHUNK, dtype=np.int32)
    for p in range(_CHUNK):
        strides[3 * p] = 3
        strides[3 * p + 1] = 3 * size
        strides[3 * p + 2] = 3 * size * size
    lines = 3 * _CHUNK // 64  # cache lines of one frame in a chunk
    for row in prange(height):
        frac = np.zeros(3 * _CHUNK + 8, dtype=np.float32)
        offs = np.zeros(3 * _CHUNK + 8, dtype=np.int32)
        row_start = row * row_len
        for first in range(0, width, _CHUNK):
            count = min(_CHUNK, width - first)
            _cells(frames3, row, 3 * first, 3 * count, scale, top_coord, top_cell, strides, frac, offs)
            # While pass B computes, prefetch the input of the next pass A: the bytes right after this chunk
            # in every frame (the next chunk, or the next row, which is this thread's next row under numba's
            # static schedule). Worth ~10% at 4K.
            ahead = row_start + 3 * (first + count)
            # The row's last pixel stores exactly 3 bytes: a 4th would land in the next row (another thread).
            n_four = count - 1 if first + count == width else count
            for j in range(n_four):
                if j < n_frames * lines:
                    k = j // lines
                    _prefetch(frames3, k * plane + ahead + 64 * (j - k * lines))
                _pixel4(
                    lut_flat, stride_g, stride_b, frac, offs, 3 * j, out_flat, row_start + 3 * (first + j)
                )
            if n_four < count:
                j = n_four
                _pixel3(
                    lut_flat, stride_g, stride_b, frac, offs, 3 * j, out_flat, row_start + 3 * (first + j)
                )
    return out_flat


def _flat_lut(lut: np.ndarray) -> np.ndarray:
    """The LUT as a flat float32 array (canonical order) with ``_LUT_PAD`` zero floats after it."""
    flat = np.zeros(lut.size + _LUT_PAD, dtype=np.float32)
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

    Runs on the numba threads (``numba.set_num_threads`` / ``NUMBA_NUM_THREADS``), row by row, with no
    full-resolution temporaries: the extra memory is the output (unless ``out`` is given) plus a padded
    float32 copy of the LUT. The first call in a process loads (or, the first time ever, compiles) the
    kernel; call :func:`warm_up` beforehand to keep that out of timings.

    Args:
        frames: uint8 RGB bracket ``K x H x W x 3`` (K >= 1); a non-contiguous array is copied first.
        weights: K finite fusion weights, |w| <= 1e6 (need not sum to 1).
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
    w = _check_weights(weights, n_frames)
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
    lut_flat = _flat_lut(lut)
    with _KERNEL_LOCK:
        _fuse_apply_kernel(frames3, scale, lut_flat, size, out.reshape(-1))
    return out


def warm_up() -> None:
    """Load (or compile, the first time: a few seconds) the fast kernel on a tiny input."""
    frames = np.zeros((2, 2, 3, 3), dtype=np.uint8)
    fuse_and_apply(frames, np.array([0.5, 0.5]), identity_lut(2))
