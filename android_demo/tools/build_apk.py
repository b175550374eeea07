"""The Gradle-free build of the demo app: an APK from this repository with Debian's Android tools.

    python android_demo/tools/build_apk.py [--out DIR]

Steps: ``aapt`` (R.java and the resource table) -> ``javac`` (Java 8 class files, the app + the core module,
against the API-23 ``android.jar`` and the runtime APIs' compile-only stubs in ``android_demo/stubs``) ->
``dx`` (classes.dex, without the stubs) -> ``aapt`` (package with the assets: the shaders and the package's
shipped LiteRT artifacts, ``edgemef/artifacts``) -> ``zipalign`` -> ``apksigner`` (a debug key made in DIR).

The APK installs and runs its UI, but has no ExecuTorch or LiteRT inside (their AARs are not reachable
here): the Gradle build (``android_demo/app/build.gradle.kts``) is the one for phones. Tools: Debian's
``aapt zipalign apksigner`` (bookworm), ``android-sdk-platform-23 dalvik-exchange`` (bullseye), a JDK.
Prints the APK's path; exits 2 with one line naming what is missing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1]
REPO = DEMO.parent
APP = DEMO / "app" / "src" / "main"
PACKAGE = "org.edgemef.demo"
MIN_SDK, TARGET_SDK = 24, 34
VERSION_CODE, VERSION_NAME = 1, "0.1"
SDK = Path("/usr/lib/android-sdk")
ANDROID_JAR = Path(os.environ.get("EDGEMEF_ANDROID_JAR", SDK / "platforms" / "android-23" / "android.jar"))
DX_JAR = SDK / "build-tools" / "debian" / "lib" / "dx.jar"
INSTALL = "android_demo/tools/install_toolchain.sh installs it"
#: what the APK carries from the package's shipped artifacts (edgemef/artifacts)
ARTIFACT_PATTERNS = ("*.tflite", "*.json")


class MissingTool(RuntimeError):
    """A tool or file the build needs is not installed."""


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise MissingTool(f"{name} not found ({INSTALL})")
    return found


def _run(command: list[str], cwd: Path | None = None) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed:\n{done.stdout}{done.stderr}")


def _sources(*roots: Path) -> list[str]:
    return sorted(str(path) for root in roots for path in root.rglob("*.java"))


def _manifest(out: Path) -> Path:
    """The app's manifest with the package attribute that Gradle takes from ``namespace``."""
    text = (APP / "AndroidManifest.xml").read_text()
    text, count = re.subn(r"<manifest ", f'<manifest package="{PACKAGE}" ', text, count=1)
    if count != 1:
        raise RuntimeError("AndroidManifest.xml has no <manifest> element")
    path = out / "AndroidManifest.xml"
    path.write_text(text)
    return path


def _assets(out: Path) -> Path:
    assets = out / "assets"
    shutil.rmtree(assets, ignore_errors=True)
    shutil.copytree(APP / "assets", assets)
    for pattern in ARTIFACT_PATTERNS:
        for path in sorted((REPO / "edgemef" / "artifacts").glob(pattern)):
            shutil.copy2(path, assets / path.name)
    return assets


def _debug_key(out: Path) -> Path:
    keystore = out / "debug.keystore"
    if not keystore.exists():
        _run(
            [
                _tool("keytool"), "-genkeypair", "-keystore", str(keystore), "-storepass", "android",
                "-keypass", "android", "-alias", "androiddebugkey", "-keyalg", "RSA", "-keysize", "2048",
                "-validity", "10000", "-dname", "CN=edgemef debug,O=edgemef,C=US",
            ]
        )  # fmt: skip
    return keystore


def build(out: Path) -> Path:
    """Build the APK in ``out``; its path."""
    for needed in (ANDROID_JAR, DX_JAR):
        if not needed.exists():
            raise MissingTool(f"{needed} not found ({INSTALL})")
    aapt, javac, java = _tool("aapt"), _tool("javac"), _tool("java")
    zipalign, apksigner = _tool("zipalign"), _tool("apksigner")
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("gen", "classes", "stubs", "dex"):
        shutil.rmtree(out / stale, ignore_errors=True)
        (out / stale).mkdir()
    manifest = _manifest(out)
    sdk = ["--min-sdk-version", str(MIN_SDK), "--target-sdk-version", str(TARGET_SDK)]
    resources = ["-M", str(manifest), "-S", str(APP / "res"), "-I", str(ANDROID_JAR), *sdk]
    _run([aapt, "package", "-f", "-m", "-J", str(out / "gen"), *resources])
    java8 = ["-source", "8", "-target", "8", "-bootclasspath", str(ANDROID_JAR), "-Xlint:-options"]
    java8 += ["-encoding", "UTF-8"]
    _run([javac, *java8, "-d", str(out / "stubs"), *_sources(DEMO / "stubs" / "src")])
    _run(
        [javac, *java8, "-classpath", str(out / "stubs"), "-d", str(out / "classes"),
         *_sources(APP / "java", DEMO / "core" / "src" / "main" / "java", out / "gen")]
    )  # fmt: skip
    _run([java, "-jar", str(DX_JAR), "--dex", f"--min-sdk-version={MIN_SDK}",
          f"--output={out / 'dex' / 'classes.dex'}", str(out / "classes")])  # fmt: skip
    unaligned = out / "app-unaligned.apk"
    version = ["--version-code", str(VERSION_CODE), "--version-name", VERSION_NAME]
    _run([aapt, "package", "-f", *resources, "-A", str(_assets(out)), *version, "-F", str(unaligned)])
    _run([aapt, "add", str(unaligned), "classes.dex"], cwd=out / "dex")
    aligned = out / "app-aligned.apk"
    _run([zipalign, "-f", "4", str(unaligned), str(aligned)])
    apk = out / "edgemef-demo.apk"
    keystore = _debug_key(out)
    _run([apksigner, "sign", "--ks", str(keystore), "--ks-pass", "pass:android", "--key-pass", "pass:android",
          "--out", str(apk), str(aligned)])  # fmt: skip
    unaligned.unlink()
    aligned.unlink()
    return apk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEMO / "build" / "apk", help="build folder")
    args = parser.parse_args()
    try:
        print(build(args.out))
    except MissingTool as error:
        print(f"build_apk: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except RuntimeError as error:
        print(f"build_apk: {error}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
