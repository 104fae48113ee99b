/* SPDX-License-Identifier: MIT */
/* The field rules (rules.c), each with valid and invalid real-world shapes. */
#include "common/testutil.h"

#include <string.h>

#include "input/rules.h"

/* The test's own GB 11643 (ISO 7064 MOD 11-2) check: sum of digit × 2^(17-i)
 * mod 11, written independently of rules.c so that both must agree. */
/* Asserts that v holds a violation with this rule id (and, when needle is not
 * NULL, a message containing it), then clears v. */
static void expect_rule(cp_violations *v, const char *rule, const char *needle)
{
	bool found = false;
	for (size_t i = 0; i < v->len; i++) {
		g_test_message("violation %s: %s", v->items[i].rule, v->items[i].message);
		if (strcmp(v->items[i].rule, rule) == 0 &&
		    (!needle || strstr(v->items[i].message, needle)))
			found = true;
	}
	if (!found)
		g_test_message("expected rule %s with '%s'", rule, needle ? needle : "");
	g_assert_true(found);
	cp_violations_clear(v);
}

static void expect_clean(cp_violations *v)
{
	for (size_t i = 0; i < v->len; i++)
		g_test_message("unexpected %s: %s", v->items[i].rule, v->items[i].message);
	g_assert_cmpuint(v->len, ==, 0);
}

/* ------------------------------------------------------------------ level */

/* Every accepted form of every level, the canonical text, full-width digits
 * and surrounding blanks; anything else is refused. */
static void test_level(void)
{
	static const struct {
		const char *in;
		int level;
	} ok[] = {
		{"5", 5}, {"五级", 5}, {"初级工", 5}, {"初级", 5}, {"五级/初级工", 5},
		{"4", 4}, {"四级", 4}, {"中级工", 4}, {"中级", 4}, {"四级/中级工", 4},
		{"3", 3}, {"三级", 3}, {"高级工", 3}, {"高级", 3}, {"三级/高级工", 3},
		{"2", 2}, {"二级", 2}, {"技师", 2}, {"二级/技师", 2},
		{"1", 1}, {"一级", 1}, {"高级技师", 1}, {"一级/高级技师", 1},
		{"３", 3}, {" 2 ", 2}, {"\t高级技师\u3000", 1}, {"三级／高级工", 3},
	};
	cp_violations v = {0};
	for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
		int l = -1;
		g_test_message("level '%s'", ok[i].in);
		g_assert_true(cp_rule_level(ok[i].in, &l, &v));
		g_assert_cmpint(l, ==, ok[i].level);
		expect_clean(&v);
	}
	g_assert_cmpstr(cp_rule_level_text(3), ==, "三级/高级工");
	g_assert_cmpstr(cp_rule_level_text(1), ==, "一级/高级技师");
	g_assert_cmpstr(cp_rule_level_text(5), ==, "五级/初级工");
	g_assert_null(cp_rule_level_text(0));
	g_assert_null(cp_rule_level_text(6));

	static const char *const bad[] = {"0", "6", "六级", "高级技", "3级", "三", "33",
	                                  "特级技师", "\xff"};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		int l = -1;
		g_assert_false(cp_rule_level(bad[i], &l, &v));
		g_assert_cmpint(l, ==, 0);
		expect_rule(&v, "level.unknown", "五级/初级工");
	}
	int l;
	g_assert_false(cp_rule_level("  ", &l, &v));
	expect_rule(&v, "level.missing", NULL);
	g_assert_false(cp_rule_level(NULL, &l, &v));
	expect_rule(&v, "level.missing", NULL);
}

/* ------------------------------------------------------------------ dates */

