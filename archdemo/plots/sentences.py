"""Figures of the sentence task: the LSTM's belief and memory word by word, attention maps, highlighted words,
and accuracy by sentence length."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from archdemo.plots.figure import (
    AMOUNT_CMAP,
    INK,
    LABEL,
    MUTED,
    NEGATIVE,
    PALETTE,
    POSITIVE,
    TICK,
    TITLE,
    VALUE_CMAP,
    new_figure,
    short,
    shown_tokens,
    themed,
)

PER_ROW = 20  # tokens per row in the word-by-word figures: every one labelled, still readable on a phone


def _rows_for(tokens: Sequence[str], belief_like: int, limit: int, per_row: int) -> tuple[list[range], str, int]:
    """The token positions of each row (the last ``limit`` tokens of a long text), the title's note, and
    the longest shown label, for figures that wrap a text into rows of ``per_row`` like lines of text."""
    shown, note = shown_tokens(belief_like, limit, last=True)
    per_row = max(1, min(per_row, shown.stop - shown.start))
    rows = [range(a, min(shown.stop, a + per_row)) for a in range(shown.start, shown.stop, per_row)]
    return rows, note, max(len(short(tokens[i])) for i in range(shown.start, shown.stop))


def belief_plot(
    tokens: Sequence[str],
    belief: Sequence[float],
    label: str = "positive",
    max_tokens: int = 120,
    per_row: int = PER_ROW,
) -> Figure:
    """P(label) after each token, wrapped into rows of ``per_row`` tokens like lines of text.

    Wrapping keeps every token labelled at a readable size on a narrow screen. A text longer than
    ``max_tokens`` shows its last ``max_tokens`` tokens: the LSTM's verdict is its state after the last
    word, so the end is where it is made (the title says so).
    """
    b = np.asarray(belief, dtype=np.float64)
    if len(b) != len(tokens) or len(b) == 0:
        raise ValueError(f"need one belief per token, got {len(b)} for {len(tokens)} tokens")
    rows, note, longest = _rows_for(tokens, len(b), max_tokens, per_row)
    width = len(rows[0])
    fig = new_figure(0.5 + len(rows) * (1.3 + 0.075 * longest))  # each row: the plot plus its vertical labels
    axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    for ax, row in zip(axes, rows, strict=True):
        x = np.asarray(row)
        y = b[x]
        ax.axhline(0.5, color=MUTED, linestyle="--", linewidth=1)
        ax.fill_between(x, 0.5, y, where=y >= 0.5, interpolate=True, color=POSITIVE, alpha=0.35, linewidth=0)
        ax.fill_between(x, 0.5, y, where=y < 0.5, interpolate=True, color=NEGATIVE, alpha=0.35, linewidth=0)
        ax.plot(x, y, color=INK, marker="o", markersize=3.5, linewidth=1.5)
        # The same spacing in every row, and at least 8 slots, so a very short text sits at the left, not spread out.
        ax.set_xlim(row.start - 0.5, row.start + max(width, 8) - 0.5)
        ax.set_ylim(0, 1)
        ax.set_yticks([0, 0.5, 1], ["0", "0.5", "1"], fontsize=TICK)
        ax.set_xticks(x, [short(tokens[i]) for i in x], rotation=90, fontsize=TICK)
    axes[0].set_title(f"P({short(label, 16)}) after each word" + note, fontsize=TITLE)
    return themed(fig)


def hidden_state_heatmap(
    tokens: Sequence[str], hidden: np.ndarray, max_tokens: int = 120, max_units: int | None = 48, per_row: int = PER_ROW
) -> Figure:
    """The RNN's memory after each token, in rows of ``per_row`` tokens like the belief plot: units x tokens.

    Memory units are raw numbers in [-1, 1] that say nothing about the verdict on their own, so they get
    the value scale (purple below zero, orange above), not the verdict's. With more than ``max_units``
    units only the ones that change most over the shown tokens are drawn (in their original order), so
    each stays tall enough to follow across the sentence.
    """
    h = np.asarray(hidden, dtype=np.float64)
    if h.ndim != 2 or h.shape[0] != len(tokens) or h.shape[0] == 0:
        raise ValueError(f"hidden must be (T, H) with T = {len(tokens)} tokens, got {h.shape}")
    rows, note, longest = _rows_for(tokens, len(tokens), max_tokens, per_row)
    shown = h[rows[0].start : rows[-1].stop]
    units = np.arange(h.shape[1])
    if max_units is not None and h.shape[1] > max_units:
        units = np.sort(np.argsort(-shown.std(axis=0), kind="stable")[:max_units])
    lim = max(float(np.abs(shown[:, units]).max()), 1e-6)
    width = len(rows[0])
    fig = new_figure(0.9 + len(rows) * (1.5 + 0.075 * longest))
    axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    for ax, row in zip(axes, rows, strict=True):
        m = np.full((len(units), max(width, 8)), np.nan)  # (units, slots): the same cell width in every row
        m[:, : len(row)] = h[row.start : row.stop][:, units].T
        im = ax.imshow(m, cmap=VALUE_CMAP, vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
        ax.set_xticks(range(len(row)), [short(tokens[i]) for i in row], rotation=90, fontsize=TICK)
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_visible(False)
    which = f"{len(units)} of {h.shape[1]}" if len(units) < h.shape[1] else f"all {h.shape[1]}"
    axes[0].set_title(f"Memory after each word ({which} units)" + note, fontsize=TITLE)
    bar = fig.colorbar(im, ax=list(axes), location="bottom", fraction=0.04, aspect=40, pad=0.02)
    bar.set_label("a memory unit's value: below zero (purple) / above (orange)", fontsize=TICK)
    bar.ax.tick_params(labelsize=TICK)
    return themed(fig)


# ---------------------------------------------------------------- Transformer


def attention_heatmap(
    tokens: Sequence[str], attention_2d: np.ndarray, title: str = "Attention", max_tokens: int = 128
) -> Figure:
    """(T, T) attention weights: row = the token looking, column = the token looked at.

    Attention is never negative, so it is drawn on the one-colour scale from zero. Every token is
    labelled: past 24 tokens the map grows with the text (the page lets it scroll inside its box)
    rather than labelling every other token.
    """
    a = np.asarray(attention_2d, dtype=np.float64)
    if a.ndim != 2 or a.shape != (len(tokens), len(tokens)) or len(tokens) == 0:
        raise ValueError(f"attention must be (T, T) with T = {len(tokens)} tokens, got {a.shape}")
    shown, note = shown_tokens(len(tokens), max_tokens)
    n = shown.stop
    a = a[:n, :n]
    labels = [short(t) for t in tokens[:n]]
    longest = max(len(t) for t in labels)
    font = TICK if n <= 24 else 9
    if n <= 24:
        fig = new_figure(3.9 + 0.075 * longest)  # the square map is ~3.2 in once labels and colour bar take room
        ax = fig.add_subplot()
        bar_ax = None
    else:  # 0.14 in per token; margins set by hand: the layout engine measured every label (~0.5 s at 84)
        side, margin = 0.14 * n, 0.55 + 0.065 * longest  # inches: the map, its labels and axis title
        width, height = side + margin + 1.4, side + margin + 0.6
        fig = new_figure(height, width=width)
        fig.set_layout_engine("none")
        fig.set_dpi(100)  # 14 px a token, 12.5 px labels, shown at natural size: a third fewer pixels to encode
        ax = fig.add_axes((margin / width, margin / height, side / width, side / height))
        bar_ax = fig.add_axes(((margin + side + 0.15) / width, (margin + side - 3) / height, 0.15 / width, 3 / height))
    im = ax.imshow(a, cmap=AMOUNT_CMAP, vmin=0, vmax=max(float(a.max()), 1e-6), interpolation="nearest")
    ax.set_xticks(range(n), labels, rotation=90, fontsize=font)
    ax.set_yticks(range(n), labels, fontsize=font)
    ax.set_xlabel("looked at", fontsize=LABEL)
    ax.set_ylabel("looking", fontsize=LABEL)
    ax.set_title(title + note, fontsize=TITLE)
    if bar_ax is None:
        bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    else:
        bar = fig.colorbar(im, cax=bar_ax)
    bar.set_label("attention weight (0 = none)", fontsize=TICK)
    bar.ax.tick_params(labelsize=TICK)
    return themed(fig)


def highlight_spans(tokens: Sequence[str], scores: Sequence[float], normalise: bool = True) -> list[tuple[str, float]]:
    """(token, score in [-1, 1]) pairs: what the highlighted words (``ui.sentences.word_scale_html``) paint.

    With ``normalise`` the largest |score| becomes 1, so small effects (an RNN token moving P(positive)
    by 0.03) still show; pass False for scores that already mean something on [-1, 1].
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
    return themed(fig)
