"""Tuned serving's shortcuts keep Gradio's rules exactly: its login check, and each visitor's own state."""

from __future__ import annotations

import inspect

import gradio as gr
import httpx
import pytest
from conftest import free_port
from gradio.state_holder import SessionState
from gradio_client import Client

from archdemo.ui.serving import _dependencies, _routes, async_login_check, lean_sessions


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
