"""Figures for the Write tab: how the two character models chose what they wrote, and how they learned.

Same conventions as ``archdemo.plots.figure`` (bare Figures on their own Agg canvas, explicit font sizes, 600 px
wide): the LSTM's memory over the written characters, the GPT's attention from its newest character,
the five likeliest next characters at a chosen position, and both models' validation curves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from archdemo.plots.figure import (
    ACCENT,
    AMOUNT_CMAP,
    LABEL,
    MUTED,
    PALETTE,
    TICK,
    TITLE,
    VALUE_CMAP,
    new_figure,
    themed,
)

# Characters shown at once, ending at the chosen position: every one labelled, in a monospace font
# that still fits 40 to the figure's width (60 needed every other label left out).
WINDOW = 40
UNITS = 24  # memory units shown: the ones that change most over those characters, similar ones together
BEFORE = 28  # characters of text shown before the chosen position in the choices figure


def shown(ch: str) -> str:
    """A character as a label: spaces and line ends made visible."""
    return {" ": "\u2423", "\n": "\u23ce"}.get(ch, ch)


def _char_ticks(ax, chars: Sequence[str]) -> None:
    """Every character under its column."""
    ax.set_xticks(range(len(chars)), [shown(c) for c in chars], fontsize=TICK - 1, fontfamily="monospace")
    ax.tick_params(axis="x", length=0)


def memory_heatmap(text: str, hidden: np.ndarray, position: int) -> Figure:
    """The LSTM's memory as it wrote characters ``position - WINDOW + 1 .. position`` (units x characters).

    Column i is the state the character under it was chosen from. Only UNITS units are drawn: those that
    swing widely but step little from one character to the next (they hold something for a while), and
    units that move together sit together (ordered along the main direction in which they change), so
    the picture shows bands that switch at words and line ends rather than static.
    Units are raw values in [-1, 1]: the value scale (purple below zero, orange above).
    """
    h = np.asarray(hidden, dtype=np.float64)
    if h.ndim != 2 or h.shape[0] != len(text) or not len(text):
        raise ValueError(f"hidden must be (N, H) with N = {len(text)} characters, got {h.shape}")
    position = int(np.clip(position, 0, len(text) - 1))
    start = max(0, position - WINDOW + 1)
    h = h[start : position + 1]
    # Units that hold a value for a while and then switch (large swings, small steps from one character to
    # the next) are the readable ones; the ones that flicker at every character made the picture static.
    steps = np.abs(np.diff(h, axis=0)).mean(axis=0) if len(h) > 1 else np.ones(h.shape[1])
    units = np.argsort(-(h.std(axis=0) ** 2 / (steps + 0.05)), kind="stable")[:UNITS]
    m = h[:, units]  # (characters, units)
    if len(m) > 1:  # similar units side by side: sort by their loading on the first principal direction
        centred = m - m.mean(axis=0)
        loading = np.linalg.svd(centred, full_matrices=False)[2][0]
        m = m[:, np.argsort(loading, kind="stable")]
    fig = new_figure(3.4)
    ax = fig.add_subplot()
    im = ax.imshow(m.T, cmap=VALUE_CMAP, vmin=-1, vmax=1, aspect="auto", interpolation="nearest")  # tanh-bounded
    _char_ticks(ax, text[start : position + 1])
    ax.set_yticks([])
    ax.set_ylabel(f"{len(units)} of {hidden.shape[1]} units", fontsize=LABEL)
    ax.set_title(f"LSTM memory, characters {start + 1}-{position + 1}", fontsize=TITLE)
    bar = fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02)
    bar.set_label("unit value", fontsize=TICK)
    bar.ax.tick_params(labelsize=TICK)
    return themed(fig)


def attention_strip(attention: np.ndarray, context: str, head: int | None = None, last: int = WINDOW) -> Figure:
    """The GPT's newest character looking back: one row per layer, one column per character it can see.

    ``attention`` is (layers, heads, W) over ``context`` (W characters, newest last); heads are averaged
    unless ``head`` (0-based) picks one. The last ``last`` characters are drawn; the title says how much
    of each layer's attention falls further back, off the picture.
    """
    a = np.asarray(attention, dtype=np.float64)
    if a.ndim != 3 or a.shape[2] != len(context) or not len(context):
        raise ValueError(f"attention must be (layers, heads, W) with W = {len(context)}, got {a.shape}")
    rows = a.mean(axis=1) if head is None else a[:, int(head)]  # (layers, W)
    n = min(last, len(context))
    earlier = rows[:, :-n].sum(axis=1) if n < len(context) else np.zeros(len(rows))
    fig = new_figure(1.4 + 0.45 * len(rows))
    ax = fig.add_subplot()
    im = ax.imshow(rows[:, -n:], cmap=AMOUNT_CMAP, vmin=0, aspect="auto", interpolation="nearest")
    _char_ticks(ax, context[-n:])
    ax.set_yticks(range(len(rows)), [f"layer {i + 1}" for i in range(len(rows))], fontsize=TICK)
    who = "heads averaged" if head is None else f"head {int(head) + 1}"
    ax.set_title(f"Where the newest character looks ({who})", fontsize=TITLE)
    if n < len(context):
        ax.set_xlabel(
            f"last {n} of {len(context)} characters (earlier ones: {earlier.min():.0%}-{earlier.max():.0%})",
            fontsize=TICK,
        )
    bar = fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02)
    bar.set_label("attention", fontsize=TICK)
    bar.ax.tick_params(labelsize=TICK)
    return themed(fig)


def candidates_figure(panels: dict[str, tuple], position: int) -> Figure:
    """One row per model: its five likeliest characters at written position ``position`` (0-based), under
    the text it had written just before (so the choice can be read in its place).

    ``panels``: title -> (candidates best first, the character it actually wrote[, the text before it]).
    """
    fig = new_figure(0.5 + 1.45 * max(1, len(panels)))
    axes = fig.subplots(max(1, len(panels)), 1, squeeze=False)[:, 0]
    for ax, (title, (cands, wrote, *before)) in zip(axes, panels.items(), strict=False):
        chars = [c for c, _ in cands]
        probs = [p for _, p in cands]
        colours = [ACCENT if c == wrote else MUTED for c in chars]
        bars = ax.bar(range(len(chars)), probs, color=colours, width=0.7)
        ax.bar_label(bars, [f"{p:.0%}" for p in probs], fontsize=TICK - 1, padding=2)
        ax.set_xticks(range(len(chars)), [shown(c) for c in chars], fontsize=TICK + 1, fontfamily="monospace")
        ax.set_ylim(0, 1.35)
        ax.set_yticks([])
        note = "" if wrote in chars else " (not in its top five)"
        text = "".join(shown(c) for c in (before[0] if before else ""))[-BEFORE:]
        ax.set_title(f"{title} after \u201c\u2026{text}\u201d wrote {shown(wrote)}{note}", fontsize=TICK, loc="left")
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    fig.suptitle(f"Five likeliest choices for character {position + 1} (green: written)", fontsize=TITLE)
    return themed(fig)


def training_curves(records: dict[str, dict]) -> Figure:
    """Validation loss against steps (left) and against seconds of training (right), one line per model.

    ``records``: title -> a training_curve.json record. Curve points score a fixed sample of the
    validation text; the marker at each line's end is the loss over all of it.
    """
    fig = new_figure(3.6)
    by_step, by_time = fig.subplots(1, 2, sharey=True)
    for i, (title, rec) in enumerate(records.items()):
        curve = [p for p in rec["curve"] if p["step"] > 0]  # step 0 (untrained, ~4.2) would flatten the rest
        colour = PALETTE[i % len(PALETTE)]
        for ax, key in ((by_step, "step"), (by_time, "seconds")):
            ax.plot([p[key] for p in curve], [p["val_loss"] for p in curve], color=colour, linewidth=1.6, label=title)
            ax.plot(curve[-1][key], rec["final_val_loss"], marker="o", color=colour)
    by_step.set_xlabel("training step", fontsize=LABEL)
    by_time.set_xlabel("seconds training (CPU)", fontsize=LABEL)
    # What the axis means, in place: loss on text the models never trained on, in nats (-ln p) per character.
    by_step.set_ylabel("validation loss, nats/char\n(on unseen text; lower is better)", fontsize=LABEL - 1)
    for ax in (by_step, by_time):
        ax.tick_params(labelsize=TICK)
        ax.grid(alpha=0.3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.legend(*by_step.get_legend_handles_labels(), fontsize=TICK, frameon=False, loc="outside lower center", ncols=2)
    fig.suptitle("How fast each model learned", fontsize=TITLE)
    return themed(fig)
