"""The typed, frozen configuration of the spatially adaptive LUT model (ours, not a paper's).

The model is LUT-distill's student (:class:`~edgemef.models.lut_distill.config.StudentConfig`: the "8+2"
latent encoder and the 7-layer implicit LUT network, unchanged) whose global image weighting (IW, one
weight per exposure) is replaced by a weight-map network: per-exposure weights on a ``grid x grid`` lattice
over the frame, upsampled bilinearly at full resolution by the applier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edgemef.models.lut_distill.config import StudentConfig, _require


@dataclass(frozen=True)
class WeightMapConfig:
    """The weight-map network.

    Attributes:
        down_widths: output channels of the 3x3 stride-2 convolutions that take the ``128 x 128`` thumbnails
            down to the map grid (three: 128 -> 16).
        context_widths: output channels of the 3x3 stride-1 convolutions at the map grid (their receptive
            field joins neighbouring cells: 3 + 2 layers see about 9 x 9 cells).
        global_context: add a linear map of the globally averaged features before the last context layer's
            activation (the whole bracket's exposure, as HDRNet's global path), so every cell knows the scene.
        output_init_std: standard deviation of the output layer at initialisation: small, so an untrained
            network gives nearly equal weights (the average of the exposures) everywhere.
    """

    down_widths: tuple[int, ...] = (32, 64, 64)
    context_widths: tuple[int, ...] = (64, 64)
    global_context: bool = True
    output_init_std: float = 1e-3

    def __post_init__(self) -> None:
        _require(len(self.down_widths) >= 1, "the weight-map network needs at least one stride-2 layer")
        _require(len(self.context_widths) >= 1, "the weight-map network needs at least one context layer")

    def grid(self, thumbnail_size: int) -> int:
        """Cells per side of the maps: the thumbnail side halved once per stride-2 layer."""
        return thumbnail_size >> len(self.down_widths)

    @classmethod
    def for_grid(cls, grid: int, thumbnail_size: int = 128, context_layers: int = 2) -> WeightMapConfig:
        """The default network with as many stride-2 layers (32, 64, 64, ... channels) as take
        ``thumbnail_size`` down to ``grid`` cells a side (16 -> three layers, 32 -> two), and
        ``context_layers`` 64-channel convolutions at the grid (two by default)."""
        layers = 0
        while thumbnail_size >> layers > grid:
            layers += 1
        _require(
            grid >= 2 and layers >= 1 and thumbnail_size >> layers == grid,
            f"a map grid of {grid} is not the {thumbnail_size}-pixel thumbnail halved 1 or more times",
        )
        _require(context_layers >= 1, f"the weight-map network needs a context layer, got {context_layers}")
        return cls(down_widths=(32, *(64,) * (layers - 1)), context_widths=(64,) * context_layers)


@dataclass(frozen=True)
class AdaptiveConfig(StudentConfig):
    """:class:`StudentConfig` (encoder, LUT network, thumbnails) plus the weight-map network."""

    weight_maps: WeightMapConfig = field(default_factory=WeightMapConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        grid = self.weight_maps.grid(self.thumbnail_size)
        _require(
            grid >= 2 and grid << len(self.weight_maps.down_widths) == self.thumbnail_size,
            f"{len(self.weight_maps.down_widths)} stride-2 layers do not divide thumbnails of "
            f"{self.thumbnail_size} into a map grid",
        )

    @property
    def map_grid(self) -> int:
        """Cells per side of the weight maps (16 by default)."""
        return self.weight_maps.grid(self.thumbnail_size)
