"""STHDR's export (authoring side, torch): its tile graph, its HDR output contract and its parity harness,
for the conversion loop of :mod:`converters.pipeline`.

STHDR runs on devices as one tile graph, ``frames (1 x 18 x T x T) -> image (1 x 3 x T x T)``: the input
is the paper's ``X_i = concat(I_i, I_i**2.2 / t_i)`` of the three frames (eq. 1-2, built by the runtime from
the frames and their exposure times, :func:`edgemef.models.sthdr.runtime.network_input`), the output the
finest scale's linear HDR tile (eq. 3), driven by the torch-free tiler of
:class:`~edgemef.models.sthdr.runtime.SthdrArtifactFusion`.

The deformable convolutions sample with one ``grid_sample`` for ONNX Runtime, ExecuTorch and CoreML (native
resampling ops) and with tap-by-tap row gathers for LiteRT (it lowers ``grid_sample`` to gathers over the
whole sampling grid: 1.1 s instead of 0.07 s for a 128-pixel tile here; ExecuTorch's lowering of the
gathers' many constants takes minutes: :mod:`edgemef.models.layers.deform`).

Parity: the held-out ``calibration_data/parity`` brackets (their exposure values are in the file names)
fused through the tiler with the exported graph and with PyTorch fp32; the gate is on PSNR-mu (the mu-law
tonemapped radiance, mu = 5000), the metric HDR reconstruction is scored by.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from converters.calibration import DEFAULT_CALIBRATION_DIR, load_stacks, pick_exposures
from converters.graphs import ExportGraph, ExportRequest, ParityResult, Runner, TensorInfo, fused_parity
from edgemef.errors import ConversionError
from edgemef.metrics import psnr_mu
from edgemef.models.layers.deform import DeformableConv2d
from edgemef.models.sthdr.config import FRAMES, GAMMA
from edgemef.models.sthdr.network import Sthdr
from edgemef.models.sthdr.runtime import CHANNELS, fuse_tiled, network_input, sthdr_tiling
from edgemef.models.sthdr.weights import load_sthdr
from edgemef.models.weights_file import WeightsError
from edgemef.runtime.cached_tiler import TilingSettings, pad_to
from edgemef.weights import shipped_weights

#: the parity crop, at most three tiles a side (CoreML's parity runs PyTorch in fp16, slow on a CPU)
PARITY_CROP = (384, 512)
#: int8 calibration observes at most this many tiles, evenly spread over the calibration brackets
MAX_CALIBRATION_TILES = 24
#: runtimes whose exports sample the deformable convolutions by row gathers (the others by grid_sample)
GATHER_SAMPLING = ("litert",)

FRAMES_INFO = (
    "one tile of the network input X of the paper's eq. 2, darkest frame first: per frame the channels R, G, "
    "B of I = v / 255 (8-bit sRGB code values v), then of H = I**2.2 / t (t: exposure time relative to the "
    "darkest frame)"
)
IMAGE = TensorInfo(
    "image",
    "NCHW",
    "the tile's linear HDR radiance (scene-referred, RGB, in [0, 1]; 1 is the darkest frame's saturation)",
)
_EV = re.compile(r"_ev([+-]?\d+(?:\.\d+)?)\.", re.IGNORECASE)


class TileGraph(nn.Module):
    """``frames (1 x 18 x T x T) -> {"image": 1 x 3 x T x T}``: the network's finest scale on one tile."""

    def __init__(self, model: Sthdr) -> None:
        super().__init__()
        self.model = model

    def forward(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        x = frames.reshape(frames.shape[0], FRAMES, 6, frames.shape[-2], frames.shape[-1])
        return {"image": self.model(x)[-1]}


def tiling(model: Sthdr, tile: int) -> TilingSettings:
    """The tiling of ``tile``-pixel tiles (:func:`~edgemef.models.sthdr.runtime.sthdr_tiling`)."""
    multiple = model.config.size_multiple
    if tile % multiple or tile < 4 * multiple:
        raise ConversionError(
            f"--tile {tile}: STHDR's tiles must be a multiple of {multiple} (its scales and U-Nets halve the "
            f"tile {multiple.bit_length() - 1} times) and at least {4 * multiple}"
        )
    return sthdr_tiling(tile, multiple)


def stack_times(subset: str, name: str, root: Path | None) -> np.ndarray:
    """The relative exposure times of a calibration or parity bracket's 3 picked frames, from the EV in
    its file names (``0_ev-2.jpg``)."""
    folder = (Path(root) if root is not None else DEFAULT_CALIBRATION_DIR) / subset / name
    values = []
    for path in sorted(folder.iterdir()):
        match = _EV.search(path.name)
        if match is None:
            raise ConversionError(
                f"{path}: STHDR's calibration needs the EV in the file name (like 0_ev-2.jpg)"
            )
        values.append(float(match.group(1)))
    evs = sorted(values)
    picked = [evs[i] for i in pick_exposures(len(evs), FRAMES)]
    return np.exp2(np.asarray(picked) - picked[0]).astype(np.float32)


def calibration_feeds(request: ExportRequest, tile: int) -> list[dict[str, np.ndarray]]:
    """The ``tile x tile`` windows (half-tile stride) of the calibration brackets with their exposure
    times, at most :data:`MAX_CALIBRATION_TILES`, evenly spread."""
    feeds = []
    for stack in load_stacks("calibration", FRAMES, request.calibration):
        times = stack_times("calibration", stack.name, request.calibration)
        height, width = stack.frames.shape[1:3]
        for top in range(0, max(height - tile, 0) + 1, tile // 2):
            for left in range(0, max(width - tile, 0) + 1, tile // 2):
                window = pad_to(stack.frames[:, top : top + tile, left : left + tile], tile, tile)
                feeds.append({"frames": network_input(window, times)})
    if len(feeds) > MAX_CALIBRATION_TILES:
        picks = np.linspace(0, len(feeds) - 1, MAX_CALIBRATION_TILES).round().astype(int)
        feeds = [feeds[i] for i in picks]
    return feeds


class SthdrExporter:
    """:class:`converters.graphs.FamilyExporter` of STHDR: one tile graph with linear HDR out."""

    latency_what = "one tile graph"
    latency_runs = 5

    def load(self, request: ExportRequest) -> Sthdr:
        path = request.weights or shipped_weights(request.model, FRAMES)
        try:
            model = load_sthdr(path).eval().requires_grad_(False)
        except WeightsError as exc:
            raise ConversionError(str(exc)) from None
        tiling(model, int(request.options["tile"]))  # a bad tile fails before any export
        sampling = "gather" if request.runtime in GATHER_SAMPLING else "grid_sample"
        for module in model.modules():
            if isinstance(module, DeformableConv2d):
                module.sampling = sampling
        return model

    def settings(self, model: Sthdr, request: ExportRequest) -> TilingSettings:
        return tiling(model, int(request.options["tile"]))

    def artifact_stem(self, model: Sthdr, request: ExportRequest) -> str:
        """``sthdr-fp32-t512``."""
        return f"{request.model}-{request.precision}-t{request.options['tile']}"

    def graphs(self, model: Sthdr, request: ExportRequest, calibrate: bool) -> list[ExportGraph]:
        tile = int(request.options["tile"])
        feeds = calibration_feeds(request, tile) if calibrate else []
        example = torch.rand(1, CHANNELS, tile, tile)
        return [
            ExportGraph(
                "tile",
                TileGraph(model).eval(),
                {"frames": example},
                (TensorInfo("frames", "NCHW", FRAMES_INFO, (0.0, 1.0)),),
                (IMAGE,),
                feeds,
            )
        ]

    def contract_fields(self, model: Sthdr, request: ExportRequest) -> dict[str, Any]:
        return {
            "n_exposures": FRAMES,
            "preprocessing": {
                "frame_order": "darkest to brightest (EXIF exposure time x ISO / f-number^2, else mean "
                "luma); the middle frame is the reference whose geometry the result keeps",
                "exposure_times": "each frame's exposure time relative to the darkest frame's (EXIF, or "
                "2**EV); required",
                "input_encoding": f"8-bit sRGB RGB frames; per frame I = v / 255 and H = I**{GAMMA} / t "
                "(the camera response inverted by gamma 2.2, divided by the relative exposure time), "
                "float32, 6 channels per frame in that order",
                "padding": "tiles of an image smaller than the tile are reflect-padded at the bottom/right "
                "to tile x tile",
            },
            "postprocessing": {
                "output": "scene-linear radiance, RGB float32 in [0, 1], 1 = the darkest frame's "
                "saturation; write it as .hdr/.exr or tonemap it for display",
                "tiling": self.settings(model, request).to_dict(),
                "blending": "overlapping tiles, tiling.halo pixels discarded at inner edges, linear "
                "cross-fades over the rest of the overlap, in linear radiance "
                "(edgemef.runtime.tiling.run_tiled)",
                "reference_implementation": "edgemef.models.sthdr.runtime.SthdrArtifactFusion",
            },
        }

    def parity(
        self,
        model: Sthdr,
        request: ExportRequest,
        candidate: Mapping[str, Runner],
        reference: Mapping[str, Runner],
        gate_db: float,
    ) -> ParityResult:
        """Radiance of crops of the parity brackets through the tiler, exported graph vs PyTorch, in
        PSNR-mu."""
        settings = self.settings(model, request)
        height, width = (min(side, 3 * settings.tile) for side in PARITY_CROP)
        rows = []
        for stack in load_stacks("parity", FRAMES, request.calibration):
            times = stack_times("parity", stack.name, request.calibration)
            frames = np.ascontiguousarray(stack.frames[:, :height, :width])
            ours = fuse_tiled(candidate["tile"], settings, frames, times)[0]  # type: ignore[arg-type]
            theirs = fuse_tiled(reference["tile"], settings, frames, times)[0]  # type: ignore[arg-type]
            rows.append({"stack": stack.name, "psnr_db": min(99.0, round(psnr_mu(ours, theirs), 2))})
        return fused_parity(
            rows,
            gate_db,
            "PyTorch fp32 tile graph, same tiler",
            f"radiance of {height}x{width} crops through the tiler, runtime vs PyTorch, "
            "PSNR-mu (mu-law tonemapped, mu 5000)",
        )


EXPORTER = SthdrExporter()
