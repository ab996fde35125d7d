#!/usr/bin/env bash
# make bench: import benchmarks on the real io-uring epoch, side by side
# with public-inbox-index in the same run. Prints Markdown (also saved to
# .cache/bench.md) for doc/bench.md.
#   BENCH_RUNS=N       runs of each patchtrail measurement (default 3)
#   BENCH_PI_FULL=1    also time public-inbox-index at its full level (~13 min)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${PATCHTRAIL_CORPUS:-.cache/corpus}/io-uring
[ -d "$corpus/git/0.git" ] || { echo "bench: no corpus at $corpus (make corpus)" >&2; exit 1; }
runs=${BENCH_RUNS:-3}
bin=bin/patchtrail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=.cache/bench.md
mkdir -p .cache
: >"$work/results"

# timed LABEL CMD...: runs CMD under /usr/bin/time, appends "label seconds maxrss_kb"
timed() {
	local label=$1; shift
	/usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
	echo "$label $(cat "$work/time")" >>"$work/results"
}

for i in $(seq "$runs"); do
	rm -rf "$work/data"
	timed "ingest(store+patches,no-index)" "$bin" -q --data "$work/data" import --no-index "$corpus"
	rm -rf "$work/data"
	timed "ingest-without-patch-analysis" "$bin" -q --data "$work/data" import --no-index --skip-patches "$corpus"
	rm -rf "$work/data"
	timed "import+full-text-index" "$bin" -q --data "$work/data" import "$corpus"
done
msgs=$("$bin" --data "$work/data" stats --json | awk -F'[:,]' '/"messages"/ {gsub(/ /,"",$2); print $2; exit}')
index_mb=$(du -sm "$work/data/index" | awk '{print $1}')
store_mb=$(du -sm "$work/data/store.db" | awk '{print $1}')
rm -rf "$work/data"
mb=$("$bin" -q --data "$work/data" import --no-index --json "$corpus" | awk -F'[:,]' '/"bytes"/ {gsub(/ /,"",$2); printf "%.1f", $2/1e6}')

if command -v public-inbox-index >/dev/null; then
	for level in basic $([ "${BENCH_PI_FULL:-}" = 1 ] && echo full); do
		pi="$work/pi-$level/io-uring"
		mkdir -p "$pi/git"
		git clone -q --mirror "$corpus/git/0.git" "$pi/git/0.git"
		export PI_CONFIG="$work/pi-$level/config"
		public-inbox-init -V2 -L "$level" io-uring "$pi" http://127.0.0.1/io-uring io-uring@vger.kernel.org
		timed "public-inbox-index-$level" public-inbox-index "$pi"
	done
fi

median() { awk -v l="$1" '$1 == l {print $2}' "$work/results" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
{
	echo "Corpus: io-uring epoch 0 ($mb MB of raw mail), $msgs messages stored. Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "Command: \`make bench\` ($runs runs of each patchtrail measurement; median wall time, highest peak RSS)."
	echo
	echo "| what | wall s (median) | peak RSS MB | msgs/s | MB/s |"
	echo "|---|---|---|---|---|"
	for label in $(awk '{print $1}' "$work/results" | sort -u); do
		med=$(median "$label")
		rss=$(awk -v l="$label" '$1 == l {print $3}' "$work/results" | sort -n | tail -1)
		awk -v l="$label" -v m="$med" -v r="$rss" -v n="$msgs" -v mb="$mb" \
			'BEGIN {printf "| %s | %.2f | %.0f | %.0f | %.1f |\n", l, m, r / 1024, n / m, mb / m}'
	done
	ing=$(median "ingest(store+patches,no-index)"); bare=$(median "ingest-without-patch-analysis")
	awk -v a="$ing" -v b="$bare" 'BEGIN {printf "\nPatch analysis adds %.0f%% to the ingest time.\n", (a / b - 1) * 100}'
	if grep -q public-inbox-index-basic "$work/results"; then
		pib=$(median public-inbox-index-basic)
		awk -v a="$ing" -v p="$pib" 'BEGIN {printf "Ingest vs public-inbox-index -L basic: %.1fx faster.\n", p / a}'
	fi
	if grep -q public-inbox-index-full "$work/results"; then
		pif=$(median public-inbox-index-full); full=$(median "import+full-text-index")
		awk -v a="$full" -v p="$pif" 'BEGIN {printf "Import + full-text index vs public-inbox-index -L full: %.1fx faster.\n", p / a}'
	fi
	awk -v i="$index_mb" -v s="$store_mb" -v mb="$mb" 'BEGIN {printf "Search index %d MB (%.2f of the raw mail), store %d MB (%.2f).\n", i, i / mb, s, s / mb}'
} | tee "$out"
