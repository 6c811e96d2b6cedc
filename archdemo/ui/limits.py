"""What one visitor may send: numbers as sent, request bodies capped, uploads bounded per client and on disk.

- ``sent_number``: the API's number inputs hand the value on exactly as sent, so the app's own check
  (``archdemo.inputs.answers``) says what is wrong with NaN, ``"10"``, ``true`` or 1e20; gr.Number would
  round 10.5 to 10, turn ``true`` into 1 and fail on NaN before any check of ours ran.
- ``RequestLimits``: ASGI middleware on Gradio's app. Every request body is capped (``MAX_BODY``; uploads
  ``MAX_UPLOAD_BODY``), counted as it arrives, so a body without a Content-Length is cut off too. Each
  client (its address; behind nginx, the address nginx saw) has an upload budget that refills over time,
  and the upload folder is swept back under ``MAX_UPLOAD_FOLDER`` as uploads arrive, oldest files first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path

import gradio as gr
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse

log = logging.getLogger("archdemo.ui")

MAX_BODY = 1 * 2**20  # a JSON call: the longest text (5,000 characters) or a drawing is a few KB
MAX_UPLOAD_BODY = 12 * 2**20  # a file of up to app.py's max_file_size (10 MB) and its form; nginx has the same
UPLOAD_BUDGET = 200 * 2**20  # bytes one client may upload at once ...
UPLOAD_REFILL = 200 * 2**20 / 600  # ... refilled at this many bytes a second (200 MB per 10 minutes)
MAX_UPLOAD_FOLDER = 2 * 2**30  # the upload folder is swept back under this size
KEEP_YOUNG_S = 120.0  # a file this young may still be in use by its request: never swept
TOO_MANY = "Too many uploads from your address: wait a few minutes."
CLIENTS_KEPT = 10_000  # clients whose budget is remembered (the least recently seen are forgotten)


def sent_number(**kwargs) -> gr.Number:
    """A gr.Number (the same component in the browser and in the API's schema) that does not coerce.

    Its ``preprocess`` is replaced on this one instance: a subclass would make Gradio write a .pyi file
    next to this module at import time."""
    number = gr.Number(**kwargs)
    number.preprocess = _as_sent  # type: ignore[method-assign]
    return number


def _as_sent(payload: object) -> object:
    return payload


class UploadBudget:
    """Per client: a bucket of ``capacity`` bytes, refilled at ``refill`` bytes a second."""

    def __init__(self, capacity: float = UPLOAD_BUDGET, refill: float = UPLOAD_REFILL, clients: int = CLIENTS_KEPT):
        self.capacity, self.refill, self.clients = capacity, refill, clients
        self._left: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (bytes left, when)
        self._lock = threading.Lock()

    def spend(self, client: str, amount: int) -> bool:
        """Take ``amount`` bytes from the client's bucket; False (and nothing taken) when it has not enough."""
        now = time.monotonic()
        with self._lock:
            left, then = self._left.pop(client, (self.capacity, now))
            left = min(self.capacity, left + (now - then) * self.refill)
            ok = amount <= left
            self._left[client] = (left - amount if ok else left, now)
            while len(self._left) > self.clients:
                self._left.popitem(last=False)
            return ok


def sweep(folder: Path, max_bytes: int, keep_young_s: float = KEEP_YOUNG_S) -> int:
    """Delete the oldest files under ``folder`` until it holds at most 80% of ``max_bytes``; -> bytes freed."""
    files = []
    for path in folder.rglob("*"):
        try:
            st = path.stat()
        except OSError:
            continue
        if path.is_file():
            files.append((st.st_mtime, st.st_size, path))
    total = sum(size for _, size, _ in files)
    if total <= max_bytes:
        return 0
    freed, now = 0, time.time()
    for mtime, size, path in sorted(files):
        if total - freed <= 0.8 * max_bytes or now - mtime < keep_young_s:
            break
        try:
            path.unlink()
            freed += size
        except OSError:
            pass
    log.info("upload folder %s: %d MB, freed %d MB", folder, total >> 20, freed >> 20)
    return freed


def client_of(scope: dict) -> str:
    """The client's address; behind nginx on loopback, the address nginx appended to X-Forwarded-For."""
    host = (scope.get("client") or ("?", 0))[0]
    if host in ("127.0.0.1", "::1"):
        forwarded = dict(scope.get("headers") or []).get(b"x-forwarded-for")
        if forwarded:
            return forwarded.decode("latin-1").rsplit(",", 1)[-1].strip()
    return host


class RequestLimits:
    """ASGI middleware: see the module docstring."""

    def __init__(
        self,
        app,
        upload_folder: Path | None = None,
        budget: UploadBudget | None = None,
        max_body: int = MAX_BODY,
        max_upload_body: int = MAX_UPLOAD_BODY,
        max_folder: int = MAX_UPLOAD_FOLDER,
    ) -> None:
        self.app, self.folder, self.budget = app, upload_folder, budget or UploadBudget()
        self.max_body, self.max_upload_body, self.max_folder = max_body, max_upload_body, max_folder
        self._since_sweep, self._sweeping = 0, threading.Lock()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        upload = scope["path"].rstrip("/").endswith("/upload")
        limit = self.max_upload_body if upload else self.max_body
        declared = dict(scope.get("headers") or []).get(b"content-length")
        try:
            declared_bytes = int(declared) if declared is not None else 0
        except ValueError:
            declared_bytes = limit + 1
        if declared_bytes > limit:
            return await self._refuse(scope, receive, send, 413, _too_large(limit))
        client = client_of(scope)
        if upload and not self.budget.spend(client, declared_bytes):
            return await self._refuse(
                scope, receive, send, 429, "Too many uploads from your address; wait a few minutes."
            )
        counted, started = 0, False

        async def counting_receive():
            nonlocal counted
            message = await receive()
            if message["type"] == "http.request":
                counted += len(message.get("body", b""))
                if counted > limit:
                    raise HTTPException(413, _too_large(limit))
            return message

        async def watching_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except HTTPException as e:
            if started:
                return
            await PlainTextResponse(str(e.detail), status_code=e.status_code)(scope, receive, send)
        if upload and self.folder is not None:
            self._since_sweep += max(counted, declared_bytes)
            if self._since_sweep > self.max_folder // 10 and self._sweeping.acquire(blocking=False):
                self._since_sweep = 0
                threading.Thread(target=self._sweep, daemon=True).start()

    def _sweep(self) -> None:
        try:
            sweep(self.folder, self.max_folder)
        finally:
            self._sweeping.release()

    async def _refuse(self, scope, receive, send, status: int, message: str) -> None:
        await PlainTextResponse(message, status_code=status)(scope, receive, send)


def _too_large(limit: int) -> str:
    return f"The request is too large: at most {limit / 2**20:.0f} MB."


def request_limits() -> list:
    """For ``launch(app_kwargs={"middleware": ...})``: the limits on Gradio's own upload folder."""
    from gradio.utils import get_upload_folder
    from starlette.middleware import Middleware

    return [Middleware(RequestLimits, upload_folder=Path(get_upload_folder()))]
