/* SPDX-License-Identifier: MIT */
#include "input/rules.h"

#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "i18n.h"

/* Where each rule comes from: an article of 职业技能等级证书管理办法, or
 * one of the two national notices (SPEC.md), or none (NULL: a rule of
 * ours, docs/rules.md "—"). The one place a rule's source is written:
 * every problem takes its tag from here, and tests/test_rules.c holds this
 * table, docs/rules.md and the rule ids in src/ to one another. */
#define SRC_LEVEL "第七条"     /* the levels, 特级技师/首席技师 */
#define SRC_SCOPE "第九条"     /* the registered scope */
#define SRC_CONTENT "第十一条" /* what a certificate shows */
#define SRC_NAMES "第十二条"   /* occupation and job type names, "--" */
#define SRC_NUMBER "第十三条"  /* 22 characters, one number per certificate */
#define SRC_PRINT "第十五条"   /* printed by a printer, the photo printed */
#define SRC_LEDGER "第十八条"  /* the ledgers of printing and stock */
#define SRC_REISSUE "第十七条" /* a reissue keeps the number */
#define SRC_REVOKE "第二十四条" /* a revoked certificate */
#define SRC_CODING "编码规则"  /* 人社鉴发〔2019〕2号: the number's positions */
#define SRC_STYLE "样式通知"   /* 人社鉴发〔2021〕1号: the 1-inch photo */

static const cp_rule_source rule_sources[] = {
	{"name.missing", SRC_CONTENT},
	{"id_type.missing", SRC_CONTENT},
	{"id_number.missing", SRC_CONTENT},
	{"occupation.missing", SRC_CONTENT},
	{"level.missing", SRC_CONTENT},
	{"cert_no.missing", SRC_CONTENT},
	{"issue_date.missing", SRC_CONTENT},
	{"job_type.missing", SRC_NAMES},
	{"row.cells", NULL},
	{"text.utf8", SRC_PRINT},
	{"text.control", SRC_PRINT},
	{"text.bidi", SRC_PRINT},
	{"text.invisible", SRC_PRINT},
	{"text.private_use", SRC_PRINT},
	{"text.unassigned", SRC_PRINT},
	{"text.length", SRC_PRINT},
	{"name.charset", SRC_CONTENT},
	{"name.digit", SRC_CONTENT},
	{"name.space", SRC_CONTENT},
	{"name.separator", SRC_CONTENT},
	{"name.text", SRC_CONTENT},
	{"name.dot", SRC_CONTENT},
	{"id_type.unknown", SRC_CONTENT},
	{"id_number.excel", SRC_CONTENT},
	{"id_number.length", SRC_CONTENT},
	{"id_number.charset", SRC_CONTENT},
	{"id_number.format", SRC_CONTENT},
	{"id_number.region", SRC_CONTENT},
	{"id_number.birth_date", SRC_CONTENT},
	{"id_number.age", SRC_CONTENT},
	{"id_number.check", SRC_CONTENT},
	{"level.unknown", SRC_LEVEL},
	{"cert_no.length", SRC_NUMBER},
	{"cert_no.charset", SRC_NUMBER},
	{"cert_no.format", SRC_NUMBER},
	{"cert_no.text", SRC_NUMBER},
	{"cert_no.category", SRC_CODING},
	{"cert_no.prefix", SRC_CODING},
	{"cert_no.province", SRC_CODING},
	{"cert_no.year", SRC_CODING},
	{"cert_no.level", SRC_CODING},
	{"cert_no.serial", SRC_CODING},
	{"cert_no.special", SRC_LEVEL},
	{"cert_no.duplicate", SRC_NUMBER},
	{"cert_prefix.length", SRC_CODING},
	{"cert_prefix.category", SRC_CODING},
	{"cert_prefix.format", SRC_CODING},
	{"cert_prefix.province", SRC_CODING},
	{"ledger.issued", SRC_NUMBER},
	{"ledger.serial", SRC_LEDGER},
	{"ledger.reissue", SRC_REISSUE},
	{"ledger.revoked", SRC_REVOKE},
	{"issue_date.format", SRC_CONTENT},
	{"issue_date.calendar", SRC_CONTENT},
	{"issue_date.range", SRC_CONTENT},
	{"issue_date.excel", SRC_CONTENT},
	{"scope.occupation", SRC_SCOPE},
	{"scope.job_type", SRC_SCOPE},
	{"scope.level", SRC_SCOPE},
	{"photo.outside", NULL},
	{"photo.image", SRC_PRINT},
	{"photo.missing", SRC_PRINT},
	{"photo.picture", SRC_PRINT},
	{"photo.case", SRC_PRINT},
	{"photo.aspect", SRC_STYLE},
	{"photo.exif", SRC_PRINT},
	{"photo.crop", SRC_STYLE},
	{"photo.resolution", SRC_STYLE},
	{"layout.print", SRC_PRINT},
	{"layout.font_fallback", NULL},
};

const cp_rule_source *cp_rule_sources(size_t *n)
{
	*n = G_N_ELEMENTS(rule_sources);
	return rule_sources;
}

const char *cp_rule_source_of(const char *rule)
{
	for (size_t i = 0; rule && i < G_N_ELEMENTS(rule_sources); i++)
		if (strcmp(rule_sources[i].rule, rule) == 0)
			return rule_sources[i].source;
	return NULL;
}

/* A compiled pattern kept for the life of the process: the rules run once
 * per record and compiling a GRegex costs more than matching it. Patterns
 * are constant, so a failure to compile is a programming error. Not
 * G_REGEX_OPTIMIZE: PCRE2's JIT gains nothing measurable on these short
 * patterns, and its generated code is opaque to Valgrind (`make valgrind`
 * reported uninitialised jumps inside it). */
