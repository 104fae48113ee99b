/* SPDX-License-Identifier: MIT */
/*
 * The zh_CN message catalogue, end to end.
 *
 * Proves that (1) the catalogue the build compiles into CP_LOCALEDIR reaches
 * the library's messages through dgettext("certpress", …): a configuration
 * error, the row/column frame of cp_error_format(), a field rule, the layout
 * field labels and a plural message come out in the Chinese of po/zh_CN.po,
 * so a missing .mo or a catalogue that no longer matches those source strings
 * fails; and (2) every message that `make pot` would extract from the .c files
 * of src/ today has a translation in po/zh_CN.po that is neither empty nor
 * fuzzy — the failure lists them.
 *
 * Locale: no zh_CN locale is installed on a plain Debian system, and none is
 * needed. glibc ignores LANGUAGE only when the message locale is exactly "C";
 * the built-in C.UTF-8 locale (glibc ≥ 2.35) is not "C", so LANGUAGE=zh_CN
 * selects the catalogue while the character set stays UTF-8.
 */
#include "common/testutil.h"

#include <errno.h>
#include <libintl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "input/conf.h"
#include "error.h"
#include "i18n.h"
#include "layout/layout.h"
#include "input/rules.h"
#include "layout/template.h"

static char *format_and_free(cp_error *err)
{
	g_assert_nonnull(err);
	char *m = cp_error_format(err);
	cp_error_free(err);
	return m;
}

/* The compiled catalogue is where the library will look for it. */
static void test_catalogue_built(void)
{
	char *mo = g_build_filename(CP_LOCALEDIR, "zh_CN", "LC_MESSAGES", "certpress.mo", NULL);
	if (!g_file_test(mo, G_FILE_TEST_IS_REGULAR))
		g_test_message("%s is missing: `make` compiles po/zh_CN.po into it", mo);
	g_assert_true(g_file_test(mo, G_FILE_TEST_IS_REGULAR));
	g_free(mo);
}

/* A configuration syntax error, with file:line in front, in Chinese. */
static void test_conf_error(void)
{
	cp_error *err = NULL;
	static const char text[] = "[page]\nnonsense\n";
	g_assert_null(cp_conf_parse(text, sizeof text - 1, "bad.conf", &err));
	char *m = format_and_free(err);
	g_assert_cmpstr(m, ==, "bad.conf:2: 应为 'key = value' 或 '[section]'");
	g_free(m);

	/* A message with a conversion: the number lands inside the Chinese. */
	static const char twice[] = "[page]\nsize = 1\nsize = 2\n";
	err = NULL;
	g_assert_null(cp_conf_parse(twice, sizeof twice - 1, "bad.conf", &err));
	m = format_and_free(err);
	g_assert_nonnull(strstr(m, "同一节中键重复（首次出现在第 2 行）"));
	g_free(m);
}

/* The row/column frame that every record-level error carries. */
static void test_row_column(void)
{
	cp_error *err = NULL;
	cp_set_error(&err, CP_E_REFUSED, "batch.csv", 6, 5, "证件号码", "%s", _("the ID number is blank"));
	char *m = format_and_free(err);
	g_assert_cmpstr(m, ==, "batch.csv:6: 第 5 行，列 证件号码：证件号码为空");
	g_free(m);

	err = NULL;
	cp_set_error(&err, CP_E_PARSE, "t.conf", 3, 0, "margin", "%s", _("value must not be empty"));
	m = format_and_free(err);
	g_assert_cmpstr(m, ==, "t.conf:3: 键 margin：值不能为空");
	g_free(m);
}

/* A field rule's message, with the check characters filled in. */
static void test_rule_message(void)
{
	/* GB 11643's own example number, with its check character changed. */
	const char *good = "11010519491231002X";
	char wrong[19];
	memcpy(wrong, good, 17);
	wrong[17] = '1';
	wrong[18] = '\0';
	char want = cp_rule_id_check_char(good);
	g_assert_cmpint(want, ==, 'X');

	cp_violations v = {0};
	g_assert_false(cp_rule_id_number(CP_ID_RESIDENT, wrong, 2026, 11, 27, NULL, &v));
	g_assert_cmpuint(v.len, >=, 1);
	char *expect = g_strdup_printf("校验码（第 18 位）为 %c，但按第 1–17 位计算应为 %c"
	                               "（GB 11643）；可能有数字录错", '1', want);
	bool found = false;
	for (size_t i = 0; i < v.len; i++) {
		g_test_message("rule message: %s", v.items[i].message);
		found = found || strcmp(v.items[i].message, expect) == 0;
	}
	g_assert_true(found);
	g_free(expect);
	cp_violations_clear(&v);

	int level = -1;
	g_assert_false(cp_rule_level("九级", &level, &v));
	g_assert_cmpuint(v.len, ==, 1);
	g_assert_true(g_str_has_prefix(v.items[0].message, "不是职业技能等级；请填写"));
	cp_violations_clear(&v);
}

