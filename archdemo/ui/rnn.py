"""RNN tab: one sentence, read word by word by the LSTM, and how its belief moved at each word."""

from __future__ import annotations

import functools

import gradio as gr

import archdemo.models.rnn
from archdemo.plots import sentences as plots
from archdemo.tasks.sentences import read_sentence
from archdemo.ui.errors import user_errors
from archdemo.ui.guide import steps_for
from archdemo.ui.layout import about, source_code
from archdemo.ui.own_model import own_model_picker
from archdemo.ui.sentences import live_blank, notices_markdown, sentence_input, wire_reading, word_highlights
from archdemo.weights.store import ModelStore

NAME = "rnn"
ABOUT = (
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
)


def rnn_tab(store: ModelStore) -> None:
    about(*ABOUT)
    gr.Markdown("The LSTM and the from-scratch Transformer learned from the same SST-2 phrases and tokenizer.")
    text, button, prediction, notes = sentence_input(store, NAME, [NAME])
    tokens = gr.HighlightedText(
        label="How much each word moved the verdict", elem_id="rnn-tokens", show_legend=True, combine_adjacent=False
    )
    belief = gr.Plot(label="Belief while reading", elem_id="rnn-belief")
    hidden = gr.Plot(label="Hidden state over time", elem_id="rnn-hidden")
    own_choice, model_events = own_model_picker(store, NAME)
    source_code(archdemo.models.rnn)

    @user_errors
    def read(sentence: str, own: str | None, live: bool = False):
        if live_blank(sentence, live):
            return None, "", None, None, None
        r = read_sentence(store, NAME, sentence, own)  # one guarded pass: verdict and insides
        return (
            r.answer["probabilities"],
            notices_markdown(r),
            word_highlights(r),
            plots.belief_plot(r.tokens, r.belief, r.labels[1]),
            plots.hidden_state_heatmap(r.tokens, r.hidden),
        )

    inputs, outputs = [text, own_choice], [prediction, notes, tokens, belief, hidden]
    wire_reading(read, text, button, inputs, outputs, live=[])
    steps_for(NAME, text=text, read=(read, inputs, outputs))  # the guided lesson and links read through it
    for event in model_events:
        event.then(functools.partial(read, live=True), inputs, outputs, api_visibility="private")
