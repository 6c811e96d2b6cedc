"""Run every tab handler and API endpoint of the app once, as on a ZeroGPU Space; print what ran where.

Started by tests/test_gpu_guard.py and tests/test_spaces.py in a fresh interpreter with tests/standins on
PYTHONPATH, so that ``import spaces`` finds the stand-in before any archdemo module is imported (``guarded``
applies ``spaces.GPU`` when a module is imported, as on a real Space). The settings come from the
environment (``ARCHDEMO_ZEROGPU``), the stand-in's costs too (``SPACES_STANDIN_QUOTA_S``, ``..._OVERHEAD_S``);
the models are placed as ``app.py`` places them. ``DRIVER_LIVE_UPDATES`` (default 1): how many times the
drawing pad's live reading is asked for (750: a minute of drawing at the pad's 80 ms). Prints one JSON object:
{"decorated": [...], "placement": {...}, "calls": [{"name", "api_name", "forwards": {model: n},
"outside": [module, ...], "gpu_calls": n, "error"}]}.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import sys
from pathlib import Path

import numpy as np
import spaces
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import place_models  # noqa: E402
from archdemo.inputs.images import prepare_digit, to_pad  # noqa: E402
from archdemo.settings import Settings  # noqa: E402
from archdemo.ui import build  # noqa: E402
from archdemo.weights.registry import CHAR_MODELS, MODELS  # noqa: E402

DIGIT = ROOT / "archdemo" / "assets" / "digits" / "7.png"
outside: list[str] = []
writers_outside: list[str] = []  # the writers decode on the CPU by design, never in a GPU call
writer_modules: set[int] = set()
forwards: dict[str, int] = {}


def record_outside(module, args):
    if not spaces.inside():
        (writers_outside if id(module) in writer_modules else outside).append(type(module).__name__)


def entry_module(name: str, model: torch.nn.Module) -> torch.nn.Module:
    """The first layer every pass through a model goes through: one call of it is one forward."""
    for attr in ("embeddings", "embedding", "encoder", "stages", "patch_embedding", "lstm"):
        part = getattr(model, attr, None)
        if part is not None:
            return part[0] if isinstance(part, torch.nn.ModuleList) else part
    raise AssertionError(f"no entry layer known for {name}")


def count(name: str):
    def hook(module, args):
        forwards[name] = forwards.get(name, 0) + 1

    return hook


def inputs_for(fn) -> list:
    """A plausible value for each input component of an event handler."""
    digit = np.asarray(Image.open(DIGIT).convert("L"))
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = np.kron(digit, np.ones((10, 10), np.uint8))  # the digit as strokes on transparency
    values = []
    for c in fn.inputs:
        kind = type(c).__name__
        if kind == "HTML":  # the drawing pad: the digit reduced to 28x28, as the browser sends it
            values.append(to_pad(prepare_digit(canvas)))
        elif kind == "Image":  # an upload arrives as a file path (type="filepath"), else as an array
            values.append(str(DIGIT) if getattr(c, "type", None) == "filepath" else canvas)
        elif kind == "Textbox":
            values.append("It's not bad, I'd say!")
        elif kind == "File":
            values.append(str(DIGIT))
        elif kind == "Number":
            values.append(0.5 if c.value is None else c.value)
        elif kind in ("Dropdown", "Slider", "Radio"):
            values.append(c.value)
        elif kind == "State":
            values.append(None)
        elif kind == "Markdown":  # a message shown as an input (the Write tab's: empty, nothing went wrong)
            values.append("")
        else:
            raise AssertionError(f"no test value for a {kind} input of {fn.name}")
    return values


async def _drain(agen) -> None:
    async for _ in agen:
        pass


def main() -> None:
    # As app.py serves: the API through the micro-batchers, the models where app.py puts them.
    store, answers, placement = place_models(Settings.from_env(device="cpu", micro_batching=True))
    store.load_all()
    for name in MODELS:
        entry_module(name, store.get(name)).register_forward_pre_hook(count(name))
    for name in CHAR_MODELS:
        writer_modules.update(id(m) for m in store.get(name).modules())
    torch.nn.modules.module.register_module_forward_pre_hook(record_outside)
    demo = build(store, answers)
    calls = []
    for fn in demo.fns.values():
        if fn.fn is None or fn.name == "load_example":
            continue  # runs in the browser only, or Gradio's own copying of an example into the inputs
            # (the change event that copy fires is one of the handlers called here)
        outside.clear()
        writers_outside.clear()
        forwards.clear()
        error, gpu_calls = None, spaces.calls
        try:
            result = fn.fn(*inputs_for(fn))
            if inspect.isawaitable(result):
                asyncio.run(result)
            elif inspect.isasyncgen(result):  # a streaming handler on the event loop (the Write tab)
                asyncio.run(_drain(result))
            elif inspect.isgenerator(result):  # a streaming handler run as it is iterated
                for _ in result:
                    pass
        except Exception as e:  # noqa: BLE001 - reported, and the test fails on it
            error = f"{type(e).__name__}: {e}"
        calls.append(
            {
                "name": fn.name,
                "api_name": fn.api_name,
                "forwards": dict(forwards),
                "outside": list(outside),
                "writers_outside": sorted(set(writers_outside)),
                "gpu_calls": spaces.calls - gpu_calls,
                "error": error,
            }
        )
    # Server functions (the drawing pad's live reading) are called by the browser directly, not as events.
    pad = to_pad(prepare_digit(np.asarray(Image.open(DIGIT).convert("L"))))
    for block in demo.blocks.values():
        for server_fn in getattr(block, "server_fns", []):
            outside.clear()
            forwards.clear()
            gpu_calls = spaces.calls
            for _ in range(int(os.environ.get("DRIVER_LIVE_UPDATES", "1"))):
                answer = server_fn({"pixels": pad, "model": None})
                answer = asyncio.run(answer) if inspect.isawaitable(answer) else answer
            calls.append(
                {
                    "name": f"{block.elem_id}.{server_fn.__name__}",
                    "api_name": None,
                    "forwards": dict(forwards),
                    "outside": list(outside),
                    "gpu_calls": spaces.calls - gpu_calls,
                    "error": answer.get("error"),
                }
            )
    # A control: a forward run with no guard must be seen, or the recorder itself is broken.
    outside.clear()
    with torch.inference_mode():
        store.get("cnn")(torch.zeros(1, 1, 28, 28))
    control = list(outside)
    report = {"decorated": spaces.decorated, "placement": placement, "calls": calls, "control_outside": control}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
