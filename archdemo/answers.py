"""The API's answers: one request in, one answer out, with concurrent requests sharing forward passes.

The tabs need insides and call ``digits`` / ``sentiment`` directly; the API needs only answers, and a
crowd of API clients is served best in batches. Each request prepares its own input on its own thread
(so a bad input fails only its own request, with its own message), then hands it to a micro-batcher
(``archdemo.batching``) that runs one guarded batch for whatever is waiting. Without micro-batching,
each request runs the same guarded batch function on its own.
"""

from __future__ import annotations

import asyncio
import functools

import anyio
import numpy as np

from archdemo import anomaly
from archdemo.batching import MicroBatcher
from archdemo.digits import classify_batch, corrupt, denoise_batch, denoise_metrics, label_dict
from archdemo.image_processing import prepare_digit
from archdemo.registry import TEXT_MODELS
from archdemo.sentiment import check_text_model, sentiment_batch
from archdemo.store import ModelStore


class Answers:
    def __init__(self, store: ModelStore, micro_batching: bool = False) -> None:
        self.store = store
        self.batchers: dict[str, MicroBatcher] = {}
        if micro_batching:
            self.batchers = {
                "cnn": MicroBatcher(lambda xs: list(classify_batch(store, np.stack(xs))), name="cnn"),
                "autoencoder": MicroBatcher(lambda xs: list(denoise_batch(store, np.stack(xs))), name="autoencoder"),
                **{n: MicroBatcher(functools.partial(sentiment_batch, store, n), name=n) for n in TEXT_MODELS},
            }

    def _forward(self, name: str, item):
        batcher = self.batchers.get(name)
        if batcher is not None:
            return batcher(item)
        if name == "cnn":
            return classify_batch(self.store, item[None])[0]
        if name == "autoencoder":
            return denoise_batch(self.store, item[None])[0]
        return sentiment_batch(self.store, name, [item])[0]

    def classify_digit(self, image) -> dict:
        """Any drawing or upload -> {"label": "7", "probabilities": {"0": p0, ..., "9": p9}}."""
        probs = self._forward("cnn", prepare_digit(image))
        return label_dict(probs, self.store.get("cnn").config.labels)

    async def _forward_async(self, name: str, item):
        """``_forward`` for a coroutine on Gradio's event loop: with a batcher, its thread runs the model and
        the request needs no worker thread of its own (each hand-off to one costs the event loop GIL time)."""
        batcher = self.batchers.get(name)
        if batcher is None:
            return await anyio.to_thread.run_sync(self._forward, name, item)
        return await asyncio.wrap_future(batcher.submit(item))

    async def classify_digit_async(self, image) -> dict:
        """``classify_digit`` awaited: what the API's ``/classify_digit`` runs."""
        return await self.read_drawn_digit(prepare_digit(image))

    async def read_drawn_digit(self, digit: np.ndarray) -> dict:
        """A digit the drawing pad already reduced to 28x28 -> the same answer as ``classify_digit``."""
        return label_dict(await self._forward_async("cnn", digit), self.store.get("cnn").config.labels)

    def denoise_digit(self, image, noise_level: object, kind: str = "gaussian", seed: int = 0) -> tuple:
        """-> (clean, noisy, denoised) 28x28 arrays in [0, 1] and {"psnr_noisy": dB, "psnr_denoised": dB}."""
        clean, noisy = corrupt(image, noise_level, kind, seed)
        denoised = self._forward("autoencoder", noisy)
        return clean, noisy, denoised, denoise_metrics(clean, noisy, denoised)

    def digit_anomaly(self, image) -> dict:
        """-> {"score": float, "percentile": float, "unusual": bool}: how badly the app's autoencoder
        rebuilds the digit, against the MNIST test digits (shares the autoencoder's batches with denoising)."""
        digit = prepare_digit(image)
        return anomaly.reading(digit, self._forward("autoencoder", digit)).answer

    def sentiment(self, name: str, text: str) -> dict:
        """-> {"label": ..., "probabilities": {label: p}} with the model's own two label names."""
        check_text_model(name)
        enc = self.store.tokenizer(name).encode(text)
        return label_dict(self._forward(name, enc.ids), self.store.get(name).config.labels)

    def warm_up(self) -> None:
        """Load every model and run each once, so the first visitor does not pay for it."""
        self.store.load_all()
        blank = np.zeros((28, 28), np.float32)
        blank[6:22, 13:15] = 1.0
        self.classify_digit(blank)
        self.denoise_digit(blank, 0.5)
        for name in TEXT_MODELS:
            self.sentiment(name, "a fine warm-up sentence")
