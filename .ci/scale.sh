#!/usr/bin/env bash
# make scale: several real lists imported one after the other into ONE data
# directory (full index), then `serve` over it. After each list it records
# the import (messages added, wall and CPU seconds, msgs/s, peak RSS), the
# sizes (store, index, raw mail) and, with `serve --no-result-cache`, the
# server's RSS idle and after the queries and the latency of every query
# of the set over /all/ (HTML search page and /api/v1/search). The rows
# after each list are the growth curves of doc/scaling.md; the last one is
# the scale result of doc/bench.md. Prints Markdown (also DATA/scale.md).
#
#   SCALE_DATA=DIR      the data directory (default /work/data-scale). A run
#                       resumes: lists already in DIR/scale-imports.tsv are
#                       not imported again. Remove DIR for a fresh run.
#   SCALE_LISTS=L       "name=source,...", in import order; a source is a
#                       public-inbox directory or a bare epoch git directory.
#                       Default: the io-uring epoch ($PATCHTRAIL_CORPUS), then
#                       the smaller lists first (more points on the growth
#                       curves early), ~457k messages in all: the lore
#                       mirrors under $SCALE_MIRROR (default
#                       /work/.mirror, directories
#                       linux-mailinglist-archives+LIST.0/repo, fetched from
#                       github:linux-mailinglist-archives/LIST.0). A list
#                       whose source is absent is skipped with a message.
#   SCALE_QUERIES=FILE  queries, one a line (default: the 40 below)
#   SCALE_REPS=N        timed requests per query and endpoint (default 3,
#                       after one warm-up request)
#   SCALE_SERVE_EACH=0  measure serve only after the last list (default:
#                       after every list, for the growth curves)
#   SCALE_PHASE=report  only print the report of what DIR holds
#   SCALE_PHASE=serve   only measure serve on what DIR holds now (a row
#                       labelled SCALE_LABEL, default "now"), then report
#   SCALE_COMPACT=0     skip the last step: after the last list's serve row,
#                       `patchtrail compact` (timed, DIR/scale-compact.tsv)
#                       and serve measured again as row "LIST+compacted"
#   SCALE_NOBUILD=1     use bin/patchtrail as it is
#   SCALE_BIN=FILE      the binary to run (default bin/patchtrail, built
#                       unless SCALE_NOBUILD); e.g. another build to
#                       compare serve with on the same data
#
# Wall times mean little on a loaded machine; the CPU time of each import
# (user + system) and the load average around it are recorded beside them.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${SCALE_DATA:-/work/data-scale}
MIRROR=${SCALE_MIRROR:-/work/.mirror}
CORPUS=${PATCHTRAIL_CORPUS:-$PWD/.cache/corpus}
REPS=${SCALE_REPS:-3}
EACH=${SCALE_SERVE_EACH:-1}
BIN=${SCALE_BIN:-$PWD/bin/patchtrail}

m() { echo "$MIRROR/linux-mailinglist-archives+$1.0/repo"; }
DEFAULT_LISTS="io-uring=$CORPUS/io-uring,netfilter-devel=$(m netfilter-devel.vger.kernel.org),linux-cifs=$(m linux-cifs.vger.kernel.org),selinux=$(m selinux.vger.kernel.org),linux-erofs=$(m linux-erofs.lists.ozlabs.org),linux-crypto=$(m linux-crypto.vger.kernel.org),linux-btrfs=$(m linux-btrfs.vger.kernel.org),linux-xfs=$(m linux-xfs.vger.kernel.org),linux-block=$(m linux-block.vger.kernel.org)"
LISTS=${SCALE_LISTS:-$DEFAULT_LISTS}

mkdir -p "$DATA"
IMPORTS=$DATA/scale-imports.tsv # list added read bytes wall user sys maxrss_kb load_before load_after
SERVES=$DATA/scale-serve.tsv    # after-list messages store_b index_b raw_b rss_idle_kb rss_after_kb hwm_kb [anon_after_kb file_after_kb]
TIMES=$DATA/scale-times         # per serve run: after-list endpoint query-number ms
COMPACTS=$DATA/scale-compact.tsv # after-list segments_before segments_after wall user sys maxrss_kb
touch "$IMPORTS" "$SERVES"

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

QUERIES=${SCALE_QUERIES:-$DATA/scale-queries}
# Words, phrases, addresses, lists, files and dates that occur across the
# kernel lists: common and rare terms, hits in the hundreds of thousands
# and in the tens (the default sort, newest first).
[ -n "${SCALE_QUERIES:-}" ] || cat >"$QUERIES" <<'Q'
s:fix
s:fixes
b:leak
b:"use-after-free"
s:"use-after-free"
b:"Fixes:"
b:"Reviewed-by"
b:"Cc: stable@vger.kernel.org"
c:stable@vger.kernel.org
tc:linux-fsdevel
t:linux-block@vger.kernel.org
c:linux-kernel@vger.kernel.org
f:axboe
f:djwong
f:herbert@gondor.apana.org.au
f:pablo@netfilter.org
s:"PATCH v2"
s:PATCH AND s:v3
s:btrfs
s:xfs
s:crypto
s:nft
s:io_uring
io_uring
s:regression
b:deadlock
b:WARN_ON_ONCE
b:syzbot
s:"KASAN: slab-use-after-free"
dfn:fs/btrfs/inode.c
dfn:fs/xfs/xfs_inode.c
dfn:block/blk-mq.c
nq:READ_ONCE
s:(leak OR overflow) AND NOT s:Re
s:blk-mq NOT f:axboe
d:2024-01-01..2024-02-01
s:fix d:2023-01-01..2023-06-01
b:"Signed-off-by: Christoph Hellwig"
s:memory* AND s:leak
s:"null pointer dereference"
Q

now_load() { cut -d' ' -f1 /proc/loadavg; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rss_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
# cpu_ns PID: CPU time of all the threads of PID so far, in ns
# (schedstat): the server's own work per query, which the load of a shared
# machine inflates far less than the wall time.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}'; }
bytes() { du -sb "$@" 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }

# serve_measure LABEL: serve DATA with the result cache off; RSS idle, the
# query set over /all/ (warm-up, then REPS rounds), RSS after.
serve_measure() {
	local label=$1 port q n r ep
	port=$(free_port)
	"$BIN" -q --data "$DATA" serve --addr "127.0.0.1:$port" --no-result-cache 2>"$WORK/serve.log" &
	SERVER_PID=$!
	for _ in $(seq 600); do curl -sf -o /dev/null "http://127.0.0.1:$port/all/_/text/help/" && break; sleep 0.5; done
	curl -sf -o /dev/null "http://127.0.0.1:$port/all/_/text/help/" || { echo "scale: serve did not start" >&2; cat "$WORK/serve.log" >&2; exit 1; }
	sleep 5
	local idle
	idle=$(rss_kb "$SERVER_PID" VmRSS)
	timeq() { curl -s -o /dev/null -G --data-urlencode "q=$2" -w '%{http_code} %{time_total}\n' "$1"; }
	n=0
	while IFS= read -r q; do
		[ -n "$q" ] || continue
		n=$((n + 1))
		for ep in html api; do
			local u=http://127.0.0.1:$port/all/
			[ "$ep" = api ] && u=http://127.0.0.1:$port/api/v1/search
			read -r code _ < <(timeq "$u" "$q")
			[ "$code" = 200 ] || echo "scale: after $label, $ep query '$q' answered $code" >&2
			for r in $(seq "$REPS"); do
				c0=$(cpu_ns "$SERVER_PID")
				read -r code t < <(timeq "$u" "$q")
				c1=$(cpu_ns "$SERVER_PID")
				echo "$label $ep $n $(awk -v t="$t" 'BEGIN {printf "%.2f", t * 1000}') $code $(((c1 - c0) / 1000))"
			done
		done
	done <"$QUERIES" >>"$TIMES"
	local after hwm anon file
	after=$(rss_kb "$SERVER_PID" VmRSS)
	hwm=$(rss_kb "$SERVER_PID" VmHWM)
	anon=$(rss_kb "$SERVER_PID" RssAnon)
	file=$(rss_kb "$SERVER_PID" RssFile)
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
	local msgs raw
	msgs=$("$BIN" -q --data "$DATA" stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["messages"])')
	raw=$(awk -F'\t' '{s += $4} END {printf "%.0f\n", s}' "$IMPORTS")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$msgs" "$(bytes "$DATA"/store.db*)" "$(bytes "$DATA/index")" "$raw" "$idle" "$after" "$hwm" "$anon" "$file" >>"$SERVES"
}

if [ "${SCALE_PHASE:-}" != report ] && [ -z "${SCALE_NOBUILD:-}${SCALE_BIN:-}" ]; then
	go build -o "$BIN" ./cmd/patchtrail
fi
if [ "${SCALE_PHASE:-}" = serve ]; then
	echo "scale: $(date -u +%H:%M:%S) serve on $DATA as it is (load $(now_load))" >&2
	serve_measure "${SCALE_LABEL:-now}"
elif [ "${SCALE_PHASE:-}" != report ]; then
	names=()
	for l in ${LISTS//,/ }; do
		name=${l%%=*} src=${l#*=}
		if [ ! -e "$src" ]; then
			echo "scale: skipping $name: no archive at $src (fetch github:linux-mailinglist-archives/<list>.0 into $MIRROR, or set SCALE_LISTS)" >&2
			continue
		fi
		names+=("$name")
		if awk -F'\t' -v n="$name" '$1 == n {f = 1} END {exit !f}' "$IMPORTS"; then
			echo "scale: $name imported before (in $IMPORTS)" >&2
			# A run stopped between the import of the last list and its
			# serve measurement: measure now (the store is as it was).
			if [ "$EACH" = 1 ] && [ "$(tail -1 "$IMPORTS" | cut -f1)" = "$name" ] &&
				! awk -F'\t' -v n="$name" '$1 == n {f = 1} END {exit !f}' "$SERVES"; then
				echo "scale: $(date -u +%H:%M:%S) serve after $name" >&2
				serve_measure "$name"
			fi
			continue
		fi
		echo "scale: $(date -u +%H:%M:%S) importing $name from $src (load $(now_load))" >&2
		lb=$(now_load)
		/usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$BIN" -q --data "$DATA" import --json --list "$name" "$src" >"$WORK/out" 2>"$WORK/err" ||
			{ cat "$WORK/err" >&2; exit 1; }
		read -r added rd by < <(python3 -c '
import json, sys
rs = json.load(open(sys.argv[1]))
rs = rs if isinstance(rs, list) else rs.get("results", [rs])
print(sum(r["added"] for r in rs), sum(r["read"] for r in rs), sum(r["bytes"] for r in rs))' "$WORK/out")
		read -r wall user sys maxrss <"$WORK/time"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$added" "$rd" "$by" "$wall" "$user" "$sys" "$maxrss" "$lb" "$(now_load)" >>"$IMPORTS"
		echo "scale: $(date -u +%H:%M:%S) $name: $added messages in ${wall}s wall, $(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')s CPU, peak RSS $((maxrss / 1024)) MB" >&2
		if [ "$EACH" = 1 ]; then
			echo "scale: $(date -u +%H:%M:%S) serve after $name" >&2
			serve_measure "$name"
		fi
	done
	last=${names[${#names[@]} - 1]:-}
	if [ -n "$last" ] && ! awk -F'\t' -v n="$last" '$1 == n {f = 1} END {exit !f}' "$SERVES"; then
		serve_measure "$last"
	fi
	# What an operator does after importing lists' histories, as
	# public-inbox-compact: merge the closed partitions (doc/scaling.md).
	if [ -n "$last" ] && [ "${SCALE_COMPACT:-1}" = 1 ] &&
		! awk -F'\t' -v n="$last+compacted" '$1 == n {f = 1} END {exit !f}' "$SERVES"; then
		echo "scale: $(date -u +%H:%M:%S) compact after $last" >&2
		/usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$BIN" -q --data "$DATA" compact >"$WORK/out" 2>"$WORK/err" ||
			{ cat "$WORK/err" >&2; exit 1; }
		read -r _ _ _ _ _ before _ _ after _ <"$WORK/out"
		read -r wall user sys maxrss <"$WORK/time"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$last" "$before" "$after" "$wall" "$user" "$sys" "$maxrss" >>"$COMPACTS"
		echo "scale: $(date -u +%H:%M:%S) $(cat "$WORK/out"), peak RSS $((maxrss / 1024)) MB" >&2
		serve_measure "$last+compacted"
	fi
fi

touch "$COMPACTS"
python3 - "$IMPORTS" "$SERVES" "$TIMES" "$QUERIES" "$REPS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$COMPACTS" <<'PY' | tee "$DATA/scale.md"
import statistics as st, sys
imports, serves, times, queries, reps, cores, load, compacts = sys.argv[1:]
imp = [l.rstrip("\n").split("\t") for l in open(imports) if l.strip()]
srv = [l.rstrip("\n").split("\t") for l in open(serves) if l.strip()]
qs = [q.rstrip("\n") for q in open(queries) if q.strip()]
t, c = {}, {}  # label → endpoint → query → [wall ms], [server CPU ms]
bad = {}
for line in open(times):
    label, ep, n, ms, code, *cpu = line.split()
    t.setdefault(label, {}).setdefault(ep, {}).setdefault(int(n), []).append(float(ms))
    if cpu:
        c.setdefault(label, {}).setdefault(ep, {}).setdefault(int(n), []).append(int(cpu[0]) / 1000)
    if code != "200":
        bad.setdefault(label, set()).add((ep, int(n), code))
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]
MB = 1e6
if not imp:
    sys.exit("scale: nothing imported yet")
print(f"{len(imp)} lists imported one after the other into one data directory (full index); {cores} cores; load average at the end {load}.")
print("Command: `make scale` (.ci/scale.sh). msgs/s = messages added ÷ wall seconds; msgs/CPU-s = ÷ (user + system) seconds.\n")
print("| list | messages added | raw MB | wall s | CPU s | msgs/s | msgs/CPU-s | peak RSS MB | store holds before | load before → after |")
print("|---|---|---|---|---|---|---|---|---|---|")
held = 0
for name, added, rd, by, wall, user, sys_, rss, lb, la in imp:
    added, wall, cpu = int(added), float(wall), float(user) + float(sys_)
    print(f"| {name} | {added:,} | {int(by) / MB:,.0f} | {wall:,.0f} | {cpu:,.0f} | {added / max(wall, 0.01):,.0f} | {added / max(cpu, 0.01):,.0f} | {int(rss) / 1024:,.0f} | {held:,} | {lb} → {la} |")
    held += added
first, last = imp[0], imp[-1]
def rate(r, cpu=False):
    s = float(r[5]) + float(r[6]) if cpu else float(r[4])
    return int(r[1]) / max(s, 0.01)
if len(imp) > 1:
    for what, cpu in (("msgs/s", False), ("msgs/CPU-s", True)):
        a, b = rate(first, cpu), rate(last, cpu)
        if a > 0:
            print(f"\nThroughput, last list ({last[0]}) ÷ first ({first[0]}), {what}: {b / a:.2f} ({'within' if abs(b / a - 1) <= 0.2 else 'NOT within'} 20 %).", end="")
    print()
print(f"\nPeak RSS of any one list import: {max(int(r[7]) for r in imp) / 1024:,.0f} MB.\n")
print("After each list (serve --no-result-cache, default --cache; latency over /all/, per query the median of its requests, ms; "
      "CPU = the server's CPU time per request, all threads, from /proc/PID/task/*/schedstat):\n")
print("| after | messages | store MB | index MB | raw mail MB | store B/msg | index B/msg | serve RSS idle MB | after queries MB | of which anonymous + files | peak MB | HTML p50 | p90 | max | API p50 | p90 | max | HTML CPU p50 | p90 | max | API CPU p50 | p90 | max |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for label, msgs, sb, ib, rb, idle, after, hwm, *parts in srv:
    msgs = int(msgs)
    split = f"{int(parts[0]) / 1024:,.0f} + {int(parts[1]) / 1024:,.0f}" if len(parts) == 2 else "–"
    row = f"| {label} | {msgs:,} | {int(sb) / MB:,.0f} | {int(ib) / MB:,.0f} | {int(rb) / MB:,.0f} | {int(sb) / msgs:,.0f} | {int(ib) / msgs:,.0f} | {int(idle) / 1024:,.0f} | {int(after) / 1024:,.0f} | {split} | {int(hwm) / 1024:,.0f}"
    for src in (t, c):
        for ep in ("html", "api"):
            med = [st.median(v) for v in src.get(label, {}).get(ep, {}).values()]
            row += f" | {pct(med, 50):.1f} | {pct(med, 90):.1f} | {max(med):.1f}" if med else " | – | – | –"
    print(row + " |")
for name, before, after, wall, user, sys_, rss in (l.rstrip("\n").split("\t") for l in open(compacts) if l.strip()):
    print(f"\n`patchtrail compact` after {name}: {int(before):,} segments to {int(after):,} in {float(wall):,.0f} s wall, "
          f"{float(user) + float(sys_):,.0f} s CPU, peak RSS {int(rss) / 1024:,.0f} MB (row \"{name}+compacted\" above).")
if srv:
    # The last row, and beside a compacted row the row before compaction.
    labels = [r[0] for r in srv[-2:]] if srv[-1][0].endswith("+compacted") and len(srv) > 1 else [srv[-1][0]]
    print(f"\nPer query after {' and '.join(labels)} ({int(srv[-1][1]):,} messages), median of {reps} requests after a warm-up, ms:\n")
    print("| # | query | " + " | ".join(f"{l}: HTML page | /api/v1/search | HTML CPU | API CPU" for l in labels) + " |")
    print("|---|---|" + "---|---|---|---|" * len(labels))
    def cell(src, label, ep, i):
        v = src.get(label, {}).get(ep, {}).get(i)
        return f"{st.median(v):.1f}" if v else "–"
    for i, q in enumerate(qs, 1):
        print(f"| {i} | `{q}` | " + " | ".join(f"{cell(t, l, 'html', i)} | {cell(t, l, 'api', i)} | {cell(c, l, 'html', i)} | {cell(c, l, 'api', i)}" for l in labels) + " |")
for label in sorted(bad):
    print(f"\nNot 200 after {label}: " + ", ".join(f"{ep} #{n} ({code})" for ep, n, code in sorted(bad[label])))
PY
