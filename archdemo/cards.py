"""Model cards (weights/<name>/README.md): Hub metadata plus the numbers from archdemo.evaluate."""

from __future__ import annotations

import json

from archdemo.registry import get_spec

_DETAILS = {
    "cnn": {
        "dataset": ("mnist", "MNIST"),
        "tags": ["image-classification", "mnist", "cnn"],
        "about": "A small convolutional network (three conv stages with batch norm, global average pooling, "
        "one linear layer) that classifies 28x28 handwritten digits. Trained on the 60,000 MNIST "
        "training digits with small random affine distortions.",
        "metric": ("accuracy", "accuracy", "Accuracy on the 10,000 MNIST test digits"),
    },
    "autoencoder": {
        "dataset": ("mnist", "MNIST"),
        "tags": ["image-to-image", "denoising", "autoencoder", "mnist"],
        "about": "A convolutional denoising autoencoder: conv encoder -> 64-number bottleneck -> "
        "transposed-conv decoder. Trained to map MNIST digits corrupted by Gaussian noise, "
        "salt-and-pepper noise or a blanked patch back to the clean digit.",
        "metric": (
            "psnr",
            "psnr_denoised",
            "Mean per-image PSNR (dB) on the MNIST test digits, Gaussian noise sigma 0.5",
        ),
    },
    "rnn": {
        "dataset": ("glue", "SST-2 (GLUE)"),
        "tags": ["text-classification", "sentiment-analysis", "lstm", "sst2"],
        "about": "A one-layer LSTM that reads a sentence left to right from GloVe 6B-50d word vectors "
        "and classifies its final state as positive or negative. Trained on the 67,349 SST-2 "
        "training phrases.",
        "metric": ("accuracy", "accuracy", "Accuracy on the 872 SST-2 dev sentences"),
    },
    "transformer": {
        "dataset": ("glue", "SST-2 (GLUE)"),
        "tags": ["text-classification", "sentiment-analysis", "transformer", "sst2"],
        "about": "A two-layer pre-norm Transformer encoder (4 heads, width 128, padding mask) over GloVe "
        "6B-50d word vectors. Word order enters through sinusoidal position codes with a learned scale and "
        "an ALiBi-style penalty on attending far away, so any length up to 256 tokens works. A [CLS] "
        "token's final state is classified as positive or negative. Trained on the 67,349 SST-2 training "
        "phrases, each weighted by its length (capped at 25 tokens), with word dropout.",
        "metric": ("accuracy", "accuracy", "Accuracy on the 872 SST-2 dev sentences"),
    },
    "pretrained_transformer": {
        "dataset": ("glue", "SST-2 (GLUE)"),
        "tags": ["text-classification", "sentiment-analysis", "transformer", "lora", "sst2"],
        "about": "The MiniLM-L6 encoder of sentence-transformers/all-MiniLM-L6-v2 (6 layers, width 384, 12 heads, "
        "22.7 M parameters; pretrained by others on a billion sentence pairs), fine-tuned on the 67,349 SST-2 "
        "training phrases with LoRA (rank 8) on every attention and feed-forward matrix, plus its layer norms "
        "and a linear head on the mean of the token states. This repo holds only what fine-tuning learned; "
        "the base is read from its Hub repo at the revision and SHA-256 pinned in config.json.",
        "metric": ("accuracy", "accuracy", "Accuracy on the 872 SST-2 dev sentences"),
    },
}


def model_card(name: str, metrics: dict | None) -> str:
    """The card's text; ``metrics`` is this model's entry of ``archdemo.evaluate``'s JSON (or None)."""
    spec = get_spec(name)
    d = _DETAILS[name]
    dataset_id, dataset_name = d["dataset"]
    metric_type, metric_key, metric_name = d["metric"]
    lines = [
        "---",
        "library_name: pytorch",
        "license: mit",
        f"pipeline_tag: {spec.task}",
        "tags:",
        *[f"- {t}" for t in [*d["tags"], "archdemo"]],
        "datasets:",
        f"- {dataset_id}",
    ]
    if metrics is not None:
        lines += [
            "model-index:",
            f"- name: {spec.hub_repo_id.split('/')[1]}",
            "  results:",
            "  - task:",
            f"      type: {spec.task}",
            "    dataset:",
            f"      name: {dataset_name}",
            f"      type: {dataset_id}",
            *(["      config: sst2", "      split: validation"] if dataset_id == "glue" else ["      split: test"]),
            "    metrics:",
            f"    - type: {metric_type}",
            f"      value: {metrics[metric_key]:.4f}"
            if metric_type == "accuracy"
            else f"      value: {metrics[metric_key]:.2f}",
            f"      name: {metric_name}",
        ]
    lines += ["---", "", f"# archdemo {spec.title}: {spec.model_cls.__name__}", "", d["about"], ""]
    lines += [
        "Part of archdemo, an interactive side-by-side of four classic",
        "architectures. Files: `config.json` (sizes, preprocessing constants, vocabulary, labels) and",
        "`model.safetensors`; load with `archdemo.hub.load_model(name, parse_source('hub:REPO@REVISION'))`.",
        "",
        "## Evaluation",
        "",
    ]
    if metrics is None:
        lines.append("Not evaluated yet: run `python -m archdemo.evaluate --data-dir DIR --write-cards`.")
    else:
        lines += [
            "Measured with `python -m archdemo.evaluate --data-dir ../shared/data --json --write-cards`",
            "(the same preprocessing and inference code the app runs):",
            "",
            "```json",
            json.dumps(metrics, indent=2),
            "```",
        ]
    lines += [
        "",
        "## Reproduce",
        "",
        f"`python -m archdemo.train {name} --data-dir DIR` (fixed seed; CPU or CUDA).",
        "",
        "## Limitations",
        "",
        "A teaching model: small, trained on one public data set, English only for the text models.",
        "",
    ]
    return "\n".join(lines)
