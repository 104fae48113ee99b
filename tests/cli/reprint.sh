#!/bin/sh
# SPDX-License-Identifier: MIT
# End-to-end tests of `certpress reprint` (TAP): a sheet spoiled in the
# printer is recorded and the same certificate printed again on the next
# sheet, read from the batch's input file (checked by its SHA-256); by
# certificate number or by page of a batch; a changed or vanished input file
# and a wrong sheet refused before anything is recorded; `ledger show` tells
# the whole story, in Chinese under LANGUAGE=zh_CN. A reprint whose render
# fails (a photo gone), or that is killed at any step (a test hook stops it
# at a named point, announced through a FIFO), leaves `ledger export`
# byte-identical: the spoil and the new sheet are recorded together or not
# at all.
. "$(dirname "$0")/lib.sh"
ORG="$T_TOP/templates/org.conf"
IN="$T_TMP/in"
mkdir -p "$IN" "$T_TMP/out"
cp -r "$T_TOP/templates/sample/photos" "$IN/photos"
head -n 6 "$T_TOP/templates/sample/batch.csv" >"$IN/b.csv" # 5 records, rows 2-6
export XDG_DATA_HOME="$T_TMP/xdg"
L="$T_TMP/ledger.sqlite"
C3=S000044000123264000001 # row 3, page 2
pages() { pdfinfo "$1" 2>/dev/null | sed -n 's/^Pages: *//p'; }
spoils() { "$CERTPRESS" ledger export --ledger "$L" --csv | grep -c '^spoil,'; }

run ledger stock add --ledger "$L" --from GD2026000001 --to GD2026000050
run render --org "$ORG" --ledger "$L" -o "$T_TMP/out/b.pdf" "$IN/b.csv"
expect_status 0 "a batch of 5 printed on stock GD2026000001-5"
batch=$("$CERTPRESS" ledger report --ledger "$L" --json | sed -n 's/.*{"name": "\([^"]*\)".*/\1/p' | head -1)
[ -n "$batch" ] && ok "the batch is named $batch" || not_ok "the batch has a name"

# --- usage --------------------------------------------------------------------
run reprint "$C3" --org "$ORG" --ledger "$L" -o "$T_TMP/out/x.pdf"
expect_status 2 "reprint without --reason"
run reprint --org "$ORG" --reason jam --ledger "$L" -o "$T_TMP/out/x.pdf"
expect_status 2 "reprint of nothing"
run reprint "$C3" --batch "$batch" --pages 2 --org "$ORG" --reason jam --ledger "$L" -o "$T_TMP/out/x.pdf"
expect_status 2 "numbers and pages at once"
run reprint "$C3" --spoiled GD2026000002,GD2026000003 --org "$ORG" --reason jam --ledger "$L" -o "$T_TMP/out/x.pdf"
expect_status 2 "two serials for one certificate"

# --- the wrong sheet: refused, nothing recorded ---------------------------------
run reprint "$C3" --spoiled GD2026000004 --reason jam --org "$ORG" --ledger "$L" -o "$T_TMP/out/x.pdf"
expect_status 2 "a sheet the certificate was not printed on"
contains "$T_ERR" "was printed on sheet GD2026000002, not GD2026000004" "the refusal names the recorded sheet"
[ "$(spoils)" = 0 ] && ok "nothing recorded" || not_ok "nothing recorded"
file_absent "$T_TMP/out/x.pdf" "nothing written"

# --- one command: spoiled sheet recorded, the certificate on the next sheet ----------
run reprint "$C3" --spoiled GD2026000002 --reason "paper jam" --org "$ORG" --ledger "$L" \
	-o "$T_TMP/out/r.pdf"
expect_status 0 "reprint $C3 --spoiled GD2026000002"
contains "$T_ERR" "recorded spoiled sheet GD2026000002 of $C3" "reprint says which sheet it recorded"
contains "$T_ERR" "wrote 1 certificate" "and that it printed one certificate"
[ "$(pages "$T_TMP/out/r.pdf")" = 1 ] && ok "the reprint is one page" || not_ok "the reprint is one page"
have pdftotext && { pdftotext "$T_TMP/out/r.pdf" - | tr -d ' \n' | grep -q "$C3" &&
	ok "the page carries the certificate number" || not_ok "the page carries the certificate number"; }
