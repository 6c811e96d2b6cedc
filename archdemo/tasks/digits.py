"""Digit tasks: read a digit with the CNN (and with every other digit reader), clean a noisy one with the
autoencoder, walk between codes.

Plain functions over the model store: numpy in, numpy out, no gradio. Each interaction is one
guarded call (see ``archdemo.runtime.guard``) that runs each model it needs once and returns the answer
together with the insides its tab draws, so a picture can never disagree with the answer beside it.
Preparing the input (cropping, centring, noise) happens before, on the CPU, and its errors are
``InputError``s with a message for the visitor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from archdemo.errors import InputError
from archdemo.inputs.answers import label_dict, number
from archdemo.inputs.images import add_noise, prepare_digit, psnr
from archdemo.runtime.guard import guarded
from archdemo.tasks.anomaly import AnomalyReading, fingerprint, reading
from archdemo.weights.registry import DIGIT_MODELS
from archdemo.weights.store import ModelStore

MAX_WALK_STEPS = 32  # decoding more images than this is slow on CPU and unreadable in a strip


@dataclass
class DigitReading:
    digit: np.ndarray  # (28, 28) float32 in [0, 1]: what the CNN received
    probabilities: np.ndarray  # (num_classes,) float32, sums to 1
    labels: list[str]  # class names from the model's config, in the order of ``probabilities``
    feature_maps: list[np.ndarray]  # one (C, H, W) per conv stage, e.g. (24, 14, 14), (48, 7, 7), (96, 7, 7)
    cam: np.ndarray  # (28, 28) float32 in [0, 1]: evidence for the predicted class, 0 = none or against

    @property
    def answer(self) -> dict:
        return label_dict(self.probabilities, self.labels)


@dataclass
class DenoiseReading:
    clean: np.ndarray  # (28, 28) float32 in [0, 1]: the digit as the models see it
    noisy: np.ndarray  # (28, 28) the same after the chosen corruption
    denoised: np.ndarray  # (28, 28) the autoencoder's rebuild of ``noisy``
    code: np.ndarray  # (latent_dim,) the bottleneck code ``noisy`` was squeezed into
    metrics: dict  # {"psnr_noisy": dB, "psnr_denoised": dB}
    cnn_says: list[tuple[str, float]] | None = None  # the CNN's (label, probability) for clean, noisy, denoised
    anomaly: AnomalyReading | None = None  # how unusual the autoencoder finds ``clean`` (from the same pass)


# ---------------------------------------------------------------- CNN


@dataclass
class ReaderReading:
    """One digit reader's answer and the inside its column draws, from the same forward pass."""

    name: str  # the registry name of the reader
    probabilities: np.ndarray  # (num_classes,) float32, sums to 1
    labels: list[str]
    inside: np.ndarray  # the LSTM: (rows, classes) its belief after each row; the ViT: (layers, heads, 7, 7) the
    # class token's attention over the patches; the probe: (latent_dim,) the autoencoder's code it reads

    @property
    def answer(self) -> dict:
        return label_dict(self.probabilities, self.labels)


@dataclass
class EveryReader:
    """The same drawing through every digit reader: the CNN with all its insides, then the others."""

    cnn: DigitReading
    others: list[ReaderReading]


@guarded
def read_digit(store: ModelStore, digit: np.ndarray, choice: str | None = None) -> DigitReading:
    """One prepared (28, 28) digit through the CNN, keeping every stage's maps and the class-activation map."""
    digit = _prepared(digit, "digit")  # a prepared 28x28 of finite numbers, or InputError (float32 copy)
    return _cnn_reading(store, store.get("cnn", choice), digit)


