#!/usr/bin/env bash
# Where a server's CPU per call goes: perf samples of one release server
# (CPU 0) under mcpbench's closed loop (CPU 1), as a flat profile of the
# hottest symbols and shared objects. Run scripts/bench.sh first (it builds
# the release binaries).
#
#   scripts/bench-profile.sh generated    # examples/conformance, tools/call test_simple_text
#   scripts/bench-profile.sh hyper        # the bare hyper floor
#   scripts/bench-profile.sh proxy        # examples/httpbin get_get in front of a local upstream
#
# SECONDS_TO_RUN (default 8), WORKERS (32), SESSIONS (8); for proxy 1 worker.
# perf.data and the reports go to target/bench/profile/.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
command -v perf >/dev/null || die "perf is not installed (apt-get install linux-perf)"
what="${1:-generated}"
secs="${SECONDS_TO_RUN:-8}"
bin="$(target_dir)/release"
out="$(target_dir)/bench/profile"
mkdir -p "$out"
port="$(free_port)"
upstream_pid=""
workers="${WORKERS:-32}"
sessions="${SESSIONS:-8}"
extra=()
case "$what" in
generated) server=("$bin/conformance-server" --transport http --bind "127.0.0.1:$port") ;;
hyper)
    server=("$bin/hyper-echo" --bind "127.0.0.1:$port")
    extra=(--bare) ;;
proxy)
    up="$(free_port)"
    # On the server's CPU, as in the suite (bench/loadgen/src/proxy.rs).
    taskset -c 0 "$bin/hyper-echo" --bind "127.0.0.1:$up" &
    upstream_pid=$!
    server=("$bin/httpbin" --transport http --bind "127.0.0.1:$port" --base-url "http://127.0.0.1:$up")
    workers=1 sessions=1
    extra=(--tool get_get --expect upstream-ok) ;;
*) die "usage: $0 generated|hyper|proxy" ;;
esac
taskset -c 0 "${server[@]}" 2>"$out/$what.server.log" &
pid=$!
trap 'kill $pid ${upstream_pid} 2>/dev/null || true' EXIT
wait_for_port "$port" "$pid" 30 || die "server did not start"
# Warm up, then sample while the load runs.
taskset -c 1 "$bin/mcpbench" load --addr "127.0.0.1:$port" --workers "$workers" --sessions "$sessions" \
    --calls 2000 "${extra[@]}" >/dev/null
perf record -F 1999 -g --call-graph dwarf,16384 -o "$out/$what.perf.data" -p "$pid" -- sleep "$secs" \
    2>"$out/$what.perf.log" &
perf_pid=$!
taskset -c 1 "$bin/mcpbench" load --addr "127.0.0.1:$port" --workers "$workers" --sessions "$sessions" \
    --calls 100000000 --seconds "$secs" "${extra[@]}"
wait "$perf_pid"
# report VIEW SORT LINES: one perf report, columns squeezed to fit a terminal.
report() {
    perf report -i "$out/$what.perf.data" "$1" --sort "$2" -g none --stdio 2>/dev/null |
        grep -v '^#' | grep -v '^$' | sed 's/  */ /g; s/ - - *$//' | cut -c1-180 | head -"$3"
}
report --no-children dso 8 | tee "$out/$what.dso.txt"
report --no-children symbol 30 | tee "$out/$what.self.txt"
report --children symbol 400 >"$out/$what.children.txt"
echo "inclusive (children) view: $out/$what.children.txt" >&2
