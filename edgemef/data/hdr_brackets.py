"""Dynamic LDR brackets with linear HDR ground truth, made from real radiance maps.

The source is a folder of scene-referred radiance maps (``../shared/data/hdr``: equirectangular panoramas
``polyhaven_*`` and photographs ``openexr_*``). One sample:

1. **view**: a perspective crop of a panorama (random yaw, pitch within +-25 deg, horizontal field of view
   50-90 deg, resampled with ``cv2.remap``) or a random square crop of a photograph (side 50-100 % of its
   short side, area-resized), randomly mirrored;
2. **metering**: the radiance is scaled so its log-average luminance sits at 0.18 of the EV-0 frame's
   saturation level, times ``2**U(-1, 1)``; with probability ``saturated_reference`` a further 1.5-3 stops
   brighter, so the reference frame itself saturates over large areas;
3. **camera** (:func:`edgemef.data.synthesis.expose_radiance`): frames at ``(-s, 0, +s)`` EV with ``s`` 2 or 3
   stops (the paper's -2/0/+2 and -3/0/+3), camera shake and, with probability ``moving_object``, a moving
   object in the non-reference frames; shot and read noise, clipping, the camera response, 8 bits;
4. **ground truth**: the radiance in the reference frame's geometry, in units of the darkest frame's
   saturation level (exposure times relative to the darkest frame, ``t_1 = 1``, so ``I**2.2 / t`` of every
   frame is in the same units), clipped to [0, 1]. This is the normalisation under which the paper's
   linearisation ``H_i = I_i**2.2 / t_i`` (eq. 1) and its sigmoid output in [0, 1] (eq. 3) agree.

The camera response is the paper's gamma 2.2 (:class:`edgemef.data.synthesis.GammaResponse`), so eq. 1 inverts
it exactly; noise, quantisation and clipping are what the network must undo.

The maps are split into training and validation by file (:func:`split_radiance_maps`); validation brackets are
fixed by a seed (:func:`validation_brackets`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edgemef.data.datasets import select_exposures
from edgemef.data.synthesis import CameraBracketConfig, GammaResponse, expose_radiance
from edgemef.errors import DatasetError

__all__ = [
    "RADIANCE_EXTENSIONS",
    "VALIDATION_EVERY",
    "HdrBracket",
    "HdrBracketConfig",
    "find_radiance_maps",
    "fusion_frames",
    "luminance",
    "make_hdr_bracket",
    "split_radiance_maps",
    "static_bracket_config",
    "validation_brackets",
]

RADIANCE_EXTENSIONS = (".hdr", ".exr")
#: Every fifth map of each source (sorted by name, starting with the third) is a validation map.
VALIDATION_EVERY = 5
VALIDATION_OFFSET = 2
#: Rec. 709 luminance weights of linear RGB.
LUMINANCE_WEIGHTS = (0.2126, 0.7152, 0.0722)
#: The metered middle grey, as a fraction of the EV-0 frame's saturation level.
MIDDLE_GREY = 0.18


@dataclass(frozen=True)
class HdrBracketConfig:
    """How :func:`make_hdr_bracket` draws a sample.

    Attributes:
        size: side of the square view, pixels.
        ev_steps: EV distances between neighbouring frames to choose from (paper: 2 and 3).
        frames: frames per bracket (the paper's 3; the middle one is the reference).
        fov_deg: (low, high) horizontal field of view of a panorama view, degrees.
        pitch_deg: the largest pitch of a panorama view, degrees.
        metering_stops: (low, high) stops added to the metered exposure.
        saturated_reference: probability of a further 1.5-3 stops, so the reference saturates widely.
        gamma: the camera response's gamma (eq. 1's 2.2).
        shot_noise_gain: (low, high), log-uniform; see :class:`~edgemef.data.synthesis.CameraBracketConfig`.
        read_noise_std: (low, high), log-uniform.
        shake_px: the largest camera-shake translation of a non-reference frame, pixels.
        shake_deg: the largest camera-shake rotation, degrees.
        moving_object: probability of a moving object.
        object_motion_px: (low, high) displacement of the moving object, pixels.
    """

    size: int = 256
    ev_steps: tuple[float, ...] = (2.0, 3.0)
    frames: int = 3
    fov_deg: tuple[float, float] = (50.0, 90.0)
    pitch_deg: float = 25.0
    metering_stops: tuple[float, float] = (-1.0, 1.0)
    saturated_reference: float = 0.25
    gamma: float = 2.2
    shot_noise_gain: tuple[float, float] = (1e-5, 1e-3)
    read_noise_std: tuple[float, float] = (1e-4, 2e-3)
    shake_px: float = 6.0
    shake_deg: float = 1.0
    moving_object: float = 0.5
    object_motion_px: tuple[float, float] = (4.0, 24.0)

    def __post_init__(self) -> None:
        if self.size < 32:
            raise ValueError(f"size must be at least 32 pixels, got {self.size}")
        if self.frames < 2 or self.frames % 2 == 0:
            raise ValueError(f"frames must be odd and at least 3 (a middle reference), got {self.frames}")
        if not self.ev_steps or any(not (0.0 < step <= 6.0) for step in self.ev_steps):
            raise ValueError(f"ev_steps must be numbers in (0, 6], got {self.ev_steps!r}")
        for name in ("saturated_reference", "moving_object"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a probability in [0, 1], got {getattr(self, name)}")
        if not 0.0 < self.fov_deg[0] <= self.fov_deg[1] < 180.0:
            raise ValueError(f"fov_deg must be (low, high) within (0, 180), got {self.fov_deg!r}")


@dataclass(frozen=True, eq=False)
class HdrBracket:
    """One sample.

    Attributes:
        frames: uint8 RGB ``N x H x W x 3``, darkest first; the middle frame is the reference.
        exposure_times: relative exposure times, the darkest 1.0 (``2**(ev - ev_0)``).
        radiance: float32 ``H x W x 3`` in [0, 1], the ground truth (darkest frame's saturation = 1), in the
            reference frame's geometry.
        reference_index: index of the reference frame.
        source: the radiance map's file name.
        gamma: the camera response's gamma.
    """

    frames: np.ndarray
    exposure_times: tuple[float, ...]
    radiance: np.ndarray
    reference_index: int
    source: str
    gamma: float = 2.2

    def linearised(self) -> np.ndarray:
        """The paper's eq. 1: ``I_i**gamma / t_i``, float32 ``N x H x W x 3`` (the network's HDR half)."""
        frames = self.frames.astype(np.float32) / np.float32(255.0)
        times = np.asarray(self.exposure_times, dtype=np.float32)[:, None, None, None]
        return np.power(frames, np.float32(self.gamma)) / times


def find_radiance_maps(folder: str | Path) -> list[Path]:
    """The radiance maps (``.hdr``/``.exr``) in ``folder``, sorted by name.

    Raises:
        DatasetError: the folder is missing or holds none.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such folder of radiance maps")
    maps = sorted(p for p in folder.iterdir() if p.suffix.lower() in RADIANCE_EXTENSIONS and p.is_file())
    if not maps:
        raise DatasetError(f"{folder}: no radiance maps ({', '.join(RADIANCE_EXTENSIONS)} files)")
    return maps


