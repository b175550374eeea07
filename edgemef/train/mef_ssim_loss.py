"""Structure losses: the LUT-distill paper's unpaired ``L_unpaired = 1 - MEF-SSIM`` (eqs. 8-11, eq. 12), and
the supervised ``1 - SSIM`` against the reference (an option of ours, :func:`ssim_loss`).

The paper trains semi-supervised with ``L_total = lambda_1 L_paired + lambda_2 L_unpaired`` (lambda_1 = 0.9,
lambda_2 = 0.1), where ``L_unpaired`` is one minus the mean of the MEF-SSIM quality map of Ma, Zeng & Wang
(no ground truth: the "desired" patch is built from the exposures). Here ``L_paired`` is the student's eq. 6;
the adaptive LUT and IPL tasks use these losses too (on radiance-map brackets, which have no reference).

This is the single-scale quality map of :mod:`edgemef.metrics.mef_ssim` (the authors' ``mef_ssim.m``: 11 x 11
square window for means, contrasts and the structure-consistency exponent; Gaussian window, sigma 1.5, for the
statistics compared; no luminance term) written in torch. Everything that defines the desired patch depends on
the exposures only, so it is computed without gradients (in float64, like the metric); the gradient flows
through the fused image's Gaussian statistics. Grayscale with MATLAB ``rgb2gray`` weights, on a 0..255 scale
like the metric (not rounded, to stay differentiable). Tested against the numpy metric's first scale.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from edgemef.metrics.mef_ssim import MEF_SSIM_SCALE_WEIGHTS, RGB2GRAY_WEIGHTS

_WIN = 11
_C = (0.03 * 255.0) ** 2
_P_MAX = 10.0
_EPS = 2.220446049250313e-16  # MATLAB eps, as in the metric
_FLAT_VAR = 1e-8

#: Eq. 12's weights of the paired and unpaired terms (the paper's lambda_1, lambda_2).
PAIRED_WEIGHT = 0.9
UNPAIRED_WEIGHT = 0.1


def _gray255(images: Tensor) -> Tensor:
    """``... x 3 x H x W`` RGB in [0, 1] -> ``... x 1 x H x W`` gray on 0..255."""
    weights = images.new_tensor(RGB2GRAY_WEIGHTS).view(3, 1, 1)
    return (images.clamp(0.0, 1.0) * weights).sum(dim=-3, keepdim=True) * 255.0


def _gaussian_window(like: Tensor) -> Tensor:
    radius = _WIN // 2
    x = torch.arange(-radius, radius + 1, dtype=like.dtype, device=like.device)
    g = torch.exp(-(x * x) / (2 * 1.5**2))
    return g / g.sum()


def _filter(images: Tensor, kernel_1d: Tensor) -> Tensor:
    """Separable 'valid' filtering of ``B x 1 x H x W`` -> ``B x 1 x (H-10) x (W-10)``."""
    k = kernel_1d.numel()
    out = F.conv2d(images, kernel_1d.view(1, 1, 1, k))
    return F.conv2d(out, kernel_1d.view(1, 1, k, 1))


def mef_ssim_map(frames: Tensor, fused: Tensor) -> Tensor:
    """Single-scale MEF-SSIM quality map.

    Args:
        frames: ``B x N x 3 x H x W`` exposures, sRGB in [0, 1] (constants: no gradient flows to them).
        fused: ``B x 3 x H x W`` fused image, sRGB in [0, 1].

    Returns:
        ``B x 1 x (H - 10) x (W - 10)`` quality map (at most 1).
    """
    if frames.dim() != 5 or fused.dim() != 4 or frames.shape[0] != fused.shape[0]:
        raise ValueError(
            f"frames B x N x 3 x H x W and fused B x 3 x H x W expected, got "
            f"{tuple(frames.shape)} and {tuple(fused.shape)}"
        )
    if min(fused.shape[-2:]) < _WIN:
        raise ValueError(f"MEF-SSIM needs images of at least {_WIN} pixels on a side")
    batch, n = frames.shape[:2]
    # float64 throughout, as the metric: in float32, 1 - eps rounds to 1 and tan(pi/2 * r) turns negative.
    out_dtype = fused.dtype
    frames = frames.double()
    fused = fused.double()
    gauss_k = _gaussian_window(fused)
    box_k = torch.full((_WIN,), 1.0 / _WIN, dtype=fused.dtype, device=fused.device)
    npix = float(_WIN * _WIN)

    def box(t: Tensor) -> Tensor:
        return _filter(t, box_k)

    def gauss(t: Tensor) -> Tensor:
        return _filter(t, gauss_k)

    def flat_zero(v: Tensor) -> Tensor:
        return torch.where(v < _FLAT_VAR, torch.zeros_like(v), v)

    f = _gray255(fused) - 128.0
    with torch.no_grad():
        x = _gray255(frames.detach()).reshape(batch * n, 1, *frames.shape[-2:]) - 128.0
        mu = box(x)
        vbox = flat_zero(box(x * x) - mu * mu)
        norms = torch.sqrt(npix * vbox)
        ed = norms + 0.001
        s = x.reshape(batch, n, *x.shape[1:]).sum(dim=1)
        mu_s = box(s)
        num = torch.sqrt(npix * flat_zero(box(s * s) - mu_s * mu_s))
        norms_b = norms.reshape(batch, n, *norms.shape[1:])
        ed_b = ed.reshape(batch, n, *ed.shape[1:])
        r = (num + _EPS) / (norms_b.sum(dim=1) + _EPS)
        r = torch.where(r > 1.0, torch.full_like(r, 1.0 - _EPS), r).clamp_min(_EPS)
        p = torch.tan(math.pi / 2.0 * r).clamp(max=_P_MAX)
        weights = (ed_b / _WIN) ** p.unsqueeze(1) + _EPS
        a = weights / weights.sum(dim=1, keepdim=True) / ed_b  # B x N x 1 x h x w
        max_ed = ed_b.amax(dim=1)
        gm = gauss(x).reshape(batch, n, *mu.shape[1:])
        vg = flat_zero(gauss(x * x).reshape_as(gm) - gm * gm)
        vg = torch.where(vbox.reshape_as(vg) > 0, vg, torch.zeros_like(vg))
        xb = x.reshape(batch, n, *x.shape[1:])
        mu_b = mu.reshape_as(gm)
        vbox_b = vbox.reshape_as(gm)
        norm_sq = torch.zeros_like(max_ed)
        var_d = torch.zeros_like(max_ed)
        for k in range(n):
            norm_sq = norm_sq + a[:, k] ** 2 * vbox_b[:, k]
            var_d = var_d + a[:, k] ** 2 * vg[:, k]
            for j in range(k + 1, n):
                xx = xb[:, k] * xb[:, j]
                cb = box(xx) - mu_b[:, k] * mu_b[:, j]
                bound = torch.sqrt(vbox_b[:, k] * vbox_b[:, j])
                cg = gauss(xx) - gm[:, k] * gm[:, j]
                bound_g = torch.sqrt(vg[:, k] * vg[:, j])
                norm_sq = norm_sq + 2 * a[:, k] * a[:, j] * torch.maximum(torch.minimum(cb, bound), -bound)
                var_d = var_d + 2 * a[:, k] * a[:, j] * torch.maximum(torch.minimum(cg, bound_g), -bound_g)
        norm = torch.sqrt((npix * norm_sq).clamp_min(0.0))
        scale = torch.where(norm > 0, max_ed / norm.clamp_min(1e-30), torch.ones_like(norm))
        sigma1_sq = scale * scale * var_d.clamp_min(0.0)
    gf = gauss(f)
    vf = (gauss(f * f) - gf * gf).clamp_min(0.0)
    cov_df = torch.zeros_like(gf)
    for k in range(n):
        cov = gauss(xb[:, k] * f) - gm[:, k] * gf
        bound = torch.sqrt(vg[:, k] * vf + 1e-12)
        cov_df = cov_df + a[:, k] * torch.maximum(torch.minimum(cov, bound), -bound)
    sigma12 = scale * cov_df
    return ((2.0 * sigma12 + _C) / (sigma1_sq + vf + _C)).to(out_dtype)


def ssim_loss(image: Tensor, reference: Tensor) -> Tensor:
    """``1 - SSIM(image, reference)``, the SSIM of :func:`edgemef.metrics.ssim` (Wang et al. 2004: Gaussian
    window sigma 1.5, 11 x 11, population statistics, K1 0.01, K2 0.03, every channel alike) on images in
    [0, 1] (data range 1), averaged over the valid window positions, the channels and the batch.

    Args:
        image: ``B x C x H x W``, the differentiable output.
        reference: ``B x C x H x W``, the ground truth.
    """
    if image.shape != reference.shape or image.dim() != 4:
        raise ValueError(
            f"two B x C x H x W images expected, got {tuple(image.shape)} and {tuple(reference.shape)}"
        )
    if min(image.shape[-2:]) < _WIN:
        raise ValueError(f"SSIM needs images of at least {_WIN} pixels on a side")
    x = image.reshape(-1, 1, *image.shape[-2:])
    y = reference.reshape(-1, 1, *reference.shape[-2:]).to(x.dtype)
    kernel = _gaussian_window(x)
    mu_x, mu_y = _filter(x, kernel), _filter(y, kernel)
    var_x = _filter(x * x, kernel) - mu_x * mu_x
    var_y = _filter(y * y, kernel) - mu_y * mu_y
    cov = _filter(x * y, kernel) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return 1.0 - ssim_map.mean()


def unpaired_loss(frames: Tensor, fused: Tensor) -> Tensor:
    """Eq. 11: ``1 - mean(Score(p))`` over the valid window positions and the batch."""
    return 1.0 - mef_ssim_map(frames, fused).mean()


def _half(images: Tensor) -> Tensor:
    """The metric's downsampling on ``... x H x W``: 2 x 2 mean, the odd last row/column repeated."""
    shape = images.shape
    flat = images.reshape(-1, 1, *shape[-2:])
    flat = F.pad(flat, (0, shape[-1] % 2, 0, shape[-2] % 2), mode="replicate")
    flat = F.avg_pool2d(flat, 2)
    return flat.reshape(*shape[:-2], *flat.shape[-2:])


