"""The guided lesson and its links in a real browser: a link opens exactly what it names, a step loads its input.

Each test waits for the final state it asserts (the box holding the text *and* the verdict for it),
never for the first answer that shows up.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from archdemo.ui.lesson import BY_ID
from tests.test_browser import SEVEN, draw, open_tab, wait_for_final_reading

pytestmark = pytest.mark.browser


@pytest.fixture
def visit(browser, app_url):
    contexts = []

    def go(query: str = "", width: int = 1280, height: int = 900):
        ctx = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(app_url + query)
        # Attached, not visible: a link may open another tab, and on a busy machine it is open
        # before the CNN tab's canvas was ever shown (CI saw the canvas hidden for 30 s).
        page.wait_for_selector("#cnn-sketchpad canvas", state="attached", timeout=30_000)
        return page

    yield go
    for ctx in contexts:
        ctx.close()


def selected_tab(page) -> str:
    return page.locator('[role="tab"][aria-selected="true"]').first.inner_text().strip()


def wait_for(page, selector: str, pattern: str, timeout: float = 30_000) -> None:
    """Until the element's text matches ``pattern`` (a JS regular expression)."""
    page.wait_for_function(
        "([sel, pat]) => { const e = document.querySelector(sel); return e && new RegExp(pat).test(e.innerText); }",
        arg=[selector, pattern],
        timeout=timeout,
    )


def wait_for_value(page, selector: str, value: str, timeout: float = 30_000) -> None:
    page.wait_for_function(
        "([sel, v]) => { const e = document.querySelector(sel); return e && e.value === v; }",
        arg=[selector, value],
        timeout=timeout,
    )


def verdict(page, selector: str) -> str:
    """A Label's top class, once it shows one."""
    top = f"{selector} [data-testid=label-output-value]"
    page.wait_for_selector(top, timeout=30_000)
    return page.locator(top).inner_text().strip()


def test_a_link_with_tab_and_text_opens_the_rnn_tab_and_reads_the_text(visit):
    text = "This movie is not good."
    page = visit(f"?tab=rnn&text={quote(text)}")
    wait_for_value(page, "#rnn-input textarea", text)
    wait_for(page, "#rnn-tokens", r"\bgood\b")  # the insides are for this sentence, not the default one
    wait_for(page, "#rnn-prediction", "negative")
    assert selected_tab(page) == "RNN" and verdict(page, "#rnn-prediction") == "negative"
    assert "not" in page.locator("#rnn-tokens").inner_text()


def test_a_link_opens_the_transformer_tab_with_its_text(visit):
    text = BY_ID["rnn-not-boring"].text
    page = visit(f"?tab=transformer&text={quote(text)}")
    wait_for_value(page, "#transformer-input textarea", text)
    wait_for(page, "#transformer-tokens", "boring")
    wait_for(page, "#transformer-prediction", "positive")  # the pretrained reader, as the claims test checks
    assert selected_tab(page) == "Transformer" and verdict(page, "#transformer-prediction") == "positive"


def test_a_link_with_only_text_opens_compare_with_every_reader(visit):
    text = "A gorgeous, witty and deeply moving film."
    page = visit(f"?text={quote(text)}")
    wait_for_value(page, "#compare-input textarea", text)
    for name in ("rnn", "transformer", "pretrained_transformer", "text_cnn"):
        wait_for(page, f"#compare-{name}-tokens", "gorgeous")
        wait_for(page, f"#compare-{name}", "%")
        assert verdict(page, f"#compare-{name}") == "positive"
    assert selected_tab(page) == "Compare"


def test_a_link_with_a_prompt_opens_write_and_writes(visit):
    prompt = "To be, or not to b"
    page = visit(f"?prompt={quote(prompt)}")
    wait_for_value(page, "#write-prompt textarea", prompt)
    wait_for(page, "#write-speed", "characters per")  # the last update: every writer has finished
    assert selected_tab(page) == "Write"
    assert page.locator("#write-char_rnn textarea").input_value().startswith("e")  # seed 0, as in the claims


