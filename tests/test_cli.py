"""The command line as a user meets it: round trips, one-line errors, no partial outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgemef.cli.main import main
from edgemef.io import read_image
from tests.conftest import shared_data, textured_scene, write_sice_dataset


def run_cli(*args: str | Path) -> int:
    return main([str(a) for a in args])


def test_fuse_round_trip(
    bracket_files: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "fused.jpg"
    assert run_cli("fuse", *bracket_files, "-o", output) == 0
    fused = read_image(output).pixels
    assert fused.shape == read_image(bracket_files[0]).pixels.shape
    out = capsys.readouterr().out
    assert "fused 3 exposures" in out and "c_dark.png < b_middle.png < a_bright.png" in out
    # The fused image is better exposed than the darkest and brightest frames.
    assert 60 < fused.mean() < 200


def test_fuse_folder_and_16bit_png_output(bracket_files: list[Path], tmp_path: Path) -> None:
    output = tmp_path / "out" / "fused.png"
    output.parent.mkdir()
    assert run_cli("fuse", bracket_files[0].parent, "-o", output) == 0
    assert read_image(output).pixels.dtype == np.uint8


def test_mismatched_sizes_exit_nonzero_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    cv2.imwrite(str(a), textured_scene(48, 64))
    cv2.imwrite(str(b), textured_scene(32, 64))
    output = tmp_path / "out.jpg"
    assert run_cli("fuse", a, b, "-o", output) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "a.jpg is 64x48" in err and "b.jpg is 64x32" in err
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg", "b.jpg"]


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda data: data[: len(data) // 2], "truncated JPEG"),
        (lambda data: b"Dear diary, today I took three photos.\n", "not a supported image"),
    ],
)
def test_bad_jpeg_inputs(bracket_files: list[Path], tmp_path: Path, capsys, corrupt, message: str) -> None:
    bad = tmp_path / "bad.jpg"
    cv2.imwrite(str(bad), textured_scene(120, 160))
    bad.write_bytes(corrupt(bad.read_bytes()))
    output = tmp_path / "out.jpg"
    assert run_cli("fuse", bracket_files[0], bad, "-o", output) == 2
    err = capsys.readouterr().err
    assert message in err and "bad.jpg" in err and "Traceback" not in err
    assert not output.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--model", "mertns"],
            "unknown model 'mertns'; choose one of: crmef, crmef-misaligned, debevec, ipl, lut-adaptive, "
            "lut-student, lut-teacher, mertens, sthdr",
        ),
        (["-o", "{tmp}/out.gif"], "cannot write '.gif'"),
        (["-o", "{tmp}/missing/out.jpg"], "does not exist"),
        (["-o", "{first}"], "is one of the inputs"),
        (["--quality", "0"], "--quality must be between 1 and 100"),
    ],
)
def test_fuse_argument_errors(bracket_files: list[Path], tmp_path: Path, capsys, args, message: str) -> None:
    args = [a.format(tmp=tmp_path, first=bracket_files[0]) for a in args]
    if "-o" not in args:
        args += ["-o", str(tmp_path / "out.jpg")]
    before = {p: p.read_bytes() for p in bracket_files}
    assert run_cli("fuse", *bracket_files, *args) == 2
    assert message in capsys.readouterr().err
    assert {p: p.read_bytes() for p in bracket_files} == before
    assert not (tmp_path / "out.jpg").exists()


def test_single_frame(bracket_files: list[Path], tmp_path: Path, capsys) -> None:
    assert run_cli("fuse", bracket_files[0], "-o", tmp_path / "o.jpg") == 2
    assert "at least 2 exposures, got 1" in capsys.readouterr().err


def test_verbose_shows_traceback(bracket_files: list[Path], tmp_path: Path, capsys) -> None:
    assert run_cli("-v", "fuse", bracket_files[0], "-o", tmp_path / "o.jpg") == 2
    assert "Traceback" in capsys.readouterr().err


def test_models_lists_mertens(capsys) -> None:
    assert run_cli("models") == 0
    out = capsys.readouterr().out
    assert "mertens" in out and "classical" in out


def test_eval_table_and_json(tmp_path: Path, capsys) -> None:
    dataset = write_sice_dataset(tmp_path / "data")
    report = tmp_path / "r.json"
    assert (
        run_cli("eval", "--dataset", dataset, "--model", "mertens", "--exposures", "3", "--json", report) == 0
    )
    out = capsys.readouterr().out
    assert "scene1" in out and "scene2" in out and "mean" in out and "MEF-SSIM" in out
    data = json.loads(report.read_text())
    assert data["model"] == "mertens" and data["exposures"] == "3"
    assert [r["n_exposures"] for r in data["results"]] == [3, 3]
    assert all(0 < r["ssim"] <= 1 and 0 < r["mef_ssim"] <= 1 and r["psnr"] > 10 for r in data["results"])
    assert data["mean"]["psnr"] == pytest.approx(np.mean([r["psnr"] for r in data["results"]]))


def test_eval_with_camera_shake_scores_misaligned_brackets(tmp_path: Path, capsys) -> None:
    dataset = write_sice_dataset(tmp_path / "data")
    scores = {}
    for shake in ("0", "6"):
        report = tmp_path / f"r{shake}.json"
        args = ("--dataset", dataset, "--model", "mertens", "--exposures", "2", "--json", report)
        assert run_cli("eval", *args, "--shake", shake) == 0
        scores[shake] = json.loads(report.read_text())
    assert "camera shake 6 px" in capsys.readouterr().out
    assert scores["6"]["shake_px"] == 6.0 and scores["0"]["shake_px"] == 0.0
    # ghosts of the moved darkest frame: every scene scores lower against the reference
    for still, shaken in zip(scores["0"]["results"], scores["6"]["results"], strict=True):
        assert shaken["ssim"] < still["ssim"]
    assert run_cli("eval", "--dataset", dataset, "--shake", "-1") == 2
    assert "--shake" in capsys.readouterr().err


def test_eval_without_reference_scores_mef_ssim_only(tmp_path: Path, capsys) -> None:
    dataset = write_sice_dataset(tmp_path / "data", scenes=1, with_reference=False)
    assert run_cli("eval", "--dataset", dataset, "--exposures", "2") == 0
    line = next(row for row in capsys.readouterr().out.splitlines() if row.startswith("scene1"))
    assert line.split()[3:5] == ["-", "-"]


def test_eval_errors(tmp_path: Path, capsys) -> None:
    assert run_cli("eval", "--dataset", tmp_path / "nope") == 2
    assert "dataset folder not found" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert run_cli("eval", "--dataset", tmp_path / "empty") == 2
    assert "no scenes found" in capsys.readouterr().err


def test_console_script_in_subprocess(bracket_files: list[Path], tmp_path: Path) -> None:
    """``python -m edgemef`` as a separate process: exit codes and streams as a shell sees them."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    ok = subprocess.run(
        [sys.executable, "-m", "edgemef", "fuse", *map(str, bracket_files), "-o", str(tmp_path / "f.png")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "f.png").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "edgemef", "fuse", str(bracket_files[0]), "-o", str(tmp_path / "g.png")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("edgemef fuse: error:") and not bad.stdout
    helped = subprocess.run(
        [sys.executable, "-m", "edgemef", "--help"], capture_output=True, text=True, env=env
    )
    assert helped.returncode == 0 and "fuse" in helped.stdout and "eval" in helped.stdout


