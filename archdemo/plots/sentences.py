"""Figures of the sentence task: the LSTM's belief and memory word by word, attention maps, highlighted words,
and accuracy by sentence length."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from archdemo.plots.figure import (
    LABEL,
    MUTED,
    NEGATIVE,
    PALETTE,
    POSITIVE,
    TICK,
    TITLE,
    new_figure,
    short,
    shown_tokens,
    token_ticks,
)


def belief_plot(
    tokens: Sequence[str], belief: Sequence[float], label: str = "positive", max_tokens: int = 60, per_row: int = 20
) -> Figure:
    """P(label) after each token, wrapped into rows of ``per_row`` tokens like lines of text.

    Wrapping keeps every token labelled at a readable size on a narrow screen; a long text shows
    its first ``max_tokens`` tokens (the title says so).
    """
    b = np.asarray(belief, dtype=np.float64)
    if len(b) != len(tokens) or len(b) == 0:
        raise ValueError(f"need one belief per token, got {len(b)} for {len(tokens)} tokens")
    n, note = shown_tokens(len(b), max_tokens)
    per_row = max(1, min(per_row, n))
    rows = math.ceil(n / per_row)
    longest = max(len(short(t)) for t in tokens[:n])
    fig = new_figure(0.5 + rows * (1.3 + 0.075 * longest))  # each row: the plot plus its vertical labels
    axes = fig.subplots(rows, 1, squeeze=False)[:, 0]
    for r, ax in enumerate(axes):
        x = np.arange(r * per_row, min(n, (r + 1) * per_row))
        y = b[x]
        ax.axhline(0.5, color=MUTED, linestyle="--", linewidth=1)
        ax.fill_between(x, 0.5, y, where=y >= 0.5, interpolate=True, color=POSITIVE, alpha=0.25, linewidth=0)
        ax.fill_between(x, 0.5, y, where=y < 0.5, interpolate=True, color=NEGATIVE, alpha=0.25, linewidth=0)
        ax.plot(x, y, color="black", marker="o", markersize=3.5, linewidth=1.3)
        # The same spacing in every row, and at least 8 slots, so a very short text sits at the left, not spread out.
        ax.set_xlim(r * per_row - 0.5, r * per_row + max(per_row, 8) - 0.5)
        ax.set_ylim(0, 1)
        ax.set_yticks([0, 0.5, 1], ["0", "0.5", "1"], fontsize=TICK)
        ax.set_xticks(x, [short(tokens[i]) for i in x], rotation=90, fontsize=TICK)
    axes[0].set_title(f"P({short(label, 16)}) after each word" + note, fontsize=TITLE)
    return fig


def hidden_state_heatmap(
    tokens: Sequence[str], hidden: np.ndarray, max_tokens: int = 40, max_units: int | None = 64
) -> Figure:
    """The RNN's memory after each token: units (rows) x tokens (columns), red > 0 > blue.

    With more than ``max_units`` units only the ones that change most over the shown tokens are
    drawn (in their original order), so each stays tall enough to follow across the sentence.
    """
    h = np.asarray(hidden, dtype=np.float64)
    if h.ndim != 2 or h.shape[0] != len(tokens) or h.shape[0] == 0:
        raise ValueError(f"hidden must be (T, H) with T = {len(tokens)} tokens, got {h.shape}")
    n, note = shown_tokens(len(tokens), max_tokens)
    h = h[:n]
    units = np.arange(h.shape[1])
    if max_units is not None and h.shape[1] > max_units:
        units = np.sort(np.argsort(-h.std(axis=0), kind="stable")[:max_units])
    m = h[:, units].T  # (units, tokens)
    lim = max(float(np.abs(m).max()), 1e-6)
    fig = new_figure(4.2)
    ax = fig.add_subplot()
    im = ax.imshow(m, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    token_ticks(ax, tokens[:n])
    ax.set_yticks([])
    which = f"{len(units)} of {h.shape[1]}" if len(units) < h.shape[1] else f"all {h.shape[1]}"
    ax.set_ylabel(f"memory units ({which})", fontsize=LABEL)
    ax.set_title("RNN memory after each word" + note, fontsize=TITLE)
    fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02).ax.tick_params(labelsize=TICK)
    return fig


# ---------------------------------------------------------------- Transformer


def attention_heatmap(
    tokens: Sequence[str], attention_2d: np.ndarray, title: str = "Attention", max_tokens: int = 40
) -> Figure:
    """(T, T) attention weights: row = the token looking, column = the token looked at."""
    a = np.asarray(attention_2d, dtype=np.float64)
    if a.ndim != 2 or a.shape != (len(tokens), len(tokens)) or len(tokens) == 0:
        raise ValueError(f"attention must be (T, T) with T = {len(tokens)} tokens, got {a.shape}")
    n, note = shown_tokens(len(tokens), max_tokens)
    a = a[:n, :n]
    longest = max(len(short(t)) for t in tokens[:n])
    fig = new_figure(3.9 + 0.075 * longest)  # the square map is ~3.2 in once labels and colour bar take their width
    ax = fig.add_subplot()
    im = ax.imshow(a, cmap="viridis", vmin=0, vmax=max(float(a.max()), 1e-6), interpolation="nearest")
    token_ticks(ax, tokens[:n], "x")
    token_ticks(ax, tokens[:n], "y")
    ax.set_xlabel("looked at", fontsize=LABEL)
    ax.set_ylabel("looking", fontsize=LABEL)
    ax.set_title(title + note, fontsize=TITLE)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=TICK)
    return fig


def highlight_spans(tokens: Sequence[str], scores: Sequence[float], normalise: bool = True) -> list[tuple[str, float]]:
    """(token, score in [-1, 1]) pairs, the value ``gr.HighlightedText`` colours by number.

    Gradio paints score > 0 red and < 0 purple with opacity |score|. With ``normalise`` the
    largest |score| becomes 1, so small effects (an RNN token moving P(positive) by 0.03) still
    show; pass False for scores that already mean something on [-1, 1]. Every token gets a number
    (none is None) so Gradio stays in its score mode and spaces the words itself.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or len(s) != len(tokens):
        raise ValueError(f"need one score per token, got {s.shape} for {len(tokens)} tokens")
    s = np.nan_to_num(s, nan=0.0, posinf=1.0, neginf=-1.0)
    top = float(np.abs(s).max()) if len(s) else 0.0
    if normalise and top > 0:
        s = s / top
    return [(str(t), round(float(v), 3)) for t, v in zip(tokens, np.clip(s, -1.0, 1.0), strict=True)]


