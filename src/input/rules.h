/* SPDX-License-Identifier: MIT */
/*
 * The field rules of SPEC.md as pure functions: no I/O, no global state, so
 * they can be unit-tested and fuzzed on their own. The checker (checker.c)
 * runs them on each record; the profile loader reuses the level, province and
 * text rules.
 *
 * Every rule takes the raw cell (may be NULL, treated as blank) and appends
 * what it finds to a cp_violations list: a stable rule id ("cert_no.prefix"),
 * where the rule comes from (an article of 职业技能等级证书管理办法,
 * "第十三条", or a national notice, "编码规则"; cp_rule_source_of()) and a
 * translated message. A rule returns true when it found no error (warnings
 * allowed). Normalised values are written into caller buffers of the sizes
 * given below, or returned newly allocated where stated.
 *
 * ID numbers never appear whole in a message; messages name positions and
 * parts instead (the checker stores the masked value beside the message).
 */
#ifndef CP_RULES_H
#define CP_RULES_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "certpress.h"

#define CP_RULES_MAX_VIOLATIONS 16   /* per rule call; further ones are dropped */
#define CP_RULES_MAX_TEXT_BYTES 1024 /* longest cell any rule accepts */
#define CP_RULES_MAX_NAME_CHARS 64   /* longest holder name, in characters */
#define CP_RULES_MAX_FIELD_CHARS 100 /* longest occupation / job type / org name */

typedef struct cp_violation {
	cp_severity severity;
	const char *rule;    /* static */
	const char *article; /* static, or NULL */
	char *message;       /* translated, owned (g_free) */
} cp_violation;

typedef struct cp_violations {
	cp_violation items[CP_RULES_MAX_VIOLATIONS];
	size_t len;
} cp_violations;

/* Frees the messages and empties the list. */
void cp_violations_clear(cp_violations *v);

/* Every rule id certpress reports, with its source as docs/rules.md gives
 * it ("第十一条", "编码规则", "样式通知"; NULL for a rule of certpress's
 * own, "—" in the doc). */
typedef struct cp_rule_source {
	const char *rule;
	const char *source;
} cp_rule_source;

const cp_rule_source *cp_rule_sources(size_t *n);
/* The source of a rule id (static), NULL for one of ours or an unknown id. */
const char *cp_rule_source_of(const char *rule);
/* Number of CP_SEV_ERROR items. */
size_t cp_violations_errors(const cp_violations *v);

/* ------------------------------------------------------------ level (第七条) */

/* Canonical text of a level 1..5 ("三级/高级工"), or NULL. Static. */
const char *cp_rule_level_text(int level);
/* Parses any accepted level form: "3", "３", "三级", "高级工", "高级", the
 * canonical "三级/高级工", surrounding blanks ignored. Returns 1..5, 0 when
 * not a level. */
int cp_rule_level_parse(const char *s);
/* The level rule: *level receives 1..5 (0 on failure). */
bool cp_rule_level(const char *s, int *level, cp_violations *v);

/* ---------------------------------------------------------- regions, dates */

/* True when code (two digits) is a province-level division of GB/T 2260
 * (11 北京 … 65 新疆); Taiwan, Hong Kong, Macao (71, 81, 82) are not. */
bool cp_rule_province_valid(int code);
/* True for a real Gregorian date (leap years included). */
bool cp_rule_date_valid(int y, int m, int d);

/* The issue date rule: 2026-11-27, 2026/11/27, 2026.11.27, 2026年11月27日,
 * without zero padding too, full-width digits allowed; year 2000–2099.
 * On success y/m/d are set, and display (at least 32 bytes, may be NULL)
 * receives "2026年11月27日". */
#define CP_RULES_DATE_BYTES 32
bool cp_rule_issue_date(const char *s, int *y, int *m, int *d, char *display,
                        cp_violations *v);

/* ----------------------------------------------------- certificate number */

typedef struct cp_cert_no_ctx {
	const char *prefix;  /* the profile's 13 characters, or NULL: not checked */
	bool special_grades; /* 2 letters + 20 digits allowed (第七条) */
	int year;            /* issue year, or 0 when unknown: not checked */
	int level;           /* 1..5, or 0 when unknown: not checked */
} cp_cert_no_ctx;

