"""Losses of the LUT-distill models: the teacher's L1 and the student's eq. 6.

``L_total = L_1 + alpha L_d1 + beta L_lr`` (alpha = 0.05, beta = 0.09):

- ``L_1``: mean absolute error between the output ``I_E`` and the ground truth ``I_G`` (sRGB, [0, 1]).
- ``L_d1``: mean absolute error between the student grid ``V`` and the (frozen, detached) teacher grid ``V^``
  at 64^3.
- ``L_lr`` (long range): mean absolute error between two ``16 x 16`` patch-correlation matrices: ``M_g`` of
  the ground truth, tokenised ViT-style by a conv stem with a 16 x 16 kernel and stride on the image
  area-resized to 64 x 64 (so 4 x 4 = 16 patches), and ``M_b`` of the student grid, tokenised by a 5-layer
  3x3 CNN on the 64^3 grid folded to ``(3 x 64) x 64 x 64`` and reduced to 4 x 4 = 16 tokens.
  "Correlation" is read as the Pearson correlation between tokens (each token centred over its features and
  L2-normalised, then dot products), so both matrices lie in [-1, 1] whatever the tokenisers' scales.

Which tokeniser parameters train: the grid CNN is trained jointly with the student (it is part of the
student's optimiser). The image stem is, by default, a fixed random projection (``requires_grad=False``, kept
in the state dict): if both tokenisers were trained on ``L_lr`` alone, the loss has a trivial minimum where
both emit constant tokens (both matrices all ones) and the term would stop constraining the student. With the
stem fixed, ``M_g`` is a non-trivial function of the ground truth that the student's grid must reproduce.
``StudentLossConfig(train_image_stem=True)`` trains it too (the paper's text allows either reading).

Recommended student step (one INN evaluation serves all three terms)::

    weights, lut = student(thumbs, grid_size=64)               # training mode: unclamped
    with torch.no_grad():
        _, teacher_lut = teacher.eval()(thumbs, grid_size=64)
    output = fuse_and_apply(frames, weights, lut)
    total, parts = criterion(output, target, lut, teacher_lut)  # criterion = StudentLoss(config)
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from edgemef.models.lut_distill.config import StudentLossConfig
from edgemef.models.lut_distill.iw import area_resize
from edgemef.models.lut_distill.student import conv_stack
from edgemef.models.lut_distill.trilinear import check_lut, resample_lattice


def teacher_loss(output: Tensor, target: Tensor) -> Tensor:
    """The teacher's only loss: L1 between ``I_E`` and ``I_G`` (both ``B x 3 x H x W``, sRGB in [0, 1])."""
    if output.shape != target.shape:
        raise ValueError(f"output {tuple(output.shape)} and target {tuple(target.shape)} differ in shape")
    return F.l1_loss(output, target)


def correlation_matrix(tokens: Tensor, eps: float = 1e-6) -> Tensor:
    """Pearson correlation between tokens: ``B x T x D -> B x T x T`` with values in [-1, 1]."""
    centred = tokens - tokens.mean(dim=-1, keepdim=True)
    unit = centred / (centred.norm(dim=-1, keepdim=True) + eps)
    return unit @ unit.transpose(1, 2)


class ImagePatchTokeniser(nn.Module):
    """ViT-style stem: the image area-resized to ``token_grid * patch_size`` square, then one conv with a
    ``patch_size`` kernel and stride: ``B x 3 x H x W -> B x token_grid^2 x token_dim`` tokens."""

    def __init__(self, config: StudentLossConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or StudentLossConfig()
        self.stem = nn.Conv2d(3, config.token_dim, config.patch_size, stride=config.patch_size)
        self.stem.requires_grad_(config.train_image_stem)

    def forward(self, images: Tensor) -> Tensor:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"images must be B x 3 x H x W, got {tuple(images.shape)}")
        side = self.config.token_grid * self.config.patch_size
        tokens = self.stem(area_resize(images, side, side))
        return tokens.flatten(2).transpose(1, 2)


