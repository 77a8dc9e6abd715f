#!/usr/bin/env bash
# Re-pins the crates generated Rust projects depend on: resolves the
# dependencies of templates/rust/Cargo.toml (for a placeholder package) to
# their newest compatible versions and stores the Cargo.lock kitgen writes
# into every project (kitgen puts the project's own package in). Two locks,
# one resolution: src/backend/rust/deps/Cargo-etcd.lock for projects with
# `discovery = ["etcd"]` (resolved first), and src/backend/rust/deps/Cargo.lock
# for the others, the same lock with the crates only discovery uses pruned
# (Cargo prunes them; every version stays as resolved). Run after changing the
# template's dependencies, then run the Rust end-to-end tests
# (tests/rust_e2e.rs, tests/rust_discovery.rs): they build with --locked, so
# a lock that does not fit fails there.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The template's Cargo.toml with discovery on (etcd=1) or off (etcd=0).
manifest() {
	awk -v etcd="$1" '
		/^\{%- if p\.etcd %\}$/ { inif = 1; keep = etcd; next }
		/^\{%- else %\}$/ { keep = !etcd; next }
		/^\{%- endif %\}$/ { inif = 0; next }
		!inif || keep' templates/rust/Cargo.toml |
		sed -e 's/{{ p.name }}/kitgen-pin/g' -e 's/{{ p.cli_name }}/kitgen-pin-cli/g'
}
for variant in etcd base; do
	mkdir -p "$work/$variant/src/bin"
	echo 'fn main() {}' >"$work/$variant/src/main.rs"
	echo 'fn main() {}' >"$work/$variant/src/bin/kitgen-pin-cli.rs"
done
manifest 1 >"$work/etcd/Cargo.toml"
manifest 0 >"$work/base/Cargo.toml"
if grep -q '{[{%]' "$work/etcd/Cargo.toml" "$work/base/Cargo.toml"; then
	echo "pin-rust-deps.sh: a template tag is left in Cargo.toml" >&2
	exit 1
fi
(cd "$work/etcd" && cargo generate-lockfile)
cp "$work/etcd/Cargo.lock" "$work/base/Cargo.lock"
(cd "$work/base" && cargo metadata --format-version 1 >/dev/null)
cp "$work/etcd/Cargo.lock" src/backend/rust/deps/Cargo-etcd.lock
cp "$work/base/Cargo.lock" src/backend/rust/deps/Cargo.lock
for lock in Cargo.lock Cargo-etcd.lock; do
	grep -c '^name = ' "src/backend/rust/deps/$lock" | sed "s/^/$lock: packages pinned: /"
done
