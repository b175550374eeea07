"""LUT-distill models, torch side: shapes, the LUT layout, trilinear lookup, thumbnails, losses, export."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="the LUT-distill models need torch (pip install 'edgemef[author]')"
)
F = torch.nn.functional

from edgemef.errors import BracketError  # noqa: E402
from edgemef.models.lut_distill import (  # noqa: E402
    ExportableStudent,
    Student,
    StudentConfig,
    StudentLoss,
    StudentLossConfig,
    Teacher,
    TeacherConfig,
    apply_lut,
    area_resize,
    count_parameters,
    fuse_and_apply,
    identity_lut,
    interpolation_matrix,
    resample_lattice,
    teacher_loss,
    thumbnails,
    trilinear_sample,
)

PAPER_PARAMETERS = 0.52e6

# A teacher small enough for fast tests (the architecture is the same; only widths shrink).
SMALL_TEACHER = {"encoder_widths": (16,) * 5, "head_width": 16, "mlp_width": 16, "wp_widths": (8, 16)}


def reference_apply(lut: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """Plain-loop trilinear lookup in the canonical layout: lut[b, g, r] -> (R, G, B); rgb is P x 3."""
    size = lut.shape[0]
    out = np.zeros((len(rgb), 3), np.float64)
    for p, (r, g, b) in enumerate(np.asarray(rgb, np.float64)):
        x = np.array([r, g, b]) * (size - 1)
        lo = np.minimum(np.floor(x).astype(int), size - 2)
        f = x - lo
        for dr, dg, db in itertools.product((0, 1), repeat=3):
            weight = (f[0] if dr else 1 - f[0]) * (f[1] if dg else 1 - f[1]) * (f[2] if db else 1 - f[2])
            out[p] += weight * lut[lo[2] + db, lo[1] + dg, lo[0] + dr]
    return out


def assert_portable_graph(program: torch.export.ExportedProgram) -> None:
    """What all export targets accept: no 5-D grid_sample, tensor rank <= 5 (CoreML), no float64 (LiteRT)."""
    for node in program.graph.nodes:
        assert "grid_sampler" not in str(node.target), node.target
        value = node.meta.get("val")
        if isinstance(value, torch.Tensor):
            assert value.dim() <= 5 and value.dtype != torch.float64, (node.target, value.shape, value.dtype)


def random_frames(
    batch: int = 1, n: int = 3, height: int = 40, width: int = 56, seed: int = 0
) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, n, 3, height, width, generator=generator)


# ---------------------------------------------------------------------------------------------- LUT layout


def test_identity_lut_layout() -> None:
    lut = identity_lut(5)
    assert lut.shape == (5, 5, 5, 3)
    b, g, r = 1, 2, 4
    assert lut[b, g, r].tolist() == pytest.approx([r / 4, g / 4, b / 4])
    # Red varies fastest in memory.
    flat = lut.reshape(-1, 3)
    assert flat[1].tolist() == pytest.approx([0.25, 0.0, 0.0])


def test_apply_identity_lut_is_identity() -> None:
    images = torch.rand(2, 3, 9, 7)
    lut = identity_lut(17).expand(2, 17, 17, 17, 3)
    torch.testing.assert_close(apply_lut(images, lut), images, atol=1e-6, rtol=0)


@pytest.mark.parametrize("size", [2, 5, 17])
def test_trilinear_matches_loop_reference(size: int) -> None:
    generator = torch.Generator().manual_seed(size)
    lut = torch.rand(1, size, size, size, 3, generator=generator, dtype=torch.float64)
    rgb = torch.rand(1, 200, 3, generator=generator, dtype=torch.float64)
    rgb[0, :8] = torch.tensor(list(itertools.product((0.0, 1.0), repeat=3)), dtype=torch.float64)  # corners
    ours = trilinear_sample(lut, rgb)[0].numpy()
    np.testing.assert_allclose(ours, reference_apply(lut[0].numpy(), rgb[0].numpy()), atol=1e-12)


@pytest.mark.parametrize("size", [2, 8, 33])
def test_trilinear_matches_5d_grid_sample(size: int) -> None:
    """The layout and the align_corners=True convention agree with grid_sample (a test-only reference)."""
    generator = torch.Generator().manual_seed(1)
    lut = torch.rand(2, size, size, size, 3, generator=generator)
    images = torch.rand(2, 3, 11, 13, generator=generator)
    ours = apply_lut(images, lut)
    # grid_sample: input N x C x D x H x W = (blue, green, red); the grid's (x, y, z) = (red, green, blue).
    grid = (2 * images - 1).permute(0, 2, 3, 1)[:, None]  # B x 1 x H x W x 3
    expected = F.grid_sample(lut.permute(0, 4, 1, 2, 3), grid, mode="bilinear", align_corners=True)[:, :, 0]
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=0)


def test_resample_lattice_is_trilinear_sampling_at_lattice_points() -> None:
    generator = torch.Generator().manual_seed(2)
    volume = torch.rand(2, 8, 8, 8, 5, generator=generator, dtype=torch.float64)
    for size in (8, 13, 33):
        coords = identity_lut(size, dtype=torch.float64).reshape(1, -1, 3).expand(2, -1, -1)
        expected = trilinear_sample(volume, coords).reshape(2, size, size, size, 5)
        torch.testing.assert_close(resample_lattice(volume, size), expected, atol=1e-12, rtol=0)
        channels_first = resample_lattice(volume.permute(0, 4, 1, 2, 3), size, channels_last=False)
        torch.testing.assert_close(channels_first.permute(0, 2, 3, 4, 1), expected, atol=1e-12, rtol=0)
    assert interpolation_matrix(8, 20).sum(dim=1).allclose(torch.ones(20))


def test_fuse_and_apply_is_differentiable_in_lut_and_weights() -> None:
    frames = random_frames(2, 3, 8, 8)
    weights = torch.softmax(torch.randn(2, 3), dim=1).requires_grad_()
    lut = (identity_lut(9).expand(2, 9, 9, 9, 3) + 0.01 * torch.randn(2, 9, 9, 9, 3)).requires_grad_()
    out = fuse_and_apply(frames, weights, lut)
    assert out.shape == (2, 3, 8, 8)
    out.square().sum().backward()
    assert weights.grad.abs().sum() > 0 and lut.grad.abs().sum() > 0
    # Through an identity LUT, fusion is the weighted sum of eq. 3.
    plain = fuse_and_apply(frames, weights.detach(), identity_lut(9).expand(2, 9, 9, 9, 3))
    torch.testing.assert_close(
        plain, (weights.detach()[:, :, None, None, None] * frames).sum(1), atol=1e-6, rtol=0
    )


def test_trilinear_apply_exports() -> None:
    class Apply(torch.nn.Module):
        def forward(self, frames: torch.Tensor, weights: torch.Tensor, lut: torch.Tensor) -> torch.Tensor:
            return fuse_and_apply(frames, weights, lut)

    args = (random_frames(1, 2, 6, 5), torch.tensor([[0.3, 0.7]]), torch.rand(1, 9, 9, 9, 3))
    program = torch.export.export(Apply(), args)
    assert_portable_graph(program)
    torch.testing.assert_close(program.module()(*args), Apply()(*args))


# ---------------------------------------------------------------------------------------------- thumbnails


@pytest.mark.parametrize(("height", "width"), [(256, 384), (1000, 750), (301, 217), (2160, 3840), (96, 80)])
def test_thumbnails_match_opencv_inter_area(height: int, width: int) -> None:
    cv2 = pytest.importorskip("cv2")
    frames = random_frames(1, 2, height, width, seed=height)
    thumbs = thumbnails(frames, 128)
    assert thumbs.shape == (1, 6, 128, 128)
    for k in range(2):
        frame = frames[0, k].permute(1, 2, 0).numpy()
        expected = cv2.resize(frame, (128, 128), interpolation=cv2.INTER_AREA)
        np.testing.assert_allclose(thumbs[0, 3 * k : 3 * k + 3].permute(1, 2, 0).numpy(), expected, atol=1e-5)


def test_torch_area_interpolate_differs_from_inter_area_on_uneven_sizes() -> None:
    """Why thumbnails() does not use F.interpolate(mode="area"): it only agrees on integer factors."""
    cv2 = pytest.importorskip("cv2")
    image = torch.rand(3, 301, 217, generator=torch.Generator().manual_seed(3))
    expected = cv2.resize(image.permute(1, 2, 0).numpy(), (128, 128), interpolation=cv2.INTER_AREA)
    pooled = F.interpolate(image[None], size=(128, 128), mode="area")[0].permute(1, 2, 0).numpy()
    assert np.abs(pooled - expected).max() > 1e-2
    even = torch.rand(3, 256, 512)
    torch.testing.assert_close(
        area_resize(even, 128, 128), F.interpolate(even[None], (128, 128), mode="area")[0]
    )


# ---------------------------------------------------------------------------------------------- models


@pytest.mark.parametrize("n_exposures", [2, 3])
@pytest.mark.parametrize("grid_size", [8, 17, 33, 64])
def test_student_shapes_and_weights(n_exposures: int, grid_size: int) -> None:
    torch.manual_seed(0)
    student = Student(StudentConfig(n_exposures=n_exposures)).eval()
    thumbs = thumbnails(random_frames(2, n_exposures, 40, 56))
    with torch.no_grad():
        weights, lut = student(thumbs, grid_size=grid_size)
    assert weights.shape == (2, n_exposures)
    assert lut.shape == (2, grid_size, grid_size, grid_size, 3)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(2))
    assert (weights >= 0).all()
    assert torch.isfinite(lut).all() and lut.min() >= 0 and lut.max() <= 1


@pytest.mark.parametrize("n_exposures", [2, 3])
@pytest.mark.parametrize("grid_size", [8, 17, 33])
def test_teacher_shapes_and_weights(n_exposures: int, grid_size: int) -> None:
    torch.manual_seed(0)
    teacher = Teacher(TeacherConfig(n_exposures=n_exposures, **SMALL_TEACHER)).eval()
    with torch.no_grad():
        weights, lut = teacher(thumbnails(random_frames(2, n_exposures)), grid_size=grid_size)
    assert weights.shape == (2, n_exposures)
    assert lut.shape == (2, grid_size, grid_size, grid_size, 3)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(2))


def test_teacher_default_architecture_runs() -> None:
    torch.manual_seed(0)
    teacher = Teacher().eval()
    assert len(teacher.basis) == len(teacher.encoders) == 3
    with torch.no_grad():
        weights, lut = teacher(thumbnails(random_frames(1, 3)), grid_size=17)
    assert weights.shape == (1, 3) and lut.shape == (1, 17, 17, 17, 3)
    print(f"teacher parameters: {teacher.parameter_counts()}")


def test_student_parameter_count_near_paper() -> None:
    for n_exposures in (2, 3):
        counts = Student(StudentConfig(n_exposures=n_exposures)).parameter_counts()
        print(f"student ({n_exposures} exposures) parameters: {counts}")
        assert counts["total"] == counts["iw"] + counts["inn_encoder"] + counts["inn_mlp"]
        assert abs(counts["total"] - PAPER_PARAMETERS) <= 0.2 * PAPER_PARAMETERS


@pytest.mark.parametrize("n_exposures", [2, 3])
def test_untrained_models_start_near_identity(n_exposures: int) -> None:
    torch.manual_seed(0)
    thumbs = thumbnails(random_frames(1, n_exposures))
    for model in (
        Student(StudentConfig(n_exposures=n_exposures)),
        Teacher(TeacherConfig(n_exposures=n_exposures, **SMALL_TEACHER)),
    ):
        for mode in (model.train, model.eval):
            mode()
            with torch.no_grad():
                weights, lut = model(thumbs, grid_size=17)
            assert torch.isfinite(lut).all()
            assert (lut - identity_lut(17)).abs().max() < 0.02, type(model).__name__
            assert (weights - 1 / n_exposures).abs().max() < 0.05


def test_fuse_frames_full_resolution() -> None:
    torch.manual_seed(0)
    frames = random_frames(1, 3, 150, 200)
    result = Student().eval().fuse_frames(frames, grid_size=17)
    assert result.image.shape == (1, 3, 150, 200) and result.lut.shape == (1, 17, 17, 17, 3)
    # Untrained: nearly the identity LUT over a nearly uniform average of the exposures.
    assert (result.image - frames.mean(dim=1)).abs().max() < 0.05


def test_bad_inputs_are_refused() -> None:
    student = Student(StudentConfig(n_exposures=3))
    with pytest.raises(BracketError, match="fuses 3 exposures"):
        student(torch.rand(1, 6, 128, 128))
    with pytest.raises(ValueError, match=r"B x 3N x 128 x 128"):
        student(torch.rand(1, 9, 64, 64))
    with pytest.raises(ValueError, match="grid_size"):
        student(torch.rand(1, 9, 128, 128), grid_size=4)
    with pytest.raises(ValueError, match="B x S x S x S x 3"):
        apply_lut(torch.rand(1, 3, 4, 4), torch.rand(1, 5, 5, 4, 3))
    with pytest.raises(ValueError, match="reduce"):
        StudentConfig(encoder_strides=(2,) * 8)


def test_determinism_under_manual_seed() -> None:
    thumbs = thumbnails(random_frames(1, 3))
    outputs = []
    for _ in range(2):
        torch.manual_seed(123)
        student = Student()
        with torch.no_grad():
            outputs.append(student(thumbs, grid_size=17))
    torch.testing.assert_close(outputs[0], outputs[1], atol=0, rtol=0)
    torch.manual_seed(124)
    assert not torch.equal(Student()(thumbs, grid_size=17)[1], outputs[0][1])


def test_fourier_encoding_option() -> None:
    student = Student(StudentConfig(fourier_frequencies=2)).eval()
    with torch.no_grad():
        _, lut = student(thumbnails(random_frames()), grid_size=8)
    assert lut.shape == (1, 8, 8, 8, 3)


# ---------------------------------------------------------------------------------------------- losses


def test_student_loss_gradients_reach_every_trainable_parameter() -> None:
    torch.manual_seed(0)
    student = Student().train()
    criterion = StudentLoss()
    frames, target = random_frames(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    weights, lut = student(thumbnails(frames), grid_size=64)
    teacher_lut = identity_lut(64)[None] ** 0.8
    total, parts = criterion(fuse_and_apply(frames, weights, lut), target, lut, teacher_lut)
    assert set(parts) == {"l1", "d1", "lr", "total"}
    expected = parts["l1"] + 0.05 * parts["d1"] + 0.09 * parts["lr"]
    torch.testing.assert_close(total, expected)
    total.backward()
    named = list(student.named_parameters()) + list(criterion.named_parameters())
    missing = [
        name for name, p in named if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)
    ]
    assert missing == []
    # The image stem is a fixed random projection by default; the grid tokeniser trains with the student.
    stem = criterion.long_range.image_tokeniser
    assert count_parameters(stem, trainable_only=True) == 0 < count_parameters(stem)
    assert count_parameters(criterion.long_range.grid_tokeniser, trainable_only=True) > 0
    print(
        f"loss tokenisers: image stem {count_parameters(stem)}, grid CNN "
        f"{count_parameters(criterion.long_range.grid_tokeniser)}"
    )


def test_long_range_loss_trainable_stem_option() -> None:
    criterion = StudentLoss(StudentLossConfig(train_image_stem=True))
    assert count_parameters(criterion.long_range.image_tokeniser, trainable_only=True) > 0


def test_student_loss_refuses_mismatched_grids() -> None:
    image = torch.rand(1, 3, 8, 8)
    with pytest.raises(ValueError, match="must match"):
        StudentLoss()(image, image, identity_lut(64)[None], identity_lut(33)[None])


def test_teacher_loss_gradients_reach_every_parameter() -> None:
    """One teacher step. The encoders of the zero-initialised basis LUTs see an all-zero input at step 1, so
    their first conv's weights get zero gradient then; after one optimiser step (the LUTs themselves receive
    gradient) every parameter does."""
    torch.manual_seed(0)
    teacher = Teacher(TeacherConfig(**SMALL_TEACHER)).train()
    optimiser = torch.optim.SGD(teacher.parameters(), lr=1e-2)
    frames, target = random_frames(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    for _ in range(2):
        optimiser.zero_grad()
        loss = teacher_loss(teacher.fuse_frames(frames, grid_size=9).image, target)
        loss.backward()
        optimiser.step()
    missing = [name for name, p in teacher.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


# ---------------------------------------------------------------------------------------------- export


@pytest.mark.slow
def test_student_exports_to_torch_export_and_onnx(tmp_path) -> None:
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    torch.manual_seed(0)
    exportable = ExportableStudent(Student(StudentConfig(n_exposures=3)).eval(), grid_size=17).eval()
    ((shape, _dtype),) = exportable.get_input_spec().values()
    thumbs = torch.rand(shape)
    program = torch.export.export(exportable, (thumbs,))
    assert_portable_graph(program)
    probe = torch.rand(shape)
    expected = exportable(probe)
    for got, want in zip(program.module()(probe), expected, strict=True):
        torch.testing.assert_close(got, want)

    path = tmp_path / "student.onnx"
    torch.onnx.export(
        program,
        (thumbs,),
        str(path),
        dynamo=True,
        input_names=["thumbnails"],
        output_names=list(exportable.get_output_names()),
    )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    weights, lut = session.run(None, {"thumbnails": probe.numpy()})
    assert lut.shape == (1, 17, 17, 17, 3)
    np.testing.assert_allclose(weights, expected[0].detach().numpy(), atol=1e-4)
    np.testing.assert_allclose(lut, expected[1].detach().numpy(), atol=1e-4)


def test_ssim_loss_is_one_minus_the_metric_and_differentiable() -> None:
    from edgemef.metrics import ssim
    from edgemef.train.mef_ssim_loss import ssim_loss

    rng = np.random.default_rng(5)
    reference = rng.random((40, 56, 3))
    image = np.clip(reference + 0.1 * rng.standard_normal(reference.shape), 0, 1)
    as_tensor = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None]  # noqa: E731
    loss = ssim_loss(as_tensor(image), as_tensor(reference))
    assert 1.0 - loss.item() == pytest.approx(ssim(image, reference, data_range=1.0), abs=1e-9)
    assert ssim_loss(as_tensor(reference), as_tensor(reference)).item() == pytest.approx(0.0, abs=1e-9)
    moving = as_tensor(image).clone().requires_grad_(True)
    ssim_loss(moving, as_tensor(reference)).backward()
    assert torch.isfinite(moving.grad).all() and moving.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="at least 11"):
        ssim_loss(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8))


def test_unpaired_mef_ssim_loss_is_the_metric_and_differentiable() -> None:
    """Eq. 11's loss is one minus the first scale of the MEF-SSIM metric, with gradients to the image."""
    from edgemef.metrics.mef_ssim import mef_ssim_details
    from edgemef.train.mef_ssim_loss import mef_ssim_map, unpaired_loss

    rng = np.random.default_rng(3)
    scene = cv2_free_scene(rng, 72, 88)
    frames = np.stack([np.clip(scene * gain, 0, 1) for gain in (0.3, 1.0, 2.5)]).astype(np.float32)
    frames_t = torch.from_numpy(frames).permute(0, 3, 1, 2)[None]
    for fused in (frames[1], frames.mean(0), np.clip(1.0 - frames[1], 0, 1)):
        expected = mef_ssim_details(frames, fused).scale_scores[0]
        fused_t = torch.from_numpy(np.ascontiguousarray(fused)).permute(2, 0, 1)[None]
        assert mef_ssim_map(frames_t, fused_t).mean().item() == pytest.approx(expected, abs=1e-5)
    # An inverted image scores far worse than the middle exposure.
    middle = torch.from_numpy(frames[1]).permute(2, 0, 1)[None]
    assert unpaired_loss(frames_t, middle) < 0.5 < unpaired_loss(frames_t, 1.0 - middle)
    fused_t = torch.full((1, 3, 72, 88), 0.5, requires_grad=True)
    unpaired_loss(frames_t, fused_t + 0.1 * middle).backward()
    assert torch.isfinite(fused_t.grad).all() and fused_t.grad.abs().sum() > 0
    # Saturated regions (identical exposures, flat patches) stay finite.
    flat = torch.ones(1, 3, 3, 40, 40)
    assert torch.isfinite(unpaired_loss(flat, torch.rand(1, 3, 40, 40)))


