"""Transformer tab: one sentence, read all at once by a pretrained or a from-scratch Transformer, and its attention."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import gradio as gr
from safetensors import safe_open

import archdemo.models.bert
import archdemo.models.transformer
from archdemo.plots import sentences as plots
from archdemo.tasks.sentences import SentimentReading, read_sentence
from archdemo.ui.errors import user_errors
from archdemo.ui.guide import steps_for
from archdemo.ui.layout import about, source_code
from archdemo.ui.own_model import own_model_picker
from archdemo.ui.sentences import (
    live_blank,
    notices_markdown,
    sentence_input,
    wire_reading,
    word_highlights,
    word_scale,
)
from archdemo.weights.registry import get_spec
from archdemo.weights.store import ModelStore

TAB = "transformer"
READERS = ["pretrained_transformer", "transformer"]  # the pretrained one reads first
OWN = "transformer"  # a visitor's own Transformer takes the from-scratch reader's place
ABOUT = (
    "Transformer",
    "A Transformer reads all the words at once. In each layer every word builds its new meaning as a "
    "weighted mix of all the words, with weights (attention) it computes from the words themselves. "
    "Attention alone ignores word order, so position signals are added: the pretrained reader learned "
    "one vector per position during its pretraining; the from-scratch reader adds fixed sine waves and "
    "a penalty for attending to words far away.",
    "capturing relations between words however far apart, and training fast on GPUs because all "
    "positions are computed in parallel; pretrained on a great deal of text, Transformers are today's "
    "strongest readers on most language tasks.",
    "small data: with no built-in sense of order it has to learn grammar from examples, and trained "
    "from scratch on SST-2's 67,000 short phrases (as here) it is no better than the LSTM. Attention "
    "costs grow with the square of the length.",
    "the attention map: row = the word that is looking, column = the word it looks at. Pick a layer "
    "and a head (one of the attention computations that run side by side in a layer): some heads look at "
    "neighbours, others at sentiment words. [CLS] and [SEP] are marker tokens added at the start and the "
    "end; a word the pretrained reader's vocabulary does not hold whole is split into pieces, each later "
    "piece written with ## in front (drag + ##s). Words are highlighted by how much the classifier's "
    "summary attends to them: one colour, from none to the most in the sentence.",
)
PRETRAINING = """
**What pretraining changes.** The from-scratch reader has only ever seen SST-2's 67,000 short movie-review
phrases: everything it knows about English, word order and negation had to come from them. The pretrained
reader's encoder first spent a very long training run on a billion pairs of sentences from the web,
learning to tell which sentences mean the same thing; only its last step was learned here on SST-2:
{trained} numbers, low-rank updates (LoRA: beside each big weight matrix, a small correction made of two
thin matrices, so few numbers need training) and a classifier. That is why its weights file here is
{size} although the model has {params} parameters: the file holds only what was learned here, and the
90.9 MB base is fetched from the Hugging Face Hub (or its local copy). So when it meets "not bad", it
already knows what "not" does to the word after it. Compare the two on the examples, and look at how
differently their attention is spread (6 layers x 12 heads here against 2 x 4). The Compare tab measures
the difference on sentences with negation and contrast.
"""


def pretraining_text(store: ModelStore) -> str:
    """PRETRAINING with the pretrained reader's numbers read from its weights file and the model itself."""
    name = READERS[0]
    params = sum(p.numel() for p in store.get(name).parameters())
    source = store.source(name)
    path = Path(source.location, "model.safetensors") if source.kind == "dir" else None
    if path is None or not path.exists():  # a Hub repo: its file is not on this disk to measure
        return PRETRAINING.format(trained="a few hundred thousand", size="small", params=f"{params / 1e6:.1f} M")
    with safe_open(str(path), "pt") as f:
        trained = sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())  # noqa: SIM118 - not a dict
    size = f"{path.stat().st_size / 1e6:.2f} MB"
    return PRETRAINING.format(trained=f"{trained:,}", size=size, params=f"{params / 1e6:.1f} M")


def reader_choice(store: ModelStore, name: str) -> tuple[str, str]:
    """A reader's radio button: (what it is, with its size from the model itself; its name)."""
    n = sum(p.numel() for p in store.get(name).parameters())
    spec = get_spec(name)
    return f"{spec.short[0].upper()}{spec.short[1:]}: {spec.about} ({n / 1e6:.1f} M parameters)", name


