"""Cancelling a call to a slow upstream endpoint (httpbin /delay/{n}).

The SDK (mcp 2.x) sends `notifications/cancelled` when the awaiting task is
cancelled. The runtime then drops the upstream request, which closes its TCP
connection at once. httpbin's sync worker is still asleep in /delay, so its
end of that connection sits in CLOSE_WAIT (the peer has closed) until the
delay is over: /proc/net/tcp shows the upstream-side abort. (httpbin's access
log would not: gunicorn logs the request when the sleep ends, and the write
of the response into the half-closed socket succeeds.)
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import pytest
from conftest import HTTPBIN_URL

pytestmark = pytest.mark.anyio

HTTPBIN_PORT = urlsplit(HTTPBIN_URL).port
ESTABLISHED, CLOSE_WAIT = "01", "08"
DELAY = 8  # seconds; httpbin caps /delay at 10


def upstream_sockets() -> dict[int, str]:
    """httpbin's side of its TCP connections: remote (client) port → state."""
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if int(local.rsplit(":", 1)[1], 16) == HTTPBIN_PORT and int(remote.rsplit(":", 1)[1], 16) != 0:
                out[int(remote.rsplit(":", 1)[1], 16)] = state
    return out


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
async def test_cancelling_a_slow_call_aborts_the_upstream_request(connect, upstream):
    async with connect() as mcp:
        before = {port for port, state in upstream_sockets().items() if state == ESTABLISHED}
        mark = upstream.mark()
        outcome: list[object] = []
        async with anyio.create_task_group() as tg:
            scope = anyio.CancelScope()

            async def slow_call() -> None:
                with scope:
                    outcome.append(await mcp.call("get_delay_delay", {"delay": DELAY}))

            tg.start_soon(slow_call)
            # Wait (bounded) for the upstream request to be in flight: a new connection to httpbin.
            with anyio.fail_after(10):
                while True:
                    fresh = {p for p, s in upstream_sockets().items() if s == ESTABLISHED} - before
                    if fresh:
                        break
                    await anyio.sleep(0.02)
            await anyio.sleep(0.3)  # the request line is sent; httpbin sleeps
            cancelled_at = time.monotonic()
            scope.cancel()
        # The client has control back at once, without a result.
        assert time.monotonic() - cancelled_at < 1.0
        assert outcome == [] and scope.cancelled_caught

        # The server dropped the upstream request: httpbin's end of it is half-closed
        # long before the delay ends.
        with anyio.fail_after(3):
            while not any(upstream_sockets().get(p) == CLOSE_WAIT for p in fresh):
                await anyio.sleep(0.02)
        assert time.monotonic() - cancelled_at < DELAY / 2

        # The same session answers the next call, from the same upstream, at once.
        started = time.monotonic()
        assert (await mcp.call_ok("get_uuid"))["uuid"]
        assert (await mcp.call_ok("get_anything_anything", {"anything": "after-cancel"}))["method"] == "GET"
        assert time.monotonic() - started < 3
        # httpbin never answered /delay before the cancellation; it was asked exactly once.
        delays = [r for r in upstream.since(mark) if r.path == f"/delay/{DELAY}"]
        assert len(delays) <= 1


async def test_a_slow_call_that_is_not_cancelled_completes(connect, upstream):
    async with connect() as mcp:
        started = time.monotonic()
        echo = await mcp.call_ok("get_delay_delay", {"delay": 1})
        assert time.monotonic() - started >= 1
        assert echo["url"] == f"{HTTPBIN_URL}/delay/1"