def _source(path: Path) -> str:
    return path.name.split("_", 1)[0] if "_" in path.name else ""


def split_radiance_maps(maps: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """(training, validation) by file: within each source (the name's prefix before ``_``), sorted by name,
    every :data:`VALIDATION_EVERY`-th map from index :data:`VALIDATION_OFFSET` validates."""
    by_source: dict[str, list[Path]] = {}
    for path in sorted(maps, key=lambda p: p.name):
        by_source.setdefault(_source(path), []).append(path)
    training: list[Path] = []
    validation: list[Path] = []
    for paths in by_source.values():
        for index, path in enumerate(paths):
            held_out = index % VALIDATION_EVERY == VALIDATION_OFFSET
            (validation if held_out else training).append(path)
    return training, validation


def luminance(radiance: np.ndarray) -> np.ndarray:
    """Rec. 709 luminance of linear RGB ``... x 3`` (float32)."""
    return np.asarray(radiance, dtype=np.float32) @ np.asarray(LUMINANCE_WEIGHTS, dtype=np.float32)


def is_panorama(radiance: np.ndarray) -> bool:
    """An equirectangular panorama: exactly twice as wide as high."""
    return radiance.shape[1] == 2 * radiance.shape[0]


def panorama_view(
    panorama: np.ndarray, size: int, yaw_deg: float, pitch_deg: float, fov_deg: float
) -> np.ndarray:
    """A ``size x size`` pinhole view of an equirectangular panorama (bilinear, wrapping in longitude)."""
    height, width = panorama.shape[:2]
    focal = 0.5 * size / math.tan(math.radians(fov_deg) / 2.0)
    grid = (np.arange(size, dtype=np.float64) - (size - 1) / 2.0) / focal
    x, y = np.meshgrid(grid, grid)
    rays = np.stack([x, -y, np.ones_like(x)], axis=-1)
    pitch, yaw = math.radians(pitch_deg), math.radians(yaw_deg)
    tilt = np.array(
        [[1, 0, 0], [0, math.cos(pitch), math.sin(pitch)], [0, -math.sin(pitch), math.cos(pitch)]]
    )
    turn = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]])
    rays = rays @ (turn @ tilt).T
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    longitude = np.arctan2(rays[..., 0], rays[..., 2])
    latitude = np.arcsin(np.clip(rays[..., 1], -1.0, 1.0))
    map_x = ((longitude / (2.0 * math.pi) + 0.5) * width - 0.5) % width
    map_y = (0.5 - latitude / math.pi) * height - 0.5
    wrapped = np.concatenate([panorama, panorama[:, :1]], axis=1)  # column W interpolates back to column 0
    return cv2.remap(
        wrapped,
        map_x.astype(np.float32),
        map_y.astype(np.float32),
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def _view(radiance: np.ndarray, config: HdrBracketConfig, gen: np.random.Generator) -> np.ndarray:
    if is_panorama(radiance):
        view = panorama_view(
            radiance,
            config.size,
            yaw_deg=float(gen.uniform(0.0, 360.0)),
            pitch_deg=float(gen.uniform(-config.pitch_deg, config.pitch_deg)),
            fov_deg=float(gen.uniform(*config.fov_deg)),
        )
    else:
        height, width = radiance.shape[:2]
        short = min(height, width)
        side = max(min(config.size, short), round(short * gen.uniform(0.5, 1.0)))
        top = int(gen.integers(0, height - side + 1))
        left = int(gen.integers(0, width - side + 1))
        crop = radiance[top : top + side, left : left + side]
        interpolation = cv2.INTER_AREA if side > config.size else cv2.INTER_LINEAR
        view = cv2.resize(crop, (config.size, config.size), interpolation=interpolation)
    if gen.random() < 0.5:
        view = view[:, ::-1]
    return np.ascontiguousarray(view, dtype=np.float32)


def _metered(view: np.ndarray, config: HdrBracketConfig, gen: np.random.Generator) -> np.ndarray:
    log_average = float(np.exp(np.mean(np.log(luminance(view).astype(np.float64) + 1e-8))))
    stops = float(gen.uniform(*config.metering_stops))
    if gen.random() < config.saturated_reference:
        stops += float(gen.uniform(1.5, 3.0))
    return view * np.float32(MIDDLE_GREY / max(log_average, 1e-8) * 2.0**stops)


def _log_uniform(gen: np.random.Generator, bounds: tuple[float, float]) -> float:
    low, high = bounds
    return (
        float(math.exp(gen.uniform(math.log(low), math.log(high))))
        if low > 0
        else float(gen.uniform(*bounds))
    )


def make_hdr_bracket(
    radiance: np.ndarray, config: HdrBracketConfig, gen: np.random.Generator, *, source: str = ""
) -> HdrBracket:
    """One dynamic bracket and its ground truth from a radiance map (float32 RGB ``H x W x 3``)."""
    view = _metered(_view(radiance, config, gen), config, gen)
    step = float(config.ev_steps[int(gen.integers(len(config.ev_steps)))])
    half = config.frames // 2
    ev_stops = tuple(step * (index - half) for index in range(config.frames))
    camera = CameraBracketConfig(
        ev_stops=ev_stops,
        response=GammaResponse(gamma=config.gamma),
        shot_noise_gain=_log_uniform(gen, config.shot_noise_gain),
        read_noise_std=_log_uniform(gen, config.read_noise_std),
        global_motion_px=config.shake_px,
        global_rotation_deg=config.shake_deg,
        local_motion=bool(gen.random() < config.moving_object),
        local_motion_px=float(gen.uniform(*config.object_motion_px)),
    )
    exposed = expose_radiance(view, camera, gen)
    darkest = np.float32(2.0 ** ev_stops[0])
    return HdrBracket(
        frames=exposed.frames,
        exposure_times=tuple(float(2.0 ** (ev - ev_stops[0])) for ev in ev_stops),
        radiance=np.clip(exposed.radiance * darkest, 0.0, 1.0),
        reference_index=exposed.reference_index,
        source=source,
        gamma=config.gamma,
    )


@dataclass
class RadianceMapCache:
    """Radiance maps read once and kept (the 53 maps are about 300 MB as float32)."""

    maps: dict[Path, np.ndarray] = field(default_factory=dict)

    def __call__(self, path: Path) -> np.ndarray:
        if path not in self.maps:
            from edgemef.io.hdr import read_hdr

            self.maps[path] = read_hdr(path)
        return self.maps[path]


def validation_brackets(
    maps: Sequence[Path],
    config: HdrBracketConfig = HdrBracketConfig(),
    *,
    per_map: int = 2,
    seed: int = 0,
    cache: RadianceMapCache | None = None,
) -> Iterator[HdrBracket]:
    """``per_map`` brackets of every map, the same for the same seed (each map draws from its own stream,
    so adding a map does not change the others' brackets)."""
    read = cache or RadianceMapCache()
    for path in maps:
        name_seed = int.from_bytes(hashlib.sha256(path.name.encode()).digest()[:8], "little")
        gen = np.random.default_rng([seed, name_seed])
        radiance = read(path)
        for _ in range(per_map):
            yield make_hdr_bracket(radiance, config, gen, source=path.name)


def static_bracket_config(size: int) -> HdrBracketConfig:
    """The generator's defaults without motion (no shake, no moving object), views of ``size`` pixels:
    aligned brackets for fusion models (2 or 3 stops between frames)."""
    return HdrBracketConfig(size=size, shake_px=0.0, shake_deg=0.0, moving_object=0.0)


def fusion_frames(bracket: HdrBracket, n_exposures: int) -> np.ndarray:
    """The frames a fusion model of ``n_exposures`` inputs takes from a bracket: all three, or the darkest
    and brightest (as :func:`edgemef.data.select_exposures` takes them from a scene)."""
    return bracket.frames[select_exposures(len(bracket.frames), str(n_exposures))]
