"""Micro-batching: many concurrent single requests, one model call.

Requests arrive one at a time on Gradio's worker threads. Each caller does its own preprocessing
(so a bad input fails only its own request, with its own message), then hands the prepared item to
a ``MicroBatcher``. One worker thread takes whatever items are waiting (never waiting for more: an
idle server answers a lone request at once) and runs the batch function on all of them together.
Under load, items pile up while a batch runs, so batches grow exactly when it pays.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

RECENT_BATCHES = 1000  # batch sizes kept for tests and benchmarks; a server runs millions of batches


class MicroBatcher:
    def __init__(self, batch_fn: Callable[[list[Any]], Sequence[Any]], max_batch: int = 64, name: str = "batcher"):
        self._fn = batch_fn
        self._max = max_batch
        self._queue: queue.SimpleQueue[tuple[Any, Future]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self._recent: deque[int] = deque(maxlen=RECENT_BATCHES)
        self.batches = 0  # batches run since start (counters: the bookkeeping stays the same size forever)
        self.items = 0  # items answered in them

    @property
    def batch_sizes(self) -> list[int]:
        """The sizes of the last ``RECENT_BATCHES`` batches run, oldest first (for tests and benchmarks)."""
        return list(self._recent)

    def __call__(self, item: Any) -> Any:
        """The batch function's result for this one item (its exception, if the batch failed)."""
        return self.submit(item).result()

    def submit(self, item: Any) -> Future:
        """Queue one item; the future gets its result. ``asyncio.wrap_future`` awaits it on an event loop."""
        future: Future = Future()
        self._queue.put((item, future))
        return future

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]  # blocks while idle
            while len(batch) < self._max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._recent.append(len(batch))
            self.batches, self.items = self.batches + 1, self.items + len(batch)
            try:
                results = self._fn([item for item, _ in batch])
            except Exception as e:  # a model failure fails this batch's requests, not the worker
                for _, future in batch:
                    future.set_exception(e)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
