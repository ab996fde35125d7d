#!/usr/bin/env bash
# Phrase storm: N parallel relevance searches for 200-word phrases taken
# from real messages, while a light wrk load fetches other pages. Reports
# the server's peak RSS, the status and answer time of every phrase search
# (an answer must be 200, or 503/429 with Retry-After, within the request
# deadline + 1 s) and the latency of the other requests meanwhile.
#
#   .ci/phrase-storm.sh                     # 32 then 64 parallel searches
#   STORM_CLIENTS="64" .ci/phrase-storm.sh
#
# Environment: LOADTEST_DATA (an imported data dir; default
# .cache/loadtest-data, imported by .ci/loadtest.sh), STORM_CLIENTS
# (default "32 64"), STORM_WORDS (default 200), STORM_PORT (default
# 18932), STORM_TIMEOUT (serve --timeout, default 10s), STORM_OTHER_CONNS
# (wrk connections of the other requests, default 4), LOADTEST_NOBUILD.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=bin/patchtrail
DATA=${LOADTEST_DATA:-$PWD/.cache/loadtest-data}
CLIENTS=${STORM_CLIENTS:-32 64}
WORDS=${STORM_WORDS:-200}
PORT=${STORM_PORT:-18932}
TIMEOUT=${STORM_TIMEOUT:-10s}
OTHER=${STORM_OTHER_CONNS:-4}
BASE=http://127.0.0.1:$PORT
WORK=$(mktemp -d)
SERVER_PID=

