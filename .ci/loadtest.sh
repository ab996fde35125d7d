#!/usr/bin/env bash
# Load test of `patchtrail serve` on the full io-uring corpus: a mixed
# search / thread / raw load from wrk at 64 connections on 127.0.0.1 for
# 30 s, printing throughput, p50/p99 latency and errors.
#
#   .ci/loadtest.sh                       # uses $PATCHTRAIL_CORPUS/io-uring
#   LOADTEST_DATA=/path/to/data .ci/loadtest.sh   # an already imported data dir
#
# Environment: PATCHTRAIL_CORPUS (directory holding io-uring/git/0.git),
# LOADTEST_DATA (data dir, imported once and reused; default
# .cache/loadtest-data), LOADTEST_DURATION (default 30s),
# LOADTEST_CONNECTIONS (default 64), LOADTEST_PORT (default 18931),
# LOADTEST_PAGES and LOADTEST_REQUESTS (a wider mix, below),
# LOADTEST_SERVE_FLAGS, LOADTEST_ACCESS_LOG, LOADTEST_CPUPROFILE (below),
# LOADTEST_NOBUILD (set: use bin/patchtrail as it is),
# LOADTEST_PROFILE (below).
#
# LOADTEST_PROFILE=wide is the wider mix of doc/bench.md: search (JSON
# and pages), thread (JSON, page, t.mbox.gz), raw, message (JSON and
# page), series (JSON and page) and Atom (list feeds and search feeds)
# over thousands of paths (default 5 pages of hits per query, 4000
# distinct requests), 60 s after a warm-up that requests every path once,
# with the server's RSS sampled every second (flat = the end is no higher
# than the start of the measured run plus the caches' growth).
set -euo pipefail
cd "$(dirname "$0")/.."

. .ci/lib/serve.sh
DATA=${LOADTEST_DATA:-$PWD/.cache/loadtest-data}
PROFILE=${LOADTEST_PROFILE:-basic}
case "$PROFILE" in
basic) ;;
wide)
	: "${LOADTEST_DURATION:=60s}" "${LOADTEST_PAGES:=5}" "${LOADTEST_REQUESTS:=4000}" "${LOADTEST_WARMUP:=all}" ;;
*) echo "loadtest: unknown LOADTEST_PROFILE $PROFILE (basic or wide)" >&2; exit 2 ;;
esac
DURATION=${LOADTEST_DURATION:-30s}
CONNS=${LOADTEST_CONNECTIONS:-64}
PORT=${LOADTEST_PORT:-18931}
need_wrk
build_bin

if [ ! -f "$DATA/store.db" ] || [ ! -d "$DATA/index" ]; then
	CORPUS=${PATCHTRAIL_CORPUS:-}
	if [ -z "$CORPUS" ] || [ ! -d "$CORPUS/io-uring/git/0.git" ]; then
		echo "loadtest: corpus absent: set PATCHTRAIL_CORPUS (a directory holding io-uring/git/0.git) or LOADTEST_DATA" >&2
		exit 1
	fi
	echo "importing $CORPUS/io-uring into $DATA (once; takes a few minutes)"
	rm -rf "$DATA"
	"$BIN" -q --data "$DATA" import "$CORPUS/io-uring"
fi

# LOADTEST_SERVE_FLAGS adds serve flags (e.g. --cache 0 to measure
# without the caches of thread answers and bodies). The server keeps its
# access log (one line per request, with the handler's duration) for the
# per-route report; LOADTEST_ACCESS_LOG=FILE keeps a copy.
serve_start "$PORT" ${LOADTEST_SERVE_FLAGS:-}
curl -sf "$BASE/api/v1/stats" >"$WORK/stats.json"

