#!/bin/sh
# SPDX-License-Identifier: MIT
# The print room of issue 18, end to end (TAP), against a real IPP printer:
# Debian's ippeveprinter on loopback with a private D-Bus bus and no cupsd
# (../shared/notes/printing.md), started and stopped by this script. Blank
# stock is received into the ledger; a 200-certificate batch is rendered
# and printed with its sheets numbered from the stock in page order; one
# sheet is spoiled in the printer and printed again with ONE command
# (`reprint … -d`); then:
#  - the printer spooled both documents byte for byte as written, and the
#    jobs completed at actual size on A4;
#  - `ledger report` balances: received = issued + returned + spoiled +
#    destroyed + remaining, with the figures the story makes;
#  - `ledger show` of the spoiled certificate tells the whole story in
#    Chinese under zh_CN: issued on sheet X, sent to the printer (job 1),
#    sheet X spoiled with the reason, printed again on sheet Y, sent to the
#    printer (job 2).
. "$(dirname "$0")/lib.sh"

ORG="$T_TOP/templates/org.conf"
export XDG_DATA_HOME="$T_TMP/xdg" # a forgotten --ledger never meets the real one
IN="$T_TMP/in"
mkdir -p "$IN"
cp -r "$T_TOP/templates/sample/photos" "$IN/photos"
L="$T_TMP/ledger.sqlite"

stop_at_exit

# 200 records: the sample's 20 ten times over, each with a certificate
# number of its own (prefix + year + the row's own level digit + a serial
# counted per level), from 200,001 on.
tr -d '\r' <"$T_TOP/templates/sample/batch.csv" |
	awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next } { row[++n] = $0 }
	END { for (r = 0; r < 10; r++) for (i = 1; i <= n; i++) {
		split(row[i], f, ","); lv = substr(f[7], 16, 1)
		f[7] = substr(f[7], 1, 16) sprintf("%06d", 200000 + (++k[lv]))
		s = f[1]; for (j = 2; j <= 9; j++) s = s OFS f[j]; print s } }' >"$IN/room.csv"
recs=$(($(wc -l <"$IN/room.csv") - 1))
dups=$(tail -n +2 "$IN/room.csv" | cut -d, -f7 | sort | uniq -d | head -3)
[ "$recs" -eq 200 ] && [ -z "$dups" ] && ok "a 200-record batch with 200 distinct numbers" ||
	not_ok "a 200-record batch with 200 distinct numbers" "records $recs, duplicates: $dups"

if ! have ippeveprinter || ! have ipptool || ! have dbus-daemon; then
	skip "ippeveprinter, ipptool or dbus-daemon missing (cups-ipp-utils, dbus-daemon)"
	done_testing
	exit $?
fi

# --- the printer (tests/cli/ipp.sh) --------------------------------------------
. "$(dirname "$0")/ipp.sh"
ipp_bus
URI=
start_printer room /bin/true || URI=
if [ -z "$URI" ]; then
	skip "ippeveprinter does not start here: $(tail -3 "$T_TMP/printer-room.log" 2>/dev/null)"
	done_testing
	exit $?
fi
ok "an IPP printer on loopback: $URI"
cat >"$T_TMP/get-job.test" <<EOF
{
	NAME "Get-Job-Attributes"
	OPERATION Get-Job-Attributes
	GROUP operation-attributes-tag
	ATTR charset attributes-charset utf-8
	ATTR naturalLanguage attributes-natural-language en
	ATTR uri printer-uri \$uri
	ATTR integer job-id \$job_id
	ATTR name requesting-user-name certpress-test
	ATTR keyword requested-attributes all
	STATUS successful-ok
}
EOF
# job_is JOB NAME WANT
job_is() {
	got=$(ipptool -T 5 -tv -d "job_id=$1" "$URI" "$T_TMP/get-job.test" 2>/dev/null |
		sed -n "s/^ *$2 ([^)]*) = //p" | head -1)
	[ "$got" = "$3" ] && ok "job $1: $2 = $3" || not_ok "job $1: $2 = $3" "got '$got'"
}
# spooled JOB FILE DESC: the printer's copy of job JOB is FILE byte for byte
spooled() {
	f=$(ls "$T_TMP/spool-room/$1"-*.pdf 2>/dev/null | head -1)
	if [ -n "$f" ] && cmp -s "$f" "$2"; then ok "$3"
	else not_ok "$3" "spooled: '$f'"; fi
}

# --- stock received, the batch printed ------------------------------------------------
run ledger stock add --ledger "$L" --from GD2026000001 --to GD2026000250 --note "box 1"
expect_status 0 "250 blank sheets received, GD2026000001-GD2026000250"
PDF="$T_TMP/room.pdf"
run render --org "$ORG" --ledger "$L" --batch room-1 --print "$URI" -o "$PDF" "$IN/room.csv"
expect_status 0 "render --print: 200 certificates rendered and printed"
contains "$T_ERR" "wrote 200 certificates to $PDF" "200 certificates written"
contains "$T_ERR" "printed $PDF on $URI (job 1, 1 copy)" "and printed as job 1"
spooled 1 "$PDF" "the printer received the batch's PDF byte for byte"
job_is 1 job-state completed
job_is 1 print-scaling none
job_is 1 media iso_a4_210x297mm
pdfinfo "$PDF" 2>/dev/null | grep -q '^Pages: *200$' && ok "the PDF has 200 pages" ||
	not_ok "the PDF has 200 pages" "$(pdfinfo "$PDF" 2>&1 | grep Pages)"

