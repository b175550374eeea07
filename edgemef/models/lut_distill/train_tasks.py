"""Training tasks of the LUT-distill family: the teacher (L1) and the student (eq. 6, distilled)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from edgemef.data import Scene, select_exposures
from edgemef.errors import DatasetError
from edgemef.metrics import psnr, ssim
from edgemef.models.lut_distill import (
    Student,
    StudentConfig,
    StudentLoss,
    Teacher,
    TeacherConfig,
    fuse_and_apply,
    resample_lattice,
    teacher_loss,
)
from edgemef.models.lut_distill.weights import load_weights, save_weights
from edgemef.train.data import (
    LoadedScene,
    SampleConfig,
    SceneTask,
    make_thumbnails,
    split_scenes,
    to_tensor,
)
from edgemef.train.mef_ssim_loss import ssim_loss, unpaired_loss
from edgemef.train.radiance_samples import DEFAULT_FRACTION, RadianceMixing, paired_mask

#: lambda_2 of the paper's eq. 12, the unpaired (MEF-SSIM) loss's weight: the student's default with radiance
#: maps.
PAPER_UNPAIRED_WEIGHT = 0.1
#: Grid size of the teacher's own training.
TEACHER_GRID = 33
#: Grid size of the distillation (L_d1) and long-range (L_lr) terms: the paper's 64^3.
DISTILL_GRID = 64
#: Lattice the student's MLP is queried on during training. The paper queries it at 64^3; on a 2-core CPU
#: that costs 7 s a step (batch 4), so the shipped run queries 33^3 (1 s a step), computes the image loss
#: there, and trilinearly resamples that grid to 64^3 for L_d1 and L_lr. ``--student-grid 64`` is the paper's.
STUDENT_GRID = 33
#: Longest side scenes are kept at when some samples are scored at native resolution (``native_fraction``):
#: SICE's stored size, the resolution ``edgemef eval`` scores at. Otherwise 1024 (``SampleConfig``).
NATIVE_MAX_SIDE = 1536
#: What ``--strong-augmentation`` changes in the samples: smaller crops (more varied histograms per scene),
#: random colour-channel permutations and vertical flips. For a LUT predictor that has 9 scenes to learn from.
STRONG_AUGMENTATION = {"crop_scale": (0.2, 1.0), "channel_permutation": 0.5, "vertical_flip": True}


def _batch_thumbnails(batch: dict[str, torch.Tensor]) -> torch.Tensor:
    thumbs = batch["thumbnails"]  # B x N x 3 x t x t
    return thumbs.reshape(thumbs.shape[0], -1, *thumbs.shape[-2:])


class _LutTask(SceneTask):
    """What the teacher and student tasks share: data, validation, export."""

    name = ""
    expected_weights = ""

    def __init__(
        self,
        train: Sequence[Scene],
        held_out: Sequence[Scene],
        n_exposures: int,
        *,
        native_fraction: float = 0.0,
        strong_augmentation: bool = False,
        init: Path | None = None,
        radiance_maps: Path | None = None,
        radiance_fraction: float = DEFAULT_FRACTION,
    ) -> None:
        samples = SampleConfig(n_exposures=n_exposures, native_fraction=native_fraction)
        if native_fraction > 0.0:
            samples = replace(samples, max_side=NATIVE_MAX_SIDE)
        if strong_augmentation:
            samples = replace(samples, **STRONG_AUGMENTATION)
        super().__init__(train, held_out, samples)
        self.init = init
        self.data_description["native_fraction"] = native_fraction
        self.data_description["strong_augmentation"] = strong_augmentation
        if init is not None:
            self.data_description["initialised_from"] = str(init)
        if radiance_maps is not None:
            size = self.sample_config.loss_size
            self.mix_in(RadianceMixing(Path(radiance_maps), n_exposures, size, radiance_fraction))

    def initialised(self, model: Student | Teacher) -> Student | Teacher:
        """``model`` with the ``--init`` weights (same kind and exposure count) copied in, if any."""
        if self.init is None:
            return model
        trained = load_weights(self.init, expected=self.expected_weights)
        if trained.config != model.config:
            raise DatasetError(
                f"--init {self.init}: its {self.expected_weights} has another configuration "
                f"({trained.config.n_exposures} exposures) than the model being trained "
                f"({model.config.n_exposures})"
            )
        model.load_state_dict(trained.state_dict())
        return model

    def model_of(self, module: nn.Module) -> Student | Teacher:
        raise NotImplementedError

    def validate(self, module: nn.Module) -> dict[str, float]:
        """Mean PSNR and SSIM of the fused held-out scenes (darkest/middle/brightest) at 512 px, grid 33,
        and the radiance validation brackets' MEF-SSIM (:meth:`radiance_scores`)."""
        model = self.model_of(module)
        results = self.radiance_scores(model)
        if self.held_out:
            fused = [(fuse_scene(model, scene, self.n_exposures), scene.reference) for scene in self.held_out]
            results["held_out_psnr"] = float(np.mean([psnr(image, reference) for image, reference in fused]))
            results["held_out_ssim"] = float(np.mean([ssim(image, reference) for image, reference in fused]))
        return results

    def radiance_scores(self, model: nn.Module) -> dict[str, float]:
        """``radiance_mef_ssim`` of ``model`` on the radiance validation brackets (none without maps)."""
        if self.radiance is None:
            return {}
        return self.radiance.score(lambda frames: fuse_frames(model, frames, STUDENT_GRID))

    def export(self, module: nn.Module, out_dir: Path, summary: dict[str, Any]) -> None:
        extra = {"edgemef.training": json.dumps({**summary, **self.data_description})}
        save_weights(out_dir / "model.safetensors", self.model_of(module), extra)


