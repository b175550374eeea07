"""Training task of IPL (seed ``ipl-uhd`` L137-L159): L1 on dynamic and static brackets.

Samples (:class:`edgemef.train.data.BracketSamples`): random crops of the real SICE brackets (static scenes,
random exposure subsets) and, for ``synthetic_fraction`` of them, brackets synthesised from the crop's
reference image with the camera model *with motion* (camera shake and, half the time, a moving object; the
target is the scene in the reference frame's geometry) or the paper-style gamma model. The network sees the
full-resolution crop (``loss_size`` square), as one inference tile. The paper: L1, AdamW, lr 2e-4, batch 4.

``--radiance-maps DIR`` (ours) mixes in static brackets exposed from real radiance maps, which have no
reference: the loss is then LUT-distill's eq. 12 split between paired and unpaired data,
``0.9 L1(paired items) + 0.1 (1 - MEF-SSIM)(unpaired items)`` (the single-scale MEF-SSIM of that paper's
eq. 11; IPL's own paper trains on pairs only).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edgemef.data import Scene, select_exposures
from edgemef.errors import DatasetError
from edgemef.metrics import psnr
from edgemef.models.ipl.network import IPL, IPLConfig
from edgemef.models.ipl.weights import load_ipl, save_ipl
from edgemef.train.data import LoadedScene, SampleConfig, SceneTask, fuse_for_validation, split_scenes
from edgemef.train.mef_ssim_loss import unpaired_loss
from edgemef.train.radiance_samples import DEFAULT_FRACTION, RadianceMixing, paired_mask

#: IPL's learning rate in the paper (L157).
IPL_LEARNING_RATE = 2e-4
#: Side of the training crops, and so of the runtime's tiles.
IPL_TILE = 256
#: Weight of ``1 - MEF-SSIM`` on the unpaired (radiance-map) items, L1's is ``1 -`` it: LUT-distill's eq. 12.
UNPAIRED_WEIGHT = 0.1


def fuse_ipl_scene(model: IPL, scene: LoadedScene, n_exposures: int) -> np.ndarray:
    """Fuse a loaded scene's darkest/middle/brightest (or extreme two) frames with the torch model."""
    frames = scene.frames[select_exposures(len(scene.frames), str(n_exposures))]
    return fuse_for_validation(model, frames, model.config.scale, scene.reference.shape)


def initialise_from(model: IPL, trained: IPL) -> None:
    """Start ``model`` from another IPL's weights (e.g. 2 exposures from a 3-exposure run): every tensor of
    the same shape is copied; the DownSampler's first convolution keeps the darkest and brightest exposures'
    input channels, scaled so that a bracket's overall response stays the same."""
    if model.config.channels != trained.config.channels or model.config.blocks != trained.config.blocks:
        raise DatasetError("--init weights have another width or depth than the model being trained")
    state = model.state_dict()
    for key, value in trained.state_dict().items():
        if key in state and state[key].shape == value.shape:
            state[key] = value.clone()
    weight = trained.down[0].weight  # out x 3N x 3 x 3, exposures darkest first
    n_old, n_new = trained.config.n_exposures, model.config.n_exposures
    keep = sorted({round(i * (n_old - 1) / (n_new - 1)) for i in range(n_new)})
    if len(keep) == n_new:
        state["down.0.weight"] = torch.cat([weight[:, 3 * k : 3 * k + 3] for k in keep], dim=1) * (
            n_old / n_new
        )
    model.load_state_dict(state)


class IPLTask(SceneTask):
    """``edgemef train ipl``: the IPL network, L1 against the reference."""

    name = "ipl"
    default_learning_rate = IPL_LEARNING_RATE

    def __init__(
        self,
        train: Sequence[Scene],
        held_out: Sequence[Scene],
        n_exposures: int,
        config: IPLConfig | None = None,
        init: Path | None = None,
        radiance_maps: Path | None = None,
        radiance_fraction: float = DEFAULT_FRACTION,
    ) -> None:
        self.config = replace(config or IPLConfig(), n_exposures=n_exposures)
        self.init = init
        samples = SampleConfig(
            n_exposures=n_exposures, loss_size=IPL_TILE, synthetic_fraction=0.5, motion=True
        )
        super().__init__(train, held_out, samples)
        self.data_description["samples"] = asdict(samples)
        if init is not None:
            self.data_description["initialised_from"] = str(init)
        if radiance_maps is not None:
            size = self.sample_config.loss_size
            self.mix_in(RadianceMixing(Path(radiance_maps), n_exposures, size, radiance_fraction))
            self.data_description["unpaired_weight"] = UNPAIRED_WEIGHT

    def build(self) -> nn.Module:
        model = IPL(self.config)
        if self.init is not None:
            initialise_from(model, load_ipl(self.init))
        return model

    def model_of(self, module: nn.Module) -> IPL:
        return getattr(module, "module", module)

    def loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        frames = batch["frames"]  # B x N x 3 x s x s
        output = module(frames.reshape(frames.shape[0], -1, *frames.shape[-2:]))
        if self.radiance is None:
            loss = F.l1_loss(output, batch["target"])
            return loss, {"l1": loss.item()}
        paired = paired_mask(batch)
        total, parts = output.new_zeros(()), {}
        if bool(paired.any()):
            parts["l1"] = F.l1_loss(output[paired], batch["target"][paired])
            total = total + (1.0 - UNPAIRED_WEIGHT) * parts["l1"]
        if bool((~paired).any()):
            parts["unpaired"] = unpaired_loss(frames[~paired], output[~paired])
            total = total + UNPAIRED_WEIGHT * parts["unpaired"]
        return total, {**{k: v.item() for k, v in parts.items()}, "total": total.item()}

    def validate(self, module: nn.Module) -> dict[str, float]:
        """Mean PSNR of the fused held-out scenes (darkest/middle/brightest) at 512 px, and with radiance
        maps the MEF-SSIM of their validation brackets."""
        model = self.model_of(module)
        results: dict[str, float] = {}
        if self.held_out:
            scores = [psnr(fuse_ipl_scene(model, s, self.n_exposures), s.reference) for s in self.held_out]
            results["held_out_psnr"] = float(np.mean(scores))
        if self.radiance is not None:
            scale = model.config.scale
            results.update(self.radiance.score(lambda f: fuse_for_validation(model, f, scale, f.shape[1:])))
        return results

    def export(self, module: nn.Module, out_dir: Path, summary: dict[str, Any]) -> None:
        extra = {"edgemef.training": json.dumps({**summary, **self.data_description})}
        save_ipl(out_dir / "model.safetensors", self.model_of(module), extra)


def make_task(
    name: str,
    *,
    data: Path,
    holdout: Sequence[str],
    n_exposures: int,
    init: Path | None = None,
    radiance_maps: Path | None = None,
    radiance_fraction: float | None = None,
    **unused: object,
) -> IPLTask:
    """``edgemef train ipl`` on the dataset at ``data`` (the other families' options do not apply)."""
    return IPLTask(
        *split_scenes(data, holdout),
        n_exposures,
        init=init,
        radiance_maps=radiance_maps,
        radiance_fraction=DEFAULT_FRACTION if radiance_fraction is None else radiance_fraction,
    )
