"""The Android app's fragment shader (android_demo/app/src/main/assets/fuse_lut.frag): compiled as GLSL ES
3.0 by glslangValidator, and rendered headless (Mesa llvmpipe through EGL, moderngl) on a real bracket with
the network outputs of the shipped artifact: within 1 grey level of edgemef.lut.fuse_and_apply_reference,
with float32 and float16 LUT textures, one weight per exposure and weight maps (an RGBA16F texture, linear,
clamp-to-edge: the contract's weight-map sampling)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "android_demo" / "app" / "src" / "main" / "assets"
SHADERS = (ASSETS / "fullscreen.vert", ASSETS / "fuse_lut.frag")


@pytest.mark.parametrize("shader", SHADERS, ids=lambda p: p.name)
def test_shaders_compile_as_glsl_es_300(shader: Path) -> None:
    if shutil.which("glslangValidator") is None:
        pytest.skip("glslangValidator is missing: apt-get install glslang-tools (.ci/run does)")
    done = subprocess.run(["glslangValidator", str(shader)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def _context():
    moderngl = pytest.importorskip("moderngl")
    try:
        return moderngl.create_standalone_context(backend="egl", require=300)
    except Exception as exc:  # no EGL driver (Mesa's libegl-mesa0 and libgl1-mesa-dri)
        pytest.skip(f"no headless OpenGL context: {exc}")


def _golden_case():
    """A real bracket, darkest first, with the weights and LUT of the shipped artifact run in LiteRT."""
    from edgemef.artifacts import ARTIFACTS_DIR
    from edgemef.io import read_bracket
    from edgemef.runtime import open_artifact

    fusion = open_artifact(ARTIFACTS_DIR / "lut-student-int8-g33.tflite")
    frames = read_bracket(sorted((REPO / "examples" / "brackets" / "rocket").glob("*.jpg"))).frames
    weights, lut = fusion.predict(frames)
    return frames, weights, lut


def _weight_maps(weights: np.ndarray, height: int, width: int) -> np.ndarray:
    """Smooth, uneven weight maps (softmax per cell) around the network's weights: N x height x width."""
    y, x = np.mgrid[0:height, 0:width]
    ripple = np.stack([np.sin(0.9 * x + 0.4 * k) * np.cos(0.7 * y - k) for k in range(len(weights))])
    logits = np.log(weights)[:, None, None] + 1.5 * ripple
    maps = np.exp(logits - logits.max(axis=0))
    return (maps / maps.sum(axis=0)).astype(np.float32)


@pytest.mark.parametrize(
    ("texture_dtype", "map_size"),
    [("f4", None), ("f2", None), ("f2", (16, 16)), ("f2", (5, 9))],
    ids=["float32", "float16", "maps-16x16", "maps-5x9"],
)
def test_shader_fuses_like_the_reference(texture_dtype: str, map_size: tuple[int, int] | None) -> None:
    """One weight per exposure (a 1 x 1 map) and weight maps, as the contract samples them."""
    from edgemef.lut import fuse_and_apply_reference

    ctx = _context()
    frames, weights, lut = _golden_case()
    n, height, width = frames.shape[:3]
    size = lut.shape[0]
    maps = weights[:, None, None] if map_size is None else _weight_maps(weights, *map_size)
    program = ctx.program(vertex_shader=SHADERS[0].read_text(), fragment_shader=SHADERS[1].read_text())
    for k in range(4):
        source = frames[min(k, n - 1)]
        rgba = np.concatenate([source, np.full((height, width, 1), 255, np.uint8)], axis=2)
        texture = ctx.texture((width, height), 4, np.ascontiguousarray(rgba).tobytes())
        texture.filter = (ctx.NEAREST, ctx.NEAREST)
        texture.use(location=k)
        program[f"u_frame{k}"] = k
    table = lut.astype(np.float16 if texture_dtype == "f2" else np.float32)
    lut_texture = ctx.texture3d(
        (size, size, size), 3, np.ascontiguousarray(table).tobytes(), dtype=texture_dtype
    )
    lut_texture.filter = (ctx.LINEAR, ctx.LINEAR)
    lut_texture.repeat_x = lut_texture.repeat_y = lut_texture.repeat_z = False
    lut_texture.use(location=4)
    program["u_lut"] = 4
    # the weights as the app uploads them: RGBA16F, exposure k in channel k, linear, clamp-to-edge
    cells = np.zeros((*maps.shape[1:], 4), np.float16)
    cells[..., :n] = np.moveaxis(maps, 0, -1)
    weight_texture = ctx.texture(maps.shape[:0:-1], 4, cells.tobytes(), dtype="f2")
    weight_texture.filter = (ctx.LINEAR, ctx.LINEAR)
    weight_texture.repeat_x = weight_texture.repeat_y = False
    weight_texture.use(location=6)
    program["u_weight_maps"] = 6
    program["u_count"] = n
    program["u_size"] = float(size)
    target = ctx.simple_framebuffer((width, height), components=4)
    target.use()
    ctx.vertex_array(program, []).render(vertices=3)
    rendered = np.frombuffer(target.read(components=3), np.uint8).reshape(height, width, 3)
    expected = fuse_and_apply_reference(frames, maps if map_size else weights, lut)
    worst = int(np.abs(rendered.astype(np.int16) - expected).max())
    assert worst <= 1, f"max difference {worst} grey levels"
