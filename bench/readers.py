"""Every reader on every task: one request's latency through the app's own code, and the CNN tab's pen-up.

    python -m bench.readers [--repeats 50]

For each model in the registry: the median time of one request as the API serves it (preprocessing
included: a 28x28 PNG sample, a 15-word sentence, one character written), the way the Compare tab's table
measures it. Then the CNN tab's pen-up on the server: one guarded pass through every digit reader, the
pictures drawn and written as files (what the browser then fetches). Prints a table, writes
bench/results/readers-<device>.json, never fails on timing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from PIL import Image

from archdemo.inputs.images import prepare_digit
from archdemo.paths import SAMPLE_DIGITS
from archdemo.serving.answers import Answers
from archdemo.settings import Settings
from archdemo.tasks.digits import read_every_reader
from archdemo.ui.digit_readers import pen_up_values
from archdemo.ui.model_table import latency_ms
from archdemo.weights.registry import MODELS
from archdemo.weights.store import ModelStore
from bench.common import RESULTS, machine_info, percentile, table, write_json


def pen_up_ms(store: ModelStore, repeats: int) -> list[float]:
    digit = prepare_digit(Image.open(SAMPLE_DIGITS / "7.png"))
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        pen_up_values(read_every_reader(store, digit))  # the CNN tab's pen-up: every reader, every picture
        times.append(1000 * (time.perf_counter() - start))
    return times[1:]  # the first pays for warming up


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.readers", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--device", help="cpu or cuda (default: cuda if available)")
    args = parser.parse_args(argv)
    store = ModelStore(Settings(device=args.device))
    answers = Answers(store)
    rows = [[name, spec.family, spec.task, latency_ms(answers, name, args.repeats)] for name, spec in MODELS.items()]
    print(table(["model", "family", "task", "ms, one request (median)"], rows))
    pen = pen_up_ms(store, args.repeats)
    print(f"\nCNN tab pen-up, every digit reader's pass and pictures: median {np.median(pen):.1f} ms, "
          f"p95 {percentile(pen, 95):.1f} ms ({args.repeats} runs)")  # fmt: skip
    device = store.device.type
    write_json(
        RESULTS / f"readers-{device}.json",
        {"machine": machine_info(args.device), "request_ms": {r[0]: round(r[3], 2) for r in rows},
         "pen_up_ms": {"median": round(float(np.median(pen)), 2), "p95": round(percentile(pen, 95), 2)}},
    )  # fmt: skip


if __name__ == "__main__":
    main()
