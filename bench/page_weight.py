"""What opening the app costs a room's phones: the bytes a browser fetches, and 100 visitors opening it at once.

    python -m bench.page_weight [--visitors 100] [--accept "gzip, deflate"]

1. **One browser** (headless Chromium, as in ``bench.ui_latency``) opens the app and waits 6 s: every
   response's bytes on the wire and decoded, per content type, and the page's own.
2. **A room arriving:** ``--visitors`` clients ask for the page at once, offering ``--accept`` (Chrome
   offers only gzip to a plain-HTTP address on the room's network): the time until the last has all of
   it, and the bytes sent in all. The bodies are read as sent, not decoded.

Writes bench/results/page-weight.json. Nothing fails on timing.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM_ARGS  # noqa: E402

from bench.common import RESULTS, machine_info, percentile, ready_app, table, write_json  # noqa: E402


def one_browser(url: str) -> dict:
    from playwright.sync_api import sync_playwright

    responses = []

    def seen(response) -> None:
        try:
            body = response.body()  # decoded
        except Exception:  # noqa: BLE001 - a stream still open (the queue's events): not counted
            return
        h = response.headers
        kind = h.get("content-type", "").split(";")[0] or "?"
        wire = int(h.get("content-length", len(body)))
        responses.append({"url": response.url.removeprefix(url.rstrip("/")), "kind": kind, "wire": wire,
                          "decoded": len(body), "encoding": h.get("content-encoding", "")})  # fmt: skip

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("response", seen)
        page.goto(url, wait_until="load")
        page.wait_for_timeout(6000)
        browser.close()
    return {"responses": responses}


async def room(url: str, visitors: int, accept: str) -> dict:
    import httpx

    async def visitor(client) -> tuple[float, int]:
        started = time.perf_counter()
        async with client.stream("GET", url, headers={"Accept-Encoding": accept}) as r:
            sent = sum([len(chunk) async for chunk in r.aiter_raw()])
        return time.perf_counter() - started, sent

    limits = httpx.Limits(max_connections=visitors)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        await visitor(client)  # one first: a page's first rendering is not the room's
        started = time.perf_counter()
        got = await asyncio.gather(*(visitor(client) for _ in range(visitors)))
        wall = time.perf_counter() - started
    seconds = [1000 * s for s, _ in got]
    return {"visitors": visitors, "accept": accept, "last_s": round(wall, 3), "p50_ms": percentile(seconds, 50),
            "p95_ms": percentile(seconds, 95), "bytes": sum(b for _, b in got)}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.page_weight", description=__doc__.splitlines()[0])
    p.add_argument("--visitors", type=int, default=100, help="visitors opening the page at once (default 100)")
    p.add_argument("--accept", default="gzip, deflate", help='their Accept-Encoding (default "gzip, deflate")')
    args = p.parse_args(argv)
    with ready_app("page-weight-app.log") as app:
        browser = one_browser(app.url)
        arriving = asyncio.run(room(app.url, args.visitors, args.accept))
    wire, decoded, count = Counter(), Counter(), Counter()
    for r in browser["responses"]:
        wire[r["kind"]] += r["wire"]
        decoded[r["kind"]] += r["decoded"]
        count[r["kind"]] += 1
    rows = [[k, count[k], f"{wire[k] / 1e6:.3f}", f"{decoded[k] / 1e6:.3f}"] for k, _ in wire.most_common()]
    rows.append(["all", sum(count.values()), f"{sum(wire.values()) / 1e6:.3f}", f"{sum(decoded.values()) / 1e6:.3f}"])
    print("One browser opening the app:")
    print(table(["content type", "responses", "MB on the wire", "MB decoded"], rows))
    page = next((r for r in browser["responses"] if r["url"] in ("", "/")), None)
    if page:
        print(f"the page itself: {page['wire'] / 1e3:.0f} KB on the wire ({page['encoding'] or 'not compressed'}), "
              f"{page['decoded'] / 1e3:.0f} KB decoded")  # fmt: skip
    a = arriving
    print(f"\n{a['visitors']} visitors opening the page at once (Accept-Encoding: {a['accept']}):")
    print(table(["last page after s", "p50 ms", "p95 ms", "MB sent"],
                [[a["last_s"], a["p50_ms"], a["p95_ms"], f"{a['bytes'] / 1e6:.1f}"]]))  # fmt: skip
    write_json(RESULTS / "page-weight.json", {"machine": machine_info("cpu"), "args": vars(args),
                                              "browser": browser, "room": arriving})  # fmt: skip


if __name__ == "__main__":
    main()
