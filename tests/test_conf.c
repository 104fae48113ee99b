/* SPDX-License-Identifier: MIT */
#include "common/testutil.h"

#include <string.h>
#include "input/conf.h"
#include "error.h"

static const char sample[] =
	"\xEF\xBB\xBF# comment\n"
	"; another\n"
	"[page]\n"
	"size = 210 297\n"
	"margin = 8\n"
	"\n"
	"[text 证书 title]\n"
	"text = \"  职业技能等级证书\\n \"\n"
	"bold = yes\n"
	"align = center\r\n";

static void test_parse(void)
{
	cp_error *err = NULL;
	cp_conf *c = cp_conf_parse(sample, sizeof sample - 1, "t.conf", &err);
	tu_assert_no_error(err);
	g_assert_cmpuint(c->nsections, ==, 2);
	g_assert_cmpstr(c->sections[0].kind, ==, "page");
	g_assert_null(c->sections[0].name);
	g_assert_cmpstr(c->sections[1].kind, ==, "text");
	g_assert_cmpstr(c->sections[1].name, ==, "证书 title");
	g_assert_cmpint(c->sections[1].line, ==, 7);

	double size[2];
	g_assert_true(cp_conf_numbers(c, &c->sections[0], "size", true, 2, 1, 2000, size, &err));
	g_assert_cmpfloat(size[0], ==, 210);
	g_assert_cmpfloat(size[1], ==, 297);
	/* margin was never asked for: unknown-key check names it */
	g_assert_false(cp_conf_check_unused(c, &c->sections[0], &err));
	tu_assert_error(&err, CP_E_PARSE, "t.conf:5: key margin");

	const cp_conf_section *t = &c->sections[1];
	g_assert_cmpstr(cp_conf_get(t, "text"), ==, "  职业技能等级证书\n ");
	bool b = false;
	g_assert_true(cp_conf_bool(c, t, "bold", true, &b, &err));
	g_assert_true(b);
	static const char *const aligns[] = {"left", "center", "right", NULL};
	int a = -1;
	g_assert_true(cp_conf_choice(c, t, "align", true, aligns, &a, &err));
	g_assert_cmpint(a, ==, 1);
	g_assert_true(cp_conf_check_unused(c, t, &err));
	/* optional number absent: untouched, success */
	double x = 42;
	g_assert_true(cp_conf_number(c, t, "size", false, 0, 1, &x, &err));
	g_assert_cmpfloat(x, ==, 42);
	g_assert_false(cp_conf_number(c, t, "size", true, 0, 1, &x, &err));
	tu_assert_error(&err, CP_E_PARSE, "required key is missing");
	cp_conf_free(c);
}

static void expect_parse_error(const char *text, const char *needle)
{
	cp_error *err = NULL;
	cp_conf *c = cp_conf_parse(text, strlen(text), "bad.conf", &err);
	g_assert_null(c);
	tu_assert_error(&err, CP_E_PARSE, needle);
}

static void test_errors(void)
{
	expect_parse_error("[page\n", "bad.conf:1:");
	expect_parse_error("[]\n", "empty section");
	expect_parse_error("key = 1\n", "outside any [section]");
	expect_parse_error("[a]\nnonsense\n", "bad.conf:2:");
	expect_parse_error("[a]\nk = 1\nk = 2\n", "first on line 2");
	expect_parse_error("[a]\nk = \"open\n", "badly quoted");
	expect_parse_error("[a]\nk = \"bad \\t escape\"\n", "badly quoted");
	expect_parse_error("[a]\n = 3\n", "missing key");
	expect_parse_error("[a]\nk = \xff\xfe\n", "bad.conf:2: text is not valid UTF-8");
	cp_error *err = NULL;
	g_assert_null(cp_conf_parse("[a]\0", 4, "nul.conf", &err));
	tu_assert_error(&err, CP_E_PARSE, "NUL byte");
	g_assert_null(cp_conf_load("/nonexistent/x.conf", &err));
	tu_assert_error(&err, CP_E_IO, "/nonexistent/x.conf");
}

static void test_numbers(void)
{
	static const char text[] = "[a]\nbox = 1, 2 3,4\nbig = 1e9\nnan = nan\nthree = 1 2 3\nword = abc\n";
	cp_error *err = NULL;
	cp_conf *c = cp_conf_parse(text, sizeof text - 1, "n.conf", &err);
	tu_assert_no_error(err);
	const cp_conf_section *s = &c->sections[0];
	double v[4];
	g_assert_true(cp_conf_numbers(c, s, "box", true, 4, 0, 10, v, &err));
	g_assert_cmpfloat(v[3], ==, 4);
	g_assert_false(cp_conf_number(c, s, "big", true, 0, 1000, v, &err));
	tu_assert_error(&err, CP_E_PARSE, "n.conf:3: key big: 1e+09 is out of range");
	g_assert_false(cp_conf_number(c, s, "nan", true, 0, 1000, v, &err));
	tu_assert_error(&err, CP_E_PARSE, "expected a number");
	g_assert_false(cp_conf_numbers(c, s, "three", true, 2, 0, 10, v, &err));
	tu_assert_error(&err, CP_E_PARSE, "unexpected text");
	g_assert_false(cp_conf_numbers(c, s, "word", true, 2, 0, 10, v, &err));
	tu_assert_error(&err, CP_E_PARSE, "expected 2 numbers");
	cp_conf_free(c);
}

static void test_error_format(void)
{
	cp_error *err = NULL;
	cp_set_error(&err, CP_E_REFUSED, "batch.csv", 7, 6, "姓名", "text does not fit");
	cp_set_error(&err, CP_E_IO, NULL, 0, 0, NULL, "second error is dropped");
	char *m = cp_error_format(err);
	g_assert_cmpstr(m, ==, "batch.csv:7: row 6, column 姓名: text does not fit");
	g_free(m);
	g_assert_cmpint(cp_error_exit_status(err), ==, 1);
	cp_error_free(err);
	cp_error_free(NULL);
	g_assert_cmpint(cp_error_exit_status(NULL), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/conf/parse", test_parse);
	g_test_add_func("/conf/errors", test_errors);
	g_test_add_func("/conf/numbers", test_numbers);
	g_test_add_func("/error/format", test_error_format);
	return g_test_run();
}
