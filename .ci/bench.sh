#!/usr/bin/env bash
# make bench: import benchmarks on the real io-uring epoch, side by side
# with public-inbox-index where it is installed. Prints Markdown (also
# saved to .cache/bench.md) for doc/bench.md.
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

# timed LABEL CMD...: runs CMD under /usr/bin/time, appends "label seconds maxrss_kb"
timed() {
	local label=$1; shift
	/usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
	echo "$label $(cat "$work/time")" >>"$work/results"
}

for i in $(seq "$runs"); do
	rm -rf "$work/data"
	timed "patchtrail-import" "$bin" -q --data "$work/data" import "$corpus"
	rm -rf "$work/data"
	timed "patchtrail-import-skip-patches" "$bin" -q --data "$work/data" import --skip-patches "$corpus"
done
msgs=$("$bin" --data "$work/data" stats --json | awk -F'[:,]' '/"messages"/ {gsub(/ /,"",$2); print $2}')
rm -rf "$work/data"
mb=$("$bin" -q --data "$work/data" import --json "$corpus" | awk -F'[:,]' '/"bytes"/ {gsub(/ /,"",$2); printf "%.1f", $2/1e6}')

if command -v public-inbox-index >/dev/null; then
	pi="$work/pi/io-uring"
	mkdir -p "$pi/git"
	git clone -q --mirror "$corpus/git/0.git" "$pi/git/0.git"
	export PI_CONFIG="$work/pi/config"
	public-inbox-init -V2 -L basic io-uring "$pi" http://127.0.0.1/io-uring io-uring@vger.kernel.org
	timed "public-inbox-index-basic" public-inbox-index "$pi"
fi

{
	echo "Corpus: io-uring epoch 0 ($mb MB of raw mail), $msgs messages stored. Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB."
	echo "Command: \`make bench\` ($runs runs each; median wall time, peak RSS)."
	echo
	echo "| what | wall s (median) | peak RSS MB | msgs/s | MB/s |"
	echo "|---|---|---|---|---|"
	for label in $(awk '{print $1}' "$work/results" | sort -u); do
		n=$(awk -v l="$label" '$1 == l' "$work/results" | wc -l)
		med=$(awk -v l="$label" '$1 == l {print $2}' "$work/results" | sort -n | sed -n "$(( (n + 1) / 2 ))p")
		rss=$(awk -v l="$label" '$1 == l {print $3}' "$work/results" | sort -n | tail -1)
		awk -v l="$label" -v m="$med" -v r="$rss" -v n="$msgs" -v mb="$mb" \
			'BEGIN {printf "| %s | %.2f | %.0f | %.0f | %.1f |\n", l, m, r / 1024, n / m, mb / m}'
	done
} | tee "$out"
