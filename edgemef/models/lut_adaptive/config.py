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
        lut_strength: also predict one strength ``a`` in (0, 1) per bracket (a sigmoid of a linear map of
            the globally averaged features) that scales the LUT network's residual: ``LUT = identity + a
            residual``. Where one exposure already holds the whole scene, MEF-SSIM scores that frame itself
            about 1 and charges any change of its local contrast, a tone curve's included; ``a -> 0`` with a
            one-hot map passes it through (docs/research/adaptive-lut-fusion.md, section 9).
        strength_init_logit: the strength's logit at initialisation (3: ``a = 0.95``, nearly the LUT as
            trained without it, and far enough from the sigmoid's flat end to move).
        strength_gain: the strength's logit is this times the head's linear output: Adam moves every
            parameter by about the learning rate a step, so a fine-tune at 1e-4 would otherwise take
            thousands of steps to move one bracket's strength from 0.95 to 0.5.
    """

    down_widths: tuple[int, ...] = (32, 64, 64)
    context_widths: tuple[int, ...] = (64, 64)
    global_context: bool = True
    output_init_std: float = 1e-3
    lut_strength: bool = False
    strength_init_logit: float = 3.0
    strength_gain: float = 10.0

    def __post_init__(self) -> None:
        _require(len(self.down_widths) >= 1, "the weight-map network needs at least one stride-2 layer")
        _require(len(self.context_widths) >= 1, "the weight-map network needs at least one context layer")

    def grid(self, thumbnail_size: int) -> int:
        """Cells per side of the maps: the thumbnail side halved once per stride-2 layer."""
        return thumbnail_size >> len(self.down_widths)

    @classmethod
    def for_grid(cls, grid: int, thumbnail_size: int = 128) -> WeightMapConfig:
        """The default network with as many stride-2 layers (32, 64, 64, ... channels) as take
        ``thumbnail_size`` down to ``grid`` cells a side (16 -> three layers, 32 -> two)."""
        layers = 0
        while thumbnail_size >> layers > grid:
            layers += 1
        _require(
            grid >= 2 and layers >= 1 and thumbnail_size >> layers == grid,
            f"a map grid of {grid} is not the {thumbnail_size}-pixel thumbnail halved 1 or more times",
        )
        return cls(down_widths=(32, *(64,) * (layers - 1)))


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
