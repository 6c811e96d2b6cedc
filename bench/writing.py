"""How fast the Write tab writes: one visitor in-process, or a room writing at once against the launched app.

    python -m bench.writing                       # 300 characters, 5 runs per model, the app's device
    python -m bench.writing --length 1000 --runs 3 --device cpu
    python -m bench.writing --room --visitors 30 --length 600 --replicas 0,2   # a room (bench/writing_room.py)

Runs ``archdemo.tasks.writing.write`` (the generator the Write tab streams from, with the insides it draws)
on the bundled weights, one visitor at a time, after one untimed warm-up run per model. For each run:
the time from the call to the first yielded characters, and characters per second over the whole run.
The goals are a first chunk within 200 ms and at least 100 characters per second per visitor; the
table says which were met, and nothing fails on timing. Writes bench/results/writing-<device>.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from archdemo.settings import Settings
from archdemo.tasks.writing import write
from archdemo.weights.store import ModelStore
from bench.common import RESULTS, machine_info, median, table, write_json

PROMPT = "ROMEO:\nWhat light through yonder window breaks?\n"
FIRST_GOAL_MS, SPEED_GOAL = 200.0, 100.0


def one_run(store: ModelStore, name: str, length: int, seed: int) -> tuple[float, float]:
    """(ms to the first characters, characters per second) for one continuation."""
    start = time.perf_counter()
    first = None
    for _ in write(store, name, PROMPT, length, 0.8, seed):
        if first is None:
            first = time.perf_counter() - start
    total = time.perf_counter() - start
    return 1000 * first, length / total


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.writing", description=__doc__.splitlines()[0])
    p.add_argument("--length", type=int, default=300, help="characters per run (default 300)")
    p.add_argument("--runs", type=int, default=5, help="timed runs per model (default 5)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: the app's choice)")
    p.add_argument("--out", type=Path, default=RESULTS, help="folder for writing-<device>.json")
    if argv is None and "--room" in sys.argv:
        from bench.writing_room import main as room

        return room([a for a in sys.argv[1:] if a != "--room"])
    args = p.parse_args(argv)
    store = ModelStore(Settings(device=args.device))
    rows, results = [], {}
    for name in ("char_rnn", "char_gpt"):
        one_run(store, name, min(args.length, 50), seed=999)  # warm-up: loading, first kernels
        runs = [one_run(store, name, args.length, seed) for seed in range(args.runs)]
        first = median([r[0] for r in runs])
        speed = median([r[1] for r in runs])
        results[name] = {"first_ms": [round(r[0], 1) for r in runs], "chars_per_s": [round(r[1]) for r in runs]}
        rows.append(
            [
                name,
                f"{first:.0f} ms",
                "yes" if first <= FIRST_GOAL_MS else "MISSED",
                f"{speed:.0f}",
                "yes" if speed >= SPEED_GOAL else "MISSED",
            ]
        )
    print(f"{args.length} characters per run, median of {args.runs} runs, on {store.device_label}")
    print(table(["model", "first characters", f"<= {FIRST_GOAL_MS:.0f} ms", "chars/s", f">= {SPEED_GOAL:.0f}"], rows))
    device = "cuda" if store.device.type == "cuda" else "cpu"
    data = {"machine": machine_info(device), "length": args.length, "runs": args.runs, "models": results}
    write_json(args.out / f"writing-{device}.json", data)


if __name__ == "__main__":
    torch.set_num_threads(max(1, torch.get_num_threads()))
    main()
