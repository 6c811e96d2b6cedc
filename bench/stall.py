"""Does one visitor's big upload stall everyone else? Live readouts timed while phone photos arrive.

One probe visitor keeps the drawing pad's live socket busy (archdemo/ui/live.py: a 28x28 digit every
``--every`` ms, the next sent when the last is answered) and records each answer's round trip. First
for ``--quiet`` seconds alone, then while ``--photos`` API clients each send ``--rounds`` 12-megapixel
phone photos (4000x3000 JPEG of a drawn digit on paper, made here) to ``/classify_digit`` one after
another. Reported: the probe's p50 / p95 / worst round trip, quiet and during the photos, and what the
photos added (during minus quiet); and each photo's own time and answer. Image decoding runs on worker
threads (``archdemo/ui/api.py``); anything of it left on the event loop shows up as the probe's delay.

    python -m bench.stall [--photos 1] [--rounds 5] [--quiet 5] [--every 20]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from bench.common import DIGITS, RESULTS, api_client, machine_info, percentile, start_app, table, wait_ready, write_json


def phone_photo(path: Path, digit: int = 7, size: tuple[int, int] = (4000, 3000)) -> Path:
    """A 12 MP JPEG like a phone's: a dark digit on slightly uneven, noisy paper (about 3-5 MB)."""
    rng = np.random.default_rng(digit)
    w, h = size
    light = np.linspace(215, 240, w, dtype=np.float32)[None, :] + np.linspace(0, 10, h, dtype=np.float32)[:, None]
    paper = light + rng.normal(0, 6, (h, w)).astype(np.float32)
    img = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).convert("RGB")
    ink = Image.open(DIGITS / f"{digit}.png").convert("L").resize((1600, 1600), Image.Resampling.BILINEAR)
    mask = ink.point(lambda v: 255 if v > 90 else 0).filter(ImageFilter.GaussianBlur(3))
    img.paste((40, 40, 60), (w // 2 - 800, h // 2 - 800), mask)
    ImageDraw.Draw(img).rectangle((100, 100, 600, 300), outline=(120, 120, 120), width=6)  # a bit of clutter
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=92)
    path.write_bytes(buf.getvalue())
    return path


def probe_bytes() -> bytes:
    from archdemo.inputs.images import prepare_digit

    return (prepare_digit(Image.open(DIGITS / "3.png")) * 255).round().astype(np.uint8).tobytes()


async def probe(url: str, stop: threading.Event, every_s: float, out: list[tuple[float, float]]) -> None:
    """(send time, round trip) of each live update until ``stop`` is set."""
    import websockets

    raw = probe_bytes()
    async with websockets.connect(url.replace("http", "ws", 1) + "archdemo/live") as ws:
        while not stop.is_set():
            sent = time.perf_counter()
            await ws.send(raw)
            await ws.recv()
            out.append((sent, time.perf_counter() - sent))
            await asyncio.sleep(max(0.0, every_s - (time.perf_counter() - sent)))


def send_photos(url: str, photo: Path, rounds: int, results: list[tuple[float, str]]) -> None:
    from gradio_client import handle_file

    client = api_client(url)
    for _ in range(rounds):
        t0 = time.perf_counter()
        answer = client.predict(handle_file(str(photo)), api_name="/classify_digit")
        results.append((time.perf_counter() - t0, answer.get("label") if isinstance(answer, dict) else str(answer)))
    client.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--photos", type=int, default=1, help="API clients sending photos at once")
    p.add_argument("--rounds", type=int, default=5, help="photos each client sends, one after another")
    p.add_argument("--quiet", type=float, default=5.0, help="seconds of probing before the photos")
    p.add_argument("--every", type=float, default=20.0, help="ms between the probe's live updates")
    args = p.parse_args()
    photo = phone_photo(Path(tempfile.gettempdir()) / "archdemo-phone-photo-12mp.jpg")  # 3-5 MB: not kept
    print(f"photo: {photo.stat().st_size / 2**20:.1f} MB, 4000x3000")
    app = start_app("app.py", {}, "stall-app.log")
    try:
        wait_ready(app, timeout=300)
        send_photos(app.url, photo, 1, [])  # warm-up: the first upload and decode are not timed
        samples: list[tuple[float, float]] = []
        stop = threading.Event()
        prober = threading.Thread(target=lambda: asyncio.run(probe(app.url, stop, args.every / 1000, samples)))
        prober.start()
        time.sleep(args.quiet)
        began = time.perf_counter()
        answers: list[tuple[float, str]] = []
        senders = [
            threading.Thread(target=send_photos, args=(app.url, photo, args.rounds, answers))
            for _ in range(args.photos)
        ]
        for t in senders:
            t.start()
        for t in senders:
            t.join()
        ended = time.perf_counter()
        stop.set()
        prober.join()
    finally:
        app.stop()
    quiet = [1000 * rt for sent, rt in samples if sent < began]
    during = [1000 * rt for sent, rt in samples if began <= sent < ended]
    row = lambda name, ms: [name, len(ms), percentile(ms, 50), percentile(ms, 95), max(ms) if ms else None]  # noqa: E731
    rows = [row("quiet", quiet), row(f"{args.photos} x {args.rounds} photos", during)]
    added = {
        "p50_ms": rows[1][2] - rows[0][2],
        "p95_ms": rows[1][3] - rows[0][3],
        "worst_ms": rows[1][4] - rows[0][4],
    }
    print(table(["probe's live updates", "n", "p50 ms", "p95 ms", "worst ms"], rows))
    print("added by the photos: " + ", ".join(f"{k[:-3]} {v:+.1f} ms" for k, v in added.items()))
    print(
        f"photos: {len(answers)}, median {percentile([1000 * s for s, _ in answers], 50):.0f} ms each, "
        f"answers {sorted({a for _, a in answers})}"
    )
    write_json(
        RESULTS / "stall-cpu.json",
        {"machine": machine_info(), "args": vars(args), "probe": rows, "added": added, "photos_s": answers},
    )


if __name__ == "__main__":
    main()
