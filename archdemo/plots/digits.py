"""Pictures of the digit tasks: the CNN's evidence over the drawing, its feature maps, the autoencoder's code."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont

from archdemo.plots.figure import (
    AMOUNT,
    LABEL,
    MUTED,
    TICK,
    TITLE,
    VALUE_CMAP,
    VALUE_HIGH,
    VALUE_LOW,
    new_figure,
    themed,
)

DISPLAY = 196  # px: 28x28 digits are shown 7x larger, pixel for pixel
# The pictures are drawn like the digits themselves, on black, which reads on light and dark pages
# alike; the lines between their tiles are a mid grey, not white (a white grid glared in dark mode).
GAP_GREY = 110
LIGHT_TEXT = (200, 204, 212)

if TYPE_CHECKING:
    from archdemo.tasks.digits import DenoiseReading, DigitReading, EveryReader, ReaderReading


def enlarge(img28: np.ndarray) -> np.ndarray:
    """(28, 28) in [0, 1] -> (196, 196) uint8 (or a strip of them), nearest neighbour: each pixel a crisp square."""
    k = DISPLAY // img28.shape[0]
    return (np.kron(np.clip(img28, 0, 1), np.ones((k, k))) * 255).astype(np.uint8)


def digit_pictures(r: DigitReading) -> dict[str, np.ndarray]:
    """The CNN tab's three pictures of one reading: what it saw, where its evidence was, its feature maps."""
    return {"seen": enlarge(r.digit), "cam": cam_overlay(r.digit, r.cam), "features": feature_maps_mosaic(r)}


