#!/usr/bin/env bash
# The project's test command: lint, then every test, including the end-to-end
# suite that builds, vets, tests and runs generated Go projects over real
# sockets. Needs Rust and Go >= 1.26 (today's gRPC and Prometheus require it);
# everything else (Go modules, protoc-gen-go, protoc-gen-go-grpc) is fetched
# through the Go module proxy by the tests themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null || { echo "error: $1 not found: $2" >&2; exit 1; }; }
need cargo "install Rust from https://rustup.rs"
need go "install Go 1.26 or newer from https://go.dev/dl"
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
if [ "${go_minor:-0}" -lt 26 ]; then
	echo "error: $(go env GOVERSION) is too old: generated projects need Go 1.26 or newer" >&2
	exit 1
fi

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked -- --nocapture 2>&1
