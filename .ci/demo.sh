#!/usr/bin/env bash
# make demo: the main job on the sample archive — import the sample list,
# make a code repository by applying some of its patches with git am, link
# the two, and serve everything on http://127.0.0.1:8080/.
#   DEMO_DATA (default .cache/demo-data), DEMO_ADDR (default 127.0.0.1:8080),
#   DEMO_SERVE=0 stops after linking.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PATCHTRAIL_BIN:-bin/patchtrail}
data=${DEMO_DATA:-.cache/demo-data}
addr=${DEMO_ADDR:-127.0.0.1:8080}
rm -rf "$data"
"$bin" --data "$data" import testdata/sample/sample.mbox

repo="$data/sample-repo"
git init -q -b main "$repo"
cp -r testdata/sample/base/. "$repo"/
export GIT_AUTHOR_NAME="Erin Maintainer" GIT_AUTHOR_EMAIL=erin@example.org
export GIT_COMMITTER_NAME="Erin Maintainer" GIT_COMMITTER_EMAIL=erin@example.org
git -C "$repo" add -A
git -C "$repo" commit -q -m "base"
# The v2 series and the use-after-free fix, as the maintainer applied them.
for mid in 20240201083001.310204-1-alice@example.org 20240201083002.310221-2-alice@example.org \
	20240201083003.310238-3-alice@example.org 20240205230000.310306-1-dave@example.org; do
	"$bin" --data "$data" show --raw "$mid" | git -C "$repo" am -q
done

"$bin" --data "$data" repo add sample "$repo"
"$bin" --data "$data" link
"$bin" --data "$data" stats
"$bin" --data "$data" trace 20240205230000.310306-1-dave@example.org | head -20
if [ "${DEMO_SERVE:-1}" != 0 ]; then
	echo "serving on http://$addr/ (Ctrl-C stops)"
	exec "$bin" --data "$data" serve --addr "$addr"
fi
