"""Accuracy against the number of training examples, one line per reader: the data-efficiency curves.

The x axis is logarithmic (100 to 60,000 digits, 500 to 67,349 phrases), so each step right is
"several times more data"; the y axis starts at chance for the task, so a line at the bottom learned nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from archdemo.plots.figure import LABEL, PALETTE, TICK, TITLE, new_figure, themed

# One colour and marker per architecture family, the same in both plots, so "the CNN" is one colour on the
# page; a second reader of the same family in one plot (the pretrained Transformer) is dashed.
FAMILY_STYLE = {"CNN": (PALETTE[0], "o"), "RNN": (PALETTE[1], "s"), "Transformer": (PALETTE[2], "^")}
OTHER_STYLE = (PALETTE[3], "D")


def data_efficiency_figure(
    title: str,
    curves: Mapping[str, Mapping[str, float]],
    families: Mapping[str, str],
    chance: float,
    unit: str = "training examples",
) -> Figure:
    """``curves``: reader label -> {size (a string, as stored): accuracy}, one marker per measured point;
    ``families``: reader label -> its architecture family (its colour). The y axis starts a little below the
    lowest point (chance is said in the axis label), so close lines stay apart."""
    if not curves or not any(curves.values()):
        raise ValueError("no measured points to draw")
    fig = new_figure(3.6)
    ax = fig.add_subplot()
    sizes: set[int] = set()
    seen: set[str] = set()
    for label, points in curves.items():
        xs = sorted(int(s) for s in points)
        sizes.update(xs)
        family = families.get(label, "")
        colour, marker = FAMILY_STYLE.get(family, OTHER_STYLE)
        style = "--" if family in seen else "-"
        seen.add(family)
        ax.plot(xs, [points[str(x)] for x in xs], style, marker=marker, color=colour, label=label, lw=2)
    ax.set_xscale("log")
    ticks = sorted(sizes)
    ax.set_xticks(ticks, [f"{s:,}" for s in ticks], fontsize=TICK)
    ax.minorticks_off()
    lowest = min(a for points in curves.values() for a in points.values())
    ax.set_ylim(max(chance, math.floor((lowest - 0.03) * 20) / 20), 1.0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.tick_params(axis="y", labelsize=TICK)
    ax.set_xlabel(f"{unit} (log scale)", fontsize=LABEL)
    ax.set_ylabel(f"accuracy (chance: {chance:.0%})", fontsize=LABEL)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=TICK, loc="best", frameon=False)  # wherever the lines leave room
    ax.set_title(title, fontsize=TITLE)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return themed(fig)  # transparent, grey ink: reads on the light and the dark page
