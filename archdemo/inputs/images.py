"""Images in: any drawing or upload -> a 28x28 float array made the way MNIST digits were made.

Also the corruptions the autoencoder learns to undo, and PSNR to score it. Pure numpy and PIL: no
torch, no gradio. Every function validates its input and raises ``InputError`` with a sentence a user
can act on.
"""

from __future__ import annotations

import base64
import binascii
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image

from archdemo.errors import InputError
from archdemo.inputs.answers import number

MAX_IMAGE_SIDE = 8192  # pixels; a phone photo is ~4000
MAX_IMAGE_PIXELS = 40_000_000
MIN_INK = 0.02  # an image whose ink never gets this far from the background is blank


def to_grayscale_ink(image: np.ndarray | Image.Image) -> np.ndarray:
    """Any image -> (H, W) float32 'ink' in [0, 1]: 1 where the digit is, 0 for background.

    Handles RGB(A), grey, 16-bit and bool arrays. Transparent pixels count as background (the
    sketchpad draws strokes on a transparent canvas). Black-on-white input is inverted, decided by
    the border: the background is whatever colour most of the border has.
    """
    if isinstance(image, Image.Image):
        image = pil_to_array(image)
    if not isinstance(image, np.ndarray):
        raise InputError(f"Expected an image, got {type(image).__name__}.")
    a = image
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise InputError(f"Expected a 2-D image with 1, 3 or 4 channels, got an array of shape {a.shape}.")
    check_image_size(a.shape[1], a.shape[0])
    if a.dtype == bool:
        a = a.astype(np.float32)
    elif np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.float32) / float(np.iinfo(a.dtype).max)
    elif np.issubdtype(a.dtype, np.floating):
        with np.errstate(over="ignore"):
            a = a.astype(np.float32)
        if not np.isfinite(a).all():
            raise InputError("The image contains NaN or infinite values.")
        if a.size and a.max() > 1.0:
            a = a / 255.0
    else:
        raise InputError(f"Unsupported pixel type {a.dtype}.")
    a = np.clip(a, 0.0, 1.0)
    if a.ndim == 3:
        rgb = a[:, :, :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        if a.shape[2] == 4:
            alpha = a[:, :, 3]
            if np.median(_border(alpha)) < 0.5:
                # Strokes on a transparent canvas (the sketchpad), or a digit cut out of its background
                # (a palette PNG or GIF with a transparent colour): ink is the painted pixels' contrast,
                # light strokes or dark ones, so 1-bit transparency keeps the digit's antialiasing.
                painted = alpha > 0.5
                if not painted.any():
                    return alpha.astype(np.float32)
                contrast = rgb if float(np.median(rgb[painted])) > 0.5 else 1.0 - rgb
                top = float(contrast[painted].max())
                if top < MIN_INK:  # strokes in the canvas colour: only alpha tells them apart
                    return alpha.astype(np.float32)
                return (alpha * np.clip(contrast / top, 0.0, 1.0)).astype(np.float32)
            rgb = rgb * alpha + (1.0 - alpha)  # composite over white
        a = rgb
    if np.median(_border(a)) > 0.5:  # light background: dark ink
        a = 1.0 - a
    return a.astype(np.float32)


def _border(a: np.ndarray) -> np.ndarray:
    return np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])


def pil_to_array(img: Image.Image) -> np.ndarray:
    """Decode a PIL image of any mode (palette, CMYK, 16-bit, animated: first frame) to RGBA or grey."""
    check_image_size(*img.size)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        return (arr / top).astype(np.float32)
    if img.mode == "F":
        return np.asarray(img, dtype=np.float32)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        return np.asarray(img.convert("RGBA"))
    if img.mode in ("L", "1"):
        return np.asarray(img.convert("L"))
    return np.asarray(img.convert("RGB"))


