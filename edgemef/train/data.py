"""Training samples for fusion models: real SICE-layout brackets and synthetic ones, cropped and resized.

Each sample mimics inference on a random crop: the model sees 128x128 thumbnails of the crop
(made with OpenCV ``INTER_AREA``, exactly as the deploy side makes them) and its output is
scored on the crop at ``loss_size`` against the reference. A global model (weights + LUT)
scores the same at any resolution, so the loss resolution only trades speed for pixel count.

Samples are a pure function of ``(seed, index)``, so runs are reproducible and several
processes (DistributedDataParallel) can draw disjoint indices without sharing state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from edgemef.data import Scene, find_scenes, load_scene, random_camera_config, synthesize_camera_bracket
from edgemef.data.synthesis import shake_frames, synthesize_gamma_bracket
from edgemef.errors import DatasetError
from edgemef.runtime.preprocess import resize_thumbnails


@dataclass(frozen=True)
class SampleConfig:
    """How training samples are drawn.

    Attributes:
        n_exposures: frames per sample (the model's input count).
        thumbnail_size: side of the square thumbnails the model sees.
        loss_size: side of the square crop the loss is computed on.
        crop_scale: (min, max) side of the crop as a fraction of the image's shorter side.
        synthetic_fraction: share of samples whose bracket is synthesised from the reference image
            (half with the camera model, half with the paper's gamma model) instead of real frames.
        max_side: scenes are downscaled once on load so that their longer side is at most this.
        motion: synthetic camera-model brackets get camera shake and (half of them) a moving object; the
            target is then the scene in the reference frame's geometry (for dynamic-scene models).
        native_fraction: share of samples scored on a ``loss_size`` window of the crop at the scene's stored
            resolution (no resizing) instead of on the whole crop resized to ``loss_size``. The model still
            sees thumbnails of the whole crop. Resizing averages away the fine-scale structure (sensor noise
            that a LUT amplifies, fine detail) that full-resolution SSIM scores; native windows keep it.
        channel_permutation: share of samples whose colour channels (frames and reference alike) are
            permuted at random. Fusion by weights is per channel, so the permuted target is still a LUT
            away from the permuted fusion (``P o LUT o P^-1``): new colour statistics from the same scenes.
        vertical_flip: also flip samples upside down half of the time (horizontal flips are always on).
        extreme_pair: real samples take a scene's darkest and brightest frames (the pair with the largest
            exposure ratio, as CRMEF's paper trains) instead of a random dark-to-bright subset.
        shake_px: camera shake on every sample, real or synthetic: every frame but the brightest is moved
            by up to this many pixels of the loss-sized patch (and rotated by up to 0.5 degrees), the target
            keeping the brightest frame's geometry (:func:`edgemef.data.synthesis.shake_frames`); 0: off.
    """

    n_exposures: int = 3
    thumbnail_size: int = 128
    loss_size: int = 256
    crop_scale: tuple[float, float] = (0.4, 1.0)
    synthetic_fraction: float = 0.3
    max_side: int = 1024
    motion: bool = False
    native_fraction: float = 0.0
    channel_permutation: float = 0.0
    vertical_flip: bool = False
    extreme_pair: bool = False
    shake_px: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.native_fraction <= 1.0:
            raise DatasetError(f"native_fraction must be in [0, 1], got {self.native_fraction}")
        if not 0.0 <= self.channel_permutation <= 1.0:
            raise DatasetError(f"channel_permutation must be in [0, 1], got {self.channel_permutation}")
        if not 0.0 <= self.shake_px < self.loss_size / 4:
            raise DatasetError(f"shake_px must be in [0, loss_size / 4), got {self.shake_px}")
        if self.extreme_pair and self.n_exposures != 2:
            raise DatasetError(f"extreme_pair samples 2 exposures, not {self.n_exposures}")


def _downscale(image: np.ndarray, max_side: int) -> np.ndarray:
    scale = max_side / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


@dataclass(frozen=True)
class LoadedScene:
    """A training scene in memory: all frames darkest first and the reference (uint8 RGB)."""

    name: str
    frames: np.ndarray
    reference: np.ndarray


def load_training_scenes(scenes: Sequence[Scene], max_side: int) -> list[LoadedScene]:
    """Read every exposure and the reference of each scene, downscaled to ``max_side``."""
    loaded = []
    for scene in scenes:
        if scene.reference is None:
            raise DatasetError(f"scene {scene.name} has no reference image; training needs one (e.g. gt.jpg)")
        bracket, reference = load_scene(scene, "all")
        assert reference is not None
        frames = np.stack([_downscale(f, max_side) for f in bracket.frames])
        loaded.append(LoadedScene(scene.name, frames, _downscale(reference, max_side)))
    return loaded


def choose_exposures(n_available: int, n_wanted: int, rng: np.random.Generator) -> list[int]:
    """A random dark-to-bright subset: darkest from the lower third, brightest from the upper third."""
    if n_available < n_wanted:
        raise DatasetError(f"a scene has {n_available} exposures, {n_wanted} needed")
    if n_available == n_wanted:
        return list(range(n_available))
    third = max(1, n_available // 3)
    low = int(rng.integers(0, third))
    high = int(rng.integers(n_available - third, n_available))
    if high - low + 1 < n_wanted:
        low, high = 0, n_available - 1
    middle = sorted(rng.choice(np.arange(low + 1, high), size=n_wanted - 2, replace=False).tolist())
    return [low, *middle, high]


def fuse_for_validation(
    model: torch.nn.Module, frames: np.ndarray, multiple: int, shape: tuple
) -> np.ndarray:
    """``frames`` (N x H x W x 3 uint8) fused by a torch model taking ``1 x 3N x h x w``, in eval mode, on
    the largest top-left crop whose sides are multiples of ``multiple``; uint8 of ``shape`` (zeros outside
    the crop). The model's training mode is restored."""
    height, width = (d - d % multiple for d in frames.shape[1:3])
    x = to_tensor(frames[:, :height, :width]).reshape(1, -1, height, width)
    was_training = model.training
    with torch.no_grad():
        fused = model.eval()(x)[0]
    model.train(was_training)
    out = np.zeros(shape, np.uint8)
    out[:height, :width] = (fused.clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    return out


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 ``... x H x W x 3`` -> float32 ``... x 3 x H x W`` in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(images, -1, -3))).float().div_(255.0)


make_thumbnails = resize_thumbnails  # the deploy side's preprocessing, exactly


class BracketSamples(Dataset):
    """Random crops of random exposure subsets, deterministic per index.

    Items are dicts of float32 tensors in [0, 1] (sRGB-encoded values):
    ``thumbnails`` (N x 3 x t x t), ``frames`` (N x 3 x s x s), ``target`` (3 x s x s).
    """

    def __init__(
        self, scenes: Sequence[LoadedScene], config: SampleConfig, length: int, seed: int = 0
    ) -> None:
        if not scenes:
            raise DatasetError("no training scenes")
        self.scenes = list(scenes)
        self.config = config
        self.length = length
        self.seed = seed

    def __len__(self) -> int:
        return self.length

    def _crop_box(self, height: int, width: int, rng: np.random.Generator) -> tuple[int, int, int, int]:
        low, high = self.config.crop_scale
        side = int(min(height, width) * rng.uniform(low, high))
        side = max(side, 16)
        top = int(rng.integers(0, height - side + 1))
        left = int(rng.integers(0, width - side + 1))
        return top, left, side, side

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, index])
        config = self.config
        scene = self.scenes[int(rng.integers(len(self.scenes)))]
        top, left, h, w = self._crop_box(*scene.reference.shape[:2], rng)
        reference = scene.reference[top : top + h, left : left + w]
        if rng.random() < config.synthetic_fraction:
            if rng.random() < 0.5:
                camera = random_camera_config(rng, frame_counts=(config.n_exposures,), motion=config.motion)
                synthetic = synthesize_camera_bracket(reference, camera, rng)
                frames = synthetic.frames
                if config.motion:
                    reference = synthetic.reference
            else:
                frames = synthesize_gamma_bracket(reference, config.n_exposures, rng=rng)
        else:
            if config.extreme_pair:
                chosen = [0, len(scene.frames) - 1]
            else:
                chosen = choose_exposures(len(scene.frames), config.n_exposures, rng)
            frames = scene.frames[chosen, top : top + h, left : left + w]
        if rng.random() < 0.5:  # horizontal flip
            frames, reference = frames[:, :, ::-1], reference[:, ::-1]
        if config.vertical_flip and rng.random() < 0.5:
            frames, reference = frames[:, ::-1], reference[::-1]
        if config.channel_permutation > 0.0 and rng.random() < config.channel_permutation:
            order = rng.permutation(3)
            frames, reference = frames[..., order], reference[..., order]
        thumbnails = make_thumbnails(frames, config.thumbnail_size)
        size = config.loss_size
        native = config.native_fraction > 0.0 and rng.random() < config.native_fraction
        if native and min(h, w) >= size:
            top = int(rng.integers(0, h - size + 1))
            left = int(rng.integers(0, w - size + 1))
            loss_frames = np.ascontiguousarray(frames[:, top : top + size, left : left + size])
            target = np.ascontiguousarray(reference[top : top + size, left : left + size])
        else:
            loss_frames = make_thumbnails(frames, size)
            target = cv2.resize(np.ascontiguousarray(reference), (size, size), interpolation=cv2.INTER_AREA)
        if config.shake_px > 0.0:
            loss_frames = shake_frames(loss_frames, rng, (0.0, config.shake_px))
        return {
            "thumbnails": to_tensor(thumbnails),
            "frames": to_tensor(loss_frames),
            "target": to_tensor(target),
        }


