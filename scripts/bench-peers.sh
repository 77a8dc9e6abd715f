#!/usr/bin/env bash
# Times kitgen against its peers in one run, repetitions interleaved so that
# a busy machine slows every tool alike, and prints medians and ratios.
#
#   scripts/bench-peers.sh [--reps N] [--sizes "10 100 1000 2000 4000"] [--corpus DIR]
#
# Peers, installed by this script into $KITGEN_BENCH_CACHE (default
# ~/.cache/kitgen-bench) on first use:
# - goctl (`goctl rpc protoc`), go-zero's generator, built at a pinned
#   version from the Go module proxy;
# - protoc (Debian's protobuf-compiler package, unpacked with `apt-get
#   download`, no root needed) with protoc-gen-go and protoc-gen-go-grpc at
#   kitgen's own pinned versions, built from the Go module proxy.
#
# Inputs: the starter (addsvc.proto), library.proto from the corpus, and
# synthetic services of N RPCs (scripts/synth-proto.py). Per input:
# - kitgen new, then generate and check on the unchanged project;
# - goctl rpc protoc and protoc + the two plugins, each into a fresh directory.
# CPU is user + system time of the whole process tree, memory the peak RSS
# of its largest process (GNU time). Not part of the test command: slow.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { echo "error: GNU time (/usr/bin/time) is needed: apt-get install time" >&2; exit 1; }
repo=$PWD

reps=3
sizes="10 100 1000 2000 4000"
corpus=$repo/../shared/corpus
while [ $# -gt 0 ]; do
	case $1 in
	--reps) reps=$2; shift 2 ;;
	--sizes) sizes=$2; shift 2 ;;
	--corpus) corpus=$2; shift 2 ;;
	*) echo "usage: $0 [--reps N] [--sizes \"10 100 ...\"] [--corpus DIR]" >&2; exit 2 ;;
	esac
done

GOCTL_VERSION=v1.9.2
PROTOC_GEN_GO_VERSION=$(sed -n 's/^pub const PROTOC_GEN_GO_VERSION: &str = "\(.*\)";/\1/p' src/backend/go/plugins.rs)
PROTOC_GEN_GO_GRPC_VERSION=$(sed -n 's/^pub const PROTOC_GEN_GO_GRPC_VERSION: &str = "\(.*\)";/\1/p' src/backend/go/plugins.rs)

cache=${KITGEN_BENCH_CACHE:-$HOME/.cache/kitgen-bench}
bin=$cache/bin
mkdir -p "$bin"
install_go() { # package version name
	[ -x "$bin/$3@$2" ] && return
	echo "building $1@$2" >&2
	local tmp; tmp=$(mktemp -d)
	GOBIN=$tmp go install "$1@$2"
	mv "$tmp/$3" "$bin/$3@$2"
	rm -rf "$tmp"
}
# goctl's module has no version list on the proxy, which `go install @version`
# wants (for deprecation notices): build it inside its downloaded module instead.
if [ ! -x "$bin/goctl@$GOCTL_VERSION" ]; then
	echo "building goctl@$GOCTL_VERSION" >&2
	goctl_src=$(GOFLAGS=-mod=mod go mod download -json "github.com/zeromicro/go-zero/tools/goctl@$GOCTL_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	(cd "$goctl_src" && GOFLAGS=-mod=mod go build -trimpath -o "$bin/goctl@$GOCTL_VERSION" .)
fi
install_go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION" protoc-gen-go
install_go google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION" protoc-gen-go-grpc
protoc_root=$cache/protoc
if [ ! -x "$protoc_root/usr/bin/protoc" ]; then
	echo "unpacking Debian's protoc" >&2
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download protobuf-compiler libprotoc32 libprotobuf32 libprotobuf-dev >/dev/null)
	for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$protoc_root"; done
	rm -rf "$tmp"
