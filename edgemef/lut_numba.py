"""The numba kernel of :func:`edgemef.lut.fuse_and_apply` (used where the C kernel ``edgemef._fastlut``
was not built): the same two passes per chunk of a row, compiled by numba and cached on disk.

``fuse_apply(frames3, scale, lut_flat, size, out_flat)``: ``frames3`` K x H x 3W uint8, ``scale`` K float32
(``w_k (N-1) / 255``), ``lut_flat`` the flat canonical LUT with ``LUT_PADDING`` floats of padding,
``out_flat`` H*W*3 uint8. ``fuse_apply_maps(frames3, maps, row_y0, row_fy, col_x0, col_end, col_fx3,
lut_flat, size, out_flat)``: the same with a weight map per frame (``maps`` K x (Gh + 1) x (Gw + 1)
float32, scaled like ``scale`` and edge-padded; the bilinear sampling per row and column from
:func:`edgemef.lut.weight_map_sampling`, the column fractions once per byte in ``col_fx3``, the end of each
column's run of columns with the same map column in ``col_end``).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

#: zero floats the caller puts after the flat LUT: the last 32-byte corner load reads 2 floats past the table
LUT_PADDING = 8

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

_CHUNK = 512  # pixels per pass-A/pass-B chunk: 2 x 6 KB scratch, in L1 with the row's input and output

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
    _to_cells(count, top_coord, top_cell, strides, frac, offs)


@njit(fastmath=True, cache=True, inline="always")
def _to_cells(count, top_coord, top_cell, strides, frac, offs):
    """Grid coordinates ``frac`` -> LUT cell offsets ``offs`` and fractions ``frac`` (pass A's end)."""
    for e in range(count):
        x = min(max(frac[e], np.float32(0.0)), top_coord)
        cell = min(np.int32(x), top_cell)
        offs[e] = cell * strides[e]
        frac[e] = x - np.float32(cell)


@njit(fastmath=True, cache=True, inline="always")
def _cells_maps(
    frames3,
    row,
    first,
    count,
    line,
    map_w,
    col_x0,
    col_end,
    col_fx3,
    top_coord,
    top_cell,
    strides,
    frac,
    offs,
):
    """Pass A with weight maps: pixels ``first .. first + count`` of ``row``, each frame weighted by its map's
    ``line`` (this row, already lerped along y) lerped along x, pixel by pixel. (Written run by run of
    columns sharing a map column, as the C kernel does, numba's loops came out slower; ``col_end`` is unused
    here.)"""
    start = 3 * first
    for k in range(frames3.shape[0]):
        src = frames3[k, row, start : start + 3 * count]
        base = k * map_w
        for j in range(count):
            x0 = col_x0[first + j]
            left = line[base + x0]
            w = left + col_fx3[start + 3 * j] * (line[base + x0 + 1] - left)
            for c in range(3):
                if k == 0:
                    frac[3 * j + c] = w * np.float32(src[3 * j + c])
                else:
                    frac[3 * j + c] += w * np.float32(src[3 * j + c])
    _to_cells(3 * count, top_coord, top_cell, strides, frac, offs)


@njit(cache=True)
def _channel_strides(size):
    """The LUT stride of each interleaved byte's channel in a chunk: red 3, green 3N, blue 3N^2."""
    strides = np.empty(3 * _CHUNK, dtype=np.int32)
    for p in range(_CHUNK):
        strides[3 * p] = 3
        strides[3 * p + 1] = 3 * size
        strides[3 * p + 2] = 3 * size * size
    return strides


@njit(parallel=True, fastmath=True, cache=True)
def _fuse_apply_kernel(frames3, scale, lut_flat, size, out_flat):
    """``frames3``: K x H x 3W uint8; ``scale``: K float32; ``lut_flat``: 3 N^3 + pad float32; -> out."""
    height = frames3.shape[1]
    width = frames3.shape[2] // 3
    top_coord = np.float32(size - 1)
    top_cell = np.int32(size - 2)
    strides = _channel_strides(size)
    for row in prange(height):
        frac = np.zeros(3 * _CHUNK + 8, dtype=np.float32)
        offs = np.zeros(3 * _CHUNK + 8, dtype=np.int32)
        for first in range(0, width, _CHUNK):
            count = min(_CHUNK, width - first)
            _cells(frames3, row, 3 * first, 3 * count, scale, top_coord, top_cell, strides, frac, offs)
            _lookups(frames3, row, first, count, lut_flat, size, frac, offs, out_flat)
    return out_flat


@njit(fastmath=True, cache=True, inline="always")
def _lookups(frames3, row, first, count, lut_flat, size, frac, offs, out_flat):
    """Pass B over the chunk's pixels, writing the output bytes."""
    n_frames, height, row_len = frames3.shape
    width = row_len // 3
    plane = height * row_len
    stride_g = np.int64(3 * size)
    stride_b = np.int64(3 * size * size)
    lines = 3 * _CHUNK // 64  # cache lines of one frame in a chunk
    row_start = row * row_len
    # While pass B computes, prefetch the input of the next pass A: the bytes right after this chunk in every
    # frame (the next chunk, or the next row, which is this thread's next row under numba's static schedule).
    # Worth ~10% at 4K.
    ahead = row_start + 3 * (first + count)
    # The row's last pixel stores exactly 3 bytes: a 4th would land in the next row (another thread).
    n_four = count - 1 if first + count == width else count
    for j in range(n_four):
        if j < n_frames * lines:
            k = j // lines
            _prefetch(frames3, k * plane + ahead + 64 * (j - k * lines))
        _pixel4(lut_flat, stride_g, stride_b, frac, offs, 3 * j, out_flat, row_start + 3 * (first + j))
    if n_four < count:
        j = n_four
        _pixel3(lut_flat, stride_g, stride_b, frac, offs, 3 * j, out_flat, row_start + 3 * (first + j))


@njit(parallel=True, fastmath=True, cache=True)
def _fuse_apply_maps_kernel(
    frames3, maps, row_y0, row_fy, col_x0, col_end, col_fx3, lut_flat, size, out_flat
):
    """Weight maps: ``maps`` K x (Gh + 1) x (Gw + 1) float32 (scaled, edge-padded); per row ``row_y0`` and
    ``row_fy``, per column ``col_x0`` and the end of its run ``col_end``, per byte its column's fraction
    ``col_fx3``."""
    n_frames = frames3.shape[0]
    height = frames3.shape[1]
    width = frames3.shape[2] // 3
    map_w = maps.shape[2]
    top_coord = np.float32(size - 1)
    top_cell = np.int32(size - 2)
    strides = _channel_strides(size)
    for row in prange(height):
        frac = np.zeros(3 * _CHUNK + 8, dtype=np.float32)
        offs = np.zeros(3 * _CHUNK + 8, dtype=np.int32)
        line = np.empty(n_frames * map_w, dtype=np.float32)
        y0 = row_y0[row]
        fy = row_fy[row]
        for k in range(n_frames):
            for i in range(map_w):
                top = maps[k, y0, i]
                line[k * map_w + i] = top + fy * (maps[k, y0 + 1, i] - top)
        for first in range(0, width, _CHUNK):
            count = min(_CHUNK, width - first)
            _cells_maps(
                frames3,
                row,
                first,
                count,
                line,
                map_w,
                col_x0,
                col_end,
                col_fx3,
                top_coord,
                top_cell,
                strides,
                frac,
                offs,
            )
            _lookups(frames3, row, first, count, lut_flat, size, frac, offs, out_flat)
    return out_flat


def fuse_apply(
    frames3: np.ndarray, scale: np.ndarray, lut_flat: np.ndarray, size: int, out_flat: np.ndarray
) -> None:
    """Run the kernel (see the module docstring)."""
    _fuse_apply_kernel(frames3, scale, lut_flat, size, out_flat)


def fuse_apply_maps(
    frames3: np.ndarray,
    maps: np.ndarray,
    row_y0: np.ndarray,
    row_fy: np.ndarray,
    col_x0: np.ndarray,
    col_end: np.ndarray,
    col_fx3: np.ndarray,
    lut_flat: np.ndarray,
    size: int,
    out_flat: np.ndarray,
) -> None:
    """Run the weight-map kernel (see the module docstring)."""
    _fuse_apply_maps_kernel(frames3, maps, row_y0, row_fy, col_x0, col_end, col_fx3, lut_flat, size, out_flat)
