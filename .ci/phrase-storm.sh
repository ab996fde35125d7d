#!/usr/bin/env bash
# Phrase storm: N clients each searching, one after another for
# STORM_SECONDS, relevance searches for 200-word phrases taken from real
# messages (a client refused with 503/429 waits as Retry-After says, at
# most 1 s), while a light wrk load fetches other pages during the storm.
# Reports the server's peak RSS, the status and answer time of every
# phrase search (an answer must be 200, or 503/429 with Retry-After, within
# the request deadline + 1 s) and the latency of the other requests
# meanwhile, by route from the server's access log.
#
#   .ci/phrase-storm.sh                     # 32 then 64 parallel searches
#   STORM_CLIENTS="64" .ci/phrase-storm.sh
#
# Environment: LOADTEST_DATA (an imported data dir; default
# .cache/loadtest-data, imported by .ci/loadtest.sh), STORM_CLIENTS
# (default "32 64"), STORM_WORDS (default 200), STORM_PORT (default
# 18932), STORM_TIMEOUT (serve --timeout, default 10s), STORM_OTHER_CONNS
# (wrk connections of the other requests, default 4), STORM_SECONDS
# (default 24), LOADTEST_NOBUILD, LOADTEST_CPUPROFILE.
set -euo pipefail
cd "$(dirname "$0")/.."

. .ci/lib/serve.sh
DATA=${LOADTEST_DATA:-$PWD/.cache/loadtest-data}
CLIENTS=${STORM_CLIENTS:-32 64}
WORDS=${STORM_WORDS:-200}
PORT=${STORM_PORT:-18932}
TIMEOUT=${STORM_TIMEOUT:-10s}
OTHER=${STORM_OTHER_CONNS:-4}
SECONDS_STORM=${STORM_SECONDS:-24}

[ -f "$DATA/store.db" ] && [ -d "$DATA/index" ] || { echo "phrase-storm: no data dir $DATA: run .ci/loadtest.sh once (it imports the corpus) or set LOADTEST_DATA" >&2; exit 1; }
need_wrk
build_bin
serve_start "$PORT" --timeout "$TIMEOUT"

# Phrases: WORDS consecutive words from the bodies of real messages
# (replies), a distinct phrase for every search so that the result cache
# answers none. The other requests: raw messages, message pages and
# message JSON of the same messages.
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
    # Windows of the text at several offsets: every search of the storm
    # has a phrase of its own (the result cache answers none of them).
    if len(words) >= nwords:
        phrases.append([" ".join(words[o:o + nwords]) for o in range(0, min(len(words) - nwords, 400) + 1, 7)])
# Interleaved: consecutive searches are on different messages.
phrases = [w[i] for i in range(max(map(len, phrases), default=0)) for w in phrases if i < len(w)]
if not phrases:
    sys.exit("phrase-storm: no message with %d words" % nwords)
open(work + "/phrases", "w").write("\n".join(phrases) + "\n")
with open(work + "/others.lua", "w") as f:
    f.write("paths = {\n" + "".join('  "%s",\n' % p for p in others) + "}\n")
    f.write("local n = 0\ninit = function(args) n = math.random(#paths) end\n"
            "request = function() n = n % #paths + 1; return wrk.format(\"GET\", paths[n]) end\n")
print("phrase-storm: %d distinct %d-word phrases, %d other paths" % (len(set(phrases)), nwords, len(others)))
PY

# Warm the other paths (caches as in steady state).
wrk -t1 -c"$OTHER" -d3s -s "$WORK/others.lua" "$BASE" >/dev/null

failed=
for n in $CLIENTS; do
	# Peak RSS of the server, sampled every 50 ms.
	rss_start "$WORK/rss" 0.05
	MARK=$(log_mark)
	before=$(awk '/VmRSS/ {print $2}' /proc/"$SERVER_PID"/status)
	storm_rc=0
	python3 - "$BASE" "$WORK/phrases" "$n" "$TIMEOUT" "$SECONDS_STORM" >"$WORK/storm.out" <<'PY' &
import sys, threading, time, urllib.error, urllib.parse, urllib.request, collections
base, phrases, n, timeout, secs = sys.argv[1], open(sys.argv[2]).read().split("\n"), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
phrases = [p for p in phrases if p]
deadline = float(timeout.rstrip("s"))
res, lock, nxt = [], threading.Lock(), [0]
end = time.monotonic() + secs
def one():
    # Each client searches, one phrase after another, until the storm
    # ends; after a 503/429 it waits as Retry-After says (at most 1 s).
    while time.monotonic() < end:
        with lock:
            ph = phrases[nxt[0] % len(phrases)]
            nxt[0] += 1
        url = base + "/api/v1/search?sort=relevance&q=" + urllib.parse.quote('"%s"' % ph)
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
        with lock:
            res.append((st, time.monotonic() - t, ra))
        if st in (429, 503):
            time.sleep(min(float(ra or 1), 1.0))
ts = [threading.Thread(target=one) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
counts = collections.Counter(str(r[0]) for r in res)
times = sorted(r[1] for r in res)
late = [r for r in res if r[1] > deadline + 1]
noretry = [r for r in res if r[0] in (429, 503) and not r[2]]
bad = [r for r in res if r[0] not in (200, 429, 503)]
print("phrase searches: %d clients for %.0f s, %d searches; status %s; answer time min %.2fs median %.2fs max %.2fs; "
      "after deadline+1s: %d; 503/429 without Retry-After: %d; other statuses: %d"
      % (n, secs, len(res), dict(counts), times[0], times[len(times)//2], times[-1], len(late), len(noretry), len(bad)))
sys.exit(1 if late or noretry or bad else 0)
PY
	STORM_PID=$!
	BG_PIDS+=("$STORM_PID")
	# The other requests run inside the storm: from 2 s after it starts
	# until 2 s before it ends.
	sleep 2
	wrk -t1 -c"$OTHER" -d"$((SECONDS_STORM - 4))s" --timeout 10s --latency -s "$WORK/others.lua" "$BASE" >"$WORK/wrk.out"
	wait "$STORM_PID" || storm_rc=$?
	[ "$storm_rc" = 0 ] || failed=1
	rss_stop
	peak=$(sort -n "$WORK/rss" | tail -1)
	cat "$WORK/storm.out"
	p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.out")
	p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.out")
	reqs=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
	non2xx=$(awk -F': ' '/Non-2xx/ {print $2}' "$WORK/wrk.out")
	echo "other requests (wrk -c$OTHER, raw/message/thread pages) meanwhile: $reqs requests, p50 $p50, p99 $p99, non-2xx ${non2xx:-0}"
	echo "server RSS: before $((before / 1024)) MB, peak $((peak / 1024)) MB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
	route_report "$MARK"
	echo
	# Let the server settle before the next round.
	sleep 5
done
[ -z "$failed" ] || { echo "phrase-storm: some phrase searches were late, failed or lacked Retry-After" >&2; exit 1; }