@guarded
def read_every_reader(store: ModelStore, digit: np.ndarray, choice: str | None = None) -> EveryReader:
    """One drawing through every digit reader in one guarded call (``choice``: the visitor's own CNN)."""
    digit = _prepared(digit, "digit")
    x = torch.as_tensor(digit, dtype=torch.float32, device=store.device)[None, None]  # (1, 1, 28, 28)
    others = []
    for name in DIGIT_MODELS[1:]:  # the CNN first, with its own insides, then the others in the table's order
        model = store.get(name)
        if hasattr(model, "read"):  # reads row by row: its opinion after every row
            _, logits = model.read(x)  # (1, rows, classes)
            probs, inside = logits[0, -1].softmax(-1), logits[0].softmax(-1)  # (classes,), (rows, classes)
        elif hasattr(model, "forward_with_attention"):  # attends over patches: the class token's attention
            logits, attentions = model.forward_with_attention(x)
            probs, inside = logits[0].softmax(-1), model.class_attention(attentions)[0]  # (layers, heads, g, g)
        else:  # a probe on a code: the code it reads
            logits, code = model.forward_with_code(x)
            probs, inside = logits[0].softmax(-1), code[0]  # (latent_dim,)
        probs, inside = (t.float().cpu().numpy() for t in (probs, inside))
        others.append(ReaderReading(name, probs, list(model.config.labels), inside))
    return EveryReader(_cnn_reading(store, store.get("cnn", choice), digit), others)


def _cnn_reading(store: ModelStore, model, digit: np.ndarray) -> DigitReading:
    x = torch.as_tensor(digit, dtype=torch.float32, device=store.device)[None, None]  # (1, 1, 28, 28)
    logits, feats = model.forward_with_features(x)  # (1, classes), [(1, C_k, H_k, W_k)]
    probs = logits.softmax(-1)[0]
    cls = probs.argmax().reshape(1)
    cam = model.class_activation_map(feats[-1], cls)  # (1, 7, 7) in logit units
    cam = F.interpolate(cam[:, None], size=digit.shape, mode="bilinear", align_corners=False)[0, 0]
    # Keep only evidence *for* the class (as Grad-CAM does): negative places argued against it, and
    # scaling to [0, 1] would otherwise paint the least negative of them as medium evidence.
    cam = cam.clamp(min=0)
    top = cam.max()
    cam = cam / top if top > 1e-12 else torch.zeros_like(cam)
    return DigitReading(
        digit=digit,
        probabilities=probs.float().cpu().numpy(),
        labels=list(model.config.labels),
        feature_maps=[f[0].float().cpu().numpy() for f in feats],
        cam=cam.float().cpu().numpy(),
    )


def classify_digit(store: ModelStore, image, choice: str | None = None) -> DigitReading:
    """Any drawing or upload -> the CNN's reading of it (answer and insides)."""
    return read_digit(store, prepare_digit(image), choice)


@guarded
def classify_batch(store: ModelStore, digits: np.ndarray, name: str = "cnn") -> np.ndarray:
    """(N, 28, 28) prepared digits in [0, 1] -> (N, num_classes) probabilities from the app's digit reader ``name``."""
    if name not in DIGIT_MODELS:
        raise ValueError(f"{name!r} is not a digit reader; choose one of {DIGIT_MODELS}")
    x = torch.as_tensor(np.asarray(digits), dtype=torch.float32, device=store.device)[:, None]
    return store.get(name)(x).softmax(-1).float().cpu().numpy()


# ---------------------------------------------------------------- autoencoder


