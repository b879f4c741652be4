"""Arguments that try to escape their place in the request.

A path parameter value must stay inside its segment (the access log has the
raw request line the upstream received); header values with control
characters are refused before anything is sent.
"""

from __future__ import annotations

import subprocess

import pytest
from conftest import BINARIES, HTTPBIN_URL, marker, server_env

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "value,segment",
    [
        ("../status/500", "..%2Fstatus%2F500"),
        ("a/../../status/418", "a%2F..%2F..%2Fstatus%2F418"),
        ("..\\status\\500", "..%5Cstatus%5C500"),
        ("%2F", "%252F"),
        ("%2E%2E", "%252E%252E"),
        ("?x=1", "%3Fx%3D1"),
        ("#frag", "%23frag"),
        ("a;b=c,d", "a%3Bb%3Dc%2Cd"),
        ("é ü", "%C3%A9%20%C3%BC"),
    ],
)
async def test_path_values_stay_in_their_segment(connect, upstream, value, segment):
    async with connect() as mcp:
        mark = upstream.mark()
        echo = await mcp.call_ok("get_anything_anything", {"anything": value})
        # /anything answered (not /status/500 or /status/418), with no query smuggled in.
        assert (echo["method"], echo["args"]) == ("GET", {})
        assert echo["url"].startswith(f"{HTTPBIN_URL}/anything/")
        [got] = await upstream.wait_for(mark, lambda r: r.path.startswith("/anything/"))
        assert got.target == f"/anything/{segment}"
        assert not [r for r in upstream.since(mark) if r.path.startswith("/status/")]


@pytest.mark.parametrize("value", ["..", ".", ""])
async def test_dot_segments_and_empty_values_are_refused(connect, upstream, value):
    async with connect() as mcp:
        m = marker()
        mark = upstream.mark()
        result = await mcp.call("get_basic_auth_user_passwd", {"user": m, "passwd": value})
        assert result["isError"] is True
        [content] = result["content"]
        if value:
            assert content["text"] == (
                "path parameter `passwd` would make a `.` or `..` path segment, which URL normalization "
                "would turn into a different path; refusing to send"
            )
        else:
            assert content["text"] == "path parameter `passwd` is empty"
        # Nothing was sent: the next request is the first one the upstream sees.
        sentinel = marker()
        await mcp.call_ok("get_anything_anything", {"anything": sentinel})
        await upstream.wait_for(mark, lambda r: sentinel in r.target)
        assert not [r for r in upstream.since(mark) if m in r.target]


@pytest.mark.parametrize("bad", ['"x"\r\nX-Injected: yes', '"x"\nX-Injected: yes', '"x"\r\n\r\nGET /status/500', "a\x00b"])
async def test_header_values_with_control_characters_are_refused(connect, upstream, bad):
    async with connect() as mcp:
        m = marker()
        mark = upstream.mark()
        result = await mcp.call("get_etag_etag", {"etag": m, "if_match": bad})
        assert result["isError"] is True
        assert result["content"] == [
            {
                "type": "text",
                "text": "invalid argument `if_match`: header values must not contain control characters such as CR or LF",
            }
        ]
        sentinel = marker()
        echo = await mcp.call_ok("get_anything_anything", {"anything": sentinel})
        assert "X-Injected" not in echo["headers"]
        await upstream.wait_for(mark, lambda r: sentinel in r.target)
        sent = upstream.since(mark)
        assert not [r for r in sent if m in r.target or r.path.startswith("/status/")]


async def test_header_parameter_injection_in_the_petstore_example(connect, upstream):
    async with connect(binary="petstore") as mcp:
        mark = upstream.mark()
        result = await mcp.call("delete_pet", {"pet_id": 99, "api_key": "k\r\nAuthorization: Bearer stolen"})
        assert result["isError"] is True
        assert "api_key" in result["content"][0]["text"]
        sentinel = marker()
        await mcp.call_ok("delete_user", {"username": sentinel})
        await upstream.wait_for(mark, lambda r: sentinel in r.target)
        assert not [r for r in upstream.since(mark) if "/pet/99" in r.target]


def test_extra_header_with_control_characters_stops_the_server():
    """`--header` values are checked at start-up; the message names the header, not its value."""
    m = marker()
    proc = subprocess.run(
        [BINARIES["httpbin"], "--transport", "stdio", "--base-url", HTTPBIN_URL, "--header", f"X-Evil: {m}\r\nX-Injected: 1"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=server_env(),
        timeout=30,
    )
    assert proc.returncode != 0
    assert proc.stdout == b""
    err = proc.stderr.decode()
    assert "X-Evil" in err
    assert m not in err
