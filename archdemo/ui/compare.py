"""Compare tab: one sentence through both text models, and the four models' measured numbers."""

from __future__ import annotations

import gradio as gr

from archdemo import plots
from archdemo.sentiment import read_sentence
from archdemo.store import ModelStore
from archdemo.ui import compare_facts as facts
from archdemo.ui.errors import user_errors
from archdemo.ui.layout import LIVE
from archdemo.ui.text import word_highlights

WHEN = """
#### Which to use when
- **A grid of values where nearby values belong together** (images, spectrograms, board games): a **CNN**.
  It needs little data because it assumes locality and reuses each filter everywhere.
- **You want a compact description of your data**, to clean it, compress it, spot things that do not fit
  (a reconstruction that comes out badly is a sign of an unusual input) or generate variations: an
  **autoencoder**.
- **A stream that arrives one step at a time** and must be answered as it comes (live sensor data, typing),
  or small sequence data sets and small devices: an **RNN** (LSTM or GRU). Memory does not grow with length.
- **Text or any sequence where distant parts interact, and enough data or a pretrained model**: a
  **Transformer**. Trained from scratch on a few thousand sentences, as here, it has no edge over the LSTM;
  pretrained on billions of words it beats every other family on language.
"""


def reader(title: str, name: str, tokens_label: str) -> tuple[gr.Label, gr.HighlightedText]:
    """One text model's column: its verdict, and its words highlighted."""
    with gr.Column(min_width=260):
        label = gr.Label(label=title, num_top_classes=2, elem_id=f"compare-{name}")
        tokens = gr.HighlightedText(
            label=tokens_label, show_legend=False, combine_adjacent=False, elem_id=f"compare-{name}-tokens"
        )
    return label, tokens


def compare_tab(store: ModelStore, tab: gr.Tab) -> None:
    table_facts = facts.ModelTable(store)
    gr.Markdown("### The same sentence, two readers")
    text = gr.Textbox(label="A sentence for both text models", value="It's not bad, I'd say!", elem_id="compare-input")
    with gr.Row():
        rnn_label, rnn_tokens = reader("RNN (LSTM)", "rnn", "RNN: how much each word moved it")
        tf_label, tf_tokens = reader("Transformer", "transformer", "Transformer: what the classifier attends to")
    gr.Examples(
        [
            [s]
            for s in (
                "It's not bad, I'd say!",
                "I expected to hate it, but it won me over.",
                "The first hour is a slog, and yet the ending is so moving that I forgave it everything.",
                "Not the worst movie I've seen, but far from good.",
            )
        ],
        inputs=[text],
        label="Sentences where word order matters",
    )
    gr.Markdown("### The four models, measured")
    table = gr.Dataframe(headers=facts.TABLE_HEADERS, interactive=False, wrap=True, elem_id="compare-table")
    gr.Markdown(
        "Quality: `python -m archdemo.evaluate` on the bundled weights. Latency: median of 20 requests through "
        "the app's own code (preprocessing included) on the machine serving this page, measured when you open "
        "this tab."
    )
    by_length = gr.Plot(label="SST-2 dev accuracy by sentence length", elem_id="compare-by-length")
    gr.Markdown(WHEN)

    @user_errors
    def both(sentence: str):
        if not (sentence or "").strip():
            return None, None, None, None
        r, t = read_sentence(store, "rnn", sentence), read_sentence(store, "transformer", sentence)
        return r.answer["probabilities"], word_highlights(r), t.answer["probabilities"], word_highlights(t)

    @user_errors
    def measured():
        metrics = facts.saved_metrics() or {}
        lengths = metrics.get("by_length")
        figure = None
        if lengths:
            figure = plots.accuracy_by_length_figure(
                lengths["buckets"], {"RNN": lengths["rnn"], "Transformer": lengths["transformer"]}, lengths["counts"]
            )
        return table_facts.rows(), figure

    outputs = [rnn_label, rnn_tokens, tf_label, tf_tokens]
    gr.on(
        [tab.select, text.change],
        both,
        text,
        outputs,
        **LIVE,
    )
    tab.select(measured, None, [table, by_length], api_visibility="private")
