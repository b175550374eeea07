"""The compiled kernels, built where a C compiler is found and skipped (optional) elsewhere: the LUT kernel
(edgemef/_fastlut.c; without it edgemef.lut uses its numba kernel) and the thumbnail kernel
(edgemef/_fastresize.c; without it edgemef.runtime.preprocess uses OpenCV). Everything else is in
pyproject.toml."""

import sys

from setuptools import Extension, setup

openmp = [] if sys.platform in ("darwin", "win32") else ["-fopenmp"]
flags = ["-O3", "-fno-math-errno", "-fno-trapping-math", *openmp] if sys.platform != "win32" else ["/O2"]
setup(
    ext_modules=[
        Extension(
            f"edgemef.{name}",
            [f"edgemef/{name}.c"],
            extra_compile_args=flags,
            extra_link_args=openmp,
            optional=True,
        )
        for name in ("_fastlut", "_fastresize")
    ]
)