@pytest.mark.data
@pytest.mark.slow
def test_eval_mertens_on_sice_reproduces_reference_figures(tmp_path: Path, capsys) -> None:
    """The issue's acceptance figure: about 24.6 dB PSNR / 0.93 SSIM for Mertens on SICE (3 exposures)."""
    sice = shared_data("sice")
    report = tmp_path / "sice.json"
    assert run_cli("eval", "--dataset", sice, "--model", "mertens", "--exposures", "3", "--json", report) == 0
    mean = json.loads(report.read_text())["mean"]
    assert mean["psnr"] == pytest.approx(24.6, abs=0.3)
    assert mean["ssim"] == pytest.approx(0.93, abs=0.01)
    assert 0.85 < mean["mef_ssim"] < 1.0


def test_default_model_without_torch_falls_back_to_mertens(bracket_files: list[Path], tmp_path: Path) -> None:
    """A deploy-side install (no torch) fuses a bracket no shipped artifact takes (4 exposures) with Mertens
    by default and says why."""
    fourth = tmp_path / "d_extra.png"
    cv2.imwrite(str(fourth), np.full((48, 64, 3), 128, np.uint8))
    argv = ["fuse", *map(str, bracket_files), str(fourth), "-o", str(tmp_path / "f.jpg")]
    code = (
        "import sys; sys.modules['torch'] = None; from edgemef.cli.main import main; "
        f"raise SystemExit(main({argv!r}))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    for model in ("lut-adaptive", "lut-student"):
        assert f"{model} ships no artifact for 4-exposure brackets and needs PyTorch" in result.stderr
    assert "with mertens" in result.stdout and (tmp_path / "f.jpg").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_freed_large_blocks_leave_the_resident_set() -> None:
    """After glibc has freed one large block (30 MiB), a freed 20 MiB block stays resident unless the CLI's
    release_large_blocks() fixed the mmap threshold (edgemef/memory.py)."""
    code = (
        "import sys, numpy as np\n"
        "from edgemef.memory import release_large_blocks\n"
        "if sys.argv[1] == 'fixed': assert release_large_blocks()\n"
        "def rss():\n"
        "    status = open('/proc/self/status').read().split('VmRSS:')[1]\n"
        "    return int(status.split()[0]) // 1024\n"
        "a = np.ones(30 * 2**20, np.uint8); del a\n"
        "before = rss()\n"
        "b = np.ones(20 * 2**20, np.uint8); del b\n"
        "print(rss() - before)\n"
    )
    kept = {
        mode: int(subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True).stdout)
        for mode in ("fixed", "default")
    }
    assert kept["fixed"] <= 2 and kept["default"] >= 15, kept


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_training_reuses_large_blocks_without_new_page_faults() -> None:
    """A loop that allocates and frees the same 64 MiB block: with reuse_large_blocks() (edgemef train and
    search) the pages are faulted in once; by default (mmap) every round faults them in again."""
    code = (
        "import resource, sys, numpy as np\n"
        "from edgemef.memory import reuse_large_blocks\n"
        "if sys.argv[1] == 'reuse': assert reuse_large_blocks()\n"
        "np.ones(64 * 2**20, np.uint8)\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for _ in range(5): np.ones(64 * 2**20, np.uint8)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
    )
    faults = {
        mode: int(subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True).stdout)
        for mode in ("reuse", "default")
    }
    # by default each round maps fresh pages (4 KiB ones: 16,384 faults; transparent huge pages: fewer)
    assert faults["reuse"] <= 50 and faults["default"] >= 500, faults


def test_each_command_chooses_its_memory_policy(monkeypatch) -> None:
    from edgemef.cli import main as cli_main

    chosen = []
    monkeypatch.setattr(cli_main, "release_large_blocks", lambda: chosen.append("release"))
    monkeypatch.setattr(cli_main, "reuse_large_blocks", lambda: chosen.append("reuse"))
    cli_main.main(["models"])
    cli_main.main(["train", "crmef", "--data", "/nonexistent", "--out", "/nonexistent"])
    # bench and eval time OpenCV's Mertens beside edgemef: glibc's own policy, as in a plain script
    cli_main.main(["bench", "--models", "nonexistent"])
    cli_main.main(["eval", "--dataset", "/nonexistent"])
    assert chosen == ["release", "reuse"]
