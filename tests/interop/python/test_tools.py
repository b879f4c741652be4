"""Lifecycle and tools, with the official Python SDK client, over stdio, Streamable HTTP and
the 2024-11-05 HTTP+SSE transport."""

from __future__ import annotations

import base64
import json

import pytest
from conftest import ProtocolError, connect, error_code

pytestmark = pytest.mark.anyio

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
WAV_B64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

EXPECTED_TOOLS = {
    "test_simple_text",
    "test_image_content",
    "test_audio_content",
    "test_embedded_resource",
    "test_multiple_content_types",
    "test_tool_with_logging",
    "test_error_handling",
    "test_tool_with_progress",
    "test_sampling",
    "test_elicitation",
    "test_elicitation_sep1034_defaults",
    "test_elicitation_sep1330_enums",
    "json_schema_2020_12_tool",
    "test_reconnection",
    "test_list_roots",
    "test_add",
    "test_touch_resource",
    "test_slow_operation",
    "test_missing_capability",
    "test_streaming_elicitation",
    "test_logging_tool",
    "test_trigger_tool_change",
    "test_trigger_prompt_change",
    "test_custom_header",
    "test_input_required_result_elicitation",
    "test_input_required_result_sampling",
    "test_input_required_result_list_roots",
    "test_input_required_result_request_state",
    "test_input_required_result_multiple_inputs",
    "test_input_required_result_multi_round",
    "test_input_required_result_tampered_state",
    "test_input_required_result_capabilities",
    # The tasks extension's fixtures (tasks-* conformance scenarios).
    "greet",
    "slow_compute",
    "failing_job",
    "protocol_error_job",
    "confirm_delete",
    "multi_input",
    "test_tool_with_task",
}


async def test_initialize(server_target):
    async with connect(server_target) as (client, _):
        init = client.initialize
        legacy = server_target.era == "legacy"
        assert init["protocolVersion"] == ("2025-11-25" if legacy else "2026-07-28")
        info = init["serverInfo"]
        assert (info["name"], info["version"], info["title"]) == (
            "conformance-server",
            "0.1.0",
            "mcpgen conformance server",
        )
        assert "conformance suite" in init["instructions"]
        caps = init["capabilities"]
        assert {"tools", "resources", "prompts", "logging", "completions"} <= set(caps)
        assert caps["resources"]["subscribe"] is True
        assert caps["tools"]["listChanged"] is True
        if legacy:  # ping is the session era's
            assert await client.send_ping() == {}


async def test_list_tools(server_target):
    async with connect(server_target) as (client, _):
        result = await client.list_tools()
        assert "nextCursor" not in result
        tools = {t["name"]: t for t in result["tools"]}
        assert set(tools) == EXPECTED_TOOLS
        for tool in tools.values():
            assert tool["description"], tool["name"]
            assert tool["inputSchema"]["type"] == "object", tool["name"]

        sampling = tools["test_sampling"]["inputSchema"]
        assert sampling["properties"]["prompt"]["type"] == "string"
        assert sampling["required"] == ["prompt"]

        schema = tools["json_schema_2020_12_tool"]["inputSchema"]
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$defs"]["address"]["properties"]["city"] == {"type": "string"}
        assert schema["properties"]["address"] == {"$ref": "#/$defs/address"}
        assert schema["additionalProperties"] is False

        add = tools["test_add"]
        assert add["title"] == "Add two numbers"
        assert add["outputSchema"]["required"] == ["sum"]
        assert add["annotations"] == {"readOnlyHint": True, "idempotentHint": True, "openWorldHint": False}


async def test_simple_text(server_target):
    async with connect(server_target) as (client, _):
        result = await client.call_tool("test_simple_text")
        assert result.get("isError", False) is False
        assert result["content"] == [{"type": "text", "text": "This is a simple text response for testing."}]


