"""The 2024-11-05 HTTP+SSE transport (``--legacy-sse``) with ``mcp.client.sse.sse_client``:
its own errors and the end of a session with its stream. (Tools, resources, prompts,
progress, logging, sampling, elicitation, roots and cancellation over it run in the
other test files, as their ``sse`` transport.)"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import timedelta

import anyio
import mcp
import pytest
from conftest import REQUEST_TIMEOUT, SDK_V2, SseEndpoint
from mcp.client.sse import sse_client

PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
#: ClientSession's read timeout: seconds in mcp 2.x, a timedelta in 1.x.
READ_TIMEOUT = REQUEST_TIMEOUT if SDK_V2 else timedelta(seconds=REQUEST_TIMEOUT)


def post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    """POST `body`; the status and the JSON answer ({} when there is none)."""
    req = urllib.request.Request(url, data=body, method="POST", headers={"content-type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    return status, (json.loads(text) if text else {})


def base(endpoint: SseEndpoint) -> str:
    return endpoint.url.removesuffix("/sse")


def test_not_served_without_the_flag(http_url: str) -> None:
    req = urllib.request.Request(http_url.removesuffix("/mcp") + "/sse", headers={"accept": "text/event-stream"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 404


def test_unknown_or_missing_session(sse_url: SseEndpoint) -> None:
    status, body = post(f"{base(sse_url)}/messages?sessionId=0123456789abcdef", json.dumps(PING).encode())
    assert (status, body["error"]["code"]) == (404, -32001)
    status, _ = post(f"{base(sse_url)}/messages", json.dumps(PING).encode())
    assert status == 400


@pytest.mark.anyio
async def test_bad_bodies_are_refused_and_the_session_goes_on(sse_url: SseEndpoint) -> None:
    sessions: list[str] = []
    async with sse_client(sse_url.url, on_session_created=sessions.append) as (read, write):
        async with mcp.ClientSession(read, write, read_timeout_seconds=READ_TIMEOUT) as session:
            await session.initialize()
            url = f"{base(sse_url)}/messages?sessionId={sessions[0]}"
            status, body = await anyio.to_thread.run_sync(post, url, b'{"jsonrpc":')
            assert (status, body["error"]["code"]) == (400, -32700)
            status, _ = await anyio.to_thread.run_sync(post, url, b"{}", "text/plain")
            assert status == 415
            await session.send_ping()


@pytest.mark.anyio
async def test_closing_the_stream_ends_the_session(sse_url: SseEndpoint) -> None:
    sessions: list[str] = []
    async with sse_client(sse_url.url, on_session_created=sessions.append) as (read, write):
        async with mcp.ClientSession(read, write, read_timeout_seconds=READ_TIMEOUT) as session:
            await session.initialize()
            await session.send_ping()
    url = f"{base(sse_url)}/messages?sessionId={sessions[0]}"
    deadline = time.monotonic() + 5
    while (status := (await anyio.to_thread.run_sync(post, url, json.dumps(PING).encode()))[0]) != 404:
        assert status == 202
        assert time.monotonic() < deadline, "the session outlived its stream"
        await anyio.sleep(0.05)
