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
	_ "github.com/go-kit/kit/circuitbreaker"
	_ "github.com/go-kit/kit/endpoint"
	_ "github.com/go-kit/kit/metrics/prometheus"
	_ "github.com/go-kit/kit/ratelimit"
	_ "github.com/go-kit/kit/sd"
	_ "github.com/go-kit/kit/sd/consul"
	_ "github.com/go-kit/kit/sd/dnssrv"
	_ "github.com/go-kit/kit/sd/etcdv3"
	_ "github.com/go-kit/kit/sd/lb"
	_ "github.com/go-kit/kit/transport/grpc"
	_ "github.com/go-kit/kit/transport/http"
	_ "github.com/go-kit/log"
	_ "github.com/gorilla/mux"
	_ "github.com/hashicorp/consul/api"
	_ "github.com/oklog/run"
	_ "github.com/peterbourgon/ff/v3"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/sony/gobreaker"
	_ "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	_ "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
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
	_ "google.golang.org/grpc/test/bufconn"
	_ "google.golang.org/protobuf/encoding/protojson"'

pin() { # dir extra-import
	mkdir -p "$work/$1" && cd "$work/$1"
	printf 'module example.com/pin\n\ngo 1.26.0\n' > go.mod
	printf 'package main\n\nimport (%s\n%s\n)\n\nfunc main() {}\n' "$imports" "$2" > main.go
	go get github.com/go-kit/kit@v0.13.0 github.com/go-kit/log@v0.2.1 github.com/oklog/run@v1.2.0 \
		github.com/gorilla/mux@v1.8.1 github.com/peterbourgon/ff/v3@v3.4.0 \
		github.com/prometheus/client_golang@v1.25.0 golang.org/x/time@v0.16.0 \
		github.com/sony/gobreaker@v1.0.0 go.etcd.io/etcd/client/v3@v3.7.3 \
		github.com/hashicorp/consul/api@v1.34.5 \
		go.opentelemetry.io/otel@v1.47.0 go.opentelemetry.io/otel/sdk@v1.47.0 \
		go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc@v1.47.0 \
		go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp@v0.72.0 \
		go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc@v0.72.0 \
		google.golang.org/grpc@v1.85.0 google.golang.org/protobuf@v1.36.12 >/dev/null 2>&1
	go mod tidy
	cd - >/dev/null
}
pin base ''
pin api '	_ "google.golang.org/genproto/googleapis/api/annotations"'
cp "$work/base/go.sum" "$out/base.go.sum"
cp "$work/base/go.mod" "$out/base.go.mod"
grep 'genproto/googleapis/api ' "$work/api/go.sum" > "$out/googleapis-api.go.sum"
cat "$work/base/go.mod"
grep 'genproto/googleapis/api ' "$work/api/go.mod"
