"""A room drawing at once: N simulated visitors on the CNN tab's live path, as a workshop would use it.

Each visitor behaves like the drawing pad in a browser (archdemo/ui/pad.js): while drawing a digit
(1.5-3 s) it sends the drawing so far whenever its previous answer has arrived and at least 80 ms have
passed (one request in flight per visitor), over its own WebSocket to the app's live route
(archdemo/ui/live.py; ``--transport post``: a POST per update to the same route; ``--transport gradio``:
the pad's Gradio server function, as before the route existed); at pen-up it sends the
whole digit once more and, with ``--insides``, asks for the insides through Gradio's queue as the
pad's change event does; then it pauses (3-6 s: looking, clearing) and draws the next digit. The
drawings are the sample MNIST digits revealed stroke by stroke (row bands), reduced to 28x28 as
the browser reduces them. Recorded per live update: latency (send to answer), errors; per
insides call: latency. Reported beside each other: the demand (the updates the visitors' pads would
send if every answer came at once: one per 80 ms of drawing, plus one at pen-up; and one insides call
per pen-up) and what was served: updates per second, p50/p95 update latency, errors, for each
setup: ``0`` is ``python app.py`` alone, ``N`` >= 1 is ``python -m archdemo.replicas --replicas N``
(N app processes behind nginx).

    python -m bench.room [--visitors 100] [--seconds 60] [--replicas 0,2] [--insides] [--transport socket]

The visitors run on the same machine as the app (one asyncio process): on a 2-core machine they
take CPU from it, so compare setups with each other.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import secrets
import time
from pathlib import Path

import numpy as np
from PIL import Image

from bench.common import DIGITS, RESULTS, machine_info, percentile, start_app, table, wait_ready, write_json

PERIOD = 0.08  # s: the pad's throttle (pad.js PERIOD_MS)
DRAW_SECONDS = (1.5, 3.0)
PAUSE_SECONDS = (3.0, 6.0)
TIMEOUT = 30.0


def drawings() -> list[list[str]]:
    """For each sample digit, the pad's values as the digit appears: 10 growing bands of rows, then whole."""
    from archdemo.inputs.images import prepare_digit, to_pad

    out = []
    for path in sorted(DIGITS.glob("*.png")):
        digit = prepare_digit(np.asarray(Image.open(path)))
        rows = np.nonzero(digit.max(axis=1) > 0)[0]
        frames = []
        for k in range(1, 11):
            part = digit.copy()
            part[rows[0] + (len(rows) * k) // 10 :] = 0
            if part.max() > 0:
                frames.append(to_pad(part))
        out.append(frames)
    return out


def pad_target(url: str) -> tuple[int, int]:
    """(component id of the CNN pad, fn_index of its change event) from the app's /config."""
    import httpx

    config = httpx.get(url + "config", timeout=30).json()
    pad = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "cnn-sketchpad")
    for i, dep in enumerate(config["dependencies"]):
        if any(t[0] == pad and t[1] == "change" for t in dep.get("targets", [])):
            return pad, dep.get("id", i)
    raise RuntimeError("the CNN pad's change event is not in the config")


