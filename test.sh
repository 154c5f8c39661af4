#!/usr/bin/env bash
# ./test.sh — run every test of sonde. As root it first installs the Debian
# packages the tests use (the peers they compare against: tcpdump, tshark,
# nmap, mmdblookup, chromium for the report…) and runs the privileged lab tests for real; without
# root those tests skip with a hint (or fail under SONDE_REQUIRE_PRIVILEGED=1).
#
# The tests run inside a network namespace of their own that has only a
# loopback: nothing they do can reach any network but the labs they build.
# Extra arguments go to `go test` (e.g. ./test.sh -run Lab ./lab/...).
set -euo pipefail
cd "$(dirname "$0")"
export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin
GO=$(command -v go) || { echo "test.sh: Go is not installed (https://go.dev/doc/install)" >&2; exit 1; }

packages=(iproute2 nftables iputils-ping traceroute util-linux tcpdump tshark nmap mmdb-bin libxml2-utils ndiff bc chromium)
if [ "$(id -u)" -eq 0 ]; then
  missing=()
  for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

"$GO" mod download
bindir=$(mktemp -d)
trap 'rm -rf "$bindir"' EXIT
chmod 755 "$bindir"
CGO_ENABLED=0 "$GO" build -o "$bindir/sonde" ./cmd/sonde
export SONDE_BIN=$bindir/sonde
export GOFLAGS=${GOFLAGS:--count=1}

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(./...)
race=()
if [ "${SONDE_RACE:-1}" = 1 ] && command -v gcc >/dev/null; then race=(-race); fi

if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
  # A fresh network namespace with only lo: the tests' own sandbox.
  exec unshare --net -- sh -c 'ip link set lo up && exec "$0" test "$@"' "$GO" "${race[@]}" -timeout 20m "${args[@]}"
fi
exec "$GO" test "${race[@]}" -timeout 20m "${args[@]}"
