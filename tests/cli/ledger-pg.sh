#!/bin/sh
# SPDX-License-Identifier: MIT
# The ledger on PostgreSQL (TAP), against a throwaway PostgreSQL 15 server
# this script starts and stops (tests/common/pg.sh: Unix socket only):
#  - the whole ledger unit suite (tests/test_ledger.c) run again on it;
#  - `certpress ledger init`, a password on the command line refused, the
#    everyday actions through the connection string;
#  - two `certpress render` stations racing on overlapping batches, on an
#    SQLite file (run even without PostgreSQL) and on the server: neither
#    waits for the other's batch, every number is issued exactly once, the
#    loser writes nothing;
#  - `ledger migrate` from an SQLite file; sheets numbered from the server's
#    stock in page order (a spoiled one skipped, used-up stock refused);
#  - a station killed mid-batch and a server stopped leave nothing recorded.
. "$(dirname "$0")/lib.sh"
. "$T_TOP/tests/common/pg.sh"
PG_AT_EXIT='rm -rf "$T_TMP"'
ORG="$T_TOP/templates/org.conf"
export XDG_DATA_HOME="$T_TMP/xdg"
UNIT="${BUILD:-$T_TOP/build}/tests/test_ledger"

# --- two stations racing on overlapping batches, on either backend -------
# records 1–14 and 7–20 of the sample, each with a print serial of its own
# record number: the overlap 7–14 contests both the numbers and the sheets.
mkdir -p "$T_TMP/r"
cp -r "$T_TOP/templates/sample/photos" "$T_TMP/r/photos"
tr -d '\r' <"$T_TOP/templates/sample/batch.csv" |
	awk -F, 'NR == 1 { print $0 ",证书印制流水码"; next }
		{ printf "%s,GD2026%06d\n", $0, NR - 1 }' >"$T_TMP/r/all.csv"
sed -n '1,15p' "$T_TMP/r/all.csv" >"$T_TMP/r/a.src"
sed -n '1p;8,21p' "$T_TMP/r/all.csv" >"$T_TMP/r/b.src"
# race LEDGER TAG: the two stations on one ledger holding GD2026000001–100
race() {
	# Each station reads its batch from a FIFO: both wait in open() until the
	# batches are written, then run side by side.
	mkfifo "$T_TMP/r/$2-a.csv" "$T_TMP/r/$2-b.csv"
	"$CERTPRESS" render --org "$ORG" --ledger "$1" --batch "$2-station-a" -o "$T_TMP/r/$2-a.pdf" \
		"$T_TMP/r/$2-a.csv" >"$T_TMP/a.out" 2>"$T_TMP/a.err" &
	pa=$!
	"$CERTPRESS" render --org "$ORG" --ledger "$1" --batch "$2-station-b" -o "$T_TMP/r/$2-b.pdf" \
		"$T_TMP/r/$2-b.csv" >"$T_TMP/b.out" 2>"$T_TMP/b.err" &
	pb=$!
	cat "$T_TMP/r/a.src" >"$T_TMP/r/$2-a.csv" &
	cat "$T_TMP/r/b.src" >"$T_TMP/r/$2-b.csv" &
	wait $pa; ra=$?
	wait $pb; rb=$?
	run ledger export --ledger "$1" --csv
	printf '%s\n' "$T_OUT" | tr -d '\r' | awk -F, '$1 == "issue" { print $3 }' | sort >"$T_TMP/issued"
	printf '%s\n' "$T_OUT" | tr -d '\r' | awk -F, '$1 == "issue" { print $8 }' | sort >"$T_TMP/serials"
	dups=$(uniq -d "$T_TMP/issued" | wc -l)
	sdups=$(uniq -d "$T_TMP/serials" | wc -l)
	issued=$(wc -l <"$T_TMP/issued")
	[ "$dups" -eq 0 ] && ok "race ($2): no number issued twice" ||
		not_ok "race ($2): no number issued twice" "$(uniq -d "$T_TMP/issued" | head -3)"
	[ "$sdups" -eq 0 ] && ok "race ($2): no stock serial consumed twice" ||
		not_ok "race ($2): no stock serial consumed twice"
	want=0
	[ "$ra" -eq 0 ] && want=$((want + 14))
	[ "$rb" -eq 0 ] && want=$((want + 14))
	if [ "$ra" -eq 0 ] || [ "$rb" -eq 0 ]; then ok "race ($2): a station won (exits $ra, $rb)"
	else not_ok "race ($2): a station won (exits $ra, $rb)" "$(head -3 "$T_TMP/a.err")" "$(head -3 "$T_TMP/b.err")"; fi
	[ "$issued" -eq "$want" ] && ok "race ($2): every page of the winner recorded, none of the loser ($issued)" ||
		not_ok "race ($2): every page of the winner recorded, none of the loser" "issued $issued, wanted $want"
	for s in a b; do
		eval "rc=\$r$s"
		if [ "$rc" -ne 0 ]; then
			file_absent "$T_TMP/r/$2-$s.pdf" "race ($2): the losing station $s wrote no PDF"
			contains "$(cat "$T_TMP/$s.err")" "already" "race ($2): station $s is told the number was taken"
		fi
	done
	{ cat "$T_TMP/a.err" "$T_TMP/b.err"; } | sed 's/^/# /' | head -8
}