class GridTokeniser(nn.Module):
    """The "small CNN" tokenising a LUT grid: 5 conv layers (3x3, ReLU between) on the folded grid.

    ``B x S x S x S x 3`` (resampled to ``distill_grid_size`` if ``S`` differs) is folded to
    ``(3 x S) x S x S`` (channels = output colour x blue, spatial = green x red) and reduced to
    ``token_grid x token_grid`` positions of ``token_dim`` features: ``B x token_grid^2 x token_dim``.
    """

    def __init__(self, config: StudentLossConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or StudentLossConfig()
        size = config.distill_grid_size
        self.cnn = conv_stack(3 * size, config.grid_widths, config.grid_strides)[:-1]  # no ReLU on the tokens

    def forward(self, lut: Tensor) -> Tensor:
        check_lut(lut)
        size = self.config.distill_grid_size
        lut = resample_lattice(lut, size)
        folded = lut.permute(0, 4, 1, 2, 3).reshape(lut.shape[0], 3 * size, size, size)
        return self.cnn(folded).flatten(2).transpose(1, 2)


class LongRangeLoss(nn.Module):
    """``L_lr``: L1 between the patch correlations of the ground truth (``M_g``) and of the grid (``M_b``)."""

    def __init__(self, config: StudentLossConfig | None = None) -> None:
        super().__init__()
        config = config or StudentLossConfig()
        self.image_tokeniser = ImagePatchTokeniser(config)
        self.grid_tokeniser = GridTokeniser(config)

    def forward(self, lut: Tensor, target: Tensor) -> Tensor:
        """``lut``: the student grid ``B x S x S x S x 3``; ``target``: ``I_G``, ``B x 3 x H x W``, [0, 1]."""
        m_b = correlation_matrix(self.grid_tokeniser(lut))
        m_g = correlation_matrix(self.image_tokeniser(target))
        return F.l1_loss(m_b, m_g)


def student_loss(
    output: Tensor,
    target: Tensor,
    student_lut: Tensor,
    teacher_lut: Tensor,
    long_range: LongRangeLoss,
    *,
    alpha: float = 0.05,
    beta: float = 0.09,
) -> tuple[Tensor, dict[str, Tensor]]:
    """Eq. 6: ``L_1 + alpha L_d1 + beta L_lr``.

    Args:
        output: ``I_E`` from the student, ``B x 3 x H x W``, sRGB in [0, 1].
        target: the ground truth ``I_G``, same shape.
        student_lut: the student grid ``V``, ``B x S x S x S x 3`` (S = 64 in the paper; unclamped).
        teacher_lut: the teacher grid ``V^`` at the same size (detached here: the teacher is frozen).
        long_range: the ``L_lr`` module holding the tokenisers.
        alpha, beta: the weights of ``L_d1`` and ``L_lr``.

    Returns:
        ``(total, parts)`` with ``parts = {"l1", "d1", "lr", "total"}`` (all scalar tensors; the parts are
        unweighted).
    """
    if check_lut(student_lut) != check_lut(teacher_lut) or student_lut.shape[0] != teacher_lut.shape[0]:
        raise ValueError(
            f"student {tuple(student_lut.shape)} and teacher {tuple(teacher_lut.shape)} grids must match"
        )
    l1 = teacher_loss(output, target)
    d1 = F.l1_loss(student_lut, teacher_lut.detach())
    lr = long_range(student_lut, target)
    total = l1 + alpha * d1 + beta * lr
    return total, {"l1": l1, "d1": d1, "lr": lr, "total": total}


class StudentLoss(nn.Module):
    """Eq. 6 as a module (holds the ``L_lr`` tokenisers; put its trainable parameters in the optimiser)."""

    def __init__(self, config: StudentLossConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or StudentLossConfig()
        self.long_range = LongRangeLoss(config)

    def forward(
        self, output: Tensor, target: Tensor, student_lut: Tensor, teacher_lut: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """See :func:`student_loss`."""
        return student_loss(
            output,
            target,
            student_lut,
            teacher_lut,
            self.long_range,
            alpha=self.config.alpha,
            beta=self.config.beta,
        )
