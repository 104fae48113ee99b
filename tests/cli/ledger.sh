#!/bin/sh
# SPDX-License-Identifier: MIT
# End-to-end tests of `certpress ledger` (TAP): stock, spoil, destroy, revoke,
# report, show, export, backup, exit statuses; what `certpress render` records
# (the print serial, a reissue's returned old sheet) read back through show,
# report and export; times shown in the operator's time zone (TZ).
set -u
bin=${CERTPRESS:-build/certpress}
work="${BUILD:-build}/tests/scratch/cli-ledger"
rm -rf "$work" && mkdir -p "$work"
export XDG_DATA_HOME="$work/xdg" # never the real ledger

if ! "$bin" ledger --help >/dev/null 2>&1; then
	echo "1..0 # SKIP $bin does not dispatch 'ledger' to cli_ledger() yet"
	exit 0
fi

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
# check DESCRIPTION EXPECTED_STATUS COMMAND... ; output in $work/out, $work/err
check() {
	desc=$1 want=$2
	shift 2
	"$@" >"$work/out" 2>"$work/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$desc"; else
		not_ok "$desc (exit $got, wanted $want)"
		sed 's/^/# /' "$work/err"
	fi
}
grep_ok() { # DESCRIPTION PATTERN FILE
	if grep -q -- "$2" "$3"; then ok "$1"; else not_ok "$1"; sed 's/^/# /' "$3"; fi
}
mode_of() { stat -c %a "$1"; }

L="$work/ledger.sqlite"
check "stock add records a range" 0 "$bin" ledger stock add --ledger "$L" \
	--from GD2026000001 --to GD2026000500 --note "box 1, red" --operator alice
grep_ok "stock add says how many sheets" "recorded 500 sheets" "$work/out"
[ "$(mode_of "$L")" = 600 ] && ok "ledger file is 0600" || not_ok "ledger file is 0600"
check "an overlapping range is refused (exit 1)" 1 "$bin" ledger stock add --ledger "$L" \
	--from GD2026000400 --to GD2026000600
grep_ok "the refusal names the overlap" "overlaps stock already received" "$work/err"
check "a missing --to is a usage error" 2 "$bin" ledger stock add --ledger "$L" --from GD1
check "an unknown option is a usage error" 2 "$bin" ledger report --ledger "$L" --frobnicate
check "an unknown action is a usage error" 2 "$bin" ledger frob
check "spoil a blank sheet" 0 "$bin" ledger spoil --ledger "$L" --serial GD2026000007 \
	--reason misfeed
check "spoil names the right certificate or is refused" 1 "$bin" ledger spoil --ledger "$L" \
	--serial GD2026000008 --reason smudge --cert-no S000144123456263000001
check "destroy a range of blank and spoiled sheets" 0 "$bin" ledger destroy --ledger "$L" \
	--from GD2026000006 --to GD2026000010 --reason "shredded"
grep_ok "destroy counts the sheets" "destruction of 5 sheets" "$work/out"
check "destroy of unreceived stock is refused" 1 "$bin" ledger destroy --ledger "$L" \
	--serial GD2026009999 --reason x
check "destroy needs --serial or --from/--to" 2 "$bin" ledger destroy --ledger "$L" --reason x
check "revoke of an unknown number is refused" 1 "$bin" ledger revoke --ledger "$L" \
	--cert-no S000144123456263000001 --reason fraud
check "show of an unknown number is refused" 1 "$bin" ledger show --ledger "$L" \
	S000144123456263000001
check "report as JSON" 0 "$bin" ledger report --ledger "$L" --json
grep_ok "report balance adds up" '"received": 500, "issued": 0, "spoiled": 0, "destroyed": 5, "remaining": 495' "$work/out"
check "report of a period" 0 "$bin" ledger report --ledger "$L" --from 2000-01-01 --to 2000-12-31
grep_ok "nothing was received in 2000" "^  received  *0$" "$work/out"
check "report refuses a bad date" 2 "$bin" ledger report --ledger "$L" --from 2026-02-30
check "export CSV to a file" 0 "$bin" ledger export --ledger "$L" --csv -o "$work/audit.csv"
[ "$(mode_of "$work/audit.csv")" = 600 ] && ok "export file is 0600" || not_ok "export file is 0600"
grep_ok "export quotes a note with a comma" 'alice,"box 1, red"' "$work/audit.csv"
check "export needs a format" 2 "$bin" ledger export --ledger "$L"
check "backup" 0 "$bin" ledger backup --ledger "$L" -o "$work/copy.sqlite"
"$bin" ledger export --ledger "$L" --csv >"$work/a.csv"
"$bin" ledger export --ledger "$work/copy.sqlite" --csv >"$work/b.csv"
cmp -s "$work/a.csv" "$work/b.csv" && ok "the backup holds the same entries" ||
	not_ok "the backup holds the same entries"
