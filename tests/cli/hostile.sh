#!/bin/sh
# SPDX-License-Identifier: MIT
# Hostile and broken input through the command (the promises are in
# docs/guarantees.md; library-level cases are tests/test_hostile.c): markup
# printed literally, invisible and reordering characters refused by code
# point, NUL/invalid UTF-8/huge cells/10,000 columns refused fast, lying and
# broken images, photo paths leaving the data folder, outputs that would
# overwrite an input or the ledger or go through a symlink, absurd templates
# and missing files, and no whole ID number anywhere but the certificate and
# the (0600) rejects file. Each refusal must name where (row/column/rule or
# file:line:key) and leave no output file behind.
. "$(dirname "$0")/lib.sh"

D=$T_TMP/d
mkdir -p "$D/photos"
cp "$T_TOP"/templates/sample/photos/00[1-3].jpg "$D/photos/"
cp "$T_TOP/templates/org.conf" "$T_TOP/templates/seal.png" "$D/"
HOSTILE=$T_TOP/tests/data/hostile
HDR='姓名,证件类型,证件号码,职业名称,工种/职业方向,职业技能等级,证书编号,发证日期,照片'
ID1=44010319850312149X
ID2=440106199207082485
ROW1="陈志强,居民身份证,$ID1,电工,,三级,S000044000123263000001,2026-11-27,photos/001.jpg"

