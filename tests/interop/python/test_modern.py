"""MCP 2026-07-28 with the Python SDK 2.x client, beyond what every other test
file already runs in both eras: the server serves both by default, the client
in its default mode ("auto") probes server/discover and stays modern, and with
--protocol-2026=false it falls back to initialize. Multi round-trip requests
(SEP-2322) over several rounds and several inputs at once, subscriptions/listen
(list changes and resource updates, filtered, across eras), and logs only when a
request opts in with its log level. Skipped with mcp 1.x, which has no modern
mode (docs/protocol-2026.md).
"""

from __future__ import annotations

from typing import Any

import anyio
import mcp
import pytest
from conftest import (
    LEGACY_VERSION,
    MODERN_VERSION,
    REQUEST_TIMEOUT,
    SDK_V2,
    SERVER_BIN,
    Answers,
    Target,
    connect,
    serve_http,
)
from mcp import StdioServerParameters

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not SDK_V2, reason="mcp 1.x has no MCP 2026-07-28 mode"),
    pytest.mark.era("modern"),
]

WATCHED = "test://watched-resource"


def text(result: dict) -> str:
    return result["content"][0]["text"]


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_switched_off_the_client_falls_back_to_the_session_era(transport, era):
    off = "--protocol-2026=false"
    if transport == "stdio":
        params = StdioServerParameters(command=SERVER_BIN, args=["--transport", "stdio", off])
        async with mcp.Client(params, read_timeout_seconds=REQUEST_TIMEOUT) as c:
            assert c.protocol_version == LEGACY_VERSION
        return
    with serve_http(off, log_prefix="conformance-server-legacy-only-") as url:
        async with mcp.Client(url, read_timeout_seconds=REQUEST_TIMEOUT) as c:
            assert c.protocol_version == LEGACY_VERSION


async def test_the_handshake_is_server_discover_without_initialize(server_target):
    async with connect(server_target) as (client, _):
        session = client.client.session
        assert session.initialize_result is None, "no initialize in the modern era"
        found = session.discover_result
        assert found is not None and found.supported_versions == [MODERN_VERSION]
        assert found.capabilities.completions is not None
        # Asked again on the same connection (over stdio: the same process).
        again = await session.send_discover(MODERN_VERSION)
        assert again["supportedVersions"] == [MODERN_VERSION]
        assert text(await client.call_tool("test_simple_text", {})) == "This is a simple text response for testing."


async def test_a_handler_asking_twice_takes_three_rounds(server_target):
    answers = Answers(elicitation={"action": "accept", "content": {"name": "Ada", "color": "teal"}})
    async with connect(server_target, answers) as (client, rec):
        result = await client.call_tool("test_input_required_result_multi_round", {})
        assert text(result) == "Ada likes teal"
        assert [r["message"] for r in rec.elicitation_requests] == [
            "Step 1: What is your name?",
            "Step 2: What is your favorite color?",
        ]


async def test_three_inputs_in_one_round(server_target):
    answers = Answers(
        sampling_text="Hello", elicitation={"action": "accept", "content": {"name": "Ada"}}
    )
    async with connect(server_target, answers) as (client, rec):
        result = await client.call_tool("test_input_required_result_multiple_inputs", {})
        assert text(result).startswith("Hello Ada; roots: ")
        assert (len(rec.sampling_requests), len(rec.elicitation_requests), rec.roots_requests) == (1, 1, 1)


async def test_a_prompt_asks_for_input_too(server_target):
    answers = Answers(elicitation={"action": "accept", "content": {"context": "the interop suite"}})
    async with connect(server_target, answers) as (client, rec):
        prompt = await client.get_prompt("test_input_required_result_prompt")
        assert prompt["messages"][0]["content"]["text"].endswith("the interop suite")
        assert len(rec.elicitation_requests) == 1


async def test_arguments_mirrored_into_headers(server_target):
    # SEP-2243: over HTTP the client sends region (base64: not ASCII) and
    # priority as Mcp-Param-* headers too, and the server checks them.
    async with connect(server_target) as (client, _):
        tools = {t["name"]: t for t in (await client.list_tools())["tools"]}
        assert tools["test_custom_header"]["inputSchema"]["properties"]["region"]["x-mcp-header"] == "Region"
        result = await client.call_tool("test_custom_header", {"region": "Zürich", "priority": 7})
        assert text(result) == "region Zürich, priority 7"
        bare = await client.call_tool("test_custom_header", {"region": "eu-west"})
        assert text(bare) == "region eu-west"


async def next_event(sub: Any) -> Any:
    with anyio.fail_after(5):
        return await sub.__anext__()


async def test_listen_delivers_what_was_asked(server_target):
    async with connect(server_target) as (client, _):
        async with client.client.listen(tools_list_changed=True, resource_subscriptions=[WATCHED]) as sub:
            honored = sub.honored.model_dump(by_alias=True, exclude_none=True)
            assert honored == {"toolsListChanged": True, "resourceSubscriptions": [WATCHED]}
            # Not asked for: a prompt list change, an update of another resource.
            await client.call_tool("test_trigger_prompt_change", {})
            await client.call_tool("test_touch_resource", {"uri": "test://static-text"})
            await client.call_tool("test_trigger_tool_change", {})
            await client.call_tool("test_touch_resource", {"uri": WATCHED})
            first, second = await next_event(sub), await next_event(sub)
            assert type(first).__name__ == "ToolsListChanged"
            assert (type(second).__name__, second.uri) == ("ResourceUpdated", WATCHED)


async def test_a_change_reaches_both_eras(http_url, era):
    """A session client subscribed the old way and a modern listener hear of the same update."""
    async with connect(Target(http_url, "legacy")) as (old, rec):
        assert await old.subscribe_resource(WATCHED) == {}
        async with connect(Target(http_url, "modern")) as (new, _):
            async with new.client.listen(resource_subscriptions=[WATCHED]) as sub:
                await new.call_tool("test_touch_resource", {"uri": WATCHED})
                event = await next_event(sub)
                assert event.uri == WATCHED
        with anyio.fail_after(5):
            while not rec.notified("notifications/resources/updated"):
                await anyio.sleep(0.02)
        assert rec.notified("notifications/resources/updated") == [{"uri": WATCHED}]


async def test_logs_only_for_requests_that_opt_in(server_target):
    async with connect(server_target) as (client, rec):
        await client.call_tool("test_tool_with_logging", {})
        await anyio.sleep(0.2)
        assert rec.logs == [], "no log level in _meta: no logs"
    async with connect(server_target, log_level="info") as (client, rec):
        await client.call_tool("test_tool_with_logging", {})
        with anyio.fail_after(5):
            while len(rec.logs) < 3:
                await anyio.sleep(0.02)
        assert {entry["level"] for entry in rec.logs} == {"info"}
    async with connect(server_target, log_level="error") as (client, rec):
        await client.call_tool("test_tool_with_logging", {})
        await anyio.sleep(0.2)
        assert rec.logs == [], "info logs are below the error level"


