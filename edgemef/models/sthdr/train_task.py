"""``edgemef train sthdr``: the network trained with eq. 5 on dynamic brackets made from radiance maps.

Loss: the L1 distance of mu-law tonemapped images (eq. 4, mu = 5000), at every scale against the ground truth
average-pooled to that scale, weights 1 (eq. 5). Samples: :func:`edgemef.data.hdr_brackets.make_hdr_bracket`
on the training maps (:func:`~edgemef.data.hdr_brackets.split_radiance_maps`), one fresh bracket per sample,
deterministic per sample index. The paper trains with Adam at 1e-4 down a cosine to 1e-6 on 256-px crops,
batch 16; ``edgemef train`` uses AdamW at the task's 1e-4 (``--lr-decay-start`` for the cosine) and 128-px
crops by default (``--patch``). Validation: mean PSNR-mu of one 256-px bracket of every validation map
(seed 0). ``--holdout`` does not apply: the validation maps are the split's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from edgemef.data.hdr_brackets import (
    HdrBracket,
    HdrBracketConfig,
    RadianceMapCache,
    find_radiance_maps,
    make_hdr_bracket,
    split_radiance_maps,
    validation_brackets,
)
from edgemef.errors import DatasetError
from edgemef.metrics import psnr_mu
from edgemef.models.sthdr.config import FRAMES, MU, SthdrConfig
from edgemef.models.sthdr.network import Sthdr, network_input
from edgemef.models.sthdr.weights import load_sthdr, save_sthdr

__all__ = ["SthdrTask", "make_task", "mu_law_loss"]

#: the paper's learning rate
STHDR_LEARNING_RATE = 1e-4
#: training crop side here (the paper's is 256, then 384 to fine-tune)
STHDR_PATCH = 128
#: the side of the validation brackets
VALIDATION_SIZE = 256


def mu_law(x: Tensor) -> Tensor:
    """Eq. 4 on tensors in [0, 1]."""
    return torch.log1p(MU * x.clamp(0.0, 1.0)) / math.log1p(MU)


def mu_law_loss(outputs: Sequence[Tensor], target: Tensor) -> tuple[Tensor, list[float]]:
    """Eq. 5: the sum over scales of the mean L1 distance of mu-law tonemapped images (weights 1)."""
    terms = []
    for output in outputs:
        factor = target.shape[-1] // output.shape[-1]
        scaled = target if factor == 1 else F.avg_pool2d(target, factor)
        terms.append(F.l1_loss(mu_law(output), mu_law(scaled)))
    return torch.stack(terms).sum(), [t.item() for t in terms]


def bracket_tensors(bracket: HdrBracket) -> dict[str, Tensor]:
    """A sample: frames ``3 x 3 x H x W`` in [0, 1], relative times ``3``, target ``3 x H x W``."""
    return {
        "frames": torch.from_numpy(bracket.frames).permute(0, 3, 1, 2).float().div(255.0),
        "times": torch.tensor(bracket.exposure_times, dtype=torch.float32),
        "target": torch.from_numpy(np.ascontiguousarray(bracket.radiance)).permute(2, 0, 1),
    }


class HdrBracketSamples(Dataset):
    """``length`` brackets from the training maps; sample ``i`` is drawn from its own seeded stream."""

    def __init__(self, maps: Sequence[Path], config: HdrBracketConfig, length: int, seed: int) -> None:
        self.maps, self.config, self.length, self.seed = list(maps), config, length, seed
        self.read = RadianceMapCache()

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        gen = np.random.default_rng([self.seed, index])
        path = self.maps[int(gen.integers(len(self.maps)))]
        return bracket_tensors(make_hdr_bracket(self.read(path), self.config, gen, source=path.name))


class SthdrTask:
    """``edgemef train sthdr``."""

    name = "sthdr"
    default_learning_rate = STHDR_LEARNING_RATE

    def __init__(
        self, data: Path, config: SthdrConfig, *, patch: int = STHDR_PATCH, init: Path | None = None
    ) -> None:
        if patch < 32 or patch % config.size_multiple:
            raise DatasetError(f"--patch must be >= 32 and divide by {config.size_multiple}, got {patch}")
        self.config, self.init = config, init
        self.train_maps, self.validation_maps = split_radiance_maps(find_radiance_maps(data))
        if not self.train_maps:
            raise DatasetError(f"{data}: no radiance maps left for training after the validation split")
        self.samples = HdrBracketConfig(size=patch)
        self.validation = list(
            validation_brackets(
                self.validation_maps, HdrBracketConfig(size=VALIDATION_SIZE), per_map=1, seed=0
            )
        )
        self.data_description: dict[str, object] = {
            "train_maps": [p.name for p in self.train_maps],
            "validation_maps": [p.name for p in self.validation_maps],
            "samples": asdict(self.samples),
        }

    def build(self) -> nn.Module:
        model = Sthdr(self.config)
        if self.init is not None:
            trained = load_sthdr(self.init)
            if trained.config != self.config:
                raise DatasetError(f"--init {self.init} is an STHDR network of another configuration")
            model.load_state_dict(trained.state_dict())
        return model

    def dataset(self, length: int, seed: int) -> HdrBracketSamples:
        return HdrBracketSamples(self.train_maps, self.samples, length, seed)

    def loss(self, module: nn.Module, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        outputs = module(network_input(batch["frames"], batch["times"]))
        total, terms = mu_law_loss(outputs, batch["target"])
        return total, {f"l_mu_{len(terms) - 1 - i}": term for i, term in enumerate(terms)}

    def validate(self, module: nn.Module) -> dict[str, float]:
        """Mean PSNR-mu of the validation brackets."""
        model = getattr(module, "module", module)
        scores = []
        for bracket in self.validation:
            sample = bracket_tensors(bracket)
            output = model(network_input(sample["frames"][None], sample["times"][None]))[-1][0]
            scores.append(psnr_mu(output.permute(1, 2, 0).numpy(), bracket.radiance))
        return {"validation_psnr_mu": float(np.mean(scores))}

    def export(self, module: nn.Module, out_dir: Path, summary: dict[str, Any]) -> None:
        extra = {"edgemef.training": json.dumps({**summary, **self.data_description})}
        save_sthdr(out_dir / "model.safetensors", getattr(module, "module", module), extra)


def make_task(
    name: str,
    *,
    data: Path,
    holdout: Sequence[str],
    n_exposures: int,
    init: Path | None = None,
    channels: int | None = None,
    patch: int | None = None,
    single_scale_single_stage: bool = False,
    **unused: object,
) -> SthdrTask:
    """The task of ``edgemef train sthdr`` (``--data``: a folder of radiance maps)."""
    if n_exposures != FRAMES:
        raise DatasetError(f"sthdr merges {FRAMES} exposures; leave --exposures at 3")
    width = channels or SthdrConfig().channels
    config = (
        SthdrConfig.single_scale_single_stage(width)
        if single_scale_single_stage
        else SthdrConfig(channels=width)
    )
    return SthdrTask(Path(data), config, patch=patch or STHDR_PATCH, init=init)
