"""What the upstream receives: path, query, headers, cookies and bodies.

httpbin echoes every request (/anything, /get, /headers, /cookies…), and its
access log has the raw request line, so each test checks both the echo the
client got back and the bytes the upstream saw.

The httpbin document has path, query and header parameters but no JSON,
form-encoded or multipart request body and no array parameter; those are
exercised with the petstore example (generated from the OAI Petstore 3.0
document) pointed at httpbin's /anything echo (``--base-url
http://127.0.0.1:PORT/anything``): its POST /pet lands on /anything/pet.
"""

from __future__ import annotations

import base64
import json

import pytest
from conftest import HTTPBIN_URL, marker

pytestmark = pytest.mark.anyio

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


# --- path -----------------------------------------------------------------------------


async def test_path_parameter_and_method(connect, upstream):
    async with connect() as mcp:
        for tool, method in [
            ("get_anything_anything", "GET"),
            ("put_anything_anything", "PUT"),
            ("post_anything_anything", "POST"),
            ("patch_anything_anything", "PATCH"),
            ("delete_anything_anything", "DELETE"),
            ("trace_anything_anything", "TRACE"),
        ]:
            m = marker()
            mark = upstream.mark()
            echo = await mcp.call_ok(tool, {"anything": m})
            assert (echo["method"], echo["url"], echo["args"]) == (method, f"{HTTPBIN_URL}/anything/{m}", {})
            [got] = await upstream.wait_for(mark, lambda r: m in r.target)
            assert (got.method, got.target) == (method, f"/anything/{m}")


async def test_several_path_parameters(connect, upstream):
    async with connect() as mcp:
        mark = upstream.mark()
        result = await mcp.call("get_links_n_offset", {"n": 4, "offset": 2})
        assert result.get("isError", False) is False
        # httpbin links to every page but the current one.
        assert "<a href='/links/4/1'>1</a> 2 <a href='/links/4/3'>3</a>" in result["content"][0]["text"]
        await upstream.wait_for(mark, lambda r: r.target == "/links/4/2")


# --- query ----------------------------------------------------------------------------


async def test_query_parameters(connect, upstream):
    async with connect() as mcp:
        mark = upstream.mark()
        result = await mcp.call("get_drip", {"duration": 0, "numbytes": 5, "code": 200, "delay": 0})
        assert result.get("isError", False) is False
        blob = result["content"][1]["resource"]
        assert base64.b64decode(blob["blob"]) == b"*****"
        # Serialized in the operation's parameter order, form style.
        await upstream.wait_for(mark, lambda r: r.target == "/drip?duration=0&numbytes=5&code=200&delay=0")


async def test_query_value_with_reserved_characters(connect, upstream):
    """A URL as a query value is percent-encoded whole; httpbin redirects to it, and the
    runtime follows the same-origin redirect."""
    async with connect() as mcp:
        m = marker()
        mark = upstream.mark()
        echo = await mcp.call_ok("get_redirect_to", {"url": f"/anything/{m}?x=1&y=two", "status_code": 307})
        assert (echo["method"], echo["args"]) == ("GET", {"x": "1", "y": "two"})
        assert echo["url"] == f"{HTTPBIN_URL}/anything/{m}?x=1&y=two"
        first, second = await upstream.wait_for(mark, lambda r: m in r.target, count=2)
        assert first.target == f"/redirect-to?url=%2Fanything%2F{m}%3Fx%3D1%26y%3Dtwo&status_code=307"
        assert second.target == f"/anything/{m}?x=1&y=two"


async def test_free_form_query_object(connect, upstream):
    """httpbin's /response-headers takes a free-form object exploded into the query."""
    async with connect() as mcp:
        m = marker()
        mark = upstream.mark()
        echo = await mcp.call_ok("get_response_headers", {"freeform": {"X-E2e-Marker": m, "X-Two": "a b&c"}})
        assert echo["X-E2e-Marker"] == m
        assert echo["X-Two"] == "a b&c"
        await upstream.wait_for(mark, lambda r: r.target == f"/response-headers?X-E2e-Marker={m}&X-Two=a%20b%26c")


async def test_query_arrays(connect, upstream):
    """An exploded form array repeats the name (petstore GET /pet/findByTags). httpbin's
    echo is not a list of Pets: still a success carrying the whole echo (under `result`),
    with a note that the response departs from the document."""
    async with connect(binary="petstore") as mcp:
        m = marker()
        mark = upstream.mark()
        result = await mcp.call("find_pets_by_tags", {"tags": ["a b", "c,d", "é", m]})
        [got] = await upstream.wait_for(mark, lambda r: m in r.target)
        assert got.target == f"/anything/pet/findByTags?tags=a%20b&tags=c%2Cd&tags=%C3%A9&tags={m}"
        assert result.get("isError", False) is False, result
        assert result["content"][-1]["text"].startswith("Note: the response departs from the API's own description")
        echo = json.loads(result["content"][0]["text"])
        assert echo == result["structuredContent"]["result"]
        assert echo["args"] == {"tags": ["a b", "c,d", "é", m]}

        mark = upstream.mark()
        await mcp.call("find_pets_by_status", {"status": ["available", "sold"]})
        await upstream.wait_for(mark, lambda r: r.target == "/anything/pet/findByStatus?status=available&status=sold")


