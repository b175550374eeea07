"""The model-family seam: every family is one folder plus one registration, and the converter, runtime, CLI,
profiler, bench and Pi runner learn about it from its declaration.

A toy family defined in this file (a tiny weight predictor: one weight per exposure from 32x32 thumbnails)
registers itself and converts to ONNX and LiteRT through the same loop as the shipped families, then fuses
through ``open_artifact`` and ``edgemef fuse --artifact``.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgemef.models.family import FamilyOption, ModelFamily, OutputKind
from edgemef.models.registry import FAMILY_MODULES, list_families, register_family, unregister_family
from edgemef.models.spec import ModelSpec
from tests.conftest import run_python_without_torch

ROOT = Path(__file__).resolve().parents[1]
CODE = sorted([*ROOT.glob("edgemef/**/*.py"), *ROOT.glob("converters/**/*.py"), *ROOT.glob("rpi/**/*.py")])
TOY_SIZE = 32


# ------------------------------------------------------------------------------------------ declarations


@pytest.mark.parametrize("family", list_families(), ids=lambda f: f.name)
def test_every_declaration_is_complete_and_torch_free(family: ModelFamily, tmp_path: Path) -> None:
    assert family.models and all(spec.family == family.name for spec in family.models)
    assert isinstance(family.output_kind, OutputKind)
    assert (family.convertible is None) == (family.exporter is None)
    if family.convertible:
        assert family.convertible in {spec.name for spec in family.models}
        assert family.runtime and family.profile_stages
        from converters.capabilities import PRECISIONS, RUNTIMES

        for key in family.refused_precisions:  # a precision, or runtime:precision
            runtime, _, precision = key.rpartition(":")
            assert precision in PRECISIONS and (not runtime or runtime in RUNTIMES), key
        for spec in RUNTIMES.values():  # every runtime's default converts
            default = family.default_precision.get(spec.name, spec.default_precision)
            assert family.refusal(spec.name, default) is None, (spec.name, default)
    for claim in family.claims:
        assert claim.claimed_ms > 0 and claim.source and claim.family == family.name
    # the declaration and the artifact runtime import without torch (the deploy side)
    body = f"from edgemef.models.registry import get_family\nf = get_family({family.name!r})\n"
    if family.runtime:
        body += "runtime = f.load_runtime()\nassert callable(runtime.fuse) and callable(runtime.fuse_timed)\n"
    for module in family.searches.values():  # `edgemef search --help` needs no torch either
        body += f"import {module} as m\nassert callable(m.add_arguments) and callable(m.run) and m.HELP\n"
    done = run_python_without_torch(body, tmp_path)
    assert done.returncode == 0, done.stderr


def test_contract_schema_knows_every_output_kind() -> None:
    from edgemef.runtime.contract import OUTPUT_KINDS, SCHEMA_PATH

    schema = json.loads(SCHEMA_PATH.read_text())
    assert set(schema["properties"]["output_kind"]["enum"]) == {kind.value for kind in OutputKind}
    assert set(OUTPUT_KINDS) == {kind.value for kind in OutputKind}


# ------------------------------------------------------------------------------------------ the seam holds


def _docstring_ids(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _identifier_words(name: str) -> str:
    return " ".join(
        w.lower() for part in name.split("_") for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", part)
    )


def _names_in_code(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string (docstrings aside), identifier and import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstring_ids(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.Name):
            found.append((node.lineno, _identifier_words(node.id)))
        elif isinstance(node, ast.Attribute):
            found.append((node.lineno, _identifier_words(node.attr)))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [getattr(node, "module", None) or "", *(alias.name for alias in node.names)]
            found += [(node.lineno, m.replace(".", " ")) for m in modules]
    return found


def test_no_code_outside_a_family_package_names_the_family() -> None:
    """Only a family's own package and the one registration line name it (and its models); the rest of the
    project learns about it from the registry. The classical baseline is named where it is measured."""
    registration = ROOT / "edgemef" / "models" / "registry.py"
    offences = []
    for family in list_families():
        if not family.runtime:  # the baseline
            continue
        package = ROOT / "edgemef" / "models" / family.name.replace("-", "_")
        builders = [  # families built on this one may import its parts
            ROOT / "edgemef" / "models" / f.name.replace("-", "_")
            for f in list_families()
            if family.name in f.builds_on
        ]
        words = {family.name, family.name.replace("-", "_"), *(s.name for s in family.models)}
        words |= {w.replace("-", "_") for w in words}
        pattern = re.compile(
            r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, sorted(words))) + r")(?![A-Za-z0-9])", re.I
        )
        for path in CODE:
            if path.is_relative_to(package) or any(path.is_relative_to(b) for b in builders):
                continue
            for line, text in _names_in_code(path):
                if pattern.search(text) and not (
                    path == registration and text.replace(" ", ".") in FAMILY_MODULES
                ):
                    offences.append(f"{path.relative_to(ROOT)}:{line}: {text[:80]!r}")
    assert not offences, "\n".join(offences)


def _imports(path: Path, module: str) -> set[str]:
    """Every project module ``path`` imports, at any depth (function-level imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def test_no_import_cycles_between_the_project_modules() -> None:
    modules = {}
    for path in CODE:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[0] == "rpi":
            continue
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {
        name: {m for m in _imports(path, name) if m in modules and m != name}
        for name, path in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    assert not cycles, cycles


# ------------------------------------------------------------------------------------------ a toy family


def toy_thumbnails(frames: np.ndarray) -> np.ndarray:
    """``N x H x W x 3`` uint8 -> ``1 x 3N x 32 x 32`` float32 in [0, 1]."""
    import cv2

    small = np.stack([cv2.resize(f, (TOY_SIZE, TOY_SIZE), interpolation=cv2.INTER_AREA) for f in frames])
    return np.ascontiguousarray(
        small.transpose(0, 3, 1, 2).reshape(1, -1, TOY_SIZE, TOY_SIZE) / 255.0, np.float32
    )


def toy_fuse(frames: np.ndarray, weights: np.ndarray) -> np.ndarray:
    fused = np.tensordot(weights.reshape(-1), frames.astype(np.float32), axes=1)
    return np.clip(fused + 0.5, 0, 255).astype(np.uint8)


class ToyRuntime:
    """The toy family's torch-free artifact runtime (follows ``edgemef.runtime.artifact.ArtifactRuntime``)."""

    def __init__(self, artifact: str | Path, threads: int | None = None) -> None:
        from edgemef.runtime.backends import open_backend
        from edgemef.runtime.contract import read_contract

        self.artifact = Path(artifact)
        self.contract = read_contract(self.artifact)
        self.backend = open_backend(self.artifact, self.contract, threads)
        self.name = f"toy ({self.contract.backend} {self.contract.precision})"
        self.settings = "thumbnails 32"
        self.last_predict_ms = float("nan")

    @property
    def n_exposures(self) -> int:
        return self.contract.n_exposures

    def warm_up(self) -> None:
        """Nothing to load."""

    def network_example(self, frames: np.ndarray) -> np.ndarray:
        return toy_thumbnails(frames)

    def fuse_timed(self, frames: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        import time

        start = time.perf_counter()
        weights = self.backend.run(toy_thumbnails(frames))["weights"]
        predicted = time.perf_counter()
        fused = toy_fuse(frames, weights)
        self.last_predict_ms = (predicted - start) * 1000.0
        return fused, {"predictor": self.last_predict_ms, "blend": (time.perf_counter() - predicted) * 1000.0}

    def fuse(self, frames: np.ndarray) -> np.ndarray:
        return self.fuse_timed(frames)[0]


class ToyExporter:
    """The toy family's exporter: one graph, thumbnails -> one weight per exposure."""

    latency_what = "one weight prediction"
    latency_runs = 3

    def load(self, request: Any) -> Any:
        import torch

        torch.manual_seed(0)
        n = request.n_exposures
        return torch.nn.Sequential(
            torch.nn.Conv2d(3 * n, 8, int(request.options["kernel"]), padding="same"),
            torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Flatten(),
            torch.nn.Linear(8, n),
        ).eval()

    def artifact_stem(self, model: Any, request: Any) -> str:
        return f"toy-{request.precision}-k{request.options['kernel']}"

    def graphs(self, model: Any, request: Any, calibrate: bool) -> list:
        import torch

        from converters.calibration import load_stacks
        from converters.graphs import ExportGraph, TensorInfo

        class WeightsGraph(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.net = model

            def forward(self, thumbnails: torch.Tensor) -> dict[str, torch.Tensor]:
                return {"weights": torch.softmax(self.net(thumbnails), dim=1)}

        feeds = [toy_thumbnails(s.frames) for s in load_stacks("calibration", request.n_exposures)]
        return [
            ExportGraph(
                "weights",
                WeightsGraph().eval(),
                {"thumbnails": torch.from_numpy(feeds[0])},
                (TensorInfo("thumbnails", "NCHW", "the frames at 32x32, / 255", (0.0, 1.0)),),
                (TensorInfo("weights", "NC", "one weight per exposure", (0.0, 1.0)),),
                [{"thumbnails": f} for f in feeds] if calibrate else [],
            )
        ]

    def contract_fields(self, model: Any, request: Any) -> dict[str, Any]:
        return {
            "n_exposures": request.n_exposures,
            "preprocessing": {"thumbnail_size": TOY_SIZE},
            "postprocessing": {"fusion": "sum_k weights[k] * frame_k"},
        }

    def parity(
        self,
        model: Any,
        request: Any,
        candidate: Mapping[str, Any],
        reference: Mapping[str, Any],
        gate_db: float,
    ) -> Any:
        from converters.calibration import load_stacks
        from converters.graphs import ParityResult
        from edgemef.metrics import psnr

        rows = []
        for stack in load_stacks("parity", request.n_exposures):
            thumbs = toy_thumbnails(stack.frames)
            ours = toy_fuse(stack.frames, candidate["weights"].run(thumbs)["weights"])
            theirs = toy_fuse(stack.frames, reference["weights"].run(thumbs)["weights"])
            rows.append({"stack": stack.name, "psnr_db": min(99.0, float(psnr(ours, theirs)))})
        worst = min(r["psnr_db"] for r in rows)
        report = {"gate_db": gate_db, "min_psnr_db": worst, "passed": worst >= gate_db, "stacks": rows}
        return ParityResult(report, str(rows))


EXPORTER = ToyExporter()
TOY = ModelFamily(
    name="toy-blend",
    summary="a test family: one learned weight per exposure",
    output_kind=OutputKind.DISPLAY,
    models=(ModelSpec("toy-blend", "toy-blend", "test model", "tests.test_families:ToyRuntime"),),
    runtime="tests.test_families:ToyRuntime",
    exporter="tests.test_families:EXPORTER",
    convertible="toy-blend",
    convert_options=(FamilyOption("kernel", 3, "the convolution's kernel", "K", quick=3),),
    profile_stages=("predictor", "blend"),
)


@pytest.fixture
def toy_family():
    register_family(TOY)
    yield TOY
    unregister_family(TOY.name)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["onnx", "rpi"])
def test_a_new_family_is_one_declaration(toy_family: ModelFamily, target: str, tmp_path: Path) -> None:
    """The toy family converts through the same loop (ONNX, LiteRT), its contract passes the published
    schema, and every deploy-side entry point takes its artifact by the contract's family."""
    pytest.importorskip("torch")
    jsonschema = pytest.importorskip("jsonschema")
    import cv2

    from converters import ConvertConfig, convert
    from edgemef.bench import run_matrix
    from edgemef.cli.main import main
    from edgemef.runtime import open_artifact
    from edgemef.runtime.contract import SCHEMA_PATH

    result = convert(
        ConvertConfig(target=target, model="toy-blend", options={"kernel": 5}, out=tmp_path / "dist")
    )
    assert (
        result.artifact.name
        == f"toy-{result.contract.precision}-k5{'.onnx' if target == 'onnx' else '.tflite'}"
    )
    assert result.contract.family == "toy-blend" and result.contract.parity["passed"]
    jsonschema.validate(json.loads(result.contract_file.read_text()), json.loads(SCHEMA_PATH.read_text()))
    runtime = open_artifact(result.artifact)
    assert isinstance(runtime, ToyRuntime)
    frames = np.stack([np.full((24, 40, 3), v, np.uint8) for v in (40, 120, 220)])
    fused, stages = runtime.fuse_timed(frames)
    assert fused.shape == (24, 40, 3) and set(stages) == {"predictor", "blend"}
    for index, frame in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"f{index}.png"), frame)
    out = tmp_path / "fused.png"
    assert (
        main(
            [
                "fuse",
                "--artifact",
                str(result.artifact),
                *map(str, sorted(tmp_path.glob("f*.png"))),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert out.exists()
    rows = run_matrix([], ["720p"], runs=1, artifacts=[str(result.artifact)])
    assert rows[0].model.startswith("toy-blend (thumbnails 32")
