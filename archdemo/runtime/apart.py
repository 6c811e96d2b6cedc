"""A decoding loop in a process of its own, so that writing never holds the server's GIL.

One process runs one Python thread at a time (the GIL). The writers' decoding loops step small models
with many small operations, and in the server's process they took turns with the event loop, the
micro-batchers and each other: measured on this 2-core CPU with 30 visitors writing, the GPT's step for
30 rows took 3.3 ms alone and 12.9 ms in the server, and two loops stepping in threads of one process
were each 2.2 times slower than one alone (the same two in two processes: no slower). So each model's
loop runs in a child process (``python -m archdemo.runtime.apart``, with a store of its own), and the
server keeps a stand-in that looks like the loop to the writers: ``submit(stream)``, the same pieces at
the same boundaries, ``close()`` freeing the row. A piece crosses the pipe as the loop hands it over;
the last one brings the row's final state (what the GPT read), so the server can show the insides.

``factory`` ("module:function") and its arguments build the loop in the child; they are plain data.
If the child dies, every stream it carried fails with a sentence, and the next one starts a new child.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import os
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

from archdemo.runtime.decoding import Stream

log = logging.getLogger("archdemo.runtime.apart")
GONE = "The writing process stopped while it wrote this; press Write again."


class LoopApart:
    """Stands in for a ``DecodingLoop`` whose thread runs in a child process."""

    def __init__(self, factory: str, *args: Any, name: str = "decoding") -> None:
        self._factory, self._args, self.name = factory, args, name
        self._lock = threading.Lock()
        self._proc = None
        self._conn = None
        self._streams: dict[int, Stream] = {}
        self._ids = itertools.count()
        self.steps = self.rows_stepped = self.widest = 0  # the child loop's counters, as of its last piece
        self.pid: int | None = None
        self._ready = threading.Event()  # the child has built its loop (and written its warm-up rows)
        self._alive_w: int | None = None  # our end of the child's alive pipe: closed, the child exits

    def start(self) -> LoopApart:
        """Spawn the child now (it loads its model while the server goes on)."""
        with self._lock:
            self._ensure()
        return self

    def _ensure(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        # A plain ``python -m archdemo.runtime.apart``, not multiprocessing's spawn: that re-imports the
        # server's main module (app.py: gradio and every tab) in the child, 430 MB of it per process.
        ours, theirs = socket.socketpair()
        # A second pipe the server never writes to: when the server goes, however it goes, the child reads its
        # end, even while it is still starting (it does not read its socket until its model is loaded).
        if self._alive_w is not None:  # a child before this one: its pipe goes with it
            os.close(self._alive_w)
        alive_r, self._alive_w = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            [sys.executable, "-m", __name__, str(theirs.fileno()), str(alive_r)],
            pass_fds=[theirs.fileno(), alive_r],
            env=env,
        )
        theirs.close()
        os.close(alive_r)
        conn = Connection(ours.detach())
        conn.send((self._factory, self._args))
        lost, self._streams = self._streams, {}  # this child's streams, apart from a dead one's
        for stream in lost.values():
            stream.fail(RuntimeError(GONE))
        self._proc, self._conn, self.pid = proc, conn, proc.pid
        self._ready.clear()
        args = (conn, self._streams)
        threading.Thread(target=self._receive, args=args, name=f"{self.name}-pipe", daemon=True).start()

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the child can write (True), or ``timeout`` seconds (False: it goes on starting)."""
        return self._ready.wait(timeout)

    def submit(self, stream: Stream) -> Stream:
        with self._lock:
            self._ensure()
            sid = next(self._ids)
            self._streams[sid] = stream
            stream.on_close = lambda: self._close(sid)
            self._conn.send(("join", sid, stream.task, stream.length, sorted(stream.pieces)))
        return stream

    @property
    def rows(self) -> int:
        """The streams this loop is writing now."""
        return len(self._streams)

    def _close(self, sid: int) -> None:
        """A visitor left: the child frees the row, and this side forgets the stream."""
        self._streams.pop(sid, None)
        self._send(("close", sid))

    def _send(self, message: tuple) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send(message)
                except OSError:  # the child is gone: the receiver fails its streams
                    pass

    def stop(self) -> None:
        with self._lock:
            proc, conn, self._proc, self._conn = self._proc, self._conn, None, None
        if conn is not None:
            conn.close()  # the child reads the end of its pipe and exits
        if self._alive_w is not None:
            os.close(self._alive_w)
            self._alive_w = None
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _receive(self, conn, streams: dict[int, Stream]) -> None:
        """This child's pieces into its streams, until it goes; then whatever it still wrote fails."""
        while True:
            try:
                kind, sid, *rest = conn.recv()
            except (EOFError, OSError):
                break
            if kind == "piece":
                piece, task, (self.steps, self.rows_stepped, self.widest) = rest
                stream = streams.get(sid) if task is None else streams.pop(sid, None)
                if stream is None:
                    continue
                if task is not None:  # the last piece: the row as the child left it (what the GPT read)
                    stream.task.ids[:], stream.task.seen = task.ids, task.seen
                for output in piece:
                    stream.put(output)
            elif kind == "fail":
                if (stream := streams.pop(sid, None)) is not None:
                    stream.fail(rest[0])
            elif kind == "ready":
                self._ready.set()
                log.info("%s: writing in process %s", self.name, rest[0])
        with self._lock:
            if self._conn is conn:
                self._proc = self._conn = None
            lost = dict(streams)
            streams.clear()
        for stream in lost.values():
            stream.fail(RuntimeError(GONE))


