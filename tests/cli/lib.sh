# SPDX-License-Identifier: MIT
# TAP helpers for the end-to-end tests of the certpress command.
# Usage: . "$(dirname "$0")/lib.sh"; then ok/not_ok/is/run..., then done_testing.
set -u
T_TOP=$(cd "$(dirname "$0")/../.." && pwd)
CERTPRESS=${CERTPRESS:-$T_TOP/build/certpress}
T_N=0
T_FAIL=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/certpress-cli.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT
export CERTPRESS_NO_PROGRESS=1 LC_ALL=C.UTF-8 LANGUAGE=

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $1"; }
not_ok() { T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
skip() { T_N=$((T_N + 1)); echo "ok $T_N # SKIP $1"; }

# run CMD...: runs certpress with the arguments, keeping status, stdout, stderr.
run() {
	"$CERTPRESS" "$@" >"$T_TMP/stdout" 2>"$T_TMP/stderr"
	T_STATUS=$?
	T_OUT=$(cat "$T_TMP/stdout")
	T_ERR=$(cat "$T_TMP/stderr")
}
# expect_status N DESC
expect_status() {
	if [ "$T_STATUS" -eq "$1" ]; then ok "$2 (exit $1)"
	else not_ok "$2: expected exit $1, got $T_STATUS" "stderr: $(echo "$T_ERR" | head -5)"; fi
}
# contains HAYSTACK NEEDLE DESC
contains() {
	case "$1" in *"$2"*) ok "$3" ;; *) not_ok "$3: '$2' not found" "in: $(echo "$1" | head -8)" ;; esac
}
lacks() {
	case "$1" in *"$2"*) not_ok "$3: '$2' should not appear" "in: $(echo "$1" | head -8)" ;; *) ok "$3" ;; esac
}
# file_absent PATH DESC / file_present PATH DESC
file_absent() { if [ -e "$1" ]; then not_ok "$2: $1 exists"; else ok "$2"; fi; }
file_present() { if [ -s "$1" ]; then ok "$2"; else not_ok "$2: $1 missing or empty"; fi; }
have() { command -v "$1" >/dev/null 2>&1; }
# is GOT WANT DESC
is() {
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3" "got:  $1" "want: $2"; fi
}
# stop_at_exit: from now on, leaving the script (also on SIGINT or SIGTERM,
# with status 130) stops and waits for the background processes whose ids
# the script adds to PIDS (servers, printers), then removes the scratch folder.
PIDS=""
stop_at_exit() {
	trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done
	      for p in $PIDS; do wait "$p" 2>/dev/null; done
	      rm -rf "$T_TMP"' EXIT
	trap 'exit 130' INT TERM
}
done_testing() { echo "1..$T_N"; [ "$T_FAIL" -eq 0 ]; }
