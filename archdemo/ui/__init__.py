"""The Gradio UI: one module per tab. ``build(store, answers)`` returns the whole app as a gr.Blocks.

The tabs call the task functions (``archdemo.tasks``) with the model store, the API calls
``archdemo.serving.answers``; no model code lives here. Data flows app -> ui -> serving -> tasks -> models.
"""

from __future__ import annotations

import gradio as gr

from archdemo.serving.answers import Answers
from archdemo.settings import SESSION_CAPACITY
from archdemo.tasks.writing import check_prompt
from archdemo.ui.api import api_endpoints
from archdemo.ui.autoencoder import autoencoder_tab
from archdemo.ui.cnn import cnn_tab
from archdemo.ui.compare import compare_tab
from archdemo.ui.guide import course
from archdemo.ui.links import wire_links
from archdemo.ui.rnn import rnn_tab
from archdemo.ui.transformer import transformer_tab
from archdemo.ui.write import write_tab
from archdemo.weights.store import ModelStore

CSS = """
.pixelated img { image-rendering: pixelated; }
#device-line { opacity: 0.85; font-size: 0.9em; }
.about ul { margin-top: 0.2em; }
.lesson-card { border-left: 3px solid var(--color-accent); padding: 2px 10px; }
.lesson-card p { margin: 4px 0; }
/* a step card's "Show me" link jumps to its picture, which the browser then marks as the :target */
:target { outline: 3px solid var(--color-accent); outline-offset: 4px; border-radius: 6px; scroll-margin-top: 24px; }
.lesson-url { width: 100%; font-family: var(--font-mono); font-size: 0.85em; }
"""

# Gradio keeps a copy of every block's configuration for each browser tab or API client that has
# called the app: 200-270 KB each here (110 blocks), measured at +735 MB after 3,200 new clients.
# Its default keeps 10,000 of them (about 2.5 GB); 1,000 covers a full workshop room many times over.
# The only thing a dropped session loses is a visitor's choice of their own model (the tab goes back to
# archdemo's). A launch() option: app.py passes it as --max-sessions (archdemo.settings.SESSION_CAPACITY).
__all__ = ["CSS", "DELETE_CACHE", "SESSION_CAPACITY", "build"]
# Output images are files in Gradio's cache: every 30 minutes, delete those older than an hour.
DELETE_CACHE = (1800, 3600)


def build(
    store: ModelStore, answers: Answers, api_concurrency: int | None = None, writing: dict | None = None
) -> gr.Blocks:
    """``api_concurrency``: quick API requests at once; ``writing``: the queue options of every long writing job."""
    with gr.Blocks(title="archdemo: four architectures, side by side", delete_cache=DELETE_CACHE) as demo:
        gr.Markdown(
            "# archdemo\n"
            "Four classic neural network families, each doing the job it was designed for. "
            "Draw, type and poke at them to see how differently they work inside."
        )
        gr.Markdown(f"Models run on: **{store.device_label}**", elem_id="device-line")
        note = gr.Markdown(elem_id="link-note")  # what a link asked for that could not be opened
        with course(store) as lesson, gr.Tabs() as tabs:
            tab = {}
            with gr.Tab("CNN", id="cnn") as tab["cnn"]:
                lesson.panel("cnn")
                cnn_tab(store, answers)
            with gr.Tab("Autoencoder", id="autoencoder") as tab["autoencoder"]:
                lesson.panel("autoencoder")
                autoencoder_tab(store, demo)
            with gr.Tab("RNN", id="rnn") as tab["rnn"]:
                lesson.panel("rnn")
                rnn_tab(store)
            with gr.Tab("Transformer", id="transformer") as tab["transformer"]:
                lesson.panel("transformer")
                transformer_tab(store)
            with gr.Tab("Write", id="write") as tab["write"]:
                lesson.panel("write")
                write_tab(store, writing)
            with gr.Tab("Compare", id="compare") as tab["compare"]:
                lesson.panel("compare")
                compare_tab(store, tab["compare"])
        lesson.wire(tabs, tab)
        vocab = list(store.get("char_rnn").config.vocab)
        wire_links(demo, lesson, note, lambda prompt: check_prompt(prompt, vocab))
        api_endpoints(answers, api_concurrency, writing)
    return demo
