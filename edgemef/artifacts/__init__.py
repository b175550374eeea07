"""Exported artifacts that ship with edgemef, so the deploy install (no torch) fuses with the default model.

The default model's int8 LiteRT predictors for 3- and 2-exposure brackets, each with its contract (sha256,
parity against PyTorch fp32). They are what these commands write from the shipped weights
(``tests/test_shipped_artifacts.py`` rebuilds them and checks that they fuse alike)::

    edgemef convert --target rpi --out edgemef/artifacts
    edgemef convert --target rpi --exposures 2 --out edgemef/artifacts
"""

from __future__ import annotations

import json
from pathlib import Path

ARTIFACTS_DIR = Path(__file__).resolve().parent
#: the commands that make the shipped artifacts (run from the repository root)
REBUILD_COMMANDS = (
    ("convert", "--target", "rpi", "--out", "edgemef/artifacts"),
    ("convert", "--target", "rpi", "--exposures", "2", "--out", "edgemef/artifacts"),
)


def shipped_artifacts() -> list[dict]:
    """The contracts of the shipped artifacts (as JSON objects), by file name."""
    found = []
    for path in sorted(ARTIFACTS_DIR.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("artifact"), str):
            found.append(data)
    return found


def shipped_artifact(model: str, n_exposures: int) -> Path | None:
    """The shipped artifact of ``model`` for brackets of ``n_exposures`` that this install can run."""
    from edgemef.runtime.backends import runtime_available

    for data in shipped_artifacts():
        if (
            data.get("model") == model
            and data.get("n_exposures") == n_exposures
            and runtime_available(str(data.get("backend")))
        ):
            return ARTIFACTS_DIR / data["artifact"]
    return None
