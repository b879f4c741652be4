#!/usr/bin/env bash
# Profile-guided optimisation (PGO) of the servers the benchmark suite
# compares, on both sides alike: the generated servers (conformance-server,
# httpbin) and the comparison servers (hyper-echo, hyper-proxy, rmcp-server). Then
# `scripts/bench.sh --pgo` measures optimised builds against optimised
# builds (docs/benchmarks.md, "PGO builds", which also gives the recipe for
# a generated server of your own).
#
#   scripts/pgo.sh           all five servers, trained on the suite's loads
#   scripts/pgo.sh --smoke   hyper-echo only, a short training (CI: the
#                            recipe still works end to end)
#
# Per workspace (the root one, bench/):
#   1. a release build with -Cprofile-generate, into $TARGET/pgo-gen;
#   2. training: each server under `mcpbench load`, stopped with SIGTERM so
#      that it exits cleanly and writes its .profraw;
#   3. llvm-profdata merge (rustc's own LLVM: the llvm-tools component);
#   4. a release build with -Cprofile-use, into $TARGET/pgo-main or
#      $TARGET/pgo-bench.
# $TARGET/pgo/release then holds the optimised servers and links to every
# other executable of $TARGET/release (mcpbench, mcpgen, the start-up
# servers), so `mcpbench suite --target-dir $TARGET/pgo` finds a whole set.
# Needs mcpbench built first (scripts/bench.sh builds it) and llvm-profdata
# (scripts/setup.sh adds it).
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

smoke=0
[[ "${1:-}" == --smoke ]] && smoke=1
TARGET_DIR="$(target_dir)"
work="$TARGET_DIR/pgo-work"
gen="$TARGET_DIR/pgo-gen"
mcpbench="$TARGET_DIR/release/mcpbench"
[[ -x "$mcpbench" ]] || mcpbench="$TARGET_DIR/debug/mcpbench"
[[ -x "$mcpbench" ]] || die "no mcpbench: run scripts/bench.sh (or --smoke) first"

host="$(rustc -vV | sed -n 's/^host: //p')"
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
[[ -x "$profdata" ]] ||
    die "no llvm-profdata at $profdata: run scripts/setup.sh (it adds the llvm-tools component)"

# Calls per training load: enough that every hot path is counted many
# thousand times; the counts' ratios, not their size, guide the optimiser.
if [[ $smoke == 1 ]]; then calls=2000; else calls=30000; fi

rm -rf "$work"
mkdir -p "$work/raw/main" "$work/raw/bench" "$work/logs"

log "pgo: instrumented builds"
export CARGO_INCREMENTAL=0
if [[ $smoke == 0 ]]; then
    CARGO_TARGET_DIR="$gen" RUSTFLAGS="-Cprofile-generate=$work/raw/build" \
        cargo build --quiet --release -p conformance-server -p httpbin
fi
bench_bins=(--bin hyper-echo)
[[ $smoke == 0 ]] && bench_bins+=(--bin rmcp-server --bin hyper-proxy)
(cd bench && CARGO_TARGET_DIR="$gen" RUSTFLAGS="-Cprofile-generate=$work/raw/build" \
    cargo build --quiet --release -p bench-servers "${bench_bins[@]}")

# start NAME RAWDIR BIN ARGS...: an instrumented server on a free port;
# sets $port and $pid. Its profile goes to RAWDIR as it exits.
start() {
    local name=$1 raw=$2 bin=$3
    shift 3
    port="$(free_port)"
    LLVM_PROFILE_FILE="$raw/$name-%p-%m.profraw" \
        "$bin" "$@" --bind "127.0.0.1:$port" >"$work/logs/$name.log" 2>&1 &
    pid=$!
    wait_for_port "$port" "$pid" 60 || die "pgo: $name did not start (see $work/logs/$name.log)"
}

# stop NAME PID: SIGTERM, and the server must exit cleanly (else no profile).
stop() {
    kill -TERM "$2"
    wait "$2" || die "pgo: $1 did not exit cleanly on SIGTERM (see $work/logs/$1.log)"
}

