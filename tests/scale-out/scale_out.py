"""Scale-out checks against instances sharing Redis (run by scripts/scale-out.sh).

    scale_out.py cross  LB_URL A_URL B_URL        a session across instances, by hand
    scale_out.py faults LB_URL A_URL B_URL REDIS_CTL   kill an instance, restart Redis
    scale_out.py load   URL SESSIONS CALLS LABEL [REDIS_PORT PREFIX]

Every wait is bounded; a check that fails raises, and the exit status is 1.
Figures (throughput, p99, leaked sessions) are printed, never asserted
against a time.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from typing import Any

try:
    import httpx
except ImportError:  # the mcp 2.x venv ships it as httpx2
    import httpx2 as httpx  # type: ignore[no-redef]

ACCEPT = "application/json, text/event-stream"
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def fail(msg: str) -> None:
    raise SystemExit(f"FAILED: {msg}")


def check(cond: bool, msg: str) -> None:
    if not cond:
        fail(msg)


def messages(body: str) -> list[dict[str, Any]]:
    """The JSON-RPC messages of a response: its JSON, or its SSE events' data."""
    body = body.strip()
    if body.startswith("{"):
        return [json.loads(body)]
    out = []
    for line in body.splitlines():
        if line.startswith("data: ") and line[6:].strip():
            out.append(json.loads(line[6:]))
    return out


class Session:
    """One MCP session, speaking Streamable HTTP by hand, to any URL."""

    def __init__(self, http: httpx.AsyncClient, url: str, caps: dict | None = None):
        self.http, self.url, self.caps = http, url, caps or {}
        self.sid = ""
        self.next_id = 0

    def headers(self) -> dict[str, str]:
        h = {"accept": ACCEPT, "content-type": "application/json"}
        if self.sid:
            h["mcp-session-id"] = self.sid
            h["mcp-protocol-version"] = "2025-11-25"
        return h

    async def open(self) -> None:
        r = await self.post_raw(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": self.caps,
                    "clientInfo": {"name": "scale-out", "version": "1"},
                },
            }
        )
        check(r.status_code == 200, f"initialize: {r.status_code} {r.text[:200]}")
        self.sid = r.headers["mcp-session-id"]
        r = await self.post_raw({"jsonrpc": "2.0", "method": "notifications/initialized"})
        check(r.status_code == 202, f"initialized: {r.status_code} {r.text[:200]}")

    async def post_raw(self, msg: dict, url: str | None = None) -> httpx.Response:
        return await self.http.post(url or self.url, json=msg, headers=self.headers())

    async def call(self, method: str, params: dict | None = None, url: str | None = None) -> dict:
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}
        r = await self.post_raw(msg, url)
        check(r.status_code == 200, f"{method}: HTTP {r.status_code} {r.text[:200]}")
        answers = [m for m in messages(r.text) if m.get("id") == self.next_id]
        check(len(answers) == 1, f"{method}: no answer in {r.text[:200]}")
        return answers[0]

    async def close(self) -> int:
        r = await self.http.delete(self.url, headers=self.headers())
        return r.status_code


# --- cross: one session across instances ---------------------------------------


