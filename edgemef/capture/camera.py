"""The camera protocol every source implements, and bracket capture on top of it.

A camera meters once (automatic exposure and white balance settle, then lock), is switched to manual
exposure, and delivers frames with the metadata of the exposure each frame really had. Exposure changes
take a few frames to reach the sensor, so :func:`capture_frame` accepts a frame only when its metadata
reports the requested exposure time (within a tolerance: sensors quantise the time to whole lines), retries
up to a bound, and reports how many frames it needed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from edgemef.capture.planning import FrameRequest, Metering, SensorLimits, plan_bracket
from edgemef.errors import CameraError


class Camera(Protocol):
    """What :func:`capture_bracket` needs from a camera (picamera2, OpenCV VideoCapture, a test double)."""

    name: str

    def limits(self) -> SensorLimits:
        """The exposure-time and gain range the sensor accepts."""
        ...

    def meter(self) -> Metering:
        """Let automatic exposure and white balance settle and return their values."""
        ...

    def set_manual(self, exposure_us: int, gain: float, colour_gains: tuple[float, float] | None) -> None:
        """Auto exposure and auto white balance off; this exposure time, gain and white balance."""
        ...

    def grab(self) -> tuple[np.ndarray, dict[str, Any]]:
        """The next frame (H x W x 3 uint8 RGB) and its metadata (``ExposureTime`` us, ``AnalogueGain``)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class AcceptancePolicy:
    """When a frame's metadata counts as the requested exposure.

    ``tolerance``: relative error allowed on the exposure time and the gain; ``min_error_us``: absolute slack
    for very short times (one sensor line is 10-30 us); ``max_attempts``: frames grabbed before giving up.
    """

    tolerance: float = 0.05
    min_error_us: float = 60.0
    max_attempts: int = 10


def exposure_applied(request: FrameRequest, metadata: dict[str, Any], policy: AcceptancePolicy) -> bool:
    """True when ``metadata`` reports the exposure time (and gain, where reported) of ``request``."""
    reported = metadata.get("ExposureTime")
    if reported is None:
        return False
    allowed = max(policy.tolerance * request.exposure_us, policy.min_error_us)
    if abs(float(reported) - request.exposure_us) > allowed:
        return False
    gain = metadata.get("AnalogueGain")
    return gain is None or abs(float(gain) - request.gain) <= policy.tolerance * request.gain + 1e-3


@dataclass
class CapturedFrame:
    image: np.ndarray
    request: FrameRequest
    metadata: dict[str, Any]
    attempts: int  # frames grabbed until this one was accepted


def capture_frame(
    camera: Camera, request: FrameRequest, colour_gains: tuple[float, float] | None, policy: AcceptancePolicy
) -> CapturedFrame:
    """Ask for ``request``'s exposure; grab frames until one reports it (``policy.max_attempts`` at most)."""
    camera.set_manual(request.exposure_us, request.gain, colour_gains)
    last: dict[str, Any] = {}
    for attempt in range(1, policy.max_attempts + 1):
        image, metadata = camera.grab()
        if exposure_applied(request, metadata, policy):
            return CapturedFrame(image, request, metadata, attempt)
        last = metadata
    raise CameraError(
        f"{camera.name}: asked for {request.exposure_us} us at gain {request.gain:.2f}, but after "
        f"{policy.max_attempts} frames the camera still reported {last.get('ExposureTime')} us at gain "
        f"{last.get('AnalogueGain')}: it does not apply manual exposure "
        "(raise --max-attempts if it is only slow)"
    )


@dataclass
class CapturedBracket:
    """A captured bracket, darkest first, with what was asked and what each frame reported."""

    frames: np.ndarray  # N x H x W x 3 uint8 RGB
    plan: tuple[FrameRequest, ...]
    metering: Metering
    attempts: list[int]
    metadata: list[dict[str, Any]] = field(default_factory=list)
    capture_ms: float = 0.0


def capture_bracket(
    camera: Camera,
    n_frames: int,
    ev_step: float,
    policy: AcceptancePolicy | None = None,
    metering: Metering | None = None,
) -> CapturedBracket:
    """Meter (unless ``metering`` is given: a loop keeps its first metering), plan and capture one bracket."""
    policy = policy or AcceptancePolicy()
    start = time.perf_counter()
    metering = metering or camera.meter()
    plan = plan_bracket(metering, n_frames, ev_step, camera.limits())
    captured = [capture_frame(camera, request, metering.colour_gains, policy) for request in plan]
    shapes = {frame.image.shape for frame in captured}
    if len(shapes) != 1:
        raise CameraError(
            f"{camera.name}: the frames of one bracket came in different sizes: {sorted(shapes)}"
        )
    return CapturedBracket(
        frames=np.stack([frame.image for frame in captured]),
        plan=plan,
        metering=metering,
        attempts=[frame.attempts for frame in captured],
        metadata=[frame.metadata for frame in captured],
        capture_ms=(time.perf_counter() - start) * 1000.0,
    )