static GRegex *cached_regex(GRegex *volatile *slot, const char *pattern)
{
	if (g_once_init_enter((gsize *)slot)) {
		GRegex *re = g_regex_new(pattern, 0, 0, NULL);
		g_assert(re);
		g_once_init_leave((gsize *)slot, (gsize)re);
	}
	return *slot;
}

static void add(cp_violations *v, cp_severity sev, const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add(cp_violations *v, cp_severity sev, const char *rule, const char *fmt, ...)
{
	if (!v || v->len >= CP_RULES_MAX_VIOLATIONS)
		return;
	va_list ap;
	va_start(ap, fmt);
	v->items[v->len++] = (cp_violation){
		.severity = sev, .rule = rule, .article = cp_rule_source_of(rule),
		.message = g_strdup_vprintf(fmt, ap),
	};
	va_end(ap);
}

#define ERR(v, rule, ...) add(v, CP_SEV_ERROR, rule, __VA_ARGS__)
#define WARN(v, rule, ...) add(v, CP_SEV_WARNING, rule, __VA_ARGS__)

void cp_violations_clear(cp_violations *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->len; i++)
		g_free(v->items[i].message);
	v->len = 0;
}

size_t cp_violations_errors(const cp_violations *v)
{
	size_t n = 0;
	for (size_t i = 0; v && i < v->len; i++)
		n += v->items[i].severity == CP_SEV_ERROR;
	return n;
}

/* ---------------------------------------------------------------- helpers */

static bool is_blank_char(gunichar c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x00A0 ||
	       c == 0x3000;
}

bool cp_rule_blank(const char *s)
{
	if (!s)
		return true;
	if (!g_utf8_validate(s, -1, NULL))
		return false;
	for (const char *p = s; *p; p = g_utf8_next_char(p))
		if (!is_blank_char(g_utf8_get_char(p)))
			return false;
	return true;
}

char *cp_rule_trim(const char *s)
{
	if (!s)
		return NULL;
	if (!g_utf8_validate(s, -1, NULL))
		return g_strdup(s);
	const char *b = s;
	while (*b && is_blank_char(g_utf8_get_char(b)))
		b = g_utf8_next_char(b);
	const char *e = b + strlen(b);
	while (e > b) {
		const char *q = g_utf8_prev_char(e);
		if (!is_blank_char(g_utf8_get_char(q)))
			break;
		e = q;
	}
	return g_strndup(b, (gsize)(e - b));
}

/* Reads a structured ASCII value (level, date, numbers) the way operators
 * type it with a Chinese input method: full-width forms become ASCII,
 * surrounding blanks go, and with squeeze every inner blank goes too. Other
 * non-ASCII characters are kept as they are for the caller to report. The
 * result fits out (size outsz) or false is returned. */
static bool fold_ascii(const char *s, bool squeeze, char *out, size_t outsz)
{
	if (!s || outsz == 0)
		return false;
	size_t len = strlen(s);
	if (len > CP_RULES_MAX_TEXT_BYTES || !g_utf8_validate(s, (gssize)len, NULL))
		return false;
	size_t n = 0;
	size_t keep = 0; /* length without trailing blanks */
	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c >= 0xFF01 && c <= 0xFF5E)
			c = c - 0xFF01 + 0x21;
		if (is_blank_char(c)) {
			if (n == 0 || squeeze)
				continue;
			c = ' ';
		}
		char buf[6];
		int k = g_unichar_to_utf8(c, buf);
		if (n + (size_t)k >= outsz)
			return false;
		memcpy(out + n, buf, (size_t)k);
		n += (size_t)k;
		if (c != ' ')
			keep = n;
	}
	out[keep] = '\0';
	return true;
}

/* Spreadsheets mark a cell as text with a leading apostrophe ('4401…), and
 * some exports keep it: it is not part of the number. */
static void drop_text_mark(char *buf)
{
	if (buf[0] == '\'')
		memmove(buf, buf + 1, strlen(buf));
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isdigit(s[i]))
			return false;
	return true;
}

