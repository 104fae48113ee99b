#!/bin/sh
# SPDX-License-Identifier: MIT
# make valgrind: the certpress command on the shipped sample under Memcheck
# (check, render to PDF with a ledger, render one PNG preview, a folder of
# PNGs). Any memory error, or a definite leak not in tests/valgrind.supp,
# fails the run.
# Usage: tests/valgrind.sh PATH/TO/certpress
set -u
prog=${1:?usage: tests/valgrind.sh PATH/TO/certpress}
top=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind: not installed (apt-get install valgrind, or make deps)" >&2
	exit 2
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/certpress-vg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export CERTPRESS_NO_PROGRESS=1
fail=0
vg() { # NAME EXPECTED-STATUS ARGS...
	name=$1 want=$2
	shift 2
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite --num-callers=40 \
		--suppressions="$top/tests/valgrind.supp" \
		--log-file="$tmp/$name.vg" "$prog" "$@" >"$tmp/$name.out" 2>&1
	st=$?
	if [ "$st" -eq "$want" ] && [ ! -s "$tmp/$name.vg" ]; then
		echo "ok   valgrind $name"
	else
		fail=1
		echo "FAIL valgrind $name (exit $st, expected $want)"
		sed 's/^/    /' "$tmp/$name.out" | tail -5
		sed 's/^/    /' "$tmp/$name.vg" | head -80
	fi
}
csv=$top/templates/sample/batch.csv
org=$top/templates/org.conf
vg check 0 check --org "$org" --json --html "$tmp/report.html" "$csv"
vg render-pdf 0 render --org "$org" --ledger "$tmp/ledger.sqlite" -o "$tmp/batch.pdf" "$csv"
vg render-png 0 render --org "$org" --row 2 -o "$tmp/preview.png" "$csv"
# A refused batch takes the error paths (a broken row: its ID's check digit).
sed '3s/440106199207082485/440106199207082486/' "$csv" >"$tmp/broken.csv"
cp -r "$top/templates/sample/photos" "$tmp/"
vg refused 1 render --org "$org" --no-ledger -o "$tmp/refused.pdf" --skip-invalid "$tmp/broken.csv"
# A folder of PNGs on one worker: the first page drawn whole, the next ones
# drawn again over what it kept (cp_engine_redraw).
head -n 6 "$csv" >"$tmp/five.csv"
vg render-png-folder 0 render --org "$org" --no-ledger --jobs 1 --dpi 100 -o "$tmp/pngs/" "$tmp/five.csv"
exit $fail
