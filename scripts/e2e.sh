#!/usr/bin/env bash
# End-to-end tests: generated OpenAPI servers calling a REAL upstream API,
# driven by a REAL MCP client.
#
#   scripts/e2e.sh                 # the whole suite (tests/e2e, pytest)
#   scripts/e2e.sh -k cancel       # extra arguments go to pytest
#
# 1. starts httpbin (PyPI httpbin 0.10.4 under gunicorn, from .tools/venv-httpbin)
#    on a free 127.0.0.1 port; results/e2e/httpbin-requests.jsonl records what
#    the upstream received (tests/e2e/gunicorn.conf.py);
# 2. builds the generated servers examples/httpbin (from httpbin's own Swagger
#    2.0 document, with the `telemetry` feature) and examples/petstore (pointed at httpbin's /anything echo);
#    HTTPBIN_SERVER_BIN / PETSTORE_SERVER_BIN / MCPGEN_BIN=path skip the build;
# 3. runs tests/e2e with the official Python SDK (`mcp` 2.x, .tools/venv), each
#    client test in both protocol eras (2025-11-25 sessions, 2026-07-28). The
#    tests start the MCP servers themselves (stdio, and Streamable HTTP on free
#    127.0.0.1 ports) with --base-url pointing at httpbin.
#
# Everything is bounded: httpbin must answer within 30 s, pytest gets 600 s and
# each test 60 s; httpbin is stopped on exit, whatever happens.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

[[ -x "$PY" && -x "$VENV_HTTPBIN/bin/gunicorn" ]] || "$ROOT/scripts/setup.sh"

# --- the MCP servers under test (and mcpgen, for the live-spec check) -------
reuse() { [[ -n "${!1:-}" && -x "${!1}" ]]; }
if ! reuse HTTPBIN_SERVER_BIN || ! reuse PETSTORE_SERVER_BIN || ! reuse MCPGEN_BIN; then
    # httpbin with the runtime's `telemetry` feature (tests/e2e/test_telemetry.py);
    # switched off at run time, it is the same server to the other tests.
    log "e2e: cargo build -p httpbin -p petstore -p mcpgen --features httpbin/telemetry"
    (cd "$ROOT" && timeout 1800 cargo build --quiet -p httpbin -p petstore -p mcpgen --features httpbin/telemetry >&2) ||
        die "cargo build of the e2e servers failed"
    target="$(target_dir)"
    reuse HTTPBIN_SERVER_BIN || HTTPBIN_SERVER_BIN="$target/debug/httpbin"
    reuse PETSTORE_SERVER_BIN || PETSTORE_SERVER_BIN="$target/debug/petstore"
    reuse MCPGEN_BIN || MCPGEN_BIN="$target/debug/mcpgen"
fi
for bin in "$HTTPBIN_SERVER_BIN" "$PETSTORE_SERVER_BIN" "$MCPGEN_BIN"; do
    [[ -x "$bin" ]] || die "missing executable $bin"
done
export HTTPBIN_SERVER_BIN PETSTORE_SERVER_BIN MCPGEN_BIN

# --- servers generated from documents of tests/e2e -----------------------------
# tests/e2e/deviating.yaml (an upstream that does not keep to its document)
# and tests/e2e/longrunning.yaml (a 202 operation, root x-mcp cache hints),
# generated now (their crates are not examples) into target/e2e with the
# workspace's Cargo.lock and target dir, so dependencies are not built again.
# DEVIATING_SERVER_BIN=path and LONGRUNNING_SERVER_BIN=path skip this.
if ! reuse DEVIATING_SERVER_BIN || ! reuse LONGRUNNING_SERVER_BIN; then
    gen="$(target_dir)/e2e"
    mkdir -p "$gen"
    for doc in deviating longrunning; do
        rm -rf "${gen:?}/$doc"
        "$MCPGEN_BIN" generate "$ROOT/tests/e2e/$doc.yaml" -o "$gen/$doc" \
            --name "e2e-$doc" --runtime-path "$ROOT/runtime" >"$gen/$doc.log" 2>&1 ||
            die "mcpgen generate tests/e2e/$doc.yaml failed: $(cat "$gen/$doc.log")"
    done
    printf '[workspace]\nresolver = "3"\nmembers = ["deviating", "longrunning"]\n' >"$gen/Cargo.toml"
    cp "$ROOT/Cargo.lock" "$gen/Cargo.lock"
    log "e2e: cargo build -p e2e-deviating -p e2e-longrunning"
    (cd "$gen" && CARGO_TARGET_DIR="$(target_dir)" timeout 900 cargo build --quiet -p e2e-deviating -p e2e-longrunning >&2) ||
        die "cargo build of the servers of tests/e2e failed"
    reuse DEVIATING_SERVER_BIN || DEVIATING_SERVER_BIN="$(target_dir)/debug/e2e-deviating"
    reuse LONGRUNNING_SERVER_BIN || LONGRUNNING_SERVER_BIN="$(target_dir)/debug/e2e-longrunning"
