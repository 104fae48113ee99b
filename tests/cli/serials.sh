#!/bin/sh
# SPDX-License-Identifier: MIT
# End-to-end tests (TAP) of stock serials numbered from the ledger: when the
# template prints the 证书印制流水码 and the CSV has none, each page of a PDF
# gets the next blank sheet of the stock received, in page order, skipping
# sheets issued, spoiled or destroyed; --serial-from starts at a given blank
# sheet; used-up stock stops the run with nothing written; a CSV serial
# column still works; no stock at all leaves sheets unnumbered as before.
. "$(dirname "$0")/lib.sh"

ORG="$T_TOP/templates/org.conf"
export XDG_DATA_HOME="$T_TMP/xdg" # a forgotten --ledger never meets the real one
IN="$T_TMP/in"
mkdir -p "$IN" "$T_TMP/out"
cp -r "$T_TOP/templates/sample/photos" "$IN/photos"
cp "$T_TOP/templates/sample/batch.csv" "$IN/batch.csv"
L="$T_TMP/ledger.sqlite"
O="$T_TMP/out"
# serials PDF: the print serials on its pages, in page order.
serials() { pdftotext "$1" - 2>/dev/null | grep -o 'GD20260[0-9]*' | tr '\n' ' '; }
# cert_of ROW: the certificate number on spreadsheet row ROW.
cert_of() { awk -F, -v r="$1" 'NR == r { print $7 }' "$IN/batch.csv"; }

if ! have pdftotext; then
	skip "pdftotext missing (poppler-utils)"
	done_testing
	exit $?
fi

# No stock ever received: sheets are not numbered, as before.
run render --org "$ORG" --ledger "$T_TMP/empty.sqlite" --rows 2 -o "$O/none.pdf" "$IN/batch.csv"
expect_status 0 "a ledger without stock prints unnumbered sheets"
[ -z "$(serials "$O/none.pdf")" ] && ok "no serial printed" || not_ok "no serial printed" "$(serials "$O/none.pdf")"

run ledger stock add --ledger "$L" --from GD2026000001 --to GD2026000006
expect_status 0 "stock received: GD2026000001-006"
run render --org "$ORG" --ledger "$L" --batch a --rows 2-4 -o "$O/a.pdf" "$IN/batch.csv"
expect_status 0 "a batch of three"
is_serials() { # PDF WANT DESC
	got=$(serials "$1")
	[ "$got" = "$2" ] && ok "$3" || not_ok "$3" "want '$2'" "got  '$got'"
}
is_serials "$O/a.pdf" "GD2026000001 GD2026000002 GD2026000003 " "pages numbered from the first sheet received, in page order"
run ledger show --ledger "$L" "$(cert_of 3)"
contains "$T_OUT" "serial GD2026000002" "the ledger has the serial of each certificate"

run ledger spoil --ledger "$L" --serial GD2026000005 --reason "misfeed"
expect_status 0 "a blank sheet spoiled"
run render --org "$ORG" --ledger "$L" --batch b --rows 5-6 -o "$O/b.pdf" "$IN/batch.csv"
expect_status 0 "the next batch"
is_serials "$O/b.pdf" "GD2026000004 GD2026000006 " "numbering goes on after the last sheet, skipping the spoiled one"

run render --org "$ORG" --ledger "$L" --batch c --rows 7 -o "$O/c.pdf" "$IN/batch.csv"
expect_status 1 "stock used up"
contains "$T_ERR" "blank stock received is used up" "the refusal says the stock is used up"
file_absent "$O/c.pdf" "nothing written"

run ledger stock add --ledger "$L" --from GD2026000101 --to GD2026000110
run ledger destroy --ledger "$L" --serial GD2026000106 --reason "torn in the box"
expect_status 0 "a blank sheet of it destroyed"
run render --org "$ORG" --ledger "$L" --batch c --rows 7-8 --serial-from GD2026000105 -o "$O/c.pdf" "$IN/batch.csv"
expect_status 0 "--serial-from a blank sheet of the new delivery"
is_serials "$O/c.pdf" "GD2026000105 GD2026000107 " "--serial-from starts there and skips the destroyed sheet"
run render --org "$ORG" --ledger "$L" --batch d --rows 9 -o "$O/d.pdf" "$IN/batch.csv"
is_serials "$O/d.pdf" "GD2026000108 " "the next run goes on after the last sheet printed"
run render --org "$ORG" --ledger "$L" --batch e --rows 10 --serial-from GD2026000002 -o "$O/e.pdf" "$IN/batch.csv"
expect_status 1 "--serial-from a sheet already printed on"
contains "$T_ERR" "GD2026000002 was already used for certificate $(cert_of 3)" "the refusal names the sheet and its certificate"
run render --org "$ORG" --ledger "$L" --batch e --rows 10 --serial-from GD2026000999 -o "$O/e.pdf" "$IN/batch.csv"
expect_status 1 "--serial-from a sheet never received"
contains "$T_ERR" "GD2026000999 was never received" "the refusal says so"
run render --org "$ORG" --no-ledger --serial-from GD2026000109 -o "$O/e.pdf" "$IN/batch.csv"
expect_status 2 "--serial-from with --no-ledger is a usage error"
file_absent "$O/e.pdf" "nothing written for them"

