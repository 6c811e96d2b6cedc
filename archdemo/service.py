"""The backend the UI and the API call: device, model cache, one method per task.

Plain Python and numpy in and out; no gradio. Bad input raises ``InputError`` with a message for
the user. Models are loaded once (lazily or by ``warm_up``) and shared read-only by every session.
"""

from __future__ import annotations

import copy
import functools
import logging
import numbers
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from archdemo import processing as P
from archdemo.batching import MicroBatcher
from archdemo.device import describe, gpu_task, pick_device
from archdemo.hub import (
    BUNDLED_DIR,
    WeightsError,
    WeightsSource,
    default_source,
    load_model,
    load_user_model,
    parse_source,
    pin,
    user_source,
)
from archdemo.registry import MODELS, get_spec

log = logging.getLogger("archdemo.service")
TEXT_MODELS = ("rnn", "transformer")


def _is_gpu_failure(e: BaseException) -> bool:
    """Out of GPU memory, or an error raised by CUDA itself (a lost, broken or busy device)."""
    if isinstance(e, torch.cuda.OutOfMemoryError) or type(e).__name__ == "AcceleratorError":
        return True
    return isinstance(e, RuntimeError) and any(w in str(e) for w in ("CUDA", "CUBLAS", "cuDNN", "NCCL"))


def _cpu_fallback(fn):
    """Run ``fn``; if it fails on the GPU, move every model to the CPU, keep serving from there, retry once."""

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        try:
            return fn(self, *args, **kwargs)
        except RuntimeError as e:
            if not _is_gpu_failure(e):
                raise
            log.warning("%s failed on %s (%s); moving the models to the CPU", fn.__name__, self.device_label, e)
            self._move_to_cpu()
            return fn(self, *args, **kwargs)

    return wrapper


@dataclass
class SentimentResult:
    answer: dict  # the API's shape: {"label": ..., "probabilities": {...}}
    tokens: list[str]  # what the model read ([CLS] included for the Transformer)
    notices: list[str] = field(default_factory=list)  # truncation, unknown words: shown to the user


@dataclass
class DenoiseResult:
    clean: np.ndarray  # (28, 28) float32 in [0, 1]: the digit as the models see it
    noisy: np.ndarray
    denoised: np.ndarray
    metrics: dict  # {"psnr_noisy": dB, "psnr_denoised": dB}