def check_image_size(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise InputError("The image is empty (zero pixels).")
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
        raise InputError(
            f"The image is {width}x{height} pixels; the largest accepted is {MAX_IMAGE_SIDE} pixels a side "
            f"and {MAX_IMAGE_PIXELS // 1_000_000} megapixels. Please use a smaller image."
        )


def mnist_style(ink: np.ndarray, size: int = 28, box: int = 20) -> np.ndarray:
    """Ink (H, W) in [0, 1] -> (size, size) float32 the way MNIST was made.

    Crop to the ink, scale the longer side to ``box`` pixels keeping the aspect ratio (antialiased),
    then place it so its centre of mass sits at the centre of the ``size`` x ``size`` frame.
    """
    if ink.size == 0 or float(ink.max()) - float(ink.min()) < MIN_INK:
        raise InputError("The image is blank: draw or upload a digit first.")
    ink = ink - float(np.median(ink)) if float(np.median(ink)) > 0.05 else ink  # lift a grey background
    ink = np.clip(ink, 0, 1)
    ys, xs = np.nonzero(ink > max(MIN_INK, 0.1 * float(ink.max())))
    if len(ys) == 0:
        raise InputError("The image is blank: draw or upload a digit first.")
    crop = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = crop.shape
    scale = box / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    resized = (
        np.asarray(
            Image.fromarray((crop * 255).astype(np.uint8)).resize((nw, nh), Image.Resampling.LANCZOS),
            dtype=np.float32,
        )
        / 255.0
    )
    out = np.zeros((size, size), dtype=np.float32)
    total = resized.sum()
    if total <= 0:
        raise InputError("The image is blank: draw or upload a digit first.")
    cy = (resized.sum(axis=1) * np.arange(nh)).sum() / total
    cx = (resized.sum(axis=0) * np.arange(nw)).sum() / total
    top = int(round(size / 2 - 0.5 - cy))
    left = int(round(size / 2 - 0.5 - cx))
    top = min(max(top, 0), size - nh)
    left = min(max(left, 0), size - nw)
    out[top : top + nh, left : left + nw] = resized
    return np.clip(out, 0.0, 1.0)


def prepare_digit(image: np.ndarray | Image.Image | None) -> np.ndarray:
    """Drawing or upload -> (28, 28) float32 in [0, 1], white digit on black, or InputError."""
    if image is None:
        raise InputError("No image: draw a digit, upload one or pick a sample.")
    return mnist_style(to_grayscale_ink(image))


PAD_PIXELS = 28 * 28


def from_pad(value: object) -> np.ndarray | None:
    """The drawing pad's value -> (28, 28) float32 in [0, 1], or None for an empty pad.

    The pad reduces the drawing in the browser (see ``archdemo/ui/pad.js``) to the 28x28 picture
    ``mnist_style`` would make, and sends its 784 bytes (row by row, 0 = paper, 255 = ink) as base64.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 2 * PAD_PIXELS:
        raise InputError("The drawing pad sent something that is not a drawing; please clear it and draw again.")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    return from_pad_bytes(raw)


def from_pad_bytes(raw: bytes) -> np.ndarray | None:
    """The pad's 784 bytes themselves (as its live socket sends them) -> (28, 28) float32, or None if blank."""
    if len(raw) != PAD_PIXELS:
        raise InputError("The drawing pad sent something that is not a 28x28 drawing; please clear it and draw again.")
    pixels = np.frombuffer(raw, dtype=np.uint8)
    if int(pixels.max()) < MIN_INK * 255:
        return None
    return pixels.reshape(28, 28).astype(np.float32) / 255.0


def to_pad(digit: np.ndarray) -> str:
    """A prepared (28, 28) digit in [0, 1] -> the pad's value (what ``from_pad`` reads back)."""
    return base64.b64encode((np.clip(np.asarray(digit), 0, 1) * 255).round().astype(np.uint8).tobytes()).decode()


def psnr(clean: np.ndarray, other: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB for images in [0, 1]; capped at 100 for identical images."""
    mse = float(np.mean((np.asarray(clean, np.float64) - np.asarray(other, np.float64)) ** 2))
    return 100.0 if mse <= 1e-10 else 10.0 * float(np.log10(1.0 / mse))


# ---------------------------------------------------------------- noise

NOISE_KINDS = ("gaussian", "salt_pepper", "patch")


def add_noise(images: np.ndarray, kind: str, level: float, rng: np.random.Generator) -> np.ndarray:
    """Corrupt images in [0, 1] (any shape ending in (H, W)); the result is clipped to [0, 1].

    gaussian: add N(0, level^2) per pixel; salt_pepper: a fraction ``level`` of pixels set to 0 or 1;
    patch: a square of side ``level`` x image side blanked to 0 at a random place.
    """
    if kind not in NOISE_KINDS:
        raise InputError(f"Unknown noise kind {kind!r}; choose one of {', '.join(NOISE_KINDS)}.")
    level = number(level, "noise level", 0.0, 1.0)
    x = np.array(images, dtype=np.float32, copy=True)
    if kind == "gaussian":
        x += rng.normal(0.0, level, size=x.shape).astype(np.float32)
    elif kind == "salt_pepper":
        hit = rng.random(x.shape) < level
        x[hit] = (rng.random(int(hit.sum())) < 0.5).astype(np.float32)
    else:
        h, w = x.shape[-2:]
        side = int(round(level * min(h, w)))
        flat = x.reshape(-1, h, w)
        for img in flat:
            if side:
                top, left = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
                img[top : top + side, left : left + side] = 0.0
        x = flat.reshape(x.shape)
    return np.clip(x, 0.0, 1.0)


# ---------------------------------------------------------------- files

ALLOWED_FORMATS = {"PNG", "JPEG", "MPO", "GIF", "WEBP", "BMP", "TIFF"}  # MPO: a phone camera's JPEG
# Pixel layouts an upload may decode to, and what a pixel costs once decoded (PIL keeps RGB in 4 bytes).
DECODED_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "LA": 4, "PA": 4, "RGB": 4, "RGBA": 4}
DECODED_BYTES |= {"CMYK": 4, "YCbCr": 4, "I": 4, "F": 4}
WORK_SIDE = 512  # decoded uploads are reduced to at most this many pixels a side (the models read 28)
# What decoding costs at its peak, per pixel, measured with ru_maxrss on the largest accepted images
# (8192x4882): a lossless RGBA WebP 15 bytes (libwebp's buffer and PIL's), a 16-bit RGBA PNG or an RGBA
# TIFF 7.7, a GIF 5, an 8-bit PNG 4, a JPEG (decoded at reduced scale) under 1.
DECODE_COST = {"WEBP": 16}
DECODE_COST_DEFAULT = 8
DECODE_BUDGET = 768 * 2**20  # bytes every decode at once may cost together, however many requests arrive
_UNREADABLE = "That file is not an image this app can read (use PNG, JPEG, GIF, WebP, BMP or TIFF)."


class _Budget:
    """A counting semaphore in bytes: hold(n) waits until n bytes are free."""

    def __init__(self, total: int) -> None:
        self.total, self._free, self._changed = total, total, threading.Condition()

    @contextmanager
    def hold(self, amount: int) -> Iterator[None]:
        amount = min(amount, self.total)
        with self._changed:
            self._changed.wait_for(lambda: self._free >= amount)
            self._free -= amount
        try:
            yield
        finally:
            with self._changed:
                self._free += amount
                self._changed.notify_all()


_decodes = _Budget(DECODE_BUDGET)


def load_image_file(path: str) -> Image.Image:
    """Open an uploaded file as an image of at most ``WORK_SIDE`` pixels a side, or InputError.

    Before any pixel is decoded the header must name an allowed format, a known pixel layout and a size
    within ``check_image_size``. Decodes then wait until what they cost fits in ``DECODE_BUDGET`` beside
    the others in progress; JPEGs decode at reduced scale, the rest are reduced as soon as decoded.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size check below decides
            img = Image.open(path)
    except FileNotFoundError:
        raise InputError("The uploaded file could not be found; please upload it again.") from None
    except (Image.UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InputError(_UNREADABLE) from None
    except Image.DecompressionBombError:
        raise InputError("The image is too large to open safely.") from None
    if img.format not in ALLOWED_FORMATS:
        raise InputError(f"{img.format} images are not supported (use PNG, JPEG, GIF, WebP, BMP or TIFF).")
    check_image_size(*img.size)  # from the header, before any pixel is decoded
    if img.mode not in DECODED_BYTES:
        raise InputError(f"Images with {img.mode} pixels are not supported; please save it as an 8-bit PNG or JPEG.")
    cost = img.width * img.height * DECODE_COST.get(img.format, DECODE_COST_DEFAULT)
    with _decodes.hold(cost):
        try:
            return _decode_reduced(img)
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
            raise InputError("The image file is truncated or corrupt; please upload it again.") from None
        finally:
            # The full-size pixels are freed before the budget is given back: closed after it, they
            # outlived it, and another decode could start in the room they still took.
            img.close()


def _decode_reduced(img: Image.Image) -> Image.Image:
    """Decode the first frame, reduced to at most ``WORK_SIDE`` a side (a JPEG at reduced scale already)."""
    img.seek(0)  # animated images: the first frame
    side = max(img.size)
    if img.format in ("JPEG", "MPO") and side > WORK_SIDE:
        img.draft(img.mode, (max(1, img.width * WORK_SIDE // side), max(1, img.height * WORK_SIDE // side)))
    img.load()
    if img.mode in ("P", "PA"):  # reduce() would average palette indices
        img = img.convert("RGBA" if img.mode == "PA" or "transparency" in img.info else "RGB")
    elif img.mode == "1":
        img = img.convert("L")
    sixteen = img.mode.startswith("I;16")  # reduce() takes 32-bit grey: convert, then scale to [0, 1]
    img = img.convert("I") if sixteen else img
    factor = -(-max(img.size) // WORK_SIDE)  # ceil
    out = img.reduce(factor) if factor > 1 else img.copy()
    if sixteen:
        out = Image.fromarray(np.asarray(out, dtype=np.float32) / 65535.0)
    out.format = img.format or "PNG"
    return out
