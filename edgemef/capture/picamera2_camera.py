"""The Raspberry Pi camera through picamera2 (libcamera): a :class:`~edgemef.capture.camera.Camera`.

picamera2 comes with Raspberry Pi OS (``sudo apt install python3-picamera2``); a virtual environment sees it
only when made with ``--system-site-packages``. It is imported when a camera is opened, so this module
imports anywhere.

Frames are captured with a still configuration in ``RGB888``, which libcamera lays out as B, G, R bytes; they
are converted to RGB. Metering runs automatic exposure and white balance until ``AeLocked`` (or a bound of
frames), then the bracket runs with ``AeEnable=False``, ``AwbEnable=False``, fixed ``ColourGains`` and
``AnalogueGain``, and a frame-duration limit long enough for the longest exposure.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from edgemef.capture.planning import Metering, SensorLimits
from edgemef.errors import CameraError

INSTALL_HINT = (
    "picamera2 comes with Raspberry Pi OS: 'sudo apt install python3-picamera2', and make the virtual "
    "environment with 'python3 -m venv --system-site-packages' (rpi/install.sh does both)"
)
METERING_FRAMES = 60  # about 2 s at 30 fps: enough for AE/AWB to converge from a cold start


def _import_picamera2() -> Any:
    try:
        from picamera2 import Picamera2
    except ImportError as exc:
        raise CameraError(f"the picamera2 source needs picamera2 ({exc}); {INSTALL_HINT}") from None
    return Picamera2


class Picamera2Camera:
    """A libcamera camera (Camera Module 1-3, HQ, GS) on a Raspberry Pi."""

    def __init__(self, camera_num: int = 0, size: tuple[int, int] = (1920, 1080)) -> None:
        picamera2 = _import_picamera2()
        cameras = picamera2.global_camera_info()
        if not cameras:
            raise CameraError(
                "no camera found by libcamera: check the ribbon cable and that 'rpicam-hello --list-cameras' "
                "lists the camera"
            )
        if not 0 <= camera_num < len(cameras):
            raise CameraError(f"camera {camera_num} not found; libcamera lists {len(cameras)} camera(s)")
        self.name = f"picamera2 {cameras[camera_num].get('Model', 'camera')} #{camera_num}"
        self._camera = picamera2(camera_num)
        config = self._camera.create_still_configuration(
            main={"size": tuple(size), "format": "RGB888"}, buffer_count=3, queue=False
        )
        self._camera.configure(config)
        self._camera.start()
        self._controls = self._camera.camera_controls

    def _range(self, control: str) -> tuple[float, float]:
        if control not in self._controls:
            raise CameraError(f"{self.name} has no {control} control: it cannot bracket exposures")
        low, high, _default = self._controls[control]
        return float(low), float(high)

    def limits(self) -> SensorLimits:
        exposure_low, exposure_high = self._range("ExposureTime")
        gain_low, gain_high = self._range("AnalogueGain")
        return SensorLimits(max(1, int(exposure_low)), int(exposure_high), gain_low, gain_high)

    def meter(self) -> Metering:
        self._camera.set_controls({"AeEnable": True, "AwbEnable": True})
        metadata: dict[str, Any] = {}
        for _ in range(METERING_FRAMES):
            metadata = self._camera.capture_metadata()
            if metadata.get("AeLocked"):
                break
        gains = metadata.get("ColourGains")
        return Metering(
            exposure_us=int(metadata["ExposureTime"]),
            gain=float(metadata["AnalogueGain"]),
            colour_gains=(float(gains[0]), float(gains[1])) if gains else None,
        )

    def set_manual(self, exposure_us: int, gain: float, colour_gains: tuple[float, float] | None) -> None:
        controls: dict[str, Any] = {
            "AeEnable": False,
            "AwbEnable": False,
            "ExposureTime": int(exposure_us),
            "AnalogueGain": float(gain),
            "FrameDurationLimits": (33333, max(33333, int(exposure_us) + 2000)),
        }
        if colour_gains is not None:
            controls["ColourGains"] = tuple(colour_gains)
        self._camera.set_controls(controls)

    def grab(self) -> tuple[np.ndarray, dict[str, Any]]:
        request = self._camera.capture_request()
        try:
            bgr = request.make_array("main")
            metadata = request.get_metadata()
        finally:
            request.release()
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), metadata

    def camera_hdr_frame(self) -> np.ndarray:
        """A frame with the ISP's own HDR (``HdrMode``, Raspberry Pi 5), to compare with the fused one."""
        if "HdrMode" not in self._controls:
            raise CameraError(
                f"{self.name} offers no HdrMode control (the Pi 5 ISP has it); on a Camera Module 3 the "
                "sensor's HDR is switched with "
                "'v4l2-ctl --set-ctrl wide_dynamic_range=1 -d /dev/v4l-subdev0' before starting"
            )
        from libcamera import controls

        self._camera.set_controls(
            {"AeEnable": True, "AwbEnable": True, "HdrMode": controls.HdrModeEnum.MultiExposure}
        )
        for _ in range(METERING_FRAMES // 2):  # let the HDR pipeline and AE settle
            self._camera.capture_metadata()
        image, _ = self.grab()
        self._camera.set_controls({"HdrMode": controls.HdrModeEnum.Off})
        return image

    def close(self) -> None:
        try:
            self._camera.stop()
        finally:
            self._camera.close()
