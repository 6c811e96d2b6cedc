"""Where a batched GPT step's time goes: the Write tab's GPT writing for a room, in one process, no server.

    python -m bench.gpt_step [--rows 30] [--length 600] [--device cpu]

Builds ``--rows`` visitors' continuations as the Write tab does (``archdemo.tasks.writing``'s writer, each its
own seed), reads their prompts into the GPT's batch (``archdemo.tasks.writers.GPTBatch``) and steps it
``--length`` times, on one torch thread as its writing process runs. Printed: milliseconds per step (a step
whose row fills its 256-character window re-reads that row's last 128 characters in it), then one more
run under torch's profiler: the share of the attention's products (``aten::bmm``: each row's query against
its key/value slots), of the linear layers (``aten::addmm``/``mm``) and of everything else, and the
bytes of keys and values those products read per second. Nothing fails on timing.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch

from archdemo.settings import Settings
from archdemo.tasks.writers import GPTBatch
from archdemo.tasks.writing import _Writer
from archdemo.weights.store import ModelStore
from bench.common import table

PROMPT = "ROMEO:\nWhat light through yonder window breaks?\n"


def run(store: ModelStore, rows: int, length: int, profiler=None) -> tuple[float, int]:
    """(seconds for ``length`` - 1 steps, and under ``profiler`` the bytes of keys and values the attention
    read in them; 0 in a timed run, which counts nothing beside the steps)."""
    model = store.get("char_gpt")
    batch = GPTBatch(model, store.device)
    streams = [_Writer(store, "char_gpt", PROMPT, length, 0.8, seed, False).stream for seed in range(rows)]
    kv = 0
    with torch.inference_mode():
        for s in streams:
            batch.add(s)
        with profiler or contextlib.nullcontext():
            start = time.perf_counter()
            for _ in range(length - 1):  # the last character needs no step after it
                if profiler is not None:  # the slots every row's query reads: up to the furthest row's
                    width = int(batch.pos[: batch.n].max()) + 1
                    kv += 2 * len(model.layers) * rows * batch.heads * width * batch.head_dim * 4  # float32
                for s, written in zip(streams, batch.step(streams), strict=True):
                    s.put(written)
            seconds = time.perf_counter() - start
    return seconds, kv


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.gpt_step", description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=30, help="visitors writing at once (default 30)")
    p.add_argument("--length", type=int, default=600, help="characters each writes (default 600)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)  # as in its writing process (archdemo.runtime.threads)
    store = ModelStore(Settings(device=args.device))
    run(store, args.rows, 40)  # warm-up
    runs = [run(store, args.rows, args.length)[0] for _ in range(3)]
    step_ms = 1000 * min(runs) / (args.length - 1)
    print(f"{args.rows} rows x {args.length} characters on {store.device_label}:")
    print(f"  {step_ms:.2f} ms per step (best of 3; {1000 / step_ms:.0f} characters/s per row)")

    from torch.profiler import ProfilerActivity, profile

    prof = profile(activities=[ProfilerActivity.CPU])
    _, kv = run(store, args.rows, args.length, prof)
    self_us: dict[str, float] = {}
    for e in prof.key_averages():
        self_us[e.key] = self_us.get(e.key, 0.0) + e.self_cpu_time_total
    total = sum(self_us.values())
    attention = self_us.get("aten::bmm", 0.0)
    linear = self_us.get("aten::addmm", 0.0) + self_us.get("aten::mm", 0.0)
    rows = [
        ["attention's products (aten::bmm)", f"{100 * attention / total:.0f}%"],
        ["linear layers (aten::addmm, aten::mm)", f"{100 * linear / total:.0f}%"],
        ["everything else", f"{100 * (total - attention - linear) / total:.0f}%"],
    ]
    print("Under torch's profiler (which slows the small operations most):")
    print(table(["part of the step", "self CPU time"], rows))
    gb_s = kv / (attention / 1e6) / 1e9 if attention else float("nan")
    print(f"  keys and values read by the attention: {kv / (args.length - 1) / 1e6:.0f} MB per step, {gb_s:.1f} GB/s")


if __name__ == "__main__":
    main()
