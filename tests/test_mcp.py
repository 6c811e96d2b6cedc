"""MCP: the app started with --mcp lists the four tasks as tools and answers a tool call."""

from __future__ import annotations

import asyncio
import json
import urllib.request


def test_schema_lists_every_tool_with_a_description(app_url):
    with urllib.request.urlopen(app_url + "gradio_api/mcp/schema", timeout=30) as r:  # noqa: S310
        tools = {t["name"]: t for t in json.load(r)}
    assert set(tools) == {
        "classify_digit",
        "classify_digit_rnn",
        "classify_digit_transformer",
        "classify_digit_probe",
        "denoise_digit",
        "digit_anomaly",
        "rnn_sentiment",
        "transformer_sentiment",
        "pretrained_transformer_sentiment",
        "cnn_sentiment",
        "generate_rnn",
        "generate_gpt",
        "generate_cnn",
    }
    for tool in tools.values():
        assert len(tool["description"]) > 40
    assert "text" in json.dumps(tools["rnn_sentiment"]["inputSchema"])


def test_an_mcp_client_calls_a_tool(app_url):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def call() -> str:
        async with streamable_http_client(app_url + "gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                listed = await session.list_tools()
                assert "transformer_sentiment" in {t.name for t in listed.tools}
                result = await session.call_tool("transformer_sentiment", {"text": "A warm, funny and moving film."})
                return " ".join(getattr(c, "text", "") for c in result.content)

    text = asyncio.run(asyncio.wait_for(call(), timeout=60))
    assert "positive" in text
