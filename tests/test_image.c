/* SPDX-License-Identifier: MIT */
/* Fixtures are written at test time with libpng and libjpeg so each one is
 * exactly the case it claims to be (bit depth, colour type, interlace,
 * density, a header announcing 60000 x 60000). */
#include "common/testutil.h"

#include <cairo-pdf.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <jpeglib.h>
#include <png.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "input/image.h"

static char *scratch;

/* ---------------------------------------------------------------- writers */

/* A w x h PNG whose pixel (x, y) has every sample = fill(x, y) scaled to the
 * bit depth; alpha (when present) = 128 in the top-left quarter, else max. */
static char *write_png(const char *name, int w, int h, int color_type, int depth,
                       bool interlace, int ppm, bool header_only)
{
	char *path = g_build_filename(scratch, name, NULL);
	FILE *fp = fopen(path, "wb");
	g_assert_nonnull(fp);
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	if (setjmp(png_jmpbuf(png)))
		g_assert_not_reached();
	png_init_io(png, fp);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type,
	             interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (color_type == PNG_COLOR_TYPE_PALETTE) {
		png_color pal[2] = {{255, 0, 0}, {0, 0, 255}};
		png_set_PLTE(png, info, pal, 2);
	}
	if (ppm)
		png_set_pHYs(png, info, (png_uint_32)ppm, (png_uint_32)ppm, PNG_RESOLUTION_METER);
	png_write_info(png, info);
	if (header_only) {
		png_destroy_write_struct(&png, &info);
		fclose(fp);
		return path;
	}
	int ch = color_type == PNG_COLOR_TYPE_RGB ? 3 : color_type == PNG_COLOR_TYPE_RGB_ALPHA ? 4
	       : color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
	size_t rowbytes = png_get_rowbytes(png, info);
	int passes = png_set_interlace_handling(png);
	unsigned char *row = g_malloc0(rowbytes);
	for (int pass = 0; pass < passes; pass++) {
		for (int y = 0; y < h; y++) {
			memset(row, 0, rowbytes);
			for (int x = 0; x < w; x++) {
				for (int c = 0; c < ch; c++) {
					bool alpha = (ch == 4 && c == 3) || (ch == 2 && c == 1);
					unsigned v = alpha ? (x < w / 2 && y < h / 2 ? 128 : 255)
					                   : (unsigned)(x * 255 / (w - 1));
					if (color_type == PNG_COLOR_TYPE_PALETTE)
						v = x < w / 2 ? 0 : 1;
					if (depth == 16) {
						row[(x * ch + c) * 2] = (unsigned char)v;
						row[(x * ch + c) * 2 + 1] = (unsigned char)v;
					} else if (depth == 8) {
						row[x * ch + c] = (unsigned char)v;
					} else { /* 1-bit palette or gray */
						if (color_type != PNG_COLOR_TYPE_PALETTE)
							v = v > 127;
						if (v)
							row[x / 8] |= (unsigned char)(0x80 >> (x % 8));
					}
				}
			}
			png_write_row(png, row);
		}
	}
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	g_free(row);
	fclose(fp);
	return path;
}

/* A JPEG filled with one colour (3 or 4 components, or gray), JFIF density
 * in dpi when dpi > 0. */
