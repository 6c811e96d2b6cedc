"""Things that are not digits, drawn the way a visitor draws: the negatives for the "is this a digit?" meter.

Five kinds, each on a 280x280 canvas with a pen about as wide as the drawing pad's (white ink on black),
so that ``prepare_digit`` treats them exactly as it treats a drawing: letters rendered with the fonts this
machine has (none are shipped), random-walk scribbles, random Bezier curves, circles and other simple
shapes, and blank-ish noise. Seeded: the same seed gives the same images on the same machine (the letters
depend on which fonts are installed; ``fonts()`` names them). numpy and PIL only.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CANVAS = 280  # px, as the drawing pad
PEN = 16  # px, as the drawing pad's brush
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "/Library/Fonts", "C:/Windows/Fonts")
# Ordinary upright and slanted text faces, in this order of preference; symbol and math fonts would be unfair.
PREFERRED = ("DejaVuSans", "DejaVuSerif", "DejaVuSans-Bold", "LiberationSerif-Italic", "LiberationSans-Regular")
FONTS_USED = 4
LETTERS = string.ascii_uppercase + string.ascii_lowercase


@cache
def fonts() -> tuple[str, ...]:
    """Up to ``FONTS_USED`` TrueType fonts found on this machine (paths), preferred faces first; () if none."""
    found: dict[str, str] = {}
    for folder in FONT_DIRS:
        root = Path(folder).expanduser()
        if root.is_dir():
            for path in sorted(root.rglob("*.[tT][tT][fF]")):
                found.setdefault(path.stem, str(path))
    ordered = [found[n] for n in PREFERRED if n in found]
    ordered += [p for n, p in sorted(found.items()) if p not in ordered and "math" not in n.lower()]
    return tuple(ordered[:FONTS_USED])


def _canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("L", (CANVAS, CANVAS), 0)
    return img, ImageDraw.Draw(img)


def letter(char: str, font_path: str | None) -> np.ndarray:
    """One character, large, white on black; ``font_path`` None: PIL's built-in font."""
    img, draw = _canvas()
    font = ImageFont.truetype(font_path, 200) if font_path else ImageFont.load_default(size=200)
    draw.text((CANVAS / 2, CANVAS / 2), char, fill=255, font=font, anchor="mm")
    return np.asarray(img)


def letters() -> list[np.ndarray]:
    """A-Z and a-z in each font found (or PIL's built-in font when there is none)."""
    return [letter(c, f) for f in (fonts() or (None,)) for c in LETTERS]


def stroke(points: np.ndarray) -> np.ndarray:
    """One pen stroke through (K, 2) canvas points (x, y), as on the drawing pad."""
    img, draw = _canvas()
    pts = [tuple(p) for p in np.clip(points, 20, CANVAS - 20).tolist()]
    draw.line(pts, fill=255, width=PEN, joint="curve")
    for x, y in (pts[0], pts[-1]):  # round pen ends
        draw.ellipse((x - PEN / 2, y - PEN / 2, x + PEN / 2, y + PEN / 2), fill=255)
    return np.asarray(img)


def random_walk(rng: np.random.Generator) -> np.ndarray:
    """A scribble: 30-80 steps whose heading drifts at random."""
    n = int(rng.integers(30, 81))
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.6, n))
    steps = rng.uniform(6, 16, n)[:, None] * np.stack([np.cos(heading), np.sin(heading)], 1)
    return stroke(CANVAS / 2 + np.cumsum(steps, 0) - steps.sum(0) / 2)


def bezier(rng: np.random.Generator) -> np.ndarray:
    """Two or three joined cubic Bezier segments through random control points."""
    t = np.linspace(0, 1, 40)[:, None]
    start, pts = rng.uniform(30, 250, 2), []
    for _ in range(int(rng.integers(2, 4))):
        c1, c2, end = rng.uniform(30, 250, (3, 2))
        pts.append((1 - t) ** 3 * start + 3 * (1 - t) ** 2 * t * c1 + 3 * (1 - t) * t**2 * c2 + t**3 * end)
        start = end
    return stroke(np.concatenate(pts))


def circle(rng: np.random.Generator) -> np.ndarray:
    """An outlined circle or ellipse: the shape most like a digit (a 0)."""
    img, draw = _canvas()
    rx, ry = rng.uniform(50, 110), rng.uniform(50, 110)
    draw.ellipse((140 - rx, 140 - ry, 140 + rx, 140 + ry), outline=255, width=PEN)
    return np.asarray(img)


def shape(rng: np.random.Generator) -> np.ndarray:
    """A square, triangle, star, plus or cross, outlined or filled, at a random angle."""
    img, draw = _canvas()
    kind = rng.choice(["square", "triangle", "star", "plus", "cross", "filled"])
    r, angle = rng.uniform(60, 110), rng.uniform(0, 2 * np.pi)
    corners = {"square": 4, "triangle": 3, "star": 10, "filled": int(rng.integers(3, 7))}.get(kind, 4)
    if kind in ("plus", "cross"):
        for a in angle + np.array([0.0, np.pi / 2]) + (np.pi / 4 if kind == "cross" else 0.0):
            dx, dy = r * np.cos(a), r * np.sin(a)
            draw.line((140 - dx, 140 - dy, 140 + dx, 140 + dy), fill=255, width=PEN)
        return np.asarray(img)
    a = angle + np.arange(corners) * 2 * np.pi / corners
    radius = np.where(np.arange(corners) % 2, r * 0.45, r) if kind == "star" else np.full(corners, r)
    poly = [(140 + q * np.cos(b), 140 + q * np.sin(b)) for q, b in zip(radius, a, strict=True)]
    if kind == "filled":
        draw.polygon(poly, fill=255)
    else:
        draw.line([*poly, poly[0], poly[1]], fill=255, width=PEN, joint="curve")
    return np.asarray(img)


def noise(rng: np.random.Generator) -> np.ndarray:
    """Blank-ish: faint grain over the whole canvas, sparse specks, or a few soft blobs."""
    kind = rng.integers(3)
    if kind == 0:
        a = rng.uniform(0, rng.uniform(40, 120), (CANVAS, CANVAS))
    elif kind == 1:
        a = (rng.random((CANVAS, CANVAS)) < rng.uniform(0.002, 0.02)) * 255.0
    else:
        yy, xx = np.mgrid[:CANVAS, :CANVAS]
        a = np.zeros((CANVAS, CANVAS))
        for cy, cx, s in rng.uniform([0, 0, 8], [CANVAS, CANVAS, 40], (int(rng.integers(3, 12)), 3)):  # centre, size
            a += 255 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    return np.clip(a, 0, 255).astype(np.uint8)


def _many(make: Callable[[np.random.Generator], np.ndarray], n: int, rng: np.random.Generator) -> list[np.ndarray]:
    return [make(rng) for _ in range(n)]


def non_digits(seed: int = 0, per_kind: int = 150) -> dict[str, list[np.ndarray]]:
    """{kind: [(280, 280) uint8 images]}: every letter in every font, and ``per_kind`` of each other kind."""
    rng = np.random.default_rng(seed)
    return {
        "letters": letters(),
        "random walks": _many(random_walk, per_kind, rng),
        "bezier curves": _many(bezier, per_kind, rng),
        "circles": _many(circle, per_kind, rng),
        "shapes": _many(shape, per_kind, rng),
        "noise": _many(noise, per_kind, rng),
    }
