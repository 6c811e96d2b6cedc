"""The API's answers: one request in, one answer out, with concurrent requests sharing forward passes.

The tabs need insides and call the tasks (``archdemo.tasks``) directly; the API needs only answers, and a
crowd of API clients is served best in batches. Each request prepares its own input (so a bad input fails
only its own request, with its own message), then hands it to a micro-batcher (``archdemo.runtime.batching``)
that runs one guarded batch for whatever is waiting and returns each request its finished answer. Without
micro-batching, each request runs the same batch function on its own.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence

import anyio
import numpy as np

from archdemo.inputs.answers import label_dict
from archdemo.inputs.images import prepare_digit
from archdemo.runtime.batching import MicroBatcher
from archdemo.tasks import anomaly
from archdemo.tasks.digits import classify_batch, corrupt, denoise_batch, denoise_metrics
from archdemo.tasks.sentences import check_text_model, sentiment_batch
from archdemo.weights.registry import DIGIT_MODELS, TEXT_MODELS
from archdemo.weights.store import ModelStore


class Answers:
    def __init__(self, store: ModelStore, micro_batching: bool = False) -> None:
        self.store = store
        # model name -> (prepared items -> one finished answer per item): what one forward pass serves.
        self.batch_fns: dict[str, Callable[[Sequence], list]] = {
            **{n: functools.partial(self._digit_answers, n) for n in DIGIT_MODELS},
            "autoencoder": lambda xs: list(denoise_batch(store, np.stack(xs))),
            **{n: functools.partial(self._sentence_answers, n) for n in TEXT_MODELS},
        }
        self.batchers: dict[str, MicroBatcher] = {}
        if micro_batching:
            self.batchers = {name: MicroBatcher(fn, name=name) for name, fn in self.batch_fns.items()}

    def _digit_answers(self, name: str, digits: Sequence[np.ndarray]) -> list[dict]:
        labels = self.store.get(name).config.labels
        return [label_dict(p, labels) for p in classify_batch(self.store, np.stack(digits), name)]

    def _sentence_answers(self, name: str, ids: Sequence[list[int]]) -> list[dict]:
        labels = self.store.get(name).config.labels
        return [label_dict(p, labels) for p in sentiment_batch(self.store, name, list(ids))]

    def _forward(self, name: str, item):
        batcher = self.batchers.get(name)
        return batcher(item) if batcher is not None else self.batch_fns[name]([item])[0]

    async def _forward_async(self, name: str, item):
        """``_forward`` for a coroutine on Gradio's event loop: with a batcher, its thread runs the model and
        the request needs no worker thread of its own (each hand-off to one costs the event loop GIL time)."""
        batcher = self.batchers.get(name)
        if batcher is None:
            return await anyio.to_thread.run_sync(self._forward, name, item)
        return await asyncio.wrap_future(batcher.submit(item))

    def classify_digit(self, image, name: str = "cnn") -> dict:
        """Any drawing or upload -> {"label": "7", "probabilities": {"0": p0, ..., "9": p9}} from reader ``name``."""
        return self._forward(_digit_reader(name), prepare_digit(image))

    async def read_drawn_digit(self, digit: np.ndarray, name: str = "cnn") -> dict:
        """A digit already reduced to 28x28 (by the pad, or decoded off the loop) -> reader ``name``'s answer."""
        return await self._forward_async(_digit_reader(name), digit)

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
        return self._forward(name, self.store.tokenizer(name).encode(text).ids)

    def warm_up(self) -> None:
        """Load every model and run each once, so the first visitor does not pay for it."""
        self.store.load_all()
        blank = np.zeros((28, 28), np.float32)
        blank[6:22, 13:15] = 1.0
        for name in DIGIT_MODELS:
            self.classify_digit(blank, name)
        self.denoise_digit(blank, 0.5)
        for name in TEXT_MODELS:
            self.sentiment(name, "a fine warm-up sentence")


def _digit_reader(name: str) -> str:
    if name not in DIGIT_MODELS:
        raise ValueError(f"{name!r} is not a digit reader; choose one of {DIGIT_MODELS}")
    return name