static char *write_jpeg(const char *name, int w, int h, J_COLOR_SPACE cs, const unsigned char *px,
                        int dpi)
{
	char *path = g_build_filename(scratch, name, NULL);
	FILE *fp = fopen(path, "wb");
	g_assert_nonnull(fp);
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr jerr;
	c.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&c);
	jpeg_stdio_dest(&c, fp);
	c.image_width = (JDIMENSION)w;
	c.image_height = (JDIMENSION)h;
	c.input_components = cs == JCS_GRAYSCALE ? 1 : cs == JCS_CMYK ? 4 : 3;
	c.in_color_space = cs;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 95, TRUE);
	if (dpi > 0) {
		c.density_unit = 1;
		c.X_density = c.Y_density = (UINT16)dpi;
	}
	jpeg_start_compress(&c, TRUE);
	unsigned char *row = g_malloc((size_t)w * (size_t)c.input_components);
	for (int x = 0; x < w; x++)
		memcpy(row + x * c.input_components, px, (size_t)c.input_components);
	while (c.next_scanline < c.image_height) {
		JSAMPROW r = row;
		jpeg_write_scanlines(&c, &r, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	g_free(row);
	fclose(fp);
	return path;
}

static char *write_bytes(const char *name, const void *data, size_t len)
{
	char *path = g_build_filename(scratch, name, NULL);
	g_assert_true(g_file_set_contents(path, data, (gssize)len, NULL));
	return path;
}

/* (no cairo_surface_flush: nothing drew on these surfaces, and a flush
 * would drop the attached mime data) */
static uint32_t pixel(cairo_surface_t *s, int x, int y)
{
	const unsigned char *d = cairo_image_surface_get_data(s);
	return ((const uint32_t *)(d + y * cairo_image_surface_get_stride(s)))[x];
}

#define R(p) (((p) >> 16) & 0xff)
#define G(p) (((p) >> 8) & 0xff)
#define B(p) ((p)&0xff)
#define A(p) ((p) >> 24)

/* ------------------------------------------------------------------ tests */

/* Every PNG flavour becomes 8-bit RGB: gray, 16-bit, palette, 1-bit,
 * interlaced; density comes from pHYs. */
static void test_png_variants(void)
{
	struct {
		const char *name;
		int type, depth;
		bool interlace;
	} cases[] = {
		{"rgb8.png", PNG_COLOR_TYPE_RGB, 8, false},
		{"rgb16.png", PNG_COLOR_TYPE_RGB, 16, false},
		{"gray8.png", PNG_COLOR_TYPE_GRAY, 8, false},
		{"gray16-interlaced.png", PNG_COLOR_TYPE_GRAY, 16, true},
		{"rgb8-interlaced.png", PNG_COLOR_TYPE_RGB, 8, true},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *p = write_png(cases[i].name, 33, 17, cases[i].type, cases[i].depth,
		                    cases[i].interlace, 11811, false);
		cp_error *err = NULL;
		cp_image_info info;
		cairo_surface_t *s = cp_image_load(p, &info, &err);
		tu_assert_no_error(err);
		g_test_message("%s", cases[i].name);
		g_assert_cmpint(info.format, ==, CP_IMAGE_PNG);
		g_assert_cmpint(info.width, ==, 33);
		g_assert_cmpint(info.height, ==, 17);
		g_assert_false(info.has_alpha);
		g_assert_cmpfloat_with_epsilon(info.dpi_x, 300, 0.01);
		g_assert_cmpint(cairo_image_surface_get_format(s), ==, CAIRO_FORMAT_RGB24);
		/* a horizontal ramp 0..255: left black, right white, middle grey */
		uint32_t l = pixel(s, 0, 16), r = pixel(s, 32, 0), m = pixel(s, 16, 8);
		g_assert_cmpuint(R(l), ==, 0);
		g_assert_cmpuint(G(r), ==, 255);
		g_assert_cmpuint(B(m), ==, 16 * 255 / 32);
		g_assert_cmpuint(R(m), ==, B(m));
		cairo_surface_destroy(s);
		g_free(p);
	}
	/* palette: left half red, right half blue */
	char *p = write_png("palette.png", 16, 4, PNG_COLOR_TYPE_PALETTE, 1, false, 0, false);
	cp_error *err = NULL;
	cp_image_info info;
	cairo_surface_t *s = cp_image_load(p, &info, &err);
	tu_assert_no_error(err);
	g_assert_cmpfloat(info.dpi_x, ==, 0);
	g_assert_cmphex(pixel(s, 0, 0) & 0xffffff, ==, 0xff0000);
	g_assert_cmphex(pixel(s, 15, 3) & 0xffffff, ==, 0x0000ff);
	cairo_surface_destroy(s);
	g_free(p);
}

/* Alpha is premultiplied for CAIRO_FORMAT_ARGB32: white at alpha 128 is
 * stored as 128,128,128,128. */
static void test_png_alpha(void)
{
	char *p = write_png("rgba.png", 20, 10, PNG_COLOR_TYPE_RGB_ALPHA, 8, false, 0, false);
	cp_error *err = NULL;
	cp_image_info info;
	cairo_surface_t *s = cp_image_load(p, &info, &err);
	tu_assert_no_error(err);
	g_assert_true(info.has_alpha);
	g_assert_cmpint(cairo_image_surface_get_format(s), ==, CAIRO_FORMAT_ARGB32);
	uint32_t q = pixel(s, 0, 0), o = pixel(s, 19, 9);
	g_assert_cmpuint(A(q), ==, 128);
	g_assert_cmpuint(R(q), ==, 0);
	g_assert_cmphex(o, ==, 0xffffffff);
	uint32_t h = pixel(s, 9, 0); /* x = 9: 9*255/19 = 120, at alpha 128 -> 60 */
	g_assert_cmpuint(A(h), ==, 128);
	g_assert_cmpuint(R(h), ==, (120 * 128 + 127) / 255);
	cairo_surface_destroy(s);
	/* gray + alpha, 16 bit */
	g_free(p);
	p = write_png("ga16.png", 20, 10, PNG_COLOR_TYPE_GRAY_ALPHA, 16, false, 0, false);
	s = cp_image_load(p, &info, &err);
	tu_assert_no_error(err);
	g_assert_cmpuint(A(pixel(s, 0, 0)), ==, 128);
	g_assert_cmphex(pixel(s, 19, 9), ==, 0xffffffff);
	cairo_surface_destroy(s);
	g_free(p);
}

/* JPEG: RGB and gray decode to RGB24, JFIF density is read, the file is
 * attached unchanged as image/jpeg with a sha256 unique id. */
static void test_jpeg(void)
{
	const unsigned char orange[3] = {240, 120, 10};
	char *p = write_jpeg("rgb.jpg", 40, 30, JCS_RGB, orange, 300);
	cp_error *err = NULL;
	cp_image_info info;
	g_assert_true(cp_image_probe(p, &info, &err));
	g_assert_cmpint(info.format, ==, CP_IMAGE_JPEG);
	g_assert_cmpint(info.width, ==, 40);
	g_assert_cmpfloat(info.dpi_y, ==, 300);
	cairo_surface_t *s = cp_image_load(p, NULL, &err);
	tu_assert_no_error(err);
	g_assert_cmpint(cairo_image_surface_get_format(s), ==, CAIRO_FORMAT_RGB24);
	uint32_t px = pixel(s, 20, 15);
	g_assert_cmpint(abs((int)R(px) - 240), <=, 6);
	g_assert_cmpint(abs((int)G(px) - 120), <=, 6);
	g_assert_cmpint(abs((int)B(px) - 10), <=, 6);
	const unsigned char *mime;
	unsigned long mlen;
	cairo_surface_get_mime_data(s, CAIRO_MIME_TYPE_JPEG, &mime, &mlen);
	char *file;
	gsize flen;
	g_assert_true(g_file_get_contents(p, &file, &flen, NULL));
	g_assert_cmpuint(mlen, ==, flen);
	g_assert_cmpint(memcmp(mime, file, flen), ==, 0);
	cairo_surface_get_mime_data(s, CAIRO_MIME_TYPE_UNIQUE_ID, &mime, &mlen);
	char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)file, flen);
	g_assert_cmpuint(mlen, ==, strlen(sha));
	g_assert_cmpint(memcmp(mime, sha, mlen), ==, 0);
	g_free(sha);
	g_free(file);
	cairo_surface_destroy(s);
	g_free(p);

	const unsigned char grey = 90;
	p = write_jpeg("gray.jpg", 16, 16, JCS_GRAYSCALE, &grey, 0);
	s = cp_image_load(p, &info, &err);
	tu_assert_no_error(err);
	g_assert_cmpfloat(info.dpi_x, ==, 0);
	px = pixel(s, 8, 8);
	g_assert_cmpint(abs((int)R(px) - 90), <=, 2);
	g_assert_cmpuint(R(px), ==, G(px));
	g_assert_cmpuint(G(px), ==, B(px));
	cairo_surface_destroy(s);
	g_free(p);
}

