"""The compiled LUT kernel (edgemef/_fastlut.c): built where a C compiler is found, skipped (optional)
elsewhere, in which case edgemef.lut uses its numba kernel. Everything else is in pyproject.toml."""

import sys

from setuptools import Extension, setup

openmp = [] if sys.platform in ("darwin", "win32") else ["-fopenmp"]
setup(
    ext_modules=[
        Extension(
            "edgemef._fastlut",
            ["edgemef/_fastlut.c"],
            extra_compile_args=["-O3", "-fno-math-errno", "-fno-trapping-math", *openmp]
            if sys.platform != "win32"
            else ["/O2"],
            extra_link_args=openmp,
            optional=True,
        )
    ]
)