def accuracy_by_length_figure(buckets: list[str], acc_by_model: dict[str, list[float]], counts: list[int]) -> Figure:
    """Grouped bars: each model's accuracy in each sentence-length bucket, with the bucket sizes."""
    if len(counts) != len(buckets) or any(len(v) != len(buckets) for v in acc_by_model.values()):
        raise ValueError("need one count and one accuracy per model for every bucket")
    models = list(acc_by_model)
    fig = new_figure(3.4 + 0.3 * max(0, math.ceil(len(models) / 2) - 1))
    ax = fig.add_subplot()
    x = np.arange(len(buckets))
    width = 0.8 / max(1, len(models))
    label_bars = len(models) * len(buckets) <= 8  # numbers on bars only while they fit at TICK size
    for i, name in enumerate(models):
        acc = np.asarray(acc_by_model[name], dtype=np.float64)
        bars = ax.bar(x + (i - (len(models) - 1) / 2) * width, acc, width, label=name, color=PALETTE[i % len(PALETTE)])
        if label_bars:
            ax.bar_label(bars, [f"{v:.0%}" for v in acc], fontsize=TICK, padding=2)
    ax.set_xticks(x, [f"{b}\n{c:,} sent." for b, c in zip(buckets, counts, strict=True)], fontsize=TICK)
    ax.set_ylim(0, 1.12)  # headroom for the numbers on 100% bars
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.tick_params(axis="y", labelsize=TICK)
    ax.set_xlabel("sentence length (words)", fontsize=LABEL)
    # Two names a row at most: three long names side by side are wider than the figure and squeeze the axes.
    rows = math.ceil(len(models) / 2)
    ax.legend(fontsize=TICK, ncols=min(2, len(models)), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    ax.set_title("Accuracy by sentence length", fontsize=TITLE, pad=8 + 18 * rows)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig
