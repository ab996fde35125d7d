#!/usr/bin/env bash
# Import + full-text index side by side with other local indexers, in one
# run, printing wall time, CPU time (user + system) and peak RSS of each and
# patchtrail's ratios. The machine may be shared: compare the ratios, not
# the absolute numbers. Part of `make bench`; alone: `make bench-compare`.
#
#   1. a slice of the io-uring epoch (its first COMPARE_SLICE messages,
#      default 3000): `patchtrail import` vs `public-inbox-index` at its
#      full level (Xapian, positions), both on the same public-inbox epoch;
#   2. the whole epoch (COMPARE_EPOCH=0 skips it), written out as a
#      Maildir: `patchtrail import` of the epoch and of the Maildir vs
#      `mu index` (mu 1.8, Xapian) and, with COMPARE_NOTMUCH=1,
#      `notmuch new`.
#
# COMPARE_MEMORY=MiB passes --memory to patchtrail import. Results are also
# saved to .cache/bench-compare.md.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${PATCHTRAIL_CORPUS:-.cache/corpus}/io-uring
[ -d "$corpus/git/0.git" ] || { echo "bench-compare: no corpus at $corpus (make corpus)" >&2; exit 1; }
bin=$PWD/bin/patchtrail
n=${COMPARE_SLICE:-3000}
mem=()
[ -n "${COMPARE_MEMORY:-}" ] && mem=(--memory "$COMPARE_MEMORY")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=.cache/bench-compare.md
mkdir -p .cache
: >"$work/results"
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# measure LABEL CMD...: runs CMD under /usr/bin/time and appends
# "label wall_s cpu_s peak_rss_kb" to the results.
measure() {
	local label=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
		cat "$work/err" >&2
		exit 1
	}
	awk -v l="$label" '{printf "%s %s %.2f %s\n", l, $1, $2 + $3, $4}' "$work/time" >>"$work/results"
	echo "bench-compare: $(tail -1 "$work/results")" >&2
}

# The slice: a mirror of the epoch whose master is its n-th commit.
slice=$work/slice/io-uring
mkdir -p "$slice/git"
git clone -q --mirror "$corpus/git/0.git" "$slice/git/0.git"
tip=$(git -C "$slice/git/0.git" rev-list --reverse HEAD | sed -n "${n}p")
git -C "$slice/git/0.git" update-ref refs/heads/master "$tip"

measure "patchtrail-slice" "$bin" -q --data "$work/pt-slice" import "${mem[@]}" "$slice"
if command -v public-inbox-index >/dev/null; then
	pi=$work/pi/io-uring
	mkdir -p "$pi/git"
	git clone -q --mirror "$slice/git/0.git" "$pi/git/0.git"
	export PI_CONFIG=$work/pi/config
	public-inbox-init -V2 -L full io-uring "$pi" http://127.0.0.1/io-uring io-uring@vger.kernel.org
	measure "public-inbox-index-full-slice" public-inbox-index "$pi"
fi

if [ "${COMPARE_EPOCH:-1}" != 0 ]; then
	# The epoch as a Maildir: every commit's m blob, one file each.
	md=$work/maildir
	mkdir -p "$md/cur" "$md/new" "$md/tmp"
	git -C "$corpus/git/0.git" log --reverse --format='%H:m' |
		git -C "$corpus/git/0.git" cat-file --batch 2>/dev/null |
		python3 -c '
import sys
d, i, inp = sys.argv[1], 0, sys.stdin.buffer
while True:
    head = inp.readline()
    if not head:
        break
    parts = head.split()
    if len(parts) < 3:  # "<name> missing"
        continue
    data = inp.read(int(parts[2])); inp.read(1)
    i += 1
    with open("%s/cur/%08d.io-uring:2,S" % (d, i), "wb") as f:
        f.write(data)
' "$md"
	measure "patchtrail-epoch" "$bin" -q --data "$work/pt-epoch" import "${mem[@]}" "$corpus"
	rm -rf "$work/pt-epoch"
	measure "patchtrail-epoch-maildir" "$bin" -q --data "$work/pt-md" import "${mem[@]}" --list io-uring "$md"
	rm -rf "$work/pt-md"
	if command -v mu >/dev/null; then
		mu init --muhome="$work/mu" --maildir="$md" >/dev/null
		measure "mu-index-epoch-maildir" mu index --muhome="$work/mu"
		rm -rf "$work/mu"
	fi
	if [ "${COMPARE_NOTMUCH:-}" = 1 ] && command -v notmuch >/dev/null; then
		printf '[database]\npath=%s\n[new]\ntags=\n[maildir]\nsynchronize_flags=false\n' "$md" >"$work/notmuch-config"
		NOTMUCH_CONFIG=$work/notmuch-config measure "notmuch-new-epoch-maildir" notmuch new
	fi
fi

val() { awk -v l="$1" -v c="$2" '$1 == l {print $c}' "$work/results"; }
ratio() { # ratio OTHER OURS COLUMN: OTHER / OURS
	local o p
	o=$(val "$1" "$3")
	p=$(val "$2" "$3")
	[ -n "$o" ] && [ -n "$p" ] && awk -v o="$o" -v p="$p" 'BEGIN {printf "%.1fx", o / p}' || echo "-"
}
{
	echo "Run of $(date -u +%Y-%m-%d) on $(nproc) cores; load average before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "Command: \`make bench-compare\` (COMPARE_SLICE=$n${COMPARE_MEMORY:+, COMPARE_MEMORY=$COMPARE_MEMORY}); patchtrail $(git describe --always --dirty 2>/dev/null || echo '?')."
	echo
	echo "| what | wall s | CPU s | peak RSS MB |"
	echo "|---|---|---|---|"
	awk '{printf "| %s | %.1f | %.1f | %.0f |\n", $1, $2, $3, $4 / 1024}' "$work/results"
	echo
	echo "Slice ($n messages), public-inbox-index -L full / patchtrail: wall $(ratio public-inbox-index-full-slice patchtrail-slice 2), CPU $(ratio public-inbox-index-full-slice patchtrail-slice 3)."
	if [ "${COMPARE_EPOCH:-1}" != 0 ]; then
		echo "Epoch as a Maildir, mu index / patchtrail import of the Maildir: wall $(ratio mu-index-epoch-maildir patchtrail-epoch-maildir 2), CPU $(ratio mu-index-epoch-maildir patchtrail-epoch-maildir 3); mu / patchtrail import of the epoch: wall $(ratio mu-index-epoch-maildir patchtrail-epoch 2), CPU $(ratio mu-index-epoch-maildir patchtrail-epoch 3)."
	fi
} | tee "$out"
