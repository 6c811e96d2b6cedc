"""The one guarded path every model call takes: ZeroGPU's GPU slot, inference mode, and a CPU fallback.

On a ZeroGPU Space a GPU exists only while a ``spaces.GPU`` function runs, so every function that runs
a model (answers, insides, latent walks, the Compare tab's timings) is wrapped by ``guarded``; on a
machine whose GPU fails (out of memory, a lost device), the store moves every model to the CPU and
the call is tried once more there. Guarded functions take the model store as their first argument.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import torch

from archdemo.device import gpu_task

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


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn(store, ...)`` under spaces.GPU (on ZeroGPU) and inference mode, retried on the CPU if the GPU fails."""
    on_gpu = gpu_task()(torch.inference_mode()(fn))

    @functools.wraps(fn)
    def run(store: ModelStore, *args, **kwargs):
        try:
            return on_gpu(store, *args, **kwargs)
        except RuntimeError as e:
            if not is_gpu_failure(e):
                raise
            log.warning("%s failed on %s (%s); moving the models to the CPU", fn.__name__, store.device_label, e)
            store.move_to_cpu()
            return on_gpu(store, *args, **kwargs)

    return run  # type: ignore[return-value]
