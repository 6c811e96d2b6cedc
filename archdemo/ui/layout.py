"""What every tab is made of: the live-update options, the short explanation, the model's source code."""

from __future__ import annotations

import inspect
from types import ModuleType

import gradio as gr

# How every live update is wired: only the newest input counts (older pending runs are dropped), no
# spinner over the outputs, and not part of the public API.
LIVE = {"trigger_mode": "always_last", "show_progress": "hidden", "api_visibility": "private"}


def about(title: str, idea: str, good: str, struggles: str, here: str) -> None:
    """The short explanation at the top of a tab, in four parts."""
    gr.Markdown(
        f"### {title}\n{idea}\n\n"
        f"- **Good at:** {good}\n- **Struggles with:** {struggles}\n- **What to look for here:** {here}",
        elem_classes="about",
    )


def source_code(*modules: ModuleType) -> None:
    """The code that actually runs, read from the installed package, shown collapsed."""
    with gr.Accordion("The model's source code (what runs behind this tab)", open=False):
        for module in modules:
            gr.Code(inspect.getsource(module), language="python", label=module.__name__, interactive=False)