static int digits_value(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* Describes the first non-ASCII character of s for a message:
 * "'Ａ' (U+FF21) at position 3". Free with g_free(). */
static char *describe_non_ascii(const char *s, bool show_char)
{
	long pos = 1;
	for (const char *p = s; *p; p = g_utf8_next_char(p), pos++) {
		if ((unsigned char)*p >= 0x80) {
			gunichar c = g_utf8_get_char(p);
			if (!show_char)
				return g_strdup_printf(_("U+%04X at position %ld"), c, pos);
			char buf[7] = {0};
			g_unichar_to_utf8(c, buf);
			return g_strdup_printf(_("'%s' (U+%04X) at position %ld"), buf, c,
			                       pos);
		}
	}
	return NULL;
}

static bool has_non_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* ------------------------------------------------------------------ level */

static const char *const level_text[6] = {
	NULL, "一级/高级技师", "二级/技师", "三级/高级工", "四级/中级工", "五级/初级工",
};

/* Every accepted spelling; the canonical text is matched separately. */
static const struct {
	const char *s;
	int level;
} level_forms[] = {
	{"1", 1}, {"一级", 1}, {"高级技师", 1},
	{"2", 2}, {"二级", 2}, {"技师", 2},
	{"3", 3}, {"三级", 3}, {"高级工", 3}, {"高级", 3},
	{"4", 4}, {"四级", 4}, {"中级工", 4}, {"中级", 4},
	{"5", 5}, {"五级", 5}, {"初级工", 5}, {"初级", 5},
};

const char *cp_rule_level_text(int level)
{
	return level >= 1 && level <= 5 ? level_text[level] : NULL;
}

int cp_rule_level_parse(const char *s)
{
	char buf[64];
	if (!fold_ascii(s, false, buf, sizeof buf))
		return 0;
	for (size_t i = 0; i < G_N_ELEMENTS(level_forms); i++)
		if (strcmp(buf, level_forms[i].s) == 0)
			return level_forms[i].level;
	for (int l = 1; l <= 5; l++)
		if (strcmp(buf, level_text[l]) == 0)
			return l;
	return 0;
}

bool cp_rule_level(const char *s, int *level, cp_violations *v)
{
	*level = 0;
	if (cp_rule_blank(s)) {
		ERR(v, "level.missing", _("the level is blank"));
		return false;
	}
	*level = cp_rule_level_parse(s);
	if (*level == 0) {
		ERR(v, "level.unknown",
		    _("not a skill level; write 5/五级/初级工, 4/四级/中级工, "
		      "3/三级/高级工, 2/二级/技师 or 1/一级/高级技师"));
		return false;
	}
	return true;
}

/* ---------------------------------------------------------- regions, dates */

bool cp_rule_province_valid(int code)
{
	/* GB/T 2260 province-level divisions of the mainland. */
	static const unsigned char codes[] = {
		11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41,
		42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65,
	};
	for (size_t i = 0; i < sizeof codes; i++)
		if (codes[i] == code)
			return true;
	return false;
}

bool cp_rule_date_valid(int y, int m, int d)
{
	return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
	       g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y);
}

/* Reads 1..max digits at *p into *out and advances. */
static bool take_num(const char **p, int min_digits, int max_digits, int *out)
{
	int n = 0, v = 0;
	while (g_ascii_isdigit((*p)[n]) && n < max_digits) {
		v = v * 10 + ((*p)[n] - '0');
		n++;
	}
	if (n < min_digits || g_ascii_isdigit((*p)[n]))
		return false;
	*p += n;
	*out = v;
	return true;
}

static bool parse_date(const char *s, int *y, int *m, int *d)
{
	const char *p = s;
	if (!take_num(&p, 4, 4, y))
		return false;
	if (strncmp(p, "年", strlen("年")) == 0) {
		p += strlen("年");
		if (!take_num(&p, 1, 2, m) || strncmp(p, "月", strlen("月")) != 0)
			return false;
		p += strlen("月");
		if (!take_num(&p, 1, 2, d) || strcmp(p, "日") != 0)
			return false;
		return true;
	}
	char sep = *p;
	if (sep != '-' && sep != '/' && sep != '.')
		return false;
	p++;
	if (!take_num(&p, 1, 2, m) || *p != sep)
		return false;
	p++;
	return take_num(&p, 1, 2, d) && *p == '\0';
}

bool cp_rule_issue_date(const char *s, int *y, int *m, int *d, char *display,
                        cp_violations *v)
{
	*y = *m = *d = 0;
	if (cp_rule_blank(s)) {
		ERR(v, "issue_date.missing", _("the issue date is blank"));
		return false;
	}
	char buf[64];
	int yy, mm, dd;
	bool folded = fold_ascii(s, false, buf, sizeof buf);
	if (folded) {
		/* A date cell that also holds a time exports as "2026/11/27 0:00";
		 * the day is what the certificate prints. */
		static GRegex *volatile time_re;
		GRegex *re = cached_regex(&time_re, "\\s+[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?\\s*$");
		char *cut = g_regex_replace_literal(re, buf, -1, 0, "", 0, NULL);
		if (cut) {
			g_strlcpy(buf, cut, sizeof buf);
			g_free(cut);
		}
	}
	static GRegex *volatile serial_re;
	if (folded && g_regex_match(cached_regex(&serial_re, "^\\s*[0-9]{5}(\\.[0-9]+)?\\s*$"),
	                            buf, 0, NULL)) {
		ERR(v, "issue_date.excel",
		    _("the spreadsheet exported the date as its serial number; format the "
		      "column as a date (2026/11/27) and export again"));
		return false;
	}
	if (!folded || !parse_date(buf, &yy, &mm, &dd)) {
		ERR(v, "issue_date.format",
		    _("not a date; write 2026-11-27, 2026/11/27, 2026.11.27 or "
		      "2026年11月27日"));
		return false;
	}
	if (!cp_rule_date_valid(yy, mm, dd)) {
		ERR(v, "issue_date.calendar",
		    _("%04d-%02d-%02d is not a day of the calendar"), yy, mm, dd);
		return false;
	}
	if (yy < 2000 || yy > 2099) {
		ERR(v, "issue_date.range",
		    _("the year %d is outside 2000–2099 (the certificate number holds "
		      "two year digits)"), yy);
		return false;
	}
	*y = yy;
	*m = mm;
	*d = dd;
	if (display)
		snprintf(display, CP_RULES_DATE_BYTES, "%d年%d月%d日", yy, mm, dd);
	return true;
}

/* ----------------------------------------------------- certificate number */

/* Names a run of 1-based positions: "position 3" or "positions 2–5". */
static char *positions(int from, int to)
{
	if (from == to)
		return g_strdup_printf(_("position %d"), from);
	return g_strdup_printf(_("positions %d–%d"), from, to);
}

/* Lists the 1-based positions in [from, to] where s is not a digit:
 * "3, 7, 8". Empty string when all are digits. Free with g_free(). */
