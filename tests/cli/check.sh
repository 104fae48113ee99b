#!/bin/sh
# SPDX-License-Identifier: MIT
# End-to-end tests of `certpress check` (TAP): the sample batch passes; a batch
# with one broken row per rule family fails with one line per problem naming
# row, column and rule, and never shows a whole ID number; --json, --rejects
# (and re-checking the corrected rejects) and --html; a GB18030 copy of the
# sample; usage errors; and every subcommand's --help documents every long
# option in the source's getopt table.
. "$(dirname "$0")/lib.sh"

ORG="$T_TOP/templates/org.conf"
DATA="$T_TOP/tests/data/cli"
cp -r "$T_TOP/templates/sample/photos" "$T_TMP/photos"
cp "$T_TOP/templates/sample/batch.csv" "$T_TMP/sample.csv"
# The control character of row 15 is put in here, not committed raw.
sed 's/@BEL@/\x07/' "$DATA/broken.csv" >"$T_TMP/broken.csv"

# --- the sample batch -------------------------------------------------------
run check --org "$ORG" "$T_TMP/sample.csv"
expect_status 0 "the sample batch is valid"
# 王䶮 and 李𠇔 (rows 6, 7): FandolFang lacks 䶮 and 𠇔 (issue 16).
contains "$T_ERR" "20 records, 20 valid, 0 refused, 2 warnings" "summary line on stderr"
[ -z "$T_OUT" ] && ok "nothing on stdout without --json" || not_ok "nothing on stdout" "$T_OUT"

# --- one broken row per rule family -----------------------------------------
run check --org "$ORG" "$T_TMP/broken.csv"
expect_status 1 "a batch with refused rows"
# row|column|rule: exactly the problem each row of broken.csv was built for.
expected='3|姓名|name.missing
4|职业技能等级|level.unknown
5|证书编号|cert_no.prefix
6|证书编号|cert_no.year
7|证书编号|cert_no.level
8|证书编号|cert_no.duplicate
9|证件号码|id_number.check
10|发证日期|issue_date.calendar
11|职业名称|scope.occupation
12|职业技能等级|scope.level
13|照片|photo.missing
14|照片|photo.outside
15|姓名|text.control'
echo "$expected" | while IFS='|' read -r row col rule; do
	if grep -q "row $row, column $col ([a-z_]*): \[$rule[] ]" "$T_TMP/stderr"; then
		echo "ok"
	else
		echo "missing row $row $col $rule"
	fi
done >"$T_TMP/found"
miss=$(grep -v '^ok$' "$T_TMP/found")
[ -z "$miss" ] && ok "each broken row reported with its row, column and rule id" ||
	not_ok "each broken row reported with its row, column and rule id" "$miss"
lines=$(grep -c ': row [0-9]*, column ' "$T_TMP/stderr")
[ "$lines" -eq 13 ] && ok "one line per problem, no more (13)" ||
	not_ok "one line per problem: got $lines" "$(head -20 "$T_TMP/stderr")"
contains "$T_ERR" "15 records, 2 valid, 13 refused, 0 warnings" "summary counts the refused rows"
contains "$T_ERR" "4404**********2118" "the wrong ID number is shown masked"
# Every ID number of the batch (column 3), whole, must appear nowhere.
cut -d, -f3 "$T_TMP/broken.csv" | tail -n +2 | tr -d '\r' | grep . >"$T_TMP/ids"
leaks() { grep -F -f "$T_TMP/ids" "$1" | head -3; }
l=$(leaks "$T_TMP/stderr")
[ -z "$l" ] && ok "no whole ID number on stderr" || not_ok "no whole ID number on stderr" "$l"

# --- --json, --rejects, --html in one run -----------------------------------
run check --org "$ORG" -q --json --rejects "$T_TMP/rejects.csv" --html "$T_TMP/report.html" \
	"$T_TMP/broken.csv"
expect_status 1 "check --json --rejects --html"
[ -z "$T_ERR" ] && ok "--quiet: nothing on stderr" || not_ok "--quiet: nothing on stderr" "$T_ERR"
if perl -MJSON::PP -e 'decode_json(join "", <STDIN>)' <"$T_TMP/stdout" 2>"$T_TMP/perl.err"; then
	ok "--json output is valid JSON"
