"""The artifacts that ship in the package (edgemef/artifacts): verified contracts, and what the documented
commands make of the shipped weights today fuses like them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgemef.artifacts import ARTIFACTS_DIR, rebuild_commands, shipped_artifacts
from edgemef.runtime import read_contract


def test_every_shipped_artifact_matches_its_contract_and_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from edgemef.runtime.contract import SCHEMA_PATH

    shipped = shipped_artifacts()
    expected = {(model, n) for model in ("lut-adaptive", "lut-student") for n in (3, 2)}
    assert {(c["model"], c["n_exposures"]) for c in shipped} >= expected
    for data in shipped:
        jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
        contract = read_contract(ARTIFACTS_DIR / data["artifact"])  # checks the sha256
        assert contract.parity["passed"] and contract.backend == "litert"


@pytest.mark.slow
@pytest.mark.parametrize("command", rebuild_commands(), ids=lambda c: " ".join(c))
def test_the_documented_command_rebuilds_them(command: tuple[str, ...], tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from converters.calibration import load_stacks
    from edgemef.cli.main import main
    from edgemef.metrics import psnr
    from edgemef.runtime import open_artifact

    args = [*command[:-1], str(tmp_path)]  # --out: a scratch folder instead of the package
    assert main(args) == 0
    rebuilt = next(tmp_path.glob("*.tflite"))
    shipped = open_artifact(ARTIFACTS_DIR / rebuilt.name)
    fresh = open_artifact(rebuilt)
    for stack in load_stacks("parity", shipped.n_exposures):
        frames = np.ascontiguousarray(stack.frames)
        assert psnr(fresh.fuse(frames), shipped.fuse(frames)) >= 45.0, stack.name
