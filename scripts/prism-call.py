#!/usr/bin/env python3
"""Call every tool of a generated MCP server once, with arguments built from
its input schema, against a Prism mock; classify each result. Used by
scripts/prism-check.sh.

    prism-call.py SERVER_BIN BASE_URL [ENV=VALUE...]

PRISM_LOG names Prism's log, read after each call for request violations.
Prints one JSON object: {"ok": n, "validation": n, "other": n, "failures":
[...]}: `ok` is a request Prism accepted (it then answers with a documented
response, an error status when the document has no 2xx), `validation` one
it found not to match the document, `other` anything else (a protocol error,
arguments the server refused, a route Prism cannot resolve, a connection
failure). Bounded: 20 s per call, 600 s in all.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time

CALL_TIMEOUT = 20.0
TOTAL_TIMEOUT = 600.0
FILE_B64 = "aGVsbG8="  # "hello"


class Server:
    def __init__(self, binary: str, base_url: str, env: dict[str, str]):
        self.p = subprocess.Popen(
            # Every operation listed as a tool, whatever surface the
            # generator chose for a big document (docs/surfaces.md).
            [binary, "--transport", "stdio", "--base-url", base_url, "--upstream-retries", "0", "--tool-surface", "all"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={"PATH": "/usr/bin:/bin", **env},
        )
        self.next_id = 0
        self.lines: list[str] = []
        self.cv = threading.Condition()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self) -> None:
        assert self.p.stdout
        for line in self.p.stdout:
            with self.cv:
                self.lines.append(line)
                self.cv.notify_all()
        with self.cv:
            self.lines.append("")
            self.cv.notify_all()

    def request(self, method: str, params: dict) -> dict:
        self.next_id += 1
        rid = self.next_id
        assert self.p.stdin
        self.p.stdin.write(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}) + "\n")
        self.p.stdin.flush()
        deadline = time.monotonic() + CALL_TIMEOUT
        with self.cv:
            while True:
                for i, line in enumerate(self.lines):
                    if line == "":
                        raise RuntimeError("the server exited")
                    m = json.loads(line)
                    if m.get("id") == rid:
                        del self.lines[: i + 1]
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{method}: no answer in {CALL_TIMEOUT} s")
                self.cv.wait(left)

    def notify(self, method: str) -> None:
        assert self.p.stdin
        self.p.stdin.write(json.dumps({"jsonrpc": "2.0", "method": method}) + "\n")
        self.p.stdin.flush()

    def close(self) -> None:
        try:
            assert self.p.stdin
            self.p.stdin.close()
            self.p.wait(timeout=5)
        except Exception:
            self.p.kill()


def resolve(schema, root: dict, depth: int = 0):
    """Follow local `$ref`s (into the tool schema's `$defs`)."""
    while isinstance(schema, dict) and "$ref" in schema and depth < 32:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return {}
        target = root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part, {}) if isinstance(target, dict) else {}
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **extra}
        depth += 1
    return schema if isinstance(schema, (dict, bool)) else {}


def from_pattern(pattern: str) -> str | None:
    """A string matching a simple regular expression (literals, classes,
    escapes, groups without alternation, ? * + {n} {n,m}); None when the
    pattern is beyond that."""
    out, i = [], 0
    body = pattern.removeprefix("^").removesuffix("$")
    while i < len(body):
        c = body[i]
        if c == "[":
            end = body.find("]", i + 1)
            if end < 0:
                return None
            cls = body[i + 1 : end]
            if cls.startswith("^"):
                return None
            atom = "a" if "a-z" in cls else "A" if "A-Z" in cls else "0" if "0-9" in cls else cls[0]
            i = end + 1
        elif c == "\\" and i + 1 < len(body):
            atom = {"d": "0", "w": "a", "s": " "}.get(body[i + 1], body[i + 1])
            i += 2
        elif c in "()":
            i += 1
            continue
        elif c in "|.":
            return None
        else:
            atom, i = c, i + 1
        count = 1
        if i < len(body) and body[i] in "?*":
            count, i = 0 if body[i] == "*" else 1, i + 1
            count = 0 if body[i - 1] == "?" else count
        elif i < len(body) and body[i] == "+":
            i += 1
        elif i < len(body) and body[i] == "{":
            end = body.find("}", i)
            if end < 0:
                return None
            try:
                count = int(body[i + 1 : end].split(",")[0] or 0)
            except ValueError:
                return None
            i = end + 1
        out.append(atom * count)
    return "".join(out)


