"""Fixtures of the end-to-end tests: generated servers, a real upstream, a real client.

scripts/e2e.sh starts httpbin (gunicorn) and sets:

* ``HTTPBIN_URL``: http://127.0.0.1:PORT of httpbin;
* ``HTTPBIN_REQUEST_LOG``: one JSON line per request httpbin received (raw
  request target, Authorization, Cookie and api_key headers), written before
  httpbin handles it (tests/e2e/gunicorn.conf.py);
* ``HTTPBIN_SERVER_BIN`` / ``PETSTORE_SERVER_BIN``: the generated servers
  examples/httpbin and examples/petstore; ``MCPGEN_BIN``: the generator.

The MCP servers are started here: over stdio by the SDK's stdio client (one
process per connection), over Streamable HTTP as a child process on a free
127.0.0.1 port (one per distinct command line, shared by the whole session).
Both get ``--base-url`` and a minimal environment (no proxy variables, no
credentials unless a test passes them).

The client is the official Python SDK, ``mcp`` 2.x (``mcp.Client``). Results
are compared in their wire form (camelCase dicts), see :func:`wire`.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp
import mcp.shared.exceptions
import pytest
from mcp import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[2]
HTTPBIN_URL = os.environ.get("HTTPBIN_URL", "")
REQUEST_LOG = os.environ.get("HTTPBIN_REQUEST_LOG", "")
BINARIES = {
    "httpbin": os.environ.get("HTTPBIN_SERVER_BIN", ""),
    "petstore": os.environ.get("PETSTORE_SERVER_BIN", ""),
}
MCPGEN_BIN = os.environ.get("MCPGEN_BIN", "")
RESULTS = Path(os.environ.get("E2E_RESULTS", "") or tempfile.gettempdir())
#: What the httpbin example was generated from (see specs/openapi/SOURCES.md).
HTTPBIN_SPEC = ROOT / "specs" / "openapi" / "httpbin-swagger20.json"
# Bounded waits everywhere: one MCP request may take this long at most.
REQUEST_TIMEOUT = 30.0


def pytest_configure(config: pytest.Config) -> None:
    missing = [
        name
        for name, value in {
            "HTTPBIN_URL": HTTPBIN_URL,
            "HTTPBIN_REQUEST_LOG": REQUEST_LOG,
            "HTTPBIN_SERVER_BIN": BINARIES["httpbin"],
            "PETSTORE_SERVER_BIN": BINARIES["petstore"],
            "MCPGEN_BIN": MCPGEN_BIN,
        }.items()
        if not value
    ]
    if missing:
        raise pytest.UsageError(f"{', '.join(missing)} not set: run the tests through scripts/e2e.sh")
    if hasattr(mcp.shared.exceptions, "MCPDeprecationWarning"):
        config.addinivalue_line("filterwarnings", "ignore::mcp.shared.exceptions.MCPDeprecationWarning")


def pytest_report_header(config: pytest.Config) -> str:
    return f"mcp {importlib.metadata.version('mcp')} (mcp.Client); upstream httpbin at {HTTPBIN_URL}"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def wire(value: Any) -> Any:
    """A parsed SDK object as it travels on the wire (camelCase, no None fields)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return value


def marker() -> str:
    """A value no other request carries, to find a test's own requests in the access log."""
    return "e2e-" + uuid.uuid4().hex[:12]


# --- what the upstream received ----------------------------------------------------


@dataclass(frozen=True)
class Received:
    """A request httpbin received."""

    method: str
    target: str  # raw path and query, exactly as sent
    authorization: str | None
    cookie: str | None
    api_key: str | None

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


class UpstreamLog:
    """What httpbin received, in order. A request is recorded before httpbin
    handles it, so once a tool result is back, every request of that call is
    here; waits are bounded all the same."""

    def __init__(self, path: str):
        self.path = path

    def mark(self) -> int:
        """A position; :meth:`since` returns what was received after it."""
        return os.path.getsize(self.path)

    def since(self, mark: int) -> list[Received]:
        with open(self.path, "rb") as f:
            f.seek(mark)
            data = f.read().decode("utf-8")
        return [Received(*json.loads(line)) for line in data.splitlines() if line.endswith("]")]

    async def wait_for(self, mark: int, match: Callable[[Received], bool], count: int = 1, timeout: float = 5) -> list[Received]:
        """The requests since ``mark`` that ``match``, once there are at least ``count`` of them."""
        with anyio.fail_after(timeout):
            while True:
                found = [r for r in self.since(mark) if match(r)]
                if len(found) >= count:
                    return found
                await anyio.sleep(0.05)


@pytest.fixture(scope="session")
def upstream() -> UpstreamLog:
    return UpstreamLog(REQUEST_LOG)


