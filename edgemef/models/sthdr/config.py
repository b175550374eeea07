"""STHDR's configuration (torch-free)."""

from __future__ import annotations

from dataclasses import dataclass

#: the frames the paper fuses: under, reference (the middle one), over
FRAMES = 3
#: eq. 1's gamma
GAMMA = 2.2
#: eq. 4's mu
MU = 5000.0


@dataclass(frozen=True)
class SthdrConfig:
    """The network's shape. The paper's model (Table 4: 1.564 M parameters) is :meth:`paper`; the default is
    the same network at half the width, trainable on a 2-core CPU.

    Attributes:
        channels: width of every convolution at full resolution (paper 32); the merge nets' U-Nets double it
            per level.
        unet_levels: levels of each merge net's U-Net (HINet's encoder-decoder; 3 here: C, 2C, 4C).
        scales: image scales, coarse ones guiding fine ones (paper 3; 1: single-scale).
        two_stage: the second merge stage after the SAM (the paper's; False: one stage).
        align: the Align Net (two SCMs + a compressing convolution; False: the frames' features are
            concatenated and compressed, the ablation's "MS"/"SS"/"HSS").
        deformable_groups: groups of the SCMs' deformable convolutions (DCNv2).
        max_offset: bound of the deformable offsets in pixels (``max_offset * tanh(o / max_offset)``), so a
            pixel's receptive field is bounded (tiling); None: unbounded.
        negative_slope: LeakyReLU slope.
        context_reduction: the Global Context Block's bottleneck ratio (GCNet's 1/4 -> 4).
    """

    channels: int = 16
    unet_levels: int = 3
    scales: int = 3
    two_stage: bool = True
    align: bool = True
    deformable_groups: int = 1
    max_offset: float | None = 16.0
    negative_slope: float = 0.2
    context_reduction: int = 4

    def __post_init__(self) -> None:
        if self.channels < 4 or self.channels % 2:
            raise ValueError(f"channels must be an even number >= 4, got {self.channels}")
        if not 1 <= self.unet_levels <= 5:
            raise ValueError(f"unet_levels must be 1..5, got {self.unet_levels}")
        if not 1 <= self.scales <= 4:
            raise ValueError(f"scales must be 1..4, got {self.scales}")
        if self.align and self.channels % self.deformable_groups:
            raise ValueError(
                f"{self.deformable_groups} deformable groups do not divide {self.channels} channels"
            )

    @classmethod
    def paper(cls) -> SthdrConfig:
        """The paper's SCM_MS: 32 channels, three scales, two stages, the Align Net."""
        return cls(channels=32)

    @classmethod
    def single_scale_single_stage(cls, channels: int = 16) -> SthdrConfig:
        """Table 3's HSS: one U-Net of HIN blocks on the concatenated frames, one scale, one stage."""
        return cls(channels=channels, scales=1, two_stage=False, align=False)

    @property
    def size_multiple(self) -> int:
        """What the input's sides must divide by (every scale's U-Net halves ``unet_levels - 1`` times)."""
        return 2 ** (self.scales - 1 + self.unet_levels - 1)
