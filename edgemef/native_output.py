"""What native libraries (libjpeg, libpng, libtiff, OpenCV, LiteRT, ExecuTorch) print on the process's
stderr, captured so that stderr carries only edgemef's own lines; ``-v`` lets it through.

Native code writes to file descriptor 2 directly, past ``sys.stderr``, so :func:`captured_stderr`
redirects the descriptor itself into a temporary file for the duration of a call and hands back what was
written (decoders' warnings are evidence: a JPEG whose entropy-coded data is corrupt decodes "successfully"
with a "Corrupt JPEG data" warning). Process-wide: one capture at a time (a lock), which the CLI's single
thread of decoding and runtime loading fits.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator

_LOCK = threading.RLock()
_log = logging.getLogger("edgemef.native")
#: set by ``edgemef -v``: native output goes to the terminal as well
SHOW = False


class Captured:
    """What a library wrote to stderr inside :func:`captured_stderr` (``text`` is filled on exit)."""

    text: str = ""


def _flush_c_streams() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def captured_stderr(*, stdout: bool = False) -> Iterator[Captured]:
    """Redirect file descriptor 2 into a temporary file; ``Captured.text`` holds what was written. With
    ``stdout``, descriptor 1 and ``sys.stdout`` too, for bindings that complain on standard output (OpenEXR's
    prints through Python's ``sys.stdout``)."""
    result = Captured()
    descriptors = (1, 2) if stdout else (2,)
    python_stdout = io.StringIO()
    with _LOCK:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            saved = [os.dup(fd) for fd in descriptors]
        except (OSError, ValueError):  # no usable descriptors (embedded interpreters): capture nothing
            yield result
            return
        with tempfile.TemporaryFile() as sink:
            for fd in descriptors:
                os.dup2(sink.fileno(), fd)
            try:
                with contextlib.redirect_stdout(python_stdout) if stdout else contextlib.nullcontext():
                    yield result
            finally:
                _flush_c_streams()  # what C stdio (and C++ iostreams synced with it) still buffers
                for fd, copy in zip(descriptors, saved, strict=True):
                    os.dup2(copy, fd)
                    os.close(copy)
                sink.seek(0)
                result.text = sink.read().decode("utf-8", "replace") + python_stdout.getvalue()
    if result.text.strip():
        _log.debug("native output: %s", result.text.strip())
        if SHOW:
            sys.stderr.write(result.text)
