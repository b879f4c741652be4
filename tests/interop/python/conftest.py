"""Fixtures for the Python-SDK interop tests.

Every test runs once per transport: ``stdio`` (the SDK spawns the
conformance server as a child process), ``http`` (one server per test
session, listening on a free 127.0.0.1 port, reached over Streamable HTTP)
and ``sse`` (one server started with ``--legacy-sse``, reached over the
deprecated 2024-11-05 HTTP+SSE transport with ``mcp.client.sse.sse_client``;
the legacy era only, since that transport predates 2026-07-28).

The same tests run against both generations of the official `mcp` package
(scripts/interop.sh runs them once per venv):

* 2.x: the high-level ``mcp.Client``, in two eras (the ``era`` parameter):
  ``legacy`` (``mode="legacy"``: the ``initialize`` handshake at 2025-11-25)
  and ``modern`` (the default ``mode="auto"``: the client probes
  ``server/discover``, which our server answers, and stays on 2026-07-28,
  stateless; sampling, elicitation and roots arrive as multi round-trip
  ``InputRequiredResult``s). Tests of a feature one era lacks carry
  ``@pytest.mark.era(...)``.
* 1.x: ``ClientSession`` over ``stdio_client`` / ``streamable_http_client``,
  plain ``initialize`` (legacy era only).

Their result classes differ (snake_case attributes in 2.x, camelCase in 1.x),
so :class:`Session` hands the tests every result as its JSON wire form
(camelCase dicts, ``None`` fields left out) after the SDK has parsed and
validated it.

The server binary comes from ``$CONFORMANCE_SERVER_BIN`` (scripts/interop.sh
builds it and sets the variable).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import mcp
import mcp.shared.exceptions
import pytest
from mcp import StdioServerParameters, types

try:  # 2.x
    from mcp.shared.exceptions import MCPError as ProtocolError
except ImportError:  # 1.x
    from mcp.shared.exceptions import McpError as ProtocolError

MCP_VERSION = importlib.metadata.version("mcp")
SDK_V2 = hasattr(mcp, "Client")
SERVER_BIN = os.environ.get("CONFORMANCE_SERVER_BIN", "")
# Bounded waits everywhere: one request may take this long at most.
REQUEST_TIMEOUT = 30.0
MODERN_VERSION = "2026-07-28"
LEGACY_VERSION = "2025-11-25"
#: The protocol eras each test runs in (mcp 1.x has no modern mode).
ERAS = ["legacy", "modern"] if SDK_V2 else ["legacy"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that takes ``era`` once per era, or in those its marker names."""
    if "era" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("era")
    eras = [e for e in ERAS if marker is None or e in marker.args]
    metafunc.parametrize("era", eras)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The 2024-11-05 SSE transport serves sessions only: no modern-era runs over it."""
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        (drop if params.get("transport") == "sse" and params.get("era") == "modern" else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_configure(config: pytest.Config) -> None:
    if not SERVER_BIN or not os.access(SERVER_BIN, os.X_OK):
        raise pytest.UsageError(
            "CONFORMANCE_SERVER_BIN must name the built conformance-server binary "
            "(run the tests through scripts/interop.sh python)"
        )
    if hasattr(mcp.shared.exceptions, "MCPDeprecationWarning"):
        # 2.x deprecates roots and logging/setLevel (protocol 2026-07-28); we test them on purpose.
        config.addinivalue_line("filterwarnings", "ignore::mcp.shared.exceptions.MCPDeprecationWarning")


def pytest_report_header(config: pytest.Config) -> str:
    return f"mcp {MCP_VERSION} ({'mcp.Client' if SDK_V2 else 'ClientSession'}), server {SERVER_BIN}"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def error_code(exc: BaseException) -> int:
    """The JSON-RPC error code of an SDK protocol error (2.x: .code, 1.x: .error.code)."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else exc.error.code  # type: ignore[attr-defined]


def wire(value: Any) -> Any:
    """A parsed SDK object as it travels on the wire (camelCase, no None fields)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return value


# --- the server ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"conformance-server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"conformance-server did not listen on 127.0.0.1:{port} within {timeout}s")


@contextlib.contextmanager
def serve_http(*extra_args: str, log_prefix: str = "conformance-server-http-") -> Iterator[str]:
    """The conformance server on a free port over HTTP (with `extra_args`); yields its MCP URL."""
    log = tempfile.NamedTemporaryFile(prefix=log_prefix, suffix=".log", delete=False)
    port = _free_port()
    proc = subprocess.Popen(
        [SERVER_BIN, "--transport", "http", "--bind", f"127.0.0.1:{port}", *extra_args],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
    )
    try:
        _wait_listening(port, proc, 30)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


@pytest.fixture(scope="session")
def http_url() -> Iterator[str]:
    """One HTTP server for the whole session; each test opens its own MCP session on it.

    ``$INTEROP_HTTP_URL`` names a server already running instead (scripts/scale-out.sh:
    a load balancer in front of several instances sharing Redis)."""
    given = os.environ.get("INTEROP_HTTP_URL")
    if given:
        yield given
        return
    with serve_http() as url:
        yield url


@dataclass(frozen=True)
class SseEndpoint:
    """The URL of a server's 2024-11-05 SSE stream (``GET /sse``)."""

    url: str


@pytest.fixture(scope="session")
def sse_url() -> Iterator[SseEndpoint]:
    """One server with ``--legacy-sse`` for the whole session."""
    with serve_http("--legacy-sse", log_prefix="conformance-server-sse-") as url:
        yield SseEndpoint(url.removesuffix("/mcp") + "/sse")


