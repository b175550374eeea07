"""Bracket planning: from a metered exposure and an EV spread to the exposure times a camera is asked for.

Pure functions, no camera. One EV is a factor of two in exposure (time x gain). The analogue gain stays at the
metered value for the whole bracket (the issue's locked ``AnalogueGain``: a gain change would change the
noise between frames), so the bracket moves only the exposure time. Times outside the sensor's limits are
clamped, and each frame records the EV it will really get (``achieved_ev``) so a clamped bracket is reported,
never hidden.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edgemef.errors import CameraError


@dataclass(frozen=True)
class SensorLimits:
    """What the sensor accepts: exposure time in microseconds, analogue gain as a factor."""

    min_exposure_us: int
    max_exposure_us: int
    min_gain: float = 1.0
    max_gain: float = 16.0

    def __post_init__(self) -> None:
        if not 0 < self.min_exposure_us <= self.max_exposure_us:
            raise CameraError(
                f"bad sensor limits: exposure {self.min_exposure_us}..{self.max_exposure_us} us"
            )


@dataclass(frozen=True)
class Metering:
    """The camera's automatic exposure and white balance at the moment they are locked."""

    exposure_us: int
    gain: float
    colour_gains: tuple[float, float] | None = None  # (red, blue); None: the camera has no such control


@dataclass(frozen=True)
class FrameRequest:
    """One frame of a planned bracket."""

    ev: float  # the EV asked for, relative to the metered exposure
    exposure_us: int
    gain: float
    achieved_ev: float  # the EV the clamped exposure time gives

    @property
    def clamped(self) -> bool:
        return abs(self.achieved_ev - self.ev) > 0.05


def ev_offsets(n_frames: int, ev_step: float) -> tuple[float, ...]:
    """EVs of an ``n_frames`` bracket centred on the metered exposure, ``ev_step`` apart, darkest first.

    >>> ev_offsets(3, 2.0)
    (-2.0, 0.0, 2.0)
    >>> ev_offsets(2, 2.0)
    (-1.0, 1.0)
    """
    if n_frames < 2:
        raise CameraError(f"a bracket needs at least 2 frames, got {n_frames}")
    if not 0 < ev_step <= 6:
        raise CameraError(f"the EV step must be in (0, 6], got {ev_step}")
    centre = (n_frames - 1) / 2
    return tuple((index - centre) * ev_step for index in range(n_frames))


def plan_bracket(
    metering: Metering, n_frames: int, ev_step: float, limits: SensorLimits
) -> tuple[FrameRequest, ...]:
    """The frames to capture, darkest first, with exposure times inside ``limits``.

    Raises :class:`~edgemef.errors.CameraError` when clamping leaves two frames with the same exposure (the
    bracket would not span the scene): the message says which EV step would fit.
    """
    base = max(1, int(metering.exposure_us))
    gain = min(max(float(metering.gain), limits.min_gain), limits.max_gain)
    frames = []
    for ev in ev_offsets(n_frames, ev_step):
        wanted = base * 2.0**ev
        exposure = round(min(max(wanted, limits.min_exposure_us), limits.max_exposure_us))
        frames.append(FrameRequest(ev, exposure, gain, math.log2(exposure / base)))
    times = [frame.exposure_us for frame in frames]
    if len(set(times)) != len(times):
        span = math.log2(limits.max_exposure_us / limits.min_exposure_us)
        raise CameraError(
            f"the sensor's exposure limits ({limits.min_exposure_us}..{limits.max_exposure_us} us) "
            "cannot hold "
            f"{n_frames} frames {ev_step:g} EV apart around the metered {base} us: two frames would get the "
            f"same exposure. Use a smaller --ev-step (the sensor spans {span:.1f} EV in all) or change the "
            "scene's light"
        )
    return tuple(frames)


def describe_plan(frames: tuple[FrameRequest, ...]) -> str:
    """One line per frame: EV asked for, exposure time as a shutter speed, gain, and any clamping."""
    lines = []
    for frame in frames:
        seconds = frame.exposure_us / 1e6
        shutter = f"1/{1 / seconds:.0f} s" if seconds < 1 else f"{seconds:.2f} s"
        note = f" (clamped to the sensor: {frame.achieved_ev:+.2f} EV)" if frame.clamped else ""
        lines.append(f"EV {frame.ev:+.1f}: {frame.exposure_us} us ({shutter}), gain {frame.gain:.2f}{note}")
    return "\n".join(lines)
