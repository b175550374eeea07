"""How a process's large blocks are served (glibc): returned at once (deploy commands) or kept for reuse
(training loops).

glibc's ``malloc`` serves large blocks (decoded frames, fused images, tiles) with ``mmap`` and returns them
to the system on ``free``, but only below a threshold that it raises to the size of each large block freed
(up to 32 MB on 64-bit), after which blocks of that size come from the heap and stay resident when freed.
A fusion that decodes three frames, frees the decoder's buffers and then allocates the output pays for
both. :func:`release_large_blocks` fixes the threshold at glibc's default 128 KiB, so freed frames and
buffers leave the resident set at once (``edgemef fuse`` at 1536x1024: peak 117 -> 107 MiB).

A training loop is the opposite case: every step allocates and frees the same large temporaries (CRMEF's
deformable sampling grids are 75 MB each at batch 8), and each fresh ``mmap`` costs page faults that zero
the pages again. :func:`reuse_large_blocks` serves every block from the heap and never trims it, so a step
reuses the pages of the previous one (the misaligned CRMEF's training step: 5.2 -> 3.2 s on one thread,
system time 14 -> 4 s in 5 steps).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

#: mallopt's parameter numbers (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
MMAP_THRESHOLD_BYTES = 128 * 1024
#: the largest trim threshold mallopt takes (an int): freed heap memory is never given back
NEVER_TRIM = 2**31 - 1


def release_large_blocks() -> bool:
    """Fix glibc's mmap threshold (see the module docstring); ``False`` where the C library is not glibc."""
    return _mallopt((M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def reuse_large_blocks() -> bool:
    """Serve every block from the heap and keep freed memory for reuse (see the module docstring);
    ``False`` where the C library is not glibc."""
    return _mallopt((M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, NEVER_TRIM))


def _mallopt(*settings: tuple[int, int]) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return all([bool(mallopt(parameter, value)) for parameter, value in settings])
