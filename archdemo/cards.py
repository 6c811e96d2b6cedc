"""Model cards (weights/<name>/README.md): Hub metadata plus the numbers from archdemo.evaluate."""

from __future__ import annotations

import json

from archdemo.hub import BUNDLED_DIR
from archdemo.registry import get_spec
from archdemo.shakespeare import CURVE_NAME

VAL_LOSS_NAME = "Validation loss (mean cross-entropy, nats per character) over the last 10% of tiny Shakespeare"
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
        "salt-and-pepper noise or a blanked patch back to the clean digit. How badly it rebuilds a clean "
        'input is also the app\'s "is this a digit?" meter (`anomaly_roc_auc`: MNIST test digits against '
        "rendered letters, scribbles, shapes and noise; circles, read as zeros, are the weak spot); its "
        "calibration over the test digits ships with archdemo (`weights/autoencoder/anomaly_calibration.json`).",
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
    "char_rnn": {
        "dataset": ("tiny_shakespeare", "tiny Shakespeare"),
        "tags": ["text-generation", "character-level", "lstm", "tiny-shakespeare"],
        "about": "A two-layer LSTM (hidden size 384, 64-number character vectors, dropout 0.2) that writes like "
        "Shakespeare, one character at a time. Trained on the first 90% of tiny Shakespeare's 1,115,394 "
        "characters by truncated backpropagation through time: 64 parallel streams through the text, 128 "
        "characters per step, the state carried from step to step.",
        "scoring": "Scored on exactly the windows the GPT is scored on: 256 characters every 128, each window "
        "read from a fresh (zero) state and scored on its last 128 predictions (the first window on all of "
        "them), so every character after the first is predicted exactly once, from the same 128 to 255 "
        "characters before it as the GPT sees (fewer only in the first window). Reading the whole text in one "
        "stream would let the LSTM remember further back, but it gains nothing measurable from that: a first "
        "training run (dropout 0.1) scored 1.5032 on these windows and 1.5033 on 2,048-character windows "
        "that gave it 256 or more characters of warm-up.",
        "metric": ("loss", "val_loss", VAL_LOSS_NAME),
    },
    "char_gpt": {
        "dataset": ("tiny_shakespeare", "tiny Shakespeare"),
        "tags": ["text-generation", "character-level", "gpt", "transformer", "tiny-shakespeare"],
        "about": "A small GPT (4 pre-norm decoder blocks, width 192, 3 heads of causal self-attention, learned "
        "positions, a 256-character context window, the head tied to the character embeddings) that writes "
        "like Shakespeare, one character at a time. Trained on random 256-character windows of the first 90% "
        "of tiny Shakespeare's 1,115,394 characters, every position a target.",
        "scoring": "The validation text is read in windows of the model's full 256-character context, every 128 "
        "characters; each window is scored on its last 128 predictions (the first window on all of them), so "
        "every character after the first is predicted exactly once, with 128 to 255 characters before it (fewer "
        "only in the first window).",
        "metric": ("loss", "val_loss", VAL_LOSS_NAME),
    },
}


def training_lines(name: str, record: dict | None = None) -> list[str]:
    """A character model's training, from what ``archdemo.train`` recorded (training_curve.json)."""
    if record is None:
        try:
            record = json.loads((BUNDLED_DIR / name / CURVE_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
    return [
        "",
        "## Training",
        "",
        f"{record['parameters']:,} parameters, trained for {record['steps']:,} steps"
        + (
            f" (of {record['max_steps']:,}: the wall-clock stop came first)"
            if record["steps"] < record["max_steps"]
            else ""
        )
        + f" of {record['batch_size']} "
        f"sequences x {record['seq_len']} characters (peak learning rate {record['lr']}, AdamW, warm-up then "
        f"cosine decay) on {record['device'].upper()} with {record['threads']} threads: "
        f"{record['train_seconds'] / 60:.1f} minutes of training, {record['wall_seconds'] / 60:.1f} minutes "
        f"in all. Validation loss at the end of training: {record['final_val_loss']:.4f} (float32 weights; "
        "the file stores them in float16, which the numbers above are measured on).",
        "",
        f"Command: `{record['command']}`. `{CURVE_NAME}` holds the validation loss against steps and "
        f"seconds ({record['curve_scores']} for the curve; the whole validation text at the end).",
    ]


def model_card(name: str, metrics: dict | None, training: dict | None = None) -> str:
    """The card's text; ``metrics`` is this model's entry of ``archdemo.evaluate``'s JSON (or None);
    ``training`` what ``archdemo.train`` recorded for a character model (default: its bundled record)."""
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
            *(["      config: sst2"] if dataset_id == "glue" else []),
            f"      split: {'test' if dataset_id == 'mnist' else 'validation'}",
            "    metrics:",
            f"    - type: {metric_type}",
            f"      value: {metrics[metric_key]:.4f}"
            if metric_type in ("accuracy", "loss")
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
    if "scoring" in d:
        lines += ["", d["scoring"]]
    if spec.task == "text-generation":
        lines += training_lines(name, training)
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