# csv FILE ROW…: a batch with the header and the given rows.
csv() {
	f=$1
	shift
	printf '%s\n' "$HDR" "$@" >"$D/$f"
}
# row2 NAME JOB PHOTO: the second sample person with those cells.
row2() { echo "$1,居民身份证,$ID2,育婴员,$2,四级,S000044000123264000001,2026/11/27,$3"; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
# Every command here runs with a cap of 60 s of processor time (SIGXCPU,
# exit 152): what a hostile input must not cause is an endless or runaway
# computation, and a cap two hundred times what these take cannot turn on
# the speed or the load of the machine, as a wall-clock limit would.
printf '#!/bin/sh\nulimit -S -t 60\nexec "%s" "$@"\n' "$CERTPRESS" >"$T_TMP/capped"
chmod +x "$T_TMP/capped"
CERTPRESS="$T_TMP/capped"
# fast DESC MS: the refusal ended within the processor-time cap; MS, the
# wall-clock time, is shown, not judged.
fast() {
	if [ "$T_STATUS" -eq 152 ]; then not_ok "$1: ran into the 60 s processor-time cap"
	else ok "$1: ended within the processor-time cap (${2} ms)"; fi
}
# no_temp DIR DESC: no hidden temporary file left in DIR.
no_temp() {
	left=$(ls -A "$1" | grep '^\.' || true)
	if [ -z "$left" ]; then ok "$2"; else not_ok "$2" "left behind: $left"; fi
}
cd "$D" || exit 2

# ------------------------------------------------------------- markup
# Pango markup and HTML entities in fields the profile allows are text:
# the PDF shows them literally, nothing is interpreted.
sed -e 's/^name = .*/name = 示例\&amp;中心<b>B<\/b>/' \
    -e '/^\[scope 育婴员\]/,/^max_level/ s/^job_types = .*/job_types = <span size="1">Tiny<\/span>, A\&amp;B/' \
    org.conf >org-markup.conf
csv markup.csv "$(row2 李晓敏 '"<span size=""1"">Tiny</span>"' photos/002.jpg)"
run render --no-ledger --org org-markup.conf -o markup.pdf markup.csv
expect_status 0 "markup: a job type and an org name with markup render"
if have pdftotext; then
	txt=$(pdftotext markup.pdf - 2>/dev/null)
	contains "$txt" '<span size="1">Tiny</span>' "markup: <span size=\"1\"> is printed literally"
	contains "$txt" '示例&amp;中心<b>B</b>' "markup: &amp; and <b> are printed literally"
else
	skip "pdftotext not installed"
	skip "pdftotext not installed"
fi

# --------------------------------------------------------- characters
# U+202E RLO, U+2066 LRI, U+200B ZWSP, U+FEFF inside, U+0007 BEL, U+3164
# HANGUL FILLER (a letter that prints as nothing).
for c in '202E \342\200\256' '2066 \342\201\246' '200B \342\200\213' 'FEFF \357\273\277' \
         '0007 \007' '3164 \343\205\244'; do
	cp=${c%% *}
	bytes=$(printf "${c#* }")
	csv "char-$cp.csv" "$ROW1" "$(row2 "李${bytes}晓敏" '' photos/002.jpg)"
	run check --org org.conf "char-$cp.csv"
	expect_status 1 "U+$cp in a name: refused"
	contains "$T_ERR" "row 3, column 姓名 (name)" "U+$cp: row and column named"
	contains "$T_ERR" "U+$cp" "U+$cp: the code point named"
	lacks "$T_ERR" "$bytes" "U+$cp: not echoed raw to the terminal"
	run render --no-ledger --org org.conf -o "char-$cp.pdf" "char-$cp.csv"
	expect_status 1 "U+$cp: render refuses the batch"
	file_absent "char-$cp.pdf" "U+$cp: no PDF"
done

# ------------------------------------------------- broken CSV, quickly
# NUL byte: the file is not text.
printf '%s\n陈志\000强,%s\n' "$HDR" "${ROW1#*,}" >nul.csv
t0=$(date +%s%N)
run render --no-ledger --org org.conf -o nul.pdf nul.csv
ms=$(ms_since "$t0")
expect_status 2 "NUL byte: refused"
contains "$T_ERR" "nul.csv:2:" "NUL byte: file and line named"
contains "$T_ERR" "NUL" "NUL byte: said so"
file_absent nul.pdf "NUL byte: no PDF"
fast "NUL byte" "$ms"

# Invalid UTF-8 in a name (not GB18030 either: the rest is UTF-8).
printf '%s\n%s\n\377\376\200晓敏,%s\n' "$HDR" "$ROW1" "$(row2 x '' photos/002.jpg | cut -d, -f2-)" >badutf8.csv
run check --org org.conf badutf8.csv
expect_status 1 "invalid UTF-8: the row is refused"
contains "$T_ERR" "row 3, column 姓名 (name): [text.utf8" "invalid UTF-8: row, column and rule named"

# A 10 MB cell, a 10 MB unterminated quote, a line of 10,000 columns.
big=$(head -c 10485760 /dev/zero | tr '\0' A)
printf '%s\n陈志强,居民身份证,%s,%s,,三级,S000044000123263000001,2026-11-27,photos/001.jpg\n' \
	"$HDR" "$ID1" "$big" >bigcell.csv
printf '%s\n"%s\n' "$HDR" "$big" >bigquote.csv
unset big
{ echo "$HDR"; printf '%s' "$ROW1"; head -c 10000 /dev/zero | tr '\0' ','; echo; } >wide.csv
for f in bigcell:"row 2, column 职业名称: the cell in column 4 is longer than the limit of 65536 bytes" \
         bigquote:"row 2, column 姓名" wide:"row 2: the row has more than the limit of 1000 cells"; do
	name=${f%%:*}
	t0=$(date +%s%N)
	run render --no-ledger --org org.conf -o "$name.pdf" "$name.csv"
	ms=$(ms_since "$t0")
	expect_status 2 "$name: refused"
	contains "$T_ERR" "$name.csv:2: ${f#*:}" "$name: line, row and column named"
	file_absent "$name.pdf" "$name: no PDF"
	fast "$name" "$ms"
done
rm -f bigcell.csv bigquote.csv

# ------------------------------------------------------ lying images
cp "$HOSTILE/huge.png" "$HOSTILE/huge.jpg" photos/
head -c 300 "$HOSTILE/photo.png" >photos/truncated.png
head -c 5000 photos/002.jpg >photos/truncated.jpg
: >photos/empty.jpg
for f in huge.png:"60000 x 60000" huge.jpg:"60000 x 60000" truncated.png:"truncated" \
         truncated.jpg:"damaged JPEG" empty.jpg:"empty"; do
	p=${f%%:*}
	csv "img-$p.csv" "$ROW1" "$(row2 李晓敏 '' "photos/$p")"
	t0=$(date +%s%N)
	run render --no-ledger --org org.conf -o "img-$p.pdf" "img-$p.csv"
	ms=$(ms_since "$t0")
	expect_status 1 "photo $p: refused"
	contains "$T_ERR" "row 3, column 照片 (photo): [photo.image" "photo $p: row, column and rule named"
	contains "$T_ERR" "${f#*:}" "photo $p: says why (${f#*:})"
	file_absent "img-$p.pdf" "photo $p: no PDF"
	fast "photo $p" "$ms"
done
# A JPEG named .png is read as the JPEG it is (format from the bytes, not
# the name): accepted.
cp photos/003.jpg photos/really-jpeg.png
csv img-jpeg-as-png.csv "$(row2 李晓敏 '' photos/really-jpeg.png)"
run render --no-ledger --org org.conf -o img-jpeg-as-png.pdf img-jpeg-as-png.csv
expect_status 0 "a JPEG named .png is accepted as JPEG"
if have pdfimages; then
	contains "$(pdfimages -list img-jpeg-as-png.pdf 2>/dev/null)" "jpeg" "…and embedded as JPEG"
fi

# ------------------------------------------- photos outside the folder
mkdir -p "$T_TMP/outside/sub"
cp photos/001.jpg "$T_TMP/outside/x.jpg"
cp photos/001.jpg "$T_TMP/outside/sub/x.jpg"
cp photos/001.jpg "$T_TMP/x.jpg"
ln -s "$T_TMP/outside/x.jpg" photos/link.jpg
ln -s "$T_TMP/outside/sub" photos/linkdir
for p in ../x.jpg /etc/passwd photos/link.jpg photos/linkdir/x.jpg 'photos/../../x.jpg'; do
	csv photo-out.csv "$(row2 李晓敏 '' "$p")"
	run render --no-ledger --org org.conf -o photo-out.pdf photo-out.csv
	expect_status 1 "photo $p: refused"
	contains "$T_ERR" "row 2, column 照片 (photo): [photo.outside" "photo $p: named as leaving the folder"
	file_absent photo-out.pdf "photo $p: no PDF"
done

# ------------------------------------------------------------ outputs
csv good.csv "$ROW1" "$(row2 李晓敏 '' photos/002.jpg)"
cp good.csv data.pdf
cp org.conf org.pdf
cp "$T_TOP/templates/certificate.conf" tpl.conf
cp tpl.conf tpl.pdf
for f in data.pdf org.pdf tpl.pdf; do cp "$f" "$f.orig"; done
run render --no-ledger --org org.conf -o data.pdf data.pdf
expect_status 2 "render -o the input CSV: refused"
contains "$T_ERR" "same file as the input" "…saying it is the input"
run render --no-ledger --org org.pdf -o org.pdf good.csv
expect_status 2 "render -o the profile: refused"
run render --no-ledger --org org.conf -t tpl.pdf -o tpl.pdf good.csv
expect_status 2 "render -o the template: refused"
run check --org org.conf -t tpl.conf --html tpl.conf good.csv
expect_status 2 "check --html over the template: refused"
run check --org org.conf -t tpl.conf --rejects tpl.conf good.csv
expect_status 2 "check --rejects over the template: refused"
run check --org org.conf --rejects org.conf good.csv
expect_status 2 "check --rejects over the profile: refused"
run check --org org.conf --html good.csv good.csv
expect_status 2 "check --html over the CSV: refused"
same=0
for f in data.pdf org.pdf tpl.pdf; do cmp -s "$f" "$f.orig" || same=1; done
cmp -s tpl.conf "$T_TOP/templates/certificate.conf" || same=1
cmp -s org.conf "$T_TOP/templates/org.conf" || same=1
[ $same -eq 0 ] && ok "every input is unchanged" || not_ok "an input was overwritten"
# The ledger is not an output: a PDF renamed over it would lose the record.
run render --org org.conf --ledger out.pdf -o out.pdf good.csv
expect_status 2 "-o the ledger file: refused"
contains "$T_ERR" "the output is the ledger file" "…saying so"
file_absent out.pdf "…and neither file exists"
run render --no-ledger --org org.conf --skip-invalid --rejects ./out.pdf -o out.pdf good.csv
expect_status 2 "--rejects the output: refused"
run check --org org.conf --rejects out.x --html ./out.x good.csv
expect_status 2 "check --html the same file as --rejects: refused"
file_absent out.x "…and nothing written"
# Symbolic links at the output are refused, and the file they point to
# stays as it was.
echo keep >"$T_TMP/victim"
for o in sym.pdf sym.png symdir; do
	ln -s "$T_TMP/victim" "$o"
	case $o in *.png) extra="--row 2" ;; *) extra="" ;; esac
	# shellcheck disable=SC2086
	run render --no-ledger --org org.conf -o "$o" $extra good.csv
	expect_status 2 "-o $o (a symlink): refused"
	contains "$T_ERR" "symbolic link" "-o $o: says it is a symlink"
