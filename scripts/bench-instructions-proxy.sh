#!/usr/bin/env bash
# User-space instructions per proxied tools/call: the release httpbin example
# (tool `get_get` = GET /get) under callgrind in front of hyper-echo, a fast
# local upstream. A plain-HTTP upstream with no proxy variables set goes
# through the runtime's own client (runtime/src/upstream/direct.rs), which
# is what this measures; HTTPS and proxied upstreams go through reqwest.
# Like scripts/bench-instructions.sh, two runs of N1 and N2
# calls from one mcpbench worker; start-up and handshake cancel out in
# (I(N2) - I(N1)) / (N2 - N1). Needs the release builds of httpbin
# (cargo build --release -p httpbin) and of bench/ (mcpbench, hyper-echo).
#
#   scripts/bench-instructions-proxy.sh
#   SERVER=/tmp/old-httpbin scripts/bench-instructions-proxy.sh
#
# N1 (default 300) and N2 (2300) set the call counts; the callgrind output
# of both runs is kept in target/bench/instructions/ (compare two runs per
# function with callgrind_annotate --inclusive=yes FILE). Unlike a plain
# tools/call, a proxied one waits on a socket, and how often its futures are
# polled varies: single runs differ by up to 1 %, so take the median of three.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
command -v valgrind >/dev/null || die "valgrind is not installed (apt-get install valgrind)"
bin="$(target_dir)/release"
server="${SERVER:-$bin/httpbin}"
for b in "$server" "$bin/mcpbench" "$bin/hyper-echo"; do
    [[ -x "$b" ]] || die "no release build of $b (see the header of this script)"
done
n1="${N1:-300}"
n2="${N2:-2300}"
(( n2 > n1 )) || die "N2 must be larger than N1"
out="$(target_dir)/bench/instructions"
mkdir -p "$out"

# The upstream is local: a proxy variable of the caller's shell would send
# the calls through reqwest's proxy path instead of the one measured here.
unset ALL_PROXY all_proxy HTTP_PROXY http_proxy HTTPS_PROXY https_proxy

up="$(free_port)"
"$bin/hyper-echo" --bind "127.0.0.1:$up" >"$out/hyper-echo.log" 2>&1 &
upid=$!
trap 'kill "$upid" 2>/dev/null || true' EXIT
wait_for_port "$up" "$upid" 30 || die "hyper-echo did not start (see $out/hyper-echo.log)"

# instructions N: the server's instructions over its whole life with N calls.
instructions() {
    local n=$1 port pid file
    port="$(free_port)"
    file="$out/callgrind.proxy.$n.out"
    valgrind --tool=callgrind --callgrind-out-file="$file" \
        "$server" --transport http --bind "127.0.0.1:$port" \
        --base-url "http://127.0.0.1:$up" >"$out/server.log" 2>&1 &
    pid=$!
    wait_for_port "$port" "$pid" 120 || die "server did not start under valgrind (see $out/server.log)"
    "$bin/mcpbench" load --addr "127.0.0.1:$port" --workers 1 --sessions 1 \
        --calls "$n" --seconds 600 --tool get_get --expect upstream-ok >&2
    kill -TERM "$pid"
    wait "$pid" || true
    awk '/^(summary|totals):/ { print $2; exit }' "$file"
}

a="$(instructions "$n1")"
b="$(instructions "$n2")"
[[ -n "$a" && -n "$b" ]] || die "no callgrind totals"
echo "proxy: $(( (b - a) / (n2 - n1) )) instructions per call (I($n1) = $a, I($n2) = $b)"