fi
# The peers find protoc and the plugins on PATH, as their users would.
tools=$cache/path
mkdir -p "$tools"
cat >"$tools/protoc" <<EOF
#!/bin/sh
LD_LIBRARY_PATH="$protoc_root/usr/lib/$(uname -m)-linux-gnu" exec "$protoc_root/usr/bin/protoc" "\$@"
EOF
chmod +x "$tools/protoc"
ln -sf "$bin/protoc-gen-go@$PROTOC_GEN_GO_VERSION" "$tools/protoc-gen-go"
ln -sf "$bin/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION" "$tools/protoc-gen-go-grpc"
ln -sf "$bin/goctl@$GOCTL_VERSION" "$tools/goctl"
export PATH="$tools:$PATH"
wkt=$protoc_root/usr/include
google_api=$repo/src/frontend/google_api

cargo build --release --locked --quiet
kitgen=$repo/target/release/kitgen

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Inputs: name, the proto's directory (its -I root), its file name, extra -I.
inputs=()
mkdir -p "$work/in/addsvc"
{ cat fixtures/starter/addsvc.proto; echo 'option go_package = "example.com/addsvc/pb;pb";'; } >"$work/in/addsvc/addsvc.proto"
inputs+=("addsvc|$work/in/addsvc|addsvc.proto|$google_api")
if [ -f "$corpus/googleapis/google/example/library/v1/library.proto" ]; then
	inputs+=("library|$corpus/googleapis|google/example/library/v1/library.proto|")
else
	echo "note: no library.proto under $corpus; skipped" >&2
fi
for n in $sizes; do
	mkdir -p "$work/in/synth$n"
	python3 scripts/synth-proto.py "$n" >"$work/in/synth$n/synth$n.proto"
	inputs+=("synth$n|$work/in/synth$n|synth$n.proto|$google_api")
done

# measure KEY CMD...: appends "cpu_seconds peak_kib wall_seconds" to
# $work/t/KEY, or "fail" when the command fails: CPU from the rusage of the
# process tree, in microseconds (GNU time rounds to 10 ms), peak from GNU time.
mkdir -p "$work/t"
cat >"$work/measure.py" <<'EOF'
import os, sys, time
record, log, mem, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
start = time.perf_counter()
# GNU time reports the peak RSS: a process exec'd from Python's memory
# would count Python's, GNU time's own is small.
cmd = ["/usr/bin/time", "-f", "%M", "-o", mem] + cmd
pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=[
    (os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, out, 2)])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
with open(record, "a") as f:
    peak = open(mem).read().split()[-1] if not code else ""
    f.write("fail\n" if code else f"{usage.ru_utime + usage.ru_stime:.4f} {peak} {wall:.4f}\n")
sys.exit(code)
EOF
measure() {
	local key=$1; shift
	python3 "$work/measure.py" "$work/t/$key" "$work/t/$key.log" "$work/mem" "$@" || cp "$work/t/$key.log" "$work/t/$key.err"
}

for rep in $(seq "$reps"); do
	echo "repetition $rep of $reps" >&2
	for input in "${inputs[@]}"; do
		IFS='|' read -r name root file extra <<<"$input"
		includes=(-I "$root")
		[ -n "$extra" ] && includes+=(-I "$extra")
		d=$work/run/$name
		rm -rf "$d" && mkdir -p "$d"
		kitgen_includes=(-I "$root")
		measure "$name.kitgen.new" "$kitgen" new "$name" --proto "$root/$file" "${kitgen_includes[@]}" \
			--module "example.com/$name" --dir "$d/kitgen"
		measure "$name.kitgen.generate" "$kitgen" generate --dir "$d/kitgen"
		measure "$name.kitgen.check" "$kitgen" check --dir "$d/kitgen"
		mkdir -p "$d/goctl"
		measure "$name.goctl" goctl rpc protoc "$root/$file" "${includes[@]}" -I "$wkt" \
			--go_out="$d/goctl" --go-grpc_out="$d/goctl" --zrpc_out="$d/goctl"
		mkdir -p "$d/protoc"
		measure "$name.protoc" protoc "${includes[@]}" -I "$wkt" --go_out="$d/protoc" \
			--go-grpc_out="$d/protoc" "$root/$file"
	done
done

