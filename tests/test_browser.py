"""A real browser (headless Chromium via Playwright) uses the app the way a visitor does."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from archdemo.inputs.images import from_pad, prepare_digit
from archdemo.paths import SAMPLE_DIGITS
from archdemo.weights.registry import MODELS

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, app_url):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.goto(app_url)
    pg.wait_for_selector("#cnn-sketchpad canvas", timeout=30_000)
    pg.wait_for_selector("#cnn-sketchpad [data-ready]", state="attached", timeout=30_000)  # pad.js has run
    yield pg
    ctx.close()


def draw(page, selector: str, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw strokes given in [-1, 1] coordinates around the centre of the editor's canvas."""
    # pad.js has run (its handlers are on the canvas): a stroke drawn before would never be read. On a busy
    # machine (an app whose helper processes are still starting) the page shows the canvas first.
    page.wait_for_selector(f"{selector}[data-ready], {selector} [data-ready]", state="attached", timeout=30_000)
    canvas = page.locator(f"{selector} canvas").first
    canvas.wait_for(state="visible", timeout=30_000)  # a tab opened by a link shows it a moment later
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    r = min(box["width"], box["height"]) * 0.35
    for stroke in strokes:
        page.mouse.move(cx + stroke[0][0] * r, cy + stroke[0][1] * r)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(cx + x * r, cy + y * r, steps=4)
        page.mouse.up()


def wait_for_final_reading(page, selector: str, timeout: float = 30_000) -> None:
    """Until the live readout answers the finished drawing: nothing in flight or due (pad.js's liveIdle)."""
    idle = f"{selector} [data-live-idle], {selector}[data-live-idle]"
    page.wait_for_function(f"() => document.querySelector('{idle}')", timeout=timeout)


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
    # No click on a tool first: the pad draws from the first touch.
    draw(page, "#cnn-sketchpad", SEVEN)
    wait_for_final_reading(page, "#cnn-sketchpad")  # not the first answer: on a busy machine it is a partial one
    text = page.locator("#cnn-prediction").inner_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and line.strip() != "Prediction"]
    assert lines[0] == "7", text
    assert text.count("%") == 10  # every class's probability is shown
    page.locator("#cnn-clear").click()
    page.wait_for_function("() => !/%/.test(document.querySelector('#cnn-prediction').innerText)", timeout=30_000)
    draw(page, "#cnn-sketchpad", ONE)
    wait_for_final_reading(page, "#cnn-sketchpad")
    assert page.locator("#cnn-prediction .pad-top").inner_text().strip() == "1"


def test_the_prediction_changes_while_the_pen_is_down(page):
    """A slow 7 with the button held: the readout answers many times and changes its mind before pen-up."""
    box = page.locator("#cnn-sketchpad canvas").bounding_box()
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"] * 0.35
    path = [(-0.6 + 0.06 * t, -0.8) for t in range(21)] + [(0.6 - 0.035 * t, -0.8 + 0.085 * t) for t in range(21)]
    page.mouse.move(cx + path[0][0] * r, cy + path[0][1] * r)
    page.mouse.down()
    answers, done = [], set()
    for x, y in path[1:]:
        page.mouse.move(cx + x * r, cy + y * r)
        page.wait_for_timeout(40)
        state = page.evaluate(
            "() => { const p = document.querySelector('#cnn-sketchpad');"
            " const top = p.querySelector('.pad-top'); return [p.querySelector('[data-live-done]')?.dataset.liveDone"
            " ?? null, top ? top.innerText : null]; }"
        )
        done.add(state[0])
        answers.append(state[1])
    shown = [a for a in answers if a]
    assert len(done - {None}) >= 5, f"only {len(done)} live answers arrived during the stroke"
    assert len(set(shown)) >= 2, f"the prediction never changed while the pen was down: {answers}"
    assert shown[-1] == "7", answers
    insides_before = src(page, "#cnn-cam")
    assert insides_before is None  # the insides wait for pen-up
    page.mouse.up()
    wait_for_new_src(page, "#cnn-cam", None)


