"""A mixed classroom: visitors on every tab at once, against the launched app, for ``--seconds``.

    python -m bench.classroom [--visitors 60] [--seconds 60] [--replicas 0,2]

Visitor i takes kind i mod 5, each acting as a person on that tab would:
- **draw** (CNN tab): draws a digit for 1.5-3 s, the pad's live reading every 80 ms while the previous
  answer is back, the insides at pen-up, then looks for 3-6 s (bench/room.py's visitor);
- **type** (RNN and Transformer tabs): a sentence every 1.5-3 s to /rnn_sentiment or
  /pretrained_transformer_sentiment, as the tab reads it while typing;
- **write** (Write tab): presses Write for 300 characters, reads the stream to the end, reads for 5-10 s;
- **compare** (Compare tab): a sentence through every reader every 3-5 s;
- **upload** (the API): a digit photo to /classify_digit every 1-2 s.
Per kind: what was asked for (requests per second, had each been answered at once: the demand) beside
what was served (answers per second), p50 / p95 latency and errors. Setup ``0`` is ``python app.py``
alone, ``N`` >= 1 is ``python -m archdemo.replicas --replicas N``. The visitors are one asyncio process
beside the app: on a 2-core machine they take CPU from it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import time
from pathlib import Path

import websockets

from bench.common import DIGITS, RESULTS, machine_info, percentile, start_app, table, wait_ready, write_json
from bench.room import PAUSE_SECONDS, Room, pad_target
from bench.writing_room import dependency_ids, queued, visitor_client, write_then_draw

KINDS = ("draw", "type", "write", "compare", "upload")
SENTENCES = ["It's not bad, I'd say!", "A slog, and yet the ending moved me.", "Not the worst, but far from good."]


class Classroom:
    def __init__(self, url: str, seconds: float) -> None:
        self.url, self.seconds = url, seconds
        self.ids = dependency_ids(url)
        pad, change = pad_target(url)
        self.room = Room(url, pad, change, insides=True)
        self.asked: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.latencies: dict[str, list[float]] = {k: [] for k in KINDS}
        self.errors: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.error_kinds: set[str] = set()
        self.readers = next(n for n in self.ids if n.startswith("readers"))

    async def ask(self, kind: str, client, fn: str, data: list) -> None:
        self.asked[kind] += 1
        try:
            if callable(data):  # an upload first (the API's image endpoints take a file)
                data = [await data(client)]
            if fn == "write_both":  # the text, then its pictures, as the browser asks for them
                r = await write_then_draw(client, self.url, self.ids, data)
            else:
                r = await queued(client, self.url, self.ids[fn], data)
        except Exception as e:  # noqa: BLE001 - counted; the visitor goes on
            r = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        if r["ok"]:
            self.latencies[kind].append(r.get("text_s") if kind == "write" else r["seconds"])
        else:
            self.errors[kind] += 1
            self.error_kinds.add(f"{kind}: {str(r.get('error'))[:160]}")

    async def upload(self, client) -> dict:
        path = random.choice(sorted(DIGITS.glob("*.png")))
        r = await client.post(f"{self.url}gradio_api/upload", files={"files": (path.name, path.read_bytes())})
        if r.status_code != 200:
            raise RuntimeError(f"upload: HTTP {r.status_code} {r.text[:80]}")
        return {"path": r.json()[0], "meta": {"_type": "gradio.FileData"}}

    async def visitor(self, client, i: int, stop: float) -> None:
        kind, rng = KINDS[i % len(KINDS)], random.Random(i)
        await asyncio.sleep(rng.uniform(0, PAUSE_SECONDS[1]))
        while time.perf_counter() < stop:
            if kind == "draw":
                errors = sum(self.room.errors.values())
                frames = self.room.frames[rng.randrange(len(self.room.frames))]
                began, length = time.perf_counter(), rng.uniform(1.5, 3.0)
                session = secrets.token_hex(6)
                # The pad's own way in: one WebSocket for the visitor's drawing (archdemo/ui/live.py).
                socket = await websockets.connect(self.url.replace("http", "ws", 1) + "archdemo/live", max_queue=4)
                try:
                    while (elapsed := time.perf_counter() - began) < length:
                        sent = time.perf_counter()
                        self.asked["draw"] += 1
                        frame = frames[min(len(frames) - 1, int(elapsed / length * 10))]
                        await self.room.live(client, session, frame, socket)
                        await asyncio.sleep(max(0.0, 0.08 - (time.perf_counter() - sent)))
                finally:
                    await socket.close()
                await self.room.pen_up(client, session, frames[-1])
                self.errors["draw"] += sum(self.room.errors.values()) - errors
                await asyncio.sleep(rng.uniform(*PAUSE_SECONDS))
            elif kind == "type":
                fn = rng.choice(["rnn_sentiment", "pretrained_transformer_sentiment"])
                await self.ask(kind, client, fn, [rng.choice(SENTENCES)])
                await asyncio.sleep(rng.uniform(1.5, 3.0))
            elif kind == "write":
                await self.ask(kind, client, "write_both", ["ROMEO:\n", 300, 0.8, rng.randrange(1000)])
                await asyncio.sleep(rng.uniform(5, 10))
            elif kind == "compare":
                await self.ask(kind, client, self.readers, [rng.choice(SENTENCES)])
                await asyncio.sleep(rng.uniform(3, 5))
            else:
                await self.ask(kind, client, "classify_digit", self.upload)
                await asyncio.sleep(rng.uniform(1, 2))

    async def run(self, visitors: int) -> float:
        clients = [await visitor_client(self.url) for _ in range(visitors)]  # each its own cookies, as a browser
        started = time.perf_counter()
        await asyncio.gather(*(self.visitor(clients[i], i, started + self.seconds) for i in range(visitors)))
        wall = time.perf_counter() - started
        for c in clients:
            await c.aclose()
        return wall

    def summary(self, wall: float) -> dict:
        self.latencies["draw"] = self.room.latencies
        out = {}
        for kind in KINDS:
            ms = [1000 * x for x in self.latencies[kind] if x is not None]
            out[kind] = {
                "asked": self.asked[kind],
                "asked_per_s": round(self.asked[kind] / wall, 2),
                "served_per_s": round(len(ms) / wall, 2),
                "p50_ms": percentile(ms, 50),
                "p95_ms": percentile(ms, 95),
                "errors": self.errors[kind],
            }
        out["draw"]["insides_p95_ms"] = percentile([1000 * x for x in self.room.inside_latencies], 95)
        out["error_kinds"] = sorted(self.error_kinds | {f"draw: {k}" for k in self.room.errors})
        return out


def measure(replicas: int, args) -> dict:
    env = {"ARCHDEMO_DEVICE": args.device} if args.device else {}
    if replicas == 0:
        app = start_app("app.py", env, "classroom-app.log")
    else:
        app = start_app(["-m", "archdemo.replicas"], env, f"classroom-r{replicas}.log", ["--replicas", str(replicas)])
    try:
        wait_ready(app, timeout=300)
        room = Classroom(app.url, args.seconds)
        wall = asyncio.run(room.run(args.visitors))
        return {"replicas": replicas, "visitors": args.visitors, "wall_s": round(wall, 1), "kinds": room.summary(wall)}
    finally:
        app.stop()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.classroom", description=__doc__.splitlines()[0])
    p.add_argument("--visitors", type=int, default=60)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--replicas", default="0", help="setups: 0 = app.py alone, N = N replicas behind nginx")
    p.add_argument("--device", help="cpu or cuda (default: the app's own choice)")
    p.add_argument("--out", type=Path, default=RESULTS / "classroom.json")
    args = p.parse_args(argv)
    results = [measure(int(n), args) for n in args.replicas.split(",")]
    rows = [
        [
            "app.py" if r["replicas"] == 0 else f"{r['replicas']} replicas",
            kind,
            k["asked_per_s"],
            k["served_per_s"],
            k["p50_ms"],
            k["p95_ms"],
            k["errors"],
        ]
        for r in results
        for kind, k in r["kinds"].items()
        if kind in KINDS
    ]
    print(f"{args.visitors} visitors for {args.seconds:.0f} s, kinds in turn: {', '.join(KINDS)}")
    print(table(["setup", "tab", "asked/s", "served/s", "p50 ms", "p95 ms", "errors"], rows))
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    write_json(args.out, {"machine": machine_info(args.device), "args": settings, "results": results})


if __name__ == "__main__":
    main()