done
run check --org org.conf --html sym.pdf good.csv
expect_status 2 "check --html through a symlink: refused"
[ "$(cat "$T_TMP/victim")" = keep ] && ok "the symlink's target is untouched" || not_ok "symlink target written"

# ----------------------------------------------- templates and files
# A template with one value changed: each must fail with file:line: key,
# exit 2, and no output.
T=$T_TOP/templates/certificate.conf
# The line expected is the first one that the edit changed, found by
# comparing the files (the reference template's lines move as it grows).
tpl_case() { # NAME SED-EXPRESSION KEY
	sed "$2" "$T" >"t-$1.conf"
	_line=$(cmp "$T" "t-$1.conf" 2>/dev/null | sed -n 's/.* line \([0-9]*\)$/\1/p')
	run render --no-ledger --org org.conf -t "t-$1.conf" -o "t-$1.pdf" good.csv
	expect_status 2 "template $1: refused"
	if [ -n "$_line" ]; then
		contains "$T_ERR" "t-$1.conf:$_line: key $3:" "template $1: file, line $_line and key named"
	else
		not_ok "template $1: the edit '$2' changed nothing in $T"
	fi
	file_absent "t-$1.pdf" "template $1: no PDF"
}
tpl_case negative-page 's/^size = 210 297/size = -210 297/' size
tpl_case huge-page 's/^size = 210 297/size = 1e9 297/' size
tpl_case nan-page 's/^size = 210 297/size = nan 297/' size
tpl_case box-off-page '0,/^box = 11 11 188 275/s//box = 500 11 188 275/' box
tpl_case negative-box '0,/^box = 11 11 188 275/s//box = 11 11 -188 275/' box
tpl_case font-size-0 '0,/^size = 30/s//size = 0/' size
tpl_case font-size-10000 '0,/^size = 30/s//size = 10000/' size
# 600 elements (over the limit of 500) and 10,000 (over the 2,000 sections a
# file may have), generated here.
for n in 600 10000; do
	cp "$T" "t-$n.conf"
	i=0
	while [ $i -lt $n ]; do
		printf '[rect r%d]\nbox = 20 20 10 10\nwidth = 0.3\n' $i
		i=$((i + 1))
	done >>"t-$n.conf"
	t0=$(date +%s%N)
	run check --org org.conf -t "t-$n.conf" good.csv
	ms=$(ms_since "$t0")
	expect_status 2 "template with $n more elements: refused"
	contains "$T_ERR" "t-$n.conf:" "template with $n more elements: file and line named"
	fast "template with $n more elements" "$ms"
