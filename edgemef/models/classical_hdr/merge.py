"""The classical HDR baseline: Debevec and Malik, "Recovering High Dynamic Range Radiance Maps from
Photographs" (SIGGRAPH 1997), via OpenCV's ``createMergeDebevec``: per pixel, the weighted mean over frames of
``f^-1(Z) / t`` in the log domain, with triangle weights that trust mid-tones and ignore clipped codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edgemef.io.bracket import check_bracket_array, relative_times


@dataclass(frozen=True)
class DebevecConfig:
    """The camera response the merge inverts: ``f^-1(Z) = (Z / 255)**gamma`` (the STHDR paper's eq. 1 uses
    gamma 2.2); a calibrated curve (``cv2.createCalibrateDebevec``) can replace it as ``response``: 256
    linear values per code, increasing."""

    gamma: float = 2.2
    response: tuple[float, ...] | None = None

    def curve(self) -> np.ndarray:
        """The inverse response as OpenCV wants it: float32 ``256 x 1 x 3``."""
        if self.response is not None:
            values = np.asarray(self.response, dtype=np.float32)
            if values.shape != (256,) or not np.all(np.diff(values) >= 0) or values[-1] <= 0:
                raise ValueError("response must hold 256 non-decreasing linear values, the last positive")
        else:
            if not 0.1 <= self.gamma <= 10.0:
                raise ValueError(f"gamma must be in [0.1, 10], got {self.gamma}")
            values = (np.arange(256, dtype=np.float64) / 255.0) ** self.gamma
        return np.repeat(np.asarray(values, np.float32).reshape(256, 1, 1), 3, axis=2)


class DebevecMerge:
    """OpenCV ``createMergeDebevec`` behind the :class:`~edgemef.models.spec.FusionModel` interface of
    scene-linear models: ``fuse(frames, exposure_times)``."""

    name = "debevec"

    def __init__(self, config: DebevecConfig | None = None) -> None:
        self.config = config or DebevecConfig()
        self._curve = self.config.curve()
        self._merge = cv2.createMergeDebevec()

    def fuse(self, frames: np.ndarray, exposure_times: Sequence[float] | None = None) -> np.ndarray:
        """Merge uint8 frames (N x H x W x 3, darkest first) into linear radiance, float32 H x W x 3, in units
        of the darkest frame's saturation level (its time taken as 1)."""
        check_bracket_array(frames)
        times = relative_times(exposure_times, len(frames))
        merged = self._merge.process(
            [cv2.cvtColor(frame, cv2.COLOR_RGB2BGR) for frame in frames], times, self._curve
        )
        radiance = cv2.cvtColor(merged, cv2.COLOR_BGR2RGB)
        return np.maximum(np.nan_to_num(radiance, nan=0.0, posinf=0.0), 0.0)
