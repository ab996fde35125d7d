#!/usr/bin/env bash
# make soak: `patchtrail serve --sync` under load while its upstream grows.
#
# An upstream public-inbox v2 inbox (public-inbox-init -V2, served by
# public-inbox-httpd on 127.0.0.1) starts with the first SOAK_INITIAL
# messages of the io-uring corpus and receives SOAK_STEP more every
# SOAK_PUSH_EVERY seconds (pushed from the corpus history, as the
# public-inbox writer appends them). patchtrail clones it, then serves with
# `--sync SOAK_SYNC` while wrk sends a mixed search/thread/raw load for
# SOAK_MINUTES minutes (default 10). After every push the script waits
# until the newest message is searchable over HTTP and records the lag.
#
# Fails on: any non-2xx/3xx answer or socket error, a 5xx or ERROR line in
# the server log, a failed sync round, a lag above SOAK_MAX_LAG seconds,
# RSS growth beyond SOAK_MAX_GROWTH_MB over the run (after a one-minute
# warm-up), or a server that does not stop cleanly on SIGTERM.
# Prints a Markdown summary (also written to .cache/soak.md; the server log
# and the RSS samples go to .cache/soak-server.log and .cache/soak-rss.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=${SOAK_MINUTES:-10}
INITIAL=${SOAK_INITIAL:-5000}
STEP=${SOAK_STEP:-5}
PUSH_EVERY=${SOAK_PUSH_EVERY:-2}
SYNC=${SOAK_SYNC:-3s}
CONNS=${SOAK_CONNECTIONS:-8}
MAX_LAG=${SOAK_MAX_LAG:-30}
MAX_GROWTH_MB=${SOAK_MAX_GROWTH_MB:-128}
CORPUS=${PATCHTRAIL_CORPUS:-.cache/corpus}/io-uring/git/0.git
BIN=$PWD/bin/patchtrail
WORK=$(mktemp -d)
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT

[ -d "$CORPUS" ] || { echo "soak: no corpus at $CORPUS (make corpus, or set PATCHTRAIL_CORPUS)" >&2; exit 1; }
for t in public-inbox-init public-inbox-index public-inbox-httpd git curl python3; do
	command -v "$t" >/dev/null || { echo "soak: $t missing (Debian packages public-inbox git curl python3)" >&2; exit 1; }
done
if ! command -v wrk >/dev/null; then
	echo "installing wrk (Debian package wrk)"
	apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
go build -o "$BIN" ./cmd/patchtrail

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PIPORT=$(freeport)
PORT=$(freeport)
UP=$WORK/upstream
URL=http://127.0.0.1:$PIPORT/io-uring
BASE=http://127.0.0.1:$PORT
DATA=$WORK/data
pi() { env PI_CONFIG="$WORK/pi-config" HOME="$WORK/home" GIT_CONFIG_NOSYSTEM=1 "$@"; }

# Upstream: the first INITIAL messages, indexed and served.
minutes_steps=$(( MINUTES * 60 / PUSH_EVERY + 10 ))
git -C "$CORPUS" rev-list --reverse HEAD >"$WORK/all-commits"
head -n $(( INITIAL + STEP * minutes_steps )) "$WORK/all-commits" >"$WORK/commits"
[ "$(wc -l <"$WORK/commits")" -lt 24000 ] || { echo "soak: too long a run for the corpus (its commit 24331 lacks a blob)" >&2; exit 1; }
mkdir -p "$WORK/home"
pi public-inbox-init -V2 -L basic io-uring "$UP" "$URL" io-uring@soak.test
push() { git -C "$CORPUS" push -q "$UP/git/0.git" "$(sed -n "${1}p" "$WORK/commits"):refs/heads/master" 2>"$WORK/push.err" || { cat "$WORK/push.err" >&2; exit 1; }; }
push "$INITIAL"
pi public-inbox-index --no-fsync "$UP" >/dev/null 2>&1
pi public-inbox-httpd -W0 -l "127.0.0.1:$PIPORT" >"$WORK/httpd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -sf "$URL/manifest.js.gz" >/dev/null && break; sleep 0.2; done

# patchtrail: clone, configure, serve with --sync.
echo "soak: cloning $INITIAL messages from $URL"
start_clone=$(date +%s.%N)
"$BIN" -q --data "$DATA" clone "$URL" >"$WORK/clone.out"
clone_secs=$(python3 -c "import time; print(round(time.time() - $start_clone, 1))")
cat >"$DATA/patchtrail.toml" <<EOF
[sync]
retries = 2
backoff = "1s"

[[list]]
name = "io-uring"
source = [{ mirror = "$URL" }]

