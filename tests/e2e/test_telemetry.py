"""Telemetry (docs/telemetry.md): the httpbin server built with the runtime's
``telemetry`` feature (scripts/e2e.sh builds it so).

* Prometheus: ``--metrics`` serves ``GET /metrics``; the text is parsed with the
  official Python client's parser and its counters and histograms must match
  the calls made through the SDK client.
* OTLP: a receiver in this file (an HTTP server on 127.0.0.1) decodes the
  protobuf of ``/v1/traces`` and ``/v1/metrics`` with ``opentelemetry-proto``;
  the spans of the request, the tool call and the upstream call must form one
  trace with the right parent chain, continuing a ``traceparent`` the client
  sent (HTTP header or ``_meta``), and the upstream (httpbin ``/headers``)
  must have received the upstream span's ``traceparent``.
"""

from __future__ import annotations

import http.server
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import anyio
import mcp.shared.exceptions
import pytest
from conftest import open_session
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.anyio

METRICS_ARGS = ("--metrics",)


# --- Prometheus ---------------------------------------------------------------------------


def scrape(mcp_url: str) -> dict[str, Any]:
    """``GET /metrics`` beside the MCP endpoint, parsed: family name → family."""
    url = mcp_url.removesuffix("/mcp") + "/metrics"
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = r.read().decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def value(family: Any, sample: str, **labels: str) -> float:
    """The one sample named ``sample`` whose labels include ``labels``; 0 if none."""
    found = [s.value for s in family.samples if s.name == sample and labels.items() <= s.labels.items()]
    assert len(found) <= 1, (sample, labels, found)
    return found[0] if found else 0.0


async def test_prometheus_metrics_match_the_calls(http_servers):
    # The session era: the active-sessions gauge counts 2025-11-25 sessions
    # (a 2026-07-28 client, which the SDK would otherwise pick, has none).
    args = (*METRICS_ARGS, "--protocol-2026=false")
    async with open_session("http", http_servers, era="legacy", args=args) as session:
        for _ in range(3):
            await session.call_ok("get_headers")
        for _ in range(2):
            result = await session.call("get_status_codes", {"codes": "404"})
            assert result["isError"] is True
        with pytest.raises(mcp.shared.exceptions.MCPError):
            await session.call("no_such_tool")
        families = scrape(http_servers.url("httpbin", args))

    calls = families["mcpgen_tool_calls"]
    assert calls.type == "counter"
    assert value(calls, "mcpgen_tool_calls_total", gen_ai_tool_name="get_headers", outcome="ok") == 3
    assert value(calls, "mcpgen_tool_calls_total", gen_ai_tool_name="get_status_codes", outcome="tool_error") == 2
    assert value(calls, "mcpgen_tool_calls_total", gen_ai_tool_name="get_status_codes", outcome="ok") == 0

    errors = families["mcpgen_errors"]
    assert value(errors, "mcpgen_errors_total", mcp_method_name="tools/call", error_type="tool_error") == 2
    # The unknown tool: a JSON-RPC error (invalid params), counted with its request.
    assert value(errors, "mcpgen_errors_total", mcp_method_name="tools/call", error_type="-32602") == 1

    latency = families["mcp_server_operation_duration_seconds"]
    assert latency.type == "histogram"
    answered = [
        s for s in latency.samples if s.labels.get("mcp_method_name") == "tools/call" and "error_type" not in s.labels
    ]
    count = next(s.value for s in answered if s.name.endswith("_count"))
    assert count == 5, "3 results and 2 tool errors are answers"
    buckets = sorted(
        ((float(s.labels["le"]), s.value) for s in answered if s.name.endswith("_bucket")), key=lambda b: b[0]
    )
    assert [v for _, v in buckets] == sorted(v for _, v in buckets), "cumulative buckets"
    assert buckets[-1] == (float("inf"), 5)
    assert next(s.value for s in answered if s.name.endswith("_sum")) > 0
    failed = value(latency, "mcp_server_operation_duration_seconds_count", mcp_method_name="tools/call", error_type="-32602")
    assert failed == 1

    upstream = families["mcpgen_upstream_responses"]
    ok = value(
        upstream, "mcpgen_upstream_responses_total", mcpgen_operation="get_headers", http_response_status_class="2xx"
    )
    assert ok == 3
    client_errors = value(
        upstream,
        "mcpgen_upstream_responses_total",
        mcpgen_operation="get_status_codes",
        http_response_status_class="4xx",
    )
    assert client_errors == 2
    assert "http_client_request_duration_seconds" in families

    sessions = families["mcpgen_sessions_active"]
    assert sessions.type == "gauge"
    assert sessions.samples[0].value >= 1, "the session open when the metrics were read"


