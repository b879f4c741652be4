#!/usr/bin/env bash
# The benchmark suite in one command (docs/benchmarks.md): builds every
# server it compares and the load generator (bench/, its own workspace),
# then runs `mcpbench suite`, which prints markdown tables of ratios
# measured in the same run plus the raw figures.
#
#   scripts/bench.sh                 full run: release builds, 3 alternating rounds
#   scripts/bench.sh --cold-build    also the cold build time of generated crates (slow)
#   scripts/bench.sh --pgo           the servers compared (generated, rmcp, hyper
#                                    echo and proxy) built with profile-guided optimisation,
#                                    each trained on its own load (scripts/pgo.sh);
#                                    about 15 minutes more
#   scripts/bench.sh --smoke         CI smoke: debug builds, a few hundred calls per
#                                    server, 20 idle sessions; fails only on wrong
#                                    answers or crashes, never on a timing
#
# Other arguments go to `mcpbench suite` (--rounds N, --seconds S, --calls N,
# --workers N, --sessions N, --idle-sessions N, --proxy-calls N, ...).
# The report is also written to target/bench/report.md; server logs are in
# target/bench/logs/.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

smoke=0
pgo=0
args=()
for a in "$@"; do
    case "$a" in
        --smoke) smoke=1 args+=("$a") ;;
        --pgo) pgo=1 ;;
        *) args+=("$a") ;;
    esac
done
[[ $smoke == 1 && $pgo == 1 ]] && die "--pgo is for full runs, not --smoke"
[[ -x "$NODE" ]] || die "no Node at $NODE: run scripts/setup.sh first"
TARGET_DIR="$(target_dir)"
corpus="${MCPGEN_CORPUS:-$ROOT/../shared/corpus/openapi}"
out="$TARGET_DIR/bench"
mkdir -p "$out"

if [[ $smoke == 1 ]]; then
    profile=debug
    release=()
    # The same build as scripts/test.sh's, so in CI this compiles nothing.
    log "bench: building the workspace (debug)"
    cargo build --quiet --workspace --all-targets
else
    profile=release
    release=(--release)
    log "bench: building conformance-server, httpbin and mcpgen (release)"
    cargo build --quiet --release -p conformance-server -p httpbin -p mcpgen
fi

log "bench: building bench/ (mcpbench, rmcp-server, hyper-echo, hyper-proxy; $profile)"
(cd bench && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --quiet "${release[@]}")
if [[ $smoke == 1 ]]; then
    # The load generator's own tests: its prepared requests are the bytes
    # it would build per call, and its fast answer check agrees with the full one.
    log "bench: testing mcpbench"
    (cd bench && CARGO_TARGET_DIR="$TARGET_DIR" cargo test --quiet -p mcpbench)
fi

if [[ $smoke == 0 ]]; then
    # The start-up servers: 10 tools, and the largest corpus document.
    gen="$out/gen"
    mkdir -p "$gen"
    mcpgen="$TARGET_DIR/release/mcpgen"
    "$mcpgen" generate bench/specs/ten-tools.yaml -o "$gen/ten-tools" \
        --runtime-path ../../../../runtime >/dev/null
    members='"ten-tools"'
    if [[ -d "$corpus" ]]; then
        largest="$("$TARGET_DIR/release/mcpbench" corpus-largest "$corpus")"
        log "bench: largest corpus document: $largest"
        "$mcpgen" generate "$largest" -o "$gen/corpus" --name bench-corpus \
            --runtime-path ../../../../runtime >"$gen/corpus.generate.log" 2>&1 ||
            die "mcpgen generate $largest failed (see $gen/corpus.generate.log)"
        members+=', "corpus"'
    fi
    printf '# Written by scripts/bench.sh.\n[workspace]\nresolver = "3"\nmembers = [%s]\n' \
        "$members" >"$gen/Cargo.toml"
    cp Cargo.lock "$gen/Cargo.lock"
    log "bench: building the start-up servers (release)"
    (cd "$gen" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --quiet --release --workspace)
fi

# Servers go on CPU 0 (mcpbench starts them there), mcpbench on CPU 1.
bench_bin="$TARGET_DIR/$profile/mcpbench"
if command -v taskset >/dev/null 2>&1 && [[ "$(nproc --all)" -ge 2 ]]; then
    cmd=(taskset -c 1 "$bench_bin" suite)
else
    cmd=("$bench_bin" suite --server-core none --client-core none)
fi
bins="$TARGET_DIR"
note=""
if [[ $pgo == 1 ]]; then
    scripts/pgo.sh
    bins="$TARGET_DIR/pgo"
    note="Build: profile-guided (scripts/pgo.sh) for conformance-server, httpbin, rmcp-server, hyper-echo and hyper-proxy, each trained on its own load; the start-up servers and the TypeScript SDK as in a default run."
fi
log "bench: running the suite"
{
    [[ -n "$note" ]] && printf '%s\n\n' "$note"
    "${cmd[@]}" --root "$ROOT" --target-dir "$bins" --profile "$profile" --corpus "$corpus" "${args[@]}"
} | tee "$out/report.md"
