"""Model cards (weights/<name>/README.md): Hub metadata plus the numbers from archdemo.evaluate."""

from __future__ import annotations

import json

from archdemo.paths import CURVE_NAME, DATA_EFFICIENCY_PATH, training_record_path
from archdemo.weights.registry import get_spec


def training_record(name: str) -> dict | None:
    """What ``archdemo.train`` recorded while training the bundled model (training_curve.json), if anything:
    sizes, timings, the command, a character model's validation curve."""
    try:
        return json.loads(training_record_path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def data_efficiency(path=None) -> dict:
    """What ``python -m archdemo.tools.data_efficiency`` stored: per task its budget rule, sizes and, per reader,
    ``{size (a string): {"accuracy", "seconds", "steps"}}``; {} before it has run."""
    try:
        return json.loads((path or DATA_EFFICIENCY_PATH).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def data_efficiency_accuracies(results: dict) -> dict:
    """``{task: {model: {size: accuracy}}}`` (sizes as strings): the shape ``evaluate --json`` prints."""
    return {
        task: {name: {size: p["accuracy"] for size, p in points.items()} for name, points in part["models"].items()}
        for task, part in results.items()
        if isinstance(part, dict) and isinstance(part.get("models"), dict)
    }


def training_lines(name: str, record: dict | None = None) -> list[str]:
    """A model's training, from what ``archdemo.train`` recorded (training_curve.json), if it recorded any."""
    record = record if record is not None else training_record(name)
    if record is None:
        return []
    if "max_steps" not in record:  # an epoch-counted recipe
        return _epoch_lines(record)
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


def _epoch_lines(record: dict) -> list[str]:
    examples = f"{record['training_examples']:,} training examples"
    return [
        "",
        "## Training",
        "",
        f"{record['parameters']:,} parameters ({record.get('trained_parameters', record['parameters']):,} trained), "
        f"{record['epochs']} epochs ({record['steps']:,} steps of {record['batch_size']}) over {examples}, "
        f"peak learning rate {record['lr']}, seed {record['seed']}, on {record['device'].upper()} with "
        f"{record['threads']} threads: {record['train_seconds'] / 60:.1f} minutes of training.",
        "",
        f"Command: `{record['command']}`; `{CURVE_NAME}` holds everything it recorded.",
    ]


def model_card(name: str, metrics: dict | None, training: dict | None = None) -> str:
    """The card's text; ``metrics`` is this model's entry of ``archdemo.evaluate``'s JSON (or None);
    ``training`` what ``archdemo.train`` recorded (default: its bundled record, if it has one)."""
    spec = get_spec(name)
    d = spec.card
    dataset_id, dataset_name = d.dataset
    metric_type, metric_key, metric_name = d.metric
    lines = [
        "---",
        "library_name: pytorch",
        "license: mit",
        f"pipeline_tag: {spec.task}",
        "tags:",
        *[f"- {t}" for t in [*d.tags, "archdemo"]],
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
    lines += ["---", "", f"# archdemo {spec.title}: {spec.model_cls.__name__}", "", d.about, ""]
    lines += [
        "Part of archdemo, an interactive side-by-side of four classic",
        "architectures. Files: `config.json` (sizes, preprocessing constants, vocabulary, labels) and",
        "`model.safetensors`; load with `archdemo.weights.hub.load_model(name, parse_source('hub:REPO@REVISION'))`.",
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
    if d.scoring:
        lines += ["", d.scoring]
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
