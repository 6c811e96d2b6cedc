"""What an answer looks like, and the one check for numbers a visitor sends (a slider, an API argument).

``label_dict`` is the shape every classifier's answer takes in the UI and the API. ``number`` and
``whole_number`` turn what came in into a float or an int, or raise an ``InputError`` that names the
setting: ``None``, ``True``, ``"10"``, NaN, infinities and integers too large for a float are refused here,
at the edge, so that nothing below ever sees them.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from archdemo.errors import InputError


def label_dict(probs, labels) -> dict:
    """Probabilities -> {"label": top label, "probabilities": {label: p}} (the API's answer shape)."""
    probs = [float(p) for p in probs]
    return {"label": labels[int(np.argmax(probs))], "probabilities": dict(zip(labels, probs, strict=True))}


def number(value: object, what: str, low: float | None = None, high: float | None = None) -> float:
    """A finite number (from ``low`` to ``high`` when given) -> float, or InputError naming ``what``."""
    if value is None:
        raise InputError(f"No {what} was sent: send a number.")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):  # numpy scalars are Real
        raise InputError(f"The {what} must be a number, got {type(value).__name__}.")
    try:
        x = float(value)
    except OverflowError:  # an int with hundreds of digits
        raise InputError(f"The {what} is too large.") from None
    if not math.isfinite(x) or (low is not None and x < low) or (high is not None and x > high):
        span = f" from {low:g} to {high:g}" if low is not None and high is not None else ""
        raise InputError(f"The {what} must be a number{span}, got {x:g}.")
    return x


def whole_number(value: object, what: str, low: int, high: int, unit: str = "") -> int:
    """A whole number from ``low`` to ``high`` (10.0 is fine, 10.5 is not) -> int, or InputError."""
    x = number(value, what)
    if x != int(x) or not low <= x <= high:
        raise InputError(f"The {what} must be a whole number{unit} from {low:,} to {high:,}.")
    return int(x)
