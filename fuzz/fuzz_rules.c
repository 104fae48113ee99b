/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "rules": the field validators of src/input/rules.h on arbitrary
 * cells. The input is split at newlines into
 *     level, issue date, certificate number, profile prefix, ID type,
 *     ID number, holder name, free text, flags
 * (missing fields are NULL, which the rules treat as blank; flags holding
 * 'S' allows the special-grade certificate number form).
 *
 * Checked beyond "no crash": a rule returns true exactly when it added no
 * error; every violation has a rule id and a UTF-8 message; no message shows
 * a whole ID number; normalised output (level, date, certificate number, ID
 * number, name) is accepted again by the same rule and comes back unchanged.
 */
#include "fuzz.h"

#include "input/rules.h"

enum { F_LEVEL, F_DATE, F_CERT, F_PREFIX, F_IDTYPE, F_IDNUM, F_NAME, F_TEXT,
       F_FLAGS, F_COUNT };

/* The result/violations contract of every rule. */
static void check_rule(bool ok, const cp_violations *v, size_t errors_before,
                       const char *rule, const char *secret)
{
	size_t errors = cp_violations_errors(v);
	if (ok && errors != errors_before)
		cp_fuzz_fail("%s returned true with an error", rule);
	if (!ok && errors == errors_before && v->len < CP_RULES_MAX_VIOLATIONS)
		cp_fuzz_fail("%s returned false without an error", rule);
	if (v->len > CP_RULES_MAX_VIOLATIONS)
		cp_fuzz_fail("%s: %zu violations", rule, v->len);
	for (size_t i = 0; i < v->len; i++) {
		const cp_violation *x = &v->items[i];
		if (!x->rule || !x->message || !*x->message)
			cp_fuzz_fail("%s: violation without rule or message", rule);
		if (!g_utf8_validate(x->message, -1, NULL))
			cp_fuzz_fail("%s: message is not UTF-8", rule);
		if (secret && strlen(secret) >= 8 && strstr(x->message, secret))
			cp_fuzz_fail("%s: message shows the whole ID number", rule);
	}
}

static void fuzz_level(const char *s, int *level_out)
{
	cp_violations v = {0};
	int level = -1;
	bool ok = cp_rule_level(s, &level, &v);
	check_rule(ok, &v, 0, "cp_rule_level", NULL);
	if (ok != (level >= 1 && level <= 5) || (!ok && level != 0))
		cp_fuzz_fail("cp_rule_level: ok %d but level %d", ok, level);
	if (ok) {
		if (cp_rule_level_parse(s) != level)
			cp_fuzz_fail("cp_rule_level and cp_rule_level_parse disagree");
		const char *text = cp_rule_level_text(level);
		if (!text || cp_rule_level_parse(text) != level)
			cp_fuzz_fail("canonical level text does not parse back");
	}
	cp_violations_clear(&v);
	*level_out = ok ? level : 0;
}

static void fuzz_date(const char *s, int *year_out)
{
	cp_violations v = {0};
	int y = 0, m = 0, d = 0;
	char display[CP_RULES_DATE_BYTES];
	memset(display, 'x', sizeof display);
	bool ok = cp_rule_issue_date(s, &y, &m, &d, display, &v);
	check_rule(ok, &v, 0, "cp_rule_issue_date", NULL);
	if (ok) {
		if (!cp_rule_date_valid(y, m, d) || y < 2000 || y > 2099)
			cp_fuzz_fail("accepted date %d-%d-%d", y, m, d);
		if (!memchr(display, '\0', sizeof display) ||
		    !g_utf8_validate(display, -1, NULL))
			cp_fuzz_fail("date display is not a UTF-8 string");
		int y2, m2, d2;
		cp_violations v2 = {0};
		if (!cp_rule_issue_date(display, &y2, &m2, &d2, NULL, &v2) ||
		    y2 != y || m2 != m || d2 != d)
			cp_fuzz_fail("display date '%s' does not read back", display);
		cp_violations_clear(&v2);
	}
	cp_violations_clear(&v);
	*year_out = ok ? y : 0;
}

static void fuzz_cert_no(const char *s, const char *prefix, bool special, int year,
                         int level)
{
	cp_violations v = {0};
	bool pok = cp_rule_cert_prefix(prefix, &v);
	check_rule(pok, &v, 0, "cp_rule_cert_prefix", NULL);
	cp_violations_clear(&v);

	cp_cert_no_ctx ctx = {
		.prefix = pok ? prefix : NULL, .special_grades = special,
		.year = year, .level = level,
	};
	char norm[CP_RULES_CERT_NO_BYTES];
	memset(norm, 'x', sizeof norm);
	bool ok = cp_rule_cert_no(s, &ctx, norm, &v);
	check_rule(ok, &v, 0, "cp_rule_cert_no", NULL);
	if (!memchr(norm, '\0', sizeof norm))
		cp_fuzz_fail("certificate number norm not terminated");
	if (ok) {
		if (strlen(norm) != 22)
			cp_fuzz_fail("accepted certificate number of %zu characters",
			             strlen(norm));
		char again[CP_RULES_CERT_NO_BYTES];
		cp_violations v2 = {0};
		if (!cp_rule_cert_no(norm, &ctx, again, &v2) || strcmp(norm, again) != 0)
			cp_fuzz_fail("normalised certificate number is not stable");
		cp_violations_clear(&v2);
	}
	/* without context only the number itself is judged */
	cp_violations_clear(&v);
	ok = cp_rule_cert_no(s, NULL, NULL, &v);
	check_rule(ok, &v, 0, "cp_rule_cert_no(NULL ctx)", NULL);
	cp_violations_clear(&v);
}

