"""``edgemef train crmef``: the searched network trained with eq. 7-10 of the paper.

Loss: ``l_Int + 0.75 l_Gra`` (L1 intensity loss, and the L2 distance of Sobel gradient magnitudes; the
paper's beta_1 = 0.75), plus ``--adversarial-weight`` times l_Dis, the WGAN-GP PatchGAN term of
:mod:`edgemef.models.crmef.critic` (the paper's beta_2 = 0.05; off by default, as measured in
``docs/models/crmef.md``). Samples: crops of each scene's darkest and brightest frames (the largest
exposure ratio), a third synthesised from the reference image, flips in both directions, resized to 128 px
(the paper's patch size); for a misaligned genotype every under-exposed patch is moved by a camera shake
(``MISALIGNED_SHAKE_PX``), the target keeping the over-exposed frame's geometry. ``--init`` may name a
general network of the same genotype for a misaligned one: everything but the DASM starts from it. The
paper trains 2000 epochs with Adam from 1e-4 down a cosine; ``edgemef train`` uses AdamW at the task's
1e-4 (``--lr-decay-start`` for the cosine). Validation: PSNR of the held-out scenes' extreme pairs at
512 px.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from edgemef.data import Scene
from edgemef.errors import DatasetError
from edgemef.metrics import psnr
from edgemef.models.crmef.config import MISALIGNED_SHAKE_PX
from edgemef.models.crmef.critic import PatchCritic, adversarial_losses
from edgemef.models.crmef.network import Crmef
from edgemef.models.crmef.search import Genotype, searched_network
from edgemef.models.crmef.weights import load_crmef, save_crmef
from edgemef.train.data import LoadedScene, SampleConfig, SceneTask, fuse_for_validation, split_scenes

__all__ = ["CRMEF_LEARNING_RATE", "CrmefTask", "fuse_crmef_scene", "gradient_loss", "make_task"]

#: the paper's learning rate (L181)
CRMEF_LEARNING_RATE = 1e-4
#: the paper's training patches (L181)
CRMEF_PATCH = 128
#: beta_1 of eq. 7 (L179)
GRADIENT_WEIGHT = 0.75

_SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def sobel_magnitude(image: Tensor) -> Tensor:
    """Per-channel Sobel gradient magnitude of ``B x C x H x W`` (replicate padding)."""
    channels = image.shape[1]
    kernels = torch.stack([_SOBEL_X, _SOBEL_X.t()]).to(image).unsqueeze(1).repeat(channels, 1, 1, 1)
    padded = F.pad(image, (1, 1, 1, 1), mode="replicate")
    gradients = F.conv2d(padded, kernels, groups=channels).reshape(
        image.shape[0], channels, 2, *image.shape[-2:]
    )
    return torch.sqrt((gradients**2).sum(dim=2) + 1e-8)


def gradient_loss(output: Tensor, target: Tensor) -> Tensor:
    """l_Gra (eq. 9): the mean squared difference of the Sobel gradient magnitudes."""
    return F.mse_loss(sobel_magnitude(output), sobel_magnitude(target))


def fuse_crmef_scene(model: Crmef, scene: LoadedScene) -> np.ndarray:
    """The darkest and brightest frames fused by the torch model (uint8, the size of the reference)."""
    frames = scene.frames[[0, len(scene.frames) - 1]]
    return fuse_for_validation(model, frames, model.config.size_multiple, scene.reference.shape)


class CrmefTask(SceneTask):
    """``edgemef train crmef``: a searched CRMEF network (its genotype) on eq. 7, the critic's term
    ``l_Dis`` weighted by ``adversarial_weight`` (0: off)."""

    name = "crmef"
    default_learning_rate = CRMEF_LEARNING_RATE

    def __init__(
        self,
        train: Sequence[Scene],
        held_out: Sequence[Scene],
        genotype: Genotype,
        init: Path | None = None,
        patch: int = CRMEF_PATCH,
        adversarial_weight: float = 0.0,
    ) -> None:
        if not (math.isfinite(adversarial_weight) and adversarial_weight >= 0.0):
            raise DatasetError(f"--adversarial-weight must be a number >= 0, got {adversarial_weight}")
        self.genotype = genotype
        self.init = init
        self.adversarial_weight = adversarial_weight
        samples = SampleConfig(
            n_exposures=2,
            loss_size=patch,
            crop_scale=(0.25, 1.0),
            synthetic_fraction=1 / 3,
            max_side=1024,
            shake_px=MISALIGNED_SHAKE_PX if genotype.config.misaligned else 0.0,
            extreme_pair=True,
            vertical_flip=True,
        )
        super().__init__(train, held_out, samples)
        self.data_description["samples"] = asdict(samples)
        self.data_description["genotype"] = genotype.layers
        if init is not None:
            self.data_description["initialised_from"] = str(init)
        self.data_description["adversarial_weight"] = adversarial_weight

    def build(self) -> nn.Module:
        model = self._network()
        if self.adversarial_weight > 0.0:
            return NetworkAndCritic(model, PatchCritic())
        return model

    def _network(self) -> Crmef:
        model = searched_network(self.genotype)
        if self.init is not None:
            trained = load_crmef(self.init)
            if trained.config == model.config:
                model.load_state_dict(trained.state_dict())
            elif model.config.misaligned and replace(trained.config, max_offset=None) == replace(
                model.config, misaligned=False, max_offset=None
            ):
                _load_all_but_alignment(model, trained, self.init)
            else:
                raise DatasetError(f"--init {self.init} is a CRMEF network of another configuration")
        return model

    def model_of(self, module: nn.Module) -> Crmef:
        module = getattr(module, "module", module)  # unwrap DistributedDataParallel
        return module.network if isinstance(module, NetworkAndCritic) else module

    def loss(self, module: nn.Module, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        frames = batch["frames"]  # B x 2 x 3 x s x s, darkest first
        target = batch["target"]
        output = module(frames.reshape(frames.shape[0], -1, *frames.shape[-2:]))
        intensity = F.l1_loss(output, target)
        gradient = gradient_loss(output, target)
        total = intensity + GRADIENT_WEIGHT * gradient
        parts = {"l_int": intensity.item(), "l_gra": gradient.item()}
        unwrapped = getattr(module, "module", module)
        if isinstance(unwrapped, NetworkAndCritic):
            network_term, critic_term, logged = adversarial_losses(unwrapped.critic, output, target)
            total = total + self.adversarial_weight * network_term + critic_term
            parts.update(logged)
        return total, parts

    def validate(self, module: nn.Module) -> dict[str, float]:
        """Mean PSNR of the held-out scenes' extreme pairs at 512 px."""
        if not self.held_out:
            return {}
        model = self.model_of(module)
        return {
            "held_out_psnr": float(
                np.mean([psnr(fuse_crmef_scene(model, s), s.reference) for s in self.held_out])
            )
        }

    def export(self, module: nn.Module, out_dir: Path, summary: dict[str, Any]) -> None:
        extra = {"edgemef.training": json.dumps({**summary, **self.data_description})}
        save_crmef(out_dir / "model.safetensors", self.model_of(module), self.genotype, extra)


