"""Server-to-client traffic with the official Python SDK client, over stdio and HTTP:
logging, sampling, elicitation and roots."""

from __future__ import annotations

import json

import anyio
import pytest
from conftest import Answers, connect

pytestmark = pytest.mark.anyio

LOG_LINES = ["Tool execution started", "Tool processing data", "Tool execution completed"]


def text(result: dict) -> str:
    return result["content"][0]["text"]


async def test_logging_after_set_level(server_target):
    async with connect(server_target) as (client, rec):
        assert await client.set_logging_level("debug") == {}
        before = len(rec.logs)
        result = await client.call_tool("test_tool_with_logging", {})
        assert text(result) == "Tool with logging executed successfully"
        await anyio.sleep(0.2)
        logs = rec.logs[before:]
        assert [entry["data"] for entry in logs] == LOG_LINES
        assert {entry["level"] for entry in logs} == {"info"}


async def test_logging_level_filters(server_target):
    async with connect(server_target) as (client, rec):
        await client.set_logging_level("error")
        before = len(rec.logs)
        result = await client.call_tool("test_tool_with_logging", {})
        assert text(result) == "Tool with logging executed successfully"
        await anyio.sleep(0.2)
        assert rec.logs[before:] == [], "info messages must be filtered at level error"

        await client.set_logging_level("info")
        await client.call_tool("test_tool_with_logging", {})
        await anyio.sleep(0.2)
        assert [entry["data"] for entry in rec.logs[before:]] == LOG_LINES


async def test_sampling(server_target):
    answers = Answers(sampling_text="Sampled by the Python interop test")
    async with connect(server_target, answers) as (client, rec):
        result = await client.call_tool("test_sampling", {"prompt": "What is 2+2?"})
        assert text(result) == "LLM response: Sampled by the Python interop test"
        assert len(rec.sampling_requests) == 1
        request = rec.sampling_requests[0]
        assert request["maxTokens"] == 100
        assert request["messages"] == [{"role": "user", "content": {"type": "text", "text": "What is 2+2?"}}]


async def test_elicitation_accept(server_target):
    async with connect(server_target) as (client, rec):
        result = await client.call_tool("test_elicitation", {"message": "Who are you?"})
        assert text(result).startswith("User response: action=accept, content=")
        content = json.loads(text(result).split("content=", 1)[1])
        assert content == {"username": "py-user", "email": "py-user@example.com"}

        assert len(rec.elicitation_requests) == 1
        request = rec.elicitation_requests[0]
        assert request["message"] == "Who are you?"
        schema = request["requestedSchema"]
        assert schema["type"] == "object"
        assert set(schema["properties"]) == {"username", "email"}
        assert sorted(schema["required"]) == ["email", "username"]


async def test_elicitation_decline(server_target):
    answers = Answers(elicitation={"action": "decline"})
    async with connect(server_target, answers) as (client, rec):
        result = await client.call_tool("test_elicitation", {"message": "Share your email?"})
        assert len(rec.elicitation_requests) == 1
        assert text(result) == "User response: action=decline, content=null"


async def test_elicitation_defaults_and_enums(server_target):
    answers = Answers(
        elicitation={
            "action": "accept",
            "content": {"name": "Jane Smith", "age": 25, "score": 88.5, "status": "inactive", "verified": False},
        }
    )
    async with connect(server_target, answers) as (client, rec):
        result = await client.call_tool("test_elicitation_sep1034_defaults", {})
        props = rec.elicitation_requests[0]["requestedSchema"]["properties"]
        assert props["name"]["default"] == "John Doe"
        assert props["age"] == {"type": "integer", "description": "User age", "default": 30}
        assert props["score"]["default"] == 95.5
        assert props["status"]["enum"] == ["active", "inactive", "pending"]
        assert props["status"]["default"] == "active"
        assert props["verified"]["default"] is True
        assert text(result).startswith("Elicitation completed: action=accept, content=")
        assert json.loads(text(result).split("content=", 1)[1]) == answers.elicitation["content"]

        await client.call_tool("test_elicitation_sep1330_enums", {})
        props = rec.elicitation_requests[1]["requestedSchema"]["properties"]
        assert set(props) == {"untitledSingle", "titledSingle", "legacyEnum", "untitledMulti", "titledMulti"}
        assert [o["const"] for o in props["titledSingle"]["oneOf"]] == ["value1", "value2", "value3"]
        assert props["legacyEnum"]["enumNames"] == ["Option One", "Option Two", "Option Three"]
        assert props["untitledMulti"]["items"]["enum"] == ["option1", "option2", "option3"]


async def test_roots(server_target):
    async with connect(server_target) as (client, rec):
        result = await client.call_tool("test_list_roots", {})
        assert result.get("isError", False) is False
        assert rec.roots_requests == 1
        assert json.loads(text(result)) == {
            "roots": [
                {"uri": "file:///tmp/interop-root-a", "name": "Root A"},
                {"uri": "file:///tmp/interop-root-b", "name": "Root B"},
            ]
        }
