"""Which device runs the models (CUDA when available, else CPU), and ZeroGPU's decorator where it exists."""

from __future__ import annotations

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
