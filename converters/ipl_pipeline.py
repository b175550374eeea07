"""``edgemef convert --model ipl``: IPL's two tile graphs -> a target's runtime -> parity gate -> contract.

IPL runs on devices as a per-tile network driven by the torch-free tiler and attention cache
(:mod:`edgemef.runtime.ipl`). Two graphs are exported for a fixed ``tile x tile`` input: the *full* graph
(frames -> image + packed attention weights) and the *replay* graph (frames + attention weights -> image,
the cache-hit path of the paper's attention cache). The contract names both, the tiling (tile, overlap,
halo, size multiple) and the cache's defaults; ``edgemef fuse --artifact`` and the apps read only it.

Precisions: fp32 (default), int8 (static post-training quantization observing every tile of
``calibration_data/calibration``; on iOS, CoreML's int8 weights), fp16 (iOS, its default).

The parity gate fuses the held-out ``calibration_data/parity`` brackets (a 384 x 512 crop, several tiles with
overlaps) through the runtime's tiler with the exported graphs and with PyTorch fp32, full and replay path,
and requires the PSNR of the fused images to clear the precision's gate. CoreML runs on macOS/iOS only: its
packages are checked by their spec, and the gate runs the same graphs in PyTorch with CoreML's numerics.
"""

from __future__ import annotations

import importlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from converters.base import ExportResult
from converters.calibration import load_stacks
from converters.capabilities import PARITY_GATE_DB, TargetSpec
from converters.pipeline import (
    ConvertConfig,
    _edgemef_version,
    _install,
    _machine,
    _size,
    claim_contract_slot,
    exporter_errors,
)
from edgemef.errors import ConversionError
from edgemef.metrics import psnr
from edgemef.models.ipl.fusion import TorchTileNetwork
from edgemef.models.ipl.graphs import (
    FULL_OUTPUTS,
    REPLAY_OUTPUTS,
    FullTileGraph,
    ReplayTileGraph,
    attention_shape,
)
from edgemef.models.ipl.network import IPL
from edgemef.models.ipl.weights import load_ipl
from edgemef.models.weights_file import WeightsError
from edgemef.runtime.backends import open_backend
from edgemef.runtime.contract import Contract, TensorSpec, artifact_sha256
from edgemef.runtime.ipl import (
    DEFAULT_BUDGET_BYTES,
    DEFAULT_THRESHOLD,
    BackendTileNetwork,
    IplTiler,
    TilingSettings,
    pad_to,
    replay_contract,
    tile_input,
)
from edgemef.weights import shipped_exposure_counts, shipped_weights

#: IPL's precision when none is asked for: fp32 (int8 tile graphs are no faster on a CPU, see the README),
#: fp16 on iOS (CoreML's own default).
DEFAULT_PRECISION = {"ios": "fp16"}
PARITY_CROP = (384, 512)
#: int8 calibration observes at most this many tiles (all 55 of calibration_data/ at 256x256)
MAX_CALIBRATION_TILES = 64
LATENCY_RUNS = 10


def ipl_artifact_name(precision: str, tile: int, spec: TargetSpec, n_exposures: int = 3) -> str:
    """``ipl-fp32-t256.onnx`` (3 exposures) or ``ipl-2exp-fp32-t256.onnx``."""
    exposures = "" if n_exposures == 3 else f"-{n_exposures}exp"
    return f"ipl{exposures}-{precision}-t{tile}{spec.suffix}"


def replay_name(name: str, spec: TargetSpec) -> str:
    return name[: -len(spec.suffix)] + ".replay" + spec.suffix


def load_ipl_weights(weights: Path | None, n_exposures: int) -> IPL:
    path = Path(weights) if weights is not None else shipped_weights("ipl", n_exposures)
    if weights is None and not path.exists():
        shipped = ", ".join(map(str, shipped_exposure_counts("ipl"))) or "none"
        raise ConversionError(
            f"ipl ships weights for {shipped}-exposure brackets, not {n_exposures}; pass --weights FILE from "
            "'edgemef train ipl'"
        )
    try:
        return load_ipl(path)
    except WeightsError as exc:
        raise ConversionError(str(exc)) from None


