"""A USB webcam through OpenCV's VideoCapture (V4L2), implementing :class:`~edgemef.capture.camera.Camera`.

UVC webcams differ from the Pi camera in two ways that shape this adapter:

- V4L2 gives no per-frame metadata. After an exposure change the adapter drops ``settle_frames`` frames
  and then reports the exposure the driver reads back, so acceptance checks the control, not the frame.
- Drivers do not report what auto exposure chose. Metering therefore searches the manual exposure that puts
  the frame's mean at middle grey (a few frames), then locks white balance (``CAP_PROP_AUTO_WB = 0``).

OpenCV's V4L2 backend takes ``CAP_PROP_AUTO_EXPOSURE`` as V4L2's ``exposure_auto`` (1: manual, 3: aperture
priority) and ``CAP_PROP_EXPOSURE`` as ``exposure_time_absolute`` in units of 100 us. A driver that refuses
manual exposure (the setter fails or reads back another value) ends with a clear :class:`CameraError`.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from edgemef.capture.planning import Metering, SensorLimits
from edgemef.errors import CameraError

V4L2_MANUAL, V4L2_AUTO = 1, 3
UNIT_US = 100  # exposure_time_absolute counts 100 us
MID_GREY = 118.0


class WebcamCamera:
    """A V4L2 webcam (``/dev/videoN``)."""

    def __init__(
        self,
        index: int = 0,
        size: tuple[int, int] = (1920, 1080),
        limits: SensorLimits | None = None,
        settle_frames: int = 4,
    ) -> None:
        self.name = f"webcam /dev/video{index}"
        self._capture = cv2.VideoCapture(index, cv2.CAP_V4L2)
        if not self._capture.isOpened():
            raise CameraError(f"no camera found at /dev/video{index} (is a USB webcam plugged in?)")
        self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
        self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        self._limits = limits or SensorLimits(UNIT_US, 333_300, 1.0, 1.0)
        self._settle = settle_frames
        self._read()

    def _read(self) -> np.ndarray:
        ok, bgr = self._capture.read()
        if not ok or bgr is None:
            raise CameraError(f"{self.name} delivered no frame")
        if bgr.ndim == 2:
            return cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def limits(self) -> SensorLimits:
        return self._limits

    def _set_exposure(self, exposure_us: int) -> int:
        units = max(1, round(exposure_us / UNIT_US))
        if not (
            self._capture.set(cv2.CAP_PROP_AUTO_EXPOSURE, V4L2_MANUAL)
            and self._capture.set(cv2.CAP_PROP_EXPOSURE, units)
        ):
            raise CameraError(
                f"{self.name} refuses manual exposure (its driver does not take exposure_auto=1 or "
                "exposure_time_absolute); 'v4l2-ctl -d /dev/videoN --list-ctrls' shows what it offers. "
                "Use --source picamera2 or --source files"
            )
        for _ in range(self._settle):
            self._read()
        return round(self._capture.get(cv2.CAP_PROP_EXPOSURE)) * UNIT_US

    def meter(self) -> Metering:
        exposure = 10_000
        for _ in range(6):
            self._set_exposure(exposure)
            mean = float(self._read().mean())
            if abs(mean - MID_GREY) < 0.15 * MID_GREY:
                break
            factor = min(max(MID_GREY / max(mean, 1.0), 0.125), 8.0)
            exposure = int(
                min(max(exposure * factor, self._limits.min_exposure_us), self._limits.max_exposure_us)
            )
        self._capture.set(cv2.CAP_PROP_AUTO_WB, 0)
        return Metering(exposure_us=exposure, gain=1.0, colour_gains=None)

    def set_manual(self, exposure_us: int, gain: float, colour_gains: tuple[float, float] | None) -> None:
        self._reported_us = self._set_exposure(exposure_us)

    def grab(self) -> tuple[np.ndarray, dict[str, Any]]:
        return self._read(), {"ExposureTime": getattr(self, "_reported_us", None)}

    def close(self) -> None:
        self._capture.set(cv2.CAP_PROP_AUTO_EXPOSURE, V4L2_AUTO)  # leave the webcam as we found it
        self._capture.release()
