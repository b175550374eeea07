"""CRMEF's differentiable architecture search (Section III-B): the super-network, its latency penalty, and
the genotype a search ends with.

- Eq. 4: every searched layer is a mixed operation ``sum_O softmax(alpha)_O O(x)`` with **its own**
  architecture weights ``alpha`` (no shared cells, L177).
- Eq. 5: ``R(alpha; LAT) = sum_layers sum_O softmax(alpha)_O LAT(layer, O)``, LAT from a latency table
  measured per layer and operation (in the deploy runtime: :mod:`edgemef.models.crmef.latency`).
- Eq. 6: the search minimises ``l_val + eta R`` over alpha; the network's weights minimise ``l_train``.
- Discretisation: the operation with the largest alpha in each layer; the result is a :class:`Genotype`
  (a small JSON file) from which :func:`searched_network` builds the plain network.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import Tensor, nn

from edgemef.models.crmef.config import CrmefConfig
from edgemef.models.crmef.network import Crmef, searched_layers
from edgemef.models.crmef.ops import KINDS, make_op

__all__ = [
    "GENOTYPE_FORMAT",
    "Genotype",
    "MixedOp",
    "architecture_parameters",
    "derive_genotype",
    "latency_penalty",
    "searched_network",
    "supernet",
    "weight_parameters",
]

GENOTYPE_FORMAT = "edgemef-crmef-genotype"


class MixedOp(nn.Module):
    """Eq. 4: the softmax(alpha)-weighted sum of every candidate of the layer's kind."""

    def __init__(self, name: str, kind: str, config: CrmefConfig) -> None:
        super().__init__()
        self.name = name
        self.candidates = KINDS[kind]
        self.ops = nn.ModuleList(make_op(candidate, config) for candidate in self.candidates)
        self.alpha = nn.Parameter(torch.zeros(len(self.candidates)))

    def weights(self) -> Tensor:
        return torch.softmax(self.alpha, dim=0)

    def forward(self, *inputs: Tensor) -> Tensor:
        weights = self.weights()
        return sum(w * op(*inputs) for w, op in zip(weights, self.ops, strict=True))


def supernet(config: CrmefConfig) -> Crmef:
    """The super-network: a :class:`MixedOp` at every searched layer, alphas at zero (uniform)."""
    return Crmef(config, lambda name, kind: MixedOp(name, kind, config))


def mixed_ops(network: nn.Module) -> list[MixedOp]:
    return [module for module in network.modules() if isinstance(module, MixedOp)]


def architecture_parameters(network: nn.Module) -> list[nn.Parameter]:
    """The alphas (eq. 4), one vector per searched layer."""
    return [op.alpha for op in mixed_ops(network)]


def weight_parameters(network: nn.Module) -> list[nn.Parameter]:
    """Every parameter but the alphas."""
    alphas = {id(p) for p in architecture_parameters(network)}
    return [p for p in network.parameters() if id(p) not in alphas]


def latency_penalty(network: nn.Module, table: dict[str, dict[str, float]]) -> Tensor:
    """Eq. 5: the expected latency of the super-network under its alphas, in the table's unit (ms).

    Args:
        table: layer name -> operation -> latency, for every searched layer and candidate.

    Raises:
        KeyError: the table lacks a layer or an operation (a table for another configuration).
    """
    total = torch.zeros(())
    for op in mixed_ops(network):
        row = table[op.name]
        latency = torch.tensor([row[candidate] for candidate in op.candidates])
        total = total + (op.weights() * latency).sum()
    return total


@dataclass(frozen=True)
class Genotype:
    """A searched architecture: the configuration and one operation per searched layer."""

    config: CrmefConfig
    layers: dict[str, str]

    def __post_init__(self) -> None:
        expected = searched_layers(self.config)
        if set(self.layers) != set(expected):
            missing = sorted(set(expected) - set(self.layers))
            extra = sorted(set(self.layers) - set(expected))
            raise ValueError(f"a genotype names every searched layer: missing {missing}, unknown {extra}")
        for name, op in self.layers.items():
            if op not in KINDS[expected[name]]:
                raise ValueError(
                    f"{name} is a {expected[name]} layer: {op!r} is not one of {KINDS[expected[name]]}"
                )

    @classmethod
    def uniform(
        cls, config: CrmefConfig, relighting: str, repletion: str, alignment: str = "deform_3"
    ) -> Genotype:
        """Every layer of a kind the same operation (the single-operation networks of Table VII)."""
        choice = {"relighting": relighting, "repletion": repletion, "alignment": alignment}
        return cls(config, {name: choice[kind] for name, kind in searched_layers(config).items()})

    def misaligned(self, alignment: str = "deform_3", max_offset: float | None = 8.0) -> Genotype:
        """This general genotype in the misaligned scenario: the same layers, ``alignment`` at every DASM
        layer, offsets bounded by ``max_offset`` pixels per pyramid level."""
        if self.config.misaligned:
            raise ValueError("the genotype is already the misaligned scenario's")
        config = replace(self.config, misaligned=True, max_offset=max_offset)
        added = {name: alignment for name, kind in searched_layers(config).items() if kind == "alignment"}
        return Genotype(config, {**self.layers, **added})

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": GENOTYPE_FORMAT,
                "format_version": 1,
                "config": asdict(self.config),
                "layers": self.layers,
            },
            indent=2,
        )

    def save(self, path: Path) -> None:
        from edgemef.io.write import atomic_write_bytes

        atomic_write_bytes(path, (self.to_json() + "\n").encode())

    @classmethod
    def from_json(cls, text: str) -> Genotype:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != GENOTYPE_FORMAT:
            raise ValueError(f"not a CRMEF genotype (format {GENOTYPE_FORMAT!r} expected)")
        if data.get("format_version") != 1:
            raise ValueError(f"genotype format_version {data.get('format_version')!r} is not 1")
        return cls(CrmefConfig(**data["config"]), dict(data["layers"]))

    @classmethod
    def load(cls, path: Path) -> Genotype:
        try:
            return cls.from_json(Path(path).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError, KeyError) as error:
            raise ValueError(f"{path}: not a readable CRMEF genotype ({error})") from error


def derive_genotype(network: Crmef) -> Genotype:
    """Discretise a super-network: the operation with the largest alpha in each layer (first on ties)."""
    layers = {op.name: op.candidates[int(torch.argmax(op.alpha.detach()))] for op in mixed_ops(network)}
    return Genotype(network.config, layers)


def searched_network(genotype: Genotype) -> Crmef:
    """The plain network a genotype describes."""
    return Crmef(genotype.config, lambda name, kind: make_op(genotype.layers[name], genotype.config))
