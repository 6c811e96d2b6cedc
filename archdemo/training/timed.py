"""A step-based training loop with a wall-clock budget, which records a validation curve as it goes.

Like ``loop.fit`` it knows nothing about the model: the caller hands in a function that gives the batch
for a step, one that turns a batch into a loss, and one that scores the model. The schedule (linear
warm-up, cosine decay to ``min_lr``) follows whichever runs out first, the steps or the seconds, so a
run slowed by a busy machine still ends with its learning rate decayed. The curve holds validation
loss against steps and against seconds of training (evaluation time excluded).
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from archdemo.training.loop import optimizer_step, seed_everything


@dataclass
class TimedConfig:
    max_steps: int = 3000
    max_seconds: float = 1380.0  # training time (evaluation excluded) after which the run stops anyway
    lr: float = 2e-3  # peak learning rate
    min_lr: float = 1e-4  # where the cosine ends
    warmup_steps: int = 100
    weight_decay: float = 0.1  # on matrices only (not biases, norms, embeddings)
    grad_clip: float = 1.0  # max global gradient norm; 0 disables
    eval_every: int = 100  # steps between points of the curve
    bf16: bool = False  # autocast matrix products to bfloat16 (weights and optimiser stay float32)
    seed: int = 0


def lr_at(cfg: TimedConfig, step: int, progress: float) -> float:
    """Warm-up over the first steps, then cosine from lr to min_lr as progress goes 0 -> 1."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * min(1.0, progress)))


def fit_timed(
    model: nn.Module,
    batch_at: Callable[[int], object],
    loss_fn: Callable[[nn.Module, object], torch.Tensor],
    score: Callable[[nn.Module], float],
    cfg: TimedConfig,
    desc: str,
    device: torch.device,
) -> tuple[nn.Module, list[dict]]:
    """Train ``model`` in place; returns it in eval mode and the curve [{step, seconds, val_loss}, ...]."""
    seed_everything(cfg.seed)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1 and "embedding" not in n and "positions" not in n]
    other = [
        p for n, p in model.named_parameters() if not (p.ndim > 1 and "embedding" not in n and "positions" not in n)
    ]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": other, "weight_decay": 0.0}],
        lr=cfg.lr,
        betas=(0.9, 0.99),
    )
    autocast = (
        torch.autocast(device.type, dtype=torch.bfloat16) if cfg.bf16 else contextlib.nullcontext()
    )  # fmt: skip
    curve = [{"step": 0, "seconds": 0.0, "val_loss": round(score(model), 4)}]
    trained, step = 0.0, 0
    bar = tqdm(total=cfg.max_steps, desc=desc, mininterval=0.5 if sys.stderr.isatty() else 30)
    model.train()
    while step < cfg.max_steps and trained < cfg.max_seconds:
        start = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = lr_at(cfg, step, max(step / cfg.max_steps, trained / cfg.max_seconds))
        batch = batch_at(step)
        with autocast:
            loss = loss_fn(model, batch)
        optimizer_step(model, opt, loss, cfg.grad_clip)
        loss_value = loss.item()  # also waits for the device, so the clock below is honest on CUDA
        trained += time.perf_counter() - start
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss_value:.3f}", s=f"{trained:.0f}", refresh=False)
        if step % cfg.eval_every == 0 or step == cfg.max_steps or trained >= cfg.max_seconds:
            curve.append({"step": step, "seconds": round(trained, 1), "val_loss": round(score(model), 4)})
            tqdm.write(f"{desc} step {step}: train loss {loss_value:.4f}, val loss {curve[-1]['val_loss']:.4f}, "
                       f"{trained:.0f}s")  # fmt: skip
            model.train()
    bar.close()
    if step < cfg.max_steps:
        tqdm.write(f"{desc}: stopped by the {cfg.max_seconds:.0f}s budget after {step} of {cfg.max_steps} steps")
    return model.eval(), curve
