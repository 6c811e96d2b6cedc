"""Memory bounded by design: the worst images an upload may be, sent at the API's concurrency.

The worst accepted files are small on disk and huge once decoded: 8192x4882 (the most pixels accepted)
as a 16-bit RGBA PNG (311 KB), a 16-bit grey PNG, a lossless RGBA WebP (under 2 KB) and a palette GIF.
A fresh process decodes them exactly as the API does (``load_image_file`` then ``prepare_digit``) from
``API_CONCURRENCY`` threads at once (with the heap set up as ``app.py`` sets it), and its peak resident
memory (``ru_maxrss``) over what it held before must stay under 2 GB.
"""

from __future__ import annotations

import gc
import json
import struct
import subprocess
import sys
import weakref
import zlib
from contextlib import contextmanager
from pathlib import Path

from conftest import ROOT
from PIL import Image

from archdemo.inputs import images
from archdemo.runtime.heap import freeze_startup_objects

W, H = 8192, 4882  # 40 megapixels: the most check_image_size accepts
LIMIT_MB = 2048


def png(path: Path, color_type: int, depth: int, channels: int) -> Path:
    """A PNG of W x H: white paper with one dark stroke across it (so the whole path runs, not only the decode)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    paper = b"\x00" + b"\xff" * (W * channels * depth // 8)
    stroke = b"\x00" + (b"\xff" * (W // 3) + b"\x00" * (W // 3) + b"\xff" * (W - 2 * (W // 3))) * (
        channels * depth // 8
    )
    z = zlib.compressobj(9)
    rows = [z.compress(stroke if H // 3 < y < H // 2 else paper) for y in range(H)]
    ihdr = struct.pack(">IIBBBBB", W, H, depth, color_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(rows) + z.flush()) + chunk(b"IEND", b"")
    )
    return path


MEASURE = """
import json, resource, sys, threading
from archdemo.inputs.images import load_image_file, prepare_digit
from archdemo.errors import InputError
from archdemo.paths import SAMPLE_DIGITS
from archdemo.runtime.heap import return_large_buffers
from app import API_CONCURRENCY

return_large_buffers()  # as app.py does at start

def rss_mb():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) / 1024

files = sys.argv[1:]
prepare_digit(load_image_file(str(SAMPLE_DIGITS / "7.png")))  # warm up: first calls import and allocate once
idle, answers = rss_mb(), []

def one(k):
    for f in files[k % len(files):] + files[: k % len(files)]:
        try:
            answers.append((f, float(prepare_digit(load_image_file(f)).max())))
        except InputError as e:
            answers.append((f, str(e)))

threads = [threading.Thread(target=one, args=(k,)) for k in range(API_CONCURRENCY)]
for t in threads:
    t.start()
for t in threads:
    t.join()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"idle_mb": idle, "peak_mb": peak, "answers": answers, "threads": API_CONCURRENCY}))
"""


def test_the_worst_images_at_the_apis_concurrency_stay_under_2_gb(tmp_path):
    files = [
        png(tmp_path / "rgba16.png", 6, 16, 4),
        png(tmp_path / "grey16.png", 0, 16, 1),
    ]
    Image.new("RGBA", (W, H), (255, 255, 255, 255)).save(tmp_path / "rgba.webp", lossless=True)
    Image.new("P", (W, H), 1).save(tmp_path / "palette.gif")
    files += [tmp_path / "rgba.webp", tmp_path / "palette.gif"]
    assert max(f.stat().st_size for f in files) < 10 * 2**20  # every one is within the upload limit
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *map(str, files)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.splitlines()[-1])
    assert len(found["answers"]) == found["threads"] * len(files)
    grey = {a for f, a in found["answers"] if f.endswith("grey16.png")}
    assert all(isinstance(a, float) and a > 0.5 for a in grey), grey  # its stroke was read as ink, every time
    grew = found["peak_mb"] - found["idle_mb"]
    print(f"peak {found['peak_mb']:.0f} MB, idle {found['idle_mb']:.0f} MB: +{grew:.0f} MB")
    assert grew < LIMIT_MB, found


def test_a_decodes_full_size_pixels_are_freed_before_its_budget_is_given_back(monkeypatch, tmp_path):
    # Freed after it, they outlived the budget: another decode could start in the room they still took.
    path = tmp_path / "big.png"
    Image.new("L", (2000, 1500), 255).save(path)
    events = []
    close, hold = Image.Image.close, images._decodes.hold

    def closing(self):
        events.append("closed")
        close(self)

    @contextmanager
    def holding(amount):
        with hold(amount):
            events.append("held")
            yield
            events.append("given back")

    monkeypatch.setattr(Image.Image, "close", closing)
    monkeypatch.setattr(images._decodes, "hold", holding)
    assert max(images.load_image_file(str(path)).size) <= images.WORK_SIDE
    assert events[0] == "held" and events.index("closed") < events.index("given back"), events


class _Node:
    """Something a reference cycle can be made of (and a weak reference can watch)."""


def test_what_lives_at_start_leaves_the_collectors_rounds_and_garbage_made_at_start_is_still_freed():
    garbage = _Node()
    garbage.me = garbage  # a cycle: only the collector frees it
    gone = weakref.ref(garbage)
    del garbage
    kept = [_Node() for _ in range(2000)]
    try:
        frozen = freeze_startup_objects()
        assert gone() is None  # collected before the freeze, not kept for ever
        # At most as many as were frozen: another thread of the test process may free some meanwhile.
        assert len(kept) < gc.get_freeze_count() <= frozen
        later = gc.get_objects()
        assert len(later) < frozen  # a full collection now walks only what came later
        assert not any(obj is kept[0] for obj in later)  # and not what was alive at the freeze
    finally:
        gc.unfreeze()  # the other tests' objects go back to the collector
