"""The page and its config compressed for the room's phones, each distinct body compressed once.

Gradio serves its scripts and styles compressed (brotli or gzip, from files made when it was built), but
not the page itself: the HTML that carries this app's whole config is 662 KB, a third of the bytes a
visitor's browser fetches to open the app (1.8 MB in all, headless Chromium), and the same again for
``/config``. A room of 100 phones on one Wi-Fi fetched 66 MB of it. ``CompressedPages`` compresses an
answer that is HTML or JSON and at least ``MINIMUM`` bytes, when the client accepts it: brotli where the
browser offers it (over HTTPS, and to localhost), else gzip (Chrome offers only gzip to a plain-HTTP
address on the room's network). The page is 80 KB in brotli, 118 KB in gzip.

Compressing the page takes 9 ms of CPU; every visitor gets the same page, so each distinct body is
compressed once, on a worker thread, and kept (``CACHED`` of them, the least recently used dropped): a
visitor then costs a hash of the body (under 1 ms), not a compression. Streams (the queue's server-sent
events), answers already encoded, partial answers and anything but GET pass through untouched.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict

import anyio

MINIMUM = 16 * 2**10  # smaller answers gain too little to be worth it
MAXIMUM = 8 * 2**20  # larger ones (a downloaded file) pass through as they are, never held in memory
CACHED = 32  # distinct compressed bodies kept
KINDS = (b"text/html", b"application/json")
BROTLI_QUALITY, GZIP_LEVEL = 5, 6  # at 9 ms for the page, near each format's smallest


try:
    import brotli  # Gradio's own dependency
except ImportError:  # pragma: no cover - then gzip only
    brotli = None


def chosen_encoding(accept: bytes, brotli_available: bool = True) -> str | None:
    """``br``, ``gzip`` or None from an Accept-Encoding header (a coding given ``q=0`` is refused)."""
    offered = set()
    for part in accept.decode("latin-1").lower().split(","):
        name, *params = (p.strip() for p in part.split(";"))
        if name and _weight(params) > 0:
            offered.add(name)
    if "br" in offered and brotli_available:
        return "br"
    if "gzip" in offered:
        return "gzip"
    return None


def _weight(params: list[str]) -> float:
    for param in params:
        key, _, value = param.partition("=")
        if key.strip() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


class Compressed:
    """Compressed bodies by (encoding, body digest), the least recently used dropped past ``size``.

    Used on the event loop only (the compressing itself runs on a worker thread). A room arriving at
    once asks for the same body many times before its first compression is done: they wait for that
    one instead of each starting its own."""

    def __init__(self, size: int = CACHED) -> None:
        self.size, self.made = size, 0  # made: how many compressions were run (the tests read it)
        self._kept: OrderedDict[tuple[str, bytes], bytes] = OrderedDict()
        self._making: dict[tuple[str, bytes], anyio.Event] = {}

    async def get(self, body: bytes, encoding: str) -> bytes:
        key = (encoding, hashlib.blake2b(body, digest_size=16).digest())
        while key not in self._kept and key in self._making:
            await self._making[key].wait()
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        done = self._making[key] = anyio.Event()
        try:
            packed = await anyio.to_thread.run_sync(compress, body, encoding)
            self.made += 1
            self._kept[key] = packed
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        finally:
            del self._making[key]
            done.set()
        return packed


def compress(body: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return brotli.compress(body, quality=BROTLI_QUALITY)
    return gzip.compress(body, GZIP_LEVEL, mtime=0)  # mtime=0: the same body, the same bytes


class CompressedPages:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app, cache: Compressed | None = None) -> None:
        self.app, self.cache = app, cache or Compressed()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        encoding = chosen_encoding(headers.get(b"accept-encoding", b""), brotli is not None)
        if encoding is None or b"range" in headers:
            return await self.app(scope, receive, send)
        start: dict | None = None  # the held response start, while the body may still be compressed
        parts: list[bytes] = []
        passing = False

        async def held_send(message) -> None:
            nonlocal start, passing
            if passing:
                return await send(message)
            if message["type"] == "http.response.start":
                if _worth_compressing(message):
                    start = message
                    return None
                passing = True
                return await send(message)
            if message["type"] != "http.response.body":  # not a body this can compress: as it comes
                if start is not None:
                    await send(start)
                    start = None
                passing = True
                return await send(message)
            parts.append(message.get("body", b""))
            if message.get("more_body", False):
                return None
            body = b"".join(parts)
            if len(body) < MINIMUM:
                return await _send_whole(send, start, body, None)
            await _send_whole(send, start, await self.cache.get(body, encoding), encoding)
            return None

        await self.app(scope, receive, held_send)


def _worth_compressing(start: dict) -> bool:
    """A whole 200 answer of HTML or JSON, not yet encoded, whose declared length is in range."""
    if start.get("status") != 200:
        return False
    h = dict(start.get("headers") or [])
    kind = h.get(b"content-type", b"").split(b";")[0].strip().lower()
    if kind not in KINDS or b"content-encoding" in h:
        return False
    length = h.get(b"content-length")
    return length is not None and length.isdigit() and MINIMUM <= int(length) <= MAXIMUM


async def _send_whole(send, start: dict, body: bytes, encoding: str | None) -> None:
    headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    if not any(k.lower() == b"vary" and b"accept-encoding" in v.lower() for k, v in headers):
        headers.append((b"vary", b"Accept-Encoding"))  # a cache keeps the compressed and plain answers apart
    if encoding is not None:
        headers.append((b"content-encoding", encoding.encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def compressed_pages(cache: Compressed | None = None) -> list:
    """For ``launch(app_kwargs={"middleware": ...})``, beside ``archdemo.ui.limits.request_limits``."""
    from starlette.middleware import Middleware

    return [Middleware(CompressedPages, cache=cache)]
