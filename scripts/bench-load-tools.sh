# Sourced by the benchmark scripts (bench-service.sh, bench-rust.sh): finds
# or installs the load tools into $KITGEN_BENCH_CACHE (default
# ~/.cache/kitgen-bench), ghz built from the Go module proxy and wrk unpacked
# from Debian's packages without root, and sets $ghz, $wrk (a wrapper in
# $work that finds wrk's libraries) and $wrk_version. Needs $work, a scratch
# directory the sourcing script removes.
# shellcheck shell=bash disable=SC2034 # ghz, wrk and wrk_version are for the caller

WRK_DEBS="wrk libluajit2-5.1-2"
GHZ_VERSION=v0.121.0
: "${work:?set work to a scratch directory before sourcing this file}"

cache=${KITGEN_BENCH_CACHE:-$HOME/.cache/kitgen-bench}
mkdir -p "$cache/bin"
if [ ! -x "$cache/bin/ghz@$GHZ_VERSION" ]; then
	echo "building ghz@$GHZ_VERSION" >&2
	tmp=$(mktemp -d -p "$work")
	GOBIN=$tmp nice -n 10 go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"
	mv "$tmp/ghz" "$cache/bin/ghz@$GHZ_VERSION"
fi
ghz=$cache/bin/ghz@$GHZ_VERSION
wrk_root=$cache/wrk
if [ ! -x "$wrk_root/usr/bin/wrk" ]; then
	echo "unpacking Debian's wrk" >&2
	tmp=$(mktemp -d -p "$work")
	# shellcheck disable=SC2086 # a list of package names
	(cd "$tmp" && apt-get download $WRK_DEBS >/dev/null)
	for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$wrk_root"; done
fi
wrk=$work/wrk
cat >"$wrk" <<EOF
#!/bin/sh
LD_LIBRARY_PATH="$wrk_root/usr/lib/$(uname -m)-linux-gnu" exec "$wrk_root/usr/bin/wrk" "\$@"
EOF
chmod +x "$wrk"
wrk_version=$("$wrk" -v 2>&1 | head -n 1 | cut -d' ' -f2 || true)
