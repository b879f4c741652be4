"""Resources, resource templates, prompts and completion with the official Python SDK
client, over stdio and HTTP."""

from __future__ import annotations

import base64
import json

import pytest
from conftest import connect
from mcp import types
from mcp.shared.exceptions import MCPError

pytestmark = pytest.mark.anyio


async def test_list_resources_and_templates(server_target):
    async with connect(server_target) as (client, _):
        resources = (await client.list_resources()).resources
        assert [(str(r.uri), r.name, r.mime_type) for r in resources] == [
            ("test://static-text", "static-text", "text/plain"),
            ("test://static-binary", "static-binary", "image/png"),
            ("test://watched-resource", "watched-resource", "text/plain"),
        ]
        assert all(r.description for r in resources)

        templates = (await client.list_resource_templates()).resource_templates
        assert [(t.uri_template, t.name, t.mime_type) for t in templates] == [
            ("test://template/{id}/data", "template", "application/json")
        ]


async def test_read_resources(server_target):
    async with connect(server_target) as (client, _):
        text = (await client.read_resource("test://static-text")).contents
        assert len(text) == 1
        assert str(text[0].uri) == "test://static-text"
        assert text[0].mime_type == "text/plain"
        assert text[0].text == "This is the content of the static text resource."

        blob = (await client.read_resource("test://static-binary")).contents
        assert len(blob) == 1 and blob[0].mime_type == "image/png"
        assert base64.b64decode(blob[0].blob).startswith(b"\x89PNG")

        data = (await client.read_resource("test://template/42/data")).contents
        assert str(data[0].uri) == "test://template/42/data"
        assert data[0].mime_type == "application/json"
        assert json.loads(data[0].text) == {"id": "42", "templateTest": True, "data": "Data for ID: 42"}


async def test_read_unknown_resource(server_target):
    async with connect(server_target) as (client, _):
        with pytest.raises(MCPError) as err:
            await client.read_resource("test://does-not-exist")
        assert err.value.code == -32002


async def test_subscribe_unsubscribe(server_target):
    async with connect(server_target) as (client, _):
        assert isinstance(await client.subscribe_resource("test://watched-resource"), types.EmptyResult)
        assert isinstance(await client.unsubscribe_resource("test://watched-resource"), types.EmptyResult)


async def test_prompts(server_target):
    async with connect(server_target) as (client, _):
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert set(prompts) == {
            "test_simple_prompt",
            "test_prompt_with_arguments",
            "test_prompt_with_embedded_resource",
            "test_prompt_with_image",
        }
        assert all(p.description for p in prompts.values())
        args = prompts["test_prompt_with_arguments"].arguments
        assert [(a.name, a.required) for a in args] == [("arg1", True), ("arg2", True)]

        simple = await client.get_prompt("test_simple_prompt")
        assert [(m.role, m.content.text) for m in simple.messages] == [
            ("user", "This is a simple prompt for testing.")
        ]

        with_args = await client.get_prompt("test_prompt_with_arguments", {"arg1": "alpha", "arg2": "beta"})
        assert with_args.messages[0].content.text == "Prompt with arguments: arg1='alpha', arg2='beta'"

        embedded = await client.get_prompt(
            "test_prompt_with_embedded_resource", {"resourceUri": "test://interop-resource"}
        )
        assert embedded.messages[0].content.type == "resource"
        assert str(embedded.messages[0].content.resource.uri) == "test://interop-resource"
        assert embedded.messages[0].content.resource.text == "Embedded resource content for testing."
        assert embedded.messages[1].content.text == "Please process the embedded resource above."

        image = await client.get_prompt("test_prompt_with_image")
        assert image.messages[0].content.type == "image"
        assert image.messages[0].content.mime_type == "image/png"
        assert base64.b64decode(image.messages[0].content.data).startswith(b"\x89PNG")


async def test_prompt_missing_required_argument(server_target):
    async with connect(server_target) as (client, _):
        with pytest.raises(MCPError) as err:
            await client.get_prompt("test_prompt_with_arguments", {"arg1": "only one"})
        assert err.value.code == types.INVALID_PARAMS


async def test_completion(server_target):
    async with connect(server_target) as (client, _):
        prompt_ref = types.PromptReference(type="ref/prompt", name="test_prompt_with_arguments")
        completion = (await client.complete(prompt_ref, {"name": "arg1", "value": "test"})).completion
        assert completion.values == ["testValue1", "testValue2"]
        assert completion.total == 2
        assert completion.has_more is False

        everything = (await client.complete(prompt_ref, {"name": "arg1", "value": ""})).completion
        assert everything.values == ["testValue1", "testValue2", "other"]

        template_ref = types.ResourceTemplateReference(type="ref/resource", uri="test://template/{id}/data")
        ids = (await client.complete(template_ref, {"name": "id", "value": "12"})).completion
        assert ids.values == ["123", "124"]