# load PORT ARGS...: a training load that must answer every call correctly.
load() {
    local port=$1
    shift
    "$mcpbench" load --addr "127.0.0.1:$port" --seconds 300 "$@" >>"$work/logs/load.log" 2>&1 ||
        die "pgo: training load failed (see $work/logs/load.log)"
    tail -n 1 "$work/logs/load.log" | grep -q ', 0 errors$' ||
        die "pgo: training load had errors (see $work/logs/load.log)"
}

log "pgo: training"
start hyper-echo "$work/raw/bench" "$gen/release/hyper-echo"
echo_port=$port echo_pid=$pid
load "$echo_port" --bare --workers 32 --sessions 8 --calls "$calls"
if [[ $smoke == 0 ]]; then
    start conformance-server "$work/raw/main" "$gen/release/conformance-server" --transport http
    load "$port" --version 2025-11-25 --workers 32 --sessions 8 --calls "$calls"
    load "$port" --version 2026-07-28 --workers 32 --sessions 8 --calls "$calls"
    stop conformance-server "$pid"
    # The proxy: a generated OpenAPI server in front of hyper-echo, whose
    # GET (the upstream's answer) is trained here too.
    start httpbin "$work/raw/main" "$gen/release/httpbin" --transport http \
        --base-url "http://127.0.0.1:$echo_port"
    load "$port" --version 2025-11-25 --workers 1 --sessions 1 --calls $((calls / 5)) \
        --tool get_get --expect upstream-ok
    stop httpbin "$pid"
    # The proxy floor, in front of the same upstream, on the same load.
    start hyper-proxy "$work/raw/bench" "$gen/release/hyper-proxy" \
        --upstream "http://127.0.0.1:$echo_port"
    load "$port" --bare --workers 1 --sessions 1 --calls $((calls / 5)) \
        --tool get_get --expect upstream-ok
    stop hyper-proxy "$pid"
    start rmcp-server "$work/raw/bench" "$gen/release/rmcp-server"
    load "$port" --version 2025-11-25 --workers 32 --sessions 8 --calls "$calls"
    stop rmcp-server "$pid"
fi
stop hyper-echo "$echo_pid"

# merge NAME: $work/NAME.profdata from the raw profiles of that workspace.
merge() {
    local raw=("$work/raw/$1"/*.profraw)
    [[ -f "${raw[0]}" ]] || die "pgo: the $1 training wrote no profile"
    "$profdata" merge -o "$work/$1.profdata" "${raw[@]}"
    [[ -s "$work/$1.profdata" ]] || die "pgo: empty $1 profile"
}

log "pgo: optimised builds"
out="$TARGET_DIR/pgo/release"
# Afresh: the links below must never be written through.
rm -rf "$TARGET_DIR/pgo"
mkdir -p "$out"
merge bench
(cd bench && CARGO_TARGET_DIR="$TARGET_DIR/pgo-bench" RUSTFLAGS="-Cprofile-use=$work/bench.profdata" \
    cargo build --quiet --release -p bench-servers "${bench_bins[@]}")
built=(hyper-echo)
if [[ $smoke == 0 ]]; then
    merge main
    CARGO_TARGET_DIR="$TARGET_DIR/pgo-main" RUSTFLAGS="-Cprofile-use=$work/main.profdata" \
        cargo build --quiet --release -p conformance-server -p httpbin
    built+=(rmcp-server hyper-proxy conformance-server httpbin)
fi
for b in "${built[@]}"; do
    src="$TARGET_DIR/pgo-bench/release/$b"
    [[ -x "$src" ]] || src="$TARGET_DIR/pgo-main/release/$b"
    cp -f "$src" "$out/$b"
done
# The rest of the set, as the default build has it.
for f in "$TARGET_DIR/release"/*; do
    name="$(basename "$f")"
    [[ -f "$f" && -x "$f" && ! -e "$out/$name" ]] && ln -s "$f" "$out/$name"
done

if [[ $smoke == 1 ]]; then
    # The optimised floor still answers as the suite expects.
    start hyper-echo "$work/raw/check" "$out/hyper-echo"
    load "$port" --bare --workers 4 --sessions 2 --calls 500
    stop hyper-echo "$pid"
fi
log "pgo: optimised servers in $out (${built[*]})"
