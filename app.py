"""archdemo's browser app: one tab per architecture, each on the task it is made for.

This file builds the UI and wires events to ``archdemo.service``; it holds no model code.
Run ``python app.py --help`` for host, port, share link, device and weights options.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path

import gradio as gr
import numpy as np

from archdemo import processing as P
from archdemo.service import ArchDemoService, DenoiseResult

log = logging.getLogger("archdemo.app")
ASSETS = Path(__file__).resolve().parent / "archdemo" / "assets"
DIGITS = sorted((ASSETS / "digits").glob("*.png"))
DISPLAY = 196  # px: 28x28 digits are shown 7x larger, pixel for pixel

CSS = """
.pixelated img { image-rendering: pixelated; }
#device-line { opacity: 0.8; font-size: 0.9em; }
"""

# The sketchpads open with no tool chosen; pick the brush so a visitor can draw at once (and again
# after the canvas is cleared). Plain DOM: it looks for the editor's own "Brush" button.
BRUSH_ON_LOAD = """
() => {
  const ids = ["cnn-sketchpad", "ae-input"];
  const ready = () => {
    for (const id of ids) {
      const root = document.getElementById(id);
      if (!root || !root.innerText.includes("select the draw tool")) continue;
      const brush = root.querySelector('button[aria-label="Brush"]');
      if (brush) brush.click();
    }
  };
  new MutationObserver(ready).observe(document.body, { childList: true, subtree: true });
  ready();
}
"""

TEXT_EXAMPLES = [
    "A gorgeous, witty and deeply moving film.",
    "It's not bad, I'd say!",
    "The plot is thin and the jokes fall flat.",
    "I didn't expect to like it, but it won me over.",
    "Not the worst movie I've seen, but far from good.",
]


def user_errors(fn: Callable) -> Callable:
    """Turn bad input into a clear message in the UI and the API, and never leak a stack trace."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except P.InputError as e:
            raise gr.Error(str(e), print_exception=False) from None
        except gr.Error:
            raise
        except Exception:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error("Something went wrong on our side; please try again.", print_exception=False) from None

    return wrapper


def editor_image(value: dict | np.ndarray | None) -> np.ndarray | None:
    """The composite of a sketchpad / image editor value (or a plain image) as an array."""
    if isinstance(value, dict):
        return value.get("composite")
    return value


def is_blank(image: np.ndarray | None) -> bool:
    if image is None:
        return True
    try:
        ink = P.to_grayscale_ink(image)
    except P.InputError:
        return False
    return float(ink.max()) - float(ink.min()) < P.MIN_INK


def enlarge(img28: np.ndarray) -> np.ndarray:
    """(28, 28) in [0, 1] -> (196, 196) uint8, nearest neighbour so each pixel stays a crisp square."""
    k = DISPLAY // img28.shape[0]
    return (np.kron(np.clip(img28, 0, 1), np.ones((k, k))) * 255).astype(np.uint8)


def build(service: ArchDemoService) -> gr.Blocks:
    with gr.Blocks(title="archdemo: four architectures, side by side") as demo:
        gr.Markdown(
            "# archdemo\n"
            "Four classic neural network families, each doing the job it was designed for. "
            "Draw, type and poke at them to see how differently they work."
        )
        gr.Markdown(f"Models run on: **{service.device_label}**", elem_id="device-line")
        with gr.Tabs():
            with gr.Tab("CNN", id="cnn"):
                cnn_tab(service)
            with gr.Tab("Autoencoder", id="autoencoder"):
                autoencoder_tab(service, demo)
            with gr.Tab("RNN", id="rnn"):
                text_tab(service, "rnn")
            with gr.Tab("Transformer", id="transformer"):
                text_tab(service, "transformer")
        api_endpoints(service)
    return demo


# ---------------------------------------------------------------- CNN