static void test_date(void)
{
	{
		/* what spreadsheets export: a date cell with a time, and a date
		 * cell formatted as General */
		cp_violations ve = {0};
		int ey, em, ed;
		char shown[CP_RULES_DATE_BYTES];
		g_assert_true(cp_rule_issue_date("2026/11/27 0:00", &ey, &em, &ed, shown, &ve));
		g_assert_cmpstr(shown, ==, "2026年11月27日");
		g_assert_true(cp_rule_issue_date("2026-11-27 09:30:00", &ey, &em, &ed, shown, &ve));
		g_assert_cmpint(ed, ==, 27);
		expect_clean(&ve);
		g_assert_false(cp_rule_issue_date("46353", &ey, &em, &ed, shown, &ve));
		expect_rule(&ve, "issue_date.excel", "serial number");
		g_assert_false(cp_rule_issue_date("2026/11/27 25", &ey, &em, &ed, shown, &ve));
		expect_rule(&ve, "issue_date.format", NULL);
	}

	static const char *const ok[] = {
		"2026-11-27", "2026/11/27", "2026.11.27", "2026年11月27日", " 2026-11-27 ",
		"２０２６－１１－２７", "2026年11月27日",
	};
	cp_violations v = {0};
	char disp[CP_RULES_DATE_BYTES];
	for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
		int y, m, d;
		g_test_message("date '%s'", ok[i]);
		g_assert_true(cp_rule_issue_date(ok[i], &y, &m, &d, disp, &v));
		expect_clean(&v);
		g_assert_cmpint(y, ==, 2026);
		g_assert_cmpint(m, ==, 11);
		g_assert_cmpint(d, ==, 27);
		g_assert_cmpstr(disp, ==, "2026年11月27日");
	}
	int y, m, d;
	/* no zero padding; display is not padded either */
	g_assert_true(cp_rule_issue_date("2026-3-5", &y, &m, &d, disp, &v));
	g_assert_cmpstr(disp, ==, "2026年3月5日");
	g_assert_true(cp_rule_issue_date("2026年3月5日", &y, &m, &d, NULL, &v));
	g_assert_cmpint(m * 100 + d, ==, 305);
	/* leap years */
	g_assert_true(cp_rule_issue_date("2024-02-29", &y, &m, &d, disp, &v));
	g_assert_cmpstr(disp, ==, "2024年2月29日");
	g_assert_false(cp_rule_issue_date("2023-02-29", &y, &m, &d, disp, &v));
	expect_rule(&v, "issue_date.calendar", "2023-02-29");
	g_assert_cmpint(y, ==, 0);
	g_assert_false(cp_rule_issue_date("2100-02-29", &y, &m, &d, disp, &v));
	expect_rule(&v, "issue_date.calendar", NULL);
	g_assert_true(cp_rule_issue_date("2000-02-29", &y, &m, &d, disp, &v));
	g_assert_false(cp_rule_issue_date("2026-04-31", &y, &m, &d, disp, &v));
	expect_rule(&v, "issue_date.calendar", NULL);
	g_assert_false(cp_rule_issue_date("2026-13-01", &y, &m, &d, disp, &v));
	expect_rule(&v, "issue_date.calendar", NULL);
	/* range */
	g_assert_false(cp_rule_issue_date("1999-12-31", &y, &m, &d, disp, &v));
	expect_rule(&v, "issue_date.range", "1999");
	g_assert_false(cp_rule_issue_date("2100-01-01", &y, &m, &d, disp, &v));
	expect_rule(&v, "issue_date.range", NULL);
	/* shapes that are not dates */
	static const char *const bad[] = {
		"2026-11/27", "26-11-27", "2026-011-27", "2026-11-27x", "20261127",
		"2026年11月27", "2026年11-27日", "27/11/2026", "2026 11 27", "2026--11-27", "-",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_test_message("bad date '%s'", bad[i]);
		g_assert_false(cp_rule_issue_date(bad[i], &y, &m, &d, disp, &v));
		expect_rule(&v, "issue_date.format", NULL);
	}
	g_assert_false(cp_rule_issue_date("", &y, &m, &d, disp, &v));
	expect_rule(&v, "issue_date.missing", NULL);

	g_assert_true(cp_rule_date_valid(2024, 2, 29));
	g_assert_false(cp_rule_date_valid(2023, 2, 29));
	g_assert_false(cp_rule_date_valid(0, 1, 1));
}

/* ----------------------------------------------------- certificate number */

static const cp_cert_no_ctx ctx26 = {
	.prefix = "S000044000123", .special_grades = false, .year = 2026, .level = 3,
};

static void test_cert_no_valid(void)
{
	cp_violations v = {0};
	char norm[CP_RULES_CERT_NO_BYTES];
	g_assert_true(cp_rule_cert_no("S000044000123263000001", &ctx26, norm, &v));
	expect_clean(&v);
	g_assert_cmpstr(norm, ==, "S000044000123263000001");
	/* full-width forms from a Chinese input method read as ASCII */
	g_assert_true(cp_rule_cert_no(" Ｓ000044000123263000001 ", &ctx26, norm, &v));
	g_assert_cmpstr(norm, ==, "S000044000123263000001");
	/* the spec's example without a profile: shape, province and serial */
	g_assert_true(cp_rule_cert_no("Y000123000777195000001", NULL, norm, &v));
	expect_clean(&v);
	/* special grade: 2 letters + 20 digits, only when allowed (第七条) */
	cp_cert_no_ctx sp = {.prefix = "Y000144000123", .special_grades = true,
	                     .year = 2026, .level = 1};
	g_assert_true(cp_rule_cert_no("YT00144000123261000001", &sp, norm, &v));
	expect_clean(&v);
	sp.special_grades = false;
	g_assert_false(cp_rule_cert_no("YT00144000123261000001", &sp, norm, &v));
	expect_rule(&v, "cert_no.special", "special_grades = no");
}

/* Every position wrong in turn: each failure is its own violation naming the
 * positions. */