class _Relay(Stream):
    """In the child: a stream that sends each piece to the server as soon as the loop hands it over."""

    def __init__(self, sid: int, send, loop, task: Any, length: int, pieces: list[int]) -> None:
        super().__init__(task, length, pieces)
        self.sid, self._send_message, self._loop = sid, send, loop

    def put(self, output: Any) -> None:
        super().put(output)
        if self.ready:
            loop = self._loop
            counters = (loop.steps, loop.rows_stepped, loop.widest)
            self._send_message(("piece", self.sid, self.next_piece().result(), self.task if self.done else None,
                                counters))  # fmt: skip

    def fail(self, error: BaseException) -> None:
        super().fail(error)
        try:
            self._send_message(("fail", self.sid, error))
        except Exception:  # noqa: BLE001 - an error that does not pickle still fails the stream
            self._send_message(("fail", self.sid, RuntimeError(f"{type(error).__name__}: {error}")))


def _serve(conn) -> None:
    """The child: build the loop, then relay joins and closes from the server until it goes."""
    factory, args = conn.recv()
    module, function = factory.split(":")
    loop = getattr(importlib.import_module(module), function)(*args)
    lock = threading.Lock()

    def send(message: tuple) -> None:
        with lock:
            conn.send(message)

    send(("ready", -1, os.getpid()))
    streams: dict[int, Stream] = {}
    while True:
        try:
            kind, sid, *rest = conn.recv()
        except (EOFError, OSError):  # the server is gone (however it went): so is its writing process
            os._exit(0)
        if kind == "join":
            task, length, pieces = rest
            streams[sid] = loop.submit(_Relay(sid, send, loop, task, length, pieces))
        elif kind == "close" and (stream := streams.pop(sid, None)) is not None:
            stream.close()
        for done in [k for k, s in streams.items() if s.done or s.closed]:
            streams.pop(done)


def _watch(alive: int) -> None:
    """In the child: exit the moment the server's end of the ``alive`` pipe closes (the server is gone)."""
    os.read(alive, 1)
    os._exit(0)


if __name__ == "__main__":  # the writing process: its socket to the server, and the server's alive pipe
    threading.Thread(target=_watch, args=(int(sys.argv[2]),), name="server-watch", daemon=True).start()
    _serve(Connection(int(sys.argv[1])))
