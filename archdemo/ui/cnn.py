"""CNN tab: draw a digit, watch it classified after every stroke, and look inside the network."""

from __future__ import annotations

import functools

import anyio
import gradio as gr

import archdemo.models.cnn
from archdemo.errors import InputError
from archdemo.inputs.images import from_pad, prepare_digit, to_pad
from archdemo.paths import HARD_DIGITS, SAMPLE_DIGITS
from archdemo.runtime.offload import PICTURES
from archdemo.serving.answers import Answers
from archdemo.tasks import digits
from archdemo.ui.digit_readers import every_reader_row, every_reader_values, pen_up_values
from archdemo.ui.errors import as_user_error, user_errors
from archdemo.ui.guide import steps_for
from archdemo.ui.layout import LIVE, about, source_code
from archdemo.ui.own_model import UNKNOWN_MODEL, PadChoices, own_model_picker
from archdemo.ui.pad import drawing_pad
from archdemo.weights.store import ModelStore


def examples() -> list[tuple[str, str]]:
    """Sample digits for the canvas: a few clear ones, and the MNIST test digits the CNN gets wrong."""
    clear = [(str(SAMPLE_DIGITS / f"{d}.png"), f"a clear {d}") for d in (2, 5, 8)]
    hard = [(str(p), p.stem.replace("_", " ")) for p in sorted(HARD_DIGITS.glob("*.png"))]
    return clear + hard


def cnn_tab(store: ModelStore, answers: Answers) -> None:
    about(
        "Convolutional network (CNN)",
        "A CNN slides small learned filters over the image. The first layer's filters respond to "
        "short edges and strokes; later layers combine those into curves, loops and corners, each "
        "time looking at a wider patch of the image. The same filter is used at every position, so a "
        "stroke looks the same to it wherever it sits. (Your drawing is also cropped, scaled and centred "
        "before the model sees it: that, not the CNN, is why a tiny 7 in a corner is still read.)",
        "images and other grid data where local patterns matter: digits, photos, spectrograms.",
        "things that depend on the whole layout at once, or on order over long distances; "
        "shapes unlike anything in its training set (letters, doodles) still get a digit, often confidently.",
        "the prediction follows your pen while you draw. Below, the 28x28 picture the model actually receives, "
        "roughly where its evidence for the answer was (a coarse 7x7 grid), and what each stage's filters lit "
        "up on; then the same drawing read by an LSTM, a Vision Transformer and the autoencoder's code.",
    )
    sketch = drawing_pad(
        elem_id="cnn-sketchpad",
        title="Draw a digit (0-9)",
        clear_id="cnn-clear",
        live=live_reader(store, answers, pad := PadChoices()),
        readout_id="cnn-prediction",
    )
    # Pictures without Gradio's label chip (it covered their top rows): a caption under each instead.
    pictures = {"show_label": False, "interactive": False, "elem_classes": ["pixelated", "captioned"], "buttons": []}
    with gr.Row(elem_classes="picture-row"):
        with gr.Column(min_width=150):
            seen = gr.Image(label="What the model sees (28x28)", elem_id="cnn-input28", height=210, **pictures)
            gr.Markdown(
                "**What the model sees:** your drawing cropped, scaled and centred to 28x28.", elem_classes="caption"
            )
        with gr.Column(min_width=150):
            cam = gr.Image(label="Where its evidence was", elem_id="cnn-cam", height=210, **pictures)
            gr.Markdown(
                "**Where its evidence was** (class-activation map; greener = more evidence for its answer): the "
                "last stage's 7x7 grid, one cell per 4x4 pixels, so it is coarse, and it can sit on the empty "
                "paper inside a loop: the hole of a 0 or a 6 is evidence too.",
                elem_classes="caption",
            )
    features = gr.Image(label="Feature maps", elem_id="cnn-features", height=200, **pictures)
    gr.Markdown(
        "**Feature maps:** what the first 8 filters of each stage lit up on (bright = strong). A stage is "
        "two layers of 3x3 filters, then (in the first two stages) pooling, which halves the picture: row 1 "
        "is stage 1's output at 14x14 pixels, rows 2 and 3 are stages 2 and 3 at 7x7.",
        elem_classes="caption",
    )
    readers = every_reader_row()
    with gr.Accordion("Examples: sample digits, including ones this CNN gets wrong", open=False):
        samples = examples()
        gr.Examples(
            [[to_pad(_sample(p))] for p, _ in samples], inputs=[sketch], example_labels=[lbl for _, lbl in samples]
        )
    choice, model_events = own_model_picker(store, "cnn")
    source_code(archdemo.models.cnn)

    @user_errors
    def classify(value: str | None, own: str | None = None):
        """Pen-up (or an example): the insides of the drawing the live readout has been answering for."""
        digit = from_pad(value)
        if digit is None:
            return None, None, None, *every_reader_values(None)  # an empty pad is not an error
        # One guarded pass: the CNN's CAM and every stage's maps, and every other digit reader's inside;
        # their pictures drawn in the picture helper (runtime/offload.py), off the server's GIL.
        every = digits.read_every_reader(store, digit, own)
        return PICTURES.run(pen_up_values, every)

    outputs = [seen, cam, features, *readers]
    insides = sent_as_is(classify, outputs)
    sketch.change(insides, [sketch, choice], outputs, postprocess=False, **LIVE)
    steps_for("cnn", pad=sketch)  # the guided lesson puts its digits on the pad
    for event in model_events:
        # The live readout asks for the visitor's model by name (a pad property), the insides by state.
        event.then(pad.hand_out, choice, sketch, api_visibility="private").then(
            insides, [sketch, choice], outputs, postprocess=False, api_visibility="private"
        )


def sent_as_is(fn, outputs: list):
    """``fn`` returning what Gradio's postprocessing of ``outputs`` would have sent, for ``postprocess=False``.

    Gradio postprocesses each output on a worker thread of its own and checks every file path twice on
    the event loop: at pen-up, eleven thread hand-offs and four dozen path checks per visitor, more of the
    event loop's time under a crowd than the readers themselves (py-spy, 16 pen-ups at once). Here the
    same components' own ``postprocess`` runs in the handler's thread; Gradio then checks each file once.
    """

    @functools.wraps(fn)
    def run(*args):
        values = fn(*args)
        done = [c.postprocess(v) for c, v in zip(outputs, values, strict=True)]
        return [v.model_dump() if hasattr(v, "model_dump") else v for v in done]

    return run


def live_reader(store: ModelStore, answers: Answers, pad: PadChoices):
    """The pad's server function: the drawing so far -> {"label", "probabilities"} or {"error"}."""

    async def live(request: dict) -> dict:
        # A coroutine: Gradio awaits it on its event loop, so a live update needs no worker thread.
        try:
            if not isinstance(request, dict):
                raise InputError("The drawing pad sent something that is not a drawing.")
            digit = from_pad(request.get("pixels"))
            if digit is None:
                return {}
            own = request.get("model")
            if own is None:  # archdemo's CNN: concurrent visitors share forward passes
                return await answers.read_drawn_digit(digit)
            if not store.settings.user_models:
                raise InputError(UNKNOWN_MODEL)
            own = pad.choice(own)  # only what this visitor's own-model panel chose
            return (await anyio.to_thread.run_sync(digits.read_digit, store, digit, own)).answer
        except Exception as e:  # noqa: BLE001 - the readout shows the message the rest of the app would
            return {"error": as_user_error(e, "live").message}

    return live


def _sample(path: str):
    from PIL import Image

    return prepare_digit(Image.open(path))
