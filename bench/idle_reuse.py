"""Clients that come back after a pause: is a request ever cut off on a connection the server is closing?

    python -m bench.idle_reuse [--clients 100] [--rounds 10] [--gaps 3,5,7]

Each client is an httpx client (what ``gradio_client`` uses), keeping its idle connection for httpx's
default 5 s. It sends the drawing pad's live update as a POST (``/archdemo/live``, a blank 28x28 picture),
waits about ``gap`` seconds (+- 50 ms), and sends the next on the same pooled connection. A server that
closes an idle connection after the same 5 s (uvicorn's default) closes some just as the client reuses
them: those requests fail with ``ReadError`` or ``RemoteProtocolError``, counted here per gap. app.py keeps
idle connections 75 s (``archdemo/ui/serving.py: keep_connections_open``). Nothing fails on timing.
Writes bench/results/idle-reuse.json.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from collections import Counter

from bench.common import RESULTS, machine_info, ready_app, table, write_json

PICTURE = bytes(784)  # what the pad posts: 28 x 28 grey levels


async def client(url: str, gap: float, rounds: int, seed: int, errors: Counter) -> int:
    import httpx

    rng, ok = random.Random(seed), 0
    async with httpx.AsyncClient(timeout=60) as c:
        for _ in range(rounds):
            try:
                r = await c.post(url + "archdemo/live", content=PICTURE)
                r.raise_for_status()
                ok += 1
            except Exception as e:  # noqa: BLE001 - counted by kind; the client goes on
                errors[type(e).__name__] += 1
            await asyncio.sleep(gap + rng.uniform(-0.05, 0.05))
    return ok


async def one_gap(url: str, gap: float, clients: int, rounds: int) -> dict:
    errors: Counter = Counter()
    ok = await asyncio.gather(*(client(url, gap, rounds, i, errors) for i in range(clients)))
    return {"gap_s": gap, "sent": clients * rounds, "ok": sum(ok), "errors": dict(errors)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.idle_reuse", description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=100, help="clients at once (default 100)")
    p.add_argument("--rounds", type=int, default=10, help="requests per client and gap (default 10)")
    p.add_argument("--gaps", default="3,5,7", help="seconds between a client's requests (default 3,5,7)")
    args = p.parse_args(argv)
    with ready_app("idle-reuse-app.log") as app:
        results = [asyncio.run(one_gap(app.url, float(g), args.clients, args.rounds)) for g in args.gaps.split(",")]
    rows = [[r["gap_s"], r["sent"], r["ok"], sum(r["errors"].values()), r["errors"] or ""] for r in results]
    print(table(["gap s", "sent", "ok", "cut off", "kinds"], rows))
    write_json(RESULTS / "idle-reuse.json", {"machine": machine_info("cpu"), "args": vars(args), "results": results})


if __name__ == "__main__":
    main()
