"""Serving tweaks applied to the launched Gradio app: less work per request (tuned serving), and idle
connections kept open longer than the clients keep them (every app, ``keep_connections_open``)."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

from fastapi import Depends, HTTPException, status
from gradio import state_holder

log = logging.getLogger("archdemo.ui")

# An idle connection stays open this long: past httpx's own 5 s (gradio_client, the benchmarks) and
# nginx's 60 s for its connections to the replicas (archdemo/deploy/nginx.py, UPSTREAM_IDLE_S).
KEEP_ALIVE_S = 75.0


def keep_connections_open(server, seconds: float = KEEP_ALIVE_S) -> bool:
    """Close idle connections after ``seconds``, not uvicorn's 5 s, for every connection from now on.

    A client that reuses an idle connection just as the server closes it has its request cut off:
    httpx, and so gradio_client, keeps an idle connection for 5 s too, and nginx keeps its own to the
    replicas for 60 s. 100 httpx clients, each sending a live update every 5.0 +- 0.05 s to ``app.py``:
    98 of 1,000 requests failed with ``ReadError`` (none every 3 s or 7 s); the drawing room met one
    at a pen-up. With the server waiting longer than any client, the client always closes first.
    Gradio builds uvicorn's Config itself without this setting; uvicorn reads it for each new
    connection, so it is set on the running server. Returns False (and changes nothing) if Gradio's
    server no longer has uvicorn's config."""
    config = getattr(server, "config", None)
    if not isinstance(getattr(config, "timeout_keep_alive", None), int | float):
        log.warning("Gradio's server has no uvicorn config; idle connections close after uvicorn's default")
        return False
    config.timeout_keep_alive = seconds
    return True


def async_login_check(app) -> bool:
    """Run Gradio's per-request login check on the event loop instead of a worker thread.

    Gradio guards its routes (the queue, uploads, the drawing pad's ``component_server`` calls) with
    ``Depends(login_check)``, a plain function, so FastAPI hands every request to a worker thread
    and back just to learn that no login is needed. Profiled with py-spy (``--gil``) under 100
    simulated visitors drawing, that hand-off was 55-62% of the event loop's time on the pad's
    path. This puts the same check, as a coroutine, in place of Gradio's in every route's dependencies,
    once. (Through FastAPI's ``dependency_overrides`` it did the same, but FastAPI then rebuilds each
    overridden dependency from its signature at every request: 6.7% of the event loop under 32 API
    clients, py-spy.) Returns False (and changes nothing) if Gradio's routes no longer look as expected.
    """
    routes = list(_routes(getattr(app, "routes", [])))
    route = next((r for r in routes if getattr(r, "path", "").endswith("/login_check")), None)
    dependant = getattr(route, "dependant", None)
    if route is None or dependant is None or len(dependant.dependencies) != 1:
        log.warning("Gradio's login check was not found; it keeps running in a worker thread")
        return False
    gradios, current_user = route.endpoint, dependant.dependencies[0].call  # Gradio's own (async) get_current_user

    async def login_check(user: str | None = Depends(current_user)) -> None:
        if (app.auth is None and app.auth_dependency is None) or user is not None:
            return
        message = getattr(getattr(app, "blocks", None), "auth_message", None)
        detail = {"error": "Not authenticated", "auth_message": message}
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail=detail)

    # Ours asks for what Gradio's asks for (the user, from the same get_current_user), so each use of it
    # keeps its sub-dependency as FastAPI built it; only the function called changes.
    uses = [d for r in routes for d in _dependencies(getattr(r, "dependant", None)) if d.call is gradios]
    if not uses or any([s.call for s in d.dependencies] != [current_user] for d in uses):
        log.warning("Gradio's login check is used in an unexpected way; it keeps running in a worker thread")
        return False
    for d in uses:
        d.call = login_check
    return True


def _dependencies(dependant):
    """Every dependency below ``dependant``, depth first."""
    for d in getattr(dependant, "dependencies", ()):
        yield d
        yield from _dependencies(d)


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
    if not _has_source(cls.__init__, "config_values", "default_config", "blocks.blocks"):
        log.warning("Gradio's SessionState has changed; each new session keeps copying every config")
        return False
    original = cls.__init__

    def __init__(self, blocks) -> None:  # noqa: N807 - it replaces SessionState.__init__
        original(self, _NoCopies(blocks))

    __init__.lean = True
    cls.__init__ = __init__
    return True


def quick_static_check() -> bool:
    """Gradio's "is this one of the app's static files?" with the file's path resolved once, not twice per
    static path.

    Every file an event reads or answers is checked (``gradio.utils.is_static_file``): each of the static
    paths (here Gradio's own two icons) is resolved again, and so is the file, once per static path, each a
    ``realpath`` that asks the file system about every folder on the way. Under 32 API clients on
    /classify_digit that was 12% of the event loop (py-spy). The static paths are resolved when they are set
    (``gr.set_static_paths``), so here only the file is, once; the answer is the same. Returns False (and
    changes nothing) if Gradio's check no longer looks as expected.
    """
    from gradio import utils
    from gradio.data_classes import FileData

    if getattr(utils._is_static_file, "quick", False):
        return True
    if not _has_source(utils._is_static_file, "is_in_or_equal(file_path, static_file)") or not _has_source(
        utils.is_in_or_equal, "relative_to"
    ):
        log.warning("Gradio's static-file check has changed; it keeps resolving every path each time")
        return False

    def _is_static_file(file_path, static_files) -> bool:
        if isinstance(file_path, FileData):
            file_path = file_path.path
        if isinstance(file_path, str):
            file_path = Path(file_path)
            if not file_path.exists():
                return False
        if not isinstance(file_path, Path) or not static_files:
            return False
        resolved = utils.abspath(file_path).resolve()
        return any(resolved.is_relative_to(static) for static in static_files)

    _is_static_file.quick, _is_static_file.original = True, utils._is_static_file
    utils._is_static_file = _is_static_file
    return True


def _has_source(fn, *parts: str) -> bool:
    """``fn``'s source holds each of ``parts`` (what a patch of it relies on); False when it cannot be read."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        return False
    return all(part in source for part in parts)
