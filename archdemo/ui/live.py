"""The drawing pad's live readout, served lean: one WebSocket per visitor, a plain POST beside it.

While a visitor draws, the pad (``pad.js``) sends the 28x28 picture it reduced in the browser, as its
784 raw bytes, several times a second. Through Gradio's ``component_server`` route each update cost
its own HTTP request, Gradio's session lookup, its dependency checks and a JSON body with base64 in
it: profiled with py-spy under 100 visitors, that per-request work, not the model, was what the event
loop spent its time on. Here each visitor keeps one WebSocket open (``/archdemo/live``): a message
in is 784 bytes, a message out is the answer as JSON, and every update in flight from every visitor
joins the same micro-batch of the CNN (``Answers.read_drawn_digit``). A visitor's messages are
answered in order, one at a time, so a fast sender waits for its own answers and nobody else's.

The same route answers a POST of the 784 bytes, for networks that refuse WebSockets. Both carry only
archdemo's own CNN; a visitor's own model goes through the pad's Gradio server function, which knows
the visitor's session. Routes are handed to the app before Gradio adds its own
(``launch(app_kwargs={"routes": live_routes(answers)})``), behind the same request limits.
"""

from __future__ import annotations

import logging

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from archdemo.errors import InputError
from archdemo.inputs.images import PAD_PIXELS, from_pad_bytes
from archdemo.serving.answers import Answers
from archdemo.ui.errors import as_user_error

log = logging.getLogger("archdemo.ui")

PATH = "/archdemo/live"
NOT_BYTES = "The drawing pad sent text, not a drawing; please reload the page."


async def answer(answers: Answers, raw: bytes | None) -> bytes:
    """784 bytes (0 = paper, 255 = ink, row by row) -> the CNN's answer as JSON; ``{}`` for an empty pad."""
    try:
        if raw is None:
            raise InputError(NOT_BYTES)
        digit = from_pad_bytes(raw)
        if digit is None:
            return b"{}"
        return orjson.dumps(await answers.read_drawn_digit(digit))
    except Exception as e:  # noqa: BLE001 - the readout shows the message the rest of the app would
        return orjson.dumps({"error": as_user_error(e, "live").message})


def live_routes(answers: Answers) -> list:
    """The WebSocket and POST routes at ``PATH`` (Starlette routes, for FastAPI's ``routes=``)."""

    async def socket(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                await ws.send_text((await answer(answers, message.get("bytes"))).decode())
        except WebSocketDisconnect:
            return
        except RuntimeError as e:  # the visitor left while their answer was on its way
            log.debug("live socket closed: %s", e)

    async def post(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():  # stop reading at the first byte past a drawing
            body += chunk
            if len(body) > PAD_PIXELS:
                break
        return Response(await answer(answers, body), media_type="application/json")

    return [WebSocketRoute(PATH, socket), Route(PATH, post, methods=["POST"])]