async def cross(lb: str, a: str, b: str) -> None:
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        s = Session(http, a, {"elicitation": {}})
        await s.open()
        # Started on A, served by B: the record came from Redis.
        r = await s.call("logging/setLevel", {"level": "debug"}, url=b)
        check("result" in r, f"setLevel on B: {r}")
        r = await s.call("tools/call", {"name": "test_simple_text", "arguments": {}}, url=b)
        check(r["result"]["content"][0]["type"] == "text", f"tools/call on B: {r}")
        print("ok: a session started on instance A continues on instance B")

        # Elicitation asked on A, answered through B.
        await elicit_across(http, s, a, b)
        print("ok: an elicitation asked on A is answered by a POST to B")

        # notifications/cancelled on B stops the request running on A.
        began = time.monotonic()
        slow = asyncio.create_task(
            s.post_raw(
                {"jsonrpc": "2.0", "id": 900, "method": "tools/call",
                 "params": {"name": "test_slow_operation", "arguments": {"seconds": 20}}},
                url=a,
            )
        )
        await asyncio.sleep(0.5)
        r = await s.post_raw(
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 900}}, url=b
        )
        check(r.status_code == 202, f"cancel on B: {r.status_code}")
        done = await asyncio.wait_for(slow, 15)
        took = time.monotonic() - began
        check(took < 10, f"the cancelled request ran on for {took:.1f}s")
        check(done.status_code == 202, f"a cancelled request gets no answer: {done.status_code} {done.text[:200]}")
        print(f"ok: notifications/cancelled sent to B stopped the request on A ({took:.1f}s)")

        # Resumption on another instance: the stream closes early, the rest is
        # fetched from B with Last-Event-ID.
        await resume_across(http, s, a, b)
        print("ok: an SSE stream of A resumed with Last-Event-ID on B")

        # resources/updated reaches the GET stream held by B, subscribed on A,
        # triggered on A.
        await notify_across(http, s, a, b)
        print("ok: resources/updated published on A reached the GET stream on B")

        # DELETE on B ends it on A as well.
        check(await Session.close(s) == 200, "DELETE")
        r = await s.post_raw({"jsonrpc": "2.0", "id": 1000, "method": "ping"}, url=a)
        check(r.status_code == 404, f"after DELETE, A answers {r.status_code}")
        r = await s.post_raw({"jsonrpc": "2.0", "id": 1001, "method": "ping"}, url=b)
        check(r.status_code == 404, f"after DELETE, B answers {r.status_code}")
        print("ok: a deleted session is 404 on every instance")


async def elicit_across(http: httpx.AsyncClient, s: Session, a: str, b: str) -> None:
    msg = {"jsonrpc": "2.0", "id": 500, "method": "tools/call",
           "params": {"name": "test_elicitation", "arguments": {"message": "who?"}}}
    result = None
    async with http.stream("POST", a, json=msg, headers=s.headers()) as r:
        check(r.status_code == 200, f"elicitation call: {r.status_code}")
        async for line in r.aiter_lines():
            if not line.startswith("data: ") or not line[6:].strip():
                continue
            m = json.loads(line[6:])
            if m.get("method") == "elicitation/create":
                answer = {"jsonrpc": "2.0", "id": m["id"],
                          "result": {"action": "accept", "content": {"username": "b", "email": "b@example.com"}}}
                ar = await s.post_raw(answer, url=b)
                check(ar.status_code == 202, f"answer on B: {ar.status_code} {ar.text[:200]}")
            elif m.get("id") == 500:
                result = m
                break
    check(result is not None and "result" in result, f"elicitation result: {result}")
    text = json.dumps(result["result"])
    check("accept" in text, f"elicitation result: {text[:300]}")


async def notify_across(http: httpx.AsyncClient, s: Session, a: str, b: str) -> None:
    uri = "test://watched-resource"
    r = await s.call("resources/subscribe", {"uri": uri}, url=a)
    check("result" in r, f"subscribe on A: {r}")
    h = dict(s.headers(), accept="text/event-stream")
    async with http.stream("GET", b, headers=h) as g:
        check(g.status_code == 200, f"GET on B: {g.status_code}")
        lines = g.aiter_lines()
        # The priming event says the stream is attached.
        async for line in lines:
            if line.startswith("id: "):
                break
        r = await s.call("tools/call", {"name": "test_touch_resource", "arguments": {"uri": uri}}, url=a)
        check("result" in r, f"touch on A: {r}")

        async def updated() -> dict:
            async for line in lines:
                if line.startswith("data: ") and "resources/updated" in line:
                    return json.loads(line[6:])
            fail("the GET stream ended without resources/updated")
            return {}

        m = await asyncio.wait_for(updated(), 10)
        check(m["params"]["uri"] == uri, f"notification: {m}")


async def stream_until_elicitation(http: httpx.AsyncClient, s: Session, url: str) -> str:
    """Start test_streaming_elicitation (id 51) on `url`; leave once it asks; the last event id."""
    msg = {"jsonrpc": "2.0", "id": 51, "method": "tools/call",
           "params": {"name": "test_streaming_elicitation", "arguments": {}}}
    last = None
    async with http.stream("POST", url, json=msg, headers=s.headers()) as r:
        check(r.status_code == 200, f"streaming elicitation: {r.status_code}")
        async for line in r.aiter_lines():
            if line.startswith("id: "):
                last = line[4:].strip()
            if line.startswith("data: ") and "elicitation/create" in line:
                break
    check(last is not None, "no event id before the elicitation")
    return last


