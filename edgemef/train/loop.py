"""A small, resumable, seeded training loop that scales out with DistributedDataParallel.

Launch one process (``edgemef train ...``) or several with torchrun
(``torchrun --nproc_per_node N -m edgemef train ...``): with ``WORLD_SIZE`` > 1 in the environment
the loop joins a process group (gloo on CPU, nccl on CUDA), wraps the module in DDP and gives each
rank disjoint sample indices. Only rank 0 shows progress, validates and writes files.

Files in the output folder: ``checkpoint.pt`` (model, optimizer, step; rewritten atomically and
read back with ``torch.load(weights_only=True)``), ``log.jsonl`` (losses and validation scores),
and what the task exports at the end (``model.safetensors`` + ``model.json``).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm import tqdm

from edgemef.io import atomic_write_bytes


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (defaults: AdamW as in the LUT-distill paper, lr 1e-4, decay 0.1)."""

    steps: int = 3000
    batch_size: int = 8
    learning_rate: float = 1e-4
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    seed: int = 0
    validate_every: int = 250
    checkpoint_every: int = 100
    log_every: int = 10
    num_workers: int = 0
    lr_decay_start: int | None = None  # None: constant; else cosine from this step down to 0 at ``steps``


def learning_rate_at(step: int, config: TrainConfig) -> float:
    """The learning rate of optimiser step ``step`` (1-based): constant, then an optional cosine decay.

    >>> config = TrainConfig(steps=300, learning_rate=1e-4, lr_decay_start=100)
    >>> [round(learning_rate_at(s, config) * 1e4, 3) for s in (1, 100, 200, 300)]
    [1.0, 1.0, 0.5, 0.0]
    """
    start = config.lr_decay_start
    if start is None or step <= start:
        return config.learning_rate
    progress = min(1.0, (step - start) / max(1, config.steps - start))
    return config.learning_rate * 0.5 * (1.0 + math.cos(math.pi * progress))


class TrainTask(Protocol):
    """What a model family provides to be trained by :func:`train`."""

    name: str

    def build(self) -> nn.Module:
        """The module holding every trained parameter (model and any trained loss networks)."""
        ...

    def dataset(self, length: int, seed: int) -> Dataset:
        """Training samples, deterministic per index."""
        ...

    def loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """The total loss of a batch and its named parts."""
        ...

    def validate(self, module: nn.Module) -> dict[str, float]:
        """Scores on the held-out scenes (reported, never used to pick a checkpoint)."""
        ...

    def export(self, module: nn.Module, out_dir: Path, summary: dict[str, Any]) -> None:
        """Write the shippable weights (safetensors) and their description."""
        ...


class StepBatches(Sampler[list[int]]):
    """Sample indices for steps ``start..steps-1``: step s, rank r takes ``[(s*W + r)*B, ... + B)``."""

    def __init__(self, start: int, steps: int, batch_size: int, world: int, rank: int) -> None:
        self.start, self.steps, self.batch_size, self.world, self.rank = start, steps, batch_size, world, rank

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start, self.steps):
            first = (step * self.world + self.rank) * self.batch_size
            yield list(range(first, first + self.batch_size))

    def __len__(self) -> int:
        return max(0, self.steps - self.start)


@dataclass(frozen=True)
class Distributed:
    world: int
    rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _init_distributed() -> Distributed:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Distributed(1, 0)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return Distributed(dist.get_world_size(), dist.get_rank())


def _save_checkpoint(
    path: Path, module: nn.Module, optimizer: torch.optim.Optimizer, step: int, config: dict
) -> None:
    buffer = io.BytesIO()
    torch.save(
        {"model": module.state_dict(), "optimizer": optimizer.state_dict(), "step": step, "config": config},
        buffer,
    )
    atomic_write_bytes(path, buffer.getvalue())


def train(
    task: TrainTask, out_dir: str | Path, config: TrainConfig, *, resume: bool = True
) -> dict[str, Any]:
    """Train ``task``'s module for ``config.steps`` steps, resuming from ``out_dir/checkpoint.pt``.

    Returns:
        A summary: steps run, last losses, last validation scores, seconds, world size.
    """
    out_dir = Path(out_dir)
    ranks = _init_distributed()
    if ranks.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    module = task.build()
    optimizer = torch.optim.AdamW(
        module.parameters(),
        lr=config.learning_rate,
        betas=config.betas,
        eps=config.eps,
        weight_decay=config.weight_decay,
    )
    checkpoint_path = out_dir / "checkpoint.pt"
    start = 0
    if resume and checkpoint_path.exists():
        state = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
        module.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start = int(state["step"])
    wrapped: nn.Module = module
    if ranks.world > 1:
        wrapped = nn.parallel.DistributedDataParallel(module)
    dataset = task.dataset(config.steps * config.batch_size * ranks.world, config.seed)
    batches = StepBatches(start, config.steps, config.batch_size, ranks.world, ranks.rank)
    loader = DataLoader(dataset, batch_sampler=batches, num_workers=config.num_workers)
    log_path = out_dir / "log.jsonl"
    log = open(log_path, "a") if ranks.is_main else contextlib.nullcontext()
    began = time.perf_counter()
    parts: dict[str, float] = {}
    scores: dict[str, float] = {}
    progress = tqdm(
        total=config.steps, initial=start, desc=f"train {task.name}", unit="step", disable=not ranks.is_main
    )
    with log, progress:
        step = start
        for step, batch in enumerate(loader, start=start + 1):
            module.train()
            for group in optimizer.param_groups:
                group["lr"] = learning_rate_at(step, config)
            loss, parts = task.loss(wrapped, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            progress.update(1)
            if not ranks.is_main:
                continue
            progress.set_postfix({k: f"{v:.4f}" for k, v in parts.items()})
            if step % config.log_every == 0 or step == config.steps:
                rate = optimizer.param_groups[0]["lr"]
                log.write(json.dumps({"step": step, **parts, "learning_rate": rate}) + "\n")
                log.flush()
            if step % config.validate_every == 0 or step == config.steps:
                module.eval()
                with torch.no_grad():
                    scores = task.validate(module)
                log.write(json.dumps({"step": step, "validation": scores}) + "\n")
                log.flush()
                progress.write(f"step {step}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
            if step % config.checkpoint_every == 0 or step == config.steps:
                _save_checkpoint(checkpoint_path, module, optimizer, step, asdict(config))
    summary = {
        "task": task.name,
        "steps": config.steps,
        "resumed_from": start,
        "world_size": ranks.world,
        "seconds": round(time.perf_counter() - began, 1),
        "last_losses": parts,
        "validation": scores,
        "train_config": asdict(config),
    }
    if ranks.is_main:
        task.export(module, out_dir, summary)
    if ranks.world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return summary
