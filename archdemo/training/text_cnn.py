"""Recipe for TextCNN on SST-2, on exactly the data the RNN and the Transformer get (``training.text``).

Same tokenizer, same vocabulary (SST-2's training words, then frequent GloVe words, 20,000 in all),
same GloVe 6B-50d starting vectors, the same length-sorted batches. Kim (2014)'s "non-static" variant:
the word vectors go on learning, at a tenth of the filters' rate, so SST-2's phrases cannot pull them
far from GloVe's space (typed words that SST-2 never had keep working).

``limit=n`` trains on a class-balanced subset of n training phrases (seeded) for as many optimiser
steps as the full set gets (``training.subsets``).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from archdemo.inputs.words import tokenize
from archdemo.models.text_cnn import TextCNN, TextCNNConfig
from archdemo.training.data import load_sst2
from archdemo.training.loop import Run, TrainConfig, fit, seed_everything
from archdemo.training.subsets import balanced_subset, epochs_for, scored_epoch
from archdemo.training.text import build_vocab, length_group_count, length_groups, load_glove, pad_batch, phrase_loss
from archdemo.weights.registry import word_tokenizer

BUDGET_RULE = (
    "limit=n: a class-balanced subset of n training phrases (seeded), trained for as many optimiser steps "
    "as the full 67,349 get (epochs scaled up)"
)


def dev_accuracy(model: TextCNN, rows: list[list[int]], labels: np.ndarray, device: torch.device) -> float:
    model.eval()
    with torch.inference_mode():
        ids, lengths = pad_batch(rows, model.config.pad_id)
        pred = model(ids.to(device), lengths.to(device)).argmax(1).cpu().numpy()
    return float((pred == labels).mean())


def train_text_cnn(
    data_dir: str | None,
    device: torch.device,
    epochs: int = 8,
    seed: int = 0,
    limit: int | None = None,
    lr: float = 2e-3,
    embedding_lr_scale: float = 0.1,
    length_weighted: float = 0.0,
    word_dropout: float = 0.2,
    ema_decay: float = 0.0,
    overrides: dict | None = None,
) -> tuple[TextCNN, dict]:
    """``length_weighted`` > 0 weighs each phrase's loss by its length capped there (as the Transformer's
    recipe can): SST-2 trains on phrases of a few words but is judged on whole sentences. ``word_dropout``
    hides that share of the words (as [UNK]) in every batch; ``ema_decay``: evaluate and keep an average
    of the weights (the RNN and Transformer recipes do; on SST-2 dev it cost this model 1.2 points)."""
    seed_everything(seed)
    wall = time.perf_counter()
    texts, labels = load_sst2("train", data_dir)
    dev_texts, dev_labels = load_sst2("dev", data_dir)
    tokens = [tokenize(t) for t in texts]
    glove = load_glove()
    vocab, vectors = build_vocab(tokens, glove)  # from all training phrases, whatever the limit
    config = TextCNNConfig(vocab=vocab, **(overrides or {}))
    model = TextCNN(config)
    with torch.no_grad():
        model.embedding.weight.copy_(torch.from_numpy(vectors))
    model.to(device)
    tok = word_tokenizer(config)
    keep = balanced_subset(labels, limit, seed)
    rows = [tok.encode_tokens(tokens[i]).ids for i in keep]  # exactly the ids the app makes from the same tokens
    rows_labels = torch.from_numpy(labels[keep])
    dev_rows = [tok.encode(t).ids for t in dev_texts]
    bs = 64
    gen = torch.Generator().manual_seed(seed)

    def batches(epoch: int):
        for g in length_groups(np.random.default_rng(seed * 1000 + epoch), rows, bs):
            ids, lengths = pad_batch([rows[j] for j in g], config.pad_id)
            if word_dropout:
                drop = (torch.rand(ids.shape, generator=gen) < word_dropout) & (ids > config.unk_id)
                ids = ids.masked_fill(drop, config.unk_id)
            yield ids.to(device), lengths.to(device), rows_labels[g].to(device)

    def loss_fn(m, batch):
        return phrase_loss(m, batch, length_weighted)

    def report(m, epoch):
        if not scored_epoch(epoch, cfg.epochs):
            return ""
        return f"dev accuracy {dev_accuracy(m, dev_rows, dev_labels, device):.4f}"

    steps = length_group_count(len(rows), bs)
    epochs = epochs_for(epochs, len(labels), len(keep), bs)
    cfg = TrainConfig(epochs=epochs, lr=lr, weight_decay=1e-4, seed=seed, ema_decay=ema_decay)
    start = time.perf_counter()
    fit(model, batches, steps, loss_fn, cfg, "text_cnn", report, lr_scale={"embedding": embedding_lr_scale})
    train_seconds = time.perf_counter() - start
    record = {
        "model": "text_cnn",
        "parameters": sum(p.numel() for p in model.parameters()),
        "training_examples": len(keep),
        "limit": limit,
        "budget_rule": BUDGET_RULE,
        "epochs": cfg.epochs,
        "steps": cfg.epochs * steps,
        "batch_size": bs,
        "lr": lr,
        "embedding_lr_scale": embedding_lr_scale,
        "length_weighted": length_weighted,
        "word_dropout": word_dropout,
        "ema_decay": ema_decay,
        "glove_6b_50d": glove is not None,
        "seed": seed,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "train_seconds": round(train_seconds, 1),
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "dev_accuracy": dev_accuracy(model, dev_rows, dev_labels, device),
    }
    return model.eval(), record


def text_cnn_recipe(run: Run) -> tuple[TextCNN, dict]:
    return train_text_cnn(run.data_dir, run.device, seed=run.seed, **run.sized(epochs="epochs"))