# The sheets were numbered from the stock in page order: page N on
# GD2026000N (the 117th certificate is spoiled below).
C=$(sed -n 118p "$IN/room.csv" | cut -d, -f7)
run ledger export --ledger "$L" --csv
printf '%s\n' "$T_OUT" | tr -d '\r' | awk -F, '$1 == "issue" { print $12 " " $8 }' >"$T_TMP/sheets"
bad=$(awk '{ want = sprintf("GD2026%06d", $1); if ($2 != want) print }' "$T_TMP/sheets" | head -3)
[ "$(wc -l <"$T_TMP/sheets")" -eq 200 ] && [ -z "$bad" ] &&
	ok "200 issues recorded, page N on stock serial GD2026000N" ||
	not_ok "200 issues recorded, page N on stock serial GD2026000N" "$(wc -l <"$T_TMP/sheets") issues; $bad"
if have pdftotext; then
	pdftotext -f 117 -l 117 "$PDF" - | tr -d ' \n' >"$T_TMP/p117"
	grep -q "$C" "$T_TMP/p117" && grep -q GD2026000117 "$T_TMP/p117" &&
		ok "page 117 carries $C and its sheet's serial GD2026000117" ||
		not_ok "page 117 carries $C and its sheet's serial GD2026000117"
fi

# --- one sheet spoiled in the printer: one command ------------------------------------
AGAIN="$T_TMP/again.pdf"
run reprint "$C" --spoiled GD2026000117 --reason "卡纸 paper jam" --org "$ORG" --ledger "$L" \
	-d "$URI" -o "$AGAIN"
expect_status 0 "reprint $C --spoiled GD2026000117 -d: one command"
contains "$T_ERR" "recorded spoiled sheet GD2026000117 of $C" "the spoiled sheet is recorded"
contains "$T_ERR" "printed $AGAIN on $URI (job 2, 1 copy)" "the certificate is printed again as job 2"
spooled 2 "$AGAIN" "the printer received the reprint byte for byte"
job_is 2 job-state completed
if have pdftotext; then
	pdftotext "$AGAIN" - | tr -d ' \n' >"$T_TMP/again.txt"
	grep -q "$C" "$T_TMP/again.txt" && grep -q GD2026000201 "$T_TMP/again.txt" &&
		ok "the reprint carries $C on the next blank sheet, GD2026000201" ||
		not_ok "the reprint carries $C on the next blank sheet, GD2026000201"
fi

# Two blank sheets at the end of the box, water-damaged, destroyed.
run ledger destroy --ledger "$L" --from GD2026000249 --to GD2026000250 --reason "受潮 water damage"
expect_status 0 "two blank sheets destroyed"

# --- the balance --------------------------------------------------------------------------
# 250 received = 200 issued (199 first prints + the reprint) + 0 returned
# + 1 spoiled + 2 destroyed + 47 remaining.
run ledger report --ledger "$L" --json
contains "$T_OUT" '"received": 250, "issued": 200, "spoiled": 1, "destroyed": 2, "remaining": 47, "returned": 0' \
	"ledger report: 250 received = 200 issued + 0 returned + 1 spoiled + 2 destroyed + 47 remaining"
run ledger report --ledger "$L"
printf '%s\n' "$T_OUT" | awk '
	/^Stock balance/ { on = 1 } on && $1 ~ /^(received|issued|returned|spoiled|destroyed|remaining)$/ && !($1 in v) { v[$1] = $2 }
	END { s = v["issued"] + v["returned"] + v["spoiled"] + v["destroyed"] + v["remaining"]
		exit !(v["received"] == 250 && s == 250) }' &&
	ok "the text report balances too (received = the sum of the other five)" ||
	not_ok "the text report balances too" "$(printf '%s\n' "$T_OUT" | head -20)"

# --- the whole story of the certificate, in Chinese ------------------------------------
LC_ALL=zh_CN.UTF-8 LANGUAGE=zh_CN "$CERTPRESS" ledger show "$C" --ledger "$L" >"$T_TMP/zh" 2>&1
echo "# ledger show $C under zh_CN:"
sed 's/^/#   /' "$T_TMP/zh"
contains "$(sed -n 1p "$T_TMP/zh")" "证书 $C" "show (zh_CN): the certificate"
contains "$(sed -n 2p "$T_TMP/zh")" "发放  批次 room-1  流水码 GD2026000117  $PDF 第 117 页" \
	"show (zh_CN): issued in batch room-1 on sheet GD2026000117, page 117"
contains "$(sed -n 3p "$T_TMP/zh")" "批次 room-1 送至打印机 $URI  作业 1" \
	"show (zh_CN): the batch sent to the printer as job 1"
contains "$(sed -n 3p "$T_TMP/zh")" "已打印（作业完成）" "show (zh_CN): job 1 completed"
contains "$(sed -n 4p "$T_TMP/zh")" "证书纸作废  流水码 GD2026000117  原因：卡纸 paper jam" \
	"show (zh_CN): then sheet GD2026000117 spoiled, with the reason"
contains "$(sed -n 5p "$T_TMP/zh")" "重新打印（原证书纸作废）  批次 room-" \
	"show (zh_CN): then printed again (a reprint, not a reissue)"
contains "$(sed -n 5p "$T_TMP/zh")" "流水码 GD2026000201  $AGAIN 第 1 页" \
	"show (zh_CN): on the next blank sheet, GD2026000201"
contains "$(sed -n 6p "$T_TMP/zh")" "送至打印机 $URI  作业 2" \
	"show (zh_CN): the reprint sent to the printer as job 2"
contains "$(sed -n 6p "$T_TMP/zh")" "已打印（作业完成）" "show (zh_CN): job 2 completed"
[ "$(wc -l <"$T_TMP/zh")" -eq 6 ] && ok "show (zh_CN): six lines, nothing else" ||
	not_ok "show (zh_CN): six lines, nothing else" "$(wc -l <"$T_TMP/zh") lines"
done_testing
