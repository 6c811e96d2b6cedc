"""The numbers in the model cards and the README, from the same code the app runs.

    python -m archdemo.evaluate --data-dir ../shared/data --json [--write-cards]

Digit readers (the CNN, the row-reading LSTM, the ViT, the autoencoder's probe): accuracy on the 10,000
MNIST test digits. Autoencoder: mean per-image PSNR on the MNIST test
digits with Gaussian noise (sigma 0.5, clipped to [0, 1], seed 0), before and after denoising, and how
well its rebuild error tells the test digits from non-digits (ROC AUC, archdemo.tasks.anomaly).
Text models: accuracy on the 872 SST-2 dev sentences, tokenised as the app tokenises them, and how many
of the project's 60 sentences with negation and contrast (archdemo/assets/negation_contrast.tsv) each
gets right. Character models: validation loss over the last 10% of tiny Shakespeare (``char_models``).
``--json`` adds ``data_efficiency``: accuracy by training-set size, as ``archdemo.tools.data_efficiency`` stored it.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys

import numpy as np
from PIL import Image

from archdemo.inputs.characters import encode, split
from archdemo.inputs.images import add_noise, psnr
from archdemo.paths import BUNDLED_DIR, CARD_NAME, HARD_DIGITS, HARD_SENTENCES, METRICS_PATH
from archdemo.serving.answers import Answers
from archdemo.settings import Settings
from archdemo.tasks.digits import classify_batch, denoise_batch
from archdemo.tasks.sentences import sentiment_batch
from archdemo.tools import calibration
from archdemo.training.data import SST2_LABELS, load_mnist, load_sst2, load_tinyshakespeare
from archdemo.training.scoring import scoring_windows, validation_loss
from archdemo.weights.cards import data_efficiency, data_efficiency_accuracies, model_card
from archdemo.weights.registry import CHAR_MODELS, DIGIT_MODELS, MODELS, TEXT_MODELS
from archdemo.weights.store import ModelStore

SIGMA = 0.5
BATCH = 500


def evaluate(store: ModelStore, data_dir: str | None, limit: int | None = None) -> dict:
    images, labels = load_mnist("test", data_dir)
    clean = images[:limit].astype(np.float32) / 255.0
    labels = labels[:limit]
    results: dict = {}
    predictions = {}
    for name in DIGIT_MODELS:  # every digit reader on the same test digits, as the app feeds them
        p = np.concatenate([classify_batch(store, clean[i : i + BATCH], name) for i in range(0, len(clean), BATCH)])
        results[name] = {"accuracy": round(float((p.argmax(1) == labels).mean()), 4), "n": len(labels)}
        predictions[name] = p.argmax(1)

    noisy = add_noise(clean, "gaussian", SIGMA, np.random.default_rng(0))
    denoised = np.concatenate([denoise_batch(store, noisy[i : i + BATCH]) for i in range(0, len(noisy), BATCH)])
    results["autoencoder"] = {
        "psnr_noisy": round(float(np.mean([psnr(c, n) for c, n in zip(clean, noisy, strict=True)])), 2),
        "psnr_denoised": round(float(np.mean([psnr(c, d) for c, d in zip(clean, denoised, strict=True)])), 2),
        "sigma": SIGMA,
        "n": len(clean),
    }
    sep = calibration.separation(*calibration.measure(store, images[:limit]))  # prepared as the app prepares drawings
    results["autoencoder"] |= {"anomaly_roc_auc": sep["roc_auc"], "anomaly_roc_auc_by_kind": sep["roc_auc_by_kind"]}

    results["_cnn_errors"] = [int(i) for i in np.nonzero(predictions["cnn"] != labels)[0]]
    results["_cnn_predictions"] = predictions["cnn"]

    texts, text_labels = load_sst2("dev", data_dir)
    texts, text_labels = texts[:limit], text_labels[:limit]
    lengths = np.array([len(store.tokenizer("rnn").encode(t).tokens) for t in texts])
    edges = [(1, 10), (11, 20), (21, 30), (31, 10_000)]
    by_length: dict = {"buckets": ["1-10", "11-20", "21-30", "31+"], "counts": []}
    for name in TEXT_MODELS:
        tok = store.tokenizer(name)
        ids = [tok.encode(t).ids for t in texts]
        p = np.concatenate([sentiment_batch(store, name, ids[i : i + 256]) for i in range(0, len(ids), 256)])
        # SST-2's label k is SST2_LABELS[k]; the model's columns follow its own config's labels.
        columns = [list(store.get(name).config.labels).index(label) for label in SST2_LABELS]
        pred = p[:, columns].argmax(1)
        results[name] = {"accuracy": round(float((pred == text_labels).mean()), 4), "n": len(text_labels)}
        right = pred == text_labels
        by_length[name] = [round(float(right[(lengths >= a) & (lengths <= b)].mean()), 4) for a, b in edges]
    by_length["counts"] = [int(((lengths >= a) & (lengths <= b)).sum()) for a, b in edges]
    results["_by_length"] = by_length
    results["negation_contrast"] = hard_sentences(store)
    results |= char_models(store, data_dir, limit)
    return results


def char_models(store: ModelStore, data_dir: str | None, limit: int | None = None) -> dict:
    """Each character model's validation loss (nats per character) over the last 10% of tiny Shakespeare:
    every character after the first predicted once, in the windows ``archdemo.inputs.characters`` describes."""
    _, val = split(load_tinyshakespeare(data_dir))
    val = val[:limit] if limit else val
    out = {}
    for name in CHAR_MODELS:
        model = store.get(name)
        loss = validation_loss(model, encode(val, model.config.vocab), device=store.device)
        window, stride = scoring_windows(model)
        out[name] = {"val_loss": round(loss, 4), "n": len(val) - 1, "window": window, "stride": stride}
    return out


def hard_sentences(store: ModelStore) -> dict:
    """Each text model on the project's own sentences with negation and contrast: how many it gets right."""
    rows = list(csv.DictReader(HARD_SENTENCES.open(encoding="utf-8"), delimiter="\t"))
    truth = np.array([int(r["label"]) for r in rows])
    kinds = np.array([r["kind"] for r in rows])
    out = {}
    for name in TEXT_MODELS:
        tok = store.tokenizer(name)
        p = sentiment_batch(store, name, [tok.encode(r["sentence"]).ids for r in rows])
        columns = [list(store.get(name).config.labels).index(label) for label in SST2_LABELS]
        right = p[:, columns].argmax(1) == truth
        masks = {"negation": kinds == "negation", "contrast": kinds == "contrast", "all": kinds != ""}
        out[name] = {kind: {"right": int(right[m].sum()), "n": int(m.sum())} for kind, m in masks.items()}
    return out


