/* SPDX-License-Identifier: MIT */
/* Libraries opened on first use (src/lazylib.h): the table is the library's
 * own functions; a library that is not there, or lacks a function, is an
 * error naming both, and stays one; threads opening at once all get it. */
#include "common/testutil.h"

#include <string.h>
#include <zlib.h>

#include "lazylib.h"

#define Z_FUNCTIONS(X) X(zlibVersion) X(crc32)
CP_LAZY_LIBRARY(z, "libz.so.1", "a test of zlib", Z_FUNCTIONS);
CP_LAZY_LIBRARY(z2, "libz.so.1", "a test of zlib", Z_FUNCTIONS);

#define NONE_FUNCTIONS(X) X(zlibVersion)
CP_LAZY_LIBRARY(none, "libcertpress-no-such-library.so.7", "a test of a missing library",
                NONE_FUNCTIONS);

/* Declared, never defined: only its type and name are used. */
int cp_test_no_such_function(int);
#define LACKING_FUNCTIONS(X) X(zlibVersion) X(cp_test_no_such_function)
CP_LAZY_LIBRARY(lacking, "libz.so.1", "a test of a missing function", LACKING_FUNCTIONS);

static void test_opens(void)
{
	cp_error *err = NULL;
	g_assert_true(cp_lazy_open(&z_lib, &err));
	tu_assert_no_error(err);
	/* the very functions the program would call directly */
	g_assert_true(z.zlibVersion == zlibVersion);
	g_assert_cmpstr(z.zlibVersion(), ==, zlibVersion());
	const unsigned char data[] = "certpress";
	g_assert_cmpuint(z.crc32(0, data, 9), ==, crc32(0, data, 9));
	/* again: cheap, and the same */
	g_assert_true(cp_lazy_open(&z_lib, NULL));
}

static void test_missing_library(void)
{
	for (int i = 0; i < 2; i++) {
		cp_error *err = NULL;
		g_assert_false(cp_lazy_open(&none_lib, &err));
		tu_assert_error(&err, CP_E_IO, "a test of a missing library needs the library "
		                               "libcertpress-no-such-library.so.7, which cannot be "
		                               "used: libcertpress-no-such-library.so.7: cannot open");
	}
	g_assert_null(none.zlibVersion);
	g_assert_false(cp_lazy_open(&none_lib, NULL));
}

static void test_missing_function(void)
{
	cp_error *err = NULL;
	g_assert_false(cp_lazy_open(&lacking_lib, &err));
	tu_assert_error(&err, CP_E_IO, "which cannot be used: cp_test_no_such_function: ");
}

static gpointer open_one(gpointer unused)
{
	(void)unused;
	return GINT_TO_POINTER(cp_lazy_open(&z2_lib, NULL) && z2.zlibVersion == zlibVersion);
}

static void test_threads(void)
{
	GThread *t[8];
	for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
		t[i] = g_thread_new("open", open_one, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
		g_assert_true(GPOINTER_TO_INT(g_thread_join(t[i])));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/lazylib/opens", test_opens);
	g_test_add_func("/lazylib/missing-library", test_missing_library);
	g_test_add_func("/lazylib/missing-function", test_missing_function);
	g_test_add_func("/lazylib/threads", test_threads);
	return g_test_run();
}
