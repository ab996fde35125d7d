#!/usr/bin/env bash
# make bench: import benchmarks on the real io-uring epoch, side by side
# with public-inbox-index in the same run. Prints Markdown (also saved to
# .cache/bench.md) for doc/bench.md.
#   BENCH_RUNS=N       runs of each patchtrail measurement (default 3)
#   BENCH_PI_FULL=1    also time public-inbox-index at its full level (~13 min)
#
# `.ci/bench.sh search` (make bench-search) measures query latency instead:
# the HTML search page of public-inbox-httpd, of patchtrail serve
# --no-result-cache and of patchtrail built at BENCH_BASE (default: the
# commit before stemming, result cache off too), side by side in one run,
# warm, one client, on one year of the corpus (BENCH_SLICE, default 2023;
# BENCH_SLICE=all: the whole epoch, the issue's "at 33k").
#   BENCH_REPS=N       timed requests per query and server (default 5, after one warm-up)
#   BENCH_BASE=REV     the build to compare with
#   BENCH_QUERIES=FILE queries, one a line (default: the 40 below)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${PATCHTRAIL_CORPUS:-.cache/corpus}/io-uring
[ -d "$corpus/git/0.git" ] || { echo "bench: no corpus at $corpus (make corpus)" >&2; exit 1; }

