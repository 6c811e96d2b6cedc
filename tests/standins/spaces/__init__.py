"""A stand-in for Hugging Face's ``spaces`` package, as on a ZeroGPU Space, for tests.

On ZeroGPU a GPU exists only while a function decorated with ``spaces.GPU`` runs. This stand-in
tracks, per thread, whether such a call is running (``inside()``), so a test can record every model
forward that would have found no GPU there, and counts the calls made (``calls``).

It also plays ZeroGPU's costs: ``overhead_s`` (env ``SPACES_STANDIN_OVERHEAD_S``) is slept before each
call runs, as a call waits for the scheduler; ``quota_s`` (env ``SPACES_STANDIN_QUOTA_S``, default
unlimited) is the GPU time left to the visitor. As on ZeroGPU, a call whose ``duration`` is more than
what is left fails before it runs, with ZeroGPU's message; the time a call takes is taken off the quota.
"""

from __future__ import annotations

import functools
import math
import os
import threading
import time

_state = threading.local()
_lock = threading.Lock()
decorated: list[str] = []  # names of the functions wrapped with spaces.GPU, in the order they were
calls = 0  # GPU calls asked for, including those refused for quota
overhead_s = float(os.environ.get("SPACES_STANDIN_OVERHEAD_S", "0"))
quota_s = float(os.environ.get("SPACES_STANDIN_QUOTA_S", "inf"))


class QuotaExceeded(Exception):
    """What ZeroGPU raises (as a gradio.Error there) when the visitor's GPU time is spent."""


def inside() -> bool:
    return getattr(_state, "depth", 0) > 0


def GPU(fn=None, duration: int = 60):  # noqa: N802 (the real package's name)
    def wrap(f):
        decorated.append(f.__name__)

        @functools.wraps(f)
        def run(*args, **kwargs):
            global calls, quota_s
            with _lock:
                calls += 1
                left = quota_s
            if duration > left:
                shown = "no" if left <= 0 else f"{left:.0f}s" if math.isfinite(left) else "unlimited"
                raise QuotaExceeded(f"You have exceeded your GPU quota ({shown} left vs. {duration}s requested).")
            if overhead_s:
                time.sleep(overhead_s)
            _state.depth = getattr(_state, "depth", 0) + 1
            started = time.perf_counter()
            try:
                return f(*args, **kwargs)
            finally:
                _state.depth -= 1
                with _lock:
                    quota_s -= time.perf_counter() - started

        return run

    return wrap(fn) if callable(fn) else wrap
