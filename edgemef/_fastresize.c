/*
 * The compiled thumbnail kernel of edgemef.runtime.preprocess: OpenCV's INTER_AREA downscale of a uint8
 * H x W x 3 image, without loading OpenCV (16 MiB of a deploy process). Same pixels as cv2.resize(...,
 * interpolation=cv2.INTER_AREA) for every downscale (both scales >= 1; tests compare them), by the same three
 * rules OpenCV follows:
 *
 *   - both scales exactly 2: each output is (a + b + c + d + 2) >> 2 of its 2 x 2 block;
 *   - both scales integers (ix, iy), not both 2: the block's integer sum times (float)(1 / (ix iy)),
 *     rounded to nearest (ties to even);
 *   - otherwise: per source row, a float sum along x over the columns an output covers, each weighted by
 *     its covered fraction of the output's width (the tables below); per output row, the beta-weighted
 *     float sum of those row sums in source-row order; rounded to nearest (ties to even).
 *
 * The float arithmetic is done in OpenCV's order, without fused multiply-adds, so results are bit-exact.
 * Output rows go to OpenMP threads (one thread for sources under PARALLEL_PIXELS); the GIL is released while the kernel runs. Built at install where a C
 * compiler is found (setup.py, optional); edgemef.runtime.preprocess uses OpenCV otherwise.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* no fused multiply-adds: OpenCV's products and sums are rounded one by one */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* sources below this are resized by one thread: waking the others costs more than they would save */
#define PARALLEL_PIXELS 65536

typedef struct {
    int di; /* output index (pixel) */
    int si; /* source index (pixel) */
    float alpha;
} Tap;

/* OpenCV's computeResizeAreaTab: the taps of every output along one axis, in output then source order. */
static int area_taps(int ssize, int dsize, double scale, Tap *tab) {
    int k = 0;
    for (int dx = 0; dx < dsize; dx++) {
        const double fsx1 = dx * scale, fsx2 = fsx1 + scale;
        const double cell = scale < ssize - fsx1 ? scale : ssize - fsx1;
        int sx1 = (int)ceil(fsx1), sx2 = (int)floor(fsx2);
        sx2 = sx2 < ssize - 1 ? sx2 : ssize - 1;
        sx1 = sx1 < sx2 ? sx1 : sx2;
        if (sx1 - fsx1 > 1e-3) {
            tab[k].di = dx;
            tab[k].si = sx1 - 1;
            tab[k++].alpha = (float)((sx1 - fsx1) / cell);
        }
        for (int sx = sx1; sx < sx2; sx++) {
            tab[k].di = dx;
            tab[k].si = sx;
            tab[k++].alpha = (float)(1.0 / cell);
        }
        if (fsx2 - sx2 > 1e-3) {
            const double part = fsx2 - sx2 < 1.0 ? fsx2 - sx2 : 1.0;
            tab[k].di = dx;
            tab[k].si = sx2;
            tab[k++].alpha = (float)((part < cell ? part : cell) / cell);
        }
    }
    return k;
}

static inline uint8_t round_u8(float v) { /* OpenCV's saturate_cast<uchar>(float): nearest, ties to even */
    const long r = lrintf(v);
    return (uint8_t)(r < 0 ? 0 : (r > 255 ? 255 : r));
}

typedef struct {
    const uint8_t *src;
    uint8_t *dst;
    int sw, sh, dw, dh, ix, iy;
    const Tap *xtab, *ytab;
    int xcount;
    const int *yfirst; /* per output row: its first entry in ytab; yfirst[dh] = entries */
} Job;

typedef uint8_t v16u8 __attribute__((vector_size(16)));

