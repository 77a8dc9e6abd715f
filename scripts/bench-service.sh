#!/usr/bin/env bash
# Measures the Go service kitgen generates against hand-written go-kit: the
# built-in addsvc starter beside go-kit's own addsvc example, both serving the
# same API, under the same load, in one run.
#
#   scripts/bench-service.sh [--rounds N] [--duration SECONDS] [--examples DIR]
#
# --examples (or $KITGEN_BENCH_EXAMPLES) is a checkout of
# github.com/go-kit/examples at commit e18c82e (not part of this repository);
# the script checks that its tree is exactly that commit's, then builds a copy
# of addsvc with its two endpoint rate limiters removed (a sed, below: go-kit's
# example limits Sum to 1 request/s). The checkout itself is never modified.
#
# What it does:
# - builds kitgen (release) from this repository, generates the built-in
#   addsvc starter with it and builds the server as the generated project
#   builds it (CGO_ENABLED=0 go build -trimpath -ldflags="-s -w", the
#   command of its Makefile's `build` target and of its Dockerfile: the
#   script checks that both still say so), and go-kit's example the same
#   way; each is also built without -ldflags="-s -w", for its size only;
# - installs its load tools into $KITGEN_BENCH_CACHE (default
#   ~/.cache/kitgen-bench) on first use: wrk (Debian's package and its
#   LuaJIT, unpacked with `apt-get download`, no root needed) and ghz (built
#   at a pinned version from the Go module proxy);
# - runs, on 127.0.0.1 only, each server pinned to CPU 1 and the load tool to
#   CPU 0 (taskset), the servers one after another, round after round (the
#   order reversed every other round): go-kit's example, kitgen's server as
#   generated (metrics on, tracing off, default log level; -rate-limit 0
#   where the server still has a default limit, as the example's is removed),
#   and kitgen's server with tracing on, exporting to a loopback OTLP/gRPC
#   sink this script builds and starts (it counts the spans and discards
#   them). Each server gets a 2 s wrk warm-up, then wrk (1 thread, 32
#   connections, --duration s) POSTs {"a":1,"b":2} to /sum, then ghz (32
#   workers over 4 connections, --duration s) calls Add.Sum;
# - server CPU is utime + stime from /proc/<pid>/stat across each load run,
#   divided by the requests served; peak RSS is VmHWM at the end; every
#   figure is the median over the rounds;
# - prints the table, the ratios kitgen/example, each server binary's size
#   as built (the goal: kitgen's at most 20 MB) and unstripped, and the
#   etcd, Consul and hystrix modules in `go list -deps ./cmd/addsvc` of the
#   generated project.
#
# Every process it starts is killed on exit; every load run is bounded by
# `timeout`. Needs 2 CPUs, Go, cargo, python3, taskset, curl. Slow (about
# 1.5 min per round plus the builds) and noisy on a shared machine: not part
# of the test command.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

rounds=3
duration=10
examples=${KITGEN_BENCH_EXAMPLES:-}
usage() { echo "usage: $0 [--rounds N] [--duration SECONDS] [--examples DIR]" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) [ $# -ge 2 ] || usage; rounds=$2; shift 2 ;;
	--duration) [ $# -ge 2 ] || usage; duration=$2; shift 2 ;;
	--examples) [ $# -ge 2 ] || usage; examples=$2; shift 2 ;;
	*) usage ;;
	esac
done
[[ $rounds =~ ^[1-9][0-9]*$ && $duration =~ ^[1-9][0-9]*$ ]] || usage
[ -n "$examples" ] || { echo "error: give a checkout of github.com/go-kit/examples with --examples DIR or KITGEN_BENCH_EXAMPLES" >&2; exit 2; }
examples=$(cd "$examples" && pwd)
for tool in go cargo python3 taskset curl git; do
	command -v "$tool" >/dev/null || { echo "error: $tool is needed" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "error: needs 2 CPUs (one for the server, one for the load)" >&2; exit 1; }
server_cpu=1
load_cpu=0

