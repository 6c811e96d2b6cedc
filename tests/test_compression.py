"""The page goes out compressed to a browser that accepts it, the same page once decoded; nothing else changes."""

from __future__ import annotations

import asyncio
import gzip

import brotli
import gradio as gr
import httpx
import pytest
from conftest import free_port
from gradio_client import Client

from archdemo.ui.compression import MINIMUM, Compressed, CompressedPages, chosen_encoding, compressed_pages


@pytest.mark.parametrize(
    "accept, brotli_available, expected",
    [
        (b"", True, None),
        (b"identity", True, None),
        (b"gzip, deflate", True, "gzip"),  # Chrome, to a plain-HTTP address on the room's network
        (b"gzip, deflate, br, zstd", True, "br"),  # Chrome over HTTPS or to localhost
        (b"gzip, deflate, br", False, "gzip"),
        (b"br;q=0, gzip;q=0.5", True, "gzip"),
        (b"GZIP;Q=0.5", True, "gzip"),
        (b"gzip;q=0, deflate", True, None),
        (b"gzip;q=nonsense", True, None),
    ],
)
def test_the_encoding_is_one_the_client_accepts(accept, brotli_available, expected):
    assert chosen_encoding(accept, brotli_available) == expected


@pytest.fixture(scope="module")
def served():
    cache = Compressed()
    with gr.Blocks() as demo:
        boxes = [gr.Textbox(label=f"box {i}", info="a long enough page " * 4) for i in range(40)]
        gr.Button().click(lambda s: s.upper(), boxes[0], boxes[1], api_name="shout")
    port = free_port()
    demo.launch(server_port=port, prevent_thread_lock=True, app_kwargs={"middleware": compressed_pages(cache)})
    try:
        yield f"http://127.0.0.1:{port}/", cache
    finally:
        demo.close()


def get(url: str, accept: str) -> httpx.Response:
    # httpx would decode a compressed answer itself: read the raw bytes and headers instead.
    with httpx.Client(timeout=30, headers={"Accept-Encoding": accept}) as client, client.stream("GET", url) as r:
        r.raw_body = b"".join(r.iter_raw())
        return r


def test_the_page_is_compressed_once_and_decodes_to_the_same_page(served):
    url, cache = served
    plain = get(url, "identity")
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert len(plain.raw_body) >= MINIMUM  # big enough to be compressed
    made = cache.made
    zipped, again = get(url, "gzip, deflate"), get(url, "gzip, deflate")
    assert zipped.headers["content-encoding"] == "gzip" and "accept-encoding" in zipped.headers["vary"].lower()
    assert int(zipped.headers["content-length"]) == len(zipped.raw_body) < len(plain.raw_body) / 3
    assert gzip.decompress(zipped.raw_body) == plain.raw_body
    assert again.raw_body == zipped.raw_body and cache.made == made + 1  # the second visitor's came from the cache
    br = get(url, "gzip, deflate, br")
    assert br.headers["content-encoding"] == "br" and brotli.decompress(br.raw_body) == plain.raw_body


def test_small_answers_streams_and_the_api_pass_through(served):
    url, _ = served
    small = get(url + "gradio_api/queue/status", "gzip, br")
    assert small.status_code == 200 and "content-encoding" not in small.headers  # under MINIMUM
    head = httpx.head(url, headers={"Accept-Encoding": "gzip"}, timeout=30)
    assert "content-encoding" not in head.headers
    client = Client(url, verbose=False)  # httpx: asks for br and gzip; the queue's event stream untouched
    assert client.predict("quiet", api_name="/shout") == "QUIET"


def test_a_room_arriving_at_once_waits_for_one_compression():
    cache, body = Compressed(), b'{"config": "%s"}' % (b"x" * 100_000)

    async def room():
        return await asyncio.gather(*(cache.get(body, "gzip") for _ in range(20)))

    answers = asyncio.run(room())
    assert cache.made == 1 and len(set(answers)) == 1 and gzip.decompress(answers[0]) == body


def test_an_answer_it_does_not_compress_goes_out_as_it_came():
    # A start that looks worth compressing, then a message that is not a body (an ASGI extension's file
    # send): the held start must go out first, unchanged, and the message after it.
    start = {"type": "http.response.start", "status": 200,
             "headers": [(b"content-type", b"application/json"), (b"content-length", b"50000")]}  # fmt: skip
    other = {"type": "http.response.pathsend", "path": "/tmp/big.json"}

    async def app(scope, receive, send):
        await send(start)
        await send(other)

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "headers": [(b"accept-encoding", b"gzip")]}
    asyncio.run(CompressedPages(app)(scope, None, send))
    assert sent == [start, other]
