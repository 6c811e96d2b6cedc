"""A room writing at once, against the launched app: N Write-tab visitors, and a sentence behind 32 long jobs.

    python -m bench.writing --room [--visitors 30] [--length 600] [--replicas 0,2] [--probe-jobs 32]

Two phases per setup (``0`` is ``python app.py`` alone, ``N`` >= 1 ``python -m archdemo.replicas --replicas N``):
1. **The room:** ``--visitors`` visitors press Write on the Write tab within one second of each other (each
   its own session, through Gradio's queue exactly as the browser joins it: three writers, ``--length``
   characters each) and read their streams to the end. Per visitor: time to the first characters, and
   characters per second per writer box (``length`` / the time from pressing Write to the last piece of
   text; the pictures of the insides come after it). Printed beside it: the demand (characters per second
   asked for, had every box got the goal's 100/s) and what was served (characters received per second,
   all boxes together), and the furthest back in the queue a visitor was told it stood.
2. **The probe:** ``--probe-jobs`` calls of /generate_gpt for 2,000 characters at once; two seconds in,
   five /rnn_sentiment requests one after another, each timed. Goal: every one under 1 s.

The visitors are one asyncio process beside the app: on a 2-core machine they take CPU from it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time
from pathlib import Path

from bench.common import RESULTS, machine_info, median, percentile, start_app, table, wait_ready, write_json

PROMPT = "ROMEO:\nWhat light through yonder window breaks?\n"
SPEED_GOAL, SENTENCE_GOAL_S = 100.0, 1.0
TIMEOUT = 600.0


def dependency_ids(url: str) -> dict[str, int]:
    """api_name -> fn_index, from the app's /config (the Write tab's event is ``write_both``)."""
    import httpx

    config = httpx.get(url + "config", timeout=30).json()
    return {d["api_name"]: d.get("id", i) for i, d in enumerate(config["dependencies"]) if d.get("api_name")}


async def queued(client, url: str, fn: int, data: list, session: str | None = None) -> dict:
    """Join Gradio's queue as a browser does and read the event's stream to its end -> timings and the output.
    ``session``: the visitor's session, for an event that reads what an earlier one left in its state."""
    started = time.perf_counter()
    try:
        return await _queued(client, url, fn, data, started, session or secrets.token_hex(6))
    except Exception as e:  # noqa: BLE001 - counted as this request's failure; the room goes on
        return {"ok": False, "seconds": time.perf_counter() - started, "first_s": None, "rank": 0,
                "error": f"{type(e).__name__}: {e}"}  # fmt: skip


async def _queued(client, url: str, fn: int, data: list, started: float, session: str) -> dict:
    r = await client.post(f"{url}gradio_api/queue/join", json={"data": data, "fn_index": fn, "session_hash": session})
    r.raise_for_status()
    first, pieces = None, []
    rank = 0
    async with client.stream("GET", f"{url}gradio_api/queue/data?session_hash={session}") as stream:
        async for line in stream.aiter_lines():
            if not line.startswith("data:"):
                continue
            msg = json.loads(line[5:])
            kind = msg.get("msg")
            if kind == "estimation":
                rank = max(rank, (msg.get("rank") or 0) + 1)  # 1: first in line
            elif kind == "process_generating":
                pieces.append(time.perf_counter() - started)
                first = first or pieces[0]
            elif kind == "process_completed":
                output = msg.get("output") or {}
                return {
                    "ok": bool(msg.get("success")),
                    "seconds": time.perf_counter() - started,
                    "first_s": first,
                    # The Write tab's last piece of text is its event's last (the pictures follow in another).
                    "text_s": pieces[-1] if pieces else time.perf_counter() - started,
                    "rank": rank,
                    "data": output.get("data"),
                    "error": output.get("error"),
                }
    return {"ok": False, "seconds": time.perf_counter() - started, "first_s": first, "rank": rank, "error": "closed"}


async def visitor_client(url: str):
    """One visitor's own connection and cookies, as a browser's: behind nginx its replica is pinned by a
    cookie that the first answer sets (archdemo/deploy/nginx.py), so it asks for the page first."""
    import httpx

    client = httpx.AsyncClient(timeout=TIMEOUT)
    await client.get(url)
    return client


async def room(url: str, ids: dict[str, int], visitors: int, length: int) -> dict:
    clients = [await visitor_client(url) for _ in range(visitors)]

    async def visitor(i: int) -> dict:
        await asyncio.sleep(i / visitors)  # all within one second
        return await write_then_draw(clients[i], url, ids, [PROMPT, length, 0.8, i])

    started = time.perf_counter()
    results = await asyncio.gather(*(visitor(i) for i in range(visitors)))
    wall = time.perf_counter() - started
    for c in clients:
        await c.aclose()
    ok = [r for r in results if r["ok"]]
    speeds = [length / r["text_s"] for r in ok]
    return {
        "visitors": visitors,
        "length": length,
        "errors": len(results) - len(ok),
        "error_kinds": sorted({str(r.get("error"))[:120] for r in results if not r["ok"]}),
        "wall_s": round(wall, 2),
        "chars_per_s_per_box": {
            "min": min(speeds, default=None),
            "median": median(speeds),
            "p05": percentile(speeds, 5),
        },
        "first_chars_s": {
            "median": median([r["first_s"] for r in ok if r["first_s"]]),
            "max": max((r["first_s"] for r in ok if r["first_s"]), default=None),
        },  # fmt: skip
        "pictures_s": {  # after the text: the pictures of the insides, drawn in the picture helper
            "median": median([r["pictures_s"] for r in ok if r.get("pictures_s") is not None]),
            "max": max((r["pictures_s"] for r in ok if r.get("pictures_s") is not None), default=None),
        },
        "demand_chars_per_s": visitors * 3 * SPEED_GOAL,
        "served_chars_per_s": round(len(ok) * 3 * length / wall, 1),
        "furthest_in_queue": max((r["rank"] for r in results), default=0),
    }


