#!/bin/sh
# SPDX-License-Identifier: MIT
# End-to-end tests of `certpress calibrate` (TAP): the calibration page (PDF,
# one A4 page; PNG at a given dpi); saving a printer's offset and scale, and
# render --printer applying exactly that offset; out-of-range values and bad
# names refused without touching a saved profile; usage errors.
. "$(dirname "$0")/lib.sh"

ORG="$T_TOP/templates/org.conf"
export XDG_CONFIG_HOME="$T_TMP/config" XDG_DATA_HOME="$T_TMP/xdg"
D="$T_TMP/printers"
IN="$T_TMP/in"
mkdir -p "$IN" "$T_TMP/out"
cp -r "$T_TOP/templates/sample/photos" "$IN/photos"
head -n 3 "$T_TOP/templates/sample/batch.csv" >"$IN/small.csv"
# word_pos PDF WORD: "xMin yMin" of the first WORD on page 1 (pdftotext -bbox).
word_pos() {
	pdftotext -bbox -f 1 -l 1 "$1" - |
		sed -n "s/.*xMin=\"\([0-9.]*\)\" yMin=\"\([0-9.]*\)\".*>$2<.*/\1 \2/p" | head -1
}
# moved P0 P1 DX_MM DY_MM: the positions differ by (DX, DY) mm, within 0.1 pt.
moved() {
	[ -n "$1" ] && [ -n "$2" ] && echo "$1 $2 $3 $4" | awk '{
		dx = $3 - $1 - $5 * 72 / 25.4; dy = $4 - $2 - $6 * 72 / 25.4
		exit !(dx * dx < 0.01 && dy * dy < 0.01) }'
}

# --- the calibration page ---------------------------------------------------
run calibrate -o "$T_TMP/out/cal.pdf"
expect_status 0 "calibrate -o cal.pdf"
contains "$T_ERR" "wrote calibration page" "calibrate says where the page went"
if have pdfinfo; then
	info=$(pdfinfo "$T_TMP/out/cal.pdf")
	contains "$info" "Pages:           1" "the calibration page is one page"
	contains "$info" "Page size:       595.276 x 841.89 pts (A4)" "the calibration page is A4"
else
	skip "pdfinfo not installed"
fi
have qpdf && { qpdf --check "$T_TMP/out/cal.pdf" >/dev/null 2>&1 && ok "qpdf --check the page" ||
	not_ok "qpdf --check the page"; }
run calibrate --dpi 100 -o "$T_TMP/out/cal.png"
expect_status 0 "calibrate -o cal.png --dpi 100"
contains "$(file "$T_TMP/out/cal.png")" "PNG image data, 827 x 1169" "a PNG page at 100 dpi"
[ "$(ls -A "$T_TMP/out" | wc -l)" -eq 2 ] && ok "no temporary file left" ||
	not_ok "no temporary file left" "$(ls -A "$T_TMP/out")"

# --- saving a printer profile -----------------------------------------------
run calibrate --printer P --offset 1.5,-0.5 --save --printers-dir "$D"
expect_status 0 "--printer P --offset 1.5,-0.5 --save"
contains "$T_ERR" "saved printer 'P'" "the save is reported"
prof=$(cat "$D/P.conf" 2>&1)
contains "$prof" "offset = 1.50 -0.50" "the profile holds the offset"
contains "$prof" "scale = 1.0000 1.0000" "and an unchanged scale"

# The saved offset moves what render prints by exactly that much.
run render --org "$ORG" --no-ledger --mode fill -o "$T_TMP/out/plain.pdf" "$IN/small.csv"
expect_status 0 "render without a printer"
run render --org "$ORG" --no-ledger --mode fill --printer P --printers-dir "$D" \
	-o "$T_TMP/out/p.pdf" "$IN/small.csv"
expect_status 0 "render --printer P --printers-dir D"
# …and the calibration page printed with --printer P shows it too.
run calibrate --printer P --printers-dir "$D" -o "$T_TMP/out/calP.pdf"
expect_status 0 "calibrate -o with --printer P"
if have pdftotext; then
	p0=$(word_pos "$T_TMP/out/plain.pdf" S000044000123263000001)
	p1=$(word_pos "$T_TMP/out/p.pdf" S000044000123263000001)
	moved "$p0" "$p1" 1.5 -0.5 && ok "render --printer P moves the text 1.5 mm right, 0.5 mm up" ||
		not_ok "render --printer P moves the text by the saved offset" "$p0 -> $p1"
	c0=$(word_pos "$T_TMP/out/cal.pdf" 10)
	c1=$(word_pos "$T_TMP/out/calP.pdf" 10)
	moved "$c0" "$c1" 1.5 -0.5 && ok "the calibration page with --printer P is offset too" ||
		not_ok "the calibration page with --printer P is offset too" "$c0 -> $c1"
else
	skip "pdftotext not installed"
fi

