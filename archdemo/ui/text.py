"""RNN and Transformer tabs: one sentence, and how each model arrives at its verdict."""

from __future__ import annotations

import functools

import gradio as gr

import archdemo.models.bert
import archdemo.models.rnn
import archdemo.models.transformer
from archdemo import plots
from archdemo.sentiment import SentimentReading, read_sentence
from archdemo.store import ModelStore
from archdemo.text_processing import MAX_TEXT_CHARS
from archdemo.ui.errors import user_errors
from archdemo.ui.layout import LIVE, about, source_code
from archdemo.ui.own_model import own_model_picker

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


ABOUT = {
    "rnn": (
        "Recurrent network (LSTM)",
        "An RNN reads one word at a time, left to right, and after each word updates a fixed-size "
        "memory (its hidden state). Its verdict is whatever that memory says after the last word. "
        "An LSTM adds gates that decide what to keep and what to forget, which lets it carry a "
        "'not' forward to the word it negates.",
        "sequences whose meaning builds up in order: text, speech, sensor streams; it works on any length.",
        "long texts, where early words fade from its memory, and it cannot look ahead: it must commit "
        "to each word before seeing the next. Reading is step by step, so it cannot be parallelised.",
        "the line shows the probability of 'positive' after each word: watch it swing at 'not', 'but' "
        "and strong adjectives. Words are coloured by how far they moved it (red up, purple down). The "
        "heatmap is the memory itself, one row per memory unit.",
    ),
    "transformer": (
        "Transformer",
        "A Transformer reads all the words at once. In each layer every word builds its new meaning as a "
        "weighted mix of all the words, with weights (attention) it computes from the words themselves. "
        "Word order only enters through position signals added to the words (here, sine waves plus a "
        "penalty for attending far away).",
        "capturing relations between words however far apart, and training fast on GPUs because all "
        "positions are computed in parallel; with lots of data (or pretraining) it beats every other family.",
        "small data: with no built-in sense of order it has to learn grammar from examples, and on a few "
        "thousand sentences (as here) it is no better than the RNN. Attention costs grow with the square "
        "of the length.",
        "the attention map: row = the word that is looking, column = the word it looks at. Pick a layer "
        "and a head: some heads look at neighbours, others at sentiment words. Words are highlighted by "
        "how much the classifier's summary attends to them.",
    ),
}


# The Transformer tab's two readers: (label, model name). The pretrained one reads first.
READERS = [
    ("Pretrained on a billion sentence pairs, fine-tuned here (22.7 M parameters)", "pretrained_transformer"),
    ("Trained here from scratch on SST-2 only (1.3 M parameters)", "transformer"),
]
SHORT = {"pretrained_transformer": "the pretrained reader", "transformer": "the from-scratch reader"}
PRETRAINING = """
**What pretraining changes.** The from-scratch reader has only ever seen 67,000 short movie-review
phrases: everything it knows about English, word order and negation had to come from them. The pretrained
reader's encoder first spent a very long training run on a billion pairs of sentences from the web,
learning to tell which sentences mean the same thing; only its last step, a few hundred thousand numbers
(small low-rank updates beside its weight matrices, and a classifier), was learned here on SST-2. So
when it meets "not bad", it already knows what "not" does to the word after it. Compare the two on the
examples below, and look at how differently their attention is spread (6 layers x 12 heads here against
2 x 4). The Compare tab measures the difference on sentences with negation and contrast.
"""


def wrong_note(store: ModelStore, name: str, sentence: str, truth: str) -> str:
    """', this model gets it wrong' when it does: the label is computed from the model, never hand-written."""
    return "" if read_sentence(store, name, sentence).answer["label"] == truth else "; this model gets it wrong"


def word_highlights(r: SentimentReading) -> list[tuple[str, float]]:
    """The visitor's words, coloured by how far each moved the LSTM, or by the classifier's attention."""
    scores = r.influence if r.influence is not None else r.pooled_attention
    return plots.highlight_spans(r.tokens[r.words], scores[r.words])


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


def example_label(store: ModelStore, name: str, sentence: str, truth: str, why: str) -> str:
    if name == "rnn":
        return f"{sentence} ({why}{wrong_note(store, name, sentence, truth)})"
    wrong = [SHORT[n] for _, n in READERS if wrong_note(store, n, sentence, truth)]
    return f"{sentence} ({why}" + (f"; {' and '.join(wrong)} gets it wrong" if wrong else "") + ")"