# on an SQLite file: the stations no longer wait for each other's batch
RS="$T_TMP/race.sqlite"
"$CERTPRESS" ledger stock add --ledger "$RS" --from GD2026000001 --to GD2026000100 >/dev/null
race "$RS" sqlite

# A password in the environment is refused before any connection is tried
# (so this runs without a server too), and never quoted back: PGPASSWORD is
# readable by every process of the user and inherited by every child.
env PGPASSWORD=hunter2 "$CERTPRESS" ledger report --ledger "host=$T_TMP/nosock dbname=ledger" \
	>"$T_TMP/pw.out" 2>"$T_TMP/pw.err"
st=$?
[ "$st" -eq 2 ] && ok "PGPASSWORD in the environment is refused (exit 2)" ||
	not_ok "PGPASSWORD in the environment is refused (exit 2)" "exit $st: $(head -3 "$T_TMP/pw.err")"
contains "$(cat "$T_TMP/pw.err")" "PGPASSWORD is set in the environment" "the refusal names PGPASSWORD"
contains "$(cat "$T_TMP/pw.err")" "~/.pgpass" "the refusal says where the password goes"
lacks "$(cat "$T_TMP/pw.err")" "hunter2" "the refusal never quotes the password"
lacks "$(cat "$T_TMP/pw.err")" "cannot connect" "no connection was tried"
env PGPASSWORD= "$CERTPRESS" ledger report --ledger "host=$T_TMP/nosock dbname=ledger" \
	>"$T_TMP/pw.out" 2>"$T_TMP/pw.err"
lacks "$(cat "$T_TMP/pw.err")" "PGPASSWORD" "an empty PGPASSWORD holds no password and is not refused"

if ! pg_start; then
	skip "the ledger on PostgreSQL: $PG_WHY"
	done_testing
	exit $?
fi
L=$PG_CONNINFO

# --- the unit suite, written once, run on the server ---------------------
CERTPRESS_TEST_PG=$L "$UNIT" >"$T_TMP/unit.log" 2>&1
unit_rc=$?
units=0
while IFS= read -r line; do
	case "$line" in
	"ok "*) units=$((units + 1)); ok "unit: ${line#ok [0-9]* }" ;;
	"not ok "*) units=$((units + 1)); not_ok "unit: ${line#not ok [0-9]* }" ;;
	esac
done <"$T_TMP/unit.log"
if [ "$unit_rc" -ne 0 ] || [ "$units" -lt 14 ]; then
	not_ok "the unit suite on PostgreSQL ran whole (exit $unit_rc, $units tests)" \
		"$(grep -E 'ERROR|Bail' "$T_TMP/unit.log" | head -5)"
fi

