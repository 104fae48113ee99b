#!/bin/sh
# SPDX-License-Identifier: MIT
# End-to-end tests of `certpress render` (TAP): the sample batch as a print
# PDF (page count and size, embedded fonts, text, no print scaling); all or
# nothing on a refused row, and --skip-invalid; fill mode with an offset that
# moves the text by exactly that much, electronic mode with the seal; a PNG
# folder with pHYs; single previews and their QR code; outputs that would
# overwrite an input or write through a symlink; the ledger refusing a second
# issue and recording a reissue; SIGINT leaving nothing behind.
. "$(dirname "$0")/lib.sh"

ORG="$T_TOP/templates/org.conf"
export XDG_DATA_HOME="$T_TMP/xdg" # a forgotten --ledger never meets the real one
IN="$T_TMP/in"
mkdir -p "$IN"
cp -r "$T_TOP/templates/sample/photos" "$IN/photos"
cp "$T_TOP/templates/sample/batch.csv" "$IN/batch.csv"
head -n 6 "$IN/batch.csv" >"$IN/small.csv" # header + 5 records
# empty_dir DIR DESC: DIR exists and holds nothing, not even a hidden temp file.
empty_dir() {
	if [ -d "$1" ] && [ -z "$(ls -A "$1")" ]; then ok "$2"
	else not_ok "$2" "$(ls -A "$1" 2>&1 | head -5)"; fi
}
# word_pos PDF WORD: "xMin yMin" of WORD on page 1 (pdftotext -bbox).
word_pos() {
	pdftotext -bbox -f 1 -l 1 "$1" - |
		sed -n "s/.*xMin=\"\([0-9.]*\)\" yMin=\"\([0-9.]*\)\".*>$2<.*/\1 \2/p" | head -1
}

