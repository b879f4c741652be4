#!/usr/bin/env bash
# Interop tests: the official MCP clients against the conformance server
# (examples/conformance), over stdio and Streamable HTTP.
#
#   scripts/interop.sh            # both suites
#   scripts/interop.sh python     # tests/interop/python (pytest; the `mcp` Python SDK 2.x, then 1.x)
#   scripts/interop.sh ts         # tests/interop/ts (node --test, @modelcontextprotocol/sdk 1.x and /client 2.x, the Inspector CLI 1.x and 2.x; auth.test.mjs with npm oidc-provider)
#
# Extra arguments after the suite name go to the test runner, e.g.
#   scripts/interop.sh python -k sampling
#
# The tests start the server themselves (stdio: as a child process; HTTP: on
# a free 127.0.0.1 port) from $CONFORMANCE_SERVER_BIN, which this script sets
# after building it. SERVER_BIN=path skips the build.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

suite="${1:-all}"
[[ $# -gt 0 ]] && shift

[[ -x "$NODE" && -x "$PY" && -x "$PY_MCP1" && -f "$TS_CLIENT2_PKG" ]] || "$ROOT/scripts/setup.sh"
CONFORMANCE_SERVER_BIN="$(build_server)"
export CONFORMANCE_SERVER_BIN

# pytest in one venv: run_pytest PYTHON [pytest args...]
run_pytest() {
    local py="$1"
    shift
    log "interop: Python SDK $("$py" -c 'from importlib.metadata import version; print("mcp", version("mcp"))')"
    (cd "$ROOT/tests/interop/python" &&
        timeout 900 "$py" -m pytest -p no:cacheprovider -ra --timeout=90 "$@" </dev/null)
}

# The newest SDK generation (mcp 2.x), then the previous one (mcp 1.x).
run_python() {
    run_pytest "$PY" "$@"
    run_pytest "$PY_MCP1" "$@"
}

# The server of tests/interop/ts/auth.test.mjs (runtime/examples/auth_server.rs).
build_auth_server() {
    (cd "$ROOT" && timeout 1800 cargo build --quiet -p mcpgen-runtime --features auth,upstream --example auth_server >&2) ||
        die "cargo build --example auth_server failed"
    printf '%s\n' "$(target_dir)/debug/examples/auth_server"
}

run_ts() {
    AUTH_SERVER_BIN="$(build_auth_server)"
    # httpbin runs as `python -m gunicorn` (see scripts/e2e.sh).
    HTTPBIN_PYTHON="$VENV_HTTPBIN/bin/python"
    export AUTH_SERVER_BIN HTTPBIN_PYTHON
    log "interop: TypeScript SDK ($("$NODE" -p 'require("'"$NPM_DIR"'/node_modules/@modelcontextprotocol/sdk/package.json").version'), 2.x client $("$NODE" -p 'require("'"$TS_CLIENT2_PKG"'").version'), MCP Inspector CLI $("$NODE" -p 'require("'"$NPM_DIR"'/node_modules/@modelcontextprotocol/inspector-cli/package.json").version') and $("$NODE" -p 'require("'"$NPM_DIR"'/node_modules/@modelcontextprotocol/inspector/package.json").version'), node $("$NODE" --version))"
    local files=("$ROOT"/tests/interop/ts/*.test.mjs)
    [[ -e "${files[0]}" ]] || die "no tests in tests/interop/ts"
    (cd "$ROOT/tests/interop/ts" &&
        timeout 900 "$NODE" --test --test-reporter=spec --test-timeout=90000 "$@" "${files[@]}" </dev/null)
}

case "$suite" in
python) run_python "$@" ;;
ts) run_ts "$@" ;;
all)
    run_python
    run_ts
    ;;
*) die "usage: scripts/interop.sh [python|ts|all] [runner args...]" ;;
esac