static void test_cert_no_positions(void)
{
	cp_violations v = {0};
	char norm[CP_RULES_CERT_NO_BYTES];
	static const struct {
		const char *no;
		const char *rule;
		const char *needle;
	} cases[] = {
		{"S00004400012326300001", "cert_no.length", "has 21 characters"},
		{"S0000440001232630000011", "cert_no.length", "has 23 characters"},
		{"s000044000123263000001", "cert_no.format", "lowercase"},
		{"1000044000123263000001", "cert_no.format", "position 1 must be an uppercase"},
		{"X000044000123263000001", "cert_no.category", "position 1 (organization category) is X"},
		{"Y000044000123263000001", "cert_no.prefix", "position 1 (organization category) Y ≠ S"},
		{"S000144000123263000001", "cert_no.prefix", "positions 2–5 (ministry code) 0001 ≠ 0000"},
		{"S000023000123263000001", "cert_no.prefix", "positions 6–7 (province code) 23 ≠ 44"},
		{"S000044000124263000001", "cert_no.prefix", "positions 8–13 (organization site serial) 000124 ≠ 000123"},
		{"S000044000123253000001", "cert_no.year", "positions 14–15 (issue year) are 25 but the issue date is in 2026"},
		{"S000044000123264000001", "cert_no.level", "position 16 (level) is 4 (四级/中级工) but the record's level is 3"},
		{"S000044000123266000001", "cert_no.level", "position 16 (level) is 6; it must be 1–5"},
		{"S000044000123260000001", "cert_no.level", "position 16 (level) is 0"},
		{"S000044000123263000000", "cert_no.serial", "positions 17–22 (certificate serial) are 000000"},
		{"S0000440001232630000A1", "cert_no.format", "not a digit at position 21"},
		{"S00004400012326300000一", "cert_no.charset", "U+4E00"},
		{"S000044000123 263000001", "cert_no.charset", "a blank"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("cert_no '%s'", cases[i].no);
		g_assert_false(cp_rule_cert_no(cases[i].no, &ctx26, norm, &v));
		expect_rule(&v, cases[i].rule, cases[i].needle);
	}
	/* a lower-case category letter is one message, not a second one
	 * saying it differs from the profile's upper-case letter */
	g_assert_false(cp_rule_cert_no("s000044000123263000001", &ctx26, norm, &v));
	g_assert_cmpuint(v.len, ==, 1);
	expect_rule(&v, "cert_no.format", "lowercase");
	/* ... but a lower-case letter that is also the wrong one says both */
	g_assert_false(cp_rule_cert_no("y000044000123263000001", &ctx26, norm, &v));
	g_assert_cmpuint(v.len, ==, 2);
	g_assert_cmpstr(v.items[1].rule, ==, "cert_no.prefix");
	cp_violations_clear(&v);
	/* the spreadsheet's text mark before a number */
	g_assert_true(cp_rule_cert_no("'S000044000123263000001", &ctx26, norm, &v));
	expect_clean(&v);
	g_assert_cmpstr(norm, ==, "S000044000123263000001");
	/* several parts wrong at once: all reported */
	g_assert_false(cp_rule_cert_no("Y000123000123195000000", &ctx26, norm, &v));
	g_assert_cmpuint(v.len, ==, 4);
	g_assert_cmpstr(v.items[0].rule, ==, "cert_no.prefix");
	g_assert_nonnull(strstr(v.items[0].message, "position 1 "));
	g_assert_nonnull(strstr(v.items[0].message, "positions 2–5"));
	g_assert_nonnull(strstr(v.items[0].message, "positions 6–7"));
	g_assert_cmpstr(v.items[0].article, ==, "编码规则");
	g_assert_cmpstr(v.items[1].rule, ==, "cert_no.year");
	g_assert_cmpstr(v.items[2].rule, ==, "cert_no.level");
	g_assert_cmpstr(v.items[3].rule, ==, "cert_no.serial");
	cp_violations_clear(&v);
	/* without a profile prefix the province is still checked */
	g_assert_false(cp_rule_cert_no("Y000172000123263000001", NULL, norm, &v));
	expect_rule(&v, "cert_no.province", "72");
	g_assert_false(cp_rule_cert_no("", &ctx26, norm, &v));
	expect_rule(&v, "cert_no.missing", NULL);
}

static void test_cert_prefix(void)
{
	cp_violations v = {0};
	g_assert_true(cp_rule_cert_prefix("S000044000123", &v));
	g_assert_true(cp_rule_cert_prefix("Y999965999999", &v));
	g_assert_true(cp_rule_cert_prefix("Y000011000001", &v));
	expect_clean(&v);
	g_assert_false(cp_rule_cert_prefix("S00004400012", &v));
	expect_rule(&v, "cert_prefix.length", NULL);
	g_assert_false(cp_rule_cert_prefix("A000044000123", &v));
	expect_rule(&v, "cert_prefix.category", NULL);
	g_assert_false(cp_rule_cert_prefix("S00004400012a", &v));
	expect_rule(&v, "cert_prefix.format", "position 13");
	/* 71 台湾, 81 香港, 82 澳门 and gaps such as 16, 20, 66 are no sites */
	static const char *const bad[] = {"S000071000123", "S000081000123", "S000082000123",
	                                  "S000016000123", "S000020000123", "S000066000123",
	                                  "S000000000123", "S000010000123"};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_false(cp_rule_cert_prefix(bad[i], &v));
		expect_rule(&v, "cert_prefix.province", NULL);
	}
	/* the complete GB/T 2260 list: 31 provinces */
	int n = 0;
	for (int c = 0; c < 100; c++)
		n += cp_rule_province_valid(c);
	g_assert_cmpint(n, ==, 31);
	g_assert_true(cp_rule_province_valid(11));
	g_assert_true(cp_rule_province_valid(46));
	g_assert_true(cp_rule_province_valid(50));
	g_assert_true(cp_rule_province_valid(54));
	g_assert_true(cp_rule_province_valid(65));
}

/* -------------------------------------------------------------- ID numbers */

