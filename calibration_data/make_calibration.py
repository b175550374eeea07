"""Make the converters' calibration and parity brackets in calibration_data/ from licence-clean photos.

The photos ship inside the scikit-image wheel (MANIFEST.md names each one's licence); the brackets are
synthesised with edgemef's camera model (sRGB or gamma response, shot and read noise, clipping), with a
fixed seed per stack, so anyone can re-create them byte for byte on the same library versions:

    pip install -e ".[test]"   # scikit-image is a test dependency
    python calibration_data/make_calibration.py

Two subsets, never mixed:

- ``calibration/``: the stacks that int8 post-training quantization observes (activation ranges);
- ``parity/``: held-out stacks on which every converted artifact is compared with PyTorch fp32.

Frames are stored at most 512 pixels on the long side: the network sees 128x128 thumbnails only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from skimage import data as skdata

from edgemef.data import CameraBracketConfig, synthesize_camera_bracket
from edgemef.data.synthesis import GammaResponse
from edgemef.io import write_image

HERE = Path(__file__).resolve().parent
LONG_SIDE = 512


@dataclass(frozen=True)
class Stack:
    """One synthesised bracket: a photo, its exposure stops, the camera response and a seed."""

    name: str
    photo: str  # name of the scikit-image loader
    ev_stops: tuple[float, ...]
    seed: int
    gamma: float | None = None  # None: sRGB response


CALIBRATION = (
    Stack("astronaut_ev2", "astronaut", (-2.0, 0.0, 2.0), 11),
    Stack("astronaut_ev3_gamma", "astronaut", (-3.0, 0.0, 3.0), 12, gamma=2.2),
    Stack("chelsea_ev2", "chelsea", (-2.0, 0.0, 2.0), 13),
    Stack("chelsea_dark", "chelsea", (-4.0, -2.0, 0.0), 14),
    Stack("hubble_bright", "hubble_deep_field", (0.0, 2.0, 4.0), 15),
    Stack("retina_ev2", "retina", (-2.0, 0.0, 2.0), 16, gamma=1.8),
    Stack("ihc_ev1", "immunohistochemistry", (-1.0, 0.0, 1.0), 17),
    Stack("ihc_ev3", "immunohistochemistry", (-3.0, 0.0, 3.0), 18),
)
PARITY = (
    Stack("coffee_ev2", "coffee", (-2.0, 0.0, 2.0), 21),
    Stack("rocket_ev3", "rocket", (-3.0, 0.0, 3.0), 22),
)


def photo(name: str) -> np.ndarray:
    """A scikit-image photo, RGB uint8, at most LONG_SIDE pixels on the long side."""
    image = getattr(skdata, name)()
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    scale = LONG_SIDE / max(image.shape[:2])
    if scale < 1:
        size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image)


def make(stack: Stack, folder: Path) -> None:
    config = CameraBracketConfig(ev_stops=stack.ev_stops)
    if stack.gamma is not None:
        config = CameraBracketConfig(ev_stops=stack.ev_stops, response=GammaResponse(stack.gamma))
    bracket = synthesize_camera_bracket(photo(stack.photo), config, seed=stack.seed)
    out = folder / stack.name
    out.mkdir(parents=True, exist_ok=True)
    for index, (ev, frame) in enumerate(zip(stack.ev_stops, bracket.frames, strict=True)):
        write_image(out / f"{index}_ev{ev:+.0f}.jpg", frame, jpeg_quality=90)
    print(f"{out.relative_to(HERE)}: EV {stack.ev_stops}")


def main() -> None:
    for subset, stacks in (("calibration", CALIBRATION), ("parity", PARITY)):
        for stack in stacks:
            make(stack, HERE / subset)


if __name__ == "__main__":
    main()
