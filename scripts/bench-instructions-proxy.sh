#!/usr/bin/env bash
# User-space instructions per proxied tools/call: the release httpbin example
# (tool `get_get` = GET /get) under callgrind in front of hyper-echo, a fast
# local upstream. With no proxy variables set, the upstream call goes
# through the runtime's own client (runtime/src/upstream/direct.rs), which
# is what this measures; proxied upstreams go through reqwest.
# SCHEME=https puts a TLS terminator (Python, outside the measured process)
# in front of hyper-echo, with a CA and certificate made here by openssl,
# and passes that CA with --upstream-ca-cert: the call then includes the
# server's rustls work (encryption, TLS records).
# Like scripts/bench-instructions.sh, two runs of N1 and N2
# calls from one mcpbench worker; start-up and handshake cancel out in
# (I(N2) - I(N1)) / (N2 - N1). Needs the release builds of httpbin
# (cargo build --release -p httpbin) and of bench/ (mcpbench, hyper-echo,
# hyper-proxy).
#
#   scripts/bench-instructions-proxy.sh
#   SERVER=/tmp/old-httpbin scripts/bench-instructions-proxy.sh
#   SCHEME=https scripts/bench-instructions-proxy.sh
#   CACHE_SIM=1 scripts/bench-instructions-proxy.sh    # and L1 misses per call
#   FLOOR=1 CACHE_SIM=1 scripts/bench-instructions-proxy.sh
#
# FLOOR=1 measures the suite's proxy floor instead (bench/servers
# hyper-proxy: bare JSON-RPC POSTs, the same upstream GET; plain HTTP only).
# At one worker each call runs on caches the upstream and the kernel have
# just used, so the misses, more than the instructions, set its time.
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
floor="${FLOOR:-0}"
server="${SERVER:-$bin/httpbin}"
[[ $floor == 1 ]] && server="$bin/hyper-proxy"
[[ $floor == 1 && "${SCHEME:-http}" != http ]] && die "FLOOR=1 is plain HTTP only"
cache=()
[[ "${CACHE_SIM:-0}" == 1 ]] && cache=(--cache-sim=yes)
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
base="http://127.0.0.1:$up"
tls_args=()

# tls_upstream: a CA, a certificate for 127.0.0.1 it signs, and a TLS
# terminator on a new port forwarding to hyper-echo; sets base and tls_args.
tls_upstream() {
    local dir="$out/tls" port
    command -v openssl >/dev/null || die "SCHEME=https needs openssl"
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 -subj /CN=bench-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/server.key" -out "$dir/server.csr" -subj /CN=127.0.0.1 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$dir/ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -out "$dir/server.pem" -days 2 -extfile "$dir/ext" 2>/dev/null
    port="$(free_port)"
    "$(host_python)" - "$port" "$up" "$dir/server.pem" "$dir/server.key" <<'PY' >"$out/tls.log" 2>&1 &
import asyncio, ssl, sys
port, up, cert, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
async def pipe(r, w):
    try:
        while data := await r.read(65536):
            w.write(data)
            await w.drain()
    finally:
        w.close()
async def handle(r, w):
    ur, uw = await asyncio.open_connection("127.0.0.1", up)
    await asyncio.gather(pipe(r, uw), pipe(ur, w), return_exceptions=True)
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", port, ssl=ctx)
    async with server:
        await server.serve_forever()
asyncio.run(main())
PY
    tpid=$!
    trap 'kill "$upid" "$tpid" 2>/dev/null || true' EXIT
    wait_for_port "$port" "$tpid" 30 || die "the TLS terminator did not start (see $out/tls.log)"
    base="https://127.0.0.1:$port"
    tls_args=(--upstream-ca-cert "$dir/ca.pem")
}
case "${SCHEME:-http}" in
    http) ;;
    https) tls_upstream ;;
    *) die "SCHEME must be http or https" ;;
esac

# instructions N: the server's instructions over its whole life with N calls.
instructions() {
    local n=$1 port pid file
    port="$(free_port)"
    file="$out/callgrind.$name.$n.out"
    if [[ $floor == 1 ]]; then
        args=(--bind "127.0.0.1:$port" --upstream "$base")
        load=(--bare)
    else
        args=(--transport http --bind "127.0.0.1:$port" --base-url "$base" "${tls_args[@]}")
        load=()
    fi
    valgrind --tool=callgrind "${cache[@]}" --callgrind-out-file="$file" \
        "$server" "${args[@]}" >"$out/server.log" 2>&1 &
    pid=$!
    wait_for_port "$port" "$pid" 120 || die "server did not start under valgrind (see $out/server.log)"
    "$bin/mcpbench" load --addr "127.0.0.1:$port" --workers 1 --sessions 1 "${load[@]}" \
        --calls "$n" --seconds 600 --tool get_get --expect upstream-ok >&2
    kill -TERM "$pid"
    wait "$pid" || true
    awk '/^(summary|totals):/ { print $2; exit }' "$file"
}

name=proxy
[[ $floor == 1 ]] && name=proxy-floor
a="$(instructions "$n1")"
b="$(instructions "$n2")"
[[ -n "$a" && -n "$b" ]] || die "no callgrind totals"
echo "$name (${SCHEME:-http}): $(( (b - a) / (n2 - n1) )) instructions per call (I($n1) = $a, I($n2) = $b)"
if [[ ${#cache[@]} -gt 0 ]]; then
    echo "$name: L1 misses per call: $(l1_misses "$out/callgrind.$name.$n1.out" "$out/callgrind.$name.$n2.out" $((n2 - n1)))"
fi
