"""Credentials: what reaches the upstream, and that tool output never shows them.

httpbin's document declares no security schemes, so its example takes
credentials through the generic `--header 'Authorization: …'` flag. The
petstore example declares an apiKey header scheme and an OAuth2 (implicit)
scheme, which the generator turns into a bearer token read from
PETSTORE_PETSTORE_AUTH_ACCESS_TOKEN.

The access log shows the credential the upstream received; the tool output
must show `[REDACTED]` in its place.
"""

from __future__ import annotations

import base64
import json

import pytest
from conftest import HTTPBIN_URL, marker

pytestmark = pytest.mark.anyio


def secret() -> str:
    return "tok-" + marker()


async def test_bearer_token_from_the_command_line(connect, upstream):
    token = secret()
    async with connect(args=("--header", f"Authorization: Bearer {token}")) as mcp:
        mark = upstream.mark()
        result = await mcp.call("get_bearer")
        assert result.get("isError", False) is False
        # httpbin answers with the token it received: redacted before the client sees it.
        assert result["structuredContent"] == {"authenticated": True, "token": "[REDACTED]"}
        assert token not in json.dumps(result)
        [got] = await upstream.wait_for(mark, lambda r: r.target == "/bearer")
        assert got.authorization == f"Bearer {token}"

        headers = (await mcp.call_ok("get_headers"))["headers"]
        assert headers["Authorization"] == "[REDACTED]"


async def test_bearer_endpoint_without_a_token_is_a_401(connect, upstream):
    async with connect() as mcp:
        mark = upstream.mark()
        result = await mcp.call("get_bearer")
        assert result["isError"] is True
        assert result["content"] == [{"type": "text", "text": "HTTP 401 Unauthorized"}]
        [got] = await upstream.wait_for(mark, lambda r: r.target == "/bearer")
        assert got.authorization is None


async def test_basic_credentials_from_the_command_line(connect, upstream):
    user, password = "alice-" + marker(), secret()
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    async with connect(args=("--header", f"Authorization: Basic {basic}")) as mcp:
        mark = upstream.mark()
        # httpbin checks the credentials against the ones in the path.
        ok = await mcp.call_ok("get_basic_auth_user_passwd", {"user": user, "passwd": password})
        assert ok == {"authenticated": True, "user": user}
        [got] = await upstream.wait_for(mark, lambda r: r.target.startswith("/basic-auth/"))
        assert got.authorization == f"Basic {basic}"

        wrong = await mcp.call("get_basic_auth_user_passwd", {"user": user, "passwd": "another-password"})
        assert (wrong["isError"], wrong["content"][0]["text"]) == (True, "HTTP 401 Unauthorized")
        hidden = await mcp.call("get_hidden_basic_auth_user_passwd", {"user": user, "passwd": "another-password"})
        assert (hidden["isError"], hidden["content"][0]["text"].split("\n")[0]) == (True, "HTTP 404 Not Found")
        headers = (await mcp.call_ok("get_headers"))["headers"]
        assert headers["Authorization"] == "[REDACTED]"
        assert basic not in json.dumps(headers)


async def test_declared_security_schemes_from_the_environment(connect, upstream):
    api_key, token = secret(), secret()
    env = {"PETSTORE_API_KEY": api_key, "PETSTORE_PETSTORE_AUTH_ACCESS_TOKEN": token}
    async with connect(binary="petstore", env=env) as mcp:
        # GET /pet/{petId}: security [api_key] (an `api_key` header).
        mark = upstream.mark()
        result = await mcp.call("get_pet_by_id", {"pet_id": 5})
        [got] = await upstream.wait_for(mark, lambda r: r.target == "/anything/pet/5")
        assert (got.api_key, got.authorization) == (api_key, None)
        # The echo is no Pet: a success carrying the (redacted) response, and a note.
        assert result.get("isError", False) is False, result
        text = result["content"][0]["text"]
        assert '"Api-Key":"[REDACTED]"' in text
        assert api_key not in text

        # POST /pet: security [petstore_auth] (bearer).
        mark = upstream.mark()
        echo = await mcp.call_ok("add_pet", {"name": "rex", "photoUrls": []})
        assert echo["headers"]["Authorization"] == "Bearer [REDACTED]"
        assert "Api-Key" not in echo["headers"]
        [got] = await upstream.wait_for(mark, lambda r: r.target == "/anything/pet")
        assert (got.authorization, got.api_key) == (f"Bearer {token}", None)

        # POST /store/order declares no security: no credentials at all.
        mark = upstream.mark()
        await mcp.call("place_order", {"petId": 5, "quantity": 1})
        [got] = await upstream.wait_for(mark, lambda r: r.target == "/anything/store/order")
        assert (got.authorization, got.api_key) == (None, None)


