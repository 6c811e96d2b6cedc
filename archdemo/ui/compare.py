"""Compare tab: one sentence through every text model, and every model's measured numbers."""

from __future__ import annotations

import gradio as gr

from archdemo.plots import sentences as plots
from archdemo.tasks.sentences import read_sentence
from archdemo.ui import model_table as facts
from archdemo.ui import which_to_use
from archdemo.ui.data_efficiency import data_efficiency_view
from archdemo.ui.errors import user_errors
from archdemo.ui.guide import steps_for
from archdemo.ui.layout import LIVE
from archdemo.ui.sentences import sentence_buttons, word_highlights, word_scale
from archdemo.weights.registry import TEXT_MODELS, get_spec
from archdemo.weights.store import ModelStore

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
  **Transformer**. Trained from scratch on SST-2's 67,000 short phrases, as here, it has no edge over the LSTM;
  start it from a model pretrained on a great deal of text and fine-tune it (the third reader above) and it
  reads negation and turns of phrase the small models miss.
"""


def reader(title: str, name: str, tokens_label: str) -> tuple[gr.Label, gr.HTML]:
    """One text model's column: its verdict, and its words highlighted on its scale, with the legend."""
    with gr.Column(min_width=260):
        label = gr.Label(label=title, num_top_classes=2, elem_id=f"compare-{name}")
        tokens = word_scale(tokens_label, f"compare-{name}-tokens")
    return label, tokens


READERS = TEXT_MODELS  # every sentence reader, in the registry's order
HARD_HEADERS = ["reader", "negation", "contrast", "all"]


def tokens_label(name: str) -> str:
    """What a reader's highlighted words mean, by how the reader reads (see ``tasks.sentences``)."""
    spec = get_spec(name)
    if hasattr(spec.model_cls, "read"):
        return f"The {spec.short}: how far each word pushed the verdict"
    if hasattr(spec.model_cls, "filter_maxima"):
        return f"The {spec.short}: how far each word's windows pushed the verdict"
    return f"The {spec.short}: how much attention each word got (not a push either way)"


def hard_sentence_rows(metrics: dict) -> list[list[str]]:
    """How each reader did on the project's own sentences with negation and contrast (from evaluate)."""
    found = metrics.get("negation_contrast") or {}
    rows = []
    for name in READERS:
        m = found.get(name)
        if m:
            title = get_spec(name).title
            rows.append([title, *(f"{m[k]['right']} of {m[k]['n']}" for k in ("negation", "contrast", "all"))])
    return rows