# --- the command line ----------------------------------------------------
run ledger report --ledger "$L"
expect_status 1 "a database without the schema is refused"
contains "$T_ERR" "certpress ledger init" "the refusal says how to make it"
run ledger init --ledger "$L"
expect_status 0 "ledger init makes the schema"
run ledger init --ledger "$L"
expect_status 0 "ledger init again changes nothing"
run ledger stock add --ledger "postgresql://cp:hunter2@localhost/ledger" --from GD1 --to GD2
expect_status 2 "a password in the URI is refused"
contains "$T_ERR" "~/.pgpass" "the refusal says where a password goes"
lacks "$T_ERR" "hunter2" "the refusal never quotes the password"
run ledger stock add --ledger "$L" --from GD2026000001 --to GD2026000100 --operator alice
expect_status 0 "stock add on the server"
# the grants of the README: a station reads and adds, nothing more
pg_sql ledger "CREATE ROLE station LOGIN;
  GRANT USAGE ON SCHEMA public TO station;
  GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO station;
  GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO station;
  REVOKE UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public FROM station;"
S="host=$PG_DIR user=station dbname=ledger"
run ledger stock add --ledger "$S" --from GD2026000101 --to GD2026000200
expect_status 0 "a station with SELECT and INSERT only records stock"
run ledger report --ledger "$S"
expect_status 0 "and reads the report"
if "$PGBIN/psql" -h "$PG_DIR" -U station -d ledger -X -q -c "DELETE FROM stock" >/dev/null 2>&1
then not_ok "a station cannot delete entries"; else ok "a station cannot delete entries"; fi

race "$L" pg

# --- moving an SQLite ledger onto the server -----------------------------
F="$T_TMP/old.sqlite"
sed -n '1,6p' "$T_TMP/r/all.csv" >"$T_TMP/r/m.csv"
sed -n '1p;2p' "$T_TMP/r/all.csv" | sed 's/,GD2026000001$/,GD2026000009/' >"$T_TMP/r/m2.csv"
"$CERTPRESS" ledger stock add --ledger "$F" --from GD2026000001 --to GD2026000050 \
	--date 2026-01-05 --note "box 1, red" >/dev/null &&
"$CERTPRESS" render --org "$ORG" --ledger "$F" --batch old-1 -o "$T_TMP/r/m.pdf" \
	"$T_TMP/r/m.csv" 2>/dev/null &&
"$CERTPRESS" ledger spoil --ledger "$F" --serial GD2026000001 --reason smudge >/dev/null &&
"$CERTPRESS" render --org "$ORG" --ledger "$F" --batch old-2 -o "$T_TMP/r/m2.pdf" \
	"$T_TMP/r/m2.csv" 2>/dev/null &&
"$CERTPRESS" ledger destroy --ledger "$F" --from GD2026000040 --to GD2026000045 \
	--reason shredded >/dev/null &&
"$CERTPRESS" ledger revoke --ledger "$F" --cert-no "$(sed -n '3p' "$T_TMP/r/m.csv" | cut -d, -f7)" \
	--reason fraud >/dev/null
[ $? -eq 0 ] && ok "a populated SQLite ledger (stock, prints, a reprint, spoil, destroy, revoke)" ||
	not_ok "a populated SQLite ledger"
pg_createdb moved
M="host=$PG_DIR user=cp dbname=moved"
run ledger migrate --from "$F" --to "$M"
expect_status 0 "ledger migrate moves it into an empty database"
contains "$T_OUT" "the export and the balance match" "migrate says what it compared"
"$CERTPRESS" ledger export --ledger "$F" --csv >"$T_TMP/from.csv"
"$CERTPRESS" ledger export --ledger "$M" --csv >"$T_TMP/to.csv"
if [ "$(grep -c . "$T_TMP/from.csv")" -ge 12 ] && cmp -s "$T_TMP/from.csv" "$T_TMP/to.csv"; then
	ok "every entry is on the server, unchanged ($(grep -c . "$T_TMP/to.csv") lines of export)"
else not_ok "every entry is on the server, unchanged" "$(diff "$T_TMP/from.csv" "$T_TMP/to.csv" | head -5)"; fi
"$CERTPRESS" ledger report --ledger "$F" --json | grep '"balance"' >"$T_TMP/from.bal"
"$CERTPRESS" ledger report --ledger "$M" --json | grep '"balance"' >"$T_TMP/to.bal"
cmp -s "$T_TMP/from.bal" "$T_TMP/to.bal" && [ -s "$T_TMP/to.bal" ] &&
	ok "the balance is unchanged: $(cat "$T_TMP/to.bal" | tr -s ' ')" ||
	not_ok "the balance is unchanged" "$(cat "$T_TMP/from.bal" "$T_TMP/to.bal")"
