"""Screenshots of every tab at laptop and phone widths, for the README.

    python tests/take_screenshots.py [URL]     # default: starts the app itself on a free port

Drives headless Chromium with Playwright the way a visitor would (draws a digit, types a sentence)
and writes archdemo/assets/screenshots/<tab>-<width>.png (Gradio's light theme) and
<tab>-<width>-dark.png (``?__theme=dark``), at 1280 and 390 px.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import CHROMIUM_ARGS  # noqa: E402
from test_browser import SEVEN, draw, open_tab  # noqa: E402

from archdemo.weights.registry import MODELS  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "archdemo" / "assets" / "screenshots"
SENTENCE = "It's not bad, I'd say!"
SCROLL_THROUGH = """async () => {
  for (let y = 0; y < document.body.scrollHeight; y += 500) {
    window.scrollTo(0, y);
    await new Promise((done) => setTimeout(done, 150));
  }
  window.scrollTo(0, 0);
  await new Promise((done) => setTimeout(done, 300));
}"""


def shoot(url: str) -> list[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for width, theme in ((1280, "light"), (390, "light"), (1280, "dark"), (390, "dark")):
            page = browser.new_page(viewport={"width": width, "height": 900 if width > 500 else 844})
            page.goto(f"{url.rstrip('/')}/?__theme={theme}")
            page.wait_for_selector("#cnn-sketchpad canvas", timeout=30_000)
            page.wait_for_timeout(1000)
            draw(page, "#cnn-sketchpad", SEVEN)
            page.wait_for_function("() => /%/.test(document.querySelector('#cnn-prediction').innerText)")
            page.wait_for_timeout(500)
            shots = [("cnn", None)]
            for tab, name in (
                ("Autoencoder", "autoencoder"),
                ("RNN", "rnn"),
                ("Transformer", "transformer"),
                ("Write", "write"),
                ("Compare", "compare"),
            ):
                shots.append((name, tab))
            for name, tab in shots:
                if tab:
                    open_tab(page, tab)
                    if name in ("rnn", "transformer"):
                        page.locator(f"#{name}-input textarea").fill(SENTENCE)
                        page.wait_for_function(
                            f"() => /%/.test(document.querySelector('#{name}-prediction').innerText)"
                        )
                    if name == "write":
                        page.locator("#write-submit").click()
                        page.wait_for_selector("#write-candidates img", timeout=60_000)  # all three have written
                    if name == "compare":
                        page.wait_for_function(
                            "() => (document.querySelector('#compare-table').innerText.match(/ ms/g) || []).length"
                            f" === {len(MODELS)}",
                            timeout=60_000,
                        )
                    page.wait_for_timeout(1500)
                path = OUT / f"{name}-{width}{'-dark' if theme == 'dark' else ''}.png"
                page.evaluate(SCROLL_THROUGH)  # images load lazily: bring each into view once
                page.screenshot(path=str(path), full_page=True)
                written.append(path)
            page.close()
        browser.close()
    return written


if __name__ == "__main__":
    if len(sys.argv) > 1:
        paths = shoot(sys.argv[1])
    else:
        import conftest

        gen = conftest.app_url.__wrapped__()
        paths = shoot(next(gen))
        gen.close()
    print("\n".join(str(p) for p in paths))
