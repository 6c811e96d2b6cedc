"""The anomaly meter's calibration: score the MNIST test digits and a seeded set of non-digits, store the scale.

    python -m archdemo.anomaly --data-dir ../shared/data   # rebuild the calibration, print ROC AUCs

Writes ``weights/autoencoder/anomaly_calibration.json``: 1001 quantiles of the test digits' scores (what
``archdemo.tasks.anomaly`` reads a visitor's digit against), the fingerprint of the weights measured, and
how well each score variant separates digits from non-digits (ROC AUC), overall and by kind.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

from archdemo.inputs.images import prepare_digit
from archdemo.paths import CALIBRATION_PATH
from archdemo.settings import Settings
from archdemo.tasks.anomaly import (
    QUANTILES,
    SCORE,
    UNUSUAL_AT,
    VARIANTS,
    load_calibration,
    model_fingerprint,
    smoothed_mse,
)
from archdemo.tasks.digits import denoise_batch
from archdemo.tools.non_digits import fonts, non_digits
from archdemo.training.data import load_mnist
from archdemo.weights.store import ModelStore

BATCH = 500


def roc_auc(negatives: np.ndarray, positives: np.ndarray) -> float:
    """P(a positive scores higher than a negative), ties counting half: the Mann-Whitney U statistic."""
    scores = np.concatenate([negatives, positives])
    _, where, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[where]  # 1-based, ties share their mean rank
    n_pos, n_neg = len(positives), len(negatives)
    return float((ranks[n_neg:].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _rebuilds(store: ModelStore, images: list[np.ndarray] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Images -> (prepared (N, 28, 28), the app's autoencoder's rebuilds), the way the app prepares them."""
    x = np.stack([prepare_digit(im) for im in images])
    return x, np.concatenate([denoise_batch(store, x[i : i + BATCH]) for i in range(0, len(x), BATCH)])


def measure(store: ModelStore, digits: np.ndarray, seed: int = 0) -> tuple[dict, dict]:
    """MNIST digits (N, 28, 28) uint8 and the seeded non-digits -> ({variant: digit scores},
    {kind: {variant: scores}}), every image prepared as a drawing is."""
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
