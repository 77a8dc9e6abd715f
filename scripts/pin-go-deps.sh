#!/usr/bin/env bash
# Re-pins the Go modules generated projects depend on, and refreshes the go.sum
# data kitgen embeds (src/backend/go/deps). Run after bumping a version below,
# then update GO_DEPS in src/backend/go/deps.rs to match and run the tests:
# the end-to-end suite asserts `go mod tidy` changes nothing in every project.
set -euo pipefail
cd "$(dirname "$0")/.."
out=src/backend/go/deps
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

imports='
	_ "github.com/go-kit/kit/endpoint"
	_ "github.com/go-kit/kit/sd"
	_ "github.com/go-kit/kit/sd/dnssrv"
	_ "github.com/go-kit/kit/sd/lb"
	_ "github.com/go-kit/kit/transport/grpc"
	_ "github.com/go-kit/kit/transport/http"
	_ "github.com/go-kit/log"
	_ "github.com/prometheus/client_golang/prometheus/collectors"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "go.opentelemetry.io/otel"
	_ "go.opentelemetry.io/otel/attribute"
	_ "go.opentelemetry.io/otel/codes"
	_ "go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	_ "go.opentelemetry.io/otel/propagation"
	_ "go.opentelemetry.io/otel/sdk/resource"
	_ "go.opentelemetry.io/otel/sdk/trace"
	_ "go.opentelemetry.io/otel/sdk/trace/tracetest"
	_ "go.opentelemetry.io/otel/trace"
	_ "golang.org/x/time/rate"
	_ "google.golang.org/grpc"
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"
	_ "google.golang.org/genproto/googleapis/rpc/status"
	_ "google.golang.org/grpc/test/bufconn"
	_ "google.golang.org/protobuf/encoding/protojson"'

# Packages only some projects import: the service discovery backends
# kitgen.toml chooses, and the client's circuit breaker (a project with a
# unary method). Each package's additions to the base are recorded like a
# published package's, in deps/optional.txt.
optional_packages='github.com/go-kit/kit/sd/etcdv3
	github.com/go-kit/kit/sd/consul
	github.com/hashicorp/consul/api
	github.com/sony/gobreaker/v2'

# The go directive the generated code itself needs (its newest language and
# library features); the dependencies may raise it.
code_go=1.26.0

# Published modules whose protobuf packages a project imports instead of
# generating them (see "Imports from published modules" in the README). They
# are resolved together with the base so every version is one consistent
# choice; then each package's own additions to a tidy go.mod and go.sum are
# recorded, so that kitgen can write the exact union for any combination.
published_modules='google.golang.org/genproto@v0.0.0-20261019180522-ce908d29299b
	google.golang.org/genproto/googleapis/api@v0.0.0-20261019180522-ce908d29299b
	google.golang.org/genproto/googleapis/rpc@v0.0.0-20261019180522-ce908d29299b
	cloud.google.com/go/longrunning@v1.5.0
	cloud.google.com/go/iam@v1.15.1
	github.com/grpc-ecosystem/grpc-gateway/v2@v2.30.0'
published_packages='google.golang.org/genproto/googleapis/api/...
	google.golang.org/genproto/googleapis/rpc/...
	google.golang.org/genproto/googleapis/type/...
	google.golang.org/genproto/googleapis/geo/type/...
	google.golang.org/genproto/googleapis/cloud/location
	cloud.google.com/go/longrunning/autogen/longrunningpb
	cloud.google.com/go/iam/apiv1/iampb
	github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2/options'

main_go() { # extra-imports
	printf 'package main\n\nimport (%s\n%s\n)\n\nfunc main() {}\n' "$imports" "$1"
}

# 1. The universe: base and every published module, resolved once.
mkdir -p "$work/universe" && cd "$work/universe"
printf 'module example.com/pin\n\ngo %s\n' "$code_go" > go.mod
main_go '' > main.go
# shellcheck disable=SC2086
go get github.com/go-kit/kit@v0.13.0 github.com/go-kit/log@v0.2.1 \
	github.com/prometheus/client_golang@v1.25.0 golang.org/x/time@v0.16.0 \
	github.com/sony/gobreaker/v2@v2.4.0 go.etcd.io/etcd/client/v3@v3.7.3 \
	github.com/hashicorp/consul/api@v1.34.5 \
	go.opentelemetry.io/otel@v1.47.0 go.opentelemetry.io/otel/sdk@v1.47.0 \
	go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc@v1.47.0 \
	google.golang.org/grpc@v1.85.0 google.golang.org/protobuf@v1.36.12 \
	$published_modules >/dev/null 2>&1
# shellcheck disable=SC2086
packages=$(go list $published_packages | sort -u)
# shellcheck disable=SC2086
main_go "$(printf '\t_ "%s"\n' $packages $optional_packages)" > main.go
go mod tidy
cp go.mod "$work/universe.go.mod"
cd - >/dev/null

# 2. Tidy with the universe's versions: the base alone, then base + each
# package. Each starts from the go directive the code needs: tidy raises it
# to what the packages require, and no further.
tidy() { # dir extra-imports
	mkdir -p "$work/$1" && cd "$work/$1"
	cp "$work/universe.go.mod" go.mod
	go mod edit -go="$code_go" -toolchain=none
	main_go "$2" > main.go
	go mod tidy
	# Tidy keeps what the universe's modules raised the directive to; once
	# they are pruned, a second pass lowers it to what is left requires.
	go mod edit -go="$code_go" -toolchain=none
	go mod tidy
	cd - >/dev/null
}
tidy base ''
cp "$work/base/go.sum" "$out/base.go.sum"
cp "$work/base/go.mod" "$out/base.go.mod"
go_directive=$(grep '^go ' "$work/base/go.mod")

# fragments FILE HEADER PACKAGES: each package's module (direct), then what
# it adds to the base's tidy go.mod (a go directive it raises, requirements)
# and go.sum.
fragments() {
	file=$1 header=$2
	shift 2
	{
		echo "# Generated by scripts/pin-go-deps.sh: $header,"
		echo "# its module (direct), then what it adds to the base's tidy go.mod and go.sum."
		for pkg in "$@"; do
			i=$((i + 1))
			tidy "p$i" "	_ \"$pkg\""
			module=$(cd "$work/p$i" && go list -f '{{.Module.Path}} {{.Module.Version}}' "$pkg")
			echo "package $pkg $module"
			directive=$(grep '^go ' "$work/p$i/go.mod")
			if [ "$directive" != "$go_directive" ]; then
				echo "$directive"
			fi
			# Requirement lines the base lacks (the package's own module among them).
			comm -13 <(grep -E '^\s' "$work/base/go.mod" | sed 's/ \/\/ indirect//' | sort) \
				<(grep -E '^\s' "$work/p$i/go.mod" | sed 's/ \/\/ indirect//' | sort) |
				awk -v m="${module%% *}" '$1 != m { print "require " $1 " " $2 }'
			comm -13 <(sort "$work/base/go.sum") <(sort "$work/p$i/go.sum") | sed 's/^/sum /'
		done
	} > "$out/$file"
}
i=0
# shellcheck disable=SC2086
fragments published.txt "for each published protobuf package" $packages
# shellcheck disable=SC2086
fragments optional.txt "for each package only some projects import" $optional_packages
cat "$work/base/go.mod"
