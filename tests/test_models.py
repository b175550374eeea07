"""Every registered model, through the one interface (tests loop over the registry itself)."""

from __future__ import annotations

import numpy as np
import pytest

from edgemef.errors import BracketError, UnknownModelError
from edgemef.models import FusionModel, OutputKind, create_model, get_model_spec, list_models
from edgemef.models.registry import family_of
from tests.conftest import exposure_bracket, textured_scene

TORCH_FREE = [spec.name for spec in list_models() if not spec.needs_torch]


@pytest.mark.parametrize("name", [spec.name for spec in list_models()])
def test_every_model_fuses_a_bracket(name: str) -> None:
    spec = get_model_spec(name)
    if spec.needs_torch:
        pytest.importorskip("torch", reason=f"{name} needs torch")
    model = create_model(name)
    assert isinstance(model, FusionModel) and model.name == name
    frames = exposure_bracket(textured_scene(64, 96))
    if family_of(name).output_kind == OutputKind.SCENE_LINEAR:
        # Linear radiance in the darkest frame's units: where the darkest frame is exposed, close to and
        # varying with its linearised values (the brighter frames saw 4x and 16x as much).
        fused = model.fuse(frames, exposure_times=(0.25, 1.0, 4.0))
        assert fused.shape == frames.shape[1:] and fused.dtype == np.float32 and np.isfinite(fused).all()
        middle = (frames[0] > 30) & (frames[0] < 220)
        linear = (frames[0] / 255.0) ** 2.2
        assert 0.8 < np.median(fused[middle] / linear[middle]) < 1.25
        assert np.corrcoef(fused[middle], linear[middle])[0, 1] > 0.85
        with pytest.raises(BracketError, match="needs each frame's exposure time"):
            model.fuse(frames)
        return
    fused = model.fuse(frames)
    assert fused.shape == frames.shape[1:] and fused.dtype == np.uint8
    # Better exposed than the extremes: closer to mid-grey on average.
    assert abs(fused.mean() - 128) < min(abs(frames[0].mean() - 128), abs(frames[-1].mean() - 128))


@pytest.mark.parametrize("name", TORCH_FREE)
@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((1, 8, 8, 3), np.uint8), "at least 2 exposures"),
        (np.zeros((2, 8, 8), np.uint8), "N x H x W x 3"),
        (np.zeros((2, 8, 8, 3), np.float32), "uint8"),
    ],
)
def test_bad_brackets_are_refused(name: str, frames: np.ndarray, message: str) -> None:
    with pytest.raises(BracketError, match=message):
        create_model(name).fuse(frames)


def test_unknown_model_lists_choices() -> None:
    with pytest.raises(UnknownModelError, match=r"unknown model 'nope'; choose one of: .*mertens"):
        create_model("nope")


def test_list_models_pattern() -> None:
    assert [s.name for s in list_models("mert*")] == ["mertens"]
    assert list_models("zzz*") == []


def test_mertens_matches_opencv_directly() -> None:
    import cv2

    frames = exposure_bracket(textured_scene(64, 96))
    ours = create_model("mertens").fuse(frames)
    bgr = cv2.createMergeMertens().process([f[..., ::-1].copy() for f in frames])
    expected = np.clip(bgr * 255 + 0.5, 0, 255).astype(np.uint8)[..., ::-1]
    np.testing.assert_array_equal(ours, expected)
