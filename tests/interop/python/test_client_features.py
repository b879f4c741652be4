"""Server-to-client traffic with the official Python SDK client, over stdio, Streamable HTTP
and the 2024-11-05 HTTP+SSE transport: logging, sampling, elicitation and roots. In the modern era (2026-07-28) the same
handlers reach the client through multi round-trip requests: the SDK answers each
InputRequiredResult with its callbacks and sends the request again."""

from __future__ import annotations

import json

import anyio
import pytest
from conftest import SDK_V2, Answers, connect

pytestmark = pytest.mark.anyio

LOG_LINES = ["Tool execution started", "Tool processing data", "Tool execution completed"]


def text(result: dict) -> str:
    return result["content"][0]["text"]


# logging/setLevel is the session era's; the modern era opts in per request
# (test_modern.py).
@pytest.mark.era("legacy")
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


@pytest.mark.era("legacy")
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


async def test_concurrent_sampling_requests_are_matched(server_target):
    """Several tool calls in flight at once, each waiting for its own sampling answer."""
    prompts = [f"prompt number {i}" for i in range(4)]
    results: dict[str, str] = {}
    async with connect(server_target, Answers(sampling_echo=True)) as (client, rec):

        async def call(prompt: str) -> None:
            results[prompt] = text(await client.call_tool("test_sampling", {"prompt": prompt}))

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                for prompt in prompts:
                    tg.start_soon(call, prompt)
        assert results == {p: f"LLM response: echo: {p}" for p in prompts}
        assert len(rec.sampling_requests) == len(prompts)


async def stats(client) -> dict:
    return json.loads((await client.read_resource("test://stats"))["contents"][0]["text"])


@pytest.mark.skipif(not SDK_V2, reason="mcp 1.x does not send notifications/cancelled when a call is abandoned")
async def test_cancellation(server_target):
    async with connect(server_target) as (client, _):
        before = (await stats(client))["cancelledCalls"]
        with anyio.move_on_after(0.5) as scope:
            await client.call_tool("test_slow_operation", {"seconds": 20})
        assert scope.cancelled_caught, "the slow operation must still be running after 0.5 s"
        # The SDK sends notifications/cancelled; the server stops the handler.
        with anyio.fail_after(5):
            while (await stats(client))["cancelledCalls"] == before:
                await anyio.sleep(0.05)
        assert (await stats(client))["cancelledCalls"] == before + 1
        # A short call on the same session still completes.
        assert text(await client.call_tool("test_slow_operation", {"seconds": 0.05})) == "Completed after 0.05 s"