def test_a_link_with_a_step_opens_its_tab_input_and_card(visit):
    step = BY_ID["tr-previous"]
    page = visit(f"?step={step.id}")
    wait_for_value(page, "#transformer-input textarea", step.text)
    wait_for_value(page, "#transformer-layer input", "1")
    wait_for_value(page, "#transformer-head input", "3")
    wait_for(page, "#transformer-lesson-card", "layer 1, head 3")
    wait_for(page, "#transformer-prediction", "negative")
    assert selected_tab(page) == "Transformer"
    assert page.locator("#transformer-reader").get_by_label("Pretrained", exact=False).is_checked()


def test_bad_values_get_a_note_and_the_page_still_works(visit):
    page = visit("?tab=settings&text=%00&step=nope-nope")
    wait_for(page, "#link-note", "no guided step 'nope-nope'")
    assert selected_tab(page) == "CNN"
    page = visit(f"?tab=nope&text={'x' * 5001}")
    wait_for(page, "#link-note", "There is no tab 'nope'")
    wait_for(page, "#link-note", "the limit is 5,000")
    draw(page, "#cnn-sketchpad", SEVEN)
    wait_for_final_reading(page, "#cnn-sketchpad")
    assert page.locator("#cnn-prediction .pad-top").inner_text().strip() == "7"


def test_a_step_on_the_rnn_tab_opens_compare_with_the_same_sentence(visit):
    page = visit()
    open_tab(page, "RNN")
    page.locator("#rnn-lesson").click()
    page.locator("#step-rnn-not-bad-compare").click()
    text = BY_ID["rnn-not-bad-compare"].text
    wait_for_value(page, "#compare-input textarea", text)
    wait_for(page, "#compare-pretrained_transformer", "positive")
    wait_for(page, "#compare-rnn", "negative")
    assert selected_tab(page) == "Compare"
    assert "every other reader" in page.locator("#compare-lesson-card").inner_text()


def test_a_digit_step_puts_its_digit_on_the_pad_for_every_reader(visit):
    page = visit()
    page.locator("#cnn-lesson").click()
    page.locator("#step-cnn-six").click()
    wait_for(page, "#digit-digit_rnn [data-testid=label-output-value]", "^6$")
    wait_for(page, "#cnn-prediction .pad-top", "^0$")  # the live readout reads the same digit
    assert [verdict(page, f"#digit-{n}") for n in ("cnn", "digit_transformer", "autoencoder_probe")] == ["0"] * 3


def test_the_sentence_tabs_read_a_sentence_when_opened(visit):
    page = visit()
    open_tab(page, "RNN")
    wait_for_value(page, "#rnn-input textarea", "It's not bad, I'd say!")
    wait_for(page, "#rnn-prediction", "%")
    open_tab(page, "Transformer")
    wait_for(page, "#transformer-prediction", "positive")


def test_copy_link_makes_a_link_that_opens_the_same_sentence(visit):
    page = visit()
    open_tab(page, "RNN")
    page.locator("#rnn-input textarea").fill("Dull and far too long.")
    page.locator("#rnn-copy-link").click()
    page.wait_for_selector("#rnn-link .lesson-url", timeout=30_000)
    url = page.locator("#rnn-link .lesson-url").input_value()
    assert "tab=rnn" in url and "text=Dull+and+far+too+long." in url
    again = visit(url.split("/", 3)[3])
    wait_for_value(again, "#rnn-input textarea", "Dull and far too long.")
    wait_for(again, "#rnn-prediction", "negative")


def test_the_architecture_picture_counts_the_tokens_of_the_sentence(visit):
    page = visit("?tab=rnn")
    page.locator("#rnn-architecture").click()
    page.locator("#rnn-input textarea").fill("not bad at all")
    wait_for(page, "#rnn-architecture-picture", "4 tokens")
    assert "4 x 192" in page.locator("#rnn-architecture-picture").inner_text()