def cnn_tab(service: ArchDemoService) -> None:
    gr.Markdown(
        "**Convolutional network.** Small filters slide over the image looking for local patterns "
        "(edges, then curves, then parts of digits). Draw a digit from 0 to 9: the prediction "
        "updates after every stroke."
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            sketch = gr.Sketchpad(
                label="Draw a digit",
                elem_id="cnn-sketchpad",
                type="numpy",
                image_mode="RGBA",
                canvas_size=(280, 280),
                fixed_canvas=True,
                brush=gr.Brush(colors=["#000000"], default_size=16, color_mode="fixed"),
                layers=False,
                transforms=(),
            )
            clear = gr.Button("Clear", elem_id="cnn-clear")
        with gr.Column(scale=2):
            prediction = gr.Label(label="Prediction", num_top_classes=10, elem_id="cnn-prediction")

    @user_errors
    def classify(value: dict | None) -> dict | None:
        image = editor_image(value)
        if is_blank(image):
            return None  # an empty canvas is not an error while drawing: just no prediction yet
        answer = service.classify_digit(image)
        return answer["probabilities"]

    sketch.change(
        classify, sketch, prediction, trigger_mode="always_last", show_progress="hidden", api_visibility="private"
    )
    clear.click(lambda: (None, None), None, [sketch, prediction], api_visibility="private")


# ---------------------------------------------------------------- autoencoder


def autoencoder_tab(service: ArchDemoService, demo: gr.Blocks) -> None:
    gr.Markdown(
        "**Autoencoder.** An encoder squeezes the image into a short code of 32 numbers and a "
        "decoder rebuilds the image from that code alone. Trained on noisy-in, clean-out pairs, "
        "the code has room for the digit but not for the noise. Pick a sample, upload an image or "
        "draw, then choose how much noise to add."
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            source = gr.ImageEditor(
                label="Digit (draw, upload or pick a sample below)",
                elem_id="ae-input",
                type="numpy",
                image_mode="RGBA",
                sources=("upload", "clipboard"),
                canvas_size=(280, 280),
                fixed_canvas=True,
                brush=gr.Brush(colors=["#000000"], default_size=18, color_mode="fixed"),
                layers=False,
                transforms=(),
                value=str(DIGITS[7]),
            )
            gr.Examples([[str(p)] for p in DIGITS], inputs=[source], label="MNIST test digits", examples_per_page=10)
        with gr.Column(scale=3):
            with gr.Row():
                kind = gr.Radio(
                    [("Gaussian", "gaussian"), ("Salt and pepper", "salt_pepper"), ("Blanked patch", "patch")],
                    value="gaussian",
                    label="Noise kind",
                    elem_id="ae-kind",
                )
                level = gr.Slider(0, 1, value=0.5, step=0.05, label="Noise level", elem_id="ae-noise")
            with gr.Row():
                clean_img = gr.Image(
                    label="Clean (28x28)", elem_id="ae-clean", elem_classes="pixelated", interactive=False
                )
                noisy_img = gr.Image(label="Noisy", elem_id="ae-noisy", elem_classes="pixelated", interactive=False)
                out_img = gr.Image(label="Denoised", elem_id="ae-output", elem_classes="pixelated", interactive=False)
            metrics = gr.Markdown(elem_id="ae-metrics")

    @user_errors
    def run(value: dict | None, noise_kind: str, noise_level: float):
        image = editor_image(value)
        if is_blank(image):
            return None, None, None, "Draw, upload or pick a digit to start."
        r: DenoiseResult = service.denoise_digit(image, noise_level, noise_kind)
        m = r.metrics
        text = (
            f"PSNR against the clean digit (higher is closer): noisy **{m['psnr_noisy']:.1f} dB**, "
            f"denoised **{m['psnr_denoised']:.1f} dB**."
        )
        return enlarge(r.clean), enlarge(r.noisy), enlarge(r.denoised), text

    inputs, outputs = [source, kind, level], [clean_img, noisy_img, out_img, metrics]
    gr.on(
        [demo.load, source.change, kind.change, level.change],
        run,
        inputs,
        outputs,
        trigger_mode="always_last",
        show_progress="hidden",
        api_visibility="private",
    )


# ---------------------------------------------------------------- RNN and Transformer


def text_tab(service: ArchDemoService, name: str) -> None:
    about = {
        "rnn": "**Recurrent network (LSTM).** It reads the sentence one word at a time, left to right, "
        "and carries a fixed-size memory from word to word. Its verdict is whatever that memory holds "
        "after the last word.",
        "transformer": "**Transformer.** Every word looks at every other word at once through attention, "
        "so word order comes only from position codes added to each word. A special [CLS] slot at the "
        "front gathers the verdict.",
    }[name]
    gr.Markdown(about + " Both text models were trained on the same movie-review sentences (SST-2).")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            text = gr.Textbox(
                label="A sentence",
                placeholder="Type a movie-review style sentence...",
                lines=2,
                max_length=P.MAX_TEXT_CHARS,
                elem_id=f"{name}-input",
            )
            button = gr.Button("Read it", variant="primary", elem_id=f"{name}-submit")
            gr.Examples([[t] for t in TEXT_EXAMPLES], inputs=[text], label="Try these")
        with gr.Column(scale=2):
            prediction = gr.Label(label="Sentiment", num_top_classes=2, elem_id=f"{name}-prediction")
            tokens = gr.HighlightedText(
                label="What the model read (unknown words marked)",
                elem_id=f"{name}-tokens",
                color_map={"unknown": "orange"},
            )
            notes = gr.Markdown(elem_id=f"{name}-notes")

    @user_errors
    def read(sentence: str, live: bool = False):
        if live and not (sentence or "").strip():
            return None, None, ""
        result = service.sentiment(name, sentence)
        index = service.tokenizer(name).index
        marked = [(t + " ", None if (t in index) else "unknown") for t in result.tokens]
        return result.answer["probabilities"], marked, "\n".join(f"- {n}" for n in result.notices)

    outputs = [prediction, tokens, notes]
    button.click(read, text, outputs, api_visibility="private")
    text.submit(read, text, outputs, api_visibility="private")
    text.change(
        functools.partial(read, live=True),
        text,
        outputs,
        trigger_mode="always_last",
        show_progress="hidden",
        api_visibility="private",
    )


# ---------------------------------------------------------------- public API


def api_endpoints(service: ArchDemoService) -> None:
    """The stable API: hidden components, so each endpoint has exactly the documented inputs and outputs."""
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
    def classify_digit(image: str | None) -> dict:
        """Classify a handwritten digit.

        Args:
            image: an image file (PNG, JPEG, ...) of one digit, any size; white-on-black,
                black-on-white, or dark strokes on a transparent background.
        Returns:
            {"label": "7", "probabilities": {"0": p0, ..., "9": p9}}
        """
        return service.classify_digit(_load(image))

    @user_errors
    def denoise_digit(image: str | None, noise_level: float):
        """Add Gaussian noise to a digit and denoise it with the autoencoder.

        Args:
            image: an image file of one digit (any size; it is brought to MNIST's 28x28 form).
            noise_level: standard deviation of the Gaussian noise on pixels in [0, 1], from 0 to 1.
        Returns:
            (noisy 28x28 image, denoised 28x28 image, {"psnr_noisy": dB, "psnr_denoised": dB})
        """
        r = service.denoise_digit(_load(image), noise_level)
        to_u8 = lambda a: (np.clip(a, 0, 1) * 255).astype(np.uint8)  # noqa: E731
        return to_u8(r.noisy), to_u8(r.denoised), r.metrics

    def sentiment_endpoint(name: str) -> Callable:
        @user_errors
        def sentiment(text: str) -> dict:
            """Classify the sentiment of an English sentence.

            Args:
                text: the sentence (at most 5,000 characters).
            Returns:
                {"label": "positive" | "negative", "probabilities": {"positive": p, "negative": 1 - p}}
            """
            return service.sentiment(name, text).answer

        sentiment.__name__ = f"{name}_sentiment"
        return sentiment

    trigger.click(classify_digit, image_in, json_out, api_name="classify_digit")
    trigger.click(denoise_digit, [image_in, level_in], [noisy_out, denoised_out, metrics_out], api_name="denoise_digit")
    trigger.click(sentiment_endpoint("rnn"), text_in, json_out, api_name="rnn_sentiment")
    trigger.click(sentiment_endpoint("transformer"), text_in, json_out, api_name="transformer_sentiment")


def _load(path: str | None):
    if path is None:
        raise P.InputError("No image was sent.")
    return P.load_image_file(path)


# ---------------------------------------------------------------- launch


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    on_spaces = bool(os.environ.get("SPACE_ID"))
    p = argparse.ArgumentParser(description="Serve the archdemo app.")
    p.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0" if on_spaces else "127.0.0.1"),  # noqa: S104 (Spaces needs it)
        help="address to bind (default: $GRADIO_SERVER_NAME or 127.0.0.1; 0.0.0.0 on Spaces)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        help="port (default: $GRADIO_SERVER_PORT or 7860)",
    )
    p.add_argument("--share", action="store_true", help="also ask Gradio for a public share link")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: $ARCHDEMO_DEVICE, else cuda if available)")
    p.add_argument(
        "--weights", choices=["bundled", "hub"], help="where weights come from (default: $ARCHDEMO_WEIGHTS or bundled)"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.weights:
        os.environ["ARCHDEMO_WEIGHTS"] = args.weights
    service = ArchDemoService(device=args.device)
    service.warm_up()
    log.info("models on %s, weights from %s", service.device_label, service.loaded_from())
    demo = build(service)
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        css=CSS,
        js=BRUSH_ON_LOAD,
        max_file_size="10mb",
        footer_links=["api", "gradio"],
        prevent_thread_lock=True,
    )
    if args.share and not demo.share_url:
        # Gradio prints its own hint; this line says what it means for the person running the app.
        log.warning(
            "no public share link could be created (it needs internet access); still serving at %s", demo.local_url
        )
    demo.block_thread()


if __name__ == "__main__":
    main()