# Saving only a scale keeps the saved offset.
run calibrate --printer P --scale 1.01,0.99 --save --printers-dir "$D"
expect_status 0 "--save of a scale alone"
prof=$(cat "$D/P.conf" 2>&1)
contains "$prof" "offset = 1.50 -0.50" "the saved offset is kept"
contains "$prof" "scale = 1.0100 0.9900" "the scale is saved"
contains "$T_ERR" "replaced printer 'P': was offset 1.50,-0.50 mm, scale 1.0000,1.0000; now offset 1.50,-0.50 mm, scale 1.0100,0.9900" \
	"replacing a profile shows the old and the new values"

# Beyond the page's scales (±5 mm): refused unless --force, the profile kept.
cp "$D/P.conf" "$T_TMP/P.kept"
run calibrate --printer P --offset 6,0 --save --printers-dir "$D"
expect_status 2 "--offset 6,0 beyond the calibration page's scales"
contains "$T_ERR" "beyond what the calibration page measures (its scales run -5 to 5 mm)" \
	"the refusal says why and gives the page's range"
contains "$T_ERR" "--force" "the refusal names --force"
cmp -s "$D/P.conf" "$T_TMP/P.kept" && ok "the refused offset left the profile as it was" ||
	not_ok "the refused offset left the profile as it was"
run calibrate --printer P --offset 0,-5 --save --printers-dir "$D"
expect_status 0 "--offset 0,-5, the end of the scale, is saved"
run calibrate --printer P --offset 6,0 --save --force --printers-dir "$D"
expect_status 0 "--offset 6,0 --force is saved"
contains "$(cat "$D/P.conf")" "offset = 6.00 0.00" "the forced offset is in the profile"
contains "$T_ERR" "was offset 0.00,-5.00 mm" "and the old value is shown"
run calibrate --printer P --offset 1.5,-0.5 --scale 1.01,0.99 --save --printers-dir "$D"
expect_status 0 "back to the measured values"
run calibrate -o "$T_TMP/out/x.pdf" --force
expect_status 2 "--force without --save is a usage error"

# --- refusals ---------------------------------------------------------------
cp "$D/P.conf" "$T_TMP/P.before"
run calibrate --printer P --offset 50,0 --save --printers-dir "$D"
expect_status 2 "calibrate --offset 50,0"
contains "$T_ERR" "between -20 and 20" "the refusal gives the range"
run calibrate --printer P --scale 1.5,1 --save --printers-dir "$D"
expect_status 2 "calibrate --scale 1.5,1"
run calibrate --printer P --offset 1,x --save --printers-dir "$D"
expect_status 2 "calibrate --offset that is not a pair of numbers"
cmp -s "$D/P.conf" "$T_TMP/P.before" && ok "a refused save leaves the profile as it was" ||
	not_ok "a refused save leaves the profile as it was"
run render --org "$ORG" --no-ledger --offset 50,0 -o "$T_TMP/out/off.pdf" "$IN/small.csv"
expect_status 2 "render --offset 50,0"
file_absent "$T_TMP/out/off.pdf" "no PDF for it"
run render --org "$ORG" --no-ledger --printer NOPE --printers-dir "$D" \
	-o "$T_TMP/out/nope.pdf" "$IN/small.csv"
expect_status 2 "render --printer of an unknown printer"
contains "$T_ERR" "NOPE" "the unknown printer is named"
run calibrate --printer ../evil --offset 1,1 --save --printers-dir "$D"
expect_status 2 "a printer name with a path in it"
file_absent "$T_TMP/evil.conf" "nothing written outside the printers folder"
# A hand-edited profile out of range is refused when loaded, not applied.
mkdir -p "$T_TMP/bad"
printf '[printer]\noffset = 30 0\n' >"$T_TMP/bad/W.conf"
run render --org "$ORG" --no-ledger --printer W --printers-dir "$T_TMP/bad" \
	-o "$T_TMP/out/w.pdf" "$IN/small.csv"
expect_status 2 "render with an out-of-range saved profile"
contains "$T_ERR" "W.conf" "the refusal names the profile file"

# --- usage errors -----------------------------------------------------------
run calibrate
expect_status 2 "calibrate with nothing to do"
run calibrate --offset 1,1 --save --printers-dir "$D"
expect_status 2 "--save without --printer"
run calibrate --printer P --save --printers-dir "$D"
expect_status 2 "--save without --offset or --scale"
run calibrate -o "$T_TMP/out/x.pdf" extra
expect_status 2 "an unexpected argument"
run calibrate --frobnicate
expect_status 2 "an unknown option"
contains "$T_ERR" "certpress calibrate --help" "an unknown option points to --help"
run calibrate --size 20,20 -o "$T_TMP/out/x.pdf"
expect_status 2 "--size below 50 mm"
[ "$(ls "$D")" = P.conf ] && ok "no other profile was created" || not_ok "no other profile" "$(ls "$D")"
file_absent "$XDG_CONFIG_HOME/certpress" "--printers-dir kept the default folder unused"

done_testing
