"""What the client gets back: error statuses, binary and text bodies, redirects,
retries and timeouts — from the real upstream."""

from __future__ import annotations

import base64
import json
import time
import urllib.request

import pytest
from conftest import HTTPBIN_URL, marker

pytestmark = pytest.mark.anyio

TEAPOT = "\n    -=[ teapot ]=-\n"


def only_text(result: dict) -> str:
    [content] = result["content"]
    assert content["type"] == "text"
    return content["text"]


# --- error statuses: tool errors, never protocol errors -------------------------------


async def test_error_statuses_are_tool_errors_and_the_session_goes_on(connect, upstream):
    async with connect() as mcp:
        for codes, text in [
            ("404", "HTTP 404 Not Found"),
            (500, "HTTP 500 Internal Server Error"),
            ("400", "HTTP 400 Bad Request"),
        ]:
            result = await mcp.call("get_status_codes", {"codes": codes})
            assert result["isError"] is True, codes
            assert "structuredContent" not in result
            assert only_text(result) == text
        # A body comes after a blank line.
        teapot = await mcp.call("get_status_codes", {"codes": "418"})
        assert teapot["isError"] is True
        assert only_text(teapot).startswith("HTTP 418 I'm a teapot\n\n" + TEAPOT)
        # Every method, the same rule.
        for tool in ["put_status_codes", "post_status_codes", "delete_status_codes", "patch_status_codes"]:
            assert only_text(await mcp.call(tool, {"codes": "409"})) == "HTTP 409 Conflict", tool
        # 2xx without a body.
        created = await mcp.call("post_status_codes", {"codes": "201"})
        assert (created.get("isError", False), only_text(created)) == (False, "HTTP 201 Created")
        # The session still works.
        assert (await mcp.call_ok("get_uuid"))["uuid"]


async def test_idempotent_calls_are_retried_on_503(connect, upstream):
    async with connect() as mcp:
        mark = upstream.mark()
        result = await mcp.call("get_status_codes", {"codes": "503"})
        assert (result["isError"], only_text(result)) == (True, "HTTP 503 Service Unavailable")
        attempts = [r for r in upstream.since(mark) if r.target == "/status/503"]
        # Once, then the two retries of the default policy.
        assert [r.method for r in attempts] == ["GET"] * 3

        mark = upstream.mark()
        result = await mcp.call("post_status_codes", {"codes": "503"})
        assert result["isError"] is True
        attempts = [r for r in upstream.since(mark) if r.target == "/status/503"]
        assert [r.method for r in attempts] == ["POST"]


async def test_retries_can_be_turned_off(connect, upstream):
    async with connect(args=("--upstream-retries", "0")) as mcp:
        mark = upstream.mark()
        result = await mcp.call("get_status_codes", {"codes": "502"})
        assert only_text(result) == "HTTP 502 Bad Gateway"
        attempts = [r for r in upstream.since(mark) if r.target == "/status/502"]
        assert len(attempts) == 1


async def test_upstream_timeout(connect, upstream):
    async with connect(args=("--upstream-timeout-secs", "0.5", "--upstream-retries", "0")) as mcp:
        started = time.monotonic()
        result = await mcp.call("get_delay_delay", {"delay": 2})
        elapsed = time.monotonic() - started
        assert result["isError"] is True
        # The origin only, never the path.
        assert only_text(result) == f"the upstream request to {HTTPBIN_URL} timed out after 0.5 s"
        assert elapsed < 1.8
        assert (await mcp.call_ok("get_uuid"))["uuid"]


async def test_connection_refused(connect):
    # A port nothing listens on (bound, never listening), on loopback.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        async with connect(args=("--base-url", f"http://127.0.0.1:{port}", "--upstream-retries", "0")) as mcp:
            result = await mcp.call("get_get")
    assert result["isError"] is True
    assert only_text(result).startswith(f"cannot connect to http://127.0.0.1:{port}: ")


# --- binary bodies ---------------------------------------------------------------------


