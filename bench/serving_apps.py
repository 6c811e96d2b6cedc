"""The apps bench/serving.py compares, by configuration name, each started as its user would start it.

- ``defaults``: ``python app.py`` with ``ARCHDEMO_SERVING=defaults`` (Gradio as it comes);
- ``tuned``: ``python app.py`` as shipped (concurrent API requests, micro-batching);
- ``tutorial``: ``python bench/tutorial_app.py``, the article's CNN in a ``gr.Interface`` with Gradio's
  defaults (only ``/classify_digit``): what a tutorial would have you deploy;
- ``bare``: ``python bench/bare_app.py --concurrency 16 --coroutine``, Gradio answering ``/classify_digit``
  with no model (a coroutine reads the image and counts its pixels), 16 calls at once: the ceiling that
  Gradio's own work per call sets in one process;
- ``replicasN`` (e.g. ``replicas2``): ``python -m archdemo.replicas --replicas N``, N tuned app processes
  behind nginx, each with cores / N torch threads.
"""

from __future__ import annotations

import re

from bench.common import App, start_app

CONFIGS = "defaults, tuned, tutorial, bare, replicasN (N app processes behind nginx, e.g. replicas2)"
# (config, baseline) pairs whose throughput ratio the benchmark prints, when both were measured.
RATIOS = [("tuned", "defaults"), ("tuned", "tutorial"), ("bare", "tutorial"), ("replicas*", "tuned")]


def start_config(config: str, device: str | None) -> App:
    """Launch one configuration on a free port; its output goes to bench/results/serving-<config>.log."""
    log = f"serving-{config}.log"
    device_env = {"ARCHDEMO_DEVICE": device} if device else {}
    if config in ("defaults", "tuned"):
        return start_app("app.py", {"ARCHDEMO_SERVING": config, **device_env}, log)
    if config == "bare":
        return start_app("bench/bare_app.py", {}, log, ["--concurrency", "16", "--coroutine"])
    if config == "tutorial":
        return start_app("bench/tutorial_app.py", {}, log, ["--device", device] if device else [])
    if m := re.fullmatch(r"replicas(\d+)", config):
        return start_app(
            ["-m", "archdemo.replicas", "--replicas", m.group(1)], {"ARCHDEMO_SERVING": "tuned", **device_env}, log
        )
    raise SystemExit(f"unknown configuration {config!r}: choose from {CONFIGS}")


def ratio_pairs(configs: list[str]) -> list[tuple[str, str]]:
    """The (config, baseline) pairs of RATIOS among the measured configurations."""
    pairs = []
    for pattern, base in RATIOS:
        for config in configs:
            if re.fullmatch(pattern.replace("*", r"\d+"), config) and base in configs:
                pairs.append((config, base))
    return pairs
