/* SPDX-License-Identifier: MIT */
#include "common/testutil.h"

#include <glib/gstdio.h>
#include <stdbool.h>
#include <stdio.h> /* before jpeglib.h */
#include <jpeglib.h>
#include <string.h>

char *tu_path(const char *rel)
{
	return g_build_filename(CP_TESTDIR, rel, NULL);
}

static void rm_rf(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	if (d) {
		const char *n;
		while ((n = g_dir_read_name(d))) {
			char *p = g_build_filename(path, n, NULL);
			if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
				rm_rf(p);
			else
				g_unlink(p);
			g_free(p);
		}
		g_dir_close(d);
	}
	g_rmdir(path);
}

char *tu_scratch(const char *name)
{
	const char *build = g_getenv("BUILD");
	char *dir = g_build_filename(build ? build : CP_TESTDIR "/../build", "tests",
	                             "scratch", name, NULL);
	rm_rf(dir);
	g_mkdir_with_parents(dir, 0755);
	return dir;
}

char *tu_write(const char *dir, const char *name, const char *text)
{
	char *p = g_build_filename(dir, name, NULL);
	g_assert_true(g_file_set_contents(p, text, -1, NULL));
	return p;
}

void tu_assert_error(cp_error **err, cp_code code, const char *needle)
{
	g_assert_nonnull(*err);
	char *m = cp_error_format(*err);
	g_test_message("error as expected: %s", m);
	g_assert_cmpint((*err)->code, ==, code);
	if (needle && !strstr(m, needle)) {
		g_test_message("expected the message to contain '%s'", needle);
		g_assert_nonnull(strstr(m, needle));
	}
	g_free(m);
	cp_error_free(*err);
	*err = NULL;
}

char *tu_run(const char *const *argv, int *status)
{
	char *out = NULL, *errout = NULL;
	GError *gerr = NULL;
	gboolean ok = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
	                           &out, &errout, status, &gerr);
	g_assert_no_error(gerr);
	g_assert_true(ok);
	if (errout && *errout)
		g_test_message("%s: %s", argv[0], errout);
	g_free(errout);
	return out;
}

gboolean tu_have(const char *prog)
{
	char *p = g_find_program_in_path(prog);
	g_free(p);
	return p != NULL;
}

void tu_qpdf_check_ok(const char *path)
{
	int st;
	const char *argv[] = {"qpdf", "--check", path, NULL};
	char *out = tu_run(argv, &st);
	g_test_message("qpdf --check: %s", out);
	g_assert_cmpint(st, ==, 0);
	g_assert_null(strstr(out, "WARNING"));
	g_free(out);
}

int tu_count_entries(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	g_assert_nonnull(d);
	int n = 0;
	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	return n;
}

int tu_count(const void *hay, size_t len, const char *needle)
{
	int n = 0;
	size_t nl = strlen(needle);
	const char *p = hay, *end = p + len;
	while ((p = memmem(p, (size_t)(end - p), needle, nl)) != NULL) {
		n++;
		p += nl;
	}
	return n;
}

cairo_status_t tu_append_bytes(void *closure, const unsigned char *data, unsigned int len)
{
	g_byte_array_append(closure, data, len);
	return CAIRO_STATUS_SUCCESS;
}

char tu_gb11643(const char *d17)
{
	int sum = 0;
	for (int i = 0; i < 17; i++)
		sum += (d17[i] - '0') * ((1 << (17 - i)) % 11);
	int c = (12 - sum % 11) % 11;
	return c == 10 ? 'X' : (char)('0' + c);
}

char *tu_make_id(const char *d17)
{
	g_assert_cmpuint(strlen(d17), ==, 17);
	return g_strdup_printf("%s%c", d17, tu_gb11643(d17));
}

char *tu_write_exif_jpeg(const char *dir, const char *name, int w, int h, int orientation,
                         gboolean intel)
{
	char *path = g_build_filename(dir, name, NULL);
	FILE *fp = fopen(path, "wb");
	g_assert_nonnull(fp);
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr jerr;
	c.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&c);
	jpeg_stdio_dest(&c, fp);
	c.image_width = (JDIMENSION)w;
	c.image_height = (JDIMENSION)h;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 95, TRUE);
	jpeg_start_compress(&c, TRUE);
	if (orientation > 0) {
		/* "Exif\0\0", a TIFF header, IFD0 with the one Orientation entry
		 * (tag 0x0112, SHORT, count 1), no next IFD */
		unsigned char x[] = {'E', 'x', 'i', 'f', 0, 0,
		                     'M', 'M', 0, 42, 0, 0, 0, 8,
		                     0, 1,
		                     0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (unsigned char)orientation, 0, 0,
		                     0, 0, 0, 0};
		if (intel) {
			unsigned char le[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0,
			                      0x12, 0x01, 3, 0, 1, 0, 0, 0,
			                      (unsigned char)orientation, 0, 0, 0, 0, 0, 0, 0};
			memcpy(x + 6, le, sizeof le);
		}
		jpeg_write_marker(&c, JPEG_APP0 + 1, x, sizeof x);
	}
	unsigned char *row = g_malloc((size_t)w * 3);
	while (c.next_scanline < c.image_height) {
		int y = (int)c.next_scanline;
		for (int i = 0; i < w; i++) {
			bool top = y < h / 2, red = top && i < w / 2, blue = top && i >= w / 2;
			row[i * 3] = blue ? 0 : 255;
			row[i * 3 + 1] = red || blue ? 0 : 255;
			row[i * 3 + 2] = red ? 0 : 255;
		}
		JSAMPROW r = row;
		jpeg_write_scanlines(&c, &r, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	g_free(row);
	g_assert_cmpint(fclose(fp), ==, 0);
	return path;
}