# --- headers ----------------------------------------------------------------------------


async def test_header_parameters(connect, upstream):
    async with connect() as mcp:
        m = marker()
        # If-Match naming the resource's ETag: the precondition holds, httpbin echoes the request.
        echo = await mcp.call_ok("get_etag_etag", {"etag": m, "if_match": f'"{m}"'})
        assert echo["headers"]["If-Match"] == f'"{m}"'
        assert "If-None-Match" not in echo["headers"]
        # A failed precondition and a matching If-None-Match: only the upstream knows.
        failed = await mcp.call("get_etag_etag", {"etag": m, "if_match": '"another"'})
        assert (failed["isError"], failed["content"]) == (True, [{"type": "text", "text": "HTTP 412 Precondition Failed"}])
        # 304 answers the model's conditional request: not a failure.
        cached = await mcp.call("get_etag_etag", {"etag": m, "if_none_match": f'"{m}"'})
        assert cached.get("isError", False) is False
        assert cached["content"][0]["text"].startswith("HTTP 304 Not Modified: unchanged since")
        since = await mcp.call("get_cache", {"if_modified_since": "Wed, 21 Oct 2015 07:28:00 GMT"})
        assert since.get("isError", False) is False
        assert since["content"][0]["text"].startswith("HTTP 304 Not Modified: unchanged since")
        # Without the header, /cache answers 200.
        assert (await mcp.call_ok("get_cache"))["url"] == f"{HTTPBIN_URL}/cache"


async def test_header_parameter_with_underscore(connect, upstream):
    """petstore DELETE /pet/{petId} has an `api_key` header parameter."""
    async with connect(binary="petstore") as mcp:
        m = marker()
        mark = upstream.mark()
        echo = await mcp.call_ok("delete_pet", {"pet_id": 42, "api_key": m})
        assert (echo["method"], echo["url"]) == ("DELETE", f"{HTTPBIN_URL}/anything/pet/42")
        assert echo["headers"]["Api-Key"] == m
        [got] = await upstream.wait_for(mark, lambda r: r.api_key == m)
        assert (got.method, got.target) == ("DELETE", "/anything/pet/42")


async def test_extra_headers_from_the_command_line(connect, upstream):
    m = marker()
    async with connect(args=("--header", f"X-E2e-Trace: {m}", "--header", "Accept-Language: fr, en;q=0.5")) as mcp:
        headers = (await mcp.call_ok("get_headers"))["headers"]
        # httpbin (werkzeug) shows header names capitalized per word.
        assert headers["X-E2E-Trace"] == m
        assert headers["Accept-Language"] == "fr, en;q=0.5"
        assert headers["User-Agent"] == "httpbin/0.10.4 mcpgen-runtime/0.1.0"


# --- cookies ----------------------------------------------------------------------------


async def test_cookies_from_the_command_line(connect, upstream):
    """The spec has no cookie parameters; `--header 'Cookie: …'` sends cookies. The
    value is credential-like, so it is redacted where it is echoed whole."""
    m = marker()
    cookie = f"theme=dark-mode; sid={m}"
    async with connect(args=("--header", f"Cookie: {cookie}")) as mcp:
        mark = upstream.mark()
        echo = await mcp.call_ok("get_cookies")
        assert set(echo["cookies"]) == {"theme", "sid"}
        [got] = await upstream.wait_for(mark, lambda r: r.target == "/cookies")
        assert got.cookie == cookie
        headers = (await mcp.call_ok("get_headers"))["headers"]
        assert headers["Cookie"] == "[REDACTED]"
        # Cookies a response sets are not kept: the runtime has no cookie jar, every
        # call sends exactly the configured cookies.
        mark = upstream.mark()
        after = await mcp.call_ok("get_cookies_set_name_value", {"name": "added", "value": m})
        assert set(after["cookies"]) == {"theme", "sid"}
        first, second = await upstream.wait_for(mark, lambda r: "cookies" in r.target, count=2)
        assert (first.target, second.target, second.cookie) == (f"/cookies/set/added/{m}", "/cookies", cookie)


async def test_cookie_values_are_redacted_where_echoed_one_by_one(connect):
    """Each cookie value is a secret; one shorter than 8 characters is not (`lang=en`
    redacted would hide every `en` of every response)."""
    m = marker()
    async with connect(args=("--header", f"Cookie: theme=dark-mode; lang=en; sid={m}")) as mcp:
        result = await mcp.call("get_cookies")
        assert m not in json.dumps(result)
        assert result["structuredContent"] == {"cookies": {"theme": "[REDACTED]", "lang": "en", "sid": "[REDACTED]"}}


# --- bodies (petstore → httpbin /anything) ----------------------------------------------


