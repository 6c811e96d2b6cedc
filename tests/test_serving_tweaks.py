"""Tuned serving's per-request shortcut keeps Gradio's login rules exactly."""

from __future__ import annotations

import gradio as gr
import httpx
import pytest
from conftest import free_port

from archdemo.ui.serving import async_login_check


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