def test_multiscale_mef_ssim_loss_is_the_whole_metric() -> None:
    """The multi-scale loss is one minus the metric's score (3 scales, odd sizes halved like the metric)."""
    from edgemef.metrics.mef_ssim import mef_ssim
    from edgemef.train.mef_ssim_loss import multiscale_unpaired_loss

    rng = np.random.default_rng(5)
    scene = cv2_free_scene(rng, 91, 105)
    frames = np.stack([np.clip(scene * gain, 0, 1) for gain in (0.3, 1.0, 2.5)])
    fused = [frames[1], frames.mean(0), np.clip(frames[0] * 1.8, 0, 1)]
    frames_t = torch.from_numpy(frames).permute(0, 3, 1, 2)[None].repeat(3, 1, 1, 1, 1)
    fused_t = torch.from_numpy(np.stack(fused)).permute(0, 3, 1, 2).requires_grad_(True)
    loss = multiscale_unpaired_loss(frames_t, fused_t)
    expected = np.mean([mef_ssim(frames, image) for image in fused])
    assert 1.0 - loss.item() == pytest.approx(expected, abs=1e-5)
    loss.backward()
    assert torch.isfinite(fused_t.grad).all() and fused_t.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="at least 44"):
        multiscale_unpaired_loss(frames_t[:, :, :, :40, :40], fused_t[:, :, :40, :40])


def cv2_free_scene(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A smooth random RGB scene in [0, 1] with edges: blurred noise plus a bright square."""
    noise = rng.random((height // 8 + 2, width // 8 + 2, 3))
    scene = np.kron(noise, np.ones((8, 8, 1)))[:height, :width]
    scene[height // 4 : height // 2, width // 4 : width // 2] += 0.6
    return np.clip(scene * 0.6, 0, 1)
