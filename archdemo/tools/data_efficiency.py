"""How much data each architecture needs: every reader of a task trained on smaller and smaller subsets.

    python -m archdemo.tools.data_efficiency --data-dir ../shared/data --task digits
    python -m archdemo.tools.data_efficiency --data-dir ../shared/data --task sentences

Each point trains one reader from its own recipe (``archdemo.train``'s, with ``limit``) on a class-balanced,
seeded subset of the training set, and scores it on the whole test set (digits: the 10,000 MNIST test
digits) or dev set (sentences: the 872 SST-2 dev sentences), tokenised as the app tokenises them.

The budget rule, the same for every size: as many optimiser steps as ``BUDGET_EPOCHS`` passes over the
*full* training set, at the recipe's own batch size, learning rate and schedule (the pretrained reader:
``FIXED_STEPS``). A small subset is therefore seen many times over, and a gap between two sizes is the
data's, not the compute's. The budget is smaller than the bundled models' own runs (2-12 epochs), so the
full-size points sit below their cards: the curves are for comparing shapes, the cards for the best each does.

The results go to ``archdemo/assets/data_efficiency.json`` after every point (a stopped run resumes where
it was; ``--force`` retrains); ``evaluate --json`` and the Compare tab's plot read them from there.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from archdemo.device import describe, pick_device
from archdemo.paths import DATA_EFFICIENCY_PATH
from archdemo.training.cli import recipe
from archdemo.training.data import SST2_LABELS, load_mnist, load_sst2
from archdemo.training.digit_readers import accuracy as digit_accuracy
from archdemo.training.loop import Run
from archdemo.training.text import pad_batch
from archdemo.weights.cards import data_efficiency, data_efficiency_accuracies
from archdemo.weights.registry import get_spec

BUDGET_EPOCHS = 1  # the from-scratch readers: the optimiser steps of this many passes over the full training set
# Fine-tuning from pretrained weights needs far fewer steps, and on this CPU one pass over 67,349 phrases through
# MiniLM's 22.7 M frozen parameters would take hours: the pretrained reader gets a fixed number of steps instead.
FIXED_STEPS = {"pretrained_transformer": 256}
PASSES = {1: "one pass", 2: "two passes", 3: "three passes"}
SIZES = {"digits": [100, 1_000, 10_000, 60_000], "sentences": [500, 2_000, 8_000, 67_349]}
# Every reader of each task that trains here; the pretrained Transformer starts from MiniLM's weights, so
# on sentences it shows what transfer learning buys, and the probe's autoencoder saw all 60,000 digits
# without their labels (only the probe's labels are limited).
READERS = {
    "digits": ["cnn", "digit_rnn", "digit_transformer", "autoencoder_probe"],
    "sentences": ["rnn", "transformer", "text_cnn", "pretrained_transformer"],
}
SCORED_ON = {"digits": "MNIST test accuracy (10,000 digits)", "sentences": "SST-2 dev accuracy (872 sentences)"}


def budget_rule(task: str) -> str:
    rule = (
        f"every size gets the optimiser steps of {PASSES.get(BUDGET_EPOCHS, f'{BUDGET_EPOCHS} passes')} over the full "
        "training set, at the recipe's own batch size, learning rate and schedule"
    )
    for name in READERS[task]:
        if name in FIXED_STEPS:
            rule += f"; the {get_spec(name).short} reader: {FIXED_STEPS[name]} steps at every size (fine-tuning)"
    return rule + "; subsets are class-balanced and seeded (seed 0)"


def training_run(task: str, name: str, data_dir: str | None, device: torch.device, size: int) -> Run:
    if name in FIXED_STEPS:
        return Run(name, data_dir, device, seed=0, steps=FIXED_STEPS[name], limit=size)
    return Run(name, data_dir, device, seed=0, epochs=BUDGET_EPOCHS, limit=size)


@torch.inference_mode()
def score(task: str, name: str, model: torch.nn.Module, data_dir: str | None, device: torch.device) -> float:
    """Accuracy on the full test (digits) or dev (sentences) set, fed as the app feeds its models."""
    model.eval()
    if task == "digits":
        return digit_accuracy(model, *load_mnist("test", data_dir), device)
    texts, labels = load_sst2("dev", data_dir)
    tok = get_spec(name).make_tokenizer(model.config)
    columns = [list(model.config.labels).index(label) for label in SST2_LABELS]  # SST-2's order
    preds = []
    for i in range(0, len(texts), 128):
        ids, lengths = pad_batch([tok.encode(t).ids for t in texts[i : i + 128]], model.config.pad_id)
        logits = model(ids.to(device), lengths.to(device)).float().cpu()  # (B, 2)
        preds.append(logits[:, columns].argmax(1))
    return float((torch.cat(preds).numpy() == labels).mean())


def save(path: Path, task: str, part: dict) -> None:
    """Write one task's part into ``path``, keeping what another run (the other task) wrote there meanwhile."""
    results = data_efficiency(path)
    results[task] = part
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    staging.replace(path)