else
	not_ok "--json output is valid JSON" "$(cat "$T_TMP/perl.err")"
fi
# records valid refused warnings problems, then row:field:rule of each problem
got=$(perl -MJSON::PP -e '
	my $d = decode_json(join "", <STDIN>); my $s = $d->{summary};
	print join(" ", @$s{qw(records valid refused warnings)}, scalar @{$d->{problems}}), "\n";
	print join(" ", map { "$_->{row}:$_->{rule}" } @{$d->{problems}}), "\n";
	print "$d->{encoding}\n";' <"$T_TMP/stdout" 2>&1)
want="15 2 13 0 13
3:name.missing 4:level.unknown 5:cert_no.prefix 6:cert_no.year 7:cert_no.level 8:cert_no.duplicate 9:id_number.check 10:issue_date.calendar 11:scope.occupation 12:scope.level 13:photo.missing 14:photo.outside 15:text.control
UTF-8"
[ "$got" = "$want" ] && ok "--json: counts, and each problem's row and rule" ||
	not_ok "--json: counts, and each problem's row and rule" "got: $got"
l=$(leaks "$T_TMP/stdout")
[ -z "$l" ] && ok "no whole ID number in --json" || not_ok "no whole ID number in --json" "$l"

# The rejects file: header + reason column, then exactly rows 3..15 as read.
file_present "$T_TMP/rejects.csv" "--rejects file written"
if perl -e '
	open my $in, "<", $ARGV[0] or die; open my $rj, "<", $ARGV[1] or die;
	my @in = map { s/\r?\n$//r } <$in>; my @rj = map { s/\r?\n$//r } <$rj>;
	$rj[0] =~ s/^\x{ef}\x{bb}\x{bf}//;
	die "header: $rj[0]\n" unless $rj[0] eq "$in[0],拒绝原因";
	my @want = @in[2 .. 14];   # spreadsheet rows 3..15
	die "rows: " . (@rj - 1) . "\n" unless @rj - 1 == @want;
	for my $i (0 .. $#want) {
		my $r = $rj[$i + 1];
		die "row " . ($i + 3) . ": $r\n" unless index($r, "$want[$i],") == 0 && length $r > length($want[$i]) + 1;
	}' "$T_TMP/broken.csv" "$T_TMP/rejects.csv" 2>"$T_TMP/perl.err"; then
	ok "rejects: the 13 refused rows as read, each with a reason, nothing else"
else
	not_ok "rejects: the 13 refused rows as read, each with a reason" "$(cat "$T_TMP/perl.err")"
fi
sed -f "$DATA/fix-rejects.sed" "$T_TMP/rejects.csv" >"$T_TMP/fixed.csv"
run check --org "$ORG" "$T_TMP/fixed.csv"
expect_status 0 "the corrected rejects file checks clean"
contains "$T_ERR" "13 records, 13 valid, 0 refused" "the reason column is ignored on re-check"

file_present "$T_TMP/report.html" "--html report written"
thumbs=$(grep -o 'class="thumb zoom"[^>]*src="data:image/png;base64,[A-Za-z0-9+/]' "$T_TMP/report.html" | wc -l)
[ "$thumbs" -eq 2 ] && ok "--html: one PNG thumbnail per valid row (2)" ||
	not_ok "--html: one PNG thumbnail per valid row: got $thumbs"
html=$(cat "$T_TMP/report.html")
contains "$html" "the name is blank" "--html gives the reason of a refused row"
contains "$html" "2026-02-30 is not a day of the calendar" "--html gives the date refusal"
contains "$html" "id_number.check" "--html names the rule"
l=$(leaks "$T_TMP/report.html")
[ -z "$l" ] && ok "no whole ID number in the HTML" || not_ok "no whole ID number in the HTML" "$l"

# --- --jobs: the records laid out on threads, the same report ---------------
# 200 rows over the sample's (each number's serial, positions 17-22, made
# its own), with a name too long for its box (a layout refusal), rare
# characters (fallback warnings), a wrong date and a repeated number here and
# there: several chunks of 32 for each worker.
awk -F, -v OFS=, 'NR == 1 { print; next }
	{ rows[NR - 2] = $0 }
	END {
		for (i = 0; i < 200; i++) {
			$0 = rows[i % 20]
			$7 = substr($7, 1, 16) sprintf("%06d", i + 1)
			if (i % 37 == 5) $1 = "阿卜杜热合曼·买买提艾力·阿不都热西提江·阿卜杜热合曼·买买提"
			if (i % 41 == 7) $1 = "潘喆"
			if (i % 53 == 9) $8 = "2026-02-30"
			if (i % 59 == 11) $7 = substr($7, 1, 16) "000001"
			print
		}
	}' "$T_TMP/sample.csv" >"$T_TMP/many.csv"
for j in 1 2 4; do
	run check --org "$ORG" --jobs $j --json --rejects "$T_TMP/rej-$j.csv" "$T_TMP/many.csv"
	expect_status 1 "--jobs $j: some rows refused"
	echo "$T_ERR" >"$T_TMP/err-$j"
	echo "$T_OUT" >"$T_TMP/out-$j"
done
contains "$(cat "$T_TMP/err-1")" "does not fit in its box" "the batch has layout refusals"
contains "$(cat "$T_TMP/err-1")" "layout.font_fallback" "and fallback warnings"
contains "$(cat "$T_TMP/err-1")" "cert_no.duplicate" "and rule refusals"
contains "$(cat "$T_TMP/err-1")" "200 records, " "all 200 rows are counted"
for j in 2 4; do
	cmp -s "$T_TMP/err-1" "$T_TMP/err-$j" && ok "--jobs $j: the same report as one thread" ||
		not_ok "--jobs $j: the same report as one thread" "$(diff "$T_TMP/err-1" "$T_TMP/err-$j" | head -5)"
	cmp -s "$T_TMP/out-1" "$T_TMP/out-$j" && ok "--jobs $j: the same JSON" ||
		not_ok "--jobs $j: the same JSON"
	cmp -s "$T_TMP/rej-1.csv" "$T_TMP/rej-$j.csv" && ok "--jobs $j: the same rejects file" ||
		not_ok "--jobs $j: the same rejects file"
done
# the HTML report (thumbnails drawn from each page) stays on one thread
run check --org "$ORG" --html "$T_TMP/many.html" "$T_TMP/many.csv"
expect_status 1 "--html over the same batch"
[ "$T_ERR" = "$(cat "$T_TMP/err-1")" ] && ok "--html: the same report" ||
	not_ok "--html: the same report" "$(echo "$T_ERR" | diff - "$T_TMP/err-1" | head -5)"
run check --org "$ORG" --jobs 2 --html "$T_TMP/x.html" "$T_TMP/many.csv"
expect_status 2 "--jobs with --html is a usage error"
contains "$T_ERR" "--jobs lays records out on threads" "and says why"
file_absent "$T_TMP/x.html" "no HTML written"
run check --org "$ORG" --jobs 0 "$T_TMP/many.csv"
expect_status 2 "--jobs 0 is a usage error"

# --- encodings --------------------------------------------------------------
# Excel's "CSV" on a Chinese Windows writes GB18030 without a BOM; iconv also
# turns the BOM into GB18030's own four bytes: both must read the same.
sed '1s/^\xEF\xBB\xBF//' "$T_TMP/sample.csv" | iconv -f UTF-8 -t GB18030 >"$T_TMP/gb.csv"
iconv -f UTF-8 -t GB18030 "$T_TMP/sample.csv" >"$T_TMP/gb-bom.csv"
for f in gb gb-bom; do
	run check --org "$ORG" "$T_TMP/$f.csv"
	expect_status 0 "GB18030 copy ($f) of the sample is valid"
	contains "$T_ERR" "20 records, 20 valid, 0 refused, 2 warnings; encoding GB18030" \
		"GB18030 ($f) detected and every record read"
done

# --- rare characters: one face per field, the operator told (issue 16) -------
# Each name whose character FandolFang lacks is one warning naming row,
# column, the characters and the face the name is set in; a name no single
# face covers names the face of each such character.
cp "$DATA/rare.csv" "$T_TMP/rare.csv"
run check --org "$ORG" --json "$T_TMP/rare.csv"
expect_status 0 "names with rare characters are printable (warnings only)"
contains "$T_ERR" "8 records, 8 valid, 0 refused, 6 warnings" "one warning per name that falls back"
for w in "row 2, column 姓名 (name): warning: [layout.font_fallback] name (姓名) is set whole in Noto Serif CJK SC, because its font FandolFang lacks 赟" \
	"row 3, column 姓名 (name): warning: [layout.font_fallback] name (姓名) is set whole in Noto Serif CJK SC, because its font FandolFang lacks 㐵龑" \
	"row 4, column 姓名 (name): warning: [layout.font_fallback] name (姓名) is set whole in Noto Serif CJK SC, because its font FandolFang lacks 堃" \
	"row 6, column 姓名 (name): warning: [layout.font_fallback] name (姓名) is set whole in Noto Serif CJK SC, because its font FandolFang lacks 喆" \
	"row 8, column 姓名 (name): warning: [layout.font_fallback] no font has every character of name (姓名): its font FandolFang lacks 𠀁; it is set in FandolFang except 𠀁 HanaMinB"; do
	contains "$T_ERR" "$w" "warning: ${w%%:*}"
done
lacks "$T_ERR" "row 7, column" "no warning for a name FandolFang has (张伟)"
lacks "$T_ERR" "row 9, column" "no warning for a minority name with · (阿依古丽·买买提)"
contains "$T_ERR" "--font-dir" "the warning suggests --font-dir"
contains "$T_OUT" '"rule":"layout.font_fallback"' "--json carries the warning's rule"
# --html shows each name as certpress renders it: a PNG cut from the page at
# print resolution, captioned with the face it is set in.
run check --org "$ORG" --html "$T_TMP/rare.html" "$T_TMP/rare.csv"
expect_status 0 "check --html of the rare names"
n=$(grep -o '<figure class="cut">' "$T_TMP/rare.html" | wc -l)
[ "$n" -eq 8 ] && ok "one cut-out name per record (8)" || not_ok "cut-outs: $n, expected 8"
contains "$(cat "$T_TMP/rare.html")" '王赟 <span class="face">(set in Noto Serif CJK SC)</span>' \
	"the cut-out of 王赟 names its face"
contains "$(cat "$T_TMP/rare.html")" '卢𠀁浩 <span class="face">(set in FandolFang; 𠀁 HanaMinB)</span>' \
	"the cut-out of 卢𠀁浩 names each face"
# The first cut-out decodes to a PNG at 300 dpi: 1 mm of margin on each side
# of a 12 pt line makes it at least 2 mm + 12 pt = 73 px high.
sed -n 's/.*<figure class="cut"><img[^>]*src="data:image\/png;base64,\([^"]*\)".*/\1/p' \
	"$T_TMP/rare.html" | head -1 | base64 -d >"$T_TMP/cut.png" 2>/dev/null
sig=$(head -c 8 "$T_TMP/cut.png" | od -An -tx1 | tr -d ' \n')
h=$(od -An -tu1 -j 20 -N 4 "$T_TMP/cut.png" | awk '{print ($1*16777216)+($2*65536)+($3*256)+$4}')
[ "$sig" = "89504e470d0a1a0a" ] && [ "${h:-0}" -ge 73 ] &&
	ok "the cut-out is a PNG at print resolution ($h px high)" ||
	not_ok "the cut-out is a PNG at print resolution" "signature $sig, height $h"

# An organization that requires one face refuses them instead.
sed 's/^photos = printed$/photos = printed\nfont_fallback = refuse/' "$ORG" >"$T_TMP/org-refuse.conf"
cp "$T_TOP/templates/seal.png" "$T_TMP/seal.png"
run check --org "$T_TMP/org-refuse.conf" "$T_TMP/rare.csv"
expect_status 1 "font_fallback = refuse refuses the names that fall back"
contains "$T_ERR" "8 records, 2 valid, 6 refused, 0 warnings" "six refused, the others valid"
contains "$T_ERR" "row 2, column 姓名 (name): [layout.print 第十五条] name (姓名) has characters its font FandolFang lacks (赟)" \
	"the refusal names row, column and character"

# --- usage and environment errors -------------------------------------------
cut -d, -f1-6,8-9 "$T_TMP/sample.csv" >"$T_TMP/nocert.csv"
run check --org "$ORG" "$T_TMP/nocert.csv"
expect_status 2 "a missing required column"
contains "$T_ERR" "missing required column: 证书编号" "the missing column is named"
run check "$T_TMP/sample.csv"
expect_status 2 "check without --org"
contains "$T_ERR" "--org" "the message names --org"
run check --org "$ORG" --frobnicate "$T_TMP/sample.csv"
expect_status 2 "an unknown option"
contains "$T_ERR" "certpress check --help" "an unknown option points to --help"
run check --org "$ORG"
expect_status 2 "check without a CSV file"
run check --org "$T_TMP/none.conf" "$T_TMP/sample.csv"
expect_status 2 "a missing profile"
run check --org "$ORG" --no-layout "$T_TMP/sample.csv"
expect_status 0 "--no-layout checks the rules only"
run check --org "$ORG" --rejects "$T_TMP/sample.csv" "$T_TMP/sample.csv"
expect_status 2 "--rejects onto the input CSV is refused"
cmp -s "$T_TOP/templates/sample/batch.csv" "$T_TMP/sample.csv" && ok "the input is untouched" ||
	not_ok "the input is untouched"

# --- --help documents every long option -------------------------------------
# The option names come from each command's own getopt table, so adding an
# option without documenting it fails here.
for cmd in check render calibrate; do
	src="$T_TOP/src/cli/cli_$cmd.c"
	opts=$(sed -n '/struct option longopts\[\]/,/{NULL, 0, NULL, 0}/p' "$src" |
		sed -n 's/^[[:space:]]*{"\([a-z0-9-]*\)".*/\1/p')
	nopts=$(echo "$opts" | grep -c .)
	run "$cmd" --help
	expect_status 0 "$cmd --help"
	[ "$nopts" -ge 5 ] && ok "$cmd: $nopts long options read from $src" ||
		not_ok "$cmd: long options read from $src: only $nopts"
	undoc=""
	for o in $opts; do
		echo "$T_OUT" | grep -q -- "--$o\b" || undoc="$undoc --$o"
	done
	[ -z "$undoc" ] && ok "$cmd --help mentions all its long options" ||
		not_ok "$cmd --help mentions all its long options: missing$undoc"
done
cmds=$(sed -n 's/^[[:space:]]*{"\([a-z]*\)", cli_[a-z]*,.*/\1/p' "$T_TOP/src/cli/main.c")
run --help
expect_status 0 "certpress --help"
undoc=""
for c in $cmds; do echo "$T_OUT" | grep -q "^  $c " || undoc="$undoc $c"; done
[ -n "$cmds" ] && [ -z "$undoc" ] && ok "certpress --help lists every command ($(echo $cmds))" ||
	not_ok "certpress --help lists every command: missing$undoc"
run frobnicate
expect_status 2 "an unknown command"

# --- a title row above the header, photos as operators name them -------------
{
	printf '2026年第3批鉴定合格人员名单,,,,,,,,\n'
	head -1 "$T_TMP/sample.csv" | sed 's/^\xEF\xBB\xBF//'
	sed -n 2,3p "$T_TMP/sample.csv" | sed 's|photos/001.jpg|photos\\001.jpg|; s|photos/002.jpg|PHOTOS/002.JPG|'
} >"$T_TMP/titled.csv"
run check --org "$ORG" "$T_TMP/titled.csv"
expect_status 0 "a title row above the header is skipped"
contains "$T_ERR" "2 records, 2 valid, 0 refused, 1 warning; encoding UTF-8; header on row 2" \
	"the summary names the header row"
contains "$T_ERR" "titled.csv:4: row 4, column 照片 (photo): warning: [photo.case 第十五条] the photo file is named photos/002.jpg, not PHOTOS/002.JPG" \
	"rows keep the spreadsheet's numbers; a case-only mismatch is used and named"
printf '合格人员名单\n说明\n' >"$T_TMP/noheader.csv"
run check --org "$ORG" "$T_TMP/noheader.csv"
expect_status 2 "no header row"
contains "$T_ERR" "no header row found in the first 10 rows: looked for a row with the columns 姓名 (name)" \
	"the message says what was looked for"

done_testing
