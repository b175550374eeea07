"""IPL's export (authoring side, torch): its two tile graphs, contract fields and parity harness, for the
conversion loop of :mod:`converters.pipeline`.

IPL runs on devices as a per-tile network driven by the torch-free tiler and attention cache
(:mod:`edgemef.models.ipl.runtime`). Two graphs are exported for a fixed ``tile x tile`` input: the *full*
graph (frames -> image + packed attention weights) and the *replay* graph (frames + attention weights ->
image, the cache-hit path of the paper's attention cache). The contract names both, the tiling (tile, overlap,
halo, size multiple) and the cache's defaults; ``edgemef fuse --artifact`` and the apps read only it.

Precisions: fp32 (default), int8 (static post-training quantization observing every tile of
``calibration_data/calibration``; on iOS, CoreML's int8 weights), fp16 (iOS, its default).

The parity gate fuses the held-out ``calibration_data/parity`` brackets (a 384 x 512 crop, several tiles with
overlaps) through the runtime's tiler with the exported graphs and with PyTorch fp32, full and replay path,
and requires the PSNR of the fused images to clear the precision's gate. CoreML runs on macOS/iOS only: its
packages are checked by their spec, and the gate runs the same graphs in PyTorch with CoreML's numerics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from converters.calibration import Stack, load_stacks
from converters.graphs import (
    ExportGraph,
    ExportRequest,
    ParityResult,
    QuantizationHints,
    Runner,
    TensorInfo,
    fused_parity,
)
from edgemef.errors import ConversionError
from edgemef.metrics import psnr
from edgemef.models.ipl.graphs import FullTileGraph, ReplayTileGraph, attention_shape
from edgemef.models.ipl.network import IPL
from edgemef.models.ipl.runtime import (
    DEFAULT_BUDGET_BYTES,
    DEFAULT_THRESHOLD,
    BackendTileNetwork,
    TilingSettings,
    pad_to,
    tile_input,
)
from edgemef.models.ipl.weights import load_ipl
from edgemef.models.weights_file import WeightsError
from edgemef.runtime.cached_tiler import CachedTiler
from edgemef.weights import shipped_exposure_counts, shipped_weights

PARITY_CROP = (384, 512)
#: int8 calibration observes at most this many tiles (all 55 of calibration_data/ at 256x256)
MAX_CALIBRATION_TILES = 64
#: What int8 covers in onnxruntime: the convolutions and the 1x1 "convolutions" on pooled vectors (Gemm).
#: Quantizing every operator (the reshapes, transposes, sums and products of the attention and DRTM too)
#: measured 29.7 dB against fp32 on the parity tiles and ran slower in onnxruntime (QDQ pairs around cheap
#: operators); Conv and Gemm only: 35.5 dB.
INT8_OPS = QuantizationHints(op_types=("Conv", "Gemm"))

FRAMES_TEXT = (
    "one tile of the {n} exposures, darkest first; channels R, G, B of the darkest frame, then of the next; "
    "sRGB-encoded values / 255"
)
ATTENTION = TensorInfo(
    "attention",
    "N,block,channel,band",
    "every FIB's LFE attention weights: [0, block, channel, 0] channel chunks, [.., 1..nH] row bands, "
    "[.., nH+1..] column bands (edgemef.models.ipl.graphs)",
)
IMAGE = TensorInfo("image", "NCHW", "the fused tile, sRGB-encoded, clip to [0, 1]")


def calibration_feeds(
    model: IPL, stacks: list[Stack], tile: int
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


class IplExporter:
    """:class:`converters.graphs.FamilyExporter` of IPL: the full and the replay tile graph."""

    latency_what = "one full tile graph"
    latency_runs = 10

    def load(self, request: ExportRequest) -> IPL:
        path = request.weights or shipped_weights(request.model, request.n_exposures)
        if request.weights is None and not path.exists():
            shipped = ", ".join(map(str, shipped_exposure_counts(request.model))) or "none"
            raise ConversionError(
                f"{request.model} ships weights for {shipped}-exposure brackets, not {request.n_exposures}; "
                "pass --weights FILE from 'edgemef train ipl'"
            )
        try:
            model = load_ipl(path).eval()
        except WeightsError as exc:
            raise ConversionError(str(exc)) from None
        multiple = model.config.scale * model.config.chunk
        if int(request.options["tile"]) % multiple:
            raise ConversionError(f"--tile must be a multiple of {multiple}")
        return model

    def settings(self, model: IPL, request: ExportRequest) -> TilingSettings:
        return TilingSettings(tile=int(request.options["tile"]), scale=model.config.scale)

    def artifact_stem(self, model: IPL, request: ExportRequest) -> str:
        """``ipl-fp32-t256`` (3 exposures) or ``ipl-2exp-fp32-t256``."""
        n = model.config.n_exposures
        exposures = "" if n == 3 else f"-{n}exp"
        return f"{request.model}{exposures}-{request.precision}-t{request.options['tile']}"

    def graphs(self, model: IPL, request: ExportRequest, calibrate: bool) -> list[ExportGraph]:
        n, tile = model.config.n_exposures, int(request.options["tile"])
        frames_info = TensorInfo("frames", "NCHW", FRAMES_TEXT.format(n=n), (0.0, 1.0))
        frames = torch.rand(1, 3 * n, tile, tile)
        attention = torch.rand(attention_shape(model, tile))
        full_feeds: list[dict[str, np.ndarray]] = []
        replay_feeds: list[dict[str, np.ndarray]] = []
        if calibrate:
            full_feeds, replay_feeds = calibration_feeds(
                model, load_stacks("calibration", n, request.calibration), tile
            )
        return [
            ExportGraph(
                "full",
                FullTileGraph(model).eval(),
                {"frames": frames},
                (frames_info,),
                (IMAGE, ATTENTION),
                full_feeds,
                INT8_OPS,
            ),
            ExportGraph(
                "replay",
                ReplayTileGraph(model, tile).eval(),
                {"frames": frames, "attention": attention},
                (frames_info, ATTENTION),
                (IMAGE,),
                replay_feeds,
                INT8_OPS,
            ),
        ]

    def contract_fields(self, model: IPL, request: ExportRequest) -> dict[str, Any]:
        return {
            "n_exposures": model.config.n_exposures,
            "preprocessing": {
                "frame_order": "darkest to brightest (EXIF exposure time x ISO / f-number^2, else mean luma)",
                "input_encoding": "8-bit sRGB RGB frames; tiles as float32 = uint8 / 255",
                "padding": "the bracket is reflect-padded at the bottom/right to multiples of tiling.scale, "
                "and tiles of a smaller image to tile x tile",
            },
            "postprocessing": {
                "tiling": self.settings(model, request).to_dict(),
                "blending": "overlapping tiles, tiling.halo pixels discarded at inner edges, linear "
                "cross-fades (edgemef.runtime.tiling.run_tiled)",
                "cache": {
                    "threshold": DEFAULT_THRESHOLD,
                    "budget_bytes": DEFAULT_BUDGET_BYTES,
                    "key": "per tile: (frame size, tile index) and the tile's bracket area-pooled 8x8, "
                    "matched by the largest absolute difference (threshold 0: exact bytes)",
                    "modes": "output (reuse the int8 tile), attention (the replay graph with the int8 "
                    "attention weights), off",
                    "quantization": "asymmetric per-tensor int8, IPL eqs. 5-8 "
                    "(edgemef.runtime.attention_cache)",
                },
                "reference_implementation": "edgemef.models.ipl.runtime.IplArtifactFusion",
            },
        }

    def parity(
        self,
        model: IPL,
        request: ExportRequest,
        candidate: Mapping[str, Runner],
        reference: Mapping[str, Runner],
        gate_db: float,
    ) -> ParityResult:
        """Fused crops of the parity stacks through the tiler, exported graphs vs PyTorch: the full path
        (cache off) and the replay path (a second pass over the same bracket hits the attention cache on
        every tile)."""
        settings = self.settings(model, request)
        ours_network = BackendTileNetwork(candidate["full"], candidate["replay"])  # type: ignore[arg-type]
        theirs_network = BackendTileNetwork(reference["full"], reference["replay"])  # type: ignore[arg-type]
        rows = []
        for stack in load_stacks("parity", model.config.n_exposures, request.calibration):
            frames = np.ascontiguousarray(stack.frames[:, : PARITY_CROP[0], : PARITY_CROP[1]])
            n = len(frames)
            for path, mode in (("full", "off"), ("replay", "attention")):
                ours = CachedTiler(ours_network, n, settings, mode=mode)
                theirs = CachedTiler(theirs_network, n, settings, mode=mode)
                for _ in range(2 if mode == "attention" else 1):
                    fused_ours, fused_theirs = ours.fuse(frames), theirs.fuse(frames)
                rows.append(
                    {
                        "stack": stack.name,
                        "path": path,
                        "psnr_db": min(99.0, round(psnr(fused_ours, fused_theirs), 2)),
                    }
                )
        return fused_parity(
            rows,
            gate_db,
            "PyTorch fp32 tile graphs, same tiler",
            f"fused {PARITY_CROP[0]}x{PARITY_CROP[1]} crops through the tiler, runtime vs PyTorch",
        )


EXPORTER = IplExporter()