static char *non_digit_positions(const char *s, int from, int to)
{
	GString *g = g_string_new(NULL);
	for (int i = from; i <= to; i++) {
		if (!g_ascii_isdigit(s[i - 1]))
			g_string_append_printf(g, "%s%d", g->len ? ", " : "", i);
	}
	return g_string_free(g, FALSE);
}

static bool check_prefix_parts(const char *s, bool special, const char *profile,
                               cp_violations *v, const char *rule_prefix)
{
	bool ok = true;
	/* The organization part: category (1), ministry code (2–5), province
	 * (6–7), site serial (8–13). With a special-grade number (ours: 2
	 * letters + 20 digits) position 2 holds the grade letter, so the ministry
	 * code is not compared. */
	static const struct {
		int from, to;
		const char *what;
	} parts[] = {
		{1, 1, N_("organization category")},
		{2, 5, N_("ministry code")},
		{6, 7, N_("province code")},
		{8, 13, N_("organization site serial")},
	};
	GString *diff = g_string_new(NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(parts); i++) {
		int a = parts[i].from, b = parts[i].to;
		if (special && a == 2)
			continue;
		if (memcmp(s + a - 1, profile + a - 1, (size_t)(b - a + 1)) == 0)
			continue;
		char *pos = positions(a, b);
		g_string_append_printf(diff, "%s%s (%s) %.*s ≠ %.*s", diff->len ? "; " : "",
		                       pos, _(parts[i].what), b - a + 1, s + a - 1,
		                       b - a + 1, profile + a - 1);
		g_free(pos);
		ok = false;
	}
	if (!ok)
		ERR(v, rule_prefix,
		    _("the organization part does not match the profile's %s: %s"),
		    profile, diff->str);
	g_string_free(diff, TRUE);
	return ok;
}

bool cp_rule_cert_no(const char *s, const cp_cert_no_ctx *ctx, char *norm,
                     cp_violations *v)
{
	if (norm)
		norm[0] = '\0';
	size_t before = cp_violations_errors(v);
	if (cp_rule_blank(s)) {
		ERR(v, "cert_no.missing", _("the certificate number is blank"));
		return false;
	}
	char buf[CP_RULES_MAX_TEXT_BYTES + 1];
	if (!fold_ascii(s, false, buf, sizeof buf)) {
		ERR(v, "cert_no.text",
		    _("the certificate number is not valid UTF-8 text or is far too long"));
		return false;
	}
	drop_text_mark(buf);
	if (has_non_ascii(buf) || strchr(buf, ' ')) {
		char *what = has_non_ascii(buf) ? describe_non_ascii(buf, true)
		                                : g_strdup(_("a blank"));
		ERR(v, "cert_no.charset",
		    _("the certificate number may hold only letters A–Z and digits; "
		      "it has %s"), what);
		g_free(what);
		return false;
	}
	size_t len = strlen(buf);
	if (len != 22) {
		ERR(v, "cert_no.length",
		    _("the certificate number has %zu characters; it must have 22 "
		      "(1 uppercase letter and 21 digits)"), len);
		return false;
	}
	if (norm)
		memcpy(norm, buf, 23);

	bool special = g_ascii_isalpha(buf[1]);
	if (!g_ascii_isupper(buf[0]))
		ERR(v, "cert_no.format",
		    g_ascii_islower(buf[0])
		            ? _("position 1 must be an uppercase letter; it is lowercase")
		            : _("position 1 must be an uppercase letter (the organization "
		                "category)"));
	else if (buf[0] != 'Y' && buf[0] != 'S')
		ERR(v, "cert_no.category",
		    _("position 1 (organization category) is %c; it must be Y (employer) "
		      "or S (social training-and-evaluation organization)"), buf[0]);
	if (special) {
		if (!ctx || !ctx->special_grades)
			ERR(v, "cert_no.special",
			    _("position 2 is a letter: 2 letters + 20 digits is the "
			      "特级技师/首席技师 form, which the profile does not allow "
			      "(special_grades = no)"));
		else if (!g_ascii_isupper(buf[1]))
			ERR(v, "cert_no.format",
			    _("position 2 must be an uppercase letter"));
	}
	int first_digit = special ? 3 : 2;
	char *bad = non_digit_positions(buf, first_digit, 22);
	if (*bad)
		ERR(v, "cert_no.format",
		    _("positions %d–22 must be digits; not a digit at position %s"),
		    first_digit, bad);
	g_free(bad);

	/* The parts that follow are only compared when they are digits (a
	 * non-digit was named above). */
	if (ctx && ctx->prefix && strlen(ctx->prefix) == 13) {
		/* A lower-case letter was named above (cert_no.format): compare
		 * the letter it stands for, so the operator gets one message. */
		char up[23];
		memcpy(up, buf, sizeof up);
		up[0] = g_ascii_toupper(up[0]);
		if (special)
			up[1] = g_ascii_toupper(up[1]);
		check_prefix_parts(up, special, ctx->prefix, v, "cert_no.prefix");
	}
	else if (all_digits(buf + 5, 2) && !cp_rule_province_valid(digits_value(buf + 5, 2)))
		ERR(v, "cert_no.province",
		    _("positions 6–7 (province code) are %.2s, not a province of GB/T 2260"),
		    buf + 5);

	if (ctx && ctx->year > 0 && all_digits(buf + 13, 2) &&
	    digits_value(buf + 13, 2) != ctx->year % 100)
		ERR(v, "cert_no.year",
		    _("positions 14–15 (issue year) are %.2s but the issue date is in %d "
		      "(expected %02d)"), buf + 13, ctx->year, ctx->year % 100);

	if (g_ascii_isdigit(buf[15])) {
		int l = buf[15] - '0';
		if (l < 1 || l > 5)
			ERR(v, "cert_no.level",
			    _("position 16 (level) is %c; it must be 1–5"), buf[15]);
		else if (ctx && ctx->level >= 1 && ctx->level <= 5 && l != ctx->level)
			ERR(v, "cert_no.level",
			    _("position 16 (level) is %d (%s) but the record's level is %d (%s)"),
			    l, level_text[l], ctx->level, level_text[ctx->level]);
	}
	if (all_digits(buf + 16, 6) && memcmp(buf + 16, "000000", 6) == 0)
		ERR(v, "cert_no.serial",
		    _("positions 17–22 (certificate serial) are 000000; serials start at "
		      "000001"));
	return cp_violations_errors(v) == before;
}

