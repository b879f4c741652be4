#!/usr/bin/env bash
# Requests checked by a validating mock: for each OpenAPI document, generate
# and build its MCP server, start Prism (npm @stoplight/prism-cli, pinned in
# tests/interop/package.json) mocking the document on 127.0.0.1 with
# `--errors`, point the server at it with --base-url, and call every tool
# once with arguments built from its input schema (scripts/prism-call.py).
# Prism answers a request that does not match the document with an error
# (422 and friends, typed https://stoplight.io/prism/errors#…).
#
#   scripts/prism-check.sh                    # every document of the shared corpus
#   scripts/prism-check.sh A01 A10            # only these (name prefixes)
#   scripts/prism-check.sh path/to/doc.yaml   # any document
#
# Prints per document: tools called, ok, validation errors (Prism refused
# the request), other failures; then the totals, and the failures in
# target/prism/<name>.json. Every credential variable of the generated
# server is set to a dummy value so security requirements are met.
# PRISM_CHECK_STRICT=1 makes any validation error or other failure fail the
# run (CI uses it on small fixtures).
# Environment: MCPGEN_CORPUS (default ../shared/corpus/openapi, else
# ../../shared/corpus/openapi), PRISM_JS (default the .tools install),
# MCPGEN_BIN. Exit 1 when a document fails to generate, build or start.
set -uo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

PRISM_JS="${PRISM_JS:-$NPM_DIR/node_modules/@stoplight/prism-cli/dist/index.js}"
[[ -x "$NODE" && -f "$PRISM_JS" ]] || "$ROOT/scripts/setup.sh"
[[ -f "$PRISM_JS" ]] || die "Prism missing at $PRISM_JS (scripts/setup.sh installs it)"
corpus="${MCPGEN_CORPUS:-}"
if [[ -z "$corpus" ]]; then
    for c in "$ROOT/../shared/corpus/openapi" "$ROOT/../../shared/corpus/openapi"; do
        [[ -d "$c" ]] && corpus="$c" && break
    done
fi
target="$(target_dir)"
out="$target/prism"
mkdir -p "$out"
if [[ -n "${MCPGEN_BIN:-}" && -x "$MCPGEN_BIN" ]]; then
    mcpgen="$MCPGEN_BIN"
else
    (cd "$ROOT" && cargo build -q -p mcpgen) || die "cargo build -p mcpgen failed"
    mcpgen="$target/debug/mcpgen"
fi

# The documents: name|entry file.
docs=()
add_doc() { docs+=("$1|$2"); }
if [[ $# -gt 0 && -f "$1" ]]; then
    for f in "$@"; do add_doc "$(basename "${f%.*}")" "$f"; done
else
    [[ -d "$corpus" ]] || die "no corpus (set MCPGEN_CORPUS)"
    for f in "$corpus"/A*; do
        name="$(basename "$f")"
        if [[ -d "$f" ]]; then entry="$f/spec/openapi.yaml"; else entry="$f"; fi
        [[ -f "$entry" ]] || continue
        if [[ $# -gt 0 ]]; then
            keep=0
            for p in "$@"; do [[ "$name" == "$p"* ]] && keep=1; done
            [[ $keep = 1 ]] || continue
        fi
        add_doc "${name%%_*}" "$entry"
    done
fi

prism_pid=""
stop_prism() {
    [[ -n "$prism_pid" ]] || return 0
    kill -TERM -- "-$prism_pid" 2>/dev/null || true
    wait "$prism_pid" 2>/dev/null || true
    prism_pid=""
}
trap stop_prism EXIT
trap 'exit 130' INT TERM

status=0
totals=(0 0 0 0)
printf '%-8s %6s %6s %10s %6s  %s\n' document tools ok validation other note
for d in "${docs[@]}"; do
    name="${d%%|*}"; entry="${d#*|}"
    short="$(echo "$name" | tr 'A-Z_.' 'a-z--')"
    crate="prism-$short"
    rm -rf "${out:?}/$short"
    if ! "$mcpgen" generate "$entry" -o "$out/$short" --name "$crate" --runtime-path "$ROOT/runtime" \
        >"$out/$short.generate.log" 2>&1; then
        printf '%-8s %s\n' "$name" "generation stopped: $(grep -m1 'error' "$out/$short.generate.log")"
        continue
    fi
    printf '[workspace]\nresolver = "3"\nmembers = ["%s"]\n' "$short" >"$out/Cargo.toml"
    cp "$ROOT/Cargo.lock" "$out/Cargo.lock"
    if ! (cd "$out" && CARGO_TARGET_DIR="$target" timeout 1800 cargo build -q -p "$crate" >"$out/$short.build.log" 2>&1); then
        printf '%-8s %s\n' "$name" "DOES NOT BUILD (see $out/$short.build.log)"
        status=1
        continue
    fi
    # Dummy credentials for every variable the server reads (client
    # credentials are left out: they would send Prism a token request).
    env_args=()
    while read -r var; do
        env_args+=("$var=prism-check-credential")
    done < <(grep -ohE '\\"(env|envUser|envPassword)\\":\\"[A-Z0-9_]+\\"' "$out/$short/src/"*.rs |
        sed -E 's/.*:\\"([A-Z0-9_]+)\\"/\1/' | sort -u)
    port="$(free_port)"
    setsid timeout --kill-after=5 900 "$NODE" "$PRISM_JS" mock --errors -h 127.0.0.1 -p "$port" "$entry" \
        >"$out/$short.prism.log" 2>&1 </dev/null &
    prism_pid=$!
    # Prism reads and dereferences the whole document first: minutes for a big one.
    if ! wait_for_port "$port" "$prism_pid" 300; then
        printf '%-8s %s\n' "$name" "Prism did not start (see $out/$short.prism.log)"
        stop_prism
        continue
    fi
    # Prism serves the document's paths at its root, whatever the servers say.
    base="http://127.0.0.1:$port"
    result="$(PRISM_LOG="$out/$short.prism.log" timeout 700 python3 "$ROOT/scripts/prism-call.py" "$target/debug/$crate" "$base" "${env_args[@]}")"
    stop_prism
    echo "$result" >"$out/$short.json"
    read -r ok validation other < <(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["ok"], r["validation"], r["other"])' "$result")
    tools=$((ok + validation + other))
    printf '%-8s %6d %6d %10d %6d\n' "$name" "$tools" "$ok" "$validation" "$other"
    totals=($((totals[0] + 1)) $((totals[1] + tools)) $((totals[2] + ok)) $((totals[3] + validation)))
    other_total=$((${other_total:-0} + other))
    if [[ -n "${PRISM_CHECK_STRICT:-}" && $((validation + other)) -gt 0 ]]; then
        python3 -c 'import json,sys; [print("  ", f) for f in json.load(open(sys.argv[1]))["failures"]]' "$out/$short.json"
        status=1
    fi
    # Each crate's artifacts go once checked (dependencies stay built).
    [[ -n "${PRISM_CHECK_KEEP:-}" ]] || (cd "$out" && CARGO_TARGET_DIR="$target" cargo clean -q -p "$crate" >/dev/null 2>&1) || true
done
printf 'total: %d documents, %d calls: %d ok, %d validation errors, %d other failures\n' \
    "${totals[0]}" "${totals[1]}" "${totals[2]}" "${totals[3]}" "${other_total:-0}"
exit "$status"
