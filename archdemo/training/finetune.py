"""Recipe for the pretrained Transformer: MiniLM-L6 (frozen) + LoRA + a head, fine-tuned on SST-2.

    python -m archdemo.train pretrained_transformer --data-dir ../shared/data

The base comes from the Hub at the pinned revision (or its verified local copy, see
``archdemo.weights.base``). Only LoRA updates, layer norms and the head train; only they are saved.
SST-2 is lower-cased and split like a treebank ("it 's not bad , i 'd say !") while visitors type
"It's not bad, I'd say!", so every phrase is shown in one of the two forms, chosen at random each epoch.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import torch
import torch.nn.functional as F

from archdemo.models.bert import PretrainedSentimentTransformer, PretrainedSentimentTransformerConfig
from archdemo.training.data import load_sst2
from archdemo.training.loop import Run, TrainConfig, fit, seed_everything
from archdemo.training.subsets import balanced_subset, epochs_for, scored_epoch
from archdemo.training.text import length_group_count, length_groups, pad_batch
from archdemo.weights.base import load_base_weights, load_tokenizer

_JOIN = [
    (re.compile(r" (n't|'s|'re|'ve|'ll|'d|'m)\b"), r"\1"),  # do n't -> don't, it 's -> it's, ca n't -> can't
    (re.compile(r" ([,.!?;:%])"), r"\1"),  # a space before punctuation
    (re.compile(r"-lrb- ?"), "("),
    (re.compile(r" ?-rrb-"), ")"),
    (re.compile(r"`` ?"), '"'),
    (re.compile(r" ?''"), '"'),
]


def detokenize(text: str) -> str:
    """SST-2's treebank form -> the way a person types it: "it 's not bad , i 'd say !" -> "it's not bad, i'd say!"."""
    for pattern, repl in _JOIN:
        text = pattern.sub(repl, text)
    return text


@torch.inference_mode()
def accuracy(model: PretrainedSentimentTransformer, rows: list[list[int]], labels: np.ndarray, device) -> float:
    model.eval()
    preds = []
    for i in range(0, len(rows), 128):
        ids, lengths = pad_batch(rows[i : i + 128], model.config.pad_id)
        preds.append(model(ids.to(device), lengths.to(device)).argmax(1).cpu())
    return float((torch.cat(preds).numpy() == labels).mean())


def build(config: PretrainedSentimentTransformerConfig | None = None) -> PretrainedSentimentTransformer:
    """The model with the base's weights in and LoRA / head fresh: the starting point of fine-tuning."""
    config = config or PretrainedSentimentTransformerConfig()
    model = PretrainedSentimentTransformer(config)
    model.load_base_state(load_base_weights(config))
    model.freeze_base()
    return model


def train_pretrained(
    data_dir: str | None,
    device: torch.device,
    epochs: int | None = None,
    seed: int = 0,
    limit: int | None = None,
    on_epoch=None,
    max_steps: int | None = None,
) -> PretrainedSentimentTransformer:
    """``limit``: a class-balanced subset of that many phrases. ``max_steps``: a fixed budget of optimiser steps
    whatever the size (whole passes over a small subset, one cut short over a large one), scored once at the end."""
    seed_everything(seed)
    model = build().to(device)
    c = model.config
    tok = load_tokenizer(c)
    texts, labels = load_sst2("train", data_dir)
    keep = balanced_subset(labels, limit, seed)
    full_size, texts, labels = len(texts), [texts[i] for i in keep], labels[keep]
    dev_texts, dev_labels = load_sst2("dev", data_dir)
    forms = [[tok.encode_unchecked(t).ids for t in texts], [tok.encode_unchecked(detokenize(t)).ids for t in texts]]
    dev_rows = [tok.encode_unchecked(t).ids for t in dev_texts]
    dev_typed = [tok.encode_unchecked(detokenize(t)).ids for t in dev_texts]
    y_all = torch.from_numpy(labels)
    bs = 32

    def batches(epoch: int):
        return itertools.islice(every_batch(epoch), steps)

    def every_batch(epoch: int):
        rng = np.random.default_rng(seed * 1000 + epoch)
        form = rng.integers(0, 2, len(texts))  # per phrase: SST-2's form or the typed form, this epoch
        rows = [forms[f][i] for i, f in enumerate(form)]
        for g in length_groups(rng, rows, bs):
            ids, lengths = pad_batch([rows[j] for j in g], c.pad_id)
            yield ids.to(device), lengths.to(device), y_all[g].to(device)

    def loss_fn(m, batch):
        ids, lengths, y = batch
        return F.cross_entropy(m(ids, lengths), y)

    def report(m, epoch):
        if on_epoch is not None:
            on_epoch(m, epoch)
        if not scored_epoch(epoch, cfg.epochs) or (max_steps and epoch + 1 < cfg.epochs):
            return ""
        raw, typed = accuracy(m, dev_rows, dev_labels, device), accuracy(m, dev_typed, dev_labels, device)
        return f"dev accuracy {raw:.4f} (SST-2 form), {typed:.4f} (typed form)"

    steps = length_group_count(len(texts), bs)
    if max_steps:
        epochs, steps = (math.ceil(max_steps / steps) if steps < max_steps else 1), min(steps, max_steps)
    else:  # the bundled run: 2 epochs; a subset gets as many optimiser steps as ``epochs`` over all phrases
        epochs = epochs_for(epochs or 2, full_size, len(texts), bs)
    cfg = TrainConfig(epochs=epochs, lr=1e-3, weight_decay=0.01, seed=seed)
    return fit(model, batches, steps, loss_fn, cfg, "pretrained_transformer", report)


def pretrained_recipe(run: Run) -> tuple[PretrainedSentimentTransformer, None]:
    # Saved after every epoch too, so a long CPU run that is stopped still leaves its best-so-far.
    keep = (lambda m, epoch: run.checkpoint(m)) if run.checkpoint else None
    return train_pretrained(
        run.data_dir, run.device, seed=run.seed, on_epoch=keep, **run.sized(epochs="epochs", max_steps="steps")
    ), None