/* CMYK (Adobe, inverted as libjpeg writes it) converts to RGB, and is not
 * attached for pass-through (Cairo would embed it with inverted colours). */
static void test_jpeg_cmyk(void)
{
	/* Adobe-inverted samples for C=0 M=100% Y=100% K=0, i.e. red */
	const unsigned char red[4] = {255, 0, 0, 255};
	char *p = write_jpeg("cmyk.jpg", 16, 16, JCS_CMYK, red, 0);
	cp_error *err = NULL;
	cairo_surface_t *s = cp_image_load(p, NULL, &err);
	tu_assert_no_error(err);
	uint32_t px = pixel(s, 8, 8);
	g_assert_cmpint(R(px), >=, 245);
	g_assert_cmpint(G(px), <=, 10);
	g_assert_cmpint(B(px), <=, 10);
	const unsigned char *mime = NULL;
	unsigned long mlen = 0;
	cairo_surface_get_mime_data(s, CAIRO_MIME_TYPE_JPEG, &mime, &mlen);
	g_assert_null(mime);
	cairo_surface_destroy(s);
	g_free(p);
}

/* The format comes from the bytes: a JPEG named .png loads as JPEG. */
static void test_sniffing(void)
{
	const unsigned char c[3] = {1, 2, 3};
	char *j = write_jpeg("x.jpg", 8, 8, JCS_RGB, c, 0);
	char *data;
	gsize len;
	g_assert_true(g_file_get_contents(j, &data, &len, NULL));
	char *p = write_bytes("really-a-jpeg.png", data, len);
	cp_error *err = NULL;
	cp_image_info info;
	cairo_surface_t *s = cp_image_load(p, &info, &err);
	tu_assert_no_error(err);
	g_assert_cmpint(info.format, ==, CP_IMAGE_JPEG);
	cairo_surface_destroy(s);
	g_free(p);
	g_free(data);
	g_free(j);
}