static void test_id_type(void)
{
	static const struct {
		const char *in;
		cp_id_type t;
	} ok[] = {
		{"居民身份证", CP_ID_RESIDENT}, {"身份证", CP_ID_RESIDENT},
		{" 居民身份证 ", CP_ID_RESIDENT}, {"护照", CP_ID_PASSPORT},
		{"港澳居民来往内地通行证", CP_ID_HKMO_PERMIT}, {"回乡证", CP_ID_HKMO_PERMIT},
		{"台湾居民来往大陆通行证", CP_ID_TW_PERMIT}, {"台胞证", CP_ID_TW_PERMIT},
		{"外国人永久居留身份证", CP_ID_FOREIGN_PR},
		{"港澳台居民居住证", CP_ID_HMT_RESIDENCE},
	};
	cp_violations v = {0};
	for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
		int t = -2;
		g_assert_true(cp_rule_id_type(ok[i].in, &t, &v));
		g_assert_cmpint(t, ==, ok[i].t);
	}
	expect_clean(&v);
	int t;
	g_assert_false(cp_rule_id_type("驾驶证", &t, &v));
	g_assert_cmpint(t, ==, -1);
	/* the message lists the known types */
	expect_rule(&v, "id_type.unknown", "居民身份证、护照、港澳居民来往内地通行证");
	g_assert_false(cp_rule_id_type("", &t, &v));
	expect_rule(&v, "id_type.missing", NULL);
	g_assert_cmpstr(cp_rule_id_type_name(CP_ID_PASSPORT), ==, "护照");
	g_assert_null(cp_rule_id_type_name(CP_ID_TYPE_COUNT));
}

/* The check digit: the standard's own example, X, and every remainder. */
static void test_id_check(void)
{
	/* GB 11643-1999 example number */
	g_assert_cmpint(cp_rule_id_check_char("11010519491231002"), ==, 'X');
	g_assert_cmpint(tu_gb11643("11010519491231002"), ==, 'X');
	/* both implementations agree on many numbers, covering all 11 check chars */
	bool seen[11] = {false};
	char d[18];
	for (int i = 0; i < 2000; i++) {
		g_snprintf(d, sizeof d, "4401061990%02d%02d%03d", 1 + i % 12, 1 + i % 28, i % 1000);
		char c = cp_rule_id_check_char(d);
		g_assert_cmpint(c, ==, tu_gb11643(d));
		seen[c == 'X' ? 10 : c - '0'] = true;
	}
	for (int i = 0; i < 11; i++)
		g_assert_true(seen[i]);
	g_assert_cmpint(cp_rule_id_check_char("1101051949123100"), ==, 0);
	g_assert_cmpint(cp_rule_id_check_char("1101051949123100a"), ==, 0);
	g_assert_cmpint(cp_rule_id_check_char(NULL), ==, 0);
}

