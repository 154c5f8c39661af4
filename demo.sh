#!/usr/bin/env bash
# ./demo.sh — build sonde and run `sonde lab demo`: it builds a virtual
# network of namespaces on this machine (no network access, no downloads
# beyond Go modules) and shows every capability of sonde against it.
# As root the lab is visible to `ip netns`; otherwise it runs in a user
# namespace. Extra arguments go to `sonde lab demo`.
set -euo pipefail
cd "$(dirname "$0")"
export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin
GO=$(command -v go) || { echo "demo.sh: Go is not installed (https://go.dev/doc/install)" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ]; then
  missing=()
  for p in iproute2 nftables; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
mkdir -p bin
CGO_ENABLED=0 "$GO" build -o bin/sonde ./cmd/sonde
exec bin/sonde lab demo "$@"
