"""Output images reach every viewer whole, even when a crowd gets the same picture at the same moment."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from archdemo.ui import SESSION_CAPACITY
from archdemo.ui.pictures import image_file


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    return tmp_path / "gradio"


def picture(seed: int, size: int = 196) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def test_image_file_is_a_png_in_gradios_cache_with_the_same_pixels(own_cache):
    array = picture(0)
    path = Path(image_file(array, "noisy"))
    assert path.is_relative_to(own_cache) and path.name == "noisy.png"
    assert np.array_equal(np.asarray(Image.open(path)), array)


def test_the_same_picture_is_one_file_written_once():
    first = Path(image_file(picture(1)))
    inode = first.stat().st_ino
    again = Path(image_file(picture(1)))
    assert again == first and again.stat().st_ino == inode  # reused, not rewritten
    assert Path(image_file(picture(2))) != first
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".")]  # no staging files left


def test_readers_never_see_a_partly_written_file_while_many_write_it():
    """12 threads produce the same picture at once while 4 others read the file the moment it appears.

    Gradio's own array-to-file step truncates and rewrites the file each time; this is the situation in
    which a reader then gets 0 bytes.
    """
    short_reads: list[tuple[int, int]] = []
    for seed in range(40):
        array = picture(100 + seed, size=280)
        target = Path(image_file(array))
        expected = len(target.read_bytes())
        target.unlink()  # start again from nothing, then race
        go = threading.Barrier(16)

        def write(a=array):
            go.wait()
            for _ in range(3):
                image_file(a)

        def read(t=target, n=expected):
            go.wait()
            seen = 0
            while seen < 50:
                try:
                    size = len(t.read_bytes())
                except FileNotFoundError:
                    continue
                seen += 1
                if size != n:
                    short_reads.append((size, n))

        threads = [threading.Thread(target=write) for _ in range(12)] + [
            threading.Thread(target=read) for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads)
    assert short_reads == []


def test_the_app_keeps_a_bounded_number_of_sessions_and_cleans_its_cache(monkeypatch):
    import gradio as gr

    import app

    launched: dict = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: launched.update(kw, blocks=self))
    monkeypatch.setattr(gr.Blocks, "block_thread", lambda self: None)
    monkeypatch.setattr(app.Answers, "warm_up", lambda self: None)
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if k not in app.GRADIO_ANALYTICS})
    app.main(["--device", "cpu", "--port", "0"])
    assert launched["state_session_capacity"] == SESSION_CAPACITY <= 2000  # Gradio's default: 10,000
    app.main(["--device", "cpu", "--port", "0", "--max-sessions", "50"])
    assert launched["state_session_capacity"] == 50
    assert launched["blocks"].delete_cache is not None and launched["blocks"].delete_cache[1] <= 24 * 3600
    assert int(os.environ["GRADIO_ANALYTICS_MAX_EVENTS"]) <= 1000  # Gradio's default: 10,000