static inline v16u8 load16(const uint8_t *p) {
    v16u8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The bytes of 16 outputs from 32 bytes of block averages: output byte e (channel e % 3 of pixel e / 3)
 * is the average at e + 3 (e / 3); three patterns cover 16 pixels (48 output bytes, 96 averages). */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define COMPACT(lo, hi, ...) __builtin_shufflevector(lo, hi, __VA_ARGS__)
#define HAVE_COMPACT 1
#endif

/* x86-64: a clone for AVX2 CPUs (x86-64-v3) and a generic one, chosen at load time (GCC's target_clones). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CPU_CLONES
#endif

CPU_CLONES static void halve_row(const uint8_t *a, const uint8_t *b, uint8_t *d, Py_ssize_t width, uint8_t *avg) {
    const Py_ssize_t n = 6 * width; /* source bytes that the outputs cover */
    /* avg[i]: the rounded mean of a[i], a[i + 3], b[i], b[i + 3]; used where i % 6 < 3 */
    for (Py_ssize_t i = 0; i < n - 3; i++) avg[i] = (uint8_t)((a[i] + a[i + 3] + b[i] + b[i + 3] + 2) >> 2);
    Py_ssize_t x = 0;
#ifdef HAVE_COMPACT
    for (; x + 16 <= width - 1; x += 16) { /* width - 1: the last load reads up to 4 bytes past this chunk */
        const uint8_t *s = avg + 6 * x;
        v16u8 out;
        out = COMPACT(load16(s), load16(s + 16), 0, 1, 2, 6, 7, 8, 12, 13, 14, 18, 19, 20, 24, 25, 26, 30);
        memcpy(d + 3 * x, &out, 16);
        out = COMPACT(load16(s + 31), load16(s + 47), 0, 1, 5, 6, 7, 11, 12, 13, 17, 18, 19, 23, 24, 25, 29, 30);
        memcpy(d + 3 * x + 16, &out, 16);
        out = COMPACT(load16(s + 62), load16(s + 78), 0, 4, 5, 6, 10, 11, 12, 16, 17, 18, 22, 23, 24, 28, 29, 30);
        memcpy(d + 3 * x + 32, &out, 16);
    }
#endif
    for (; x < width; x++) {
        d[3 * x] = avg[6 * x];
        d[3 * x + 1] = avg[6 * x + 1];
        d[3 * x + 2] = avg[6 * x + 2];
    }
}

static int halve_rows(const Job *job) {
    const Py_ssize_t srow = 3 * (Py_ssize_t)job->sw, drow = 3 * (Py_ssize_t)job->dw;
    int failed = 0;
#pragma omp parallel if (job->sw * job->sh >= PARALLEL_PIXELS)
    {
        uint8_t *avg = malloc((size_t)(6 * (Py_ssize_t)job->dw + 32));
        if (avg == NULL) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int y = 0; y < job->dh; y++) {
            if (avg != NULL) {
                const uint8_t *a = job->src + 2 * y * srow;
                halve_row(a, a + srow, job->dst + y * drow, job->dw, avg);
            }
        }
        free(avg);
    }
    return failed;
}

static void integer_blocks(const Job *job) {
    const Py_ssize_t srow = 3 * (Py_ssize_t)job->sw, drow = 3 * (Py_ssize_t)job->dw;
    const float scale = 1.0f / (float)(job->ix * job->iy);
#pragma omp parallel for schedule(static) if (job->sw * job->sh >= PARALLEL_PIXELS)
    for (int y = 0; y < job->dh; y++) {
        uint8_t *d = job->dst + y * drow;
        for (Py_ssize_t x = 0; x < job->dw; x++) {
            for (int c = 0; c < 3; c++) {
                int sum = 0;
                for (int j = 0; j < job->iy; j++) {
                    const uint8_t *s = job->src + (Py_ssize_t)(y * job->iy + j) * srow + 3 * x * job->ix + c;
                    for (int i = 0; i < job->ix; i++) sum += s[3 * i];
                }
                d[3 * x + c] = round_u8((float)sum * scale);
            }
        }
    }
}

static int general_area(const Job *job) {
    const Py_ssize_t srow = 3 * (Py_ssize_t)job->sw, drow = 3 * (Py_ssize_t)job->dw;
    int failed = 0;
#pragma omp parallel if (job->sw * job->sh >= PARALLEL_PIXELS)
    {
        float *buf = malloc(sizeof(float) * 2 * drow), *sum = buf == NULL ? NULL : buf + drow;
        if (buf == NULL) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int y = 0; y < job->dh; y++) {
            if (buf == NULL) continue;
            for (int j = job->yfirst[y]; j < job->yfirst[y + 1]; j++) {
                const uint8_t *s = job->src + (Py_ssize_t)job->ytab[j].si * srow;
                const float beta = job->ytab[j].alpha;
                memset(buf, 0, sizeof(float) * drow);
                for (int k = 0; k < job->xcount; k++) {
                    const Py_ssize_t di = 3 * (Py_ssize_t)job->xtab[k].di, si = 3 * (Py_ssize_t)job->xtab[k].si;
                    const float alpha = job->xtab[k].alpha;
                    buf[di] = buf[di] + s[si] * alpha;
                    buf[di + 1] = buf[di + 1] + s[si + 1] * alpha;
                    buf[di + 2] = buf[di + 2] + s[si + 2] * alpha;
                }
                if (j == job->yfirst[y]) {
                    for (Py_ssize_t e = 0; e < drow; e++) sum[e] = beta * buf[e];
                } else {
                    for (Py_ssize_t e = 0; e < drow; e++) sum[e] = sum[e] + beta * buf[e];
                }
            }
            uint8_t *d = job->dst + y * drow;
            for (Py_ssize_t e = 0; e < drow; e++) d[e] = round_u8(sum[e]);
        }
        free(buf);
    }
    return failed;
}

