#!/usr/bin/env python3
"""Capture (or replay) exposure brackets on a Raspberry Pi, fuse them without PyTorch, check the latency.

The same as the ``edgemef-capture`` command: it takes any model family's ``.tflite`` or ``.onnx`` artifact
from ``edgemef convert``. Run ``python rpi/capture_and_fuse.py --help`` for the options and see
docs/raspberry-pi.md for installation, stages and the latency verdict.
"""

import sys
from pathlib import Path

try:
    from edgemef.capture.cli import main
except ImportError:  # run from a source checkout without 'pip install'
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from edgemef.capture.cli import main

if __name__ == "__main__":
    sys.exit(main())