[[list]]
name = "sample"
source = [{ path = "$PWD/testdata/sample/sample.mbox" }]
EOF
"$BIN" --data "$DATA" serve --addr "127.0.0.1:$PORT" --sync "$SYNC" 2>"$WORK/server.log" &
SERVER=$!
PIDS+=($SERVER)
for _ in $(seq 1 150); do curl -sf "$BASE/api/v1/stats" >/dev/null 2>&1 && break; sleep 0.2; done
curl -sf "$BASE/api/v1/stats" >/dev/null || { echo "soak: server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }

# The wrk request mix over Message-IDs found by a few searches.
for q in 's:PATCH' 'f:axboe' 's:Re' 'sqpoll'; do
	curl -sf --get "$BASE/api/v1/search" --data-urlencode "q=$q" --data-urlencode limit=200 \
		| python3 -c 'import json,sys,urllib.parse
for h in json.load(sys.stdin)["hits"]: print(urllib.parse.quote(h["message_id"], safe="@"))'
done | sort -u >"$WORK/mids"
python3 - "$WORK/mids" >"$WORK/mix.lua" <<'PY'
import sys, random, urllib.parse
random.seed(7)
mids = [l.strip() for l in open(sys.argv[1]) if l.strip()]
queries = ['s:io_uring', 'f:axboe', 'sqpoll', 'dfn:io_uring/net.c', 'nq:"Reviewed-by"', 'multishot AND recv',
           'io_uring_enter OR io_uring_setup', 'buffer ring', 'cancel*', 'd:2020-01-01..', 's:"[PATCH v2"']
paths = []
for i in range(2000):
    r, mid = random.random(), random.choice(mids)
    if r < 0.35:
        paths.append('/api/v1/search?limit=20&q=' + urllib.parse.quote(random.choice(queries)))
    elif r < 0.45:
        paths.append('/all/?q=' + urllib.parse.quote_plus(random.choice(queries)))
    elif r < 0.60:
        paths.append('/api/v1/thread/' + mid)
    elif r < 0.70:
        paths.append('/all/' + mid + '/t.mbox.gz')
    elif r < 0.80:
        paths.append('/api/v1/message/' + mid)
    else:
        paths.append('/all/' + mid + '/raw')
print('paths = {' + ','.join('"%s"' % p.replace('\\', '\\\\').replace('"', '\\"') for p in paths) + '}')
print('local n = 0\ninit = function(args) n = math.random(#paths) end\n'
      'request = function() n = n % #paths + 1 return wrk.format("GET", paths[n]) end')
PY

rss() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status"; }
messages() { curl -sf "$BASE/api/v1/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["messages"])' 2>/dev/null || echo -1; }
msgid() {
	git -C "$CORPUS" cat-file blob "$(sed -n "${1}p" "$WORK/commits"):m" | python3 -c '
import email, sys
m = email.message_from_binary_file(sys.stdin.buffer)
print((m.get("Message-ID") or "").strip().strip("<>").split(">")[0])'
}
searchable() {
	curl -sf --get "$BASE/api/v1/search" --data-urlencode "q=mid:$1" \
		| python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["total"] >= 1 else 1)' 2>/dev/null
}

echo "soak: wrk -c$CONNS for ${MINUTES}m; +$STEP messages upstream every ${PUSH_EVERY}s; serve --sync $SYNC"
wrk -t2 -c"$CONNS" -d"${MINUTES}m" --timeout 10s --latency -s "$WORK/mix.lua" "$BASE" >"$WORK/wrk.out" 2>&1 &
WRK=$!
PIDS+=($WRK)
t0=$(date +%s)
i=$INITIAL
pushes=0
echo "elapsed rss_kb messages" >"$WORK/rss"
: >"$WORK/lags"
while kill -0 "$WRK" 2>/dev/null; do
	sleep "$PUSH_EVERY"
	i=$(( i + STEP ))
	push "$i"
	pushes=$(( pushes + 1 ))
	mid=$(msgid "$i")
	pushed=$(date +%s.%N)
	until searchable "$mid"; do
		if python3 -c "import sys,time; sys.exit(0 if time.time() - $pushed > $MAX_LAG + 30 else 1)"; then
			echo "soak: <$mid> (commit $i) not searchable after $((MAX_LAG + 30))s" >&2
			exit 1
		fi
		sleep 0.2
	done
	python3 -c "import time; print(round(time.time() - $pushed, 2))" >>"$WORK/lags"
	echo "$(( $(date +%s) - t0 )) $(rss) $(messages)" >>"$WORK/rss"
done
wait "$WRK" || true

# Stop the server: SIGTERM must end it cleanly.
kill -TERM "$SERVER"
stopped=1
for _ in $(seq 1 300); do kill -0 "$SERVER" 2>/dev/null || { stopped=0; break; }; sleep 0.1; done
server_status=0
wait "$SERVER" || server_status=$?

mkdir -p .cache
cp "$WORK/server.log" .cache/soak-server.log
cp "$WORK/rss" .cache/soak-rss.txt
python3 - "$WORK" "$MINUTES" "$MAX_LAG" "$MAX_GROWTH_MB" "$stopped" "$server_status" "$INITIAL" "$pushes" "$STEP" "$SYNC" "$CONNS" "$clone_secs" <<'PY' | tee .cache/soak.md
import re, statistics, sys
work, minutes, max_lag, max_growth, stopped, status, initial, pushes, step, sync, conns, clone = sys.argv[1:]
wrk = open(f"{work}/wrk.out").read()
log = open(f"{work}/server.log").read()
rows = [l.split() for l in open(f"{work}/rss").read().splitlines()[1:] if len(l.split()) == 3]
lags = [float(x) for x in open(f"{work}/lags").read().split()]
fail = []
rps = re.search(r"Requests/sec:\s+([\d.]+)", wrk)
reqs = re.search(r"(\d+) requests in", wrk)
lat = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", wrk, re.M))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)
sock = re.search(r"Socket errors: (.*)", wrk)
if not rps: fail.append("wrk produced no result")
if non2xx: fail.append(f"{non2xx.group(1)} non-2xx/3xx answers")
if sock: fail.append(f"socket errors: {sock.group(1)}")
if re.search(r"status=5\d\d", log): fail.append("5xx answers in the server log")
errors = [l for l in log.splitlines() if "level=ERROR" in l]
if errors: fail.append(f"{len(errors)} ERROR lines in the server log, first: {errors[0][:200]}")
rounds = re.findall(r'msg="sync: round done" sources=(\d+) failed=(\d+)', log)
bad_rounds = sum(1 for _, f in rounds if f != "0")
if bad_rounds: fail.append(f"{bad_rounds} sync rounds with failed sources")
if stopped != "0" or status != "0": fail.append(f"server did not stop cleanly on SIGTERM (exit {status})")
if lags and max(lags) > float(max_lag): fail.append(f"max lag {max(lags):.1f}s > {max_lag}s")
# Memory: the median RSS of the minute after a one-minute warm-up against
# the highest RSS of the last fifth of the run.
t = [(int(e), int(r) / 1024, int(m)) for e, r, m in rows]
warm = [r for e, r, _ in t if 60 <= e < 120] or [r for _, r, _ in t[: max(1, len(t) // 5)]]
tail = [r for _, r, _ in t[-max(1, len(t) // 5):]]
base, peak, growth = statistics.median(warm), max(tail), max(tail) - statistics.median(warm)
if growth > float(max_growth): fail.append(f"RSS grew {growth:.0f} MiB > {max_growth} MiB")
msgs0, msgs1 = (t[0][2], t[-1][2]) if t else (0, 0)
print(f"## soak: serve --sync {sync} under load, {minutes} min\n")
print(f"Command: `SOAK_MINUTES={minutes} make soak` (upstream: public-inbox-httpd, {initial} io-uring messages "
      f"cloned in {clone}s, +{step} every push; wrk -t2 -c{conns}, mix 45% search, 15% thread, 10% t.mbox.gz, 10% message, 20% raw)\n")
print("| metric | value |\n|---|---|")
print(f"| requests | {reqs.group(1) if reqs else '?'} ({rps.group(1) if rps else '?'} req/s) |")
print(f"| latency p50 / p90 / p99 | {lat.get('50')} / {lat.get('90')} / {lat.get('99')} |")
print(f"| errors (non-2xx, socket, 5xx, ERROR log lines) | {non2xx.group(1) if non2xx else 0}, {sock.group(1) if sock else 0}, "
      f"{len(re.findall(r'status=5[0-9][0-9]', log))}, {len(errors)} |")
print(f"| sync rounds (failed) | {len(rounds)} ({bad_rounds}) |")
print(f"| upstream pushes, messages in store | {pushes} pushes; {msgs0} → {msgs1} |")
if lags:
    q = statistics.quantiles(lags, n=20) if len(lags) > 1 else [lags[0]] * 19
    print(f"| push → searchable over HTTP: median / p95 / max | {statistics.median(lags):.1f}s / {q[18]:.1f}s / {max(lags):.1f}s |")
print(f"| RSS after warm-up (median, min 1–2) → peak of last fifth | {base:.0f} MiB → {peak:.0f} MiB (growth {growth:+.0f} MiB, bound {max_growth} MiB) |")
print(f"| SIGTERM | {'clean exit' if stopped == '0' and status == '0' else 'FAILED'} |")
print()
if fail:
    print("**FAILED**: " + "; ".join(fail))
    sys.exit(1)
print("PASSED")
PY
