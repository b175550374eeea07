"""Unpaired fusion samples made from real radiance maps, mixed into the SICE-layout samples.

SICE has 11 scenes with references; the 53 radiance maps of ``../shared/data/hdr`` give as many real scenes
again, exposed into static brackets of any spread (:func:`edgemef.data.hdr_brackets.make_hdr_bracket`: views
of the panoramas and crops of the photographs, metering, shot and read noise, clipping, 8 bits). They carry
no fusion reference (the radiance is not a picture to match), so these samples are *unpaired*: a loss scores
them against their own bracket only (MEF-SSIM). Every item says which it is in ``paired`` (1.0 for a SICE
sample with its reference, 0.0 for a radiance sample, whose ``target`` is zeros).

Brackets are static (:func:`~edgemef.data.hdr_brackets.static_bracket_config`: no shake, no moving object):
the fusion models trained on them assume aligned frames. Two-exposure samples take the darkest and brightest
frames of a three-frame bracket (:func:`~edgemef.data.hdr_brackets.fusion_frames`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from edgemef.data.hdr_brackets import (
    RadianceMapCache,
    find_radiance_maps,
    fusion_frames,
    make_hdr_bracket,
    split_radiance_maps,
    static_bracket_config,
    validation_brackets,
)
from edgemef.errors import DatasetError
from edgemef.metrics.mef_ssim import mef_ssim
from edgemef.train.data import BracketSamples, make_thumbnails, to_tensor

#: share of radiance-map samples when a task is given radiance maps and no fraction
DEFAULT_FRACTION = 0.5


class MixedSamples(Dataset):
    """``paired`` samples (SICE crops with references) and, with probability ``fraction``, a static bracket
    of a random training radiance map instead; deterministic per index, as :class:`BracketSamples`.

    Items: ``thumbnails`` (N x 3 x t x t), ``frames`` (N x 3 x s x s), ``target`` (3 x s x s; zeros when
    unpaired) and ``paired`` (a 0-d float tensor, 1.0 or 0.0).
    """

    def __init__(
        self,
        paired: BracketSamples,
        maps: Sequence[Path],
        fraction: float,
        cache: RadianceMapCache | None = None,
    ) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise DatasetError(f"the radiance-map fraction must be in [0, 1], got {fraction}")
        if fraction > 0.0 and not maps:
            raise DatasetError("radiance-map samples asked for, but no radiance maps were given")
        self.paired = paired
        self.maps = list(maps)
        self.fraction = fraction
        self.cache = cache or RadianceMapCache()
        self.brackets = static_bracket_config(paired.config.loss_size)

    def __len__(self) -> int:
        return len(self.paired)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.paired.seed, index, 1])
        if rng.random() >= self.fraction:
            return {**self.paired[index], "paired": torch.tensor(1.0)}
        path = self.maps[int(rng.integers(len(self.maps)))]
        bracket = make_hdr_bracket(self.cache(path), self.brackets, rng, source=path.name)
        frames = fusion_frames(bracket, self.paired.config.n_exposures)
        size = self.paired.config.loss_size
        return {
            "thumbnails": to_tensor(make_thumbnails(frames, self.paired.config.thumbnail_size)),
            "frames": to_tensor(frames),
            "target": torch.zeros(3, size, size),
            "paired": torch.tensor(0.0),
        }


def validation_frames(
    maps: Sequence[Path], n_exposures: int, size: int, per_map: int = 2
) -> list[np.ndarray]:
    """Fixed static brackets (``per_map`` of every validation map, seed 0), the frames a model fuses."""
    config = static_bracket_config(size)
    return [fusion_frames(b, n_exposures) for b in validation_brackets(maps, config, per_map=per_map)]


def paired_mask(batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Which items of a batch have a reference (bool, ``B``); every item of a batch without ``paired``."""
    if "paired" in batch:
        return batch["paired"] > 0.5
    return torch.ones(len(batch["frames"]), dtype=torch.bool)


class RadianceMixing:
    """The radiance maps a training task mixes in (``fraction`` of its samples, :class:`MixedSamples`) and
    the fixed brackets of the validation maps it scores, with Mertens' score on them as the baseline.

    Args:
        folder: a folder of radiance maps (``../shared/data/hdr``); every fifth map validates.
        n_exposures: frames per bracket.
        size: side of the validation brackets (the task's loss size).
        fraction: share of radiance samples, in (0, 1].
    """

    def __init__(self, folder: Path, n_exposures: int, size: int, fraction: float) -> None:
        from edgemef.models import create_model

        if not 0.0 < fraction <= 1.0:
            raise DatasetError(f"--radiance-fraction must be in (0, 1], got {fraction}")
        self.train_maps, validation_maps = split_radiance_maps(find_radiance_maps(folder))
        if not self.train_maps:
            raise DatasetError(
                f"--radiance-maps {folder}: no maps left to train on after the validation split"
            )
        self.fraction = fraction
        self.validation = validation_frames(validation_maps, n_exposures, size)
        mertens = create_model("mertens")
        baseline = [mef_ssim(frames, mertens.fuse(frames)) for frames in self.validation]
        self.description: dict[str, Any] = {
            "radiance_fraction": fraction,
            "radiance_train_maps": [p.name for p in self.train_maps],
            "radiance_validation_maps": [p.name for p in validation_maps],
            "radiance_validation_mertens_mef_ssim": float(np.mean(baseline)),
        }

    def samples(self, paired: BracketSamples) -> MixedSamples:
        return MixedSamples(paired, self.train_maps, self.fraction)

    def score(self, fuse: Callable[[np.ndarray], np.ndarray]) -> dict[str, float]:
        """``{"radiance_mef_ssim": mean MEF-SSIM}`` of ``fuse`` (uint8 frames -> uint8 image) on the
        validation brackets."""
        return {"radiance_mef_ssim": float(np.mean([mef_ssim(f, fuse(f)) for f in self.validation]))}