def string_for(s: dict) -> str:
    if isinstance(s.get("pattern"), str):
        matched = from_pattern(s["pattern"])
        if matched is not None and re.search(s["pattern"], matched):
            return matched
    fmt = s.get("format", "")
    if s.get("contentEncoding") == "base64" or fmt in ("binary", "byte"):
        return FILE_B64
    by_format = {
        "date-time": "2024-01-02T03:04:05Z",
        "date": "2024-01-02",
        "time": "03:04:05Z",
        "email": "someone@example.com",
        "uuid": "123e4567-e89b-12d3-a456-426614174000",
        "uri": "https://example.com/x",
        "url": "https://example.com/x",
        "hostname": "example.com",
        "ipv4": "192.0.2.1",
        "ipv6": "2001:db8::1",
    }
    value = by_format.get(fmt, "x")
    lo = s.get("minLength", 0)
    if len(value) < lo:
        value = value + "x" * (lo - len(value))
    if "maxLength" in s:
        value = value[: s["maxLength"]]
    return value


def number_for(s: dict, integer: bool):
    lo = s.get("minimum", s.get("exclusiveMinimum", 1))
    if isinstance(s.get("exclusiveMinimum"), (int, float)) and not isinstance(s.get("exclusiveMinimum"), bool):
        lo = s["exclusiveMinimum"] + 1
    value = max(1, lo) if lo is not None else 1
    hi = s.get("maximum")
    if isinstance(hi, (int, float)) and value > hi:
        value = hi
    if s.get("multipleOf"):
        m = s["multipleOf"]
        value = m * max(1, round(value / m))
    return int(value) if integer else value


def example(schema, root: dict, depth: int = 0):
    """A value the schema accepts, as small as it allows."""
    s = resolve(schema, root)
    if s is True or s == {} or depth > 12:
        return "x"
    if s is False:
        return None
    for key in ("const",):
        if key in s:
            return s[key]
    if s.get("enum"):
        return s["enum"][0]
    if "default" in s and s["default"] is not None:
        return s["default"]
    if isinstance(s.get("examples"), list) and s["examples"]:
        return s["examples"][0]
    for key in ("oneOf", "anyOf"):
        if s.get(key):
            return example(s[key][0], root, depth + 1)
    if s.get("allOf"):
        merged: dict = {}
        for part in s["allOf"]:
            part = resolve(part, root)
            if isinstance(part, dict):
                for k, v in part.items():
                    if k == "properties":
                        merged.setdefault("properties", {}).update(v)
                    elif k == "required":
                        merged.setdefault("required", []).extend(v)
                    else:
                        merged.setdefault(k, v)
        rest = {k: v for k, v in s.items() if k != "allOf"}
        return example({**merged, **rest}, root, depth + 1)
    t = s.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "null")
    if t is None:
        t = "object" if "properties" in s else "array" if "items" in s else "string"
    if t == "string":
        return string_for(s)
    if t in ("integer", "number"):
        return number_for(s, t == "integer")
    if t == "boolean":
        return True
    if t == "null":
        return None
    if t == "array":
        n = max(1, s.get("minItems", 1))
        return [example(s.get("items", {}), root, depth + 1) for _ in range(n)]
    out = {}
    props = s.get("properties", {})
    for name in s.get("required", []):
        out[name] = example(props.get(name, {}), root, depth + 1)
    return out


