"""The demo app's Gradle-free build (android_demo/tools/build_apk.py): aapt -> javac against the API-23
android.jar -> dx -> zipalign -> apksigner, with Debian's tools (.ci/run installs them). The APK must be one
that Android's own tools accept: aapt reads its badging, apksigner verifies it, and its dex holds the app and
core classes but none of the compile-only runtime stubs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / "android_demo" / "tools"
sys.path.insert(0, str(TOOLS))
try:
    import build_apk
finally:
    sys.path.remove(str(TOOLS))


@pytest.fixture(scope="module")
def apk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tools = ("aapt", "zipalign", "apksigner", "dexdump", "javac", "keytool")
    missing = [tool for tool in tools if not shutil.which(tool)]
    missing += [str(path) for path in (build_apk.ANDROID_JAR, build_apk.DX_JAR) if not path.exists()]
    if missing:
        pytest.skip(
            f"the Android build tools are missing ({', '.join(missing)}): "
            "android_demo/tools/install_toolchain.sh installs them (.ci/run does)"
        )
    return build_apk.build(tmp_path_factory.mktemp("apk"))


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_badging_names_the_package_activity_and_gles3(apk: Path) -> None:
    badging = _run("aapt", "dump", "badging", str(apk))
    assert re.search(r"^package: name='org\.edgemef\.demo' versionCode='1'", badging, re.M), badging
    assert "sdkVersion:'24'" in badging
    assert "targetSdkVersion:'34'" in badging
    assert "launchable-activity: name='org.edgemef.demo.MainActivity'" in badging
    assert "uses-gl-es: '0x30000'" in badging
    assert "uses-permission: name='android.permission.CAMERA'" in badging


def test_apksigner_verifies(apk: Path) -> None:
    assert "Verifies" in _run("apksigner", "verify", "--verbose", str(apk))


def test_benchmark_activity_is_the_one_profile_adb_starts(apk: Path) -> None:
    from edgemef.profile.adb import APP_PACKAGE, BENCHMARK_ACTIVITY

    tree = _run("aapt", "dump", "xmltree", str(apk), "AndroidManifest.xml")
    package, activity = BENCHMARK_ACTIVITY.split("/")
    assert package == APP_PACKAGE
    assert f'"{APP_PACKAGE}{activity}"' in tree
    benchmark = tree[tree.index('"org.edgemef.demo.BenchmarkActivity"') :]
    exported = re.search(r"android:exported\(\w+\)=\(type 0x12\)0x(\w+)", benchmark)
    assert exported and exported.group(1) != "0", "the benchmark activity must be exported for adb"


def test_dex_has_the_app_and_core_but_no_runtime_stubs(apk: Path) -> None:
    classes = set(re.findall(r"Class descriptor\s*: 'L([^;]+);'", _run("dexdump", str(apk))))
    for needed in (
        "org/edgemef/demo/MainActivity",
        "org/edgemef/demo/BenchmarkActivity",
        "org/edgemef/demo/predictor/LiteRtPredictor",
        "org/edgemef/demo/predictor/ExecuTorchPredictor",
        "org/edgemef/demo/gl/GlLutRenderer",
        "org/edgemef/demo/camera/BracketCapture",
        "org/edgemef/core/Contract",
        "org/edgemef/core/ProfileReport",
    ):
        assert needed in classes
    stubs = [name for name in classes if name.startswith(("org/pytorch/", "org/tensorflow/"))]
    assert not stubs, f"compile-only stubs in the APK: {stubs}"


def test_assets_are_the_tested_shaders_and_the_shipped_artifacts(apk: Path, tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(apk) as archive:
        names = set(archive.namelist())
        shaders = REPO / "android_demo" / "app" / "src" / "main" / "assets"
        for shader in ("fuse_lut.frag", "fullscreen.vert"):
            assert archive.read(f"assets/{shader}") == (shaders / shader).read_bytes()
        shipped = sorted(
            path
            for pattern in build_apk.ARTIFACT_PATTERNS
            for path in (REPO / "edgemef" / "artifacts").glob(pattern)
        )
        assert len(shipped) >= 4
        for path in shipped:
            assert archive.read(f"assets/{path.name}") == path.read_bytes()
    assert not any(name.endswith(".py") for name in names)


def test_java_sources_keep_to_what_the_gradle_free_build_compiles() -> None:
    """No lambdas, method references, streams or java.util.function (dx does no desugaring)."""
    demo = REPO / "android_demo"
    sources = [*demo.glob("app/src/main/java/**/*.java"), *demo.glob("core/src/main/java/**/*.java")]
    assert sources
    for source in sources:
        text = re.sub(r"//.*|/\*.*?\*/", "", source.read_text(), flags=re.S)
        text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
        for pattern in (r"\)\s*->", r"\w\s*->", r"::", r"java\.util\.(function|stream)"):
            assert not re.search(pattern, text), f"{source.relative_to(REPO)} uses {pattern}"


def test_renderer_sets_every_uniform_the_shader_declares() -> None:
    """GlLutRenderer (Java) and fuse_lut.frag (the shader the GL test renders) agree on the uniforms."""
    demo = REPO / "android_demo" / "app" / "src" / "main"
    shader = (demo / "assets" / "fuse_lut.frag").read_text()
    declared = set(re.findall(r"^uniform\s+\w+\s+(\w+)(?:\[\d+\])?;", shader, re.M))
    java = (demo / "java" / "org" / "edgemef" / "demo" / "gl" / "GlLutRenderer.java").read_text()
    used = set(re.findall(r'glGetUniformLocation\(program, "(\w+)"', java))
    frames = {f"u_frame{k}" for k in range(int(re.search(r"MAX_FRAMES = (\d+)", java).group(1)))}
    if re.search(r'glGetUniformLocation\(program, "u_frame" \+ k\)', java):
        used = (used - {"u_frame"}) | frames
    assert declared == used, f"shader declares {sorted(declared)}, the renderer sets {sorted(used)}"
