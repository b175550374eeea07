"""Open any family's exported artifact: the contract names the family, the family names its runtime.

Every family's runtime class follows :class:`ArtifactRuntime`, so ``edgemef fuse --artifact``, ``edgemef
profile``, ``edgemef bench`` and the Pi runner take any family's artifact without knowing the family.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from edgemef.errors import ArtifactError, UnknownModelError
from edgemef.runtime.contract import Contract, read_contract


class ArtifactRuntime(Protocol):
    """What a family's artifact runtime provides.

    Constructed as ``Class(artifact, threads=None, **options)``; loading verifies the contract and opens the
    runtime it names, so a bad artifact fails before any frame is read.
    """

    artifact: Path
    contract: Contract
    name: str
    #: milliseconds the network took in the last fusion (NaN before the first)
    last_predict_ms: float
    #: the family-specific settings baked into the artifact, in words ("grid 33", "tiles 256")
    settings: str

    @property
    def n_exposures(self) -> int: ...

    def warm_up(self) -> None:
        """Load what the first fusion would load (e.g. a compiled kernel), so timings exclude it."""
        ...

    def fuse(self, frames: np.ndarray) -> np.ndarray:
        """Fuse uint8 sRGB frames (N x H x W x 3, darkest first) into one image of the contract's
        ``output_kind``."""
        ...

    def fuse_timed(self, frames: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        """:meth:`fuse` and the milliseconds of its stages (the family's ``profile_stages``)."""
        ...

    def network_example(self, frames: np.ndarray) -> np.ndarray:
        """The model file's input for one call on these frames (what an operator profile feeds it)."""
        ...


def open_artifact(artifact: str | Path, threads: int | None = None, **options: Any) -> ArtifactRuntime:
    """The fusion runtime of an exported artifact, chosen by its contract's family.

    ``options`` go to the family's runtime (e.g. IPL's ``cache``); without them the family's
    ``runtime_options`` apply.

    Raises:
        ArtifactError: a missing or bad contract, or a family this edgemef does not know.
    """
    from edgemef.models.registry import get_family

    contract = read_contract(Path(artifact))
    try:
        family = get_family(contract.family)
    except UnknownModelError as exc:
        raise ArtifactError(f"{artifact}: {exc}") from None
    if family.runtime is None:
        raise ArtifactError(f"{artifact}: the {family.name} family has no artifact runtime")
    runtime = family.load_runtime()
    return runtime(artifact, threads, **{**family.runtime_options, **options})