check "reading a missing ledger is an error, not a new file" 2 "$bin" ledger report \
	--ledger "$work/none/x.sqlite"
[ ! -e "$work/none" ] && ok "no folder was created for it" || not_ok "no folder was created"
check "default ledger under XDG_DATA_HOME" 0 "$bin" ledger stock add --from A1 --to A9
[ "$(mode_of "$XDG_DATA_HOME/certpress")" = 700 ] && ok "default folder is 0700" ||
	not_ok "default folder is 0700"
# --- from `certpress render` to show and export ------------------------------
# The print serial (证书印制流水码) and a reissue's returned old sheet travel
# from the CSV and the command line through render into the ledger; these
# read them back through the commands an auditor uses, not the C API.
top=$(cd "$(dirname "$0")/../.." && pwd)
R="$work/render.sqlite"
mkdir -p "$work/r"
cp -r "$top/templates/sample/photos" "$work/r/photos"
# two sample records with a serial each; then a reissue of each on a new sheet
head -n 3 "$top/templates/sample/batch.csv" | tr -d '\r' |
	sed '1s/$/,证书印制流水码/; 2s/$/,GD2026000001/; 3s/$/,GD2026000002/' >"$work/r/a.csv"
sed '2s/GD2026000001/GD2026000011/' "$work/r/a.csv" | head -n 2 >"$work/r/back.csv"
sed -n '1p;3p' "$work/r/a.csv" | sed 's/GD2026000002/GD2026000012/' >"$work/r/kept.csv"
c1=S000044000123263000001 c2=S000044000123264000001
check "stock for the render tests" 0 "$bin" ledger stock add --ledger "$R" \
	--from GD2026000001 --to GD2026000100
check "render two records with print serials into the ledger" 0 "$bin" render \
	--org "$top/templates/org.conf" --ledger "$R" -o "$work/r/a.pdf" "$work/r/a.csv"
check "ledger show after render" 0 "$bin" ledger show --ledger "$R" "$c1"
grep_ok "show: the print carries its serial" " issued .* serial GD2026000001 " "$work/out"
check "ledger export after render" 0 "$bin" ledger export --ledger "$R" --csv
# field 8 is the serial, 15 old_sheet_returned (no quoted commas in these rows)
row() { grep "^$1,.*,$2," "$work/out" | tr -d '\r'; }
[ "$(row issue "$c1" | cut -d, -f8)" = GD2026000001 ] && [ "$(row issue "$c2" | cut -d, -f8)" = GD2026000002 ] &&
	ok "export: each print row has its serial" || { not_ok "export: each print row has its serial"; sed 's/^/# /' "$work/out"; }
check "report after render" 0 "$bin" ledger report --ledger "$R" --json
grep_ok "report: the two serials are issued stock" '"received": 100, "issued": 2,' "$work/out"
check "reissue, the old sheet taken back" 0 "$bin" render --org "$top/templates/org.conf" \
	--ledger "$R" --reissue damaged --old-returned -o "$work/r/back.pdf" "$work/r/back.csv"
check "reissue, the old sheet not returned" 0 "$bin" render --org "$top/templates/org.conf" \
	--ledger "$R" --reissue lost -o "$work/r/kept.pdf" "$work/r/kept.csv"
check "ledger show of the returned reissue" 0 "$bin" ledger show --ledger "$R" "$c1"
grep_ok "show: reissue with --old-returned says the old sheet was taken back" \
	"reissued.* serial GD2026000011 .*reason: damaged  old sheet taken back" "$work/out"
check "ledger show of the kept reissue" 0 "$bin" ledger show --ledger "$R" "$c2"
grep_ok "show: reissue without --old-returned says not returned" \
	"reissued.* serial GD2026000012 .*reason: lost  old sheet not returned" "$work/out"
check "ledger export after the reissues" 0 "$bin" ledger export --ledger "$R" --csv
[ "$(row reissue "$c1" | cut -d, -f8,14,15)" = "GD2026000011,damaged,yes" ] &&
	ok "export: the returned old sheet is 'yes'" || { not_ok "export: the returned old sheet is 'yes'"; sed 's/^/# /' "$work/out"; }
[ "$(row reissue "$c2" | cut -d, -f8,14,15)" = "GD2026000012,lost,no" ] &&
	ok "export: the kept old sheet is 'no'" || { not_ok "export: the kept old sheet is 'no'"; sed 's/^/# /' "$work/out"; }
[ "$(row issue "$c1" | cut -d, -f15)" = "" ] && ok "export: a first issue has no returned-sheet value" ||
	not_ok "export: a first issue has no returned-sheet value"

