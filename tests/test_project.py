"""The project's own promises: the README's test command is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    return re.findall(r"```(?:bash|sh)\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)


def test_ci_runs_the_readme_test_command() -> None:
    test_command = readme_commands()[1].strip()
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_first_command_converts_for_android() -> None:
    assert "edgemef convert --target android" in readme_commands()[0]


def test_readme_fuse_command_uses_shipped_examples_and_the_converted_artifact() -> None:
    fuse = next(c for c in readme_commands() if "edgemef fuse --artifact" in c)
    pattern = re.search(r"(examples/\S+)", fuse).group(1)
    assert list(ROOT.glob(pattern)), pattern
    assert "dist/android/lut-student-int8-g33.pte" in fuse  # what the first command writes


def test_readme_capability_table_is_current() -> None:
    pytest.importorskip("torch")
    from converters.capabilities import capability_table

    assert capability_table() in (ROOT / "README.md").read_text()


@pytest.mark.slow
def test_benchmark_suites_smoke() -> None:
    """Every pytest-benchmark suite runs once (timing disabled), as CI's smoke of benchmarks/."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks", "--benchmark-disable", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
