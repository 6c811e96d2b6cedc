"""The numbers behind "see inside each architecture": what each model computes on the way to its answer.

Pure functions over the service's shared, read-only models: numpy in, numpy out, no gradio.
Every number here comes from the same models and the same token ids the service uses, so a
picture can never disagree with the answer shown next to it (the tests check this).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from archdemo import processing as P

if TYPE_CHECKING:  # only for annotations: the service may one day import this module
    from archdemo.service import ArchDemoService

MAX_WALK_STEPS = 32  # decoding more images than this is slow on CPU and unreadable in a strip


@dataclass
class CnnInsides:
    digit: np.ndarray  # (28, 28) float32 in [0, 1]: the model's input before normalisation
    feature_maps: list[np.ndarray]  # one (C, H, W) array per conv stage, e.g. (24, 14, 14), (48, 7, 7), (96, 7, 7)
    cam: np.ndarray  # (28, 28) float32 in [0, 1]: evidence for the predicted class, 0 = none or against
    probabilities: np.ndarray  # (num_classes,) float32, sums to 1
    label: str  # the predicted class's name
    labels: list[str]  # class names, in the order of ``probabilities``


@dataclass
class RnnReading:
    tokens: list[str]  # what the model read, in order
    belief: np.ndarray  # (T,) P(positive) after reading tokens[0..i]; belief[-1] is the model's answer
    influence: np.ndarray  # (T,) belief[i] - belief[i-1] (prior before token 0): how much token i moved it
    hidden: np.ndarray  # (T, H) the LSTM's (top layer's) state after each token
    prior: float  # P(positive) before reading anything: the head applied to the all-zero initial state


@dataclass
class TransformerAttention:
    tokens: list[str]  # what the model read, [CLS] first
    attention: np.ndarray  # (layers, heads, T, T): row i is how position i spreads its attention; rows sum to 1
    pooled_attention: np.ndarray  # (T,) last layer, head-averaged attention of what the classifier reads; sums to 1
    pooling: str  # "cls" or "mean": which states the classifier reads
    probabilities: np.ndarray  # (num_labels,) float32
    labels: list[str]  # label names, in the order of ``probabilities``


def _digit(image: np.ndarray, what: str = "digit") -> np.ndarray:
    """Check one prepared 28x28 digit (as ``processing.prepare_digit`` makes it) -> float32 copy."""
    a = np.asarray(image, dtype=np.float32)
    if a.shape != (28, 28):
        raise P.InputError(f"The {what} must be a prepared 28x28 image, got an array of shape {a.shape}.")
    if not np.isfinite(a).all():
        raise P.InputError(f"The {what} contains NaN or infinite values.")
    return a


# ---------------------------------------------------------------- CNN


def cnn_insides(service: ArchDemoService, digit28: np.ndarray) -> CnnInsides:
    """Every conv stage's feature maps, the class-activation map and the prediction for one digit."""
    digit = _digit(digit28)
    model = service.model("cnn")
    c = model.config
    with torch.inference_mode():
        x = torch.as_tensor(digit, device=service.device)[None, None]  # (1, 1, 28, 28)
        feats = model.forward_features((x - c.mean) / c.std)  # [(1, C_k, H_k, W_k)] per stage
        # The full forward (not a copy of its head) so the probabilities are exactly classify_batch's.
        probs = model((x - c.mean) / c.std).softmax(-1)[0]  # (num_classes,)
        cls = probs.argmax().reshape(1)
        cam = model.class_activation_map(feats[-1], cls)  # (1, 7, 7), in logit units
        cam = F.interpolate(cam[:, None], size=digit.shape, mode="bilinear", align_corners=False)[0, 0]
        # Keep only evidence *for* the class (as Grad-CAM does): negative places argued against it,
        # and min-max scaling would paint the least-negative of them as medium evidence.
        cam = cam.clamp(min=0)
        top = cam.max()
        cam = cam / top if top > 1e-12 else torch.zeros_like(cam)
    return CnnInsides(
        digit=digit,
        feature_maps=[f[0].float().cpu().numpy() for f in feats],
        cam=cam.float().cpu().numpy(),
        probabilities=probs.float().cpu().numpy(),
        label=c.labels[int(cls)],
        labels=list(c.labels),
    )


# ---------------------------------------------------------------- autoencoder