def _spec(name: str, shape: tuple[int, ...], runtime_name: str, index: int, description: str) -> TensorSpec:
    return TensorSpec(
        name, shape, "float32", "NCHW" if len(shape) == 4 else "N,...", description, runtime_name, index
    )


def _tensor_specs(
    model: IPL, tile: int, full: ExportResult, replay: ExportResult
) -> dict[str, tuple[TensorSpec, ...]]:
    n = model.config.n_exposures
    frames = (1, 3 * n, tile, tile)
    packed = attention_shape(model, tile)
    frames_text = (
        f"one tile of the {n} exposures, darkest first; channels R, G, B of the darkest frame, then of the "
        "next; sRGB-encoded values / 255"
    )
    attention_text = (
        "every FIB's LFE attention weights: [0, block, channel, 0] channel chunks, [.., 1..nH] row bands, "
        "[.., nH+1..] column bands (edgemef.models.ipl.graphs)"
    )
    image_text = "the fused tile, sRGB-encoded, clip to [0, 1]"
    return {
        "full_inputs": (_spec("frames", frames, full.input_names[0], 0, frames_text),),
        "full_outputs": (
            _spec("image", (1, 3, tile, tile), full.output_names[0], 0, image_text),
            _spec("attention", packed, full.output_names[1], 1, attention_text),
        ),
        "replay_inputs": (
            _spec("frames", frames, replay.input_names[0], 0, frames_text),
            _spec("attention", packed, replay.input_names[1], 1, attention_text),
        ),
        "replay_outputs": (_spec("image", (1, 3, tile, tile), replay.output_names[0], 0, image_text),),
    }


