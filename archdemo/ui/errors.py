"""How a failure reaches a visitor: a clear message in the UI and the API, never a stack trace."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable

import gradio as gr

from archdemo.errors import InputError
from archdemo.hub import WeightsError

log = logging.getLogger("archdemo.ui")


def public_message(error: Exception) -> str:
    """An error's message naming files, never the server's cache folders."""
    return re.sub(r"(?:/[^\s/]+)+/(config\.json|model\.safetensors)", r"\1", str(error))


def user_errors(fn: Callable) -> Callable:
    """Turn bad input into a clear message in the UI and the API, and never leak a stack trace."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputError as e:
            raise gr.Error(str(e), print_exception=False) from None
        except WeightsError as e:  # a visitor's own model that can no longer be loaded
            raise gr.Error(f"Your model could not be loaded: {public_message(e)}", print_exception=False) from None
        except gr.Error:
            raise
        except Exception:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error("Something went wrong on our side; please try again.", print_exception=False) from None

    return wrapper
