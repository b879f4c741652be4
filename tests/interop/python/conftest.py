"""Fixtures for the Python-SDK interop tests.

Every test runs twice, once per transport: ``stdio`` (the SDK spawns the
conformance server as a child process) and ``http`` (one server per test
session, listening on a free 127.0.0.1 port, reached over Streamable HTTP).

The server binary comes from ``$CONFORMANCE_SERVER_BIN`` (scripts/interop.sh
builds it and sets the variable).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from mcp import types
import pytest
from mcp import Client, StdioServerParameters

SERVER_BIN = os.environ.get("CONFORMANCE_SERVER_BIN", "")
# Bounded waits everywhere: one request may take this long at most.
REQUEST_TIMEOUT = 30.0


def pytest_configure(config: pytest.Config) -> None:
    if not SERVER_BIN or not os.access(SERVER_BIN, os.X_OK):
        raise pytest.UsageError(
            "CONFORMANCE_SERVER_BIN must name the built conformance-server binary "
            "(run the tests through scripts/interop.sh python)"
        )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


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


@pytest.fixture(scope="session")
def http_url() -> Iterator[str]:
    """One HTTP server for the whole session; each test opens its own MCP session on it."""
    log = tempfile.NamedTemporaryFile(prefix="conformance-server-http-", suffix=".log", delete=False)
    port = _free_port()
    proc = subprocess.Popen(
        [SERVER_BIN, "--transport", "http", "--bind", f"127.0.0.1:{port}"],
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


@pytest.fixture(params=["stdio", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def server_target(transport: str, request: pytest.FixtureRequest) -> Any:
    """What `mcp.Client` connects to for this transport."""
    if transport == "stdio":
        return StdioServerParameters(command=SERVER_BIN, args=["--transport", "stdio"])
    return request.getfixturevalue("http_url")


@dataclass
class Recorder:
    """Everything the server sent the client besides responses."""

    logs: list[types.LoggingMessageNotificationParams] = field(default_factory=list)
    notifications: list[Any] = field(default_factory=list)
    sampling_requests: list[types.CreateMessageRequestParams] = field(default_factory=list)
    elicitation_requests: list[types.ElicitRequestParams] = field(default_factory=list)
    roots_requests: int = 0

    def methods(self) -> list[str]:
        return [getattr(n, "method", type(n).__name__) for n in self.notifications]


@dataclass
class Answers:
    """What the client's callbacks answer with."""

    sampling_text: str = "This is a test response from the Python client"
    elicitation: types.ElicitResult = field(
        default_factory=lambda: types.ElicitResult(
            action="accept", content={"username": "py-user", "email": "py-user@example.com"}
        )
    )
    roots: list[types.Root] = field(
        default_factory=lambda: [
            types.Root(uri="file:///tmp/interop-root-a", name="Root A"),
            types.Root(uri="file:///tmp/interop-root-b", name="Root B"),
        ]
    )


@contextlib.asynccontextmanager
async def connect(target: Any, answers: Answers | None = None) -> AsyncIterator[tuple[Client, Recorder]]:
    """Connect an `mcp.Client` with sampling, elicitation and roots callbacks that record their requests."""
    answers = answers or Answers()
    rec = Recorder()

    async def on_sampling(ctx: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        rec.sampling_requests.append(params)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=answers.sampling_text),
            model="python-interop-model",
            stop_reason="endTurn",
        )

    async def on_elicitation(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        rec.elicitation_requests.append(params)
        return answers.elicitation

    async def on_roots(ctx: Any) -> types.ListRootsResult:
        rec.roots_requests += 1
        return types.ListRootsResult(roots=answers.roots)

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        rec.logs.append(params)

    async def on_message(message: Any) -> None:
        if isinstance(message, Exception):
            rec.notifications.append(message)
        else:
            rec.notifications.append(getattr(message, "root", message))

    async with Client(
        target,
        read_timeout_seconds=REQUEST_TIMEOUT,
        sampling_callback=on_sampling,
        elicitation_callback=on_elicitation,
        list_roots_callback=on_roots,
        logging_callback=on_log,
        message_handler=on_message,
        client_info=types.Implementation(name="mcpgen-python-interop", version="1.0.0"),
    ) as client:
        yield client, rec