class SampleMix(Protocol):
    """Samples of another kind mixed into a task's own (:meth:`SceneTask.mix_in`), and how to score a model
    on its validation data."""

    description: dict[str, Any]

    def samples(self, paired: BracketSamples) -> Dataset: ...

    def score(self, fuse: Any) -> dict[str, float]: ...


class SceneTask:
    """What every training task on a SICE-layout dataset shares: the training scenes in memory (downscaled
    to ``sample_config.max_side``), the held-out scenes at 512 px for validation, the samples, and the
    description of the data written into the weights' metadata."""

    def __init__(
        self, train: Sequence[Scene], held_out: Sequence[Scene], sample_config: SampleConfig
    ) -> None:
        self.sample_config = sample_config
        self.n_exposures = sample_config.n_exposures
        self.train_scenes = load_training_scenes(train, sample_config.max_side)
        self.held_out = load_training_scenes(held_out, 512)
        self.data_description: dict[str, object] = {
            "train_scenes": [s.name for s in train],
            "held_out_scenes": [s.name for s in held_out],
        }

        self.radiance: SampleMix | None = None

    def mix_in(self, mix: SampleMix) -> None:
        """Mix ``mix``'s samples into this task's (e.g. unpaired radiance-map brackets,
        :class:`edgemef.train.radiance_samples.RadianceMixing`) and describe them in the weights' metadata."""
        self.radiance = mix
        self.data_description.update(mix.description)

    def dataset(self, length: int, seed: int) -> Dataset:
        paired = BracketSamples(self.train_scenes, self.sample_config, length, seed)
        return paired if self.radiance is None else self.radiance.samples(paired)


def split_scenes(data: Path, holdout: Sequence[str]) -> tuple[list[Scene], list[Scene]]:
    """(training, held-out) scenes of a SICE-layout dataset; every held-out name must exist."""
    scenes = find_scenes(data, "sice")
    names = {scene.name for scene in scenes}
    missing = [name for name in holdout if name not in names]
    if missing:
        raise DatasetError(
            f"held-out scene(s) {', '.join(missing)} not in {data} (has {', '.join(sorted(names))})"
        )
    train = [s for s in scenes if s.name not in holdout]
    if not train:
        raise DatasetError(f"{data}: no scenes left for training after holding out {', '.join(holdout)}")
    return train, [s for s in scenes if s.name in holdout]
