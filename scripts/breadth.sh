#!/usr/bin/env bash
# Breadth test on real protos: runs `kitgen new` on every service proto of a
# googleapis checkout (google/, grafeas/ and the rest), counts what generates,
# what is refused for a documented reason (README, "Breadth"), what fails and
# what panics; then `go build` + `go vet` on a seeded sample of API families
# (one service proto each). Prints the counts; exits 1 unless every proto
# generates or is refused for a documented reason, no run panics and every
# built project builds and vets.
#
#   scripts/breadth.sh GOOGLEAPIS [--lang go|rust] [--sample N] [--seed S] [--jobs J] [--out DIR]
#
# GOOGLEAPIS is a checkout (https://github.com/googleapis/googleapis); its
# root is the -I root. Go's caches are the user's own (shared by every build).
# With --lang rust the projects are the Rust target's, and each sampled one
# is built with `cargo build --locked`, linted with `cargo clippy
# --all-targets -- -D warnings`, checked with `cargo fmt --check` and tested
# (`cargo test --locked`: its own tests, and no proto comment as a doctest), one at a
# time, into one CARGO_TARGET_DIR ($KITGEN_RUST_TARGET_DIR, default the
# tests' target/rust-e2e, so the dependencies are built once).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

usage() { echo "usage: $0 GOOGLEAPIS [--lang go|rust] [--sample N] [--seed S] [--jobs J] [--out DIR]" >&2; exit 2; }
[ $# -ge 1 ] || usage
root=$(cd "$1" && pwd)
shift
lang=go sample=100 seed=1 jobs=2 out=
while [ $# -gt 0 ]; do
	case "$1" in
	--lang) lang=$2; shift 2 ;;
	--sample) sample=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	*) usage ;;
	esac
done
case "$lang" in go | rust) ;; *) usage ;; esac
if [ -z "$out" ]; then
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

kitgen=${KITGEN:-}
if [ -z "$kitgen" ]; then
	cargo build --release --quiet --manifest-path "$here/Cargo.toml"
	kitgen="$here/target/release/kitgen"
fi

# Refusals that are documented limitations, one extended regexp each (the
# README's "Breadth" section lists the same reasons). The Rust target's own:
# an RPC named like a method of tonic's generated client.
documented='kitgen reads edition
declares no rpc
matches the same requests as a route of'
if [ "$lang" = rust ]; then
	documented="$documented
tonic's client [A-Za-z0-9_]+ has a method [a-z_]+ of its own"
fi

# Every .proto that declares a service, relative to the root, sorted.
(cd "$root" && grep -rlE --include='*.proto' '^service[[:space:]]+[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\{' . |
	sed 's|^\./||' | LC_ALL=C sort) > "$out/protos"
total=$(wc -l < "$out/protos")

# One run: "<index> <status> <proto>" with status generated, refused,
# undocumented (an exit 2 without a documented reason), failed or panicked.
export root out kitgen documented lang
run_one() {
	local i=$1 proto=$2 dir="$out/p/$1" status
	mkdir -p "$out/log"
	local target=(--module "example.com/p$i")
	[ "$lang" = rust ] && target=(--lang rust)
	set +e
	"$kitgen" new "p$i" "${target[@]}" --proto "$proto" -I "$root" --dir "$dir" \
		> "$out/log/$i.out" 2> "$out/log/$i.err"
	local code=$?
	set -e
	case "$code" in
	0) status=generated ;;
	2) if grep -qEf <(printf '%s\n' "$documented") "$out/log/$i.err"; then
		status=refused
	else
		status=undocumented
	fi ;;
	101) status=panicked ;;
	*) if grep -q panicked "$out/log/$i.err"; then status=panicked; else status=failed; fi ;;
	esac
	echo "$i $status $proto" > "$out/log/$i.status"
}
export -f run_one
nl -nln -w1 -s' ' "$out/protos" | xargs -P "$jobs" -L 1 bash -c 'run_one "$0" "$1"'
for i in $(seq 1 "$total"); do cat "$out/log/$i.status"; done > "$out/results"

