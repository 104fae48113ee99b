#!/bin/sh
# SPDX-License-Identifier: MIT
# End-to-end tests of `certpress reissue` (TAP): a lost or damaged
# certificate reissued under its own number (第十七条) in one command, the
# record taken from the input file of the batch that printed it (checked by
# SHA-256), printed on the next blank sheet of the stock (a new print serial),
# recorded as a reissue with its reason and whether the old certificate was
# taken back (收回); `ledger show` tells the story in English and in Chinese;
# the balance counts the returned sheet; what the rules forbid (a number never
# issued, a revoked one, a spoiled sheet) is refused; a reissue whose render
# fails leaves the ledger byte-identical.
. "$(dirname "$0")/lib.sh"
ORG="$T_TOP/templates/org.conf"
IN="$T_TMP/in"
mkdir -p "$IN" "$T_TMP/out"
cp -r "$T_TOP/templates/sample/photos" "$IN/photos"
head -n 6 "$T_TOP/templates/sample/batch.csv" >"$IN/b.csv" # 5 records, rows 2-6
export XDG_DATA_HOME="$T_TMP/xdg"
L="$T_TMP/ledger.sqlite"
C2=S000044000123263000001 # row 2, page 1, photos/001.jpg
C3=S000044000123264000001 # row 3, page 2
C4=S000044000123265000001 # row 4, page 3
export_to() { "$CERTPRESS" ledger export --ledger "$L" --csv -o "$1"; }

run ledger stock add --ledger "$L" --from GD2026000001 --to GD2026000050
run render --org "$ORG" --ledger "$L" --batch exam-1 -o "$T_TMP/out/b.pdf" "$IN/b.csv"
expect_status 0 "a batch of 5 printed on stock GD2026000001-5"

# --- usage ----------------------------------------------------------------------
run reissue "$C2" --org "$ORG" --ledger "$L" -o "$T_TMP/out/x.pdf"
expect_status 2 "reissue without --reason"
contains "$T_ERR" "why is it reissued" "the missing reason is asked for"
run reissue "$C2" --reason lost --spoiled GD2026000001 --org "$ORG" --ledger "$L" -o "$T_TMP/out/x.pdf"
expect_status 2 "reissue with --spoiled"
contains "$T_ERR" "a reissue spoils no sheet" "the refusal says why"
run reprint "$C2" --reason jam --old-returned --org "$ORG" --ledger "$L" -o "$T_TMP/out/x.pdf"
expect_status 2 "reprint with --old-returned"
run reissue "$C2" --reason lost --reason damaged --org "$ORG" --ledger "$L" -o "$T_TMP/out/x.pdf"
expect_status 2 "a repeated --reason"
run reissue --help
expect_status 0 "reissue --help"
contains "$T_OUT" "第十七条" "the help names the article"
run --help
contains "$T_OUT" "reissue" "certpress --help lists reissue"

# --- refused by the rules, nothing recorded ------------------------------------------
export_to "$T_TMP/export.before"
run reissue S000044000123263099999 --reason lost --org "$ORG" --ledger "$L" -o "$T_TMP/out/x.pdf"
expect_status 1 "a number never issued cannot be reissued"
run ledger revoke --ledger "$L" --cert-no "$C4" --reason "obtained by fraud"
export_to "$T_TMP/export.before"
run reissue "$C4" --reason lost --org "$ORG" --ledger "$L" -o "$T_TMP/out/x.pdf"
[ "$T_STATUS" -ne 0 ] && ok "a revoked number cannot be reissued (exit $T_STATUS)" ||
	not_ok "a revoked number cannot be reissued"
contains "$T_ERR" "revoked" "the refusal says it was revoked"
# The same through `render --reissue`: each refusal under its own rule, not
# the summary line of numbers already issued (which asks for --reissue).
head -n 1 "$IN/b.csv" >"$IN/r.csv"
grep ",$C4," "$IN/b.csv" >>"$IN/r.csv" # revoked
grep ",$C2," "$IN/b.csv" | sed "s/,$C2,/,S000044000123263099999,/" >>"$IN/r.csv" # never issued
run render --org "$ORG" --ledger "$L" --reissue lost -o "$T_TMP/out/x.pdf" "$IN/r.csv"
expect_status 1 "render --reissue of a revoked and a never issued number"
contains "$T_ERR" "[ledger.revoked 第二十四条] certificate number $C4 was revoked" \
	"the revoked number is refused as revoked (第二十四条)"
contains "$T_ERR" "[ledger.reissue 第十七条] certificate number S000044000123263099999 cannot be reissued: it was never issued" \
	"the number never issued is refused as no reissue (第十七条)"
lacks "$T_ERR" "already issued" "neither is called already issued"
file_absent "$T_TMP/out/x.pdf" "nothing written for the refusals"
export_to "$T_TMP/export.after"
cmp -s "$T_TMP/export.before" "$T_TMP/export.after" &&
	ok "the refusals: ledger export byte-identical" || not_ok "the refusals: ledger export byte-identical"

