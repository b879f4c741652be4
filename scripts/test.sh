#!/usr/bin/env bash
# The project's test command. Runs, in order, stopping at the first failure:
#
#   1. scripts/setup.sh                  pinned Node 22 / npm packages / Python venv in .tools/
#   2. cargo fmt --all -- --check
#   3. cargo clippy --workspace --all-targets -- -D warnings, and the runtime
#      alone without features (what a YAML-only server compiles)
#   4. cargo doc --no-deps of the library crates, warnings denied
#   5. scripts/msrv.sh                   `rust-version` is true (dependencies, language features)
#   6. cargo build --workspace --all-targets, then cargo test --workspace
#      (its generator/tests/examples.rs regenerates every examples/ crate and
#      fails on any difference: the examples are the golden files)
#   7. scripts/conformance.sh            official conformance suite, 0 failed / 0 warnings
#   8. scripts/interop.sh python         the Python SDK clients (mcp 2.x and 1.x), stdio + HTTP
#   9. scripts/interop.sh ts             the TypeScript SDK client and the MCP Inspector CLI, stdio + HTTP
#   9b. scripts/scale-out.sh             3 instances sharing Redis behind HAProxy: conformance
#                                        (0.1.16 and 0.2, both revisions), Python and TypeScript
#                                        SDK clients in both eras, load (small), faults
#  10. scripts/e2e.sh                    the generated OpenAPI servers (examples/httpbin,
#                                        examples/petstore) against a real httpbin, through
#                                        the Python SDK client, stdio + HTTP
#  11. cargo test --test generate -- --ignored  a generated crate of hostile spec text compiles
#  12. scripts/openapi-corpus.sh         every shared OpenAPI document → a crate that compiles
#  13. scripts/bench.sh --smoke          the benchmark suite, short: every compared server
#                                        (generated, rmcp, TypeScript SDK, bare hyper) answers
#                                        a few hundred checked calls; fails on errors, never
#                                        on timings
#  13b. scripts/pgo.sh --smoke          the profile-guided build recipe, end to end on bare hyper
#  13. scripts/bench-scale.sh            the scale benchmark on a small document (fails on errors, not timings)
#  14. scripts/bench-tokens.sh           the token benchmark on the same document (fails on errors only)
#  16. scripts/prism-check.sh            requests checked by Prism mocking small fixtures
#                                        (the whole corpus is a run by hand)
#
# Everything shares one Cargo target directory; every binary is built once
# (debug profile) and the later steps use it as built.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Each build happens once here, so incremental caches (~2 GB) are pure cost on
# a disk that CI keeps small. Debug-info settings are in .cargo/config.toml.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
T0=$SECONDS
step_names=()
step_times=()

# step NAME TIMEOUT_SECONDS CMD...: run CMD under a time limit; on failure say
# which step failed and stop.
step() {
    local name="$1" limit="$2"
    shift 2
    local t=$SECONDS rc=0
    log "[$name] $*"
    timeout --kill-after=30 "$limit" "$@" </dev/null || rc=$?
    step_names+=("$name")
    step_times+=($((SECONDS - t)))
    if [[ $rc -ne 0 ]]; then
        [[ $rc -eq 124 ]] && echo "[$name] timed out after ${limit}s" >&2
        summary
        die "FAILED at step '$name' (exit $rc): $*"
    fi
}

summary() {
    local i
    echo "--- scripts/test.sh: step times (total $((SECONDS - T0))s) ---" >&2
    for i in "${!step_names[@]}"; do
        printf '  %-14s %5ss\n' "${step_names[$i]}" "${step_times[$i]}" >&2
    done
    # Disk is the resource CI has least of: show what the run used.
    echo "target dir: $(du -sh "$ROOT/target" 2>/dev/null | cut -f1); free: $(df -h "$ROOT" | awk 'NR==2 {print $4}')" >&2
}

step setup 1200 scripts/setup.sh
step fmt 300 cargo fmt --all -- --check
step clippy 2400 cargo clippy --workspace --all-targets -- -D warnings
# In the workspace the examples turn on every runtime feature; a YAML-only
# server builds the runtime with none, so check that build too.
step clippy-core 1200 cargo clippy -p mcpgen-runtime --lib -- -D warnings
# Broken intra-doc links and invalid doc markup fail the build; the runtime is
# documented with every feature so that `testing`, `upstream` and `auth` are checked.
step doc 1200 env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p mcpgen -p mcpgen-contract \
    -p mcpgen-runtime --features mcpgen-runtime/testing,mcpgen-runtime/upstream,mcpgen-runtime/auth
step msrv 600 scripts/msrv.sh
# One build of every target with the same feature set as `cargo test` (dev-
# dependencies included), so the test run and the binaries used below
# (mcpgen, conformance-server) need no further compilation.
step build 2400 cargo build --workspace --all-targets
step test 2400 cargo test --workspace
TARGET_DIR="$(target_dir)"
SERVER_BIN="$TARGET_DIR/debug/$SERVER_BIN_NAME"
export SERVER_BIN
step conformance 1200 scripts/conformance.sh
step interop-py 1200 scripts/interop.sh python
step interop-ts 1200 scripts/interop.sh ts
# 3 instances sharing Redis behind HAProxy (round-robin per request): one
# session across instances, conformance 0.1.16, the Python SDK clients, a
# small load run (memory, then Redis; figures printed) and the faults
# (an instance killed, Redis restarted). docs/deployment.md.
step scale-out 1200 scripts/scale-out.sh
HTTPBIN_SERVER_BIN="$TARGET_DIR/debug/httpbin"
PETSTORE_SERVER_BIN="$TARGET_DIR/debug/petstore"
MCPGEN_BIN="$TARGET_DIR/debug/mcpgen"
export HTTPBIN_SERVER_BIN PETSTORE_SERVER_BIN MCPGEN_BIN
step e2e 900 scripts/e2e.sh
# A generated crate full of keywords and injection-style strings compiles.
# --workspace, not -p mcpgen: the same feature resolution as the test step, so
# no dependency is built a second time.
step tricky 900 cargo test --workspace --test generate -- --ignored
# Every document of the shared OpenAPI corpus generates a crate that compiles,
# starts and lists its tools (skipped with a note when ../shared is absent).
step corpus 2400 scripts/openapi-corpus.sh
# The benchmark suite's smoke run (docs/benchmarks.md): debug builds, no
# timing asserted; only a wrong answer, an error or a crash fails it.
step bench 600 scripts/bench.sh --smoke
# The profile-guided build of the benchmark (scripts/pgo.sh) end to end on
# the hyper floor: instrumented build, training, merge, optimised build, and
# the optimised server answering.
step pgo 900 scripts/pgo.sh --smoke
# The scale benchmark runs end to end on a small document: its figures are
# printed, only an error (no crate, no build, no start) fails the step.
step scale 900 env BENCH_PROFILE=debug scripts/bench-scale.sh specs/openapi/petstore-oas30.json
# The token benchmark likewise (docs/tokens.md): tools/list tokens per tool
# surface, a compact-mode round, descriptions raw and cleaned.
step tokens 900 scripts/bench-tokens.sh specs/openapi/petstore-oas30.json
# Every tool of small fixtures called through Prism, which refuses requests
# that do not match the document (2.0 consumes, a required property
# without a schema).
step prism 600 env PRISM_CHECK_STRICT=1 scripts/prism-check.sh \
    generator/tests/fixtures/openapi/consumes-octet.yaml \
    generator/tests/fixtures/openapi/prism-webhook.yaml

summary
log "all checks passed"