# go-kit/examples at e18c82e, the commit the issue measured; its tree hash
# lets a plain copy (no .git) be checked too.
EXAMPLES_COMMIT=e18c82edc2f9c7de3aff9748751d63270c052c1b
EXAMPLES_TREE=5c7f5dc9358a2d5c510834409c18b361965c34ef
# The OTLP sink's dependencies (the versions kitgen's go.mod pins).
SINK_GRPC_VERSION=v1.85.0
SINK_OTLP_VERSION=v1.11.0

work=$(mktemp -d)
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if git -C "$examples" rev-parse --git-dir >/dev/null 2>&1; then
	have=$(git -C "$examples" rev-parse HEAD)
	if [ "$have" != "$EXAMPLES_COMMIT" ] || [ -n "$(git -C "$examples" status --porcelain)" ]; then
		echo "error: $examples is at $have (or has changes), not go-kit/examples $EXAMPLES_COMMIT" >&2
		exit 1
	fi
else
	# Not a git checkout: hash its files as git would (into a scratch index).
	have=$(GIT_DIR=$work/examples.git GIT_WORK_TREE=$examples sh -c 'git init -q && git add -A && git write-tree')
	[ "$have" = "$EXAMPLES_TREE" ] ||
		{ echo "error: $examples holds tree $have, not go-kit/examples $EXAMPLES_COMMIT (tree $EXAMPLES_TREE)" >&2; exit 1; }
fi

# shellcheck source=scripts/bench-load-tools.sh
. scripts/bench-load-tools.sh

echo "building kitgen" >&2
cargo build --release --locked --quiet
kitgen=$repo/target/release/kitgen
# The commit that last changed what generates the server: stable when
# unrelated commits (this script's own) are rebased.
kitgen_commit=$(git log -1 --format=%h -- src templates Cargo.toml Cargo.lock)
[ -z "$(git status --porcelain -- src templates Cargo.toml Cargo.lock)" ] || kitgen_commit="$kitgen_commit+changes"

# The command a generated project builds its binaries with, in its
# Makefile (make build) and its Dockerfile; the servers measured are built
# with it, and without its -ldflags (keeping the symbol table and DWARF
# debug information) for the size only.
BUILD=(go build -trimpath -ldflags="-s -w")
build_shown='go build -trimpath -ldflags="-s -w"'
mkdir -p "$work/bin"
# go_build DIR PACKAGE NAME: $work/bin/NAME and $work/bin/NAME.unstripped.
go_build() {
	(cd "$1" && CGO_ENABLED=0 nice -n 10 "${BUILD[@]}" -o "$work/bin/$3" "$2" &&
		CGO_ENABLED=0 nice -n 10 go build -trimpath -o "$work/bin/$3.unstripped" "$2")
}

echo "generating and building kitgen's addsvc" >&2
"$kitgen" new addsvc --dir "$work/kitgen" >/dev/null
for file in Makefile Dockerfile; do
	grep -qF "CGO_ENABLED=0 $build_shown -o " "$work/kitgen/$file" ||
		{ echo "error: the generated $file no longer builds with CGO_ENABLED=0 $build_shown; update BUILD" >&2; exit 1; }
done
go_build "$work/kitgen" ./cmd/addsvc kitgen
deps=$(cd "$work/kitgen" && go list -deps -f '{{with .Module}}{{.Path}}{{end}}' ./cmd/addsvc)
discovery_mods=$(sort -u <<<"$deps" | { grep -Ei 'etcd|consul|hystrix' || true; } | tr '\n' ' ')

echo "building go-kit's addsvc example, limiters removed" >&2
cp -R "$examples" "$work/examples"
chmod -R u+w "$work/examples"
set_go=$work/examples/addsvc/pkg/addendpoint/set.go
# The patch: drop both `ratelimit.NewErroringLimiter(...)` lines of
# addendpoint.New, their comments, and the imports only they used.
sed -i -e '/ratelimit\.NewErroringLimiter(/d' -e '/is limited to 1 request per second/d' \
	-e '/Note, rate is defined as/d' -e '/^\t"time"$/d' -e '/^\t"golang.org\/x\/time\/rate"$/d' \
	-e '/^\t"github.com\/go-kit\/kit\/ratelimit"$/d' "$set_go"