def run_task(
    task: str,
    data_dir: str | None,
    device: torch.device,
    models: list[str],
    sizes: list[int],
    force: bool = False,
    path: Path = DATA_EFFICIENCY_PATH,
) -> dict:
    """Train and score every (reader, size) not yet in ``path``, saving after each; the whole results."""
    results = data_efficiency(path)
    part = results.setdefault(task, {})
    budget = {"epochs": BUDGET_EPOCHS, "fixed_steps": {n: FIXED_STEPS[n] for n in READERS[task] if n in FIXED_STEPS}}
    if part.get("budget", budget) != budget:  # points measured under another budget are not comparable: start over
        part.clear()
    part |= {"budget": budget, "budget_rule": budget_rule(task), "scored_on": SCORED_ON[task], "sizes": SIZES[task]}
    part.setdefault("models", {})
    for name in models:
        points = part["models"].setdefault(name, {})
        for size in sizes:
            if str(size) in points and not force:
                print(f"{task}: {name} on {size:,} already measured ({points[str(size)]['accuracy']:.4f}); skipped")
                continue
            torch.manual_seed(0)
            start = time.perf_counter()
            run = training_run(task, name, data_dir, device, size)
            model, record = recipe(name)(run)
            seconds = time.perf_counter() - start
            accuracy = score(task, name, model, data_dir, device)
            points[str(size)] = {
                "accuracy": round(accuracy, 4),
                "seconds": round(seconds, 1),
                **({"steps": record["steps"]} if record and "steps" in record else {}),
            }
            part["machine"] = f"{describe(device)}, {platform.machine()}"
            save(path, task, part)
            print(f"{task}: {name} on {size:,} examples: {accuracy:.4f} in {seconds:.0f} s")
    save(path, task, part)  # the rule's wording too, even when every point was already there
    return results


def markdown_table(task: str, results: dict) -> str:
    """The stored points of one task as a Markdown table (readers by sizes), as the README quotes them."""
    part = results.get(task) or {}
    sizes = [str(s) for s in SIZES[task]]
    lines = ["| reader | " + " | ".join(f"{int(s):,}" for s in sizes) + " |", "| --- |" + " ---: |" * len(sizes)]
    for name, points in (part.get("models") or {}).items():
        cells = [f"{points[s]['accuracy']:.2%}" if s in points else "not run" for s in sizes]
        lines.append(f"| {get_spec(name).short} | " + " | ".join(cells) + " |")
    minutes = sum(p.get("seconds", 0) for points in (part.get("models") or {}).values() for p in points.values()) / 60
    return (
        "\n".join(lines) + f"\n\n{SCORED_ON[task]}; {minutes:.0f} min of training in all ({part.get('machine', '?')})."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m archdemo.tools.data_efficiency", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--task", choices=list(SIZES), required=True)
    parser.add_argument("--data-dir", help="folder with MNIST/raw and SST-2/ (default: download)")
    parser.add_argument("--models", nargs="+", help="a subset of the task's readers (default: all)")
    parser.add_argument("--sizes", nargs="+", type=int, help="a subset of the sizes (default: all)")
    parser.add_argument("--force", action="store_true", help="retrain points already in the results file")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda if available)")
    parser.add_argument("--out", type=Path, default=DATA_EFFICIENCY_PATH, help="results file (default: %(default)s)")
    parser.add_argument(
        "--table", action="store_true", help="print the stored results as a Markdown table; train nothing"
    )
    args = parser.parse_args(argv)
    if args.table:
        print(markdown_table(args.task, data_efficiency(args.out)))
        return
    models = args.models or READERS[args.task]
    unknown = sorted(set(models) - set(READERS[args.task]))
    if unknown:
        parser.error(f"not a {args.task} reader: {', '.join(unknown)} (choose from {', '.join(READERS[args.task])})")
    sizes = args.sizes or SIZES[args.task]
    results = run_task(args.task, args.data_dir, pick_device(args.device), models, sizes, args.force, args.out)
    for name, points in data_efficiency_accuracies(results)[args.task].items():
        print(
            f"{name:24s} "
            + "  ".join(f"{int(s):>6,}: {a:.4f}" for s, a in sorted(points.items(), key=lambda p: int(p[0])))
        )


if __name__ == "__main__":
    main()
