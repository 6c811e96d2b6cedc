"""torch's threads when serving a crowd: one per forward pass, unless the operator chose.

torch splits every operation of a forward pass across its intra-op threads (by default one per core)
and makes them meet at the end of each. Our models read a 28x28 digit or a sentence in about a
millisecond, so an operation is a few microseconds of work; under a crowd every core is already busy
with other requests (the event loop, the micro-batchers, the insides), and a forward pass waits at
each meeting point for a thread the operating system has not scheduled yet. Measured on this 2-core
CPU with other work beside it: the CNN tab's pen-up pass through the four digit readers took
27-459 ms with two threads and 4-8 ms with one. A crowd gets its parallelism from many requests at
once, each on one thread; the micro-batchers give the big batches.

``OMP_NUM_THREADS`` (set by ``archdemo.replicas`` for each process, or by whoever runs the app) wins.
"""

from __future__ import annotations

import os

import torch

SERVING_THREADS = 1


def serving_threads(environ: dict[str, str] | None = None) -> int:
    """Set torch's intra-op threads for serving and return how many it uses now."""
    if not (environ if environ is not None else os.environ).get("OMP_NUM_THREADS"):
        torch.set_num_threads(SERVING_THREADS)
    return torch.get_num_threads()