/* Field labels of layout refusals come from an N_() table, translated when
 * they are looked up: the regulation's own words. */
static void test_layout_labels(void)
{
	g_assert_cmpstr(cp_layout_bind_label(CP_FIELD_ID_NUMBER), ==, "证件号码");
	g_assert_cmpstr(cp_layout_bind_label(CP_FIELD_CERT_NO), ==, "证书编号");
	g_assert_cmpstr(cp_layout_bind_label(CP_BIND_ORG_NAME), ==, "评价机构");
}

/* A plural message (dngettext) through the CSV reader: several columns are
 * missing, and zh_CN has one plural form. */
static void test_plural(void)
{
	char *dir = tu_scratch("i18n-plural");
	char *csv = tu_write(dir, "batch.csv", "姓名\n张三\n");
	cp_error *err = NULL;
	cp_reader *r = cp_reader_open(csv, &err);
	g_assert_null(r);
	char *m = format_and_free(err);
	g_test_message("%s", m);
	g_assert_nonnull(strstr(m, ": 第 1 行：缺少必需的列："));
	g_free(m);
	g_free(csv);
	g_free(dir);
}

/* Runs argv, fails the test with its output when it does not exit 0. */
static char *run(char **argv)
{
	char *out = NULL, *errout = NULL;
	int status = 0;
	GError *gerr = NULL;
	if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &errout,
	                  &status, &gerr)) {
		g_test_message("cannot run %s: %s (the gettext tools come with the "
		               "Debian package gettext)", argv[0], gerr->message);
		g_assert_no_error(gerr);
	}
	if (!g_spawn_check_wait_status(status, &gerr)) {
		g_test_message("%s failed:\n%s", argv[0], errout);
		g_assert_no_error(gerr);
	}
	g_free(errout);
	return out;
}