# --- the MCP servers ----------------------------------------------------------------


def server_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The servers' whole environment: nothing inherited (no proxies, no credentials)."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(env or {})}


def base_url(binary: str) -> str:
    # The petstore example's paths (/pet, /store/order…) land in httpbin's echo endpoint.
    return HTTPBIN_URL + ("/anything" if binary == "petstore" else "")


def server_args(binary: str, args: tuple[str, ...]) -> list[str]:
    """`--base-url` pointing at httpbin unless ``args`` has its own."""
    return list(args) if "--base-url" in args else ["--base-url", base_url(binary), *args]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"MCP server exited with {proc.returncode} before listening: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"MCP server did not listen on 127.0.0.1:{port} within {timeout}s")


class HttpServers:
    """Streamable HTTP servers, one per distinct (binary, args, env), started on first use."""

    def __init__(self) -> None:
        self._servers: dict[Any, tuple[str, subprocess.Popen[bytes]]] = {}

    def url(self, binary: str, args: tuple[str, ...] = (), env: dict[str, str] | None = None) -> str:
        key = (binary, args, tuple(sorted((env or {}).items())))
        if key not in self._servers:
            port = _free_port()
            log = RESULTS / f"mcp-{binary}-http-{port}.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen(
                    [BINARIES[binary], "--transport", "http", "--bind", f"127.0.0.1:{port}", *server_args(binary, args)],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    env=server_env(env),
                )
            self._servers[key] = (f"http://127.0.0.1:{port}/mcp", proc)
            try:
                _wait_listening(port, proc, log, 30)
            except Exception:
                self.close()
                raise
        return self._servers[key][0]

    def close(self) -> None:
        for _, proc in self._servers.values():
            proc.terminate()
        for _, proc in self._servers.values():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._servers.clear()


@pytest.fixture(scope="session")
def http_servers() -> Iterator[HttpServers]:
    servers = HttpServers()
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture(params=["stdio", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


# --- the client -----------------------------------------------------------------------


class Session:
    """A connected ``mcp.Client``; requests return results in wire form."""

    def __init__(self, client: mcp.Client, transport: str):
        self.client = client
        self.transport = transport

    async def call(self, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        return wire(await self.client.call_tool(tool, arguments or {}))

    async def call_ok(self, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call a tool that must succeed; return its structured content (the upstream's JSON)."""
        result = await self.call(tool, arguments)
        assert result.get("isError", False) is False, result
        assert "structuredContent" in result, result
        # The text content is the same JSON.
        assert json.loads(result["content"][0]["text"]) == result["structuredContent"]
        return result["structuredContent"]

    async def list_tools(self) -> list[dict[str, Any]]:
        """Every tool, following nextCursor (bounded)."""
        tools: list[dict[str, Any]] = []
        cursor = None
        for _ in range(100):
            page = wire(await self.client.list_tools(cursor=cursor))
            tools += page["tools"]
            cursor = page.get("nextCursor")
            if not cursor:
                return tools
        raise AssertionError("tools/list did not end after 100 pages")


@contextlib.asynccontextmanager
async def open_session(
    transport: str,
    http_servers: HttpServers,
    binary: str = "httpbin",
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    client_headers: dict[str, str] | None = None,
) -> AsyncIterator[Session]:
    """Connect the SDK client to a generated server over ``transport``."""
    info = mcp.types.Implementation(name="mcpgen-e2e", version="1.0.0")
    if transport == "stdio":
        assert client_headers is None, "stdio has no HTTP headers"
        target: Any = StdioServerParameters(
            command=BINARIES[binary], args=["--transport", "stdio", *server_args(binary, args)], env=server_env(env)
        )
        async with mcp.Client(target, read_timeout_seconds=REQUEST_TIMEOUT, client_info=info) as client:
            yield Session(client, transport)
        return
    url = http_servers.url(binary, args, env)
    timeout = httpx2.Timeout(REQUEST_TIMEOUT, read=REQUEST_TIMEOUT)
    async with httpx2.AsyncClient(headers=client_headers or {}, timeout=timeout) as http:
        async with mcp.Client(
            streamable_http_client(url, http_client=http), read_timeout_seconds=REQUEST_TIMEOUT, client_info=info
        ) as client:
            yield Session(client, transport)


@pytest.fixture
def connect(transport: str, http_servers: HttpServers) -> Callable[..., contextlib.AbstractAsyncContextManager[Session]]:
    """``async with connect(binary="httpbin", args=(), env=None, client_headers=None) as session``."""

    def _connect(**kwargs: Any) -> contextlib.AbstractAsyncContextManager[Session]:
        return open_session(transport, http_servers, **kwargs)

    return _connect
