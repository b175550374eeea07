"""``edgemef convert``: one loop for every model family.

resolve the target -> the family's graphs -> each runtime module's ``export_graph`` -> contract -> the
family's parity check with the graphs run in their real runtime (or emulated where the runtime needs
another OS) -> latency -> install atomically.

Everything is built in a temporary folder inside the output folder and moved into place only when the
parity gate passes, so a failed conversion leaves nothing behind (and never half-replaces an old artifact).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from converters.base import ExportResult
from converters.capabilities import PARITY_GATE_DB, PRECISIONS, RuntimeSpec, resolve_target
from converters.graphs import ExportGraph, ExportRequest, Runner, TensorInfo, TorchRunner
from edgemef.errors import ArtifactError, ConversionError, UnknownModelError
from edgemef.models.family import ModelFamily
from edgemef.models.registry import convertible_models, family_of
from edgemef.runtime.backends import available_threads, open_backend
from edgemef.runtime.contract import Contract, GraphFile, TensorSpec, artifact_sha256, contract_path


@dataclass(frozen=True)
class ConvertConfig:
    """What to convert, for which target, how.

    Attributes:
        target: a platform preset of :data:`~converters.capabilities.TARGETS`.
        model: a convertible model (``edgemef models``); ``None``: the default model's.
        precision: ``None`` for the family's default on the runtime (else the runtime's).
        runtime: ``None`` for the target's default runtime.
        out: output folder; default ``dist/<target>``.
        weights: a ``.safetensors`` file; default the shipped weights for ``n_exposures``.
        n_exposures: bracket size of the shipped weights to use when ``weights`` is not given.
        calibration: folder with ``calibration/`` and ``parity/`` stacks; default ``calibration_data/``.
        options: the family's own conversion options (LUT-distill ``grid``, IPL ``tile``); the rest keep
            their defaults.
    """

    target: str = "android"
    model: str | None = None
    precision: str | None = None
    runtime: str | None = None
    out: Path | None = None
    weights: Path | None = None
    n_exposures: int = 3
    calibration: Path | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConversionResult:
    """A verified artifact."""

    artifact: Path
    contract_file: Path
    contract: Contract

    def summary_row(self) -> dict[str, str]:
        c = self.contract
        return {
            "artifact": str(self.artifact),
            "size": f"{c.size_bytes / 1e6:.2f} MB",
            "precision": c.precision,
            "parity PSNR": f"{c.parity['min_psnr_db']:.1f} dB (gate {c.parity['gate_db']:.0f})",
            "latency": (
                f"{c.latency['median_ms']:.1f} ms"
                if c.latency.get("median_ms") is not None
                else "n/a (macOS only)"
            ),
        }


def _log(message: str) -> None:
    print(f"edgemef convert: {message}", file=sys.stderr, flush=True)


def default_model() -> str:
    """The model converted without ``--model``: the first registered family's (LUT-distill's student, the
    paper's model, as ``edgemef convert --help`` says). ``edgemef fuse``'s default model (``lut-adaptive``)
    converts with ``--model lut-adaptive``; its artifacts also ship in ``edgemef/artifacts``."""
    return convertible_models()[0]


def resolve_family(model: str) -> ModelFamily:
    """The family of a convertible ``model``.

    Raises:
        ConversionError: unknown or not convertible (the message lists the convertible models).
    """
    listing = ", ".join(convertible_models())
    try:
        family = family_of(model)
    except UnknownModelError:
        raise ConversionError(f"unknown model {model!r}; convertible: {listing}") from None
    if family.convertible != model:
        raise ConversionError(f"model {model!r} cannot be converted; convertible: {listing}")
    return family


def family_options(family: ModelFamily, given: Mapping[str, Any]) -> dict[str, Any]:
    """The family's conversion options: its defaults, overridden by ``given`` (``None`` values ignored).

    Raises:
        ConversionError: an option the family does not take.
    """
    known = family.option_defaults()
    unknown = [name for name, value in given.items() if value is not None and name not in known]
    if unknown:
        takes = ", ".join(f"--{name}" for name in known) or "no options of its own"
        raise ConversionError(f"--{unknown[0]} does not apply to {family.convertible} (it takes {takes})")
    return {**known, **{k: v for k, v in given.items() if v is not None}}


def _size(path: Path) -> int:
    return (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        if path.is_dir()
        else path.stat().st_size
    )


def _edgemef_version() -> str:
    from edgemef import __version__

    return __version__


def _machine() -> str:
    from edgemef.bench import machine_description

    info = machine_description()
    return ", ".join(f"{k} {v}" for k, v in info.items())


@contextlib.contextmanager
def exporter_errors(runtime: RuntimeSpec) -> Iterator[None]:
    """An exporter's own exception becomes a one-line :class:`ConversionError` naming the runtime."""
    try:
        yield
    except (ArtifactError, ConversionError):
        raise
    except Exception as exc:
        raise ConversionError(
            f"{runtime.name} export failed: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:400]}"
        ) from exc


