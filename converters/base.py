"""What every target module returns, and helpers they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch

Predictor = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass
class ExportResult:
    """An artifact written by a target module.

    Attributes:
        path: the model file (or ``.mlpackage`` folder).
        input_names: the runtime names of the inputs, in the contract's order (``thumbnails``).
        output_names: the runtime names of the outputs, in the contract's order (``weights``, ``lut``).
        toolchain: package -> version of what made it.
        report: target-specific checks for the contract (ExecuTorch delegation, CoreML spec, quantization).
        extra_postprocessing: target-specific entries for the contract's ``postprocessing`` (e.g. the
            TFLite signature key).
        emulator: for artifacts that cannot run here (CoreML), a stand-in predictor for the parity gate
            that reproduces the artifact's numerics; ``None`` means run the artifact in its real runtime.
    """

    path: Path
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    toolchain: dict[str, str]
    report: dict[str, Any] = field(default_factory=dict)
    extra_postprocessing: dict[str, Any] = field(default_factory=dict)
    emulator: Predictor | None = None


def versions(*packages: str) -> dict[str, str]:
    """Installed versions of ``packages`` (those not installed are left out)."""
    found = {}
    for package in packages:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def torch_predictor(module: torch.nn.Module) -> Predictor:
    """A torch module returning ``(weights, lut)`` as ``thumbnails -> (weights (N,), LUT (S,S,S,3))``."""

    def predict(thumbnails: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():
            weights, lut = module(torch.from_numpy(thumbnails))
        return weights[0].float().numpy(), np.ascontiguousarray(lut[0].float().numpy())

    return predict


def calibration_tensors(calibration: list[np.ndarray]) -> list[torch.Tensor]:
    return [torch.from_numpy(np.ascontiguousarray(x)) for x in calibration]
