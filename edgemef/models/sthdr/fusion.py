"""STHDR behind the registry's :class:`~edgemef.models.spec.FusionModel` interface of scene-linear models
(PyTorch): ``fuse(frames, exposure_times)`` -> linear radiance in units of the darkest frame's saturation.

The whole frame runs at once (its instance normalisation sees the whole image), padded by reflection to the
network's size multiple; a frame whose activations would not fit in the machine's memory is refused before
any work (the exported artifacts run in tiles instead: docs/models/sthdr.md#export). Default weights: the
shipped ``sthdr-3exp``; ``--weights FILE`` from ``edgemef train sthdr`` for others.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from edgemef.errors import BracketError, ImageTooLargeError
from edgemef.io.bracket import check_bracket_array, relative_times
from edgemef.models.sthdr.config import FRAMES
from edgemef.models.sthdr.network import network_input
from edgemef.models.sthdr.weights import load_sthdr
from edgemef.models.weights_file import WeightsError
from edgemef.weights import shipped_weights

#: peak memory of a whole-frame run per pixel and per channel of width (measured: 0.96 GB for 512x512 at 16
#: channels, about 230 bytes per pixel and channel)
BYTES_PER_PIXEL_AND_CHANNEL = 240


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class SthdrFusion:
    """Merge a 3-frame bracket (darkest first, the middle one the reference) into linear HDR.

    Args:
        weights: a ``.safetensors`` file from ``edgemef train sthdr``; default: the shipped weights.
    """

    name = "sthdr"

    def __init__(self, weights: str | Path | None = None) -> None:
        if weights is None:
            weights = shipped_weights(self.name, FRAMES)
            if not weights.exists():
                raise WeightsError("no shipped sthdr weights: pass --weights FILE from 'edgemef train sthdr'")
        self.model = load_sthdr(weights)

    def fuse(self, frames: np.ndarray, exposure_times: Sequence[float] | None = None) -> np.ndarray:
        """uint8 frames ``3 x H x W x 3`` -> float32 radiance ``H x W x 3`` in [0, 1]."""
        check_bracket_array(frames)
        if len(frames) != FRAMES:
            raise BracketError(f"sthdr merges {FRAMES} exposures (under, reference, over), got {len(frames)}")
        times = torch.from_numpy(relative_times(exposure_times, len(frames)))[None]
        height, width = frames.shape[1:3]
        needed = height * width * self.model.config.channels * BYTES_PER_PIXEL_AND_CHANNEL
        available = available_memory()
        if available is not None and needed > available:
            raise ImageTooLargeError(
                f"sthdr runs the whole {width}x{height} frame at once and would need about "
                f"{needed / 1e9:.1f} GB of memory ({available / 1e9:.1f} GB available); downscale the "
                "frames, or fuse with an exported artifact, which runs in tiles "
                "('edgemef convert --model sthdr')"
            )
        multiple = self.model.config.size_multiple
        pad_h, pad_w = (-height) % multiple, (-width) % multiple
        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div(255.0)
        if pad_h or pad_w:
            mode = "reflect" if pad_h < height and pad_w < width else "replicate"
            x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
        with torch.inference_mode():
            radiance = self.model(network_input(x[None], times))[-1][0, :, :height, :width]
        return np.ascontiguousarray(radiance.permute(1, 2, 0).numpy(), dtype=np.float32)
