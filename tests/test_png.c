/* SPDX-License-Identifier: MIT */
#include "common/testutil.h"

#include <math.h>
#include <png.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

typedef struct readback {
	png_uint_32 w, h, ppm_x, ppm_y;
	int depth, color_type, unit;
	unsigned char *pixels; /* rows of w * channels bytes */
	size_t rowbytes;
} readback;

/* Reads a PNG back with libpng, independent of the code under test. */
static void read_png(const char *path, readback *rb)
{
	FILE *fp = fopen(path, "rb");
	g_assert_nonnull(fp);
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	if (setjmp(png_jmpbuf(png)))
		g_assert_not_reached();
	png_init_io(png, fp);
	png_read_info(png, info);
	rb->w = png_get_image_width(png, info);
	rb->h = png_get_image_height(png, info);
	rb->depth = png_get_bit_depth(png, info);
	rb->color_type = png_get_color_type(png, info);
	rb->unit = -1;
	png_get_pHYs(png, info, &rb->ppm_x, &rb->ppm_y, &rb->unit);
	rb->rowbytes = png_get_rowbytes(png, info);
	rb->pixels = g_malloc(rb->rowbytes * rb->h);
	for (png_uint_32 y = 0; y < rb->h; y++)
		png_read_row(png, rb->pixels + y * rb->rowbytes, NULL);
	png_read_end(png, NULL);
	png_destroy_read_struct(&png, &info, NULL);
	fclose(fp);
}

static const unsigned char *px(const readback *rb, int x, int y, int ch)
{
	return rb->pixels + (size_t)y * rb->rowbytes + (size_t)x * (size_t)ch;
}

/* An A4 page at 300 dpi is 2480 x 3508 white RGB pixels; what is drawn in
 * millimetres lands at the right pixels; the file is 8-bit RGB with pHYs
 * 11811 px/m (300 dpi). */
static void test_a4_300dpi(void)
{
	char *dir = tu_scratch("png-a4");
	char *path = g_build_filename(dir, "page.png", NULL);
	cairo_t *cr = NULL;
	cp_error *err = NULL;
	cairo_surface_t *s = cp_raster_new(210, 297, 300, &cr, &err);
	tu_assert_no_error(err);
	g_assert_cmpint(cairo_image_surface_get_width(s), ==, 2480);
	g_assert_cmpint(cairo_image_surface_get_height(s), ==, 3508);
	/* its pixels start on a 2 MB boundary (a mapping of its own, huge
	 * pages asked for), white, with Cairo's stride */
	g_assert_cmpuint((uintptr_t)cairo_image_surface_get_data(s) % (2u << 20), ==, 0);
	g_assert_cmpint(cairo_image_surface_get_stride(s), ==,
	                cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, 2480));
	cairo_surface_flush(s);
	const uint32_t *last = (const uint32_t *)(cairo_image_surface_get_data(s) +
	                                          (size_t)cairo_image_surface_get_stride(s) * 3507);
	g_assert_cmphex(last[2479] & 0xffffff, ==, 0xffffff);
	/* a black 10 x 10 mm square at (100, 200) mm */
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_rectangle(cr, 100, 200, 10, 10);
	cairo_fill(cr);
	cairo_destroy(cr);
	g_assert_true(cp_png_write(s, path, 300, &err));
	tu_assert_no_error(err);
	cairo_surface_destroy(s);

	readback rb;
	read_png(path, &rb);
	g_assert_cmpuint(rb.w, ==, 2480);
	g_assert_cmpuint(rb.h, ==, 3508);
	g_assert_cmpint(rb.depth, ==, 8);
	g_assert_cmpint(rb.color_type, ==, PNG_COLOR_TYPE_RGB);
	g_assert_cmpint(rb.unit, ==, PNG_RESOLUTION_METER);
	g_assert_cmpuint(rb.ppm_x, ==, 11811);
	g_assert_cmpuint(rb.ppm_y, ==, 11811);
	/* 100 mm = 1181.1 px, 110 mm = 1299.2 px; 200 mm = 2362.2 px */
	g_assert_cmpint(px(&rb, 1240, 2400, 3)[0], ==, 0);
	g_assert_cmpint(px(&rb, 1179, 2400, 3)[0], ==, 255);
	g_assert_cmpint(px(&rb, 1301, 2400, 3)[1], ==, 255);
	g_assert_cmpint(px(&rb, 0, 0, 3)[2], ==, 255);
	g_free(rb.pixels);
	g_free(path);
	g_free(dir);
}

