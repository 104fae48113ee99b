#!/bin/sh
# SPDX-License-Identifier: MIT
# End-to-end tests (TAP): the ledger as an auditor reads it (issue 18) —
# CSV written against formula injection (the ledger export and the rejects
# file), export headers and events in Chinese under zh_CN, absolute paths,
# a returned old sheet in the balance, default batch names, the one-line
# summary of numbers already issued.
. "$(dirname "$0")/lib.sh"
ORG="$T_TOP/templates/org.conf"
IN="$T_TMP/in"
mkdir -p "$IN" "$T_TMP/out"
cp -r "$T_TOP/templates/sample/photos" "$IN/photos"
head -n 6 "$T_TOP/templates/sample/batch.csv" >"$IN/small.csv" # header + 5 records
export XDG_DATA_HOME="$T_TMP/xdg"
L="$T_TMP/ledger.sqlite"

# --- CSV injection ------------------------------------------------------------
run ledger stock add --ledger "$L" --from GD2026000001 --to GD2026000020 \
	--note '=HYPERLINK("http://evil.example/","click")' --operator '@alice'
expect_status 0 "stock add with a note a spreadsheet would run"
run ledger export --ledger "$L" --csv
expect_status 0 "ledger export"
contains "$T_OUT" "\"'@alice\",\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"click\"\")\"" \
	"export: the formula-like cells get one apostrophe in front, the rest as it was"
lacks "$T_OUT" ",=HYPERLINK" "export: no cell begins with ="
contains "$T_OUT" "GD2026000001,GD2026000020" "export: the serials stay as they are"

# The rejects file: a refused row with formula-like cells, corrected and read
# back, gives the values it was written from.
# (a 备注 column certpress does not read keeps a negative number)
tr -d '\r' <"$IN/small.csv" |
	sed -e '1s/$/,备注/' -e '2,$s/$/,-12/' -e '3s/^[^,]*,/=1+2,/' -e '4s/-12$/@note/' >"$IN/evil.csv"
run render --org "$ORG" --no-ledger --skip-invalid -o "$T_TMP/out/e.pdf" "$IN/evil.csv"
expect_status 1 "a row with a formula for a name is refused"
rej="$T_TMP/out/e.pdf.rejects.csv"
file_present "$rej" "the rejects file is written"
grep -q "^\"'=1+2\"," "$rej" && ok "rejects: the name cell is neutralised" ||
	not_ok "rejects: the name cell is neutralised" "$(cat "$rej")"
grep -q "photos/002.jpg,-12,\"row 3, column 姓名: the name" "$rej" && ok "rejects: a negative number stays a number" ||
	not_ok "rejects: a negative number stays a number" "$(cat "$rej")"
run check --org "$ORG" --no-layout "$rej"
contains "$T_ERR$T_OUT" "(value =1+2)" "the rejects file read back gives the name as it was written from"
lacks "$T_ERR$T_OUT" "'=1+2" "no apostrophe is read back into the value"

# zh ARGS...: certpress under LANGUAGE=zh_CN (zh_CN generated or not).
zh() {
	env -u LC_ALL -u LC_MESSAGES -u LANG LANG=C.UTF-8 LANGUAGE=zh_CN "$CERTPRESS" "$@" \
		>"$T_TMP/stdout" 2>"$T_TMP/stderr"
	T_STATUS=$?
	T_OUT=$(cat "$T_TMP/stdout")
	T_ERR=$(cat "$T_TMP/stderr")
}

# --- the export in the auditor's language ---------------------------------------
run render --org "$ORG" --ledger "$L" -o "$T_TMP/out/a.pdf" "$IN/small.csv"
expect_status 0 "a batch rendered into the ledger"
run ledger export --ledger "$L" --csv
contains "$(echo "$T_OUT" | head -1)" "event,time,cert_no,name,id_masked,level,occupation,serial" \
	"export in English: the header keys as before"
contains "$T_OUT" "
issue," "export in English: the event keys as before"
zh ledger export --ledger "$L" --csv
expect_status 0 "ledger export under LANGUAGE=zh_CN"
contains "$(echo "$T_OUT" | head -1)" "事项,时间,证书编号,姓名,证件号码（遮蔽）,职业技能等级,职业名称,证书印制流水码" \
	"export in Chinese: the headers"
contains "$T_OUT" "
空白证书入库," "export in Chinese: stock received"
contains "$T_OUT" "
核发," "export in Chinese: an issue"
lacks "$T_OUT" "
issue," "export in Chinese: no English event left"

# --- what a batch records: absolute paths, its source, its calibration ---------
P="$T_TMP/printers"
run calibrate --printer office --offset 1.5,-0.5 --save --printers-dir "$P"
expect_status 0 "a printer profile saved"
L2="$T_TMP/l2.sqlite"
(cd "$IN" && "$CERTPRESS" render --org "$ORG" --ledger "$L2" --printer office \
	--printers-dir "$P" -o ../out/rel.pdf small.csv >/dev/null 2>&1)
[ $? -eq 0 ] && ok "render with relative input and output paths" ||
	not_ok "render with relative input and output paths"
