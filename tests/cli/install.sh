#!/bin/sh
# SPDX-License-Identifier: MIT
# `make install` gives a tree that stands on its own (src/datadir.c): it is
# installed with DESTDIR and PREFIX, moved elsewhere as a whole, and the
# moved command checks and renders the installed sample with the installed
# fonts, default template and Chinese catalogue — with CERTPRESS_DATADIR and
# CERTPRESS_LOCALEDIR unset, from a folder outside the source tree, and (where
# a mount namespace can be had) with the source tree hidden under an empty
# tmpfs. Taking the installed fonts or catalogue away must then break the
# run, which proves that it read them and not the checkout. The installed
# program holds no path of the source tree. `make uninstall` removes it all.
. "$(dirname "$0")/lib.sh"
unset CERTPRESS_DATADIR CERTPRESS_LOCALEDIR
BUILD_DIR=${BUILD:-$T_TOP/build}
ROOT="$T_TMP/root"

# make_in_tree TARGET VAR=VALUE...: make in the source tree, with the build
# folder under test (the make variables of an enclosing `make test`, such as
# asan's CC and CFLAGS, come along in MAKEFLAGS).
make_in_tree() {
	make -C "$T_TOP" --no-print-directory BUILD="$BUILD_DIR" "$@" >"$T_TMP/make.out" 2>&1
}

if make_in_tree install DESTDIR="$ROOT" PREFIX=/opt/cp; then
	ok "make install DESTDIR=… PREFIX=/opt/cp"
else
	not_ok "make install DESTDIR=… PREFIX=/opt/cp" "$(tail -5 "$T_TMP/make.out")"
fi
I="$ROOT/opt/cp"
for f in bin/certpress share/certpress/fonts/fonts.manifest \
	share/certpress/fonts/FandolFang-Regular.otf share/certpress/templates/certificate.conf \
	share/certpress/templates/org.conf share/certpress/templates/seal.png \
	share/certpress/templates/sample/batch.csv share/certpress/templates/sample/photos/001.jpg \
	share/locale/zh_CN/LC_MESSAGES/certpress.mo; do
	file_present "$I/$f" "installed: $f"
done
if [ -x "$I/bin/certpress" ] && cmp -s "$I/bin/certpress" "$CERTPRESS"; then
	ok "the installed program is the one built"
else not_ok "the installed program is the one built"; fi

# The program holds no path of the checkout (debug information, which names
# source files, is stripped first: it is never read at run time).
if have strip; then
	strip -o "$T_TMP/stripped" "$I/bin/certpress"
	if grep -q -a -F "$T_TOP" "$T_TMP/stripped"; then
		not_ok "no source tree path in the program" "$(grep -a -o -F "$T_TOP[^ ]*" "$T_TMP/stripped" | head -3)"
	else ok "no source tree path in the program"; fi
else skip "strip (binutils) not installed: the program's strings are not checked"; fi

# Moved as a whole; run from a folder of its own.
mkdir -p "$T_TMP/elsewhere" "$T_TMP/work"
mv "$I" "$T_TMP/elsewhere/cp"
P="$T_TMP/elsewhere/cp"
S="$P/share/certpress/templates"
cd "$T_TMP/work" || exit 2
CERTPRESS="$P/bin/certpress"

run check --org "$S/org.conf" "$S/sample/batch.csv"
expect_status 0 "moved: check the installed sample"
contains "$T_ERR" "20 records, 20 valid, 0 refused" "moved: every sample record is valid"
run render --no-ledger --org "$S/org.conf" -o "$T_TMP/work/sample.pdf" "$S/sample/batch.csv"
expect_status 0 "moved: render the installed sample"
file_present "$T_TMP/work/sample.pdf" "moved: the PDF is written"
if have pdfinfo; then
	pages=$(pdfinfo "$T_TMP/work/sample.pdf" 2>/dev/null | sed -n 's/^Pages: *//p')
	if [ "$pages" = 20 ]; then ok "moved: 20 pages"; else not_ok "moved: 20 pages, got '$pages'"; fi
