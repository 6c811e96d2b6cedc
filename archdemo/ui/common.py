"""Pieces every tab uses: error handling, image helpers, the explanation and source-code blocks."""

from __future__ import annotations

import functools
import hashlib
import inspect
import io
import logging
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import gradio as gr
import numpy as np
from gradio.utils import get_upload_folder
from PIL import Image

from archdemo import processing as P
from archdemo.hub import USER_MAX_PARAMETERS, USER_MAX_WEIGHTS_BYTES, WeightsError
from archdemo.registry import get_spec
from archdemo.service import ArchDemoService

log = logging.getLogger("archdemo.ui")
# How every live update is wired: only the newest input counts (older pending runs are dropped), no
# spinner over the outputs, and not part of the public API.
LIVE = {"trigger_mode": "always_last", "show_progress": "hidden", "api_visibility": "private"}
DISPLAY = 196  # px: 28x28 digits are shown 7x larger, pixel for pixel


def user_errors(fn: Callable) -> Callable:
    """Turn bad input into a clear message in the UI and the API, and never leak a stack trace."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except P.InputError as e:
            raise gr.Error(str(e), print_exception=False) from None
        except WeightsError as e:  # a visitor's own model that can no longer be loaded
            raise gr.Error(f"Your model could not be loaded: {_public(e)}", print_exception=False) from None
        except gr.Error:
            raise
        except Exception:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error("Something went wrong on our side; please try again.", print_exception=False) from None

    return wrapper


def editor_image(value: dict | np.ndarray | None) -> np.ndarray | None:
    """The composite of a sketchpad / image editor value (or a plain image) as an array."""
    if isinstance(value, dict):
        return value.get("composite")
    return value


def is_blank(image: np.ndarray | None) -> bool:
    if image is None:
        return True
    try:
        ink = P.to_grayscale_ink(image)
    except P.InputError:
        return False
    return float(ink.max()) - float(ink.min()) < P.MIN_INK


def enlarge(img28: np.ndarray) -> np.ndarray:
    """(28, 28) in [0, 1] -> (196, 196) uint8, nearest neighbour so each pixel stays a crisp square."""
    k = DISPLAY // img28.shape[0]
    return (np.kron(np.clip(img28, 0, 1), np.ones((k, k))) * 255).astype(np.uint8)


def image_file(image: np.ndarray, name: str = "image") -> str:
    """An output image as a PNG file in Gradio's cache, written so that no reader ever sees half a file.

    Returning an array lets Gradio write the file itself, under a name made from its content, by
    truncating and rewriting it. When many people get the same picture at once (a room loading the
    same example, the API asked the same question), one request rewrites the file while another is
    sending it, and that download arrives empty (measured: 1-3% of /denoise_digit images at 32-64
    users). Here the file is written under a temporary name and renamed into place, and a file that
    already exists is reused, never rewritten; Gradio serves a path inside its cache as it is.
    """
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image)).save(buffer, format="PNG")
    data = buffer.getvalue()
    folder = Path(get_upload_folder()) / hashlib.sha256(data).hexdigest()
    path = folder / f"{name}.png"
    if path.exists():
        try:
            os.utime(path)  # Gradio's cache cleaning ages files by time: this one is in use again
        except OSError:
            pass
        return str(path)
    folder.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return str(path)


def about(title: str, idea: str, good: str, struggles: str, here: str) -> None:
    """The short explanation at the top of a tab, in four parts."""
    gr.Markdown(
        f"### {title}\n{idea}\n\n"
        f"- **Good at:** {good}\n- **Struggles with:** {struggles}\n- **What to look for here:** {here}",
        elem_classes="about",
    )


def source_code(*modules: ModuleType) -> None:
    """The code that actually runs, read from the installed package, shown collapsed."""
    with gr.Accordion("The model's source code (what runs behind this tab)", open=False):
        for module in modules:
            gr.Code(inspect.getsource(module), language="python", label=module.__name__, interactive=False)


def drawing_pad(component: type[gr.ImageEditor], **kwargs) -> gr.ImageEditor:
    """A 280x280 canvas with one black pen-like brush and no layers or crop, as both digit tabs use."""
    return component(
        type="numpy",
        image_mode="RGBA",
        canvas_size=(280, 280),
        fixed_canvas=True,
        brush=gr.Brush(colors=["#000000"], default_size=16, color_mode="fixed"),
        layers=False,
        transforms=(),
        **kwargs,
    )


OWN_MODEL_DEFAULT = "Using archdemo's own model."


def _public(error: Exception) -> str:
    """An error's message naming files, never the server's cache folders."""
    return re.sub(r"(?:/[^\s/]+)+/(config\.json|model\.safetensors)", r"\1", str(error))


def user_models_allowed() -> bool:
    """Whoever runs the app can remove the "use your own model" panels: ARCHDEMO_USER_MODELS=off."""
    return os.environ.get("ARCHDEMO_USER_MODELS", "on").strip().lower() not in ("off", "0", "false", "no")


def own_model_picker(service: ArchDemoService, name: str) -> tuple[gr.State, list]:
    """ "Use your own model": a Hub repo id (and revision) for this tab, for this visitor only.

    Returns the visitor's choice (a ``gr.State`` to pass to ``service.using``) and the events that
    change it, so the tab can redraw with the new model.
    """
    spec = get_spec(name)
    arch = spec.model_cls.__name__
    choice = gr.State(None)
    if not user_models_allowed():
        return choice, []
    with gr.Accordion("Use your own model from the Hugging Face Hub", open=False, elem_id=f"{name}-own"):
        gr.Markdown(
            f"Train a {arch} of your own (`python -m archdemo.train {name}`, with other sizes if you like), "
            "push it with `python -m archdemo.publish`, and load it here: everything in this tab then runs "
            "on your model, for you only. The repo needs `config.json` naming the architecture "
            f"`{arch}` and `model.safetensors`; nothing else in it is read or run. Limits: "
            f"{USER_MAX_PARAMETERS / 1e6:.0f} M parameters, {USER_MAX_WEIGHTS_BYTES / 2**20:.0f} MB of weights."
        )
        with gr.Row():
            repo = gr.Textbox(
                label="Hub repo id", placeholder="your-name/my-model", max_length=200, elem_id=f"{name}-own-repo"
            )
            revision = gr.Textbox(
                label="Revision: commit, tag or branch (empty: main)", max_length=100, elem_id=f"{name}-own-revision"
            )
        with gr.Row():
            load = gr.Button("Load this model", elem_id=f"{name}-own-load")
            reset = gr.Button("Back to archdemo's model", elem_id=f"{name}-own-reset")
        status = gr.Markdown(OWN_MODEL_DEFAULT, elem_id=f"{name}-own-status")

    def pick(repo_id: str, rev: str, current: str | None) -> tuple[str | None, str]:
        still = "Still using " + ("the model you loaded before." if current else "archdemo's own model.")
        try:
            return service.load_user_model(name, str(repo_id or "")[:200], str(rev or "")[:100])
        except WeightsError as e:
            return current, f"**Not loaded.** {_public(e)}\n\n{still}"
        except Exception:
            log.exception("loading a visitor's model for %s", name)
            return current, f"**Not loaded:** something went wrong on our side. {still}"

    events = [
        load.click(pick, [repo, revision, choice], [choice, status], api_visibility="private"),
        reset.click(lambda: (None, OWN_MODEL_DEFAULT), None, [choice, status], api_visibility="private"),
    ]
    return choice, events
