"""Write tab: an LSTM and a small GPT, trained here on tiny Shakespeare, continue the visitor's prompt side by side."""

from __future__ import annotations

import asyncio
import time

import gradio as gr
from gradio.components.plot import PlotData
from gradio.processing_utils import encode_plot_to_base64

import archdemo.models.char_cnn
import archdemo.models.char_lm
import archdemo.tasks.writing
from archdemo.errors import InputError
from archdemo.plots import writing as plots
from archdemo.runtime.offload import PICTURES
from archdemo.tasks.writing import (
    MAX_LENGTH,
    MAX_PROMPT_CHARS,
    MAX_TEMPERATURE,
    MIN_TEMPERATURE,
    Writing,
    check_prompt,
    check_settings,
    write_async,
)
from archdemo.ui.errors import as_user_error, user_errors
from archdemo.ui.guide import steps_for
from archdemo.ui.layout import LIVE, about, source_code
from archdemo.weights.cards import training_record
from archdemo.weights.registry import CHAR_MODELS, get_spec
from archdemo.weights.store import ModelStore

PLOT_FORMAT = "webp"  # how the tab's plots are encoded (as gr.Plot(format=...) encodes them)
WRITERS = {name: get_spec(name).short for name in CHAR_MODELS}  # model name -> its short name in this tab
PROMPTS = ["ROMEO:\n", "First Citizen:\nBefore we proceed any further, hear me speak.\n", "To be, or not to be", "KING"]
ABOUT = (
    "Writing one character at a time: an RNN, a Transformer and a CNN",
    "All three learned one thing from the same 1 MB of Shakespeare: guess the next character. To write, "
    "they guess, pick a character by its probability (the temperature sharpens or flattens the odds), "
    "read it, and guess again. The LSTM carries everything it has read in a fixed-size memory, updated "
    "at every character; the GPT keeps no memory at all, and instead looks back, through attention, at "
    "the last {block} characters each time it writes; the CNN slides fixed filters over exactly the last "
    "{field} characters, its receptive field, and sees nothing before them.",
    "the look of its training data: a name in capitals before each speech, verse broken into lines, mostly "
    "real words, all learned from characters alone. At this small size (about 2 million numbers each, "
    "about 20 minutes on two CPU cores) the LSTM ends best, then the GPT, then the CNN, which learns fast "
    "and then starts to memorise (the curves at the bottom).",
    "meaning: none knows what its words mean, and 1 MB of text is very little. Characters they never "
    "saw (digits, accents, quotation marks) cannot be typed at all.",
    "the speed at which text appears, then below it: the five characters each model found likeliest at "
    "any position (drag the slider), the LSTM's memory while it wrote, and where the GPT's newest "
    "character looks. At the bottom, how quickly each model learned on this project's CPU.",
)


def how_far_back(store: ModelStore) -> str:
    """How much of the text before it each writer can use when it picks the next character."""
    rnn, gpt, cnn = (store.get(n).config for n in ("char_rnn", "char_gpt", "char_cnn"))
    return (
        "**How far back each writer can see** when it picks the next character: the LSTM everything it has "
        f"read, squeezed into {rnn.hidden_size} numbers per layer that it rewrites at every character; the GPT "
        f"exactly the last {gpt.block_size} characters, each one looked at directly; the CNN exactly the last "
        f"{cnn.receptive_field} characters, through {len(cnn.dilations)} layers of filters whose gaps double "
        f"({', '.join(map(str, cnn.dilations))}), so each layer sees twice as far back as the one below."
    )


def title(store: ModelStore, name: str) -> str:
    n = sum(p.numel() for p in store.get(name).parameters())
    return f"{WRITERS[name]} ({type(store.get(name)).__name__}, {n / 1e6:.1f} M parameters)"


def insides(writings: dict | None, position: float | None, head: str | None):
    """The three pictures for written character ``position`` (1-based) and the GPT head chosen, drawn and
    encoded as the tab's plots show them, in the picture helper (runtime/offload.py): a room's pictures
    (about 0.4 s of matplotlib each) never hold the server's GIL while everyone else's text streams."""
    return PICTURES.run(encoded_insides, writings, position, head)


