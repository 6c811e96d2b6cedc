"""Figures for the Write tab: how the two character models chose what they wrote, and how they learned.

Same conventions as ``archdemo.plots.figure`` (bare Figures on their own Agg canvas, explicit font sizes, 600 px
wide): the LSTM's memory over the written characters, the GPT's attention from its newest character,
the five likeliest next characters at a chosen position, and both models' validation curves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from archdemo.plots.figure import ACCENT, LABEL, MUTED, PALETTE, TICK, TITLE, new_figure

WINDOW = 60  # characters of the LSTM's memory shown at once, ending at the chosen position
UNITS = 48  # memory units shown: the ones that change most over those characters


def shown(ch: str) -> str:
    """A character as a label: spaces and line ends made visible."""
    return {" ": "\u2423", "\n": "\u23ce"}.get(ch, ch)


def _char_ticks(ax, chars: Sequence[str], start: int = 0, every: int = 1) -> None:
    pos = list(range(0, len(chars), every))
    ax.set_xticks(pos, [shown(chars[i]) for i in pos], fontsize=TICK - 2, fontfamily="monospace")
    ax.tick_params(axis="x", length=0)


def memory_heatmap(text: str, hidden: np.ndarray, position: int) -> Figure:
    """The LSTM's memory as it wrote characters ``position - WINDOW + 1 .. position`` (units x characters).

    Column i is the state the character under it was chosen from. Only the UNITS units that change most
    over these characters are drawn, in their original order, so each row stays tall enough to follow.
    """
    h = np.asarray(hidden, dtype=np.float64)
    if h.ndim != 2 or h.shape[0] != len(text) or not len(text):
        raise ValueError(f"hidden must be (N, H) with N = {len(text)} characters, got {h.shape}")
    position = int(np.clip(position, 0, len(text) - 1))
    start = max(0, position - WINDOW + 1)
    h = h[start : position + 1]
    units = np.sort(np.argsort(-h.std(axis=0), kind="stable")[:UNITS])
    m = h[:, units].T  # (units, characters)
    fig = new_figure(3.6)
    ax = fig.add_subplot()
    im = ax.imshow(m, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")  # tanh-bounded
    _char_ticks(ax, text[start : position + 1], every=1 if len(m[0]) <= 40 else 2)
    ax.set_yticks([])
    ax.set_ylabel(f"{len(units)} of {hidden.shape[1]} memory units", fontsize=LABEL)
    ax.set_title(f"LSTM memory while writing characters {start + 1}-{position + 1}", fontsize=TITLE)
    fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02).ax.tick_params(labelsize=TICK)
    return fig


def attention_strip(attention: np.ndarray, context: str, head: int | None = None, last: int = 64) -> Figure:
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
    im = ax.imshow(rows[:, -n:], cmap="viridis", vmin=0, aspect="auto", interpolation="nearest")
    _char_ticks(ax, context[-n:], every=1 if n <= 40 else 2)
    ax.set_yticks(range(len(rows)), [f"layer {i + 1}" for i in range(len(rows))], fontsize=TICK)
    who = "heads averaged" if head is None else f"head {int(head) + 1}"
    ax.set_title(f"Where the newest character looks ({who})", fontsize=TITLE)
    if n < len(context):
        ax.set_xlabel(
            f"last {n} of {len(context)} characters (earlier ones: {earlier.min():.0%}-{earlier.max():.0%})",
            fontsize=TICK,
        )
    fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02).ax.tick_params(labelsize=TICK)
    return fig


def candidates_figure(panels: dict[str, tuple[list[tuple[str, float]], str]], position: int) -> Figure:
    """Side by side, each model's five likeliest characters at written position ``position`` (0-based);
    ``panels``: title -> (candidates best first, the character it actually wrote)."""
    fig = new_figure(2.6)
    axes = fig.subplots(1, max(1, len(panels)), squeeze=False)[0]
    for ax, (title, (cands, wrote)) in zip(axes, panels.items(), strict=False):
        chars = [c for c, _ in cands][::-1]
        probs = [p for _, p in cands][::-1]
        colours = [ACCENT if c == wrote else MUTED for c in chars]
        bars = ax.barh(range(len(chars)), probs, color=colours)
        ax.bar_label(bars, [f"{p:.0%}" for p in probs], fontsize=TICK - 1, padding=2)
        ax.set_yticks(range(len(chars)), [repr(c)[1:-1] if c.isspace() else c for c in chars], fontsize=TICK)
        ax.set_xlim(0, 1.25)
        ax.set_xticks([])
        note = "" if wrote in chars else " (not in its top five)"
        ax.set_title(f"{title}: wrote {shown(wrote)}{note}", fontsize=LABEL)
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
    fig.suptitle(f"The five likeliest choices for character {position + 1}", fontsize=TITLE)
    return fig


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
    by_time.set_xlabel("seconds of training (CPU)", fontsize=LABEL)
    by_step.set_ylabel("validation loss (nats/char)", fontsize=LABEL)
    for ax in (by_step, by_time):
        ax.tick_params(labelsize=TICK)
        ax.grid(alpha=0.3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.legend(*by_step.get_legend_handles_labels(), fontsize=TICK, frameon=False, loc="outside lower center", ncols=2)
    fig.suptitle("How fast each model learned", fontsize=TITLE)
    return fig
