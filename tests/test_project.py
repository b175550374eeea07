"""The project's own promises: the README's test command is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    return re.findall(r"```(?:bash|sh)\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)


def test_ci_runs_the_readme_test_command() -> None:
    test_command = readme_commands()[1].strip()
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_first_command_uses_shipped_examples() -> None:
    first = readme_commands()[0]
    assert "edgemef fuse" in first
    pattern = re.search(r"(examples/\S+)", first).group(1)
    assert list(ROOT.glob(pattern)), pattern