class ArchDemoService:
    def __init__(
        self,
        device: str | torch.device | None = None,
        sources: dict[str, WeightsSource] | None = None,
        micro_batching: bool = False,
    ):
        self.device = pick_device(str(device) if device is not None else None)
        self._sources = dict(sources or {})
        self._models: dict[str, nn.Module] = {}
        self._tokenizers: dict[str, P.Tokenizer] = {}
        self._loaded_from: dict[str, str] = {}
        self._lock = threading.Lock()
        # Models visitors loaded from their own Hub repos: the few most recent, shared by everyone who
        # picks the same repo and commit, kept apart from the app's own models.
        self._user_models: OrderedDict[tuple[str, str, str], nn.Module] = OrderedDict()
        self._user_lock = threading.Lock()
        # With micro_batching, concurrent single requests share one forward pass per model (see
        # archdemo/batching.py); preprocessing and its errors stay with each request.
        self._batchers: dict[str, MicroBatcher] = {}
        if micro_batching:
            self._batchers = {
                "cnn": MicroBatcher(lambda xs: list(self.classify_batch(np.stack(xs))), name="cnn"),
                "autoencoder": MicroBatcher(lambda xs: list(self.denoise_batch(np.stack(xs))), name="autoencoder"),
                **{n: MicroBatcher(functools.partial(self.sentiment_batch, n), name=n) for n in TEXT_MODELS},
            }

    # ------------------------------------------------------------ models

    @property
    def device_label(self) -> str:
        return describe(self.device)

    def source(self, name: str) -> WeightsSource:
        return self._sources.get(name) or default_source(get_spec(name))

    def model(self, name: str) -> nn.Module:
        model = self._models.get(name)
        if model is None:
            with self._lock:
                if name not in self._models:
                    self._models[name], self._loaded_from[name] = self._load(name)
                model = self._models[name]
        return model

    def _load(self, name: str) -> tuple[nn.Module, str]:
        """Load from the configured source; a registry Hub source that fails falls back to the bundled copy.

        A source the user named explicitly (ARCHDEMO_<NAME>_WEIGHTS or ``sources``) never falls back:
        they asked for that model, so they get it or a clear error.
        """
        explicit = name in self._sources or os.environ.get(f"ARCHDEMO_{name.upper()}_WEIGHTS")
        try:
            source = self.source(name)
            return load_model(name, source, self.device), str(source)
        except WeightsError as e:
            if explicit or os.environ.get("ARCHDEMO_WEIGHTS", "bundled") != "hub":
                raise
            log.warning("%s: %s; falling back to the bundled weights in %s", name, e, BUNDLED_DIR / name)
            bundled = WeightsSource("dir", str(BUNDLED_DIR / name))
            return load_model(name, bundled, self.device), f"{bundled} (fallback: the Hub was unavailable)"

    def _move_to_cpu(self) -> None:
        with self._lock:
            self.device = torch.device("cpu")
            for name, model in list(self._models.items()):
                self._models[name] = model.to(self.device)
        if torch.cuda.is_available():
            try:
                torch.cuda.empty_cache()
            except RuntimeError:
                pass

    USER_MODELS_KEPT = 4

    def _user_model(self, name: str, source: WeightsSource) -> nn.Module:
        """A visitor's model at a pinned commit: from memory, else loaded (and the oldest one dropped)."""
        key = (name, source.location, source.revision or "")
        with self._user_lock:  # one load at a time: a crowd asking for the same repo loads it once
            if key not in self._user_models:
                self._user_models[key] = load_user_model(name, source, self.device)
                while len(self._user_models) > self.USER_MODELS_KEPT:
                    self._user_models.popitem(last=False)
            self._user_models.move_to_end(key)
            return self._user_models[key]

    def load_user_model(self, name: str, repo_id: str, revision: str = "") -> tuple[str, str]:
        """Load a visitor's own model for one tab; -> (a source string to keep in their session, a message).

        The revision (default: main) is resolved to its commit each time, so loading again after a
        push gets the new model. Raises WeightsError with a message for the visitor when the repo
        is malformed, unreachable, of another architecture, too big or broken.
        """
        source = pin(user_source(repo_id, revision))
        model = self._user_model(name, source)
        n = sum(p.numel() for p in model.parameters())
        return str(source), (
            f"Using **{source.location}** at commit `{(source.revision or '')[:12]}` ({n:,} parameters) "
            "in this tab, for you only."
        )

    def using(self, name: str, choice: str | None) -> ArchDemoService:
        """This service, with model ``name`` replaced by a visitor's loaded model (``choice`` from
        ``load_user_model``), or unchanged when there is no choice. Explanations work on either."""
        if not choice:
            return self
        view = copy.copy(self)
        view._models = {**self._models, name: self._user_model(name, parse_source(choice))}
        view._tokenizers = {k: v for k, v in self._tokenizers.items() if k != name}
        view._loaded_from = {**self._loaded_from, name: choice}
        view._batchers = {}  # the shared batchers run the app's own models
        return view

    def loaded_from(self) -> dict[str, str]:
        return dict(self._loaded_from)

    def tokenizer(self, name: str) -> P.Tokenizer:
        tok = self._tokenizers.get(name)
        if tok is None:
            c = self.model(name).config
            tok = P.Tokenizer(c.vocab, c.unk_id, c.max_len, getattr(c, "cls_id", None))
            self._tokenizers[name] = tok
        return tok

    def warm_up(self) -> None:
        """Load every model and run each once, so the first user does not pay for it."""
        for name in MODELS:
            self.model(name)
        blank = np.zeros((28, 28), np.float32)
        blank[6:22, 13:15] = 1.0
        self.classify_batch(blank[None])
        self.denoise_batch(blank[None])
        for name in TEXT_MODELS:
            self.sentiment(name, "a fine warm-up sentence")

    def _forward_one(self, name: str, item: np.ndarray | list[int]) -> np.ndarray:
        """One prepared input through its model: via the micro-batcher when serving many, else directly."""
        batcher = self._batchers.get(name)
        if batcher is not None:
            return batcher(item)
        if name == "cnn":
            return self.classify_batch(item[None])[0]
        if name == "autoencoder":
            return self.denoise_batch(item[None])[0]
        return self.sentiment_batch(name, [item])[0]

    # ------------------------------------------------------------ CNN

    @_cpu_fallback
    @gpu_task()
    @torch.inference_mode()
    def classify_batch(self, digits: np.ndarray) -> np.ndarray:
        """(N, 28, 28) in [0, 1] -> (N, 10) class probabilities."""
        model = self.model("cnn")
        c = model.config
        x = torch.as_tensor(digits, dtype=torch.float32, device=self.device)[:, None]
        return model((x - c.mean) / c.std).softmax(-1).float().cpu().numpy()

    def classify_digit(self, image: np.ndarray | None) -> dict:
        """Any drawing or upload -> {"label": "7", "probabilities": {"0": p0, ..., "9": p9}}."""
        digit = P.prepare_digit(image)
        return P.label_dict(self._forward_one("cnn", digit), self.model("cnn").config.labels)

    # ------------------------------------------------------------ autoencoder

    @_cpu_fallback
    @gpu_task()
    @torch.inference_mode()
    def denoise_batch(self, noisy: np.ndarray) -> np.ndarray:
        """(N, 28, 28) in [0, 1] -> (N, 28, 28) denoised, in [0, 1]."""
        x = torch.as_tensor(noisy, dtype=torch.float32, device=self.device)[:, None]
        return self.model("autoencoder")(x)[:, 0].float().cpu().numpy()

    def denoise_digit(
        self, image: np.ndarray | None, noise_level: float, kind: str = "gaussian", seed: int = 0
    ) -> DenoiseResult:
        clean = P.prepare_digit(image)
        noisy = P.add_noise(clean, kind, _number(noise_level, "noise level"), np.random.default_rng(seed))
        denoised = self._forward_one("autoencoder", noisy)
        metrics = {"psnr_noisy": round(P.psnr(clean, noisy), 2), "psnr_denoised": round(P.psnr(clean, denoised), 2)}
        return DenoiseResult(clean, noisy, denoised, metrics)

    # ------------------------------------------------------------ text

    def _check_text_model(self, name: str) -> None:
        if name not in TEXT_MODELS:
            raise ValueError(f"{name!r} is not a text model; choose one of {TEXT_MODELS}")

    @_cpu_fallback
    @gpu_task()
    @torch.inference_mode()
    def sentiment_batch(self, name: str, ids: list[list[int]]) -> np.ndarray:
        """Token id lists -> (N, 2) probabilities [negative, positive]."""
        self._check_text_model(name)
        model = self.model(name)
        lengths = torch.tensor([len(r) for r in ids])
        batch = torch.full((len(ids), int(lengths.max())), model.config.pad_id, dtype=torch.long)
        for i, r in enumerate(ids):
            batch[i, : len(r)] = torch.tensor(r)
        return model(batch.to(self.device), lengths.to(self.device)).softmax(-1).float().cpu().numpy()

    def sentiment(self, name: str, text: str) -> SentimentResult:
        self._check_text_model(name)
        enc = self.tokenizer(name).encode(text)
        return self._sentiment_result(name, enc, self._forward_one(name, enc.ids))

    # ------------------------------------------------------------ many requests at once
    # For batched serving: each item is prepared on its own, and its InputError is returned in its
    # place rather than raised, so one bad item does not spoil the others; the model then runs once
    # for all the good items. Answers equal the one-at-a-time methods' (up to float rounding). An
    # item may itself be an InputError (a file the caller could not read): it is passed through.

    def classify_digits(self, images: Sequence[np.ndarray | Image.Image | None]) -> list[dict | P.InputError]:
        """Many drawings or uploads -> per item, classify_digit's answer or the item's InputError."""
        out: list = _each(P.prepare_digit, images)
        good = [i for i, r in enumerate(out) if not isinstance(r, P.InputError)]
        if good:
            labels = self.model("cnn").config.labels
            probs = self.classify_batch(np.stack([out[i] for i in good]))  # (G, 10)
            for i, p in zip(good, probs, strict=True):
                out[i] = P.label_dict(p, labels)
        return out

    def denoise_digits(
        self,
        images: Sequence[np.ndarray | Image.Image | None],
        noise_levels: Sequence[float],
        kind: str = "gaussian",
        seed: int = 0,
    ) -> list[DenoiseResult | P.InputError]:
        """Per item, what denoise_digit(image, level, kind, seed) returns, or the item's InputError."""
        if len(images) != len(noise_levels):
            raise ValueError(f"{len(images)} images but {len(noise_levels)} noise levels")

        def corrupt(item: tuple) -> tuple[np.ndarray, np.ndarray]:
            if isinstance(item[0], P.InputError):
                raise item[0]
            clean = P.prepare_digit(item[0])
            level = _number(item[1], "noise level")
            return clean, P.add_noise(clean, kind, level, np.random.default_rng(seed))

        out: list = _each(corrupt, list(zip(images, noise_levels, strict=True)))
        good = [i for i, r in enumerate(out) if not isinstance(r, P.InputError)]
        if good:
            denoised = self.denoise_batch(np.stack([out[i][1] for i in good]))  # (G, 28, 28)
            for i, d in zip(good, denoised, strict=True):
                clean, noisy = out[i]
                metrics = {"psnr_noisy": round(P.psnr(clean, noisy), 2), "psnr_denoised": round(P.psnr(clean, d), 2)}
                out[i] = DenoiseResult(clean, noisy, d, metrics)
        return out

    def sentiments(self, name: str, texts: Sequence[str]) -> list[SentimentResult | P.InputError]:
        """Per text, what sentiment(name, text) returns, or the text's InputError; one padded batch."""
        self._check_text_model(name)
        tok = self.tokenizer(name)
        out: list = _each(tok.encode, texts)
        good = [i for i, r in enumerate(out) if not isinstance(r, P.InputError)]
        if good:
            probs = self.sentiment_batch(name, [out[i].ids for i in good])  # (G, 2)
            for i, p in zip(good, probs, strict=True):
                out[i] = self._sentiment_result(name, out[i], p)
        return out

    def _sentiment_result(self, name: str, enc: P.Encoded, probs: np.ndarray) -> SentimentResult:
        answer = P.label_dict(probs, self.model(name).config.labels)
        answer["probabilities"] = {
            "positive": answer["probabilities"]["positive"],
            "negative": answer["probabilities"]["negative"],
        }
        notices = []
        if enc.truncated:
            notices.append(f"The text was cut to its first {len(enc.ids)} tokens ({enc.truncated} more were ignored).")
        words = len(enc.tokens) - (1 if enc.tokens and enc.tokens[0] == "[CLS]" else 0)
        if enc.unknown:
            notices.append(
                f"{enc.unknown} of {words} tokens are not in the model's vocabulary and were read as unknown."
            )
        return SentimentResult(answer, enc.tokens, notices)


def _each(fn: Callable[[Any], Any], items: Sequence) -> list:
    """fn applied to every item; an item whose fn raises InputError gets the error in its place.

    An item that already is an InputError (e.g. an upload that could not be read) stays as it is.
    """
    out: list = []
    for item in items:
        try:
            out.append(item if isinstance(item, P.InputError) else fn(item))
        except P.InputError as e:
            out.append(e)
    return out


def _number(value: object, what: str) -> float:
    if value is None:
        raise P.InputError(f"No {what} was sent: send a number.")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):  # numpy scalars are Real
        raise P.InputError(f"The {what} must be a number, got {type(value).__name__}.")
    try:
        return float(value)
    except OverflowError:  # an int with hundreds of digits
        raise P.InputError(f"The {what} is too large.") from None


__all__ = ["ArchDemoService", "DenoiseResult", "SentimentResult", "WeightsError"]
