#!/usr/bin/env bash
# make fuzz: run every fuzz target of the project for FUZZTIME each.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-60s}
go test -list '^Fuzz' ./... | awk '/^Fuzz/ {f[++n] = $1} /^ok/ {for (i = 1; i <= n; i++) print $2, f[i]; n = 0}' |
while read -r pkg target; do
	echo "== $pkg $target"
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
done