static void expect_fail(const char *path, cp_code code, const char *needle)
{
	cp_error *err = NULL;
	g_assert_null(cp_image_load(path, NULL, &err));
	tu_assert_error(&err, code, needle);
}

/* Truncated and damaged files fail to load (probe may pass: it reads only
 * the header); a header announcing 60000 x 60000 fails before any pixel
 * memory, in probe and load; empty, foreign, missing and oversized files
 * get their own messages. */
static void test_bad_files(void)
{
	char *png = write_png("big-ok.png", 200, 100, PNG_COLOR_TYPE_RGB, 8, false, 0, false);
	char *data;
	gsize len;
	g_assert_true(g_file_get_contents(png, &data, &len, NULL));
	char *t = write_bytes("truncated.png", data, len - 40);
	cp_error *err = NULL;
	cp_image_info info;
	g_assert_true(cp_image_probe(t, &info, &err));
	expect_fail(t, CP_E_PARSE, "damaged PNG image");
	g_free(t);
	/* a flipped byte inside IDAT: CRC error */
	data[len / 2] ^= 0x55;
	t = write_bytes("crc.png", data, len);
	expect_fail(t, CP_E_PARSE, "damaged PNG image");
	g_free(t);
	g_free(data);
	g_free(png);

	const unsigned char c[3] = {200, 10, 10};
	char *jpg = write_jpeg("ok.jpg", 64, 64, JCS_RGB, c, 0);
	g_assert_true(g_file_get_contents(jpg, &data, &len, NULL));
	t = write_bytes("truncated.jpg", data, len * 2 / 3);
	expect_fail(t, CP_E_PARSE, "damaged JPEG image");
	g_free(t);
	t = write_bytes("header-only.jpg", data, 20);
	expect_fail(t, CP_E_PARSE, "damaged JPEG image");
	g_free(t);
	g_free(data);
	g_free(jpg);

	char *huge = write_png("huge.png", 60000, 60000, PNG_COLOR_TYPE_RGB, 8, false, 0, true);
	g_assert_false(cp_image_probe(huge, &info, &err));
	tu_assert_error(&err, CP_E_NOMEM, "60000 x 60000");
	expect_fail(huge, CP_E_NOMEM, "the limit is 12000");
	g_free(huge);
	/* a JPEG frame header (SOF0) announcing 60000 x 60000, then SOS */
	static const unsigned char hj[] = {
		0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0xea, 0x60, 0xea, 0x60, 0x01, 0x01, 0x11,
		0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x00};
	huge = write_bytes("huge.jpg", hj, sizeof hj);
	expect_fail(huge, CP_E_NOMEM, "60000 x 60000");
	g_free(huge);
	/* wide but under the side limit, over the pixel limit */
	huge = write_png("many.png", 12000, 5000, PNG_COLOR_TYPE_RGB, 8, false, 0, true);
	expect_fail(huge, CP_E_NOMEM, "12000 x 5000");
	g_free(huge);

	t = write_bytes("empty.png", "", 0);
	expect_fail(t, CP_E_PARSE, "empty");
	g_free(t);
	t = write_bytes("text.jpg", "hello world", 11);
	expect_fail(t, CP_E_PARSE, "neither a PNG nor a JPEG");
	g_free(t);
	t = g_build_filename(scratch, "missing.png", NULL);
	expect_fail(t, CP_E_IO, "missing.png");
	g_assert_false(cp_image_probe(t, NULL, &err));
	tu_assert_error(&err, CP_E_IO, "cannot open");
	g_free(t);
	/* over CP_IMAGE_MAX_BYTES: a sparse file, refused from its size alone */
	t = write_bytes("oversized.png", "\x89PNG\r\n\x1a\n", 8);
	g_assert_cmpint(truncate(t, (off_t)CP_IMAGE_MAX_BYTES + 1), ==, 0);
	expect_fail(t, CP_E_NOMEM, "larger than 64 MiB");
	g_unlink(t);
	g_free(t);
	expect_fail(scratch, CP_E_IO, "not a regular file");
}

