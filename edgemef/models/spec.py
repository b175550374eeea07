"""A registered model: its name, family and factory (by import path, so listing models imports no torch)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np


@runtime_checkable
class FusionModel(Protocol):
    """What every registered model provides."""

    name: str

    def fuse(self, frames: np.ndarray) -> np.ndarray:
        """Fuse a bracket.

        Args:
            frames: uint8 sRGB, N x H x W x 3, ordered darkest to brightest.

        Returns:
            The fused image, H x W x 3, of the family's output kind (uint8 sRGB for display models).

        Models whose output kind is ``scene-linear`` take ``fuse(frames, exposure_times)`` as well: the
        frames' exposure times, darkest first (any unit; :func:`edgemef.io.bracket.relative_times`), and
        return float32 linear radiance in units of the darkest frame's saturation level.
        """
        ...


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry.

    Attributes:
        name: the name users type (``--model NAME``).
        family: the model family (paper), e.g. "classical", "lut-distill".
        summary: one line for ``edgemef models``.
        target: ``"module:factory"`` returning a :class:`FusionModel` given keyword options.
        needs_torch: whether creating it needs the authoring extra.
        min_exposures / max_exposures: how many frames it fuses (``None``: no upper limit).
        options: the factory's keyword options that the CLI may pass (``grid``, ``weights``).
        shipped_weights: whether weights ship in ``edgemef/weights`` (``NAME-Nexp.safetensors``).
        default_rank: models with a rank are the default of ``edgemef fuse``, lowest first, where they can
            run; ``None``: only by name.
    """

    name: str
    family: str
    summary: str
    target: str
    needs_torch: bool = False
    min_exposures: int = 2
    max_exposures: int | None = None
    options: tuple[str, ...] = ()
    shipped_weights: bool = False
    default_rank: int | None = None

    def load_factory(self) -> Callable[..., FusionModel]:
        module_name, _, attribute = self.target.partition(":")
        return getattr(importlib.import_module(module_name), attribute)
