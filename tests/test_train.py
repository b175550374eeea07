"""Training: a tiny seeded run, resuming, exported weights, and DistributedDataParallel with 2 processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training needs the authoring extra (torch)")

from edgemef.cli.main import main  # noqa: E402
from edgemef.models.lut_distill.weights import WeightsError, load_weights, read_metadata  # noqa: E402
from tests.conftest import exposure_bracket, textured_scene, write_sice_dataset  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def train_args(data: Path, out: Path, steps: int, *extra: str, holdout: str = "scene3") -> list[str]:
    return [
        "train", "lut-teacher", "--data", str(data), "--out", str(out), "--steps", str(steps),
        "--batch-size", "2", "--holdout", holdout, "--validate-every", "2", *extra,
    ]  # fmt: skip


@pytest.mark.slow
def test_teacher_then_student_resume_and_export(tmp_path: Path, capsys) -> None:
    data = write_sice_dataset(tmp_path / "sice", 3)
    teacher_dir = tmp_path / "teacher"
    assert main(train_args(data, teacher_dir, 2)) == 0
    first = load_weights(teacher_dir / "model.safetensors", expected="lut-teacher")
    # Re-running with more steps resumes from the checkpoint at step 2.
    assert main(train_args(data, teacher_dir, 3)) == 0
    meta = json.loads(read_metadata(teacher_dir / "model.safetensors")["edgemef.training"])
    assert meta["resumed_from"] == 2 and meta["held_out_scenes"] == ["scene3"]
    assert "held_out_psnr" in meta["validation"] and 0.0 < meta["validation"]["held_out_ssim"] <= 1.0
    second = load_weights(teacher_dir / "model.safetensors")
    assert any(
        not torch.equal(a, b)
        for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True)
    )
    logged = [json.loads(line) for line in (teacher_dir / "log.jsonl").read_text().splitlines()]
    assert any("validation" in entry for entry in logged)

    # Resuming with a cosine decay: the learning rate reaches 0 at the last step.
    assert main([*train_args(data, teacher_dir, 5, "--lr-decay-start", "3"), "--lr", "1e-3"]) == 0
    last = json.loads((teacher_dir / "log.jsonl").read_text().splitlines()[-2])  # before the validation
    assert last["step"] == 5 and last["learning_rate"] == 0.0
    state = torch.load(teacher_dir / "checkpoint.pt", weights_only=True)
    assert state["step"] == 5 and state["optimizer"]["param_groups"][0]["lr"] == 0.0

    student_dir = tmp_path / "student"
    args = train_args(
        data, student_dir, 2, "--teacher", str(teacher_dir / "model.safetensors"), "--student-grid", "9"
    )
    args[1] = "lut-student"
    assert main(args) == 0
    # Eq. 12 (paired eq. 6 + the unpaired MEF-SSIM term) and our supervised SSIM term resume the same run;
    # both terms are logged.
    assert main([*args[:7], "3", *args[8:], "--unpaired-weight", "0.1", "--ssim-weight", "0.5"]) == 0
    logged = [json.loads(line) for line in (student_dir / "log.jsonl").read_text().splitlines()]
    assert any(0.0 < entry.get("unpaired", -1.0) < 2.0 for entry in logged)
    assert any(0.0 < entry.get("ssim", -1.0) < 2.0 for entry in logged)
    meta = json.loads(read_metadata(student_dir / "model.safetensors")["edgemef.training"])
    assert meta["unpaired_weight"] == 0.1 and meta["ssim_weight"] == 0.5
    student = load_weights(student_dir / "model.safetensors", expected="lut-student")
    weights, lut = student(torch.rand(1, 9, 128, 128), 17)
    assert lut.shape == (1, 17, 17, 17, 3) and torch.allclose(weights.sum(1), torch.ones(1))

    # The trained student fuses through the CLI with --weights and --grid.
    frames = exposure_bracket(textured_scene(60, 80))
    paths = []
    for i, frame in enumerate(frames):
        paths.append(tmp_path / f"f{i}.png")
        cv2.imwrite(str(paths[-1]), frame[..., ::-1])
    out = tmp_path / "fused.png"
    weights_file = str(student_dir / "model.safetensors")
    assert (
        main(["fuse", *map(str, paths), "-o", str(out), "-m", "lut-student", "--weights", weights_file]) == 0
    )
    assert cv2.imread(str(out)).shape == (60, 80, 3)


def test_learning_rate_schedule() -> None:
    from edgemef.train.loop import TrainConfig, learning_rate_at

    constant = TrainConfig(steps=10, learning_rate=1e-4)
    assert {learning_rate_at(step, constant) for step in range(1, 11)} == {1e-4}
    decay = TrainConfig(steps=300, learning_rate=1e-4, lr_decay_start=100)
    rates = [learning_rate_at(step, decay) for step in (1, 100, 200, 300)]
    assert rates == pytest.approx([1e-4, 1e-4, 0.5e-4, 0.0])


def test_same_seed_same_samples(tmp_path: Path) -> None:
    from edgemef.data import find_scenes
    from edgemef.train.data import BracketSamples, SampleConfig, load_training_scenes

    scenes = load_training_scenes(find_scenes(write_sice_dataset(tmp_path, 2)), 512)
    a = BracketSamples(scenes, SampleConfig(loss_size=64), 10, seed=1)
    b = BracketSamples(scenes, SampleConfig(loss_size=64), 10, seed=1)
    for index in (0, 7):
        for key in ("thumbnails", "frames", "target"):
            assert torch.equal(a[index][key], b[index][key])
    assert not torch.equal(a[0]["frames"], a[1]["frames"])


def test_shaken_samples_move_all_frames_but_the_brightest(tmp_path: Path) -> None:
    from edgemef.data import find_scenes
    from edgemef.errors import DatasetError
    from edgemef.train.data import BracketSamples, SampleConfig, load_training_scenes

    scenes = load_training_scenes(find_scenes(write_sice_dataset(tmp_path, 2)), 512)
    config = SampleConfig(n_exposures=3, loss_size=64, synthetic_fraction=0.0)
    still = BracketSamples(scenes, config, 4, seed=3)
    shaken = BracketSamples(scenes, replace(config, shake_px=4.0), 4, seed=3)
    for index in range(4):
        a, b = still[index], shaken[index]
        assert torch.equal(a["target"], b["target"]) and torch.equal(a["frames"][2], b["frames"][2])
        assert not torch.equal(a["frames"][0], b["frames"][0])
    with pytest.raises(DatasetError, match="shake_px"):
        SampleConfig(loss_size=64, shake_px=16.0)


def test_native_loss_windows_are_unresized_crops(tmp_path: Path) -> None:
    """With ``native_fraction=1`` the loss sees a window of the scene at its stored resolution (the exact
    reference pixels, possibly mirrored); with 0 it sees the whole crop resized (not such a window)."""
    from edgemef.data import find_scenes
    from edgemef.errors import DatasetError
    from edgemef.train.data import BracketSamples, SampleConfig, load_training_scenes

    scenes = load_training_scenes(find_scenes(write_sice_dataset(tmp_path, 1)), 512)
    reference = scenes[0].reference
    size = 24

    def is_window(target: torch.Tensor) -> bool:
        window = (target.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
        for image in (reference, reference[:, ::-1]):
            for top in range(image.shape[0] - size + 1):
                for left in range(image.shape[1] - size + 1):
                    if np.array_equal(image[top : top + size, left : left + size], window):
                        return True
        return False

    config = SampleConfig(loss_size=size, crop_scale=(0.5, 1.0), synthetic_fraction=0.0)
    native = BracketSamples(scenes, replace(config, native_fraction=1.0), 4, seed=3)
    resized = BracketSamples(scenes, config, 4, seed=3)
    for index in range(4):
        assert native[index]["frames"].shape == (3, 3, size, size)
        assert native[index]["thumbnails"].shape == (3, 3, 128, 128)
        assert is_window(native[index]["target"])
        assert not is_window(resized[index]["target"])
    with pytest.raises(DatasetError, match="native_fraction"):
        SampleConfig(native_fraction=1.5)


def test_channel_permutation_permutes_frames_and_target_alike(tmp_path: Path) -> None:
    """A permuted sample is the unpermuted one (same seed) with one channel order applied to the frames, the
    thumbnails and the target together, so the target stays a LUT away from the fused frames."""
    from itertools import permutations

    from edgemef.data import find_scenes
    from edgemef.errors import DatasetError
    from edgemef.train.data import BracketSamples, SampleConfig, load_training_scenes

    scenes = load_training_scenes(find_scenes(write_sice_dataset(tmp_path, 2)), 512)
    config = SampleConfig(loss_size=32, synthetic_fraction=0.0)
    plain = BracketSamples(scenes, config, 6, seed=5)
    permuted = BracketSamples(scenes, replace(config, channel_permutation=1.0), 6, seed=5)
    reordered = 0
    for index in range(6):
        a, b = plain[index], permuted[index]
        matches = [
            order
            for order in map(list, permutations(range(3)))
            if torch.equal(b["target"], a["target"][order])
            and torch.equal(b["frames"], a["frames"][:, order])
            and torch.equal(b["thumbnails"], a["thumbnails"][:, order])
        ]
        assert matches, index
        reordered += matches[0] != [0, 1, 2]
    assert reordered > 0
    with pytest.raises(DatasetError, match="channel_permutation"):
        SampleConfig(channel_permutation=-0.1)


def test_student_fine_tune_starts_from_init_weights(tmp_path: Path, capsys) -> None:
    """``--init`` copies the shipped student in (at lr 0 the result is those weights, unchanged) and refuses
    weights of another exposure count."""
    from edgemef.weights import shipped_weights as shipped_weights_path

    data = write_sice_dataset(tmp_path / "sice", 3)
    teacher, student = shipped_weights_path("lut-teacher", 3), shipped_weights_path("lut-student", 3)
    out = tmp_path / "tuned"
    args = train_args(data, out, 1, "--teacher", str(teacher), "--student-grid", "9", "--lr", "0")
    args[1] = "lut-student"
    extra = ["--init", str(student), "--native-loss-fraction", "0.5", "--strong-augmentation"]
    assert main([*args, *extra]) == 0
    tuned = load_weights(out / "model.safetensors", expected="lut-student")
    shipped = load_weights(student, expected="lut-student")
    for key, value in shipped.state_dict().items():
        assert torch.equal(value, tuned.state_dict()[key]), key
    meta = json.loads(read_metadata(out / "model.safetensors")["edgemef.training"])
    assert meta["initialised_from"] == str(student) and meta["native_fraction"] == 0.5
    assert meta["strong_augmentation"] is True
    two = train_args(data, tmp_path / "two", 1, "--teacher", str(shipped_weights_path("lut-teacher", 2)))
    two[1] = "lut-student"
    assert main([*two, "--exposures", "2", "--init", str(student)]) == 2
    assert "another configuration (3 exposures)" in capsys.readouterr().err


def test_training_errors(tmp_path: Path, capsys) -> None:
    data = write_sice_dataset(tmp_path / "sice", 2)
    assert main(train_args(data, tmp_path / "o", 1, holdout="scene9")) == 2
    assert "held-out scene(s) scene9 not in" in capsys.readouterr().err
    args = train_args(data, tmp_path / "o", 1)
    args[1] = "lut-student"
    assert main(args) == 2
    assert "pass --teacher FILE" in capsys.readouterr().err


def test_bad_weights_files(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="not found"):
        load_weights(tmp_path / "none.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(WeightsError, match="not a readable safetensors"):
        load_weights(junk)
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(WeightsError, match="not LUT-distill weights"):
        load_weights(tmp_path / "other.safetensors")


@pytest.mark.slow
def test_torchrun_two_processes_with_gloo(tmp_path: Path) -> None:
    data = write_sice_dataset(tmp_path / "sice", 3)
    out = tmp_path / "ddp"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29533",
    ]
    result = subprocess.run(
        [*command, "-m", "edgemef", *train_args(data, out, 2)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    meta = json.loads(read_metadata(out / "model.safetensors")["edgemef.training"])
    assert meta["world_size"] == 2
    assert np.isfinite(meta["validation"]["held_out_psnr"])


@pytest.mark.slow
def test_ipl_trains_on_dynamic_brackets_and_resumes(tmp_path: Path) -> None:
    from edgemef.models.ipl.weights import load_ipl
    from edgemef.models.weights_file import WeightsError as FileWeightsError

    data = write_sice_dataset(tmp_path / "sice", 3)
    out = tmp_path / "ipl"
    args = train_args(data, out, 2)
    args[1] = "ipl"
    assert main(args) == 0
    assert main([*args[:7], "3", *args[8:]]) == 0
    meta = json.loads(read_metadata(out / "model.safetensors")["edgemef.training"])
    assert meta["resumed_from"] == 2 and meta["samples"]["motion"] is True
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(2e-4)  # the paper's rate by default
    model = load_ipl(out / "model.safetensors")
    assert model(torch.rand(1, 9, 32, 32)).shape == (1, 3, 32, 32)
    with pytest.raises(FileWeightsError, match="not IPL weights"):
        load_ipl(ROOT / "edgemef" / "weights" / "lut-student-3exp.safetensors")

    # A 2-exposure model starts from the 3-exposure weights: the darkest and brightest input channels.
    two = tmp_path / "ipl2"
    args2 = [*train_args(data, two, 1, "--exposures", "2", "--init", str(out / "model.safetensors"))]
    args2[1] = "ipl"
    assert main(args2) == 0
    meta = json.loads(read_metadata(two / "model.safetensors")["edgemef.training"])
    assert meta["initialised_from"].endswith("model.safetensors")
    from edgemef.models.ipl.network import IPL, IPLConfig
    from edgemef.models.ipl.train_task import initialise_from

    fresh = IPL(IPLConfig(n_exposures=2))
    initialise_from(fresh, model)
    expected = torch.cat([model.down[0].weight[:, :3], model.down[0].weight[:, 6:]], dim=1) * 1.5
    assert torch.equal(fresh.down[0].weight, expected)
    assert torch.equal(fresh.blocks[3].drtm.mix_channels.weight, model.blocks[3].drtm.mix_channels.weight)
