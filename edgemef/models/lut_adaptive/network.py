"""The spatially adaptive LUT model: LUT-distill's student with per-exposure weight maps instead of weights.

Pipeline (defaults, ``N`` exposures)::

    thumbnails B x 3N x 128 x 128 --WeightMapNet--> maps B x N x 16 x 16 (softmax over N in every cell)
                                  --LatentEncoder + ImplicitLut (the student's, unchanged)--> LUT S^3 x 3
    I_E = V (trilinear) sum_k up(m_k) I_k       up = bilinear, half-pixel centres, clamp to edge

The maps cover the whole frame whatever its aspect ratio (as the square thumbnails do); ``up`` is
:func:`edgemef.lut.weight_map_sampling` (= OpenGL ``GL_LINEAR`` with ``CLAMP_TO_EDGE``, OpenCV
``INTER_LINEAR``, ``F.interpolate(..., align_corners=False)``), so every applier reproduces it. Softmax in
every cell and a convex bilinear blend keep the weights of every pixel summing to 1.

WeightMapNet: three 3x3 stride-2 convolutions (128 -> 16), two (by default) 3x3 convolutions at the map grid
(the last adds a linear map of the globally averaged features: local and global context, HDRNet's split), a
1x1 convolution to ``N`` logits per cell, softmax over the exposures. Its last layer starts near zero, so an
untrained network averages the exposures everywhere. Why 16 x 16: per-scene fits of maps + LUT to SICE's
references and MEF-SSIM beat Mertens at 16 cells on the short side (docs/research/adaptive-lut-fusion.md), and
the applier's cost at 16 x 16 is 1.1x its global one at 4K.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from edgemef.errors import BracketError
from edgemef.models.lut_adaptive.config import AdaptiveConfig, WeightMapConfig
from edgemef.models.lut_distill.config import StudentConfig
from edgemef.models.lut_distill.student import Student


class WeightMapNet(nn.Module):
    """Per-exposure fusion weight maps from the thumbnails: ``B x 3N x 128 x 128 -> B x N x G x G``."""

    def __init__(self, n_exposures: int, config: WeightMapConfig | None = None) -> None:
        super().__init__()
        config = config or WeightMapConfig()
        self.n_exposures = n_exposures
        channels = 3 * n_exposures
        down: list[nn.Module] = []
        for width in config.down_widths:
            down += [nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.ReLU()]
            channels = width
        self.down = nn.Sequential(*down)
        context: list[nn.Module] = []
        for width in config.context_widths[:-1]:
            context += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
            channels = width
        self.context = nn.Sequential(*context)
        last_width = config.context_widths[-1]
        self.last_local = nn.Conv2d(channels, last_width, 3, padding=1)
        self.last_global = nn.Linear(channels, last_width) if config.global_context else None
        self.out = nn.Conv2d(last_width, n_exposures, 1)
        nn.init.normal_(self.out.weight, std=config.output_init_std)
        nn.init.zeros_(self.out.bias)

    def forward(self, thumbs: Tensor) -> Tensor:
        """Weight maps ``B x N x G x G``: non-negative, summing to 1 over the exposures in every cell."""
        if thumbs.dim() != 4 or thumbs.shape[1] != 3 * self.n_exposures:
            raise BracketError(
                f"the weight-map network expects B x {3 * self.n_exposures} x h x w thumbnails, "
                f"got {tuple(thumbs.shape)}"
            )
        features = self.context(self.down(thumbs))
        hidden = self.last_local(features)
        if self.last_global is not None:
            pooled = features.mean(dim=(2, 3), keepdim=True).flatten(1)
            hidden = hidden + self.last_global(pooled)[:, :, None, None]
        return torch.softmax(self.out(torch.relu(hidden)), dim=1)


class AdaptiveStudent(Student):
    """The student with weight maps (see the module docstring); ``config.iw`` is not used.

    ``forward(thumbs, grid_size) -> (maps B x N x G x G, lut B x S x S x S x 3)``; ``fuse_frames`` and the
    exporters work as for :class:`Student` (every applier takes maps where it takes weights).

    Example:
        >>> import torch
        >>> from edgemef.models.lut_adaptive import AdaptiveConfig, AdaptiveStudent
        >>> model = AdaptiveStudent(AdaptiveConfig(n_exposures=3)).eval()
        >>> maps, lut = model(torch.rand(1, 9, 128, 128), grid_size=17)
        >>> maps.shape, lut.shape
        (torch.Size([1, 3, 16, 16]), torch.Size([1, 17, 17, 17, 3]))
    """

    config: AdaptiveConfig

    def __init__(self, config: AdaptiveConfig | None = None) -> None:
        super().__init__(config or AdaptiveConfig())

    def build_weighting(self, config: StudentConfig) -> nn.Module:
        if not isinstance(config, AdaptiveConfig):
            raise TypeError(f"AdaptiveStudent takes an AdaptiveConfig, got {type(config).__name__}")
        return WeightMapNet(config.n_exposures, config.weight_maps)

    def load_student(self, student: Student) -> AdaptiveStudent:
        """Copy a trained :class:`Student`'s latent encoder and LUT network in (a warm start); the weight
        maps keep their own initialisation. The configurations must agree on everything but IW."""
        mine, theirs = self.config, student.config
        for name in ("n_exposures", "thumbnail_size", "latent_channels", "latent_size", "mlp_depth"):
            if getattr(mine, name) != getattr(theirs, name):
                raise ValueError(
                    f"the student's {name} ({getattr(theirs, name)}) differs ({getattr(mine, name)})"
                )
        self.encoder.load_state_dict(student.encoder.state_dict())
        self.inn.load_state_dict(student.inn.state_dict())
        return self

    def load_other_grid(self, other: AdaptiveStudent) -> list[str]:
        """Warm start from a trained model with another weight-map network (another map grid, or more
        context layers): copy every tensor whose name and shape agree (encoder, LUT network, the
        weight-map layers both have); returns the names left as initialised (a stride-2 layer the other
        has and this one has not is dropped).

        A context convolution this model has beyond the other's starts as the identity (a Dirac kernel,
        zero bias): it follows a ReLU, so the maps are the other model's exactly until training moves it.
        """
        theirs = other.state_dict()
        mine = self.state_dict()
        kept = {k: v for k, v in theirs.items() if k in mine and mine[k].shape == v.shape}
        self.load_state_dict(kept, strict=False)
        for index, layer in enumerate(self.iw.context):
            added = isinstance(layer, nn.Conv2d) and f"iw.context.{index}.weight" not in kept
            if added and layer.in_channels == layer.out_channels:  # its input is a ReLU's output
                with torch.no_grad():
                    nn.init.dirac_(layer.weight)
                    nn.init.zeros_(layer.bias)
        return sorted(set(mine) - set(kept))
