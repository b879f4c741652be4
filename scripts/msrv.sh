#!/usr/bin/env bash
# Is the workspace's `rust-version` (the MSRV) true? This machine, like CI,
# has one toolchain and cannot fetch another, so `cargo +1.88 build` is not
# available; instead three checks that each fail when the manifest lies:
#
#   1. dependencies: no package in the resolved graph (cargo metadata, host
#      platform) declares a `rust-version` newer than ours;
#   2. language features: no syntax newer than ours, from a table of patterns
#      (let chains need 1.88);
#   3. standard library: clippy's `incompatible_msrv` lint reads `rust-version`
#      and rejects std APIs stabilized after it. It is in clippy's default set,
#      so the clippy step of scripts/test.sh (-D warnings) enforces it; this
#      script runs it again for the library crates only when MSRV_CLIPPY=1.
#
# Limits, honestly: check 2 knows only the features in its table, and none of
# these compiles anything with the old compiler (trait upcasting, new lints or
# type-inference changes go unnoticed). A CI with rustup should add
# `cargo +$(rust-version) check --workspace` and keep these as a fast guard.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

host="$(rustc -vV | sed -n 's/^host: //p')"
meta="$(cargo metadata --format-version 1 --locked --filter-platform "$host")"
ours="$(jq -r '[.packages[] | select(.id as $id | $ARGS.positional | index($id)) | .rust_version | select(. != null)] | unique | .[]' \
    --args $(jq -r '.workspace_members[]' <<<"$meta") <<<"$meta")"
[[ $(wc -l <<<"$ours") -eq 1 && -n "$ours" ]] || die "workspace members disagree on rust-version: $ours"
log "msrv: rust-version = $ours"

# version_gt A B: A is a later Rust version than B (1.88 vs 1.85.0).
version_gt() {
    local a b
    IFS=. read -r -a a <<<"$1"
    IFS=. read -r -a b <<<"$2"
    for i in 0 1 2; do
        ((${a[i]:-0} > ${b[i]:-0})) && return 0
        ((${a[i]:-0} < ${b[i]:-0})) && return 1
    done
    return 1
}

fail=0
# 1. Dependencies (only packages in the resolve graph, not the workspace's own).
while read -r name version rv; do
    if version_gt "$rv" "$ours"; then
        echo "msrv: $name $version needs Rust $rv, newer than rust-version $ours" >&2
        fail=1
    fi
done < <(jq -r '(.resolve.nodes | map(.id)) as $used | .workspace_members as $ws
    | .packages[] | select(.rust_version != null)
    | select(.id as $id | ($used | index($id)) and (($ws | index($id)) | not))
    | "\(.name) \(.version) \(.rust_version)"' <<<"$meta")

# 2. Language features: (minimum version, description, extended regex).
features=(
    "1.88|let chains (\`if let … && let …\`)|&&[[:space:]]*let[[:space:]]|^[[:space:]]*(\} else )?(if|while) let [^{]*&&"
)
sources="$(git ls-files '*.rs' | grep -v '^target/')"
for entry in "${features[@]}"; do
    IFS='|' read -r needs what re1 re2 <<<"$entry"
    hits="$(grep -nE -- "$re1|$re2" $sources | head -3 || true)"
    if [[ -n "$hits" ]] && version_gt "$needs" "$ours"; then
        echo "msrv: $what needs Rust $needs, newer than rust-version $ours; for example:" >&2
        sed 's/^/    /' <<<"$hits" >&2
        fail=1
    fi
done

# 3. Standard library APIs (already part of the clippy step of test.sh).
if [[ "${MSRV_CLIPPY:-0}" == 1 ]]; then
    cargo clippy -p mcpgen-runtime -p mcpgen --all-targets -- -D clippy::incompatible_msrv || fail=1
fi

[[ $fail -eq 0 ]] || die "rust-version $ours is not true (see above)"
log "msrv: dependencies and known language features fit Rust $ours"
