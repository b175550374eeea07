"""The teacher: basis 3D LUTs refined by an implicit network and fused by WP (eqs. 2-4 of the paper).

Pipeline (defaults, ``N`` exposures, ``n_luts = 3``)::

    basis LUT_i (33^3, learned; LUT_0 starts as the identity, the others at zero)      i = 1..n_luts
      -> resample to 32^3, fold to 96 x 32 x 32 -> LatentEncoder_i ("5+2" CNN) -> latent L_i 12 x 8 x 8 x 8
      -> enhanced grid  V^_i(c) = LUT_i(c) + F_INN(L_i sampled at c, c)     (F_INN: 5-layer ELU MLP, shared)
    thumbnails B x 3N x 128 x 128 --WP (U-Net + MLP)--> w B x n_luts --> V^ = sum_i w_i V^_i    B x S^3 x 3
                                  --IW-------------------> weights B x N (softmax)
    I_E = V^ (trilinear) sum_k weights_k I_k

Readings of points the paper leaves open:

- The "simple CNN" takes the prior grids as input (the paper: "input three prior grids ... into a simple CNN
  to generate three {L_1, L_2, L_3}"), one CNN per basis LUT (``nn.ModuleList``), so latent codes and enhanced
  grids do not depend on the image: the teacher is Image-Adaptive-3DLUT whose basis LUTs are reparameterised
  through an INN, and WP alone makes it image-adaptive (as in Image-Adaptive-3DLUT). In eval mode the enhanced
  grids could be cached per grid size; they are recomputed here for simplicity.
- A 3D LUT enters the 2-D 3x3 CNN folded: ``(3 outputs x blue) channels x green x red``, after trilinear
  resampling to ``latent_size * prod(strides)`` points per axis, so the latent's axes line up with colour
  axes.
- F_INN predicts a residual over its basis LUT, and WP's last layer starts at weights ~0 and bias
  ``(1, 0, ..., 0)``: an untrained teacher is exactly Image-Adaptive-3DLUT's starting point, the identity.
- WP's weights are not normalised (linear outputs, as Image-Adaptive-3DLUT's classifier); IW's are (softmax).
- The U-Net's full-resolution output map is globally averaged before the MLP (the paper gives no detail).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from edgemef.models.lut_distill.config import TeacherConfig
from edgemef.models.lut_distill.iw import ImageWeighting, check_thumbnails, thumbnails
from edgemef.models.lut_distill.student import (
    ImplicitLut,
    LatentEncoder,
    LutFusion,
    check_grid_size,
    count_parameters,
)
from edgemef.models.lut_distill.trilinear import fuse_and_apply, identity_lut, resample_lattice


class BasisLut(nn.Module):
    """One learned basis LUT, ``S x S x S x 3`` in the canonical layout (starts as the identity or zero)."""

    def __init__(self, size: int, *, identity: bool) -> None:
        super().__init__()
        initial = identity_lut(size) if identity else torch.zeros(size, size, size, 3)
        self.lut = nn.Parameter(initial)

    def forward(self) -> Tensor:
        return self.lut


def _double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 3, padding=1),
        nn.ReLU(),
    )


class UNet(nn.Module):
    """A small U-Net: two 3x3 convs (ReLU) per level, 2x2 max-pool down, nearest 2x up, skip concatenation.

    ``B x C_in x H x W -> B x widths[0] x H x W`` (``H, W`` divisible by ``2^(levels - 1)``).
    """

    def __init__(self, in_channels: int, widths: tuple[int, ...]) -> None:
        super().__init__()
        self.down = nn.ModuleList()
        channels = in_channels
        for width in widths:
            self.down.append(_double_conv(channels, width))
            channels = width
        self.up = nn.ModuleList(
            _double_conv(widths[level + 1] + widths[level], widths[level])
            for level in reversed(range(len(widths) - 1))
        )

    def forward(self, x: Tensor) -> Tensor:
        skips: list[Tensor] = []
        for index, block in enumerate(self.down):
            if index > 0:
                x = nn.functional.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        skips.pop()
        for block in self.up:
            x = nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")
            x = block(torch.cat([x, skips.pop()], dim=1))
        return x


class WeightsPredictor(nn.Module):
    """WP (eq. 2): a U-Net with an MLP head giving one (unnormalised) weight per basis LUT.

    Head: global average pool, then linear layers ``widths[0] -> hidden... -> n_luts`` with ReLU between.
    """

    def __init__(
        self, in_channels: int, n_luts: int, widths: tuple[int, ...], hidden: tuple[int, ...]
    ) -> None:
        super().__init__()
        self.unet = UNet(in_channels, widths)
        layers: list[nn.Module] = []
        features = widths[0]
        for width in hidden:
            layers += [nn.Linear(features, width), nn.ReLU()]
            features = width
        layers.append(nn.Linear(features, n_luts))
        self.mlp = nn.Sequential(*layers)
        last = self.mlp[-1]
        nn.init.normal_(last.weight, std=1e-3)
        with torch.no_grad():
            last.bias.zero_()
            last.bias[0] = 1.0

    def forward(self, thumbs: Tensor) -> Tensor:
        return self.mlp(self.unet(thumbs).mean(dim=(2, 3)))


class Teacher(nn.Module):
    """The LUT-distill teacher network; see the module docstring for the architecture.

    Same interface as :class:`~edgemef.models.lut_distill.student.Student`: ``forward(thumbs, grid_size)``
    returns ``(weights B x N, lut B x S x S x S x 3)``.
    """

    def __init__(self, config: TeacherConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or TeacherConfig()
        self.iw = ImageWeighting(config.n_exposures, config.iw)
        self.basis = nn.ModuleList(
            BasisLut(config.basis_lut_size, identity=index == 0) for index in range(config.n_luts)
        )
        self.encoders = nn.ModuleList(
            LatentEncoder(
                3 * config.encoder_input_size,
                config.encoder_widths,
                config.encoder_strides,
                config.head_width,
                config.latent_channels,
                config.latent_size,
            )
            for _ in range(config.n_luts)
        )
        self.inn = ImplicitLut(
            config.latent_channels,
            config.mlp_depth,
            config.mlp_width,
            fourier_frequencies=config.fourier_frequencies,
            output_init_std=config.output_init_std,
        )
        self.wp = WeightsPredictor(
            3 * config.n_exposures, config.n_luts, config.wp_widths, config.wp_mlp_hidden
        )

    def latent_codes(self) -> Tensor:
        """``n_luts x C x D x D x D``: the latent code of each basis LUT from its own encoder."""
        size = self.config.encoder_input_size
        codes = []
        for basis, encoder in zip(self.basis, self.encoders, strict=True):
            lut = resample_lattice(basis()[None], size)  # 1 x E x E x E x 3 (blue, green, red, out)
            folded = lut.permute(0, 4, 1, 2, 3).reshape(1, 3 * size, size, size)  # (out, blue) x green x red
            codes.append(encoder(folded))
        return torch.cat(codes, dim=0)

    def enhanced_grids(self, grid_size: int) -> Tensor:
        """``n_luts x S x S x S x 3``: ``V^_i = LUT_i + F_INN(L_i, c)`` on an ``S^3`` lattice.

        Independent of the image (WP's weights are what adapt to it).
        """
        bases = torch.stack([resample_lattice(basis()[None], grid_size)[0] for basis in self.basis])
        return bases + self.inn(self.latent_codes(), grid_size)

    def lut_weights(self, thumbs: Tensor) -> Tensor:
        """WP's ``B x n_luts`` weights of the enhanced grids."""
        return self.wp(thumbs)

    def forward(self, thumbs: Tensor, grid_size: int = 33) -> tuple[Tensor, Tensor]:
        """Fusion weights and the teacher LUT V^ for a bracket.

        Args:
            thumbs: ``B x 3N x 128 x 128`` thumbnails, RGB, sRGB-encoded values in [0, 1], darkest first.
            grid_size: lattice points per axis of the returned LUT (the distillation uses 64).

        Returns:
            ``(weights, lut)``: ``B x N`` softmax fusion weights and the ``B x S x S x S x 3`` canonical LUT
            (sRGB-encoded output; clamped to [0, 1] in eval mode, unclamped in training mode).
        """
        config = self.config
        check_thumbnails(thumbs, config.n_exposures, config.thumbnail_size)
        size = check_grid_size(grid_size, config.min_grid_size, config.max_grid_size)
        weights = self.iw(thumbs)
        grids = self.enhanced_grids(size)
        lut = (self.lut_weights(thumbs) @ grids.reshape(config.n_luts, -1)).reshape(-1, size, size, size, 3)
        if not self.training:
            lut = lut.clamp(0.0, 1.0)
        return weights, lut

    def fuse_frames(self, frames: Tensor, grid_size: int = 33) -> LutFusion:
        """Fuse full-resolution ``B x N x 3 x H x W`` frames (sRGB in [0, 1], darkest first): eq. 4."""
        weights, lut = self(thumbnails(frames, self.config.thumbnail_size), grid_size)
        return LutFusion(fuse_and_apply(frames, weights, lut), weights, lut)

    def parameter_counts(self) -> dict[str, int]:
        """Parameters per part and in total."""
        counts = {
            "iw": count_parameters(self.iw),
            "basis_luts": count_parameters(self.basis),
            "lut_encoders": count_parameters(self.encoders),
            "inn_mlp": count_parameters(self.inn),
            "wp": count_parameters(self.wp),
        }
        counts["total"] = sum(counts.values())
        return counts