run ledger show "$C3" --ledger "$L"
first=$(echo "$T_OUT" | sed -n 2p) second=$(echo "$T_OUT" | sed -n 3p) third=$(echo "$T_OUT" | sed -n 4p)
case "$first" in *"issued  batch $batch  serial GD2026000002  $T_TMP/out/b.pdf page 2"*) ok "show: issued on GD2026000002, page 2 of the batch" ;;
	*) not_ok "show: issued on GD2026000002, page 2 of the batch" "$T_OUT" ;; esac
case "$second" in *"sheet spoiled  serial GD2026000002  reason: paper jam"*) ok "show: then the sheet spoiled, with the reason" ;;
	*) not_ok "show: then the sheet spoiled, with the reason" "$T_OUT" ;; esac
case "$third" in *"printed again (earlier sheet spoiled)  batch $batch-2  serial GD2026000006  $T_TMP/out/r.pdf page 1"*)
	ok "show: then printed again on the next sheet, GD2026000006" ;;
	*) not_ok "show: then printed again on the next sheet, GD2026000006" "$T_OUT" ;; esac
env -u LC_ALL LANG=C.UTF-8 LANGUAGE=zh_CN "$CERTPRESS" ledger show "$C3" --ledger "$L" >"$T_TMP/zh" 2>&1
zh=$(cat "$T_TMP/zh")
contains "$zh" "证书 $C3" "show in Chinese: the certificate"
contains "$(sed -n 2p "$T_TMP/zh")" "发放  批次 $batch  流水码 GD2026000002" "show in Chinese: 发放"
contains "$(sed -n 3p "$T_TMP/zh")" "证书纸作废  流水码 GD2026000002  原因：paper jam" "show in Chinese: 证书纸作废"
contains "$(sed -n 4p "$T_TMP/zh")" "重新打印（原证书纸作废）  批次 $batch-2  流水码 GD2026000006" "show in Chinese: 重新打印"
run ledger report --ledger "$L" --json
contains "$T_OUT" '"received": 50, "issued": 5, "spoiled": 1, "destroyed": 0, "remaining": 44' \
	"the balance: 50 = 5 issued + 1 spoiled + 44 remaining"
run reprint "$C3" --spoiled GD2026000002 --reason again --org "$ORG" --ledger "$L" -o "$T_TMP/out/r2.pdf"
expect_status 2 "the same spoiled sheet twice is refused"

# --- by page of the batch, default sheets ---------------------------------------------
run reprint --batch "$batch" --pages 4,5 --reason "toner streak" --org "$ORG" --ledger "$L" \
	-o "$T_TMP/out/p.pdf"
expect_status 0 "reprint --batch $batch --pages 4,5"
contains "$T_ERR" "recorded spoiled sheet GD2026000004 of S000044000123265000001" "page 4's sheet recorded"
contains "$T_ERR" "recorded spoiled sheet GD2026000005 of S000044000123263000002" "page 5's sheet recorded"
[ "$(pages "$T_TMP/out/p.pdf")" = 2 ] && ok "two pages reprinted" || not_ok "two pages reprinted"
run ledger show S000044000123263000002 --ledger "$L"
contains "$T_OUT" "serial GD2026000008  $T_TMP/out/p.pdf page 2" "page 5's certificate is on the next sheet but one"

# --- the input file changed, or gone: refused before anything is recorded ----------------
before=$(spoils)
export_to() { "$CERTPRESS" ledger export --ledger "$L" --csv -o "$1"; }
export_to "$T_TMP/export.before"
cp "$IN/b.csv" "$T_TMP/b.keep"
sed -i 's/育婴员/育婴师/' "$IN/b.csv"
run reprint S000044000123263000001 --reason jam --org "$ORG" --ledger "$L" -o "$T_TMP/out/c.pdf"
expect_status 2 "the input file changed"
contains "$T_ERR" "the input file changed since batch $batch was printed" "the refusal says the file changed"
[ "$(spoils)" = "$before" ] && ok "nothing recorded for a changed file" || not_ok "nothing recorded for a changed file"
export_to "$T_TMP/export.after"
cmp -s "$T_TMP/export.before" "$T_TMP/export.after" &&
	ok "a changed file: ledger export byte-identical before and after" ||
	not_ok "a changed file: ledger export byte-identical before and after"
file_absent "$T_TMP/out/c.pdf" "nothing written for a changed file"
rm "$IN/b.csv"
run reprint S000044000123263000001 --reason jam --org "$ORG" --ledger "$L" -o "$T_TMP/out/c.pdf"
expect_status 2 "the input file gone"
contains "$T_ERR" "the input file of batch $batch is gone" "the refusal says the file is gone"
[ "$(spoils)" = "$before" ] && ok "nothing recorded for a file gone" || not_ok "nothing recorded for a file gone"
cp "$T_TMP/b.keep" "$IN/b.csv"
run reprint S000044000123263000001 --reason jam --org "$ORG" --ledger "$L" -o "$T_TMP/out/c.pdf"
expect_status 0 "the same file back: reprinted"