# --- the sample batch as a PDF ----------------------------------------------
mkdir "$T_TMP/pdf"
PDF="$T_TMP/pdf/sample.pdf"
run render --org "$ORG" --no-ledger -o "$PDF" "$IN/batch.csv"
expect_status 0 "render the sample batch to PDF"
contains "$T_ERR" "wrote 20 certificates" "render reports the pages written"
if have pdfinfo && have pdffonts && have pdftotext && have qpdf; then
	pages=$(pdfinfo "$PDF" | sed -n 's/^Pages: *//p')
	[ "$pages" = 20 ] && ok "20 pages" || not_ok "20 pages: got '$pages'"
	# Every page, not only the first, is A4 (595.28 x 841.89 pt).
	notA4=$(pdfinfo -f 1 -l 20 "$PDF" | awk '/^Page +[0-9]+ size:/ {
		n++; if (($4 - 595.28)^2 > 0.0001 || ($6 - 841.89)^2 > 0.0001) print }
		END { if (n != 20) print "pages seen: " n }')
	[ -z "$notA4" ] && ok "every page is A4 portrait" || not_ok "every page is A4" "$notA4"
	qpdf --check "$PDF" >"$T_TMP/qpdf.out" 2>&1 && ok "qpdf --check finds no error" ||
		not_ok "qpdf --check finds no error" "$(tail -5 "$T_TMP/qpdf.out")"
	fonts=$(pdffonts "$PDF" | tail -n +3 | awk '{ n++; if ($(NF-4) != "yes") print $1 }
		END { if (n == 0) print "no fonts at all" }')
	[ -z "$fonts" ] && ok "every font is embedded" || not_ok "every font is embedded" "$fonts"
	pdftotext "$PDF" "$T_TMP/sample.txt"
	missing=$(tail -n +2 "$IN/batch.csv" | tr -d '\r' |
		while IFS=, read -r name _ _ _ _ _ certno _; do
			grep -qF "$name" "$T_TMP/sample.txt" || echo "name $name"
			grep -qF "$certno" "$T_TMP/sample.txt" || echo "number $certno"
		done)
	[ -z "$missing" ] && ok "the text has every name and certificate number" ||
		not_ok "the text has every name and certificate number" "$missing"
	root=$(qpdf --show-object=trailer "$PDF" | sed -n 's/.*\/Root \([0-9]*\) [0-9]* R.*/\1/p')
	cat_=$(qpdf --show-object="$root" "$PDF" 2>&1)
	contains "$cat_" "/PrintScaling /None" "the catalog asks viewers not to scale the print"
else
	skip "poppler-utils or qpdf not installed"
fi
file_absent "$XDG_DATA_HOME/certpress/ledger.sqlite" "--no-ledger writes no ledger"

# --- all or nothing ---------------------------------------------------------
{
	cat "$IN/small.csv"
	printf '赵六,居民身份证,440103198708204539,电工,,二级,S000044000123262000009,2026-02-30,photos/014.jpg\r\n'
} >"$IN/onebad.csv"
mkdir "$T_TMP/bad"
run render --org "$ORG" --no-ledger -o "$T_TMP/bad/x.pdf" "$IN/onebad.csv"
expect_status 1 "a batch with one refused row"
contains "$T_ERR" "row 7, column 发证日期" "the refused row is named"
contains "$T_ERR" "nothing was printed" "render says nothing was printed"
empty_dir "$T_TMP/bad" "no PDF and no temporary file left"

run render --org "$ORG" --no-ledger --skip-invalid -o "$T_TMP/bad/x.pdf" "$IN/onebad.csv"
expect_status 1 "--skip-invalid still exits 1"
have pdfinfo && pages=$(pdfinfo "$T_TMP/bad/x.pdf" | sed -n 's/^Pages: *//p')
[ "${pages:-}" = 5 ] && ok "--skip-invalid prints the 5 valid pages" ||
	not_ok "--skip-invalid prints the 5 valid pages: got '${pages:-}'"
rej="$T_TMP/bad/x.pdf.rejects.csv"
file_present "$rej" "the rejects file lies next to the PDF"
[ "$(grep -c 'S000044000123262000009' "$rej")" -eq 1 ] && [ "$(wc -l <"$rej")" -eq 2 ] &&
	ok "the rejects file holds the header and the one refused row" ||
	not_ok "the rejects file holds the header and the one refused row" "$(cat "$rej")"
contains "$T_ERR" "refused rows written to" "render names the rejects file"

# --- modes ------------------------------------------------------------------
mkdir "$T_TMP/mode"
run render --org "$ORG" --no-ledger --mode fill -o "$T_TMP/mode/fill0.pdf" "$IN/small.csv"
expect_status 0 "--mode fill"
run render --org "$ORG" --no-ledger --mode fill --offset 2,-1.5 -o "$T_TMP/mode/fill.pdf" \
	"$IN/small.csv"
expect_status 0 "--mode fill --offset 2,-1.5"
run render --org "$ORG" --no-ledger --mode electronic -o "$T_TMP/mode/el.pdf" "$IN/small.csv"
expect_status 0 "--mode electronic"
run render --org "$ORG" --no-ledger --mode bogus -o "$T_TMP/mode/x.pdf" "$IN/small.csv"
expect_status 2 "an unknown --mode"
if have pdftotext; then
	fill=$(pdftotext "$T_TMP/mode/fill.pdf" -)
	lacks "$fill" "Vocational Skill Level Certificate" "fill mode leaves out the pre-printed text"
	contains "$fill" "S000044000123263000001" "fill mode prints the variable text"
	contains "$(cat "$T_TMP/sample.txt")" "Vocational Skill Level Certificate" \
		"full mode prints the static text"
	# 2 mm right = +5.669 pt, 1.5 mm up = -4.252 pt in pdftotext's y-down space.
	p0=$(word_pos "$T_TMP/mode/fill0.pdf" S000044000123263000001)
	p1=$(word_pos "$T_TMP/mode/fill.pdf" S000044000123263000001)
	if [ -n "$p0" ] && [ -n "$p1" ] && echo "$p0 $p1" | awk '{
		dx = $3 - $1 - 2 * 72 / 25.4; dy = $4 - $2 + 1.5 * 72 / 25.4
		exit !(dx * dx < 0.01 && dy * dy < 0.01) }'; then
		ok "--offset 2,-1.5 moves the text 2 mm right and 1.5 mm up"
	else
		not_ok "--offset 2,-1.5 moves the text 2 mm right and 1.5 mm up" "$p0 -> $p1"
	fi
else
	skip "pdftotext not installed"
