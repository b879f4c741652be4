#!/usr/bin/env bash
# Many instances behind a load balancer (docs/deployment.md): redis-server,
# 3 conformance-server instances sharing it (--state-store redis://…) and
# HAProxy in front, round-robin per request with no affinity, all on
# 127.0.0.1. Through the load balancer:
#
#   1. cross        one session across instances by hand: record, elicitation
#                   answered elsewhere, cancellation elsewhere, SSE resumed
#                   elsewhere, DELETE seen everywhere (tests/scale-out/scale_out.py)
#   2. conformance  the official suite: 0.1.16 --suite all, and 0.2 with both
#                   requirement sets (scripts/conformance.sh), 0 failed / 0 warnings
#   3. python       the Python SDK client tests (tests/interop/python), HTTP only,
#                   both eras with mcp 2.x
#   4. ts           the TypeScript SDK client tests (tests/interop/ts, but auth):
#                   @modelcontextprotocol/sdk 1.x, /client 2.x in its legacy
#                   (2025-11-25) and auto (2026-07-28) modes, the Inspector CLI
#                   1.0.3 and the Inspector 2.x CLI in both eras
#   5. load         SCALE_SESSIONS x SCALE_CALLS tools/call (default 100 x 20;
#                   by hand: SCALE_SESSIONS=1000 SCALE_CALLS=100): memory store
#                   first (one instance), then Redis (3 instances via HAProxy);
#                   prints throughput, p50/p99, leaked sessions
#   6. faults       an instance killed mid-request, Redis restarted
#
#   scripts/scale-out.sh [cross|conformance|python|ts|load|faults]...   (default: all, in that order)
#
# Environment: SERVER_BIN=path uses that conformance-server (it must be built
# with the runtime's `redis` feature); otherwise it is built here.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