def every_reader_pictures(r: EveryReader, cnn: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """One picture per digit reader, in the order of ``r``: the CNN's evidence (``cnn``, if drawn already),
    then each other reader's inside."""
    pictures = {"cnn": cam_overlay(r.cnn.digit, r.cnn.cam) if cnn is None else cnn}
    for other in r.others:
        pictures[other.name] = reader_picture(other, r.cnn.digit)
    return pictures


def reader_picture(r: ReaderReading, digit28: np.ndarray) -> np.ndarray:
    """A reader's inside as a picture, by its shape: beliefs after each row, attention maps, or a code."""
    if r.inside.ndim == 2:
        return rows_and_beliefs(digit28, r.inside, r.labels)
    if r.inside.ndim == 4:
        return attention_grid(digit28, r.inside)
    return code_grid(r.inside)


def rows_and_beliefs(digit28: np.ndarray, beliefs: np.ndarray, labels: Sequence[str], cell: int = 20) -> np.ndarray:
    """The digit (left) beside what the LSTM believed after reading each of its rows (right, one column per class).

    Row y of the right half is the reader's probability of each class once rows 0..y are read, so its
    change of mind shows where the stroke that decides comes into view.
    """
    k = DISPLAY // beliefs.shape[0]  # 7 px per row, as the digit's rows
    head = 16
    heat = np.kron(np.clip(beliefs, 0, 1), np.ones((k, cell)))  # (196, classes * cell)
    rgb = heat[..., None] * np.array(_rgb(AMOUNT))  # black (0) to the "how much" colour (1)
    picture = np.zeros((head + DISPLAY, DISPLAY + 8 + rgb.shape[1], 3))
    picture[head:, DISPLAY : DISPLAY + 8] = GAP_GREY / 255
    picture[head:, :DISPLAY] = enlarge(digit28)[..., None] / 255.0
    picture[head:, DISPLAY + 8 :] = rgb
    image = Image.fromarray((picture * 255).astype(np.uint8))
    draw, font = ImageDraw.Draw(image), ImageFont.load_default(size=12)
    for c, label in enumerate(labels):
        draw.text((DISPLAY + 8 + c * cell + cell // 2, head // 2), str(label), fill=LIGHT_TEXT, font=font, anchor="mm")
    draw.text((DISPLAY // 2, head // 2), "rows read", fill=LIGHT_TEXT, font=font, anchor="mm")
    return np.asarray(image)


def attention_grid(digit28: np.ndarray, attention: np.ndarray, cell: int = 70, gap: int = 4) -> np.ndarray:
    """The class token's attention over the patches, drawn on the digit: rows = layers, columns = heads.

    attention (layers, heads, g, g); each map is scaled to its own largest weight, so a head that spreads
    thinly still shows where it looked most.
    """
    layers, heads = attention.shape[:2]
    out = np.full((layers * (cell + gap) - gap, heads * (cell + gap) - gap, 3), GAP_GREY, np.uint8)
    small = np.asarray(Image.fromarray(np.clip(digit28, 0, 1).astype(np.float32)).resize((28, 28)))
    for i in range(layers):
        for j in range(heads):
            a = attention[i, j]
            heat = np.kron(a / a.max() if a.max() > 0 else a, np.ones((28 // a.shape[0],) * 2))  # (28, 28)
            y, x = i * (cell + gap), j * (cell + gap)
            out[y : y + cell, x : x + cell] = cam_overlay(small, heat, size=cell)
    return out


def code_grid(code: np.ndarray, cell: int = 24) -> np.ndarray:
    """A code of n numbers as a square-ish grid on the value scale: purple below zero, orange above, black zero."""
    z = np.asarray(code, np.float64).ravel()
    side = math.ceil(math.sqrt(len(z)))
    grid = np.zeros(side * side)
    grid[: len(z)] = z / (np.abs(z).max() or 1.0)
    grid = grid.reshape(side, side)
    rgba = VALUE_CMAP((grid + 1) / 2)
    rgb = rgba[..., :3] * rgba[..., 3:]  # on black, like the digits: a picture has no page behind it
    return (np.kron(rgb, np.ones((cell, cell, 1))) * 255).astype(np.uint8)


@functools.cache
def _colormap(name: str) -> Colormap:
    """One colormap object per name: ``colormaps[name]`` hands out a copy that rebuilds its table on first use."""
    return colormaps[name]


def _rgb(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))


def denoise_pictures(r: DenoiseReading) -> dict[str, np.ndarray]:
    """The autoencoder tab's three digits, side by side in the tab: clean, noisy, denoised."""
    return {"clean": enlarge(r.clean), "noisy": enlarge(r.noisy), "denoised": enlarge(r.denoised)}


def walk_strip(frames: np.ndarray, per_row: int = 5, gap: int = 1) -> np.ndarray:
    """(steps, 28, 28) decoded points of a latent walk -> one enlarged picture, left to right then down.

    At most ``per_row`` frames a row (rows as even as they can be), a thin grey line between frames: a
    single row of 8-10 digits was a sliver on a phone, 40 px tall.
    """
    frames = np.clip(np.asarray(frames, np.float64), 0, 1)
    rows = math.ceil(len(frames) / per_row)
    cols = math.ceil(len(frames) / rows)
    side = frames.shape[1] + gap
    grid = np.full((rows * side - gap, cols * side - gap), 0.35)
    for i, frame in enumerate(frames):
        y, x = (i // cols) * side, (i % cols) * side
        grid[y : y + frames.shape[1], x : x + frames.shape[2]] = frame
    return (np.kron(grid, np.ones((4, 4))) * 255).astype(np.uint8)


def cam_overlay(digit28: np.ndarray, cam: np.ndarray, size: int = 196) -> np.ndarray:
    """(size, size, 3) uint8: the digit in grey with the class-activation map (or attention) on top.

    The digit is enlarged with nearest-neighbour (the pixels the model really saw), the CAM smoothly;
    the one "how much" colour is blended in proportion to the CAM, so places with no evidence show the
    plain digit (the same scale as attention everywhere in the app).
    """
    digit = np.clip(np.asarray(digit28, np.float32), 0, 1)
    heat = np.clip(np.asarray(cam, np.float32), 0, 1)
    if digit.ndim != 2 or heat.shape != digit.shape:
        raise ValueError(f"digit and cam must be matching 2-D arrays, got {digit.shape} and {heat.shape}")
    big_digit = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.NEAREST))
    big_heat = np.clip(np.asarray(Image.fromarray(heat).resize((size, size), Image.Resampling.BILINEAR)), 0, 1)
    colour = np.broadcast_to(np.array(_rgb(AMOUNT), np.float32), (size, size, 3))
    alpha = 0.85 * big_heat[..., None]
    base = 0.8 * big_digit[..., None]  # a little below white so hot colours stay visible on strokes
    rgb = (1 - alpha) * base + alpha * colour
    return (np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)


def latent_code_bars(code: Sequence[float]) -> Figure:
    """The autoencoder's bottleneck code, one bar per number: purple below zero, orange above (the value scale)."""
    z = np.asarray(code, dtype=np.float64).ravel()
    fig = new_figure(2.4)
    ax = fig.add_subplot()
    ax.bar(range(len(z)), z, color=[VALUE_HIGH if v >= 0 else VALUE_LOW for v in z], width=0.8)
    ax.axhline(0, color=MUTED, linewidth=0.8)
    ax.set_xlim(-0.7, len(z) - 0.3)
    step = max(1, math.ceil(len(z) / 8))
    ax.set_xticks(range(0, len(z), step))
    ax.tick_params(labelsize=TICK)
    ax.set_xlabel("code number", fontsize=LABEL)
    ax.set_title(f"The noisy digit's code: {len(z)} numbers", fontsize=TITLE)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return themed(fig)


def feature_maps_mosaic(insides: DigitReading, per_stage: int = 8, cell: int = 56, gap: int = 4) -> np.ndarray:
    """The first ``per_stage`` feature maps of every stage as one greyscale image (rows = stages).

    Each map is scaled to its own [0, 1] and blown up to ``cell`` px with nearest neighbour, so a 7x7
    map shows as 7x7 blocks. A plain array, not a figure: it is drawn in ~1 ms, which keeps the CNN
    tab live while drawing (the matplotlib grid above takes ~160 ms).
    """
    stages = insides.feature_maps
    out = np.full((len(stages) * (cell + gap) - gap, per_stage * (cell + gap) - gap), GAP_GREY, np.uint8)
    for r, maps in enumerate(stages):
        for c, fmap in enumerate(maps[:per_stage]):
            lo, hi = float(fmap.min()), float(fmap.max())
            norm = (fmap - lo) / (hi - lo) if hi > lo else np.zeros_like(fmap)
            k = cell // fmap.shape[0]
            tile = np.kron(norm, np.ones((k, k)))
            tile = np.pad(tile, ((0, cell - tile.shape[0]), (0, cell - tile.shape[1])))
            y, x = r * (cell + gap), c * (cell + gap)
            out[y : y + cell, x : x + cell] = (tile * 255).astype(np.uint8)
    return out