async def resume_across(http: httpx.AsyncClient, s: Session, a: str, b: str) -> None:
    msg = {"jsonrpc": "2.0", "id": 700, "method": "tools/call",
           "params": {"name": "test_reconnection", "arguments": {}}}
    last = None
    r = await http.post(a, json=msg, headers=s.headers())
    check(r.status_code == 200, f"reconnection call: {r.status_code}")
    for line in r.text.splitlines():
        if line.startswith("id: "):
            last = line[4:].strip()
    check(last is not None, f"no event id on the first stream: {r.text[:300]}")
    check(not any(m.get("id") == 700 for m in messages(r.text)), "answered before the disconnect")
    h = dict(s.headers(), **{"last-event-id": last, "accept": "text/event-stream"})
    async with http.stream("GET", b, headers=h) as g:
        check(g.status_code == 200, f"resume on B: {g.status_code}")
        async for line in g.aiter_lines():
            if line.startswith("data: ") and line[6:].strip():
                m = json.loads(line[6:])
                if m.get("id") == 700:
                    check("result" in m, f"resumed answer: {m}")
                    return
    fail("the resumed stream ended without the answer")


# --- faults ------------------------------------------------------------------------


async def faults(lb: str, a: str, b: str, redis_ctl: str) -> None:
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        s = Session(http, lb, {"elicitation": {}})
        await s.open()
        # A request running on A when A is killed fails (no hang), and the
        # client's retry through the load balancer succeeds.
        slow = asyncio.create_task(
            s.post_raw({"jsonrpc": "2.0", "id": 50, "method": "tools/call",
                        "params": {"name": "test_slow_operation", "arguments": {"seconds": 20}}}, url=a)
        )
        # Another one whose SSE stream the client will resume elsewhere.
        last = await stream_until_elicitation(http, s, a)
        await asyncio.sleep(0.5)
        subprocess.run([redis_ctl, "kill-a"], check=True)
        try:
            r = await asyncio.wait_for(slow, 10)
            check(r.status_code >= 500, f"the request on the killed instance answered {r.status_code}")
        except (httpx.TransportError, httpx.RemoteProtocolError) as e:
            print(f"ok: the request running on the killed instance failed: {type(e).__name__}")
        # Until its health check marks the dead instance down, HAProxy may
        # still hand it a request and reset the client's connection; a client
        # retries that, so the test does too, and counts the retries.
        retried = 0
        for i in range(12):
            for attempt in range(3):
                try:
                    r = await s.call("tools/call", {"name": "test_simple_text", "arguments": {}})
                    break
                except httpx.TransportError as e:
                    check(attempt < 2, f"call {i} after the kill failed 3 times: {type(e).__name__}")
                    retried += 1
                    await asyncio.sleep(0.3)
            check("result" in r, f"call {i} after the kill: {r}")
        check(retried <= 2, f"{retried} calls after the kill needed a retry")
        print(f"ok: an instance killed mid-session; 12 calls through the load balancer succeeded "
              f"({retried} retried on a reset connection)")
        began = time.monotonic()
        h = dict(s.headers(), **{"last-event-id": last, "accept": "text/event-stream"})
        answer = None
        async with http.stream("GET", b, headers=h) as g:
            check(g.status_code == 200, f"resume on B after the kill: {g.status_code}")
            async def read() -> dict | None:
                async for line in g.aiter_lines():
                    if line.startswith("data: ") and line[6:].strip():
                        m = json.loads(line[6:])
                        if m.get("id") == 51:
                            return m
                return None
            answer = await asyncio.wait_for(read(), 15)
        check(answer is not None and "error" in answer, f"resumed stream of a dead instance: {answer}")
        print(f"ok: a stream of the killed instance resumed on B ends with an error in "
              f"{time.monotonic() - began:.1f}s: {answer['error']['message']}")

        # Redis away: a clear 503 + JSON-RPC error, quickly, never a hang.
        subprocess.run([redis_ctl, "stop-redis"], check=True)
        began = time.monotonic()
        r = await s.post_raw({"jsonrpc": "2.0", "id": 60, "method": "ping"})
        took = time.monotonic() - began
        check(r.status_code == 503, f"with Redis down: {r.status_code} {r.text[:200]}")
        body = r.json()
        check(body["error"]["code"] == -32002, f"error code: {body}")
        check("retry-after" in r.headers, "no Retry-After")
        print(f"ok: Redis down: 503, JSON-RPC error -32002, in {took:.2f}s: {body['error']['message'][:90]}")
        subprocess.run([redis_ctl, "start-redis"], check=True)
        # Recovery by itself: the same session goes on (Redis kept it on disk).
        deadline = time.monotonic() + 20
        while True:
            r = await s.post_raw({"jsonrpc": "2.0", "id": 61, "method": "ping"})
            if r.status_code == 200:
                break
            check(time.monotonic() < deadline, f"no recovery after Redis came back: {r.status_code} {r.text[:200]}")
            await asyncio.sleep(0.25)
        for i in range(6):
            r = await s.call("tools/call", {"name": "test_simple_text", "arguments": {}})
            check("result" in r, f"call {i} after the Redis restart: {r}")
        print(f"ok: Redis restarted: the session went on by itself after {20 - (deadline - time.monotonic()):.1f}s")
        check(await s.close() == 200, "DELETE after recovery")


