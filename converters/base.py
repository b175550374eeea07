"""What every target module returns, and helpers they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch


@dataclass
class ExportResult:
    """An artifact written by a target module.

    Attributes:
        path: the model file (or ``.mlpackage`` folder).
        input_names: the runtime names of the inputs, in the contract's order.
        output_names: the runtime names of the outputs, in the contract's order.
        toolchain: package -> version of what made it.
        report: target-specific checks for the contract (ExecuTorch delegation, CoreML spec, quantization).
        extra_postprocessing: target-specific entries for the contract's ``postprocessing`` (e.g. the
            TFLite signature key).
    """

    path: Path
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    toolchain: dict[str, str]
    report: dict[str, Any] = field(default_factory=dict)
    extra_postprocessing: dict[str, Any] = field(default_factory=dict)


def versions(*packages: str) -> dict[str, str]:
    """Installed versions of ``packages`` (those not installed are left out)."""
    found = {}
    for package in packages:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def calibration_tensors(calibration: list[np.ndarray]) -> list[torch.Tensor]:
    return [torch.from_numpy(np.ascontiguousarray(x)) for x in calibration]