/* ARGB32 keeps its alpha and is un-premultiplied: red at alpha 0.5 reads
 * back as 255, 0, 0, 128. */
static void test_alpha(void)
{
	char *dir = tu_scratch("png-alpha");
	char *path = g_build_filename(dir, "a.png", NULL);
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 4, 2);
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgba(cr, 1, 0, 0, 128 / 255.0);
	cairo_paint(cr);
	cairo_destroy(cr);
	cp_error *err = NULL;
	g_assert_true(cp_png_write(s, path, 150, &err));
	tu_assert_no_error(err);
	cairo_surface_destroy(s);
	readback rb;
	read_png(path, &rb);
	g_assert_cmpint(rb.color_type, ==, PNG_COLOR_TYPE_RGB_ALPHA);
	g_assert_cmpuint(rb.ppm_x, ==, 5906); /* 150 / 0.0254 */
	const unsigned char *p = px(&rb, 3, 1, 4);
	g_assert_cmpint(p[0], ==, 255);
	g_assert_cmpint(p[1], ==, 0);
	g_assert_cmpint(p[3], ==, 128);
	g_free(rb.pixels);
	g_free(path);
	g_free(dir);
}

/* Every pixel comes back exactly, whatever the rows hold: odd and even
 * widths (the filter takes two pixels at a time), rows equal to the one
 * above (coded by hand), rows differing in one byte, in the unused byte of
 * RGB24 only (which must not count), random rows, and ARGB32. */
static void test_pixels_exact(void)
{
	static const int widths[] = {1, 2, 3, 7, 258, 863};
	char *dir = tu_scratch("png-exact");
	char *path = g_build_filename(dir, "p.png", NULL);
	GRand *rnd = g_rand_new_with_seed(19);
	for (size_t wi = 0; wi < G_N_ELEMENTS(widths); wi++)
		for (int alpha = 0; alpha <= 1; alpha++) {
			int w = widths[wi], h = 40;
			cairo_surface_t *s = cairo_image_surface_create(
				alpha ? CAIRO_FORMAT_ARGB32 : CAIRO_FORMAT_RGB24, w, h);
			cairo_surface_flush(s);
			unsigned char *data = cairo_image_surface_get_data(s);
			int stride = cairo_image_surface_get_stride(s);
			for (int y = 0; y < h; y++) {
				uint32_t *row = (uint32_t *)(data + (size_t)y * stride);
				/* row 0 is random: never reads above */
				const uint32_t *above = (const uint32_t *)(data + (size_t)(y ? y - 1 : 0) * stride);
				for (int x = 0; x < w; x++) {
					uint32_t v = g_rand_int(rnd);
					switch (y % 5) {
					case 0: /* random */
						break;
					case 1: /* the same as above */
					case 2:
						v = above[x];
						break;
					case 3: /* the same but the unused byte */
						v = (above[x] & 0xffffff) | (v & 0xff000000);
						break;
					default: /* the same but one byte of one pixel */
						v = x == w / 2 ? above[x] ^ 0x00000100 : above[x];
					}
					if (alpha) /* premultiplied: no colour above alpha */
						v = (v | 0xff000000);
					row[x] = v;
				}
			}
			cairo_surface_mark_dirty(s);
			cp_error *err = NULL;
			g_assert_true(cp_png_write(s, path, 300, &err));
			tu_assert_no_error(err);
			readback rb;
			read_png(path, &rb);
			g_assert_cmpuint(rb.w, ==, (unsigned)w);
			g_assert_cmpuint(rb.h, ==, (unsigned)h);
			int ch = alpha ? 4 : 3;
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++) {
					uint32_t v = ((const uint32_t *)(data + (size_t)y * stride))[x];
					const unsigned char *p = px(&rb, x, y, ch);
					g_assert_cmpint(p[0], ==, (v >> 16) & 0xff);
					g_assert_cmpint(p[1], ==, (v >> 8) & 0xff);
					g_assert_cmpint(p[2], ==, v & 0xff);
					if (alpha)
						g_assert_cmpint(p[3], ==, 255);
				}
			g_free(rb.pixels);
			cairo_surface_destroy(s);
		}
	g_rand_free(rnd);
	g_free(path);
	g_free(dir);
}