#define CP_RULES_CERT_NO_BYTES 23
/* The certificate number rule (第十三条): 22 characters, 1 uppercase letter +
 * 21 digits (2 + 20 with special_grades), category Y|S, prefix, year, level
 * digit, serial. Full-width letters and digits are read as ASCII. Every
 * failing part is its own violation naming its positions. norm (at least
 * CP_RULES_CERT_NO_BYTES, may be NULL) receives the number in ASCII. */
bool cp_rule_cert_no(const char *s, const cp_cert_no_ctx *ctx, char *norm,
                     cp_violations *v);
/* The organization part (positions 1–13) alone, as written in a profile:
 * category, ministry code, province, site serial. */
bool cp_rule_cert_prefix(const char *s, cp_violations *v);

/* -------------------------------------------------------------- ID numbers */

typedef enum cp_id_type {
	CP_ID_RESIDENT,        /* 居民身份证 */
	CP_ID_PASSPORT,        /* 护照 */
	CP_ID_HKMO_PERMIT,     /* 港澳居民来往内地通行证 */
	CP_ID_TW_PERMIT,       /* 台湾居民来往大陆通行证 */
	CP_ID_FOREIGN_PR,      /* 外国人永久居留身份证 */
	CP_ID_HMT_RESIDENCE,   /* 港澳台居民居住证 */
	CP_ID_TYPE_COUNT
} cp_id_type;

/* Canonical name of an ID type, or NULL. Static. */
const char *cp_rule_id_type_name(cp_id_type t);
/* The ID type rule: canonical names and common aliases ("身份证", "台胞证",
 * "回乡证" …). *type receives the type, -1 on failure. */
bool cp_rule_id_type(const char *s, int *type, cp_violations *v);

/* The GB 11643 check character ('0'..'9' or 'X') of 17 ASCII digits, or 0
 * when the input is not 17 digits. */
char cp_rule_id_check_char(const char *digits17);

#define CP_RULES_ID_BYTES 32
/* The ID number rule for a type. Issue date parts may be 0 (unknown: the
 * birth date is then only checked against 1900 and the calendar). norm (at
 * least CP_RULES_ID_BYTES, may be NULL) receives the normalised number
 * (blanks removed, full-width read as ASCII, letters upper-cased). */
bool cp_rule_id_number(cp_id_type type, const char *s, int issue_y, int issue_m,
                       int issue_d, char *norm, cp_violations *v);

/* ------------------------------------------------------------------- text */

/* The text rule for any printed field: valid UTF-8, at most max_chars
 * characters, no control, bidi, invisible format (any default-ignorable
 * code point: zero-width, Hangul fillers, variation selectors …), private-use
 * or unassigned characters. label is the field's name for messages. A blank value passes
 * (blankness is the caller's business). */
bool cp_rule_text(const char *label, const char *s, size_t max_chars,
                  cp_violations *v);

/* True for a character that prints as nothing or reorders its neighbours:
 * format characters (zero-width, bidi controls …), line and paragraph
 * separators and the other default-ignorable code points the text rule
 * refuses. Reports show these as escapes. */
bool cp_rule_char_invisible(gunichar c);

/* The holder name rule (第十一条): the text rule plus CJK ideographs (Ext A–H
 * and compatibility ideographs included), Latin letters with single spaces,
 * hyphens and apostrophes, and the middle dot between parts. Look-alike dots
 * (U+30FB, U+2027, U+FF65, U+2022, U+2219) become U+00B7, a typographic
 * apostrophe (U+2019) becomes ', runs of blanks become one and the result is
 * NFC. Returns the normalised name (g_free) or NULL with violations. */
char *cp_rule_name(const char *s, cp_violations *v);

/* Trims surrounding blanks (ASCII, U+00A0, U+3000) and returns a new string
 * (g_free); NULL stays NULL. */
char *cp_rule_trim(const char *s);
/* True when s is NULL or only blanks. */
bool cp_rule_blank(const char *s);

#endif