static void test_id_resident(void)
{
	cp_violations v = {0};
	char norm[CP_RULES_ID_BYTES];
	char *id = tu_make_id("44010619900307123");
	g_assert_true(cp_rule_id_number(CP_ID_RESIDENT, id, 2026, 11, 27, norm, &v));
	expect_clean(&v);
	g_assert_cmpstr(norm, ==, id);
	g_free(id);

	/* the standard's example ends in X; lowercase x is accepted and upper-cased */
	g_assert_true(cp_rule_id_number(CP_ID_RESIDENT, "11010519491231002x", 2026, 1, 1,
	                                norm, &v));
	g_assert_cmpstr(norm, ==, "11010519491231002X");
	/* the apostrophe a spreadsheet export keeps as its text mark */
	g_assert_true(cp_rule_id_number(CP_ID_RESIDENT, "'11010519491231002X", 2026, 1, 1,
	                                norm, &v));
	expect_clean(&v);
	g_assert_cmpstr(norm, ==, "11010519491231002X");
	/* only the one leading mark: one inside is a wrong character */
	g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, "''11010519491231002X", 2026, 1, 1,
	                                 norm, &v));
	expect_rule(&v, "id_number.charset", NULL);
	/* blanks inside (copied from a formatted display) and full-width digits */
	g_assert_true(cp_rule_id_number(CP_ID_RESIDENT, "110105 19491231 002X", 2026, 1, 1,
	                                norm, &v));
	g_assert_cmpstr(norm, ==, "11010519491231002X");
	g_assert_true(cp_rule_id_number(CP_ID_RESIDENT, "１１０１０５１９４９１２３１００２Ｘ",
	                                2026, 1, 1, norm, &v));
	expect_clean(&v);

	/* a spreadsheet that took the column for numbers */
	g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, "4.40106E+17", 2026, 11, 27, norm, &v));
	expect_rule(&v, "id_number.excel", "format the column as Text");
	g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, "4.4010619900307E17", 2026, 11, 27,
	                                 norm, &v));
	expect_rule(&v, "id_number.excel", "scientific notation");

	/* a wrong check digit: every other digit value is refused */
	id = tu_make_id("44010619900307123");
	const char right = id[17];
	for (char c = '0'; c <= '9'; c++) {
		if (c == right)
			continue;
		id[17] = c;
		g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, id, 2026, 11, 27, norm, &v));
		expect_rule(&v, "id_number.check", "position 18");
	}
	g_free(id);
	/* a transposition of two digits is caught by the check */
	id = tu_make_id("44010619900307123");
	char tmp = id[15];
	id[15] = id[16];
	id[16] = tmp;
	g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, id, 2026, 11, 27, norm, &v));
	expect_rule(&v, "id_number.check", NULL);
	g_free(id);

	/* province, birth date, age: each with a correct check digit so that only
	 * the part under test is wrong */
	static const struct {
		const char *d17;
		int iy, im, id;
		const char *rule;
		const char *needle;
	} bad[] = {
		{"72010619900307123", 2026, 11, 27, "id_number.region", "positions 1–2 (72)"},
		{"44010619900230123", 2026, 11, 27, "id_number.birth_date", "positions 7–14 are not a real"},
		{"44010619901301123", 2026, 11, 27, "id_number.birth_date", NULL},
		{"44010618991231123", 2026, 11, 27, "id_number.birth_date", "before 1900"},
		{"44010620261128123", 2026, 11, 27, "id_number.birth_date", "after the issue date"},
		{"44010620121128123", 2026, 11, 27, "id_number.age", "younger than 14"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		id = tu_make_id(bad[i].d17);
		g_test_message("id %s", id);
		g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, id, bad[i].iy, bad[i].im,
		                                 bad[i].id, norm, &v));
		expect_rule(&v, bad[i].rule, bad[i].needle);
		g_free(id);
	}
	/* leap-day births, the 14th birthday exactly on the issue date */
	id = tu_make_id("44010620000229123");
	g_assert_true(cp_rule_id_number(CP_ID_RESIDENT, id, 2026, 11, 27, norm, &v));
	g_free(id);
	id = tu_make_id("44010620121127123");
	g_assert_true(cp_rule_id_number(CP_ID_RESIDENT, id, 2026, 11, 27, norm, &v));
	/* with the issue date unknown only the calendar and 1900 are checked */
	g_assert_true(cp_rule_id_number(CP_ID_RESIDENT, id, 0, 0, 0, norm, &v));
	expect_clean(&v);
	g_free(id);

	/* shape */
	g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, "4401061990030712", 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.length", "has 16");
	g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, "440106900307123", 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.length", "first-generation");
	g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, "4401061990O307123X", 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.format", "position 11");
	g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, "44010619900307123Y", 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.format", "position 18");
	g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, "440106199003071２3一", 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.charset", "U+4E00");
	g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, "4401-0619900307123", 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.charset", NULL);
	g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, " ", 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.missing", NULL);
	char *huge = g_strnfill(5000, '1');
	g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, huge, 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.length", NULL);
	g_free(huge);
}

/* Messages never contain the whole number. */
static void test_id_masked_messages(void)
{
	cp_violations v = {0};
	char norm[CP_RULES_ID_BYTES];
	char *id = tu_make_id("44010619900307123");
	id[17] = id[17] == '0' ? '1' : '0';
	g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, id, 2026, 1, 1, norm, &v));
	g_assert_cmpuint(v.len, ==, 1);
	g_assert_null(strstr(v.items[0].message, "44010619900307"));
	g_assert_null(strstr(v.items[0].message, "19900307"));
	cp_violations_clear(&v);
	g_free(id);
}