def attention_view(r: SentimentReading, layer: str | None, head: str | None) -> tuple[object, str]:
    """The attention map for a chosen layer and head (or all heads averaged), and its title."""
    layer_i = min(int(layer or 1), len(r.attention)) - 1  # another model may have fewer layers
    heads = r.attention[layer_i]  # (h, T, T)
    one = not str(head).startswith("all") and int(head) <= heads.shape[0]
    chosen = heads[int(head) - 1] if one else heads.mean(0)
    return chosen, f"Layer {layer_i + 1}, " + (f"head {head}" if one else "all heads")


def transformer_menus(config) -> tuple[dict, dict]:
    """Layer and head menus (as gr.update arguments) for a Transformer config; last layer, all heads."""
    return (
        {"choices": [str(i + 1) for i in range(config.num_layers)], "value": str(config.num_layers)},
        {"choices": ["all (average)", *[str(i + 1) for i in range(config.num_heads)]], "value": "all (average)"},
    )


def transformer_tab(store: ModelStore) -> None:
    about(*ABOUT)
    text, button, prediction, notes = sentence_input(store, TAB, READERS)
    choices = [reader_choice(store, n) for n in READERS]
    reader = gr.Radio(choices, value=READERS[0], label="Which Transformer reads", elem_id="transformer-reader")
    with gr.Accordion("What pretraining changes", open=False):
        gr.Markdown(pretraining_text(store))
    tokens = word_scale("What the classifier attends to", "transformer-tokens")
    layers, heads = transformer_menus(store.get(READERS[0]).config)
    with gr.Row():
        layer = gr.Dropdown(**layers, label="Layer", elem_id="transformer-layer")
        head = gr.Dropdown(**heads, label="Head", elem_id="transformer-head")
    # The map keeps its own size and scrolls in its box: a long text's map grows so that every token keeps
    # a readable label (a class set once: changing it with each reading cost every update a re-render).
    attention = gr.Plot(label="Attention", show_label=False, elem_id="transformer-attention", elem_classes="wide-plot")
    gr.Markdown(
        "[CLS] and [SEP] are marker tokens each reader adds at the start and the end (the from-scratch "
        "reader's classifier reads the [CLS] row); ## marks the later pieces of a word the pretrained "
        "reader's vocabulary splits (drag + ##s). Colour: attention weight, from none to the most in the map.",
        elem_classes="caption",
    )
    own_choice, model_events = own_model_picker(store, OWN, replaces=f"the {get_spec(OWN).short}")
    source_code(archdemo.models.bert, archdemo.models.transformer)

    def chosen(who: str | None, own: str | None) -> tuple[str, str | None]:
        """The model that reads, and the visitor's own model if it applies (it replaces the from-scratch one)."""
        who = who if who in READERS else OWN
        return who, own if who == OWN else None

    def menus_for(who: str | None, own: str | None):
        layers, heads = transformer_menus(store.get(*chosen(who, own)).config)
        return gr.update(**layers), gr.update(**heads)

    @user_errors
    def read(
        sentence: str, who: str | None, layer_: str | None, head_: str | None, own: str | None, live: bool = False
    ):
        if live_blank(sentence, live):
            return None, "", None, None
        name, own = chosen(who, own)
        r = read_sentence(store, name, sentence, own)  # one guarded pass: verdict and every layer's attention
        heatmap, title = attention_view(r, layer_, head_)
        figure = plots.attention_heatmap(r.tokens, heatmap, title)
        return r.answer["probabilities"], notices_markdown(r), word_highlights(r), figure

    inputs, outputs = [text, reader, layer, head, own_choice], [prediction, notes, tokens, attention]
    wire_reading(read, text, button, inputs, outputs, live=[layer.change, head.change])
    steps_for(TAB, text=text, reader=reader, layer=layer, head=head, read=(read, inputs, outputs))
    menus = {"fn": menus_for, "inputs": [reader, own_choice], "outputs": [layer, head], "api_visibility": "private"}
    # A visitor's own Transformer takes the from-scratch reader's place, so the chooser moves to it.
    to_own = lambda own: gr.update(value=OWN) if own else gr.update()  # noqa: E731
    events = [e.then(to_own, own_choice, reader, api_visibility="private").then(**menus) for e in model_events]
    events.append(reader.change(**menus))
    for event in events:
        event.then(functools.partial(read, live=True), inputs, outputs, api_visibility="private")