PRISM_ERROR = re.compile(r"https://stoplight\.io/prism/errors#([A-Z_]+)")
PRISM_REFUSAL = {"UNPROCESSABLE_ENTITY", "UNAUTHORIZED", "INVALID_CONTENT_TYPE", "NOT_ACCEPTABLE"}


class PrismLog:
    """What Prism logged since the last look: it logs `Violation: request …`
    for every request that does not match the document, whatever status it
    then answers with (a documented 400, a 415 made from `default`, …)."""

    def __init__(self, path: str | None):
        self.path, self.offset = path, 0

    def violations(self) -> list[str]:
        if not self.path:
            return []
        time.sleep(0.05)
        with open(self.path, encoding="utf-8", errors="replace") as f:
            f.seek(self.offset)
            text = f.read()
            self.offset = f.tell()
        return [line.split("Violation: ", 1)[1].strip() for line in text.splitlines() if "Violation: request" in line]


def only_response_violations(text: str) -> bool:
    try:
        problem = json.loads(text.split("\n\n", 1)[1])
    except (IndexError, ValueError):
        return False
    found = problem.get("validation") or []
    return bool(found) and all((v.get("location") or [""])[0] == "response" for v in found)


def classify(response: dict, violations: list[str]) -> tuple[str, str]:
    """ok: Prism accepted the request (and answered with a documented
    response, which may be an error status when no 2xx is documented);
    validation: Prism found the request does not match the document;
    other: everything else."""
    if violations:
        return "validation", "; ".join(violations)[:400]
    if "error" in response:
        return "other", f"protocol error {response['error'].get('code')}: {response['error'].get('message', '')[:200]}"
    result = response.get("result", {})
    text = "\n".join(c.get("text", "") for c in result.get("content", []) if c.get("type") == "text")
    if not result.get("isError"):
        return "ok", ""
    prism = PRISM_ERROR.search(text)
    if prism and prism.group(1) == "VIOLATIONS" and only_response_violations(text):
        # With --errors Prism fails its own mock response when that breaks
        # the document (it ignores `pattern`): the request itself passed.
        return "ok", ""
    if prism and prism.group(1) in PRISM_REFUSAL:
        return "validation", text[:400]
    if prism or not re.match(r"HTTP \d{3}", text):
        # Prism could not route or mock it, or the call never got there.
        return "other", text[:400]
    return "ok", ""


def main() -> int:
    binary, base_url = sys.argv[1], sys.argv[2]
    env = dict(kv.split("=", 1) for kv in sys.argv[3:])
    started = time.monotonic()
    log = PrismLog(os.environ.get("PRISM_LOG"))
    server = Server(binary, base_url, env)
    counts = {"ok": 0, "validation": 0, "other": 0, "failures": []}
    try:
        init = server.request(
            "initialize",
            {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "prism-check", "version": "1"}},
        )
        if "error" in init:
            raise RuntimeError(f"initialize: {init['error']}")
        server.notify("notifications/initialized")
        tools, cursor = [], None
        for _ in range(1000):
            r = server.request("tools/list", {"cursor": cursor} if cursor else {})
            tools += r["result"]["tools"]
            cursor = r["result"].get("nextCursor")
            if not cursor:
                break
        for tool in tools:
            if time.monotonic() - started > TOTAL_TIMEOUT:
                counts["failures"].append({"tool": "*", "why": f"stopped after {TOTAL_TIMEOUT} s"})
                break
            schema = tool.get("inputSchema", {})
            args = example(schema, schema)
            try:
                response = server.request("tools/call", {"name": tool["name"], "arguments": args})
                kind, why = classify(response, log.violations())
            except TimeoutError as e:
                kind, why = "other", str(e)
            counts[kind] += 1
            if kind != "ok":
                counts["failures"].append({"tool": tool["name"], "kind": kind, "why": why, "arguments": args})
    except Exception as e:  # noqa: BLE001 - reported, not raised
        counts["failures"].append({"tool": "*", "kind": "other", "why": f"{type(e).__name__}: {e}"})
        counts["other"] += 1
    finally:
        server.close()
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
