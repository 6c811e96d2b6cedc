"""Sentence tasks: each text model reads a sentence, gives its verdict and shows how it got there.

Plain functions over the model store, no gradio. ``read_sentence`` is one guarded call (see
``archdemo.runtime.guard``) with one forward pass that yields both the verdict and the insides: the LSTM's
belief after every word and its hidden state, or every layer's and head's attention for a
Transformer. Labels are whatever the model's config names (exactly two; the store refuses others).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from archdemo.inputs.answers import label_dict
from archdemo.runtime.guard import guarded
from archdemo.weights.registry import TEXT_MODELS
from archdemo.weights.store import ModelStore


@dataclass
class SentimentReading:
    answer: dict  # the API's shape: {"label": ..., "probabilities": {label: p}}
    labels: list[str]  # the model's two label names; the second is the one ``belief`` tracks
    tokens: list[str]  # what the model read, special tokens ([CLS], [SEP]) included
    words: slice  # the positions of ``tokens`` that are the visitor's words (no special tokens)
    notices: list[str] = field(default_factory=list)  # truncation, unknown words: shown to the visitor
    # The LSTM's insides:
    belief: np.ndarray | None = None  # (T,) P(labels[1]) after reading tokens[0..i]; the last is the verdict
    influence: np.ndarray | None = None  # (T,) the LSTM: belief[i] - belief[i-1] (the prior before token 0); the
    # word CNN: how far the windows covering token i pushed the verdict towards labels[1] (logit units)
    hidden: np.ndarray | None = None  # (T, H) the LSTM's (top layer's) state after each token
    prior: float | None = None  # P(labels[1]) before reading anything: the head on the all-zero state
    # A Transformer's insides:
    attention: np.ndarray | None = None  # (layers, heads, T, T): row i is how position i spreads its attention
    pooled_attention: np.ndarray | None = None  # (T,) last layer, heads averaged, as the classifier reads it
    pooling: str | None = None  # "cls" or "mean": which states the classifier reads
    # The word CNN's insides:
    windows: list[tuple[int, int, float]] | None = None  # (start, width, push) of the filters that pushed the
    # verdict hardest, strongest first; push > 0 is towards labels[1]; start indexes ``tokens``


def notices(enc) -> list[str]:
    said = []
    if enc.truncated:
        said.append(f"The text was cut to its first {len(enc.ids)} tokens ({enc.truncated} more were ignored).")
    if enc.unknown:
        words = sum(1 for t in enc.tokens if not (t.startswith("[") and t.endswith("]")))
        said.append(f"{enc.unknown} of {words} tokens are not in the model's vocabulary and were read as unknown.")
    return said


def _words(tokens: list[str]) -> slice:
    start = 1 if tokens and tokens[0] == "[CLS]" else 0
    end = len(tokens) - 1 if len(tokens) > start and tokens[-1] == "[SEP]" else len(tokens)
    return slice(start, end)


def _lengths(ids: torch.Tensor) -> torch.Tensor:
    return torch.full((ids.shape[0],), ids.shape[1], dtype=torch.long, device=ids.device)


@guarded
def _read(store: ModelStore, model: nn.Module, ids: list[int]) -> dict:
    x = torch.tensor([ids], device=store.device)  # (1, T): one unpadded sentence, nothing to mask
    if hasattr(model, "read"):  # the LSTM: its opinion after every token, in one pass
        hidden, logits = model.read(x)  # (1, T, H), (1, T, L)
        belief = logits[0].softmax(-1)[:, 1]  # (T,)
        prior = model.head(torch.zeros(1, hidden.shape[-1], device=hidden.device)).softmax(-1)[0, 1]
        b = belief.float().cpu().numpy()
        return {
            "probs": logits[0, -1].softmax(-1).float().cpu().numpy(),
            "belief": b,
            "influence": np.diff(b, prepend=np.float32(prior.item())).astype(np.float32),
            "hidden": hidden[0].float().cpu().numpy(),
            "prior": float(prior),
        }
    if hasattr(model, "filter_maxima"):  # the word CNN: which windows its filters fired on, and what that did
        return _windows(model, x)
    states, weights = model.encode(x, _lengths(x))  # (1, T, C), layers x (1, heads, T, T)
    # One unpadded sentence: pooling is [CLS]'s state or the mean of every state, as forward pools.
    probs = model.head(states[:, 0] if model.config.pooling == "cls" else states.mean(1))
    attention = torch.stack([w[0] for w in weights]).float().cpu().numpy()  # (layers, heads, T, T)
    last = attention[-1].mean(axis=0)  # (T, T): the last layer, heads averaged
    # "cls": the classifier reads only [CLS]'s state, built from [CLS]'s own attention row.
    # "mean": it reads the mean of all states, so the mean of all rows (each sums to 1, so does the mean).
    pooled = last[0] if model.config.pooling == "cls" else last.mean(axis=0)
    return {
        "probs": probs.softmax(-1)[0].float().cpu().numpy(),
        "attention": attention,
        "pooled_attention": pooled.astype(np.float32),
        "pooling": model.config.pooling,
    }


def _windows(model: nn.Module, x: torch.Tensor, shown: int = 5) -> dict:
    values, starts, widths = model.filter_maxima(x, _lengths(x))  # (1, N), (1, N), (N,)
    # The head is linear in the filters' maxima, so each filter's push on (logit 1 - logit 0) is exact.
    push = values[0] * (model.head.weight[1] - model.head.weight[0])  # (N,)
    T = x.shape[1]
    covered = (torch.arange(T, device=x.device)[None, :] >= starts[0][:, None]) & (
        torch.arange(T, device=x.device)[None, :] < (starts[0] + widths)[:, None]
    )  # (N, T): filter n's window covers token t
    # (T,): each window's push shared by the words it covers (a window wider than the sentence covers all of it)
    per_token = (covered * (push / covered.sum(1).clamp(min=1))[:, None]).sum(0)
    strongest = push.abs().argsort(descending=True)[:shown].tolist()
    return {
        "probs": model.head(values).softmax(-1)[0].float().cpu().numpy(),
        "influence": per_token.float().cpu().numpy(),
        "windows": [(int(starts[0, n]), int(widths[n]), float(push[n])) for n in strongest],
    }


def read_sentence(store: ModelStore, name: str, text: str, choice: str | None = None) -> SentimentReading:
    """A visitor's text -> model ``name``'s verdict and insides (the visitor's own model with ``choice``)."""
    check_text_model(name)
    model, tokenizer = store.reader(name, choice)
    enc = tokenizer.encode(text)  # checks the text: type, length, any words at all
    out = _read(store, model, enc.ids)
    labels = list(model.config.labels)
    probs = out.pop("probs")
    return SentimentReading(
        answer=label_dict(probs, labels),
        labels=labels,
        tokens=list(enc.tokens),
        words=_words(list(enc.tokens)),
        notices=notices(enc),
        **out,
    )


@guarded
def sentiment_batch(store: ModelStore, name: str, ids: list[list[int]]) -> np.ndarray:
    """Token id lists -> (N, 2) probabilities in the order of the config's labels (the app's own model)."""
    check_text_model(name)
    model = store.get(name)
    lengths = torch.tensor([len(r) for r in ids])
    batch = torch.full((len(ids), int(lengths.max())), model.config.pad_id, dtype=torch.long)
    for i, r in enumerate(ids):
        batch[i, : len(r)] = torch.tensor(r)
    return model(batch.to(store.device), lengths.to(store.device)).softmax(-1).float().cpu().numpy()


def check_text_model(name: str) -> None:
    if name not in TEXT_MODELS:
        raise ValueError(f"{name!r} is not a text model; choose one of {TEXT_MODELS}")
