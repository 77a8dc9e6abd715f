#!/usr/bin/env bash
# Breadth test on grpc-gateway's own protos: runs `kitgen new` on every
# .proto of a grpc-gateway checkout that declares a service (its root and a
# googleapis checkout are the -I roots, as its buf deps are), then
# `go build ./... && go vet ./...` on each project generated. Prints one
# line per proto and the counts; exits 1 unless every proto generates (or
# is refused for a reason the README's "Breadth" section documents) and
# every generated project builds and vets.
#
#   scripts/breadth-grpc-gateway.sh GRPC_GATEWAY GOOGLEAPIS [--out DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

usage() { echo "usage: $0 GRPC_GATEWAY GOOGLEAPIS [--out DIR]" >&2; exit 2; }
[ $# -ge 2 ] || usage
root=$(cd "$1" && pwd)
googleapis=$(cd "$2" && pwd)
shift 2
out=
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=$2; shift 2 ;;
	*) usage ;;
	esac
done
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

# Documented refusals (README, "Breadth"): editions kitgen cannot read, and
# google.api.http extensions http.proto forbids (a nested body field, a
# repeated path variable).
documented='kitgen reads edition|edition 2023 files need
must name a top-level field of the request
is repeated$'

ok=0 refused=0 failed=0 i=0
while read -r proto; do
	i=$((i + 1))
	dir="$out/p$i"
	if "$kitgen" new "p$i" --proto "$proto" -I "$root" -I "$googleapis" \
		--module "example.com/p$i" --dir "$dir" > "$out/$i.gen" 2>&1; then
		if (cd "$dir" && go build ./... && go vet ./...) > "$out/$i.build" 2>&1; then
			ok=$((ok + 1))
			echo "ok        $proto"
		else
			failed=$((failed + 1))
			echo "FAILED    $proto: $(grep -m3 -E '\.go:[0-9]+' "$out/$i.build" | tr '\n' ' ' | cut -c1-300)"
		fi
	elif grep -qEf <(printf '%s\n' "$documented") "$out/$i.gen"; then
		refused=$((refused + 1))
		echo "refused   $proto: $(grep -m1 'error:' "$out/$i.gen" | cut -c1-200)"
	else
		failed=$((failed + 1))
		echo "FAILED    $proto: $(head -3 "$out/$i.gen" | tr '\n' ' ' | cut -c1-300)"
	fi
done < <(cd "$root" && grep -rlE --include='*.proto' '^service[[:space:]]+[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\{' . |
	sed 's|^\./||' | LC_ALL=C sort)
echo "service protos: $i; generated, built and vetted: $ok; refused (documented): $refused; failed: $failed"
[ "$failed" -eq 0 ]
