#!/usr/bin/env bash
# Linking accuracy, as reported in doc/linking.md:
#  1. liburing commits against the io-uring archive, linked with
#     --ignore-link-trailers and scored against their Link: trailers
#     (precision and recall of the best link, patch-id-only recall, time);
#  2. CVE traces: for the io_uring CVEs of the vulns repository (by
#     programFiles), how many titles equal the subject of an io-uring patch
#     mail at all (read independently from the archive's git log), and for
#     how many of those `patchtrail trace --json CVE-…` finds that posting.
# Needs git, jq and bc. Inputs (env): PATCHTRAIL_CORPUS (holding
# io-uring/git/0.git), PATCHTRAIL_LIBURING (a clone of axboe/liburing, bare
# or not), PATCHTRAIL_VULNS (the vulns repository). The archive is imported
# once into LINKING_DATA and reused. SKIP_BUILD=1 uses an existing $BIN.
set -euo pipefail
cd "$(dirname "$0")/.."

CORPUS=${PATCHTRAIL_CORPUS:-.cache/corpus}
LIBURING=${PATCHTRAIL_LIBURING:-}
VULNS=${PATCHTRAIL_VULNS:-../shared/corpus/vulns}
DATA=${LINKING_DATA:-.cache/linking-data}
OUT=${LINKING_OUT:-.cache/linking}
BIN=${BIN:-bin/patchtrail}

if [ ! -d "$CORPUS/io-uring/git/0.git" ]; then
	echo "linking: corpus absent: set PATCHTRAIL_CORPUS to a directory holding io-uring/git/0.git" >&2
	exit 1
fi
if [ -z "$LIBURING" ] || [ ! -d "$LIBURING" ]; then
	echo "linking: set PATCHTRAIL_LIBURING to a clone of https://github.com/axboe/liburing" >&2
	exit 1
fi
command -v jq >/dev/null || { echo "linking: jq is needed" >&2; exit 1; }

mkdir -p "$OUT" "$(dirname "$BIN")"
[ -n "${SKIP_BUILD:-}" ] || go build -o "$BIN" ./cmd/patchtrail
pt() { "$BIN" -q --data "$DATA" "$@"; }

if [ ! -f "$DATA/store.db" ]; then
	echo "== importing $CORPUS/io-uring into $DATA (once)"
	pt import --no-index "$CORPUS/io-uring"
fi

echo "== 1. liburing: link --ignore-link-trailers --full --score"
pt repo add liburing "$LIBURING" >/dev/null
start=$(date +%s.%N)
pt link --repo liburing --ignore-link-trailers --full --score --json >"$OUT/link.json"
end=$(date +%s.%N)
jq -r '.results[] | "read \(.read) commits, relinked \(.relinked), linked \(.linked) \(.grades) in \(.elapsed_ns/1e9*100|round/100) s"' "$OUT/link.json"
echo "wall time (with store open and git): $(echo "$end - $start" | bc) s"
jq -r '.accuracy[] |
	"window \(.window_start[:10])..\(.window_end[:10]): \(.commits) commits, \(.truth) with a Link: trailer naming a stored patch mail",
	"best link precision \(.precision*10000|round/10000) (\(.correct)/\(.linked))   recall \(.recall*10000|round/10000) (\(.correct)/\(.truth))",
	"patch-id only recall \(.patch_id_recall*10000|round/10000) (\(.patch_id)/\(.truth))   correct by grade \(.correct_by_grade)",
	"linked commits without a Link: trailer (not scorable): \(.linked_without_truth)",
	(.misses // [] | .[] | "  miss \(.sha[:12]) \(.subject)\n       want <\(.want)>\n       got  <\(.got // "-")> \(.grade // "") \(.score // "")")' "$OUT/link.json"

echo "== 2. CVE traces"
pt cve import "$VULNS" >/dev/null
# io_uring CVEs by programFiles: id<TAB>title.
find "$VULNS/cve/published" -name 'CVE-*.json' -print0 | sort -z | xargs -0 jq -r '
	select(any(.containers.cna.affected[]?.programFiles[]?;
		startswith("io_uring/") or startswith("fs/io_uring") or startswith("fs/io-wq") or
		startswith("include/linux/io_uring") or startswith("include/uapi/linux/io_uring")))
	| [.cveMetadata.cveId, .containers.cna.title] | @tsv' >"$OUT/cves.tsv"
# Normalised subjects of the archive's patch mails (public-inbox commits
# carry the Subject): not replies, not stable backport postings (AUTOSEL,
# stable, 6.1.y, 6.1.12, 6.17-6.12; a bare "[PATCH 5.12]" names the release a
# mainline patch is meant for).
norm() { tr '[:upper:]' '[:lower:]' | sed -E 's/[[:space:]]+/ /g; s/^ //; s/[. ]+$//'; }
git -C "$CORPUS/io-uring/git/0.git" log --format=%s |
	grep -Ei '^\[[^]]*patch' | grep -Eiv '^\[[^]]*(autosel|[[ ]stable|[[ ]v?[0-9]+\.[0-9]+(\.[0-9]+|\.y|-[0-9]+\.[0-9]+))' |
	sed -E 's/^(\[[^]]*\][[:space:]]*)+//' | norm | sort -u >"$OUT/subjects.txt"
total=0 match=0 found=0 extra=0
: >"$OUT/cve-results.tsv"
while IFS=$'\t' read -r id title; do
	total=$((total + 1))
	key=$(printf '%s' "$title" | norm)
	at_all=no
	grep -qxF -- "$key" "$OUT/subjects.txt" && at_all=yes
	got=$(pt trace --json "$id" | jq -r '.posting | if . == null then "" else .subject end')
	gkey=$(printf '%s' "$got" | sed -E 's/^(\[[^]]*\][[:space:]]*)+//' | norm)
	ok=no
	[ -n "$got" ] && [ "$gkey" = "$key" ] && ok=yes
	if [ $at_all = yes ]; then
		match=$((match + 1))
		[ $ok = yes ] && found=$((found + 1))
	elif [ $ok = yes ]; then
		extra=$((extra + 1))
	fi
	printf '%s\t%s\t%s\t%s\n' "$id" "$at_all" "$ok" "$title" >>"$OUT/cve-results.tsv"
done <"$OUT/cves.tsv"
echo "io_uring CVEs (by programFiles): $total"
echo "titles equal to an io-uring patch subject: $match"
echo "of those, trace --json finds the posting: $found ($(echo "scale=4; $found / $match" | bc))"
echo "found although the archive log has no such subject: $extra"
awk -F'\t' '$2 == "yes" && $3 == "no" { print "  not found: " $1 "  " $4 }' "$OUT/cve-results.tsv"

echo "== 3. benchmark: linking the whole liburing history"
PATCHTRAIL_LIBURING="$LIBURING" PATCHTRAIL_LINK_STORE="$DATA" \
	go test -run '^$' -bench BenchmarkLinkLiburing -benchtime 3x ./internal/link | grep -E '^Benchmark|^cpu'
