"""Tool surfaces (docs/surfaces.md) through the official Python SDK, against httpbin.

The httpbin example is generated with the `all` surface (its tools/list fits
the budget); its `--tool-surface` and `--toolsets` start-up flags switch it
to `compact` and `toolsets`, which is what these tests drive:

* compact: tools/list is the three meta-tools; search_tools → describe_tool →
  call_tool reaches httpbin, with exactly the result of a direct call, and
  invalid arguments are refused with the direct call's error before anything
  goes upstream;
* toolsets: only the toolsets switched on are listed; enable_toolset sends
  notifications/tools/list_changed (in both eras: on the call's own stream)
  and the next tools/list has the set.
"""

from __future__ import annotations

import base64
from typing import Any

import anyio
import pytest
from conftest import marker

pytestmark = pytest.mark.anyio

COMPACT = ("--tool-surface", "compact")
META_COMPACT = ["search_tools", "describe_tool", "call_tool"]


async def names(mcp) -> list[str]:
    return [t["name"] for t in await mcp.list_tools()]


async def test_compact_search_describe_call(connect, upstream):
    value = marker()[:15]  # 15 bytes: base64 without `=` padding, so the path is as sent
    encoded = base64.urlsafe_b64encode(value.encode()).decode()
    async with connect(args=COMPACT) as mcp:
        assert await names(mcp) == META_COMPACT
        found = await mcp.call_ok("search_tools", {"query": "decode base64 value"})
        hits = [t["name"] for t in found["tools"]]
        assert hits[0] == "get_base64_value", found
        assert found["tools"][0]["toolset"] == "dynamic_data"
        described = await mcp.call_ok("describe_tool", {"names": ["get_base64_value"]})
        tool = described["tools"][0]
        assert tool["name"] == "get_base64_value"
        assert tool["inputSchema"]["required"] == ["value"]
        assert tool["annotations"]["readOnlyHint"] is True
        mark = upstream.mark()
        via_meta = await mcp.call("call_tool", {"name": "get_base64_value", "arguments": {"value": encoded}})
        received = await upstream.wait_for(mark, lambda r: r.path == f"/base64/{encoded}")
        assert received[0].method == "GET"
        # Invalid arguments: refused before anything goes upstream.
        mark = upstream.mark()
        bad_via_meta = await mcp.call("call_tool", {"name": "get_base64_value", "arguments": {"value": 5}})
        unknown = await mcp.call("call_tool", {"name": "no_such_tool", "arguments": {}})
        await anyio.sleep(0.3)
        assert [r for r in upstream.since(mark) if r.path.startswith("/base64")] == []
    assert via_meta.get("isError", False) is False, via_meta
    assert value in via_meta["content"][0]["text"]
    assert bad_via_meta["isError"] is True
    assert bad_via_meta["content"][0]["text"].startswith("Invalid arguments for tool get_base64_value: ")
    assert unknown["isError"] is True and unknown["content"][0]["text"] == "Unknown tool: no_such_tool"
    # The same calls made directly give the same results.
    async with connect() as mcp:
        assert "get_base64_value" in await names(mcp)
        direct = await mcp.call("get_base64_value", {"value": encoded})
        bad = await mcp.call("get_base64_value", {"value": 5})
    assert via_meta == direct
    assert bad_via_meta == bad


async def test_toolsets_list_only_the_enabled_sets_and_enabling_one_notifies(connect):
    changed = anyio.Event()

    async def on_message(message: Any) -> None:
        method = getattr(message, "method", None) or getattr(getattr(message, "root", None), "method", None)
        if method == "notifications/tools/list_changed":
            changed.set()

    args = ("--tool-surface", "toolsets", "--toolsets", "status_codes")
    # A server of its own: enabling a toolset changes it for every later client.
    async with connect(args=args, message_handler=on_message, own_server=True) as mcp:
        listed = await names(mcp)
        assert listed == [
            "list_toolsets",
            "enable_toolset",
            "get_status_codes",
            "put_status_codes",
            "post_status_codes",
            "delete_status_codes",
            "patch_status_codes",
            "trace_status_codes",
        ], listed
        sets = {s["name"]: s for s in (await mcp.call_ok("list_toolsets"))["toolsets"]}
        assert sets["status_codes"]["enabled"] is True
        assert sets["dynamic_data"]["enabled"] is False
        assert not changed.is_set()
        enabled = await mcp.call_ok("enable_toolset", {"name": "dynamic_data"})
        assert "get_base64_value" in enabled["tools"]
        with anyio.fail_after(10):
            await changed.wait()
        now = await names(mcp)
        assert "get_base64_value" in now and "get_status_codes" in now, now
        assert "get_anything" not in now
        wrong = await mcp.call("enable_toolset", {"name": "nope"})
        assert wrong["isError"] is True
        assert wrong["content"][0]["text"].startswith("Unknown toolset: nope; this server has: ")


async def test_an_unknown_toolset_stops_the_server(tmp_path):
    import subprocess

    from conftest import BINARIES, server_env

    out = subprocess.run(
        [BINARIES["httpbin"], "--toolsets", "nope"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=server_env(),
        timeout=30,
    )
    assert out.returncode != 0
    assert b"unknown toolset `nope`" in out.stderr, out.stderr
