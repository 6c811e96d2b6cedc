"""How a failure reaches a visitor: a clear message in the UI and the API, never a stack trace."""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import Callable

import gradio as gr

from archdemo.errors import InputError
from archdemo.weights.hub import WeightsError

log = logging.getLogger("archdemo.ui")


def public_message(error: Exception) -> str:
    """An error's message naming files, never the server's folders (absolute or relative)."""
    return re.sub(r"(?<![\w.-])[^\s'\"]*/((?:config|tokenizer)\.json|model\.safetensors)", r"\1", str(error))


def user_errors(fn: Callable) -> Callable:
    """Turn bad input into a clear message in the UI and the API, and never leak a stack trace.

    Coroutine functions stay coroutine functions, so Gradio still runs them on its event loop."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def awaited(*args, **kwargs):
            try:
                return await fn(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - sorted into a message exactly as below
                raise as_user_error(e, fn.__name__) from None

        return awaited

    if inspect.isgeneratorfunction(fn):  # a streaming handler: its errors come while it is iterated

        @functools.wraps(fn)
        def streamed(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - sorted into a message exactly as below
                raise as_user_error(e, fn.__name__) from None

        return streamed

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - sorted into a message by as_user_error
            raise as_user_error(e, fn.__name__) from None

    return wrapper


def as_user_error(e: Exception, where: str) -> gr.Error:
    """The message a visitor sees for an exception (logged when it is our fault, not theirs)."""
    if isinstance(e, gr.Error):
        return e
    if isinstance(e, InputError):
        return gr.Error(str(e), print_exception=False)
    if isinstance(e, WeightsError):  # a visitor's own model that can no longer be loaded
        return gr.Error(f"Your model could not be loaded: {public_message(e)}", print_exception=False)
    log.error("unexpected error in %s", where, exc_info=e)
    return gr.Error("Something went wrong on our side; please try again.", print_exception=False)