async def test_secrets_are_redacted_in_responses_that_depart_from_the_document(connect, upstream):
    """find_pets_by_tags promises a list of Pets and gets httpbin's echo: a success with
    the echo (token hidden) under `result`, and a one-line note that never quotes it."""
    token = secret()
    async with connect(binary="petstore", env={"PETSTORE_PETSTORE_AUTH_ACCESS_TOKEN": token}) as mcp:
        mark = upstream.mark()
        result = await mcp.call("find_pets_by_tags", {"tags": ["x"]})
        [got] = await upstream.wait_for(mark, lambda r: r.path == "/anything/pet/findByTags")
        assert got.authorization == f"Bearer {token}"
        assert result.get("isError", False) is False, result
        assert result["structuredContent"]["result"]["headers"]["Authorization"] == "Bearer [REDACTED]"
        data, note = result["content"][0]["text"], result["content"][-1]["text"]
        assert '"Authorization":"Bearer [REDACTED]"' in data
        assert note.startswith("Note: the response departs from the API's own description (`type` fails at /result")
        assert len(note) < 300 and "REDACTED" not in note, note
        assert token not in json.dumps(result)


async def test_unconfigured_schemes_send_no_credentials(connect, upstream):
    async with connect(binary="petstore") as mcp:
        mark = upstream.mark()
        await mcp.call("get_pet_by_id", {"pet_id": 6})
        [got] = await upstream.wait_for(mark, lambda r: r.target == "/anything/pet/6")
        assert (got.api_key, got.authorization) == (None, None)


# --- the MCP client's own Authorization header (Streamable HTTP) --------------------


@pytest.mark.parametrize("transport", ["http"])
async def test_client_authorization_is_not_forwarded_by_default(connect, upstream):
    token = secret()
    async with connect(client_headers={"Authorization": f"Bearer {token}"}) as mcp:
        mark = upstream.mark()
        headers = (await mcp.call_ok("get_headers"))["headers"]
        assert "Authorization" not in headers
        [got] = await upstream.wait_for(mark, lambda r: r.target == "/headers")
        assert got.authorization is None
        bearer = await mcp.call("get_bearer")
        assert (bearer["isError"], bearer["content"][0]["text"]) == (True, "HTTP 401 Unauthorized")


@pytest.mark.parametrize("transport", ["http"])
async def test_client_authorization_is_forwarded_when_enabled(connect, upstream):
    token = secret()
    async with connect(args=("--forward-authorization",), client_headers={"Authorization": f"Bearer {token}"}) as mcp:
        mark = upstream.mark()
        headers = (await mcp.call_ok("get_headers"))["headers"]
        assert headers["Authorization"] == "[REDACTED]"
        [got] = await upstream.wait_for(mark, lambda r: r.target == "/headers")
        assert got.authorization == f"Bearer {token}"
        bearer = await mcp.call_ok("get_bearer")
        assert bearer == {"authenticated": True, "token": "[REDACTED]"}


@pytest.mark.parametrize("transport", ["http"])
async def test_forwarded_authorization_outranks_the_configured_header(connect, upstream):
    operator, client = secret(), secret()
    args = ("--forward-authorization", "--header", f"Authorization: Bearer {operator}")
    async with connect(args=args, client_headers={"Authorization": f"Bearer {client}"}) as mcp:
        mark = upstream.mark()
        await mcp.call_ok("get_bearer")
        [got] = await upstream.wait_for(mark, lambda r: r.target == "/bearer")
        assert got.authorization == f"Bearer {client}"
    # A client that sends none: the operator's header goes out.
    async with connect(args=args) as mcp:
        mark = upstream.mark()
        await mcp.call_ok("get_bearer")
        [got] = await upstream.wait_for(mark, lambda r: r.target == "/bearer")
        assert got.authorization == f"Bearer {operator}"


@pytest.mark.parametrize("transport", ["stdio"])
async def test_forward_authorization_over_stdio_forwards_nothing(connect, upstream):
    async with connect(args=("--forward-authorization",)) as mcp:
        mark = upstream.mark()
        headers = (await mcp.call_ok("get_headers"))["headers"]
        assert "Authorization" not in headers
        [got] = await upstream.wait_for(mark, lambda r: r.target == "/headers")
        assert got.authorization is None
        assert headers["Host"] == HTTPBIN_URL.removeprefix("http://")
