"""CRMEF's export (authoring side, torch): its tile graph, contract fields and parity harness, for the
conversion loop of :mod:`converters.pipeline`.

CRMEF runs on devices as one fully convolutional tile graph, ``frames (1 x 6 x T x T) -> image
(1 x 3 x T x T)``, driven by the torch-free tiler (:mod:`edgemef.models.crmef.runtime`): tiles overlap by
``2 * halo + FADE`` pixels, where ``halo`` is the network's receptive field radius
(:func:`edgemef.models.crmef.network.receptive_radius`), so the tiled result equals the whole-image one
away from the image border. The general (registered) network exports; the misaligned one is refused with
the reason (its ``grid_sample`` lowering is too slow in LiteRT, docs/models/crmef.md; with bounded offsets
its receptive field is bounded too, so tiling would hold).

Precisions: fp32 and int8 (static post-training quantization observing the tiles of
``calibration_data/calibration``'s darkest and brightest frames); fp16 on iOS.

The parity gate fuses the held-out ``calibration_data/parity`` pairs (a 384 x 512 crop, several tiles with
overlaps) through the runtime's tiler with the exported graph and with PyTorch fp32, and requires the PSNR of
the fused images to clear the precision's gate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from converters.calibration import load_stacks
from converters.graphs import ExportGraph, ExportRequest, ParityResult, Runner, TensorInfo, fused_parity
from edgemef.errors import ConversionError
from edgemef.metrics import psnr
from edgemef.models.crmef.network import Crmef, receptive_radius
from edgemef.models.crmef.runtime import BackendTileGraph, pair_of
from edgemef.models.crmef.weights import load_crmef
from edgemef.models.weights_file import WeightsError
from edgemef.runtime.cached_tiler import CachedTiler, TilingSettings, pad_to, tile_input
from edgemef.weights import shipped_weights

PARITY_CROP = (384, 512)
#: pixels over which neighbouring tiles cross-fade, beyond the halos they discard
FADE = 16
#: int8 calibration observes at most this many tiles, evenly spread over the calibration pairs
MAX_CALIBRATION_TILES = 48

FRAMES = (
    "one tile of the darkest and the brightest frame; channels R, G, B of the darkest, then of the "
    "brightest; sRGB-encoded values / 255"
)
IMAGE = TensorInfo("image", "NCHW", "the fused tile, sRGB-encoded, in [0, 1]")


class TileGraph(nn.Module):
    """``frames (1 x 6 x T x T) -> {"image": 1 x 3 x T x T}``: the network on one tile (eval: clamped)."""

    def __init__(self, model: Crmef) -> None:
        super().__init__()
        self.model = model

    def forward(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"image": self.model(frames)}


def tiling(model: Crmef, tile: int) -> TilingSettings:
    """Tiles of ``tile`` pixels whose discarded halo is the network's receptive field radius."""
    halo = receptive_radius(model)
    overlap = 2 * halo + FADE
    if tile <= 2 * overlap:
        raise ConversionError(
            f"--tile {tile} is too small for this network: its receptive field radius is {halo} pixels, "
            f"so tiles overlap by {overlap}; use at least {2 * overlap + 32}"
        )
    return TilingSettings(tile=tile, overlap=overlap, halo=halo, scale=model.config.size_multiple)


