#!/bin/sh
# SPDX-License-Identifier: MIT
# Planted bugs and the test that must catch each (docs/testing.md, "Proof
# that the tests can fail"). Run by hand, not by `make test`:
#
#     sh scripts/mutants.sh            # every planted bug
#     sh scripts/mutants.sh NAME...    # only these (names in the table below)
#
# Copies the tree (tracked and untracked files, not ignored ones) to a scratch
# folder, builds it there in its own build dir, and runs each named test
# once unchanged (it must pass) and once with its bug planted by sed (it must
# fail); the file is then put back before the next bug. The checkout itself
# is never modified. MUTANTS_DIR=DIR keeps the scratch copy in DIR (a rerun
# there rebuilds only what changed); by default it is a new folder in /tmp,
# removed at the end. Exit status 0 when every bug was caught.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)

# name | file | sed expression planting the bug | test | what the bug is
# test: "test_X /test/path" (a g_test program, -p that path) or "cli X.sh".
mutants() {
	cat <<'EOF'
job-dash|src/input/checker.c|s/if (cp_rule_blank(rec->raw\[CP_FIELD_JOB_TYPE\]))/if (0)/|test_fields /fields/fixtures/printable|a blank job type is no longer printed as --
qr-off-page|src/layout/layout.c|s/cp_qr_draw(pv->qr, cr, el->x, /cp_qr_draw(pv->qr, cr, el->x + 250, /|test_fields /fields/fixtures/required-inked|the QR code drawn 250 mm to the right, off the page
no-hanamin|fonts/fonts.manifest|/HanaMinB/d|test_golden /golden/rules|HanaMinB left out of the pinned fonts
static-in-fill|src/layout/layout.c|s/return !(o->mode == CP_MODE_FILL \&\& pg->items\[i\].layer == CP_LAYER_STATIC);/return true;/|test_fields /fields/fixtures/fill-no-static|the static layer drawn in fill mode
seal-every-mode|src/layout/layout.c|s/if (o->mode == CP_MODE_ELECTRONIC \&\& e->seal \&\& !o->seal_in_signature) {/if (e->seal \&\& !o->seal_in_signature) {/|test_fields /fields/fixtures/seal-area-empty|the seal image drawn in every mode
serial-dropped|src/cli/cli_render.c|s/p->serial = rec->value\[CP_FIELD_PRINT_SERIAL\];/p->serial = NULL;/|cli ledger.sh|render records no print serial (证书印制流水码) in the ledger
old-returned-lost|src/cli/cli_render.c|s/p->old_returned = c->old_returned;/p->old_returned = false;/|cli ledger.sh|render --reissue --old-returned records the old sheet as not returned
qr-wrong-value|src/input/profile.c|s/const char \*val = vals\[i\] ? vals\[i\] : "";/const char *val = vals[1] ? vals[1] : "";/|test_fields /fields/sample/qr-decodes|the QR URL built with the holder's name in place of {cert_no}
photo-not-drawn|src/layout/layout.c|s/^\t\tif (pv->img) {$/\t\tif (0) {/|test_fields /fields/sample/required-inked|the photo not drawn (the paste frame drawn instead)
revoked-as-issued|src/ledger/ledger.c|/cp_error_set_rule(err, "ledger.revoked");/d|cli reissue.sh|a revoked number filed under ledger.issued (render --reissue then says "already issued … give --reissue")
keyset-letters-overlap|src/keyset.c|s/ch - 'A' + 11u/ch - 'A' + 10u/|test_keyset /keyset/model|the compact set of certificate numbers packs A like 9, so two numbers are taken for one
redraw-ghost|src/layout/layout.c|s/^\t\t\tpatch_put_back(/\t\t\tif (0) patch_put_back(/|cli render.sh|a folder of PNGs draws each holder over the page before (nothing put back under the fields)
ink-unbounded|src/layout/layout.c|s/ \&\& top >= -m \&\&$/ \&\& top >= -1e9 \&\&/|cli render.sh|a field's ink let rise past its box by any amount (accents stacked above a tight box)
layer-left-out|src/output/pdf.c|s/j.runs->len, p->layer_fd, /j.runs->len, -1, /|cli render.sh|a batch PDF's static layer drawn apart but never put under the pages
ahead-misfiled|src/ledger/ledger.c|s/g_hash_table_insert(b->ahead, g_strdup(sent\[j\]), r);/g_hash_table_insert(b->ahead, g_strdup(sent[0]), r);/|cli ledger-pg.sh|the answers asked ahead all filed under the chunk's first number
EOF
}

for n in "$@"; do
	mutants | grep -q "^$n|" || { echo "mutants: no planted bug named '$n'" >&2; exit 2; }
done

if [ "${MUTANTS_DIR:-}" ]; then
	work=$MUTANTS_DIR
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/certpress-mutants.XXXXXX")
	trap 'rm -rf "$work"' EXIT
fi
tree="$work/tree"
mkdir -p "$tree"
# A fresh copy of every source file; the build dir in the copy is kept.
# Only files that differ from the copy are copied (with a new time), so a
# rerun in MUTANTS_DIR rebuilds only what changed, and a file left planted by
# an interrupted run is put back and rebuilt.
(cd "$top" && git ls-files -co --exclude-standard) | while IFS= read -r f; do
	cmp -s "$top/$f" "$tree/$f" && continue
	mkdir -p "$tree/$(dirname "$f")" && cp "$top/$f" "$tree/$f" || exit 2
done || exit 2
rm -f "$work/bad"

# run_test TEST: runs it in the copy; its output in $work/log. Exit status.
run_test() {
	case "$1" in
	cli\ *)
		(cd "$tree" && CERTPRESS="$tree/build/certpress" BUILD="$tree/build" \
			sh "tests/cli/${1#cli }") >"$work/log" 2>&1 ;;
	*)
		prog=${1%% *} path=${1#* }
		(cd "$tree" && "build/tests/$prog" -p "$path") >"$work/log" 2>&1 ;;
	esac
}
mo=build/locale/zh_CN/LC_MESSAGES/certpress.mo
targets() { # the build targets a test needs
	case "$1" in
	# the catalogues too: some tests read messages in Chinese
	"cli ledger-pg.sh") echo build/certpress build/tests/test_ledger "$mo" ;; # runs the unit suite too
	cli\ *) echo build/certpress "$mo" ;;
	*) echo "build/tests/${1%% *}" ;;
	esac
}
build() { make -C "$tree" -j2 $(targets "$1") >"$work/build.log" 2>&1; }

want=" $* "
tab=$(printf '\t')
mutants | while IFS='|' read -r name file expr test what; do
	[ "$want" = "  " ] || case "$want" in *" $name "*) ;; *) continue ;; esac
	echo "$name ($what): $file; must be caught by $test"
	if ! build "$test"; then
		echo "  BROKEN: the unchanged tree does not build"; tail -5 "$work/build.log"
		echo x >>"$work/bad"; continue
	fi
	if ! run_test "$test"; then
		echo "  BROKEN: $test fails on the unchanged tree"; grep -m5 '^not ok\|^#' "$work/log"
		echo x >>"$work/bad"; continue
	fi
	cp -p "$tree/$file" "$work/orig"
	sed "$expr" "$work/orig" >"$tree/$file"
	if cmp -s "$work/orig" "$tree/$file"; then
		echo "  BROKEN: the sed expression no longer matches $file; update this script"
		cp -p "$work/orig" "$tree/$file"
		echo x >>"$work/bad"; continue
	fi
	if ! build "$test"; then
		echo "  BROKEN: the planted bug does not build"; tail -5 "$work/build.log"
		echo x >>"$work/bad"
	elif run_test "$test"; then
		echo "  SURVIVED: $test still passes with the bug planted"
		echo x >>"$work/bad"
	else
		# the failing tests and the first messages that say why
		echo "  caught:"
		{ grep '^not ok' "$work/log" | head -3
		  grep '^# ' "$work/log" | grep -v -E '^# (Start of|End of|random seed)|: photo .*correlation|boxes checked|pages$' |
		  head -3; } | LC_ALL=C.UTF-8 sed "s/^\(.\{240\}\).*/\1…/; s/^/  $tab/"
	fi
	# put the file back, newer than the objects built from the bug
	cp "$work/orig" "$tree/$file"
	touch "$tree/$file"
done
n_bad=$(cat "$work/bad" 2>/dev/null | wc -l)
echo "mutants: $n_bad not caught or broken"
[ "$n_bad" -eq 0 ]