else skip "pdfinfo (poppler-utils) not installed"; fi
LANGUAGE=zh_CN run check --org "$S/org.conf" "$S/sample/batch.csv"
contains "$T_ERR" "20 条记录, 20 条有效" "moved: Chinese messages (LANGUAGE=zh_CN)"

# The source tree hidden: an empty tmpfs over it in a private mount namespace.
case "$T_TMP" in "$T_TOP"/*) hide=no ;; *) hide=yes ;; esac
# Under `make asan` the leak suppressions are a file of the source tree.
case "${LSAN_OPTIONS:-}" in
*"$T_TOP/tests/lsan.supp"*)
	cp "$T_TOP/tests/lsan.supp" "$T_TMP/lsan.supp"
	LSAN_OPTIONS=$(printf '%s' "$LSAN_OPTIONS" | sed "s|$T_TOP/tests/lsan.supp|$T_TMP/lsan.supp|")
	export LSAN_OPTIONS ;;
esac
if [ "$hide" = yes ] && unshare -m sh -c 'mount -t tmpfs none "$1" && [ ! -e "$1/fonts" ]' sh "$T_TOP" 2>/dev/null; then
	unshare -m sh -c 'mount -t tmpfs none "$1" && shift && exec "$@"' sh "$T_TOP" \
		env LANGUAGE=zh_CN "$CERTPRESS" render --no-ledger --org "$S/org.conf" \
		-o "$T_TMP/work/hidden.pdf" "$S/sample/batch.csv" >"$T_TMP/stdout" 2>"$T_TMP/stderr"
	T_STATUS=$?
	T_ERR=$(cat "$T_TMP/stderr")
	expect_status 0 "source tree hidden: render the installed sample"
	file_present "$T_TMP/work/hidden.pdf" "source tree hidden: the PDF is written"
	contains "$T_ERR" "已将 20 张证书写入" "source tree hidden: Chinese from the installed catalogue"
else
	skip "no private mount namespace here (unshare -m needs root), or the scratch folder is inside the source tree"
	skip "(the same)"
	skip "(the same)"
fi

# Without the installed fonts the render fails and names where it looked.
mv "$P/share/certpress/fonts" "$P/share/certpress/fonts.away"
run render --no-ledger --org "$S/org.conf" -o "$T_TMP/work/nofonts.pdf" "$S/sample/batch.csv"
expect_status 2 "installed fonts taken away: render fails"
contains "$T_ERR" "$P/share/certpress/fonts" "installed fonts taken away: the error names the installed folder"
file_absent "$T_TMP/work/nofonts.pdf" "installed fonts taken away: no PDF"
mv "$P/share/certpress/fonts.away" "$P/share/certpress/fonts"

# Without the installed catalogue the messages are English.
mv "$P/share/locale" "$P/share/locale.away"
LANGUAGE=zh_CN run check --org "$S/org.conf" "$S/sample/batch.csv"
contains "$T_ERR" "20 records, 20 valid" "installed catalogue taken away: English messages"
mv "$P/share/locale.away" "$P/share/locale"

# make uninstall leaves no file behind.
cd "$T_TOP" || exit 2
ROOT2="$T_TMP/root2"
if make_in_tree install DESTDIR="$ROOT2" PREFIX=/usr/local && [ -x "$ROOT2/usr/local/bin/certpress" ]; then
	if make_in_tree uninstall DESTDIR="$ROOT2" PREFIX=/usr/local; then
		left=$(find "$ROOT2" ! -type d)
		[ -z "$left" ] && ok "make uninstall removes every installed file" ||
			not_ok "make uninstall removes every installed file" "left: $(echo "$left" | head -3)"
	else not_ok "make uninstall" "$(tail -5 "$T_TMP/make.out")"; fi
else not_ok "make install (for uninstall)" "$(tail -5 "$T_TMP/make.out")"; fi
done_testing
