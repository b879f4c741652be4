"""Resources, resource templates, prompts and completion with the official Python SDK
client, over stdio, Streamable HTTP and the 2024-11-05 HTTP+SSE transport."""

from __future__ import annotations

import base64
import json

import anyio
import pytest
from conftest import ProtocolError, connect, error_code
from mcp import types

pytestmark = pytest.mark.anyio

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="


async def test_list_resources_and_templates(server_target):
    async with connect(server_target) as (client, _):
        resources = (await client.list_resources())["resources"]
        assert [(r["uri"], r["name"], r["mimeType"]) for r in resources] == [
            ("test://static-text", "static-text", "text/plain"),
            ("test://static-binary", "static-binary", "image/png"),
            ("test://watched-resource", "watched-resource", "text/plain"),
            ("test://stats", "stats", "application/json"),
        ]
        assert all(r["description"] for r in resources)

        templates = (await client.list_resource_templates())["resourceTemplates"]
        assert [(t["uriTemplate"], t["name"], t["mimeType"]) for t in templates] == [
            ("test://template/{id}/data", "template", "application/json")
        ]


async def test_read_resources(server_target):
    async with connect(server_target) as (client, _):
        text = (await client.read_resource("test://static-text"))["contents"]
        assert text == [
            {
                "uri": "test://static-text",
                "mimeType": "text/plain",
                "text": "This is the content of the static text resource.",
            }
        ]

        blob = (await client.read_resource("test://static-binary"))["contents"]
        assert blob == [{"uri": "test://static-binary", "mimeType": "image/png", "blob": PNG_B64}]
        assert base64.b64decode(blob[0]["blob"]).startswith(b"\x89PNG")

        data = (await client.read_resource("test://template/42/data"))["contents"]
        assert len(data) == 1
        assert (data[0]["uri"], data[0]["mimeType"]) == ("test://template/42/data", "application/json")
        assert json.loads(data[0]["text"]) == {"id": "42", "templateTest": True, "data": "Data for ID: 42"}


async def test_read_unknown_resource(server_target):
    async with connect(server_target) as (client, _):
        with pytest.raises(ProtocolError) as err:
            await client.read_resource("test://does-not-exist")
        # Resource not found: -32002 in the session era, -32602 since 2026-07-28 (SEP-2164).
        assert error_code(err.value) == (-32002 if server_target.era == "legacy" else -32602)


# resources/subscribe is the session era's; the modern era listens
# (subscriptions/listen, test_modern.py).
@pytest.mark.era("legacy")
async def test_subscribe_unsubscribe(server_target):
    async with connect(server_target) as (client, _):
        assert await client.subscribe_resource("test://watched-resource") == {}
        assert await client.unsubscribe_resource("test://watched-resource") == {}


@pytest.mark.era("legacy")
async def test_resource_update_notifications(server_target):
    watched = "test://watched-resource"
    async with connect(server_target) as (client, rec):
        assert await client.subscribe_resource(watched) == {}
        await client.call_tool("test_touch_resource", {"uri": watched})
        with anyio.fail_after(5):
            while not rec.notified("notifications/resources/updated"):
                await anyio.sleep(0.02)
        # Touching a resource nobody subscribed to notifies no one.
        await client.call_tool("test_touch_resource", {"uri": "test://static-text"})
        assert await client.unsubscribe_resource(watched) == {}
        await client.call_tool("test_touch_resource", {"uri": watched})
        await anyio.sleep(0.3)
        assert rec.notified("notifications/resources/updated") == [{"uri": watched}]


async def test_prompts(server_target):
    async with connect(server_target) as (client, _):
        prompts = {p["name"]: p for p in (await client.list_prompts())["prompts"]}
        assert set(prompts) == {
            "test_simple_prompt",
            "test_prompt_with_arguments",
            "test_prompt_with_embedded_resource",
            "test_prompt_with_image",
            "test_input_required_result_prompt",
        }
        assert all(p["description"] for p in prompts.values())
        args = prompts["test_prompt_with_arguments"]["arguments"]
        assert [(a["name"], a["description"], a["required"]) for a in args] == [
            ("arg1", "First test argument", True),
            ("arg2", "Second test argument", True),
        ]

        simple = await client.get_prompt("test_simple_prompt")
        assert simple["messages"] == [
            {"role": "user", "content": {"type": "text", "text": "This is a simple prompt for testing."}}
        ]

        with_args = await client.get_prompt("test_prompt_with_arguments", {"arg1": "alpha", "arg2": "beta"})
        assert with_args["messages"] == [
            {"role": "user", "content": {"type": "text", "text": "Prompt with arguments: arg1='alpha', arg2='beta'"}}
        ]

        embedded = await client.get_prompt(
            "test_prompt_with_embedded_resource", {"resourceUri": "test://interop-resource"}
        )
        assert embedded["messages"] == [
            {
                "role": "user",
                "content": {
                    "type": "resource",
                    "resource": {
                        "uri": "test://interop-resource",
                        "mimeType": "text/plain",
                        "text": "Embedded resource content for testing.",
                    },
                },
            },
            {"role": "user", "content": {"type": "text", "text": "Please process the embedded resource above."}},
        ]

        image = await client.get_prompt("test_prompt_with_image")
        assert image["messages"] == [
            {"role": "user", "content": {"type": "image", "data": PNG_B64, "mimeType": "image/png"}},
            {"role": "user", "content": {"type": "text", "text": "Please analyze the image above."}},
        ]


async def test_prompt_missing_required_argument(server_target):
    async with connect(server_target) as (client, _):
        with pytest.raises(ProtocolError) as err:
            await client.get_prompt("test_prompt_with_arguments", {"arg1": "only one"})
        assert error_code(err.value) == -32602


async def test_completion(server_target):
    async with connect(server_target) as (client, _):
        prompt_ref = types.PromptReference(type="ref/prompt", name="test_prompt_with_arguments")
        completion = (await client.complete(prompt_ref, {"name": "arg1", "value": "test"}))["completion"]
        assert completion == {"values": ["testValue1", "testValue2"], "total": 2, "hasMore": False}

        everything = (await client.complete(prompt_ref, {"name": "arg1", "value": ""}))["completion"]
        assert everything["values"] == ["testValue1", "testValue2", "other"]

        template_ref = types.ResourceTemplateReference(type="ref/resource", uri="test://template/{id}/data")
        ids = (await client.complete(template_ref, {"name": "id", "value": "12"}))["completion"]
        assert ids["values"] == ["123", "124"]
