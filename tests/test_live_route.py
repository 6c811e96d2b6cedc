"""The drawing pad's live route (archdemo/ui/live.py): one WebSocket per visitor, a POST beside it.

In process (Starlette's test client over the routes alone) for the answers, the errors and the batching;
then on the launched app, from a WebSocket client and from the pad in Chromium.
"""

from __future__ import annotations

import asyncio
import json
import threading

import numpy as np
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.testclient import TestClient

from archdemo.inputs.images import prepare_digit
from archdemo.paths import SAMPLE_DIGITS
from archdemo.serving.answers import Answers
from archdemo.tasks.digits import read_digit
from archdemo.ui.live import PATH, live_routes


def digit_bytes(d: int) -> tuple[np.ndarray, bytes]:
    """A sample digit as the models read it, and as the pad sends it (784 bytes, 0 = paper, 255 = ink)."""
    pixels = (prepare_digit(Image.open(SAMPLE_DIGITS / f"{d}.png")) * 255).round().astype(np.uint8)
    return pixels.astype(np.float32) / 255.0, pixels.tobytes()


def same_answer(got: dict, want: dict) -> None:
    assert got["label"] == want["label"]
    assert got["probabilities"].keys() == want["probabilities"].keys()
    for k, p in want["probabilities"].items():
        assert got["probabilities"][k] == pytest.approx(p, abs=1e-5)  # a batch of many vs a batch of one


@pytest.fixture(scope="module")
def batched(store):
    return Answers(store, micro_batching=True)


@pytest.fixture(scope="module")
def client(batched):
    with TestClient(Starlette(routes=live_routes(batched))) as c:
        yield c


def test_the_socket_answers_what_the_cnn_answers_for_the_same_28x28(client, store):
    with client.websocket_connect(PATH) as ws:
        for d in (0, 3, 7):
            digit, raw = digit_bytes(d)
            ws.send_bytes(raw)
            got = json.loads(ws.receive_text())
            want = read_digit(store, digit, None).answer
            same_answer(got, want)
            assert got["label"] == str(d)


def test_the_post_answers_the_same(client, store):
    digit, raw = digit_bytes(5)
    r = client.post(PATH, content=raw)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    same_answer(r.json(), read_digit(store, digit, None).answer)


def test_an_empty_pad_gets_no_answer_and_bad_input_a_sentence(client):
    with client.websocket_connect(PATH) as ws:
        ws.send_bytes(bytes(784))
        assert json.loads(ws.receive_text()) == {}
        for bad in (b"", b"\xff" * 783, b"\xff" * 785):
            ws.send_bytes(bad)
            error = json.loads(ws.receive_text())["error"]
            assert "28x28" in error and "draw again" in error
        ws.send_text("a drawing, honestly")
        assert "not a drawing" in json.loads(ws.receive_text())["error"]
        _, raw = digit_bytes(1)
        ws.send_bytes(raw)  # the socket still answers after bad messages
        assert json.loads(ws.receive_text())["label"] == "1"
    too_long = client.post(PATH, content=b"\x80" * 100_000)
    assert too_long.status_code == 200 and "28x28" in too_long.json()["error"]


def test_concurrent_visitors_share_forward_passes(batched):
    """The first batch is held until 15 more updates wait; they are answered together, each correctly."""
    import httpx

    batcher = batched.batchers["cnn"]
    original, release, held = batcher._fn, threading.Event(), []

    def slow_first(items):
        if not held:
            held.append(len(items))
            release.wait(10)
        return original(items)

    async def room() -> list[dict]:
        transport = httpx.ASGITransport(app=Starlette(routes=live_routes(batched)))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            first = asyncio.ensure_future(c.post(PATH, content=digit_bytes(0)[1]))
            while not held:
                await asyncio.sleep(0.01)
            rest = [asyncio.ensure_future(c.post(PATH, content=digit_bytes(k % 10)[1])) for k in range(1, 16)]
            while batcher._queue.qsize() < 15:
                await asyncio.sleep(0.01)
            release.set()
            return [r.json() for r in await asyncio.gather(first, *rest)]

    batcher._fn = slow_first
    before = batcher.batches
    try:
        got = asyncio.run(room())
    finally:
        batcher._fn = original
        release.set()
    assert [a["label"] for a in got] == [str(k % 10) for k in range(16)]
    assert batcher.batches - before == 2 and batcher.batch_sizes[-1] == 15  # 1 held, then 15 in one forward


@pytest.mark.browser
def test_the_launched_app_serves_the_socket(app_url, store):
    import websockets.sync.client

    digit, raw = digit_bytes(7)
    with websockets.sync.client.connect(app_url.replace("http", "ws", 1) + PATH.lstrip("/")) as ws:
        ws.send(raw)
        same_answer(json.loads(ws.recv(timeout=30)), read_digit(store, digit, None).answer)


@pytest.mark.browser
def test_the_pad_in_a_browser_reads_live_over_its_socket(browser, app_url):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        assert read_a_seven(ctx.new_page(), app_url) == "socket"
    finally:
        ctx.close()


@pytest.mark.browser
@pytest.mark.parametrize("blocked, expected", [("socket", "post"), ("socket and post", "server")])
def test_the_pad_falls_back_where_its_route_is_blocked(browser, app_url, blocked, expected):
    """No WebSocket (a proxy that refuses them): the POST; no route of ours either: Gradio's server function."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.add_init_script("window.WebSocket = undefined;")
    if "post" in blocked:
        ctx.route("**/archdemo/live", lambda route: route.fulfill(status=404, body="Not Found"))
    try:
        assert read_a_seven(ctx.new_page(), app_url) == expected
    finally:
        ctx.close()


def read_a_seven(page, app_url: str) -> str:
    """Draw a 7 on the CNN pad, check the readout says 7 -> the way the pad's live updates went."""
    from tests.test_browser import SEVEN, draw, wait_for_final_reading

    page.goto(app_url)
    page.wait_for_selector("#cnn-sketchpad canvas", timeout=30_000)
    draw(page, "#cnn-sketchpad", SEVEN)
    wait_for_final_reading(page, "#cnn-sketchpad")
    assert page.locator("#cnn-prediction .pad-top").inner_text().strip() == "7"
    return page.evaluate(
        "() => document.querySelector('#cnn-sketchpad[data-live-transport], #cnn-sketchpad [data-live-transport]')"
        "?.dataset.liveTransport"
    )