bool cp_rule_cert_prefix(const char *s, cp_violations *v)
{
	size_t before = cp_violations_errors(v);
	if (!s || strlen(s) != 13 || has_non_ascii(s)) {
		ERR(v, "cert_prefix.length",
		    _("the organization part of the certificate number must be 13 "
		      "characters: category Y or S, ministry code (4 digits), province "
		      "code (2 digits), site serial (6 digits)"));
		return false;
	}
	if (s[0] != 'Y' && s[0] != 'S')
		ERR(v, "cert_prefix.category",
		    _("position 1 (organization category) must be Y (employer) or S "
		      "(social training-and-evaluation organization)"));
	char *bad = non_digit_positions(s, 2, 13);
	if (*bad)
		ERR(v, "cert_prefix.format",
		    _("positions 2–13 must be digits; not a digit at position %s"), bad);
	g_free(bad);
	if (all_digits(s + 5, 2) && !cp_rule_province_valid(digits_value(s + 5, 2)))
		ERR(v, "cert_prefix.province",
		    _("positions 6–7 (province code) are %.2s, not a province of GB/T "
		      "2260 (11 北京 … 65 新疆)"), s + 5);
	return cp_violations_errors(v) == before;
}

/* -------------------------------------------------------------- ID numbers */

static const char *const id_type_names[CP_ID_TYPE_COUNT] = {
	"居民身份证", "护照", "港澳居民来往内地通行证", "台湾居民来往大陆通行证",
	"外国人永久居留身份证", "港澳台居民居住证",
};

static const struct {
	const char *alias;
	cp_id_type type;
} id_aliases[] = {
	{"身份证", CP_ID_RESIDENT},
	{"中华人民共和国居民身份证", CP_ID_RESIDENT},
	{"二代身份证", CP_ID_RESIDENT},
	{"中华人民共和国护照", CP_ID_PASSPORT},
	{"外国护照", CP_ID_PASSPORT},
	{"港澳通行证", CP_ID_HKMO_PERMIT},
	{"回乡证", CP_ID_HKMO_PERMIT},
	{"台湾通行证", CP_ID_TW_PERMIT},
	{"台胞证", CP_ID_TW_PERMIT},
	{"外国人永久居留证", CP_ID_FOREIGN_PR},
	{"港澳居民居住证", CP_ID_HMT_RESIDENCE},
	{"台湾居民居住证", CP_ID_HMT_RESIDENCE},
};

const char *cp_rule_id_type_name(cp_id_type t)
{
	return (unsigned)t < CP_ID_TYPE_COUNT ? id_type_names[t] : NULL;
}

bool cp_rule_id_type(const char *s, int *type, cp_violations *v)
{
	*type = -1;
	if (cp_rule_blank(s)) {
		ERR(v, "id_type.missing", _("the ID type is blank"));
		return false;
	}
	char buf[128];
	if (fold_ascii(s, true, buf, sizeof buf)) {
		for (int t = 0; t < CP_ID_TYPE_COUNT; t++)
			if (strcmp(buf, id_type_names[t]) == 0)
				*type = t;
		for (size_t i = 0; *type < 0 && i < G_N_ELEMENTS(id_aliases); i++)
			if (strcmp(buf, id_aliases[i].alias) == 0)
				*type = (int)id_aliases[i].type;
	}
	if (*type < 0) {
		char *known = g_strjoinv("、", (char **)id_type_names);
		ERR(v, "id_type.unknown",
		    _("unknown ID type; the known ones are %s"), known);
		g_free(known);
		return false;
	}
	return true;
}

