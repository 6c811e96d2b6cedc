"""Pictures of the digit tasks: the CNN's evidence over the drawing, its feature maps, the autoencoder's code."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from PIL import Image

from archdemo.plots.figure import ACCENT, LABEL, TICK, TITLE, new_figure

DISPLAY = 196  # px: 28x28 digits are shown 7x larger, pixel for pixel

if TYPE_CHECKING:
    from archdemo.tasks.digits import DenoiseReading, DigitReading


def enlarge(img28: np.ndarray) -> np.ndarray:
    """(28, 28) in [0, 1] -> (196, 196) uint8 (or a strip of them), nearest neighbour: each pixel a crisp square."""
    k = DISPLAY // img28.shape[0]
    return (np.kron(np.clip(img28, 0, 1), np.ones((k, k))) * 255).astype(np.uint8)


def digit_pictures(r: DigitReading) -> dict[str, np.ndarray]:
    """The CNN tab's three pictures of one reading: what it saw, where its evidence was, its feature maps."""
    return {"seen": enlarge(r.digit), "cam": cam_overlay(r.digit, r.cam), "features": feature_maps_mosaic(r)}


def denoise_pictures(r: DenoiseReading) -> dict[str, np.ndarray]:
    """The autoencoder tab's three digits, side by side in the tab: clean, noisy, denoised."""
    return {"clean": enlarge(r.clean), "noisy": enlarge(r.noisy), "denoised": enlarge(r.denoised)}


def walk_strip(frames: np.ndarray) -> np.ndarray:
    """(steps, 28, 28) decoded points of a latent walk -> one enlarged strip, left to right."""
    return enlarge(np.concatenate(list(frames), axis=1))


def cam_overlay(digit28: np.ndarray, cam: np.ndarray, size: int = 196) -> np.ndarray:
    """(size, size, 3) uint8: the digit in grey with the class-activation map as heat on top.

    The digit is enlarged with nearest-neighbour (the pixels the model really saw), the CAM smoothly;
    heat is blended in proportion to the CAM, so places with no evidence show the plain digit.
    """
    digit = np.clip(np.asarray(digit28, np.float32), 0, 1)
    heat = np.clip(np.asarray(cam, np.float32), 0, 1)
    if digit.ndim != 2 or heat.shape != digit.shape:
        raise ValueError(f"digit and cam must be matching 2-D arrays, got {digit.shape} and {heat.shape}")
    big_digit = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.NEAREST))
    big_heat = np.clip(np.asarray(Image.fromarray(heat).resize((size, size), Image.Resampling.BILINEAR)), 0, 1)
    colour = colormaps["jet"](big_heat)[..., :3]  # (size, size, 3)
    alpha = 0.65 * big_heat[..., None]
    base = 0.8 * big_digit[..., None]  # a little below white so hot colours stay visible on strokes
    rgb = (1 - alpha) * base + alpha * colour
    return (np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)


def latent_code_bars(code: Sequence[float]) -> Figure:
    """The autoencoder's bottleneck code, one bar per number."""
    z = np.asarray(code, dtype=np.float64).ravel()
    fig = new_figure(2.4)
    ax = fig.add_subplot()
    ax.bar(range(len(z)), z, color=ACCENT, width=0.8)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlim(-0.7, len(z) - 0.3)
    step = max(1, math.ceil(len(z) / 8))
    ax.set_xticks(range(0, len(z), step))
    ax.tick_params(labelsize=TICK)
    ax.set_xlabel("code number", fontsize=LABEL)
    ax.set_title(f"The {len(z)} numbers in the bottleneck", fontsize=TITLE)
    return fig


def feature_maps_mosaic(insides: DigitReading, per_stage: int = 8, cell: int = 56, gap: int = 4) -> np.ndarray:
    """The first ``per_stage`` feature maps of every stage as one greyscale image (rows = stages).

    Each map is scaled to its own [0, 1] and blown up to ``cell`` px with nearest neighbour, so a 7x7
    map shows as 7x7 blocks. A plain array, not a figure: it is drawn in ~1 ms, which keeps the CNN
    tab live while drawing (the matplotlib grid above takes ~160 ms).
    """
    stages = insides.feature_maps
    out = np.full((len(stages) * (cell + gap) - gap, per_stage * (cell + gap) - gap), 255, np.uint8)
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
