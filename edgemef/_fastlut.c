/*
 * The compiled kernel of edgemef.lut.fuse_and_apply: fuse K uint8 exposures with one weight each, then
 * look every pixel up in a canonical 3D LUT (trilinear, clamp-to-edge) and quantise to uint8.
 *
 * Built at install where a C compiler is found (setup.py, optional); edgemef.lut falls back to the numba
 * kernel (edgemef/lut_numba.py) otherwise. The same arithmetic as the numba kernel, per chunk of a row:
 *
 *   pass A (auto-vectorised, contiguous over the 3*W interleaved bytes of the row, any number of
 *   exposures): x = sum_k s_k * I_k with s_k = w_k (N-1)/255 (the grid coordinate), clamped to [0, N-1];
 *   cell = min(floor(x), N-2); frac = x - cell; offs = cell * stride of the channel (4, 4N, 4N^2).
 *
 *   pass B (one pixel at a time, GCC vector extensions): the kernel looks up a copy of the LUT with 4 floats
 *   per entry (RGB and a zero), so the two red neighbours of a (b, g) corner are 8 consecutive floats and one
 *   8-float load fetches both; four loads cover the 8 corners; lerp along green and blue on 8 lanes, then
 *   along red on 4 (the lower half against the upper), clamp to [0, 1], quantise, and store the pixel's 3
 *   bytes (4, of which the next pixel overwrites the 4th; the last pixel of a chunk stores 3).
 *
 * Chunks of 128 pixels keep the buffers in L1. Every loop of pass A reads only locals (no loads through the
 * job pointer inside a loop), which is what lets GCC vectorise it.
 * Rows go to OpenMP threads (OMP_NUM_THREADS); the GIL is released while the kernel runs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 128

/* x86-64: one clone for x86-64-v3 CPUs (AVX2 + FMA: Haswell and later, Zen), one for any x86-64, chosen at load time
 * (GCC's target_clones), so the library built here runs on any x86-64 CPU and fast on current ones. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#define LOOKUP8 1 /* pass B's 8-lane form, for the x86-64-v3 clone */
#else
#define CPU_CLONES
#define LOOKUP8 0
#endif

typedef float v8f __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef uint8_t v16u8 __attribute__((vector_size(16)));

