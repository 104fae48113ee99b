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
grep -q "photos/002.jpg,-12,\"the name" "$rej" && ok "rejects: a negative number stays a number" ||
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
