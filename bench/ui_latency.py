"""How long each tab takes to answer a visitor, measured in a real browser.

    python -m bench.ui_latency [--runs 5] [--url URL]     # default: starts the app itself

For every tab: the time from the visitor's action (the last stroke's mouse-up, a changed sentence or
noise kind) to the moment the last visual of that tab has been redrawn in headless Chromium. That
includes the round trip, preprocessing, the model, the plots and the browser's rendering.
``cnn_pen`` is the live path: slow strokes with the button held, and for every pointer sample the
time until an answer that includes it is on screen (the pad's own clock, pad.js ``latencies``);
its "runs" are pointer samples. Prints medians and writes bench/results/ui-latency.json. Never
fails on timing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM_ARGS  # noqa: E402
from test_browser import ONE, SEVEN, draw, open_tab, src  # noqa: E402

from bench.common import machine_info, percentile, write_json  # noqa: E402

SENTENCES = ["A beautiful and moving film.", "Not a beautiful film at all.", "It's not bad, I'd say!"]


def changed(page, selector: str, old: str | None, timeout: float = 30_000) -> float:
    start = time.perf_counter()
    page.wait_for_function(
        "([s, o]) => { const i = document.querySelector(s + ' img'); return i && i.getAttribute('src') !== o; }",
        arg=[selector, old],
        timeout=timeout,
        polling=10,
    )
    return time.perf_counter() - start


PAD_LATENCIES = "() => document.querySelector('#cnn-sketchpad [data-ready]').latencies.splice(0)"


def slow_stroke(page, strokes) -> None:
    """Draw with the button held, one pointer sample every 16 ms (a 60 Hz mouse), 40 samples a line."""
    box = page.locator("#cnn-sketchpad canvas").bounding_box()
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"] * 0.35
    for stroke in strokes:
        page.mouse.move(cx + stroke[0][0] * r, cy + stroke[0][1] * r)
        page.mouse.down()
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False):
            for k in range(1, 41):
                page.mouse.move(cx + (x0 + (x1 - x0) * k / 40) * r, cy + (y0 + (y1 - y0) * k / 40) * r)
                page.wait_for_timeout(16)
        page.mouse.up()


def measure(url: str, runs: int) -> dict[str, list[float]]:
    # "transformer" is the tab's default reader (pretrained); "transformer_scratch" the one trained here.
    names = ("cnn_pen", "cnn", "autoencoder", "rnn", "transformer", "transformer_scratch", "compare")
    out: dict[str, list[float]] = {name: [] for name in names}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.wait_for_selector("#cnn-sketchpad canvas", timeout=60_000)
        page.wait_for_timeout(500)
        for i in range(runs):
            slow_stroke(page, SEVEN if i % 2 else ONE)
            page.wait_for_timeout(300)
            out["cnn_pen"] += [t / 1000 for t in page.evaluate(PAD_LATENCIES)]
            page.locator("#cnn-clear").click()
            page.wait_for_timeout(300)
        for i in range(runs):
            old = src(page, "#cnn-features")
            draw(page, "#cnn-sketchpad", SEVEN if i % 2 else ONE)
            out["cnn"].append(changed(page, "#cnn-features", old))
            page.locator("#cnn-clear").click()
            page.wait_for_function("() => !document.querySelector('#cnn-features img')", timeout=10_000)
            page.wait_for_timeout(300)
        open_tab(page, "Autoencoder")
        page.wait_for_selector("#ae-code img", timeout=30_000)
        for i in range(runs):
            old = src(page, "#ae-code")
            page.get_by_label("Salt and pepper" if i % 2 == 0 else "Gaussian").check()
            out["autoencoder"].append(changed(page, "#ae-code", old))
        for name, selector in (("rnn", "#rnn-hidden"), ("transformer", "#transformer-attention")):
            open_tab(page, "RNN" if name == "rnn" else "Transformer")
            for i in range(runs):
                old = src(page, selector)
                page.locator(f"#{name}-input textarea").fill(SENTENCES[i % len(SENTENCES)] + " " * i)
                out[name].append(changed(page, selector, old))
        old = src(page, "#transformer-attention")
        page.locator("#transformer-reader").get_by_text("Trained here from scratch").click()
        changed(page, "#transformer-attention", old)
        for i in range(runs):
            old = src(page, "#transformer-attention")
            page.locator("#transformer-input textarea").fill(SENTENCES[i % len(SENTENCES)] + "." * (i + 1))
            out["transformer_scratch"].append(changed(page, "#transformer-attention", old))
        open_tab(page, "Compare")
        for i in range(runs):
            old = page.locator("#compare-rnn-tokens").inner_text()
            start = time.perf_counter()
            page.locator("#compare-input textarea").fill(SENTENCES[i % len(SENTENCES)] + "!" * (i + 1))
            page.wait_for_function(
                "(o) => ['rnn', 'transformer', 'pretrained_transformer'].every("
                "(n) => document.querySelector(`#compare-${n}-tokens`).innerText !== o)",
                arg=old,
                timeout=30_000,
                polling=10,
            )
            out["compare"].append(time.perf_counter() - start)
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--url", help="an app that is already running (default: start one)")
    args = parser.parse_args()
    if args.url:
        times = measure(args.url, args.runs)
    else:
        import conftest

        gen = conftest.app_url.__wrapped__()
        try:
            times = measure(next(gen), args.runs)
        finally:
            gen.close()
    print(f"{'tab':12s} {'median ms':>10s} {'p95 ms':>8s} {'max ms':>8s}  (action -> last visual redrawn)")
    summary = {}
    for tab, ts in times.items():
        summary[tab] = {
            "median_ms": round(1000 * statistics.median(ts), 1),
            "p95_ms": round(1000 * percentile(ts, 95), 1),
            "max_ms": round(1000 * max(ts), 1),
            "samples": len(ts),
        }
        row = summary[tab]
        print(f"{tab:12s} {row['median_ms']:10.1f} {row['p95_ms']:8.1f} {row['max_ms']:8.1f}")
    write_json(ROOT / "bench" / "results" / "ui-latency.json", {"machine": machine_info(), "tabs": summary})


if __name__ == "__main__":
    main()
