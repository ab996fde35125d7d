# Shared by the load scripts (.ci/loadtest.sh, .ci/phrase-storm.sh):
# build the binary, start `patchtrail serve` on an imported data directory,
# stop it (and whatever the script started) on exit, sample its RSS and CPU,
# and report latency per route from its access log. Source it after
# `cd` to the repository root:
#
#   . .ci/lib/serve.sh
#   serve_start PORT [serve flags...]   # sets SERVER_PID, BASE; WORK is a temp dir
#
# Environment: LOADTEST_NOBUILD (set: use bin/patchtrail as it is),
# LOADTEST_CPUPROFILE (FILE: the server writes its CPU profile there),
# LOADTEST_GODEBUG (GODEBUG of the server, e.g. gctrace=1).

BIN=bin/patchtrail
WORK=$(mktemp -d)
SERVER_PID=
BG_PIDS=()

serve_cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap serve_cleanup EXIT

# need_wrk installs wrk (the Debian package) when it is missing.
need_wrk() {
	command -v wrk >/dev/null && return
	echo "installing wrk (Debian package wrk)"
	apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
}

# build_bin builds bin/patchtrail unless LOADTEST_NOBUILD is set.
build_bin() {
	[ -n "${LOADTEST_NOBUILD:-}" ] || go build -o "$BIN" ./cmd/patchtrail
}

# serve_start PORT [FLAGS...] starts the server on $DATA at 127.0.0.1:PORT
# with its access log (one line per request, with the handler's duration)
# in $WORK/server.log, and waits until it answers.
serve_start() {
	local port=$1
	shift
	BASE=http://127.0.0.1:$port
	GODEBUG=${LOADTEST_GODEBUG:-${GODEBUG:-}} "$BIN" ${LOADTEST_CPUPROFILE:+--cpuprofile "$LOADTEST_CPUPROFILE"} \
		--data "$DATA" serve --addr "127.0.0.1:$port" "$@" 2>"$WORK/server.log" &
	SERVER_PID=$!
	local _
	for _ in $(seq 1 150); do
		curl -sf "$BASE/api/v1/stats" >/dev/null 2>&1 && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.2
	done
	echo "$(basename "$0"): server did not start" >&2
	cat "$WORK/server.log" >&2
	exit 1
}

# rss_start FILE INTERVAL samples the server's RSS (kB) into FILE every
# INTERVAL seconds until rss_stop.
rss_start() {
	: >"$1"
	( while kill -0 "$SERVER_PID" 2>/dev/null; do
		awk '/VmRSS/ {print $2}' /proc/"$SERVER_PID"/status >>"$1" 2>/dev/null
		sleep "$2"
	done ) &
	RSS_PID=$!
	BG_PIDS+=("$RSS_PID")
}
rss_stop() {
	kill "$RSS_PID" 2>/dev/null || true
	wait "$RSS_PID" 2>/dev/null || true
}

# cpu_ticks prints the CPU time (user + system, in clock ticks) used so
# far by process $1.
cpu_ticks() {
	awk '{print $14 + $15}' /proc/"$1"/stat
}

# log_mark prints the number of lines of the server log, to report on
# the lines written after it (route_report).
log_mark() {
	wc -l <"$WORK/server.log"
}

# route_report FROM prints the count, share and handler latency
# (p50/p90/p99/max, ms) per route of the requests logged after line FROM
# of the server log (slog text lines: route=... duration=...).
route_report() {
	tail -n +"$(($1 + 1))" "$WORK/server.log" | python3 -c '
import re, sys
from collections import defaultdict
unit = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4, "h": 3.6e6}
def ms(d):
    return sum(float(v) * unit[u] for v, u in re.findall(r"([\d.]+)(ns|µs|us|ms|s|m|h)", d))
by = defaultdict(list)
st = defaultdict(int)
for line in sys.stdin:
    if " msg=request " not in line:
        continue
    r = re.search(r" route=(\"(?:[^\"\\\\]|\\\\.)*\"|\S+)", line)
    d = re.search(r" duration=(\S+)", line)
    s = re.search(r" status=(\d+)", line)
    if not (r and d):
        continue
    route = r.group(1).strip("\"")
    by[route].append(ms(d.group(1)))
    if s and not s.group(1).startswith("2") and not s.group(1).startswith("3"):
        st[route] += 1
n = sum(len(v) for v in by.values())
if not n:
    sys.exit()
def q(v, p):
    return v[min(len(v) - 1, int(p * len(v)))]
allv = sorted(x for v in by.values() for x in v)
print("server-side handler latency by route (ms; the access log, %d requests):" % n)
print("  %-26s %7s %6s %8s %8s %8s %8s %8s %5s" % ("route", "count", "share", "mean", "p50", "p90", "p99", "max", "!2xx"))
rows = sorted(by.items(), key=lambda kv: -q(sorted(kv[1]), 0.99))
for route, v in rows + [("(all)", allv)]:
    v = sorted(v)
    print("  %-26s %7d %5.1f%% %8.2f %8.2f %8.2f %8.2f %8.2f %5d" % (route[:26], len(v), 100 * len(v) / n,
          sum(v) / len(v), q(v, .5), q(v, .9), q(v, .99), v[-1], st.get(route, 0) if route != "(all)" else sum(st.values())))
'
}