static inline v4f load4(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

#if LOOKUP8
static inline v8f load8(const float *p) {
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline v4f half(v8f v, int upper) { /* lanes 0-3 or 4-7 (a shuffle GCC < 12 has no builtin for) */
    v4f h;
    memcpy(&h, (const float *)&v + 4 * upper, sizeof h);
    return h;
}
#endif

/* min(max(v, 0), 1) per lane: one instruction each (the generic vector extensions would compare and blend) */
#if defined(__SSE__)
#include <xmmintrin.h>
static inline v4f clamp01(v4f v) {
    return (v4f)_mm_min_ps(_mm_max_ps((__m128)v, _mm_setzero_ps()), _mm_set1_ps(1.0f));
}
#elif defined(__ARM_NEON)
#include <arm_neon.h>
static inline v4f clamp01(v4f v) {
    return (v4f)vminq_f32(vmaxq_f32((float32x4_t)v, vdupq_n_f32(0.0f)), vdupq_n_f32(1.0f));
}
#else
static inline v4f clamp01(v4f v) {
    for (int i = 0; i < 4; i++) v[i] = v[i] < 0.0f ? 0.0f : (v[i] > 1.0f ? 1.0f : v[i]);
    return v;
}
#endif

/* Four ints in [0, 255] as bytes 0-3 (x86: SSE2 packs, as without SSSE3 a byte shuffle would be scalar code;
 * ARM: NEON narrows) */
#if defined(__SSE2__)
#include <emmintrin.h>
static inline v16u8 to_bytes(v4i v) {
    const __m128i words = _mm_packs_epi32((__m128i)v, (__m128i)v);
    return (v16u8)_mm_packus_epi16(words, words);
}
#elif defined(__ARM_NEON)
static inline v16u8 to_bytes(v4i v) {
    const uint16x4_t words = vqmovun_s32((int32x4_t)v);
    const uint8x8_t bytes = vqmovn_u16(vcombine_u16(words, words));
    return (v16u8)vcombine_u8(bytes, bytes);
}
#else
static inline v16u8 to_bytes(v4i v) {
    const v16u8 bytes = {(uint8_t)v[0], (uint8_t)v[1], (uint8_t)v[2], (uint8_t)v[3]};
    return bytes;
}
#endif

typedef struct {
    const uint8_t *frames;
    Py_ssize_t n_frames, row_len, plane;
    const float *scale, *lut; /* lut: 4 floats per entry (see lut4_copy) */
    Py_ssize_t stride_g, stride_b;
    float top_coord;
    int top_cell;
    const int32_t *strides;
    uint8_t *out;
    /* weight maps (NULL: one weight per frame, `scale`): K x (Gh + 1) x (Gw + 1) scaled weights, edge-padded
     * by one row and column; per output row its map row y0 and fraction; per output column its map column x0
     * and the end of its run (the first column with another x0); per output byte its column's fraction */
    const float *maps;
    Py_ssize_t map_w, map_plane;
    const int32_t *row_y0, *col_x0, *col_end;
    const float *row_fy, *col_fx3;
    int lanes8; /* pass B with lookup8 (set by run_job) */
} Job;

#define MAX_MAP_FRAMES 16
#define MAX_MAP_SIDE 257 /* Gw + 1 */

/* Pass A with weight maps over the bytes [begin, end) of a run of columns that share their map column: the
 * weight of frame k is left_k + fx * (right_k - left_k), with left/right from `line` (this row of the maps,
 * lerped along y once per row) and fx per byte: one contiguous, auto-vectorised loop per frame. */
static inline void run_weights(const Job *job, const float *line, Py_ssize_t x0, Py_ssize_t begin, Py_ssize_t end,
                               Py_ssize_t start, float *frac) {
    const float *fx = job->col_fx3 + (start % job->row_len);
    const Py_ssize_t map_w = job->map_w;
    for (Py_ssize_t k = 0; k < job->n_frames; k++) {
        const uint8_t *src = job->frames + k * job->plane + start;
        const float left = line[k * map_w + x0], delta = line[k * map_w + x0 + 1] - left;
        if (k == 0) {
            for (Py_ssize_t e = begin; e < end; e++) frac[e] = (left + delta * fx[e]) * (float)src[e];
        } else {
            for (Py_ssize_t e = begin; e < end; e++) frac[e] += (left + delta * fx[e]) * (float)src[e];
        }
    }
}

/* Pass B for one pixel: its trilinear lookup, clamped and quantised, in bytes 0-2 (frac and offs: its 3
 * channels' fractions and LUT offsets). Two forms of the same arithmetic: lookup8 lerps both red neighbours
 * on 8 lanes (one AVX register), lookup4 on two 4-lane halves (SSE2 and NEON registers: GCC lowers an
 * 8-lane vector through the stack there; the whole apply took 2.7x as long). */
/* The lerp between the red neighbours' values, clamped to [0, 1] and quantised as floor(v * 255 + 0.5) */
static inline v16u8 red_lerp_bytes(v4f lower, v4f upper, float fr) {
    const v4f value = clamp01(lower + fr * (upper - lower));
    return to_bytes(__builtin_convertvector(value * 255.0f + 0.5f, v4i));
}

#if LOOKUP8
static inline v16u8 lookup8(const float *lut, Py_ssize_t stride_g, Py_ssize_t stride_b, const float *frac,
                            const int32_t *offs) {
    const float fr = frac[0], fg = frac[1], fb = frac[2];
    const float *base = lut + offs[0] + offs[1] + offs[2];
    const v8f c00 = load8(base), c01 = load8(base + stride_g);
    const v8f c10 = load8(base + stride_b), c11 = load8(base + stride_b + stride_g);
    const v8f lo = c00 + fg * (c01 - c00);
    const v8f hi = c10 + fg * (c11 - c10);
    const v8f both = lo + fb * (hi - lo); /* lanes 0-3: red r0, lanes 4-7: r0 + 1 */
    return red_lerp_bytes(half(both, 0), half(both, 1), fr);
}
#endif

static inline v16u8 lookup4(const float *lut, Py_ssize_t stride_g, Py_ssize_t stride_b, const float *frac,
                            const int32_t *offs) {
    const float fr = frac[0], fg = frac[1], fb = frac[2];
    const float *c = lut + offs[0] + offs[1] + offs[2], *d = c + 4; /* red r0 and r0 + 1 */
    const v4f c00 = load4(c), c01 = load4(c + stride_g);
    const v4f c10 = load4(c + stride_b), c11 = load4(c + stride_b + stride_g);
    const v4f d00 = load4(d), d01 = load4(d + stride_g);
    const v4f d10 = load4(d + stride_b), d11 = load4(d + stride_b + stride_g);
    const v4f c0 = c00 + fg * (c01 - c00), c1 = c10 + fg * (c11 - c10);
    const v4f d0 = d00 + fg * (d01 - d00), d1 = d10 + fg * (d11 - d10);
    return red_lerp_bytes(c0 + fb * (c1 - c0), d0 + fb * (d1 - d0), fr);
}

typedef v16u8 (*Lookup)(const float *, Py_ssize_t, Py_ssize_t, const float *, const int32_t *);

/* Pass B over a chunk of `count` pixels: 4-byte stores, of which the next pixel overwrites the 4th; the
 * last pixel stores 3. Always inlined, so that `lookup` is a known function inlined in turn. */
static inline __attribute__((always_inline)) void lookup_chunk(const Job *job, Lookup lookup, const float *frac,
                                                              const int32_t *offs, Py_ssize_t count,
                                                              uint8_t *dst) {
    const float *lut = job->lut;
    const Py_ssize_t stride_g = job->stride_g, stride_b = job->stride_b;
    for (Py_ssize_t j = 0; j + 1 < count; j++) {
        const v16u8 bytes = lookup(lut, stride_g, stride_b, frac + 3 * j, offs + 3 * j);
        memcpy(dst + 3 * j, &bytes, 4);
    }
    const v16u8 bytes = lookup(lut, stride_g, stride_b, frac + 3 * (count - 1), offs + 3 * (count - 1));
    memcpy(dst + 3 * (count - 1), &bytes, 3);
}

CPU_CLONES static void fuse_row(const Job *job, Py_ssize_t row) {
    float frac[3 * CHUNK];
    int32_t offs[3 * CHUNK];
    float line[MAX_MAP_FRAMES * MAX_MAP_SIDE];
    const Py_ssize_t width = job->row_len / 3, row_start = row * job->row_len;
    const float top_coord = job->top_coord;
    const int32_t top_cell = job->top_cell, *strides = job->strides;
    const float *maps = job->maps;
    const Py_ssize_t map_w = job->map_w;
    if (maps != NULL) { /* this row of every frame's map, lerped along y */
        const float fy = job->row_fy[row];
        for (Py_ssize_t k = 0; k < job->n_frames; k++) {
            const float *top = maps + k * job->map_plane + job->row_y0[row] * map_w, *bottom = top + map_w;
            for (Py_ssize_t i = 0; i < map_w; i++) line[k * map_w + i] = top[i] + fy * (bottom[i] - top[i]);
        }
    }
    for (Py_ssize_t first = 0; first < width; first += CHUNK) {
        const Py_ssize_t count = width - first < CHUNK ? width - first : CHUNK;
        const Py_ssize_t n = 3 * count, start = row_start + 3 * first;
        const uint8_t *src = job->frames + start;
        if (maps == NULL) {
            float s = job->scale[0];
            for (Py_ssize_t e = 0; e < n; e++) frac[e] = s * (float)src[e];
            for (Py_ssize_t k = 1; k < job->n_frames; k++) {
                src = job->frames + k * job->plane + start;
                s = job->scale[k];
                for (Py_ssize_t e = 0; e < n; e++) frac[e] += s * (float)src[e];
            }
        } else {
            for (Py_ssize_t j = 0; j < count;) { /* runs of columns with the same map column */
                const Py_ssize_t column = first + j, end = job->col_end[column] - first;
                const Py_ssize_t stop = end < count ? end : count;
                run_weights(job, line, job->col_x0[column], 3 * j, 3 * stop, start, frac);
                j = stop;
            }
        }
        for (Py_ssize_t e = 0; e < n; e++) {
            float x = frac[e];
            x = x < 0.0f ? 0.0f : (x > top_coord ? top_coord : x);
            int32_t cell = (int32_t)x;
            cell = cell > top_cell ? top_cell : cell;
            offs[e] = cell * strides[e];
            frac[e] = x - (float)cell;
        }
#if LOOKUP8
        if (job->lanes8) {
            lookup_chunk(job, lookup8, frac, offs, count, job->out + start);
            continue;
        }
#endif
        lookup_chunk(job, lookup4, frac, offs, count, job->out + start);
    }
}

static void run_rows(const Job *job, Py_ssize_t height) {
#pragma omp parallel for schedule(static)
    for (Py_ssize_t row = 0; row < height; row++) fuse_row(job, row);
}

static void fill_strides(int32_t *strides, int size) { /* the LUT stride of each byte's channel: r 4, g 4N, b 4N^2 */
    for (int e = 0; e < 3 * CHUNK; e += 3) {
        strides[e] = 4;
        strides[e + 1] = 4 * size;
        strides[e + 2] = 4 * size * size;
    }
}

static int narrow_only = 0; /* use_lookup4(True): lookup4 everywhere (how the tests cover it on AVX2 CPUs) */

/* Whether pass B runs lookup8: on CPUs that run the x86-64-v3 clone, whose AVX registers hold its 8 lanes */
static int use_lookup8(void) {
#if LOOKUP8
    return !narrow_only && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* The canonical LUT (N^3 entries of 3 floats) copied with 4 floats per entry (R, G, B, 0), 64-byte aligned
 * inside *block (to free; NULL: no memory). Pass B's furthest 8-float load ends at the last entry: the lower
 * red cell is at most N - 2. */
static const float *lut4_copy(const float *lut, int size, void **block) {
    const Py_ssize_t cells = (Py_ssize_t)size * size * size;
    *block = malloc((size_t)(4 * cells) * sizeof(float) + 64);
    if (*block == NULL) return NULL;
    float *copy = (float *)(((uintptr_t)*block + 63) & ~(uintptr_t)63);
    for (Py_ssize_t c = 0; c < cells; c++) {
        copy[4 * c] = lut[3 * c];
        copy[4 * c + 1] = lut[3 * c + 1];
        copy[4 * c + 2] = lut[3 * c + 2];
        copy[4 * c + 3] = 0.0f;
    }
    return copy;
}

/* Run the rows of a job whose lut is the canonical LUT (replaced by its 4-float copy); 0, or -1 with a
 * MemoryError set. */
static int run_job(Job job, int size, Py_ssize_t height) {
    void *block;
    job.lut = lut4_copy(job.lut, size, &block);
    if (job.lut == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    job.stride_g = 4 * (Py_ssize_t)size;
    job.stride_b = 4 * (Py_ssize_t)size * size;
    job.lanes8 = use_lookup8();
    Py_BEGIN_ALLOW_THREADS
    run_rows(&job, height);
    Py_END_ALLOW_THREADS
    free(block);
    return 0;
}

static int is_format(const Py_buffer *view, const char *format) {
    return view->format != NULL && strcmp(view->format, format) == 0;
}

static PyObject *py_fuse_apply(PyObject *self, PyObject *args) {
    PyObject *frames_obj, *scale_obj, *lut_obj, *out_obj;
    int size;
    if (!PyArg_ParseTuple(args, "OOOiO", &frames_obj, &scale_obj, &lut_obj, &size, &out_obj)) return NULL;
    Py_buffer frames = {0}, scale = {0}, lut = {0}, out = {0};
    PyObject *result = NULL;
    const int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT;
    if (PyObject_GetBuffer(frames_obj, &frames, flags) < 0) goto done;
    if (PyObject_GetBuffer(scale_obj, &scale, flags) < 0) goto done;
    if (PyObject_GetBuffer(lut_obj, &lut, flags) < 0) goto done;
    if (PyObject_GetBuffer(out_obj, &out, flags | PyBUF_WRITABLE) < 0) goto done;
    /* frames: K x H x 3W uint8; scale: K float32; lut: at least 3 N^3 float32; out: H*W*3 uint8 */
    if (frames.ndim != 3 || !is_format(&frames, "B") || !is_format(&scale, "f") || !is_format(&lut, "f") ||
        !is_format(&out, "B") || frames.shape[2] % 3 != 0 || scale.len / 4 != frames.shape[0] || size < 2 ||
        lut.len / 4 < 3 * (Py_ssize_t)size * size * size || out.len != frames.shape[1] * frames.shape[2]) {
        PyErr_SetString(PyExc_ValueError, "fuse_apply: arrays of unexpected shapes or types");
        goto done;
    }
    {
        int32_t strides[3 * CHUNK];
        fill_strides(strides, size);
        const Py_ssize_t width = frames.shape[2] / 3;
        const Job job = {(const uint8_t *)frames.buf, frames.shape[0], 3 * width, frames.shape[1] * 3 * width,
                         (const float *)scale.buf, (const float *)lut.buf, 0, 0, (float)(size - 1), size - 2,
                         strides, (uint8_t *)out.buf, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, 0};
        if (run_job(job, size, frames.shape[1]) < 0) goto done;
    }
    Py_INCREF(Py_None);
    result = Py_None;
done:
    if (frames.obj) PyBuffer_Release(&frames);
    if (scale.obj) PyBuffer_Release(&scale);
    if (lut.obj) PyBuffer_Release(&lut);
    if (out.obj) PyBuffer_Release(&out);
    return result;
}

/* fuse_apply_maps(frames3, maps, row_y0, row_fy, col_x0, col_end, col_fx3, lut_flat, size, out_flat): weight
 * maps K x (Gh + 1) x (Gw + 1) float32 (scaled, edge-padded); row_y0/row_fy H int32/float32; col_x0/col_end W
 * int32; col_fx3 3W float32 (each column's fraction, once per byte). */
static PyObject *py_fuse_apply_maps(PyObject *self, PyObject *args) {
    PyObject *objects[10];
    int size;
    if (!PyArg_ParseTuple(args, "OOOOOOOOiO", &objects[0], &objects[1], &objects[2], &objects[3], &objects[4],
                          &objects[5], &objects[6], &objects[7], &size, &objects[9]))
        return NULL;
    objects[8] = NULL;
    Py_buffer frames = {0}, maps = {0}, row_y0 = {0}, row_fy = {0}, col_x0 = {0}, col_end = {0}, col_fx3 = {0},
              lut = {0}, out = {0};
    Py_buffer *views[10] = {&frames, &maps, &row_y0, &row_fy, &col_x0, &col_end, &col_fx3, &lut, NULL, &out};
    PyObject *result = NULL;
    const int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT;
    for (int i = 0; i < 10; i++) {
        if (views[i] != NULL && PyObject_GetBuffer(objects[i], views[i], i == 9 ? flags | PyBUF_WRITABLE : flags) < 0)
            goto done;
    }
    const Py_ssize_t n_frames = frames.ndim == 3 ? frames.shape[0] : 0, height = frames.ndim == 3 ? frames.shape[1] : 0;
    const Py_ssize_t width = frames.ndim == 3 ? frames.shape[2] / 3 : 0;
    if (frames.ndim != 3 || !is_format(&frames, "B") || frames.shape[2] % 3 != 0 || maps.ndim != 3 ||
        !is_format(&maps, "f") || maps.shape[0] != n_frames || n_frames > MAX_MAP_FRAMES || maps.shape[1] < 2 ||
        maps.shape[2] < 2 || maps.shape[2] > MAX_MAP_SIDE || !is_format(&row_y0, "i") || !is_format(&col_x0, "i") ||
        !is_format(&row_fy, "f") || !is_format(&col_end, "i") || !is_format(&col_fx3, "f") ||
        row_y0.len / 4 != height || row_fy.len / 4 != height || col_x0.len / 4 != width || col_end.len / 4 != width ||
        col_fx3.len / 4 != 3 * width || !is_format(&lut, "f") || !is_format(&out, "B") ||
        size < 2 || lut.len / 4 < 3 * (Py_ssize_t)size * size * size || out.len != height * 3 * width) {
        PyErr_SetString(PyExc_ValueError, "fuse_apply_maps: arrays of unexpected shapes or types");
        goto done;
    }
    for (Py_ssize_t y = 0; y < height; y++) { /* indices stay inside the padded maps */
        const int32_t v = ((const int32_t *)row_y0.buf)[y];
        if (v < 0 || v > maps.shape[1] - 2) {
            PyErr_SetString(PyExc_ValueError, "fuse_apply_maps: a row index outside the maps");
            goto done;
        }
    }
    for (Py_ssize_t x = 0; x < width; x++) {
        const int32_t v = ((const int32_t *)col_x0.buf)[x], end = ((const int32_t *)col_end.buf)[x];
        if (v < 0 || v > maps.shape[2] - 2 || end <= x || end > width) {
            PyErr_SetString(PyExc_ValueError, "fuse_apply_maps: a column index outside the maps");
            goto done;
        }
    }
    {
        int32_t strides[3 * CHUNK];
        fill_strides(strides, size);
        const Job job = {(const uint8_t *)frames.buf, n_frames, 3 * width, height * 3 * width, NULL,
                         (const float *)lut.buf, 0, 0, (float)(size - 1), size - 2, strides,
                         (uint8_t *)out.buf, (const float *)maps.buf,
                         maps.shape[2], maps.shape[1] * maps.shape[2], (const int32_t *)row_y0.buf,
                         (const int32_t *)col_x0.buf, (const int32_t *)col_end.buf, (const float *)row_fy.buf,
                         (const float *)col_fx3.buf, 0};
        if (run_job(job, size, height) < 0) goto done;
    }
    Py_INCREF(Py_None);
    result = Py_None;
done:
    for (int i = 0; i < 10; i++) {
        if (views[i] != NULL && views[i]->obj) PyBuffer_Release(views[i]);
    }
    return result;
}

static PyObject *py_use_lookup4(PyObject *self, PyObject *arg) {
    const int flag = PyObject_IsTrue(arg);
    if (flag < 0) return NULL;
    PyObject *previous = PyBool_FromLong(narrow_only);
    narrow_only = flag;
    return previous;
}

static PyMethodDef methods[] = {
    {"fuse_apply", py_fuse_apply, METH_VARARGS,
     "fuse_apply(frames3, scale, lut_flat, size, out_flat): see edgemef.lut.fuse_and_apply"},
    {"fuse_apply_maps", py_fuse_apply_maps, METH_VARARGS,
     "fuse_apply_maps(frames3, maps, row_y0, row_fy, col_x0, col_end, col_fx3, lut_flat, size, out_flat): see "
     "edgemef.lut.fuse_and_apply with weight maps"},
    {"use_lookup4", py_use_lookup4, METH_O,
     "use_lookup4(flag) -> the previous flag: True runs the 4-lane pass B (the one of CPUs without AVX2) on "
     "every CPU; the same arithmetic, for tests"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastlut",
                                    "The compiled fuse-and-apply kernel of edgemef.lut.", -1, methods};

PyMODINIT_FUNC PyInit__fastlut(void) {
    PyObject *m = PyModule_Create(&module);
    /* no floats needed after the flat LUT: pass B reads its own copy (lut4_copy) */
    if (m != NULL && PyModule_AddIntConstant(m, "LUT_PADDING", 0) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