count() { awk -v s="$1" '$2 == s' "$out/results" | wc -l | tr -d ' '; }
echo "service protos: $total"
for s in generated refused undocumented failed panicked; do
	echo "  $s: $(count "$s")"
done
for s in undocumented failed panicked; do
	awk -v s="$s" '$2 == s' "$out/results" | while read -r i _ proto; do
		echo "  $s $proto: $(grep -v '^\s*$' "$out/log/$i.err" | head -3 | tr '\n' ' ' | cut -c1-300)"
	done
done
if [ "$(count refused)" -gt 0 ]; then
	echo "refusal reasons:"
	awk '$2 == "refused" { print $1 }' "$out/results" | while read -r i; do
		grep -m1 -oE "error: .*" "$out/log/$i.err" | cut -c1-120
	done | sort | uniq -c | sort -rn
fi

# The build sample: API families (the proto's directory without its version),
# one generated service proto each, chosen by a seeded shuffle.
awk '$2 == "generated" { print $1, $3 }' "$out/results" | while read -r i proto; do
	family=$(dirname "$proto" | sed -E 's#/v[0-9][^/]*$##')
	echo "$family $i"
done | awk '!seen[$1]++' > "$out/families"
families=$(wc -l < "$out/families")
# (Through a file: `shuf | head` fails with SIGPIPE under pipefail.)
shuf --random-source=<(yes "$seed") "$out/families" > "$out/shuffled"
head -n "$sample" "$out/shuffled" | LC_ALL=C sort > "$out/sample"
built=$(wc -l < "$out/sample")

build_one() {
	local family=$1 i=$2 dir="$out/p/$2" status=ok
	if [ "$lang" = rust ]; then
		if ! (cd "$dir" && cargo build --locked && cargo clippy --locked --all-targets -- -D warnings &&
			cargo fmt --check && cargo test --locked) > "$out/log/$i.build" 2>&1; then
			status=failed
		fi
	elif ! (cd "$dir" && go build ./... && go vet ./...) > "$out/log/$i.build" 2>&1; then
		status=failed
	fi
	echo "$status $family $i" > "$out/log/$i.status"
}
export -f build_one
if [ "$lang" = rust ]; then
	# One build at a time: they share one target dir (cargo would serialize
	# them on its lock anyway); the caller's RUSTFLAGS would rebuild it.
	export CARGO_TARGET_DIR=${KITGEN_RUST_TARGET_DIR:-$here/target/rust-e2e}
	unset RUSTFLAGS CARGO_BUILD_RUSTFLAGS
	# Each project is built once: incremental state and full debug info
	# would only fill the disk (as the test suite's builds, tests/support).
	export CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=line-tables-only
	jobs=1
fi
xargs -P "$jobs" -L 1 bash -c 'build_one "$0" "$1"' < "$out/sample"
while read -r _ i; do cat "$out/log/$i.status"; done < "$out/sample" | LC_ALL=C sort -k2 > "$out/builds"
ok=$(awk '$1 == "ok"' "$out/builds" | wc -l | tr -d ' ')
if [ "$lang" = rust ]; then
	echo "API families: $families; built, linted, fmt-checked and tested (seed $seed): $ok of $built"
else
	echo "API families: $families; built and vetted (seed $seed): $ok of $built"
fi
awk '$1 == "failed" { print $2, $3 }' "$out/builds" | while read -r family i; do
	echo "  build failed: $family ($(sed -n "${i}p" "$out/protos")): $(grep -m2 -E '\.(go|rs):[0-9]+|^error' "$out/log/$i.build" | tr '\n' ' ' | cut -c1-300)"
done

bad=$(( $(count undocumented) + $(count failed) + $(count panicked) + built - ok ))
[ "$bad" -eq 0 ]
