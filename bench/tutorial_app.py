"""The serving reference: the article's CNN in a Gradio app written the tutorial way, with Gradio's defaults.

SimpleCNN (conv 16, pool, conv 32, pool, linear: ``bench.models.ArticleCNN``) with random weights (a
forward pass takes as long with trained ones), behind ``gr.Interface(fn, gr.Image(...), gr.Label())``:
the image is resized to 28x28, normalised with MNIST's mean and std, classified under
``torch.no_grad()``, and the ten probabilities go to the label. Exposed as ``/classify_digit`` (an
image file in), launched with Gradio's defaults (queue on, one request at a time). Started by
bench/serving.py (``--configs tutorial``) as app.py is: ``python bench/tutorial_app.py --host H --port P``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: make `bench` importable

import gradio as gr  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from torchvision import transforms  # noqa: E402

from bench.models import ArticleCNN  # noqa: E402

PREPROCESS = transforms.Compose(
    [
        transforms.Grayscale(),
        transforms.Resize((28, 28)),
        transforms.ToTensor(),
        transforms.Normalize((0.1307,), (0.3081,)),
    ]
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args()
    model = ArticleCNN().to(args.device).eval()

    def classify_digit(image: Image.Image) -> dict[str, float]:
        x = PREPROCESS(image).unsqueeze(0).to(args.device)  # (1, 1, 28, 28)
        with torch.no_grad():
            probs = torch.softmax(model(x), dim=1)[0]  # (10,)
        return {str(digit): float(p) for digit, p in enumerate(probs)}

    demo = gr.Interface(classify_digit, gr.Image(type="pil"), gr.Label(), api_name="classify_digit")
    demo.launch(server_name=args.host, server_port=args.port)


if __name__ == "__main__":
    main()
