"""Whole shoots in one process (``edgemef fuse SHOOT -o FOLDER``), the EXIF split of flat folders, and the
default path: the shipped artifact fuses without torch."""

from __future__ import annotations

import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from edgemef.cli.main import main
from edgemef.io.shoot import find_brackets
from tests.conftest import exposure_bracket, run_python_without_torch, textured_scene

GAINS = (0.25, 1.0, 4.0)
EXPOSURE_S = (1 / 400, 1 / 100, 1 / 25)  # two stops apart, like GAINS


def write_jpeg(
    path: Path, frame: np.ndarray, exposure_s: float | None = None, taken: float | None = None
) -> None:
    """A JPEG with EXIF ExposureTime / ISO / FNumber and DateTimeOriginal + SubSec when given."""
    exif = Image.Exif()
    if exposure_s is not None or taken is not None:
        ifd = exif.get_ifd(0x8769)
        if exposure_s is not None:
            ifd[0x829A] = exposure_s
            ifd[0x8827] = 100
            ifd[0x829D] = 4.0
        if taken is not None:
            moment = datetime.datetime.fromtimestamp(int(taken), datetime.timezone.utc)
            ifd[0x9003] = moment.strftime("%Y:%m:%d %H:%M:%S")
            ifd[0x9291] = f"{round((taken % 1) * 100):02d}"
    Image.fromarray(frame).save(path, quality=92, exif=exif.tobytes())


def flat_shoot(folder: Path, brackets: int, with_exif: bool = True) -> None:
    """``brackets`` auto-bracketed shots of 3 frames in one folder, 0.3 s apart, brackets 5 s apart; file
    names in capture order (IMG_0001...)."""
    folder.mkdir(parents=True)
    number = 1
    for b in range(brackets):
        frames = exposure_bracket(textured_scene(48, 64, seed=b), GAINS)
        for k, frame in enumerate(frames):
            taken = 1_700_000_000.0 + 5.0 * b + 0.3 * k
            write_jpeg(
                folder / f"IMG_{number:04d}.jpg",
                frame,
                EXPOSURE_S[k] if with_exif else None,
                taken if with_exif else None,
            )
            number += 1


def test_flat_shoot_is_split_by_exif(tmp_path: Path) -> None:
    flat_shoot(tmp_path / "shoot", 4)
    brackets = find_brackets([tmp_path / "shoot"])
    assert [b.name for b in brackets] == ["IMG_0001", "IMG_0004", "IMG_0007", "IMG_0010"]
    assert all(len(b.paths) == 3 and b.problem is None for b in brackets)


def test_incomplete_bracket_is_reported_not_fused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flat_shoot(tmp_path / "shoot", 3)
    (tmp_path / "shoot" / "IMG_0009.jpg").unlink()  # the last bracket lost its brightest frame
    out = tmp_path / "fused"
    assert main(["fuse", str(tmp_path / "shoot"), "-o", str(out), "-m", "mertens"]) == 1
    text = capsys.readouterr().out
    assert "fused 2 of 3 bracket(s)" in text and "incomplete bracket: 2 frames" in text
    assert sorted(p.name for p in out.iterdir()) == ["IMG_0001.jpg", "IMG_0004.jpg"]


def test_bracket_size_splits_a_shoot_without_exif(tmp_path: Path) -> None:
    flat_shoot(tmp_path / "shoot", 2, with_exif=False)
    assert len(find_brackets([tmp_path / "shoot"])) == 1  # no EXIF: the folder is one bracket
    brackets = find_brackets([tmp_path / "shoot"], bracket_size=3)
    assert [len(b.paths) for b in brackets] == [3, 3]


@pytest.mark.slow
def test_twenty_brackets_some_bad_fuse_in_one_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Good brackets are written, bad ones listed, nothing partial is left, and a second run keeps what
    exists unless --overwrite."""
    shoot = tmp_path / "shoot"
    bad = {3: "corrupt", 7: "sizes", 11: "single", 15: "text"}
    for index in range(20):
        folder = shoot / f"b{index:02d}"
        folder.mkdir(parents=True)
        frames = exposure_bracket(textured_scene(40, 56, seed=index), GAINS)
        for k, frame in enumerate(frames):
            if bad.get(index) == "single" and k:
                continue
            if bad.get(index) == "sizes" and k == 2:
                frame = frame[:-2]
            cv2.imwrite(str(folder / f"f{index:02d}_{k}.jpg"), frame[..., ::-1])
        if bad.get(index) == "corrupt":
            data = bytearray((folder / f"f{index:02d}_1.jpg").read_bytes())
            data[len(data) // 2 : len(data) // 2 + 60] = bytes(60)
            (folder / f"f{index:02d}_1.jpg").write_bytes(bytes(data))
        if bad.get(index) == "text":
            (folder / f"f{index:02d}_1.jpg").write_text("not an image")
    out = tmp_path / "fused"
    assert main(["fuse", str(shoot), "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert "fused 16 of 20 bracket(s)" in captured.out
    for index in bad:
        assert f"f{index:02d}_0" in captured.out
    assert "lut-adaptive" in captured.err and "artifacts" in captured.err  # the shipped artifact fused them
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 16 and all(name.endswith(".jpg") and not name.startswith(".") for name in written)
    before = (out / "f00_0.jpg").stat().st_mtime_ns
    assert main(["fuse", str(shoot), "-o", str(out), "-m", "mertens"]) == 1
    assert "kept 16 existing" in capsys.readouterr().out
    assert (out / "f00_0.jpg").stat().st_mtime_ns == before
    assert (
        main(["fuse", str(shoot / "b00"), str(shoot / "b01"), "-o", str(out), "-m", "mertens", "--overwrite"])
        == 0
    )
    assert (out / "f00_0.jpg").stat().st_mtime_ns != before


def test_default_fusion_uses_the_shipped_artifact_without_torch(tmp_path: Path) -> None:
    """The deploy install: no torch, and the default model fuses through its shipped LiteRT artifact."""
    pytest.importorskip("ai_edge_litert")
    flat_shoot(tmp_path / "shoot", 1)
    frames = sorted(map(str, (tmp_path / "shoot").glob("*.jpg")))
    out = tmp_path / "fused.jpg"
    body = (
        "from edgemef.cli.main import main\n"
        f"code = main(['fuse', *{frames!r}, '-o', {str(out)!r}])\n"
        "assert code == 0, code\n"
    )
    done = run_python_without_torch(body, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "lut-adaptive (litert int8) from" in done.stderr and "lut-adaptive-int8-g33.tflite" in done.stderr
    assert "with lut-adaptive (litert int8)" in done.stdout and out.exists()
