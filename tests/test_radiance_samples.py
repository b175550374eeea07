"""Unpaired radiance-map samples mixed into the fusion training: what they hold, and what the loss lets them
train (the weight maps, never the LUT)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training needs the authoring extra (torch)")

from edgemef.cli.main import main  # noqa: E402
from edgemef.errors import DatasetError  # noqa: E402
from edgemef.io.write import write_hdr  # noqa: E402
from edgemef.models.lut_adaptive.train_task import make_task  # noqa: E402
from edgemef.models.weights_file import read_metadata  # noqa: E402
from edgemef.train.data import BracketSamples, SampleConfig, load_training_scenes, split_scenes  # noqa: E402
from edgemef.train.radiance_samples import MixedSamples  # noqa: E402
from edgemef.weights import shipped_weights  # noqa: E402
from tests.conftest import write_sice_dataset  # noqa: E402
from tests.test_hdr import radiance_scene  # noqa: E402


def _maps(folder: Path, count: int = 5) -> list[Path]:
    folder.mkdir()
    paths = [folder / f"photo_{index}.hdr" for index in range(count)]
    for index, path in enumerate(paths):
        write_hdr(path, radiance_scene(80, 96, seed=index))
    return paths


def _paired(tmp_path: Path, n_exposures: int) -> BracketSamples:
    train, _ = split_scenes(write_sice_dataset(tmp_path / "sice", 2), [])
    config = SampleConfig(n_exposures=n_exposures, loss_size=64, thumbnail_size=32)
    return BracketSamples(load_training_scenes(train, 128), config, length=8, seed=3)


@pytest.mark.parametrize("n_exposures", [2, 3])
def test_samples_are_paired_or_radiance_brackets_deterministically(tmp_path: Path, n_exposures: int) -> None:
    paired = _paired(tmp_path, n_exposures)
    maps = _maps(tmp_path / "maps")
    only_sice = MixedSamples(paired, maps, fraction=0.0)
    for index in range(3):
        item = only_sice[index]
        assert float(item["paired"]) == 1.0
        assert torch.equal(item["frames"], paired[index]["frames"])
    only_radiance = MixedSamples(paired, maps, fraction=1.0)
    item = only_radiance[5]
    assert float(item["paired"]) == 0.0 and not item["target"].any()
    assert item["frames"].shape == (n_exposures, 3, 64, 64)
    assert item["thumbnails"].shape == (n_exposures, 3, 32, 32)
    brightness = item["frames"].mean(dim=(1, 2, 3))
    assert bool((brightness[1:] > brightness[:-1]).all())  # darkest first
    assert torch.equal(item["frames"], only_radiance[5]["frames"])  # a pure function of the index
    mixed = MixedSamples(paired, maps, fraction=0.5)
    assert {float(mixed[i]["paired"]) for i in range(len(mixed))} == {0.0, 1.0}
    with pytest.raises(DatasetError, match="no radiance maps"):
        MixedSamples(paired, [], fraction=0.5)
    with pytest.raises(DatasetError, match=r"in \[0, 1\]"):
        MixedSamples(paired, maps, fraction=1.5)


def test_radiance_samples_train_the_maps_and_not_the_lut(tmp_path: Path) -> None:
    data = write_sice_dataset(tmp_path / "sice", 3)
    _maps(tmp_path / "maps")
    task = make_task(
        "lut-adaptive", data=data, holdout=["scene3"], n_exposures=3, radiance_maps=tmp_path / "maps"
    )
    assert task.data_description["radiance_validation_maps"] == ["photo_2.hdr"]
    assert 0.0 < task.data_description["radiance_validation_mertens_mef_ssim"] <= 1.0
    module = task.build()
    samples = [MixedSamples(task.dataset(4, 0).paired, task.radiance.train_maps, 1.0)[i] for i in range(2)]
    batch = {key: torch.stack([sample[key] for sample in samples]) for key in samples[0]}
    loss, parts = task.loss(module, batch)
    assert set(parts) == {"mef_ssim", "total"}  # no reference: L1 and SSIM are not scored
    loss.backward()
    lut_grads = [p.grad for name, p in module.named_parameters() if not name.startswith("iw.")]
    map_grads = [p.grad for name, p in module.named_parameters() if name.startswith("iw.")]
    assert all(g is None or not g.any() for g in lut_grads)
    assert any(g is not None and g.abs().sum() > 0 for g in map_grads)
    assert 0.0 < task.validate(module)["radiance_mef_ssim"] <= 1.0


def test_train_cli_mixes_radiance_maps(tmp_path: Path) -> None:
    data = write_sice_dataset(tmp_path / "sice", 3)
    _maps(tmp_path / "maps")
    out = tmp_path / "run"
    args = [
        "train", "lut-adaptive", "--data", str(data), "--out", str(out), "--steps", "2", "--batch-size", "2",
        "--holdout", "scene3", "--radiance-maps", str(tmp_path / "maps"), "--radiance-fraction", "0.5",
    ]  # fmt: skip
    assert main(args) == 0
    meta = json.loads(read_metadata(out / "model.safetensors")["edgemef.training"])
    assert meta["radiance_fraction"] == 0.5 and len(meta["radiance_train_maps"]) == 4
    assert 0.0 < meta["validation"]["radiance_mef_ssim"] <= 1.0
    assert main([*args[:5], str(tmp_path / "none"), *args[6:-4], "--radiance-maps", str(tmp_path)]) == 2
    assert np.isfinite(meta["validation"]["scene3_psnr"])


def _radiance_batch(task, n_items: int = 2, fraction: float = 1.0) -> dict[str, torch.Tensor]:
    samples = MixedSamples(task.dataset(4, 0).paired, task.radiance.train_maps, fraction)
    items = [samples[i] for i in range(n_items)]
    return {key: torch.stack([item[key] for item in items]) for key in items[0]}


def test_the_student_scores_radiance_brackets_by_the_papers_unpaired_loss_alone(tmp_path: Path) -> None:
    from edgemef.models.lut_distill.train_tasks import make_task as make_lut_task

    data = write_sice_dataset(tmp_path / "sice", 3)
    _maps(tmp_path / "maps")
    teacher = shipped_weights("lut-teacher", 3)
    options = {"data": data, "holdout": ["scene3"], "n_exposures": 3, "radiance_maps": tmp_path / "maps"}
    task = make_lut_task("lut-student", teacher=teacher, **options)
    assert task.data_description["unpaired_weight"] == 0.1  # the paper's lambda_2 by default
    module = task.build()
    total, parts = task.loss(module, _radiance_batch(task))
    assert set(parts) == {"unpaired", "total"}  # no reference: eq. 6 is not scored
    assert total.item() == pytest.approx(0.1 * parts["unpaired"])
    batch = _radiance_batch(task)
    batch["paired"][0], batch["target"][0] = 1.0, 0.5  # one item with a (grey) reference
    _, parts = task.loss(module, batch)
    assert {"l1", "d1", "unpaired", "total"} <= set(parts)
    unpaired_only = _radiance_batch(task, 1)
    unpaired_only["frames"] = batch["frames"][1:]
    unpaired_only["thumbnails"] = batch["thumbnails"][1:]
    _, second = task.loss(module, unpaired_only)
    assert parts["unpaired"] == pytest.approx(second["unpaired"], rel=1e-5)  # the paired item is not in it
    assert 0.0 < task.validate(module)["radiance_mef_ssim"] <= 1.0
    with pytest.raises(DatasetError, match="teacher learns from references only"):
        make_lut_task("lut-teacher", **options)
    with pytest.raises(DatasetError, match="unpaired-weight > 0"):
        make_lut_task("lut-student", teacher=teacher, unpaired_weight=0.0, **options)


def test_ipl_scores_radiance_brackets_by_mef_ssim_and_pairs_by_l1(tmp_path: Path) -> None:
    from edgemef.models.ipl.network import IPLConfig
    from edgemef.models.ipl.train_task import IPLTask

    train, held_out = split_scenes(write_sice_dataset(tmp_path / "sice", 3), ["scene3"])
    _maps(tmp_path / "maps")
    task = IPLTask(train, held_out, 2, IPLConfig(channels=16, blocks=1), radiance_maps=tmp_path / "maps")
    module = task.build()
    batch = _radiance_batch(task, 2)
    total, parts = task.loss(module, batch)
    assert set(parts) == {"unpaired", "total"} and total.item() == pytest.approx(0.1 * parts["unpaired"])
    batch["paired"][0] = 1.0
    total, parts = task.loss(module, batch)
    assert set(parts) == {"l1", "unpaired", "total"}
    assert total.item() == pytest.approx(0.9 * parts["l1"] + 0.1 * parts["unpaired"], rel=1e-5)
    results = task.validate(module)
    assert 0.0 < results["radiance_mef_ssim"] <= 1.0 and "held_out_psnr" in results


def test_train_cli_refuses_radiance_maps_for_a_task_without_them(tmp_path: Path, capsys) -> None:
    data = write_sice_dataset(tmp_path / "sice", 3)
    _maps(tmp_path / "maps")
    args = ["train", "crmef", "--data", str(data), "--out", str(tmp_path / "run"), "--radiance-maps"]
    assert main([*args, str(tmp_path / "maps")]) == 2
    assert "crmef does not train on --radiance-maps samples" in capsys.readouterr().err
