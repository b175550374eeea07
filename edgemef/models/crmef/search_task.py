"""``edgemef search crmef``: the latency-constrained differentiable architecture search (eq. 4-6).

First-order DARTS. The training scenes are split in two by scene: one half trains the super-network's
weights (SGD, momentum 0.9, cosine, the paper's 3e-4), the other scores the architecture (Adam, the paper's
1e-4). After ``warmup_steps`` of weights only (the paper's warm-up epochs), each step takes one Adam step on
the alphas with ``l_val + eta * R / R_0`` and one SGD step on the weights with ``l_train``; ``l`` is the L1
intensity loss (the paper's search loss, L179). ``R`` is eq. 5 with the latency table measured in the deploy
runtime; ``R_0``, the uniform super-network's ``R``, makes ``eta`` a weight relative to the reconstruction
loss (the paper does not give its latency unit).

Samples: random crops of the real brackets' darkest and brightest frames (the largest exposure ratio), a
third of them synthesised from the reference image (with camera shake and moving objects for the
misaligned scenario), flips; crops resized to ``patch``.

The run folder gets ``search_state.pt`` (resumable: the same command continues), ``search_log.jsonl``,
``latency_<runtime>.json`` (unless a table was given), and at the end ``genotype.json``, ``alphas.json``,
``alphas.svg`` (each layer's softmax weights, the paper's Fig. 11) and ``search_report.json`` (the
latency the table predicts for the genotype next to the latency the exported network takes, and the
single-operation networks measured the same way).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from edgemef.data import Scene
from edgemef.errors import DatasetError, SearchError
from edgemef.io.write import atomic_write_bytes
from edgemef.models.crmef.config import MISALIGNED_SHAKE_PX, CrmefConfig
from edgemef.models.crmef.latency import (
    LatencyTable,
    measure_latency_table,
    measure_network_latency,
    predicted_latency,
)
from edgemef.models.crmef.network import searched_layers
from edgemef.models.crmef.ops import KINDS
from edgemef.models.crmef.search import (
    Genotype,
    architecture_parameters,
    derive_genotype,
    latency_penalty,
    mixed_ops,
    searched_network,
    supernet,
    weight_parameters,
)
from edgemef.train.data import BracketSamples, SampleConfig, load_training_scenes

__all__ = ["SearchConfig", "alphas_svg", "run_search"]


@dataclass(frozen=True)
class SearchConfig:
    """The search's schedule and optimisers (defaults: the paper's learning rates, L177-179)."""

    eta: float = 0.5
    steps: int = 1000
    warmup_steps: int = 100
    batch_size: int = 4
    patch: int = 64
    weight_lr: float = 3e-4
    alpha_lr: float = 1e-4
    seed: int = 0
    log_every: int = 25

    def __post_init__(self) -> None:
        if self.eta < 0:
            raise ValueError(f"eta must be at least 0, got {self.eta}")
        if not 0 <= self.warmup_steps < self.steps:
            raise ValueError(f"warmup_steps must be in [0, steps), got {self.warmup_steps} of {self.steps}")
        if self.batch_size < 1 or self.patch < 16:
            raise ValueError("batch_size must be at least 1 and patch at least 16")


def _batches(samples: BracketSamples, batch_size: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Step ``step``'s batch: frames ``B x 6 x s x s`` (under, over) and targets ``B x 3 x s x s``."""
    items = [samples[step * batch_size + i] for i in range(batch_size)]
    frames = torch.stack([item["frames"].reshape(-1, *item["frames"].shape[-2:]) for item in items])
    return frames, torch.stack([item["target"] for item in items])


