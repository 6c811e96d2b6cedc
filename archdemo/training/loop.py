"""A training loop that knows nothing about the model it trains.

The caller hands in the model, a function that yields batches for an epoch, and a function that
turns a batch into a loss; the loop owns the optimiser, the schedule, the progress bar and seeds.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm


@dataclass(frozen=True)
class Run:
    """What one ``python -m archdemo.train NAME`` asks of a recipe: every recipe is ``fn(run) -> (model, record)``,
    the record being what the training measured (or None), written beside the weights and quoted by the card."""

    name: str  # the registry name of the model to train
    data_dir: str | None  # MNIST/raw, SST-2/, tinyshakespeare/ (None: download)
    device: torch.device
    seed: int = 0
    epochs: int | None = None  # None: the recipe's own
    steps: int | None = None  # the step-counted recipes (character models): None: the recipe's own
    checkpoint: Callable[[nn.Module], None] | None = None  # long recipes save their best-so-far model with it
    limit: int | None = None  # train on a class-balanced subset of this many examples (training.subsets)

    def overrides(self, **names: str) -> dict:
        """The recipe's keyword arguments for what was asked, e.g. ``overrides(epochs="epochs")``."""
        return {kw: getattr(self, field) for kw, field in names.items() if getattr(self, field) is not None}

    def sized(self, **names: str) -> dict:
        """``overrides(**names)`` plus ``limit`` when a subset was asked for (the data-efficiency runs)."""
        return self.overrides(**names, limit="limit")


@dataclass
class TrainConfig:
    epochs: int = 5
    lr: float = 2e-3  # peak learning rate of the one-cycle schedule
    weight_decay: float = 1e-4
    grad_clip: float = 1.0  # max global gradient norm; 0 disables
    ema_decay: float = 0.0  # if > 0, evaluate and return an exponential moving average of the weights
    seed: int = 0


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def optimizer_step(model: nn.Module, opt: torch.optim.Optimizer, loss: torch.Tensor, grad_clip: float | None) -> None:
    """One update from ``loss``: fresh gradients, clipped to ``grad_clip`` (their norm) when set."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    opt.step()


def fit(
    model: nn.Module,
    batches: Callable[[int], Iterable],
    steps_per_epoch: int,
    loss_fn: Callable[[nn.Module, object], torch.Tensor],
    cfg: TrainConfig,
    desc: str,
    on_epoch_end: Callable[[nn.Module, int], str] | None = None,
    lr_scale: dict[str, float] | None = None,
) -> nn.Module:
    """Train ``model`` in place for cfg.epochs; ``batches(epoch)`` yields steps_per_epoch batches."""
    # Weight decay on matrices only (not biases, norms or embeddings); ``lr_scale`` slows down
    # parameters whose name starts with a given prefix (e.g. pretrained embeddings).
    scales = lr_scale or {}
    groups: dict[tuple[float, bool], list[nn.Parameter]] = {}
    for n, p in model.named_parameters():
        if p.requires_grad:
            scale = next((v for k, v in scales.items() if n.startswith(k)), 1.0)
            groups.setdefault((scale, p.ndim > 1 and "embedding" not in n), []).append(p)
    param_groups = [
        {"params": ps, "lr": cfg.lr * scale, "weight_decay": cfg.weight_decay if decays else 0.0}
        for (scale, decays), ps in groups.items()
    ]
    opt = torch.optim.AdamW(param_groups, lr=cfg.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=[g["lr"] for g in param_groups], total_steps=cfg.epochs * steps_per_epoch
    )
    ema = None
    if cfg.ema_decay:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)
    for epoch in range(cfg.epochs):
        model.train()
        start, total, count = time.time(), 0.0, 0
        bar = tqdm(
            batches(epoch),
            total=steps_per_epoch,
            desc=f"{desc} epoch {epoch + 1}/{cfg.epochs}",
            leave=False,
            mininterval=0.5 if sys.stderr.isatty() else 30,
        )
        for batch in bar:
            loss = loss_fn(model, batch)
            optimizer_step(model, opt, loss, cfg.grad_clip)
            sched.step()
            if ema is not None:
                ema.update_parameters(model)
            total, count = total + loss.item(), count + 1
            bar.set_postfix(loss=f"{total / count:.4f}", refresh=False)
        model.eval()
        final = model if ema is None else ema.module.eval()
        extra = on_epoch_end(final, epoch) if on_epoch_end else ""
        tqdm.write(
            f"{desc} epoch {epoch + 1}/{cfg.epochs}: loss {total / max(count, 1):.4f} "
            f"({time.time() - start:.0f}s) {extra}"
        )
    if ema is not None:
        model.load_state_dict(ema.module.state_dict())
    return model.eval()
