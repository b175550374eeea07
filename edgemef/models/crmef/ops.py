"""CRMEF's search space (Section III-B, Table VII): the candidate operations of each kind of searched layer.

- relighting layers (SRSM): ``conv_k`` (k x k convolution, k in 1, 3, 5, 7) and ``dilconv_k`` (k x k,
  dilation 2, k in 3, 5, 7: a dilated 1 x 1 is a 1 x 1), each followed by a LeakyReLU;
- repletion layers (DRM): the residual versions ``rconv_k`` / ``rdconv_k``: ``x + op(x)``;
- alignment layers (DASM): ``deform_k``, a modulated deformable k x k convolution (k in 3, 5, 7) of the
  source features guided by the alignment features, then a LeakyReLU.

Every operation keeps the channel count and the resolution, so any choice fits any layer of its kind.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from edgemef.models.crmef.config import CrmefConfig
from edgemef.models.layers.deform import DeformableConv2d

__all__ = ["ALIGNMENT", "KINDS", "RELIGHTING", "REPLETION", "make_op"]

RELIGHTING = ("conv_1", "conv_3", "conv_5", "conv_7", "dilconv_3", "dilconv_5", "dilconv_7")
REPLETION = ("rconv_1", "rconv_3", "rconv_5", "rconv_7", "rdconv_3", "rdconv_5", "rdconv_7")
ALIGNMENT = ("deform_3", "deform_5", "deform_7")
#: the candidates of each kind of searched layer
KINDS = {"relighting": RELIGHTING, "repletion": REPLETION, "alignment": ALIGNMENT}


def _parse(name: str) -> tuple[str, int]:
    kind, _, size = name.partition("_")
    return kind, int(size)


class ConvOp(nn.Module):
    """``k x k`` convolution (dilation 1 or 2, 'same' padding) + LeakyReLU, residual if asked."""

    def __init__(self, channels: int, kernel: int, dilation: int, residual: bool, slope: float) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            channels, channels, kernel, padding=dilation * (kernel - 1) // 2, dilation=dilation
        )
        self.act = nn.LeakyReLU(slope)
        self.residual = residual

    def forward(self, x: Tensor) -> Tensor:
        y = self.act(self.conv(x))
        return x + y if self.residual else y


class DeformOp(nn.Module):
    """Modulated deformable ``k x k`` convolution of ``x`` guided by ``guide`` + LeakyReLU."""

    def __init__(
        self, channels: int, kernel: int, groups: int, slope: float, max_offset: float | None = None
    ) -> None:
        super().__init__()
        self.conv = DeformableConv2d(
            channels, channels, kernel, deformable_groups=groups, max_offset=max_offset
        )
        self.act = nn.LeakyReLU(slope)

    def forward(self, x: Tensor, guide: Tensor) -> Tensor:
        return self.act(self.conv(x, guide))


def make_op(name: str, config: CrmefConfig) -> nn.Module:
    """The operation called ``name`` at the configuration's width."""
    kind, kernel = _parse(name)
    makers: dict[str, Callable[[], nn.Module]] = {
        "conv": lambda: ConvOp(config.channels, kernel, 1, False, config.negative_slope),
        "dilconv": lambda: ConvOp(config.channels, kernel, 2, False, config.negative_slope),
        "rconv": lambda: ConvOp(config.channels, kernel, 1, True, config.negative_slope),
        "rdconv": lambda: ConvOp(config.channels, kernel, 2, True, config.negative_slope),
        "deform": lambda: DeformOp(
            config.channels, kernel, config.deformable_groups, config.negative_slope, config.max_offset
        ),
    }
    if kind not in makers or name not in RELIGHTING + REPLETION + ALIGNMENT:
        raise ValueError(
            f"unknown CRMEF operation {name!r}; known: {', '.join(RELIGHTING + REPLETION + ALIGNMENT)}"
        )
    return makers[kind]()
