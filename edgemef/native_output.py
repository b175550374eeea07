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


@contextlib.contextmanager
def captured_stderr() -> Iterator[Captured]:
    """Redirect file descriptor 2 into a temporary file; ``Captured.text`` holds what was written."""
    result = Captured()
    with _LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no usable descriptor 2 (embedded interpreters): capture nothing
            yield result
            return
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield result
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                result.text = sink.read().decode("utf-8", "replace")
    if result.text.strip():
        _log.debug("native output: %s", result.text.strip())
        if SHOW:
            sys.stderr.write(result.text)
