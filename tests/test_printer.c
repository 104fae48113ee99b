/* SPDX-License-Identifier: MIT */
#include "common/testutil.h"

#include <math.h>
#include <string.h>

#include "error.h"

static char *dir;

/* Saving and loading round-trips offset and scale, the file is the
 * documented format, and the folder is created when missing. */
static void test_roundtrip(void)
{
	char *sub = g_build_filename(dir, "made", "by", "save", NULL);
	cp_output_opts o = {.offset_x_mm = -1.5, .offset_y_mm = 2.25, .scale_x = 0.995,
	                    .scale_y = 1.0125, .dpi = 300};
	cp_error *err = NULL;
	g_assert_true(cp_printer_save("office-HP_4.1", sub, &o, &err));
	tu_assert_no_error(err);
	char *path = cp_printer_path("office-HP_4.1", sub, &err);
	g_assert_true(g_str_has_suffix(path, "/made/by/save/office-HP_4.1.conf"));
	char *text;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_nonnull(strstr(text, "[printer]\noffset = -1.50 2.25\nscale = 0.9950 1.0125\n"));
	g_free(text);
	cp_output_opts back = {.dpi = 150, .mode = CP_MODE_FILL};
	g_assert_true(cp_printer_load("office-HP_4.1", sub, &back, &err));
	tu_assert_no_error(err);
	g_assert_cmpfloat(back.offset_x_mm, ==, -1.5);
	g_assert_cmpfloat(back.offset_y_mm, ==, 2.25);
	g_assert_cmpfloat(back.scale_x, ==, 0.995);
	g_assert_cmpfloat(back.scale_y, ==, 1.0125);
	g_assert_cmpfloat(back.dpi, ==, 150); /* untouched */
	g_assert_cmpint(back.mode, ==, CP_MODE_FILL);
	g_free(path);
	g_free(sub);
}

/* Without a folder, profiles live under the user's config folder. */
static void test_default_dir(void)
{
	cp_error *err = NULL;
	char *p = cp_printer_path("lobby", NULL, &err);
	char *want = g_build_filename(g_get_user_config_dir(), "certpress", "printers",
	                              "lobby.conf", NULL);
	g_assert_cmpstr(p, ==, want);
	g_free(want);
	g_free(p);
}

/* Names that could leave the folder or hide a file are refused. */
static void test_bad_names(void)
{
	const char *bad[] = {"", ".", "..", "../evil", "a/b", ".hidden", "名字", "a b",
	                     "x\\y"};
	cp_output_opts o = {.scale_x = 1, .scale_y = 1};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		cp_error *err = NULL;
		g_assert_false(cp_printer_save(bad[i], dir, &o, &err));
		tu_assert_error(&err, CP_E_USAGE, "invalid printer profile name");
		g_assert_false(cp_printer_load(bad[i], dir, &o, &err));
		tu_assert_error(&err, CP_E_USAGE, "invalid printer profile name");
	}
	char longname[66];
	memset(longname, 'a', 65);
	longname[65] = 0;
	cp_error *err = NULL;
	g_assert_null(cp_printer_path(longname, dir, &err));
	tu_assert_error(&err, CP_E_USAGE, "1 to 64");
	g_assert_null(cp_printer_path(NULL, dir, &err));
	tu_assert_error(&err, CP_E_USAGE, "invalid");
}

static void expect_load_error(const char *name, const char *text, cp_code code,
                              const char *needle)
{
	char *file = g_strconcat(name, ".conf", NULL);
	g_free(tu_write(dir, file, text));
	g_free(file);
	cp_output_opts o = {.offset_x_mm = 7, .scale_x = 1, .scale_y = 1};
	cp_error *err = NULL;
	g_assert_false(cp_printer_load(name, dir, &o, &err));
	tu_assert_error(&err, code, needle);
	g_assert_cmpfloat(o.offset_x_mm, ==, 7); /* untouched on failure */
}

/* Out-of-range values, unknown keys, stray sections and a missing profile
 * are errors naming file, line and key. */
static void test_load_errors(void)
{
	expect_load_error("far", "[printer]\noffset = 25 0\n", CP_E_PARSE, "far.conf:2: key offset");
	expect_load_error("shrink", "[printer]\nscale = 0.5 1\n", CP_E_PARSE, "key scale");
	expect_load_error("typo", "[printer]\noffst = 1 1\n", CP_E_PARSE, "typo.conf:2: key offst");
	expect_load_error("one", "[printer]\noffset = 1\n", CP_E_PARSE, "key offset");
	expect_load_error("two", "[printer]\n[printer]\n", CP_E_PARSE, "exactly one [printer]");
	expect_load_error("other", "[page]\nsize = 1 2\n", CP_E_PARSE, "other.conf:1:");
	expect_load_error("empty", "# nothing\n", CP_E_PARSE, "no [printer] section");
	cp_output_opts o = {0};
	cp_error *err = NULL;
	g_assert_false(cp_printer_load("never-saved", dir, &o, &err));
	tu_assert_error(&err, CP_E_IO, "no printer profile named 'never-saved'");
	/* defaults when keys are absent */
	g_free(tu_write(dir, "bare.conf", "[printer]\n"));
	o.offset_x_mm = 5;
	o.scale_x = 2;
	g_assert_true(cp_printer_load("bare", dir, &o, &err));
	tu_assert_no_error(err);
	g_assert_cmpfloat(o.offset_x_mm, ==, 0);
	g_assert_cmpfloat(o.scale_x, ==, 1);
}

/* Saving refuses values the loader would refuse, and writes nothing. */
static void test_save_errors(void)
{
	cp_output_opts o = {.offset_x_mm = 20.5, .scale_x = 1, .scale_y = 1};
	cp_error *err = NULL;
	g_assert_false(cp_printer_save("bad-offset", dir, &o, &err));
	tu_assert_error(&err, CP_E_USAGE, "offset");
	o.offset_x_mm = 0;
	o.scale_y = NAN;
	g_assert_false(cp_printer_save("bad-scale", dir, &o, &err));
	tu_assert_error(&err, CP_E_USAGE, "scale");
	char *p = g_build_filename(dir, "bad-scale.conf", NULL);
	g_assert_false(g_file_test(p, G_FILE_TEST_EXISTS));
	g_free(p);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	dir = tu_scratch("printer");
	g_test_add_func("/printer/roundtrip", test_roundtrip);
	g_test_add_func("/printer/default-dir", test_default_dir);
	g_test_add_func("/printer/bad-names", test_bad_names);
	g_test_add_func("/printer/load-errors", test_load_errors);
	g_test_add_func("/printer/save-errors", test_save_errors);
	int rc = g_test_run();
	g_free(dir);
	return rc;
}