@pytest.fixture(params=["stdio", "http", "sse"])
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


@dataclass
class Target:
    """What the client connects to (stdio parameters or the HTTP endpoint URL), in which era."""

    params: Any
    era: str


@pytest.fixture
def server_target(transport: str, era: str, request: pytest.FixtureRequest) -> Target:
    """The server with its defaults (both eras served), reached over `transport`."""
    if transport == "stdio":
        return Target(StdioServerParameters(command=SERVER_BIN, args=["--transport", "stdio"]), era)
    if transport == "sse":
        return Target(request.getfixturevalue("sse_url"), era)
    return Target(request.getfixturevalue("http_url"), era)


# --- the client -----------------------------------------------------------------


@dataclass
class Recorder:
    """Everything the server sent the client besides responses, in wire form."""

    logs: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    sampling_requests: list[dict[str, Any]] = field(default_factory=list)
    elicitation_requests: list[dict[str, Any]] = field(default_factory=list)
    roots_requests: int = 0

    def notified(self, method: str) -> list[dict[str, Any]]:
        """The params of every notification with this method received so far."""
        return [n.get("params", {}) for n in self.notifications if n.get("method") == method]


@dataclass
class Answers:
    """What the client's callbacks answer with (wire form)."""

    sampling_text: str = "This is a test response from the Python client"
    #: Answer sampling requests with "echo: <the prompt>" instead of sampling_text.
    sampling_echo: bool = False
    elicitation: dict[str, Any] = field(
        default_factory=lambda: {"action": "accept", "content": {"username": "py-user", "email": "py-user@example.com"}}
    )
    roots: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"uri": "file:///tmp/interop-root-a", "name": "Root A"},
            {"uri": "file:///tmp/interop-root-b", "name": "Root B"},
        ]
    )


class Session:
    """The connected SDK client; every request method returns the result's wire form."""

    def __init__(self, client: Any, initialize: dict[str, Any]):
        self.client = client
        #: The initialize result: protocolVersion, serverInfo, capabilities, instructions.
        self.initialize = initialize

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return wire(await method(*args, **kwargs))

        return call


def _callbacks(rec: Recorder, answers: Answers) -> dict[str, Any]:
    async def on_sampling(ctx: Any, params: Any) -> Any:
        request = wire(params)
        rec.sampling_requests.append(request)
        answer = answers.sampling_text
        if answers.sampling_echo:
            answer = "echo: " + request["messages"][0]["content"]["text"]
        return types.CreateMessageResult.model_validate(
            {
                "role": "assistant",
                "content": {"type": "text", "text": answer},
                "model": "python-interop-model",
                "stopReason": "endTurn",
            }
        )

    async def on_elicitation(ctx: Any, params: Any) -> Any:
        rec.elicitation_requests.append(wire(params))
        return types.ElicitResult.model_validate(answers.elicitation)

    async def on_roots(ctx: Any) -> Any:
        rec.roots_requests += 1
        return types.ListRootsResult.model_validate({"roots": answers.roots})

    async def on_log(params: Any) -> None:
        rec.logs.append(wire(params))

    async def on_message(message: Any) -> None:
        # Notifications (1.x also passes requests, already answered by the callbacks, and errors).
        data = wire(getattr(message, "root", message))
        if isinstance(data, dict) and "method" in data:
            rec.notifications.append(data)

    return {
        "sampling_callback": on_sampling,
        "elicitation_callback": on_elicitation,
        "list_roots_callback": on_roots,
        "logging_callback": on_log,
        "message_handler": on_message,
        "client_info": types.Implementation(name="mcpgen-python-interop", version="1.0.0"),
    }


@contextlib.asynccontextmanager
async def connect(
    target: Target, answers: Answers | None = None, **options: Any
) -> AsyncIterator[tuple[Session, Recorder]]:
    """Connect with sampling, elicitation and roots callbacks that record what they are asked.
    `options` go to `mcp.Client` (2.x)."""
    rec = Recorder()
    callbacks = _callbacks(rec, answers or Answers())
    if SDK_V2:
        mode = "legacy" if target.era == "legacy" else "auto"
        server = target.params
        if isinstance(server, SseEndpoint):
            from mcp.client.sse import sse_client

            server = sse_client(server.url)
        async with mcp.Client(
            server, read_timeout_seconds=REQUEST_TIMEOUT, mode=mode, **callbacks, **options
        ) as client:
            expected = LEGACY_VERSION if target.era == "legacy" else MODERN_VERSION
            assert client.protocol_version == expected, f"{target.era} era: {client.protocol_version}"
            init = {
                "protocolVersion": client.protocol_version,
                "serverInfo": wire(client.server_info),
                "capabilities": wire(client.server_capabilities),
                "instructions": client.instructions,
            }
            yield Session(client, init), rec
        return

    async with contextlib.AsyncExitStack() as stack:
        if isinstance(target.params, StdioServerParameters):
            from mcp.client.stdio import stdio_client

            read, write = await stack.enter_async_context(stdio_client(target.params))
        elif isinstance(target.params, SseEndpoint):
            from mcp.client.sse import sse_client

            read, write = await stack.enter_async_context(sse_client(target.params.url))
        else:
            from mcp.client import streamable_http

            open_http = getattr(streamable_http, "streamable_http_client", None) or streamable_http.streamablehttp_client
            read, write, _ = await stack.enter_async_context(open_http(target.params))
        session = await stack.enter_async_context(
            mcp.ClientSession(read, write, read_timeout_seconds=timedelta(seconds=REQUEST_TIMEOUT), **callbacks)
        )
        init = wire(await session.initialize())
        yield Session(session, init), rec
