"""The cold-start floor: a bare Gradio app that imports torch and answers one API call, nothing more.

It has archdemo's ``/classify_digit(image file)`` signature but no models, weights or UI, so the time
from process start to its first answer is what any Gradio + torch app pays before doing its own work.
Started by bench/cold_start.py exactly like app.py: ``python bench/bare_app.py --host H --port P``.
bench/serving.py's ``bare`` configuration starts it with ``--concurrency 16 --coroutine`` (as many at once
as tuned serving takes, and a coroutine, as tuned serving's handler is, so no worker thread per call):
the most requests per second Gradio's own work per call leaves room for in one process.
"""

from __future__ import annotations

import argparse

import gradio as gr
import numpy as np
import torch
from PIL import Image


def classify_digit(image: str | None) -> dict:
    """Reads the image into a tensor (so torch is really used) and answers with its size."""
    if image is None:
        raise gr.Error("No image was sent.")
    pixels = torch.as_tensor(np.asarray(Image.open(image).convert("L")))  # (H, W) uint8
    return {"label": None, "pixels": int(pixels.numel())}


async def classify_digit_async(image: str | None) -> dict:
    return classify_digit(image)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--concurrency", type=int, default=1, help="calls at once (default 1, Gradio's own)")
    p.add_argument("--coroutine", action="store_true", help="answer in a coroutine, not in a worker thread")
    args = p.parse_args()
    with gr.Blocks() as demo:
        image_in = gr.File(label="image")
        json_out = gr.JSON(label="result")
        gr.Button().click(
            classify_digit_async if args.coroutine else classify_digit,
            image_in,
            json_out,
            api_name="classify_digit",
            concurrency_limit=args.concurrency,
        )
    demo.queue().launch(server_name=args.host, server_port=args.port)


if __name__ == "__main__":
    main()