async def test_metrics_are_off_unless_asked_for(http_servers):
    url = http_servers.url("httpbin")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url.removesuffix("/mcp") + "/metrics", timeout=10)
    assert e.value.code in (404, 405)


async def test_metrics_addr_serves_a_stdio_server(http_servers, era):
    from conftest import _free_port

    port = _free_port()
    async with open_session("stdio", http_servers, era=era, args=("--metrics-addr", f"127.0.0.1:{port}")) as session:
        await session.call_ok("get_headers")
        with anyio.fail_after(10):
            while True:
                try:
                    families = scrape(f"http://127.0.0.1:{port}/mcp")
                    break
                except OSError:
                    await anyio.sleep(0.05)
    calls = families["mcpgen_tool_calls"]
    assert value(calls, "mcpgen_tool_calls_total", gen_ai_tool_name="get_headers", outcome="ok") == 1
    assert families["mcpgen_sessions_active"].samples[0].value == 1, "the stdio session"


# --- OTLP ----------------------------------------------------------------------------------


class Receiver:
    """An OTLP/HTTP receiver: decodes what is posted to /v1/traces and /v1/metrics."""

    def __init__(self) -> None:
        self.spans: list[trace_pb2.Span] = []
        self.resources: list[dict[str, str]] = []
        self.metrics: list[Any] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                assert self.headers["Content-Type"] == "application/x-protobuf"
                if self.path == "/v1/traces":
                    req = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
                    reply = trace_service_pb2.ExportTraceServiceResponse()
                    with receiver.lock:
                        for rs in req.resource_spans:
                            receiver.resources.append(attributes(rs.resource.attributes))
                            for ss in rs.scope_spans:
                                receiver.spans.extend(ss.spans)
                elif self.path == "/v1/metrics":
                    req = metrics_service_pb2.ExportMetricsServiceRequest.FromString(body)
                    reply = metrics_service_pb2.ExportMetricsServiceResponse()
                    with receiver.lock:
                        for rm in req.resource_metrics:
                            service = attributes(rm.resource.attributes).get("service.name")
                            for sm in rm.scope_metrics:
                                receiver.metrics.extend((service, m) for m in sm.metrics)
                else:
                    self.send_error(404)
                    return
                data = reply.SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    async def trace(self, trace_id: str, count: int, timeout: float = 15) -> list[trace_pb2.Span]:
        """The spans of ``trace_id``, once there are ``count`` of them."""
        with anyio.fail_after(timeout):
            while True:
                with self.lock:
                    found = [s for s in self.spans if s.trace_id.hex() == trace_id]
                if len(found) >= count:
                    return found
                await anyio.sleep(0.05)

    async def metric_points(self, service: str, name: str, timeout: float = 15) -> list[Any]:
        """The sum data points of the latest export of metric ``name`` by ``service``."""
        with anyio.fail_after(timeout):
            while True:
                with self.lock:
                    found = [m for s, m in self.metrics if s == service and m.name == name]
                if found:
                    return list(found[-1].sum.data_points)
                await anyio.sleep(0.05)


def attributes(attrs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in attrs:
        v = kv.value
        out[kv.key] = getattr(v, v.WhichOneof("value")) if v.WhichOneof("value") else None
    return out


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


def otlp_env(receiver: Receiver) -> dict[str, str]:
    # Short export delays so the test need not wait for the defaults (5 s, 60 s).
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_SERVICE_NAME": "e2e-httpbin",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_METRIC_EXPORT_INTERVAL": "300",
    }


def by_name(spans: list[trace_pb2.Span], name: str) -> trace_pb2.Span:
    [span] = [s for s in spans if s.name == name]
    return span


def check_chain(spans: list[trace_pb2.Span], tool: str, parent: bytes) -> trace_pb2.Span:
    """request ← tool call ← upstream call, the request a child of ``parent``;
    returns the upstream span."""
    request = by_name(spans, f"tools/call {tool}")
    call = by_name(spans, f"execute_tool {tool}")
    upstream = by_name(spans, "GET")
    assert request.kind == trace_pb2.Span.SPAN_KIND_SERVER
    assert call.kind == trace_pb2.Span.SPAN_KIND_INTERNAL
    assert upstream.kind == trace_pb2.Span.SPAN_KIND_CLIENT
    assert request.parent_span_id == parent
    assert call.parent_span_id == request.span_id
    assert upstream.parent_span_id == call.span_id
    a = attributes(request.attributes)
    assert (a["mcp.method.name"], a["gen_ai.tool.name"]) == ("tools/call", tool)
    assert a["gen_ai.operation.name"] == "execute_tool"
    assert a["jsonrpc.request.id"]
    assert attributes(call.attributes)["gen_ai.tool.name"] == tool
    u = attributes(upstream.attributes)
    assert u["http.request.method"] == "GET"
    assert u["http.response.status_code"] == 200
    assert u["url.full"].endswith("/headers")
    return upstream


