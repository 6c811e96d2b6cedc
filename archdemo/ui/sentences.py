"""What the two sentence tabs (RNN, Transformer) share: the examples, the input column, highlighted words, wiring.

Each tab (``ui.rnn``, ``ui.transformer``) adds its own insides; everything a reader's name decides (its
titles, its tokenizer) comes from the registry and the store.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import gradio as gr

from archdemo.inputs.words import MAX_TEXT_CHARS
from archdemo.plots import sentences as plots
from archdemo.tasks.sentences import SentimentReading, read_sentence
from archdemo.ui.layout import LIVE
from archdemo.weights.registry import get_spec
from archdemo.weights.store import ModelStore

# (sentence, its true sentiment, what makes it interesting). tests/test_ui_examples.py checks every
# claim made here ("clearly", "gets this wrong") against the bundled weights, so they stay true.
EXAMPLES = [
    ("A gorgeous, witty and deeply moving film.", "positive", "clearly positive"),
    ("The plot is thin and the jokes fall flat.", "negative", "clearly negative"),
    ("It's not bad, I'd say!", "positive", "negation: 'not bad'"),
    ("I expected to hate it, but it won me over.", "positive", "the turn comes late"),
    ("Not the worst movie I've seen, but far from good.", "negative", "mixed signals"),
    ("Oh great, another two hours of my life I will never get back.", "negative", "sarcasm"),
]


def wrong_note(store: ModelStore, name: str, sentence: str, truth: str) -> str:
    """', this model gets it wrong' when it does: the label is computed from the model, never hand-written."""
    return "" if read_sentence(store, name, sentence).answer["label"] == truth else "; this model gets it wrong"


def example_label(store: ModelStore, readers: list[str], sentence: str, truth: str, why: str) -> str:
    """An example's button: the sentence, why it is interesting, and which of the tab's readers get it wrong."""
    if len(readers) == 1:
        return f"{sentence} ({why}{wrong_note(store, readers[0], sentence, truth)})"
    wrong = [f"the {get_spec(n).short}" for n in readers if wrong_note(store, n, sentence, truth)]
    return f"{sentence} ({why}" + (f"; {' and '.join(wrong)} gets it wrong" if wrong else "") + ")"


def word_highlights(r: SentimentReading) -> list[tuple[str, float]]:
    """The visitor's words, coloured by how far each moved the LSTM, or by the classifier's attention."""
    scores = r.influence if r.influence is not None else r.pooled_attention
    return plots.highlight_spans(r.tokens[r.words], scores[r.words])


def sentence_input(
    store: ModelStore, tab: str, readers: list[str]
) -> tuple[gr.Textbox, gr.Button, gr.Label, gr.Markdown]:
    """The sentence box with its examples, and the verdict beside it: (text, button, prediction, notes)."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            text = gr.Textbox(
                label="A sentence",
                value="It's not bad, I'd say!",  # read when the tab is first opened (ui.guide), as Compare does
                placeholder="Type a movie-review style sentence...",
                lines=2,
                max_length=MAX_TEXT_CHARS,
                elem_id=f"{tab}-input",
            )
            button = gr.Button("Read it", variant="primary", elem_id=f"{tab}-submit")
            gr.Examples(
                [[s] for s, _, _ in EXAMPLES],
                inputs=[text],
                example_labels=[example_label(store, readers, s, truth, why) for s, truth, why in EXAMPLES],
            )
        with gr.Column(scale=2, min_width=260):
            prediction = gr.Label(label="Sentiment", num_top_classes=2, elem_id=f"{tab}-prediction")
            notes = gr.Markdown(elem_id=f"{tab}-notes")
    return text, button, prediction, notes


def notices_markdown(r: SentimentReading) -> str:
    return "\n".join(f"- {n}" for n in r.notices)


def wire_reading(read: Callable, text: gr.Textbox, button: gr.Button, inputs: list, outputs: list, live: list) -> None:
    """``read(sentence, *controls, live=...)`` on a click or Enter, and live on typing and on ``live`` events."""
    for trigger in (button.click, text.submit):
        trigger(read, inputs, outputs, api_visibility="private")
    gr.on([text.change, *live], functools.partial(read, live=True), inputs, outputs, **LIVE)


def live_blank(sentence: str | None, live: bool) -> bool:
    """A cleared box while typing is not an error: the outputs just empty."""
    return live and not (sentence or "").strip()
