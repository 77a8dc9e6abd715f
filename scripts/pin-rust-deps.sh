#!/usr/bin/env bash
# Re-pins the crates generated Rust projects depend on: resolves the
# dependencies of templates/rust/Cargo.toml (for a placeholder package) to
# their newest compatible versions and stores the Cargo.lock kitgen writes
# into every project (src/backend/rust/deps/Cargo.lock; kitgen puts the
# project's own package in). Run after changing the template's dependencies,
# then run the Rust end-to-end test (tests/rust_e2e.rs): it builds with
# --locked, so a lock that does not fit fails there.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/bin"
sed -e 's/{{ p.name }}/kitgen-pin/g' -e 's/{{ p.cli_name }}/kitgen-pin-cli/g' \
	templates/rust/Cargo.toml >"$work/Cargo.toml"
echo 'fn main() {}' >"$work/src/main.rs"
echo 'fn main() {}' >"$work/src/bin/kitgen-pin-cli.rs"
(cd "$work" && cargo generate-lockfile)
cp "$work/Cargo.lock" src/backend/rust/deps/Cargo.lock
grep -c '^name = ' src/backend/rust/deps/Cargo.lock | sed 's/^/packages pinned: /'
