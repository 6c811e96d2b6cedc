"""Is this a digit? The denoising autoencoder as an anomaly meter.

The score is how badly the autoencoder rebuilds the clean 28x28 input: the squared error of the rebuild,
smoothed over 3x3 pixels before squaring (``SCORE``; ``VARIANTS`` has the others measured). A score alone
means little, so it is read against its distribution over the 10,000 MNIST test digits, stored as 1001
quantiles in ``weights/autoencoder/anomaly_calibration.json``: the percentile says what share of test
digits the autoencoder rebuilt better, and at ``UNUSUAL_AT`` or more the input is called unusual.

    python -m archdemo.anomaly --data-dir ../shared/data   # rebuild the calibration (archdemo.tools.calibration)

The calibration belongs to the weights it was measured on (their fingerprint is stored with it): a
visitor's own autoencoder is read against archdemo's calibration, and the reading says so (``calibrated``).
No gradio here; the model runs under ``guarded``, once per reading.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

from archdemo.inputs.images import prepare_digit
from archdemo.paths import CALIBRATION_PATH
from archdemo.runtime.guard import guarded
from archdemo.weights.store import ModelStore

QUANTILES = 1001  # the 0th, 0.1th, ..., 100th percentiles of the test digits' scores
UNUSUAL_AT = 99.0  # percentile: 1 in 100 MNIST test digits is called unusual too


# ---------------------------------------------------------------- the score


def _box_mean(a: np.ndarray, k: int) -> np.ndarray:
    """(N, H, W) -> (N, H, W): the mean over each pixel's k x k neighbourhood (zeros beyond the edge)."""
    p = k // 2
    return sliding_window_view(np.pad(a, ((0, 0), (p, p), (p, p))), (k, k), axis=(1, 2)).mean((-1, -2))


def mse(x: np.ndarray, r: np.ndarray) -> np.ndarray:
    """(N, 28, 28) inputs and rebuilds -> (N,) mean squared error per image."""
    return ((x - r) ** 2).mean((1, 2))


def max_patch_mse(x: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The squared error of the worst 7x7 patch: one local failure is not averaged away."""
    return sliding_window_view((x - r) ** 2, (7, 7), axis=(1, 2)).mean((-1, -2)).max((1, 2))


def smoothed_mse(x: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The error averaged over 3x3 pixels, then squared: a stroke rebuilt a pixel off (plus on one side,
    minus on the other) cancels out; a stroke missing or invented does not."""
    return (_box_mean(x - r, 3) ** 2).mean((1, 2))


VARIANTS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mse": mse,
    "max_patch_mse": max_patch_mse,
    "smoothed_mse": smoothed_mse,
}
SCORE = "smoothed_mse"  # separates best (see README and the calibration file's "separation")


def anomaly_score(x: np.ndarray, r: np.ndarray) -> np.ndarray:
    """(N, 28, 28) inputs in [0, 1] and their rebuilds -> (N,) scores, higher = rebuilt worse."""
    return VARIANTS[SCORE](np.asarray(x, np.float64), np.asarray(r, np.float64))


# ---------------------------------------------------------------- calibration


@dataclass(frozen=True)
class Calibration:
    quantiles: np.ndarray  # (QUANTILES,) non-decreasing: quantiles[k] = the score at percentile k / 10
    n: int  # MNIST test digits measured
    fingerprint: str  # of the autoencoder weights measured (``fingerprint``)
    roc_auc: float | None = None  # measured separation of MNIST test digits from the non-digits (``separation``)

    def percentile(self, score: float) -> float:
        """The share (0-100) of test digits that scored lower: monotone, 0 below all, 100 above all."""
        return float(np.interp(score, self.quantiles, np.linspace(0.0, 100.0, len(self.quantiles))))


@cache
def load_calibration(path: Path = CALIBRATION_PATH) -> Calibration:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        q = np.asarray(data["quantiles"], dtype=np.float64)
        auc = data.get("separation", {}).get("roc_auc")
        cal = Calibration(q, int(data["n"]), str(data["model_fingerprint"]), None if auc is None else float(auc))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RuntimeError(f"{path}: no usable anomaly calibration ({e}); run python -m archdemo.anomaly") from None
    if data.get("score") != SCORE or q.ndim != 1 or len(q) < 2 or not np.isfinite(q).all() or (np.diff(q) < 0).any():
        raise RuntimeError(f"{path} is not a calibration of {SCORE}; run python -m archdemo.anomaly")
    return cal


def percentile(score: float) -> float:
    return load_calibration().percentile(score)


_FINGERPRINTS: weakref.WeakKeyDictionary[nn.Module, str] = weakref.WeakKeyDictionary()


def fingerprint(model: nn.Module) -> str:
    """A short hash of a model's weights (computed once per model): which autoencoder a calibration fits."""
    fp = _FINGERPRINTS.get(model)
    if fp is None:
        h = hashlib.sha256()
        for name, t in sorted(model.state_dict().items()):
            h.update(name.encode())
            h.update(t.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
        fp = _FINGERPRINTS[model] = h.hexdigest()[:16]
    return fp


@guarded
def model_fingerprint(store: ModelStore, choice: str | None = None) -> str:
    return fingerprint(store.get("autoencoder", choice))


# ---------------------------------------------------------------- a reading


@dataclass
class AnomalyReading:
    score: float  # ``anomaly_score`` of the input and its rebuild
    percentile: float  # 0-100: the share of MNIST test digits the autoencoder rebuilt better
    unusual: bool  # percentile >= UNUSUAL_AT
    digit28: np.ndarray  # (28, 28) float32 in [0, 1]: the input as the autoencoder saw it
    rebuilt28: np.ndarray  # (28, 28) its rebuild
    calibrated: bool = True  # False: the calibration was measured on other weights (a visitor's model)

    @property
    def answer(self) -> dict:
        """The API's answer: {"score": float, "percentile": float, "unusual": bool}."""
        return {"score": self.score, "percentile": self.percentile, "unusual": self.unusual}


def reading(digit: np.ndarray, rebuilt: np.ndarray, model_fp: str | None = None) -> AnomalyReading:
    """A clean digit and the autoencoder's rebuild of it -> the reading; ``model_fp`` None: archdemo's model."""
    cal = load_calibration()
    score = float(anomaly_score(digit[None], rebuilt[None])[0])
    p = cal.percentile(score)
    return AnomalyReading(score, p, p >= UNUSUAL_AT, digit, rebuilt, model_fp in (None, cal.fingerprint))


@guarded
def _rebuild(store: ModelStore, digit: np.ndarray, choice: str | None) -> tuple[np.ndarray, str]:
    ae = store.get("autoencoder", choice)
    rebuilt = ae(torch.as_tensor(digit, device=store.device)[None, None])[0, 0]  # (28, 28)
    return rebuilt.float().cpu().numpy(), fingerprint(ae)


def digit_anomaly(store: ModelStore, image, choice: str | None = None) -> AnomalyReading:
    """Any drawing or upload (as ``digits.denoise_digit`` takes) -> how unusual its rebuild is, or InputError."""
    digit = prepare_digit(image)
    rebuilt, fp = _rebuild(store, digit, choice)
    return reading(digit, rebuilt, fp)