run ledger report --ledger "$L"
contains "$T_OUT" "received             16" "report: 16 received"
contains "$T_OUT" "issued                8" "report: 8 issued"
contains "$T_OUT" "spoiled               1" "report: 1 spoiled"
contains "$T_OUT" "destroyed             1" "report: 1 destroyed"
contains "$T_OUT" "remaining             6" "report: 6 remaining; the balance adds up"

# A CSV with a serial column: its serials are used, and checked against the stock.
{
	head -n 1 "$IN/batch.csv" | sed 's/\r\{0,1\}$/,证书印制流水码/'
	sed -n 11p "$IN/batch.csv" | sed 's/\r\{0,1\}$/,GD2026000109/'
} >"$IN/with-serial.csv"
run render --org "$ORG" --ledger "$L" --batch f -o "$O/f.pdf" "$IN/with-serial.csv"
expect_status 0 "a CSV serial column"
is_serials "$O/f.pdf" "GD2026000109 " "the CSV's serial is printed"
{
	head -n 1 "$IN/batch.csv" | sed 's/\r\{0,1\}$/,证书印制流水码/'
	sed -n 12p "$IN/batch.csv" | sed 's/\r\{0,1\}$/,GD2026000109/'
} >"$IN/reused.csv"
run render --org "$ORG" --ledger "$L" --batch g -o "$O/g.pdf" "$IN/reused.csv"
expect_status 1 "a CSV serial already used is refused"
contains "$T_ERR" "GD2026000109 was already used" "the refusal names the serial"
contains "$T_ERR" "column 证书印制流水码 (print_serial): [ledger.serial 第十八条]" \
	"the refusal is filed under the serial's column, not the certificate number's"
run render --org "$ORG" --ledger "$L" --batch g --serial-from GD2026000110 -o "$O/g.pdf" "$IN/with-serial.csv"
expect_status 2 "--serial-from with a CSV serial column is a usage error"
contains "$T_ERR" "the CSV gives the serials" "the usage error says why"

# Electronic certificates use no stock.
run render --org "$ORG" --ledger "$L" --batch h --mode electronic --rows 13 -o "$O/h.pdf" "$IN/batch.csv"
if [ "$T_STATUS" -eq 0 ]; then
	[ -z "$(serials "$O/h.pdf")" ] && ok "electronic certificates take no sheet" ||
		not_ok "electronic certificates take no sheet" "$(serials "$O/h.pdf")"
else
	ok "electronic mode refused here (no seal in the sample profile): no sheet taken"
fi

# A row refused while its page is laid out (a name too long for its box)
# after its sheet was numbered: with --skip-invalid the pages after it would
# carry the serials of the sheets after theirs. The batch stops, nothing is
# printed or recorded, and the next batch starts at the same sheet.
L2="$T_TMP/ledger2.sqlite"
run ledger stock add --ledger "$L2" --from GD2026000201 --to GD2026000209
awk -F, 'BEGIN { OFS = "," } NR == 3 { $1 = "欧阳欧阳欧阳欧阳欧阳欧阳欧阳欧阳欧阳欧阳欧阳欧阳" } { print }' \
	"$IN/batch.csv" >"$IN/long-name.csv"
run render --org "$ORG" --ledger "$L2" --batch i --skip-invalid --rows 2-5 -o "$O/i.pdf" "$IN/long-name.csv"
expect_status 1 "a row refused at layout after its sheet was numbered stops the batch"
contains "$T_ERR" "after blank sheet GD2026000202 had been numbered for it" "the error names the sheet"
contains "$T_ERR" "does not fit in its box" "and why the row was refused"
file_absent "$O/i.pdf" "nothing written"
run render --org "$ORG" --ledger "$L2" --batch i --rows 4-5 -o "$O/i.pdf" "$IN/batch.csv"
expect_status 0 "the next batch"
is_serials "$O/i.pdf" "GD2026000201 GD2026000202 " "nothing was recorded: numbering starts at the first sheet again"
run render --org "$ORG" --ledger "$T_TMP/empty2.sqlite" --skip-invalid --rows 2-5 -o "$O/j.pdf" "$IN/long-name.csv"
expect_status 1 "without stock, --skip-invalid leaves the row out (exit 1: a row refused)"
contains "$T_ERR" "wrote 3 certificates" "and prints the others"

done_testing