def write_assets(results: dict, data_dir: str | None, store: ModelStore) -> None:
    """Model cards, the Compare tab's metrics.json, and a few test digits the CNN gets wrong (examples)."""
    for name in MODELS:
        (BUNDLED_DIR / name / CARD_NAME).write_text(model_card(name, results[name]), encoding="utf-8")
    public = {k: v for k, v in results.items() if not k.startswith("_")}
    METRICS_PATH.write_text(json.dumps({**public, "by_length": results["_by_length"]}, indent=1) + "\n")
    hard = HARD_DIGITS
    hard.mkdir(exist_ok=True)
    for old in hard.glob("*.png"):
        old.unlink()
    images, labels = load_mnist("test", data_dir)
    saved = 0
    for i in results["_cnn_errors"]:
        # Keep the ones the app (which re-centres every image) also gets wrong, in the same way.
        answer = Answers(store).classify_digit(images[i])["label"]
        if saved < 4 and answer == str(results["_cnn_predictions"][i]):
            Image.fromarray(images[i]).save(hard / f"{labels[i]}_read_as_{answer}_(test_digit_{i}).png")
            saved += 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m archdemo.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder with MNIST/raw and SST-2/dev.tsv (default: download)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--write-cards",
        action="store_true",
        help="write the numbers into weights/<name>/README.md and archdemo/assets/metrics.json",
    )
    parser.add_argument("--device", help="cpu, cuda or cuda:N")
    parser.add_argument("--limit", type=int, help="evaluate only the first N examples of each set (quick checks)")
    args = parser.parse_args(argv)
    store = ModelStore(Settings(device=args.device))
    results = evaluate(store, args.data_dir, args.limit)
    if args.write_cards:
        if args.limit:
            sys.exit("--write-cards needs the full sets: drop --limit")
        write_assets(results, args.data_dir, store)
    public = {k: v for k, v in results.items() if not k.startswith("_")}
    # Not measured here (each point is a training run): read from what tools/data_efficiency stored.
    public["data_efficiency"] = data_efficiency_accuracies(data_efficiency())
    if args.json:
        print(json.dumps(public))
    else:
        for name, metrics in public.items():
            print(f"{name:12s} " + "  ".join(f"{k}={v}" for k, v in metrics.items()))


if __name__ == "__main__":
    main()
