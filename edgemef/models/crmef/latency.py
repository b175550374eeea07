"""Latency tables for CRMEF's search (eq. 5), measured in the runtime the network will be deployed in.

The paper timed each candidate operation in PyTorch on a GPU at batch 16 (L177). Here every candidate of
every searched layer is exported alone, at the layer's channel count and feature size and batch 1, through
edgemef's converters to the deploy runtime (LiteRT, ExecuTorch or ONNX Runtime, fp32), and timed there on
this machine: median of ``runs`` runs after a warm-up, on every core. Layers that share an operation and
input shape share one measurement.

A table is JSON: the runtime and its version, the machine, the date, the configuration and feature size it
was measured at, and ``layers``: layer name -> operation -> milliseconds, the form
:func:`edgemef.models.crmef.search.latency_penalty` takes.
"""

from __future__ import annotations

import importlib
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from edgemef.models.crmef.config import CrmefConfig
from edgemef.models.crmef.network import searched_layers
from edgemef.models.crmef.ops import KINDS, make_op

__all__ = [
    "LATENCY_FORMAT",
    "RUNTIMES",
    "LatencyTable",
    "layer_shapes",
    "measure_latency_table",
    "measure_network_latency",
    "predicted_latency",
]

LATENCY_FORMAT = "edgemef-crmef-latency"
#: runtime -> (converter module, file suffix)
RUNTIMES = {
    "litert": ("converters.litert_target", ".tflite"),
    "executorch": ("converters.executorch_target", ".pte"),
    "onnxruntime": ("converters.onnx_target", ".onnx"),
}


def layer_shapes(
    config: CrmefConfig, size: tuple[int, int]
) -> dict[str, tuple[str, tuple[int, int, int, int]]]:
    """Each searched layer's kind and input shape (batch 1) for frames of ``size`` (height, width).

    Relighting and repletion layers run at full resolution; alignment layer ``dasm.L`` at pyramid level L
    (1/2^L), the cascading one at full resolution (its guide has the same shape).
    """
    height, width = size
    shapes = {}
    for name, kind in searched_layers(config).items():
        level = int(name.split(".")[1]) if kind == "alignment" and name != "dasm.cascade" else 0
        shapes[name] = (kind, (1, config.channels, height >> level, width >> level))
    return shapes


class _OpGraph(nn.Module):
    """One operation as an exportable graph: keyword inputs, a dict output."""

    def __init__(self, op: nn.Module, guided: bool) -> None:
        super().__init__()
        self.op = op
        self.guided = guided

    def forward(self, x: Tensor, guide: Tensor | None = None) -> dict[str, Tensor]:
        return {"y": self.op(x, guide) if self.guided else self.op(x)}


def _runner(path: Path, runtime: str) -> Callable[[dict[str, np.ndarray]], object]:
    """A callable running the exported file once in its runtime."""
    if runtime == "onnxruntime":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path))
        return lambda feed: session.run(None, feed)
    if runtime == "litert":
        from ai_edge_litert.interpreter import Interpreter

        from edgemef.runtime.backends import available_threads

        signature = Interpreter(model_path=str(path), num_threads=available_threads()).get_signature_runner(
            "serving_default"
        )
        return lambda feed: signature(**feed)
    from executorch.runtime import Runtime

    method = Runtime.get().load_program(str(path)).load_method("forward")
    return lambda feed: method.execute([torch.from_numpy(value) for value in feed.values()])


def _time(run: Callable[[dict[str, np.ndarray]], object], feed: dict[str, np.ndarray], runs: int) -> float:
    run(feed)  # warm-up: allocation, weight packing
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run(feed)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


@dataclass(frozen=True)
class LatencyTable:
    """Measured latencies of every candidate of every searched layer (see the module docstring)."""

    runtime: str
    versions: dict[str, str]
    machine: str
    created: str
    config: CrmefConfig
    size: tuple[int, int]
    runs: int
    layers: dict[str, dict[str, float]]

    def to_json(self) -> str:
        data = {"format": LATENCY_FORMAT, "format_version": 1, **asdict(self)}
        data["size"] = list(self.size)
        return json.dumps(data, indent=2)

    def save(self, path: Path) -> None:
        from edgemef.io.write import atomic_write_bytes

        atomic_write_bytes(path, (self.to_json() + "\n").encode())

    @classmethod
    def load(cls, path: Path) -> LatencyTable:
        try:
            data = json.loads(Path(path).read_text())
            if data.pop("format") != LATENCY_FORMAT or data.pop("format_version") != 1:
                raise ValueError(f"not a {LATENCY_FORMAT} file of format_version 1")
            data["config"] = CrmefConfig(**data["config"])
            data["size"] = tuple(data["size"])
            table = cls(**data)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path}: not a readable CRMEF latency table ({error})") from error
        expected = searched_layers(table.config)
        for name, kind in expected.items():
            if set(table.layers.get(name, {})) != set(KINDS[kind]):
                raise ValueError(f"{path}: layer {name} lacks latencies of some of {KINDS[kind]}")
        return table


