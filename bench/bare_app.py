"""The cold-start floor: a bare Gradio app that imports torch and answers one API call, nothing more.

It has archdemo's ``/classify_digit(image file)`` signature but no models, weights or UI, so the time
from process start to its first answer is what any Gradio + torch app pays before doing its own work.
Started by bench/cold_start.py exactly like app.py: ``python bench/bare_app.py --host H --port P``.
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    args = p.parse_args()
    with gr.Blocks() as demo:
        image_in = gr.File(label="image")
        json_out = gr.JSON(label="result")
        gr.Button().click(classify_digit, image_in, json_out, api_name="classify_digit")
    demo.queue().launch(server_name=args.host, server_port=args.port)


if __name__ == "__main__":
    main()