def text_tab(store: ModelStore, name: str) -> None:
    about(*ABOUT[name])
    if name == "rnn":
        gr.Markdown("The LSTM and the from-scratch Transformer learned from the same SST-2 phrases and tokenizer.")
    else:
        gr.Markdown(PRETRAINING)
        reader = gr.Radio(READERS, value=READERS[0][1], label="Which Transformer reads", elem_id="transformer-reader")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            text = gr.Textbox(
                label="A sentence",
                placeholder="Type a movie-review style sentence...",
                lines=2,
                max_length=MAX_TEXT_CHARS,
                elem_id=f"{name}-input",
            )
            button = gr.Button("Read it", variant="primary", elem_id=f"{name}-submit")
            gr.Examples(
                [[s] for s, _, _ in EXAMPLES],
                inputs=[text],
                example_labels=[example_label(store, name, s, truth, why) for s, truth, why in EXAMPLES],
            )
        with gr.Column(scale=2, min_width=260):
            prediction = gr.Label(label="Sentiment", num_top_classes=2, elem_id=f"{name}-prediction")
            notes = gr.Markdown(elem_id=f"{name}-notes")
    tokens = gr.HighlightedText(
        label="How much each word moved the verdict" if name == "rnn" else "What the classifier attends to",
        elem_id=f"{name}-tokens",
        show_legend=True,
        combine_adjacent=False,
    )
    if name == "rnn":
        plot_a = gr.Plot(label="Belief while reading", elem_id="rnn-belief")
        plot_b = gr.Plot(label="Hidden state over time", elem_id="rnn-hidden")
        controls = []
    else:
        layers, heads = transformer_menus(store.get(READERS[0][1]).config)
        with gr.Row():
            layer = gr.Dropdown(**layers, label="Layer", elem_id="transformer-layer")
            head = gr.Dropdown(**heads, label="Head", elem_id="transformer-head")
        plot_a = gr.Plot(label="Attention", elem_id="transformer-attention")
        plot_b = gr.State(None)
        controls = [reader, layer, head]
    own_choice, model_events = own_model_picker(store, name)

    def chosen(who: str | None, own: str | None) -> tuple[str, str | None]:
        """The model that reads, and the visitor's own model if it applies (it replaces the from-scratch one)."""
        if name == "rnn":
            return name, own
        who = who if who in SHORT else "transformer"
        return who, own if who == "transformer" else None

    def transformer_controls(who: str | None, own: str | None):
        layers, heads = transformer_menus(store.get(*chosen(who, own)).config)
        return gr.update(**layers), gr.update(**heads)

    if name == "rnn":
        source_code(archdemo.models.rnn)
    else:
        source_code(archdemo.models.bert, archdemo.models.transformer)

    @user_errors
    def read(sentence: str, *choices: str | None, live: bool = False):
        *choices, own = choices  # the controls' values, then the visitor's own model (or None)
        if live and not (sentence or "").strip():
            return None, "", None, None, None  # a cleared box while typing is not an error
        who, own = chosen(choices[0] if choices else None, own)
        r = read_sentence(store, who, sentence, own)  # one guarded pass: verdict and insides
        note, probs = "\n".join(f"- {n}" for n in r.notices), r.answer["probabilities"]
        if name == "rnn":
            return (
                probs,
                note,
                word_highlights(r),
                plots.belief_plot(r.tokens, r.belief, r.labels[1]),
                plots.hidden_state_heatmap(r.tokens, r.hidden),
            )
        heatmap, title = attention_view(r, *choices[1:])
        return probs, note, word_highlights(r), plots.attention_heatmap(r.tokens, heatmap, title), None

    outputs = [prediction, notes, tokens, plot_a, plot_b]
    inputs = [text, *controls, own_choice]
    for trigger in (button.click, text.submit):
        trigger(read, inputs, outputs, api_visibility="private")
    live_read = functools.partial(read, live=True)
    if controls:  # the layer and head menus follow the reader's shape
        menus = {"fn": transformer_controls, "inputs": [reader, own_choice], "outputs": controls[1:]}
        # A visitor's own Transformer takes the from-scratch reader's place, so the chooser moves to it.
        to_own = lambda own: gr.update(value="transformer") if own else gr.update()  # noqa: E731
        model_events = [
            e.then(to_own, own_choice, reader, api_visibility="private").then(**menus, api_visibility="private")
            for e in model_events
        ]
        model_events.append(reader.change(**menus, api_visibility="private"))
    for event in model_events:
        event.then(live_read, inputs, outputs, api_visibility="private")
    gr.on(
        [text.change, *[c.change for c in controls[1:]]],
        live_read,
        inputs,
        outputs,
        **LIVE,
    )
