"""Tuned serving's shortcuts keep Gradio's rules exactly: its login check, and each visitor's own state."""

from __future__ import annotations

import gradio as gr
import httpx
import pytest
from conftest import free_port
from gradio.state_holder import SessionState
from gradio_client import Client

from archdemo.ui.serving import async_login_check, lean_sessions


@pytest.mark.parametrize("auth, expected", [(None, 200), (("teacher", "secret"), 401)])
def test_the_coroutine_login_check_is_installed_and_still_refuses_strangers(auth, expected):
    with gr.Blocks() as demo:
        gr.Textbox()
    port = free_port()
    demo.launch(server_port=port, auth=auth, prevent_thread_lock=True)
    try:
        assert async_login_check(demo.server_app)
        assert len(demo.server_app.dependency_overrides) == 1
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
