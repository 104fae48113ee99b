#!/bin/sh
# SPDX-License-Identifier: MIT
# Messages are Chinese whenever the user asks for Chinese — LANG, LC_ALL,
# LC_MESSAGES (zh_CN.UTF-8) or LANGUAGE (zh_CN) — both where the zh_CN locale
# is generated and where it is not (a plain Debian has only C.UTF-8; glibc
# then leaves the messages in "C", where its gettext ignores LANGUAGE). "Not
# generated" is a LOCPATH naming an empty folder; "generated" is the system's
# zh_CN.UTF-8 or, failing that, one built by localedef into the scratch
# folder (never system-wide). An explicit C or POSIX locale and other
# languages keep English.
. "$(dirname "$0")/lib.sh"
ORG="$T_TOP/templates/org.conf"
CSV="$T_TOP/templates/sample/batch.csv"
ZH_HELP="排版并打印职业技能等级证书"
EN_HELP="Lay out and print vocational skill level certificates"
mkdir -p "$T_TMP/empty"

# lang_is WANT DESC VAR=VALUE...: `certpress --help` in that environment
# prints WANT (zh or en).
lang_is() {
	want=$1 desc=$2
	shift 2
	out=$(env -u LC_ALL -u LC_MESSAGES -u LANG -u LANGUAGE -u LC_CTYPE -u LOCPATH "$@" \
		"$CERTPRESS" --help 2>&1)
	case "$want" in
	zh) contains "$out" "$ZH_HELP" "$desc: Chinese" ;;
	en) contains "$out" "$EN_HELP" "$desc: English" ;;
	esac
}

# zh_settable VAR=VALUE...: LANG=zh_CN.UTF-8 can be set in that environment.
zh_settable() {
	r=$(env -u LC_ALL -u LANGUAGE "$@" LANG=zh_CN.UTF-8 locale 2>&1 >/dev/null)
	[ -z "$r" ]
}

# --- zh_CN not generated -----------------------------------------------------
NOGEN="LOCPATH=$T_TMP/empty"
if zh_settable "$NOGEN"; then
	not_ok "an empty LOCPATH hides zh_CN.UTF-8" "locale accepted LANG=zh_CN.UTF-8"
else ok "an empty LOCPATH hides zh_CN.UTF-8 (not generated)"; fi
for v in LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8 LC_MESSAGES=zh_CN.UTF-8 LANGUAGE=zh_CN \
	LANG=zh_CN LANG=zh_CN.GB18030; do
	lang_is zh "not generated, $v" "$NOGEN" "$v"
done
lang_is zh "not generated, LANG=en_US.UTF-8 LANGUAGE=zh_CN" "$NOGEN" LANG=en_US.UTF-8 LANGUAGE=zh_CN
lang_is zh "not generated, LANG=C.UTF-8 LANGUAGE=zh_CN:en" "$NOGEN" LANG=C.UTF-8 LANGUAGE=zh_CN:en
lang_is en "not generated, nothing set" "$NOGEN"
lang_is en "not generated, LANG=en_US.UTF-8" "$NOGEN" LANG=en_US.UTF-8
lang_is en "not generated, LANG=C.UTF-8" "$NOGEN" LANG=C.UTF-8
lang_is en "not generated, LC_ALL=C LANGUAGE=zh_CN (an explicit C wins)" "$NOGEN" LC_ALL=C LANGUAGE=zh_CN
lang_is en "not generated, LC_ALL=POSIX LANG=zh_CN.UTF-8" "$NOGEN" LC_ALL=POSIX LANG=zh_CN.UTF-8
lang_is en "not generated, LANG=fr_FR.UTF-8 (no catalogue)" "$NOGEN" LANG=fr_FR.UTF-8

# The library's messages too, and the Chinese passes through as UTF-8.
for v in LANG=zh_CN.UTF-8 LANGUAGE=zh_CN; do
	out=$(env -u LC_ALL -u LC_MESSAGES -u LANG -u LANGUAGE -u LC_CTYPE "$NOGEN" "$v" \
		"$CERTPRESS" check --org "$ORG" "$CSV" 2>&1)
	contains "$out" "20 条记录, 20 条有效, 0 条不予打印" "not generated, $v: check's summary in Chinese"
	out=$(env -u LC_ALL -u LC_MESSAGES -u LANG -u LANGUAGE -u LC_CTYPE "$NOGEN" "$v" \
		"$CERTPRESS" check --org "$ORG" --no-such-option "$CSV" 2>&1)
	contains "$out" "请尝试" "not generated, $v: usage errors in Chinese"
done

# --- zh_CN generated ---------------------------------------------------------
GEN=""
mkdir -p "$T_TMP/loc"
# GEN is one VAR=VALUE: a LOCPATH, or a variable of no effect for the system's.
if zh_settable T_LOCALES=system; then
	GEN="T_LOCALES=system"
	ok "zh_CN.UTF-8 is generated on this machine"
elif have localedef && [ -f /usr/share/i18n/locales/zh_CN ] &&
	localedef -i zh_CN -f UTF-8 "$T_TMP/loc/zh_CN.UTF-8" >/dev/null 2>&1 &&
	zh_settable "LOCPATH=$T_TMP/loc"; then
	GEN="LOCPATH=$T_TMP/loc"
	ok "zh_CN.UTF-8 generated into the scratch folder (LOCPATH)"
else
	skip "zh_CN.UTF-8 is not generated here and cannot be built (localedef and the locales package's /usr/share/i18n/locales/zh_CN are needed)"
fi
if [ -n "$GEN" ]; then
	for v in LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8 LC_MESSAGES=zh_CN.UTF-8 LANGUAGE=zh_CN; do
		lang_is zh "generated, $v" "$GEN" "$v"
	done
	lang_is en "generated, LC_ALL=C LANG=zh_CN.UTF-8" "$GEN" LC_ALL=C LANG=zh_CN.UTF-8
	lang_is en "generated, LANG=zh_CN.UTF-8 LANGUAGE=en" "$GEN" LANG=zh_CN.UTF-8 LANGUAGE=en
	out=$(env -u LC_ALL -u LC_MESSAGES -u LANG -u LANGUAGE -u LC_CTYPE "$GEN" LANG=zh_CN.UTF-8 \
		"$CERTPRESS" check --org "$ORG" "$CSV" 2>&1)
	contains "$out" "20 条记录, 20 条有效, 0 条不予打印" "generated, LANG=zh_CN.UTF-8: check's summary in Chinese"
else
	for i in 1 2 3 4 5 6 7; do skip "(the same)"; done
fi
done_testing