fi
if have pdfimages; then
	# Columns: page num type width height … (an alpha mask is type smask).
	nfull=$(pdfimages -list -f 1 -l 1 "$PDF" | awk '$3 == "image"' | wc -l)
	nel=$(pdfimages -list -f 1 -l 1 "$T_TMP/mode/el.pdf" | awk '$3 == "image"' | wc -l)
	seal=$(pdfimages -list -f 1 -l 1 "$T_TMP/mode/el.pdf" |
		awk '$3 == "image" && $4 == 500 && $5 == 500' | wc -l)
	[ "$nel" -eq $((nfull + 1)) ] && [ "$seal" -eq 1 ] &&
		ok "electronic mode adds the 500 x 500 seal image to the page" ||
		not_ok "electronic mode adds the seal image: $nfull vs $nel images, seal $seal"
else
	skip "pdfimages not installed"
fi

# --- a folder of PNG files --------------------------------------------------
mkdir "$T_TMP/png"
run render --org "$ORG" --no-ledger --dpi 100 -o "$T_TMP/png/pages" "$IN/small.csv"
expect_status 0 "render to a PNG folder at 100 dpi"
n=$(ls "$T_TMP/png/pages" 2>/dev/null | grep -c '\.png$')
[ "$n" -eq 5 ] && ok "one PNG per certificate (5)" || not_ok "one PNG per certificate: $n"
missing=$(tail -n +2 "$IN/small.csv" | cut -d, -f7 | while read -r c; do
	[ -f "$T_TMP/png/pages/$c.png" ] || echo "$c"; done)
[ -z "$missing" ] && ok "each PNG is named by its certificate number" ||
	not_ok "each PNG is named by its certificate number" "$missing"
[ "$(ls -A "$T_TMP/png")" = pages ] && ok "no temporary folder left beside it" ||
	not_ok "no temporary folder left beside it" "$(ls -A "$T_TMP/png")"
