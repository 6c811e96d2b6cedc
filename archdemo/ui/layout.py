"""What every tab is made of: the live-update options, the short explanation, the model's source code."""

from __future__ import annotations

import inspect
from types import ModuleType

import gradio as gr

# How every live update is wired: only the newest input counts (older pending runs are dropped), no
# spinner over the outputs, and not part of the public API.
LIVE = {"trigger_mode": "always_last", "show_progress": "hidden", "api_visibility": "private"}
# A click that asks for a reading: a small spinner in the corner, never a grey overlay that blanks the
# outputs (Gradio's "full" kept its stale "processing 0.9/0.4s" over every picture until all were back).
CLICK = {"show_progress": "minimal", "api_visibility": "private"}


def about(title: str, idea: str, good: str, struggles: str, here: str) -> None:
    """The short explanation at the top of a tab: the idea in view, the other three parts folded.

    Folded so that the tab's input starts within the first screen on a phone; one tap opens them.
    """
    gr.Markdown(f"### {title}\n{idea}", elem_classes="about")
    with gr.Accordion("Good at, struggles with, what to look for", open=False, elem_classes="about-more"):
        gr.Markdown(
            f"- **Good at:** {good}\n- **Struggles with:** {struggles}\n- **What to look for here:** {here}",
            elem_classes="about",
        )


def source_code(*modules: ModuleType) -> None:
    """The code that actually runs, read from the installed package, shown collapsed."""
    with gr.Accordion("The model's source code (what runs behind this tab)", open=False):
        for module in modules:
            gr.Code(inspect.getsource(module), language="python", label=module.__name__, interactive=False)
