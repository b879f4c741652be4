#!/usr/bin/env python3
"""Start an MCP server binary over stdio, initialize, page through tools/list;
print the tool count (exit 1 when it does not start). Used by openapi-corpus.sh."""
import json, subprocess, sys
binary = sys.argv[1]
msgs = [
    {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"smoke","version":"1"}}},
    {"jsonrpc":"2.0","method":"notifications/initialized"},
]
inp = "".join(json.dumps(m)+"\n" for m in msgs)
# page through tools/list
p = subprocess.Popen([binary, "--transport", "stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
p.stdin.write(inp); p.stdin.flush()
def read(id_):
    while True:
        line = p.stdout.readline()
        if not line:
            print("EOF; stderr:", p.stderr.read()[:2000]); sys.exit(1)
        m = json.loads(line)
        if m.get("id") == id_: return m
init = read(1)
if "error" in init: print("init error", init); sys.exit(1)
tools = 0; cursor = None; i = 2
while True:
    params = {"cursor": cursor} if cursor else {}
    p.stdin.write(json.dumps({"jsonrpc":"2.0","id":i,"method":"tools/list","params":params})+"\n"); p.stdin.flush()
    r = read(i); i += 1
    tools += len(r["result"]["tools"])
    cursor = r["result"].get("nextCursor")
    if not cursor: break
p.stdin.close(); p.wait(timeout=10)
print(f"starts; tools/list: {tools} tools")