if grep -q 'ratelimit\|rate\.' "$set_go" || [ "$(grep -c 'circuitbreaker.Gobreaker(' "$set_go")" != 2 ]; then
	echo "error: the limiter patch did not apply as expected to $set_go" >&2
	exit 1
fi
go_build "$work/examples" ./addsvc/cmd/addsvc example

echo "building the OTLP sink" >&2
mkdir -p "$work/sink"
cat >"$work/sink/main.go" <<'EOF'
// Command sink accepts OTLP/gRPC trace exports on the address given, counts
// their spans and discards them; at SIGTERM it prints the count.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

type sink struct {
	collectortrace.UnimplementedTraceServiceServer
	spans atomic.Int64
}

func (s *sink) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			s.spans.Add(int64(len(ss.GetSpans())))
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func main() {
	lis, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	srv := grpc.NewServer()
	s := &sink{}
	collectortrace.RegisterTraceServiceServer(srv, s)
	go func() { _ = srv.Serve(lis) }()
	<-ctx.Done()
	srv.Stop()
	fmt.Println(s.spans.Load())
}
EOF
printf 'module sink\n\ngo 1.24\n\nrequire (\n\tgoogle.golang.org/grpc %s\n\tgo.opentelemetry.io/proto/otlp %s\n)\n' \
	"$SINK_GRPC_VERSION" "$SINK_OTLP_VERSION" >"$work/sink/go.mod"
(cd "$work/sink" && nice -n 10 go mod tidy >/dev/null 2>&1 && nice -n 10 go build -o "$work/bin/sink" .)

# Free loopback ports: http grpc debug (and the example's thrift, jsonrpc), sink.
read -r p_http p_grpc p_debug p_thrift p_jsonrpc p_sink < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')

kitgen_help=$("$work/bin/kitgen" -h 2>&1 || true)
kitgen_flags=(-http-addr "127.0.0.1:$p_http" -grpc-addr "127.0.0.1:$p_grpc" -debug-addr "127.0.0.1:$p_debug")
# A server that still limits every request by default (1,000/s before
# issue 12) is measured without its limit, like the example.
grep -q -- '-rate-limit' <<<"$kitgen_help" && kitgen_flags+=(-rate-limit 0)
tracing_flags=()
if grep -q -- '-otlp-endpoint' <<<"$kitgen_help"; then
	tracing_flags=(-otlp-endpoint "127.0.0.1:$p_sink")
fi
example_flags=(-http-addr "127.0.0.1:$p_http" -grpc-addr "127.0.0.1:$p_grpc" -debug.addr "127.0.0.1:$p_debug"
	-thrift-addr "127.0.0.1:$p_thrift" -jsonrpc-addr "127.0.0.1:$p_jsonrpc")