/* A w x h RGB JPEG of pseudo-random noise: its entropy-coded data is dense,
 * so damage anywhere in it hits real Huffman codes. */
static char *write_noise_jpeg(const char *name, int w, int h)
{
	char *path = g_build_filename(scratch, name, NULL);
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
	jpeg_set_quality(&c, 90, TRUE);
	jpeg_start_compress(&c, TRUE);
	unsigned char *row = g_malloc((size_t)w * 3);
	guint32 seed = 12345;
	while (c.next_scanline < c.image_height) {
		for (int i = 0; i < w * 3; i++) {
			seed = seed * 1103515245u + 12345u;
			row[i] = (unsigned char)(seed >> 24);
		}
		JSAMPROW r = row;
		jpeg_write_scanlines(&c, &r, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	g_free(row);
	fclose(fp);
	return path;
}

static void expect_invalid(const char *path, cp_code code, const char *needle)
{
	cp_error *err = NULL;
	g_assert_false(cp_image_validate(path, NULL, &err));
	tu_assert_error(&err, code, needle);
	g_assert_null(cp_image_load_for_pdf(path, NULL, &err));
	tu_assert_error(&err, code, needle);
}

/* cp_image_validate() reads every byte without keeping pixels: good JPEG
 * and PNG (plain and interlaced) pass with their header facts; a truncated
 * or damaged JPEG (noise, so the damage lands in real Huffman codes), a
 * truncated PNG and a PNG with a bad CRC fail with cp_image_load()'s
 * messages. */
static void test_validate(void)
{
	cp_image_forget_validated();
	cp_error *err = NULL;
	cp_image_info info;
	char *j = write_noise_jpeg("noise.jpg", 160, 120);
	g_assert_true(cp_image_validate(j, &info, &err));
	tu_assert_no_error(err);
	g_assert_cmpint(info.format, ==, CP_IMAGE_JPEG);
	g_assert_cmpint(info.width, ==, 160);
	g_assert_cmpint(info.height, ==, 120);
	char *data;
	gsize len;
	g_assert_true(g_file_get_contents(j, &data, &len, NULL));
	char *t = write_bytes("noise-cut.jpg", data, len * 3 / 4);
	expect_invalid(t, CP_E_PARSE, "damaged JPEG image");
	g_free(t);
	/* a marker in the middle of the scan: the entropy decoder runs into it
	 * with blocks still to read */
	data[len / 2] = (char)0xff;
	data[len / 2 + 1] = (char)0xd3;
	t = write_bytes("noise-damaged.jpg", data, len);
	g_assert_null(cp_image_load(t, NULL, &err));
	tu_assert_error(&err, CP_E_PARSE, "damaged JPEG image");
	expect_invalid(t, CP_E_PARSE, "damaged JPEG image");
	g_free(t);
	g_free(data);
	g_free(j);

	char *p = write_png("rgb8-v.png", 200, 100, PNG_COLOR_TYPE_RGB, 8, false, 0, false);
	char *pi = write_png("rgb8-vi.png", 33, 17, PNG_COLOR_TYPE_RGB, 8, true, 11811, false);
	g_assert_true(cp_image_validate(p, &info, &err));
	g_assert_cmpint(info.format, ==, CP_IMAGE_PNG);
	g_assert_cmpint(info.width, ==, 200);
	g_assert_true(cp_image_validate(pi, &info, &err));
	g_assert_cmpfloat_with_epsilon(info.dpi_x, 300, 0.01);
	tu_assert_no_error(err);
	g_assert_true(g_file_get_contents(p, &data, &len, NULL));
	t = write_bytes("rgb8-v-cut.png", data, len - 40);
	expect_invalid(t, CP_E_PARSE, "damaged PNG image");
	g_free(t);
	data[len / 2] ^= 0x55;
	t = write_bytes("rgb8-v-crc.png", data, len);
	expect_invalid(t, CP_E_PARSE, "damaged PNG image");
	g_free(t);
	g_free(data);
	g_free(pi);
	g_free(p);
}

/* A file remembered as valid is known by its identity, not its name: the
 * same path rewritten with a truncated copy (new size and ctime) is read and
 * refused again, and cp_image_forget_validated() forgets. */
static void test_validate_cache(void)
{
	cp_image_forget_validated();
	char *j = write_noise_jpeg("cached.jpg", 96, 96);
	cp_error *err = NULL;
	g_assert_true(cp_image_validate(j, NULL, &err));
	char *data;
	gsize len;
	g_assert_true(g_file_get_contents(j, &data, &len, NULL));
	g_assert_true(g_file_set_contents(j, data, (gssize)(len / 2), NULL));
	g_assert_false(cp_image_validate(j, NULL, &err));
	tu_assert_error(&err, CP_E_PARSE, "damaged JPEG image");
	g_assert_true(g_file_set_contents(j, data, (gssize)len, NULL));
	g_assert_true(cp_image_validate(j, NULL, &err));
	tu_assert_no_error(err);
	g_free(data);
	g_free(j);
}

/* Renders one image to PDF bytes in memory: drawn as draw_image in
 * layout.c does, stretched from the surface's own size to iw x ih pixels at
 * 0.1 mm a pixel. */
static GByteArray *pdf_of(cairo_surface_t *img, int iw, int ih)
{
	GByteArray *ba = g_byte_array_new();
	cairo_surface_t *pdf = cairo_pdf_surface_create_for_stream(tu_append_bytes, ba, 200, 200);
	cairo_pdf_surface_set_metadata(pdf, CAIRO_PDF_METADATA_CREATE_DATE, "2026-01-01T00:00:00Z");
	cairo_t *cr = cairo_create(pdf);
	int sw = cairo_image_surface_get_width(img), sh = cairo_image_surface_get_height(img);
	cairo_translate(cr, 10, 20);
	cairo_scale(cr, 0.1 * iw / sw, 0.1 * ih / sh);
	cairo_set_source_surface(cr, img, 0, 0);
	cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
	cairo_rectangle(cr, 0, 0, sw, sh);
	cairo_fill(cr);
	cairo_show_page(cr);
	cairo_destroy(cr);
	cairo_surface_finish(pdf);
	cairo_surface_destroy(pdf);
	return ba;
}

/* cp_image_load_for_pdf(): a JPEG becomes a 1 x 1 stand-in carrying the
 * file and its sha256 id, with the real size in info; the PDF drawn from it
 * is byte for byte the PDF drawn from the decoded image (so Cairo used only
 * the attached file, never the pixels), and holds the JPEG once as
 * /DCTDecode. cp_image_with_pixels() decodes the stand-in; PNG and CMYK are
 * decoded at once. */
static void test_load_for_pdf(void)
{
	cp_image_forget_validated();
	const unsigned char orange[3] = {240, 120, 10};
	char *p = write_jpeg("pdf.jpg", 40, 30, JCS_RGB, orange, 300);
	cp_error *err = NULL;
	cp_image_info info;
	cairo_surface_t *s = cp_image_load_for_pdf(p, &info, &err);
	tu_assert_no_error(err);
	g_assert_false(cp_image_has_pixels(s));
	g_assert_cmpint(cairo_image_surface_get_width(s), ==, 1);
	g_assert_cmpint(info.width, ==, 40);
	g_assert_cmpint(info.height, ==, 30);
	const unsigned char *mime;
	unsigned long mlen;
	char *file;
	gsize flen;
	g_assert_true(g_file_get_contents(p, &file, &flen, NULL));
	cairo_surface_get_mime_data(s, CAIRO_MIME_TYPE_JPEG, &mime, &mlen);
	g_assert_cmpuint(mlen, ==, flen);
	g_assert_cmpint(memcmp(mime, file, flen), ==, 0);
	cairo_surface_get_mime_data(s, CAIRO_MIME_TYPE_UNIQUE_ID, &mime, &mlen);
	char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)file, flen);
	g_assert_cmpuint(mlen, ==, strlen(sha));
	g_assert_cmpint(memcmp(mime, sha, mlen), ==, 0);
	g_free(sha);

	cairo_surface_t *full = cp_image_load(p, NULL, &err);
	tu_assert_no_error(err);
	g_assert_true(cp_image_has_pixels(full));
	GByteArray *a = pdf_of(full, 40, 30), *b = pdf_of(s, 40, 30);
	g_assert_cmpuint(a->len, ==, b->len);
	g_assert_cmpint(memcmp(a->data, b->data, a->len), ==, 0);
	g_assert_cmpint(tu_count(b->data, b->len, "/DCTDecode"), ==, 1);
	g_assert_nonnull(memmem(b->data, b->len, file, flen));
	g_byte_array_free(a, TRUE);
	g_byte_array_free(b, TRUE);
	cairo_surface_destroy(full);

	cairo_surface_t *px = cp_image_with_pixels(s, &err);
	tu_assert_no_error(err);
	g_assert_true(cp_image_has_pixels(px));
	g_assert_cmpint(cairo_image_surface_get_width(px), ==, 40);
	uint32_t c = pixel(px, 20, 15);
	g_assert_cmpint(abs((int)R(c) - 240), <=, 6);
	g_assert_cmpint(abs((int)B(c) - 10), <=, 6);
	cairo_surface_get_mime_data(px, CAIRO_MIME_TYPE_JPEG, &mime, &mlen);
	g_assert_cmpuint(mlen, ==, flen);
	cairo_surface_destroy(px);
	px = cp_image_with_pixels(full = cp_image_load(p, NULL, &err), &err);
	g_assert_true(px == full);
	cairo_surface_destroy(px);
	cairo_surface_destroy(full);
	cairo_surface_destroy(s);
	g_free(file);
	g_free(p);

	const unsigned char red[4] = {255, 0, 0, 255};
	p = write_jpeg("pdf-cmyk.jpg", 16, 16, JCS_CMYK, red, 0);
	s = cp_image_load_for_pdf(p, &info, &err);
	tu_assert_no_error(err);
	g_assert_true(cp_image_has_pixels(s));
	g_assert_cmpint(R(pixel(s, 8, 8)), >=, 245);
	cairo_surface_destroy(s);
	g_free(p);
	p = write_png("pdf.png", 20, 10, PNG_COLOR_TYPE_RGB_ALPHA, 8, false, 0, false);
	s = cp_image_load_for_pdf(p, &info, &err);
	tu_assert_no_error(err);
	g_assert_true(cp_image_has_pixels(s));
	g_assert_cmpint(cairo_image_surface_get_format(s), ==, CAIRO_FORMAT_ARGB32);
	cairo_surface_destroy(s);
	g_free(p);
}

