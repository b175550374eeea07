"""l_Dis of CRMEF's eq. 7 and 10: a PatchGAN critic trained with the WGAN-GP objective (Gulrajani et al.).

Eq. 10: ``E D(y) - E D(y_gt) + lambda E[(||grad D(y_hat)||_2 - 1)^2]``, the critic ``D`` scoring every
70x70 patch of an image (pix2pix's PatchGAN, the paper's [66]); the fusion network minimises ``-E D(y)``,
weighted by beta_2 = 0.05 (L179).

Readings (the paper is silent on them):

- The critic is pix2pix's 70x70 PatchGAN (4x4 convolutions, strides 2, 2, 2, 1, then a 1-channel 4x4
  convolution, LeakyReLU 0.2) at base width 32 instead of 64 (a quarter of the cost; the fusion network at
  C16 is small) and **without normalisation layers**: the gradient penalty is per sample, which batch
  normalisation breaks (WGAN-GP's advice).
- The penalty is taken, as in WGAN-GP, at random interpolates ``y_hat = e y_gt + (1 - e) y`` (eq. 10's
  ``nabla_y`` read as that), lambda = 10.
- One optimiser steps the fusion network and the critic together, one critic step per network step (WGAN-GP
  takes 5): the network's adversarial term is computed with the critic's parameters detached, and the
  critic's loss with the network's output detached, so each part gets only its own objective's gradient.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.func import functional_call

__all__ = ["PENALTY_WEIGHT", "PatchCritic", "adversarial_losses"]

#: WGAN-GP's gradient-penalty weight (eq. 10's eta)
PENALTY_WEIGHT = 10.0


class PatchCritic(nn.Module):
    """pix2pix's 70x70 PatchGAN without normalisation: ``B x 3 x H x W`` -> ``B x 1 x h x w`` patch scores."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for multiple, stride in ((1, 2), (2, 2), (4, 2), (8, 1)):
            layers += [nn.Conv2d(channels, width * multiple, 4, stride, 1), nn.LeakyReLU(0.2)]
            channels = width * multiple
        layers.append(nn.Conv2d(channels, 1, 4, 1, 1))
        self.layers = nn.Sequential(*layers)

    def forward(self, image: Tensor) -> Tensor:
        return self.layers(image)


def adversarial_losses(
    critic: PatchCritic, fused: Tensor, target: Tensor
) -> tuple[Tensor, Tensor, dict[str, float]]:
    """The network's adversarial term ``-E D(y)`` (critic parameters detached) and the critic's eq. 10
    (network output detached), with the Wasserstein estimate and the penalty for the log."""
    frozen = {name: parameter.detach() for name, parameter in critic.named_parameters()}
    network_term = -functional_call(critic, frozen, (fused,)).mean()
    fake = fused.detach()
    wasserstein = critic(target).mean() - critic(fake).mean()
    mix = torch.rand(target.shape[0], 1, 1, 1, dtype=target.dtype, device=target.device)
    between = (mix * target + (1.0 - mix) * fake).requires_grad_(True)
    (gradient,) = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
    penalty = ((gradient.flatten(1).norm(dim=1) - 1.0) ** 2).mean()
    critic_term = -wasserstein + PENALTY_WEIGHT * penalty
    return network_term, critic_term, {"w_dist": wasserstein.item(), "gp": penalty.item()}
