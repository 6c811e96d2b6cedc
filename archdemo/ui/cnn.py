"""CNN tab: draw a digit, watch it classified after every stroke, and look inside the network."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

import archdemo.models.cnn
from archdemo import digits, plots
from archdemo.store import ModelStore
from archdemo.ui.errors import user_errors
from archdemo.ui.layout import LIVE, about, source_code
from archdemo.ui.own_model import own_model_picker
from archdemo.ui.pictures import drawing_pad, editor_image, enlarge, image_file, is_blank

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def examples() -> list[tuple[str, str]]:
    """Sample digits for the canvas: a few clear ones, and the MNIST test digits the CNN gets wrong."""
    clear = [(str(ASSETS / "digits" / f"{d}.png"), f"a clear {d}") for d in (2, 5, 8)]
    hard = [(str(p), p.stem.replace("_", " ")) for p in sorted((ASSETS / "hard").glob("*.png"))]
    return clear + hard


def cnn_tab(store: ModelStore) -> None:
    about(
        "Convolutional network (CNN)",
        "A CNN slides small learned filters over the image. The first layer's filters respond to "
        "short edges and strokes; later layers combine those into curves, loops and corners, each "
        "time looking at a wider patch of the image. The same filter is used everywhere, so a loop "
        "is recognised wherever it is drawn.",
        "images and other grid data where local patterns matter: digits, photos, spectrograms.",
        "things that depend on the whole layout at once, or on order over long distances; "
        "shapes unlike anything in its training set (letters, doodles) still get a digit, often confidently.",
        "the prediction changes stroke by stroke. Below, the 28x28 picture the model actually receives, "
        "which strokes pushed it to its answer, and what each layer's filters lit up on.",
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            sketch = drawing_pad(
                gr.Sketchpad,
                label="Draw a digit (0-9)",
                elem_id="cnn-sketchpad",
            )
            clear = gr.Button("Clear", elem_id="cnn-clear")
        with gr.Column(scale=2, min_width=260):
            prediction = gr.Label(label="Prediction", num_top_classes=10, elem_id="cnn-prediction")
    with gr.Row():
        seen = gr.Image(
            label="What the model sees (28x28)",
            elem_id="cnn-input28",
            elem_classes="pixelated",
            interactive=False,
            height=230,
        )
        cam = gr.Image(label="Which strokes drove the answer", elem_id="cnn-cam", interactive=False, height=230)
    features = gr.Image(
        label="Feature maps: the first 8 filters of each stage (rows: stage 1 at 14x14, stage 2 and 3 at 7x7)",
        elem_id="cnn-features",
        elem_classes="pixelated",
        interactive=False,
        height=240,  # like the images above: room for the label above the picture, not over it
    )
    with gr.Accordion("Examples: sample digits, including ones this CNN gets wrong", open=False):
        gr.Examples([[p] for p, _ in examples()], inputs=[sketch], example_labels=[lbl for _, lbl in examples()])
    choice, model_events = own_model_picker(store, "cnn")
    source_code(archdemo.models.cnn)

    @user_errors
    def classify(value: dict | None, own: str | None = None):
        image = editor_image(value)
        if is_blank(image):
            return None, None, None, None  # an empty canvas is not an error while drawing
        inside = digits.classify_digit(store, image, own)  # one guarded pass: answer and insides
        probs = {label: float(p) for label, p in zip(inside.labels, inside.probabilities, strict=True)}
        return (
            probs,
            image_file(enlarge(inside.digit), "seen"),
            image_file(plots.cam_overlay(inside.digit, inside.cam), "cam"),
            image_file(plots.feature_maps_mosaic(inside), "features"),
        )

    outputs = [prediction, seen, cam, features]
    sketch.change(
        classify,
        [sketch, choice],
        outputs,
        **LIVE,
    )
    for event in model_events:
        event.then(classify, [sketch, choice], outputs, api_visibility="private")
    # The editor's own "Clear canvas" keeps the brush selected, so the next stroke draws at once; the
    # change event it fires then blanks the outputs (an empty canvas gives no prediction).
    clear.click(
        None,
        js="() => document.querySelector('#cnn-sketchpad button[aria-label=\"Clear canvas\"]').click()",
        api_visibility="private",
    )
