"""Exported artifacts that ship with edgemef, so the deploy install (no torch) fuses with the default model.

The int8 LiteRT predictors of the default model (``lut-adaptive``) and of the paper's LUT-distill student
(``lut-student``, the next default and ``--model lut-student`` without torch) for 3- and 2-exposure brackets,
each with its contract (sha256, parity against PyTorch fp32). They are what these commands write from the
shipped weights (``tests/test_shipped_artifacts.py`` rebuilds them and checks that they fuse alike)::

    edgemef convert --target rpi --model lut-adaptive --out edgemef/artifacts
    edgemef convert --target rpi --model lut-adaptive --exposures 2 --out edgemef/artifacts
    edgemef convert --target rpi --out edgemef/artifacts
    edgemef convert --target rpi --exposures 2 --out edgemef/artifacts
"""

from __future__ import annotations

import json
from pathlib import Path

ARTIFACTS_DIR = Path(__file__).resolve().parent
#: where the rebuild commands write (relative to the repository root)
REBUILD_OUT = "edgemef/artifacts"


def rebuild_commands() -> list[tuple[str, ...]]:
    """The ``edgemef`` command (arguments) that makes each shipped artifact, from its contract (the model and
    the exposure count; grid 33 and int8 are the rpi target's defaults)."""
    commands = []
    for data in shipped_artifacts():
        exposures = () if data.get("n_exposures") == 3 else ("--exposures", str(data.get("n_exposures")))
        model = ("--model", str(data.get("model")))
        commands.append(("convert", "--target", "rpi", *model, *exposures, "--out", REBUILD_OUT))
    return commands


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
