#!/usr/bin/env bash
# Run the official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in tests/interop/package-lock.json) against the conformance server
# (examples/conformance) over Streamable HTTP.
#
#   scripts/conformance.sh                 # --suite all
#   scripts/conformance.sh --scenario X    # one scenario, checks printed in full
#
# The suite runs with an empty --expected-failures baseline, so a scenario
# that produces any FAILURE *or WARNING* fails the run. Per-check results are
# kept in results/conformance/ (git-ignored). Exit status: 0 only for
# 0 failed and 0 warnings.
#
# Environment: SERVER_BIN=path skips the build; CONFORMANCE_PORT picks the port.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

[[ -x "$NODE" && -f "$CONFORMANCE_JS" ]] || "$ROOT/scripts/setup.sh"

select=(--suite all)
if [[ $# -gt 0 ]]; then
    select=("$@")
fi

bin="$(build_server)"
out="$ROOT/results/conformance"
rm -rf "$out"
mkdir -p "$out"
baseline="$out/expected-failures.yaml"
: >"$baseline" # empty baseline: every FAILURE or WARNING is unexpected

pid=""
stop_server() {
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}
trap stop_server EXIT
trap 'exit 130' INT TERM

port=""
for attempt in 1 2 3; do
    port="${CONFORMANCE_PORT:-$(free_port)}"
    MCP_LOG="${MCP_LOG:-info}" "$bin" --transport http --bind "127.0.0.1:$port" \
        </dev/null >"$out/server.log" 2>&1 &
    pid=$!
    if wait_for_port "$port" "$pid" 30; then
        break
    fi
    stop_server
    pid=""
    [[ $attempt == 3 ]] && {
        tail -n 40 "$out/server.log" >&2
        die "the conformance server did not start listening on 127.0.0.1:$port"
    }
done
url="http://127.0.0.1:$port/mcp"

log "conformance: $("$NODE" "$CONFORMANCE_JS" --version) ${select[*]} against $url"
set +e
timeout 900 "$NODE" "$CONFORMANCE_JS" server --url "$url" "${select[@]}" \
    --expected-failures "$baseline" -o "$out" </dev/null >"$out/conformance.log" 2>&1
rc=$?
set -e

if [[ " ${select[*]} " == *" --scenario "* ]]; then
    cat "$out/conformance.log"
else
    # The suite's own summary: one line per scenario, the totals, the baseline verdict.
    sed -n '/=== SUMMARY ===/,$p' "$out/conformance.log"
fi

# Every non-SUCCESS, non-INFO check, with its message (suite mode prints none of them).
bad="$("$(host_python)" - "$out" <<'PY'
import json, pathlib, sys
for path in sorted(pathlib.Path(sys.argv[1]).glob("*/checks.json")):
    for c in json.loads(path.read_text()):
        if c.get("status") in ("FAILURE", "WARNING"):
            msg = f" -- {c['errorMessage']}" if c.get("errorMessage") else ""
            print(f"  {c['status']} [{c.get('id')}] {c.get('description', '')}{msg}")
PY
)"
warnings="$(printf '%s' "$bad" | grep -c '^  WARNING' || true)"
failures="$(printf '%s' "$bad" | grep -c '^  FAILURE' || true)"
scenarios="$(find "$out" -name checks.json | wc -l)"

if [[ -n "$bad" ]]; then
    printf '\nChecks that did not pass:\n%s\n' "$bad"
fi
if [[ $rc -eq 124 ]]; then
    die "the conformance suite timed out (log: $out/conformance.log, server log: $out/server.log)"
fi
echo "conformance: $scenarios scenarios, $failures failed checks, $warnings warnings (details: results/conformance/)"
if [[ $rc -ne 0 || $failures -ne 0 || $warnings -ne 0 || $scenarios -eq 0 ]]; then
    echo "--- last lines of the server log ---" >&2
    tail -n 30 "$out/server.log" >&2
    die "conformance suite failed (exit $rc, $failures failed checks, $warnings warnings)"
fi
