#!/bin/sh
# SPDX-License-Identifier: MIT
# The stages of src/ include one another one way (scripts/check-layers.sh,
# docs/HACKING.md): the real tree passes, and each kind of planted backward
# include in a copy of it is caught and named by file and line.
. "$(dirname "$0")/lib.sh"
check="$T_TOP/scripts/check-layers.sh"

if sh "$check" "$T_TOP/src" >"$T_TMP/out" 2>&1; then ok "src/ includes run one way"
else not_ok "src/ includes run one way" "$(head -5 "$T_TMP/out")"; fi

# plant SRCFILE LINE EXPECTED DESC: a copy of src/ with LINE appended to
# SRCFILE must fail, naming the file and EXPECTED.
plant() {
	rm -rf "$T_TMP/src" && cp -r "$T_TOP/src" "$T_TMP/src"
	echo "$2" >>"$T_TMP/src/$1"
	if sh "$check" "$T_TMP/src" >"$T_TMP/out" 2>&1; then
		not_ok "$4: not caught"
	else
		out=$(cat "$T_TMP/out")
		contains "$out" "src/$1:" "$4: names the file"
		contains "$out" "$3" "$4: says why"
	fi
}
plant input/csv.c '#include "layout/fonts.h"' "the input stage may not use the layout stage" "input using layout"
plant error.c '#include "input/conf.h"' "the base stage may not use the input stage" "base using input"
plant ledger/ledger.c '#include "output/report.h"' "the ledger stage may not use the output stage" "ledger using output"
plant layout/layout.c '#include "cli/cli.h"' "the layout stage may not use the cli stage" "layout using cli"
plant output/pdf.c '#include "csv.h"' 'name the header with its stage' "a stage header without its stage"
plant output/png.c '#include "input/nosuch.h"' 'no such header' "a header that does not exist"
rm -rf "$T_TMP/src" && cp -r "$T_TOP/src" "$T_TMP/src" && mkdir "$T_TMP/src/misc" && : >"$T_TMP/src/misc/x.c"
if sh "$check" "$T_TMP/src" >"$T_TMP/out" 2>&1; then not_ok "a new stage folder must be placed in the table"
else contains "$(cat "$T_TMP/out")" "stage 'misc' is not in the table" "a new stage folder must be placed in the table"; fi
done_testing
