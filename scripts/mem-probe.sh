#!/usr/bin/env bash
# Peak memory of a server process for one large message: an HTTP request at
# the body limit, stdio lines at and far over the limit, and large upstream
# JSON responses (runtime/examples/mem_probe.rs). Prints figures; asserts
# nothing (memory is a measurement, not a test).
#
#   scripts/mem-probe.sh          this tree
#   scripts/mem-probe.sh REV      this tree, then REV (e.g. main) for a
#                                 before/after comparison; REV is exported
#                                 with `git archive`, the repository is left
#                                 untouched
#
# Linux only (reads VmHWM from /proc). Debug builds, in the shared target/.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

probe() { # DIR LABEL: build the probe in DIR and run it
    local dir="$1" label="$2" bin
    log "mem-probe: $label"
    (cd "$dir" && CARGO_TARGET_DIR="$ROOT/target" cargo build -q -p mcpgen-runtime --example mem_probe)
    # Copied out: both trees build to the same target/debug/examples path.
    bin="$(mktemp)"
    install -m 755 "$ROOT/target/debug/examples/mem_probe" "$bin"
    "$bin"
    rm -f "$bin"
}

probe "$ROOT" "this tree ($(git rev-parse --short HEAD))"
if [[ -n "${1:-}" ]]; then
    rev="$1"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    git archive "$rev" | tar -x -C "$tmp"
    mkdir -p "$tmp/runtime/examples"
    cp runtime/examples/mem_probe.rs "$tmp/runtime/examples/"
    probe "$tmp" "$rev ($(git rev-parse --short "$rev"))"
fi