static void fuzz_id(const char *type_s, const char *s, int year)
{
	cp_violations v = {0};
	int type = -2;
	bool ok = cp_rule_id_type(type_s, &type, &v);
	check_rule(ok, &v, 0, "cp_rule_id_type", NULL);
	if (ok != (type >= 0 && type < CP_ID_TYPE_COUNT))
		cp_fuzz_fail("cp_rule_id_type: ok %d type %d", ok, type);
	if (ok) {
		int t2 = -2;
		cp_violations v2 = {0};
		if (!cp_rule_id_type(cp_rule_id_type_name(type), &t2, &v2) || t2 != type)
			cp_fuzz_fail("ID type name does not read back");
		cp_violations_clear(&v2);
	}
	cp_violations_clear(&v);

	char c = cp_rule_id_check_char(s ? s : "");
	if (c && !(g_ascii_isdigit(c) || c == 'X'))
		cp_fuzz_fail("check character %d", c);

	for (int t = 0; t < CP_ID_TYPE_COUNT; t++) {
		char norm[CP_RULES_ID_BYTES];
		memset(norm, 'x', sizeof norm);
		ok = cp_rule_id_number((cp_id_type)t, s, year, year ? 6 : 0, year ? 1 : 0,
		                       norm, &v);
		if (!memchr(norm, '\0', sizeof norm))
			cp_fuzz_fail("ID number norm not terminated");
		check_rule(ok, &v, 0, "cp_rule_id_number", norm[0] ? norm : s);
		if (ok) {
			if (!norm[0])
				cp_fuzz_fail("accepted ID number with an empty norm");
			if (t == CP_ID_RESIDENT &&
			    (strlen(norm) != 18 || cp_rule_id_check_char(norm) != norm[17]))
				cp_fuzz_fail("accepted resident ID with a wrong check character");
			char again[CP_RULES_ID_BYTES];
			cp_violations v2 = {0};
			if (!cp_rule_id_number((cp_id_type)t, norm, year, year ? 6 : 0,
			                       year ? 1 : 0, again, &v2) ||
			    strcmp(norm, again) != 0)
				cp_fuzz_fail("normalised ID number is not stable");
			cp_violations_clear(&v2);
		}
		cp_violations_clear(&v);
	}
}

static void fuzz_name_text(const char *name, const char *text)
{
	cp_violations v = {0};
	char *n = cp_rule_name(name, &v);
	check_rule(n != NULL, &v, 0, "cp_rule_name", NULL);
	if (n) {
		if (!g_utf8_validate(n, -1, NULL))
			cp_fuzz_fail("name result is not UTF-8");
		char *nfc = g_utf8_normalize(n, -1, G_NORMALIZE_NFC);
		if (!nfc || strcmp(nfc, n) != 0)
			cp_fuzz_fail("name result is not NFC");
		g_free(nfc);
		cp_violations v2 = {0};
		char *again = cp_rule_name(n, &v2);
		if (!again || strcmp(again, n) != 0)
			cp_fuzz_fail("normalised name is not stable");
		g_free(again);
		cp_violations_clear(&v2);
	}
	g_free(n);
	cp_violations_clear(&v);

	bool ok = cp_rule_text("text", text, 64, &v);
	check_rule(ok, &v, 0, "cp_rule_text", NULL);
	if (ok && text && (!g_utf8_validate(text, -1, NULL) || g_utf8_strlen(text, -1) > 64))
		cp_fuzz_fail("cp_rule_text accepted bad text");
	cp_violations_clear(&v);

	char *t = cp_rule_trim(text);
	if ((t == NULL) != (text == NULL))
		cp_fuzz_fail("cp_rule_trim NULL-ness");
	if (t && cp_rule_blank(text) != (t[0] == '\0'))
		cp_fuzz_fail("cp_rule_blank and cp_rule_trim disagree");
	g_free(t);
}

int cp_fuzz_rules(const uint8_t *data, size_t size)
{
	char *buf = g_strndup((const char *)data, size); /* stops at a NUL */
	char *f[F_COUNT] = {0};
	char *p = buf;
	for (int i = 0; i < F_COUNT && p; i++) {
		f[i] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	int level = 0, year = 0;
	fuzz_level(f[F_LEVEL], &level);
	fuzz_date(f[F_DATE], &year);
	fuzz_cert_no(f[F_CERT], f[F_PREFIX], f[F_FLAGS] && strchr(f[F_FLAGS], 'S'), year,
	             level);
	fuzz_id(f[F_IDTYPE], f[F_IDNUM], year);
	fuzz_name_text(f[F_NAME], f[F_TEXT]);
	g_free(buf);
	return 0;
}

CP_FUZZ_ENTRY(rules)
