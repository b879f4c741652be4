"""MCP 2026-07-28 with the Python SDK 2.x client in its default mode ("auto"):
against a server started with --protocol-2026 it probes server/discover, gets
a DiscoverResult and stays modern (stateless, no initialize). Covers what the
modern path serves today: tools, resources, prompts, completion, progress
(docs/protocol-2026.md). Input from the client (MRTR) and subscriptions are
not built on the modern path yet; the other test files cover them on a
2025-11-25 session. Skipped with mcp 1.x, which has no modern mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import mcp
import pytest
from mcp import StdioServerParameters, types

from conftest import REQUEST_TIMEOUT, SDK_V2, SERVER_BIN, serve_http, wire

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not SDK_V2, reason="mcp 1.x has no MCP 2026-07-28 mode"),
]

MODERN = "2026-07-28"


@pytest.fixture(scope="module")
def modern_http_url() -> Iterator[str]:
    with serve_http("--protocol-2026", log_prefix="conformance-server-modern-") as url:
        yield url


@pytest.fixture(params=["stdio", "http"])
def modern_target(request: pytest.FixtureRequest) -> Any:
    if request.param == "stdio":
        return StdioServerParameters(command=SERVER_BIN, args=["--transport", "stdio", "--protocol-2026"])
    return request.getfixturevalue("modern_http_url")


def client(target: Any) -> Any:
    return mcp.Client(
        target,
        read_timeout_seconds=REQUEST_TIMEOUT,
        client_info=types.Implementation(name="mcpgen-python-interop", version="1.0.0"),
    )


async def test_the_client_stays_modern(modern_target):
    async with client(modern_target) as c:
        assert c.protocol_version == MODERN
        assert wire(c.server_info)["name"] == "conformance-server"
        caps = wire(c.server_capabilities)
        assert "tools" in caps and "prompts" in caps and "resources" in caps


async def test_tools_in_declaration_order_and_calls(modern_target):
    async with client(modern_target) as c:
        names = [t.name for t in (await c.list_tools()).tools]
        assert names[:3] == ["test_simple_text", "test_image_content", "test_audio_content"]
        again = [t.name for t in (await c.list_tools(cache_mode="refresh")).tools]
        assert again == names
        result = wire(await c.call_tool("test_simple_text", {}))
        assert result["content"] == [{"type": "text", "text": "This is a simple text response for testing."}]
        error = wire(await c.call_tool("test_error_handling", {}))
        assert error["isError"] is True


async def test_progress_on_a_stateless_request(modern_target):
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with client(modern_target) as c:
        result = wire(await c.call_tool("test_tool_with_progress", {}, progress_callback=on_progress))
        assert result.get("isError", False) is False
        assert seen == [(0, 100), (50, 100), (100, 100)]


async def test_resources_prompts_and_completion(modern_target):
    async with client(modern_target) as c:
        uris = [r.uri for r in (await c.list_resources()).resources]
        assert "test://static-text" in [str(u) for u in uris]
        text = wire(await c.read_resource("test://static-text"))
        assert text["contents"][0]["text"]
        prompt = wire(await c.get_prompt("test_prompt_with_arguments", {"arg1": "alpha", "arg2": "beta"}))
        assert "alpha" in prompt["messages"][0]["content"]["text"]
        ref = types.PromptReference(type="ref/prompt", name="test_prompt_with_arguments")
        completion = wire(await c.complete(ref, {"name": "arg1", "value": "test"}))["completion"]
        assert completion["values"] == ["testValue1", "testValue2"]
