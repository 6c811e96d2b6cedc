"""Is this a digit? The denoising autoencoder as an anomaly meter, and the calibration that reads it.

The score is how badly the autoencoder rebuilds the clean 28x28 input: the squared error of the rebuild,
smoothed over 3x3 pixels before squaring (``SCORE``; ``VARIANTS`` has the others measured). A score alone
means little, so it is read against its distribution over the 10,000 MNIST test digits, stored as 1001
quantiles in ``weights/autoencoder/anomaly_calibration.json``: the percentile says what share of test
digits the autoencoder rebuilt better, and at ``UNUSUAL_AT`` or more the input is called unusual.

    python -m archdemo.anomaly --data-dir ../shared/data   # rebuild the calibration, print ROC AUCs

The calibration belongs to the weights it was measured on (their fingerprint is stored with it): a
visitor's own autoencoder is read against archdemo's calibration, and the reading says so (``calibrated``).
No gradio here; the model runs under ``guarded``, once per reading.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import subprocess
import sys
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

from archdemo.guard import guarded
from archdemo.hub import BUNDLED_DIR
from archdemo.image_processing import prepare_digit
from archdemo.store import ModelStore

CALIBRATION_PATH = BUNDLED_DIR / "autoencoder" / "anomaly_calibration.json"
QUANTILES = 1001  # the 0th, 0.1th, ..., 100th percentiles of the test digits' scores
UNUSUAL_AT = 99.0  # percentile: 1 in 100 MNIST test digits is called unusual too
BATCH = 500


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


# ---------------------------------------------------------------- measuring it


def roc_auc(negatives: np.ndarray, positives: np.ndarray) -> float:
    """P(a positive scores higher than a negative), ties counting half: the Mann-Whitney U statistic."""
    scores = np.concatenate([negatives, positives])
    _, where, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[where]  # 1-based, ties share their mean rank
    n_pos, n_neg = len(positives), len(negatives)
    return float((ranks[n_neg:].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _rebuilds(store: ModelStore, images: list[np.ndarray] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Images -> (prepared (N, 28, 28), the app's autoencoder's rebuilds), the way the app prepares them."""
    from archdemo.digits import denoise_batch  # the API's own batch function (digits imports this module)

    x = np.stack([prepare_digit(im) for im in images])
    return x, np.concatenate([denoise_batch(store, x[i : i + BATCH]) for i in range(0, len(x), BATCH)])


def measure(store: ModelStore, digits: np.ndarray, seed: int = 0) -> tuple[dict, dict]:
    """MNIST digits (N, 28, 28) uint8 and the seeded non-digits -> ({variant: digit scores},
    {kind: {variant: scores}}), every image prepared as a drawing is."""
    from archdemo.non_digits import non_digits

    x, r = _rebuilds(store, digits)
    ours = {v: f(x.astype(np.float64), r.astype(np.float64)) for v, f in VARIANTS.items()}
    theirs = {}
    for kind, images in non_digits(seed).items():
        y, s = _rebuilds(store, images)
        theirs[kind] = {v: f(y.astype(np.float64), s.astype(np.float64)) for v, f in VARIANTS.items()}
    return ours, theirs


def separation(ours: dict, theirs: dict, variant: str = SCORE) -> dict:
    """ROC AUC of one score between the digits (negatives) and the non-digits (positives): all, and by kind."""
    everything = np.concatenate([t[variant] for t in theirs.values()])
    return {
        "roc_auc": round(roc_auc(ours[variant], everything), 4),
        "roc_auc_by_kind": {k: round(roc_auc(ours[variant], t[variant]), 4) for k, t in theirs.items()},
    }


def calibration(ours: dict, theirs: dict, model_fp: str, seed: int) -> dict:
    """The calibration file's content: quantiles of the chosen score, and how well each variant separates."""
    from archdemo.non_digits import fonts

    scores = ours[SCORE]
    quantiles = np.quantile(scores, np.linspace(0.0, 1.0, QUANTILES))
    cut = np.quantile(scores, UNUSUAL_AT / 100)
    return {
        "score": SCORE,
        "definition": " ".join(smoothed_mse.__doc__.split()),
        "n": len(scores),
        "model_fingerprint": model_fp,
        "made_by": {"command": "python -m archdemo.anomaly " + shlex.join(sys.argv[1:]), "commit": _commit()},
        "separation": {
            **separation(ours, theirs),
            "unusual_share_by_kind": {k: round(float((t[SCORE] >= cut).mean()), 3) for k, t in theirs.items()},
            "n_by_kind": {k: len(t[SCORE]) for k, t in theirs.items()},
            "variants": {v: separation(ours, theirs, v) for v in VARIANTS},
            "seed": seed,
            "fonts": [Path(f).name for f in fonts()],
        },
        "quantiles": [float(f"{q:.6g}") for q in quantiles],
    }


def _commit() -> str:
    """The checkout's commit, '-dirty' when it has uncommitted changes; 'unknown' outside git."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=20,
        )
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> None:
    from archdemo.data import load_mnist
    from archdemo.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m archdemo.anomaly", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder with MNIST/raw (default: download)")
    parser.add_argument("--device", help="cpu, cuda or cuda:N")
    parser.add_argument("--seed", type=int, default=0, help="seed of the non-digits (default 0)")
    parser.add_argument("--dry-run", action="store_true", help="print the numbers, write no calibration")
    args = parser.parse_args(argv)
    store = ModelStore(Settings(device=args.device))
    ours, theirs = measure(store, load_mnist("test", args.data_dir)[0], args.seed)
    result = calibration(ours, theirs, model_fingerprint(store), args.seed)
    if not args.dry_run:
        CALIBRATION_PATH.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        load_calibration.cache_clear()
        print(f"wrote {CALIBRATION_PATH} ({result['n']} MNIST test digits, {QUANTILES} quantiles)")
    print(json.dumps(result["separation"], indent=1))


if __name__ == "__main__":
    main()
