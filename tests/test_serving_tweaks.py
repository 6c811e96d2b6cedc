"""Tuned serving's shortcuts keep Gradio's rules exactly (its login check, each visitor's own state), and idle
connections outlive the clients' own idle timeout (every app)."""

from __future__ import annotations

import inspect
import socket
import time

import gradio as gr
import httpx
import pytest
from conftest import free_port
from gradio.state_holder import SessionState
from gradio_client import Client

from archdemo.deploy.nginx import UPSTREAM_IDLE_S, nginx_conf
from archdemo.ui.serving import (
    KEEP_ALIVE_S,
    _dependencies,
    _routes,
    async_login_check,
    keep_connections_open,
    lean_sessions,
)


@pytest.mark.parametrize("auth, expected", [(None, 200), (("teacher", "secret"), 401)])
def test_the_coroutine_login_check_is_installed_and_still_refuses_strangers(auth, expected):
    with gr.Blocks() as demo:
        gr.Textbox()
    port = free_port()
    demo.launch(server_port=port, auth=auth, prevent_thread_lock=True)
    try:
        assert async_login_check(demo.server_app)
        assert not demo.server_app.dependency_overrides  # swapped in place: FastAPI rebuilds overrides per request
        routes = list(_routes(demo.server_app.routes))
        checks = [d.call for r in routes for d in _dependencies(getattr(r, "dependant", None))]
        checks = [c for c in checks if getattr(c, "__name__", "") == "login_check"]
        assert len(checks) >= 10 and all(inspect.iscoroutinefunction(c) for c in checks)  # the queue, uploads...
        r = httpx.get(f"http://127.0.0.1:{port}/gradio_api/queue/status", timeout=10)
        assert r.status_code == expected
    finally:
        demo.close()


def test_a_lean_session_copies_no_configs_and_keeps_each_visitors_state():
    with gr.Blocks() as demo:
        count = gr.State(0)
        shown = gr.Textbox()
        gr.Button().click(lambda n: (n + 1, str(n + 1)), count, [count, shown], api_name="bump")
    assert lean_sessions()
    assert lean_sessions()  # twice is once: the first patch stays
    session = SessionState(demo)
    assert session.config_values == {}  # nothing copied for deep links up front
    session._update_value_in_config(shown._id, "7")  # what Gradio records when a component changes
    assert session.config_values[shown._id]["props"]["value"] == "7"
    port = free_port()
    demo.launch(server_port=port, prevent_thread_lock=True)
    try:
        first, second = (Client(f"http://127.0.0.1:{port}/", verbose=False) for _ in range(2))
        assert [first.predict(api_name="/bump") for _ in range(3)] == ["1", "2", "3"]  # its state, kept
        assert second.predict(api_name="/bump") == "1"  # another visitor's own
    finally:
        demo.close()


def test_the_quick_static_check_answers_as_gradios_own(tmp_path):
    from gradio import utils
    from gradio.data_classes import FileData

    from archdemo.ui.serving import quick_static_check

    static, other = tmp_path / "static", tmp_path / "other"
    (static / "sub").mkdir(parents=True)
    other.mkdir()
    for f in (static / "a.png", static / "sub" / "b.png", other / "c.png"):
        f.write_bytes(b"x")
    (other / "link.png").symlink_to(static / "a.png")  # a link into a static folder is static
    (static / "out.png").symlink_to(other / "c.png")  # and one out of it is not
    paths = [static, tmp_path / "one.png"]
    (tmp_path / "one.png").write_bytes(b"x")
    cases = [
        static / "a.png", str(static / "sub" / "b.png"), other / "c.png", str(other / "link.png"),
        str(static / "out.png"), str(tmp_path / "one.png"), str(tmp_path / "missing.png"),
        f"{static}/sub/../a.png", FileData(path=str(static / "a.png")), FileData(path=str(other / "c.png")), 42, None,
    ]  # fmt: skip
    resolved = [p.resolve() for p in paths]
    original = getattr(utils._is_static_file, "original", utils._is_static_file)  # a launched app may have patched it
    expected = [original(c, resolved) for c in cases]
    assert quick_static_check() and quick_static_check()  # twice is once
    assert utils._is_static_file is not original and utils._is_static_file.original is original
    assert [utils._is_static_file(c, resolved) for c in cases] == expected
    assert expected == [True, True, False, True, False, True, False, True, True, False, False, False]
    assert utils._is_static_file(static / "a.png", []) is False


def _get(sock: socket.socket) -> bytes:
    """One keep-alive GET on ``sock`` -> the first bytes of its answer (b"" once the server has closed it)."""
    try:
        sock.sendall(b"GET /gradio_api/queue/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        return sock.recv(65536)
    except OSError:  # a reset: closed too
        return b""


def test_an_idle_connection_outlives_the_clients_own_idle_timeout():
    # uvicorn closes a connection idle for 5 s, just when httpx (and gradio_client) would reuse it:
    # requests cut off with ReadError. A connection opened before keep_connections_open has uvicorn's
    # 5 s, one opened after it ours; both then sit idle 6 s and are asked again.
    with gr.Blocks() as demo:
        gr.Textbox()
    port = free_port()
    demo.launch(server_port=port, prevent_thread_lock=True)
    try:
        before = socket.create_connection(("127.0.0.1", port), timeout=10)
        assert _get(before).startswith(b"HTTP/1.1 200")
        assert keep_connections_open(demo.server)
        after = socket.create_connection(("127.0.0.1", port), timeout=10)
        assert _get(after).startswith(b"HTTP/1.1 200")
        time.sleep(6.5)
        assert _get(before) == b""  # uvicorn's own 5 s: closed
        assert _get(after).startswith(b"HTTP/1.1 200")  # still open, and answering
        before.close()
        after.close()
    finally:
        demo.close()
    assert not keep_connections_open(object())  # a server without uvicorn's config: nothing changed


def test_nginx_closes_its_idle_connections_to_the_replicas_before_they_do(tmp_path):
    conf = nginx_conf(tmp_path, "127.0.0.1", 8000, [8001, 8002])
    assert f"keepalive_timeout {UPSTREAM_IDLE_S}s;" in conf
    assert UPSTREAM_IDLE_S < KEEP_ALIVE_S
