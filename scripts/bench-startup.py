#!/usr/bin/env python3
"""Start an MCP server binary over stdio and time, from the spawn, its answer
to `initialize` and to the first `tools/list` page; print the figures and the
size of that page and of the whole list, and the CPU time the server had
used by then (all threads). Used by scripts/bench-scale.sh.
Arguments after the binary are passed to the server
(`bench-startup.py BINARY --tool-surface all`).
Measures only; a server that does not answer is an error (exit 1)."""
import json, os, subprocess, sys, time

binary = sys.argv[1]
t0 = time.monotonic()
p = subprocess.Popen([binary, "--transport", "stdio", *sys.argv[2:]], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def send(msg):
    p.stdin.write((json.dumps(msg) + "\n").encode())
    p.stdin.flush()


def cpu_ms():
    """CPU time the server has used so far, all its threads (schedstat's
    nanoseconds on a CPU): under a shared machine's load the wall time
    varies by a factor of two, this much less."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{p.pid}/task"):
            with open(f"/proc/{p.pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
    except OSError:
        return float("nan")
    return total / 1e6


def read(id_):
    """The response to request id_ and its size in bytes."""
    while True:
        line = p.stdout.readline()
        if not line:
            print("server closed stdout; stderr:", p.stderr.read()[:2000].decode(errors="replace"))
            sys.exit(1)
        m = json.loads(line)
        if m.get("id") == id_:
            if "error" in m:
                print("error:", m["error"])
                sys.exit(1)
            return m, len(line)


send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {},
    "clientInfo": {"name": "bench", "version": "1"}}})
read(1)
t_init = time.monotonic() - t0
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
send({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}})
first, first_bytes = read(2)
t_list = time.monotonic() - t0
cpu_list = cpu_ms()
tools, total, cursor, i = len(first["result"]["tools"]), first_bytes, first["result"].get("nextCursor"), 3
# Bounded: a server that kept handing out cursors would be a bug.
while cursor and i < 100000:
    send({"jsonrpc": "2.0", "id": i, "method": "tools/list", "params": {"cursor": cursor}})
    r, n = read(i)
    tools += len(r["result"]["tools"])
    total += n
    cursor = r["result"].get("nextCursor")
    i += 1
p.stdin.close()
p.wait(timeout=30)
print(f"initialize {t_init * 1000:.0f} ms; first tools/list page {t_list * 1000:.0f} ms "
      f"({first_bytes} bytes; server CPU {cpu_list:.0f} ms); tools/list: {tools} tools, {total} bytes")