def calibration_feeds(model: Crmef, request: ExportRequest, tile: int) -> list[dict[str, np.ndarray]]:
    """The ``tile x tile`` windows (half-tile stride) of the calibration pairs, at most
    :data:`MAX_CALIBRATION_TILES`, evenly spread."""
    windows = []
    for stack in load_stacks("calibration", 2, request.calibration):
        height, width = stack.frames.shape[1:3]
        for top in range(0, max(height - tile, 0) + 1, tile // 2):
            for left in range(0, max(width - tile, 0) + 1, tile // 2):
                window = stack.frames[:, top : top + tile, left : left + tile]
                windows.append(pad_to(window, tile, tile))
    if len(windows) > MAX_CALIBRATION_TILES:
        picks = np.linspace(0, len(windows) - 1, MAX_CALIBRATION_TILES).round().astype(int)
        windows = [windows[i] for i in picks]
    return [{"frames": tile_input(window)} for window in windows]


class CrmefExporter:
    """:class:`converters.graphs.FamilyExporter` of CRMEF: one tile graph."""

    latency_what = "one tile graph"
    latency_runs = 10

    def load(self, request: ExportRequest) -> Crmef:
        path = request.weights or shipped_weights(request.model, 2)  # any bracket: its extremes are fused
        try:
            model = load_crmef(path).eval()
        except WeightsError as exc:
            raise ConversionError(str(exc)) from None
        if model.config.misaligned:
            raise ConversionError(
                f"{path}: the misaligned CRMEF does not export yet (its deformable layers' grid_sample "
                "is lowered by LiteRT to gathers over the whole sampling grid, seconds and gigabytes per "
                "tile, and its int8 and tiled parity are not established); convert a general (registered) "
                "network, or fuse with --model crmef --weights in PyTorch"
            )
        tiling(model, int(request.options["tile"]))  # a tile too small fails before any export
        return model

    def settings(self, model: Crmef, request: ExportRequest) -> TilingSettings:
        return tiling(model, int(request.options["tile"]))

    def artifact_stem(self, model: Crmef, request: ExportRequest) -> str:
        """``crmef-int8-t256``."""
        return f"{request.model}-{request.precision}-t{request.options['tile']}"

    def graphs(self, model: Crmef, request: ExportRequest, calibrate: bool) -> list[ExportGraph]:
        tile = int(request.options["tile"])
        feeds = calibration_feeds(model, request, tile) if calibrate else []
        return [
            ExportGraph(
                "tile",
                TileGraph(model).eval(),
                {"frames": torch.rand(1, 6, tile, tile)},
                (TensorInfo("frames", "NCHW", FRAMES, (0.0, 1.0)),),
                (IMAGE,),
                feeds,
            )
        ]

    def contract_fields(self, model: Crmef, request: ExportRequest) -> dict[str, Any]:
        return {
            "n_exposures": 2,
            "preprocessing": {
                "frame_order": "darkest to brightest (EXIF exposure time x ISO / f-number^2, else mean luma)",
                "frame_selection": "the darkest and the brightest frame of a bracket of 2 or more (the pair "
                "with the largest exposure ratio)",
                "input_encoding": "8-bit sRGB RGB frames; tiles as float32 = uint8 / 255",
                "padding": "tiles of an image smaller than the tile are reflect-padded at the bottom/right "
                "to tile x tile",
            },
            "postprocessing": {
                "tiling": self.settings(model, request).to_dict(),
                "blending": "overlapping tiles, tiling.halo pixels (the receptive field radius) discarded at "
                "inner edges, linear cross-fades over the rest of the overlap "
                "(edgemef.runtime.tiling.run_tiled)",
                "reference_implementation": "edgemef.models.crmef.runtime.CrmefArtifactFusion",
            },
        }

    def parity(
        self,
        model: Crmef,
        request: ExportRequest,
        candidate: Mapping[str, Runner],
        reference: Mapping[str, Runner],
        gate_db: float,
    ) -> ParityResult:
        """Fused crops of the parity pairs through the tiler, exported graph vs PyTorch."""
        settings = self.settings(model, request)
        ours = CachedTiler(BackendTileGraph(candidate["tile"]), 2, settings, mode="off")  # type: ignore[arg-type]
        theirs = CachedTiler(BackendTileGraph(reference["tile"]), 2, settings, mode="off")  # type: ignore[arg-type]
        rows = []
        for stack in load_stacks("parity", 2, request.calibration):
            frames = pair_of(np.ascontiguousarray(stack.frames[:, : PARITY_CROP[0], : PARITY_CROP[1]]))
            value = psnr(ours.fuse(frames), theirs.fuse(frames))
            rows.append({"stack": stack.name, "psnr_db": min(99.0, round(value, 2))})
        return fused_parity(
            rows,
            gate_db,
            "PyTorch fp32 tile graph, same tiler",
            f"fused {PARITY_CROP[0]}x{PARITY_CROP[1]} crops through the tiler, runtime vs PyTorch",
        )


EXPORTER = CrmefExporter()
