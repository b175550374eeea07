"""A software camera: ``--source simulated`` runs the capture path (metering, manual exposure, metadata
acceptance with lag, retries) with no hardware, and the tests use it as the camera the protocol describes.

The scene is a linear radiance map with a 16x brighter "window" (about 4 EV of scene contrast beyond a
normal exposure), built from an sRGB picture (``scene``) or a procedural texture. A frame is the radiance
times exposure time times gain, plus shot and read noise, clipped at the sensor's white level and encoded
to sRGB. Like libcamera, a new exposure reaches the sensor only ``lag`` frames after it is requested, and
each frame's metadata reports the exposure that frame really had.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from edgemef.capture.planning import Metering, SensorLimits
from edgemef.data.synthesis import linear_to_srgb, srgb_to_linear

MID_GREY_LINEAR = 0.18
WINDOW_GAIN = 16.0


def procedural_scene(width: int, height: int) -> np.ndarray:
    """An sRGB uint8 test picture: smooth shading, fine texture and coloured bands."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    shade = 0.45 + 0.25 * np.sin(x / (width / 7.0)) * np.cos(y / (height / 5.0))
    texture = 0.12 * np.sin(x / 3.0 + y / 5.0)
    bands = 0.1 * np.sin(np.stack([x / 40.0, y / 55.0, (x + y) / 70.0], axis=2))
    image = np.clip(shade[..., None] + texture[..., None] + bands, 0.0, 1.0)
    return (image * 255.0 + 0.5).astype(np.uint8)


class SimulatedCamera:
    """A camera over a synthetic high-dynamic-range scene (see the module docstring)."""

    def __init__(
        self,
        size: tuple[int, int] = (1280, 720),
        scene: np.ndarray | None = None,
        lag: int = 2,
        limits: SensorLimits | None = None,
        seed: int = 0,
        ignores_manual: bool = False,
    ) -> None:
        width, height = size
        self.name = "simulated camera"
        picture = scene if scene is not None else procedural_scene(width, height)
        if picture.shape[:2] != (height, width):
            import cv2

            picture = cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA)
        radiance = srgb_to_linear(np.ascontiguousarray(picture, dtype=np.uint8))
        window = np.zeros((height, width, 1), np.float32)
        window[height // 8 : height // 2, width // 2 : width - width // 8] = 1.0
        # Radiance in "linear units per second": an exposure of 10 ms at gain 1 puts the scene at mid grey.
        self._radiance = radiance * (1.0 + (WINDOW_GAIN - 1.0) * window) * (MID_GREY_LINEAR / 0.2 / 0.01)
        self._limits = limits or SensorLimits(30, 500_000, 1.0, 16.0)
        self._rng = np.random.default_rng(seed)
        self._lag = lag
        self._ignores_manual = ignores_manual
        self._applied = {"ExposureTime": 10_000, "AnalogueGain": 1.0}
        self._pending: deque[dict[str, Any]] = deque()
        self.frames_grabbed = 0

    def limits(self) -> SensorLimits:
        return self._limits

    def meter(self) -> Metering:
        # Centre-weighted auto exposure: put the mean of the frame's centre (window excluded) at mid grey.
        height, width = self._radiance.shape[:2]
        centre = self._radiance[height // 2 :, : width // 2].mean()
        exposure_s = MID_GREY_LINEAR / float(centre)
        exposure = int(np.clip(exposure_s * 1e6, self._limits.min_exposure_us, self._limits.max_exposure_us))
        return Metering(exposure_us=exposure, gain=1.0, colour_gains=(2.0, 1.6))

    def set_manual(self, exposure_us: int, gain: float, colour_gains: tuple[float, float] | None) -> None:
        if self._ignores_manual:
            return
        settings = {"ExposureTime": int(exposure_us), "AnalogueGain": float(gain)}
        self._pending.extend(
            [dict(self._applied)] * (self._lag - 1) + [settings] if self._lag else [settings]
        )

    def grab(self) -> tuple[np.ndarray, dict[str, Any]]:
        if self._pending:
            self._applied = self._pending.popleft()
        exposure_s = self._applied["ExposureTime"] / 1e6
        signal = self._radiance * exposure_s * self._applied["AnalogueGain"]
        noise = self._rng.normal(0.0, 1.0, signal.shape).astype(np.float32)
        signal = signal + noise * np.sqrt(1e-4 * np.maximum(signal, 0.0) + 1e-6)
        frame = (linear_to_srgb(np.clip(signal, 0.0, 1.0)) * 255.0 + 0.5).astype(np.uint8)
        self.frames_grabbed += 1
        return frame, dict(self._applied)

    def close(self) -> None:
        self._pending.clear()
