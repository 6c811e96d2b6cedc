"""Writing with the character models: checks, repeatable streaming, insides that match a plain forward,
batched decoding that writes what each visitor alone would, the Write tab's handler and the /generate_*
endpoints of the app built in-process."""

from __future__ import annotations

import asyncio
import inspect
import re
import threading
import time

import numpy as np
import pytest
import torch

from archdemo.errors import InputError
from archdemo.inputs.characters import encode
from archdemo.models.char_lm import SHAKESPEARE_CHARS
from archdemo.plots import writing as plots_writing
from archdemo.tasks.writers import GPTBatch
from archdemo.tasks.writing import (
    MAX_LENGTH,
    TOP_K,
    check_prompt,
    check_settings,
    decoding_loop,
    generate,
    write,
    write_async,
)
from archdemo.weights.cards import training_record
from archdemo.weights.registry import CHAR_MODELS

PROMPT = "ROMEO:\nWhat light"


@pytest.mark.parametrize(
    "prompt, message",
    [
        ("", "Type a few words"),
        (None, "Type a few words"),
        ("x" * 501, "501 characters long; the limit is 500"),
        ("Caf\u00e9 at 10", "'0', '1', '\u00e9'"),  # every unknown character named, once each
        ('"Hi"', "'\"'"),
    ],
)
def test_bad_prompts_get_a_message_that_says_what_to_change(prompt, message):
    with pytest.raises(InputError, match=re.escape(message)):
        check_prompt(prompt, SHAKESPEARE_CHARS)


def test_typed_quotes_and_line_ends_are_read_as_tiny_shakespeare_spells_them():
    assert check_prompt("It\u2019s\r\nme", SHAKESPEARE_CHARS) == "It's\nme"


@pytest.mark.parametrize(
    "settings, message",
    [
        ((0, 1.0, 0), "length must be a whole number"),
        ((MAX_LENGTH + 1, 1.0, 0), "length must be a whole number"),
        ((10.5, 1.0, 0), "length must be a whole number"),
        (("10", 1.0, 0), "length must be a number"),
        ((10, 0.0, 0), "temperature must be from 0.1"),
        ((10, 9.0, 0), "temperature must be from 0.1"),
        ((10, float("nan"), 0), "temperature must be a number"),
        ((10, 1.0, -1), "seed must be a whole number"),
        ((10, 1.0, 0.5), "seed must be a whole number"),
        ((10, 1.0, True), "seed must be a number"),
    ],
)
def test_bad_settings_get_a_message(settings, message):
    with pytest.raises(InputError, match=message):
        check_settings(*settings)


def test_good_settings_come_back_as_numbers():
    assert check_settings(10.0, 1, 7.0) == (10, 1.0, 7)


@pytest.mark.parametrize("name", CHAR_MODELS)
def test_the_same_seed_writes_the_same_text(store, name):
    a = generate(store, name, PROMPT, 60, 0.8, 3)
    assert len(a) == 60 and a == generate(store, name, PROMPT, 60, 0.8, 3)
    assert a != generate(store, name, PROMPT, 60, 0.8, 4)


