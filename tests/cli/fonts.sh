#!/bin/sh
# SPDX-License-Identifier: MIT
# One face per field through `certpress render` (TAP; issue 16): the worker
# threads warn like check does, and in the PDF an independent reader
# (mutool draw -F stext) finds every character of each name in one font,
# except where no font has every character of it (卢𠀁浩: 𠀁 only in HanaMinB),
# and there the fallback keeps the one-em advance and sits where measured.
. "$(dirname "$0")/lib.sh"

ORG="$T_TOP/templates/org.conf"
cp -r "$T_TOP/templates/sample/photos" "$T_TMP/photos"
cp "$T_TOP/tests/data/cli/rare.csv" "$T_TMP/rare.csv"

run render --org "$ORG" --no-ledger --jobs 2 -o "$T_TMP/rare.pdf" "$T_TMP/rare.csv"
expect_status 0 "render prints names with rare characters"
contains "$T_ERR" "row 3, column 姓名 (name): warning: [layout.font_fallback] name (姓名) is set whole in Noto Serif CJK SC, because its font FandolFang lacks 㐵龑" \
	"render warns from its worker threads too"
n=$(echo "$T_ERR" | grep -c 'layout.font_fallback')
[ "$n" -eq 6 ] && ok "six warnings, one per name that falls back" || not_ok "warnings: $n, expected 6"

if ! have mutool; then
	not_ok "mutool is not installed (scripts/deps.sh installs mupdf-tools)"
	done_testing
	exit
fi
# page|fonts of the characters in the name's box (70–144 × 66–77 mm of the
# template, in points), subset tags removed
mutool draw -q -F stext -o - "$T_TMP/rare.pdf" 2>/dev/null | awk '
	/<page / { page++ }
	/<font name="/ { f = $0; sub(/.*<font name="/, "", f); sub(/".*/, "", f); sub(/^[A-Z]*\+/, "", f) }
	/<char / {
		x = $0; sub(/.* x="/, "", x); sub(/".*/, "", x)
		y = $0; sub(/.* y="/, "", y); sub(/".*/, "", y)
		if (x >= 198 && x <= 408 && y >= 187 && y <= 218) seen[page "|" f] = 1
	}
	END { for (k in seen) print k }' | sort >"$T_TMP/fonts" 2>/dev/null
for p in 1 2 3 4 5 6 8; do
	nf=$(grep -c "^$p|" "$T_TMP/fonts")
	[ "$nf" -eq 1 ] && ok "page $p: the name is in one font ($(grep "^$p|" "$T_TMP/fonts" | cut -d'|' -f2))" ||
		not_ok "page $p: the name is in $nf fonts" "$(grep "^$p|" "$T_TMP/fonts")"
done
grep -q '^2|NotoSerifCJKsc-ExtraLig' "$T_TMP/fonts" && ok "张㐵龑 is set in Noto Serif CJK SC ExtraLight" ||
	not_ok "张㐵龑 is set in Noto Serif CJK SC ExtraLight" "$(grep '^2|' "$T_TMP/fonts")"
grep -q '^6|FandolFang' "$T_TMP/fonts" && ok "张伟 stays in FandolFang" ||
	not_ok "张伟 stays in FandolFang" "$(grep '^6|' "$T_TMP/fonts")"
got=$(grep '^7|' "$T_TMP/fonts" | cut -d'|' -f2 | tr '\n' ' ')
[ "$got" = "FandolFang-Regular HanaMinB " ] && ok "卢𠀁浩: FandolFang, and HanaMinB for 𠀁 alone" ||
	not_ok "卢𠀁浩 in FandolFang and HanaMinB" "got: $got"

# Matched where faces mix: every character one em (12 pt) from the next, and
# FandolFang's baseline where a FandolFang-only name has it in the same box.
mutool draw -q -F stext -o - "$T_TMP/rare.pdf" 2>/dev/null | awk '
	/<page / { page++ }
	/<char / {
		x = $0; sub(/.* x="/, "", x); sub(/".*/, "", x)
		y = $0; sub(/.* y="/, "", y); sub(/".*/, "", y)
		if (x >= 198 && x <= 408 && y >= 187 && y <= 218) print page, x, y
	}' >"$T_TMP/pos"
adv=$(awk '$1 == 7 { x[n++] = $2 } END { printf "%.2f", x[2] - x[0] }' "$T_TMP/pos")
[ "$adv" = "24.00" ] && ok "卢𠀁浩: 卢 to 浩 is two em (24.00 pt)" || not_ok "卢𠀁浩: 卢 to 浩 is $adv pt, not 24.00"
b6=$(awk '$1 == 6 { print $3; exit }' "$T_TMP/pos")
b7=$(awk '$1 == 7 { print $3; exit }' "$T_TMP/pos")
[ -n "$b6" ] && [ "$b6" = "$b7" ] && ok "卢 of 卢𠀁浩 on the baseline of 张伟 ($b6 pt)" ||
	not_ok "卢𠀁浩's FandolFang baseline $b7, 张伟's $b6"
low=$(awk '$1 == 7 { y[n++] = $3 } END { printf "%.2f", y[1] - y[0] }' "$T_TMP/pos")
[ "$low" = "0.58" ] && ok "𠀁 lowered by the measured 0.0486 em (0.58 pt)" ||
	not_ok "𠀁 lowered by $low pt, not 0.58"

done_testing
