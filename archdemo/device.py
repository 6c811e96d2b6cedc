"""Which device runs the models (CUDA when available, else CPU), and ZeroGPU's decorator where it exists.

On a ZeroGPU Space a GPU exists only inside a ``spaces.GPU`` call, and each call is a round trip to a
scheduler (about a second warm, 3-4 s cold, as Hugging Face staff measured) charged against the visitor's
quota, which visitors on one address share. A model whose whole request takes a few milliseconds on the
CPU gains nothing from such a call and loses the round trip, so the rule is: a model goes to the GPU only
if its measured CPU time per request exceeds what a GPU call costs (``worth_a_gpu_call``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import torch


def pick_device(requested: str | None = None) -> torch.device:
    """``requested`` ('cpu', 'cuda', 'cuda:1'; from the settings); default cuda if it works, else cpu."""
    name = requested or ""
    if name:
        device = torch.device(name)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"{name} was asked for but CUDA is not available on this machine")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    return f"CPU ({torch.get_num_threads()} threads)"


@functools.cache
def zerogpu() -> bool:
    """True on a ZeroGPU Space: Hugging Face's ``spaces`` package (or the tests' stand-in) is importable."""
    try:
        import spaces  # noqa: F401 - only installed on Hugging Face Spaces
    except ImportError:
        return False
    return True


def worth_a_gpu_call(cpu_ms: Mapping[str, float], call_ms: float) -> list[str]:
    """The models whose measured CPU time per request (ms) is more than a GPU call costs: only they gain from one."""
    return sorted(name for name, ms in cpu_ms.items() if ms > call_ms)


def gpu_task(duration: int = 15):
    """On a ZeroGPU Space (the ``spaces`` package is importable there), run the function with a GPU
    attached for up to ``duration`` seconds; everywhere else, leave the function unchanged."""

    def wrap(fn):
        try:
            import spaces  # only installed on Hugging Face Spaces
        except ImportError:
            return fn
        return spaces.GPU(duration=duration)(fn)

    return wrap