# Message-IDs to fetch: recent patches and replies from a few searches,
# LOADTEST_PAGES pages of 200 hits each (default 1: 862 Message-IDs; more
# pages spread the load over more threads, so fewer answers are cached).
PAGES=${LOADTEST_PAGES:-1}
for q in 's:PATCH' 'f:axboe' 's:Re' 'dfn:io_uring/rw.c' 'b:sqpoll'; do
	for ((page = 0; page < PAGES; page++)); do
		curl -sf --get "$BASE/api/v1/search" --data-urlencode "q=$q" --data-urlencode limit=200 \
			--data-urlencode offset=$((page * 200)) \
			| python3 -c 'import json,sys,urllib.parse
for h in json.load(sys.stdin)["hits"]: print(urllib.parse.quote(h["message_id"], safe="@"))'
	done
done | sort -u >"$WORK/mids"
NMIDS=$(wc -l <"$WORK/mids")
# Patch mails (their series exist) for the series requests of the wide mix.
for ((page = 0; page < PAGES; page++)); do
	curl -sf --get "$BASE/api/v1/search" --data-urlencode 'q=s:PATCH AND NOT s:Re' --data-urlencode limit=200 \
		--data-urlencode offset=$((page * 200)) \
		| python3 -c 'import json,sys,urllib.parse
for h in json.load(sys.stdin)["hits"]: print(urllib.parse.quote(h["message_id"], safe="@"))'
done | sort -u >"$WORK/patches"
curl -sf "$BASE/api/v1/lists" | python3 -c 'import json,sys
for l in json.load(sys.stdin)["lists"]: print(l["name"])' >"$WORK/lists"

# The request mix: 40% search (JSON API and lore HTML), 30% thread (JSON
# tree, thread page, t.mbox.gz), 30% raw.
# LOADTEST_REQUESTS distinct requests are replayed in a loop (default 2000).
python3 - "$WORK/mids" "${LOADTEST_REQUESTS:-2000}" "$PROFILE" "$WORK/patches" "$WORK/lists" "$WORK/paths.txt" "$WORK/classes.txt" >"$WORK/paths.lua" <<'PY'
import sys, random, urllib.parse
random.seed(42)
mids = [l.strip() for l in open(sys.argv[1]) if l.strip()]
profile = sys.argv[3]
patches = [l.strip() for l in open(sys.argv[4]) if l.strip()] or mids
lists = [l.strip() for l in open(sys.argv[5]) if l.strip()] or ['all']
queries = ['s:io_uring', 'f:axboe', 'sqpoll', 'dfn:io_uring/net.c', 'b:IORING_OP_READV',
           'nq:"Reviewed-by"', 's:PATCH AND d:2023-01-01..2023-06-30', 'multishot AND recv',
           'dfhh:io_issue_sqe', 'io_uring_enter OR io_uring_setup', 's:"[PATCH v2"', 'f:asml.silence',
           'buffer ring', 'zerocopy', 't:io-uring AND s:Re', 'regression', 'fixed file', 'cancel*',
           's:liburing', 'd:2024-01-01..']
paths, classes = [], []
def add(cls, path):
    paths.append(path)
    classes.append(cls + '\t' + path)
for i in range(int(sys.argv[2])):
    r = random.random()
    mid = random.choice(mids)
    if profile == 'wide':
        q = random.choice(queries)
        if r < 0.12:
            add('api search', '/api/v1/search?limit=20&q=' + urllib.parse.quote(q))
        elif r < 0.20:
            add('search page', '/all/?q=' + urllib.parse.quote_plus(q))
        elif r < 0.30:
            add('api thread', '/api/v1/thread/' + mid)
        elif r < 0.37:
            add('thread page', '/all/' + mid + '/t/')
        elif r < 0.43:
            add('t.mbox.gz', '/all/' + mid + '/t.mbox.gz')
        elif r < 0.58:
            add('raw', '/all/' + mid + '/raw')
        elif r < 0.66:
            add('message page', '/all/' + mid + '/')
        elif r < 0.74:
            add('api message', '/api/v1/message/' + mid)
        elif r < 0.80:
            add('api series', '/api/v1/series/' + random.choice(patches))
        elif r < 0.85:
            add('series page', '/all/' + random.choice(patches) + '/series/')
        elif r < 0.92:
            add('new.atom', '/' + random.choice(lists + ['all']) + '/new.atom')
        else:
            add('search atom', '/all/?x=A&q=' + urllib.parse.quote_plus(q))
        continue
    if r < 0.30:
        q = urllib.parse.quote(random.choice(queries))
        add('api search', '/api/v1/search?limit=20&q=' + q)
    elif r < 0.40:
        q = urllib.parse.quote_plus(random.choice(queries))
        add('search page', '/all/?q=' + q)
    elif r < 0.55:
        add('api thread', '/api/v1/thread/' + mid)
    elif r < 0.62:
        add('thread page', '/all/' + mid + '/t/')
    elif r < 0.70:
        add('t.mbox.gz', '/all/' + mid + '/t.mbox.gz')
    else:
        add('raw', '/all/' + mid + '/raw')