def claim_contract_slot(out: Path, artifact: str) -> None:
    """Refuse, before any work, to convert ``artifact`` into ``out`` where its contract file is already
    another artifact's (two runtimes that share a stem, e.g. ``.pte`` and ``.tflite``, in one ``--out``):
    writing it would orphan that artifact.

    Raises:
        ConversionError: the contract slot belongs to another artifact.
    """
    existing = contract_path(out / artifact)
    if not existing.is_file():
        return
    try:
        owner = json.loads(existing.read_text(encoding="utf-8")).get("artifact")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        owner = None  # not a readable contract: nothing it describes can be orphaned
    if isinstance(owner, str) and owner != artifact and (out / owner).exists():
        raise ConversionError(
            f"{existing} is the contract of {out / owner}; converting {artifact} into {out} would overwrite "
            "it. Convert each target into its own folder (the default --out is dist/TARGET)"
        )


def _install(source: Path, destination: Path) -> None:
    """Move a finished file or folder into place, replacing an older one."""
    if destination.is_dir() and not destination.is_symlink():
        old = destination.with_name(f".{destination.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(destination, old)
        os.replace(source, destination)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, destination)


def graph_file_name(stem: str, graph: ExportGraph, first: bool, runtime: RuntimeSpec) -> str:
    """``stem.suffix`` for the artifact, ``stem.NAME.suffix`` for a further graph."""
    return f"{stem}{runtime.suffix}" if first else f"{stem}.{graph.name}{runtime.suffix}"


def _tensor_specs(graph: ExportGraph, exported: ExportResult) -> tuple[tuple[TensorSpec, ...], ...]:
    """The contract's inputs and outputs of one graph: shapes from an example run in PyTorch."""
    outputs = TorchRunner(graph.module).run(*graph.example_feed())

    def spec(info: TensorInfo, shape: tuple[int, ...], runtime_name: str, index: int) -> TensorSpec:
        return TensorSpec(
            info.name, shape, "float32", info.layout, info.description, runtime_name, index, info.value_range
        )

    inputs = tuple(
        spec(info, tuple(example.shape), name, index)
        for index, (info, example, name) in enumerate(
            zip(graph.input_info, graph.inputs.values(), exported.input_names, strict=True)
        )
    )
    results = tuple(
        spec(info, tuple(outputs[info.name].shape), name, index)
        for index, (info, name) in enumerate(zip(graph.output_info, exported.output_names, strict=True))
    )
    return inputs, results


