"""The iOS app's Swift core (ios_demo, EdgeMEFCore) against golden files the Python side writes now from a
real bracket: XCTest on Linux, in the Debian trixie root with Swift 6.0.3 that
ios_demo/tools/install_swift.sh makes (.ci/run calls it). The app's own sources (guarded by
``#if canImport``) are built empty and parsed there; its project files are checked here."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import plistlib
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IOS = REPO / "ios_demo"
SWIFT_ROOT = Path(os.environ.get("EDGEMEF_SWIFT_ROOT", "/var/cache/edgemef/swift-trixie"))


def _toolchain() -> None:
    if not (SWIFT_ROOT / "usr/libexec/swift/bin/swift").exists():
        pytest.skip(
            f"no Swift root at {SWIFT_ROOT}: run ios_demo/tools/install_swift.sh as root (.ci/run does)"
        )
    if os.geteuid() != 0:
        pytest.skip("the Swift root is entered with chroot, which needs root")


def _xctest_counts(output: str) -> tuple[int, int, int]:
    """(executed, skipped, failed) of XCTest's last summary line (the one of all test suites)."""
    summaries = re.findall(
        r"Executed (\d+) tests?, with (?:(\d+) tests? skipped and )?(\d+) failures?", output
    )
    assert summaries, output[-4000:]
    executed, skipped, failed = summaries[-1]
    return int(executed), int(skipped or 0), int(failed)


@pytest.mark.slow
def test_swift_core_agrees_with_python(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    _toolchain()
    coreml = None
    try:
        import torch  # noqa: F401  (a CoreML artifact needs the authoring side)

        family_artifact = request.getfixturevalue("family_artifact")
        coreml = family_artifact("lut-distill", "coreml", "fp16").artifact
    except ImportError:
        pass
    spec = importlib.util.spec_from_file_location("ios_make_golden", IOS / "tools" / "make_golden.py")
    tools = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tools)
    golden = tools.make_golden(tmp_path / "golden", coreml)
    ran = subprocess.run(
        ["bash", str(IOS / "tools" / "swift_test.sh"), str(golden)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = ran.stdout + ran.stderr
    executed, skipped, failed = _xctest_counts(output)
    passed = executed - skipped - failed
    with capsys.disabled():  # XCTest's summary is not a line CI reads: say it plainly
        print(f"\nswift: {passed} passed, {failed} failed, {skipped} skipped")
    assert ran.returncode == 0 and failed == 0, output[-6000:]
    assert passed >= 18 - (coreml is None), output[-6000:]
    # the bytes the Swift core hashes for a .mlpackage are the ones whose sha256 the contract holds
    if coreml is not None:
        stream = (golden / "coreml_digest_input.bin").read_bytes()
        contract = json.loads((golden / "coreml" / "contract.json").read_text())
        assert hashlib.sha256(stream).hexdigest() == contract["sha256"]
    # the report the Swift core wrote is a valid profile report, rendered by edgemef profile --render
    jsonschema = pytest.importorskip("jsonschema")
    from edgemef.cli.main import main
    from edgemef.profile.schema import REPORT_SCHEMA

    report_path = golden / "ios_report.json"
    report = json.loads(report_path.read_text())
    jsonschema.validate(report, REPORT_SCHEMA)
    assert list(report["stages"]) == ["decode", "thumbnails", "predictor", "apply", "encode"]
    html = tmp_path / "ios.html"
    assert main(["profile", "--render", str(report_path), "--report", str(html)]) == 0
    page = html.read_text()
    assert "ios_demo benchmark mode" in page and "XCTest on Linux, not an iPhone" in page


def test_app_project_files() -> None:
    """Info.plist, project.yml and the guards that keep the app's sources out of a Linux build."""
    info = plistlib.loads((IOS / "App" / "Info.plist").read_bytes())
    assert info["NSCameraUsageDescription"] and info["NSPhotoLibraryAddUsageDescription"]
    assert info["UIFileSharingEnabled"] is True  # Finder / devicectl put artifacts and brackets in Documents
    schemes = [s for t in info["CFBundleURLTypes"] for s in t["CFBundleURLSchemes"]]
    request_swift = (IOS / "Sources" / "EdgeMEFCore" / "BenchmarkRequest.swift").read_text()
    assert f'public static let scheme = "{schemes[0]}"' in request_swift
    yaml = pytest.importorskip("yaml")
    project = yaml.safe_load((IOS / "project.yml").read_text())
    app = project["targets"]["EdgeMEFDemo"]
    assert app["settings"]["base"]["INFOPLIST_FILE"] == "App/Info.plist"
    assert (IOS / project["packages"]["EdgeMEF"]["path"] / "Package.swift").is_file()
    for source in [*app["sources"], *project["targets"]["EdgeMEFCoreTests"]["sources"]]:
        assert source.get("optional") or (IOS / source["path"]).exists(), source
    for swift in sorted((IOS / "Sources" / "EdgeMEFDemo").glob("*.swift")):
        lines = [line for line in swift.read_text().splitlines() if line.strip()]
        assert lines[0].startswith("#if canImport("), f"{swift.name}: not guarded for Linux builds"
        assert lines[-1] == "#endif", swift.name
    core_imports = {
        line.split()[1]
        for swift in (IOS / "Sources" / "EdgeMEFCore").glob("*.swift")
        for line in swift.read_text().splitlines()
        if line.startswith("import ")
    }
    assert core_imports == {"Foundation"}, core_imports
