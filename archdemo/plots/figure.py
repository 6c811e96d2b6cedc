"""The look every figure shares: sizes, colours, token axes, and a figure of its own for each request.

Every figure is a bare ``matplotlib.figure.Figure`` (never pyplot's global state), so nothing is
left open in a long-running server and concurrent requests cannot draw into each other's figures.
Font sizes are passed explicitly rather than through rcParams, which are global and not thread-safe.

Theme: figures have a transparent background and draw their text, axes and lines in INK, a grey that
reads on Gradio's light and dark pages alike (``themed`` applies it once a figure is drawn), so a plot is
never a white box in dark mode. Colour scales: one meaning each, the same on every tab.
- VERDICT_CMAP (diverging around 0): how far something pushed the verdict, TOWARD_NEGATIVE red through
  nothing (transparent) to TOWARD_POSITIVE blue; the words' highlights use the same two colours.
- AMOUNT_CMAP (one colour from zero): how much, never negative: attention, evidence, certainty.
- VALUE_CMAP (diverging around 0, purple to orange): a raw number inside a model (a memory unit, a
  code number) that can be below or above zero and says nothing about the verdict.
Zero is transparent in all three, so "nothing" is the page's own background in either theme.

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
from matplotlib.colors import LinearSegmentedColormap, to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.axes import Axes


WIDTH, DPI = 5.0, 120  # inches, dots per inch: 600 px wide
TITLE, LABEL, TICK = 13, 12, 11  # font sizes in points: ~9-11 px after a phone shrinks the figure
MAX_LABELS = 20  # token labels one axis can carry at TICK size on WIDTH inches without overlapping
INK = "#7b8190"  # text, axes and lines: about 4:1 contrast on white and on Gradio's dark background
MUTED = "#9ca3af"
TOWARD_POSITIVE, TOWARD_NEGATIVE = "#2f6fe0", "#dc3b2f"  # pushed the verdict up / down (blue / red)
POSITIVE, NEGATIVE = TOWARD_POSITIVE, TOWARD_NEGATIVE  # the belief plot's fills above / below 0.5
AMOUNT = "#0e9f6e"  # one colour for "how much" (attention, evidence, certainty), from transparent at zero
VALUE_LOW, VALUE_HIGH = "#8b5cf6", "#f08c00"  # a raw number below / above zero (memory units, code numbers)
ACCENT = AMOUNT  # emphasis: the top class, the character actually written
PALETTE = ["#0891b2", "#f59e0b", "#db2777", "#6b7280", "#65a30d"]  # one colour per model, none of the above


def _ramp(name: str, *colours: tuple[str, float]) -> LinearSegmentedColormap:
    """A colour map through (colour, opacity) stops: opacity 0 lets the page's background show."""
    return LinearSegmentedColormap.from_list(name, [(*to_rgb(c), a) for c, a in colours])


VERDICT_CMAP = _ramp("verdict", (TOWARD_NEGATIVE, 1.0), (TOWARD_NEGATIVE, 0.0), (TOWARD_POSITIVE, 1.0))
AMOUNT_CMAP = _ramp("amount", (AMOUNT, 0.0), (AMOUNT, 1.0))
VALUE_CMAP = _ramp("value", (VALUE_LOW, 1.0), (VALUE_LOW, 0.0), (VALUE_HIGH, 1.0))


def new_figure(height: float, width: float = WIDTH) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    fig.patch.set_alpha(0.0)  # transparent: the page's background, light or dark, shows through
    FigureCanvasAgg(fig)  # its own Agg canvas: it can draw and be measured without pyplot
    return fig


def themed(fig: Figure) -> Figure:
    """Every text, tick, spine and axes background in the colours that read on both themes."""
    for ax in fig.axes:
        ax.set_facecolor("none")
        ax.tick_params(colors=INK, which="both")
        for spine in ax.spines.values():
            spine.set_edgecolor(INK)
    for text in fig.findobj(Text):
        text.set_color(INK)
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


def shown_tokens(n: int, limit: int, last: bool = False) -> tuple[slice, str]:
    """Which of n tokens to draw (the first or, with ``last``, the last ``limit``), and the title's note."""
    if n <= limit:
        return slice(0, n), ""
    if last:
        return slice(n - limit, n), f" (last {limit} of {n}, where the verdict is made)"
    return slice(0, limit), f" (first {limit} of {n})"
