"""The model-family interface: what one paper's models declare once, so that the converter, the runtime, the
CLI, the profiler, the bench, the trainer and the Pi runner learn about a family from its declaration.

A family is one folder, ``edgemef/models/<family>/``, whose ``family.py`` builds one :class:`ModelFamily`;
:data:`edgemef.models.registry.FAMILY_MODULES` names that module (the one registration). The declaration
imports no torch and no runtime: its heavy parts are named by import path (``"module:attribute"``) and
imported when used, so ``edgemef --help`` and the torch-free deploy side stay light.

What the named parts are:

- ``runtime``: a torch-free class that fuses with the family's exported artifact,
  ``Class(artifact, threads=None, **options)``, following :class:`edgemef.runtime.artifact.ArtifactRuntime`.
- ``exporter``: an object following :class:`converters.graphs.FamilyExporter` (authoring side, torch): how
  to load the convertible model, the graphs it exports, its contract fields and its parity harness.
- ``training_tasks``: task name -> ``make_task(name, *, data, holdout, n_exposures, init, **options)`` for
  ``edgemef train`` (``options``: every family's training arguments; a task takes its own by name);
- ``training_arguments``: ``add_arguments(group)`` adding the family's own ``edgemef train`` options
  (a torch-free module).
- ``searches``: model -> a torch-free module for ``edgemef search MODEL``, with ``HELP``, ``DESCRIPTION``,
  ``EPILOG``, ``add_arguments(parser)`` and ``run(args) -> int`` (which imports the search).

Example:
    >>> from edgemef.models.registry import get_family
    >>> get_family("lut-distill").output_kind.value
    'display-srgb8'
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any

from edgemef.models.spec import ModelSpec


class OutputKind(str, Enum):
    """What a model's fused image is.

    - ``DISPLAY``: display-referred 8-bit sRGB, ``H x W x 3`` uint8 (exposure fusion).
    - ``SCENE_LINEAR``: scene-referred linear RGB radiance, ``H x W x 3`` float32 (HDR reconstruction).
    """

    DISPLAY = "display-srgb8"
    SCENE_LINEAR = "scene-linear"


@dataclass(frozen=True)
class FamilyOption:
    """A conversion option of a family (``edgemef convert --NAME``), e.g. LUT-distill's ``--grid``.

    Attributes:
        name: the option (``grid`` -> ``--grid``).
        default: the value without the option (its type is the option's type).
        help: one line for ``--help``.
        metavar: the placeholder in ``--help``.
        quick: a value that makes a smaller, faster artifact of the same graph (tests, smoke runs).
    """

    name: str
    default: int | float | str
    help: str
    metavar: str = "V"
    quick: int | float | str | None = None


@dataclass(frozen=True)
class Claim:
    """A latency figure a paper claims, with where it says so.

    Attributes:
        source: the paper and section.
        claim: the claim in words.
        claimed_ms: the figure, milliseconds per fused image.
        device_kind: the kind of machine it was measured on (``raspberry-pi``, ``android-emulator``,
            ``gpu``...).
        resolution: the image size the claim is for ("not stated" where the paper does not say).
        family: the family whose paper makes the claim.
    """

    source: str
    claim: str
    claimed_ms: float
    device_kind: str
    resolution: str
    family: str


@dataclass(frozen=True)
class ModelFamily:
    """One model family's declaration (see the module docstring).

    Attributes:
        name: the family (``lut-distill``), as contracts and ``edgemef models`` name it.
        summary: one line.
        output_kind: what its models' fused images are.
        models: the models users create by name (``--model``).
        runtime: ``"module:Class"`` fusing with an exported artifact without torch; ``None``: not exported.
        exporter: ``"module:attribute"`` of its :class:`converters.graphs.FamilyExporter`; ``None``: not
            convertible.
        convertible: the model ``edgemef convert --model`` exports.
        convert_options: the family's own conversion options.
        default_precision: runtime -> precision where the family's default differs from the runtime's.
        refused_precisions: ``precision`` or ``runtime:precision`` -> why the family does not convert to it
            (a measured reason; ``edgemef convert`` refuses it before any work).
        profile_stages: the stages its runtime times (``fuse_timed``), in order.
        runtime_options: keyword options the runtime takes beyond ``threads``, with their defaults for
            single-image fusion.
        training_tasks: ``edgemef train`` task -> ``"module:make_task"``.
        training_arguments: ``"module:add_arguments"`` of the family's own ``edgemef train`` options.
        searches: ``edgemef search`` model -> the module declaring that search.
        info: a JSON file beside the declaration with the paper, licence, claims and measured figures.
        builds_on: families whose packages this family's package imports parts of (the adaptive LUT model
            is LUT-distill's student with another weighting network, run by LUT-distill's runtime). The
            family built on knows nothing of the families built on it.
    """

    name: str
    summary: str
    output_kind: OutputKind
    models: tuple[ModelSpec, ...]
    runtime: str | None = None
    exporter: str | None = None
    convertible: str | None = None
    convert_options: tuple[FamilyOption, ...] = ()
    default_precision: Mapping[str, str] = field(default_factory=dict)
    refused_precisions: Mapping[str, str] = field(default_factory=dict)
    profile_stages: tuple[str, ...] = ()
    runtime_options: Mapping[str, Any] = field(default_factory=dict)
    training_tasks: Mapping[str, str] = field(default_factory=dict)
    training_arguments: str | None = None
    searches: Mapping[str, str] = field(default_factory=dict)
    info: Path | None = None
    builds_on: tuple[str, ...] = ()

    def load_runtime(self) -> type:
        """The runtime class (imports its module)."""
        if self.runtime is None:
            raise ValueError(f"the {self.name} family has no artifact runtime")
        return load_attribute(self.runtime)

    def load_exporter(self) -> Any:
        """The family's exporter (imports torch)."""
        if self.exporter is None:
            raise ValueError(f"the {self.name} family cannot be converted")
        return load_attribute(self.exporter)

    @cached_property
    def info_data(self) -> dict[str, Any]:
        """The family's info file (empty without one)."""
        if self.info is None:
            return {}
        return json.loads(self.info.read_text(encoding="utf-8"))

    @property
    def claims(self) -> tuple[Claim, ...]:
        """The paper's latency claims, from the info file."""
        return tuple(
            Claim(
                source=str(c["source"]),
                claim=str(c["claim"]),
                claimed_ms=float(c["claimed_ms"]),
                device_kind=str(c["device_kind"]),
                resolution=str(c.get("resolution", "not stated")),
                family=self.name,
            )
            for c in self.info_data.get("claims", ())
        )

    def refusal(self, runtime: str, precision: str) -> str | None:
        """Why the family does not convert to ``precision`` on ``runtime``; None if it does."""
        refused = self.refused_precisions
        return refused.get(f"{runtime}:{precision}", refused.get(precision))

    def option_defaults(self) -> dict[str, object]:
        """``{option name: default}`` of :attr:`convert_options`."""
        return {option.name: option.default for option in self.convert_options}

    def quick_options(self) -> dict[str, object]:
        """``{option name: quick value}`` of the options that have one."""
        return {o.name: o.quick for o in self.convert_options if o.quick is not None}


def load_attribute(path: str) -> Any:
    """``"package.module:attribute"`` -> the attribute (imports the module)."""
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)