async def test_images_are_image_content(connect):
    async with connect() as mcp:
        for tool, mime, magic in [
            ("get_image_png", "image/png", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
            ("get_image_jpeg", "image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
            ("get_image_webp", "image/webp", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
        ]:
            result = await mcp.call(tool)
            assert result.get("isError", False) is False
            summary, image = result["content"]
            assert image["type"] == "image" and image["mimeType"] == mime, tool
            data = base64.b64decode(image["data"], validate=True)
            assert magic(data), tool
            assert summary == {"type": "text", "text": f"HTTP 200 OK: {len(data)} bytes of {mime}"}


async def test_svg_is_text(connect):
    async with connect() as mcp:
        text = only_text(await mcp.call("get_image_svg"))
        assert text.startswith("<svg ") and text.rstrip().endswith("</svg>")


async def test_other_binary_is_an_embedded_blob(connect, upstream):
    async with connect() as mcp:
        for tool, args, path, check in [
            ("get_bytes_n", {"n": 64}, "/bytes/64", lambda b: len(b) == 64),
            ("get_range_numbytes", {"numbytes": 26}, "/range/26", lambda b: b == b"abcdefghijklmnopqrstuvwxyz"),
            ("get_stream_bytes_n", {"n": 300}, "/stream-bytes/300", lambda b: len(b) == 300),
        ]:
            result = await mcp.call(tool, args)
            assert result.get("isError", False) is False
            summary, embedded = result["content"]
            assert embedded["type"] == "resource"
            resource = embedded["resource"]
            assert (resource["uri"], resource["mimeType"]) == (HTTPBIN_URL + path, "application/octet-stream")
            data = base64.b64decode(resource["blob"], validate=True)
            assert check(data), tool
            assert summary["text"] == f"HTTP 200 OK: {len(data)} bytes of application/octet-stream"


# --- text and JSON bodies ----------------------------------------------------------------


def fetch(path: str) -> str:
    """The body httpbin serves at ``path``, fetched directly."""
    with urllib.request.urlopen(HTTPBIN_URL + path, timeout=10) as response:
        return response.read().decode("utf-8")


async def test_text_bodies(connect):
    async with connect() as mcp:
        assert only_text(await mcp.call("get_robots_txt")) == "User-agent: *\nDisallow: /deny\n"
        assert only_text(await mcp.call("get_base64_value", {"value": "SFRUUEJJTiBpcyBhd2Vzb21l"})) == "HTTPBIN is awesome"
        # Byte for byte what httpbin serves (HTML, XML, and UTF-8 beyond the BMP's basics).
        for tool, path in [("get_html", "/html"), ("get_xml", "/xml"), ("get_encoding_utf8", "/encoding/utf8")]:
            assert only_text(await mcp.call(tool)) == fetch(path), tool
        assert sum(ord(c) > 0x7F for c in fetch("/encoding/utf8")) > 1000


async def test_json_bodies_are_structured(connect):
    async with connect() as mcp:
        slideshow = (await mcp.call_ok("get_json"))["slideshow"]
        assert slideshow["title"] == "Sample Slide Show"
        assert slideshow["slides"][1]["items"] == ["Why <em>WonderWidgets</em> are great", "Who <em>buys</em> WonderWidgets"]
        assert (await mcp.call_ok("get_ip"))["origin"] == "127.0.0.1"
        assert (await mcp.call_ok("get_user_agent"))["user-agent"] == "httpbin/0.10.4 mcpgen-runtime/0.1.0"
        # Newline-delimited JSON is not one JSON document: text.
        lines = only_text(await mcp.call("get_stream_n", {"n": 3})).splitlines()
        assert [json.loads(line)["id"] for line in lines] == [0, 1, 2]


# --- redirects -------------------------------------------------------------------------


async def test_same_origin_redirects_are_followed(connect, upstream):
    async with connect() as mcp:
        for tool, hops in [
            ("get_redirect_n", ["/redirect/3", "/relative-redirect/2", "/relative-redirect/1", "/get"]),
            ("get_relative_redirect_n", ["/relative-redirect/3", "/relative-redirect/2", "/relative-redirect/1", "/get"]),
            ("get_absolute_redirect_n", ["/absolute-redirect/3", "/absolute-redirect/2", "/absolute-redirect/1", "/get"]),
        ]:
            mark = upstream.mark()
            echo = await mcp.call_ok(tool, {"n": 3})
            assert echo["url"] == f"{HTTPBIN_URL}/get", tool
            # Every hop went to httpbin, and nowhere else.
            assert [r.target for r in upstream.since(mark)] == hops, tool


async def test_redirects_to_another_origin_are_not_followed(connect, upstream):
    async with connect() as mcp:
        elsewhere = f"http://127.0.0.2:9/{marker()}"
        result = await mcp.call("get_redirect_to", {"url": elsewhere})
        assert result["isError"] is True
        assert only_text(result) == f"HTTP 302 Found\nredirect to {elsewhere} not followed: it leaves the API's origin"


# --- known gaps ------------------------------------------------------------------------


@pytest.mark.parametrize("tool,flag", [("get_gzip", "gzipped"), ("get_deflate", "deflated"), ("get_brotli", "brotli")])
async def test_content_encoded_responses_are_decoded(connect, tool, flag):
    async with connect() as mcp:
        echo = await mcp.call_ok(tool)
        assert echo[flag] is True
        # The runtime says what it can decode (httpbin compresses whatever it is asked).
        assert echo["headers"]["Accept-Encoding"] == "zstd,gzip,deflate,br"


async def test_accept_follows_the_documented_media_types(connect):
    async with connect() as mcp:
        result = await mcp.call("get_image")
        assert result.get("isError", False) is False
        assert result["content"][1]["type"] == "image"
