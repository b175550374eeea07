"""Weights that ship with edgemef (safetensors, each described in MODEL_CARD.md beside it)."""

from __future__ import annotations

from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent


def shipped_weights(model: str, n_exposures: int) -> Path:
    """The path of the shipped weights of ``model`` for ``n_exposures`` frames (it may not exist)."""
    return WEIGHTS_DIR / f"{model}-{n_exposures}exp.safetensors"


def shipped_exposure_counts(model: str) -> list[int]:
    """The exposure counts ``model`` has shipped weights for."""
    counts = []
    for path in WEIGHTS_DIR.glob(f"{model}-*exp.safetensors"):
        number = path.name[len(model) + 1 : -len("exp.safetensors")]
        if number.isdigit():
            counts.append(int(number))
    return sorted(counts)