async def probe(url: str, ids: dict[str, int], jobs: int) -> dict:
    clients = [await visitor_client(url) for _ in range(jobs + 1)]
    long_jobs = [
        asyncio.create_task(queued(clients[i], url, ids["generate_gpt"], [PROMPT, 2000, 0.8, i])) for i in range(jobs)
    ]
    await asyncio.sleep(2.0)
    sentences = []
    for k in range(5):
        r = await queued(clients[-1], url, ids["rnn_sentiment"], [f"It's not bad, I'd say! ({k})"])
        sentences.append(r["seconds"] if r["ok"] else None)
    running = sum(not t.done() for t in long_jobs)
    done = await asyncio.gather(*long_jobs)
    for c in clients:
        await c.aclose()
    return {
        "long_jobs": jobs,
        "still_writing_after_the_sentences": running,
        "sentence_s": [round(s, 3) if s is not None else None for s in sentences],
        "long_job_s": {"median": median([r["seconds"] for r in done]), "max": max(r["seconds"] for r in done)},
        "long_job_errors": sum(not r["ok"] for r in done),
        "long_job_error_kinds": sorted({str(r.get("error"))[:120] for r in done if not r["ok"]}),
    }


async def write_then_draw(client, url: str, ids: dict[str, int], data: list) -> dict:
    """Write, then (as the browser does after the writing event) the pictures of the insides, in the same
    session (they are drawn from the writings it holds) -> the writing's timings, and the pictures' seconds."""
    session = secrets.token_hex(6)
    r = await queued(client, url, ids["write_both"], data, session)
    if r["ok"] and "draw_insides" in ids:
        drawn = await queued(client, url, ids["draw_insides"], [None, None], session)
        r["pictures_s"] = drawn["seconds"] if drawn["ok"] else None
        r["ok"], r["error"] = drawn["ok"], r.get("error") or drawn.get("error")
    return r


async def first_text(url: str, ids: dict[str, int]) -> float:
    client = await visitor_client(url)
    try:
        r = await write_then_draw(client, url, ids, [PROMPT, 20, 0.8, 0])
        return round(r["seconds"] + (r.get("pictures_s") or 0), 2)
    finally:
        await client.aclose()


def measure(replicas: int, args) -> dict:
    env = {"ARCHDEMO_DEVICE": args.device} if args.device else {}
    if replicas == 0:
        app = start_app("app.py", env, "writing-app.log")
    else:
        app = start_app(
            ["-m", "archdemo.replicas"], env, f"writing-replicas{replicas}.log", ["--replicas", str(replicas)]
        )
    try:
        wait_ready(app, timeout=300)
        ids = dependency_ids(app.url)
        # One visitor writes first, as a host tries the app before the room comes: the room then meets a
        # running app (its writing processes start once the page is up). How long that first text took
        # is kept: it is what someone pays who writes in the first seconds after a start.
        out = {"replicas": replicas, "first_text_after_start_s": asyncio.run(first_text(app.url, ids))}
        if args.visitors:
            out["room"] = asyncio.run(room(app.url, ids, args.visitors, args.length))
        if args.probe_jobs:
            out["probe"] = asyncio.run(probe(app.url, ids, args.probe_jobs))
        return out
    finally:
        app.stop()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.writing --room", description=__doc__.splitlines()[0])
    p.add_argument("--visitors", type=int, default=30, help="Write-tab visitors at once (0: skip the room)")
    p.add_argument("--length", type=int, default=600, help="characters each writer writes per visitor")
    p.add_argument("--probe-jobs", type=int, default=32, help="long /generate_gpt jobs behind the sentence (0: skip)")
    p.add_argument("--replicas", default="0", help="setups: 0 = app.py alone, N = N replicas behind nginx")
    p.add_argument("--device", help="cpu or cuda (default: the app's own choice)")
    p.add_argument("--out", type=Path, default=RESULTS / "writing-room.json")
    args = p.parse_args(argv)
    results = [measure(int(n), args) for n in args.replicas.split(",")]
    rows = []
    for r in results:
        room_r, probe_r = r.get("room") or {}, r.get("probe") or {}
        speed = room_r.get("chars_per_s_per_box") or {}
        sentences = [s for s in probe_r.get("sentence_s", []) if s is not None]
        rows.append(
            [
                "app.py" if r["replicas"] == 0 else f"{r['replicas']} replicas + nginx",
                room_r.get("visitors"),
                speed.get("min"),
                speed.get("median"),
                "yes" if speed.get("min") and speed["min"] >= SPEED_GOAL else "MISSED",
                room_r.get("demand_chars_per_s"),
                room_r.get("served_chars_per_s"),
                room_r.get("furthest_in_queue"),
                room_r.get("errors"),
                max(sentences) if sentences else None,
                "yes" if sentences and len(sentences) == 5 and max(sentences) < SENTENCE_GOAL_S else "MISSED",
            ]
        )
    headers = ["setup", "visitors", "chars/s min", "median", ">= 100", "demand c/s", "served c/s", "queue", "errors"]
    print(table([*headers, "sentence s (max of 5)", "< 1 s"], rows))
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    write_json(args.out, {"machine": machine_info(args.device), "args": settings, "results": results})


if __name__ == "__main__":
    main()
