#!/bin/sh
# SPDX-License-Identifier: MIT
# The libraries of the PostgreSQL ledger, printing, verifying and the web
# console are opened when a command first needs them (src/lazylib.h), not
# linked: a check or a render to PDF never maps them (together with what
# they bring, some 50 shared objects and 13 ms of every start). The commands
# that use them are tested where they are (ledger-pg.sh, print.sh, sign.sh,
# qr.sh, serve.sh); here, that the others stay without them.
. "$(dirname "$0")/lib.sh"
ORG="$T_TOP/templates/org.conf"
CSV="$T_TOP/templates/sample/batch.csv"
LAZY="libpq.so libcups.so libpoppler libzbar.so libmicrohttpd.so"

if have readelf; then
	needed=$(readelf -d "$CERTPRESS" | awk '/NEEDED/ { print $NF }')
	for l in $LAZY; do
		lacks "$needed" "$l" "the program does not link $l"
	done
	contains "$needed" "libcairo.so" "(the list read is the program's: it links Cairo)"
else
	skip "readelf (binutils) is not installed"
fi

# loaded ARGS...: runs certpress; out: the shared objects the dynamic
# loader mapped for it (LD_DEBUG=files).
loaded() {
	LD_DEBUG=files LD_DEBUG_OUTPUT="$T_TMP/ld" "$CERTPRESS" "$@" >/dev/null 2>"$T_TMP/stderr"
	T_STATUS=$?
	T_ERR=$(cat "$T_TMP/stderr")
	out=$(cat "$T_TMP"/ld.* 2>/dev/null | sed -n 's/^[[:space:]]*[0-9]*:[[:space:]]*file=\([^ ]*\) .*/\1/p' | sort -u)
	rm -f "$T_TMP"/ld.*
}

loaded check --org "$ORG" "$CSV"
expect_status 0 "check of the sample"
contains "$out" "libcairo.so" "LD_DEBUG lists what check maps"
for l in $LAZY; do lacks "$out" "$l" "check does not map $l"; done

loaded render --org "$ORG" --no-ledger -o "$T_TMP/s.pdf" "$CSV"
expect_status 0 "render of the sample to PDF"
for l in $LAZY; do lacks "$out" "$l" "render to PDF does not map $l"; done

# and a ledger on PostgreSQL opens libpq when asked for (it is refused for
# the server being absent, after the library is open)
loaded render --org "$ORG" --ledger "host=$T_TMP/no-server dbname=x connect_timeout=1" \
	-o "$T_TMP/p.pdf" "$CSV"
expect_status 2 "a ledger on a server that is not there is refused"
contains "$out" "libpq.so" "a PostgreSQL ledger opens libpq"
contains "$T_ERR" "no-server" "the error is the server's, named"
file_absent "$T_TMP/p.pdf" "nothing is written"

done_testing
