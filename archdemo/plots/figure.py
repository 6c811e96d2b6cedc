"""The look every figure shares: sizes, colours, token axes, and a figure of its own for each request.

Every figure is a bare ``matplotlib.figure.Figure`` (never pyplot's global state), so nothing is
left open in a long-running server and concurrent requests cannot draw into each other's figures.
Font sizes are passed explicitly rather than through rcParams, which are global and not thread-safe.

Sizing: figures are WIDTH inches wide at DPI, i.e. 600 px. A browser shows them at that width on a
laptop and shrinks them to ~340 px on a phone, so text is sized against the figure width (10-12 pt
on 5 in) and token axes show at most MAX_LABELS labels, which is what still fits after shrinking.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # no display in a server; must precede any pyplot import anywhere in the process

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.axes import Axes


WIDTH, DPI = 5.0, 120  # inches, dots per inch: 600 px wide
TITLE, LABEL, TICK = 13, 12, 11  # font sizes in points: ~9-11 px after a phone shrinks the figure
MAX_LABELS = 20  # token labels one axis can carry at TICK size on WIDTH inches without overlapping
# Gradio's HighlightedText paints scores > 0 in this red and < 0 in this purple; the plots use the
# same two colours for positive / negative so one page never means two things by one colour.
POSITIVE, NEGATIVE, MUTED = "#ef443c", "#805ad5", "#9ca3af"
ACCENT = "#2563eb"  # for emphasis that means neither positive nor negative (the top class, a code)
PALETTE = [ACCENT, "#f59e0b", "#10b981", "#6b7280", "#db2777"]  # one colour per model


def new_figure(height: float, width: float = WIDTH) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # its own Agg canvas: it can draw and be measured without pyplot
    return fig


def short(token: str, n: int = 12) -> str:
    return token if len(token) <= n else token[: n - 1] + "\u2026"


def token_ticks(ax: Axes, tokens: Sequence[str], axis: str = "x") -> None:
    """Label an axis with tokens, every k-th one when there are more than MAX_LABELS."""
    step = max(1, math.ceil(len(tokens) / MAX_LABELS))
    pos = list(range(0, len(tokens), step))
    labels = [short(tokens[i]) for i in pos]
    if axis == "x":
        ax.set_xticks(pos, labels, rotation=90, fontsize=TICK)
    else:
        ax.set_yticks(pos, labels, fontsize=TICK)


def shown_tokens(n: int, limit: int) -> tuple[int, str]:
    """How many of n tokens to draw, and the note to put in the title when some are left out."""
    if n <= limit:
        return n, ""
    return limit, f" (first {limit} of {n})"