def build_contract(
    family: ModelFamily,
    request: ExportRequest,
    target: str,
    runtime: RuntimeSpec,
    graphs: list[ExportGraph],
    exported: list[ExportResult],
    fields: Mapping[str, Any],
) -> Contract:
    """The contract of the exported graphs (parity, latency and checks are filled in after the gate)."""
    specs = [_tensor_specs(g, e) for g, e in zip(graphs, exported, strict=True)]
    first = exported[0]
    return Contract(
        model=request.model,
        family=family.name,
        output_kind=family.output_kind.value,
        target=target,
        backend=runtime.name,
        precision=request.precision,
        artifact=first.path.name,
        sha256=artifact_sha256(first.path),
        size_bytes=sum(_size(e.path) for e in exported),
        n_exposures=int(fields["n_exposures"]),
        inputs=specs[0][0],
        outputs=specs[0][1],
        graphs={
            g.name: GraphFile(e.path.name, artifact_sha256(e.path), *s)
            for g, e, s in zip(graphs[1:], exported[1:], specs[1:], strict=True)
        },
        preprocessing=dict(fields["preprocessing"]),
        postprocessing={**fields["postprocessing"], **first.extra_postprocessing},
        toolchain={"edgemef": _edgemef_version(), **first.toolchain},
        created=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def _runners(
    contract: Contract, graphs: list[ExportGraph], exported: list[ExportResult], runtime: RuntimeSpec
) -> tuple[dict[str, Runner], str]:
    """The exported graphs as runners: in their runtime here, else emulated by the runtime module."""
    if runtime.runs_here:
        runners: dict[str, Runner] = {graphs[0].name: open_backend(exported[0].path, contract)}
        for graph in graphs[1:]:
            runners[graph.name] = open_backend(*contract.graph(graph.name, exported[0].path.parent))
        return runners, f"run in {runtime.name}"
    module = importlib.import_module(runtime.module)
    emulated = {g.name: module.emulate(g.module, contract.precision) for g in graphs}
    return emulated, (
        f"emulated: PyTorch with {runtime.name}'s {contract.precision} numerics (the artifact needs "
        "macOS/iOS; it is checked by its spec)"
    )


def _latency(runner: Runner, graph: ExportGraph, what: str, runs: int) -> dict[str, object]:
    feed = graph.example_feed()
    runner.run(*feed)  # warm-up (allocations, XNNPACK packing)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        runner.run(*feed)
        times.append((time.perf_counter() - start) * 1000.0)
    return {
        "what": f"{what}, the artifact's runtime on this machine",
        "median_ms": round(statistics.median(times), 2),
        "runs": runs,
        "threads": available_threads(),
        "machine": _machine(),
    }


def _prepare(config: ConvertConfig) -> tuple[ModelFamily, Any, ExportRequest, Any, Any, Any]:
    """The family, exporter, request, resolved target and runtime, and the loaded model of a config."""
    model_name = config.model or default_model()
    family = resolve_family(model_name)
    options = family_options(family, config.options)
    target, runtime, precision = resolve_target(
        config.target, config.precision, config.runtime, family.default_precision
    )
    refusal = family.refusal(runtime.name, precision)
    if refusal is not None:
        raise ConversionError(f"{model_name} does not convert to {precision} for {runtime.name}: {refusal}")
    exporter = family.load_exporter()
    request = ExportRequest(
        model=model_name,
        precision=precision,
        runtime=runtime.name,
        runs_here=runtime.runs_here,
        n_exposures=config.n_exposures,
        weights=Path(config.weights) if config.weights is not None else None,
        options=options,
        calibration=config.calibration,
    )
    return family, exporter, request, target, runtime, exporter.load(request)


def artifact_path(config: ConvertConfig) -> Path:
    """Where :func:`convert` would write the artifact of ``config`` (nothing is exported)."""
    _, exporter, request, target, runtime, model = _prepare(config)
    out = Path(config.out) if config.out is not None else Path("dist") / target.name
    return out / f"{exporter.artifact_stem(model, request)}{runtime.suffix}"


def convert(config: ConvertConfig) -> ConversionResult:
    """Convert, verify and write one artifact (every graph of it) with its contract (module docstring).

    Raises:
        ConversionError: a bad target, runtime, precision, model or option, an exporter failure, or a
            failed parity gate (the message reports what diverged).
    """
    family, exporter, request, target, runtime, model = _prepare(config)
    model_name, precision, options = request.model, request.precision, request.options
    stem = exporter.artifact_stem(model, request)
    out = Path(config.out) if config.out is not None else Path("dist") / target.name
    claim_contract_slot(out, f"{stem}{runtime.suffix}")
    # CoreML's int8 is weight-only: nothing to observe
    graphs = exporter.graphs(model, request, calibrate=precision == "int8" and runtime.runs_here)
    out.mkdir(parents=True, exist_ok=True)
    module = importlib.import_module(runtime.module)
    described = ", ".join(f"{k} {v}" for k, v in options.items())
    _log(
        f"{model_name} -> {target.name}: {runtime.summary}, {precision} ({PRECISIONS[precision]})"
        f"{', ' + described if described else ''}; graphs: {', '.join(g.name for g in graphs)}"
    )
    with tempfile.TemporaryDirectory(dir=out, prefix=".convert-") as tmp:
        start = time.perf_counter()
        exported = []
        with exporter_errors(runtime):
            for index, graph in enumerate(graphs):
                path = Path(tmp) / graph_file_name(stem, graph, index == 0, runtime)
                exported.append(
                    module.export_graph(
                        graph.module,
                        graph.inputs,
                        graph.output_names,
                        path,
                        precision,
                        graph.calibration,
                        graph.hints,
                    )
                )
        size = sum(_size(e.path) for e in exported)
        _log(f"exported in {time.perf_counter() - start:.1f} s ({size / 1e6:.2f} MB)")
        contract = build_contract(
            family, request, target.name, runtime, graphs, exported, exporter.contract_fields(model, request)
        )
        candidate, how = _runners(contract, graphs, exported, runtime)
        reference = {g.name: TorchRunner(g.module) for g in graphs}
        result = exporter.parity(model, request, candidate, reference, PARITY_GATE_DB[precision])
        _log(f"parity ({how}): worst {result.min_psnr_db:.2f} dB, gate {PARITY_GATE_DB[precision]:.0f} dB")
        name = exported[0].path.name
        if not result.passed:
            raise ConversionError(f"{name} failed its parity gate, nothing written:\n{result.description}")
        parity = {**result.report, "how": how, "stacks_from": "calibration_data/parity (held out)"}
        latency = (
            _latency(candidate[graphs[0].name], graphs[0], exporter.latency_what, exporter.latency_runs)
            if runtime.runs_here
            else {"median_ms": None, "what": f"{runtime.name} runs on macOS/iOS only"}
        )
        checks = {g.name: e.report for g, e in zip(graphs, exported, strict=True)}
        contract = replace(contract, parity=parity, latency=latency, checks=checks)
        staged = contract.write(Path(tmp) / contract_path(exported[0].path).name)
        for item in exported[1:]:
            _install(item.path, out / item.path.name)
        destination = out / name
        _install(exported[0].path, destination)
        final_contract = out / staged.name
        os.replace(staged, final_contract)
    return ConversionResult(destination, final_contract, contract)