run ledger migrate --from "$F" --to "$M"
expect_status 1 "migrating into a ledger that is not empty is refused"
contains "$T_ERR" "not empty" "the refusal says why"
run ledger stock add --ledger "$M" --from GD2026000051 --to GD2026000060
expect_status 0 "the moved ledger takes new entries (its sequences follow the ids moved)"
run ledger show --ledger "$M" "$(sed -n '2p' "$T_TMP/r/m.csv" | cut -d, -f7)"
contains "$T_OUT" "printed again" "the moved history still reads the reprint"

# --- sheets numbered from the server's stock, in page order --------------
pg_createdb numbered
N="host=$PG_DIR user=cp dbname=numbered"
tr -d '\r' <"$T_TOP/templates/sample/batch.csv" >"$T_TMP/r/plain.csv" # no serial column
"$CERTPRESS" ledger init --ledger "$N" >/dev/null &&
"$CERTPRESS" ledger stock add --ledger "$N" --from GD2026000001 --to GD2026000006 >/dev/null &&
"$CERTPRESS" ledger spoil --ledger "$N" --serial GD2026000002 --reason jam >/dev/null
[ $? -eq 0 ] && ok "numbered: stock received, one sheet spoiled" || not_ok "numbered: stock received"
run render --org "$ORG" --ledger "$N" --batch n1 --rows 2-3 -o "$T_TMP/r/n1.pdf" "$T_TMP/r/plain.csv"
expect_status 0 "numbered: a batch of two"
run render --org "$ORG" --ledger "$N" --batch n2 --rows 4 -o "$T_TMP/r/n2.pdf" "$T_TMP/r/plain.csv"
expect_status 0 "numbered: the next batch"
run ledger export --ledger "$N" --csv
got=$(printf '%s\n' "$T_OUT" | tr -d '\r' | awk -F, '$1 == "issue" { printf "%s ", $8 }')
[ "$got" = "GD2026000001 GD2026000003 GD2026000004 " ] &&
	ok "numbered: sheets in stock order, the spoiled one skipped, the next batch goes on" ||
	not_ok "numbered: sheets in stock order" "got: $got"
run render --org "$ORG" --ledger "$N" --batch n3 --rows 5-9 -o "$T_TMP/r/n3.pdf" "$T_TMP/r/plain.csv"
expect_status 1 "numbered: used-up stock stops the batch"
contains "$T_ERR" "used up" "numbered: the refusal says the stock is used up"
file_absent "$T_TMP/r/n3.pdf" "numbered: nothing written"

# --- killed mid-batch, server gone ---------------------------------------
before=$(sh -c '"$0" ledger export --ledger "$1" --csv' "$CERTPRESS" "$L" | md5sum)
sed -n '1p;16,21p' "$T_TMP/r/all.csv" >"$T_TMP/r/c.src"
mkfifo "$T_TMP/r/c.csv"
"$CERTPRESS" render --org "$ORG" --ledger "$L" -o "$T_TMP/r/c.pdf" "$T_TMP/r/c.csv" \
	>/dev/null 2>&1 &
pc=$!
# the header and one record: the station is inside its batch, waiting for
# the rest of its records when it is killed
exec 7>"$T_TMP/r/c.csv"
head -n 2 "$T_TMP/r/c.src" >&7
kill -KILL $pc
wait $pc 2>/dev/null
exec 7>&-
after=$(sh -c '"$0" ledger export --ledger "$1" --csv' "$CERTPRESS" "$L" | md5sum)
[ "$before" = "$after" ] && ok "a station killed mid-batch leaves the ledger as it was" ||
	not_ok "a station killed mid-batch leaves the ledger as it was"

pg_stop
run ledger report --ledger "$L"
expect_status 2 "a server that is gone is an error"
contains "$T_ERR" "cannot connect to the ledger server" "the error says the server cannot be reached"

done_testing