/* EXIF orientation (phones store portraits sideways): every one of the eight
 * values, in both byte orders, is measured and decoded upright. Where the
 * stored top-left (red) and top-right (blue) quadrants must show comes from
 * the EXIF table (row 0 / column 0 sides), not from image.c's mapping. */
static void test_exif_orientation(void)
{
	enum { TL, TR, BR, BL };
	static const int where[9][2] = {
		{0, 0}, {TL, TR}, {TR, TL}, {BR, BL}, {BL, BR},
		{TL, BL}, {TR, BR}, {BR, TR}, {BL, TL},
	};
	for (int intel = 0; intel <= 1; intel++) {
		for (int o = 1; o <= 8; o++) {
			char name[32];
			g_snprintf(name, sizeof name, "exif-%d-%d.jpg", o, intel);
			char *p = tu_write_exif_jpeg(scratch, name, 64, 48, o, intel);
			cp_error *err = NULL;
			cp_image_info info;
			g_assert_true(cp_image_probe(p, &info, &err));
			tu_assert_no_error(err);
			g_assert_cmpint(info.orientation, ==, o);
			int W = o >= 5 ? 48 : 64, H = o >= 5 ? 64 : 48;
			g_assert_cmpint(info.width, ==, W);
			g_assert_cmpint(info.height, ==, H);
			for (int pdf = 0; pdf <= 1; pdf++) {
				cairo_surface_t *s = pdf ? cp_image_load_for_pdf(p, &info, &err)
				                         : cp_image_load(p, &info, &err);
				tu_assert_no_error(err);
				g_assert_cmpint(info.width, ==, W);
				/* turned pixels: the file cannot go into a PDF as-is */
				g_assert_true(cp_image_has_pixels(s) || o == 1);
				if (!cp_image_has_pixels(s)) {
					cairo_surface_destroy(s);
					continue;
				}
				g_assert_cmpint(cairo_image_surface_get_width(s), ==, W);
				g_assert_cmpint(cairo_image_surface_get_height(s), ==, H);
				const unsigned char *mime = NULL;
				unsigned long mlen = 0;
				cairo_surface_get_mime_data(s, CAIRO_MIME_TYPE_JPEG, &mime, &mlen);
				g_assert_true((mime != NULL) == (o == 1));
				const int cx[4] = {W / 4, W * 3 / 4, W * 3 / 4, W / 4};
				const int cy[4] = {H / 4, H / 4, H * 3 / 4, H * 3 / 4};
				int r = where[o][0], b = where[o][1];
				uint32_t pr = pixel(s, cx[r], cy[r]), pb = pixel(s, cx[b], cy[b]);
				g_test_message("orientation %d intel %d pdf %d", o, intel, pdf);
				g_assert_cmpint(R(pr), >=, 200);
				g_assert_cmpint(B(pr), <=, 60);
				g_assert_cmpint(B(pb), >=, 200);
				g_assert_cmpint(R(pb), <=, 60);
				for (int q = 0; q < 4; q++) {
					if (q == r || q == b)
						continue;
					uint32_t pw = pixel(s, cx[q], cy[q]);
					g_assert_cmpint(R(pw), >=, 200);
					g_assert_cmpint(B(pw), >=, 200);
				}
				cairo_surface_destroy(s);
			}
			g_free(p);
		}
	}
	/* a value outside 1-8, and no EXIF at all, leave the pixels as stored */
	int odd[] = {0, 9, 255};
	for (size_t i = 0; i < G_N_ELEMENTS(odd); i++) {
		char *p = tu_write_exif_jpeg(scratch, "exif-odd.jpg", 64, 48, odd[i], FALSE);
		cp_image_info info;
		cp_error *err = NULL;
		g_assert_true(cp_image_probe(p, &info, &err));
		g_assert_cmpint(info.orientation, ==, 1);
		g_assert_cmpint(info.width, ==, 64);
		g_free(p);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	scratch = tu_scratch("image");
	g_test_add_func("/image/png-variants", test_png_variants);
	g_test_add_func("/image/png-alpha", test_png_alpha);
	g_test_add_func("/image/jpeg", test_jpeg);
	g_test_add_func("/image/jpeg-cmyk", test_jpeg_cmyk);
	g_test_add_func("/image/sniffing", test_sniffing);
	g_test_add_func("/image/bad-files", test_bad_files);
	g_test_add_func("/image/validate", test_validate);
	g_test_add_func("/image/validate-cache", test_validate_cache);
	g_test_add_func("/image/load-for-pdf", test_load_for_pdf);
	g_test_add_func("/image/exif-orientation", test_exif_orientation);
	int rc = g_test_run();
	g_free(scratch);
	return rc;
}