# --- the template the batch was laid out with: used again, and checked ----------------
cp "$T_TOP/templates/certificate.conf" "$IN/t.conf"
head -n 1 "$IN/b.csv" >"$IN/t.csv"
sed -n 8p "$T_TOP/templates/sample/batch.csv" >>"$IN/t.csv"
C8=$(sed -n 2p "$IN/t.csv" | cut -d, -f7)
run render --org "$ORG" --ledger "$L" -t "$IN/t.conf" -o "$T_TMP/out/t.pdf" "$IN/t.csv"
expect_status 0 "a batch laid out with its own template"
run ledger report --ledger "$L" --json
contains "$T_OUT" "\"template\": \"$IN/t.conf\"" "the batch records its template" 
echo "# changed" >>"$IN/t.conf"
before=$(spoils)
run reprint "$C8" --reason jam --org "$ORG" --ledger "$L" -o "$T_TMP/out/t2.pdf"
expect_status 2 "the batch's template changed: refused"
contains "$T_ERR" "the template batch t-" "the refusal names the template's batch"
[ "$(spoils)" = "$before" ] && ok "nothing recorded for a changed template" || not_ok "nothing recorded for a changed template"
run reprint "$C8" --reason jam --org "$ORG" --ledger "$L" -t "$T_TOP/templates/certificate.conf" \
	-o "$T_TMP/out/t2.pdf"
expect_status 0 "-t names the template to use instead"
# --- a reprint whose render fails, or that is killed, records nothing -------------------
# The spoiled sheet is recorded only together with its new sheet, in one
# ledger transaction after the new sheet is drawn.
C2=S000044000123263000001 # row 2, photos/001.jpg
export_to "$T_TMP/export.before"
mv "$IN/photos/001.jpg" "$T_TMP/001.jpg"
run reprint "$C2" --reason jam --org "$ORG" --ledger "$L" -o "$T_TMP/out/f.pdf"
[ "$T_STATUS" -ne 0 ] && ok "the photo gone: the reprint fails (exit $T_STATUS)" ||
	not_ok "the photo gone: the reprint fails"
contains "$T_ERR" "001.jpg" "the refusal names the photo"
contains "$T_ERR" "nothing was recorded in the ledger" "reprint says nothing was recorded"
lacks "$T_ERR" "recorded spoiled sheet" "and no spoiled sheet is announced"
file_absent "$T_TMP/out/f.pdf" "the photo gone: nothing written"
export_to "$T_TMP/export.after"
cmp -s "$T_TMP/export.before" "$T_TMP/export.after" &&
	ok "the photo gone: ledger export byte-identical before and after" ||
	not_ok "the photo gone: ledger export byte-identical before and after" \
		"$(diff "$T_TMP/export.before" "$T_TMP/export.after" | head -5)"
mv "$T_TMP/001.jpg" "$IN/photos/001.jpg"

# SIGKILL at each step: the new sheet drawn (not yet recorded), the spoil
# and the new sheet recorded but not committed, the PDF put in place. The
# test hook stops certpress at the named point and says so through a FIFO:
# the kill comes exactly there, on any machine, with no clock. Should the
# process end before the point, its status comes through the FIFO instead.
mkfifo "$T_TMP/pause"
for point in rendered prepared placed; do
	export_to "$T_TMP/export.before"
	(
		CERTPRESS_TEST_PAUSE_AT=$point CERTPRESS_TEST_PAUSE_FIFO="$T_TMP/pause" \
			sh -c 'echo $$ >"$0"; exec "$@"' "$T_TMP/kill.pid" "$CERTPRESS" reprint "$C2" \
			--reason jam --org "$ORG" --ledger "$L" -o "$T_TMP/out/k-$point.pdf" \
			>"$T_TMP/kill.out" 2>"$T_TMP/kill.err"
		st=$?
		[ "$st" -eq 137 ] || echo "exited $st" >"$T_TMP/pause"
	) &
	sub=$!
	read -r got <"$T_TMP/pause"
	[ "$got" = "$point" ] && kill -KILL "$(cat "$T_TMP/kill.pid")"
	wait "$sub"
	[ "$got" = "$point" ] && ok "killed at '$point'" ||
		not_ok "killed at '$point'" "got '$got': $(head -3 "$T_TMP/kill.err")"
	export_to "$T_TMP/export.after"
	cmp -s "$T_TMP/export.before" "$T_TMP/export.after" &&
		ok "killed at '$point': ledger export byte-identical before and after" ||
		not_ok "killed at '$point': ledger export byte-identical before and after" \
			"$(diff "$T_TMP/export.before" "$T_TMP/export.after" | head -5)"
	[ "$point" = placed ] || file_absent "$T_TMP/out/k-$point.pdf" "killed at '$point': no PDF"