steps=("$@")
[[ ${#steps[@]} -eq 0 ]] && steps=(cross conformance python ts load faults)

[[ -x "$NODE" && -x "$PY" && -x "$PY_MCP1" && -f "$TS_CLIENT2_PKG" && -e "$ROOT/tests/interop/node_modules" ]] || "$ROOT/scripts/setup.sh"
command -v redis-server >/dev/null || die "redis-server is missing: run scripts/setup.sh"
command -v haproxy >/dev/null || die "haproxy is missing: run scripts/setup.sh"

# A binary without the runtime's `redis` feature refuses --state-store redis://
# (with it, nothing connects before a request: stdio ends at once).
has_redis() { "$1" --transport stdio --state-store redis://127.0.0.1:1 </dev/null >/dev/null 2>&1; }
if [[ -z "${SERVER_BIN:-}" || ! -x "$SERVER_BIN" ]] || ! has_redis "$SERVER_BIN"; then
    (cd "$ROOT" && timeout 1800 cargo build --quiet -p conformance-server --features redis >&2) ||
        die "cargo build -p conformance-server --features redis failed"
    SERVER_BIN="$(target_dir)/debug/conformance-server"
fi
bin="$(cd "$(dirname "$SERVER_BIN")" && pwd)/$(basename "$SERVER_BIN")"
PREFIX=conformance-server # the server's name: its keys are mcpgen:$PREFIX:…

dir="$ROOT/results/scale-out"
rm -rf "$dir"
mkdir -p "$dir"

pids=()
stop_all() {
    local p
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

redis_port="$(free_port)"
redis_pid=""
# Append-only file on: a restarted Redis keeps the sessions (the faults step).
start_redis() {
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly yes \
        --dir "$dir" </dev/null >>"$dir/redis.log" 2>&1 &
    redis_pid=$!
    pids+=("$redis_pid")
    wait_for_port "$redis_port" "$redis_pid" 10 || die "redis-server did not start (log: $dir/redis.log)"
}
stop_redis() {
    redis-cli -p "$redis_port" shutdown >/dev/null 2>&1 || kill -TERM "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
}

# Every instance seals MCP 2026-07-28 requestStates with the same key, so a
# multi round-trip request can continue on any of them.
state_key="$(head -c 32 /dev/urandom | base64)"

# start_instance N PORT [STORE]: instance N on PORT (its pid in inst_pid[N]).
declare -A inst_pid inst_port
start_instance() {
    local n="$1" port="$2" store="${3:-redis://127.0.0.1:$redis_port}"
    MCP_LOG="${MCP_LOG:-info}" MCP_STATE_KEY="$state_key" "$bin" --transport http --bind "127.0.0.1:$port" --state-store "$store" \
        </dev/null >>"$dir/instance-$n.log" 2>&1 &
    inst_pid[$n]=$!
    inst_port[$n]=$port
    pids+=("$!")
    wait_for_port "$port" "$!" 30 || die "instance $n did not start (log: $dir/instance-$n.log)"
}

lb_port="$(free_port)"
start_haproxy() {
    # Each request is balanced on its own: the server side of every
    # connection closes after one response (no reuse, no affinity).
    cat >"$dir/haproxy.cfg" <<EOF
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    option http-server-close
    http-reuse never
    # A client closing its connection cancels its request (MCP 2026-07-28
    # has no notifications/cancelled over HTTP): pass the close on to the
    # instance, which otherwise runs the request to its end.
    option abortonclose
    retries 3
    option redispatch
    retry-on conn-failure empty-response response-timeout
frontend mcp
    bind 127.0.0.1:$lb_port
    default_backend instances
backend instances
    balance roundrobin
    server i1 127.0.0.1:${inst_port[1]} check inter 500ms fall 1 rise 2 observe layer4 error-limit 1 on-error mark-down
    server i2 127.0.0.1:${inst_port[2]} check inter 500ms fall 1 rise 2 observe layer4 error-limit 1 on-error mark-down
    server i3 127.0.0.1:${inst_port[3]} check inter 500ms fall 1 rise 2 observe layer4 error-limit 1 on-error mark-down
EOF
    haproxy -f "$dir/haproxy.cfg" -db </dev/null >>"$dir/haproxy.log" 2>&1 &
    pids+=("$!")
    wait_for_port "$lb_port" "$!" 10 || die "haproxy did not start (log: $dir/haproxy.log)"
}

start_redis
for n in 1 2 3; do start_instance "$n" "$(free_port)"; done
start_haproxy
lb="http://127.0.0.1:$lb_port/mcp"
url_of() { echo "http://127.0.0.1:${inst_port[$1]}/mcp"; }
log "scale-out: redis :$redis_port, instances :${inst_port[1]} :${inst_port[2]} :${inst_port[3]}, haproxy $lb"

# What the faults step asks of this script (tests/scale-out/scale_out.py).
ctl="$dir/ctl.sh"
cat >"$ctl" <<EOF
#!/usr/bin/env bash
case "\$1" in
kill-a) kill -KILL ${inst_pid[1]} ;;
stop-redis) redis-cli -p $redis_port shutdown >/dev/null 2>&1 || true; sleep 0.3 ;;
start-redis) redis-server --port $redis_port --bind 127.0.0.1 --save "" --appendonly yes --dir "$dir" </dev/null >>"$dir/redis.log" 2>&1 & echo \$! >"$dir/redis2.pid"; for _ in \$(seq 100); do redis-cli -p $redis_port ping >/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1 ;;
esac
EOF
chmod +x "$ctl"

scale_py() { timeout 600 "$PY" "$ROOT/tests/scale-out/scale_out.py" "$@" </dev/null; }

for step in "${steps[@]}"; do
    case "$step" in
    cross)
        log "scale-out: one session across instances"
        scale_py cross "$lb" "$(url_of 1)" "$(url_of 2)"
        ;;
    conformance)
        log "scale-out: conformance 0.1.16 and 0.2 (both revisions) through HAProxy"
        CONFORMANCE_URL="$lb" "$ROOT/scripts/conformance.sh" >"$dir/conformance.log" 2>&1 || {
            tail -n 60 "$dir/conformance.log" >&2
            die "conformance through the load balancer failed (log: $dir/conformance.log)"
        }
        grep -E '^conformance (0.1.16|0.2)' "$dir/conformance.log"
        ;;
    python)
        # test_cancellation counts cancellations in test://stats, a counter of
        # the example's handlers in each process: through the balancer it reads
        # another instance's. Cancellation across instances is the cross step's.
        log "scale-out: Python SDK clients through HAProxy (HTTP tests)"
        for py in "$PY" "$PY_MCP1"; do
            (cd "$ROOT/tests/interop/python" && INTEROP_HTTP_URL="$lb" CONFORMANCE_SERVER_BIN="$bin" \
                timeout 900 "$py" -m pytest -p no:cacheprovider -q --timeout=90 -k "http and not test_cancellation" \
                </dev/null) || die "Python SDK tests through the load balancer failed ($py)"
        done
        ;;
    ts)
        # HTTP cases only (INTEROP_HTTP_URL). The cancellation test sums a
        # per-process counter over the instances (INTEROP_INSTANCE_URLS).
        # auth.test.mjs needs its own auth_server and authorization server.
        log "scale-out: TypeScript SDK clients through HAProxy (HTTP tests)"
        ts_files=()
        for f in "$ROOT"/tests/interop/ts/*.test.mjs; do
            [[ "$(basename "$f")" == auth.test.mjs ]] || ts_files+=("$f")
        done
        (cd "$ROOT/tests/interop/ts" && INTEROP_HTTP_URL="$lb" CONFORMANCE_SERVER_BIN="$bin" \
            INTEROP_INSTANCE_URLS="$(url_of 1) $(url_of 2) $(url_of 3)" \
            timeout 900 "$NODE" --test --test-reporter=spec --test-timeout=90000 "${ts_files[@]}" \
            </dev/null >"$dir/ts.log" 2>&1) || {
            tail -n 80 "$dir/ts.log" >&2
            die "TypeScript SDK tests through the load balancer failed (log: $dir/ts.log)"
        }
        grep -E '^ℹ (tests|pass|fail|skipped) ' "$dir/ts.log"
        ;;
    load)
        sessions="${SCALE_SESSIONS:-100}" calls="${SCALE_CALLS:-20}"
        mem_port="$(free_port)"
        start_instance mem "$mem_port" memory
        log "scale-out: load, $sessions sessions x $calls calls"
        scale_py load "$(url_of mem)" "$sessions" "$calls" "memory, 1 instance"
        kill -TERM "${inst_pid[mem]}" 2>/dev/null || true
        scale_py load "$lb" "$sessions" "$calls" "redis, 3 instances via haproxy" "$redis_port" "$PREFIX"
        ;;
    faults)
        log "scale-out: faults (instance killed, Redis restarted)"
        scale_py faults "$lb" "$(url_of 1)" "$(url_of 2)" "$ctl"
        [[ -f "$dir/redis2.pid" ]] && pids+=("$(cat "$dir/redis2.pid")")
        ;;
    *) die "unknown step $step (cross, conformance, python, ts, load, faults)" ;;
    esac
done
log "scale-out: all steps passed"
