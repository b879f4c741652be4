#!/usr/bin/env bash
# User-space instructions per tools/call of the release conformance server,
# counted by callgrind: repeatable to a fraction of a percent on a shared,
# noisy machine, so it is the figure to compare before and after a change
# (docs/benchmarks.md). Two runs of the server under valgrind, N1 and N2
# calls from one mcpbench worker; the start-up and the handshake cancel out
# in (I(N2) - I(N1)) / (N2 - N1). Run scripts/bench.sh first (it builds the
# release binaries), or pass a server binary.
#
#   scripts/bench-instructions.sh                  # 2025-11-25 and 2026-07-28
#   scripts/bench-instructions.sh 2026-07-28       # one revision
#   SERVER=/tmp/old-conformance-server scripts/bench-instructions.sh
#
# N1 (default 500) and N2 (2500) set the call counts; the callgrind output of
# the N2 run is kept in target/bench/instructions/ (callgrind_annotate
# --inclusive=yes FILE shows where the instructions go).
#
# CACHE_SIM=1 also simulates the L1 caches and prints misses per call; with
# it, use the suite's load (the code and data of 32 connections and 8
# sessions compete for the caches), e.g.
#   CACHE_SIM=1 WORKERS=32 SESSIONS=8 N1=2000 N2=6000 scripts/bench-instructions.sh
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
command -v valgrind >/dev/null || die "valgrind is not installed (apt-get install valgrind)"
bin="$(target_dir)/release"
server="${SERVER:-$bin/conformance-server}"
[[ -x "$server" && -x "$bin/mcpbench" ]] || die "no release build: run scripts/bench.sh first"
n1="${N1:-500}"
n2="${N2:-2500}"
workers="${WORKERS:-1}"
sessions="${SESSIONS:-1}"
cache=()
[[ "${CACHE_SIM:-0}" == 1 ]] && cache=(--cache-sim=yes)
(( n2 > n1 )) || die "N2 must be larger than N1"
out="$(target_dir)/bench/instructions"
mkdir -p "$out"

# instructions VERSION N: the server's instructions over its whole life
# with N calls (callgrind's totals line).
instructions() {
    local version=$1 n=$2 port pid file
    port="$(free_port)"
    file="$out/callgrind.$version.$n.out"
    valgrind --tool=callgrind "${cache[@]}" --callgrind-out-file="$file" \
        "$server" --transport http --bind "127.0.0.1:$port" >"$out/server.log" 2>&1 &
    pid=$!
    wait_for_port "$port" "$pid" 120 || die "server did not start under valgrind (see $out/server.log)"
    "$bin/mcpbench" load --addr "127.0.0.1:$port" --workers "$workers" --sessions "$sessions" \
        --calls "$n" --seconds 600 --version "$version" >&2
    kill -TERM "$pid"
    wait "$pid" || true
    awk '/^(summary|totals):/ { print $2; exit }' "$file"
}

versions=("$@")
[[ ${#versions[@]} -gt 0 ]] || versions=(2025-11-25 2026-07-28)
for v in "${versions[@]}"; do
    a="$(instructions "$v" "$n1")"
    b="$(instructions "$v" "$n2")"
    [[ -n "$a" && -n "$b" ]] || die "no callgrind totals for $v"
    echo "$v: $(( (b - a) / (n2 - n1) )) instructions per tools/call (I($n1) = $a, I($n2) = $b)"
    if [[ ${#cache[@]} -gt 0 ]]; then
        echo "$v: L1 misses per tools/call: $(l1_misses "$out/callgrind.$v.$n1.out" "$out/callgrind.$v.$n2.out" $((n2 - n1)))"
    fi
done