def alphas_svg(weights: dict[str, list[float]], genotype: Genotype, title: str) -> str:
    """Each searched layer's softmax weights as rows of shaded cells, one block per kind of layer, the
    chosen operation outlined (the paper's Fig. 11)."""
    cell, label_width, top = 60, 130, 40
    kinds = searched_layers(genotype.config)
    chosen = genotype.layers
    blocks = []
    y = top
    for kind, candidates in KINDS.items():
        layers = [name for name in weights if kinds[name] == kind]
        if not layers:
            continue
        rows = [f'<text x="8" y="{y + 14}" font-weight="bold">{kind}</text>']
        for j, op in enumerate(candidates):
            rows.append(
                f'<text x="{label_width + j * cell + cell / 2}" y="{y + 14}" text-anchor="middle" '
                f'font-size="10">{op}</text>'
            )
        y += 20
        for name in layers:
            rows.append(f'<text x="8" y="{y + 17}" font-size="11">{name}</text>')
            for j, (op, w) in enumerate(zip(candidates, weights[name], strict=True)):
                shade = int(255 - 200 * min(1.0, w * len(candidates) / 2.0))
                stroke = ' stroke="#c00" stroke-width="2"' if chosen[name] == op else ' stroke="#ccc"'
                rows.append(
                    f'<rect x="{label_width + j * cell}" y="{y}" width="{cell - 2}" height="22" '
                    f'fill="rgb({shade},{shade},255)"{stroke}/>'
                    f'<text x="{label_width + j * cell + cell / 2 - 1}" y="{y + 15}" text-anchor="middle" '
                    f'font-size="10">{w:.2f}</text>'
                )
            y += 24
        y += 12
        blocks.extend(rows)
    width = label_width + cell * max(len(c) for c in KINDS.values()) + 10
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y + 10}" font-family="sans-serif">'
        f'<rect width="100%" height="100%" fill="white"/><text x="8" y="22" font-size="14">{title}</text>'
        + "".join(blocks)
        + "</svg>\n"
    )


def _write_json(path: Path, data: object) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=2) + "\n").encode())