# --- load ----------------------------------------------------------------------------


async def load(url: str, sessions: int, calls: int, label: str, redis: tuple[str, str] | None) -> None:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    latencies: list[float] = []
    errors = 0
    sem = asyncio.Semaphore(32)

    async def one(http: httpx.AsyncClient) -> None:
        nonlocal errors
        async with sem:
            s = Session(http, url)
            try:
                await s.open()
                for i in range(calls):
                    t = time.perf_counter()
                    r = await s.call("tools/call", {"name": "test_add", "arguments": {"a": i, "b": 1}})
                    latencies.append(time.perf_counter() - t)
                    if r.get("result", {}).get("structuredContent", {}).get("sum") != i + 1:
                        errors += 1
                if await s.close() != 200:
                    errors += 1
            except (SystemExit, httpx.HTTPError) as e:
                errors += 1
                print(f"  error: {e}", file=sys.stderr)

    # Earlier steps may have left sessions open (clients that never DELETE):
    # what this run leaves is the difference.
    before = redis_sessions(*redis) if redis else (0, 0)
    began = time.perf_counter()
    async with httpx.AsyncClient(timeout=TIMEOUT, limits=limits) as http:
        await asyncio.gather(*(one(http) for _ in range(sessions)))
    took = time.perf_counter() - began
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0
    leaked = "n/a"
    if redis:
        after = redis_sessions(*redis)
        leaked = f"{after[0] - before[0]} records, {after[1] - before[1]} counted"
    print(f"load [{label}]: {sessions} sessions x {calls} calls = {len(latencies)} calls in {took:.1f}s: "
          f"{len(latencies) / took:.0f} calls/s, p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, "
          f"errors {errors}, leaked sessions: {leaked}")
    check(errors == 0, f"{errors} errors")
    if redis:
        check(leaked.startswith("0 records, 0 counted"), f"leaked sessions: {leaked}")


def redis_sessions(port: str, prefix: str) -> tuple[int, int]:
    """Session records in Redis, and sessions the limit counts."""
    records = subprocess.run(["redis-cli", "-p", port, "--scan", "--pattern", f"mcpgen:{prefix}:s:*"],
                             capture_output=True, text=True, check=True).stdout.split()
    records = [r for r in records if not r.endswith(":subs")]
    counted = subprocess.run(["redis-cli", "-p", port, "ZCARD", f"mcpgen:{prefix}:sessions"],
                             capture_output=True, text=True, check=True).stdout.strip()
    return len(records), int(counted or 0)


def main() -> None:
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "cross":
        asyncio.run(cross(*args[:3]))
    elif cmd == "faults":
        asyncio.run(faults(*args[:4]))
    elif cmd == "load":
        redis = (args[4], args[5]) if len(args) >= 6 else None
        asyncio.run(load(args[0], int(args[1]), int(args[2]), args[3], redis))
    else:
        fail(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