def encoded_insides(writings: dict | None, position: float | None, head: str | None) -> tuple:
    """``figures``, each encoded as ``gr.Plot`` would send it."""
    return tuple(None if f is None else PlotData(type="matplotlib", plot=encode_plot_to_base64(f, PLOT_FORMAT))
                 for f in figures(writings, position, head))  # fmt: skip


def figures(writings: dict | None, position: float | None, head: str | None):
    """The three figures for written character ``position`` (1-based) and the GPT head chosen."""
    if not writings or any(not w.done or not w.text for w in writings.values()):
        return None, None, None
    n = min(len(w.text) for w in writings.values())
    i = int(min(max(1, position or n), n)) - 1
    rnn, gpt = writings["char_rnn"], writings["char_gpt"]
    panels = {WRITERS[k]: (w.candidates(i), w.text[i], w.text[:i]) for k, w in writings.items()}
    head_i = None if not head or str(head).startswith("all") else int(head) - 1
    return (
        plots.candidates_figure(panels, i),
        plots.memory_heatmap(rnn.text, rnn.hidden, i),
        plots.attention_strip(gpt.attention, gpt.context, head_i),
    )


def write_tab(store: ModelStore, writing: dict | None = None) -> None:
    """``writing``: the queue options of the tab's writing event (its concurrency group and limit)."""
    block = store.get("char_gpt").config.block_size
    about(ABOUT[0], ABOUT[1].format(block=block, field=store.get("char_cnn").config.receptive_field), *ABOUT[2:])
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            prompt = gr.Textbox(
                label="Start the text",
                value=PROMPTS[0],
                lines=3,
                max_length=MAX_PROMPT_CHARS,
                elem_id="write-prompt",
            )
            message = gr.Markdown(elem_id="write-message")  # what is wrong with the prompt, if anything
            gr.Examples([[p] for p in PROMPTS], inputs=[prompt])
        with gr.Column(scale=2, min_width=260):
            length = gr.Slider(1, MAX_LENGTH, value=300, step=1, label="Characters to write", elem_id="write-length")
            temperature = gr.Slider(
                MIN_TEMPERATURE, MAX_TEMPERATURE, value=0.8, step=0.05, label="Temperature", elem_id="write-temperature"
            )
            seed = gr.Number(value=0, precision=0, minimum=0, label="Seed (same seed, same text)", elem_id="write-seed")
            button = gr.Button("Write", variant="primary", elem_id="write-submit")
    boxes = {}
    with gr.Row(equal_height=True):
        for name in WRITERS:
            with gr.Column(min_width=280):
                boxes[name] = gr.Textbox(label=title(store, name), lines=14, max_lines=14, elem_id=f"write-{name}")
    speed = gr.Markdown(elem_id="write-speed")
    gr.Markdown(how_far_back(store), elem_id="write-how-far")
    writings = gr.State(None)  # this visitor's Writings, one per writer: the text and what each model saw

    gr.Markdown("### Inside: how each character was chosen")
    position = gr.Slider(1, 300, value=300, step=1, label="Written character", elem_id="write-position")
    candidates = gr.Plot(label="The likeliest next characters", elem_id="write-candidates", format=PLOT_FORMAT)
    memory = gr.Plot(label="The LSTM's memory", elem_id="write-memory", format=PLOT_FORMAT)
    gpt_config = store.get("char_gpt").config
    head = gr.Dropdown(
        ["all (average)", *[str(h + 1) for h in range(gpt_config.num_heads)]],
        value="all (average)",
        label="GPT attention head",
        elem_id="write-head",
    )
    attention = gr.Plot(
        label="The GPT's attention from its newest character", elem_id="write-attention", format=PLOT_FORMAT
    )

    gr.Markdown("### How they learned")
    records = {WRITERS[n]: r for n in WRITERS if (r := training_record(n)) and "curve" in r}
    if records:
        gr.Plot(plots.training_curves(records), label="Validation loss while training", elem_id="write-curves")
        gr.Markdown(
            " ".join(
                f"The {t} trained for {r['steps']:,} steps in {r['train_seconds'] / 60:.0f} minutes "
                f"on a {r['threads']}-core {r['device'].upper()} and reached a validation loss of "
                f"{r['final_val_loss']:.3f} nats per character."
                for t, r in records.items()
            )
        )
    source_code(archdemo.models.char_lm, archdemo.models.char_cnn, archdemo.tasks.writing)

    async def write_both(text: str, n: float, temp: float, seed_value: float):
        """The three models write at once, each in its decoding loop with everyone else; the boxes fill as
        the pieces come. A bad prompt or setting keeps the texts shown and says what to change.

        Each piece sends only the boxes, the speed line, this visitor's writings and the message: a
        ``gr.skip()`` for a plot or a slider makes Gradio build that component anew and regenerate its API
        schema at every piece (py-spy: 40% of the server's event loop with 30 visitors writing), so the
        pictures and the slider come after, from ``draw_insides``.
        """
        try:
            for name in WRITERS:  # every message before any work, and never half a result
                check_prompt(text, list(store.get(name).config.vocab))
            check_settings(n, temp, seed_value)
        except InputError as e:
            yield *(gr.skip(),) * (len(WRITERS) + 2), f"**Nothing was written:** {e}"
            return
        runs = {name: write_async(store, name, text, n, temp, seed_value) for name in WRITERS}
        latest: dict[str, Writing] = {}
        started, first = time.perf_counter(), None
        try:
            while len(latest) < len(WRITERS) or not all(w.done for w in latest.values()):
                # Every writer's next piece asked for at once: a round waits for the slowest, not for all in turn
                # (in turn, the GPT's text was not even asked for until the LSTM's first piece had come).
                going = [name for name in runs if name not in latest or not latest[name].done]
                pieces = await asyncio.gather(*(anext(runs[name]) for name in going), return_exceptions=True)
                for name, piece in zip(going, pieces, strict=True):
                    if isinstance(piece, BaseException):
                        raise piece
                    latest[name] = piece
                texts = [latest[name].text for name in WRITERS if name in latest]
                first = first or time.perf_counter() - started
                yield *texts, *[""] * (len(WRITERS) - len(texts)), "", gr.skip(), ""
        except Exception as e:  # noqa: BLE001 - a sentence for the visitor, logged when it is ours
            raise as_user_error(e, "write_both") from None
        finally:
            for run in runs.values():  # the visitor left or something failed: every writer frees its row
                await run.aclose()
        shortest = min(len(w.text) for w in latest.values())
        took = time.perf_counter() - started
        yield (
            *[latest[name].text for name in WRITERS],
            f"First characters after {first * 1000:.0f} ms; {len(WRITERS) * shortest / took:.0f} characters per "
            f"second for the {len(WRITERS)} models together, on {store.device_label}, written in one batch with "
            "everyone else writing now.",
            latest,
            "",
        )

    def draw_insides(w: dict | None, said: str | None):
        """After the writing: the slider at its end and the three pictures (none after a bad prompt)."""
        if said or not w or any(not x.done for x in w.values()):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        shortest = min(len(x.text) for x in w.values())
        return gr.update(maximum=shortest, value=shortest), *insides(w, shortest, "all (average)")

    outputs = [*boxes.values(), speed, writings, message]
    # The boxes' strings go out as they are: no postprocessing thread hop per box per piece.
    streamed = {"postprocess": False, "api_visibility": "private", **(writing or {})}
    then = (draw_insides, [writings, message], [position, candidates, memory, attention])
    for trigger in (button.click, prompt.submit):
        trigger(write_both, [prompt, length, temperature, seed], outputs, **streamed).then(
            *then, api_visibility="private"
        )
    steps_for("write", prompt=prompt, length=length, temperature=temperature, seed=seed,
              read=(write_both, [prompt, length, temperature, seed], outputs, streamed, then))  # fmt: skip

    @user_errors
    def look_inside(w: dict | None, at: float, chosen_head: str):
        return insides(w, at, chosen_head)

    # ``input``, not ``change``: moving the slider to the end of a new text must not draw everything twice.
    gr.on(
        [position.input, head.change], look_inside, [writings, position, head], [candidates, memory, attention], **LIVE
    )
