"""The app on a phone (Chromium at 390x844), in light and dark: tabs, first screens, colour scales, bad uploads."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from test_browser import src

from archdemo.inputs.images import from_pad
from archdemo.paths import SAMPLE_DIGITS
from archdemo.plots.figure import AMOUNT, TOWARD_NEGATIVE, TOWARD_POSITIVE

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
TABS = {  # tab button -> the input a visitor starts with
    "CNN": "#cnn-sketchpad",
    "Autoencoder": "#ae-input",
    "RNN": "#rnn-input",
    "Transformer": "#transformer-input",
    "Write": "#write-prompt",
    "Compare": "#compare-input",
}
SENTENCE = "Oh great, another masterpiece of boredom. Just what I needed."


def open_page(browser, app_url: str, theme: str, viewport: dict = PHONE):
    ctx = browser.new_context(viewport=viewport)
    page = ctx.new_page()
    page.goto(f"{app_url}?__theme={theme}")
    page.wait_for_selector("#cnn-sketchpad canvas", timeout=30_000)
    return ctx, page


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def span_colours(page, selector: str) -> set[tuple[int, int, int]]:
    """The colours (opacity left out) behind the highlighted words in ``selector``."""
    found = page.evaluate(
        "(sel) => [...document.querySelectorAll(sel + ' .w')].map(s => getComputedStyle(s).backgroundColor)",
        selector,
    )
    colours = set()
    for c in found:
        parts = c[c.index("(") + 1 : -1].split(",")
        if len(parts) == 4 and float(parts[3]) == 0:
            continue  # a word with no weight at all: the page shows through
        colours.add(tuple(int(float(p)) for p in parts[:3]))
    return colours


def legend_visible(page, selector: str) -> bool:
    legend = page.locator(f"{selector} .scale-legend")
    return legend.count() == 1 and legend.is_visible() and legend.locator(".ramp").is_visible()


def wait_for_scale(page, selector: str, kind: str, last_word: str) -> None:
    """Until the words shown are the whole sentence (its last word in), on the given scale."""
    page.wait_for_function(
        "([sel, kind, word]) => { const s = document.querySelector(sel + ' .word-scale');"
        " return s && s.dataset.scale === kind && s.innerText.includes(word); }",
        arg=[selector, kind, last_word],
        timeout=30_000,
    )


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_tab_button_is_on_screen_without_a_menu(browser, app_url, theme):
    ctx, page = open_page(browser, app_url, theme)
    for name in TABS:
        tab = page.get_by_role("tab", name=name, exact=True)
        assert tab.count() == 1 and tab.is_visible(), name
        box = tab.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (name, box)
    assert not page.locator('button[aria-label="More tabs"]').is_visible()
    ctx.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_each_tabs_input_starts_within_the_first_screen(browser, app_url, theme):
    ctx, page = open_page(browser, app_url, theme)
    for name, selector in TABS.items():
        page.evaluate("() => window.scrollTo(0, 0)")
        page.get_by_role("tab", name=name, exact=True).click()
        page.locator(selector).wait_for(state="visible", timeout=30_000)
        box = page.locator(selector).bounding_box()
        assert page.evaluate("() => window.scrollY") == 0
        # Its top, and at least 80 px of it, within the first 844 px: the visitor sees where to start.
        assert box["y"] + 80 <= PHONE["height"], (name, box)
    ctx.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_attention_and_influence_use_different_scales_with_visible_legends(browser, app_url, theme):
    ctx, page = open_page(browser, app_url, theme)
    influence, attention = {rgb(TOWARD_POSITIVE), rgb(TOWARD_NEGATIVE)}, {rgb(AMOUNT)}
    page.get_by_role("tab", name="RNN", exact=True).click()
    page.locator("#rnn-input textarea").fill(SENTENCE)
    wait_for_scale(page, "#rnn-tokens", "influence", "needed")
    assert legend_visible(page, "#rnn-tokens")
    assert "towards negative" in page.locator("#rnn-tokens .scale-legend").inner_text()
    rnn = span_colours(page, "#rnn-tokens")
    assert rnn and rnn <= influence, rnn

    page.get_by_role("tab", name="Transformer", exact=True).click()
    page.locator("#transformer-input textarea").fill(SENTENCE)
    wait_for_scale(page, "#transformer-tokens", "attention", "needed")
    assert legend_visible(page, "#transformer-tokens")
    transformer = span_colours(page, "#transformer-tokens")
    assert transformer and transformer <= attention, transformer  # never the verdict's red or blue

    page.get_by_role("tab", name="Compare", exact=True).click()
    page.locator("#compare-input textarea").fill(SENTENCE)
    for name, kind, allowed in (
        ("rnn", "influence", influence),
        ("text_cnn", "influence", influence),
        ("transformer", "attention", attention),
        ("pretrained_transformer", "attention", attention),
    ):
        selector = f"#compare-{name}-tokens"
        wait_for_scale(page, selector, kind, "needed")
        page.locator(selector).scroll_into_view_if_needed()
        assert legend_visible(page, selector), name  # Compare shows the legends too
        assert span_colours(page, selector) <= allowed, name
    ctx.close()


def test_no_label_covers_a_plot(browser, app_url):
    ctx, page = open_page(browser, app_url, "light")
    page.get_by_role("tab", name="RNN", exact=True).click()
    page.locator("#rnn-input textarea").fill(SENTENCE)
    for plot in ("#rnn-belief", "#rnn-hidden"):
        page.wait_for_selector(f"{plot} img", timeout=30_000)
        label = page.locator(f'{plot} label[data-testid="block-label"]')
        assert label.count() == 0 or not label.is_visible(), plot
    ctx.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_clean_noisy_and_denoised_sit_side_by_side_and_the_walk_is_a_picture(browser, app_url, theme):
    ctx, page = open_page(browser, app_url, theme)
    page.get_by_role("tab", name="Autoencoder", exact=True).click()
    page.wait_for_function(
        "() => document.querySelectorAll('#ae-clean img, #ae-noisy img, #ae-output img').length === 3", timeout=30_000
    )
    boxes = [page.locator(s).bounding_box() for s in ("#ae-clean", "#ae-noisy", "#ae-output")]
    assert max(b["y"] for b in boxes) - min(b["y"] for b in boxes) < 5  # one row
    assert all(b["x"] + b["width"] <= PHONE["width"] for b in boxes)
    page.locator("#ae-walk").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('#ae-walk img'); return i && i.complete && i.naturalHeight; }",
        timeout=30_000,
    )
    assert page.locator("#ae-walk img").bounding_box()["height"] > 100  # not a sliver
    ctx.close()


def test_a_bad_upload_says_what_was_wrong(browser, app_url, tmp_path):
    ctx, page = open_page(browser, app_url, "light")
    page.get_by_role("tab", name="Autoencoder", exact=True).click()
    page.wait_for_function("() => document.querySelectorAll('#ae-clean img').length === 1", timeout=30_000)
    clean = src(page, "#ae-clean")
    text = tmp_path / "notes.txt"
    text.write_text("these are my notes, not a picture")
    buffer = io.BytesIO()
    Image.open(SAMPLE_DIGITS / "3.png").convert("RGB").resize((300, 300)).save(buffer, "PNG")
    cut = tmp_path / "cut.png"
    cut.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    for path, says in ((text, "not an image"), (cut, "truncated or corrupt")):
        page.locator("#ae-upload input[type=file]").set_input_files(str(path))
        page.wait_for_function(
            "(w) => document.querySelector('#ae-upload-note').innerText.includes(w)", arg=says, timeout=20_000
        )
        assert "could not be used" in page.locator("#ae-upload-note").inner_text()
    assert page.locator(".toast-body, .error").count() == 0  # a sentence beside the box, no red badge
    assert src(page, "#ae-clean") == clean  # the digit on the pad stays
    assert from_pad(page.evaluate("() => document.querySelector('#ae-input [data-ready]').reduce()")) is not None
    ctx.close()


def test_long_maps_and_wide_tables_scroll_inside_their_boxes(browser, app_url):
    ctx, page = open_page(browser, app_url, "light")
    page.get_by_role("tab", name="Transformer", exact=True).click()
    page.locator("#transformer-input textarea").fill(" ".join([SENTENCE] * 6))  # ~90 tokens, every one labelled
    page.wait_for_selector("#transformer-attention.wide-plot img", timeout=30_000)
    page.locator("#transformer-attention").scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('#transformer-attention img').naturalWidth > 0")
    scroller = "document.querySelector('#transformer-attention .matplotlib')"
    assert page.evaluate(f"() => {scroller}.scrollWidth > {scroller}.clientWidth")  # the map scrolls in its box
    page.get_by_role("tab", name="Compare", exact=True).click()
    page.wait_for_function("() => / of 60/.test(document.querySelector('#compare-negation').innerText)", timeout=90_000)
    # Nothing pushes the page itself sideways: the map and the tables scroll inside themselves.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    ctx.close()