# --- times: stored in UTC, shown in the operator's time zone ----------------
# The same ledger read with TZ=UTC and TZ=Asia/Shanghai: the same instants,
# each shown with its zone's offset; a report's days are the operator's.
# (Old ledgers that hold local times with another offset: test_ledger /ledger/times.)
if [ ! -e /usr/share/zoneinfo/Asia/Shanghai ]; then
	not_ok "time zones: /usr/share/zoneinfo/Asia/Shanghai is missing (Debian's tzdata, priority required)"
else
	for z in UTC Asia/Shanghai; do
		f=$(echo "$z" | tr / _)
		TZ=$z "$bin" ledger show --ledger "$R" "$c1" >"$work/show.$f"
		TZ=$z "$bin" ledger report --ledger "$R" >"$work/report.$f"
		TZ=$z "$bin" ledger export --ledger "$R" --csv | tr -d '\r' >"$work/export.$f"
	done
	epoch() { date -d "$1" +%s; }
	first() { sed -n 2p "$1" | cut -d' ' -f1; } # the time of the first entry shown
	tu=$(first "$work/show.UTC") ts=$(first "$work/show.Asia_Shanghai")
	case "$tu/$ts" in
	*+00:00/*+08:00) ok "show: TZ=UTC gives +00:00, TZ=Asia/Shanghai +08:00 ($tu, $ts)" ;;
	*) not_ok "show: TZ=UTC gives +00:00, TZ=Asia/Shanghai +08:00 ($tu, $ts)" ;;
	esac
	[ -n "$tu" ] && [ "$(epoch "$tu")" = "$(epoch "$ts")" ] &&
		ok "show: both name the same instant" || not_ok "show: both name the same instant"
	cut -d' ' -f2- "$work/show.UTC" >"$work/a" && cut -d' ' -f2- "$work/show.Asia_Shanghai" >"$work/b"
	cmp -s "$work/a" "$work/b" && ok "show: only the times differ" || not_ok "show: only the times differ"
	# report: each batch's start, same instant in both zones
	bt() { sed -n 's/^  [^ ]*  \([^ ]*\)  operator .*/\1/p' "$1"; }
	bu=$(bt "$work/report.UTC") bs=$(bt "$work/report.Asia_Shanghai")
	nu=$(echo "$bu" | grep -c '+00:00$') ns=$(echo "$bs" | grep -c '+08:00$')
	same=yes
	for i in 1 2 3; do
		[ "$(epoch "$(echo "$bu" | sed -n ${i}p)")" = "$(epoch "$(echo "$bs" | sed -n ${i}p)")" ] || same=no
	done
	[ "$nu" = 3 ] && [ "$ns" = 3 ] && [ "$same" = yes ] &&
		ok "report: 3 batches started at the same instants, +00:00 and +08:00" ||
		not_ok "report: 3 batches started at the same instants, +00:00 and +08:00" "$bu" "$bs"
	# export: field 2 is the time (a stock row keeps its day received)
	eu=$(grep -v '^stock,' "$work/export.UTC" | sed 1d | cut -d, -f2)
	es=$(grep -v '^stock,' "$work/export.Asia_Shanghai" | sed 1d | cut -d, -f2)
	same=yes k=0
	for t in $eu; do
		k=$((k + 1))
		u=$(echo "$es" | sed -n ${k}p)
		case "$t/$u" in *+00:00/*+08:00) ;; *) same=no ;; esac
		[ "$(epoch "$t")" = "$(epoch "$u")" ] || same=no
	done
	[ "$k" = 4 ] && [ "$same" = yes ] && ok "export: 4 print times, the same instants in +00:00 and +08:00" ||
		not_ok "export: 4 print times, the same instants in +00:00 and +08:00" "$eu" "$es"
	[ "$(grep '^stock,' "$work/export.UTC")" = "$(grep '^stock,' "$work/export.Asia_Shanghai")" ] &&
		ok "export: the stock's day received is the same in both" || not_ok "export: the stock's day received"
	# report of one day: the prints whose shown time falls on that day of the zone
	for z in UTC Asia/Shanghai; do
		f=$(echo "$z" | tr / _)
		day=$(TZ=$z date -d "$tu" +%F)
		want=$(grep -v '^stock,' "$work/export.$f" | sed 1d | cut -d, -f2 | grep -c "^$day")
		TZ=$z "$bin" ledger report --ledger "$R" --json --from "$day" --to "$day" >"$work/day.$f"
		grep_ok "report --from $day --to $day with TZ=$z: the $want prints of that day" \
			"\"printed\": $want," "$work/day.$f"
	done
fi

for a in "stock add" spoil destroy revoke report show export backup; do
	# shellcheck disable=SC2086
	check "ledger $a --help" 0 "$bin" ledger $a --help
done
echo "1..$n"
[ "$failed" -eq 0 ]