async def test_image_and_audio(server_target):
    async with connect(server_target) as (client, _):
        image = (await client.call_tool("test_image_content", {}))["content"]
        assert image == [{"type": "image", "data": PNG_B64, "mimeType": "image/png"}]
        assert base64.b64decode(image[0]["data"]).startswith(b"\x89PNG\r\n\x1a\n")

        audio = (await client.call_tool("test_audio_content", {}))["content"]
        assert audio == [{"type": "audio", "data": WAV_B64, "mimeType": "audio/wav"}]
        assert base64.b64decode(audio[0]["data"])[:4] == b"RIFF"


async def test_embedded_and_mixed_content(server_target):
    async with connect(server_target) as (client, _):
        embedded = (await client.call_tool("test_embedded_resource", {}))["content"]
        assert embedded == [
            {
                "type": "resource",
                "resource": {
                    "uri": "test://embedded-resource",
                    "mimeType": "text/plain",
                    "text": "This is an embedded resource content.",
                },
            }
        ]

        mixed = (await client.call_tool("test_multiple_content_types", {}))["content"]
        assert [c["type"] for c in mixed] == ["text", "image", "resource"]
        assert mixed[0]["text"] == "Multiple content types test:"
        assert mixed[1]["data"] == PNG_B64
        assert mixed[2]["resource"]["uri"] == "test://mixed-content-resource"
        assert json.loads(mixed[2]["resource"]["text"]) == {"test": "data", "value": 123}


async def test_structured_output(server_target):
    async with connect(server_target) as (client, _):
        result = await client.call_tool("test_add", {"a": 2, "b": 3.5})
        assert result.get("isError", False) is False
        assert result["structuredContent"] == {"sum": 5.5}
        assert json.loads(result["content"][0]["text"]) == {"sum": 5.5}


async def test_tool_error_result(server_target):
    async with connect(server_target) as (client, _):
        result = await client.call_tool("test_error_handling", {})
        assert result["isError"] is True
        assert result["content"] == [{"type": "text", "text": "This tool intentionally returns an error for testing"}]


async def test_invalid_arguments_are_an_error_result(server_target):
    async with connect(server_target) as (client, _):
        wrong_type = await client.call_tool("test_add", {"a": "two", "b": 3})
        assert wrong_type["isError"] is True
        assert "test_add" in wrong_type["content"][0]["text"]
        assert "structuredContent" not in wrong_type

        missing = await client.call_tool("test_sampling", {})
        assert missing["isError"] is True
        assert "prompt" in missing["content"][0]["text"]

        # The session is still usable afterwards.
        ok = await client.call_tool("test_add", {"a": 1, "b": 1})
        assert ok["structuredContent"] == {"sum": 2}


async def test_unknown_tool_is_a_protocol_error(server_target):
    async with connect(server_target) as (client, _):
        with pytest.raises(ProtocolError) as err:
            await client.call_tool("no_such_tool", {})
        assert error_code(err.value) == -32602
        assert "no_such_tool" in str(err.value)


async def test_progress_notifications(server_target):
    async with connect(server_target) as (client, _):
        seen: list[tuple[float, float | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append((progress, total))

        result = await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
        assert result.get("isError", False) is False
        assert seen == [(0, 100), (50, 100), (100, 100)]
        # The tool answers with the progress token the client sent.
        assert result["content"][0]["text"] not in ("", "no progress token")


async def test_reconnection(server_target):
    """test_reconnection drops its SSE stream before answering; over HTTP the client must
    resume with Last-Event-ID to get the result (over stdio there is no stream to drop)."""
    async with connect(server_target) as (client, _):
        result = await client.call_tool("test_reconnection", {})
        assert result.get("isError", False) is False
        assert result["content"][0]["text"].startswith("Reconnection test completed successfully")
        # The session keeps working after the resumed stream.
        assert (await client.call_tool("test_add", {"a": 40, "b": 2}))["structuredContent"] == {"sum": 42}