cleanup() {
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

[ -f "$DATA/store.db" ] && [ -d "$DATA/index" ] || { echo "phrase-storm: no data dir $DATA: run .ci/loadtest.sh once (it imports the corpus) or set LOADTEST_DATA" >&2; exit 1; }
command -v wrk >/dev/null || { echo "phrase-storm: needs wrk" >&2; exit 1; }
[ -n "${LOADTEST_NOBUILD:-}" ] || go build -o "$BIN" ./cmd/patchtrail

"$BIN" -q --data "$DATA" serve --addr "127.0.0.1:$PORT" --timeout "$TIMEOUT" 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do
	curl -sf "$BASE/api/v1/stats" >/dev/null 2>&1 && break
	sleep 0.2
done
curl -sf "$BASE/api/v1/stats" >/dev/null || { echo "phrase-storm: server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }

# Phrases: WORDS consecutive words from the bodies of real messages (the
# longest messages of a few searches), one distinct phrase per client so
# the result cache does not answer them. The other requests: raw
# messages, message and thread pages of the same messages.
curl -sf --get "$BASE/api/v1/search" --data-urlencode 'q=s:Re' --data-urlencode limit=200 >"$WORK/hits.json"
python3 - "$BASE" "$WORK/hits.json" "$WORDS" "$WORK" <<'PY'
import json, re, sys, urllib.parse, urllib.request
base, hits, nwords, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
mids = [h["message_id"] for h in json.load(open(hits))["hits"]]
phrases, others = [], []
for mid in mids:
    q = urllib.parse.quote(mid, safe="@")
    others += ["/all/%s/raw" % q, "/all/%s/" % q, "/api/v1/message/%s" % q]
    raw = urllib.request.urlopen(base + "/all/%s/raw" % q).read().decode("utf-8", "replace")
    body = raw.split("\n\n", 1)[-1]
    lines = [l for l in body.splitlines() if not l.startswith(">")]
    words = re.findall(r"[A-Za-z][A-Za-z']+", " ".join(lines))
    if len(words) >= nwords:
        phrases.append(" ".join(words[:nwords]))
if len(phrases) < 64:
    phrases = (phrases * (64 // max(len(phrases), 1) + 1))
open(work + "/phrases", "w").write("\n".join(phrases[:64]) + "\n")
with open(work + "/others.lua", "w") as f:
    f.write("paths = {\n" + "".join('  "%s",\n' % p for p in others) + "}\n")
    f.write("local n = 0\ninit = function(args) n = math.random(#paths) end\n"
            "request = function() n = n % #paths + 1; return wrk.format(\"GET\", paths[n]) end\n")
print("phrase-storm: %d distinct %d-word phrases, %d other paths" % (len(set(phrases[:64])), nwords, len(others)))
PY

# Warm the other paths (caches as in steady state).
wrk -t1 -c"$OTHER" -d3s -s "$WORK/others.lua" "$BASE" >/dev/null

failed=
for n in $CLIENTS; do
	# Peak RSS of the server, sampled every 50 ms.
	: >"$WORK/rss"
	( while kill -0 "$SERVER_PID" 2>/dev/null; do awk '/VmRSS/ {print $2}' /proc/"$SERVER_PID"/status >>"$WORK/rss" 2>/dev/null; sleep 0.05; done ) &
	RSS_PID=$!
	before=$(awk '/VmRSS/ {print $2}' /proc/"$SERVER_PID"/status)
	wrk -t1 -c"$OTHER" -d25s --timeout 10s --latency -s "$WORK/others.lua" "$BASE" >"$WORK/wrk.out" &
	WRK_PID=$!
	sleep 1
	storm_rc=0
	python3 - "$BASE" "$WORK/phrases" "$n" "$TIMEOUT" >"$WORK/storm.out" <<'PY' || storm_rc=$?
import sys, threading, time, urllib.error, urllib.parse, urllib.request, collections
base, phrases, n, timeout = sys.argv[1], open(sys.argv[2]).read().split("\n"), int(sys.argv[3]), sys.argv[4]
deadline = float(timeout.rstrip("s"))
res = [None] * n
def one(i):
    url = base + "/api/v1/search?sort=relevance&q=" + urllib.parse.quote('"%s"' % phrases[i % len(phrases)])
    t = time.monotonic()
    try:
        r = urllib.request.urlopen(url, timeout=120)
        r.read()
        st, ra = r.status, r.headers.get("Retry-After")
    except urllib.error.HTTPError as e:
        e.read()
        st, ra = e.code, e.headers.get("Retry-After")
    except Exception as e:
        st, ra = "error: %s" % e, None
    res[i] = (st, time.monotonic() - t, ra)
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
counts = collections.Counter(str(r[0]) for r in res)
times = sorted(r[1] for r in res)
late = [r for r in res if r[1] > deadline + 1]
noretry = [r for r in res if r[0] in (429, 503) and not r[2]]
bad = [r for r in res if r[0] not in (200, 429, 503)]
print("phrase searches: %d parallel; status %s; answer time min %.2fs median %.2fs max %.2fs; "
      "after deadline+1s: %d; 503/429 without Retry-After: %d; other statuses: %d"
      % (n, dict(counts), times[0], times[len(times)//2], times[-1], len(late), len(noretry), len(bad)))
sys.exit(1 if late or noretry or bad else 0)
PY
	[ "$storm_rc" = 0 ] || failed=1
	wait "$WRK_PID"
	kill "$RSS_PID" 2>/dev/null; wait "$RSS_PID" 2>/dev/null || true
	peak=$(sort -n "$WORK/rss" | tail -1)
	cat "$WORK/storm.out"
	p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.out")
	p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.out")
	reqs=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
	non2xx=$(awk -F': ' '/Non-2xx/ {print $2}' "$WORK/wrk.out")
	echo "other requests (wrk -c$OTHER, raw/message/thread pages) meanwhile: $reqs requests, p50 $p50, p99 $p99, non-2xx ${non2xx:-0}"
	echo "server RSS: before $((before / 1024)) MB, peak $((peak / 1024)) MB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	# Let the server settle before the next round.
	sleep 5
done
[ -z "$failed" ] || { echo "phrase-storm: some phrase searches were late, failed or lacked Retry-After" >&2; exit 1; }
