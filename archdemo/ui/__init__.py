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
.fine-print, .caption { font-size: 0.88em; opacity: 0.9; }
.caption p { margin: 0.2em 0 0.6em; }
.digit-trio .caption { text-align: center; }
/* Highlighted words and the legend of their scale (ui.sentences.word_scale_html). */
.word-scale-title p { margin: 0.6em 0 0; }
.word-scale .words { line-height: 2.1; }
.word-scale .w { padding: 0.15em 0.35em; margin-right: 0.25em; border-radius: 4px;
  border: 1px solid var(--border-color-primary); }
.word-scale .w.piece { margin-left: -0.25em; border-left-style: dashed; }
.word-scale .scale-legend { display: flex; align-items: center; gap: 0.5em; white-space: nowrap;
  font-size: 0.85em; opacity: 0.9; margin-top: 0.3em; }
.word-scale .ramp { display: inline-block; flex: 0 1 8em; min-width: 3em; height: 0.8em; border-radius: 3px;
  border: 1px solid var(--border-color-primary); }
/* Example buttons: the whole label, wrapped, never cut. */
.examples-title p { margin: 0.4em 0 0; font-size: 0.88em; opacity: 0.85; }
.example-buttons { flex-wrap: wrap; gap: 0.4em; }
.example-buttons button { flex: 0 1 auto !important; white-space: normal; text-align: left; height: auto; }
/* A picture before there is anything to show is a thin strip, not 200 px of empty box. */
.captioned:has(> .empty), #digit-readers .block:has(> .empty) { height: 48px !important; }
/* A plot's own title names it: Gradio's floating label chip only covered that title. The other tabs'
   plots are built with show_label=False; the Write tab's are hidden here by id (no :has(), which the
   browser would re-check on every update of the page). */
#write-candidates > label[data-testid="block-label"], #write-memory > label[data-testid="block-label"],
#write-attention > label[data-testid="block-label"], #write-curves > label[data-testid="block-label"] {
  display: none; }
/* Maps that grow with the text keep their size and scroll inside their box. */
.wide-plot .matplotlib { overflow-x: auto; align-items: safe center; }
.wide-plot .matplotlib img { max-width: none; }
/* Tables scroll inside themselves rather than being cut at the page's edge. */
.fit-table { max-width: 100%; overflow-x: auto; }
@media (max-width: 760px) { #compare-which table, #compare-table table { min-width: 720px; } }
@media (max-width: 640px) {
  h1 { font-size: 1.6em !important; margin-bottom: 0.2em !important; }
  [role="tablist"] button { padding: 0.45em 0.6em !important; }
  /* Clean, noisy and denoised stay side by side on a phone, so they can be compared. */
  .digit-trio { flex-wrap: nowrap !important; gap: 0.4em !important; }
  .digit-trio > .column { min-width: 0 !important; }
  .about h3 { margin-top: 0.3em; }
  /* The three writers stay in one row, swiped sideways, the next one peeking in: not stacked far apart. */
  .row:has(> .column #write-char_rnn) { flex-wrap: nowrap !important; overflow-x: auto;
    scroll-snap-type: x mandatory; }
  .row:has(> .column #write-char_rnn) > .column { min-width: 82% !important; scroll-snap-align: start; }
  /* 40 characters, each labelled, do not fit 350 px: these keep their size and scroll sideways. */
  #write-memory .matplotlib, #write-attention .matplotlib, #write-candidates .matplotlib {
    overflow-x: auto; align-items: flex-start; }
  #write-memory img, #write-attention img, #write-candidates img { max-width: none; }
}
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
        # Every tab one tap away on a phone: the tab bar wraps instead of hiding tabs behind a "..." menu.
        with course(store) as lesson, gr.Tabs(overflow_behavior="wrap") as tabs:
            tab = {}
            contents = {  # tab id -> (its title, what builds it inside the tab)
                "cnn": ("CNN", lambda t: cnn_tab(store, answers)),
                "autoencoder": ("Autoencoder", lambda t: autoencoder_tab(store, demo)),
                "rnn": ("RNN", lambda t: rnn_tab(store)),
                "transformer": ("Transformer", lambda t: transformer_tab(store)),
                "write": ("Write", lambda t: write_tab(store, writing)),
                "compare": ("Compare", lambda t: compare_tab(store, t)),
            }
            for tab_id, (title, fill) in contents.items():
                with gr.Tab(title, id=tab_id) as tab[tab_id]:
                    lesson.panel(tab_id)  # the guided steps at the top
                    fill(tab[tab_id])
                    lesson.foot(tab_id)  # a link to share and the architecture at the foot
        lesson.wire(tabs, tab)
        vocab = list(store.get("char_rnn").config.vocab)
        wire_links(demo, lesson, note, lambda prompt: check_prompt(prompt, vocab))
        api_endpoints(answers, api_concurrency, writing)
    return demo