/* Page after page through one cache (as a PNG folder is written): a page
 * of text-like rows, then the same page with one pixel changed in a
 * stretch, then the first again: each reads back exactly. */
static void test_cached(void)
{
	char *dir = tu_scratch("png-cached");
	char *path = g_build_filename(dir, "c.png", NULL);
	int w = 301, h = 200;
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0.6, 0.1, 0.1);
	for (int i = 0; i < 9; i++) {
		cairo_rectangle(cr, 10 + i * 29.3, 5 + i * 21.7, 17.5, 13.2 + i);
		cairo_fill(cr);
	}
	cairo_destroy(cr);
	cp_png_cache *cache = cp_png_cache_new();
	uint32_t *px50 = (uint32_t *)(cairo_image_surface_get_data(s) +
	                              (size_t)cairo_image_surface_get_stride(s) * 50);
	uint32_t keep = px50[100];
	for (int round = 0; round < 4; round++) {
		cairo_surface_flush(s);
		px50[100] = round == 2 ? keep ^ 0x00010203 : keep;
		cairo_surface_mark_dirty(s);
		cp_error *err = NULL;
		g_assert_true(cp_png_write_cached(s, path, 300, cache, &err));
		tu_assert_no_error(err);
		readback rb;
		read_png(path, &rb);
		const unsigned char *data = cairo_image_surface_get_data(s);
		int stride = cairo_image_surface_get_stride(s);
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				uint32_t v = ((const uint32_t *)(data + (size_t)y * stride))[x];
				const unsigned char *p = px(&rb, x, y, 3);
				g_assert_cmpint(p[0], ==, (v >> 16) & 0xff);
				g_assert_cmpint(p[1], ==, (v >> 8) & 0xff);
				g_assert_cmpint(p[2], ==, v & 0xff);
			}
		g_free(rb.pixels);
	}
	cp_png_cache_free(cache);
	cairo_surface_destroy(s);
	g_free(path);
	g_free(dir);
}

/* Bad sizes and resolutions, unsupported surfaces and missing folders are
 * refused with clear errors, and nothing is written. */
static void test_errors(void)
{
	cairo_t *cr = NULL;
	cp_error *err = NULL;
	g_assert_null(cp_raster_new(210, 297, 0, &cr, &err));
	tu_assert_error(&err, CP_E_USAGE, "dpi");
	g_assert_null(cp_raster_new(1000, 297, 4800, &cr, &err));
	tu_assert_error(&err, CP_E_NOMEM, "20000 pixels");
	g_assert_null(cp_raster_new(0, 297, 300, &cr, &err));
	tu_assert_error(&err, CP_E_USAGE, "invalid page size");
	g_assert_null(cp_raster_new(NAN, 297, 300, &cr, &err));
	tu_assert_error(&err, CP_E_USAGE, "invalid page size");
	g_assert_null(cp_raster_new(0.01, 297, 300, &cr, &err));
	tu_assert_error(&err, CP_E_NOMEM, "1 to 20000 pixels");

	char *dir = tu_scratch("png-errors");
	char *path = g_build_filename(dir, "x.png", NULL);
	cairo_surface_t *a8 = cairo_image_surface_create(CAIRO_FORMAT_A8, 4, 4);
	g_assert_false(cp_png_write(a8, path, 300, &err));
	tu_assert_error(&err, CP_E_USAGE, "RGB24 and ARGB32");
	cairo_surface_destroy(a8);
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 4, 4);
	g_assert_false(cp_png_write(s, path, -1, &err));
	tu_assert_error(&err, CP_E_USAGE, "dpi");
	g_assert_false(cp_png_write(NULL, path, 300, &err));
	tu_assert_error(&err, CP_E_USAGE, "not an image surface");
	char *missing = g_build_filename(dir, "none", "x.png", NULL);
	g_assert_false(cp_png_write(s, missing, 300, &err));
	tu_assert_error(&err, CP_E_IO, "does not exist");
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	cairo_surface_destroy(s);
	g_free(missing);
	g_free(path);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/png/a4-300dpi", test_a4_300dpi);
	g_test_add_func("/png/alpha", test_alpha);
	g_test_add_func("/png/pixels-exact", test_pixels_exact);
	g_test_add_func("/png/cached", test_cached);
	g_test_add_func("/png/errors", test_errors);
	return g_test_run();
}
