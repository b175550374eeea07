"""The student: IW + an implicit neural network regressing a 3D LUT of any size (eqs. 1, 3, 5; editable mode).

Pipeline (defaults, ``N`` exposures)::

    thumbnails B x 3N x 128 x 128 --IW----------------------------------------------> weights B x N (softmax)
                                  --LatentEncoder ("8+2" CNN)--> latent B x 12 x 8 x 8 x 8
    for each lattice point c = (r, g, b) of an S^3 grid (S chosen at call time, 8..128):
        l(c) = trilinear sample of the latent at c           (separable matmuls, exportable)
        v(c) = c + MLP_7([l(c), 2c - 1])                       (residual over the identity LUT)
    LUT V = v over the grid: B x S x S x S x 3 (canonical layout, see trilinear.py)
    I_E = V (trilinear) sum_k w_k I_k                          (fuse_and_apply, full resolution)

Readings of points the paper leaves open (each is a choice, written down):

- "CNN 8+2": 8 conv layers (3x3, ReLU; four with stride 2, 128 -> 8) and a 2-layer head of 1x1 convs whose
  output ``12 * 8`` channels over the 8 x 8 map are reshaped to the ``12 x 8 x 8 x 8`` latent (channels ->
  12 features x blue, rows -> green, columns -> red), as HDRNet folds its grid depth into channels. The first
  head layer also adds a linear map of the globally averaged features (HDRNet's global path), so every latent
  cell sees the whole bracket even though 8 stride-2/3x3 layers only see about 61 of 128 pixels.
- "latent sampled at coordinate c": trilinear interpolation of the latent volume at c with the LUT's own axis
  convention (align_corners=True); for a full lattice it is computed as three small interpolation matmuls.
- The coordinate enters the MLP as ``2c - 1`` (centred); Fourier features are available
  (``fourier_frequencies``) but off by default: a colour LUT is a smooth function, the latent grid already
  gives the MLP local detail at 1/7 spacing, and high-frequency encodings invite ringing (non-monotone LUTs).
- Residual design: the MLP predicts an offset from the identity LUT and its last layer starts small, so an
  untrained student outputs nearly the identity (the fused image passes through unchanged) rather than noise.
- Range: in training mode the LUT is returned unclamped, so losses can pull stray entries back; in eval mode
  (inference and export) it is clamped to [0, 1], the range the deploy side stores and looks up.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import torch
from torch import Tensor, nn

from edgemef.models.lut_distill.config import StudentConfig
from edgemef.models.lut_distill.iw import ImageWeighting, check_thumbnails, thumbnails
from edgemef.models.lut_distill.trilinear import fuse_and_apply, identity_lut, resample_lattice


def count_parameters(module: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of scalar parameters of ``module`` (all, or only those with ``requires_grad``)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def conv_stack(in_channels: int, widths: tuple[int, ...], strides: tuple[int, ...]) -> nn.Sequential:
    """3x3 convolutions (padding 1), each followed by ReLU."""
    layers: list[nn.Module] = []
    for width, stride in zip(widths, strides, strict=True):
        layers += [nn.Conv2d(in_channels, width, 3, stride=stride, padding=1), nn.ReLU()]
        in_channels = width
    return nn.Sequential(*layers)


class LatentEncoder(nn.Module):
    """A "K+2" CNN: K conv layers (3x3, ReLU) and a 2-layer head folding channels into a latent volume.

    Input ``B x C_in x H x W`` whose conv output is ``latent_size x latent_size``; output the latent volume
    ``B x latent_channels x D x D x D`` (``D = latent_size``), lattice axes (blue, green, red): the head's
    ``latent_channels * D`` output channels are split into (feature, blue), its rows are green, columns red.
    Head: ``h = ReLU(conv1x1(f) + linear(mean(f)))`` (local + global context), then ``conv1x1(h)``.
    """

    def __init__(
        self,
        in_channels: int,
        widths: tuple[int, ...],
        strides: tuple[int, ...],
        head_width: int,
        latent_channels: int,
        latent_size: int,
    ) -> None:
        super().__init__()
        self.latent_channels = latent_channels
        self.latent_size = latent_size
        self.features = conv_stack(in_channels, widths, strides)
        self.head_local = nn.Conv2d(widths[-1], head_width, 1)
        self.head_global = nn.Linear(widths[-1], head_width)
        self.head_out = nn.Conv2d(head_width, latent_channels * latent_size, 1)

    def forward(self, x: Tensor) -> Tensor:
        features = self.features(x)
        size = self.latent_size
        if features.shape[2] != size or features.shape[3] != size:
            raise ValueError(
                f"the encoder maps {tuple(x.shape[2:])} inputs to {tuple(features.shape[2:])}, "
                f"not the latent size {size} x {size}"
            )
        context = self.head_global(features.mean(dim=(2, 3), keepdim=True).flatten(1))[:, :, None, None]
        hidden = torch.relu(self.head_local(features) + context)
        latent = self.head_out(hidden)
        return latent.reshape(x.shape[0], self.latent_channels, size, size, size)


class ImplicitLut(nn.Module):
    """F_INN (eq. 1): the LUT entry at a lattice coordinate from the latent sampled there and the coordinate.

    ``v(c) = MLP([l(c), enc(c)])`` with ``depth`` linear layers (ELU between them), ``width`` hidden units
    and 3 outputs. ``enc(c) = 2c - 1`` plus, if ``fourier_frequencies > 0``, ``sin/cos(2^k pi c)`` for
    ``k < fourier_frequencies``. The last layer starts with weights of standard deviation
    ``output_init_std`` and zero bias, so the output (used as a residual) starts close to 0 while every layer
    still gets gradients.
    """

    def __init__(
        self,
        latent_channels: int,
        depth: int,
        width: int,
        *,
        fourier_frequencies: int = 0,
        output_init_std: float = 1e-3,
    ) -> None:
        super().__init__()
        self.fourier_frequencies = fourier_frequencies
        #: evaluate the MLP on at most this many lattice points at a time (None: all at once); the same
        #: values either way. Exported graphs set it (:class:`ExportableStudent`) to bound their memory.
        self.points_per_pass: int | None = None
        in_features = latent_channels + 3 + 6 * fourier_frequencies
        layers: list[nn.Module] = []
        for index in range(depth):
            out_features = 3 if index == depth - 1 else width
            layers.append(nn.Linear(in_features, out_features))
            if index < depth - 1:
                layers.append(nn.ELU())
            in_features = out_features
        self.mlp = nn.Sequential(*layers)
        last = self.mlp[-1]
        nn.init.normal_(last.weight, std=output_init_std)
        nn.init.zeros_(last.bias)

    def encode_coordinates(self, coords: Tensor) -> Tensor:
        """``S x S x S x 3`` lattice colours (R, G, B) in [0, 1] -> ``S x S x S x (3 + 6F)`` MLP inputs."""
        parts = [2.0 * coords - 1.0]
        for k in range(self.fourier_frequencies):
            angle = coords * (torch.pi * 2.0**k)
            parts += [torch.sin(angle), torch.cos(angle)]
        return torch.cat(parts, dim=-1)

    def forward(self, latent: Tensor, size: int) -> Tensor:
        """Evaluate the MLP on every point of an ``size^3`` lattice.

        Args:
            latent: ``B x C x D x D x D`` latent volume (lattice axes blue, green, red).
            size: lattice points per axis of the output grid.

        Returns:
            ``B x size x size x size x 3`` MLP outputs in the canonical LUT layout.
        """
        batch = latent.shape[0]
        sampled = resample_lattice(latent, size, channels_last=False).permute(0, 2, 3, 4, 1)
        coords = identity_lut(size, dtype=latent.dtype, device=latent.device)
        encoded = self.encode_coordinates(coords).expand(batch, size, size, size, -1)
        features = torch.cat([sampled, encoded], dim=-1)
        # the MLP runs on a 2-D (points x features) matrix: 5-D linears lower to batched matmuls with
        # broadcast copies on ExecuTorch, 2-D ones to plain fully-connected kernels everywhere
        points = features.reshape(-1, features.shape[-1])
        if self.points_per_pass is None or len(points) <= self.points_per_pass:
            flat = self.mlp(points)
        else:  # one pass after another: an exported graph holds one pass's activations at a time
            flat = torch.cat([self.mlp(part) for part in points.split(self.points_per_pass)])
        return flat.reshape(batch, size, size, size, flat.shape[-1])


class LutFusion(NamedTuple):
    """The result of fusing full-resolution frames with a LUT-distill model."""

    image: Tensor  # B x 3 x H x W, sRGB-encoded, nominally [0, 1]
    weights: Tensor  # B x N fusion weights
    lut: Tensor  # B x S x S x S x 3 canonical LUT


def check_grid_size(grid_size: int, low: int, high: int) -> int:
    """Refuse grid sizes outside ``[low, high]`` (editable mode's range)."""
    if not isinstance(grid_size, int) or not low <= grid_size <= high:
        raise ValueError(f"grid_size must be an integer in [{low}, {high}], got {grid_size!r}")
    return grid_size


class Student(nn.Module):
    """The LUT-distill student network (IW + INN); see the module docstring for the architecture.

    Example:
        >>> import torch
        >>> from edgemef.models.lut_distill import Student, StudentConfig, thumbnails
        >>> student = Student(StudentConfig(n_exposures=3)).eval()
        >>> frames = torch.rand(1, 3, 3, 240, 320)          # B x N x 3 x H x W, darkest first
        >>> weights, lut = student(thumbnails(frames), grid_size=17)
        >>> weights.shape, lut.shape
        (torch.Size([1, 3]), torch.Size([1, 17, 17, 17, 3]))
    """

    def __init__(self, config: StudentConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or StudentConfig()
        self.iw = self.build_weighting(config)
        self.encoder = LatentEncoder(
            3 * config.n_exposures,
            config.encoder_widths,
            config.encoder_strides,
            config.head_width,
            config.latent_channels,
            config.latent_size,
        )
        self.inn = ImplicitLut(
            config.latent_channels,
            config.mlp_depth,
            config.mlp_width,
            fourier_frequencies=config.fourier_frequencies,
            output_init_std=config.output_init_std,
        )

    def build_weighting(self, config: StudentConfig) -> nn.Module:
        """The network giving the fusion weights from the thumbnails: IW (one weight per exposure)."""
        return ImageWeighting(config.n_exposures, config.iw)

    def forward(self, thumbs: Tensor, grid_size: int = 33) -> tuple[Tensor, Tensor]:
        """Fusion weights and the LUT for a bracket.

        Args:
            thumbs: ``B x 3N x 128 x 128`` thumbnails (:func:`~edgemef.models.lut_distill.iw.thumbnails`),
                RGB, sRGB-encoded values in [0, 1], exposures stacked darkest first.
            grid_size: lattice points per axis of the LUT (editable mode, ``min_grid_size..max_grid_size``).

        Returns:
            ``(weights, lut)``: ``B x N`` softmax fusion weights and the ``B x S x S x S x 3`` LUT in the
            canonical layout (axes blue, green, red; output RGB, sRGB-encoded; clamped to [0, 1] in eval
            mode).
        """
        config = self.config
        check_thumbnails(thumbs, config.n_exposures, config.thumbnail_size)
        size = check_grid_size(grid_size, config.min_grid_size, config.max_grid_size)
        weights = self.iw(thumbs)
        latent = self.encoder(thumbs)
        lut = identity_lut(size, dtype=thumbs.dtype, device=thumbs.device) + self.inn(latent, size)
        if not self.training:
            lut = lut.clamp(0.0, 1.0)
        return weights, lut

    def fuse_frames(self, frames: Tensor, grid_size: int = 33) -> LutFusion:
        """Fuse full-resolution frames: thumbnails -> (weights, LUT) -> ``I_E = V (trilinear) sum_k w_k I_k``.

        Args:
            frames: ``B x N x 3 x H x W``, RGB, sRGB-encoded values in [0, 1], darkest first.
            grid_size: LUT size.
        """
        weights, lut = self(thumbnails(frames, self.config.thumbnail_size), grid_size)
        return LutFusion(fuse_and_apply(frames, weights, lut), weights, lut)

    def parameter_counts(self) -> dict[str, int]:
        """Parameters per part. ``total`` = IW + INN (latent encoder + MLP), the figure the paper's 0.52 M
        is compared with; the loss tokenisers and the teacher are training-only and not included."""
        counts = {
            "iw": count_parameters(self.iw),
            "inn_encoder": count_parameters(self.encoder),
            "inn_mlp": count_parameters(self.inn),
        }
        counts["inn"] = counts["inn_encoder"] + counts["inn_mlp"]
        counts["total"] = counts["iw"] + counts["inn"]
        return counts


class LoweringFriendlyELU(nn.Module):
    """ELU (alpha 1) written as ``max(x, exp(min(x, 0)) - 1)``: the same function, in ops every
    exporter lowers and quantizes natively. ``nn.ELU`` stays on ExecuTorch's portable kernels (XNNPACK's
    partitioner takes no ELU) and litert-torch lowers it through a full-size zeros constant (9 MB at grid
    33) that also blocks its int8 path; this form delegates, quantizes, and ran 3x faster in LiteRT int8.
    LiteRT int8 files then carry it as one int8 ``ELU`` op (:mod:`converters.litert_elu`)."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.maximum(x, torch.exp(torch.clamp(x, max=0.0)) - 1.0)


def with_lowering_friendly_elu(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` with every ``nn.ELU(alpha=1)`` replaced by :class:`LoweringFriendlyELU`."""
    module = copy.deepcopy(module)
    for parent in module.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.ELU) and child.alpha == 1.0:
                setattr(parent, name, LoweringFriendlyELU())
    return module


#: lattice points per MLP pass in exported graphs: at grid 33 (35,937 points) 9 passes whose 64-wide float
#: activations (1 MB each) stay in a 2 MB L2 cache, and a runtime's memory plan holds one pass's at a time
#: (the converters share each layer's int8 ranges across the passes)
EXPORT_POINTS_PER_PASS = 4096


class ExportableStudent(nn.Module):
    """The student with its grid size bound, for ``torch.export`` and the converters.

    ``thumbnails -> (weights, lut)``. The MLP's ELUs are rewritten by :func:`with_lowering_friendly_elu`
    (same function, agrees with the student to float rounding).

    Input ``thumbnails``: ``B x 3N x 128 x 128`` float32, RGB, sRGB in [0, 1], darkest exposure first, made
    with ``cv2.resize(frame, (128, 128), interpolation=cv2.INTER_AREA)`` per frame. Outputs ``weights``
    (``B x N``, summing to 1) and ``lut`` (``B x S x S x S x 3``, canonical layout, in [0, 1]).
    """

    output_names = ("weights", "lut")

    def __init__(self, student: Student, grid_size: int = 33) -> None:
        super().__init__()
        config = student.config
        self.student = with_lowering_friendly_elu(student)
        self.student.inn.points_per_pass = EXPORT_POINTS_PER_PASS
        self.grid_size = check_grid_size(grid_size, config.min_grid_size, config.max_grid_size)

    def forward(self, thumbs: Tensor) -> tuple[Tensor, Tensor]:
        return self.student(thumbs, self.grid_size)

    def get_input_spec(self, batch_size: int = 1) -> dict[str, tuple[tuple[int, ...], str]]:
        """``{"thumbnails": ((B, 3N, 128, 128), "float32")}``."""
        config = self.student.config
        shape = (batch_size, 3 * config.n_exposures, config.thumbnail_size, config.thumbnail_size)
        return {"thumbnails": (shape, "float32")}

    def get_output_names(self) -> tuple[str, ...]:
        return self.output_names