async def test_json_body_from_flattened_arguments(connect, upstream):
    async with connect(binary="petstore") as mcp:
        m = marker()
        pet = {
            "name": m,
            "photoUrls": ["https://example.com/a.png"],
            "tags": [{"id": 1, "name": "good"}],
            "status": "available",
            "category": {"id": 2, "name": "dogs"},
        }
        echo = await mcp.call_ok("add_pet", pet)
        assert (echo["method"], echo["url"]) == ("POST", f"{HTTPBIN_URL}/anything/pet")
        assert echo["headers"]["Content-Type"] == "application/json"
        assert echo["json"] == pet
        assert echo["form"] == {} and echo["files"] == {}


async def test_json_body_whole_argument(connect, upstream):
    async with connect(binary="petstore") as mcp:
        users = [{"username": marker(), "userStatus": 1}, {"username": "é ü", "email": "x@example.com"}]
        echo = await mcp.call_ok("create_users_with_array_input", {"body": users})
        assert echo["json"] == users
        assert echo["url"] == f"{HTTPBIN_URL}/anything/user/createWithArray"

        m = marker()
        user = {"id": 7, "username": m, "phone": "+1 555"}
        echo = await mcp.call_ok("update_user", {"username": m, "body": user})
        assert (echo["method"], echo["url"], echo["json"]) == ("PUT", f"{HTTPBIN_URL}/anything/user/{m}", user)


async def test_form_body(connect, upstream):
    async with connect(binary="petstore") as mcp:
        m = marker()
        echo = await mcp.call_ok("update_pet_with_form", {"pet_id": 7, "name": f"{m} & co=1", "status": "é sold"})
        assert (echo["method"], echo["url"]) == ("POST", f"{HTTPBIN_URL}/anything/pet/7")
        assert echo["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
        assert echo["form"] == {"name": f"{m} & co=1", "status": "é sold"}
        assert echo["json"] is None
        # An optional flattened body with none of its properties is not sent.
        bare = await mcp.call_ok("update_pet_with_form", {"pet_id": 8})
        assert "Content-Type" not in bare["headers"]
        assert (bare["data"], bare["form"]) == ("", {})


async def test_multipart_file_upload(connect, upstream):
    """petstore POST /pet/{petId}/uploadImage: a text part and a file part."""
    async with connect(binary="petstore") as mcp:
        m = marker()
        file = {"data": base64.b64encode(PNG).decode(), "filename": "pixel.png", "contentType": "image/png"}
        result = await mcp.call("upload_file", {"pet_id": 7, "additionalMetadata": m, "file": file})
        # The echo satisfies the ApiResponse output schema (no required properties).
        assert result.get("isError", False) is False
        echo = result["structuredContent"]
        assert (echo["method"], echo["url"]) == ("POST", f"{HTTPBIN_URL}/anything/pet/7/uploadImage")
        assert echo["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
        assert echo["form"] == {"additionalMetadata": m}
        # httpbin shows a non-UTF-8 file as a data: URL of its bytes and content type.
        assert echo["files"] == {"file": "data:image/png;base64," + base64.b64encode(PNG).decode()}

        # A bare base64 string is a file too (httpbin shows UTF-8 files as text).
        text = f"hello {m}\n".encode()
        echo = (await mcp.call("upload_file", {"pet_id": 8, "file": base64.b64encode(text).decode()}))["structuredContent"]
        assert echo["files"] == {"file": text.decode()}
        assert echo["form"] == {}


async def test_binary_argument_that_is_not_base64_is_refused(connect, upstream):
    async with connect(binary="petstore") as mcp:
        m = marker()
        mark = upstream.mark()
        result = await mcp.call("upload_file", {"pet_id": 9, "additionalMetadata": m, "file": "%%% not base64"})
        assert result["isError"] is True
        assert "file" in result["content"][0]["text"]
        sentinel = marker()
        await mcp.call_ok("delete_user", {"username": sentinel})
        await upstream.wait_for(mark, lambda r: sentinel in r.target)
        assert not [r for r in upstream.since(mark) if "/pet/9" in r.target]


# --- arguments the schema refuses never leave --------------------------------------------


async def test_invalid_arguments_are_tool_errors_and_send_nothing(connect, upstream):
    async with connect() as mcp:
        mark = upstream.mark()
        wrong = await mcp.call("get_cache_value", {"value": "1; DROP"})
        assert wrong["isError"] is True
        assert wrong["content"][0]["text"] == 'Invalid arguments for tool get_cache_value: /value: "1; DROP" is not of type "integer"'
        missing = await mcp.call("get_status_codes", {})
        assert missing["isError"] is True
        assert '"codes" is a required property' in missing["content"][0]["text"]
        sentinel = marker()
        await mcp.call_ok("get_anything_anything", {"anything": sentinel})
        await upstream.wait_for(mark, lambda r: sentinel in r.target)
        assert not [r for r in upstream.since(mark) if r.path.startswith(("/cache", "/status"))]
