#!/usr/bin/env bash
# Linking accuracy, as reported in doc/linking.md:
#  1. liburing commits against the io-uring archive, linked with
#     --ignore-link-trailers and scored against their Link: trailers
#     (precision and recall of the best link, patch-id-only recall, time);
#     then the same for a second project: erofs-utils against the
#     linux-erofs archive;
#  2. CVE traces: for the io_uring CVEs of the vulns repository (by
#     programFiles), how many titles equal the subject of an io-uring patch
#     mail at all (read independently from the archive's git log), and for
#     how many of those `patchtrail trace --json CVE-…` finds that posting.
# Needs git, jq and bc. Inputs (env): PATCHTRAIL_CORPUS (holding
# io-uring/git/0.git), PATCHTRAIL_LIBURING (a clone of axboe/liburing, bare
# or not), PATCHTRAIL_VULNS (the vulns repository), PATCHTRAIL_EROFS_LIST (a
# public-inbox archive of linux-erofs: a directory holding git/0.git, e.g. a
# clone of github.com/linux-mailinglist-archives/linux-erofs.lists.ozlabs.org.0
# as git/0.git) and PATCHTRAIL_EROFS_UTILS (a clone of
# github.com/erofs/erofs-utils). A project whose inputs are absent is
# skipped with a message. Each archive is imported once into its data
# directory (under LINKING_DATA) and reused. SKIP_BUILD=1 uses an existing
# $BIN.
set -euo pipefail
cd "$(dirname "$0")/.."

CORPUS=${PATCHTRAIL_CORPUS:-.cache/corpus}
LIBURING=${PATCHTRAIL_LIBURING:-}
VULNS=${PATCHTRAIL_VULNS:-../shared/corpus/vulns}
EROFS_LIST=${PATCHTRAIL_EROFS_LIST:-}
EROFS_UTILS=${PATCHTRAIL_EROFS_UTILS:-}
DATA=${LINKING_DATA:-.cache/linking-data}
OUT=${LINKING_OUT:-.cache/linking}
BIN=${BIN:-bin/patchtrail}
# Bumped when an import must be redone for linking (2: diffs in replies).
IMPORT_VERSION=2

command -v jq >/dev/null || { echo "linking: jq is needed" >&2; exit 1; }
mkdir -p "$OUT" "$(dirname "$BIN")"
[ -n "${SKIP_BUILD:-}" ] || go build -o "$BIN" ./cmd/patchtrail

# import DIR ARCHIVE: the archive imported into data directory DIR, once.
import() {
	local dir=$1 archive=$2
	if [ "$(cat "$dir/linking-import" 2>/dev/null)" != "$IMPORT_VERSION" ]; then
		echo "== importing $archive into $dir (once)"
		rm -rf "$dir"
		"$BIN" -q --data "$dir" import --no-index "$archive"
		echo "$IMPORT_VERSION" >"$dir/linking-import"
	fi
}

# accuracy DIR NAME REPO: link REPO as NAME with --ignore-link-trailers
# and score the best links against the Link: trailers.
accuracy() {
	local dir=$1 name=$2 repo=$3 json="$OUT/link-$2.json"
	"$BIN" -q --data "$dir" repo add "$name" "$repo" >/dev/null
	local start end
	start=$(date +%s.%N)
	"$BIN" -q --data "$dir" link --repo "$name" --ignore-link-trailers --full --score --json >"$json"
	end=$(date +%s.%N)
	jq -r '.results[] | "read \(.read) commits, relinked \(.relinked), linked \(.linked) \(.grades) in \(.elapsed_ns/1e9*100|round/100) s\(if .problems then ", \(.problems|length) unreadable" else "" end)"' "$json"
	echo "wall time (with store open and git): $(echo "$end - $start" | bc) s"
	jq -r '.accuracy[] |
		"window \(.window_start[:10])..\(.window_end[:10]): \(.commits) commits, \(.truth) with a Link: trailer naming a stored patch mail",
		"best link precision \(.precision*10000|round/10000) (\(.correct)/\(.linked))   recall \(.recall*10000|round/10000) (\(.correct)/\(.truth))",
		"patch-id only recall \(.patch_id_recall*10000|round/10000) (\(.patch_id)/\(.truth))   correct by grade \(.correct_by_grade)",
		"linked commits without a Link: trailer (not scorable): \(.linked_without_truth)",
		(.misses // [] | .[] | "  miss \(.sha[:12]) \(.subject)\n       want <\(.want)>\n       got  <\(.got // "-")> \(.grade // "") \(.score // "")")' "$json"
}

have_liburing=yes
if [ ! -d "$CORPUS/io-uring/git/0.git" ]; then
	echo "linking: skipping liburing and the CVE traces: set PATCHTRAIL_CORPUS to a directory holding io-uring/git/0.git" >&2
	have_liburing=no
elif [ -z "$LIBURING" ] || [ ! -d "$LIBURING" ]; then
	echo "linking: skipping liburing and the CVE traces: set PATCHTRAIL_LIBURING to a clone of https://github.com/axboe/liburing" >&2
	have_liburing=no
fi
if [ $have_liburing = yes ]; then
	echo "== 1. liburing against io-uring: link --ignore-link-trailers --full --score"
	import "$DATA" "$CORPUS/io-uring"
	accuracy "$DATA" liburing "$LIBURING"
fi

if [ -z "$EROFS_LIST" ] || [ ! -d "$EROFS_LIST/git" ] || [ -z "$EROFS_UTILS" ] || [ ! -d "$EROFS_UTILS" ]; then
	echo "linking: skipping erofs-utils: set PATCHTRAIL_EROFS_LIST to a public-inbox archive of linux-erofs (holding git/0.git) and PATCHTRAIL_EROFS_UTILS to a clone of https://github.com/erofs/erofs-utils" >&2
else
	echo "== 1b. erofs-utils against linux-erofs: link --ignore-link-trailers --full --score"
	import "$DATA-erofs" "$EROFS_LIST"
	accuracy "$DATA-erofs" erofs-utils "$EROFS_UTILS"
fi
[ $have_liburing = yes ] || exit 0
pt() { "$BIN" -q --data "$DATA" "$@"; }

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
