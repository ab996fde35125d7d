#!/bin/bash
# The security-fix radar on real lists (doc/radar.md): imports each list
# of RADAR_LISTS ("name=source,...": public-inbox directories or bare
# epoch git directories) into its own data directory under RADAR_DATA,
# unpacks the kernel CVE records once, then runs .ci/radar with the
# arguments given ("eval -from 2025-01-01" or "model -o FILE").
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
DATA=${RADAR_DATA:-.cache/radar}
LISTS=${RADAR_LISTS:-io-uring=${PATCHTRAIL_CORPUS:-.cache/corpus}/io-uring}
mkdir -p "$DATA"
if [ ! -d "$DATA/vulns/cve/published" ]; then
	echo "unpacking vulns-full.tar.xz into $DATA/vulns" >&2
	mkdir -p "$DATA/vulns.part"
	tar -C "$DATA/vulns.part" -xJf "$SHARED/corpus/vulns-full.tar.xz"
	mv "$DATA/vulns.part" "$DATA/vulns"
fi
go build -o "$DATA/patchtrail" ./cmd/patchtrail
spec=""
for l in ${LISTS//,/ }; do
	name=${l%%=*} src=${l#*=}
	# Idempotent: a list imported before only reads what is new.
	"$DATA/patchtrail" -q --data "$DATA/$name" import --no-index --list "$name" "$src" >&2
	spec+="${spec:+,}$name=$DATA/$name"
done
exec go run ./.ci/radar -lists "$spec" -vulns "$DATA/vulns" \
	-dates "$SHARED/corpus/cve-published-dates.tsv" -cache "$DATA/records" "$@"
