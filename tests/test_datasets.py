"""Dataset layouts on disk and the choice of exposures per scene."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edgemef.data import find_scenes, load_scene, select_exposures
from edgemef.errors import DatasetError
from tests.conftest import exposure_bracket, shared_data, textured_scene


def write(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), rgb[..., ::-1])


@pytest.mark.parametrize(
    ("n", "choice", "expected"),
    [
        (7, "3", [0, 3, 6]),
        (17, "3", [0, 8, 16]),
        (7, "2", [0, 6]),
        (2, "all", [0, 1]),
        (2, None, [0, 1]),
        (5, None, [0, 2, 4]),
    ],
)
def test_select_exposures(n: int, choice: str | None, expected: list[int]) -> None:
    assert select_exposures(n, choice) == expected


def test_select_more_than_available() -> None:
    with pytest.raises(DatasetError, match="scene has 2 exposures, 3 asked for"):
        select_exposures(2, "3")


def test_sice_layout_orders_by_exposure_not_name(tmp_path: Path) -> None:
    scene = textured_scene(32, 48)
    frames = exposure_bracket(scene, (0.2, 1.0, 5.0))
    # Names lie: ev3 is the darkest frame.
    for name, frame in zip(["ev3", "ev1", "ev2"], frames, strict=True):
        write(tmp_path / "s1" / f"{name}.jpg", frame)
    write(tmp_path / "s1" / "gt.jpg", scene)
    (scenes,) = find_scenes(tmp_path, "sice")
    assert scenes.reference is not None and scenes.reference.name == "gt.jpg"
    bracket, reference = load_scene(scenes, "3")
    assert [p.name for p in bracket.paths] == ["ev3.jpg", "ev1.jpg", "ev2.jpg"]
    assert reference is not None and reference.shape == scene.shape


def test_mefb_layout_and_missing_files(tmp_path: Path) -> None:
    frames = exposure_bracket(textured_scene(), (4.0, 0.25))
    write(tmp_path / "Arno" / "a.png", frames[0])
    write(tmp_path / "Arno" / "b.png", frames[1])
    (scene,) = find_scenes(tmp_path, "mefb")
    bracket, reference = load_scene(scene)
    assert reference is None and [p.name for p in bracket.paths] == ["b.png", "a.png"]
    (tmp_path / "Arno" / "b.png").unlink()
    with pytest.raises(DatasetError, match=r"needs a\.png and b\.png"):
        find_scenes(tmp_path, "mefb")


def test_flat_folder_is_one_scene(tmp_path: Path) -> None:
    for i, frame in enumerate(exposure_bracket(textured_scene())):
        write(tmp_path / f"shot{i}.png", frame)
    (scene,) = find_scenes(tmp_path)
    assert scene.name == tmp_path.name and len(scene.exposures) == 3 and scene.reference is None


def test_layout_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="unknown dataset layout 'sicee'; choose one of"):
        find_scenes(tmp_path, "sicee")
    write(tmp_path / "s" / "ev1.jpg", textured_scene())
    write(tmp_path / "s" / "ev2.jpg", textured_scene())
    with pytest.raises(DatasetError, match=r"needs a gt\.jpg"):
        find_scenes(tmp_path, "sice")
    write(tmp_path / "s" / "gt.jpg", textured_scene(20, 20))
    (scene,) = find_scenes(tmp_path, "sice")
    with pytest.raises(DatasetError, match="reference is 20x20, exposures are 64x48"):
        load_scene(scene)


@pytest.mark.data
def test_real_sice_and_mefb_layouts() -> None:
    sice = find_scenes(shared_data("sice"))
    assert len(sice) >= 10 and all(s.reference is not None for s in sice)
    scene12 = next(s for s in sice if s.name == "scene12")
    bracket, _ = load_scene(scene12, "all")
    # scene12's 17 files sort by name, not by number: the luminance order puts them right.
    assert len(bracket) == 17 and bracket.paths[1].name == "ev10.jpg"
    means = bracket.frames[:, ::8, ::8].reshape(17, -1).mean(axis=1)
    assert np.all(np.diff(means) > 0)
    mefb = find_scenes(shared_data("mefb"))
    assert len(mefb) >= 20 and all(len(s.exposures) == 2 and s.reference is None for s in mefb)
