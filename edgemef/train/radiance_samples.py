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

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from edgemef.data.hdr_brackets import (
    RadianceMapCache,
    fusion_frames,
    make_hdr_bracket,
    static_bracket_config,
    validation_brackets,
)
from edgemef.errors import DatasetError
from edgemef.train.data import BracketSamples, make_thumbnails, to_tensor


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
