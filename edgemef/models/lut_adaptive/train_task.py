"""``edgemef train lut-adaptive``: the weight maps and the LUT, trained towards the reference and MEF-SSIM.

Loss (ours): ``L1(I_E, I_G) + s (1 - SSIM(I_E, I_G)) + m (1 - MEF-SSIM(bracket, I_E))`` with s = m = 1 by
default. MEF-SSIM is the metric's own three-scale score (:func:`multiscale_unpaired_loss`), not the paper's
single scale: the metric weighs the 2x and 4x downsampled scales 93 %. Why the unpaired MEF-SSIM term:
SICE's references themselves score below Mertens in MEF-SSIM (training scenes median 0.9572 vs 0.9851), so a
model trained towards them alone stays below Mertens there;
per-scene fits with this loss beat Mertens in PSNR, SSIM and MEF-SSIM (docs/research/adaptive-lut-fusion.md).
No distillation terms: the LUT network starts from the shipped LUT-distill student (already distilled from its
teacher) and the maps have no teacher to learn from.

``--radiance-maps DIR`` mixes in static brackets exposed from real radiance maps
(:mod:`edgemef.train.radiance_samples`, a share ``--radiance-fraction`` of the samples). They have no
reference, so only the MEF-SSIM term scores them, and their LUT is detached: they teach the weight maps where
to take each exposure from, while SICE's references alone set the look (a LUT pushed by MEF-SSIM alone would
drift towards whatever tone curve maximises local contrast). Validation then also reports the mean MEF-SSIM of
fixed brackets of the validation maps, beside Mertens' on the same brackets.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from edgemef.data import Scene, select_exposures
from edgemef.errors import DatasetError
from edgemef.metrics import psnr, ssim
from edgemef.metrics.mef_ssim import mef_ssim
from edgemef.models.lut_adaptive.config import AdaptiveConfig, WeightMapConfig
from edgemef.models.lut_adaptive.network import AdaptiveStudent
from edgemef.models.lut_adaptive.weights import MODEL, load_weights, save_weights
from edgemef.models.lut_distill.train_tasks import (
    STUDENT_GRID,
    _batch_thumbnails,
    _LutTask,
    fuse_scene,
)
from edgemef.models.lut_distill.trilinear import fuse_and_apply
from edgemef.models.lut_distill.weights import load_weights as load_student_weights
from edgemef.train.data import split_scenes
from edgemef.train.mef_ssim_loss import multiscale_unpaired_loss, ssim_loss
from edgemef.train.radiance_samples import DEFAULT_FRACTION, paired_mask
from edgemef.weights import shipped_weights

#: default weights of ``1 - SSIM`` and ``1 - MEF-SSIM`` (the per-scene oracle's best, 16 x 16 maps)
SSIM_WEIGHT = 1.0
MEF_SSIM_WEIGHT = 1.0


class AdaptiveTask(_LutTask):
    """Train :class:`AdaptiveStudent` (see the module docstring for the loss)."""

    name = MODEL
    expected_weights = MODEL

    def __init__(
        self,
        train: Sequence[Scene],
        held_out: Sequence[Scene],
        n_exposures: int,
        *,
        ssim_weight: float = SSIM_WEIGHT,
        mef_ssim_weight: float = MEF_SSIM_WEIGHT,
        native_fraction: float = 0.0,
        strong_augmentation: bool = False,
        init: Path | None = None,
        student: Path | None = None,
        map_grid: int = 16,
        map_context_layers: int = 2,
        radiance_maps: Path | None = None,
        radiance_fraction: float = DEFAULT_FRACTION,
    ) -> None:
        super().__init__(
            train,
            held_out,
            n_exposures,
            native_fraction=native_fraction,
            strong_augmentation=strong_augmentation,
            init=init,
            radiance_maps=radiance_maps,
            radiance_fraction=radiance_fraction,
        )
        if ssim_weight < 0.0 or mef_ssim_weight < 0.0:
            raise DatasetError(f"loss weights must be at least 0, got {ssim_weight} and {mef_ssim_weight}")
        self.ssim_weight = ssim_weight
        self.mef_ssim_weight = mef_ssim_weight
        self.student = student if student is not None else shipped_weights("lut-student", n_exposures)
        try:
            maps = WeightMapConfig.for_grid(map_grid, context_layers=map_context_layers)
            self.config = AdaptiveConfig(n_exposures=n_exposures, weight_maps=maps)
        except ValueError as error:
            raise DatasetError(
                f"--map-grid {map_grid}, --map-context-layers {map_context_layers}: {error}"
            ) from None
        self.data_description.update(
            ssim_weight=ssim_weight,
            mef_ssim_weight=mef_ssim_weight,
            mef_ssim_loss="three scales (the metric's)",
            student_grid=STUDENT_GRID,
            map_grid=map_grid,
            map_context_layers=map_context_layers,
        )
        if init is None:
            self.data_description["warm_start"] = str(self.student)

    def build(self) -> nn.Module:
        model = AdaptiveStudent(self.config)
        if self.init is not None:
            trained = load_weights(self.init)
            if trained.config == model.config:
                model.load_state_dict(trained.state_dict())
            elif replace(trained.config, weight_maps=model.config.weight_maps) == model.config:
                fresh = model.load_other_grid(trained)
                self.data_description["fresh_from_init"] = fresh  # another map network: these start anew
            else:
                raise DatasetError(f"--init {self.init}: another configuration than the model being trained")
            return model
        if not Path(self.student).exists():
            raise DatasetError(
                f"no LUT-distill student to start from at {self.student}: pass --student FILE or --init FILE"
            )
        return model.load_student(load_student_weights(self.student, expected="lut-student"))

    def model_of(self, module: nn.Module) -> AdaptiveStudent:
        return getattr(module, "module", module)

    def loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        thumbs = _batch_thumbnails(batch)
        frames, target = batch["frames"], batch["target"]
        paired = paired_mask(batch)
        maps, lut = module(thumbs, STUDENT_GRID)
        lut = torch.where(paired[:, None, None, None, None], lut, lut.detach())  # unpaired: maps only
        output = fuse_and_apply(frames, maps, lut)
        total = output.new_zeros(())
        parts: dict[str, torch.Tensor] = {}
        if bool(paired.any()):
            parts["l1"] = (output[paired] - target[paired]).abs().mean()
            total = total + parts["l1"]
            if self.ssim_weight > 0.0:
                parts["ssim"] = ssim_loss(output[paired], target[paired])
                total = total + self.ssim_weight * parts["ssim"]
        if self.mef_ssim_weight > 0.0:
            parts["mef_ssim"] = multiscale_unpaired_loss(frames, output)
            total = total + self.mef_ssim_weight * parts["mef_ssim"]
        parts["total"] = total
        return total, {k: float(v.item()) for k, v in parts.items()}

    def validate(self, module: nn.Module) -> dict[str, float]:
        """PSNR, SSIM and MEF-SSIM of every held-out scene (darkest/middle/brightest) at 512 px, grid 33."""
        model = self.model_of(module)
        results: dict[str, float] = {}
        for scene in self.held_out:
            fused = fuse_scene(model, scene, self.n_exposures)
            frames = scene.frames[select_exposures(len(scene.frames), str(self.n_exposures))]
            results[f"{scene.name}_psnr"] = float(psnr(fused, scene.reference))
            results[f"{scene.name}_ssim"] = float(ssim(fused, scene.reference))
            results[f"{scene.name}_mef_ssim"] = float(mef_ssim(frames, fused))
        return {**results, **self.radiance_scores(model)}

    def export(self, module: nn.Module, out_dir: Path, summary: dict[str, Any]) -> None:
        extra = {"edgemef.training": json.dumps({**summary, **self.data_description})}
        save_weights(out_dir / "model.safetensors", self.model_of(module), extra)


def make_task(
    name: str,
    *,
    data: Path,
    holdout: Sequence[str],
    n_exposures: int,
    ssim_weight: float | None = None,
    mef_ssim_weight: float | None = None,
    native_loss_fraction: float = 0.0,
    strong_augmentation: bool = False,
    init: Path | None = None,
    student: Path | None = None,
    map_grid: int | None = None,
    map_context_layers: int | None = None,
    radiance_maps: Path | None = None,
    radiance_fraction: float | None = None,
    **unused: object,
) -> AdaptiveTask:
    """The ``lut-adaptive`` training task on the dataset at ``data``."""
    if name != MODEL:
        raise DatasetError(f"unknown training task {name!r}; this family trains {MODEL}")
    train, held_out = split_scenes(data, holdout)
    return AdaptiveTask(
        train,
        held_out,
        n_exposures,
        ssim_weight=SSIM_WEIGHT if ssim_weight is None else ssim_weight,
        mef_ssim_weight=MEF_SSIM_WEIGHT if mef_ssim_weight is None else mef_ssim_weight,
        native_fraction=native_loss_fraction,
        strong_augmentation=strong_augmentation,
        init=init,
        student=student,
        map_grid=16 if map_grid is None else map_grid,
        map_context_layers=2 if map_context_layers is None else map_context_layers,
        radiance_maps=radiance_maps,
        radiance_fraction=DEFAULT_FRACTION if radiance_fraction is None else radiance_fraction,
    )