done
run check --org org.conf -t missing.conf good.csv
expect_status 2 "a missing template: exit 2"
contains "$T_ERR" "missing.conf: cannot read" "…naming it"
run check --org missing.conf good.csv
expect_status 2 "a missing profile: exit 2"
contains "$T_ERR" "missing.conf: cannot read" "…naming it"
# A device or an endless file where a profile or template belongs: read up
# to the 1 MiB limit and refused, not read until memory runs out.
for a in "--org /dev/zero" "--org org.conf -t /dev/zero" "--org $D"; do
	t0=$(date +%s%N)
	# shellcheck disable=SC2086
	run check $a good.csv
	ms=$(ms_since "$t0")
	expect_status 2 "check $a: refused"
	case $a in
	*/dev/zero) contains "$T_ERR" "/dev/zero: file is larger than 1048576 bytes" "check $a: says why" ;;
	*) contains "$T_ERR" "cannot read" "check $a: says why" ;;
	esac
	fast "check $a" "$ms"
done
sed 's/^seal = .*/seal = noseal.png/' org.conf >org-noseal.conf
run check --org org-noseal.conf good.csv
expect_status 2 "a missing seal image: exit 2"
contains "$T_ERR" "org-noseal.conf:14: key seal:" "…with file, line and key"
run check --org org.conf --font-dir "$D/nofonts" good.csv
expect_status 2 "a missing --font-dir: exit 2"
contains "$T_ERR" "nofonts" "…naming it"
CERTPRESS_DATADIR=$D/nodata run check --org org.conf -t "$T" good.csv
expect_status 2 "a missing fonts folder: exit 2"
contains "$T_ERR" "fonts.manifest" "…naming the manifest"

