"""What a family hands the conversion loop: its graphs, as data, and its exporter interface.

A family's exporter (named by its declaration's ``exporter``) turns a loaded model into a list of
:class:`ExportGraph` (LUT-distill: one predictor graph; IPL: a full and a replay tile graph). The loop in
:mod:`converters.pipeline` exports every graph with the target's ``export_graph``, writes the contract, and
asks the family's :meth:`FamilyExporter.parity` to compare the exported graphs, run in their real runtime,
with the same graphs in PyTorch. No target module knows a family's tensor names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch


@dataclass(frozen=True)
class TensorInfo:
    """What the contract says about one tensor besides its shape (taken from the example run)."""

    name: str
    layout: str
    description: str
    value_range: tuple[float, float] | None = None


@dataclass(frozen=True)
class QuantizationHints:
    """How a graph wants static int8 where a target can choose (onnxruntime's QDQ).

    Attributes:
        op_types: quantize only operators of these types (``None``: every type the quantizer can).
        keep_float: operator types that stay float.
    """

    op_types: tuple[str, ...] | None = None
    keep_float: tuple[str, ...] = ()


#: a graph without int8 preferences
NO_HINTS = QuantizationHints()


@dataclass
class ExportGraph:
    """One network to export.

    Attributes:
        name: the graph's name; the first graph is the artifact, the others are named in the contract's
            ``graphs`` and written as ``<stem>.<name><suffix>``.
        module: a torch module taking the inputs positionally (in ``inputs``' order) and returning a dict
            of the outputs.
        inputs: example inputs by name (their shapes are the artifact's).
        input_info / output_info: the contract's description of each input and output, in order.
        calibration: for int8, the feeds (input name -> array) static quantization observes.
        hints: int8 choices for targets that take them.
    """

    name: str
    module: torch.nn.Module
    inputs: dict[str, torch.Tensor]
    input_info: tuple[TensorInfo, ...]
    output_info: tuple[TensorInfo, ...]
    calibration: list[dict[str, np.ndarray]] = field(default_factory=list)
    hints: QuantizationHints = NO_HINTS

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(info.name for info in self.output_info)

    def example_feed(self) -> tuple[np.ndarray, ...]:
        return tuple(np.ascontiguousarray(x.detach().numpy()) for x in self.inputs.values())


@dataclass(frozen=True)
class ExportRequest:
    """What to convert, as the family sees it.

    Attributes:
        model: the registered model name.
        precision: fp32, fp16 or int8 (resolved).
        runtime: the runtime the artifact is for.
        runs_here: whether that runtime runs on this machine (else parity is emulated).
        n_exposures: bracket size of the shipped weights (when ``weights`` is None).
        weights: a ``.safetensors`` file instead of the shipped weights.
        options: the family's conversion options (its ``convert_options``, defaults filled in).
        calibration: folder with ``calibration/`` and ``parity/`` stacks (None: ``calibration_data/``).
    """

    model: str
    precision: str
    runtime: str
    runs_here: bool
    n_exposures: int
    weights: Path | None
    options: Mapping[str, Any]
    calibration: Path | None


class Runner(Protocol):
    """A graph that runs: positional inputs -> outputs by contract name (a runtime backend, or torch)."""

    def run(self, *inputs: np.ndarray) -> dict[str, np.ndarray]: ...


class TorchRunner:
    """An :class:`ExportGraph`'s module in PyTorch, as a :class:`Runner` (``dtype``: parameters and compute;
    inputs and outputs are float32)."""

    def __init__(self, module: torch.nn.Module, dtype: torch.dtype = torch.float32) -> None:
        self.module = module.eval()
        self.dtype = dtype

    def run(self, *inputs: np.ndarray) -> dict[str, np.ndarray]:
        tensors = [torch.from_numpy(np.ascontiguousarray(x, np.float32)).to(self.dtype) for x in inputs]
        with torch.inference_mode():
            outputs = self.module(*tensors)
        return {name: value.float().numpy() for name, value in outputs.items()}


@dataclass(frozen=True)
class ParityResult:
    """A family's parity verdict: the report for the contract, and lines saying what diverged."""

    report: dict[str, Any]
    description: str

    @property
    def passed(self) -> bool:
        return bool(self.report["passed"])

    @property
    def min_psnr_db(self) -> float:
        return float(self.report["min_psnr_db"])


def fused_parity(rows: list[dict[str, Any]], gate_db: float, reference: str, what: str) -> ParityResult:
    """The verdict on fused images of the parity stacks: ``rows`` hold each comparison's ``stack``, its
    ``psnr_db`` and optionally its ``path`` (which graph path it took); the worst must clear ``gate_db``."""
    worst = min(float(r["psnr_db"]) for r in rows)
    report = {
        "reference": reference,
        "gate_db": gate_db,
        "min_psnr_db": worst,
        "passed": worst >= gate_db,
        "stacks": rows,
        "what": what,
    }
    lines = [f"parity gate {gate_db:.0f} dB, worst {worst:.2f} dB:"]
    for r in rows:
        path = f" ({r['path']} path)" if "path" in r else ""
        lines.append(f"  {r['stack']}{path}: {r['psnr_db']:.2f} dB")
    return ParityResult(report, "\n".join(lines))


class FamilyExporter(Protocol):
    """What a convertible family provides to :func:`converters.pipeline.convert` (authoring side)."""

    #: what the latency figure times, in words, and how many runs
    latency_what: str
    latency_runs: int

    def load(self, request: ExportRequest) -> Any:
        """The model to export, in eval mode; raises ``ConversionError`` for bad weights or options."""
        ...

    def artifact_stem(self, model: Any, request: ExportRequest) -> str:
        """The artifact's file name without suffix (``lut-student-int8-g33``)."""
        ...

    def graphs(self, model: Any, request: ExportRequest, calibrate: bool) -> list[ExportGraph]:
        """The graphs to export (the first is the artifact); with ``calibrate``, their int8 feeds."""
        ...

    def contract_fields(self, model: Any, request: ExportRequest) -> dict[str, Any]:
        """The contract's ``n_exposures``, ``preprocessing`` and ``postprocessing``."""
        ...

    def parity(
        self,
        model: Any,
        request: ExportRequest,
        candidate: Mapping[str, Runner],
        reference: Mapping[str, Runner],
        gate_db: float,
    ) -> ParityResult:
        """Fused images of the exported graphs (``candidate``) against PyTorch fp32 (``reference``) on
        the held-out parity stacks."""
        ...
