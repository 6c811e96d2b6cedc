"""The stable public API: hidden components, so each endpoint has exactly the documented inputs and outputs."""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr
import numpy as np

from archdemo.answers import Answers
from archdemo.errors import InputError
from archdemo.image_processing import load_image_file
from archdemo.text_processing import MAX_TEXT_CHARS
from archdemo.ui.errors import user_errors
from archdemo.ui.pictures import image_file


def _load(path: str | None):
    if path is None:
        raise InputError("No image was sent.")
    return load_image_file(path)


def api_endpoints(answers: Answers, concurrency: int | None = None) -> None:
    """The five endpoints. ``concurrency``: how many API requests may run at once (all four share one
    limit); None keeps Gradio's default of one at a time per endpoint."""
    with gr.Column(visible=False):
        image_in = gr.File(label="image", file_types=None)
        level_in = gr.Number(label="noise_level", value=0.5, minimum=0, maximum=1)
        text_in = gr.Textbox(label="text")
        json_out = gr.JSON(label="result")
        noisy_out = gr.Image(label="noisy image", format="png")
        denoised_out = gr.Image(label="denoised image", format="png")
        metrics_out = gr.JSON(label="metrics")
        trigger = gr.Button()

    @user_errors
    async def classify_digit(image: str | None) -> dict:
        """Classify a handwritten digit with the CNN.

        Args:
            image: an image file (PNG, JPEG, GIF, WebP, BMP or TIFF) of one digit, any size: white on
                black, black on white, or dark strokes on a transparent background.
        Returns:
            {"label": "7", "probabilities": {"0": p0, ..., "9": p9}}
        """
        return await answers.classify_digit_async(_load(image))

    @user_errors
    def denoise_digit(image: str | None, noise_level: float):
        """Add Gaussian noise to a digit and clean it with the denoising autoencoder.

        Args:
            image: an image file of one digit, any size (it is brought to MNIST's 28x28 form first).
            noise_level: standard deviation of the Gaussian noise added to pixels in [0, 1], from 0 to 1.
        Returns:
            (noisy 28x28 image, denoised 28x28 image, {"psnr_noisy": dB, "psnr_denoised": dB})
        """
        _, noisy, denoised, metrics = answers.denoise_digit(_load(image), noise_level)
        to_png = lambda a, name: image_file((np.clip(a, 0, 1) * 255).astype(np.uint8), name)  # noqa: E731
        return to_png(noisy, "noisy"), to_png(denoised, "denoised"), metrics

    def sentiment_endpoint(name: str, title: str) -> Callable:
        @user_errors
        def sentiment(text: str) -> dict:
            return answers.sentiment(name, text)

        sentiment.__name__ = f"{name}_sentiment"
        sentiment.__doc__ = f"""Classify the sentiment of an English sentence with the {title}.

        Args:
            text: the sentence, at most {MAX_TEXT_CHARS:,} characters; text past the model's
                token limit is cut.
        Returns:
            {{"label": "negative" | "positive", "probabilities": {{"negative": 1 - p, "positive": p}}}}
        """
        return sentiment

    # Concurrent requests each preprocess on their own thread; the micro-batchers (archdemo.answers) then
    # share one forward pass per model among them (archdemo/batching.py).
    limits = {"concurrency_limit": concurrency, "concurrency_id": "api"} if concurrency else {}
    trigger.click(classify_digit, image_in, json_out, api_name="classify_digit", **limits)
    trigger.click(
        denoise_digit, [image_in, level_in], [noisy_out, denoised_out, metrics_out], api_name="denoise_digit", **limits
    )
    readers = {
        "rnn": "LSTM",
        "transformer": "Transformer trained here from scratch",
        "pretrained_transformer": "pretrained Transformer (MiniLM-L6, fine-tuned here with LoRA)",
    }
    for name, title in readers.items():
        trigger.click(sentiment_endpoint(name, title), text_in, json_out, api_name=f"{name}_sentiment", **limits)
