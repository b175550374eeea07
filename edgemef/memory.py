"""Keep a process's resident memory at what it uses (glibc).

glibc's ``malloc`` serves large blocks (decoded frames, fused images, tiles) with ``mmap`` and returns them
to the system on ``free``, but only below a threshold that it raises to the size of each large block freed
(up to 32 MB on 64-bit), after which blocks of that size come from the heap and stay resident when freed.
A fusion that decodes three frames, frees the decoder's buffers and then allocates the output pays for
both. :func:`release_large_blocks` fixes the threshold at glibc's default 128 KiB, so freed frames and
buffers leave the resident set at once (``edgemef fuse`` at 1536x1024: peak 117 -> 107 MiB).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

#: mallopt's parameter number of the mmap threshold (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 128 * 1024


def release_large_blocks() -> bool:
    """Fix glibc's mmap threshold (see the module docstring); ``False`` where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
