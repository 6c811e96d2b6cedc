"""Recipes for the three tiny-Shakespeare character models, CharRNN, CharGPT and CharCNN: same data, same budget.

All three see the first 90% of the text, with the vocabulary of the whole file, and are scored on the last
10% by ``archdemo.inputs.characters.validation_loss``. Each trains for a fixed number of steps, sized to take
about 23 minutes on a 2-core CPU, with a wall-clock stop as a safety net (``training.timed``):

- CharRNN: truncated backpropagation through time. The batch is 64 parallel streams through the
  training text; each step reads the next ``seq_len`` characters of every stream and carries the
  LSTM's state (detached) on to the next step, so the model learns to remember beyond one step's window.
- CharGPT: random windows of ``block_size`` characters (nanoGPT's sampling); every position is a target.
- CharCNN: the GPT's random windows (256 characters, about its receptive field); every position is a target.

``limit=n`` trains on the first n characters of the training text only, for the same number of steps.

The curve (validation loss on every 8th scoring window, against steps and seconds) is returned for
``training_curve.json``; its last point is the loss on the whole validation text.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import nn

from archdemo.inputs.characters import encode, split, vocabulary
from archdemo.models import CharGPT, CharGPTConfig, CharRNN, CharRNNConfig
from archdemo.models.char_cnn import CharCNN, CharCNNConfig
from archdemo.paths import CURVE_NAME
from archdemo.training.data import load_tinyshakespeare
from archdemo.training.loop import Run
from archdemo.training.scoring import validation_loss
from archdemo.training.timed import TimedConfig, fit_timed

__all__ = ["CURVE_NAME", "RECIPES", "train_chars"]

log = logging.getLogger("archdemo.training.cli")
CURVE_EVERY = 8  # the curve's points score every 8th validation window (the final point scores all)


@dataclass
class CharRecipe:
    model: dict  # config fields besides the vocabulary
    batch_size: int  # sequences per step
    seq_len: int  # characters per sequence (the GPT: its block_size)
    timed: TimedConfig = field(default_factory=TimedConfig)


# Sized from measured throughput on a 2-core CPU shared with other work (bfloat16 autocast about doubles
# it there): ~1.9M parameters each, 0.4-0.8 s per step, so ~22 minutes of training and 10-20 passes over
# the text. Dropout costs the GPT a third of its speed and that is too few passes for it to overfit, so
# it trains without. The LSTM's dropout costs next to nothing; with 0.1 it overfit after ~1,700 of its
# 2,800 steps (validation loss up by 0.02 by the end), so it has 0.2.
RECIPES = {
    "char_rnn": CharRecipe(
        model={"embed_dim": 64, "hidden_size": 384, "num_layers": 2, "dropout": 0.2},
        batch_size=64,
        seq_len=128,
        timed=TimedConfig(
            max_steps=2800,
            max_seconds=1320,
            lr=3e-3,
            min_lr=1e-4,
            warmup_steps=50,
            weight_decay=0.01,
            eval_every=100,
            bf16=True,
        ),
    ),
    "char_gpt": CharRecipe(
        model={"block_size": 256, "d_model": 192, "num_heads": 3, "num_layers": 4, "dropout": 0.0},
        batch_size=32,
        seq_len=256,
        timed=TimedConfig(
            max_steps=2000,
            max_seconds=1320,
            lr=2e-3,
            min_lr=1e-4,
            warmup_steps=100,
            weight_decay=0.1,
            eval_every=100,
            bf16=True,
        ),
    ),
    # Dilations 1 .. 64 with kernel 3: 255 characters of context, in the GPT's and the LSTM's 22 minutes.
    # It overfits soon: with dropout 0.1 and 5,000 steps planned, validation loss bottomed at 1.589 at
    # step 1,000 (8 passes) and was 1.636 by step 1,500 (training loss 1.14); hence dropout 0.25 and
    # 2,000 steps, so the learning rate has decayed by then.
    "char_cnn": CharRecipe(
        model={
            "channels": 160,
            "kernel_size": 3,
            "dilations": (1, 2, 4, 8, 16, 32, 64),
            "mlp_ratio": 2,
            "dropout": 0.25,
        },
        batch_size=32,
        seq_len=256,
        timed=TimedConfig(
            max_steps=2000,
            max_seconds=1320,
            lr=2e-3,
            min_lr=1e-4,
            warmup_steps=100,
            weight_decay=0.1,
            eval_every=250,
            bf16=False,  # the bundled run: float32 (bf16 was 3.5x slower once on a busy CPU, 2x faster on a quiet one)
        ),
    ),
}


def build(name: str, vocab: list[str], recipe: CharRecipe) -> nn.Module:
    if name == "char_rnn":
        return CharRNN(CharRNNConfig(vocab=vocab, **recipe.model))
    if name == "char_cnn":
        return CharCNN(CharCNNConfig(vocab=vocab, **recipe.model))
    return CharGPT(CharGPTConfig(vocab=vocab, **recipe.model))


def stream_batches(ids: torch.Tensor, batch_size: int, seq_len: int, seed: int):
    """For truncated BPTT: ``batch_at(step) -> (x, y, fresh)``, x and y (B, T), fresh True when the
    streams start over (then the carried state must be dropped). Each pass over the text cuts it into
    ``batch_size`` streams at a new random offset, so windows do not always begin at the same characters."""
    length = (len(ids) - seq_len - 1) // batch_size  # characters per stream
    steps_per_pass = length // seq_len
    gen = torch.Generator().manual_seed(seed)
    offsets: dict[int, int] = {}

    def batch_at(step: int):
        epoch, k = divmod(step, steps_per_pass)
        if epoch not in offsets:
            offsets[epoch] = int(torch.randint(0, seq_len, (1,), generator=gen))
        starts = offsets[epoch] + torch.arange(batch_size) * length + k * seq_len  # (B,)
        rows = starts[:, None] + torch.arange(seq_len + 1)[None, :]  # (B, T + 1)
        chunk = ids[rows]
        return chunk[:, :-1], chunk[:, 1:], k == 0

    return batch_at


def random_batches(ids: torch.Tensor, batch_size: int, seq_len: int, seed: int):
    """``batch_at(step) -> (x, y)``: windows of seq_len + 1 characters at random places, (B, T) each."""
    gen = torch.Generator().manual_seed(seed)

    def batch_at(step: int):
        starts = torch.randint(0, len(ids) - seq_len - 1, (batch_size,), generator=gen)
        chunk = ids[starts[:, None] + torch.arange(seq_len + 1)[None, :]]
        return chunk[:, :-1], chunk[:, 1:]

    return batch_at


def train_chars(
    name: str,
    data_dir: str | None,
    device: torch.device,
    seed: int = 0,
    max_steps: int | None = None,
    max_seconds: float | None = None,
    limit: int | None = None,
) -> tuple[nn.Module, dict]:
    """Train ``name`` ('char_rnn', 'char_gpt' or 'char_cnn'); returns the model (eval mode, on ``device``)
    and its curve. ``limit``: train on the first ``limit`` training characters only (same steps)."""
    wall = time.perf_counter()
    torch.manual_seed(seed)
    text = load_tinyshakespeare(data_dir)
    vocab = vocabulary(text)
    train_text, val_text = split(text)
    train_ids, val_ids = encode(train_text[:limit], vocab), encode(val_text, vocab)
    recipe = RECIPES[name]
    timed = replace(
        recipe.timed,
        seed=seed,
        max_steps=max_steps or recipe.timed.max_steps,
        max_seconds=max_seconds or recipe.timed.max_seconds,
    )
    model = build(name, vocab, recipe).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    log.info("%s: %s parameters, %d training and %d validation characters", name, f"{n_params:,}",
             len(train_ids), len(val_ids))  # fmt: skip
    train_ids = train_ids.to(device)

    if name == "char_rnn":
        batch_at = stream_batches(train_ids, recipe.batch_size, recipe.seq_len, seed)
        carried: dict[str, tuple | None] = {"state": None}

        def loss_fn(m, batch):
            x, y, fresh = batch
            # Carried as float32: a bfloat16 state (from autocast) makes the CPU LSTM leave its fast kernel.
            state = None if fresh or carried["state"] is None else tuple(s.detach().float() for s in carried["state"])
            logits, _, carried["state"] = m.read(x, state)
            return F.cross_entropy(logits.flatten(0, 1).float(), y.flatten())
    else:
        batch_at = random_batches(train_ids, recipe.batch_size, recipe.seq_len, seed)

        def loss_fn(m, batch):
            x, y = batch
            return F.cross_entropy(m(x).flatten(0, 1).float(), y.flatten())

    score = lambda m: validation_loss(m, val_ids, every=CURVE_EVERY, device=device)  # noqa: E731
    model, curve = fit_timed(model, batch_at, loss_fn, score, timed, name, device)
    final = validation_loss(model, val_ids, device=device)
    log.info("%s: validation loss %.4f on the whole validation text", name, final)
    record = {
        "model": name,
        "parameters": n_params,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "batch_size": recipe.batch_size,
        "seq_len": recipe.seq_len,
        "training_characters": len(train_ids),
        "limit": limit,
        "seed": seed,
        "steps": curve[-1]["step"],
        "max_steps": timed.max_steps,
        "lr": timed.lr,
        "curve_scores": f"every {CURVE_EVERY}th validation window",
        "curve": curve,
        "final_val_loss": round(final, 4),
        "train_seconds": curve[-1]["seconds"],
        "wall_seconds": round(time.perf_counter() - wall, 1),
    }
    return model, record


def chars_recipe(run: Run) -> tuple[nn.Module, dict]:
    return train_chars(run.name, run.data_dir, run.device, seed=run.seed, max_steps=run.steps)