one="$T_TMP/png/pages/S000044000123263000001.png"
contains "$(file "$one")" "PNG image data, 827 x 1169" "an A4 page at 100 dpi is 827 x 1169"
# pHYs: pixels per metre twice, then unit 1 (metre). 100 dpi = 3937 px/m.
phys=$(perl -0777 -ne 'print join " ", unpack("N N C", $1) if /pHYs(.{9})/s' "$one")
[ "$phys" = "3937 3937 1" ] && ok "pHYs says 100 dpi" || not_ok "pHYs says 100 dpi: '$phys'"
bad=$(for f in "$T_TMP/png/pages"/*.png; do grep -c pHYs "$f" | grep -qx 1 || echo "$f"; done)
[ -z "$bad" ] && ok "every PNG has one pHYs chunk" || not_ok "every PNG has one pHYs chunk" "$bad"

# --- single previews --------------------------------------------------------
mkdir "$T_TMP/pv"
run render --org "$ORG" --row 6 -o "$T_TMP/pv/p.png" "$IN/batch.csv"
expect_status 0 "preview --row 6"
[ "$(ls -A "$T_TMP/pv")" = p.png ] && ok "a preview writes one file" ||
	not_ok "a preview writes one file" "$(ls -A "$T_TMP/pv")"
contains "$(file "$T_TMP/pv/p.png")" "PNG image data, 2480 x 3508" "the preview is A4 at 300 dpi"
run render --org "$ORG" --cert-no S000044000123263000002 -o "$T_TMP/pv/c.png" "$IN/batch.csv"
expect_status 0 "preview --cert-no"
cmp -s "$T_TMP/pv/p.png" "$T_TMP/pv/c.png" && ok "--cert-no of row 6's number gives row 6's page" ||
	not_ok "--cert-no of row 6's number gives row 6's page"
if have zbarimg; then
	qr=$(zbarimg -q --raw -Sdisable -Sqrcode.enable "$T_TMP/pv/p.png" 2>/dev/null)
	[ "$qr" = "http://jndj.osta.org.cn/?zsbh=S000044000123263000002" ] &&
		ok "the QR code decodes to exactly the query URL" ||
		not_ok "the QR code decodes to exactly the query URL" "got: $qr"
else
	skip "zbarimg not installed"
fi
run render --org "$ORG" --row 99 -o "$T_TMP/pv/none.png" "$IN/batch.csv"
expect_status 2 "--row of a missing row"
contains "$T_ERR" "no record on row 99" "the missing row is named"
run render --org "$ORG" --cert-no S000044000123263999999 -o "$T_TMP/pv/none.png" "$IN/batch.csv"
expect_status 2 "--cert-no of an unknown number"
run render --org "$ORG" -o "$T_TMP/pv/none.png" "$IN/batch.csv"
expect_status 2 "a preview without --row"
contains "$T_ERR" "--row" "the usage error asks for --row"
file_absent "$T_TMP/pv/none.png" "no preview written for them"
[ "$(ls -A "$T_TMP/pv" | wc -l)" -eq 2 ] && ok "and no temporary file left" ||
	not_ok "and no temporary file left" "$(ls -A "$T_TMP/pv")"
run render --org "$ORG" --dpi 20 --row 6 -o "$T_TMP/pv/x.png" "$IN/batch.csv"
expect_status 2 "--dpi out of range"
# A preview lays out its own row only; the rules that need the other rows
# (duplicate numbers) still see them. Row 4's name does not fit its box (a
# refusal of the layout, not of the checker); row 20 repeats row 2's number.
awk -F, 'BEGIN { OFS = "," }
	NR == 4 { $1 = "欧阳" "明明明明明明明明明明明明明明明明明明明明明明明明明明明明明明明明明明明明明明明明" }
	NR == 21 { $7 = "S000044000123263000001" } { print }' "$IN/batch.csv" >"$IN/pv.csv"
run render --org "$ORG" --row 2 -o "$T_TMP/pv/r2.png" "$IN/pv.csv"
expect_status 0 "preview of row 2 while row 4 does not lay out"
lacks "$T_ERR" "row 4" "row 4 is not laid out for row 2's preview"
cmp -s "$T_TMP/pv/r2.png" "$T_TMP/pv/p.png" && not_ok "row 2 is not row 6" || ok "row 2's page is its own"
run render --org "$ORG" --row 4 -o "$T_TMP/pv/r4.png" "$IN/pv.csv"
expect_status 1 "preview of the row that does not lay out"
contains "$T_ERR" "does not fit in its box" "the layout's reason is given"
file_absent "$T_TMP/pv/r4.png" "no preview of a refused row"
run render --org "$ORG" --row 21 -o "$T_TMP/pv/r21.png" "$IN/pv.csv"
expect_status 1 "preview of a row repeating an earlier number"
contains "$T_ERR" "S000044000123263000001" "the duplicate number is named"
file_absent "$T_TMP/pv/r21.png" "no preview of a duplicate"
# Another row's photo is probed (header) but not decoded for a preview: a
# photo cut in half refuses its own row's preview and the batch, not row 2's.
head -c 4000 "$IN/photos/003.jpg" >"$IN/photos/cut.jpg"
sed '4s#photos/003.jpg#photos/cut.jpg#' "$IN/batch.csv" >"$IN/cut.csv"
run render --org "$ORG" --row 2 -o "$T_TMP/pv/c2.png" "$IN/cut.csv"
expect_status 0 "preview of row 2 while row 4's photo is cut short"
lacks "$T_ERR" "cannot be decoded" "row 4's photo is not decoded for row 2's preview"
run render --org "$ORG" --row 4 -o "$T_TMP/pv/c4.png" "$IN/cut.csv"
expect_status 1 "preview of the row whose photo is cut short"
contains "$T_ERR" "cannot be decoded" "the decoder's reason is given"
run check --org "$ORG" "$IN/cut.csv"
contains "$T_ERR" "cannot be decoded" "check still decodes every photo"

# --- outputs that must not be written ---------------------------------------
sum0=$(cksum <"$IN/batch.csv")
run render --org "$ORG" --no-ledger -o "$IN/batch.csv" "$IN/batch.csv"
expect_status 2 "-o the input CSV"
run render --org "$ORG" --no-ledger --skip-invalid --rejects "$IN/batch.csv" \
	-o "$T_TMP/pdf/r.pdf" "$IN/batch.csv"
expect_status 2 "--rejects onto the input CSV"
contains "$T_ERR" "same file as the input" "the refusal says why"
[ "$(cksum <"$IN/batch.csv")" = "$sum0" ] && ok "the input CSV is untouched" ||
	not_ok "the input CSV is untouched"
cp "$IN/small.csv" "$IN/named.pdf" # a CSV saved under a .pdf name
run render --org "$ORG" --no-ledger -o "$IN/named.pdf" "$IN/named.pdf"
expect_status 2 "-o the input, when the input has the output's suffix"
cmp -s "$IN/small.csv" "$IN/named.pdf" && ok "that input is untouched too" ||
	not_ok "that input is untouched too"

mkdir "$T_TMP/ln"
echo old >"$T_TMP/ln/target.pdf"
ln -s target.pdf "$T_TMP/ln/link.pdf"
run render --org "$ORG" --no-ledger -o "$T_TMP/ln/link.pdf" "$IN/small.csv"
expect_status 2 "output through a symlink"
contains "$T_ERR" "symbolic link" "the refusal names the symlink"
[ "$(cat "$T_TMP/ln/target.pdf")" = old ] && ok "the link's target is untouched" ||
	not_ok "the link's target is untouched"
run render --org "$ORG" --no-ledger --allow-symlink -o "$T_TMP/ln/link.pdf" "$IN/small.csv"
expect_status 0 "--allow-symlink writes through it"
[ -L "$T_TMP/ln/link.pdf" ] && head -c 5 "$T_TMP/ln/target.pdf" | grep -q '%PDF-' &&
	ok "the link is kept and its target replaced by the PDF" ||
	not_ok "the link is kept and its target replaced by the PDF" "$(ls -l "$T_TMP/ln")"
[ "$(ls -A "$T_TMP/ln" | wc -l)" -eq 2 ] && ok "no temporary file left beside the link" ||
	not_ok "no temporary file left beside the link" "$(ls -A "$T_TMP/ln")"

# --- the ledger -------------------------------------------------------------
L="$T_TMP/ledger.sqlite"
mkdir "$T_TMP/led"
run render --org "$ORG" --ledger "$L" -o "$T_TMP/led/a.pdf" "$IN/small.csv"
expect_status 0 "first render of a batch into the ledger"
run render --org "$ORG" --ledger "$L" -o "$T_TMP/led/b.pdf" "$IN/small.csv"
expect_status 1 "the same batch again"
contains "$T_ERR" "already issued" "the refusal says already issued"
file_absent "$T_TMP/led/b.pdf" "no PDF for the second render"
run render --org "$ORG" --ledger "$L" --reissue lost -o "$T_TMP/led/c.pdf" "$IN/small.csv"
expect_status 0 "--reissue lost"
run ledger show S000044000123263000002 --ledger "$L"
expect_status 0 "ledger show of a reissued number"
prints=$(echo "$T_OUT" | grep -c 'issued')
[ "$prints" -eq 2 ] && ok "the ledger lists both prints" || not_ok "the ledger lists both prints" "$T_OUT"
contains "$T_OUT" "$T_TMP/led/a.pdf page 5" "the first print names its file and page"
contains "$T_OUT" "reason: lost" "the reissue carries its reason"
[ "$(ls -A "$T_TMP/led")" = "$(printf 'a.pdf\nc.pdf')" ] && ok "no file for the refused render" ||
	not_ok "no file for the refused render" "$(ls -A "$T_TMP/led")"
run render --org "$ORG" --ledger "$L" --row 2 -o "$T_TMP/led/p.png" "$IN/small.csv"
expect_status 2 "a preview with --ledger is a usage error"

# --- interrupted ------------------------------------------------------------
# 300 records: the sample 15 times over, each with a fresh certificate number
# (prefix + 26 + the row's own level digit + a serial counted per level).
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next } { row[++n] = $0 }
	END { for (r = 0; r < 15; r++) for (i = 1; i <= n; i++) {
		split(row[i], f, ","); lv = substr(f[7], 16, 1)
		f[7] = substr(f[7], 1, 16) sprintf("%06d", 100000 + (++k[lv]))
		s = f[1]; for (j = 2; j <= 9; j++) s = s OFS f[j]; print s } }' \
	"$IN/batch.csv" >"$IN/big.csv"
dups=$(tail -n +2 "$IN/big.csv" | cut -d, -f7 | sort | uniq -d | head -3)
[ "$(wc -l <"$IN/big.csv")" -eq 301 ] && [ -z "$dups" ] &&
	ok "a 300-record batch with unique numbers" || not_ok "a 300-record batch" "$dups"
run check --org "$ORG" --no-layout "$IN/big.csv"
expect_status 0 "the 300-record batch is valid"

# --- several workers ----------------------------------------------------------
# The PDF is laid out and drawn by worker threads and joined: whatever the
# number of workers, the pages, their order, the refusals, the rejects file and
# the ledger's page numbers are those of one worker.
mkdir "$T_TMP/jobs"
for j in 1 3; do
	run render --org "$ORG" --jobs $j --ledger "$T_TMP/jobs/l$j.sqlite" \
		-o "$T_TMP/jobs/j$j.pdf" "$IN/big.csv"
	expect_status 0 "--jobs $j: the 300-record batch renders"
	contains "$T_ERR" "wrote 300 certificates" "--jobs $j: 300 pages reported"
done
if have pdftotext && have qpdf && have pdfinfo; then
	for j in 1 3; do
		qpdf --check "$T_TMP/jobs/j$j.pdf" >"$T_TMP/jobs/qpdf$j" 2>&1 &&
			! grep -q WARNING "$T_TMP/jobs/qpdf$j" && ok "--jobs $j: qpdf --check is clean" ||
			not_ok "--jobs $j: qpdf --check is clean" "$(tail -3 "$T_TMP/jobs/qpdf$j")"
		pdftotext "$T_TMP/jobs/j$j.pdf" "$T_TMP/jobs/j$j.txt"
	done
	cmp -s "$T_TMP/jobs/j1.txt" "$T_TMP/jobs/j3.txt" &&
		ok "--jobs 3 and --jobs 1: the same text on the same pages" ||
		not_ok "--jobs 3 and --jobs 1: the same text on the same pages" \
			"$(diff "$T_TMP/jobs/j1.txt" "$T_TMP/jobs/j3.txt" | head -5)"
	# Page 150 is the 150th record: its number is on it, and only there.
	want=$(sed -n 151p "$IN/big.csv" | cut -d, -f7)
	pdftotext -f 150 -l 150 "$T_TMP/jobs/j3.pdf" - | grep -qF "$want" &&
		ok "--jobs 3: page 150 is row 151's certificate" ||
		not_ok "--jobs 3: page 150 is row 151's certificate ($want)"
	pages=$(pdfinfo "$T_TMP/jobs/j3.pdf" | sed -n 's/^Pages: *//p')
	[ "$pages" = 300 ] && ok "--jobs 3: 300 pages" || not_ok "--jobs 3: 300 pages, got '$pages'"
else
	skip "poppler-utils or qpdf not installed"
	skip "poppler-utils or qpdf not installed"
	skip "poppler-utils or qpdf not installed"
	skip "poppler-utils or qpdf not installed"
	skip "poppler-utils or qpdf not installed"
	skip "poppler-utils or qpdf not installed"
fi
# The ledger: the same numbers on the same pages with the same page digests
# (cert_no, page and sha256 of every print; times, files and batches aside).
for j in 1 3; do
	"$CERTPRESS" ledger export --csv --ledger "$T_TMP/jobs/l$j.sqlite" |
		awk -F, 'NR > 1 { print $3 "," $12 "," $13 }' | sort >"$T_TMP/jobs/l$j.csv"
done
[ "$(wc -l <"$T_TMP/jobs/l3.csv")" -eq 300 ] && ok "--jobs 3: 300 prints in the ledger" ||
	not_ok "--jobs 3: 300 prints in the ledger" "$(wc -l <"$T_TMP/jobs/l3.csv")"
cmp -s "$T_TMP/jobs/l1.csv" "$T_TMP/jobs/l3.csv" &&
	ok "--jobs 3 and --jobs 1: the ledger has each number on the same page, same digest" ||
	not_ok "--jobs 3 and --jobs 1: the same ledger entries" \
		"$(diff "$T_TMP/jobs/l1.csv" "$T_TMP/jobs/l3.csv" | head -4)"
# Rows 100 and 200 refused (no photo) with --skip-invalid: 298 pages, the two
# rows in the rejects file in order, and every page still in row order.
awk -F, 'BEGIN { OFS = "," } NR == 101 || NR == 201 { $9 = "photos/missing.jpg" } { print }' \
	"$IN/big.csv" >"$IN/holes.csv"
run render --org "$ORG" --jobs 2 --no-ledger --skip-invalid -o "$T_TMP/jobs/holes.pdf" \
	"$IN/holes.csv"
expect_status 1 "--jobs 2 --skip-invalid: exit 1 with refused rows"
contains "$T_ERR" "wrote 298 certificates" "--jobs 2 --skip-invalid: 298 pages"
rej="$T_TMP/jobs/holes.pdf.rejects.csv"
[ "$(tail -n +2 "$rej" | cut -d, -f7 | tr '\n' ' ')" = \
	"$(sed -n '101p;201p' "$IN/big.csv" | cut -d, -f7 | tr '\n' ' ')" ] &&
	ok "--jobs 2: the rejects file holds rows 101 and 201, in order" ||
	not_ok "--jobs 2: the rejects file holds rows 101 and 201, in order" "$(cat "$rej")"
if have pdftotext; then
	want=$(sed -n 202p "$IN/big.csv" | cut -d, -f7)
	pdftotext -f 199 -l 199 "$T_TMP/jobs/holes.pdf" - | grep -qF "$want" &&
		ok "--jobs 2: after two refusals, page 199 is row 202's certificate" ||
		not_ok "--jobs 2: after two refusals, page 199 is row 202's certificate ($want)"
else
	skip "pdftotext not installed"
fi
# A write that fails half-way (a full disk; here a file-size limit, so that
# write() fails with EFBIG instead of the process being killed): a clear
# error, exit 2, and neither the output nor a part file left behind.
mkdir "$T_TMP/full"
(
	trap '' XFSZ
	ulimit -f 200 # blocks of 512 bytes: far less than 300 pages
	exec "$CERTPRESS" render --org "$ORG" --jobs 2 --no-ledger -o "$T_TMP/full/big.pdf" \
		"$IN/big.csv"
) >"$T_TMP/full.out" 2>"$T_TMP/full.err"
st=$?
[ "$st" -eq 2 ] && ok "a failing write: exit 2" || not_ok "a failing write: exit 2, got $st" \
	"$(cat "$T_TMP/full.err")"
contains "$(cat "$T_TMP/full.err")" "cannot write" "a failing write: says it cannot write"
empty_dir "$T_TMP/full" "a failing write: no output and no part file left"
run render --org "$ORG" --jobs 0 --no-ledger -o "$T_TMP/jobs/x.pdf" "$IN/small.csv"
expect_status 2 "--jobs 0 is a usage error"
contains "$T_ERR" "--jobs" "--jobs 0: the message names the option"

mkdir "$T_TMP/int"
"$CERTPRESS" render --org "$ORG" --ledger "$T_TMP/int.sqlite" -o "$T_TMP/int/big.pdf" \
	"$IN/big.csv" >"$T_TMP/int.out" 2>"$T_TMP/int.err" &
pid=$!
# Interrupt once the output's temporary file exists: the render is then past
# its set-up (handlers installed) and writing pages.
i=0
while [ $i -lt 200 ] && [ -z "$(ls -A "$T_TMP/int")" ] && kill -0 $pid 2>/dev/null; do
	sleep 0.05
	i=$((i + 1))
done
seen=$(ls -A "$T_TMP/int")
sleep 0.3
kill -INT $pid 2>/dev/null
wait $pid
st=$?
if [ -n "$seen" ]; then
	ok "the render was writing when interrupted ($seen)"
else
	not_ok "the render was writing when interrupted: no temporary file seen (exit $st)"
fi
[ "$st" -eq 130 ] && ok "SIGINT: exit 130" || not_ok "SIGINT: exit 130, got $st" "$(cat "$T_TMP/int.err")"
contains "$(cat "$T_TMP/int.err")" "interrupted" "SIGINT: says interrupted"
empty_dir "$T_TMP/int" "SIGINT: no PDF and no temporary file left"
run ledger show S000044000123263100001 --ledger "$T_TMP/int.sqlite"
expect_status 1 "SIGINT: nothing recorded in the ledger"

done_testing
