"""Per-operator profiles from each runtime's own profiler.

- ExecuTorch: ETDump (``load_program(..., enable_etdump=True)``) read by ``executorch.devtools``'s
  ``Inspector``.
  Top-level events of an inference are ``OPERATOR_CALL`` (a portable kernel, ``native_call_*`` inside) and
  ``DELEGATE_CALL`` (an XNNPACK subgraph, its XNNPACK operators inside); ``Method::execute`` is the whole
  call.
- onnxruntime: the session profiler (``enable_profiling``): ``Node`` events per kernel, ``model_run`` per run.
- LiteRT: ai-edge-litert's Python interpreter exposes no per-operator profiler; the report says so (on a
  device, LiteRT's ``benchmark_model --enable_op_profiling`` gives it).

Each returns ``{"available", "source", "inference_ms", "total_ms", "top": [...]}`` (see the report schema).
"""

from __future__ import annotations

import json
import statistics
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from edgemef.runtime.contract import Contract

TOP_K = 15


def _top(per_op: dict[tuple[str, bool], list[float]]) -> list[dict[str, object]]:
    rows = [
        {
            "name": name,
            "delegated": delegated,
            "median_ms": round(statistics.median(times), 4),
            "count": len(times),
        }
        for (name, delegated), times in per_op.items()
    ]
    return sorted(rows, key=lambda r: -float(r["median_ms"]))[:TOP_K]


def executorch_operators(artifact: Path, example: np.ndarray, runs: int, threads: int | None) -> dict:
    """ETDump of ``runs`` inferences (after one warm-up)."""
    import torch
    from executorch.devtools import Inspector

    from edgemef.executorch_host import ExecuTorchBackend
    from edgemef.runtime.contract import read_contract

    backend = ExecuTorchBackend(artifact, read_contract(artifact), threads, etdump=True)
    x = torch.from_numpy(np.ascontiguousarray(example))
    for _ in range(runs + 1):
        backend._method.execute([x])
    with tempfile.TemporaryDirectory() as tmp:
        etdump = Path(tmp) / "profile.etdp"
        backend.program.write_etdump_result_to_file(str(etdump), str(Path(tmp) / "debug.bin"))
        frame = Inspector(etdump_path=str(etdump)).to_dataframe()
    frame = frame[frame.event_block_name == "Execute"]
    per_op: dict[tuple[str, bool], list[float]] = defaultdict(list)
    top_level, execute = 0.0, 0.0
    for _, row in frame.iterrows():
        times = [float(t) for t in row.raw[1:]] or [float(t) for t in row.raw]  # drop the warm-up run
        median = statistics.median(times)
        name = str(row.event_name)
        if name == "Method::execute":
            execute += median
        elif name in ("OPERATOR_CALL", "DELEGATE_CALL"):
            top_level += median
        elif bool(row.is_delegated_op):
            per_op[name.split(" #")[0], True].append(median)  # "Convolution (NHWC, QC8) IGEMM #3" -> type
        elif name.startswith("native_call_"):
            per_op[name.removeprefix("native_call_"), False].append(median)
    merged = {key: [sum(times)] for key, times in per_op.items()}  # per operator type, summed over nodes
    top = _top(merged)
    for row in top:
        row["count"] = len(per_op[str(row["name"]), bool(row["delegated"])])
    return {
        "available": True,
        "source": "ExecuTorch ETDump + executorch.devtools.Inspector (median of the runs per event)",
        "inference_ms": round(execute, 3),
        "total_ms": round(top_level, 3),
        "top": top,
    }


def onnxruntime_operators(
    artifact: Path, contract: Contract, example: np.ndarray, runs: int, threads: int | None
) -> dict:
    """onnxruntime's session profiler over ``runs`` inferences (after one warm-up)."""
    import onnxruntime as ort

    from edgemef.runtime.backends import available_threads

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or available_threads()
    options.enable_profiling = True
    options.log_severity_level = 3
    with tempfile.TemporaryDirectory() as tmp:
        options.profile_file_prefix = str(Path(tmp) / "ort")
        session = ort.InferenceSession(str(artifact), options, providers=["CPUExecutionProvider"])
        feed = {contract.inputs[0].runtime_name: example}
        for _ in range(runs + 1):
            session.run(None, feed)
        events = json.loads(Path(session.end_profiling()).read_text())
    model_runs = [
        e["dur"] / 1000.0 for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"
    ]
    per_node: dict[str, list[float]] = defaultdict(list)
    op_of: dict[str, str] = {}
    for e in events:
        if e.get("cat") == "Node" and str(e.get("name", "")).endswith("_kernel_time"):
            node = e["name"].removesuffix("_kernel_time")
            per_node[node].append(e["dur"] / 1000.0)
            op_of[node] = e.get("args", {}).get("op_name", node)
    per_op: dict[tuple[str, bool], list[float]] = defaultdict(list)
    total = 0.0
    for node, times in per_node.items():
        median = statistics.median(times[1:] or times)
        total += median
        per_op[op_of[node], False].append(median)
    top = _top({key: [sum(times)] for key, times in per_op.items()})
    for row in top:
        row["count"] = len(per_op[str(row["name"]), False])
    return {
        "available": True,
        "source": "onnxruntime session profiler (kernel time per node, median of the runs)",
        "inference_ms": round(statistics.median(model_runs[1:] or model_runs), 3),
        "total_ms": round(total, 3),
        "top": top,
    }


def operator_profile(
    artifact: Path, contract: Contract, example: np.ndarray, runs: int, threads: int | None
) -> dict:
    """The per-operator profile of one network call on ``example`` (the artifact's first input) in its
    backend: the LUT predictor on thumbnails, or one IPL tile."""
    if contract.backend == "executorch":
        return executorch_operators(artifact, example, runs, threads)
    if contract.backend == "onnxruntime":
        return onnxruntime_operators(artifact, contract, example, runs, threads)
    return {
        "available": False,
        "why": (
            f"{contract.backend}'s Python interpreter has no per-operator profiler; on a device run LiteRT's "
            "benchmark_model with --enable_op_profiling=true"
        ),
    }