def corrupt(image, noise_level: object, kind: str = "gaussian", seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Any drawing or upload -> (clean, noisy) 28x28 digits, or InputError."""
    clean = prepare_digit(image)
    return clean, add_noise(clean, kind, number(noise_level, "noise level", 0.0, 1.0), np.random.default_rng(seed))


@guarded
def _denoise_pass(
    store: ModelStore, clean: np.ndarray, noisy: np.ndarray, choice: str | None, ask_cnn: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, str]:
    ae = store.get("autoencoder", choice)
    # One batch: the noisy digit (to denoise) and the clean one (its rebuild is the anomaly meter's).
    pair = torch.stack([torch.as_tensor(noisy, device=store.device), torch.as_tensor(clean, device=store.device)])
    codes = ae.encode(pair[:, None])  # (2, latent_dim)
    denoised, rebuilt = ae.decode(codes)[:, 0]  # (28, 28) each
    probs = None
    if ask_cnn:  # the app's CNN reads all three versions in one batch
        trio = torch.stack([torch.as_tensor(clean, device=store.device), torch.as_tensor(noisy, device=store.device)])
        trio = torch.cat([trio, denoised[None]])[:, None]  # (3, 1, 28, 28)
        probs = store.get("cnn")(trio).softmax(-1).float().cpu().numpy()
    to_numpy = lambda t: t.float().cpu().numpy()  # noqa: E731
    return to_numpy(denoised), to_numpy(rebuilt), to_numpy(codes[0]), probs, fingerprint(ae)


def denoise_digit(
    store: ModelStore,
    image,
    noise_level: object,
    kind: str = "gaussian",
    seed: int = 0,
    choice: str | None = None,
    ask_cnn: bool = False,
) -> DenoiseReading:
    """Corrupt a digit, rebuild it, keep the code, and read how unusual the clean digit's rebuild is;
    with ``ask_cnn`` also the CNN's verdict on each version."""
    clean, noisy = corrupt(image, noise_level, kind, seed)
    denoised, rebuilt, code, probs, model_fp = _denoise_pass(store, clean, noisy, choice, ask_cnn)
    says = None
    if probs is not None:
        labels = store.get("cnn").config.labels
        says = [(labels[int(p.argmax())], float(p.max())) for p in probs]
    metrics = denoise_metrics(clean, noisy, denoised)
    return DenoiseReading(clean, noisy, denoised, code, metrics, says, reading(clean, rebuilt, model_fp))


def denoise_metrics(clean: np.ndarray, noisy: np.ndarray, denoised: np.ndarray) -> dict:
    return {"psnr_noisy": round(psnr(clean, noisy), 2), "psnr_denoised": round(psnr(clean, denoised), 2)}


@guarded
def denoise_batch(store: ModelStore, noisy: np.ndarray) -> np.ndarray:
    """(N, 28, 28) in [0, 1] -> (N, 28, 28) denoised in [0, 1], the app's own autoencoder."""
    x = torch.as_tensor(np.asarray(noisy), dtype=torch.float32, device=store.device)[:, None]
    return store.get("autoencoder")(x)[:, 0].float().cpu().numpy()


@guarded
def _walk(store: ModelStore, pair: np.ndarray, steps: int, choice: str | None) -> np.ndarray:
    model = store.get("autoencoder", choice)
    codes = model.encode(torch.as_tensor(pair, device=store.device)[:, None])  # (2, latent_dim)
    t = torch.linspace(0.0, 1.0, steps, device=codes.device)[:, None]  # (steps, 1); exactly 0 and 1 at the ends
    return model.decode((1 - t) * codes[0] + t * codes[1])[:, 0].float().cpu().numpy()  # (steps, 28, 28)


def latent_walk(
    store: ModelStore, digit_a: np.ndarray, digit_b: np.ndarray, steps: int, choice: str | None = None
) -> np.ndarray:
    """Decode ``steps`` evenly spaced points on the line from a's code to b's -> (steps, 28, 28).

    The first image is decode(encode(a)), the last decode(encode(b)); in between shows what the code
    space holds between two digits (a smooth morph means the codes are organised, not memorised).
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 2 <= steps <= MAX_WALK_STEPS:
        raise InputError(f"The number of steps must be a whole number from 2 to {MAX_WALK_STEPS}, got {steps!r}.")
    pair = np.stack([_prepared(digit_a, "first digit"), _prepared(digit_b, "second digit")])  # (2, 28, 28)
    return _walk(store, pair, int(steps), choice)


def _prepared(image: np.ndarray, what: str) -> np.ndarray:
    """Check one prepared 28x28 digit (as ``prepare_digit`` makes it) -> float32 copy."""
    a = np.asarray(image, dtype=np.float32)
    if a.shape != (28, 28):
        raise InputError(f"The {what} must be a prepared 28x28 image, got an array of shape {a.shape}.")
    if not np.isfinite(a).all():
        raise InputError(f"The {what} contains NaN or infinite values.")
    return a