# median KEY: median CPU seconds and peak KiB, or "fail".
median() {
	local f=$work/t/$1
	if grep -q fail "$f"; then echo fail; return; fi
	sort -n "$f" | awk '{ t[NR] = $1; m[NR] = $2; w[NR] = $3 } END { i = int((NR + 1) / 2); printf "%s %s %s\n", t[i], m[i], w[i] }'
}
ratio() { # a b -> a/b, or "-" when either failed
	if [ "$1" = fail ] || [ "$2" = fail ]; then echo "-"; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; fi
}
ms() { if [ "$1" = fail ]; then echo fail; else awk -v s="$1" 'BEGIN { printf (s < 1 ? "%.1f" : "%.0f"), s * 1000 }'; fi; }
mib() { if [ "$1" = fail ]; then echo fail; else awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; fi; }

echo
echo "CPU (user+sys of the process tree, ms, median of $reps), ratios, and check wall-clock ms; kitgen $(git rev-parse --short HEAD), goctl $GOCTL_VERSION, protoc $(protoc --version | cut -d' ' -f2)"
echo
printf '| %-11s | %8s | %8s | %8s | %8s | %8s | %9s | %9s | %9s | %9s | %10s |\n' input "new" generate check goctl protoc "new/goctl" "new/protoc" "chk/goctl" "chk/protoc" "check wall"
printf '|%s|\n' "-------------|----------|----------|----------|----------|----------|-----------|-----------|-----------|-----------|------------"
for input in "${inputs[@]}"; do
	name=${input%%|*}
	read -r new _ <<<"$(median "$name.kitgen.new")"
	read -r gen _ <<<"$(median "$name.kitgen.generate")"
	read -r chk _ chk_wall <<<"$(median "$name.kitgen.check")"
	read -r goctl _ <<<"$(median "$name.goctl")"
	read -r protoc _ <<<"$(median "$name.protoc")"
	printf '| %-11s | %8s | %8s | %8s | %8s | %8s | %9s | %9s | %9s | %9s | %10s |\n' "$name" \
		"$(ms "$new")" "$(ms "$gen")" "$(ms "$chk")" "$(ms "$goctl")" "$(ms "$protoc")" \
		"$(ratio "$new" "$goctl")" "$(ratio "$new" "$protoc")" "$(ratio "$chk" "$goctl")" "$(ratio "$chk" "$protoc")" \
		"$(ms "${chk_wall:-fail}")"
done

echo
echo "Peak memory (MiB, largest process)"
echo
printf '| %-11s | %8s | %8s | %8s | %8s | %8s |\n' input "new" generate check goctl protoc
printf '|%s|\n' "-------------|----------|----------|----------|----------|----------"
for input in "${inputs[@]}"; do
	name=${input%%|*}
	row=()
	for key in kitgen.new kitgen.generate kitgen.check goctl protoc; do
		m=$(median "$name.$key")
		if [ "$m" = fail ]; then row+=(fail); else row+=("$(mib "${m#* }")"); fi
	done
	printf '| %-11s | %8s | %8s | %8s | %8s | %8s |\n' "$name" "${row[@]}"
done

echo
echo "Growth of CPU at each doubling of the synthetic RPC count"
echo
printf '| %-15s | %7s | %7s | %7s | %7s | %7s |\n' RPCs "new" generate check goctl protoc
printf '|%s|\n' "-----------------|---------|---------|---------|---------|---------"
prev=
for n in $sizes; do
	if [ -n "$prev" ] && [ "$n" -eq $((prev * 2)) ]; then
		row=()
		for key in kitgen.new kitgen.generate kitgen.check goctl protoc; do
			read -r a _ <<<"$(median "synth$prev.$key")"
			read -r b _ <<<"$(median "synth$n.$key")"
			row+=("$(ratio "$b" "$a")")
		done
		printf '| %-15s | %7s | %7s | %7s | %7s | %7s |\n' "$prev -> $n" "${row[@]}"
	fi
	prev=$n
done

for err in "$work"/t/*.err; do
	[ -e "$err" ] || continue
	key=$(basename "$err" .err)
	echo
	echo "$key failed:"
	tail -n 3 "$err"
done
