"""tools/list as a client sees it: names, annotations, schemas.

The operations come from the document the example was generated from
(specs/openapi/httpbin-swagger20.json); the example's generated README maps
each tool to its `METHOD /path`.
"""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from conftest import HTTPBIN_SPEC, ROOT

pytestmark = pytest.mark.anyio

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# Claude and OpenAI-style clients take tool names of at most 64 characters.
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

# Every keyword of JSON Schema 2020-12 (core, applicator, validation, meta-data,
# format, content, unevaluated) and the OpenAPI extras the runtime passes on.
JSON_SCHEMA_KEYWORDS = {
    "$schema", "$id", "$ref", "$defs", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$comment",
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems", "items",
    "contains", "properties", "patternProperties", "additionalProperties", "propertyNames",
    "unevaluatedItems", "unevaluatedProperties", "type", "enum", "const", "multipleOf", "maximum",
    "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems",
    "minItems", "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties", "required",
    "dependentRequired", "title", "description", "default", "deprecated", "readOnly", "writeOnly",
    "examples", "format", "contentEncoding", "contentMediaType", "contentSchema",
}  # fmt: skip
SCHEMA_VALUED = {"not", "if", "then", "else", "contains", "additionalProperties", "propertyNames",
                 "unevaluatedItems", "unevaluatedProperties", "contentSchema", "items"}  # fmt: skip
SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "dependentSchemas"}
# httpbin's free-form query parameters (see test_free_form_parameter_schemas_are_json_schema).
FREE_FORM_TOOLS = {"get_cookies_delete", "get_cookies_set", "get_response_headers", "post_response_headers"}


def spec_operations() -> set[tuple[str, str]]:
    spec = json.loads(HTTPBIN_SPEC.read_text())
    return {(m.upper(), p) for p, item in spec["paths"].items() for m in item if m in HTTP_METHODS}


def readme_operations() -> dict[str, tuple[str, str]]:
    """tool name → (METHOD, path), from the generated examples/httpbin/README.md."""
    lines = (ROOT / "examples" / "httpbin" / "README.md").read_text().splitlines()
    found = [re.match(r"^- `([^`]+)`: `([A-Z]+) ([^`]+)`", line) for line in lines]
    return {f[1]: (f[2], f[3]) for f in found if f}


def unknown_keywords(schema: object, where: str = "") -> list[str]:
    """Keys of (sub)schemas that are not JSON Schema keywords."""
    if not isinstance(schema, dict):
        return []
    out = [f"{where}/{k}" for k in schema if k not in JSON_SCHEMA_KEYWORDS]
    for k, v in schema.items():
        if k in SCHEMA_VALUED:
            out += unknown_keywords(v, f"{where}/{k}")
        elif k in SCHEMA_LISTS and isinstance(v, list):
            for i, s in enumerate(v):
                out += unknown_keywords(s, f"{where}/{k}/{i}")
        elif k in SCHEMA_MAPS and isinstance(v, dict):
            for name, s in v.items():
                out += unknown_keywords(s, f"{where}/{k}/{name}")
    return out


@pytest.fixture
async def tools(connect) -> dict[str, dict]:
    async with connect() as mcp:
        listed = await mcp.list_tools()
    names = [t["name"] for t in listed]
    assert len(names) == len(set(names)), "duplicate tool names"
    return {t["name"]: t for t in listed}


async def test_every_operation_is_a_tool(tools):
    operations = readme_operations()
    assert set(tools) == set(operations)
    assert set(operations.values()) == spec_operations()
    assert len(tools) == 78


async def test_names_titles_descriptions(tools):
    for name, tool in tools.items():
        assert NAME.match(name), name
        assert tool["title"] and tool["description"], name
    assert max(len(n) for n in tools) == len("get_digest_auth_qop_user_passwd_algorithm_stale_after")


async def test_annotations_follow_the_http_method(tools):
    expected = {
        # safe methods are read-only (the other hints then mean nothing)
        "GET": {"readOnlyHint": True, "openWorldHint": True},
        "DELETE": {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": True, "openWorldHint": True},
        "PUT": {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": True, "openWorldHint": True},
        "POST": {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False, "openWorldHint": True},
        "PATCH": {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False, "openWorldHint": True},
        "TRACE": {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False, "openWorldHint": True},
    }
    for name, (method, _) in readme_operations().items():
        assert tools[name]["annotations"] == expected[method], name


async def test_input_schemas_are_valid_and_name_every_path_parameter(tools):
    operations = readme_operations()
    for name, tool in tools.items():
        schema = tool["inputSchema"]
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object", name
        required = set(schema.get("required", []))
        assert required <= set(schema["properties"]), name
        path_params = set(re.findall(r"\{([^}]+)\}", operations[name][1]))
        assert path_params <= required, name
        if "outputSchema" in tool:
            jsonschema.Draft202012Validator.check_schema(tool["outputSchema"])
    assert tools["get_cache_value"]["inputSchema"]["properties"]["value"] == {"type": "integer"}
    assert tools["get_drip"]["inputSchema"]["properties"]["numbytes"]["default"] == 10


async def test_schemas_use_json_schema_keywords_only(tools):
    for name, tool in tools.items():
        if name not in FREE_FORM_TOOLS:
            assert unknown_keywords(tool["inputSchema"]) == [], name


async def test_free_form_parameter_schemas_are_json_schema(tools):
    for name in FREE_FORM_TOOLS:
        assert unknown_keywords(tools[name]["inputSchema"]) == [], name
        assert tools[name]["inputSchema"]["properties"]["freeform"]["type"] == "object", name


async def test_the_session_serves_the_same_list_twice(connect):
    async with connect() as mcp:
        first = await mcp.list_tools()
        assert await mcp.list_tools() == first
