"""The Compare tab's measured facts about every model: size, quality, speed on this machine, input limits.

Quality comes from ``archdemo.tools.evaluate`` (saved to assets/metrics.json by ``--write-cards``);
latency is measured here, on whatever machine runs this: once per process, when the table is first asked
for (a room opening the Compare tab together waits for that one measurement), and again only on request.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from archdemo.inputs.images import MAX_IMAGE_SIDE
from archdemo.paths import METRICS_PATH, SAMPLE_DIGITS, WEIGHTS_NAME
from archdemo.serving.answers import Answers
from archdemo.tasks.writing import MAX_LENGTH, MAX_PROMPT_CHARS, generate
from archdemo.weights.registry import MODELS, get_spec
from archdemo.weights.store import ModelStore

SAMPLE_DIGIT = SAMPLE_DIGITS / "3.png"
SAMPLE_TEXT = "a thoughtful , funny and surprisingly moving film that never quite loses its way ."
SAMPLE_PROMPT = "ROMEO:\nWhat light through yonder window breaks?\n"  # character models: time to the first character


def saved_metrics() -> dict | None:
    try:
        return json.loads(METRICS_PATH.read_text())
    except (OSError, ValueError):
        return None


def quality(name: str, metrics: dict | None) -> str:
    if not metrics or name not in metrics:
        return "not evaluated (run archdemo.evaluate)"
    m = metrics[name]
    if "val_loss" in m:  # the character models
        return f"{m['val_loss']:.3f} nats/char validation loss (tiny Shakespeare, last 10%)"
    if "psnr_denoised" in m:
        return f"{m['psnr_denoised']:.2f} dB PSNR at sigma {m['sigma']} (noisy: {m['psnr_noisy']:.2f} dB)"
    where = {"mnist": "MNIST test", "glue": "SST-2 dev"}[get_spec(name).card.dataset[0]]
    return f"{m['accuracy']:.2%} accuracy ({where}, n={m['n']:,})"


def latency_ms(answers: Answers, name: str, repeats: int = 20) -> float:
    """Median wall time (ms) of one request through the API's code, preprocessing included, after a warm-up."""
    digit = np.asarray(Image.open(SAMPLE_DIGIT))
    call = {  # by task: what one request of that task asks
        "image-classification": lambda: answers.classify_digit(digit, name),
        "image-to-image": lambda: answers.denoise_digit(digit, 0.5),
        "text-classification": lambda: answers.sentiment(name, SAMPLE_TEXT),
        "text-generation": functools.partial(generate, answers.store, name, SAMPLE_PROMPT, 1, 1.0, 0),
    }[get_spec(name).task]
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def longest_input(store: ModelStore, name: str) -> str:
    task = get_spec(name).task
    if task.startswith("image"):
        return f"any image up to {MAX_IMAGE_SIDE:,} px a side (read as 28x28)"
    if task == "text-generation":
        block = getattr(store.get(name).config, "block_size", None)
        sees = f"sees the last {block}" if block else "remembers all it read, in its state"
        return f"a {MAX_PROMPT_CHARS}-character prompt; writes up to {MAX_LENGTH:,} characters ({sees})"
    return f"{store.get(name).config.max_len} tokens (longer text is cut, with a notice)"


class ModelTable:
    """Rows: model, task, parameters, weights size, quality, latency on this machine, longest input.

    The latencies are measured once per process (the first ``rows()``), and again only with ``again=True``;
    ``measured_at`` says when (UTC), ``measuring_s`` how long it took.
    """

    def __init__(self, store: ModelStore) -> None:
        self.store = store
        self.answers = Answers(store)  # unbatched: a timing of one request on its own
        self._rows: list[list[str]] | None = None
        self._lock = threading.Lock()  # one measurement at a time; whoever waited gets its rows
        self.latencies: dict[str, float] = {}  # ms per model, from the last measurement
        self.measured_at: str | None = None
        self.measuring_s: float | None = None

    def rows(self, measure: bool = True, again: bool = False) -> list[list[str]]:
        if not measure:
            return self._measure(False)
        with self._lock:
            if self._rows is None or again:
                started = time.perf_counter()
                self._rows = self._measure(True)
                self.measuring_s = time.perf_counter() - started
                self.measured_at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
            return self._rows

    def when(self) -> str:
        """A sentence on when the latencies were measured, for the page."""
        if self.measured_at is None:
            return "Latencies not measured yet."
        return (
            f"Latencies measured on this machine at {self.measured_at} (taking {self.measuring_s:.1f} s), once "
            "for everyone; press the button to measure again."
        )

    def _measure(self, measure: bool) -> list[list[str]]:
        metrics = saved_metrics()
        rows = []
        for name, spec in MODELS.items():
            model = self.store.get(name)
            params = sum(p.numel() for p in model.parameters())
            source = self.store.source(name)
            size = Path(source.location, WEIGHTS_NAME).stat().st_size if source.kind == "dir" else None
            rows.append(
                [
                    spec.title,
                    spec.task,
                    f"{params:,}",
                    f"{size / 1e6:.2f} MB" if size else "(from the Hub)",
                    quality(name, metrics),
                    f"{self._latency(name):.1f} ms" if measure else "-",
                    longest_input(self.store, name),
                ]
            )
        return rows

    def _latency(self, name: str) -> float:
        self.latencies[name] = latency_ms(self.answers, name)
        return self.latencies[name]


TABLE_HEADERS = ["model", "task", "parameters", "weights file", "quality", "latency, one input", "longest input"]