def test_a_finger_draws_on_the_pad(browser, app_url):
    """Real touch events (Chromium's touch emulation through CDP): a finger's stroke is read live."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = ctx.new_page()
    page.goto(app_url)
    page.wait_for_selector("#cnn-sketchpad [data-ready]", timeout=30_000)
    canvas = page.locator("#cnn-sketchpad canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"] * 0.35
    scrolled = page.evaluate("() => window.scrollY")
    cdp = ctx.new_cdp_session(page)
    touch = lambda kind, pts: cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": pts})  # noqa: E731
    touch("touchStart", [{"x": cx, "y": cy - 0.9 * r}])
    for k in range(1, 31):
        touch("touchMove", [{"x": cx, "y": cy + (-0.9 + 1.8 * k / 30) * r}])
        page.wait_for_timeout(16)
    touch("touchEnd", [])
    page.wait_for_function(
        "() => /^\\s*1\\b/.test(document.querySelector('#cnn-prediction').innerText)", timeout=30_000
    )
    assert page.evaluate("() => window.scrollY") == scrolled  # the finger drew; it did not scroll the page
    ctx.close()


def test_the_browser_reduces_the_drawing_as_the_server_would(page):
    """The pad's 28x28 equals image_processing.prepare_digit of the full canvas, to within antialiasing.

    The centre of mass is rounded to whole pixels in both, so the two may sit one pixel apart.
    """
    draw(page, "#cnn-sketchpad", SEVEN)
    draw(page, "#cnn-sketchpad", [[(-0.3, 0.1), (0.4, 0.05)]])  # a crossbar: a continental 7
    pixels, png = page.evaluate(
        "() => { const p = document.querySelector('#cnn-sketchpad [data-ready]');"
        " return [p.reduce(), p.querySelector('canvas').toDataURL('image/png')]; }"
    )
    browser = from_pad(pixels)
    server = prepare_digit(np.asarray(Image.open(io.BytesIO(base64.b64decode(png.split(",")[1])))))
    shifts = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    diff = min(np.abs(np.roll(browser, s, axis=(0, 1)) - server).mean() for s in shifts)
    assert diff < 0.01
    assert (browser > 0.5).sum() == pytest.approx((server > 0.5).sum(), rel=0.1)


def src(page, selector: str) -> str | None:
    """The image source shown inside an element (gr.Image and matplotlib gr.Plot both render an <img>)."""
    return page.evaluate(
        "(sel) => { const i = document.querySelector(sel + ' img'); return i ? i.getAttribute('src') : null; }",
        selector,
    )


def wait_for_new_src(page, selector: str, old: str | None, timeout: float = 30_000) -> str:
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
    page.wait_for_function("() => !document.querySelector('#cnn-cam img')", timeout=30_000)
    draw(page, "#cnn-sketchpad", ONE)
    for sel, old in shown.items():
        assert wait_for_new_src(page, sel, old) != old


def test_text_tabs_answer_as_you_type(page):
    for name in ("rnn", "transformer"):
        open_tab(page, "RNN" if name == "rnn" else "Transformer")
        box = page.locator(f"#{name}-input textarea")
        box.fill("A beautiful and moving film.")
        page.wait_for_function(
            f"() => /positive/.test(document.querySelector('#{name}-prediction').innerText)", timeout=30_000
        )
        box.fill("A dull and lifeless film.")
        page.wait_for_function(
            f"() => /Sentiment\\s+negative/.test(document.querySelector('#{name}-prediction').innerText)",
            timeout=30_000,
        )


def test_autoencoder_tab_shows_clean_noisy_denoised_and_reacts(page):
    open_tab(page, "Autoencoder")
    page.wait_for_function(
        "() => document.querySelectorAll('#ae-clean img, #ae-noisy img, #ae-output img').length === 3", timeout=30_000
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


def test_autoencoder_tab_takes_a_drawing_and_an_upload(page, tmp_path):
    open_tab(page, "Autoencoder")
    page.wait_for_function("() => document.querySelectorAll('#ae-clean img').length === 1", timeout=30_000)
    clean = src(page, "#ae-clean")
    page.locator("#ae-clear").click()
    draw(page, "#ae-input", ONE)
    clean = wait_for_new_src(page, "#ae-clean", clean)
    says = "(d) => new RegExp('clean digit as \\\\**' + d).test(document.querySelector('#ae-metrics').innerText)"
    page.wait_for_function(says, arg="1")
    upload = tmp_path / "three.png"
    Image.open(SAMPLE_DIGITS / "3.png").save(upload)
    page.locator("#ae-upload input[type=file]").set_input_files(str(upload))
    wait_for_new_src(page, "#ae-clean", clean)
    page.wait_for_function(says, arg="3")
    inked = page.evaluate("() => document.querySelector('#ae-input [data-ready]').reduce()")
    assert from_pad(inked) is not None  # the upload is drawn on the pad, ready to be drawn over


def test_rnn_and_transformer_insides_follow_the_sentence(page):
    open_tab(page, "RNN")
    opened = {sel: wait_for_new_src(page, sel, None) for sel in ("#rnn-belief", "#rnn-hidden")}  # read on opening
    page.locator("#rnn-input textarea").fill("A beautiful and moving film.")
    belief, hidden = (wait_for_new_src(page, sel, old) for sel, old in opened.items())
    page.wait_for_function("() => /moving/.test(document.querySelector('#rnn-tokens').innerText)", timeout=30_000)
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
        timeout=30_000,
    )
    assert len(menu_choices(page, "#transformer-head")) == 1 + 4


def test_compare_tab_measures_every_model_and_reads_with_three(page):
    open_tab(page, "Compare")
    page.wait_for_function(
        f"() => (document.querySelector('#compare-table')?.innerText.match(/ ms/g) || []).length === {len(MODELS)}",
        timeout=90_000,
    )
    table = page.locator("#compare-table").inner_text()
    for spec in MODELS.values():
        assert spec.title in table
    for side in ("rnn", "transformer", "pretrained_transformer"):
        page.wait_for_function(f"() => /%/.test(document.querySelector('#compare-{side}')?.innerText)", timeout=30_000)
    page.wait_for_function("() => / of 60/.test(document.querySelector('#compare-negation')?.innerText)")
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
