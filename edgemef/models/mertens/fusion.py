"""The classical baseline: exposure fusion of Mertens, Kautz and Van Reeth (2007), via OpenCV."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edgemef.io.bracket import check_bracket_array


@dataclass(frozen=True)
class MertensConfig:
    """Weights of the three quality measures.

    The defaults are OpenCV's (``createMergeMertens()``: contrast 1, saturation 1, well-exposedness 0),
    so the baseline is what an OpenCV user gets; the paper's own setting is all three at 1.
    """

    contrast_weight: float = 1.0
    saturation_weight: float = 1.0
    exposure_weight: float = 0.0


class MertensFusion:
    """OpenCV ``createMergeMertens`` behind the :class:`~edgemef.models.registry.FusionModel` interface."""

    name = "mertens"

    def __init__(self, config: MertensConfig | None = None) -> None:
        self.config = config or MertensConfig()
        self._merge = cv2.createMergeMertens(
            self.config.contrast_weight, self.config.saturation_weight, self.config.exposure_weight
        )

    def fuse(self, frames: np.ndarray) -> np.ndarray:
        """Fuse uint8 sRGB frames (N x H x W x 3, any order) into one uint8 sRGB image (H x W x 3)."""
        check_bracket_array(frames)
        # OpenCV expects BGR: its contrast measure weighs the channels through BGR-to-grey.
        fused = self._merge.process([cv2.cvtColor(frame, cv2.COLOR_RGB2BGR) for frame in frames])
        return cv2.cvtColor(np.clip(fused * 255.0 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_BGR2RGB)
