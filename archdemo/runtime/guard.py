"""The one guarded path every model call takes: ZeroGPU's GPU slot when it pays, inference mode, a CPU fallback.

On a ZeroGPU Space a GPU exists only while a ``spaces.GPU`` function runs, so every function that runs a
model (answers, insides, latent walks, the Compare tab's timings) is wrapped by ``guarded``, which
decorates it with ``spaces.GPU`` when the module is imported (as ZeroGPU requires). Whether a call then
goes through that GPU slot is decided per store (``gpu_calls``): only on ZeroGPU, and only when the store's
models were put on the GPU because one of them is slower on the CPU than a GPU call costs
(``archdemo.device.worth_a_gpu_call``; ``app.py`` measures it at start), or when the settings say "always".
Our models take 1-24 ms per request on a CPU, so on ZeroGPU they stay on the CPU and make no GPU calls.

When a GPU call cannot be had (the visitor's quota is spent, no GPU is free, the call ran past its
duration) or the GPU fails (out of memory, a lost device), the answer comes from the CPU: the store moves
its models there (they stay there) and the call runs again. Guarded functions take the store first.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import torch

from archdemo.device import gpu_task, zerogpu
from archdemo.errors import InputError

if TYPE_CHECKING:
    from archdemo.weights.store import ModelStore

log = logging.getLogger("archdemo.runtime.guard")
P = ParamSpec("P")
R = TypeVar("R")


def is_gpu_failure(e: BaseException) -> bool:
    """Out of GPU memory, or an error raised by CUDA itself (a lost, broken or busy device)."""
    if isinstance(e, torch.cuda.OutOfMemoryError) or type(e).__name__ == "AcceleratorError":
        return True
    return isinstance(e, RuntimeError) and any(w in str(e) for w in ("CUDA", "CUBLAS", "cuDNN", "NCCL"))


def gpu_calls(store: ModelStore) -> bool:
    """Do this store's model calls go through ZeroGPU's ``spaces.GPU``? Only on ZeroGPU, and only if it pays."""
    if not zerogpu():
        return False
    mode = getattr(store.settings, "zerogpu", "measured")
    return mode == "always" or (mode == "measured" and store.device.type == "cuda")


def guarded(fn: Callable[P, R] | None = None, *, zerogpu_slot: bool = True):
    """``fn(store, ...)`` under inference mode; through spaces.GPU when ``gpu_calls(store)``; from the CPU if the
    GPU cannot be had or fails. ``zerogpu_slot=False``: never inside spaces.GPU (a function whose state must
    outlive the call, as the writers' decoding loops: ZeroGPU runs a call in a process of its own)."""
    if fn is None:
        return functools.partial(guarded, zerogpu_slot=zerogpu_slot)
    plain = torch.inference_mode()(fn)
    in_slot = gpu_task()(plain) if zerogpu_slot else plain

    @functools.wraps(fn)
    def run(store: ModelStore, *args, **kwargs):
        if in_slot is not plain and gpu_calls(store):
            try:
                return in_slot(store, *args, **kwargs)
            except InputError:
                raise
            except Exception as e:  # noqa: BLE001 - whatever the slot's failure, the CPU answers (see below)
                # Quota spent, no GPU free, cut off at its duration, or a failure inside: the same call on the
                # CPU. A bad input fails there again, with its own message.
                log.warning("%s: no answer from a GPU call (%s: %s); answering from the CPU", fn.__name__,
                            type(e).__name__, e)  # fmt: skip
                if store.device.type != "cpu":
                    store.move_to_cpu()
                return plain(store, *args, **kwargs)
        try:
            return plain(store, *args, **kwargs)
        except RuntimeError as e:
            if not is_gpu_failure(e):
                raise
            log.warning("%s failed on %s (%s); moving the models to the CPU", fn.__name__, store.device_label, e)
            store.move_to_cpu()
            return plain(store, *args, **kwargs)

    return run
