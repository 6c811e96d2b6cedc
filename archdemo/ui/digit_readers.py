"""The CNN tab's "same drawing, every reader" row: the CNN, the row-reading LSTM, the ViT and the autoencoder's probe.

Each column is one digit reader from the registry: its answer, and the picture of how it got there, all
from one guarded pass at pen-up (``tasks.digits.read_every_reader``). The live readout beside the pad
stays the CNN's alone, so the pen keeps its speed.
"""

from __future__ import annotations

import gradio as gr

from archdemo.plots import digits as plots
from archdemo.tasks.digits import EveryReader
from archdemo.ui.pictures import image_files
from archdemo.weights.registry import DIGIT_MODELS, get_spec

HOW = {  # what each reader's picture shows, by its family
    "CNN": "Where its evidence for the answer was (the class-activation map, greener = more; coarse, 7x7): "
    "filters slid over every patch.",
    "RNN": "It reads the digit one row of pixels at a time, top to bottom. Right: what it believed after "
    "each row, one column per digit (greener = more sure). Watch where it changes its mind.",
    "Transformer": "It cuts the digit into 49 patches of 4x4 pixels and lets every patch look at every other. "
    "Each small picture: where the class token (a summary slot added to the patches) looked, greener = more "
    "attention; one row per layer, one column per head.",
    "Autoencoder": "The autoencoder learned this 64-number code without ever seeing a label (orange above zero, "
    "purple below); one linear layer on it reads the digit. What it gets right, the code already knew.",
}


def every_reader_row() -> list[gr.components.Component]:
    """The row's components: for each digit reader, its verdict and its picture (in DIGIT_MODELS' order)."""
    gr.Markdown(
        "### The same drawing, every reader\n"
        "Four architectures read the digit you drew. They were trained on the same 60,000 MNIST digits; "
        "each looks at it in its own way.",
        elem_id="digit-readers-title",
    )
    outputs: list[gr.components.Component] = []
    with gr.Row(elem_id="digit-readers"):
        for name in DIGIT_MODELS:
            spec = get_spec(name)
            with gr.Column(min_width=200):
                outputs.append(gr.Label(label=spec.title, num_top_classes=3, elem_id=f"digit-{name}"))
                # No label over the picture (it would cover its top rows): the caption below names it.
                outputs.append(
                    gr.Image(
                        label=f"Inside the {spec.short}",
                        show_label=False,
                        interactive=False,
                        buttons=[],  # no toolbar over the picture's corner
                        height=220,
                        elem_id=f"digit-{name}-inside",
                        elem_classes="captioned",
                    )
                )
                gr.Markdown(f"**Inside the {spec.short}.** {HOW[spec.family]}", elem_classes="reader-how")
    return outputs


def every_reader_values(r: EveryReader | None, files: list[str] = ()) -> list:
    """What the row shows for one reading (None: an empty pad) and its pictures' files, in the order of
    ``every_reader_row``."""
    if r is None:
        return [None] * (2 * len(DIGIT_MODELS))
    answers = [r.cnn.answer, *(o.answer for o in r.others)]
    return [v for answer, file in zip(answers, files, strict=True) for v in (answer["probabilities"], file)]


def pen_up_values(r: EveryReader) -> list:
    """The CNN tab's outputs at pen-up: its three pictures' files, then the row's (in the picture helper).

    The CNN's evidence picture is the same in both places: drawn and written once.
    """
    pictures = plots.digit_pictures(r.cnn)
    row = plots.every_reader_pictures(r, cnn=pictures["cam"])
    files = image_files({**pictures, **{k: v for k, v in row.items() if k != "cnn"}})
    return [*files[:3], *every_reader_values(r, [files[1], *files[3:]])]