static int is_image(const Py_buffer *view) {
    return view->ndim == 3 && view->shape[2] == 3 && view->format != NULL && strcmp(view->format, "B") == 0 &&
           view->shape[0] > 0 && view->shape[1] > 0 && view->shape[0] < INT32_MAX / 4 && view->shape[1] < INT32_MAX / 4;
}

/* The resize of job->src into job->dst by OpenCV's rule for its scales; 0, or -1 with MemoryError set. */
static int area_into(Job *job) {
    const double sx = (double)job->sw / job->dw, sy = (double)job->sh / job->dh;
    const int ix = (int)lrint(sx), iy = (int)lrint(sy);
    int failed = 0;
    if (fabs(sx - ix) < 2.220446049250313e-16 && fabs(sy - iy) < 2.220446049250313e-16) {
        job->ix = ix;
        job->iy = iy;
        Py_BEGIN_ALLOW_THREADS
        if (ix == 2 && iy == 2)
            failed = halve_rows(job);
        else
            integer_blocks(job);
        Py_END_ALLOW_THREADS
    } else {
        /* at most 2 + ceil(scale) taps per output along an axis */
        Tap *xtab = PyMem_Malloc(sizeof(Tap) * ((size_t)job->dw * ((size_t)ceil(sx) + 2)));
        Tap *ytab = PyMem_Malloc(sizeof(Tap) * ((size_t)job->dh * ((size_t)ceil(sy) + 2)));
        int *yfirst = PyMem_Malloc(sizeof(int) * ((size_t)job->dh + 1));
        failed = xtab == NULL || ytab == NULL || yfirst == NULL;
        if (!failed) {
            job->xcount = area_taps(job->sw, job->dw, sx, xtab);
            const int ycount = area_taps(job->sh, job->dh, sy, ytab);
            for (int y = 0, j = 0; y <= job->dh; y++) {
                while (j < ycount && ytab[j].di < y) j++;
                yfirst[y] = j;
            }
            job->xtab = xtab;
            job->ytab = ytab;
            job->yfirst = yfirst;
            Py_BEGIN_ALLOW_THREADS
            failed = general_area(job);
            Py_END_ALLOW_THREADS
        }
        PyMem_Free(xtab);
        PyMem_Free(ytab);
        PyMem_Free(yfirst);
    }
    if (failed) PyErr_NoMemory();
    return failed ? -1 : 0;
}

/* The (src, dst) arguments of a call as buffers (released by the caller); 0, or -1 with an exception set. */
static int open_images(PyObject *args, Py_buffer *src, Py_buffer *dst) {
    PyObject *src_obj, *dst_obj;
    const int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT;
    if (!PyArg_ParseTuple(args, "OO", &src_obj, &dst_obj) || PyObject_GetBuffer(src_obj, src, flags) < 0 ||
        PyObject_GetBuffer(dst_obj, dst, flags | PyBUF_WRITABLE) < 0)
        return -1;
    if (!is_image(src) || !is_image(dst)) {
        PyErr_SetString(PyExc_ValueError, "expected C-contiguous uint8 H x W x 3 arrays");
        return -1;
    }
    return 0;
}

static PyObject *close_images(Py_buffer *src, Py_buffer *dst, int ok) {
    if (src->obj) PyBuffer_Release(src);
    if (dst->obj) PyBuffer_Release(dst);
    if (!ok) return NULL;
    Py_RETURN_NONE;
}

/* area_resize(src, dst): src H x W x 3 uint8, dst h x w x 3 uint8 (writable), h <= H and w <= W. */
static PyObject *py_area_resize(PyObject *self, PyObject *args) {
    Py_buffer src = {0}, dst = {0};
    int ok = open_images(args, &src, &dst) == 0;
    if (ok && (dst.shape[0] > src.shape[0] || dst.shape[1] > src.shape[1])) {
        PyErr_SetString(PyExc_ValueError, "area_resize: the output is larger than the input");
        ok = 0;
    }
    if (ok) {
        Job job = {src.buf, dst.buf, (int)src.shape[1], (int)src.shape[0], (int)dst.shape[1], (int)dst.shape[0],
                   0, 0, NULL, NULL, 0, NULL};
        ok = area_into(&job) == 0;
    }
    return close_images(&src, &dst, ok);
}

static PyMethodDef methods[] = {
    {"area_resize", py_area_resize, METH_VARARGS,
     "area_resize(src, dst): OpenCV's INTER_AREA downscale of uint8 H x W x 3 src into dst"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastresize",
                                    "The compiled thumbnail kernel of edgemef.runtime.preprocess.", -1, methods};

PyMODINIT_FUNC PyInit__fastresize(void) { return PyModule_Create(&module); }