char cp_rule_id_check_char(const char *digits17)
{
	static const int weight[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	static const char check[] = "10X98765432";
	if (!digits17)
		return 0;
	int sum = 0;
	for (int i = 0; i < 17; i++) {
		if (!g_ascii_isdigit(digits17[i]))
			return 0;
		sum += (digits17[i] - '0') * weight[i];
	}
	return check[sum % 11];
}

/* Birth date at s (YYYYMMDD), checked against the calendar, 1900 and the
 * issue date (age 14 at least). */
static void check_birth(const char *s, int from, int iy, int im, int id,
                        cp_violations *v)
{
	int y = digits_value(s, 4), m = digits_value(s + 4, 2), d = digits_value(s + 6, 2);
	if (!cp_rule_date_valid(y, m, d)) {
		ERR(v, "id_number.birth_date",
		    _("positions %d–%d are not a real birth date"), from, from + 7);
		return;
	}
	if (y < 1900) {
		ERR(v, "id_number.birth_date",
		    _("positions %d–%d give a birth year before 1900"), from, from + 7);
		return;
	}
	if (iy <= 0)
		return;
	long birth = (long)y * 10000 + m * 100 + d;
	long issue = (long)iy * 10000 + im * 100 + id;
	if (birth > issue) {
		ERR(v, "id_number.birth_date",
		    _("positions %d–%d give a birth date after the issue date"), from,
		    from + 7);
		return;
	}
	if (issue - birth < 140000)
		ERR(v, "id_number.age",
		    _("positions %d–%d give a holder younger than 14 on the issue date"),
		    from, from + 7);
}

/* 18 characters as GB 11643: 17 digits + check (digit or X). */
static bool check_gb11643(const char *n, cp_violations *v)
{
	char *bad = non_digit_positions(n, 1, 17);
	bool ok = *bad == '\0';
	if (!ok)
		ERR(v, "id_number.format",
		    _("positions 1–17 must be digits; not a digit at position %s"), bad);
	g_free(bad);
	if (!g_ascii_isdigit(n[17]) && n[17] != 'X') {
		ERR(v, "id_number.format",
		    _("position 18 (check character) must be a digit or X"));
		ok = false;
	}
	if (!ok)
		return false;
	char want = cp_rule_id_check_char(n);
	if (n[17] != want) {
		ERR(v, "id_number.check",
		    _("the check character (position 18) is %c but positions 1–17 give %c "
		      "(GB 11643); a digit is probably mistyped"), n[17], want);
		return false;
	}
	return true;
}

static bool all_alnum_upper(const char *s)
{
	for (; *s; s++)
		if (!g_ascii_isdigit(*s) && !g_ascii_isupper(*s))
			return false;
	return true;
}

bool cp_rule_id_number(cp_id_type type, const char *s, int iy, int im, int id,
                       char *norm, cp_violations *v)
{
	if (norm)
		norm[0] = '\0';
	size_t before = cp_violations_errors(v);
	if (cp_rule_blank(s)) {
		ERR(v, "id_number.missing", _("the ID number is blank"));
		return false;
	}
	char buf[CP_RULES_ID_BYTES];
	if (!fold_ascii(s, true, buf, sizeof buf)) {
		ERR(v, "id_number.length",
		    _("the ID number is far too long (no ID document has more than 18 "
		      "characters)"));
		return false;
	}
	drop_text_mark(buf);
	static GRegex *volatile sci;
	if (g_regex_match(cached_regex(&sci, "^[0-9]+(\\.[0-9]+)?[eE]\\+?[0-9]+$"), buf, 0,
	                  NULL)) {
		/* The spreadsheet took the column for numbers: 4.40103E+17 has
		 * lost the last digits for good, so only re-export can help. */
		ERR(v, "id_number.excel",
		    _("the spreadsheet turned the ID number into a number in scientific "
		      "notation and dropped digits; format the column as Text, type the "
		      "numbers again and export once more"));
		return false;
	}
	if (has_non_ascii(buf)) {
		char *what = describe_non_ascii(buf, false);
		ERR(v, "id_number.charset",
		    _("the ID number may hold only letters A–Z and digits; it has %s"),
		    what);
		g_free(what);
		return false;
	}
	for (char *p = buf; *p; p++)
		*p = g_ascii_toupper(*p);
	if (!all_alnum_upper(buf)) {
		ERR(v, "id_number.charset",
		    _("the ID number may hold only letters A–Z and digits"));
		return false;
	}
	size_t len = strlen(buf);
	const char *tname = cp_rule_id_type_name(type);
	switch (type) {
	case CP_ID_RESIDENT:
	case CP_ID_HMT_RESIDENCE:
		if (type == CP_ID_RESIDENT && len == 15 && all_digits(buf, 15)) {
			ERR(v, "id_number.length",
			    _("a 15-digit first-generation ID number is no longer valid; "
			      "write the 18-character number"));
			break;
		}
		if (len != 18) {
			ERR(v, "id_number.length",
			    _("a %s number has 18 characters, this one has %zu"), tname, len);
			break;
		}
		if (!check_gb11643(buf, v))
			break;
		if (type == CP_ID_RESIDENT) {
			if (!cp_rule_province_valid(digits_value(buf, 2)))
				ERR(v, "id_number.region",
				    _("positions 1–2 (%.2s) are not a province code of GB/T 2260"),
				    buf);
		} else if (strncmp(buf, "810000", 6) && strncmp(buf, "820000", 6) &&
		           strncmp(buf, "830000", 6)) {
			ERR(v, "id_number.region",
			    _("a 港澳台居民居住证 number starts with 810000 (Hong Kong), 820000 "
			      "(Macao) or 830000 (Taiwan)"));
		}
		check_birth(buf + 6, 7, iy, im, id, v);
		break;
	case CP_ID_PASSPORT:
		if (len < 5 || len > 17)
			ERR(v, "id_number.length",
			    _("a passport number has 5 to 17 letters and digits, this one has %zu"),
			    len);
		break;
	case CP_ID_HKMO_PERMIT:
		if ((buf[0] != 'H' && buf[0] != 'M') || (len != 9 && len != 11) ||
		    !all_digits(buf + 1, len - 1))
			ERR(v, "id_number.format",
			    _("a 港澳居民来往内地通行证 number is H (Hong Kong) or M (Macao) "
			      "followed by 8 or 10 digits"));
		break;
	case CP_ID_TW_PERMIT:
		if (!(len == 8 && all_digits(buf, 8)) && len != 10)
			ERR(v, "id_number.format",
			    _("a 台湾居民来往大陆通行证 number has 8 digits (or 10 characters "
			      "on older permits)"));
		break;
	case CP_ID_FOREIGN_PR:
		if (len == 15) {
			/* 2004 form: nationality (3 letters) + 12 digits. */
			if (!g_ascii_isupper(buf[0]) || !g_ascii_isupper(buf[1]) ||
			    !g_ascii_isupper(buf[2]) || !all_digits(buf + 3, 12))
				ERR(v, "id_number.format",
				    _("a 15-character 外国人永久居留身份证 number is 3 letters "
				      "(nationality) followed by 12 digits"));
		} else if (len == 18) {
			/* 2023 form: 9 + province + nationality (3 digits) + birth date
			 * + serial (3) + GB 11643 check character. */
			if (buf[0] != '9') {
				ERR(v, "id_number.format",
				    _("an 18-character 外国人永久居留身份证 number starts with 9"));
				break;
			}
			if (!check_gb11643(buf, v))
				break;
			if (!cp_rule_province_valid(digits_value(buf + 1, 2)))
				ERR(v, "id_number.region",
				    _("positions 2–3 (%.2s) are not a province code of GB/T 2260"),
				    buf + 1);
			check_birth(buf + 6, 7, iy, im, id, v);
		} else {
			ERR(v, "id_number.length",
			    _("a 外国人永久居留身份证 number has 15 or 18 characters, this one "
			      "has %zu"), len);
		}
		break;
	default:
		ERR(v, "id_type.unknown", _("unknown ID type"));
		break;
	}
	if (norm)
		memcpy(norm, buf, len + 1);
	return cp_violations_errors(v) == before;
}

/* ------------------------------------------------------------------- text */

static bool is_bidi_control(gunichar c)
{
	return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
	       c == 0x200E || c == 0x200F || c == 0x061C;
}

/* Default-ignorable code points (Unicode DerivedCoreProperties) that are not
 * of category Cf: they draw nothing, so a value holding them prints the same
 * as one without and two "equal" printed names differ in the data. Hangul
 * fillers are the classic blank-looking letter in spoofed names. */
static bool is_ignorable_letter(gunichar c)
{
	return c == 0x034F || c == 0x115F || c == 0x1160 || c == 0x17B4 || c == 0x17B5 ||
	       (c >= 0x180B && c <= 0x180F) || c == 0x3164 || (c >= 0xFE00 && c <= 0xFE0F) ||
	       c == 0xFFA0 || (c >= 0xE0100 && c <= 0xE01EF);
}

bool cp_rule_char_invisible(gunichar c)
{
	GUnicodeType t = g_unichar_type(c);
	return t == G_UNICODE_FORMAT || t == G_UNICODE_LINE_SEPARATOR ||
	       t == G_UNICODE_PARAGRAPH_SEPARATOR || is_ignorable_letter(c);
}

bool cp_rule_text(const char *label, const char *s, size_t max_chars,
                  cp_violations *v)
{
	if (!s)
		return true;
	size_t len = strlen(s);
	const char *end = NULL;
	if (!g_utf8_validate(s, (gssize)len, &end)) {
		ERR(v, "text.utf8",
		    _("%s is not valid UTF-8 text (bad byte at offset %ld)"), label,
		    (long)(end - s));
		return false;
	}
	if (len > CP_RULES_MAX_TEXT_BYTES || (size_t)g_utf8_strlen(s, -1) > max_chars) {
		ERR(v, "text.length", _("%s is longer than %zu characters"),
		    label, max_chars);
		return false;
	}
	/* One violation per kind, naming the first offender: a row full of
	 * zero-width spaces needs one message, not fifty. */
	enum { K_CONTROL, K_BIDI, K_INVISIBLE, K_PRIVATE, K_UNASSIGNED, K_N };
	static const char *const rule[K_N] = {
		"text.control", "text.bidi", "text.invisible", "text.private_use",
		"text.unassigned",
	};
	static const char *const what[K_N] = {
		N_("a control character"),
		N_("a bidirectional override or isolate, which can reorder the printed text"),
		N_("an invisible formatting character (zero-width or similar)"),
		N_("a private-use character, which has no agreed glyph"),
		N_("a character unassigned in Unicode"),
	};
	long first[K_N] = {0};
	gunichar cp[K_N] = {0};
	long count[K_N] = {0};
	long pos = 1;
	for (const char *p = s; *p; p = g_utf8_next_char(p), pos++) {
		gunichar c = g_utf8_get_char(p);
		int k = -1;
		switch (g_unichar_type(c)) {
		case G_UNICODE_CONTROL:
		case G_UNICODE_LINE_SEPARATOR:
		case G_UNICODE_PARAGRAPH_SEPARATOR:
			k = K_CONTROL;
			break;
		case G_UNICODE_FORMAT:
			k = is_bidi_control(c) ? K_BIDI : K_INVISIBLE;
			break;
		case G_UNICODE_PRIVATE_USE:
			k = K_PRIVATE;
			break;
		case G_UNICODE_UNASSIGNED:
		case G_UNICODE_SURROGATE:
			k = K_UNASSIGNED;
			break;
		default:
			if (is_ignorable_letter(c))
				k = K_INVISIBLE;
			break;
		}
		if (k < 0)
			continue;
		if (count[k]++ == 0) {
			first[k] = pos;
			cp[k] = c;
		}
	}
	bool ok = true;
	for (int k = 0; k < K_N; k++) {
		if (!count[k])
			continue;
		ok = false;
		ERR(v, rule[k],
		    _("%s contains %s: U+%04X at character %ld (%ld in all)"), label,
		    _(what[k]), cp[k], first[k], count[k]);
	}
	return ok;
}

/* ------------------------------------------------------------------- name */

enum name_class { NC_HAN, NC_LATIN, NC_MARK, NC_DOT, NC_SPACE, NC_HYPHEN, NC_APOS,
	          NC_DIGIT, NC_OTHER };

static enum name_class name_class(gunichar c)
{
	if (c == 0x00B7)
		return NC_DOT;
	if (c == ' ')
		return NC_SPACE;
	if (c == '-')
		return NC_HYPHEN;
	if (c == '\'')
		return NC_APOS;
	GUnicodeType t = g_unichar_type(c);
	if (t == G_UNICODE_DECIMAL_NUMBER || t == G_UNICODE_OTHER_NUMBER)
		return NC_DIGIT;
	GUnicodeScript sc = g_unichar_get_script(c);
	if (sc == G_UNICODE_SCRIPT_HAN && (t == G_UNICODE_OTHER_LETTER || c == 0x3007))
		return NC_HAN;
	if (sc == G_UNICODE_SCRIPT_LATIN &&
	    (t == G_UNICODE_UPPERCASE_LETTER || t == G_UNICODE_LOWERCASE_LETTER ||
	     t == G_UNICODE_TITLECASE_LETTER))
		return NC_LATIN;
	if (t == G_UNICODE_NON_SPACING_MARK && sc == G_UNICODE_SCRIPT_INHERITED &&
	    !(c >= 0xFE00 && c <= 0xFE0F) && !(c >= 0xE0100 && c <= 0xE01EF))
		return NC_MARK;
	return NC_OTHER;
}

static bool is_separator(enum name_class k)
{
	return k == NC_DOT || k == NC_SPACE || k == NC_HYPHEN || k == NC_APOS;
}

char *cp_rule_name(const char *s, cp_violations *v)
{
	if (cp_rule_blank(s)) {
		ERR(v, "name.missing", _("the name is blank"));
		return NULL;
	}
	if (!cp_rule_text(_("the name"), s, CP_RULES_MAX_NAME_CHARS, v))
		return NULL;

	/* Normalise: look-alike dots, typographic apostrophe, full-width Latin,
	 * blank runs; then NFC so that a letter and its combining accent count
	 * as one letter. */
	GString *g = g_string_sized_new(strlen(s));
	gunichar replaced = 0;
	bool blank_pending = false;
	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (is_blank_char(c)) {
			blank_pending = g->len > 0;
			continue;
		}
		if (c == 0x30FB || c == 0x2027 || c == 0xFF65 || c == 0x2022 ||
		    c == 0x2219 || c == 0x22C5) {
			if (!replaced)
				replaced = c;
			c = 0x00B7;
		} else if (c == 0x2019) {
			c = '\'';
		} else if ((c >= 0xFF21 && c <= 0xFF3A) || (c >= 0xFF41 && c <= 0xFF5A)) {
			c = c - 0xFF01 + 0x21;
		}
		if (blank_pending)
			g_string_append_c(g, ' ');
		blank_pending = false;
		g_string_append_unichar(g, c);
	}
	char *name = g_utf8_normalize(g->str, (gssize)g->len, G_NORMALIZE_NFC);
	g_string_free(g, TRUE);
	if (!name) {
		ERR(v, "name.text", _("the name cannot be normalised"));
		return NULL;
	}

	size_t before = cp_violations_errors(v);
	enum name_class prev = NC_OTHER;
	bool saw_digit = false, saw_other = false, saw_sep_err = false,
	     saw_space_han = false;
	long pos = 1;
	const char *last = NULL;
	for (const char *p = name; *p; p = g_utf8_next_char(p), pos++) {
		gunichar c = g_utf8_get_char(p);
		enum name_class k = name_class(c);
		if (k == NC_DIGIT && !saw_digit) {
			saw_digit = true;
			ERR(v, "name.digit",
			    _("the name contains a digit at character %ld; names have no digits"),
			    pos);
		} else if (k == NC_OTHER && !saw_other) {
			saw_other = true;
			char buf[7] = {0};
			g_unichar_to_utf8(c, buf);
			ERR(v, "name.charset",
			    _("the name contains '%s' (U+%04X) at character %ld; a name holds "
			      "Chinese characters, Latin letters, the middle dot ·, spaces, "
			      "hyphens and apostrophes"), buf, c, pos);
		} else if (k == NC_MARK && prev != NC_LATIN && prev != NC_MARK && !saw_other) {
			saw_other = true;
			ERR(v, "name.charset",
			    _("the name has a combining mark U+%04X at character %ld that "
			      "follows no Latin letter"), c, pos);
		} else if (is_separator(k)) {
			if ((pos == 1 || is_separator(prev)) && !saw_sep_err) {
				saw_sep_err = true;
				ERR(v, "name.separator",
				    _("the name has a misplaced separator (· space - ') at character "
				      "%ld: separators stand alone between letters"), pos);
			}
		}
		if (k == NC_SPACE && prev == NC_HAN)
			saw_space_han = true;
		if (k == NC_HAN && prev == NC_SPACE)
			saw_space_han = true;
		prev = (k == NC_MARK) ? prev : k;
		last = p;
	}
	if (last && is_separator(name_class(g_utf8_get_char(last))) && !saw_sep_err)
		ERR(v, "name.separator",
		    _("the name ends with a separator (· space - ')"));
	if (saw_space_han)
		ERR(v, "name.space",
		    _("the name has a space next to a Chinese character; a Chinese name "
		      "is written without spaces (use · between the parts of a "
		      "minority name)"));
	if (cp_violations_errors(v) != before) {
		g_free(name);
		return NULL;
	}
	if (replaced)
		WARN(v, "name.dot",
		     _("the look-alike dot U+%04X in the name was replaced by the middle "
		       "dot · (U+00B7)"), replaced);
	return name;
}
