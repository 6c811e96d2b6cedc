"""What the two sentence tabs (RNN, Transformer) share: the examples, the input column, highlighted words, wiring.

Each tab (``ui.rnn``, ``ui.transformer``) adds its own insides; everything a reader's name decides (its
titles, its tokenizer) comes from the registry and the store.
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Callable

import gradio as gr

from archdemo.inputs.words import MAX_TEXT_CHARS
from archdemo.plots import sentences as plots
from archdemo.plots.figure import AMOUNT, TOWARD_NEGATIVE, TOWARD_POSITIVE
from archdemo.tasks.sentences import SentimentReading, read_sentence
from archdemo.ui.layout import CLICK, LIVE
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
    verb = "gets" if len(wrong) == 1 else "get"
    return f"{sentence} ({why}" + (f"; {' and '.join(wrong)} {verb} it wrong" if wrong else "") + ")"


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:.2f})"


# The two scales the highlighted words use, each with its legend: one meaning per scale on every tab.
INFLUENCE_LEGEND = ("towards negative", "no push", "towards positive")
ATTENTION_LEGEND = ("none", "the most in this sentence")


def word_scale_html(tokens: list[str], scores: list[float], kind: str) -> str:
    """The words, each on a background that encodes its score, above the legend of that scale.

    ``kind`` "influence": scores in [-1, 1] on the diverging scale around zero (red down, blue up);
    "attention": scores in [0, 1] on the one-colour scale from zero. Opacity carries the size, so zero is
    the page's own background in light and dark themes alike. WordPiece pieces ("##og") are joined to
    the piece before them, as the word was typed.
    """
    words = []
    for token, score in zip(tokens, scores, strict=True):
        if kind == "attention":
            background = _rgba(AMOUNT, 0.65 * max(0.0, score))
        else:
            background = _rgba(TOWARD_POSITIVE if score >= 0 else TOWARD_NEGATIVE, 0.65 * min(1.0, abs(score)))
        piece = bool(words) and token.startswith("##")
        shown = html.escape(token[2:] if piece else token)
        kind_class = "w piece" if piece else "w"
        span = f'<span class="{kind_class}" style="background:{background}" title="{score:+.2f}">{shown}</span>'
        words.append(span if piece or not words else " " + span)  # a space: where a line may wrap
    if kind == "attention":
        low, high = ATTENTION_LEGEND
        ramp = f"transparent, {_rgba(AMOUNT, 0.65)}"
    else:
        low, _, high = INFLUENCE_LEGEND
        ramp = f"{_rgba(TOWARD_NEGATIVE, 0.65)}, transparent, {_rgba(TOWARD_POSITIVE, 0.65)}"
    legend = f'<span>{low}</span><span class="ramp" style="background:linear-gradient(90deg, {ramp})"></span>'
    return (
        f'<div class="word-scale" data-scale="{kind}"><div class="words">{"".join(words)}</div>'
        f'<div class="scale-legend" aria-label="colour legend">{legend}<span>{high}</span></div></div>'
    )


def word_highlights(r: SentimentReading) -> str:
    """The visitor's words, coloured by how far each moved the verdict (the LSTM, the word CNN: diverging
    scale) or by how much the classifier's summary attends to them (Transformers: one-colour scale)."""
    kind = "influence" if r.influence is not None else "attention"
    scores = r.influence if r.influence is not None else r.pooled_attention
    spans = plots.highlight_spans(r.tokens[r.words], scores[r.words])
    return word_scale_html([t for t, _ in spans], [v for _, v in spans], kind)


def word_scale(label: str, elem_id: str) -> gr.HTML:
    """Where the highlighted words go: a title, and the words with their legend (``word_highlights``)."""
    gr.Markdown(f"**{label}**", elem_classes="word-scale-title")
    return gr.HTML(elem_id=elem_id, js_on_load=None, min_height=60)


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
            example_buttons(store, tab, readers, text)
        with gr.Column(scale=2, min_width=260):
            prediction = gr.Label(label="Sentiment", num_top_classes=2, elem_id=f"{tab}-prediction")
            notes = gr.Markdown(elem_id=f"{tab}-notes")
    return text, button, prediction, notes


def example_buttons(store: ModelStore, tab: str, readers: list[str], text: gr.Textbox) -> None:
    """EXAMPLES as buttons, each saying why it is interesting and which of the tab's readers get it wrong."""
    labels = [example_label(store, readers, sentence, truth, why) for sentence, truth, why in EXAMPLES]
    sentence_buttons("Examples", [(label, s) for label, (s, _, _) in zip(labels, EXAMPLES, strict=True)], text, tab)


def sentence_buttons(title: str, examples: list[tuple[str, str]], text: gr.Textbox, tab: str) -> None:
    """(label, sentence) examples as buttons that show their whole label (gr.Examples cuts every label at
    60 characters, which cut off the very note that makes an example worth trying). A click fills the box
    in the browser; the box's change event then reads it, as typing does."""
    gr.Markdown(title, elem_classes="examples-title")
    with gr.Row(elem_classes="example-buttons", elem_id=f"{tab}-examples"):
        for label, sentence in examples:
            button = gr.Button(label, size="sm", variant="secondary", min_width=0)
            button.click(None, None, text, js=f"() => {json.dumps(sentence)}", api_visibility="private")


def notices_markdown(r: SentimentReading) -> str:
    return "\n".join(f"- {n}" for n in r.notices)


def wire_reading(read: Callable, text: gr.Textbox, button: gr.Button, inputs: list, outputs: list, live: list) -> None:
    """``read(sentence, *controls, live=...)`` on a click or Enter, and live on typing and on ``live`` events."""
    for trigger in (button.click, text.submit):
        trigger(read, inputs, outputs, **CLICK)
    gr.on([text.change, *live], functools.partial(read, live=True), inputs, outputs, **LIVE)


def live_blank(sentence: str | None, live: bool) -> bool:
    """A cleared box while typing is not an error: the outputs just empty."""
    return live and not (sentence or "").strip()