def new_trace() -> tuple[str, str]:
    """A client's (trace id, span id), new for each run (the receiver keeps every span)."""
    return os.urandom(16).hex(), os.urandom(8).hex()


def echoed_traceparent(result: dict[str, Any]) -> tuple[str, str]:
    """(trace id, parent id) of the traceparent httpbin received."""
    version, trace_id, parent_id, flags = result["headers"]["Traceparent"].split("-")
    assert (version, flags) == ("00", "01")
    return trace_id, parent_id


async def test_otlp_spans_form_one_trace_that_reaches_the_upstream(http_servers, receiver):
    # The session era, whose requests carry `mcp.session.id` (2026-07-28
    # requests are stateless: no session to name).
    env = {**otlp_env(receiver), "MCP_PROTOCOL_2026": "false"}
    async with open_session("http", http_servers, era="legacy", env=env) as session:
        result = await session.call_ok("get_headers")
    trace_id, parent_id = echoed_traceparent(result)
    spans = await receiver.trace(trace_id, 3)
    upstream = check_chain(spans, "get_headers", parent=b"")
    assert upstream.span_id.hex() == parent_id, "httpbin got the upstream span's traceparent"
    request = by_name(spans, "tools/call get_headers")
    assert attributes(request.attributes)["mcp.session.id"], "HTTP requests belong to a session"
    assert {"service.name": "e2e-httpbin"}.items() <= receiver.resources[-1].items()


async def test_an_inbound_traceparent_header_is_continued(http_servers, receiver, era):
    inbound_trace, inbound_span = new_trace()
    headers = {"traceparent": f"00-{inbound_trace}-{inbound_span}-01"}
    async with open_session("http", http_servers, era=era, env=otlp_env(receiver), client_headers=headers) as session:
        result = await session.call_ok("get_headers")
    trace_id, parent_id = echoed_traceparent(result)
    assert trace_id == inbound_trace, "the upstream call continues the client's trace"
    spans = await receiver.trace(inbound_trace, 3)
    upstream = check_chain(spans, "get_headers", parent=bytes.fromhex(inbound_span))
    assert upstream.span_id.hex() == parent_id


async def test_a_meta_traceparent_is_continued_over_stdio(http_servers, receiver, era):
    inbound_trace, inbound_span = new_trace()
    async with open_session("stdio", http_servers, era=era, env=otlp_env(receiver)) as session:
        meta = {"traceparent": f"00-{inbound_trace}-{inbound_span}-01"}
        raw = await session.client.call_tool("get_headers", {}, meta=meta)
        result = raw.structured_content
    trace_id, parent_id = echoed_traceparent(result)
    assert trace_id == inbound_trace
    spans = await receiver.trace(inbound_trace, 3)
    upstream = check_chain(spans, "get_headers", parent=bytes.fromhex(inbound_span))
    assert upstream.span_id.hex() == parent_id


async def test_otlp_metrics_count_the_calls(http_servers, receiver, era):
    # A server (and service name) per era: the exported counts are cumulative.
    service = f"e2e-httpbin-metrics-{era}"
    env = {**otlp_env(receiver), "OTEL_SERVICE_NAME": service}
    async with open_session("http", http_servers, era=era, env=env) as session:
        for _ in range(2):
            await session.call_ok("get_headers")
        result = await session.call("get_status_codes", {"codes": "500"})
        assert result["isError"] is True
        # Exports are cumulative: wait for one that has seen every call.
        deadline = time.monotonic() + 15
        while True:
            points = await receiver.metric_points(service, "mcpgen.tool.calls")
            counts = {
                (attributes(p.attributes)["gen_ai.tool.name"], attributes(p.attributes)["outcome"]): p.as_int
                for p in points
            }
            if counts.get(("get_status_codes", "tool_error"), 0) >= 1 or time.monotonic() > deadline:
                break
            await anyio.sleep(0.1)
    # Other tests' servers export to this receiver too, under other service names.
    assert counts.get(("get_status_codes", "tool_error")) == 1, counts
    assert counts.get(("get_headers", "ok"), 0) >= 2, counts