# bench_search: the query latency comparison (see the top).
bench_search() {
	local slice=${BENCH_SLICE:-2023} reps=${BENCH_REPS:-5}
	local base=${BENCH_BASE:-$(git log --diff-filter=A --format=%h -- search/stem.go | tail -1)^}
	local cache=.cache/bench-search/$slice
	work=$(mktemp -d) # not local: the EXIT trap removes it
	trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
	mkdir -p "$cache"
	go build -o "$work/new" ./cmd/patchtrail
	# The base build, with its search result cache off (it has no
	# --no-result-cache flag).
	mkdir "$work/base-src"
	git archive "$base" | tar -x -C "$work/base-src"
	sed -i 's/&search.Options{ReadOnly: readOnly, Logger: e.log}/\&search.Options{ReadOnly: readOnly, Logger: e.log, CacheEntries: -1}/' "$work/base-src/cmd/patchtrail/search.go"
	grep -q 'CacheEntries: -1' "$work/base-src/cmd/patchtrail/search.go" || { echo "bench: cannot turn the result cache of $base off" >&2; exit 1; }
	(cd "$work/base-src" && go build -o "$work/base" ./cmd/patchtrail)

	# The slice as a public-inbox v2 inbox, indexed by public-inbox
	# (kept in $cache between runs: it does not depend on patchtrail).
	local inbox=$cache/io-uring
	export PI_CONFIG=$PWD/$cache/config HOME=$PWD/$cache
	if [ ! -f "$cache/indexed" ]; then
		rm -rf "$cache" && mkdir -p "$cache"
		# The year's messages, in order: public-inbox commits a message with
		# its date, so git log selects them; one commit per message, as
		# public-inbox v2 stores them.
		local range=()
		[ "$slice" = all ] || range=(--since="$slice-01-01T00:00:00Z" --until="$((slice + 1))-01-01T00:00:00Z")
		git --git-dir="$corpus/git/0.git" log --reverse --format='%H:m' "${range[@]}" |
			git --git-dir="$corpus/git/0.git" cat-file --batch |
			python3 -c '
import sys
r, out, i = sys.stdin.buffer, sys.stdout.buffer, 0
while True:
    hdr = r.readline()
    if not hdr: break
    if hdr.split()[-1] == b"missing": continue  # the epoch lacks one blob
    body = r.read(int(hdr.split()[2])); r.read(1)
    subj = b"message %d" % i
    out.write(b"commit refs/heads/master\nauthor S <s@bench.invalid> %d +0000\ncommitter P <p@bench.invalid> %d +0000\ndata %d\n%s\n" % (10**9 + i, 10**9 + i, len(subj), subj))
    out.write(b"M 100644 inline m\ndata %d\n" % len(body) + body + b"\n")
    i += 1
' >"$work/slice.fi"
		git init -q --bare "$inbox/git/0.git"
		git --git-dir="$inbox/git/0.git" fast-import --quiet <"$work/slice.fi"
		git --git-dir="$inbox/git/0.git" symbolic-ref HEAD refs/heads/master
		public-inbox-init -V2 io-uring "$inbox" http://127.0.0.1/io-uring io-uring@vger.kernel.org
		public-inbox-index --no-fsync "$inbox"
		touch "$cache/indexed"
	fi
	"$work/new" -q --data "$work/d-new" import "$inbox" >/dev/null
	"$work/base" -q --data "$work/d-base" import "$inbox" >/dev/null
	local msgs
	msgs=$("$work/new" --data "$work/d-new" stats --json | awk -F'[:,]' '/"messages"/ {gsub(/ /,"",$2); print $2; exit}')

	free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
	local ppi pnew pbase
	ppi=$(free_port); pnew=$(free_port); pbase=$(free_port)
	public-inbox-httpd -l "http://127.0.0.1:$ppi" >"$work/pi.log" 2>&1 &
	"$work/new" -q --data "$work/d-new" serve --addr "127.0.0.1:$pnew" --no-result-cache 2>"$work/new.log" &
	# A base whose serve has --no-result-cache opens its index there, not
	# through the openIndex patched above: turn its cache off with the flag.
	local base_nocache=
	if grep -q -- no-result-cache "$work/base-src/cmd/patchtrail/serve.go" 2>/dev/null; then base_nocache=--no-result-cache; fi
	"$work/base" -q --data "$work/d-base" serve --addr "127.0.0.1:$pbase" $base_nocache 2>"$work/base.log" &
	local u
	for u in "http://127.0.0.1:$ppi/io-uring/_/text/help/" "http://127.0.0.1:$pnew/io-uring/_/text/help/" "http://127.0.0.1:$pbase/io-uring/_/text/help/"; do
		for _ in $(seq 100); do curl -sf -o /dev/null "$u" && break; sleep 0.2; done
		curl -sf -o /dev/null "$u" || { echo "bench: no server at $u" >&2; cat "$work"/*.log >&2; exit 1; }
	done

	local queries=${BENCH_QUERIES:-$work/queries}
	[ -n "${BENCH_QUERIES:-}" ] || cat >"$queries" <<'Q'
s:fix
s:fixes
s:fixed f:pavel
b:leak
b:leaks
s:buffers
io_uring
s:io_uring
f:axboe
f:asml.silence@gmail.com
s:"io_uring/net"
dfn:io_uring/net.c
dfn:io_uring/rw.c
s:PATCH AND s:v2
s:net NOT f:pavel
s:net NOT f:pavel d:2023-01-01..2023-06-01
b:IORING_OP_SEND_ZC
nq:READ_ONCE
sqpoll
s:sqpoll OR s:sqe
b:"Reviewed-by: Jens Axboe"
s:liburing
d:2023-03-01..2023-04-01
s:cancel*
b:deadlock
b:locking
s:registered buffers
multishot
s:multishot recv
f:ming.lei
s:ublk
b:splice
s:(poll OR timeout) AND NOT s:Re
t:io-uring@vger.kernel.org
c:linux-block@vger.kernel.org
s:regression
b:WARN_ON_ONCE
s:uring_cmd
b:"Signed-off-by: Pavel Begunkov"
s:test AND f:axboe
Q
	# One warm-up request per query and server, then BENCH_REPS rounds of
	# one request to each server: "server query-number seconds".
	timeq() { curl -s -o /dev/null -G --data-urlencode "q=$2" -w '%{time_total}' "$1"; }
	local n=0 q r order
	local load_before
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	while IFS= read -r q; do
		[ -n "$q" ] || continue
		n=$((n + 1))
		for u in "$ppi" "$pnew" "$pbase"; do timeq "http://127.0.0.1:$u/io-uring/" "$q" >/dev/null; done
		for r in $(seq "$reps"); do
			# Each round in another order: no server always follows the same one.
			case $(((n + r) % 3)) in
			0) order="pi:$ppi new:$pnew base:$pbase" ;;
			1) order="new:$pnew base:$pbase pi:$ppi" ;;
			2) order="base:$pbase pi:$ppi new:$pnew" ;;
			esac
			for u in $order; do
				echo "${u%%:*} $n $(timeq "http://127.0.0.1:${u#*:}/io-uring/" "$q")"
			done
		done
	done <"$queries" >"$work/times"
	python3 - "$work/times" "$n" "$reps" "$slice" "$msgs" "$base" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)" "$queries" "${BENCH_BASE:+the base}" <<'PY' | tee .cache/bench-search.md
import statistics as st, sys
path, n, reps, slc, msgs, base, lb, la, cores, qpath, what = sys.argv[1:]
what = what or "before stemming"
t = {}
for line in open(path):
    s, q, v = line.split()
    t.setdefault(s, {}).setdefault(int(q), []).append(float(v) * 1000)
med = {s: {q: st.median(v) for q, v in qs.items()} for s, qs in t.items()}
def pct(vals, p):
    v = sorted(vals); return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]
names = {'pi': 'public-inbox-httpd', 'new': 'patchtrail serve --no-result-cache', 'base': 'patchtrail at %s (%s, cache off)' % (base, what)}
print(f"Query latency, HTML search page, warm, one client: {n} queries × {reps} timed requests after a warm-up, "
      f"the three servers in turn (in a rotating order) for each round; slice {slc} of io-uring ({msgs} messages); {cores} cores, load average {lb} before, {la} after.")
print("Command: `.ci/bench.sh search` (per query the median of its requests; ms).\n")
print("| server | p50 | p90 | max | sum | sum ÷ public-inbox |")
print("|---|---|---|---|---|---|")
for s in ('pi', 'new', 'base'):
    v = list(med[s].values())
    print(f"| {names[s]} | {pct(v, 50):.1f} | {pct(v, 90):.1f} | {max(v):.1f} | {sum(v):.0f} | {sum(v) / sum(med['pi'].values()):.2f} |")
qs = sorted(med['pi'])
rel = [med['new'][q] / med['base'][q] for q in qs]
pn, pp = pct(list(med['new'].values()), 50), pct(list(med['pi'].values()), 50)
print(f"\np50, patchtrail ÷ public-inbox-httpd: {pn / pp:.2f}.")
print(f"Per query, patchtrail now ÷ patchtrail {what}: median {st.median(rel):.2f}, "
      f"geometric mean {st.geometric_mean(rel):.2f}, range {min(rel):.2f}–{max(rel):.2f}.")
print(f"patchtrail now slower than public-inbox-httpd on {sum(med['new'][q] > med['pi'][q] for q in qs)} of {len(qs)} queries; "
      f"{what} on {sum(med['base'][q] > med['pi'][q] for q in qs)}.")
queries = [l.rstrip("\n") for l in open(qpath) if l.strip()]
slow = [q for q in qs if med['new'][q] > med['pi'][q]]
if slow:
    print("\n| query slower than public-inbox-httpd | public-inbox ms | patchtrail ms |")
    print("|---|---|---|")
    for q in slow:
        print(f"| `{queries[q - 1]}` | {med['pi'][q]:.1f} | {med['new'][q]:.1f} |")
PY
}
[ "${1:-}" = search ] && { bench_search; exit 0; }
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
