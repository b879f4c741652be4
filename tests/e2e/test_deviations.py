"""An upstream that does not keep to its document (tests/e2e/deviating.yaml against
httpbin's echo): every 2xx reaches the model as a success carrying all of its data,
and the official Python client (which validates structured content against the
declared outputSchema) raises nothing. The TypeScript client does the same in
deviations.test.mjs."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.anyio


async def test_null_missing_extra_and_mistyped_fields_pass_through(connect):
    async with connect(binary="deviating") as mcp:
        tools = {t["name"]: t for t in await mcp.list_tools()}
        declared = tools["get_record"]["outputSchema"]
        # The shape the document gives stays readable; nothing in it can refuse a value.
        assert set(declared["properties"]) == {"id", "json", "method", "origin", "url"}
        assert "required" not in declared and "additionalProperties" not in declared
        result = await mcp.call("get_record")
        assert result.get("isError", False) is False, result
        echo = result["structuredContent"]
        assert echo["json"] is None  # null where `type: object` is documented
        assert "id" not in echo  # a required field missing
        assert echo["method"] == "GET" and isinstance(echo["origin"], str)
        assert {"args", "headers", "url"} <= set(echo)  # fields the document forbids
        assert json.loads(result["content"][0]["text"]) == echo
        note = result["content"][-1]["text"]
        assert note.startswith("Note: the response departs from the API's own description (`"), note


async def test_an_object_where_a_list_is_documented_arrives_whole(connect):
    async with connect(binary="deviating") as mcp:
        result = await mcp.call("list_names")
        assert result.get("isError", False) is False, result
        assert result["structuredContent"]["result"]["method"] == "GET"
        assert "`type` fails at /result" in result["content"][-1]["text"]
