"""Serving tweaks applied to the launched Gradio app (tuned serving only): less work per request."""

from __future__ import annotations

import inspect
import logging

from fastapi import Depends, HTTPException, status
from gradio import state_holder

log = logging.getLogger("archdemo.ui")


def async_login_check(app) -> bool:
    """Run Gradio's per-request login check on the event loop instead of a worker thread.

    Gradio guards its routes (the queue, uploads, the drawing pad's ``component_server`` calls) with
    ``Depends(login_check)``, a plain function, so FastAPI hands every request to a worker thread
    and back just to learn that no login is needed. Profiled with py-spy (``--gil``) under 100
    simulated visitors drawing, that hand-off was 55-62% of the event loop's time on the pad's
    path. This installs the same check as a coroutine through FastAPI's ``dependency_overrides``.
    Returns False (and changes nothing) if Gradio's routes no longer look as expected.
    """
    routes = _routes(getattr(app, "routes", []))
    route = next((r for r in routes if getattr(r, "path", "").endswith("/login_check")), None)
    dependant = getattr(route, "dependant", None)
    if route is None or dependant is None or len(dependant.dependencies) != 1:
        log.warning("Gradio's login check was not found; it keeps running in a worker thread")
        return False
    current_user = dependant.dependencies[0].call  # Gradio's own (async) get_current_user

    async def login_check(user: str | None = Depends(current_user)) -> None:
        if (app.auth is None and app.auth_dependency is None) or user is not None:
            return
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail={"error": "Not authenticated"})

    app.dependency_overrides[route.endpoint] = login_check
    return True


def _routes(routes):
    """Every route, also those of included routers (Gradio mounts its API as one under /gradio_api)."""
    for r in routes:
        yield r
        inner = getattr(r, "original_router", None) or getattr(r, "app", None)
        if inner is not None and hasattr(inner, "routes"):
            yield from _routes(inner.routes)


class _NoCopies:
    """What ``SessionState.__init__`` reads of a Blocks, with no blocks to copy the configs of."""

    blocks: dict = {}  # noqa: RUF012 - read, never written

    def __init__(self, blocks) -> None:
        self.default_config = blocks.default_config


def lean_sessions() -> bool:
    """A visitor's new session without a copy of every component's config.

    At a session's first event, Gradio's ``SessionState`` builds the config of every component of the app
    for deep links (``gr.DeepLinkButton``, which this app has none of): 19 ms for this app's 372 blocks, on
    the event loop. A class opening the link together is 100 new sessions, about 2 s in which the loop
    serves nobody: in bench.room, every pen-up slower than 0.4 s came in the room's first 5 s. Here a
    session starts with none of those copies and records the config of each component it changes, which
    Gradio already does for those (``_update_value_in_config``), so a deep link would still hold every
    change. Returns False (and changes nothing) if Gradio's ``SessionState`` no longer looks as expected.
    """
    cls = state_holder.SessionState
    if getattr(cls.__init__, "lean", False):
        return True
    try:
        source = inspect.getsource(cls.__init__)
    except (OSError, TypeError):
        source = ""
    if "config_values" not in source or "default_config" not in source or "blocks.blocks" not in source:
        log.warning("Gradio's SessionState has changed; each new session keeps copying every config")
        return False
    original = cls.__init__

    def __init__(self, blocks) -> None:  # noqa: N807 - it replaces SessionState.__init__
        original(self, _NoCopies(blocks))

    __init__.lean = True
    cls.__init__ = __init__
    return True