def autoencoder_insides(service: ArchDemoService, noisy28: np.ndarray) -> np.ndarray:
    """The bottleneck code (latent_dim,) that the autoencoder squeezes a (noisy) 28x28 digit into."""
    x = _digit(noisy28, "noisy digit")
    model = service.model("autoencoder")
    with torch.inference_mode():
        code = model.encode(torch.as_tensor(x, device=service.device)[None, None])  # (1, latent_dim)
    return code[0].float().cpu().numpy()


def latent_walk(service: ArchDemoService, digit_a28: np.ndarray, digit_b28: np.ndarray, steps: int) -> np.ndarray:
    """Decode ``steps`` evenly spaced points on the straight line from a's code to b's -> (steps, 28, 28).

    The first image is decode(encode(a)), the last decode(encode(b)); in between shows what the
    code space holds between two digits (a smooth morph means the codes are organised, not memorised).
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 2 <= steps <= MAX_WALK_STEPS:
        raise P.InputError(f"The number of steps must be a whole number from 2 to {MAX_WALK_STEPS}, got {steps!r}.")
    pair = np.stack([_digit(digit_a28, "first digit"), _digit(digit_b28, "second digit")])  # (2, 28, 28)
    model = service.model("autoencoder")
    with torch.inference_mode():
        codes = model.encode(torch.as_tensor(pair, device=service.device)[:, None])  # (2, latent_dim)
        t = torch.linspace(0.0, 1.0, int(steps), device=codes.device)[:, None]  # (steps, 1); exact 0 and 1 at ends
        z = (1 - t) * codes[0] + t * codes[1]  # (steps, latent_dim)
        images = model.decode(z)[:, 0]  # (steps, 28, 28)
    return images.float().cpu().numpy()


# ---------------------------------------------------------------- RNN


def rnn_reading(service: ArchDemoService, text: str) -> RnnReading:
    """The RNN's opinion after every token: its belief, each token's push, and its hidden state.

    Reads the exact ids ``service.sentiment("rnn", text)`` reads, so the last belief is its answer.
    """
    enc = service.tokenizer("rnn").encode(text)
    model = service.model("rnn")
    pos = list(model.config.labels).index("positive")
    with torch.inference_mode():
        ids = torch.tensor([enc.ids], device=service.device)  # (1, T), unpadded: no packing needed
        hidden, logits = model.read(ids)  # (1, T, H), (1, T, L)
        belief = logits[0].softmax(-1)[:, pos]  # (T,)
        # The LSTM starts from an all-zero state, so the head's view of "nothing read yet" is head(0).
        prior = model.head(torch.zeros(1, hidden.shape[-1], device=hidden.device)).softmax(-1)[0, pos]
    belief_np = belief.float().cpu().numpy()
    influence = np.diff(belief_np, prepend=np.float32(prior.item())).astype(np.float32)
    return RnnReading(
        tokens=list(enc.tokens),
        belief=belief_np,
        influence=influence,
        hidden=hidden[0].float().cpu().numpy(),
        prior=float(prior),
    )


# ---------------------------------------------------------------- Transformer


def transformer_attention(service: ArchDemoService, text: str) -> TransformerAttention:
    """Every layer's and head's attention weights for one text, and what the classifier attends to.

    One unpadded sequence, so every column is a real token: nothing attends to padding.
    """
    enc = service.tokenizer("transformer").encode(text)
    model = service.model("transformer")
    with torch.inference_mode():
        ids = torch.tensor([enc.ids], device=service.device)  # (1, T), [CLS] first
        states, weights = model.encode(ids)  # (1, T, d_model), layers x (1, heads, T, T)
        probs = model.head(model.pool(states, ids)).softmax(-1)[0]  # (num_labels,): forward's own steps
        attention = torch.stack([w[0] for w in weights])  # (layers, heads, T, T)
    attention_np = attention.float().cpu().numpy()
    last = attention_np[-1].mean(axis=0)  # (T, T): the last layer, averaged over heads
    pooling = model.config.pooling
    # "cls": the classifier reads only [CLS]'s state, built from [CLS]'s own attention row.
    # "mean": it reads the mean of all states, so the mean of all rows (each sums to 1, so does the mean).
    pooled = last[0] if pooling == "cls" else last.mean(axis=0)
    return TransformerAttention(
        tokens=list(enc.tokens),
        attention=attention_np,
        pooled_attention=pooled.astype(np.float32),
        pooling=pooling,
        probabilities=probs.float().cpu().numpy(),
        labels=list(model.config.labels),
    )


__all__ = [
    "CnnInsides",
    "RnnReading",
    "TransformerAttention",
    "autoencoder_insides",
    "cnn_insides",
    "latent_walk",
    "rnn_reading",
    "transformer_attention",
]