/* Collects the msgids of a PO text (skipping the header's empty one). */
static void list_msgids(const char *po, GPtrArray *into)
{
	char **lines = g_strsplit(po, "\n", -1);
	for (size_t i = 0; lines[i]; i++) {
		if (!g_str_has_prefix(lines[i], "msgid \""))
			continue;
		GString *id = g_string_new(NULL);
		const char *l = lines[i] + 6;
		for (;;) {
			size_t n = strlen(l);
			if (n >= 2)
				g_string_append_len(id, l + 1, (gssize)n - 2);
			if (!lines[i + 1] || lines[i + 1][0] != '"')
				break;
			l = lines[++i];
		}
		if (id->len)
			g_ptr_array_add(into, g_string_free(id, FALSE));
		else
			g_string_free(id, TRUE);
	}
	g_strfreev(lines);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds the .c files under dir to out, descending depth more levels (src/ and
 * its stage folders). */
static void add_c_files(const char *dir, GPtrArray *out, int depth)
{
	GError *gerr = NULL;
	GDir *d = g_dir_open(dir, 0, &gerr);
	g_assert_no_error(gerr);
	for (const char *n; (n = g_dir_read_name(d));) {
		char *path = g_build_filename(dir, n, NULL);
		if (g_str_has_suffix(n, ".c"))
			g_ptr_array_add(out, path);
		else if (depth > 0 && g_file_test(path, G_FILE_TEST_IS_DIR)) {
			add_c_files(path, out, depth - 1);
			g_free(path);
		} else
			g_free(path);
	}
	g_dir_close(d);
}

/* Every message of today's sources has a translation that is neither empty
 * nor fuzzy. Messages of modules not merged yet wait in the catalogue as
 * obsolete (#~) entries; msgmerge brings them back when their source lands. */
static void test_complete(void)
{
	char *srcdir = g_build_filename(CP_DATADIR, "src", NULL);
	char *po = g_build_filename(CP_DATADIR, "po", "zh_CN.po", NULL);
	char *scratch = tu_scratch("i18n-complete");
	char *pot = g_build_filename(scratch, "certpress.pot", NULL);
	char *merged = g_build_filename(scratch, "merged.po", NULL);

	GPtrArray *c_files = g_ptr_array_new_with_free_func(g_free);
	add_c_files(srcdir, c_files, 1);
	g_ptr_array_sort(c_files, cmp_str);
	g_assert_cmpuint(c_files->len, >, 0);

	/* The same extraction as `make pot` (keep the keywords in step). */
	GPtrArray *argv = g_ptr_array_new();
	const char *xgettext[] = {"xgettext", "--from-code=UTF-8", "--package-name=certpress",
	                          "-k_", "-kN_", "-kg_dngettext:2,3", "-o", pot};
	for (size_t i = 0; i < G_N_ELEMENTS(xgettext); i++)
		g_ptr_array_add(argv, (char *)xgettext[i]);
	for (guint i = 0; i < c_files->len; i++)
		g_ptr_array_add(argv, c_files->pdata[i]);
	g_ptr_array_add(argv, NULL);
	g_free(run((char **)argv->pdata));
	g_ptr_array_free(argv, TRUE);

	char *msgmerge[] = {"msgmerge", "--quiet", "--no-fuzzy-matching", "-o", merged,
	                    po, pot, NULL};
	g_free(run(msgmerge));
	char *untranslated_argv[] = {"msgattrib", "--untranslated", "--no-obsolete", merged, NULL};
	char *fuzzy_argv[] = {"msgattrib", "--only-fuzzy", "--no-obsolete", merged, NULL};
	char *untranslated = run(untranslated_argv);
	char *fuzzy = run(fuzzy_argv);

	GPtrArray *missing = g_ptr_array_new_with_free_func(g_free);
	list_msgids(untranslated, missing);
	guint nuntranslated = missing->len;
	list_msgids(fuzzy, missing);
	for (guint i = 0; i < missing->len; i++)
		g_test_message("%s in po/zh_CN.po: \"%s\"",
		               i < nuntranslated ? "untranslated" : "fuzzy",
		               (const char *)missing->pdata[i]);
	if (missing->len)
		g_test_message("%u message(s) need a translation: run `make po-update`, "
		               "translate, see po/README.md", missing->len);
	g_assert_cmpuint(missing->len, ==, 0);

	/* The check itself would see a message that has none. */
	GPtrArray *probe = g_ptr_array_new_with_free_func(g_free);
	list_msgids("msgid \"\"\nmsgstr \"x\"\n\nmsgid \"\"\n\"two \"\n\"lines\"\nmsgstr \"\"\n",
	            probe);
	g_assert_cmpuint(probe->len, ==, 1);
	g_assert_cmpstr(probe->pdata[0], ==, "two lines");
	g_ptr_array_free(probe, TRUE);

	g_ptr_array_free(missing, TRUE);
	g_free(untranslated);
	g_free(fuzzy);
	g_ptr_array_free(c_files, TRUE);
	g_free(merged);
	g_free(pot);
	g_free(scratch);
	g_free(po);
	g_free(srcdir);
}

int main(int argc, char **argv)
{
	/* Before any dgettext call: glibc reads LANGUAGE on each lookup but the
	 * locale decides whether it is honoured at all. */
	g_setenv("LANGUAGE", "zh_CN", TRUE);
	if (!setlocale(LC_ALL, "C.UTF-8")) {
		fprintf(stderr, "Bail out! the C.UTF-8 locale is not available\n");
		return 1;
	}
	bindtextdomain(CP_TEXTDOMAIN, CP_LOCALEDIR);
	bind_textdomain_codeset(CP_TEXTDOMAIN, "UTF-8");

	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/i18n/catalogue-built", test_catalogue_built);
	/* First: when messages fail below, the list of what lacks a
	 * translation has been printed already. */
	g_test_add_func("/i18n/complete", test_complete);
	g_test_add_func("/i18n/conf-error", test_conf_error);
	g_test_add_func("/i18n/row-column", test_row_column);
	g_test_add_func("/i18n/rule-message", test_rule_message);
	g_test_add_func("/i18n/layout-labels", test_layout_labels);
	g_test_add_func("/i18n/plural", test_plural);
	return g_test_run();
}
