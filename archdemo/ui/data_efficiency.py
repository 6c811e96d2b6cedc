"""Compare's "how much data each architecture needs" view: the data-efficiency curves, measured.

The numbers are what ``python -m archdemo.tools.data_efficiency`` stored (archdemo/assets/data_efficiency.json);
nothing is trained here. The plots are drawn when the tab is opened, not when the page loads.
"""

from __future__ import annotations

import functools

import gradio as gr
import numpy as np

from archdemo.plots.data_efficiency import data_efficiency_figure
from archdemo.ui.errors import user_errors
from archdemo.ui.pictures import image_file
from archdemo.weights.cards import data_efficiency, data_efficiency_accuracies
from archdemo.weights.registry import get_spec

TASKS = {  # task -> (plot title, chance accuracy, what a training example is)
    "digits": ("Digits: MNIST test accuracy", 0.1, "training digits"),
    "sentences": ("Sentences: SST-2 dev accuracy", 0.5, "training phrases"),
}
INTRO = (
    "### How much data each architecture needs, measured\n"
    "Each reader trained again from scratch on smaller and smaller parts of its training set "
    "(the pretrained Transformer starts from MiniLM, so its line shows what pretraining buys), and "
    "scored on the same full test set. A line that stays high on the left learns from few examples: "
    "that is what a built-in assumption (a CNN's filters that look at small neighbourhoods, reused "
    "everywhere) or a head start (pretraining) is worth. "
)


@functools.cache
def pictures() -> tuple[str | None, ...]:
    """The two plots as PNG files in Gradio's cache, drawn once per process (the stored numbers do not change)."""
    curves, out = data_efficiency_accuracies(data_efficiency()), []
    for task, (title, chance, unit) in TASKS.items():
        lines = {get_spec(name).short: points for name, points in curves.get(task, {}).items() if points}
        if not lines:
            out.append(None)
            continue
        families = {get_spec(name).short: get_spec(name).family for name in curves[task]}
        fig = data_efficiency_figure(title, lines, families, chance, unit)
        fig.canvas.draw()
        out.append(
            image_file(np.asarray(fig.canvas.buffer_rgba()), f"data-efficiency-{task}")
        )  # alpha kept: the theme shows through
    return tuple(out)


def budget_note() -> str:
    results = data_efficiency()
    rules = {t: results[t].get("budget_rule") for t in TASKS if isinstance(results.get(t), dict)}
    if not any(rules.values()):
        return "Not measured yet: run `python -m archdemo.tools.data_efficiency --task digits` (and sentences)."
    said = " ".join(f"{task.capitalize()}: {rule}." for task, rule in rules.items() if rule)
    return (
        f"The budget, so that a gap between two sizes is the data's, not the compute's. {said} "
        "This budget is smaller than the bundled models' own training, so the right-hand points sit "
        "below the accuracies quoted above. Measured with `python -m archdemo.tools.data_efficiency`."
    )


def data_efficiency_view(tab: gr.Tab) -> None:
    """The two plots (digits, sentences) and how they were measured; filled in when ``tab`` is opened."""
    gr.Markdown(INTRO + budget_note(), elem_id="data-efficiency-intro")
    with gr.Row():
        plots = [
            gr.Image(label=title, elem_id=f"data-efficiency-{task}", show_label=False, interactive=False)
            for task, (title, _, _) in TASKS.items()
        ]
    tab.select(user_errors(pictures), None, plots, api_visibility="private", show_progress="hidden")