day=$(date +%Y-%m-%d)
run ledger report --ledger "$L2" --json
sha=$(sha256sum "$IN/small.csv" | cut -d' ' -f1)
contains "$T_OUT" "\"name\": \"small-$day\"" "the batch is named after its input file and the day"
contains "$T_OUT" "\"note\": \"$IN/small.csv\"" "the batch names its input by absolute path"
contains "$T_OUT" "\"input\": \"$IN/small.csv\", \"input_sha256\": \"$sha\"" \
	"the batch records its input's SHA-256"
contains "$T_OUT" "\"printer_profile\": \"office\", \"calibration\": \"offset 1.50,-0.50 mm, scale 1.0000,1.0000\"" \
	"the batch records the printer profile and calibration it was drawn with"
run ledger show S000044000123263000001 --ledger "$L2"
contains "$T_OUT" "$T_TMP/out/rel.pdf page 1" "the output is recorded by absolute path"
run ledger report --ledger "$L2"
contains "$T_OUT" "printer profile office, offset 1.50,-0.50 mm" "the report shows the batch's printer profile"
sed 1,3d "$IN/small.csv" >/dev/null
head -n 3 "$IN/small.csv" >"$IN/tail.csv"
run render --org "$ORG" --ledger "$L2" --reissue damaged -o "$T_TMP/out/again.pdf" "$IN/tail.csv"
expect_status 0 "a second batch from another file"
run render --org "$ORG" --ledger "$L2" --reissue damaged -o "$T_TMP/out/again2.pdf" "$IN/tail.csv"
expect_status 0 "a third batch from the same file the same day"
run ledger report --ledger "$L2" --json
contains "$T_OUT" "\"name\": \"tail-$day\"" "the batch of another file has its name"
contains "$T_OUT" "\"name\": \"tail-$day-2\"" "the same file twice a day: -2"

# --- a sheet taken back at a reissue is 收回 in the balance --------------------
L3="$T_TMP/l3.sqlite"
run ledger stock add --ledger "$L3" --from GD2026000001 --to GD2026000010
head -n 2 "$IN/small.csv" >"$IN/one.csv"
run render --org "$ORG" --ledger "$L3" -o "$T_TMP/out/one.pdf" "$IN/one.csv"
expect_status 0 "one certificate printed on stock"
run render --org "$ORG" --ledger "$L3" --reissue damaged --old-returned \
	-o "$T_TMP/out/one-r.pdf" "$IN/one.csv"
expect_status 0 "reissued, the old sheet taken back"
run ledger report --ledger "$L3" --json
contains "$T_OUT" '"balance": {"at": null, "received": 10, "issued": 1, "spoiled": 0, "destroyed": 0, "remaining": 8, "returned": 1}' \
	"the balance counts the old sheet as returned, not issued"
zh ledger report --ledger "$L3"
echo "$T_OUT" | grep -q '^  收回  *1$' && ok "the balance shows 收回 under zh_CN" ||
	not_ok "the balance shows 收回 under zh_CN" "$T_OUT"
echo "$T_OUT" | grep -q '^  发放  *1$' && ok "and one issued" || not_ok "and one issued"
run ledger destroy --ledger "$L3" --serial GD2026000001 --reason shredded
run ledger report --ledger "$L3" --json
contains "$T_OUT" '"issued": 1, "spoiled": 0, "destroyed": 1, "remaining": 8, "returned": 0}' \
	"once destroyed the returned sheet is counted as destroyed"

# --- render over numbers already issued: one line, not one per record ----------
run render --org "$ORG" --ledger "$L2" -o "$T_TMP/out/twice.pdf" "$IN/small.csv"
expect_status 1 "the batch again is refused"
k=$(echo "$T_ERR" | grep -c 'already issued')
[ "$k" = 1 ] && ok "one line for the 5 numbers already issued" || not_ok "one line for the 5 numbers already issued" "$T_ERR"
contains "$T_ERR" "5 certificate numbers were already issued (rows 2-6; the first S000044000123263000001)" \
	"the line counts them and names the rows"
contains "$T_ERR" "--reissue REASON" "the line says how to print them again"
contains "$T_ERR" "small.csv: 5 records, 0 valid, 5 refused" "the summary line follows"
file_absent "$T_TMP/out/twice.pdf" "nothing written"
{ cat "$IN/small.csv"; sed -n 7p "$T_TOP/templates/sample/batch.csv"; } >"$IN/six.csv"
run render --org "$ORG" --ledger "$L2" --skip-invalid -o "$T_TMP/out/twice.pdf" "$IN/six.csv"
expect_status 1 "--skip-invalid prints the one new record"
[ "$(grep -c 'already issued' "$T_TMP/out/twice.pdf.rejects.csv")" = 5 ] &&
	ok "the rejects file still gives each row its reason" ||
	not_ok "the rejects file still gives each row its reason" "$(cat "$T_TMP/out/twice.pdf.rejects.csv")"
zh render --org "$ORG" --ledger "$L2" -o "$T_TMP/out/thrice.pdf" "$IN/small.csv"
contains "$T_ERR" "5 个证书编号已发放过（第 2-6 行" "the line in Chinese under zh_CN"
done_testing