class Room:
    def __init__(self, url: str, pad: int, change: int, insides: bool, transport: str = "socket") -> None:
        self.url, self.pad, self.change, self.insides = url.rstrip("/"), pad, change, insides
        self.transport = transport
        self.frames = drawings()
        self.latencies: list[float] = []
        self.inside_latencies: list[float] = []
        self.inside_waits: list[float] = []  # pen-up to Gradio's "process_starts": the queue's share
        self.errors: dict[str, int] = {}
        self.updates = 0
        self.wanted = 0  # updates the pads would have sent had every answer come at once
        self.pen_ups = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    async def live(self, client, session: str, pixels: str, socket=None) -> None:
        started = time.perf_counter()
        status = 200
        try:
            if self.transport == "socket":
                await socket.send(base64.b64decode(pixels))
                answer = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
            elif self.transport == "post":
                r = await client.post(f"{self.url}/archdemo/live", content=base64.b64decode(pixels))
                status, answer = r.status_code, r.json() if r.status_code == 200 else None
            else:
                body = {"data": {"pixels": pixels, "model": None}, "component_id": self.pad, "fn_name": "live"}
                r = await client.post(
                    f"{self.url}/gradio_api/component_server/", json={**body, "session_hash": session}
                )
                status, answer = r.status_code, r.json() if r.status_code == 200 else None
        except Exception as e:  # noqa: BLE001 - counted, the visitor goes on
            return self.error(type(e).__name__)
        if not answer or "probabilities" not in answer:
            return self.error(f"HTTP {status}" if status != 200 else "no answer")
        self.latencies.append(time.perf_counter() - started)
        self.updates += 1

    async def pen_up(self, client, session: str, pixels: str) -> None:
        """The pad's change event through Gradio's queue: join, then read the stream to completion."""
        started = time.perf_counter()
        join = {"data": [pixels, None], "fn_index": self.change, "trigger_id": self.pad, "session_hash": session}
        try:
            r = await client.post(f"{self.url}/gradio_api/queue/join", json=join)
            if r.status_code != 200:
                return self.error(f"join HTTP {r.status_code}")
            url = f"{self.url}/gradio_api/queue/data?session_hash={session}"
            async with client.stream("GET", url) as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("data:") and '"process_starts"' in line:
                        self.inside_waits.append(time.perf_counter() - started)
                    if line.startswith("data:") and '"process_completed"' in line:
                        ok = json.loads(line[5:]).get("success")
                        if not ok:
                            self.error("insides failed")
                        else:
                            self.inside_latencies.append(time.perf_counter() - started)
                        return
        except Exception as e:  # noqa: BLE001
            self.error(f"insides {type(e).__name__}")

    async def visitor(self, rng: random.Random, stop: float) -> None:
        import httpx

        # Each visitor its own cookie jar, as each browser has: behind nginx, the affinity cookie keeps a
        # visitor's queue join and its event stream on one replica (one shared jar mixed them up).
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            # The page first, as a browser loads it: behind nginx its answer sets the affinity cookie. Without
            # it, a visitor's first pen-up joined the queue on one replica (keyed by address) and read its
            # stream from the other (keyed by the cookie the join set): 53-59 "cut" streams, every one a
            # visitor's first, and none a browser would meet.
            await client.get(self.url + "/")
            await self._visit(client, rng, stop)

    async def _visit(self, client, rng: random.Random, stop: float) -> None:
        session = secrets.token_hex(6)
        await asyncio.sleep(rng.uniform(0, PAUSE_SECONDS[1]))  # people do not start in step
        socket = None
        if self.transport == "socket":
            import websockets

            socket = await websockets.connect(self.url.replace("http", "ws", 1) + "/archdemo/live", max_queue=4)
        try:
            while time.perf_counter() < stop:
                frames = self.frames[rng.randrange(len(self.frames))]
                began = time.perf_counter()
                length = rng.uniform(*DRAW_SECONDS)
                # A digit begun is drawn to its end: at the deadline nobody starts another, but a room does not
                # lift every pen in the same instant (that burst of pen-ups was the bench's, not a room's).
                while (elapsed := time.perf_counter() - began) < length:
                    sent = time.perf_counter()
                    frame = frames[min(len(frames) - 1, int(elapsed / length * len(frames)))]
                    await self.live(client, session, frame, socket)
                    await asyncio.sleep(max(0.0, PERIOD - (time.perf_counter() - sent)))
                self.wanted += int(length / PERIOD) + 2  # the first and pen-up
                await self.live(client, session, frames[-1], socket)
                self.pen_ups += 1
                if self.insides:
                    await self.pen_up(client, session, frames[-1])
                await asyncio.sleep(rng.uniform(*PAUSE_SECONDS))
        finally:
            if socket is not None:
                await socket.close()

    async def run(self, visitors: int, seconds: float, seed: int) -> float:
        started = time.perf_counter()
        stop = started + seconds
        await asyncio.gather(*(self.visitor(random.Random(seed + i), stop) for i in range(visitors)))
        return time.perf_counter() - started

    def summary(self, wall: float) -> dict:
        ms = [1000 * x for x in self.latencies]
        inside = [1000 * x for x in self.inside_latencies]
        return {
            "transport": self.transport,
            "demand_updates_per_s": round(self.wanted / wall, 1),
            "demand_insides_per_s": round(self.pen_ups / wall, 1) if self.insides else 0.0,
            "updates": self.updates,
            "updates_per_s": round(self.updates / wall, 1),
            "p50_ms": percentile(ms, 50),
            "p95_ms": percentile(ms, 95),
            "max_ms": max(ms) if ms else None,
            "errors": sum(self.errors.values()),
            "error_kinds": self.errors,
            "insides": len(inside),
            "insides_p50_ms": percentile(inside, 50),
            "insides_p95_ms": percentile(inside, 95),
            "insides_wait_p50_ms": percentile([1000 * x for x in self.inside_waits], 50),
            "insides_wait_p95_ms": percentile([1000 * x for x in self.inside_waits], 95),
        }


def measure(replicas: int, args) -> dict:
    env = {"ARCHDEMO_DEVICE": args.device} if args.device else {}
    if replicas == 0:
        app = start_app("app.py", env, "room-app.log")
    else:
        app = start_app(["-m", "archdemo.replicas"], env, f"room-replicas{replicas}.log", ["--replicas", str(replicas)])
    try:
        wait_ready(app, timeout=300)
        pad, change = pad_target(app.url)
        room = Room(app.url, pad, change, args.insides, args.transport)
        wall = asyncio.run(room.run(args.visitors, args.seconds, args.seed))
        return {"replicas": replicas, "visitors": args.visitors, "wall_s": round(wall, 1), **room.summary(wall)}
    finally:
        app.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--visitors", type=int, default=100)
    p.add_argument("--seconds", type=float, default=60.0, help="how long the room draws")
    p.add_argument("--replicas", default="0,2", help="setups: 0 = app.py alone, N = N replicas behind nginx")
    p.add_argument("--insides", action="store_true", help="also ask for the insides at every pen-up, as the tab does")
    p.add_argument("--device", help="cpu or cuda (default: the app's own choice)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--transport",
        choices=["socket", "post", "gradio"],
        default="socket",
        help="the live updates' way in: the pad's WebSocket (default), a POST to the same route, or Gradio's route",
    )
    args = p.parse_args()
    rows = [measure(int(n), args) for n in args.replicas.split(",")]
    print(
        table(
            [
                "setup",
                "visitors",
                "asked/s",
                "updates/s",
                "p50 ms",
                "p95 ms",
                "max ms",
                "errors",
                "insides/s",
                "insides p95 ms",
            ],
            [
                [
                    "app.py" if r["replicas"] == 0 else f"{r['replicas']} replicas + nginx",
                    r["visitors"],
                    r["demand_updates_per_s"],
                    r["updates_per_s"],
                    r["p50_ms"],
                    r["p95_ms"],
                    r["max_ms"],
                    r["errors"],
                    f"{r['insides'] / r['wall_s']:.1f} of {r['demand_insides_per_s']}",
                    r["insides_p95_ms"],
                ]
                for r in rows
            ],
        )
    )
    write_json(
        Path(RESULTS) / f"room-{args.device or 'cpu'}.json",
        {"machine": machine_info(args.device), "args": vars(args), "results": rows},
    )


if __name__ == "__main__":
    main()
