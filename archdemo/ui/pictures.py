"""Pictures in and out of the tabs: drawing pads, digits shown large, and output images as safe files."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

import gradio as gr
import numpy as np
from gradio.utils import get_upload_folder
from PIL import Image

from archdemo.errors import InputError
from archdemo.image_processing import MIN_INK, to_grayscale_ink

DISPLAY = 196  # px: 28x28 digits are shown 7x larger, pixel for pixel


def editor_image(value: dict | np.ndarray | None) -> np.ndarray | None:
    """The composite of a sketchpad / image editor value (or a plain image) as an array."""
    if isinstance(value, dict):
        return value.get("composite")
    return value


def is_blank(image: np.ndarray | None) -> bool:
    if image is None:
        return True
    try:
        ink = to_grayscale_ink(image)
    except InputError:
        return False
    return float(ink.max()) - float(ink.min()) < MIN_INK


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
