"""STHDR: the network's parts against their definitions, its size against the paper's Table 4, the loss,
training on brackets made from radiance maps, the weights file and the fusion interface."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from edgemef.errors import BracketError, DatasetError  # noqa: E402
from edgemef.io.write import write_hdr  # noqa: E402
from edgemef.models.sthdr.config import SthdrConfig  # noqa: E402
from edgemef.models.sthdr.fusion import SthdrFusion  # noqa: E402
from edgemef.models.sthdr.network import GlobalContext, HinBlock, Sthdr, network_input  # noqa: E402
from edgemef.models.sthdr.train_task import SthdrTask, mu_law, mu_law_loss  # noqa: E402
from edgemef.models.sthdr.weights import load_sthdr, save_sthdr  # noqa: E402
from edgemef.models.weights_file import WeightsError  # noqa: E402
from tests.test_hdr import radiance_scene  # noqa: E402

TINY = SthdrConfig(channels=8)


def parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("config", "paper_millions", "tolerance"),
    [
        (SthdrConfig.paper(), 1.5641, 0.03),  # SCM_MS, the model
        (SthdrConfig(channels=32, scales=1), 1.5514, 0.03),  # SCM_SS
        (SthdrConfig(channels=32, align=False), 1.4598, 0.03),  # MS
        (SthdrConfig(channels=32, scales=1, align=False), 1.4195, 0.03),  # SS
        (SthdrConfig.single_scale_single_stage(32), 0.6793, 0.08),  # HSS
    ],
    ids=["SCM_MS", "SCM_SS", "MS", "SS", "HSS"],
)
def test_parameter_counts_match_table_4(config: SthdrConfig, paper_millions: float, tolerance: float) -> None:
    assert parameters(Sthdr(config)) == pytest.approx(paper_millions * 1e6, rel=tolerance)


def test_every_scale_gives_hdr_in_unit_range() -> None:
    model = Sthdr(TINY).eval()
    x = network_input(torch.rand(2, 3, 3, 32, 48), torch.tensor([[1.0, 4.0, 16.0]] * 2))
    with torch.no_grad():
        outputs = model(x)
    assert [tuple(o.shape) for o in outputs] == [(2, 3, 8, 12), (2, 3, 16, 24), (2, 3, 32, 48)]
    assert all(0.0 <= float(o.min()) and float(o.max()) <= 1.0 for o in outputs)
    with pytest.raises(ValueError, match="divide by 16"):
        model(network_input(torch.rand(1, 3, 3, 40, 48), torch.ones(1, 3)))
    with pytest.raises(ValueError, match="network_input"):
        model(torch.rand(1, 2, 6, 32, 32))


def test_network_input_is_eq_1_and_2() -> None:
    frames = torch.rand(1, 3, 3, 4, 4)
    times = torch.tensor([[1.0, 4.0, 16.0]])
    x = network_input(frames, times)
    assert torch.equal(x[:, :, :3], frames)
    torch.testing.assert_close(x[0, 2, 3:], frames[0, 2] ** 2.2 / 16.0)


def test_half_instance_norm_normalises_half_the_channels() -> None:
    block = HinBlock(4, 8, 0.2, half_norm=True)
    x = torch.randn(2, 4, 16, 16) * 5 + 3
    conv = block.conv1(x)
    normed = block.norm(conv[:, :4])
    torch.testing.assert_close(normed.mean(dim=(2, 3)), torch.zeros(2, 4), atol=1e-5, rtol=0)
    assert not torch.allclose(conv[:, 4:].mean(dim=(2, 3)), torch.zeros(2, 4), atol=1e-2)


def test_global_context_weighs_channels_whatever_the_pixel_order() -> None:
    block = GlobalContext(8, 4)
    x = torch.randn(1, 8, 6, 6)
    weights = block(x)
    assert weights.shape == (1, 8, 1, 1) and bool(((weights > 0) & (weights < 1)).all())
    shuffled = x.flatten(2)[:, :, torch.randperm(36)].reshape(1, 8, 6, 6)
    torch.testing.assert_close(block(shuffled), weights)


def test_mu_law_loss_is_eq_5() -> None:
    target = torch.rand(2, 3, 16, 16)
    outputs = [torch.nn.functional.avg_pool2d(target, 4), torch.nn.functional.avg_pool2d(target, 2), target]
    total, terms = mu_law_loss(outputs, target)
    assert float(total) == pytest.approx(0.0, abs=1e-6) and len(terms) == 3
    wrong = [o * 0.5 for o in outputs]
    total, terms = mu_law_loss(wrong, target)
    expected = sum(float((mu_law(w) - mu_law(o)).abs().mean()) for w, o in zip(wrong, outputs, strict=True))
    assert float(total) == pytest.approx(expected, rel=1e-5)
    assert float(mu_law(torch.tensor(1.0))) == pytest.approx(1.0)
    assert float(mu_law(torch.tensor(0.01))) == pytest.approx(math.log1p(50) / math.log1p(5000))


@pytest.fixture
def radiance_maps(tmp_path: Path) -> Path:
    folder = tmp_path / "maps"
    folder.mkdir()
    for index in range(5):
        write_hdr(folder / f"photo_{index}.hdr", radiance_scene(80, 96, seed=index))
    return folder


def test_training_lowers_the_loss_and_the_weights_build_the_fusion(
    radiance_maps: Path, tmp_path: Path
) -> None:
    task = SthdrTask(radiance_maps, TINY, patch=32)
    assert [p.name for p in task.validation_maps] == ["photo_2.hdr"]
    model = task.build()
    samples = task.dataset(8, seed=0)
    batch = {key: torch.stack([samples[i][key] for i in range(4)]) for key in ("frames", "times", "target")}
    assert batch["frames"].shape == (4, 3, 3, 32, 32) and batch["target"].shape == (4, 3, 32, 32)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    first, _ = task.loss(model, batch)
    for _ in range(30):
        loss, parts = task.loss(model, batch)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert loss.item() < 0.6 * first.item() and set(parts) == {"l_mu_0", "l_mu_1", "l_mu_2"}
    with torch.no_grad():
        assert math.isfinite(task.validate(model.eval())["validation_psnr_mu"])
    task.export(model, tmp_path, {"steps": 30})
    fusion = SthdrFusion(tmp_path / "model.safetensors")
    frames = task.validation[0].frames[:, :30, :45]  # sizes the network does not divide: padded
    radiance = fusion.fuse(frames, exposure_times=(1 / 400, 1 / 100, 1 / 25))
    assert radiance.shape == (30, 45, 3) and radiance.dtype == np.float32
    assert 0.0 <= radiance.min() and radiance.max() <= 1.0
    with pytest.raises(BracketError, match="merges 3 exposures"):
        fusion.fuse(frames[:2], exposure_times=(1, 4))
    with pytest.raises(BracketError, match="needs each frame's exposure time"):
        fusion.fuse(frames)


def test_weights_files_are_checked(tmp_path: Path) -> None:
    model = Sthdr(TINY)
    path = save_sthdr(tmp_path / "w.safetensors", model)
    loaded = load_sthdr(path)
    assert loaded.config == TINY and all(
        torch.equal(a, b)
        for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True)
    )
    (tmp_path / "bad.safetensors").write_bytes(b"not weights")
    with pytest.raises(WeightsError):
        load_sthdr(tmp_path / "bad.safetensors")
    from edgemef.models.weights_file import save_model_file

    save_model_file(tmp_path / "other.safetensors", "crmef", "crmef", model)
    with pytest.raises(WeightsError, match="not STHDR weights"):
        load_sthdr(tmp_path / "other.safetensors")


def test_the_task_refuses_what_it_cannot_train(radiance_maps: Path) -> None:
    from edgemef.models.sthdr.train_task import make_task

    with pytest.raises(DatasetError, match="leave --exposures at 3"):
        make_task("sthdr", data=radiance_maps, holdout=(), n_exposures=2)
    with pytest.raises(DatasetError, match="--patch"):
        make_task("sthdr", data=radiance_maps, holdout=(), n_exposures=3, patch=40)
    hss = make_task("sthdr", data=radiance_maps, holdout=(), n_exposures=3, single_scale_single_stage=True)
    assert hss.config.scales == 1 and not hss.config.two_stage and not hss.config.align


def test_train_fuse_and_eval_from_the_command_line(radiance_maps: Path, tmp_path: Path, capsys) -> None:
    import cv2

    from edgemef.cli.main import main
    from edgemef.io.hdr import read_hdr

    run = tmp_path / "run"
    args = ["train", "sthdr", "--data", str(radiance_maps), "--out", str(run), "--steps", "2"]
    assert main([*args, "--batch-size", "1", "--patch", "32", "--channels", "8"]) == 0
    weights = run / "model.safetensors"
    assert load_sthdr(weights).config.channels == 8
    task = SthdrTask(radiance_maps, TINY, patch=32)
    paths = []
    for index, frame in enumerate(task.validation[0].frames):
        paths.append(str(tmp_path / f"f{index}.png"))
        cv2.imwrite(paths[-1], frame[..., ::-1])
    out = tmp_path / "merged.exr"
    assert (
        main(["fuse", *paths, "--model", "sthdr", "--weights", str(weights), "--ev=-2,0,2", "-o", str(out)])
        == 0
    )
    assert read_hdr(out).shape == (256, 256, 3)
    assert main(["fuse", *paths[:2], "--model", "sthdr", "--weights", str(weights), "-o", str(out)]) == 2
    assert "fuses 3 to 3 exposures" in capsys.readouterr().err
    assert (
        main(
            [
                "eval",
                "--dataset",
                str(radiance_maps),
                "--model",
                "sthdr",
                "--weights",
                str(weights),
                "--size",
                "64",
            ]
        )
        == 0
    )
    assert "photo_2#1" in capsys.readouterr().out


def test_a_frame_too_large_for_memory_is_refused_before_any_work(tmp_path: Path, monkeypatch) -> None:
    from edgemef.errors import ImageTooLargeError
    from edgemef.models.sthdr import fusion

    fusion_model = SthdrFusion(save_sthdr(tmp_path / "w.safetensors", Sthdr(TINY)))
    monkeypatch.setattr(fusion, "available_memory", lambda: 10_000_000)
    frames = np.zeros((3, 256, 256, 3), np.uint8)
    with pytest.raises(ImageTooLargeError, match=r"would need about 0\.1 GB"):
        fusion_model.fuse(frames, exposure_times=(1, 4, 16))
