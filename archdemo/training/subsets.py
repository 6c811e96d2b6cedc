"""Smaller training sets for data-efficiency experiments, and the step budget that keeps them comparable.

A recipe given ``limit=n`` trains on ``balanced_subset(labels, n, seed)`` (as even a share of every class
as n allows, drawn with the recipe's seed) for the same number of optimiser steps as on the full set, so
1/10 or 1/100 of the data gets the same compute and the same schedule, just more passes over it.
"""

from __future__ import annotations

import math

import numpy as np


def balanced_subset(labels: np.ndarray, limit: int | None, seed: int) -> np.ndarray:
    """Indices (sorted) of ``limit`` examples, classes as even as possible; all of them when limit is None."""
    if limit is None or limit >= len(labels):
        return np.arange(len(labels))
    if limit < 1:
        raise ValueError(f"limit must be a positive number of examples, got {limit}")
    order = np.random.default_rng(seed).permutation(len(labels))
    rank = np.empty(len(labels), dtype=np.int64)  # an example's place among its class in the shuffled order
    for c in np.unique(labels):
        members = order[labels[order] == c]
        rank[members] = np.arange(len(members))
    # Round-robin over the classes: every class's first example, then every class's second, ...
    picked = order[np.argsort(rank[order], kind="stable")][:limit]
    return np.sort(picked)


def epochs_for(full_epochs: int, full_size: int, size: int, batch_size: int) -> int:
    """Epochs over ``size`` examples that give at least the optimiser steps of ``full_epochs`` over ``full_size``."""
    steps = full_epochs * math.ceil(full_size / batch_size)
    return max(full_epochs, math.ceil(steps / math.ceil(size / batch_size)))


def scored_epoch(epoch: int, epochs: int) -> bool:
    """Whether to score after this epoch: about ten times a run (every epoch of a full-set run, every
    tenth of the hundreds of passes a small subset makes), and always after the last."""
    return (epoch + 1) % max(1, epochs // 10) == 0 or epoch + 1 == epochs