def fuse_scene(
    model: Student | Teacher, scene: LoadedScene, n_exposures: int, grid_size: int = 33
) -> np.ndarray:
    """Fuse a loaded scene's darkest/middle/brightest (or extreme two) frames with the torch model."""
    frames = scene.frames[select_exposures(len(scene.frames), str(n_exposures))]
    return fuse_frames(model, frames, grid_size)


def fuse_frames(model: Student | Teacher, frames: np.ndarray, grid_size: int = 33) -> np.ndarray:
    """Fuse ``frames`` (uint8 ``N x H x W x 3``, the model's ``N``) with the torch model; uint8 RGB."""
    thumbs = to_tensor(make_thumbnails(frames, model.config.thumbnail_size)).reshape(1, -1, 128, 128)
    with torch.no_grad():
        was_training = model.training
        model.eval()
        weights, lut = model(thumbs, grid_size)
        fused = fuse_and_apply(to_tensor(frames)[None], weights, lut)[0]
        model.train(was_training)
    return (fused.clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


class TeacherTask(_LutTask):
    """The teacher: L1 between its fused output and the reference, at grid 33."""

    name = "lut-teacher"
    expected_weights = "lut-teacher"

    def build(self) -> nn.Module:
        return self.initialised(Teacher(TeacherConfig(n_exposures=self.n_exposures)))

    def model_of(self, module: nn.Module) -> Teacher:
        return getattr(module, "module", module)

    def loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        weights, lut = module(_batch_thumbnails(batch), TEACHER_GRID)
        loss = teacher_loss(fuse_and_apply(batch["frames"], weights, lut), batch["target"])
        return loss, {"l1": loss.item()}


class StudentModule(nn.Module):
    """The student and the trained tokenisers of its L_lr loss, optimised together."""

    def __init__(
        self,
        student: Student,
        criterion: StudentLoss,
        grid_size: int = STUDENT_GRID,
        unpaired_weight: float = 0.0,
        ssim_weight: float = 0.0,
    ) -> None:
        super().__init__()
        self.student = student
        self.criterion = criterion
        self.grid_size = grid_size
        self.unpaired_weight = unpaired_weight
        self.ssim_weight = ssim_weight

    def forward(
        self,
        thumbs: torch.Tensor,
        frames: torch.Tensor,
        target: torch.Tensor,
        teacher_lut: torch.Tensor,
        paired: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Eq. 6 for a batch (the image loss at the student's grid, L_d1 and L_lr at 64^3); with an unpaired
        weight ``w > 0``, eq. 12: ``(1 - w) * eq. 6 + w * (1 - MEF-SSIM)`` (the paper: w = 0.1); with an SSIM
        weight ``s > 0``, ``s * (1 - SSIM(output, reference))`` is added to eq. 6 (ours, not the paper's).

        ``paired`` (bool, ``B``; given when the samples mix in unpaired radiance-map brackets): eq. 6 scores
        the paired items and MEF-SSIM the unpaired ones, the paper's split of eq. 12 between its paired and
        unpaired data. Without it, every item is paired and MEF-SSIM scores them all."""
        weights, lut = self.student(thumbs, self.grid_size)
        output = fuse_and_apply(frames, weights, lut)
        with_reference = paired if paired is not None else torch.ones(len(frames), dtype=torch.bool)
        total, parts = output.new_zeros(()), {}
        if bool(with_reference.any()):
            p = with_reference
            total, parts = self.criterion(
                output[p], target[p], resample_lattice(lut[p], DISTILL_GRID), teacher_lut[p]
            )
            if self.ssim_weight > 0.0:
                structure = ssim_loss(output[p], target[p])
                total = total + self.ssim_weight * structure
                parts = {**parts, "ssim": structure, "total": total}
        scored = ~paired if paired is not None else with_reference
        if self.unpaired_weight > 0.0 and bool(scored.any()):
            unpaired = unpaired_loss(frames[scored], output[scored])
            total = (1.0 - self.unpaired_weight) * total + self.unpaired_weight * unpaired
            parts = {**parts, "unpaired": unpaired, "total": total}
        return total, parts


class StudentTask(_LutTask):
    """The student, distilled from a frozen teacher: eq. 6, L_d1 and L_lr at 64^3 (see ``STUDENT_GRID``)."""

    name = "lut-student"
    expected_weights = "lut-student"

    def __init__(
        self,
        train: Sequence[Scene],
        held_out: Sequence[Scene],
        n_exposures: int,
        teacher: Path,
        student_grid: int = STUDENT_GRID,
        unpaired_weight: float = 0.0,
        ssim_weight: float = 0.0,
        *,
        native_fraction: float = 0.0,
        strong_augmentation: bool = False,
        init: Path | None = None,
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
        if not 0.0 <= unpaired_weight < 1.0:
            raise DatasetError(f"the unpaired (MEF-SSIM) weight must be in [0, 1), got {unpaired_weight}")
        if not ssim_weight >= 0.0:
            raise DatasetError(f"the SSIM weight must be at least 0, got {ssim_weight}")
        self.student_grid = student_grid
        self.unpaired_weight = unpaired_weight
        self.ssim_weight = ssim_weight
        self.teacher = load_weights(teacher, expected="lut-teacher")
        if self.teacher.config.n_exposures != n_exposures:
            raise DatasetError(
                f"{teacher}: the teacher fuses {self.teacher.config.n_exposures} exposures, "
                f"the student is to fuse {n_exposures}"
            )
        for parameter in self.teacher.parameters():
            parameter.requires_grad_(False)
        # The teacher's enhanced grids do not depend on the image (only WP's mixing weights do), and the
        # teacher is frozen: compute its 64^3 grids once instead of at every step.
        with torch.no_grad():
            self.teacher_grids = self.teacher.enhanced_grids(DISTILL_GRID)
        self.data_description["teacher"] = str(teacher)
        self.data_description["student_grid"] = student_grid
        self.data_description["unpaired_weight"] = unpaired_weight
        self.data_description["ssim_weight"] = ssim_weight

    def build(self) -> nn.Module:
        student = self.initialised(Student(StudentConfig(n_exposures=self.n_exposures)))
        return StudentModule(
            student, StudentLoss(), self.student_grid, self.unpaired_weight, self.ssim_weight
        )

    def model_of(self, module: nn.Module) -> Student:
        return getattr(module, "module", module).student

    def loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        thumbs = _batch_thumbnails(batch)
        with torch.no_grad():
            mixing = self.teacher.lut_weights(thumbs)  # B x n_luts
            grids = self.teacher_grids.reshape(len(self.teacher_grids), -1)
            teacher_lut = (mixing @ grids).reshape(-1, *self.teacher_grids.shape[1:]).clamp(0.0, 1.0)
        paired = paired_mask(batch) if self.radiance is not None else None
        total, parts = module(thumbs, batch["frames"], batch["target"], teacher_lut, paired)
        return total, {k: v.item() for k, v in parts.items()}


def make_task(
    name: str,
    *,
    data: Path,
    holdout: Sequence[str],
    n_exposures: int,
    teacher: Path | None = None,
    student_grid: int = STUDENT_GRID,
    unpaired_weight: float | None = None,
    ssim_weight: float | None = None,
    native_loss_fraction: float = 0.0,
    strong_augmentation: bool = False,
    init: Path | None = None,
    radiance_maps: Path | None = None,
    radiance_fraction: float | None = None,
    **unused: object,
) -> _LutTask:
    """The training task ``name`` ("lut-teacher" or "lut-student") on the dataset at ``data``."""
    if name == "lut-student" and teacher is None:
        raise DatasetError("lut-student is distilled from a trained teacher: pass --teacher FILE")
    if radiance_maps is not None and name == "lut-teacher":
        raise DatasetError("the teacher learns from references only (L1); --radiance-maps trains the student")
    if unpaired_weight is None:
        unpaired_weight = PAPER_UNPAIRED_WEIGHT if radiance_maps is not None else 0.0
    if radiance_maps is not None and unpaired_weight == 0.0:
        raise DatasetError(
            "--radiance-maps brackets are scored by the unpaired loss alone: give --unpaired-weight > 0"
        )
    ssim_weight = 0.0 if ssim_weight is None else ssim_weight
    train, held_out = split_scenes(data, holdout)
    options: dict[str, Any] = {
        "native_fraction": native_loss_fraction,
        "strong_augmentation": strong_augmentation,
        "init": init,
        "radiance_maps": radiance_maps,
        "radiance_fraction": DEFAULT_FRACTION if radiance_fraction is None else radiance_fraction,
    }
    if name == "lut-teacher":
        return TeacherTask(train, held_out, n_exposures, **options)
    if name == "lut-student" and teacher is not None:
        return StudentTask(
            train, held_out, n_exposures, teacher, student_grid, unpaired_weight, ssim_weight, **options
        )
    raise DatasetError(f"unknown training task {name!r}; choose one of: lut-teacher, lut-student")