def compare_tab(store: ModelStore, tab: gr.Tab) -> None:
    table_facts = facts.ModelTable(store)
    gr.Markdown(
        "### The same sentence, every reader\n"
        "Two kinds of colour below, each with its legend: for the LSTM and the CNN, how far a word pushed the "
        "verdict (red towards negative, blue towards positive); for the Transformers, how much attention a "
        "word got (one colour: attention says where a reader looked, not which way it leaned).",
        elem_classes="fine-print",
    )
    text = gr.Textbox(label="A sentence for every text model", value="It's not bad, I'd say!", elem_id="compare-input")
    sentence_buttons(
        "Sentences where word order matters",
        [
            (s, s)
            for s in (
                "It's not bad, I'd say!",
                "I expected to hate it, but it won me over.",
                "The first hour is a slog, and yet the ending is so moving that I forgave it everything.",
                "Not the worst movie I've seen, but far from good.",
            )
        ],
        text,
        "compare",
    )
    with gr.Row():
        columns = [reader(get_spec(name).title, name, tokens_label(name)) for name in READERS]
    gr.Markdown(
        "### Sentences with negation and contrast\n"
        "60 sentences written for this project (`archdemo/assets/negation_contrast.tsv`: 30 with negation such as "
        '"not bad at all", 30 where the verdict turns, such as "I expected to hate it, but..."), each scored '
        "by `python -m archdemo.evaluate`. How many each reader gets right:"
    )
    hard = gr.Dataframe(headers=HARD_HEADERS, interactive=False, elem_id="compare-negation", elem_classes="fit-table")
    gr.Markdown("### The models, measured")
    table = gr.Dataframe(
        headers=facts.TABLE_HEADERS,
        interactive=False,
        wrap=True,
        # Fixed widths, so the long quality cells wrap and all seven columns fit a laptop's width.
        column_widths=["17%", "13%", "10%", "8%", "26%", "11%", "15%"],
        max_height=1600,  # every model in view, not a second scroll bar inside the page
        elem_id="compare-table",
        elem_classes="fit-table",
    )
    gr.Markdown(
        "Quality: `python -m archdemo.evaluate` on the bundled weights. For the sentence readers it is accuracy "
        "on SST-2 dev, the 872 sentences (n = 872) held out from training to score on; for the digit readers, "
        "the 10,000 MNIST test digits; for the autoencoder, PSNR (peak signal-to-noise ratio, in decibels: "
        "higher means the rebuilt digit is closer to the clean one; every 10 dB is ten times less squared "
        "error); for the writers, validation loss in nats per character (on Shakespeare they never trained on, "
        "how surprised each was by the true next character, on average: -ln of the probability it gave it; "
        "lower is better). Latency: median of 20 requests through the app's own code (preprocessing "
        "included) on the machine serving this page, measured once when the tab is first opened, or again "
        "when you ask."
    )
    with gr.Row():
        when = gr.Markdown(elem_id="compare-measured-at")
        again = gr.Button("Measure the latencies again", size="sm", scale=0, elem_id="compare-measure-again")
    by_length = gr.Plot(label="SST-2 dev accuracy by sentence length", show_label=False, elem_id="compare-by-length")
    gr.Markdown(
        "### Which to use when, measured\n"
        "Every architecture on every task, each cell a model trained here: its quality (accuracy on MNIST "
        "test digits or SST-2 dev sentences; for writing, validation loss in nats per character, lower is "
        "better), its size, its training time on this project's CPU and its latency on this machine."
    )
    which = gr.Dataframe(
        headers=which_to_use.HEADERS,
        interactive=False,
        wrap=True,
        column_widths=["13%", "29%", "29%", "29%"],  # fixed widths, so the long cells wrap instead of scrolling
        elem_id="compare-which",
        elem_classes="fit-table",
    )
    gr.Markdown(WHEN)
    data_efficiency_view(tab)

    @user_errors
    def readers(sentence: str):
        if not (sentence or "").strip():
            return (None,) * (2 * len(READERS))
        out = []
        for name in READERS:  # each reader once: its verdict and its words highlighted
            r = read_sentence(store, name, sentence)
            out += [r.answer["probabilities"], word_highlights(r)]
        return tuple(out)

    @user_errors
    def measured(remeasure: bool = False):
        metrics = facts.saved_metrics() or {}
        lengths = metrics.get("by_length")
        figure = None
        if lengths:
            shown = {get_spec(name).short: lengths[name] for name in READERS if name in lengths}
            figure = plots.accuracy_by_length_figure(lengths["buckets"], shown, lengths["counts"])
        rows = table_facts.rows(again=remeasure)  # the latencies the "which to use" table quotes, once measured
        return (
            rows,
            table_facts.when(),
            figure,
            hard_sentence_rows(metrics),
            which_to_use.which_to_use_rows(store, metrics, table_facts.latencies),
        )

    gr.on(
        [tab.select, text.change],
        readers,
        text,
        [part for column in columns for part in column],
        **LIVE,
    )
    outputs = [table, when, by_length, hard, which]
    tab.select(measured, None, outputs, api_visibility="private")

    def measure_again():
        return measured(True)

    again.click(measure_again, None, outputs, api_visibility="private", concurrency_limit=1)
    steps_for("compare", text=text)  # the guided lesson's sentences
