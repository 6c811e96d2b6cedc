"""The server's helper processes: pictures drawn apart (runtime/offload.py) and writers decoding apart
(runtime/apart.py). Each gives what the in-process path gives, and a helper that dies costs a visitor a
sentence or nothing, never a hung request."""

from __future__ import annotations

import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

import app
from archdemo.errors import InputError
from archdemo.inputs.images import prepare_digit
from archdemo.paths import SAMPLE_DIGITS
from archdemo.runtime.apart import GONE
from archdemo.runtime.offload import Offload
from archdemo.settings import Settings
from archdemo.tasks import digits
from archdemo.tasks.writing import decoding_loop, generate, write
from archdemo.ui.digit_readers import pen_up_values
from archdemo.weights.registry import CHAR_MODELS
from archdemo.weights.store import ModelStore

PROMPT = "ROMEO:\nWhat light"


def helper_pid() -> int:
    return os.getpid()


def imported_before_this_call(module: str) -> tuple[int, bool]:
    """(this helper's pid, whether ``module`` was imported before the call came), a second later."""
    was = module in sys.modules
    time.sleep(1.0)  # held long enough that the next call goes to another helper
    return os.getpid(), was


def refuse(text: str) -> None:
    raise InputError(text)


@pytest.fixture(scope="module")
def pictures():
    pool = Offload()
    pool.start(1, preload=["archdemo.ui.digit_readers"])
    yield pool
    pool.stop()


def test_a_picture_helper_runs_the_call_in_another_process_and_keeps_its_errors(pictures):
    assert pictures.run(helper_pid) != os.getpid()
    with pytest.raises(InputError, match="not a digit"):  # the visitor's sentence survives the trip
        pictures.run(refuse, "not a digit")
    assert Offload().run(helper_pid) == os.getpid()  # no helper: the call runs here


def test_the_pen_up_pictures_drawn_apart_are_the_ones_drawn_here(pictures, store):
    digit = prepare_digit(np.asarray(Image.open(SAMPLE_DIGITS / "7.png")))
    every = digits.read_every_reader(store, digit)
    apart, here = pictures.run(pen_up_values, every), pen_up_values(every)
    assert apart == here  # the same files: names come from the pictures' content
    files = [v for v in here if isinstance(v, str)]
    assert len(files) == 3 + 4 and all(os.path.getsize(f) > 0 for f in files)
    assert here[1] == here[4]  # the CNN's evidence picture is drawn once, shown twice


def test_every_picture_helper_has_imported_what_it_draws_with_before_its_first_visitor():
    pool = Offload()
    # A module that neither the app nor this file imports (unpickling the call imports both in the helper).
    pool.start(2, preload=["archdemo.tools.calibration"])
    try:
        assert pool.wait_ready(120)
        with ThreadPoolExecutor(2) as calls:  # two calls at once: one on each helper
            answers = list(
                calls.map(lambda _: pool.run(imported_before_this_call, "archdemo.ui.digit_readers"), range(2))
            )
        assert len({pid for pid, _ in answers}) == 2
        assert all(was for _, was in answers)  # the second helper too, not only the first one up
    finally:
        pool.stop()


def test_a_picture_helper_that_dies_is_replaced_and_the_call_answered_here():
    pool = Offload()
    pool.start(1)
    try:
        first = pool.run(helper_pid)
        os.kill(first, signal.SIGKILL)
        time.sleep(0.5)
        assert pool.run(helper_pid) == os.getpid()  # answered by the server while a new helper starts
        assert pool.fallbacks == 1
        assert pool.run(helper_pid) not in (first, os.getpid())  # the new helper
    finally:
        pool.stop()


@pytest.fixture(scope="module")
def apart():
    store = ModelStore(Settings(device="cpu", writer_processes=True))
    assert all(decoding_loop(store, name).wait_ready(300) for name in CHAR_MODELS)
    yield store
    for name in CHAR_MODELS:
        decoding_loop(store, name).stop()


@pytest.mark.parametrize("name", CHAR_MODELS)
def test_writing_apart_writes_what_the_server_writes(apart, store, name):
    *_, far = write(apart, name, PROMPT, 300, 0.8, 3)  # past the GPT's window: the row's state comes back
    *_, near = write(store, name, PROMPT, 300, 0.8, 3)
    assert far.text == near.text and len(far.text) == 300
    assert np.array_equal(far.top_ids, near.top_ids)
    if far.attention is not None:  # the GPT's last look reads what the child's row held at the end
        assert far.context == near.context and np.allclose(far.attention, near.attention, atol=1e-5)
    assert decoding_loop(apart, name).pid not in (None, os.getpid())


def test_a_visitor_who_leaves_frees_their_row_in_the_writing_process(apart):
    loop = decoding_loop(apart, "char_rnn")
    before = loop.rows_stepped
    run = write(apart, "char_rnn", PROMPT, 2000, 0.8, 0)
    next(run)
    run.close()  # the visitor left after the first piece
    generate(apart, "char_rnn", PROMPT, 40, 0.8, 1)  # another visitor's text carries the counters back
    assert loop.rows_stepped - before < 2000  # the left row was not written to its end
    assert loop.rows == 0  # and the server forgot both streams: the left one too, not only the finished one


def test_a_writing_process_that_dies_fails_its_texts_with_a_sentence_then_comes_back(apart):
    loop = decoding_loop(apart, "char_cnn")
    run = write(apart, "char_cnn", PROMPT, 2000, 0.8, 0)
    next(run)
    os.kill(loop.pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match="press Write again"):
        for _ in run:
            pass
    assert GONE.startswith("The writing process stopped")
    assert len(generate(apart, "char_cnn", PROMPT, 30, 0.8, 0)) == 30  # a new process writes the next one


def test_the_server_turns_its_helpers_on_where_they_pay():
    tuned = app.parse_args([], environ={})
    cores = os.cpu_count() or 1
    assert (tuned.picture_workers, tuned.writer_processes) == ((2, True) if cores >= 2 else (0, False))
    assert app.parse_args(["--serving", "defaults"], environ={}).writer_processes is False
    off = app.parse_args(["--picture-workers", "0", "--writer-processes", "off"], environ={})
    assert (off.picture_workers, off.writer_processes) == (0, False)
    env = app.parse_args([], environ={"ARCHDEMO_PICTURE_WORKERS": "3", "ARCHDEMO_WRITER_PROCESSES": "off"})
    assert (env.picture_workers, env.writer_processes) == (3, False)
    assert Settings().picture_workers == 0 and not Settings().writer_processes  # the tests' own store
    with pytest.raises(ValueError, match="picture_workers"):
        Settings(picture_workers=-1)