class NetworkAndCritic(nn.Module):
    """What trains with l_Dis: the fusion network (its forward) and the PatchGAN critic beside it."""

    def __init__(self, network: Crmef, critic: PatchCritic) -> None:
        super().__init__()
        self.network = network
        self.critic = critic

    def forward(self, frames: Tensor) -> Tensor:
        return self.network(frames)


def _load_all_but_alignment(model: Crmef, general: Crmef, path: Path) -> None:
    """A misaligned network's weights from a general one (relighting, features, repletion); its DASM keeps
    its initialisation."""
    try:
        missing, unexpected = model.load_state_dict(general.state_dict(), strict=False)
    except RuntimeError as error:  # a tensor of another shape: another genotype
        raise DatasetError(f"--init {path}: its layers are not this genotype's ({error})") from None
    if unexpected or any(not key.startswith("align.") for key in missing):
        raise DatasetError(f"--init {path}: its layers are not this genotype's")


def make_task(
    name: str,
    *,
    data: Path,
    holdout: Sequence[str],
    n_exposures: int,
    init: Path | None = None,
    genotype: Path | None = None,
    adversarial_weight: float = 0.0,
    **unused: object,
) -> CrmefTask:
    """``edgemef train crmef --genotype G`` on the dataset at ``data`` (two exposures)."""
    if n_exposures != 2:
        raise DatasetError("CRMEF fuses two exposures: pass --exposures 2")
    if genotype is None:
        raise DatasetError("edgemef train crmef needs --genotype FILE (from edgemef search crmef)")
    try:
        chosen = Genotype.load(genotype)
    except ValueError as error:
        raise DatasetError(str(error)) from None
    return CrmefTask(*split_scenes(data, holdout), chosen, init=init, adversarial_weight=adversarial_weight)
