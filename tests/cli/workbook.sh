#!/bin/sh
# SPDX-License-Identifier: MIT
# End-to-end tests of workbooks (TAP): the batch of tests/data/cli/broken.csv
# and the sample batch as .xlsx (written by openpyxl) and .xls (written by
# xlwt), each with a title row above the header (tests/data/workbook/gen.py),
# checked and rendered exactly like their CSV twins with the same title row;
# photos pasted into the cells, anchored or placed in the cell (WPS, Excel
# 365), printed as the files they were; a 1,000-row workbook with a title
# row and its photos inside giving the CSV twin's report and PDF bytes;
# --sheet; an ID number stored as a number is refused naming its row,
# column and rule.
. "$(dirname "$0")/lib.sh"

ORG="$T_TOP/templates/org.conf"
WB="$T_TOP/tests/data/workbook"
cp -r "$T_TOP/templates/sample/photos" "$T_TMP/photos"
cp "$WB"/*.xlsx "$WB"/*.xls "$T_TMP/"
title='2026年第3批鉴定合格人员名单,,,,,,,,'
# The CSV twins: the title row, then the CSV as the generator read it (the
# broken batch keeps its @BEL@ marker: a workbook cannot hold U+0007).
{ echo "$title"; cat "$T_TOP/tests/data/cli/broken.csv"; } >"$T_TMP/broken.csv"
{ echo "$title"; sed 's/^\xEF\xBB\xBF//' "$T_TOP/templates/sample/batch.csv"; } >"$T_TMP/sample.csv"

# The report without the file's own name and the description of its source.
report() { sed -e "s|^$T_TMP/[a-z]*\.[a-z]*||" -e 's/; encoding .*; header on row/; header on row/' "$1"; }

run check --org "$ORG" "$T_TMP/broken.csv"
expect_status 1 "the CSV twin of the broken batch is refused"
report "$T_TMP/stderr" >"$T_TMP/broken.csv.txt"
lines=$(grep -c ': row [0-9]*, column ' "$T_TMP/broken.csv.txt")
[ "$lines" -eq 13 ] && ok "the CSV twin: 13 problems" || not_ok "the CSV twin: 13 problems, got $lines"
for ext in xlsx xls; do
	run check --org "$ORG" "$T_TMP/broken.$ext"
	expect_status 1 "broken.$ext is refused as its CSV twin"
	report "$T_TMP/stderr" >"$T_TMP/broken.$ext.txt"
	if cmp -s "$T_TMP/broken.csv.txt" "$T_TMP/broken.$ext.txt"; then
		ok "broken.$ext: the same report as the CSV, row for row"
	else
		not_ok "broken.$ext: the same report as the CSV, row for row" \
			"$(diff "$T_TMP/broken.csv.txt" "$T_TMP/broken.$ext.txt" | head -8)"
	fi
	contains "$T_ERR" "encoding $ext workbook, sheet 名单; header on row 2" \
		"broken.$ext: the summary names the sheet and the header row"
	run check --org "$ORG" --json "$T_TMP/broken.$ext"
	contains "$T_OUT" '"header_row":2' "broken.$ext: --json has the header row"
done

# The sample batch: checked clean, and the same certificates drawn.
for f in sample.csv sample.xlsx sample.xls; do
	run render --org "$ORG" --no-ledger -q -o "$T_TMP/$f.pdf" "$T_TMP/$f"
	expect_status 0 "$f renders"
done
if have pdftotext && have pdftoppm; then
	pdftotext "$T_TMP/sample.csv.pdf" "$T_TMP/sample.csv.txt"
	pdftoppm -r 20 -png "$T_TMP/sample.csv.pdf" "$T_TMP/csvpage"
	for ext in xlsx xls; do
		pdftotext "$T_TMP/sample.$ext.pdf" "$T_TMP/sample.$ext.txt"
		cmp -s "$T_TMP/sample.csv.txt" "$T_TMP/sample.$ext.txt" &&
			ok "sample.$ext: the same text on the same pages as the CSV" ||
			not_ok "sample.$ext: the same text on the same pages as the CSV" \
				"$(diff "$T_TMP/sample.csv.txt" "$T_TMP/sample.$ext.txt" | head -5)"
		pdftoppm -r 20 -png "$T_TMP/sample.$ext.pdf" "$T_TMP/${ext}page"
		diffs=0
		for p in "$T_TMP"/csvpage-*.png; do
			q=$(echo "$p" | sed "s|csvpage|${ext}page|")
			cmp -s "$p" "$q" || diffs=$((diffs + 1))
		done
		n=$(ls "$T_TMP"/csvpage-*.png | wc -l)
		[ "$n" -eq 20 ] && [ "$diffs" -eq 0 ] &&
			ok "sample.$ext: the 20 pages look exactly as the CSV's" ||
			not_ok "sample.$ext: the 20 pages look exactly as the CSV's ($n pages, $diffs differ)"
	done
else
	skip "poppler-utils missing: the rendered twins are not compared"
fi

# --sheet: the list is found by name; a name that is not there lists them.
run check --org "$ORG" --sheet 名单 "$T_TMP/sample.xlsx"
expect_status 0 "--sheet 名单 reads the list"
run check --org "$ORG" --sheet 第二批 "$T_TMP/sample.xlsx"
expect_status 2 "--sheet with an unknown name"
contains "$T_ERR" "the workbook has no sheet named 第二批 (its sheets: 名单、说明)" \
	"the message lists the sheets"
run check --org "$ORG" --sheet 说明 "$T_TMP/sample.xlsx"
expect_status 2 "--sheet of a sheet without the columns"
contains "$T_ERR" "no header row found in the first 10 rows" "the header is looked for there"
run check --org "$ORG" --sheet 名单 "$T_TMP/sample.csv"
expect_status 2 "--sheet with a CSV file"

# Photos pasted into the photo cells: taken out, checked and printed as the
# files they were; the private folder they were put in is gone afterwards.
mkdir "$T_TMP/tmp"
TMPDIR="$T_TMP/tmp" run render --org "$ORG" --no-ledger -q -o "$T_TMP/pictures.pdf" "$T_TMP/pictures.xlsx"
expect_status 0 "pictures.xlsx renders"
[ -z "$(ls -A "$T_TMP/tmp")" ] && ok "no picture left in the temporary folder" ||
	not_ok "no picture left in the temporary folder" "$(ls -A "$T_TMP/tmp")"
if have pdftotext && have pdftoppm; then
	pdftotext "$T_TMP/pictures.pdf" "$T_TMP/pictures.txt"
	cmp -s "$T_TMP/sample.csv.txt" "$T_TMP/pictures.txt" &&
		ok "pictures.xlsx: the same text as the CSV with photo files" ||
		not_ok "pictures.xlsx: the same text as the CSV with photo files"
	pdftoppm -r 20 -png "$T_TMP/pictures.pdf" "$T_TMP/picpage"
	diffs=0
	for p in "$T_TMP"/csvpage-*.png; do
		cmp -s "$p" "$(echo "$p" | sed 's|csvpage|picpage|')" || diffs=$((diffs + 1))
	done
	[ "$diffs" -eq 0 ] && ok "pictures.xlsx: the 20 pages look exactly as with photo files" ||
		not_ok "pictures.xlsx: the 20 pages look exactly as with photo files ($diffs differ)"
fi
# Pictures placed in the cells (WPS's DISPIMG, Excel 365's Place in Cell;
# tests/data/workbook/gen_incell.py): the same certificates again.
for f in incell-wps incell-excel; do
	run render --org "$ORG" --no-ledger -q -o "$T_TMP/$f.pdf" "$T_TMP/$f.xlsx"
	expect_status 0 "$f.xlsx renders"
	if have pdftotext && have pdftoppm; then
		pdftotext "$T_TMP/$f.pdf" "$T_TMP/$f.txt"
		cmp -s "$T_TMP/sample.csv.txt" "$T_TMP/$f.txt" &&
			ok "$f.xlsx: the same text as the CSV with photo files" ||
			not_ok "$f.xlsx: the same text as the CSV with photo files"
		pdftoppm -r 20 -png "$T_TMP/$f.pdf" "$T_TMP/$f-page"
		diffs=0
		for p in "$T_TMP"/csvpage-*.png; do
			cmp -s "$p" "$(echo "$p" | sed "s|csvpage|$f-page|")" || diffs=$((diffs + 1))
		done
		[ "$diffs" -eq 0 ] && ok "$f.xlsx: the 20 pages look exactly as with photo files" ||
			not_ok "$f.xlsx: the 20 pages look exactly as with photo files ($diffs differ)"
	fi
done
run check --org "$ORG" "$T_TMP/incell-bad-wps.xlsx"
expect_status 1 "a DISPIMG of a picture the workbook lacks is refused"
contains "$T_ERR" 'incell-bad-wps.xlsx:3: row 3, column 照片 (photo): [photo.picture 第十五条] the picture in cell I3 (DISPIMG "ID_00000000000000000000000000000000") is not in the workbook' \
	"the cell and the ID are named"
contains "$T_ERR" "5 records, 4 valid, 1 refused" "the other rows are valid"
run check --org "$ORG" "$T_TMP/incell-bad-excel.xlsx"
expect_status 1 "Excel pictures in cells that cannot be used are refused"
contains "$T_ERR" "row 4, column 照片 (photo): [photo.picture 第十五条] cell I4 holds a picture in the cell and another placed over it" \
	"a picture in the cell and one anchored over it"
contains "$T_ERR" 'row 5, column 照片 (photo): [photo.picture 第十五条] the picture in cell I5 (vm="10") is not in the workbook' \
	"a vm the metadata does not have"
contains "$T_ERR" "5 records, 3 valid, 2 refused" "the other rows are valid"

run check --org "$ORG" "$T_TMP/pictures-bad.xlsx"
expect_status 1 "pictures that cannot be told to one row are refused"
contains "$T_ERR" "pictures-bad.xlsx:4: row 4, column 照片 (photo): [photo.picture 第十五条] cell I4 holds 2 pictures" \
	"two pictures in one cell"
contains "$T_ERR" "row 5, column 照片 (photo): [photo.picture 第十五条] the picture in cell I5 reaches down into row 6" \
	"a picture reaching into the next row"
contains "$T_ERR" "row 7, column 照片 (photo): [photo.picture 第十五条] cell I7 holds both a file name and a picture" \
	"a file name beside a picture"
contains "$T_ERR" "5 records, 2 valid, 3 refused" "the other rows are valid"

# 1,000 rows (tests/data/workbook/twin.py): a title row, the photos in the
# workbook (anchored, WPS's DISPIMG and Excel's Place in Cell in turn) and
# in files beside its CSV twin. The same report, and the same PDF to the
# byte with one worker (with several, the parts are cut where the workers
# happen to be, so only the pages are compared). Both files are named
# "batch" in folders of their own: the PDF records the input's name.
if [ -x /usr/bin/python3 ]; then
	mkdir -p "$T_TMP/twin/c" "$T_TMP/twin/x"
	cp -r "$T_TOP/templates/sample/photos" "$T_TMP/twin/c/"
	/usr/bin/python3 "$WB/twin.py" "$T_TOP/templates/sample/batch.csv" \
		"$T_TOP/templates/sample/photos" 1000 "$T_TMP/twin/c/batch" "$T_TMP/twin/x/batch"
	for d in c x; do
		run check --org "$ORG" "$T_TMP/twin/$d/batch"
		expect_status 0 "the 1,000-row twin ($d) checks clean"
		sed -e "s|^$T_TMP/twin/$d/batch||" -e 's/; encoding .*; header on row/; header on row/' \
			"$T_TMP/stderr" >"$T_TMP/twin/$d.report"
	done
	contains "$(cat "$T_TMP/twin/c.report")" ": 1000 records, 1000 valid, 0 refused, 100 warnings; header on row 2" \
		"the CSV twin: 1,000 records under a title row"
	cmp -s "$T_TMP/twin/c.report" "$T_TMP/twin/x.report" &&
		ok "1,000 rows: the workbook's report is the CSV's, line for line" ||
		not_ok "1,000 rows: the workbook's report is the CSV's, line for line" \
			"$(diff "$T_TMP/twin/c.report" "$T_TMP/twin/x.report" | head -5)"
	for d in c x; do
		SOURCE_DATE_EPOCH=1700000000 run render --org "$ORG" --no-ledger -q --jobs 1 \
			-o "$T_TMP/twin/$d.pdf" "$T_TMP/twin/$d/batch"
		expect_status 0 "the 1,000-row twin ($d) renders"
	done
	if cmp -s "$T_TMP/twin/c.pdf" "$T_TMP/twin/x.pdf"; then
		ok "1,000 rows: the workbook's PDF is the CSV's, byte for byte"
	else
		not_ok "1,000 rows: the workbook's PDF is the CSV's, byte for byte" \
			"$(cmp "$T_TMP/twin/c.pdf" "$T_TMP/twin/x.pdf" 2>&1)"
	fi
	if have pdfinfo; then
		pages=$(pdfinfo "$T_TMP/twin/x.pdf" | sed -n 's/^Pages: *//p')
		[ "$pages" = 1000 ] && ok "1,000 pages" || not_ok "1,000 pages, got $pages"
	fi
else
	skip "/usr/bin/python3 missing: the 1,000-row twins are not made"
fi

# An ID number typed as a number: its digits are gone; the row, the column
# and the rule are named, and the number is masked.
run check --org "$ORG" "$T_TMP/numeric-id.xlsx"
expect_status 1 "a number-typed ID number is refused"
contains "$T_ERR" "numeric-id.xlsx:4: row 4, column 证件号码 (id_number): [id_number.excel 第十一条] the workbook stores the ID number as a number" \
	"named by row, column and rule"
lacks "$T_ERR" "440106199207082485" "the ID number is not shown whole"
contains "$T_ERR" "2 records, 1 valid, 1 refused" "the other row is valid"

done_testing
