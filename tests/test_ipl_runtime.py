"""IPL on the deploy side: the tiler and attention cache (torch-free), and the exported tile graphs run in
their runtimes (onnxruntime, LiteRT, ExecuTorch) against PyTorch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgemef.errors import ArtifactError, BracketError
from edgemef.runtime.cached_tiler import CachedTiler, TilingSettings
from tests.conftest import exposure_bracket, run_python_without_torch, textured_scene

SETTINGS = TilingSettings(tile=64, overlap=16, halo=4, scale=2)


class MeanNetwork:
    """A TileNetwork in numpy: image = the frames' mean scaled by a per-tile "attention" gain.

    ``full`` computes the gain from the tile (its mean brightness); ``replay`` uses the gain it is given, so a
    test can tell which path produced a tile. Counts its calls.
    """

    def __init__(self) -> None:
        self.full_calls = 0
        self.replay_calls = 0

    @staticmethod
    def _image(x: np.ndarray, gain: float) -> np.ndarray:
        n = x.shape[1] // 3
        return x.reshape(1, n, 3, *x.shape[2:]).mean(axis=1) * gain

    def full(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.full_calls += 1
        gain = 0.5 + 0.5 * float(x.mean())
        return self._image(x, gain), np.full((1, 2, 4, 5), gain, np.float32)

    def replay(self, x: np.ndarray, attention: np.ndarray) -> np.ndarray:
        self.replay_calls += 1
        return self._image(x, float(attention.mean()))


def bracket(height: int = 150, width: int = 200, seed: int = 0) -> np.ndarray:
    return exposure_bracket(textured_scene(height, width, seed))


def tiles_of(height: int, width: int) -> int:
    from edgemef.runtime.tiling import plan_axis

    return len(plan_axis(height, 64, 16).starts) * len(plan_axis(width, 64, 16).starts)


def test_any_size_fuses_through_the_tiles() -> None:
    network = MeanNetwork()
    tiler = CachedTiler(network, 3, SETTINGS, mode="off")
    for height, width in ((150, 200), (151, 203), (37, 45), (2, 3)):
        frames = bracket(height, width)
        fused = tiler.fuse(frames)
        assert fused.shape == (height, width, 3) and fused.dtype == np.uint8
    assert tiler.cache is None and network.replay_calls == 0
    with pytest.raises(BracketError, match="fuses 3 exposures"):
        tiler.fuse(bracket()[:2])
    with pytest.raises(ValueError, match="cache mode"):
        CachedTiler(network, 3, SETTINGS, mode="sometimes")


def test_output_cache_reuses_unchanged_tiles_across_a_stream() -> None:
    """A second frame of a static scene with sensor noise reuses every tile; a moving object only its own."""
    rng = np.random.default_rng(1)
    network = MeanNetwork()
    tiler = CachedTiler(network, 3, SETTINGS, mode="output", threshold=0.03)
    first = bracket()
    reference = tiler.fuse(first)
    count = tiles_of(150, 200)
    assert network.full_calls == count and tiler.cache.stats.misses == count

    noisy = np.clip(first.astype(np.int16) + rng.integers(-3, 4, first.shape), 0, 255).astype(np.uint8)
    again = tiler.fuse(noisy)
    assert tiler.last_times.reused == count and network.full_calls == count  # nothing recomputed
    assert np.abs(again.astype(int) - reference).max() <= 1  # int8 storage costs at most a grey level

    moved = noisy.copy()
    moved[:, 10:30, 10:30] = 255  # an object appears in the top-left tile only
    tiler.fuse(moved)
    assert 1 <= tiler.last_times.full_runs < count
    stats = tiler.cache.stats
    assert stats.bytes * 3.7 < stats.fp32_bytes  # int8 entries + pooled signatures: ~a quarter of fp32


def test_exact_reuse_and_attention_replay() -> None:
    network = MeanNetwork()
    exact = CachedTiler(network, 3, SETTINGS, mode="output", threshold=0.0)
    frames = bracket()
    exact.fuse(frames)
    noisy = frames.copy()
    noisy[0, 0, 0, 0] ^= 1  # one bit differs in the first tile: threshold 0 recomputes exactly that tile
    exact.fuse(noisy)
    assert exact.last_times.full_runs == 1

    network = MeanNetwork()
    attention = CachedTiler(network, 3, SETTINGS, mode="attention")
    first = attention.fuse(frames)
    second = attention.fuse(frames)
    assert network.replay_calls == tiles_of(150, 200) and attention.last_times.replays == network.replay_calls
    assert np.abs(second.astype(int) - first).max() <= 1


def test_budget_evicts_least_recently_used_tiles() -> None:
    network = MeanNetwork()
    one_tile = 64 * 64 * 3 + 3 * 8 * 8 * 3 + 64  # int8 output + int8 pooled signature + headers
    tiler = CachedTiler(network, 3, SETTINGS, mode="output", budget_bytes=2 * one_tile)
    tiler.fuse(bracket())
    assert len(tiler.cache) == 2 and tiler.cache.stats.evictions == tiles_of(150, 200) - 2


# ------------------------------------------------------------------------------------------------------------
# Exported graphs (need the authoring extra to convert)
# ------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ipl_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    from edgemef.models.ipl import IPL
    from edgemef.models.ipl.weights import save_ipl

    torch.manual_seed(0)
    model = IPL()
    with torch.no_grad():  # a gain near 1 everywhere, like a trained model, so images are not saturated
        model.up[1].bias.fill_(1.0)
        model.up[1].weight.mul_(0.1)
    return save_ipl(tmp_path_factory.mktemp("ipl") / "ipl.safetensors", model)


@pytest.fixture(scope="module")
def ipl_onnx(ipl_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from converters import ConvertConfig, convert

    out = tmp_path_factory.mktemp("ipl-onnx")
    return convert(
        ConvertConfig(target="onnx", model="ipl", weights=ipl_weights, out=out, options={"tile": 128})
    ).artifact


@pytest.mark.slow
def test_onnx_graphs_match_pytorch_and_fuse_without_torch(
    ipl_onnx: Path, ipl_weights: Path, tmp_path: Path
) -> None:
    from edgemef.models.ipl.fusion import IplFusion
    from edgemef.models.ipl.runtime import IplArtifactFusion
    from edgemef.runtime import open_artifact

    contract = json.loads(ipl_onnx.with_suffix(".json").read_text())
    assert contract["family"] == "ipl" and contract["parity"]["passed"]
    assert {r["path"] for r in contract["parity"]["stacks"]} == {"full", "replay"}
    assert contract["postprocessing"]["tiling"]["tile"] == 128
    assert contract["outputs"][1]["shape"] == [1, 8, 48, 1 + 2 * 4]
    frames = bracket(190, 260)
    exported = open_artifact(ipl_onnx)
    assert isinstance(exported, IplArtifactFusion)
    torch_side = IplFusion(ipl_weights, tile=128)
    assert np.abs(exported.fuse(frames).astype(int) - torch_side.fuse(frames)).max() <= 1

    # The cache-hit path through the replay graph.
    cached = IplArtifactFusion(ipl_onnx, cache="attention")
    first = cached.fuse(frames)
    second = cached.fuse(frames)
    assert cached.tiler.last_times.replays == cached.tiler.last_times.tiles
    from edgemef.metrics import psnr

    assert psnr(second, first) > 40  # the int8 attention weights (eqs. 5-8) cost little

    # The runtime never imports torch.
    image = tmp_path / "fused.png"
    result = run_python_without_torch(
        "import numpy as np, cv2\n"
        "from edgemef.runtime import open_artifact\n"
        f"f = open_artifact({str(ipl_onnx)!r})\n"
        "frames = np.full((3, 70, 90, 3), 100, np.uint8)\n"
        f"cv2.imwrite({str(image)!r}, f.fuse(frames))\n",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert cv2.imread(str(image)).shape == (70, 90, 3)


@pytest.mark.slow
def test_replay_graph_is_verified_and_required(ipl_onnx: Path, tmp_path: Path) -> None:
    from edgemef.models.ipl.runtime import IplArtifactFusion

    folder = tmp_path / "copy"
    shutil.copytree(ipl_onnx.parent, folder)
    artifact = folder / ipl_onnx.name
    replay = artifact.with_name(artifact.stem + ".replay.onnx")
    replay.write_bytes(replay.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ArtifactError, match="sha256"):
        IplArtifactFusion(artifact, cache="attention")
    replay.unlink()
    with pytest.raises(ArtifactError, match="replay graph"):
        IplArtifactFusion(artifact, cache="attention")
    IplArtifactFusion(artifact, cache="output")  # the output cache does not need the replay graph


def test_convert_refuses_what_ipl_does_not_support(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from converters import ConvertConfig, convert
    from edgemef.errors import ConversionError

    with pytest.raises(ConversionError, match="it takes: fp32, int8"):
        convert(ConvertConfig(target="onnx", model="ipl", precision="fp16", out=tmp_path))
    with pytest.raises(ConversionError, match="multiple of"):
        convert(ConvertConfig(target="onnx", model="ipl", options={"tile": 100}, out=tmp_path))


@pytest.mark.slow
def test_profile_reports_ipl_stages_and_tile_operators(ipl_onnx: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from edgemef.profile import REPORT_SCHEMA, profile, render
    from edgemef.profile.schema import report_stages

    IPL_STAGES = report_stages("ipl")

    report = profile(ipl_onnx, (300, 200), runs=2, sweep=[(160, 120)])
    jsonschema.validate(report, REPORT_SCHEMA)
    assert tuple(report["stages"]) == IPL_STAGES
    assert report["artifact"]["settings"] == "tiles 128" and report["artifact"]["model"] == "ipl"
    ops = report["operators"]
    assert ops["available"] and any(o["name"] == "Conv" for o in ops["top"])  # one 128x128 tile's kernels
    assert set(report["sweep"][0]["stages_median_ms"]) == set(IPL_STAGES)
    page = render(report)
    assert "tiles 128" in page and "one network call" in page
