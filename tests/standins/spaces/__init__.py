"""A stand-in for Hugging Face's ``spaces`` package, as on a ZeroGPU Space, for tests.

On ZeroGPU a GPU exists only while a function decorated with ``spaces.GPU`` runs. This stand-in
tracks, per thread, whether such a call is running (``inside()``), so a test can record every model
forward that would have found no GPU there.
"""

from __future__ import annotations

import functools
import threading

_state = threading.local()
decorated: list[str] = []  # names of the functions wrapped with spaces.GPU, in the order they were


def inside() -> bool:
    return getattr(_state, "depth", 0) > 0


def GPU(fn=None, duration: int = 60):  # noqa: N802 (the real package's name)
    def wrap(f):
        decorated.append(f.__name__)

        @functools.wraps(f)
        def run(*args, **kwargs):
            _state.depth = getattr(_state, "depth", 0) + 1
            try:
                return f(*args, **kwargs)
            finally:
                _state.depth -= 1

        return run

    return wrap(fn) if callable(fn) else wrap