# --- a render that fails: nothing recorded ----------------------------------------------
mv "$IN/photos/001.jpg" "$T_TMP/001.jpg"
run reissue "$C2" --reason lost --org "$ORG" --ledger "$L" -o "$T_TMP/out/f.pdf"
[ "$T_STATUS" -ne 0 ] && ok "the photo gone: the reissue fails (exit $T_STATUS)" ||
	not_ok "the photo gone: the reissue fails"
contains "$T_ERR" "certpress reissue: nothing was recorded in the ledger" "and says nothing was recorded"
file_absent "$T_TMP/out/f.pdf" "the photo gone: nothing written"
export_to "$T_TMP/export.after"
cmp -s "$T_TMP/export.before" "$T_TMP/export.after" &&
	ok "the photo gone: ledger export byte-identical" || not_ok "the photo gone: ledger export byte-identical"
mv "$T_TMP/001.jpg" "$IN/photos/001.jpg"

# --- lost: the same number on the next blank sheet ---------------------------------------
run reissue "$C2" --reason "遗失 lost" --org "$ORG" --ledger "$L" -o "$T_TMP/out/r.pdf"
expect_status 0 "reissue $C2 (lost)"
contains "$T_ERR" "wrote 1 certificate to $T_TMP/out/r.pdf" "one certificate written"
if have pdftotext; then
	pdftotext "$T_TMP/out/r.pdf" - | tr -d ' \n' >"$T_TMP/r.txt"
	grep -q "$C2" "$T_TMP/r.txt" && grep -q GD2026000006 "$T_TMP/r.txt" &&
		ok "the reissue keeps its number $C2 and has a new print serial, GD2026000006" ||
		not_ok "the reissue keeps its number and has a new print serial GD2026000006"
fi
run ledger show "$C2" --ledger "$L"
contains "$(echo "$T_OUT" | sed -n 2p)" "issued  batch exam-1  serial GD2026000001" "show: issued on GD2026000001"
contains "$(echo "$T_OUT" | sed -n 3p)" "reissued (第十七条)  batch b-" "show: then reissued, in a batch of its own"
contains "$(echo "$T_OUT" | sed -n 3p)" "serial GD2026000006  $T_TMP/out/r.pdf page 1" "show: on the next blank sheet"
contains "$(echo "$T_OUT" | sed -n 3p)" "reason: 遗失 lost  old sheet not returned" "show: the reason, the old sheet not returned"
run reissue "$C2" --reason "lost again" --org "$ORG" --ledger "$L" -o "$T_TMP/out/r1.pdf"
expect_status 0 "a second reissue of the same number (lost again)"
contains "$(cat "$T_TMP/stderr")" "wrote 1 certificate" "the second reissue is written"

# --- damaged, the old certificate taken back (收回) -----------------------------------------
run reissue "$C3" --reason "损坏 damaged" --old-returned --org "$ORG" --ledger "$L" -o "$T_TMP/out/d.pdf"
expect_status 0 "reissue $C3 (damaged, old certificate taken back)"
env LC_ALL=zh_CN.UTF-8 LANGUAGE=zh_CN "$CERTPRESS" ledger show "$C3" --ledger "$L" >"$T_TMP/zh" 2>&1
contains "$(sed -n 1p "$T_TMP/zh")" "证书 $C3" "show in Chinese: the certificate"
contains "$(sed -n 2p "$T_TMP/zh")" "发放  批次 exam-1  流水码 GD2026000002" "show in Chinese: 发放 on GD2026000002"
contains "$(sed -n 3p "$T_TMP/zh")" "补发（第十七条）" "show in Chinese: 补发"
contains "$(sed -n 3p "$T_TMP/zh")" "流水码 GD2026000008" "show in Chinese: on a new sheet GD2026000008"
contains "$(sed -n 3p "$T_TMP/zh")" "原因：损坏 damaged  原证书已收回" "show in Chinese: the reason, 原证书已收回"
# 5 first prints + 3 reissues = 8 sheets printed on (a revoked number's
# sheet stays issued): the one taken back is returned, the other 7 issued;
# 42 blank.
run ledger report --ledger "$L" --json
contains "$T_OUT" '"received": 50, "issued": 7, "spoiled": 0, "destroyed": 0, "remaining": 42, "returned": 1' \
	"the balance: 50 = 7 issued + 1 returned + 42 remaining"
run ledger destroy --ledger "$L" --serial GD2026000002 --reason "收回后销毁"
expect_status 0 "the sheet taken back may be destroyed"
run ledger destroy --ledger "$L" --serial GD2026000001 --reason "x"
expect_status 1 "the lost certificate's sheet (not taken back) may not"
done_testing
