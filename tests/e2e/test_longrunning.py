"""A generated server from tests/e2e/longrunning.yaml through the official Python
client: the document's root ``x-mcp.cache`` reaches ``tools/list`` on MCP
2026-07-28, an operation documenting a 202 with a status URL is an optional
task, and a 202 that names no status URL (httpbin's /status/202) is the result
at once, with nothing polled."""

from __future__ import annotations

import pytest

from conftest import wire

pytestmark = pytest.mark.anyio


# Caching hints (ttlMs, cacheScope) are fields of MCP 2026-07-28 results only.
@pytest.mark.era("modern")
async def test_the_lists_carry_the_documents_cache_hints(connect):
    async with connect(binary="longrunning") as mcp:
        page = wire(await mcp.client.list_tools())
        assert (page.get("ttlMs"), page.get("cacheScope")) == (60000, "public"), page
        start = {t["name"]: t for t in page["tools"]}["start_job"]
        assert start["execution"]["taskSupport"] == "optional", start


async def test_a_202_without_a_status_url_is_the_result_and_nothing_is_polled(connect, upstream):
    async with connect(binary="longrunning") as mcp:
        mark = upstream.mark()
        result = await mcp.call("start_job", {"code": 202})
        assert result.get("isError", False) is False, result
        assert result["content"][0]["text"].startswith("HTTP 202 Accepted"), result
        assert [(r.method, r.path) for r in upstream.since(mark)] == [("POST", "/status/202")]