def ipl_contract(
    spec: TargetSpec,
    precision: str,
    model: IPL,
    settings: TilingSettings,
    full: ExportResult,
    replay: ExportResult,
) -> Contract:
    specs = _tensor_specs(model, settings.tile, full, replay)
    return Contract(
        model="ipl",
        family="ipl",
        target=spec.name,
        backend=spec.backend,
        precision=precision,
        artifact=full.path.name,
        sha256=artifact_sha256(full.path),
        size_bytes=_size(full.path) + _size(replay.path),
        n_exposures=model.config.n_exposures,
        grid_size=0,
        inputs=specs["full_inputs"],
        outputs=specs["full_outputs"],
        preprocessing={
            "frame_order": "darkest to brightest (EXIF exposure time x ISO / f-number^2, else mean luma)",
            "input_encoding": "8-bit sRGB RGB frames; tiles as float32 = uint8 / 255",
            "padding": "the bracket is reflect-padded at the bottom/right to multiples of tiling.scale, and "
            "tiles of a smaller image to tile x tile",
        },
        postprocessing={
            "tiling": settings.to_dict(),
            "blending": "overlapping tiles, tiling.halo pixels discarded at inner edges, linear cross-fades "
            "(edgemef.runtime.tiling.run_tiled)",
            "cache": {
                "threshold": DEFAULT_THRESHOLD,
                "budget_bytes": DEFAULT_BUDGET_BYTES,
                "key": "per tile: (frame size, tile index) and the tile's bracket area-pooled 8x8, matched "
                "by "
                "the largest absolute difference (threshold 0: exact bytes)",
                "modes": "output (reuse the int8 tile), attention (replay graph with the int8 attention "
                "weights), off",
                "quantization": "asymmetric per-tensor int8, IPL eqs. 5-8 (edgemef.runtime.attention_cache)",
            },
            "replay": {
                "artifact": replay.path.name,
                "sha256": artifact_sha256(replay.path),
                "inputs": [asdict(s) for s in specs["replay_inputs"]],
                "outputs": [asdict(s) for s in specs["replay_outputs"]],
            },
            "reference_implementation": "edgemef.runtime.ipl.IplArtifactFusion",
            **full.extra_postprocessing,
        },
        toolchain={"edgemef": _edgemef_version(), **full.toolchain},
        created=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def calibration_feeds(
    model: IPL, stacks: list, tile: int
) -> tuple[list[dict[str, np.ndarray]], list[dict[str, np.ndarray]]]:
    """What int8 quantization observes: the ``tile x tile`` windows (half-tile stride) of the calibration
    brackets, at most :data:`MAX_CALIBRATION_TILES` of them evenly spread, as the full graph's feeds and, with
    the attention weights PyTorch computes for them, the replay graph's."""
    windows = []
    step = tile // 2
    for stack in stacks:
        height, width = stack.frames.shape[1:3]
        for top in range(0, max(height - tile, 0) + 1, step):
            for left in range(0, max(width - tile, 0) + 1, step):
                windows.append(stack.frames[:, top : top + tile, left : left + tile])
    if len(windows) > MAX_CALIBRATION_TILES:
        picks = np.linspace(0, len(windows) - 1, MAX_CALIBRATION_TILES).round().astype(int)
        windows = [windows[i] for i in picks]
    full, replay = [], []
    graph = FullTileGraph(model).eval()
    for window in windows:
        x = tile_input(pad_to(window, max(tile, window.shape[1]), max(tile, window.shape[2])))
        with torch.no_grad():
            attention = graph(torch.from_numpy(x))["attention"].numpy()
        full.append({"frames": x})
        replay.append({"frames": x, "attention": attention})
    return full, replay


def _parity(
    exported: BackendTileNetwork | TorchTileNetwork,
    reference: TorchTileNetwork,
    settings: TilingSettings,
    stacks: list,
    gate_db: float,
) -> dict[str, object]:
    """Fused crops of the parity stacks through the tiler, exported graphs vs PyTorch: the full path (cache
    off) and the replay path (a second pass over the same bracket hits the attention cache on every tile)."""
    rows = []
    for stack in stacks:
        frames = np.ascontiguousarray(stack.frames[:, : PARITY_CROP[0], : PARITY_CROP[1]])
        n = len(frames)
        for path, mode in (("full", "off"), ("replay", "attention")):
            ours = IplTiler(exported, n, settings, mode=mode)
            theirs = IplTiler(reference, n, settings, mode=mode)
            for _ in range(2 if mode == "attention" else 1):
                fused_ours, fused_theirs = ours.fuse(frames), theirs.fuse(frames)
            rows.append(
                {
                    "stack": stack.name,
                    "path": path,
                    "psnr_db": min(99.0, round(psnr(fused_ours, fused_theirs), 2)),
                }
            )
    worst = min(float(r["psnr_db"]) for r in rows)
    return {
        "gate_db": gate_db,
        "min_psnr_db": worst,
        "passed": worst >= gate_db,
        "stacks": rows,
        "what": f"fused {PARITY_CROP[0]}x{PARITY_CROP[1]} crops through the tiler, runtime vs PyTorch",
    }


def _latency(network: BackendTileNetwork | TorchTileNetwork, model: IPL, tile: int) -> dict[str, object]:
    x = np.random.default_rng(0).random((1, 3 * model.config.n_exposures, tile, tile), dtype=np.float32)
    network.full(x)
    times = []
    for _ in range(LATENCY_RUNS):
        start = time.perf_counter()
        network.full(x)
        times.append((time.perf_counter() - start) * 1000.0)
    return {
        "what": f"one full tile graph ({tile}x{tile}), the artifact's runtime on this machine",
        "median_ms": round(statistics.median(times), 2),
        "runs": LATENCY_RUNS,
        "threads": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "machine": _machine(),
    }


def convert_ipl(
    config: ConvertConfig, spec: TargetSpec, precision: str | None, log: Callable[[str], None]
) -> tuple[Path, Path, Contract]:
    """Convert, verify and write IPL's tile graphs for ``spec`` (see the module docstring); ``precision``
    None: :data:`DEFAULT_PRECISION`."""
    precision = precision or DEFAULT_PRECISION.get(spec.name, "fp32")
    if precision not in spec.precisions:
        raise ConversionError(
            f"target {spec.name} does not take precision {precision!r}; "
            f"it takes: {', '.join(spec.precisions)}"
        )
    model = load_ipl_weights(config.weights, config.n_exposures).eval()
    settings = TilingSettings(tile=config.tile, scale=model.config.scale)
    if settings.tile % (model.config.scale * model.config.chunk):
        raise ConversionError(f"--tile must be a multiple of {model.config.scale * model.config.chunk}")
    n = model.config.n_exposures
    stacks = load_stacks("parity", n, config.calibration)
    out = Path(config.out) if config.out is not None else Path("dist") / spec.name
    out.mkdir(parents=True, exist_ok=True)
    target = importlib.import_module(spec.module)
    name = ipl_artifact_name(precision, settings.tile, spec, n)
    claim_contract_slot(out, name)
    frames = torch.rand(1, 3 * n, settings.tile, settings.tile)
    attention = torch.rand(attention_shape(model, settings.tile))
    log(f"ipl -> {spec.summary}, {precision}, tiles {settings.tile}x{settings.tile} (full + replay graphs)")
    full_feeds: list[dict[str, np.ndarray]] = []
    replay_feeds: list[dict[str, np.ndarray]] = []
    if precision == "int8" and spec.runs_here:  # CoreML's int8 is weight-only: nothing to observe
        full_feeds, replay_feeds = calibration_feeds(
            model, load_stacks("calibration", n, config.calibration), settings.tile
        )
        log(f"int8 calibration: {len(full_feeds)} tiles of calibration_data/calibration")
    with tempfile.TemporaryDirectory(dir=out, prefix=".convert-") as tmp:
        start = time.perf_counter()
        with exporter_errors(spec):
            full = target.export_graph(
                FullTileGraph(model),
                {"frames": frames},
                FULL_OUTPUTS,
                Path(tmp) / name,
                precision,
                full_feeds,
            )
            replay = target.export_graph(
                ReplayTileGraph(model, settings.tile),
                {"frames": frames, "attention": attention},
                REPLAY_OUTPUTS,
                Path(tmp) / replay_name(name, spec),
                precision,
                replay_feeds,
            )
        log(f"exported in {time.perf_counter() - start:.1f} s")
        contract = ipl_contract(spec, precision, model, settings, full, replay)
        replay_file, replay_view = replay_contract(contract, Path(tmp)) or (replay.path, contract)
        network: BackendTileNetwork | TorchTileNetwork
        if spec.runs_here:
            network = BackendTileNetwork(
                open_backend(full.path, contract), open_backend(replay_file, replay_view)
            )
            how = f"run in {spec.backend}"
        else:  # CoreML runs on macOS/iOS only: its numerics in PyTorch, the package checked by its spec
            from converters.coreml_target import coreml_numerics

            network = TorchTileNetwork(*coreml_numerics(model, precision))
            how = f"emulated: PyTorch with CoreML's {precision} numerics (the package is checked by its spec)"
        parity = _parity(network, TorchTileNetwork(model), settings, stacks, PARITY_GATE_DB[precision])
        log(f"parity ({how}): worst {parity['min_psnr_db']:.2f} dB, gate {parity['gate_db']:.0f} dB")
        if not parity["passed"]:
            raise ConversionError(f"{name} failed its parity gate, nothing written: {parity['stacks']}")
        parity["how"] = how
        parity["stacks_from"] = "calibration_data/parity (held out)"
        contract = replace(
            contract,
            parity=parity,
            latency=_latency(network, model, settings.tile)
            if spec.runs_here
            else {"median_ms": None, "what": "CoreML runs on macOS/iOS only"},
            checks={"full": full.report, "replay": replay.report},
        )
        staged = contract.write(Path(tmp) / (Path(name).stem + ".json"))
        _install(replay.path, out / replay.path.name)
        _install(full.path, out / name)
        final_contract = out / staged.name
        os.replace(staged, final_contract)
    return out / name, final_contract, contract