done
run reprint "$C2" --reason jam --org "$ORG" --ledger "$L" -o "$T_TMP/out/k.pdf"
expect_status 0 "after the kills, the same reprint completes"
run ledger show "$C2" --ledger "$L"
n=$(printf '%s\n' "$T_OUT" | grep -c "  sheet spoiled  serial")
[ "$n" -eq 2 ] && ok "two spoiled sheets in the story: the earlier reprint's and this one's" ||
	not_ok "two spoiled sheets in the story" "$T_OUT"
# --- a batch read from a pipe: --input FILE, checked by SHA-256 ------------------------------
# What came through the FIFO was hashed as it was read: the batch records
# that checksum, and the same data given later as a file is accepted.
LP="$T_TMP/pipe.sqlite"
mkfifo "$IN/pipe.csv"
cat "$IN/b.csv" >"$IN/pipe.csv" &
run render --org "$ORG" --ledger "$LP" --batch piped -o "$T_TMP/out/piped.pdf" "$IN/pipe.csv"
expect_status 0 "a batch read from a FIFO"
want=$(sha256sum "$IN/b.csv" | cut -d' ' -f1)
run ledger report --ledger "$LP" --json
contains "$T_OUT" "\"input\": \"$IN/pipe.csv\", \"input_sha256\": \"$want\"" \
	"the batch records the SHA-256 of what came through the FIFO"
"$CERTPRESS" ledger export --ledger "$LP" --csv -o "$T_TMP/pexport.before"
run reprint "$C3" --reason jam --org "$ORG" --ledger "$LP" -o "$T_TMP/out/pr.pdf"
expect_status 2 "reprint from a piped batch without --input"
contains "$T_ERR" "batch piped was read from a pipe ($IN/pipe.csv): what came through it cannot be read again" \
	"the refusal says the batch was read from a pipe"
contains "$T_ERR" "give the CSV file with --input FILE" "and what to do"
sed 's/育婴员/育婴师/' "$IN/b.csv" >"$T_TMP/other.csv"
run reprint "$C3" --reason jam --org "$ORG" --ledger "$LP" --input "$T_TMP/other.csv" -o "$T_TMP/out/pr.pdf"
expect_status 2 "--input with other data"
contains "$T_ERR" "this is not the input of batch piped" "the refusal says the file is not the batch's input"
run reprint "$C3" --reason jam --org "$ORG" --ledger "$LP" --input "$IN/pipe.csv" -o "$T_TMP/out/pr.pdf"
expect_status 2 "--input naming the FIFO again"
contains "$T_ERR" "not a regular file" "the refusal says a file is needed"
file_absent "$T_TMP/out/pr.pdf" "the refusals wrote nothing"
"$CERTPRESS" ledger export --ledger "$LP" --csv -o "$T_TMP/pexport.after"
cmp -s "$T_TMP/pexport.before" "$T_TMP/pexport.after" &&
	ok "the refusals: ledger export byte-identical" || not_ok "the refusals: ledger export byte-identical"
run reprint "$C3" --reason jam --org "$ORG" --ledger "$LP" --input "$IN/b.csv" -o "$T_TMP/out/pr.pdf"
expect_status 0 "--input FILE with the batch's data: reprinted"
contains "$T_ERR" "recorded the spoiled sheet of $C3" "the spoiled sheet recorded"
run ledger show "$C3" --ledger "$LP"
contains "$T_OUT" "printed again (earlier sheet spoiled)  batch b-" "show: printed again from the file"
run reissue S000044000123265000001 --reason lost --org "$ORG" --ledger "$LP" -o "$T_TMP/out/pi.pdf"
expect_status 2 "reissue from the piped batch without --input: the same refusal"
contains "$T_ERR" "batch piped was read from a pipe" "the reissue's refusal says so too"
run reissue S000044000123265000001 --reason lost --org "$ORG" --ledger "$LP" --input "$IN/b.csv" \
	-o "$T_TMP/out/pi.pdf"
expect_status 0 "reissue --input FILE from the piped batch"
done_testing
