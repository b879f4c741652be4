#!/usr/bin/env bash
# Run the official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in tests/interop/package-lock.json) against the conformance server
# (examples/conformance) over Streamable HTTP.
#
#   scripts/conformance.sh                 # all three runs below
#   scripts/conformance.sh --scenario X    # one 0.1.16 scenario, checks printed in full
#
# The runs, against one server:
#   1. 0.1.16 --suite all, with an empty --expected-failures baseline, so a
#      scenario that produces any FAILURE *or WARNING* fails the run;
#   2. 0.2.0-alpha.12 --requirements 2025-11-25: every scored scenario must
#      pass, with no failed check and no warning in any scenario;
#   3. 0.2.0-alpha.12 --requirements 2026-07-28: fails if fewer scored
#      scenarios pass than MIN_2026_PASSES (all 37), if a scored scenario
#      has a failed check or a warning, or if fewer tasks-extension
#      scenarios (tasks-*, unscored) pass than MIN_TASKS_PASSES, or if a
#      pending scenario of REQUIRED_PENDING does not pass cleanly. The other
#      unscored ones (pending) are reported, not judged.
# Per-check results are kept in results/conformance/ (git-ignored).
#
# Environment: SERVER_BIN=path skips the build; CONFORMANCE_PORT picks the port;
# CONFORMANCE_URL=http://… runs against a server already running there (no
# server is started: scripts/scale-out.sh points it at a load balancer).
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

[[ -x "$NODE" && -f "$CONFORMANCE_JS" && -f "$CONFORMANCE02_JS" ]] || "$ROOT/scripts/setup.sh"

# Scored 2026-07-28 scenarios that must pass (all 37 of the frozen set).
MIN_2026_PASSES=37
# Tasks-extension scenarios (tasks-*, not scored by the suite) that must pass.
MIN_TASKS_PASSES=10
# Pending 2026-07-28 scenarios (not scored by the suite yet) that must pass
# with no failed or warning check all the same.
REQUIRED_PENDING=(http-header-validation http-custom-header-server-validation json-schema-2020-12)