fi
export DEVIATING_SERVER_BIN LONGRUNNING_SERVER_BIN

# --- httpbin ------------------------------------------------------------------
RESULTS="$ROOT/results/e2e"
mkdir -p "$RESULTS"
HTTPBIN_REQUEST_LOG="$RESULTS/httpbin-requests.jsonl"
HTTPBIN_ACCESS_LOG="$RESULTS/httpbin-access.log"
HTTPBIN_ERROR_LOG="$RESULTS/httpbin-error.log"
: >"$HTTPBIN_REQUEST_LOG"
: >"$HTTPBIN_ACCESS_LOG"
: >"$HTTPBIN_ERROR_LOG"
export HTTPBIN_REQUEST_LOG
port="$(free_port)"
httpbin_pid=""
stop_httpbin() {
    [[ -n "$httpbin_pid" ]] || return 0
    # gunicorn runs in its own process group (setsid): timeout, the master and its workers.
    kill -TERM -- "-$httpbin_pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 "$httpbin_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$httpbin_pid" 2>/dev/null || true
    wait "$httpbin_pid" 2>/dev/null || true
    httpbin_pid=""
}
trap stop_httpbin EXIT
trap 'exit 130' INT TERM

log "e2e: httpbin $("$VENV_HTTPBIN/bin/python" -c 'from importlib.metadata import version as v; print(v("httpbin"), "on gunicorn", v("gunicorn"))') at http://127.0.0.1:$port"
# Its own session (so the whole group can be stopped), and a lifetime bound of its
# own in case this script is killed before its trap runs.
# `python -m gunicorn`, not bin/gunicorn: a venv reached through another path
# (a shared .tools) keeps working, whatever the shebang of its scripts says.
setsid timeout --kill-after=5 1500 "$VENV_HTTPBIN/bin/python" -m gunicorn --config "$ROOT/tests/e2e/gunicorn.conf.py" \
    --bind "127.0.0.1:$port" --access-logfile "$HTTPBIN_ACCESS_LOG" \
    --error-logfile "$HTTPBIN_ERROR_LOG" httpbin:app </dev/null &
httpbin_pid=$!
wait_for_port "$port" "$httpbin_pid" 30 || {
    cat "$HTTPBIN_ERROR_LOG" >&2
    die "httpbin did not listen on 127.0.0.1:$port within 30 s"
}
# Listening is not serving: wait (bounded) for a real answer from the app.
"$PY" - "http://127.0.0.1:$port/get" <<'EOF' || die "httpbin does not answer GET /get"
import json, sys, time, urllib.request
deadline = time.monotonic() + 30
while True:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
            assert json.load(r)["url"] == sys.argv[1]
            break
    except Exception:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.2)
EOF

export HTTPBIN_URL="http://127.0.0.1:$port" E2E_RESULTS="$RESULTS"
log "e2e: Python SDK $("$PY" -c 'from importlib.metadata import version; print("mcp", version("mcp"))'), servers $HTTPBIN_SERVER_BIN, $PETSTORE_SERVER_BIN"
rc=0
(cd "$ROOT/tests/e2e" &&
    timeout --kill-after=10 600 "$PY" -m pytest -p no:cacheprovider -ra --timeout=60 "$@" </dev/null) || rc=$?
# The TypeScript SDK validates structuredContent against a declared
# outputSchema: the same deviating upstream through it.
log "e2e: TypeScript SDK against the deviating server"
(cd "$ROOT/tests/e2e" &&
    MCP_SDK_DIR="$NPM_DIR/node_modules/@modelcontextprotocol/sdk" timeout --kill-after=10 300 "$NODE" --test --test-reporter=spec \
        --test-timeout=90000 deviations.test.mjs </dev/null) || rc=$?
stop_httpbin
exit "$rc"
