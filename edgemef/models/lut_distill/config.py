"""Typed, frozen configurations of the LUT-distill models and losses.

The defaults build the architecture of Su & Zheng, "Multi-Exposure Image Fusion via Distilled 3D LUT Grid
with Editable Mode" (Sec. III, "Details of the neural network"); where the paper gives no number (channel
widths, MLP width, strides) the value chosen here is marked "(ours)" and the student's widths are set so that
IW + student INN lands near the paper's 0.52 M parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class IWConfig:
    """IW, the image-weighting network (eq. 3): 3 conv layers (3x3, ReLU) + a 2-layer MLP ending in softmax.

    Attributes:
        conv_widths: output channels of the three 3x3 convolutions (ours), each with stride ``conv_stride``.
        conv_stride: stride of every convolution (ours: 2, so 128 -> 16 before global average pooling).
        mlp_hidden: hidden width of the 2-layer MLP (ours).
    """

    conv_widths: tuple[int, ...] = (16, 32, 64)
    conv_stride: int = 2
    mlp_hidden: int = 64

    def __post_init__(self) -> None:
        _require(len(self.conv_widths) == 3, "IW has 3 conv layers (paper); conv_widths needs 3 entries")


@dataclass(frozen=True)
class StudentConfig:
    """The student: IW + an implicit neural network (INN) regressing a LUT of any size (eq. 1, editable mode).

    Attributes:
        n_exposures: frames per bracket (the paper uses 2 and 3; any N >= 2 works).
        thumbnail_size: side of the square thumbnails every network sees (128 in the paper).
        latent_channels, latent_size: the latent volume ``latent_channels x latent_size^3`` (12 x 8 x 8 x 8).
        encoder_widths, encoder_strides: the 8 conv layers (3x3, ReLU) of the "8+2" CNN (widths and strides
            ours); the strides must reduce ``thumbnail_size`` to ``latent_size``.
        head_width: width of the first of the "+2" head layers (ours).
        mlp_depth: linear layers of the INN's MLP (7 in the paper, ELU between them).
        mlp_width: hidden width of that MLP (ours).
        fourier_frequencies: octaves of sin/cos positional encoding of the coordinate fed to the MLP;
            0 (default) feeds the raw coordinate (see
            :class:`~edgemef.models.lut_distill.student.ImplicitLut`).
        output_init_std: standard deviation of the MLP's last layer at initialisation. Small, so an untrained
            student gives nearly the identity LUT, but not zero, so every parameter gets a gradient at step 1.
        min_grid_size, max_grid_size: the range of grid sizes ``S`` accepted at call time (editable mode).
        iw: the IW sub-network.
    """

    n_exposures: int = 3
    thumbnail_size: int = 128
    latent_channels: int = 12
    latent_size: int = 8
    encoder_widths: tuple[int, ...] = (16, 32, 32, 64, 64, 128, 128, 128)
    encoder_strides: tuple[int, ...] = (2, 1, 2, 1, 2, 1, 2, 1)
    head_width: int = 128
    mlp_depth: int = 7
    mlp_width: int = 64
    fourier_frequencies: int = 0
    output_init_std: float = 1e-3
    min_grid_size: int = 8
    max_grid_size: int = 128
    iw: IWConfig = field(default_factory=IWConfig)

    def __post_init__(self) -> None:
        _require(self.n_exposures >= 2, f"n_exposures must be >= 2, got {self.n_exposures}")
        _require(
            len(self.encoder_widths) == len(self.encoder_strides),
            "encoder_widths and encoder_strides need one entry per conv layer",
        )
        _require(
            self.thumbnail_size == self.latent_size * math.prod(self.encoder_strides),
            f"encoder strides {self.encoder_strides} must reduce {self.thumbnail_size} to {self.latent_size}",
        )
        _require(self.mlp_depth >= 2, "the MLP needs at least 2 linear layers")
        _require(2 <= self.min_grid_size <= self.max_grid_size, "need 2 <= min_grid_size <= max_grid_size")


@dataclass(frozen=True)
class TeacherConfig:
    """The teacher: IW + basis LUTs refined by an INN and fused by WP (eqs. 2-4).

    Attributes:
        n_exposures, thumbnail_size: as in :class:`StudentConfig`.
        n_luts: number of basis LUTs (3 in the paper): the first starts as the identity, the others at zero
            (Image-Adaptive-3DLUT's initialisation).
        basis_lut_size: lattice points per axis of each learned basis LUT (33 as in Image-Adaptive-3DLUT).
        latent_channels, latent_size: the latent code of each basis LUT (same shape as the student's).
        encoder_widths, encoder_strides: the 5 conv layers (3x3, ReLU) of the "5+2" CNN that encodes one basis
            LUT (widths and strides ours). The LUT is first resampled to ``latent_size * prod(strides)``
            points per axis and folded to a 2-D map (channels = output colour x blue, spatial = green x red).
        head_width: width of the first "+2" head layer (ours).
        mlp_depth: linear layers of the teacher INN's MLP (5 in the paper, ELU between them).
        mlp_width: its hidden width (ours).
        fourier_frequencies, output_init_std: as in :class:`StudentConfig`.
        wp_widths: channels of the WP U-Net per level (ours; two 3x3 convs per level, 2x down/up-sampling).
        wp_mlp_hidden: hidden widths of WP's MLP head; one more linear layer outputs ``n_luts`` weights.
        min_grid_size, max_grid_size: accepted grid sizes at call time.
        iw: the teacher's own IW sub-network.
    """

    n_exposures: int = 3
    thumbnail_size: int = 128
    n_luts: int = 3
    basis_lut_size: int = 33
    latent_channels: int = 12
    latent_size: int = 8
    encoder_widths: tuple[int, ...] = (64, 64, 64, 64, 64)
    encoder_strides: tuple[int, ...] = (1, 2, 1, 2, 1)
    head_width: int = 64
    mlp_depth: int = 5
    mlp_width: int = 64
    fourier_frequencies: int = 0
    output_init_std: float = 1e-3
    wp_widths: tuple[int, ...] = (16, 32, 64, 128)
    wp_mlp_hidden: tuple[int, ...] = (64, 64)
    min_grid_size: int = 8
    max_grid_size: int = 128
    iw: IWConfig = field(default_factory=IWConfig)

    def __post_init__(self) -> None:
        _require(self.n_exposures >= 2, f"n_exposures must be >= 2, got {self.n_exposures}")
        _require(self.n_luts >= 1, f"n_luts must be >= 1, got {self.n_luts}")
        _require(self.basis_lut_size >= 2, "basis_lut_size must be >= 2")
        _require(
            len(self.encoder_widths) == len(self.encoder_strides),
            "encoder_widths and encoder_strides need one entry per conv layer",
        )
        _require(self.mlp_depth >= 2, "the MLP needs at least 2 linear layers")
        _require(len(self.wp_widths) >= 2, "the WP U-Net needs at least 2 levels")
        _require(
            self.thumbnail_size % 2 ** (len(self.wp_widths) - 1) == 0,
            f"thumbnail_size must be divisible by 2^{len(self.wp_widths) - 1} for the WP U-Net",
        )
        _require(2 <= self.min_grid_size <= self.max_grid_size, "need 2 <= min_grid_size <= max_grid_size")

    @property
    def encoder_input_size(self) -> int:
        """Lattice points per axis the basis LUT is resampled to before its encoder (32 by default)."""
        return self.latent_size * math.prod(self.encoder_strides)


@dataclass(frozen=True)
class StudentLossConfig:
    """Eq. 6, ``L_total = L_1 + alpha L_d1 + beta L_lr``, and its long-range (L_lr) tokenisers.

    Attributes:
        alpha: weight of ``L_d1``, the L1 distance between student and teacher grids (0.05).
        beta: weight of ``L_lr``, the L1 distance between patch-correlation matrices (0.09).
        distill_grid_size: grid size of the distillation and of the grid tokeniser (64 in the paper).
        token_grid: tokens per side; ``token_grid**2`` tokens give the 16 x 16 correlation matrices.
        patch_size: kernel and stride of the image stem (16, ViT-style); the ground truth is area-resized to
            ``token_grid * patch_size`` (64) pixels square before it.
        token_dim: feature size of each token (ours).
        grid_widths: output channels of the grid tokeniser's 5 conv layers (3x3; ours, last = token_dim).
        grid_strides: their strides (ours), taking the 64-point grid to ``token_grid`` per side.
        train_image_stem: whether the 16x16 image stem is trained. Default False: the stem stays a fixed
            random projection, because if both tokenisers are trained on ``L_lr`` alone they can collapse to
            constant tokens (both matrices all ones, loss 0) and the term stops constraining the student. The
            grid tokeniser is always trained jointly with the student.
    """

    alpha: float = 0.05
    beta: float = 0.09
    distill_grid_size: int = 64
    token_grid: int = 4
    patch_size: int = 16
    token_dim: int = 64
    grid_widths: tuple[int, ...] = (64, 64, 64, 64, 64)
    grid_strides: tuple[int, ...] = (2, 2, 2, 2, 1)
    train_image_stem: bool = False

    def __post_init__(self) -> None:
        _require(len(self.grid_widths) == len(self.grid_strides), "grid_widths and grid_strides must match")
        _require(self.grid_widths[-1] == self.token_dim, "the grid tokeniser's last width must be token_dim")
        _require(
            self.distill_grid_size == self.token_grid * math.prod(self.grid_strides),
            f"grid strides {self.grid_strides} must reduce {self.distill_grid_size} to {self.token_grid}",
        )