cat >"$work/sum.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"a":1,"b":2}'
wrk.headers["Content-Type"] = "application/json"
EOF
ticks_per_second=$(getconf CLK_TCK)
# cpu_ticks PID: utime + stime of the process (fields 14 and 15 of stat,
# counted after the command name, which may hold spaces).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# stop PID: TERM, then KILL after 10 s.
stop() {
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

mkdir -p "$work/out"
results=$work/results
: >"$results"
# measure ROUND NAME: starts server NAME, loads it, appends one line to $results.
measure() {
	local round=$1 name=$2 bin proto call import sink_pid="" server_pid env=()
	local log=$work/out/$name.$round
	case $name in
	example) bin=$work/bin/example; proto=$work/examples/addsvc/pb/addsvc.proto; call=pb.Add.Sum; import=$work/examples/addsvc/pb ;;
	kitgen | kitgen+tracing) bin=$work/bin/kitgen; proto=$work/kitgen/proto/addsvc.proto; call=addsvc.Add.Sum; import=$work/kitgen/proto ;;
	esac
	local args=()
	case $name in
	example) args=("${example_flags[@]}") ;;
	kitgen) args=("${kitgen_flags[@]}") ;;
	kitgen+tracing)
		args=("${kitgen_flags[@]}" "${tracing_flags[@]}")
		# The standard variables, for a server that reads them rather than a flag.
		[ ${#tracing_flags[@]} -gt 0 ] || env=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$p_sink" OTEL_EXPORTER_OTLP_INSECURE=true)
		taskset -c "$load_cpu" "$work/bin/sink" "127.0.0.1:$p_sink" >"$log.sink" 2>&1 &
		sink_pid=$!
		pids+=("$sink_pid")
		;;
	esac
	env "${env[@]}" taskset -c "$server_cpu" "$bin" "${args[@]}" >"$log.server" 2>&1 &
	server_pid=$!
	pids+=("$server_pid")
	local body=""
	for _ in $(seq 200); do
		body=$(curl -s -m 1 -X POST -H 'Content-Type: application/json' -d '{"a":1,"b":2}' "http://127.0.0.1:$p_http/sum" || true)
		[ -n "$body" ] && break
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -Eq '"(v|result)": ?"?3"?' <<<"$body"; then
		echo "error: $name did not answer Sum(1, 2) with 3 on 127.0.0.1:$p_http: '$body'; its log:" >&2
		tail -n 20 "$log.server" >&2
		exit 1
	fi
	timeout 30 taskset -c "$load_cpu" "$wrk" -t1 -c32 -d2s -s "$work/sum.lua" "http://127.0.0.1:$p_http/sum" >"$log.warm-up"

	local c0 c1 c2 c3
	c0=$(cpu_ticks "$server_pid")
	timeout $((duration + 30)) taskset -c "$load_cpu" "$wrk" -t1 -c32 -d"${duration}s" -s "$work/sum.lua" "http://127.0.0.1:$p_http/sum" >"$log.wrk"
	c1=$(cpu_ticks "$server_pid")
	timeout $((duration + 30)) taskset -c "$load_cpu" "$ghz" --insecure --proto "$proto" \
		--import-paths "$import,$repo/src/frontend/google_api" --call "$call" -d '{"a":1,"b":2}' \
		--connections 4 --concurrency 32 -z "${duration}s" -O json "127.0.0.1:$p_grpc" >"$log.ghz"
	c2=$(cpu_ticks "$server_pid")
	c3=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status")
	stop "$server_pid"
	local spans=-
	if [ -n "$sink_pid" ]; then
		stop "$sink_pid"
		spans=$(tail -n 1 "$log.sink")
	fi
	if grep -q 'Non-2xx' "$log.wrk"; then
		echo "error: $name answered errors under load:" >&2
		cat "$log.wrk" >&2
		exit 1
	fi
	python3 - "$log.wrk" "$log.ghz" "$log.warm-up" <<EOF >>"$results"
import json, re, sys
wrk = open(sys.argv[1]).read()
reqs = int(re.search(r"(\d+) requests in", wrk).group(1))
warm = int(re.search(r"(\d+) requests in", open(sys.argv[3]).read()).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
ghz = json.load(open(sys.argv[2]))
ok = ghz.get("statusCodeDistribution", {}).get("OK", 0)
# ghz closes its connections when the duration ends, failing the calls in
# flight on its side: those are no server's errors.
closing = ("use of closed network connection", "the client connection is closing")
errors = {e: n for e, n in ghz.get("errorDistribution", {}).items() if not any(c in e for c in closing)}
if errors or ok == 0:
    sys.exit("error: $name: gRPC errors under load: %s" % errors)
print("$round $name", reqs, rps, $c1 - $c0, ok, ok / (ghz["total"] / 1e9), $c2 - $c1, $c3, "$spans", warm + 1 + reqs + ok)
EOF
}

servers=(example kitgen kitgen+tracing)
[ ${#tracing_flags[@]} -gt 0 ] || echo "note: kitgen's server has no -otlp-endpoint flag: tracing is configured through OTEL_EXPORTER_OTLP_ENDPOINT" >&2
load_start=$(cut -d' ' -f1 /proc/loadavg)
for round in $(seq "$rounds"); do
	order=("${servers[@]}")
	if [ $((round % 2)) = 0 ]; then order=(kitgen+tracing kitgen example); fi
	for name in "${order[@]}"; do
		echo "round $round of $rounds: $name" >&2
		measure "$round" "$name"
	done
done
load_end=$(cut -d' ' -f1 /proc/loadavg)

python3 - "$results" "$ticks_per_second" <<EOF
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r, name, reqs, rps, hticks, greqs, grps, gticks, rss, spans, served = line.split()
    rows.setdefault(name, []).append(dict(
        rps=float(rps), http_us=int(hticks) / int(sys.argv[2]) / int(reqs) * 1e6,
        grps=float(grps), grpc_us=int(gticks) / int(sys.argv[2]) / int(greqs) * 1e6,
        rss=int(rss) / 1024, spans=None if spans == "-" else int(spans) / int(served)))
med = {n: {k: statistics.median(v[k] for v in rs) if rs[0][k] is not None else None for k in rs[0]} for n, rs in rows.items()}
names = {"example": "go-kit addsvc example (limiters removed)", "kitgen": "kitgen addsvc as generated",
         "kitgen+tracing": "kitgen addsvc, tracing to OTLP sink"}
print("Service benchmark: kitgen $kitgen_commit, go-kit/examples ${EXAMPLES_COMMIT:0:7} (limiters removed), $(go env GOVERSION),")
print("wrk $wrk_version (1 thread, 32 connections, ${duration} s, POST /sum), ghz $GHZ_VERSION (32 workers, 4 connections, ${duration} s, Add.Sum);")
print("server on CPU $server_cpu, load on CPU $load_cpu; median of $rounds rounds; load average $load_start at start, $load_end at end")
print()
print("| server | HTTP req/s | CPU µs/HTTP req | gRPC req/s | CPU µs/gRPC req | peak RSS MiB | HTTP req/s × | CPU/HTTP × | CPU/gRPC × |")
print("|---|---|---|---|---|---|---|---|---|")
ex = med["example"]
for n in ("example", "kitgen", "kitgen+tracing"):
    m = med[n]
    ratios = ["%.2f" % (m["rps"] / ex["rps"]), "%.2f" % (m["http_us"] / ex["http_us"]), "%.2f" % (m["grpc_us"] / ex["grpc_us"])]
    print("| %s | %.0f | %.1f | %.0f | %.1f | %.1f | %s |" % (names[n], m["rps"], m["http_us"], m["grps"], m["grpc_us"], m["rss"], " | ".join(ratios)))
print()
print("× columns: kitgen / example (HTTP req/s: higher is better; CPU: lower is better).")
k, t = med["kitgen"], med["kitgen+tracing"]
print("On a whole core (1 / CPU per request) kitgen as generated would serve %.2f× the example's HTTP requests per second and %.2f× its gRPC requests." %
      (ex["http_us"] / k["http_us"], ex["grpc_us"] / k["grpc_us"]))
print("Tracing on costs %+.1f µs of server CPU per HTTP request and %+.1f µs per gRPC request; the sink received %.2f spans per request served (warm-up included)." %
      (t["http_us"] - k["http_us"], t["grpc_us"] - k["grpc_us"], t["spans"] or 0))
print()
print("Per round (HTTP req/s; CPU µs per HTTP, per gRPC request):")
for n in ("example", "kitgen", "kitgen+tracing"):
    print("  %-15s" % n, "; ".join("%.0f, %.1f, %.1f" % (r["rps"], r["http_us"], r["grpc_us"]) for r in rows[n]))
EOF

size() { python3 -c 'import os, sys; print("%.1f MB" % (os.path.getsize(sys.argv[1]) / 1e6))' "$1"; }
echo
echo "| server binary | as built: $build_shown (make build, Dockerfile) | unstripped: go build -trimpath |"
echo "|---|---|---|"
echo "| go-kit addsvc example | $(size "$work/bin/example") | $(size "$work/bin/example.unstripped") |"
echo "| kitgen addsvc | $(size "$work/bin/kitgen") | $(size "$work/bin/kitgen.unstripped") |"
echo
built=$(stat -c %s "$work/bin/kitgen")
if [ "$built" -le 20000000 ]; then verdict=met; else verdict="not met"; fi
echo "kitgen's server as its project builds it: $(size "$work/bin/kitgen") ($built bytes); goal at most 20 MB: $verdict"
echo "etcd, Consul or hystrix modules in \`go list -deps ./cmd/addsvc\` of kitgen's addsvc: ${discovery_mods:-none}"
