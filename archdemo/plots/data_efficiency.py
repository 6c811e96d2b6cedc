"""Accuracy against the number of training examples, one line per reader: the data-efficiency curves.

The x axis is logarithmic (100 to 60,000 digits, 500 to 67,349 phrases), so each step right is
"several times more data"; the y axis starts at chance for the task, so a line at the bottom learned nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from archdemo.plots.figure import LABEL, PALETTE, TICK, TITLE, new_figure

MARKERS = ["o", "s", "^", "D", "v"]


def data_efficiency_figure(
    title: str, curves: Mapping[str, Mapping[str, float]], chance: float, unit: str = "training examples"
) -> Figure:
    """``curves``: reader label -> {size (a string, as stored): accuracy}; drawn with a marker per measured point."""
    if not curves or not any(curves.values()):
        raise ValueError("no measured points to draw")
    fig = new_figure(3.6)
    ax = fig.add_subplot()
    sizes: set[int] = set()
    for i, (label, points) in enumerate(curves.items()):
        xs = sorted(int(s) for s in points)
        sizes.update(xs)
        ys = [points[str(x)] for x in xs]
        ax.plot(xs, ys, marker=MARKERS[i % len(MARKERS)], color=PALETTE[i % len(PALETTE)], label=label, lw=2)
    ax.set_xscale("log")
    ticks = sorted(sizes)
    ax.set_xticks(ticks, [f"{s:,}" for s in ticks], fontsize=TICK)
    ax.minorticks_off()
    ax.set_ylim(chance, 1.0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.tick_params(axis="y", labelsize=TICK)
    ax.set_xlabel(f"{unit} (log scale)", fontsize=LABEL)
    ax.set_ylabel("accuracy", fontsize=LABEL)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=TICK, loc="lower right", frameon=False)
    ax.set_title(title, fontsize=TITLE)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig
