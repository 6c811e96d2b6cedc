"""A real browser (headless Chromium via Playwright) uses the app the way a visitor does."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, app_url):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.goto(app_url)
    pg.wait_for_selector("#cnn-sketchpad canvas", timeout=30_000)
    yield pg
    ctx.close()


def draw(page, selector: str, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw strokes given in [-1, 1] coordinates around the centre of the editor's canvas."""
    box = page.locator(f"{selector} canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    r = min(box["width"], box["height"]) * 0.35
    for stroke in strokes:
        page.mouse.move(cx + stroke[0][0] * r, cy + stroke[0][1] * r)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(cx + x * r, cy + y * r, steps=4)
        page.mouse.up()


def open_tab(page, name: str) -> None:
    """Click a tab; on a narrow screen Gradio moves some tabs into a "More tabs" menu."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.count() and tab.is_visible():
        tab.click()
        return
    page.locator('button[aria-label="More tabs"]').click()
    page.locator(".overflow-dropdown button", has_text=name).click()


SEVEN = [[(-0.6, -0.8), (0.6, -0.8), (-0.1, 0.9)]]
ONE = [[(0.05, -0.9), (0.0, 0.9)]]


def test_cnn_tab_is_ready_to_draw_and_predicts_while_drawing(page):
    # No click on a tool first: the brush is active when the page loads.
    assert page.locator("#cnn-sketchpad").get_by_text("select the draw tool").count() == 0
    draw(page, "#cnn-sketchpad", SEVEN)
    prediction = page.locator("#cnn-prediction h2, #cnn-prediction .output-class").first
    prediction.wait_for(timeout=15_000)
    page.wait_for_function(
        "() => { const e = document.querySelector('#cnn-prediction'); return e && /\\b7\\b/.test(e.innerText); }",
        timeout=15_000,
    )
    text = page.locator("#cnn-prediction").inner_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and line.strip() != "Prediction"]
    assert lines[0] == "7", text
    assert text.count("%") == 10  # every class's probability is shown
    page.locator("#cnn-clear").click()
    page.wait_for_function("() => !/%/.test(document.querySelector('#cnn-prediction').innerText)", timeout=10_000)
    draw(page, "#cnn-sketchpad", ONE)
    page.wait_for_function(
        "() => /Prediction\\s+1\\b/.test(document.querySelector('#cnn-prediction').innerText)", timeout=15_000
    )


def src(page, selector: str) -> str | None:
    """The image source shown inside an element (gr.Image and matplotlib gr.Plot both render an <img>)."""
    return page.evaluate(
        "(sel) => { const i = document.querySelector(sel + ' img'); return i ? i.getAttribute('src') : null; }",
        selector,
    )


def wait_for_new_src(page, selector: str, old: str | None, timeout: float = 20_000) -> str:
    page.wait_for_function(
        "([sel, old]) => { const i = document.querySelector(sel + ' img');"
        " return i && i.getAttribute('src') !== old; }",
        arg=[selector, old],
        timeout=timeout,
    )
    return src(page, selector)


def test_cnn_insides_appear_and_follow_the_drawing(page):
    draw(page, "#cnn-sketchpad", SEVEN)
    shown = {sel: wait_for_new_src(page, sel, None) for sel in ("#cnn-input28", "#cnn-cam", "#cnn-features")}
    page.locator("#cnn-clear").click()
    page.wait_for_function("() => !document.querySelector('#cnn-cam img')", timeout=10_000)
    draw(page, "#cnn-sketchpad", ONE)
    for sel, old in shown.items():
        assert wait_for_new_src(page, sel, old) != old


def test_text_tabs_answer_as_you_type(page):
    for name in ("rnn", "transformer"):
        open_tab(page, "RNN" if name == "rnn" else "Transformer")
        box = page.locator(f"#{name}-input textarea")
        box.fill("A beautiful and moving film.")
        page.wait_for_function(
            f"() => /positive/.test(document.querySelector('#{name}-prediction').innerText)", timeout=15_000
        )
        box.fill("A dull and lifeless film.")
        page.wait_for_function(
            f"() => /Sentiment\\s+negative/.test(document.querySelector('#{name}-prediction').innerText)",
            timeout=15_000,
        )


def test_autoencoder_tab_shows_clean_noisy_denoised_and_reacts(page):
    open_tab(page, "Autoencoder")
    page.wait_for_function(
        "() => document.querySelectorAll('#ae-clean img, #ae-noisy img, #ae-output img').length === 3", timeout=20_000
    )
    metrics = page.locator("#ae-metrics").inner_text()
    assert "PSNR" in metrics and "The CNN reads" in metrics
    noisy, code, walk = src(page, "#ae-noisy"), wait_for_new_src(page, "#ae-code", None), src(page, "#ae-walk")
    assert walk is not None
    page.get_by_label("Salt and pepper").check()
    assert wait_for_new_src(page, "#ae-noisy", noisy) != noisy
    assert wait_for_new_src(page, "#ae-code", code) != code
    page.locator("#ae-walk-b input").fill("3")
    page.keyboard.press("Enter")
    assert wait_for_new_src(page, "#ae-walk", walk) != walk


def test_rnn_and_transformer_insides_follow_the_sentence(page):
    open_tab(page, "RNN")
    page.locator("#rnn-input textarea").fill("A beautiful and moving film.")
    belief, hidden = wait_for_new_src(page, "#rnn-belief", None), wait_for_new_src(page, "#rnn-hidden", None)
    assert page.locator("#rnn-tokens").inner_text().count("moving") == 1
    page.locator("#rnn-input textarea").fill("Not a beautiful film at all.")
    assert wait_for_new_src(page, "#rnn-belief", belief) != belief
    assert wait_for_new_src(page, "#rnn-hidden", hidden) != hidden

    open_tab(page, "Transformer")
    page.locator("#transformer-input textarea").fill("A beautiful and moving film.")
    attention = wait_for_new_src(page, "#transformer-attention", None)
    page.locator("#transformer-head input").fill("2")
    page.keyboard.press("Enter")
    assert wait_for_new_src(page, "#transformer-attention", attention) != attention


def menu_choices(page, selector: str) -> list[str]:
    page.locator(f"{selector} input").click()
    options = [o.strip() for o in page.locator("ul[role=listbox] li").all_inner_texts()]
    page.keyboard.press("Escape")
    return options


def test_the_transformer_tab_chooses_its_reader(page):
    open_tab(page, "Transformer")
    reader = page.locator("#transformer-reader")
    assert reader.get_by_label("Pretrained", exact=False).is_checked()  # the pretrained reader reads first
    page.locator("#transformer-input textarea").fill("It's not bad, I'd say!")
    page.wait_for_function(
        "() => /positive/.test(document.querySelector('#transformer-prediction').innerText)", timeout=30_000
    )
    assert len(menu_choices(page, "#transformer-head")) == 1 + 12
    attention = wait_for_new_src(page, "#transformer-attention", None)
    reader.get_by_text("Trained here from scratch").click()
    assert wait_for_new_src(page, "#transformer-attention", attention) != attention
    page.wait_for_function(
        "() => document.querySelectorAll('#transformer-head input').length"
        " && document.querySelector('#transformer-layer input').value === '2'",
        timeout=20_000,
    )
    assert len(menu_choices(page, "#transformer-head")) == 1 + 4


def test_compare_tab_measures_every_model_and_reads_with_three(page):
    open_tab(page, "Compare")
    page.wait_for_function(
        "() => (document.querySelector('#compare-table').innerText.match(/ ms/g) || []).length === 5", timeout=90_000
    )
    table = page.locator("#compare-table").inner_text()
    for model in ("CNN", "Autoencoder", "RNN", "Transformer", "Pretrained Transformer"):
        assert model in table
    for side in ("rnn", "transformer", "pretrained_transformer"):
        page.wait_for_function(f"() => /%/.test(document.querySelector('#compare-{side}').innerText)", timeout=20_000)
    page.wait_for_function("() => / of 60/.test(document.querySelector('#compare-negation').innerText)")
    wait_for_new_src(page, "#compare-by-length", None)


def test_device_is_shown(page):
    assert "Models run on" in page.locator("#device-line").inner_text()


def test_phone_width_reaches_every_tab(browser, app_url):
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    page.goto(app_url)
    page.wait_for_selector("#cnn-sketchpad canvas", timeout=30_000)
    open_tab(page, "Transformer")
    page.locator("#transformer-input textarea").fill("A beautiful and moving film.")
    page.wait_for_function("() => /%/.test(document.querySelector('#transformer-prediction').innerText)")
    box = page.locator("#transformer-attention").bounding_box()
    assert box and box["width"] <= 390  # the plot fits the phone's width
    ctx.close()
