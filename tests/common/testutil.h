/* SPDX-License-Identifier: MIT */
/* Helpers shared by the unit tests (GLib g_test, TAP output). */
#ifndef CP_TESTUTIL_H
#define CP_TESTUTIL_H

#include <cairo.h>
#include <glib.h>

#include "certpress.h"

/* Absolute path of a file under tests/ (CP_TESTDIR). Free with g_free(). */
char *tu_path(const char *rel);
/* A fresh, empty scratch folder under the build tree for one test; removed by
 * nobody (left for inspection). Free with g_free(). */
char *tu_scratch(const char *name);
/* Writes text to dir/name and returns the full path. Free with g_free(). */
char *tu_write(const char *dir, const char *name, const char *text);
/* Runs argv (searched in PATH) and returns its standard output (g_free);
 * *status is the wait status; standard error goes into the test log. */
char *tu_run(const char *const *argv, int *status);
/* True when prog is on PATH (an independent validator: qpdf, poppler …). */
gboolean tu_have(const char *prog);
/* Asserts that `qpdf --check` finds neither an error nor a warning in path
 * (call only when tu_have("qpdf")). */
void tu_qpdf_check_ok(const char *path);
/* The number of entries in folder dir (hidden ones too). */
int tu_count_entries(const char *dir);
/* The tests' own GB 11643 (ISO 7064 MOD 11-2) check character of 17 digits:
 * sum of digit x 2^(17-i) mod 11, written independently of rules.c so that
 * both must agree. */
char tu_gb11643(const char *d17);
/* A valid 18-character ID number from 17 digits. Free with g_free(). */
char *tu_make_id(const char *d17);
/* How many times needle occurs in the len bytes at hay (binary-safe, not
 * overlapping). */
int tu_count(const void *hay, size_t len, const char *needle);
/* A cairo_write_func_t appending to the GByteArray given as closure. */
cairo_status_t tu_append_bytes(void *closure, const unsigned char *data, unsigned int len);
/* Writes a w x h RGB JPEG to dir/name whose stored top-left quadrant is
 * red, top-right quadrant blue and bottom half white, with an EXIF Orientation tag (big-endian, or
 * little-endian when intel) unless orientation is 0. Free with g_free(). */
char *tu_write_exif_jpeg(const char *dir, const char *name, int w, int h, int orientation,
                         gboolean intel);
/* Fails the test with the error's formatted text when err is not NULL. */
#define tu_assert_no_error(err) \
	do { \
		if (err) { \
			char *m_ = cp_error_format(err); \
			g_test_message("unexpected error: %s", m_); \
			g_free(m_); \
			g_assert_null(err); \
		} \
	} while (0)
/* Asserts that err is set with the given code and that its formatted text
 * contains needle (may be NULL). Frees err and sets it to NULL. */
void tu_assert_error(cp_error **err, cp_code code, const char *needle);

#endif
