"""Autoencoder tab: corrupt a digit, see it rebuilt from a small code, and walk between codes."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np

import archdemo.models.autoencoder
from archdemo.errors import InputError
from archdemo.inputs.images import from_pad, load_image_file, prepare_digit, to_pad
from archdemo.paths import HARD_DIGITS, SAMPLE_DIGITS
from archdemo.plots import digits as plots
from archdemo.tasks import digits
from archdemo.ui.errors import as_user_error, user_errors
from archdemo.ui.guide import steps_for
from archdemo.ui.layout import LIVE, about, source_code
from archdemo.ui.meter import anomaly_meter, meter_html
from archdemo.ui.own_model import own_model_picker
from archdemo.ui.pad import drawing_pad
from archdemo.ui.pictures import image_file, image_files
from archdemo.weights.store import ModelStore

DIGITS = sorted(SAMPLE_DIGITS.glob("*.png"))
NOISE_CHOICES = [("Gaussian", "gaussian"), ("Salt and pepper", "salt_pepper"), ("Blanked patch", "patch")]


def _sample(d: int | Path) -> np.ndarray:
    from PIL import Image

    return prepare_digit(np.asarray(Image.open(d if isinstance(d, Path) else DIGITS[d])))


def autoencoder_tab(store: ModelStore, demo: gr.Blocks) -> None:
    latent = store.get("autoencoder").config.latent_dim
    about(
        "Autoencoder",
        f"An encoder squeezes the 784 pixels into a code of just {latent} numbers, and a decoder has "
        "to rebuild the whole image from that code alone. Trained on pairs of (corrupted, clean) "
        "digits, the code learns to keep what makes a digit a digit and has no room left for noise.",
        "compressing, cleaning up and filling in data that looks like what it was trained on.",
        "telling digits from other drawings: it rebuilds almost any clean stroke well, letters and circles "
        "included, so its rebuild error (the meter below) flags only some non-digits; thin or unusual details "
        "can be smoothed away because the code is so small.",
        "compare the PSNR of the noisy and the rebuilt digit (peak signal-to-noise ratio, in decibels, dB: "
        "higher is closer to the clean one, and every 10 dB more is ten times less squared error), and the "
        "CNN's opinion of each. The bar chart is the code itself (purple below zero, orange above); the walk "
        "at the bottom decodes points between two digits' codes.",
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=280):
            source = drawing_pad(
                elem_id="ae-input",
                title="Digit: draw it, upload one or pick a sample",
                clear_id="ae-clear",
                value=to_pad(_sample(7)),
            )
            # A file box, not gr.Image: gr.Image decodes the file itself before any handler runs, and a file
            # that is not an image, or is cut short, ended there in a red "Error" with no sentence.
            gr.Markdown("Or upload a picture of a digit (PNG, JPEG, GIF, WebP, BMP or TIFF):", elem_classes="caption")
            upload = gr.File(
                label="Or upload a picture of a digit",
                show_label=False,  # the caption above says it; the chip sat over the box's own icon
                type="filepath",  # decoded by load_image_file (header checked first), never by Gradio
                file_count="single",
                height=120,
                elem_id="ae-upload",
            )
            upload_note = gr.Markdown(elem_id="ae-upload-note")
            hard = sorted(HARD_DIGITS.glob("*.png"))
            # Folded, so that on a phone the noise controls and the three digits follow the pad closely.
            with gr.Accordion("Sample digits, including some the CNN misreads", open=False):
                gr.Examples(
                    [[to_pad(_sample(p))] for p in [*DIGITS, *hard]],
                    inputs=[source],
                    example_labels=[f"a {p.stem}" for p in DIGITS] + [p.stem.replace("_", " ") for p in hard],
                    label="MNIST test digits; the last few are ones the CNN misreads (does denoising change its mind?)",
                    examples_per_page=14,
                )
        with gr.Column(scale=3, min_width=300):
            with gr.Row():
                kind = gr.Radio(NOISE_CHOICES, value="gaussian", label="Noise kind", elem_id="ae-kind")
                level = gr.Slider(0, 1, value=0.5, step=0.05, label="Noise level", elem_id="ae-noise")
            # Side by side at every width, each with its caption under it (a label chip covered their tops).
            digit = {
                "show_label": False,
                "interactive": False,
                "elem_classes": "pixelated",
                "min_width": 90,
                "buttons": [],
            }
            with gr.Row(elem_classes="digit-trio"):
                with gr.Column(min_width=90):
                    clean_img = gr.Image(label="Clean", elem_id="ae-clean", **digit)
                    gr.Markdown("**Clean**", elem_classes="caption")
                with gr.Column(min_width=90):
                    noisy_img = gr.Image(label="Noisy", elem_id="ae-noisy", **digit)
                    gr.Markdown("**Noisy**", elem_classes="caption")
                with gr.Column(min_width=90):
                    out_img = gr.Image(label="Denoised", elem_id="ae-output", **digit)
                    gr.Markdown("**Denoised**", elem_classes="caption")
            metrics = gr.Markdown(elem_id="ae-metrics")
            meter = anomaly_meter()
            # The figure's own title names it; a label chip would sit over that title.
            code = gr.Plot(label="The bottleneck code for this noisy digit", show_label=False, elem_id="ae-code")
    gr.Markdown("#### Walk through the code space\nDecode evenly spaced points on the line between two digits' codes.")
    with gr.Row():
        first = gr.Dropdown([str(d) for d in range(10)], value="1", label="From", elem_id="ae-walk-a")
        second = gr.Dropdown([str(d) for d in range(10)], value="7", label="To", elem_id="ae-walk-b")
        steps = gr.Slider(2, 10, value=8, step=1, label="Steps", elem_id="ae-walk-steps")
    walk = gr.Image(
        label="Decoded walk",
        show_label=False,
        elem_id="ae-walk",
        elem_classes="pixelated",
        interactive=False,
        height=260,
    )
    choice, model_events = own_model_picker(store, "autoencoder")
    source_code(archdemo.models.autoencoder)

    @user_errors
    def run(value: str | None, noise_kind: str, noise_level: float, own: str | None = None):
        image = from_pad(value)
        if image is None:
            return None, None, None, "Draw, upload or pick a digit to start.", None, ""
        # One guarded pass: the autoencoder once (noisy and clean in one batch: code, rebuild and the
        # meter's rebuild of the clean digit), the CNN once on all three versions.
        r = digits.denoise_digit(store, image, noise_level, noise_kind, choice=own, ask_cnn=True)
        m = r.metrics
        say = [f"{label} ({p:.0%})" for label, p in r.cnn_says]
        text = (
            f"PSNR (peak signal-to-noise ratio, in decibels; higher is closer to the clean digit): "
            f"noisy **{m['psnr_noisy']:.1f} dB**, "
            f"denoised **{m['psnr_denoised']:.1f} dB**.  \n"
            f"The CNN reads the clean digit as **{say[0]}**, the noisy one as **{say[1]}**, "
            f"the denoised one as **{say[2]}**."
        )
        return (*image_files(plots.denoise_pictures(r)), text, plots.latent_code_bars(r.code), meter_html(r.anomaly))

    @user_errors
    def walk_between(a: str, b: str, n: float, own: str | None = None):
        frames = digits.latent_walk(store, _sample(int(a)), _sample(int(b)), int(n), own)
        return image_file(plots.walk_strip(frames), "walk")

    inputs, outputs = [source, kind, level, choice], [clean_img, noisy_img, out_img, metrics, code, meter]
    walk_inputs = [first, second, steps, choice]
    steps_for("autoencoder", pad=source, noise=level, kind=kind)  # the guided lesson's digits and noise
    gr.on(
        [demo.load, source.change, kind.change, level.change],
        run,
        inputs,
        outputs,
        **LIVE,
    )
    gr.on(
        [demo.load, first.change, second.change, steps.change],
        walk_between,
        walk_inputs,
        walk,
        **LIVE,
    )

    # An upload is reduced to the models' 28x28 and drawn on the pad, whose change event then runs. What is
    # wrong with a file (not an image, cut short, too big) is said beside it, and the pad keeps its digit.
    # The file box is emptied again either way, ready for the next file.
    def uploaded(path: str | None):
        if not path:
            return gr.skip(), "", None
        try:
            return to_pad(prepare_digit(load_image_file(path))), "", None
        except InputError as e:
            return gr.skip(), f"**That file could not be used:** {e}", None
        except Exception as e:  # noqa: BLE001 - the same sentence the rest of the app would give
            return gr.skip(), f"**That file could not be used:** {as_user_error(e, 'upload').message}", None

    upload.upload(uploaded, upload, [source, upload_note, upload], api_visibility="private")
    for event in model_events:
        event.then(run, inputs, outputs, api_visibility="private").then(
            walk_between, walk_inputs, walk, api_visibility="private"
        )
