"""Tiny Shakespeare as the character models see it: vocabulary, the train/validation split, and scoring.

The split is nanoGPT's: the first 90% of the characters train, the last 10% validate. The vocabulary is
the sorted set of characters in the whole file (65), stored in each model's config. Training (the
curve), ``archdemo.tools.evaluate`` (the cards) and the tests all score a model with ``validation_loss``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

TRAIN_FRACTION = 0.9


def vocabulary(text: str) -> list[str]:
    return sorted(set(text))


def encode(text: str, vocab: Sequence[str]) -> torch.Tensor:
    """Characters -> (N,) ids; every character must be in ``vocab`` (prompts are checked before this)."""
    index = {ch: i for i, ch in enumerate(vocab)}
    return torch.tensor([index[ch] for ch in text], dtype=torch.long)


def decode(ids: Sequence[int], vocab: Sequence[str]) -> str:
    return "".join(vocab[i] for i in ids)


def split(text: str) -> tuple[str, str]:
    """(training text, validation text): the first 90% and the last 10% of the characters."""
    n = int(len(text) * TRAIN_FRACTION)
    return text[:n], text[n:]