open(sys.argv[6], 'w').write(''.join(p + '\n' for p in paths))
open(sys.argv[7], 'w').write(''.join(c + '\n' for c in classes))
print('paths = {')
for p in paths:
    print('  "%s",' % p.replace('\\', '\\\\').replace('"', '\\"'))
print('}')
PY
cat >>"$WORK/paths.lua" <<'LUA'
local n = 0
init = function(args)
  n = math.random(#paths)
end
request = function()
  n = n % #paths + 1
  return wrk.format("GET", paths[n])
end
LUA

echo "patchtrail loadtest ($PROFILE): $(wc -l <"$WORK/patches") patch mails, $(sort -u "$WORK/paths.txt" | wc -l) distinct paths; $(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["store"]["messages"], "messages,", s["index_documents"], "indexed")' "$WORK/stats.json"), $NMIDS Message-IDs in the mix"
# A short warm-up first, as for any latency measurement: the page cache,
# the search result cache and the thread cache start cold.
# LOADTEST_WARMUP=all requests every distinct path once (8 at a time).
WARMUP=${LOADTEST_WARMUP:-5s}
if [ "$WARMUP" = all ]; then
	echo "warm-up: every distinct path once (not measured)"
	sort -u "$WORK/paths.txt" | sed "s|^|$BASE|" | xargs -P 8 -n 1 curl -s -o /dev/null
else
	echo "warm-up: wrk -t2 -c$CONNS -d$WARMUP (not measured)"
	wrk -t2 -c"$CONNS" -d"$WARMUP" --timeout 10s -s "$WORK/paths.lua" "$BASE" >/dev/null
fi
# LOADTEST_ROUTE_COST=1 (the default of the wide profile) measures,
# with the caches warm, the server's CPU per request of each route: every
# route's paths replayed by wrk with one connection for 3 s while nothing
# else runs; the server's user + system time over the requests answered.
# This does not depend on how loaded the machine is, as latency does.
if [ "${LOADTEST_ROUTE_COST:-$([ "$PROFILE" = wide ] && echo 1)}" = 1 ]; then
	echo "server CPU per request, by route (wrk -t1 -c1 -d3s over each route's paths, caches warm):"
	printf '  %-16s %8s %10s %12s\n' route requests "req/s" "CPU ms/req"
	cut -f1 "$WORK/classes.txt" | sort -u | while IFS= read -r cls; do
		awk -F'\t' -v c="$cls" '$1 == c {print $2}' "$WORK/classes.txt" | sort -u | python3 -c '
import sys
ps = [l.strip() for l in sys.stdin if l.strip()]
print("paths = {\n" + "".join("  \"%s\",\n" % p.replace("\\", "\\\\").replace("\"", "\\\"") for p in ps) + "}")
print("local n = 0\nrequest = function() n = n % #paths + 1; return wrk.format(\"GET\", paths[n]) end")' >"$WORK/route.lua"
		t0=$(cpu_ticks "$SERVER_PID")
		wrk -t1 -c1 -d3s --timeout 10s -s "$WORK/route.lua" "$BASE" >"$WORK/route.out"
		t1=$(cpu_ticks "$SERVER_PID")
		python3 - "$cls" "$WORK/route.out" "$((t1 - t0))" "$(getconf CLK_TCK)" <<'PY'
import re, sys
cls, out, ticks, hz = sys.argv[1], open(sys.argv[2]).read(), int(sys.argv[3]), int(sys.argv[4])
n = int(re.search(r"(\d+) requests in", out).group(1))
rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
print("  %-16s %8d %10s %12.2f" % (cls, n, rps, 1000.0 * ticks / hz / max(n, 1)))
PY
	done
fi

# The server's RSS every second of the measured run.
rss_start "$WORK/rss" 1
MARK=$(log_mark)
CPU0=$(cpu_ticks "$SERVER_PID")
MIX="40% search, 30% thread, 30% raw"
[ "$PROFILE" = wide ] && MIX="20% search, 23% thread, 15% raw, 16% message, 11% series, 15% Atom"
echo "wrk -t2 -c$CONNS -d$DURATION --latency ($MIX) against $BASE; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# wrk's own CPU is accounted too: it shares the two cores with the server.
TIMEFORMAT='%U %S'
{ time wrk -t2 -c"$CONNS" -d"$DURATION" --timeout 10s --latency -s "$WORK/paths.lua" "$BASE" >"$WORK/wrk.out"; } 2>"$WORK/wrk.time"
cat "$WORK/wrk.out"
CPU1=$(cpu_ticks "$SERVER_PID")
rss_stop
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$WORK/wrk.out" "$((CPU1 - CPU0))" "$(tail -1 "$WORK/wrk.time")" "$(getconf CLK_TCK)" <<'PY'
import re, sys
out, srv, hz = open(sys.argv[1]).read(), int(sys.argv[2]), int(sys.argv[4])
wrk = sum(float(x) for x in sys.argv[3].split()) * hz
n = int(re.search(r"(\d+) requests in", out).group(1))
d = re.search(r"requests in ([\d.]+)(ms|s|m)", out)
secs = float(d.group(1)) * {"ms": 1e-3, "s": 1, "m": 60}[d.group(2)]
print("CPU during the run: server %.1f s (%.2f cores, %.2f ms/request), wrk %.1f s (%.2f cores, %.3f ms/request)"
      % (srv / hz, srv / hz / secs, 1000 * srv / hz / max(n, 1), wrk / hz, wrk / hz / secs, 1000 * wrk / hz / max(n, 1)))
PY
route_report "$MARK"
awk 'NR == 1 {first = $1} {if ($1 > max) max = $1; last = $1} END {if (NR) printf "server RSS during the run: start %d MB, peak %d MB, end %d MB\n", first/1024, max/1024, last/1024}' "$WORK/rss"

# What the answer caches held at the end.
curl -sf "$BASE/metrics" | grep -E '^patchtrail_cache_(bytes|entries|hits_total|misses_total)' || true

if [ -n "${LOADTEST_ACCESS_LOG:-}" ]; then cp "$WORK/server.log" "$LOADTEST_ACCESS_LOG"; fi

# Summary, and failure on any error.
python3 - "$WORK/wrk.out" <<'PY'
import re, sys
out = open(sys.argv[1]).read()
rps = re.search(r'Requests/sec:\s+([\d.]+)', out).group(1)
lat = dict(re.findall(r'^\s+(50|90|99)%\s+(\S+)', out, re.M))
non2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
sock = re.search(r'Socket errors: (.*)', out)
errors = int(non2xx.group(1)) if non2xx else 0
print(f"\nSUMMARY throughput {rps} req/s, p50 {lat.get('50')}, p90 {lat.get('90')}, p99 {lat.get('99')}, "
      f"non-2xx {errors}, socket errors {sock.group(1) if sock else 'none'}")
if errors or sock:
    sys.exit("loadtest: errors")
PY
if grep -q 'status=5' "$WORK/server.log"; then
	echo "loadtest: the server logged 5xx answers:" >&2
	grep 'status=5' "$WORK/server.log" | head >&2
	exit 1
fi
