#!/bin/sh
# SPDX-License-Identifier: MIT
# End-to-end tests of `certpress render` (TAP): the sample batch as a print
# PDF (page count and size, embedded fonts, text, no print scaling); all or
# nothing on a refused row, and --skip-invalid; fill mode with an offset that
# moves the text by exactly that much, electronic mode with the seal; a PNG
# folder with pHYs; single previews and their QR code; outputs that would
# overwrite an input or write through a symlink; the ledger refusing a second
# issue and recording a reissue; SIGINT and SIGKILL in the middle of a batch
# (read from a FIFO) leaving nothing behind; PNG folders created.
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
# same_as_alone DIR N DESC CSV OPTION...: DIR holds N PNGs, each with the
# pixels of the preview of its certificate number from CSV with OPTIONs.
same_as_alone() {
	_d=$1 _n=$2 _desc=$3 _csv=$4
	shift 4
	_bad=
	for _f in "$_d"/*.png; do
		_no=$(basename "$_f" .png)
		"$CERTPRESS" render --org "$ORG" "$@" --cert-no "$_no" -o "$T_TMP/alone.png" "$_csv" \
			2>/dev/null || { _bad="$_bad $_no(preview failed)"; continue; }
		_diff=$(python3 "$T_TOP/tests/pngpixels.py" "$_f" "$T_TMP/alone.png") ||
			_bad="$_bad $_no($_diff)"
		rm -f "$T_TMP/alone.png"
	done
	_got=$(ls "$_d" | wc -l)
	[ "$_got" -eq "$_n" ] && [ -z "$_bad" ] && ok "$_desc" || not_ok "$_desc" "$_got files;$_bad"
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
# A folder of PNGs named with a trailing slash, not made yet: the rejects
# file goes beside it (pngs.rejects.csv), not hidden inside it.
run render --org "$ORG" --no-ledger --skip-invalid --dpi 60 -o "$T_TMP/bad/pngs/" "$IN/onebad.csv"
expect_status 1 "--skip-invalid into a new folder of PNGs"
[ "$(ls "$T_TMP/bad/pngs" 2>/dev/null | wc -l)" -eq 5 ] && ok "the folder holds the 5 valid pages" ||
	not_ok "the folder holds the 5 valid pages" "$(ls -A "$T_TMP/bad/pngs" 2>&1)"
file_present "$T_TMP/bad/pngs.rejects.csv" "the rejects file lies next to the folder"
file_absent "$T_TMP/bad/pngs/.rejects.csv" "and not inside it"

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
# --- a folder's pages are the pages drawn alone -------------------------------
# A folder of PNGs draws page after page on one raster per worker and draws
# again only what changes from holder to holder (cp_engine_redraw); a preview
# draws its page on a fresh raster (cp_engine_draw). With --jobs 1 one raster
# carries all 20 holders (long names, rare characters in another face,
# optional fields left out), in full mode and in fill mode with a
# calibration offset and scale, and in full mode with a template whose
# static art is drawn again on every page (a rule after its field, a frame
# after the field it frames, a word over the photo): every page must have
# the preview's pixels.
if have python3; then
	python3 - "$T_TOP/templates/certificate.conf" "$T_TMP/overlap.conf" <<'PY'
import sys
t = open(sys.argv[1], encoding="utf-8").read()
rule = "[line rule name]\nfrom = 70 77.3\nto = 144 77.3\nwidth = 0.2\ncolor = #9c9c9c\n\n"
assert rule in t
t = t.replace(rule, "").replace("[text label id_type]", rule +
    "[rect around id]\nbox = 68 92 80 12\nwidth = 0.5\ncolor = #cc0000\n\n"
    "[text over photo]\ntext = 样张\nbox = 150 70 30 12\nsize = 20\ncolor = #ff0000\n\n"
    "[text label id_type]", 1)
open(sys.argv[2], "w", encoding="utf-8").write(t)
PY
	n_how=0
	for how in "full" "fill --offset 1.3,-2.7 --scale 1.004,0.997" "full -t $T_TMP/overlap.conf"; do
		n_how=$((n_how + 1))
		d="$T_TMP/redraw-$n_how"
		# shellcheck disable=SC2086
		run render --org "$ORG" --no-ledger --jobs 1 --mode $how -o "$d/" "$IN/batch.csv"
		expect_status 0 "a folder of 20 PNGs, $how, one worker"
		# shellcheck disable=SC2086
		same_as_alone "$d" 20 "$how: each of the 20 pages has the pixels of its page drawn alone" \
			"$IN/batch.csv" --mode $how
	done
else
	skip "python3 missing (scripts/deps.sh installs it)"
fi

# --- the static layer, drawn once under every page ---------------------------
# A batch PDF's static art is drawn once, on a page of its own, and the
# joiner puts it under every page (cp_pdf_parts_layer, cp_pdf_join_under); a
# preview PDF draws its one page as a whole. Both workers' pages, in full
# mode, with a calibration offset and scale, in electronic mode (the seal
# stays on the page) and on the overlap template: rasterised by poppler, each
# page has the preview's pixels, and the art is stored once.
if have pdftoppm && have python3 && have qpdf; then
	n_how=0
	for how in "full" "full --offset 1.3,-2.7 --scale 1.004,0.997" "electronic" "full -t $T_TMP/overlap.conf"; do
		n_how=$((n_how + 1))
		d="$T_TMP/layer-$n_how"
		mkdir -p "$d"
		# shellcheck disable=SC2086
		run render --org "$ORG" --no-ledger --jobs 2 --mode $how -o "$d/batch.pdf" "$IN/small.csv"
		expect_status 0 "a batch PDF with the layer apart, $how"
		pdftoppm -r 60 "$d/batch.pdf" "$d/b"
		bad=
		for r in 2 3 4 5 6; do
			# shellcheck disable=SC2086
			"$CERTPRESS" render --org "$ORG" --no-ledger --mode $how --row "$r" -o "$d/p$r.pdf" "$IN/small.csv" \
				2>/dev/null || { bad="$bad row $r (preview failed)"; continue; }
			pdftoppm -r 60 "$d/p$r.pdf" "$d/p$r"
			cmp -s "$d/b-$((r - 1)).ppm" "$d/p$r-1.ppm" || bad="$bad row $r"
		done
		[ -z "$bad" ] && ok "$how: each of 5 pages has the pixels of its preview" ||
			not_ok "$how: each of 5 pages has the pixels of its preview" "differ:$bad"
		qpdf --check "$d/batch.pdf" >"$d/qpdf.out" 2>&1 && ok "$how: qpdf --check finds no error" ||
			not_ok "$how: qpdf --check finds no error" "$(tail -5 "$d/qpdf.out")"
		calls=$(qpdf --qdf --object-streams=disable "$d/batch.pdf" - | grep -c '^q /CertpressLayer Do Q$')
		[ "$calls" = 1 ] && ok "$how: the layer is painted by one shared stream" ||
			not_ok "$how: the layer is painted by one shared stream" "$calls"
	done
	# Fill mode prints no static art; its layer holds the fields the
	# profile fills (the organization's name, the provincial URL).
	d="$T_TMP/layer-fill"
	mkdir -p "$d"
	run render --org "$ORG" --no-ledger --jobs 2 --mode fill --offset 1.3,-2.7 -o "$d/batch.pdf" \
		"$IN/small.csv"
	expect_status 0 "a fill-mode batch PDF with an offset"
	calls=$(qpdf --qdf --object-streams=disable "$d/batch.pdf" - | grep -c '^q /CertpressLayer Do Q$')
	[ "$calls" = 1 ] && ok "fill mode: a layer of the profile's fields" ||
		not_ok "fill mode: a layer of the profile's fields" "$calls"
	pdftoppm -r 60 "$d/batch.pdf" "$d/b"
	bad=
	for r in 2 3 4 5 6; do
		"$CERTPRESS" render --org "$ORG" --no-ledger --mode fill --offset 1.3,-2.7 --row "$r" \
			-o "$d/p$r.pdf" "$IN/small.csv" 2>/dev/null || { bad="$bad row $r (preview failed)"; continue; }
		pdftoppm -r 60 "$d/p$r.pdf" "$d/p$r"
		cmp -s "$d/b-$((r - 1)).ppm" "$d/p$r-1.ppm" || bad="$bad row $r"
	done
	[ -z "$bad" ] && ok "fill mode: each of 5 pages has the pixels of its preview" ||
		not_ok "fill mode: each of 5 pages has the pixels of its preview" "differ:$bad"
	pdftotext "$d/batch.pdf" "$d/batch.txt"
	lacks "$(cat "$d/batch.txt")" "Vocational Skill Level Certificate" "fill mode: no static art in the layer"
	contains "$(cat "$d/batch.txt")" "广东省示例职业技能评价中心" "fill mode: the organization's name is printed"
else
	skip "poppler-utils, python3 or qpdf not installed"
fi

# --- ink past a field's box -------------------------------------------------
# A text's ink may reach at most 0.5 mm past its box (layout.c, INK_MARGIN_MM):
# a serif A, Y or J starts a little left of its origin and is printed; a
# stack of accents that rises further is set smaller, and refused when even
# the smallest size rises too far. The folder's redraw and the PDF's shared
# layer rely on that bound: every page of a one-worker folder still has its
# preview's pixels. The organization's fonts (--font-dir) are scanned
# without fontconfig's "No writable cache directories" on stderr.
SERIF=/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf
if [ -f "$SERIF" ] && have python3; then
	mkdir -p "$T_TMP/serif"
	cp "$SERIF" "$T_TMP/serif/"
	python3 - "$T_TOP/templates/certificate.conf" "$T_TMP/tight.conf" "$IN/batch.csv" \
		"$IN/ink.csv" <<'PY'
import sys
t = open(sys.argv[1], encoding="utf-8").read()
box = "[field name]\nbind = name\nbox = 70 66 74 11\n"
assert box in t
t = t.replace(box, "[field name]\nbind = name\nfont = DejaVu Serif\nbox = 70 70 74 5.4\n", 1)
open(sys.argv[2], "w", encoding="utf-8").write(t)
rows = open(sys.argv[3], encoding="utf-8-sig").read().splitlines()
out = [rows[0]]
names = ["Ana Bo", "Yves Li", "Jan Li"] + ["Bne" + "\u0302" * k + " Bo" for k in (1, 3, 4, 6, 12)]
for i, n in enumerate(names):
    f = rows[1].split(",")
    f[0], f[1], f[2], f[6] = n, "护照", "E1234567%d" % i, f[6][:-1] + str(i + 1)
    out.append(",".join(f))
open(sys.argv[4], "w", encoding="utf-8-sig").write("\n".join(out) + "\n")
PY
	# The shipped fonts: FandolFang lacks these letters, HanaMinA sets them,
	# and its serifs start left of the box (refused before, "does not fit").
	awk -F, 'BEGIN { OFS = "," } NR == 2 { $1 = "ŸŶ Ỹ" } NR == 3 { $1 = "ǺǺǺ Bo" } NR <= 3' \
		"$IN/batch.csv" >"$IN/serif-fallback.csv"
	run check --org "$ORG" "$IN/serif-fallback.csv"
	expect_status 0 "Latin names set in the fallback face, starting with a serif Y and A, are printed"
	run check --org "$ORG" --font-dir "$T_TMP/serif" -t "$T_TMP/tight.conf" "$IN/ink.csv"
	expect_status 1 "accents stacked too high are refused"
	lacks "$T_ERR" "Fontconfig error" "no fontconfig noise about its cache with --font-dir"
	for r in 2 3 4 5 6 7; do lacks "$T_ERR" "row $r," "row $r lays out"; done
	for r in 8 9; do
		contains "$T_ERR" "row $r, column 姓名 (name): [layout.print 第十五条] the ink of name (姓名) (its accents or strokes) reaches more than 0.5 mm past its box (74 × 5.4 mm) even at 9 pt" \
			"row $r: the ink's reason is given"
	done
	# The same rule for the template's own words, found once, as a template error.
	python3 - "$T_TMP/tight.conf" "$T_TMP/tight-words.conf" <<'PY'
import sys
t = open(sys.argv[1], encoding="utf-8").read()
words = "text = Vocational Skill Level Certificate\nfont = FandolSong\n"
assert words in t
t = t.replace(words, "text = Vocational Bne" + "\u0302" * 8 + "\nfont = DejaVu Serif\n", 1)
open(sys.argv[2], "w", encoding="utf-8").write(t)
PY
	run check --org "$ORG" --font-dir "$T_TMP/serif" -t "$T_TMP/tight-words.conf" "$IN/ink.csv"
	expect_status 2 "a template's words with accents stacked too high: a template error"
	contains "$T_ERR" "tight-words.conf:" "the template file is named"
	contains "$T_ERR" "the text's ink (its accents or strokes) reaches more than 0.5 mm past its box (170 × 7 mm)" \
		"the ink's reason is given for the template's words"
	d="$T_TMP/ink"
	run render --org "$ORG" --font-dir "$T_TMP/serif" -t "$T_TMP/tight.conf" --skip-invalid \
		--no-ledger --jobs 1 -o "$d/" "$IN/ink.csv"
	expect_status 1 "the six that lay out are printed, the two refused listed (exit 1)"
	contains "$T_ERR" "wrote 6 certificates" "six certificates written"
	same_as_alone "$d" 6 "each of the 6 pages has the pixels of its page drawn alone" \
		"$IN/ink.csv" --font-dir "$T_TMP/serif" -t "$T_TMP/tight.conf"
else
	skip "DejaVu Serif ($SERIF) or python3 missing (scripts/deps.sh installs them)"
fi

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

# --- rows and ranges; a repeated option ---------------------------------------
mkdir "$T_TMP/rows"
run render --org "$ORG" --no-ledger --rows "7,3-5, 9" -o "$T_TMP/rows/r.pdf" "$IN/batch.csv"
expect_status 0 "--rows 7,3-5, 9"
want=$(awk -F, 'NR==3||NR==4||NR==5||NR==7||NR==9 {print $7}' "$IN/batch.csv" | tr '\n' ' ')
got=$(pdftotext "$T_TMP/rows/r.pdf" - 2>/dev/null | grep -o 'S0000440001232[0-9]*' | uniq | tr '\n' ' ')
[ "$got" = "$want" ] && ok "--rows prints exactly those rows, in file order" ||
	not_ok "--rows prints exactly those rows, in file order" "want: $want" "got: $got"
run render --org "$ORG" --no-ledger --rows 19-30 -o "$T_TMP/rows/none.pdf" "$IN/batch.csv"
expect_status 2 "--rows past the last record"
contains "$T_ERR" "no record on rows 22-30" "the rows without a record are named"
file_absent "$T_TMP/rows/none.pdf" "nothing written for them"
run render --org "$ORG" --no-ledger --row 5 --row 6 -o "$T_TMP/rows/x.pdf" "$IN/batch.csv"
expect_status 2 "--row 5 --row 6 is an error, not row 6 alone"
contains "$T_ERR" "--row is given twice" "the repeated option is named"
run render --org "$ORG" --no-ledger --row 5 --rows 6-7 -o "$T_TMP/rows/x.pdf" "$IN/batch.csv"
expect_status 2 "--row with --rows is an error"
for bad in 6-5 1,5 5-x "" , 5,,6 -5 5- 3-100000001; do
	run render --org "$ORG" --no-ledger --rows "$bad" -o "$T_TMP/rows/x.pdf" "$IN/batch.csv"
	expect_status 2 "--rows '$bad' is refused"
done
run render --org "$ORG" --no-ledger -o "$T_TMP/rows/a.pdf" -o "$T_TMP/rows/b.pdf" "$IN/batch.csv"
expect_status 2 "a repeated -o is an error"
contains "$T_ERR" "--output is given twice" "the repeated -o is named by its long name"
run render --org "$ORG" --rows 5-6 -o "$T_TMP/rows/p.png" "$IN/batch.csv"
expect_status 2 "a preview of two rows is refused"
run render --org "$ORG" --rows 6 -o "$T_TMP/rows/p.png" "$IN/batch.csv"
expect_status 0 "a preview with --rows of one row"
[ "$(ls -A "$T_TMP/rows" | tr '\n' ' ')" = "p.png r.pdf " ] && ok "refused runs leave nothing" ||
	not_ok "refused runs leave nothing" "$(ls -A "$T_TMP/rows")"

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

# --- interrupted and killed renders -------------------------------------------
# A render that is provably in the middle of its batch, on any machine, fast
# or slow: the CSV comes through a FIFO that the test holds open, and nothing
# waits on a clock. Each record carries an extra 10,000-byte column, so the
# 200 records are 2 MB. A write into a pipe returns only once the reader has
# made room: when the test's write of all 200 has returned, at most 64 KiB
# (the pipe) + 64 KiB (the reader's buffer), 13 records, are still unread;
# with --jobs 1 the reader keeps at most 3 chunks of 32 records in flight and
# 31 in the chunk it fills, so at least 200 - 13 - 127 = 60 pages have been
# drawn. The render then waits for the rest of the file, which comes only
# when the test closes the FIFO: whatever the test does next happens in the
# middle of the batch.
pad=$(head -c 10000 /dev/zero | tr '\0' x)
tr -d '\r' <"$IN/batch.csv" | awk -F, -v pad="$pad" 'BEGIN { OFS = "," }
	NR == 1 { print $0 ",备注"; next } { row[++n] = $0 }
	END { for (i = 0; i < 200; i++) { split(row[i % n + 1], f, ","); lv = substr(f[7], 16, 1)
		f[7] = substr(f[7], 1, 16) sprintf("%06d", 200000 + (++k[lv]))
		s = f[1]; for (j = 2; j <= 9; j++) s = s OFS f[j]; print s OFS pad } }' >"$T_TMP/pad.csv"
unset pad
cp "$T_TMP/pad.csv" "$IN/pad.csv" # beside the photos
[ "$(wc -c <"$T_TMP/pad.csv")" -gt 2000000 ] && ok "the padded batch is over 2 MB" ||
	not_ok "the padded batch is over 2 MB"
run check --org "$ORG" --no-layout "$IN/pad.csv"
expect_status 0 "the padded 200-record batch is valid"
# fifo_start ARGS...: starts `certpress render --jobs 1 ARGS... FIFO` (the
# FIFO beside the photos) and returns once the render has taken in all 200
# records. Sets fpid (certpress) and rpid (its wrapper). A render that dies
# early cannot hang the test: its wrapper stops the writer.
fifo_start() {
	rm -f "$IN/fifo.csv" "$T_TMP/fifo.pid" "$T_TMP/fifo.st"
	mkfifo "$IN/fifo.csv"
	exec 3<>"$IN/fifo.csv" # read-write: opening does not wait for a reader
	cat "$T_TMP/pad.csv" >&3 &
	wpid=$!
	(
		exec 3>&-
		sh -c 'echo $$ >"$0"; exec "$@"' "$T_TMP/fifo.pid" \
			"$CERTPRESS" render --org "$ORG" --jobs 1 "$@" "$IN/fifo.csv" \
			>"$T_TMP/fifo.out" 2>"$T_TMP/fifo.err"
		echo $? >"$T_TMP/fifo.st"
		kill $wpid 2>/dev/null
	) &
	rpid=$!
	wait $wpid
	wst=$?
	fpid=$(cat "$T_TMP/fifo.pid")
	if [ "$wst" -eq 0 ] && [ ! -e "$T_TMP/fifo.st" ]; then fifo_mid=yes; else fifo_mid=no; fi
}
# fifo_stop SIGNAL: sends SIGNAL to the render, then closes the FIFO (a
# render that ignored the signal would now finish and say so), and waits.
# Sets st to its exit status (128+N when killed by signal N).
fifo_stop() {
	kill -"$1" "$fpid"
	exec 3>&-
	wait $rpid
	st=$(cat "$T_TMP/fifo.st")
	rm -f "$IN/fifo.csv"
}
# snap DIR: ls -la of DIR and everything under it, hidden files included,
# times to the nanosecond.
snap() { ls -laR --time-style=full-iso "$1" 2>&1; }

mkdir "$T_TMP/int"
fifo_start --ledger "$T_TMP/int.sqlite" -o "$T_TMP/int/big.pdf"
[ "$fifo_mid" = yes ] && ok "SIGINT: the render took in 200 records and waits for more" ||
	not_ok "SIGINT: the render was not mid-batch (writer $wst)" "$(cat "$T_TMP/fifo.err")"
fifo_stop INT
[ "$st" -eq 130 ] && ok "SIGINT: exit 130" || not_ok "SIGINT: exit 130, got $st" "$(cat "$T_TMP/fifo.err")"
contains "$(cat "$T_TMP/fifo.err")" "interrupted" "SIGINT: says interrupted"
empty_dir "$T_TMP/int" "SIGINT: no PDF and no temporary file left"
run ledger show S000044000123263200001 --ledger "$T_TMP/int.sqlite"
expect_status 1 "SIGINT: nothing recorded in the ledger"

# SIGKILL cannot be caught: the outputs live in unlinked files until the
# commit, so the folder is byte for byte as it was, hidden files included;
# the ledger's open batch is rolled back by SQLite; a re-run completes.
# For a PDF, a PNG preview (written at the end of its run) and a folder of
# PNG pages (at 50 dpi: 300 would take much longer), each into an
# empty folder and over a previous output.
K="$T_TMP/kill"
KL="$T_TMP/kill-ledgers" # apart: nothing else changes beside the outputs
mkdir "$K" "$KL"
n=0
for out in k.pdf k.png pages/; do
	for prev in none previous; do
		n=$((n + 1))
		d="$K/$n"
		mkdir "$d"
		case $out in
		k.png) extra="--row 150 --dpi 50" prevextra="--row 3 --dpi 50" ;;
		pages/) extra="--ledger $KL/l$n.sqlite --dpi 50" prevextra=$extra ;;
		*) extra="--ledger $KL/l$n.sqlite" prevextra=$extra ;;
		esac
		if [ $prev = previous ]; then
			# shellcheck disable=SC2086
			run render --org "$ORG" --jobs 1 $prevextra -o "$d/$out" "$IN/small.csv"
			[ "$T_STATUS" -eq 0 ] || not_ok "SIGKILL $out: the previous output" "$T_ERR"
			rm -f "$KL/l$n.sqlite"*
		fi
		before=$(snap "$d")
		# shellcheck disable=SC2086
		fifo_start $extra -o "$d/$out"
		during=$(snap "$d")
		fifo_stop KILL
		after=$(snap "$d")
		[ "$fifo_mid" = yes ] && [ "$st" -eq 137 ] &&
			ok "SIGKILL $out ($prev): killed in the middle of the batch" ||
			not_ok "SIGKILL $out ($prev): killed mid-batch (writer $wst, exit $st)" \
				"$(cat "$T_TMP/fifo.err")"
		[ "$during" = "$before" ] && [ "$after" = "$before" ] &&
			ok "SIGKILL $out ($prev): the folder is exactly as it was" ||
			not_ok "SIGKILL $out ($prev): the folder is exactly as it was" \
				"before: $before" "after: $after"
		# shellcheck disable=SC2086
		run render --org "$ORG" $extra -o "$d/$out" "$IN/pad.csv"
		expect_status 0 "SIGKILL $out ($prev): a re-run completes"
		lacks "$T_ERR" "note:" "SIGKILL $out ($prev): the re-run found nothing left over"
	done
done
# The folder of a previous PNG run keeps its other files: 5 from small.csv
# and 200 from the re-run, none in common.
[ "$(ls "$K/5/pages" | wc -l)" -eq 200 ] && [ "$(ls "$K/6/pages" | wc -l)" -eq 205 ] &&
	ok "the re-run PNG folders hold 200 pages (and the 5 earlier ones)" ||
	not_ok "the re-run PNG folders hold 200 pages" "$(ls "$K/5/pages" | wc -l) $(ls "$K/6/pages" | wc -l)"
[ "$(ls -A "$K/6" | wc -l)" -eq 1 ] && ok "PNG folder: nothing hidden beside it" ||
	not_ok "PNG folder: nothing hidden beside it" "$(ls -A "$K/6")"
run ledger show S000044000123263200001 --ledger "$KL/l1.sqlite"
expect_status 0 "SIGKILL: the re-run recorded its pages in the ledger"
# A temporary left by an older certpress (.NAME.XXXXXX) is reported, not
# removed: nothing proves its writer gone.
: >"$K/1/.k.pdf.Ab12Cd"
run render --org "$ORG" --no-ledger -o "$K/1/k.pdf" "$IN/small.csv"
expect_status 0 "an older temporary beside the output: the render still runs"
contains "$T_ERR" ".k.pdf.Ab12Cd looks like the temporary file of an interrupted run" \
	"an older temporary beside the output is reported"
[ -e "$K/1/.k.pdf.Ab12Cd" ] && ok "...and left alone" || not_ok "...and left alone"

# A PNG folder that does not exist is created; its parent must exist.
run render --org "$ORG" --no-ledger -o "$T_TMP/newpages/" "$IN/small.csv"
expect_status 0 "a PNG folder that does not exist yet"
[ "$(ls "$T_TMP/newpages" | wc -l)" -eq 5 ] && ok "...is created with the 5 pages" ||
	not_ok "...is created with the 5 pages" "$(ls -A "$T_TMP/newpages")"
run render --org "$ORG" --no-ledger -o "$T_TMP/no/such/pages/" "$IN/small.csv"
expect_status 2 "a PNG folder whose parent is missing"
contains "$T_ERR" "the output folder $T_TMP/no/such does not exist" "...says which folder is missing"

done_testing
