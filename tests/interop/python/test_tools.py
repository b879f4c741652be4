"""Lifecycle and tools, with the official Python SDK client, over stdio and HTTP."""

from __future__ import annotations

import base64
import json

import pytest
from conftest import connect
from mcp import types
from mcp.shared.exceptions import MCPError

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
}


async def test_initialize(server_target):
    async with connect(server_target) as (client, _):
        assert client.protocol_version == "2025-11-25"
        info = client.server_info
        assert info is not None
        assert (info.name, info.version) == ("conformance-server", "0.1.0")
        assert info.title == "mcpgen conformance server"
        assert client.instructions and "conformance suite" in client.instructions
        caps = client.server_capabilities
        assert caps.tools is not None
        assert caps.resources is not None and caps.resources.subscribe is True
        assert caps.prompts is not None
        assert caps.logging is not None
        assert caps.completions is not None
        assert await client.send_ping() is not None


async def test_list_tools(server_target):
    async with connect(server_target) as (client, _):
        result = await client.list_tools()
        assert result.next_cursor is None
        tools = {t.name: t for t in result.tools}
        assert set(tools) == EXPECTED_TOOLS
        for tool in result.tools:
            assert tool.description, tool.name
            assert tool.input_schema["type"] == "object", tool.name

        sampling = tools["test_sampling"].input_schema
        assert sampling["properties"]["prompt"]["type"] == "string"
        assert sampling["required"] == ["prompt"]

        schema = tools["json_schema_2020_12_tool"].input_schema
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$defs"]["address"]["properties"]["city"] == {"type": "string"}
        assert schema["properties"]["address"] == {"$ref": "#/$defs/address"}
        assert schema["additionalProperties"] is False

        add = tools["test_add"]
        assert add.title == "Add two numbers"
        assert add.output_schema is not None and add.output_schema["required"] == ["sum"]
        assert add.annotations is not None
        assert add.annotations.read_only_hint is True
        assert add.annotations.idempotent_hint is True
        assert add.annotations.open_world_hint is False


async def test_simple_text(server_target):
    async with connect(server_target) as (client, _):
        result = await client.call_tool("test_simple_text")
        assert not result.is_error
        assert [(c.type, c.text) for c in result.content] == [
            ("text", "This is a simple text response for testing.")
        ]


async def test_image_and_audio(server_target):
    async with connect(server_target) as (client, _):
        image = (await client.call_tool("test_image_content", {})).content
        assert len(image) == 1 and image[0].type == "image"
        assert image[0].mime_type == "image/png"
        assert base64.b64decode(image[0].data).startswith(b"\x89PNG\r\n\x1a\n")

        audio = (await client.call_tool("test_audio_content", {})).content
        assert len(audio) == 1 and audio[0].type == "audio"
        assert audio[0].mime_type == "audio/wav"
        assert audio[0].data == WAV_B64
        assert base64.b64decode(audio[0].data)[:4] == b"RIFF"


async def test_embedded_and_mixed_content(server_target):
    async with connect(server_target) as (client, _):
        embedded = (await client.call_tool("test_embedded_resource", {})).content
        assert len(embedded) == 1 and embedded[0].type == "resource"
        res = embedded[0].resource
        assert str(res.uri) == "test://embedded-resource"
        assert res.mime_type == "text/plain"
        assert res.text == "This is an embedded resource content."

        mixed = (await client.call_tool("test_multiple_content_types", {})).content
        assert [c.type for c in mixed] == ["text", "image", "resource"]
        assert mixed[0].text == "Multiple content types test:"
        assert mixed[1].data == PNG_B64
        assert json.loads(mixed[2].resource.text) == {"test": "data", "value": 123}


async def test_structured_output(server_target):
    async with connect(server_target) as (client, _):
        result = await client.call_tool("test_add", {"a": 2, "b": 3.5})
        assert not result.is_error
        assert result.structured_content == {"sum": 5.5}
        assert json.loads(result.content[0].text) == {"sum": 5.5}


async def test_tool_error_result(server_target):
    async with connect(server_target) as (client, _):
        result = await client.call_tool("test_error_handling", {})
        assert result.is_error is True
        assert result.content[0].text == "This tool intentionally returns an error for testing"


async def test_invalid_arguments_are_an_error_result(server_target):
    async with connect(server_target) as (client, _):
        wrong_type = await client.call_tool("test_add", {"a": "two", "b": 3})
        assert wrong_type.is_error is True
        assert "test_add" in wrong_type.content[0].text
        assert wrong_type.structured_content is None

        missing = await client.call_tool("test_sampling", {})
        assert missing.is_error is True
        assert "prompt" in missing.content[0].text

        # The session is still usable afterwards.
        ok = await client.call_tool("test_add", {"a": 1, "b": 1})
        assert ok.structured_content == {"sum": 2}


async def test_unknown_tool_is_a_protocol_error(server_target):
    async with connect(server_target) as (client, _):
        with pytest.raises(MCPError) as err:
            await client.call_tool("no_such_tool", {})
        assert err.value.code == types.INVALID_PARAMS
        assert "no_such_tool" in err.value.message


async def test_progress_notifications(server_target):
    async with connect(server_target) as (client, _):
        seen: list[tuple[float, float | None, str | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append((progress, total, message))

        result = await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
        assert not result.is_error
        assert [p for p, _, _ in seen] == [0, 50, 100]
        assert all(total == 100 for _, total, _ in seen)
        # The tool answers with the progress token the client sent.
        assert result.content[0].text not in ("", "no progress token")


async def test_reconnection(server_target):
    """test_reconnection drops its SSE stream before answering; over HTTP the client must
    resume with Last-Event-ID to get the result (over stdio there is no stream to drop)."""
    async with connect(server_target) as (client, _):
        result = await client.call_tool("test_reconnection", {})
        assert not result.is_error
        assert result.content[0].text.startswith("Reconnection test completed successfully")
        # The session keeps working after the resumed stream.
        assert (await client.call_tool("test_add", {"a": 40, "b": 2})).structured_content == {"sum": 42}