def multiscale_unpaired_loss(frames: Tensor, fused: Tensor) -> Tensor:
    """``1 - MEF-SSIM`` as the metric scores it: the quality map's mean at
    ``len(MEF_SSIM_SCALE_WEIGHTS)`` scales (halved each time, as :mod:`edgemef.metrics.mef_ssim`),
    combined per image as ``prod(mean_l ** w_l)`` and averaged over the batch.

    The metric's weights put 93 % on the 2x and 4x downsampled scales, which :func:`unpaired_loss` (the
    paper's single scale) never sees. Images need ``11 * 2 ** (scales - 1)`` pixels on a side.
    """
    levels = len(MEF_SSIM_SCALE_WEIGHTS)
    if min(fused.shape[-2:]) < _WIN * 2 ** (levels - 1):
        raise ValueError(f"multi-scale MEF-SSIM needs images of at least {_WIN * 2 ** (levels - 1)} pixels")
    score = fused.new_ones(fused.shape[0])
    for level, weight in enumerate(MEF_SSIM_SCALE_WEIGHTS):
        if level:
            frames, fused = _half(frames), _half(fused)
        mean = mef_ssim_map(frames, fused).mean(dim=(1, 2, 3))
        score = score * mean.clamp_min(1e-6) ** weight
    return 1.0 - score.mean()
