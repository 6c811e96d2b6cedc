"""Measured facts about the four models for the Compare tab: size, quality, speed, input limits.

Quality comes from ``archdemo.evaluate`` (saved to assets/metrics.json by ``--write-cards``);
latency is measured here, on whatever machine runs this, at the moment it is asked for.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from PIL import Image

from archdemo import processing as P
from archdemo.hub import WEIGHTS_NAME
from archdemo.registry import MODELS
from archdemo.service import ArchDemoService

METRICS_PATH = Path(__file__).resolve().parent / "assets" / "metrics.json"
SAMPLE_DIGIT = Path(__file__).resolve().parent / "assets" / "digits" / "3.png"
SAMPLE_TEXT = "a thoughtful , funny and surprisingly moving film that never quite loses its way ."


def saved_metrics() -> dict | None:
    try:
        return json.loads(METRICS_PATH.read_text())
    except (OSError, ValueError):
        return None


def quality(name: str, metrics: dict | None) -> str:
    if not metrics or name not in metrics:
        return "not evaluated (run archdemo.evaluate)"
    m = metrics[name]
    if name == "autoencoder":
        return f"{m['psnr_denoised']:.2f} dB PSNR at sigma {m['sigma']} (noisy: {m['psnr_noisy']:.2f} dB)"
    where = "MNIST test" if name == "cnn" else "SST-2 dev"
    return f"{m['accuracy']:.2%} accuracy ({where}, n={m['n']:,})"


def latency_ms(service: ArchDemoService, name: str, repeats: int = 20) -> float:
    """Median wall time (ms) of one request through the service, preprocessing included, after a warm-up."""
    digit = np.asarray(Image.open(SAMPLE_DIGIT))
    call = {
        "cnn": lambda: service.classify_digit(digit),
        "autoencoder": lambda: service.denoise_digit(digit, 0.5),
        "rnn": lambda: service.sentiment("rnn", SAMPLE_TEXT),
        "transformer": lambda: service.sentiment("transformer", SAMPLE_TEXT),
    }[name]
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def longest_input(service: ArchDemoService, name: str) -> str:
    if name in ("cnn", "autoencoder"):
        return f"any image up to {P.MAX_IMAGE_SIDE:,} px a side (read as 28x28)"
    return f"{service.model(name).config.max_len} tokens (longer text is cut, with a notice)"


_TABLE_CACHE: dict[int, tuple[float, list[list[str]]]] = {}
TABLE_TTL_S = 60.0  # a room of visitors opening the tab together triggers one measurement, not one each


def model_table(service: ArchDemoService, measure: bool = True) -> list[list[str]]:
    """Rows: model, task, parameters, weights size, quality, latency on this machine, longest input."""
    cached = _TABLE_CACHE.get(id(service))
    if measure and cached and time.monotonic() - cached[0] < TABLE_TTL_S:
        return cached[1]
    rows = _model_rows(service, measure)
    if measure:
        _TABLE_CACHE[id(service)] = (time.monotonic(), rows)
    return rows


def _model_rows(service: ArchDemoService, measure: bool) -> list[list[str]]:
    metrics = saved_metrics()
    rows = []
    for name, spec in MODELS.items():
        model = service.model(name)
        params = sum(p.numel() for p in model.parameters())
        source = service.source(name)
        size = Path(source.location, WEIGHTS_NAME).stat().st_size if source.kind == "dir" else None
        rows.append(
            [
                spec.title,
                spec.task,
                f"{params:,}",
                f"{size / 1e6:.2f} MB" if size else "(from the Hub)",
                quality(name, metrics),
                f"{latency_ms(service, name):.1f} ms" if measure else "-",
                longest_input(service, name),
            ]
        )
    return rows


TABLE_HEADERS = ["model", "task", "parameters", "weights file", "quality", "latency, one input", "longest input"]
