"""Pictures drawn in a process of their own, so that a crowd's pen-ups never hold the server's GIL.

Python runs one thread at a time per process (the GIL). The server's event loop, the micro-batchers and
the writers' decoding loops are threads of one process, and drawing a picture (numpy, PIL, matplotlib)
holds the GIL almost the whole time: measured with 100 visitors drawing on this 2-core CPU, the server
process used 1.07 cores while the machine sat 40% idle, and pen-ups waited up to 2.5 s in Gradio's
queue. The same pictures drawn in a helper process (``workers`` of them, spawned at start) take the other
core and their own GIL; the server hands over plain arrays and gets back files or encoded plots.

``run(fn, *args)`` returns ``fn(*args)``: in a helper when there is one, else here. ``fn`` must be a
module-level function and its arguments plain data (they are pickled; nothing is ever unpickled from
outside the app: the helpers are the app's own children). A helper that dies is replaced, and the
call is answered here in the meantime, so a visitor sees a picture, never the broken pool.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

log = logging.getLogger("archdemo.runtime.offload")


def die_with_server() -> None:
    """In a helper: exit when the server's process is gone, however it went (a thread waits on its sentinel)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="server-watch", daemon=True).start()


def _start_helper(niceness: int, modules: Sequence[str], started) -> None:
    """Each helper, before its first call: watch the server, take its nice value, import what it draws
    with, then wait until every helper has (``started``, a barrier): otherwise the first helper up took
    every start-up call, and the others met their first visitor with nothing imported."""
    die_with_server()
    if niceness:
        os.nice(niceness)
    for name in modules:
        importlib.import_module(name)
    try:
        started.wait(timeout=300)
    except threading.BrokenBarrierError:  # a helper that never came: the others draw anyway
        pass


class Offload:
    def __init__(self) -> None:
        self.workers = 0  # 0: everything runs in the calling thread
        self._modules: tuple[str, ...] = ()
        self._niceness = 0
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.fallbacks = 0  # calls answered here because the helpers were gone (for tests)
        self._ready = threading.Event()  # every helper has imported what it draws with (or there are none)

    def start(self, workers: int, preload: Sequence[str] = (), niceness: int = 0) -> None:
        """Spawn ``workers`` helpers now (0: none), each importing ``preload`` before its first call, at
        ``niceness`` (a helper whose pictures can wait gives the CPU to what a visitor is watching)."""
        self.stop()
        self.workers, self._modules, self._niceness = max(0, int(workers)), tuple(preload), niceness
        self._ready.clear()
        if self.workers:
            self._spawn()
        else:
            self._ready.set()

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the helpers can draw (True; at once without helpers), or ``timeout`` seconds (False)."""
        return self._ready.wait(timeout)

    def _spawn(self) -> ProcessPoolExecutor:
        # "spawn", not fork: the server has threads (and torch's) that a forked child would inherit half-held.
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=_start_helper,
            initargs=(self._niceness, self._modules, context.Barrier(self.workers)),
        )
        # One call per helper: the pool spawns a helper per call it cannot give an idle one, so all start now.
        futures = [pool.submit(os.getpid) for _ in range(self.workers)]
        self._pool = pool
        threading.Thread(target=_report, args=(pool, futures, self._ready), daemon=True, name="offload-start").start()
        return pool

    def stop(self, kill: bool = False) -> None:
        """No more helpers; ``kill``: at once, even one still starting (it watches for the server only once
        it has imported what it draws with)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            helpers = list(getattr(pool, "_processes", {}).values()) if kill else []
            pool.shutdown(wait=False, cancel_futures=True)
            for helper in helpers:
                helper.kill()
            for helper in helpers:
                helper.join(timeout=5)  # reaped here, not left a zombie for whoever inherits it

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        with self._lock:
            pool = self._pool
        if pool is None:
            return fn(*args)
        try:
            result = pool.submit(fn, *args).result()
        except BrokenProcessPool as e:  # a helper died (killed, out of memory): replace it, answer here
            log.warning("picture helper lost (%s); starting another, answering this one in the server", e)
            with self._lock:
                if self._pool is pool:
                    self._pool = None
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._spawn()
            self.fallbacks += 1
            return fn(*args)
        return result


def _report(pool: ProcessPoolExecutor, futures, ready: threading.Event) -> None:
    try:
        for f in futures:
            f.result(timeout=300)
        pids = sorted(getattr(pool, "_processes", {}))  # every helper, whichever answered the calls
        log.info("picture helpers ready: process %s", ", ".join(map(str, pids)))
    except Exception as e:  # noqa: BLE001 - logged; calls still fall back to the server
        log.warning("picture helpers did not start: %s", e)
    ready.set()  # up or not, nobody waits longer for them


PICTURES = Offload()  # the app's one pool: app.py starts it, the tabs' insides run through it