@pytest.mark.parametrize("name", CHAR_MODELS)
def test_text_streams_in_growing_chunks_with_the_insides_of_every_character(store, name):
    steps = list(write(store, name, PROMPT, 70, 1.0, 0))
    sizes = [len(w.text) for w in steps]
    assert sizes[0] <= 4 and sizes == sorted(sizes) and sizes[-1] == 70
    w = steps[-1]
    assert w.done and not any(s.done for s in steps[:-1]) and w.first_seconds > 0
    assert w.top_ids.shape == w.top_probs.shape == (70, TOP_K)
    assert (np.diff(w.top_probs, axis=1) <= 0).all()  # best first
    model = store.get(name)
    if hasattr(model, "receptive_field"):  # the CNN carries a cache of its inputs: no memory, no attention to show
        assert w.hidden is None and w.attention is None
    elif hasattr(model, "step"):  # the LSTM: its memory after every written character
        assert w.hidden.shape == (70, model.config.hidden_size) and w.attention is None
    else:
        c = store.get(name).config
        assert w.context == (PROMPT + w.text)[-c.block_size :]
        assert w.attention.shape == (c.num_layers, c.num_heads, len(w.context))
        np.testing.assert_allclose(w.attention.sum(-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("name", CHAR_MODELS)
def test_each_written_character_was_chosen_from_what_a_plain_forward_predicts(store, name):
    """The chunked generation (carried LSTM state, GPT key/value cache) predicts what one pass over the
    whole text predicts, for every written character."""
    model = store.get(name)
    w = list(write(store, name, PROMPT, 100, 0.7, 1))[-1]  # prompt + text fit in the GPT's window
    x = encode(PROMPT + w.text, model.config.vocab)[None]
    with torch.inference_mode():
        probs = (model(x)[0, len(PROMPT) - 1 : -1] / 0.7).softmax(-1)  # (100, V): before each written char
    top = probs.topk(TOP_K)
    np.testing.assert_allclose(w.top_probs, top.values.numpy(), atol=1e-4)
    chosen = encode(w.text, model.config.vocab)
    assert (probs[torch.arange(100), chosen] > 0).all()


def collect(agen) -> list:
    async def run():
        return [x async for x in agen]

    return asyncio.run(run())


def test_a_long_text_keeps_the_gpt_inside_its_window_and_goes_on_from_its_last_half(store):
    model = store.get("char_gpt")
    c, keep = model.config, GPTBatch(model, store.device).keep
    w = list(write(store, "char_gpt", PROMPT, c.block_size + 40, 1.0, 2))[-1]
    assert len(w.text) == c.block_size + 40 and keep <= len(w.context) < c.block_size
    assert w.context == (PROMPT + w.text)[-len(w.context) :]
    # The last character was chosen from what a plain forward over the window before it predicts.
    x = encode(w.context[:-1], c.vocab)[None]
    with torch.inference_mode():
        probs = model(x)[0, -1].softmax(-1)
    np.testing.assert_allclose(w.top_probs[-1], probs.topk(TOP_K).values.numpy(), atol=1e-4)


# Visitors with their own prompts, lengths, temperatures and seeds (one prompt longer than the GPT's window).
VISITORS = [
    ("ROMEO:\n", 120, 0.8, 0),
    ("KING", 300, 1.0, 7),
    ("First Citizen:\nBefore we proceed any further, hear me speak.\n" * 5, 90, 0.5, 3),
    ("To be, or not to be", 200, 1.3, 11),
    ("O", 40, 0.8, 0),
    ("ROMEO:\n", 160, 0.8, 1),
]


@pytest.mark.parametrize("name", CHAR_MODELS)
def test_visitors_written_in_one_batch_get_what_each_would_get_alone(store, name):
    alone = [list(write(store, name, *v, batched=False))[-1] for v in VISITORS]
    loop = decoding_loop(store, name)
    widest_before, together = loop.widest, [None] * len(VISITORS)

    def visitor(i):
        together[i] = list(write(store, name, *VISITORS[i]))[-1]

    threads = [threading.Thread(target=visitor, args=(i,), daemon=True) for i in range(len(VISITORS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert loop.widest >= 2 or widest_before >= 2  # they did share forward passes
    for a, b in zip(alone, together, strict=True):
        assert a.text == b.text and len(b.text) == len(a.text)
        np.testing.assert_allclose(a.top_probs, b.top_probs, atol=1e-5)


def test_the_async_writer_writes_the_same_text(store):
    texts = [w.text for w in collect(write_async(store, "char_rnn", PROMPT, 80, 0.8, 2))]
    assert texts[-1] == generate(store, "char_rnn", PROMPT, 80, 0.8, 2) and len(texts) > 2


@pytest.mark.parametrize("name", CHAR_MODELS)
def test_a_visitor_who_leaves_frees_their_row(store, name):
    loop = decoding_loop(store, name)
    run = write(store, name, PROMPT, MAX_LENGTH, 1.0, 0)
    first = next(run)
    assert 0 < len(first.text) < MAX_LENGTH and loop.batch.n >= 1
    run.close()  # as Gradio closes a generator whose visitor went away
    deadline = time.monotonic() + 30
    while loop.batch.n and time.monotonic() < deadline:  # the row goes before the loop's next step
        time.sleep(0.01)
    assert loop.batch.n == 0


def test_the_gpt_writes_at_the_servers_priority_and_the_others_give_way(store):
    loops = {name: decoding_loop(store, name) for name in CHAR_MODELS}
    assert loops["char_gpt"].niceness == 0  # the slowest step: everyone's texts wait for it
    assert {loops[n].niceness for n in CHAR_MODELS if n != "char_gpt"} == {store.settings.writer_niceness}
    assert store.settings.writer_niceness > 0


def test_figures_draw_from_a_writing(store):
    rnn = list(write(store, "char_rnn", PROMPT, 30, 1.0, 0))[-1]
    gpt = list(write(store, "char_gpt", PROMPT, 30, 1.0, 0))[-1]
    plots_writing.memory_heatmap(rnn.text, rnn.hidden, 29)
    plots_writing.attention_strip(gpt.attention, gpt.context, head=None)
    plots_writing.attention_strip(gpt.attention, gpt.context, head=1)
    plots_writing.candidates_figure({"LSTM": (rnn.candidates(5), rnn.text[5])}, 5)
    records = {n: training_record(n) for n in ("char_rnn", "char_gpt")}
    assert all(r and r["curve"] and r["final_val_loss"] for r in records.values())
    plots_writing.training_curves(records)


@pytest.fixture(scope="module")
def app(store, answers):
    """The whole app built in-process (as app.py builds it) and launched on a free port."""
    from archdemo.ui import build

    demo = build(store, answers)
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    yield demo
    demo.close()


def test_the_write_tab_streams_both_models_then_draws_the_insides(app):
    import gradio as gr

    fn = next(f for f in app.fns.values() if f.name == "write_both")
    assert inspect.isasyncgenfunction(fn.fn)  # on the event loop: a writer holds no worker thread
    assert not fn.postprocess  # the pieces go out as they are, no thread hop per box
    outputs = collect(fn.fn(PROMPT, 40, 0.8, 0))
    first, last = outputs[0], outputs[-1]
    n = len(CHAR_MODELS)  # one text box per writer, then the speed line, the writings, the message
    assert len(first) == len(last) == n + 3
    assert all(0 < len(first[i]) <= 4 for i in range(n))  # the first characters come at once
    assert all(len(last[i]) == 40 for i in range(n))
    writings = last[n + 1]
    assert set(writings) == set(CHAR_MODELS) and "characters per second" in last[n]
    draw = next(f for f in app.fns.values() if f.name == "draw_insides")  # chained after the writing
    slider, *pictures = draw.fn(writings, "")
    assert slider["maximum"] == 40 and all(p is not None for p in pictures)
    assert draw.fn(writings, "**Nothing was written:** ...") == (gr.skip(),) * 4  # a bad prompt draws nothing
    look = next(f for f in app.fns.values() if f.name == "look_inside")
    assert all(f is not None for f in look.fn(writings, 10, "2"))
    assert look.fn(None, 1, "all (average)") == (None, None, None)


def test_the_write_tab_says_what_is_wrong_with_a_prompt_and_keeps_the_texts_shown(app):
    import gradio as gr

    fn = next(f for f in app.fns.values() if f.name == "write_both")
    (out,) = collect(fn.fn("Act 1, sc\u00e8ne 2", 40, 0.8, 0))
    n = len(CHAR_MODELS)
    assert out[:-1] == (gr.skip(),) * (n + 2)  # the texts, the speed line and the writings stay as they were
    message = out[-1]
    assert "'1'" in message and "'2'" in message and "'\u00e8'" in message and "Nothing was written" in message


@pytest.fixture(scope="module")
def client(app):
    from gradio_client import Client

    return Client(app.local_url, verbose=False)


@pytest.mark.parametrize(
    "endpoint, name", [("/generate_rnn", "char_rnn"), ("/generate_gpt", "char_gpt"), ("/generate_cnn", "char_cnn")]
)
def test_generate_endpoints(client, store, endpoint, name):
    text = client.predict(PROMPT, 50, 0.8, 5, api_name=endpoint)
    assert text == generate(store, name, PROMPT, 50, 0.8, 5)
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"][endpoint]["parameters"]
    assert [p["parameter_name"] for p in params] == ["prompt", "length", "temperature", "seed"]


@pytest.mark.parametrize(
    "args, message",
    [(("Act 1", 50, 0.8, 0), "'1'"), ((PROMPT, 5000, 0.8, 0), "length"), ((PROMPT, 50, 0.0, 0), "temperature")],
)
def test_generate_endpoints_explain_bad_input(client, args, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/generate_gpt")


@pytest.mark.browser
def test_a_visitor_watches_both_models_write_in_a_browser(browser, app_url, tmp_path):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(app_url)
    page.wait_for_selector("#cnn-sketchpad canvas", timeout=30_000)  # the app has loaded
    tab = page.get_by_role("tab", name="Write", exact=True)
    if not tab.is_visible():  # a narrow window moves some tabs into Gradio's "More tabs" menu
        page.locator('button[aria-label="More tabs"]').click()
        tab = page.locator(".overflow-dropdown button", has_text="Write")
    tab.click()
    page.locator("#write-length input[type=number]").fill("400")
    page.locator("#write-length input[type=number]").press("Enter")
    lengths = "() => ['char_rnn', 'char_gpt'].map(n => document.querySelector(`#write-${n} textarea`).value.length)"
    # Every length the boxes show, recorded in the page itself every 5 ms: a look from the test process
    # takes a round trip, and on a busy machine the first one already saw the whole text.
    page.evaluate(f"() => {{ window.seenLengths = []; setInterval(() => window.seenLengths.push(({lengths})()), 5); }}")
    page.locator("#write-submit").click()
    page.wait_for_function(f"() => ({lengths})().every(n => n === 400)", timeout=30_000)
    seen = page.evaluate("() => window.seenLengths")
    assert any(0 < n < 400 for shown in seen for n in shown), seen[-5:]  # it arrived in pieces, not all at the end
    for plot in ("write-candidates", "write-memory", "write-attention", "write-curves"):
        page.locator(f"#{plot} img").first.wait_for(timeout=30_000)
    assert "First characters after" in page.locator("#write-speed").inner_text()
    page.screenshot(path=str(tmp_path / "write.png"), full_page=True)
    page.context.close()