def _machine() -> str:
    from edgemef.bench import machine_description
    from edgemef.runtime.backends import available_threads

    machine = machine_description()
    return f"{machine['cpu']}, {machine['cores']} cores, {available_threads()} threads"


def _versions(runtime: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    packages = {"litert": ("litert-torch", "ai-edge-litert"), "executorch": ("executorch",)}
    found = {}
    for package in ("torch", *packages.get(runtime, ("onnx", "onnxruntime"))):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "absent"
    return found


def measure_latency_table(
    config: CrmefConfig,
    runtime: str,
    size: tuple[int, int] = (256, 256),
    runs: int = 20,
    *,
    ops: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> LatencyTable:
    """Export and time every candidate of every searched layer of ``config`` in ``runtime``.

    Args:
        size: frame height and width the latencies are for.
        ops: measure only these operations (tests); the others are left out of the table.
        progress: called with a line per measurement.
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"the runtime is one of {', '.join(RUNTIMES)}, not {runtime!r}")
    module_name, suffix = RUNTIMES[runtime]
    converter = importlib.import_module(module_name)
    wanted = None if ops is None else set(ops)
    shapes = layer_shapes(config, size)
    measured: dict[tuple[str, tuple[int, ...]], float] = {}
    layers: dict[str, dict[str, float]] = {}
    generator = torch.Generator().manual_seed(0)
    with tempfile.TemporaryDirectory(prefix="edgemef-latency-") as folder:
        for name, (kind, shape) in shapes.items():
            row = layers.setdefault(name, {})
            for op_name in KINDS[kind]:
                if wanted is not None and op_name not in wanted:
                    continue
                key = (op_name, shape)
                if key not in measured:
                    guided = kind == "alignment"
                    graph = _OpGraph(make_op(op_name, config).eval(), guided)
                    inputs = {"x": torch.rand(shape, generator=generator)}
                    if guided:
                        inputs["guide"] = torch.rand(shape, generator=generator)
                    path = Path(folder) / f"{op_name}-{'x'.join(map(str, shape))}{suffix}"
                    converter.export_graph(graph, inputs, ("y",), path)
                    feed = {k: v.numpy() for k, v in inputs.items()}
                    measured[key] = round(_time(_runner(path, runtime), feed, runs), 4)
                    path.unlink()
                    if progress is not None:
                        progress(f"{op_name} at {shape[1]}x{shape[2]}x{shape[3]}: {measured[key]:.3f} ms")
                row[op_name] = measured[key]
    return LatencyTable(
        runtime=runtime,
        versions=_versions(runtime),
        machine=_machine(),
        created=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        config=config,
        size=size,
        runs=runs,
        layers=layers,
    )


class _NetworkGraph(nn.Module):
    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, frames: Tensor) -> dict[str, Tensor]:
        return {"fused": self.network(frames)}


def measure_network_latency(network: nn.Module, runtime: str, size: tuple[int, int], runs: int = 20) -> float:
    """Median milliseconds of a whole CRMEF network (batch 1, ``size`` frames) exported to ``runtime``."""
    if runtime not in RUNTIMES:
        raise ValueError(f"the runtime is one of {', '.join(RUNTIMES)}, not {runtime!r}")
    module_name, suffix = RUNTIMES[runtime]
    frames = torch.rand(1, 6, *size, generator=torch.Generator().manual_seed(0))
    with tempfile.TemporaryDirectory(prefix="edgemef-latency-") as folder:
        path = Path(folder) / f"network{suffix}"
        importlib.import_module(module_name).export_graph(
            _NetworkGraph(network.eval()), {"frames": frames}, ("fused",), path
        )
        return _time(_runner(path, runtime), {"frames": frames.numpy()}, runs)


def predicted_latency(layers: dict[str, str], table: LatencyTable) -> float:
    """What the table predicts for a genotype's searched layers: the sum of the chosen operations' rows."""
    return sum(table.layers[name][op] for name, op in layers.items())
