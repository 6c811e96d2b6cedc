"""The Compare tab's "which to use when" table: every architecture (rows) on every task (columns), measured.

Each cell is a reader from the registry, placed by its family and task: its quality from
``archdemo.evaluate``, its size, how long it trained here (its training record) and its latency on this
machine (the model table's measurement). A family with no reader for a task says why not.
"""

from __future__ import annotations

from archdemo.weights.cards import training_record
from archdemo.weights.registry import MODELS
from archdemo.weights.store import ModelStore

FAMILIES = ["CNN", "RNN", "Transformer", "Autoencoder"]
TASKS = {  # column -> (registry task, where to see it, how its quality is said)
    "digits (MNIST)": ("image-classification", "CNN tab", "accuracy"),
    "sentences (SST-2)": ("text-classification", "RNN, Transformer and Compare tabs", "accuracy"),
    "writing (tiny Shakespeare)": ("text-generation", "Write tab", "val_loss"),
}
NOT_MADE_FOR = {
    ("Autoencoder", "text-classification"): "Not made for it: an autoencoder learns to rebuild what it is given. "
    "Its code could feed a sentence classifier (as the probe does for digits), but the code would first "
    "have to learn language without labels, which is what pretraining does for the Transformer.",
    ("Autoencoder", "text-generation"): "Not made for it: writing is guessing what comes next, and an "
    "autoencoder only rebuilds what it has already seen.",
}
HEADERS = ["architecture", *TASKS]


def training_minutes(name: str) -> str:
    record = training_record(name)
    if record is None:
        return "training time not recorded"
    minutes = record["train_seconds"] / 60
    took = f"{minutes:.0f} min" if minutes >= 1 else f"{record['train_seconds']:.0f} s"
    return f"{took} training ({record['threads']} {record['device'].upper()} threads)"


def cell(store: ModelStore, name: str, metrics: dict, latencies: dict[str, float], quality: str) -> str:
    spec = MODELS[name]
    m = metrics.get(name) or {}
    if quality == "val_loss":
        said = f"{m['val_loss']:.3f} nats/char" if "val_loss" in m else "not evaluated"
    else:
        said = f"{m['accuracy']:.1%}" if "accuracy" in m else "not evaluated"
    params = sum(p.numel() for p in store.get(name).parameters())
    latency = f"{latencies[name]:.1f} ms" if name in latencies else "latency not measured"
    return f"{spec.title}: {said} · {params / 1e6:.2f} M parameters · {training_minutes(name)} · {latency}"


def which_to_use_rows(store: ModelStore, metrics: dict, latencies: dict[str, float]) -> list[list[str]]:
    rows = []
    for family in FAMILIES:
        row = [family]
        for task, where, quality in TASKS.values():
            names = [n for n, s in MODELS.items() if s.family == family and s.task == task]
            if names:
                row.append("; ".join(cell(store, n, metrics, latencies, quality) for n in names) + f" ({where})")
            else:
                row.append(NOT_MADE_FOR.get((family, task), "No reader here yet."))
        rows.append(row)
    return rows
