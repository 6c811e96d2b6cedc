"""The stable public API: hidden components, so each endpoint has exactly the documented inputs and outputs."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import gradio as gr
import numpy as np

from archdemo.errors import InputError
from archdemo.inputs.images import load_image_file, prepare_digit
from archdemo.inputs.words import MAX_TEXT_CHARS
from archdemo.serving.answers import Answers
from archdemo.tasks.writing import MAX_LENGTH, MAX_PROMPT_CHARS, MAX_TEMPERATURE, MIN_TEMPERATURE, generate_async
from archdemo.ui.errors import user_errors
from archdemo.ui.limits import sent_number
from archdemo.ui.pictures import image_file
from archdemo.weights.registry import CHAR_MODELS, DIGIT_MODELS, TEXT_MODELS, get_spec


def _load(path: str | None):
    if path is None:
        raise InputError("No image was sent.")
    return load_image_file(path)


def api_endpoints(answers: Answers, concurrency: int | None = None, writing: dict | None = None) -> None:
    """Every endpoint. ``concurrency``: how many quick API requests (a digit, a sentence) may run at once,
    all sharing one limit; None keeps Gradio's default of one at a time per endpoint. ``writing``: the queue
    options of the long jobs (the /generate_* endpoints): a group of their own, so that a crowd writing
    never holds up a sentence, with its own bound (the rest wait in the queue)."""
    with gr.Column(visible=False):
        image_in = gr.File(label="image", file_types=None)
        prompt_in = gr.Textbox(label="prompt")
        length_in = sent_number(label="length", value=200, precision=0)  # as sent: our checks say what is wrong
        temperature_in = sent_number(label="temperature", value=0.8)
        seed_in = sent_number(label="seed", value=0, precision=0)
        text_out = gr.Textbox(label="text")
        level_in = sent_number(label="noise_level", value=0.5)
        text_in = gr.Textbox(label="text")
        json_out = gr.JSON(label="result")
        noisy_out = gr.Image(label="noisy image", format="png")
        denoised_out = gr.Image(label="denoised image", format="png")
        metrics_out = gr.JSON(label="metrics")
        trigger = gr.Button()

    def digit_endpoint(name: str) -> Callable:
        @user_errors
        async def classify_digit(image: str | None) -> dict:
            # Decoding an upload takes a while: on a worker thread, never on the event loop.
            digit = await anyio.to_thread.run_sync(lambda: prepare_digit(_load(image)))
            return await answers.read_drawn_digit(digit, name)

        classify_digit.__name__ = get_spec(name).api_name
        classify_digit.__doc__ = f"""Classify a handwritten digit with the {get_spec(name).about}.

        Args:
            image: an image file (PNG, JPEG, GIF, WebP, BMP or TIFF) of one digit, any size: white on
                black, black on white, or dark strokes on a transparent background.
        Returns:
            {{"label": "7", "probabilities": {{"0": p0, ..., "9": p9}}}}
        """
        return classify_digit

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

    @user_errors
    def digit_anomaly(image: str | None) -> dict:
        """Is this a digit? How badly the denoising autoencoder rebuilds the image, against MNIST test digits.

        Args:
            image: an image file of one digit (or of anything else), any size; it is brought to MNIST's
                28x28 form first.
        Returns:
            {"score": rebuild error, "percentile": share (0-100) of the 10,000 MNIST test digits rebuilt
            better, "unusual": percentile >= 99}
        """
        return answers.digit_anomaly(_load(image))

    def writing_endpoint(name: str) -> Callable:
        @user_errors
        async def generate(prompt: str, length: float, temperature: float, seed: float) -> str:
            # Written in the model's decoding loop with everyone else; no worker thread is held meanwhile.
            return await generate_async(answers.store, name, prompt, length, temperature, seed)

        generate.__name__ = get_spec(name).api_name
        generate.__doc__ = f"""Continue a text in the style of Shakespeare, one character at a time, with the
        {get_spec(name).about}.

        Args:
            prompt: the start of the text, 1 to {MAX_PROMPT_CHARS} characters, using only the characters of tiny
                Shakespeare (letters, space, new line and ! $ & ' , - . 3 : ; ?).
            length: how many characters to write, 1 to {MAX_LENGTH:,}.
            temperature: {MIN_TEMPERATURE} (nearly always the likeliest character) to {MAX_TEMPERATURE} (wilder).
            seed: a whole number from 0 to 2**31 - 1; the same seed gives the same text.
        Returns:
            the characters written after the prompt (the prompt itself not repeated)
        """
        return generate

    def sentiment_endpoint(name: str) -> Callable:
        @user_errors
        def sentiment(text: str) -> dict:
            return answers.sentiment(name, text)

        sentiment.__name__ = get_spec(name).api_name
        sentiment.__doc__ = f"""Classify the sentiment of an English sentence with the {get_spec(name).about}.

        Args:
            text: the sentence, at most {MAX_TEXT_CHARS:,} characters; text past the model's
                token limit is cut.
        Returns:
            {{"label": "negative" | "positive", "probabilities": {{"negative": 1 - p, "positive": p}}}}
        """
        return sentiment

    # Concurrent requests each preprocess on their own thread; the micro-batchers (archdemo.serving.answers) then
    # share one forward pass per model among them (archdemo/batching.py).
    limits = {"concurrency_limit": concurrency, "concurrency_id": "api"} if concurrency else {}
    for name in DIGIT_MODELS:
        trigger.click(digit_endpoint(name), image_in, json_out, api_name=get_spec(name).api_name, **limits)
    trigger.click(
        denoise_digit, [image_in, level_in], [noisy_out, denoised_out, metrics_out], api_name="denoise_digit", **limits
    )
    trigger.click(digit_anomaly, image_in, json_out, api_name="digit_anomaly", **limits)
    writing_inputs = [prompt_in, length_in, temperature_in, seed_in]
    for name in CHAR_MODELS:
        trigger.click(
            writing_endpoint(name), writing_inputs, text_out, api_name=get_spec(name).api_name, **(writing or limits)
        )
    for name in TEXT_MODELS:
        trigger.click(sentiment_endpoint(name), text_in, json_out, api_name=get_spec(name).api_name, **limits)
