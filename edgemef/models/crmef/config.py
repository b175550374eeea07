"""CRMEF's configuration (Liu et al., "Searching a Compact Architecture for Robust Multi-Exposure Image
Fusion"): widths and module counts of the paper, and the readings this implementation chose where the paper
is silent (each written down at its field)."""

from __future__ import annotations

from dataclasses import dataclass

#: the misaligned scenario's training and search samples: every under-exposed patch (128 px) is moved by a
#: camera shake of up to this many pixels and 0.5 degrees, the target keeping the over-exposed frame's
#: geometry (the geometry the DASM aligns to). Real SICE brackets are static, and the synthetic camera
#: brackets' reference frame is the EV-0 one, which may be either frame of a pair, so shake is added to
#: every sample instead of taken from the synthesis.
MISALIGNED_SHAKE_PX = 8.0


@dataclass(frozen=True)
class CrmefConfig:
    #: feature channels C: 64 for the paper's "Ours" (1.879 M parameters), 32 for "Ours*" (0.684 M)
    channels: int = 64
    #: exposures fused: the paper fuses the pair with the largest exposure ratio (under, over)
    n_exposures: int = 2
    #: SRSM stages cascaded per exposure (Table IV: 2 is best)
    relight_stages: int = 2
    #: searched residual layers in the DRM (the paper: four candidate operators)
    repletion_layers: int = 4
    #: the misaligned scenario: the DASM (deformable alignment) runs; off in the general one (L104)
    misaligned: bool = False
    #: DASM pyramid levels (EDVR's PCD: 3, full, 1/2, 1/4 resolution) and deformable groups (EDVR: 8)
    pyramid_levels: int = 3
    deformable_groups: int = 8
    #: the DASM's deformable offsets soft-clamped to +-max_offset pixels of their pyramid level
    #: (``m * tanh(o / m)``), so a fused pixel depends on a bounded neighbourhood and tiles fuse like one
    #: image; None: unbounded, as EDVR (the misaligned genotypes of ``Genotype.misaligned`` use 8)
    max_offset: float | None = None
    #: eq. 1 ``I^S = I (x) S(I)`` with S in [0, 1] can only darken. "retinex" (default) reads S as the
    #: illumination of Retinex theory, which the paper cites: ``I^S = I / max(S, min_illumination)``, which
    #: can brighten the under-exposed frame and leave the over-exposed one (S near 1); "multiply" is eq. 1
    #: as printed. Which trains better is measured with the training task.
    relight: str = "retinex"
    #: the smallest divisor of the Retinex readings (eq. 1 "retinex" and eq. 3's pixel-wise division)
    min_illumination: float = 0.05
    #: LeakyReLU slope after every convolution of the searched operations (EDVR's 0.1)
    negative_slope: float = 0.1

    def __post_init__(self) -> None:
        if self.channels < 8 or self.channels % self.deformable_groups:
            raise ValueError(
                f"channels must be at least 8 and divisible by deformable_groups ({self.deformable_groups}), "
                f"got {self.channels}"
            )
        if self.n_exposures != 2:
            raise ValueError("CRMEF fuses two exposures (under, over)")
        if self.relight not in ("retinex", "multiply"):
            raise ValueError(f"relight is 'retinex' or 'multiply', got {self.relight!r}")
        if not 0.0 < self.min_illumination < 1.0:
            raise ValueError(f"min_illumination must be in (0, 1), got {self.min_illumination}")
        if self.max_offset is not None and not 0.0 < self.max_offset <= 64.0:
            raise ValueError(f"max_offset must be in (0, 64] pixels or None, got {self.max_offset}")
        for name in ("relight_stages", "repletion_layers", "pyramid_levels"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")

    @property
    def size_multiple(self) -> int:
        """Input sides must be multiples of this (the DASM pyramid halves the features per level)."""
        return 2 ** (self.pyramid_levels - 1) if self.misaligned else 1