def run_search(
    config: CrmefConfig,
    search: SearchConfig,
    train: Sequence[Scene],
    runtime: str,
    out: Path,
    *,
    table: LatencyTable | None = None,
    latency_size: tuple[int, int] = (256, 256),
    resume: bool = True,
) -> Genotype:
    """Search, write the run folder (see the module docstring) and return the genotype."""
    if len(train) < 2:
        raise DatasetError("the search splits the training scenes in two: at least 2 are needed")
    if config.misaligned and runtime == "litert":
        raise SearchError(
            "LiteRT lowers the deformable layers' grid_sample to gathers over the whole sampling grid "
            "(measured: deform_3 at C64, 256x256: 7.0 s and 11 GB); search the misaligned network with "
            "--target onnx or android"
        )
    out.mkdir(parents=True, exist_ok=True)
    if table is None:
        table_path = out / f"latency_{runtime}.json"
        if table_path.exists():
            table = LatencyTable.load(table_path)
        else:
            print(f"measuring the latency table in {runtime} at {latency_size[0]}x{latency_size[1]} ...")
            table = measure_latency_table(
                config, runtime, latency_size, progress=lambda line: print("  " + line)
            )
            table.save(table_path)
    if table.config != config:
        raise SearchError("the latency table was measured for another configuration (channels, scenario)")
    torch.manual_seed(search.seed)
    ordered = sorted(train, key=lambda scene: scene.name)
    weight_scenes, arch_scenes = ordered[::2], ordered[1::2]
    samples = SampleConfig(
        n_exposures=2,
        loss_size=search.patch,
        crop_scale=(0.25, 1.0),
        synthetic_fraction=1 / 3,
        max_side=512,
        shake_px=MISALIGNED_SHAKE_PX if config.misaligned else 0.0,
        extreme_pair=True,
        vertical_flip=True,
    )
    length = search.steps * search.batch_size
    train_samples = BracketSamples(load_training_scenes(weight_scenes, 512), samples, length, search.seed)
    val_samples = BracketSamples(load_training_scenes(arch_scenes, 512), samples, length, search.seed + 1)
    network = supernet(config)
    weights = torch.optim.SGD(
        weight_parameters(network), lr=search.weight_lr, momentum=0.9, weight_decay=3e-4
    )
    alphas = torch.optim.Adam(architecture_parameters(network), lr=search.alpha_lr, betas=(0.5, 0.999))
    with torch.no_grad():
        baseline = float(latency_penalty(network, table.layers))
    state_path, log_path = out / "search_state.pt", out / "search_log.jsonl"
    start = 0
    if resume and state_path.exists():
        state = torch.load(state_path, weights_only=False)
        if state["config"] != asdict(config) or state["search"] != asdict(search):
            raise SearchError(
                f"{state_path} is a search with other settings: pass --no-resume or another --out"
            )
        network.load_state_dict(state["network"])
        weights.load_state_dict(state["weights"])
        alphas.load_state_dict(state["alphas"])
        start = state["step"]
    elif log_path.exists():
        log_path.unlink()
    network.train()
    progress = tqdm(total=search.steps, initial=start, desc=f"search crmef (eta {search.eta})", unit="step")
    with progress:
        for step in range(start, search.steps):
            for group in weights.param_groups:
                group["lr"] = 0.5 * search.weight_lr * (1.0 + math.cos(math.pi * step / search.steps))
            record: dict[str, float] = {"step": step + 1}
            if step >= search.warmup_steps:
                frames, target = _batches(val_samples, search.batch_size, step)
                alphas.zero_grad()
                val_l1 = F.l1_loss(network(frames), target)
                penalty = latency_penalty(network, table.layers)
                (val_l1 + search.eta * penalty / baseline).backward()
                alphas.step()
                record.update(val_l1=val_l1.item(), expected_ms=penalty.item())
            frames, target = _batches(train_samples, search.batch_size, step)
            weights.zero_grad()
            alphas.zero_grad()
            train_l1 = F.l1_loss(network(frames), target)
            train_l1.backward()
            torch.nn.utils.clip_grad_norm_(weight_parameters(network), 5.0)
            weights.step()
            record["train_l1"] = train_l1.item()
            progress.update(1)
            progress.set_postfix({k: f"{v:.4f}" for k, v in record.items() if k != "step"})
            if (step + 1) % search.log_every == 0 or step + 1 == search.steps:
                with log_path.open("a") as log:
                    log.write(json.dumps(record) + "\n")
                state = {
                    "config": asdict(config),
                    "search": asdict(search),
                    "network": network.state_dict(),
                    "weights": weights.state_dict(),
                    "alphas": alphas.state_dict(),
                    "step": step + 1,
                }
                temporary = state_path.with_suffix(".tmp")
                torch.save(state, temporary)
                temporary.replace(state_path)
    genotype = derive_genotype(network)
    genotype.save(out / "genotype.json")
    layers = mixed_ops(network)
    softmax = {op.name: [round(float(w), 4) for w in op.weights().detach()] for op in layers}
    candidates = {op.name: list(op.candidates) for op in layers}
    _write_json(out / "alphas.json", {"candidates": candidates, "weights": softmax})
    title = (
        f"CRMEF search, eta {search.eta}, C{config.channels}, {search.steps} steps: softmax(alpha) per layer"
    )
    atomic_write_bytes(out / "alphas.svg", alphas_svg(softmax, genotype, title).encode())
    _write_json(out / "search_report.json", _report(genotype, config, search, table, runtime))
    return genotype


def _report(
    genotype: Genotype, config: CrmefConfig, search: SearchConfig, table: LatencyTable, runtime: str
) -> dict[str, object]:
    """Predicted against measured latency of the genotype and of the single-operation networks."""
    networks = {
        "searched": genotype,
        "all 3x3 (conv_3 / rconv_3 / deform_3)": Genotype.uniform(config, "conv_3", "rconv_3", "deform_3"),
        "all 7x7 dilated (dilconv_7 / rdconv_7 / deform_7)": Genotype.uniform(
            config, "dilconv_7", "rdconv_7", "deform_7"
        ),
    }
    rows = {}
    for label, candidate in networks.items():
        network = searched_network(candidate)
        rows[label] = {
            "layers": candidate.layers,
            "parameters": sum(p.numel() for p in network.parameters()),
            "predicted_searched_layers_ms": round(predicted_latency(candidate.layers, table), 3),
            "measured_network_ms": round(measure_network_latency(network, runtime, tuple(table.size)), 3),
        }
    return {
        "config": asdict(config),
        "search": asdict(search),
        "runtime": runtime,
        "latency_size": list(table.size),
        "machine": table.machine,
        "versions": table.versions,
        "networks": rows,
        "note": "predicted: the table's sum over the searched layers only (fixed layers excluded); measured: "
        "the whole exported network in the runtime, batch 1, median of 20 runs",
    }