# ------------------------------------------------------------ privacy
# One good and one refused row (bad check digit in the ID number). No whole
# ID number may appear in the reports, the ledger or anything left beside
# the outputs; the rejects CSV is the exception and is 0600.
BADID=440106199207082486
csv priv.csv "$ROW1" "李晓敏,居民身份证,$BADID,育婴员,,四级,S000044000123264000001,2026/11/27,photos/002.jpg"
mkdir -p out
run check --org org.conf --json --html out/report.html --rejects out/check-rejects.csv priv.csv
expect_status 1 "privacy: check refuses the bad row"
for id in $ID1 $BADID; do
	lacks "$T_ERR" "$id" "privacy: no whole ID in check's report"
	lacks "$T_OUT" "$id" "privacy: no whole ID in --json"
	lacks "$(cat out/report.html)" "$id" "privacy: no whole ID in the HTML report"
done
contains "$T_ERR" "4401**********2486" "privacy: the refused ID is shown masked"
run render --org org.conf --ledger out/ledger.sqlite --skip-invalid -o out/batch.pdf priv.csv
expect_status 1 "privacy: render --skip-invalid prints the good row"
for id in $ID1 $BADID; do
	lacks "$T_ERR" "$id" "privacy: no whole ID in render's report"
	n=$(cat out/ledger.sqlite* | grep -a -c "$id")
	[ "$n" -eq 0 ] && ok "privacy: no whole ID in the ledger files" \
		|| not_ok "privacy: $id found in the ledger"
done
if have strings; then
	lacks "$(strings out/ledger.sqlite*)" "$ID1" "privacy: strings(1) on the ledger finds no ID"
fi
grep -q "$BADID" out/batch.pdf.rejects.csv && ok "privacy: the rejects CSV keeps the ID to correct" \
	|| not_ok "the rejects CSV lost the ID"
for f in out/batch.pdf.rejects.csv out/check-rejects.csv; do
	m=$(stat -c %a "$f")
	[ "$m" = 600 ] && ok "privacy: $f is mode 0600" || not_ok "$f is mode $m"
done
m=$(stat -c %a out/ledger.sqlite)
[ "$m" = 600 ] && ok "privacy: the ledger is mode 0600" || not_ok "the ledger is mode $m"
no_temp out "privacy: no temporary file left beside the outputs"
no_temp "$D" "no temporary file left in the data folder"

done_testing
