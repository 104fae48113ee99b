#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every test program given (GLib g_test binaries and tests/cli/*.sh
# scripts, all speaking TAP), keeps each one's output under $BUILD/tests/logs,
# prints the failures, and closes with "N passed, N failed" alone on a line.
# A program that crashes, times out or exits non-zero counts as a failure even
# if all its TAP lines said ok.
set -u
logs="${BUILD:-build}/tests/logs"
mkdir -p "$logs"
pass=0 fail=0 skip=0
for t in "$@"; do
	name=$(basename "$t")
	log="$logs/$name.log"
	case "$t" in
	*.sh) timeout 600 sh "$t" >"$log" 2>&1 ;;
	*) timeout 600 "$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	p=$(grep -c -E '^ok [0-9]+' "$log")
	s=$(grep -c -E '^ok [0-9]+.*# ?SKIP' "$log")
	f=$(grep -c -E '^not ok [0-9]+' "$log")
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name ($p passed, $f failed) — log: $log"
		grep -E -B2 -A12 '^not ok|^#.*(ERROR|FAIL|assert)|Sanitizer|runtime error' "$log" | head -60 | sed 's/^/    /'
	else
		echo "ok   $name ($p passed${s:+, $s skipped})" | sed 's/, 0 skipped//'
	fi
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
