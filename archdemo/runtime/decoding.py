"""Batched decoding: everyone writing with one model steps together, one forward pass per character for all.

LLM servers call this continuous batching. Each visitor's continuation is a ``Stream``; a ``DecodingLoop``
(one thread per model) holds the streams being written and, at every step, asks its ``Batch`` (the model's
state for all rows at once: an LSTM's (h, c), a GPT's key/value cache, a CNN's cache of recent inputs) for
one more character per row, in a single forward pass. A stream joins between two steps (its prompt read on
its own first) and leaves when it is done or when its reader goes (``close``): its row is freed before the
next step. What a stream writes goes to its reader in pieces (``next_piece``, a future): a reader that
falls behind gets everything that piled up in one piece, so a slow connection never slows the loop.

Nothing here knows about characters or models: the task (``archdemo.tasks.writing``) supplies the Batch.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, Protocol

log = logging.getLogger("archdemo.runtime.decoding")


class Stream:
    """One continuation: ``length`` outputs, handed to its reader at the ``pieces`` boundaries (and at the end).

    ``task`` is whatever the Batch needs to know about this row (prompt, temperature, random numbers...).
    """

    def __init__(self, task: Any, length: int, pieces: Sequence[int] = ()) -> None:
        self.task = task
        self.length = length
        self._pieces = set(pieces)
        self._lock = threading.Lock()
        self._out: list[Any] = []  # outputs not yet handed to the reader
        self._ready = False  # a piece boundary (or the end) was passed since the reader last took a piece
        self._waiting: Future | None = None
        self._error: BaseException | None = None
        self.written = 0
        self.closed = False  # the reader is gone (or the stream failed): the loop frees its row
        self.on_close: Callable[[], None] | None = None  # told when the reader goes early (runtime/apart.py)

    @property
    def pieces(self) -> set[int]:
        """The output counts at which a piece is handed to the reader (the end is one too)."""
        return set(self._pieces)

    @property
    def ready(self) -> bool:
        """A piece is waiting for the reader."""
        return self._ready

    @property
    def done(self) -> bool:
        return self.written >= self.length

    def put(self, output: Any) -> None:
        """Called by the loop: one more output for this stream."""
        with self._lock:
            self._out.append(output)
            self.written += 1
            self._ready = self._ready or self.written in self._pieces or self.done
            if self._ready and self._waiting is not None:
                self._hand_over(self._waiting)
                self._waiting = None

    def fail(self, error: BaseException) -> None:
        with self._lock:
            self._error, self.closed = error, True
            if self._waiting is not None:
                self._waiting.set_exception(error)
                self._waiting = None

    def close(self) -> None:
        """The reader is done with this stream (finished, gone, or cancelled): free its row."""
        early = not self.closed and not self.done
        self.closed = True
        if early and self.on_close is not None:
            self.on_close()

    def next_piece(self) -> Future:
        """A future for the outputs written since the last piece (a list, in order); resolves at once if ready."""
        future: Future = Future()
        with self._lock:
            if self._error is not None:
                future.set_exception(self._error)
            elif self._ready:
                self._hand_over(future)
            elif self.done:  # everything was handed over already
                future.set_result([])
            else:
                self._waiting = future
        return future

    def _hand_over(self, future: Future) -> None:
        out, self._out, self._ready = self._out, [], False
        future.set_result(out)


class Batch(Protocol):
    """A model's state for every row being written; row i is the loop's i-th stream."""

    def add(self, stream: Stream) -> None:
        """Read the stream's prompt and append it as the last row."""

    def remove(self, row: int) -> None:
        """Free ``row``: the last row moves into its place."""

    def step(self, streams: Sequence[Stream]) -> list[Any]:
        """One output per row (in row order), all rows in one forward pass."""


class DecodingLoop:
    """One thread that steps every stream of one model together. ``run(fn, *args)`` wraps each model call
    (the task passes its guard: inference mode, the GPU slot where there is one, the CPU fallback)."""

    def __init__(
        self,
        make_batch: Callable[[], Batch],
        run: Callable[..., Any] | None = None,
        max_rows: int = 64,
        name: str = "decoding",
        niceness: int = 10,
    ) -> None:
        self._make_batch = make_batch
        self.batch = make_batch()
        self._run_call = run or (lambda fn, *args: fn(*args))
        self.max_rows = max_rows
        self.niceness = niceness  # the loop thread's nice value: a writer waits when a quick request needs the CPU
        self.name = name
        self._joining: queue.SimpleQueue[Stream] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.steps = 0  # forward passes run (counters for tests and benchmarks)
        self.rows_stepped = 0  # characters written in them
        self.widest = 0  # the most rows one step has carried

    def submit(self, stream: Stream) -> Stream:
        """Queue a stream to join at the next step; its reader then waits on ``stream.next_piece()``."""
        self._joining.put(stream)
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                    self._thread.start()
        return stream

    def _loop(self) -> None:
        if self.niceness and hasattr(os, "setpriority"):
            try:  # this thread only (Linux): long jobs give the CPU way to quick ones (a digit, a sentence)
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.niceness)
            except OSError:
                pass
        rows: list[Stream] = []
        waiting: deque[Stream] = deque()  # joined while every row was taken
        try:
            self._serve(rows, waiting)
        except BaseException as e:  # the loop itself broke: no reader may wait for it forever
            log.exception("%s: the decoding loop stopped", self.name)
            for stream in [*rows, *waiting]:
                stream.fail(e)
            self.batch = self._make_batch()
            self._thread = None  # the next stream starts a fresh loop

    def _serve(self, rows: list[Stream], waiting: deque[Stream]) -> None:
        while True:
            if not rows and not waiting:
                waiting.append(self._joining.get())  # idle: sleep until someone writes
            while True:
                try:
                    waiting.append(self._joining.get_nowait())
                except queue.Empty:
                    break
            for i in reversed(range(len(rows))):  # readers that left free their rows before the step
                if rows[i].closed:
                    self._remove(rows, i)
            while waiting and len(rows) < self.max_rows:
                stream = waiting.popleft()
                if stream.closed:
                    continue
                try:
                    self._run_call(self.batch.add, stream)
                except Exception as e:  # noqa: BLE001 - this stream's failure, not the loop's
                    stream.fail(e)
                    continue
                rows.append(stream)
            if not rows:
                continue
            try:
                outputs = self._run_call(self.batch.step, rows)
            except Exception as e:  # noqa: BLE001 - a failed step fails its rows, and the loop goes on
                log.exception("%s: a decoding step failed for %d rows", self.name, len(rows))
                for i in reversed(range(len(rows))):
                    rows[i].fail(e)
                    self._remove(rows, i)
                continue
            self.steps, self.rows_stepped, self.widest = (
                self.steps + 1,
                self.rows_stepped + len(rows),
                max(self.widest, len(rows)),
            )
            for stream, output in zip(rows, outputs, strict=True):
                stream.put(output)
            for i in reversed(range(len(rows))):
                if rows[i].done:
                    self._remove(rows, i)

    def _remove(self, rows: list[Stream], i: int) -> None:
        """Free row i as the batch does: the last row moves into its place."""
        self._run_call(self.batch.remove, i)
        rows[i] = rows[-1]
        rows.pop()