select=(--suite all)
only_016=""
if [[ $# -gt 0 ]]; then
    select=("$@")
    only_016=1
fi

out="$ROOT/results/conformance${CONFORMANCE_URL:+-url}"
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
    [[ -n "${CONFORMANCE_URL:-}" ]] && break
    [[ $attempt == 1 ]] && bin="$(build_server)"
    port="${CONFORMANCE_PORT:-$(free_port)}"
    # Both eras on one endpoint (the default): every run below goes to this one server.
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
url="${CONFORMANCE_URL:-http://127.0.0.1:$port/mcp}"

# Every non-SUCCESS, non-INFO check of a run, with its message.
bad_checks() {
    "$(host_python)" - "$1" <<'PY'
import json, pathlib, sys
for path in sorted(pathlib.Path(sys.argv[1]).glob("*/checks.json")):
    for c in json.loads(path.read_text()):
        if c.get("status") in ("FAILURE", "WARNING"):
            msg = f" -- {c['errorMessage']}" if c.get("errorMessage") else ""
            print(f"  {c['status']} [{c.get('id')}] {c.get('description', '')}{msg}")
PY
}

server_log_tail() {
    [[ -f "$out/server.log" ]] || return 0
    echo "--- last lines of the server log ---" >&2
    tail -n 30 "$out/server.log" >&2
}

# --- 1. 0.1.16 --suite all ----------------------------------------------------
run="$out/0.1.16"
mkdir -p "$run"
log "conformance: $("$NODE" "$CONFORMANCE_JS" --version) ${select[*]} against $url"
set +e
timeout 900 "$NODE" "$CONFORMANCE_JS" server --url "$url" "${select[@]}" \
    --expected-failures "$baseline" -o "$run" </dev/null >"$run/conformance.log" 2>&1
rc=$?
set -e

if [[ -n "$only_016" ]]; then
    cat "$run/conformance.log"
else
    # The suite's own summary: one line per scenario, the totals, the baseline verdict.
    sed -n '/=== SUMMARY ===/,$p' "$run/conformance.log"
fi

bad="$(bad_checks "$run")"
warnings="$(printf '%s' "$bad" | grep -c '^  WARNING' || true)"
failures="$(printf '%s' "$bad" | grep -c '^  FAILURE' || true)"
scenarios="$(find "$run" -name checks.json | wc -l)"

if [[ -n "$bad" ]]; then
    printf '\nChecks that did not pass:\n%s\n' "$bad"
fi
if [[ $rc -eq 124 ]]; then
    die "the conformance suite timed out (log: $run/conformance.log, server log: $out/server.log)"
fi
echo "conformance 0.1.16: $scenarios scenarios, $failures failed checks, $warnings warnings (details: ${run#"$ROOT"/}/)"
if [[ $rc -ne 0 || $failures -ne 0 || $warnings -ne 0 || $scenarios -eq 0 ]]; then
    server_log_tail
    die "conformance suite 0.1.16 failed (exit $rc, $failures failed checks, $warnings warnings)"
fi
[[ -n "$only_016" ]] && exit 0

# --- 0.2: the frozen requirement sets of each revision -----------------------
# Prints "scored_passed scored_total" from a --requirements run's log: the
# summary lists every scenario, the "Not scored" block the unscored ones.
scored_counts() {
    "$(host_python)" - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
summary = text.split("=== SUMMARY ===", 1)[-1]
scored_part, _, unscored_part = summary.partition("Not scored")
line = re.compile(r"^\s*([\u2713\u2717])\s+([^\s:(]+)", re.M)
unscored = {m.group(2) for m in line.finditer(unscored_part)}
results = {m.group(2): m.group(1) == "\u2713" for m in line.finditer(scored_part)}
scored = {k: v for k, v in results.items() if k not in unscored}
print(sum(scored.values()), len(scored))
PY
}

run_requirements() {
    local revision="$1" run="$out/0.2-$1"
    mkdir -p "$run"
    log "conformance: $("$NODE" "$CONFORMANCE02_JS" --version) --requirements $revision against $url"
    set +e
    timeout 900 "$NODE" "$CONFORMANCE02_JS" server --url "$url" --requirements "$revision" \
        -o "$run" </dev/null >"$run/conformance.log" 2>&1
    req_rc=$?
    set -e
    [[ $req_rc -eq 124 ]] && die "the 0.2 suite timed out (log: $run/conformance.log)"
    sed -n '/=== SUMMARY ===/,$p' "$run/conformance.log"
    read -r req_passed req_total < <(scored_counts "$run/conformance.log")
}

# --- 2. --requirements 2025-11-25: all must pass -----------------------------
run_requirements 2025-11-25
bad="$(bad_checks "$out/0.2-2025-11-25")"
if [[ -n "$bad" ]]; then
    printf '\nChecks that did not pass:\n%s\n' "$bad"
fi
echo "conformance 0.2 --requirements 2025-11-25: $req_passed of $req_total scored scenarios pass"
if [[ $req_rc -ne 0 || -n "$bad" || $req_total -eq 0 || $req_passed -ne $req_total ]]; then
    server_log_tail
    die "conformance 0.2 --requirements 2025-11-25 failed (exit $req_rc)"
fi

# --- 3. --requirements 2026-07-28: every scored scenario, clean -------------
# FAILURE and WARNING checks of the scored scenarios of a run (the summary's
# "Not scored" block names the others).
scored_bad_checks() {
    "$(host_python)" - "$1" "$1/conformance.log" <<'PY'
import json, pathlib, re, sys
text = open(sys.argv[2], encoding="utf-8").read()
unscored_part = text.split("=== SUMMARY ===", 1)[-1].partition("Not scored")[2]
unscored = set(re.findall(r"^\s*[\u2713\u2717]\s+([^\s:(]+)", unscored_part, re.M))
for path in sorted(pathlib.Path(sys.argv[1]).glob("*/checks.json")):
    scenario = re.sub(r"^server-|-\d{4}-\d\d-\d\dT.*$", "", path.parent.name)
    if scenario in unscored:
        continue
    for c in json.loads(path.read_text()):
        if c.get("status") in ("FAILURE", "WARNING"):
            msg = f" -- {c['errorMessage']}" if c.get("errorMessage") else ""
            print(f"  {c['status']} [{scenario}/{c.get('id')}] {c.get('description', '')}{msg}")
PY
}

run_requirements 2026-07-28
bad="$(scored_bad_checks "$out/0.2-2026-07-28")"
if [[ -n "$bad" ]]; then
    printf '\nChecks of scored scenarios that did not pass:\n%s\n' "$bad"
fi
# Passing and run tasks-* scenarios (the extension's, which the suite does not score).
read -r tasks_passed tasks_total < <("$(host_python)" - "$out/0.2-2026-07-28/conformance.log" <<'PY'
import re, sys
summary = open(sys.argv[1], encoding="utf-8").read().split("=== SUMMARY ===", 1)[-1]
scored_part = summary.partition("Not scored")[0]
line = re.compile(r"^\s*([\u2713\u2717])\s+(tasks-[^\s:(]+)", re.M)
results = {m.group(2): m.group(1) == "\u2713" for m in line.finditer(scored_part)}
print(sum(results.values()), len(results))
PY
)
# Each REQUIRED_PENDING scenario that did not pass (✓ in the "Not scored"
# block), or that has a failed or warning check, with those checks.
pending_bad="$("$(host_python)" - "$out/0.2-2026-07-28" "${REQUIRED_PENDING[@]}" <<'PY'
import json, pathlib, re, sys
run, required = pathlib.Path(sys.argv[1]), sys.argv[2:]
text = (run / "conformance.log").read_text(encoding="utf-8")
unscored_part = text.split("=== SUMMARY ===", 1)[-1].partition("Not scored")[2]
passed = set(re.findall(r"^\s*\u2713\s+([^\s:(]+)", unscored_part, re.M))
for name in required:
    if name not in passed:
        print(f"  {name}: did not pass")
    for path in sorted(run.glob("*/checks.json")):
        if re.sub(r"^server-|-\d{4}-\d\d-\d\dT.*$", "", path.parent.name) != name:
            continue
        for c in json.loads(path.read_text()):
            if c.get("status") in ("FAILURE", "WARNING"):
                msg = f" -- {c['errorMessage']}" if c.get("errorMessage") else ""
                print(f"  {c['status']} [{name}/{c.get('id')}] {c.get('description', '')}{msg}")
PY
)"
if [[ -n "$pending_bad" ]]; then
    printf '\nRequired pending scenarios that did not pass cleanly:\n%s\n' "$pending_bad"
fi
echo "conformance 0.2 --requirements 2026-07-28: $req_passed of $req_total scored scenarios pass (at least $MIN_2026_PASSES required)"
echo "conformance 0.2 tasks extension: $tasks_passed of $tasks_total tasks-* scenarios pass (at least $MIN_TASKS_PASSES required)"
if [[ $tasks_passed -lt $MIN_TASKS_PASSES ]]; then
    server_log_tail
    die "conformance 0.2 tasks extension: $tasks_passed tasks-* scenarios pass (at least $MIN_TASKS_PASSES required)"
fi
echo "conformance 0.2 pending scenarios required: ${REQUIRED_PENDING[*]}: $([[ -z "$pending_bad" ]] && echo pass || echo FAIL)"
if [[ -n "$pending_bad" ]]; then
    server_log_tail
    die "conformance 0.2 --requirements 2026-07-28: a required pending scenario did not pass cleanly"
fi
if [[ $req_total -eq 0 || $req_passed -lt $MIN_2026_PASSES || -n "$bad" ]]; then
    server_log_tail
    die "conformance 0.2 --requirements 2026-07-28: $req_passed scored passes (at least $MIN_2026_PASSES required), or a scored check failed or warned"
fi
