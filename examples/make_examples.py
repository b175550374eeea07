"""Make the example brackets in examples/brackets/ from licence-clean photos.

The photos ship inside the scikit-image wheel (see MANIFEST.md for each one's licence); the
brackets are synthesised with edgemef's camera-response model, so anyone can re-create them:

    pip install -e ".[test]"   # scikit-image is a test dependency
    python examples/make_examples.py
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from skimage import data as skdata

from edgemef.data import CameraBracketConfig, synthesize_camera_bracket
from edgemef.io import write_image
from edgemef.models import create_model

HERE = Path(__file__).resolve().parent
PICTURES = HERE.parent / "docs" / "images"
#: name -> (scikit-image loader, EV stops, seed)
SOURCES = {
    "coffee": (skdata.coffee, (-2.0, 0.0, 2.0), 1),
    "rocket": (skdata.rocket, (-2.0, 0.0, 2.0), 2),
}


def main() -> None:
    for name, (loader, ev_stops, seed) in SOURCES.items():
        folder = HERE / "brackets" / name
        folder.mkdir(parents=True, exist_ok=True)
        config = CameraBracketConfig(ev_stops=ev_stops)
        bracket = synthesize_camera_bracket(loader(), config, seed=seed)
        for ev, frame in zip(ev_stops, bracket.frames, strict=True):
            label = f"{'m' if ev < 0 else 'p'}{abs(ev):.0f}" if ev else "0"
            write_image(folder / f"{name}_ev{label}.jpg", frame, jpeg_quality=92)
        print(f"{folder}: {len(ev_stops)} exposures at EV {ev_stops}")
        PICTURES.mkdir(parents=True, exist_ok=True)
        labels = [f"EV {ev:+.0f}" for ev in ev_stops]
        fusions = {
            model: create_model(model).fuse(bracket.frames)
            for model in ("mertens", "lut-student", "lut-adaptive")
        }
        sheet = contact_sheet([*bracket.frames, *fusions.values()], [*labels, *fusions])
        picture = write_image(PICTURES / f"{name}_fusion.jpg", sheet, jpeg_quality=88)
        print(f"{picture}: the bracket, its Mertens, lut-student and lut-adaptive fusions")


def contact_sheet(images: list[np.ndarray], labels: list[str], height: int = 200, gap: int = 6) -> np.ndarray:
    """The images side by side at a common height, on white, each with its label in the corner."""
    scaled = [
        cv2.resize(im, (round(im.shape[1] * height / im.shape[0]), height), interpolation=cv2.INTER_AREA)
        for im in images
    ]
    for image, label in zip(scaled, labels, strict=True):
        for colour, thickness in (((0, 0, 0), 3), ((255, 255, 255), 1)):
            cv2.putText(image, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, thickness, cv2.LINE_AA)
    spacer = np.full((height, gap, 3), 255, np.uint8)
    row = [part for im in scaled for part in (im, spacer)][:-1]
    return np.concatenate(row, axis=1)


if __name__ == "__main__":
    main()
