/* SPDX-License-Identifier: MIT */
/*
 * Where the program finds its data and catalogues (src/datadir.c): each
 * layout — an installed tree, a build tree, a test program one folder deeper —
 * is recognised by the fonts manifest it holds and gives its own data and
 * locale folders; without any, the installed layout is named; the
 * environment overrides both. The whole command from an installed and moved
 * tree is tests/cli/install.sh.
 */
#include "common/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "datadir.h"

/* Creates dir/fonts/fonts.manifest (and the folders on the way). */
static void plant_manifest(const char *dir)
{
	char *fonts = g_build_filename(dir, "fonts", NULL);
	g_assert_cmpint(g_mkdir_with_parents(fonts, 0755), ==, 0);
	g_free(tu_write(fonts, "fonts.manifest", "# empty\n"));
	g_free(fonts);
}

static void mkdirs(const char *dir)
{
	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
}

/* A scratch folder named without "." or "..", as the answers are. */
static char *scratch(const char *name)
{
	char *dir = tu_scratch(name);
	char *canon = g_canonicalize_filename(dir, "/");
	g_free(dir);
	return canon;
}

static void expect(const char *bindir, const char *want_data, const char *want_locale)
{
	char *data = NULL, *locale = NULL;
	cp_datadir_locate(bindir, &data, &locale);
	g_assert_cmpstr(data, ==, want_data);
	g_assert_cmpstr(locale, ==, want_locale);
	g_free(data);
	g_free(locale);
}

static void test_installed(void)
{
	char *top = scratch("datadir-installed");
	char *prefix = g_build_filename(top, "opt", "cp", NULL);
	char *bin = g_build_filename(prefix, "bin", NULL);
	char *data = g_build_filename(prefix, "share", "certpress", NULL);
	char *locale = g_build_filename(prefix, "share", "locale", NULL);
	mkdirs(bin);
	plant_manifest(data);
	/* A source tree above the prefix must not be taken instead. */
	plant_manifest(top);
	expect(bin, data, locale);
	g_free(locale);
	g_free(data);
	g_free(bin);
	g_free(prefix);
	g_free(top);
}

static void test_build_tree(void)
{
	char *top = scratch("datadir-build");
	char *build = g_build_filename(top, "build", NULL);
	char *tests = g_build_filename(build, "tests", NULL);
	char *locale = g_build_filename(build, "locale", NULL);
	mkdirs(tests);
	plant_manifest(top);
	expect(build, top, locale);   /* <top>/build/certpress */
	expect(tests, top, locale);   /* <top>/build/tests/test_x */
	/* A trailing ".." in the given folder is resolved, not kept. */
	char *odd = g_build_filename(tests, "..", "tests", NULL);
	expect(odd, top, locale);
	g_free(odd);
	g_free(locale);
	g_free(tests);
	g_free(build);
	g_free(top);
}

/* Nothing found: the installed layout is named, so that the error about the
 * missing fonts says where they were expected. */
static void test_nothing_found(void)
{
	char *top = scratch("datadir-none");
	char *bin = g_build_filename(top, "usr", "bin", NULL);
	char *data = g_build_filename(top, "usr", "share", "certpress", NULL);
	char *locale = g_build_filename(top, "usr", "share", "locale", NULL);
	mkdirs(bin);
	expect(bin, data, locale);
	g_free(locale);
	g_free(data);
	g_free(bin);
	g_free(top);
}

/* This test program lives in <top>/build/tests (or another build folder of
 * the same tree): it finds the source tree it was built from. */
static void test_self(void)
{
	g_unsetenv("CERTPRESS_DATADIR");
	g_unsetenv("CERTPRESS_LOCALEDIR");
	char *want = realpath(CP_DATADIR, NULL);
	char *got = realpath(cp_datadir(), NULL);
	g_assert_nonnull(got);
	g_assert_cmpstr(got, ==, want);
	char *want_loc = realpath(CP_LOCALEDIR, NULL);
	char *got_loc = realpath(cp_localedir(), NULL);
	g_assert_nonnull(got_loc);
	g_assert_cmpstr(got_loc, ==, want_loc);
	free(want);
	free(got);
	free(want_loc);
	free(got_loc);

	g_setenv("CERTPRESS_DATADIR", "/nowhere/data", TRUE);
	g_setenv("CERTPRESS_LOCALEDIR", "/nowhere/locale", TRUE);
	g_assert_cmpstr(cp_datadir(), ==, "/nowhere/data");
	g_assert_cmpstr(cp_localedir(), ==, "/nowhere/locale");
	/* Empty means unset. */
	g_setenv("CERTPRESS_DATADIR", "", TRUE);
	g_assert_cmpstr(cp_datadir(), !=, "");
	g_unsetenv("CERTPRESS_DATADIR");
	g_unsetenv("CERTPRESS_LOCALEDIR");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/datadir/installed", test_installed);
	g_test_add_func("/datadir/build-tree", test_build_tree);
	g_test_add_func("/datadir/nothing-found", test_nothing_found);
	g_test_add_func("/datadir/self", test_self);
	return g_test_run();
}