static void test_id_other(void)
{
	cp_violations v = {0};
	char norm[CP_RULES_ID_BYTES];
	/* passports: Chinese E-series, older G, foreign shapes; lowercase normalised */
	static const char *const pass_ok[] = {"E12345678", "G1234567", "EA1234567",
	                                      "123456789", "x1234567", "AB12C", "P1234567890123456"};
	for (size_t i = 0; i < G_N_ELEMENTS(pass_ok); i++) {
		g_assert_true(cp_rule_id_number(CP_ID_PASSPORT, pass_ok[i], 2026, 1, 1, norm, &v));
		expect_clean(&v);
	}
	g_assert_true(cp_rule_id_number(CP_ID_PASSPORT, "x1234567", 2026, 1, 1, norm, &v));
	g_assert_cmpstr(norm, ==, "X1234567");
	g_assert_false(cp_rule_id_number(CP_ID_PASSPORT, "E123", 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.length", NULL);
	g_assert_false(cp_rule_id_number(CP_ID_PASSPORT, "P12345678901234567", 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.length", NULL);
	g_assert_false(cp_rule_id_number(CP_ID_PASSPORT, "E1234-5678", 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.charset", NULL);

	/* 港澳居民来往内地通行证: H/M + 8 or 10 digits */
	static const char *const hk_ok[] = {"H12345678", "M12345678", "H1234567801", "h12345678"};
	for (size_t i = 0; i < G_N_ELEMENTS(hk_ok); i++)
		g_assert_true(cp_rule_id_number(CP_ID_HKMO_PERMIT, hk_ok[i], 2026, 1, 1, norm, &v));
	expect_clean(&v);
	static const char *const hk_bad[] = {"K12345678", "H1234567", "H123456789", "H12345678012",
	                                     "H1234567A"};
	for (size_t i = 0; i < G_N_ELEMENTS(hk_bad); i++) {
		g_assert_false(cp_rule_id_number(CP_ID_HKMO_PERMIT, hk_bad[i], 2026, 1, 1, norm, &v));
		expect_rule(&v, "id_number.format", "H (Hong Kong) or M (Macao)");
	}

	/* 台湾居民来往大陆通行证: 8 digits, or 10 characters */
	g_assert_true(cp_rule_id_number(CP_ID_TW_PERMIT, "12345678", 2026, 1, 1, norm, &v));
	g_assert_true(cp_rule_id_number(CP_ID_TW_PERMIT, "1234567801", 2026, 1, 1, norm, &v));
	expect_clean(&v);
	g_assert_false(cp_rule_id_number(CP_ID_TW_PERMIT, "1234567", 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.format", NULL);
	g_assert_false(cp_rule_id_number(CP_ID_TW_PERMIT, "1234567A", 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.format", NULL);

	/* 外国人永久居留身份证: 2004 form (3 letters + 12 digits), 2023 form */
	g_assert_true(cp_rule_id_number(CP_ID_FOREIGN_PR, "USA110085061501", 2026, 1, 1, norm, &v));
	expect_clean(&v);
	g_assert_false(cp_rule_id_number(CP_ID_FOREIGN_PR, "US1110085061501", 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.format", "3 letters");
	char *pr = tu_make_id("93184019850615001");
	g_assert_true(cp_rule_id_number(CP_ID_FOREIGN_PR, pr, 2026, 1, 1, norm, &v));
	expect_clean(&v);
	pr[17] = pr[17] == '1' ? '2' : '1';
	g_assert_false(cp_rule_id_number(CP_ID_FOREIGN_PR, pr, 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.check", NULL);
	g_free(pr);
	pr = tu_make_id("83184019850615001");
	g_assert_false(cp_rule_id_number(CP_ID_FOREIGN_PR, pr, 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.format", "starts with 9");
	g_free(pr);
	g_assert_false(cp_rule_id_number(CP_ID_FOREIGN_PR, "USA1100850615", 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.length", NULL);

	/* 港澳台居民居住证: 810000 / 820000 / 830000 + birth date + check */
	static const char *const hmt[] = {"81000019900307123", "82000019900307123",
	                                  "83000019900307123"};
	for (size_t i = 0; i < G_N_ELEMENTS(hmt); i++) {
		char *r = tu_make_id(hmt[i]);
		g_assert_true(cp_rule_id_number(CP_ID_HMT_RESIDENCE, r, 2026, 1, 1, norm, &v));
		expect_clean(&v);
		/* the same number is not a 居民身份证 (81 is no mainland province) */
		g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, r, 2026, 1, 1, norm, &v));
		expect_rule(&v, "id_number.region", NULL);
		g_free(r);
	}
	char *r = tu_make_id("44010619900307123");
	g_assert_false(cp_rule_id_number(CP_ID_HMT_RESIDENCE, r, 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.region", "810000");
	g_free(r);
	r = tu_make_id("81000020200307123");
	g_assert_false(cp_rule_id_number(CP_ID_HMT_RESIDENCE, r, 2026, 1, 1, norm, &v));
	expect_rule(&v, "id_number.age", NULL);
	g_free(r);
}

/* ------------------------------------------------------------------- text */

static void test_text(void)
{
	cp_violations v = {0};
	g_assert_true(cp_rule_text("x", "电工（维修）Électricien 2级", 100, &v));
	g_assert_true(cp_rule_text("x", NULL, 100, &v));
	g_assert_true(cp_rule_text("x", "", 100, &v));
	expect_clean(&v);
	static const struct {
		const char *s;
		const char *rule;
		const char *needle;
	} bad[] = {
		{"电\x01工", "text.control", "U+0001 at character 2"},
		{"电\xC2\x85工", "text.control", "U+0085"},      /* C1 NEL */
		{"电\xE2\x80\xA8工", "text.control", "U+2028"},  /* line separator */
		{"电\xE2\x80\xAE工", "text.bidi", "U+202E"},     /* RLO */
		{"电\xE2\x81\xA6工", "text.bidi", "U+2066"},     /* LRI */
		{"电\xE2\x80\x8B工", "text.invisible", "U+200B"},/* ZWSP */
		{"电\xEF\xBB\xBF工", "text.invisible", "U+FEFF"},/* BOM inside */
		{"电\xC2\xAD工", "text.invisible", "U+00AD"},    /* soft hyphen */
		{"电\xEE\x80\x80工", "text.private_use", "U+E000"},
		{"电\xF3\xB0\x80\x80工", "text.private_use", "U+F0000"},
		{"电\xCD\xB8工", "text.unassigned", "U+0378"},
		{"电\xff工", "text.utf8", "offset 3"},
		{"\xED\xA0\x80", "text.utf8", NULL},             /* encoded surrogate */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_false(cp_rule_text("the job type", bad[i].s, 100, &v));
		expect_rule(&v, bad[i].rule, bad[i].needle);
	}
	/* several kinds at once, counted */
	g_assert_false(cp_rule_text("f", "\xE2\x80\x8B" "a" "\xE2\x80\x8B" "\x07", 100, &v));
	g_assert_cmpuint(v.len, ==, 2);
	g_assert_nonnull(strstr(v.items[1].message, "(2 in all)"));
	cp_violations_clear(&v);
	g_assert_false(cp_rule_text("f", "一二三四五", 4, &v));
	expect_rule(&v, "text.length", "longer than 4");
}

/* ------------------------------------------------------------------- name */

static void expect_name(const char *in, const char *out)
{
	cp_violations v = {0};
	char *n = cp_rule_name(in, &v);
	for (size_t i = 0; i < v.len; i++)
		g_test_message("%s: %s", v.items[i].rule, v.items[i].message);
	g_assert_cmpuint(cp_violations_errors(&v), ==, 0);
	g_assert_cmpstr(n, ==, out);
	g_free(n);
	cp_violations_clear(&v);
}

static void expect_bad_name(const char *in, const char *rule, const char *needle)
{
	cp_violations v = {0};
	char *n = cp_rule_name(in, &v);
	g_assert_null(n);
	expect_rule(&v, rule, needle);
}

static void test_name(void)
{
	expect_name("张三", "张三");
	expect_name(" 欧阳娜娜 ", "欧阳娜娜");         /* compound surname, trimmed */
	expect_name("司马相如", "司马相如");
	expect_name("王䶮", "王䶮");                    /* U+4DAE, Ext A */
	expect_name("李𠇔", "李𠇔");                    /* U+201D4, Ext B */
	expect_name("陈𰻞", "陈𰻞");                    /* U+30EDE, Ext G */
	expect_name("林〇", "林〇");                    /* U+3007 */
	expect_name("阿卜杜热合曼·麦麦提", "阿卜杜热合曼·麦麦提");
	expect_name("MARÍA GARCÍA", "MARÍA GARCÍA");
	expect_name("O'Neil", "O'Neil");
	expect_name("O\u2019Neil", "O'Neil");          /* typographic apostrophe */
	expect_name("Jean-Luc  Picard", "Jean-Luc Picard"); /* blank run squeezed */
	expect_name("ＪＯＨＮ", "JOHN");                /* full-width Latin */
	/* decomposed accent composes to one letter (NFC) */
	expect_name("MARI\xCC\x81" "A", "MARÍA");
	expect_name("Nguyễn Văn", "Nguyễn Văn");

	/* look-alike dots become U+00B7, with a warning saying so */
	cp_violations v = {0};
	char *n = cp_rule_name("买买提・艾力", &v); /* U+30FB */
	g_assert_cmpstr(n, ==, "买买提·艾力");
	g_assert_cmpuint(cp_violations_errors(&v), ==, 0);
	g_assert_cmpuint(v.len, ==, 1);
	g_assert_cmpint(v.items[0].severity, ==, CP_SEV_WARNING);
	g_assert_cmpstr(v.items[0].rule, ==, "name.dot");
	g_free(n);
	cp_violations_clear(&v);
	expect_name("买买提\u2027艾力", "买买提·艾力");
	expect_name("买买提\uFF65艾力", "买买提·艾力");
	expect_name("买买提\u2022艾力", "买买提·艾力");

	expect_bad_name("", "name.missing", NULL);
	expect_bad_name("张三2", "name.digit", "character 3");
	expect_bad_name("张三２", "name.digit", NULL);
	expect_bad_name("张三（曾用名）", "name.charset", "U+FF08");
	expect_bad_name("张.三", "name.charset", "U+002E");
	expect_bad_name("买买提．艾力", "name.charset", "U+FF0E");
	expect_bad_name("ИВАН", "name.charset", "U+0418"); /* Cyrillic look-alikes */
	expect_bad_name("⽅明", "name.charset", "U+2F45"); /* Kangxi radical, not 方 */
	expect_bad_name("张\xE2\x80\x8B三", "text.invisible", NULL);
	expect_bad_name("张\xE2\x80\xAE三", "text.bidi", NULL);
	expect_bad_name("张\xEE\x80\x80", "text.private_use", NULL);
	expect_bad_name("·艾力", "name.separator", "character 1");
	expect_bad_name("艾力·", "name.separator", "ends with");
	expect_bad_name("艾力··买", "name.separator", NULL);
	expect_bad_name("O''Neil", "name.separator", NULL);
	expect_bad_name("张 三", "name.space", NULL);
	expect_bad_name("\xCC\x81" "A", "name.charset", "combining mark");
	char *longname = g_strnfill(65, 'A');
	expect_bad_name(longname, "text.length", NULL);
	g_free(longname);
}

/* ------------------------------------------------------- rule sources */

/* Adds the rule ids of the .c files under dir to ids (literals "prefix.x"
 * whose prefix is one of the rules'). */
static void scan_sources(const char *dir, GHashTable *prefixes, GHashTable *ids)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	g_assert_nonnull(d);
	GRegex *re = g_regex_new("\"([a-z_]+)\\.([a-z_0-9]+)\"", 0, 0, NULL);
	const char *name;
	while ((name = g_dir_read_name(d))) {
		char *path = g_build_filename(dir, name, NULL);
		if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
			scan_sources(path, prefixes, ids);
		} else if (g_str_has_suffix(name, ".c")) {
			char *text;
			g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
			GMatchInfo *mi;
			g_regex_match(re, text, 0, &mi);
			for (; g_match_info_matches(mi); g_match_info_next(mi, NULL)) {
				char *prefix = g_match_info_fetch(mi, 1);
				char *id = g_match_info_fetch(mi, 0);
				/* the ledger's file, not a rule */
				if (g_hash_table_contains(prefixes, prefix) &&
				    strcmp(id, "\"ledger.sqlite\"") != 0) {
					id[strlen(id) - 1] = '\0';
					g_hash_table_replace(ids, g_strdup(id + 1), g_strdup(name));
				}
				g_free(prefix);
				g_free(id);
			}
			g_match_info_free(mi);
			g_free(text);
		}
		g_free(path);
	}
	g_regex_unref(re);
	g_dir_close(d);
}

/* Every rule id has one source, the same in the code's table (which every
 * problem takes its tag from) and in docs/rules.md, row for row; every rule
 * id the code names is in both. A rule added, renamed or re-sourced in one
 * place only fails here. */
static void test_rule_sources(void)
{
	size_t n;
	const cp_rule_source *t = cp_rule_sources(&n);
	g_assert_cmpuint(n, >, 50);
	GHashTable *code = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTable *prefixes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (size_t i = 0; i < n; i++) {
		if (g_hash_table_contains(code, t[i].rule))
			g_test_message("the code's table lists %s twice", t[i].rule);
		g_assert_false(g_hash_table_contains(code, t[i].rule));
		g_hash_table_insert(code, (gpointer)t[i].rule,
		                    (gpointer)(t[i].source ? t[i].source : "—"));
		g_hash_table_add(prefixes, g_strndup(t[i].rule, strcspn(t[i].rule, ".")));
		g_assert_true(cp_rule_source_of(t[i].rule) == t[i].source);
	}
	g_assert_null(cp_rule_source_of("no.such_rule"));

	/* the doc's rows: | `a.b`, `c.d` | source | what |, ids from the first
	 * cell only */
	char *path = tu_path("../docs/rules.md"), *md;
	g_assert_true(g_file_get_contents(path, &md, NULL, NULL));
	GHashTable *doc = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	char **lines = g_strsplit(md, "\n", -1);
	GRegex *idre = g_regex_new("`([a-z_]+\\.[a-z_0-9]+)`", 0, 0, NULL);
	int failures = 0;
	for (size_t i = 0; lines[i]; i++) {
		if (!g_str_has_prefix(lines[i], "| `"))
			continue;
		char **cells = g_strsplit(lines[i], "|", 4);
		g_assert_nonnull(cells[1]);
		g_assert_nonnull(cells[2]);
		char *source = g_strstrip(g_strdup(cells[2]));
		GMatchInfo *mi;
		g_regex_match(idre, cells[1], 0, &mi);
		for (; g_match_info_matches(mi); g_match_info_next(mi, NULL)) {
			char *id = g_match_info_fetch(mi, 1);
			if (g_hash_table_contains(doc, id)) {
				g_test_message("docs/rules.md lists %s twice", id);
				failures++;
			}
			g_hash_table_replace(doc, id, g_strdup(source));
		}
		g_match_info_free(mi);
		g_free(source);
		g_strfreev(cells);
	}
	g_assert_cmpuint(g_hash_table_size(doc), >, 50);

	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, code);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const char *d = g_hash_table_lookup(doc, k);
		if (!d) {
			g_test_message("%s (%s) is not in docs/rules.md", (char *)k, (char *)v);
			failures++;
		} else if (strcmp(d, v) != 0) {
			g_test_message("%s: the code cites %s, docs/rules.md %s", (char *)k,
			               (char *)v, d);
			failures++;
		}
	}
	g_hash_table_iter_init(&it, doc);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (!g_hash_table_contains(code, k)) {
			g_test_message("%s of docs/rules.md is not in the code's table", (char *)k);
			failures++;
		}

	/* every rule id src/ names */
	char *src = tu_path("../src");
	GHashTable *used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	scan_sources(src, prefixes, used);
	g_assert_cmpuint(g_hash_table_size(used), >, 50);
	g_hash_table_iter_init(&it, used);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (!g_hash_table_contains(code, k)) {
			g_test_message("%s (%s) is not in the code's table", (char *)k, (char *)v);
			failures++;
		}
	g_assert_cmpint(failures, ==, 0);

	g_hash_table_destroy(used);
	g_free(src);
	g_regex_unref(idre);
	g_strfreev(lines);
	g_hash_table_destroy(doc);
	g_free(md);
	g_free(path);
	g_hash_table_destroy(prefixes);
	g_hash_table_destroy(code);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rules/level", test_level);
	g_test_add_func("/rules/sources", test_rule_sources);
	g_test_add_func("/rules/date", test_date);
	g_test_add_func("/rules/cert-no/valid", test_cert_no_valid);
	g_test_add_func("/rules/cert-no/positions", test_cert_no_positions);
	g_test_add_func("/rules/cert-prefix", test_cert_prefix);
	g_test_add_func("/rules/id/type", test_id_type);
	g_test_add_func("/rules/id/check", test_id_check);
	g_test_add_func("/rules/id/resident", test_id_resident);
	g_test_add_func("/rules/id/masked", test_id_masked_messages);
	g_test_add_func("/rules/id/other", test_id_other);
	g_test_add_func("/rules/text", test_text);
	g_test_add_func("/rules/name", test_name);
	return g_test_run();
}
