/* SPDX-License-Identifier: MIT */
/* QR codes: encoding, the drawn module grid, the quiet zone, pixel snapping
 * on raster targets, and a real decoder (zbarimg) reading what we draw. */
#include "common/testutil.h"

#include <cairo-pdf.h>

#include <math.h>
#include <qrencode.h>
#include <string.h>

#include "layout/qr.h"

static const char url[] = "http://jndj.osta.org.cn/certificate?no=S000044000123265000001";

/* Encoding picks a version whose width follows 17 + 4v; errors for empty and
 * oversized content; higher EC levels need bigger symbols. */
static void test_encode(void)
{
	cp_error *err = NULL;
	cp_qr *q = cp_qr_encode(url, 1, &err);
	tu_assert_no_error(err);
	g_assert_cmpint(cp_qr_version(q), >=, 1);
	g_assert_cmpint(cp_qr_width(q), ==, 17 + 4 * cp_qr_version(q));
	/* finder pattern: the top-left 7×7 ring is dark, the next ring light */
	for (int i = 0; i < 7; i++) {
		g_assert_true(cp_qr_dark(q, i, 0));
		g_assert_true(cp_qr_dark(q, 0, i));
		g_assert_false(cp_qr_dark(q, 7, i));
	}
	g_assert_false(cp_qr_dark(q, -1, 0));
	g_assert_false(cp_qr_dark(q, 0, cp_qr_width(q)));
	/* runs merge: fewer rectangles than dark modules */
	int dark = 0;
	for (int y = 0; y < cp_qr_width(q); y++)
		for (int x = 0; x < cp_qr_width(q); x++)
			dark += cp_qr_dark(q, x, y);
	g_assert_cmpint(cp_qr_run_count(q), <, dark);
	g_assert_cmpint(cp_qr_run_count(q), >, 0);
	cp_qr *h = cp_qr_encode(url, 3, &err);
	tu_assert_no_error(err);
	g_assert_cmpint(cp_qr_version(h), >, cp_qr_version(q));
	cp_qr_free(h);
	cp_qr_free(q);
	cp_qr_free(NULL);

	g_assert_null(cp_qr_encode("", 1, &err));
	tu_assert_error(&err, CP_E_REFUSED, "empty");
	g_assert_null(cp_qr_encode(NULL, 1, &err));
	tu_assert_error(&err, CP_E_REFUSED, "empty");
	char *big = g_strnfill(CP_QR_MAX_BYTES + 1, 'a');
	g_assert_null(cp_qr_encode(big, 1, &err));
	tu_assert_error(&err, CP_E_REFUSED, "at most 1024");
	g_free(big);
}

#define DPI 150.0
#define PX(mm) ((int)ceil((mm) / 25.4 * DPI))

/* Draws the code into a 25 mm box at (10, 10) mm on a grey page (as on
 * pre-printed artwork) at 150 dpi. */
static cairo_surface_t *render(const cp_qr *q, double module_offset_mm)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, PX(45), PX(45));
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
	cairo_paint(cr);
	cairo_scale(cr, DPI / 25.4, DPI / 25.4);
	cp_qr_draw(q, cr, 10 + module_offset_mm, 10 + module_offset_mm, 25, 25,
	           CP_QR_MIN_QUIET, NULL);
	cairo_destroy(cr);
	cairo_surface_flush(s);
	return s;
}

static guint32 px(cairo_surface_t *s, int x, int y)
{
	const unsigned char *d = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	return ((const guint32 *)(d + (size_t)y * (size_t)stride))[x] & 0xffffff;
}

/* On an image surface modules are whole pixels wide, pure black or white,
 * every module's centre matches the symbol, and a ≥ 4-module white quiet zone
 * surrounds it even on a grey page, whatever the sub-pixel position. */
static void test_raster_grid(void)
{
	cp_error *err = NULL;
	cp_qr *q = cp_qr_encode(url, 1, &err);
	tu_assert_no_error(err);
	for (int k = 0; k < 3; k++) {
		cairo_surface_t *s = render(q, k * 0.037);
		int W = cairo_image_surface_get_width(s);
		int minx = W, miny = W, maxx = -1, maxy = -1;
		for (int y = 0; y < W; y++)
			for (int x = 0; x < W; x++) {
				guint32 c = px(s, x, y);
				if (c == 0) {
					minx = MIN(minx, x);
					maxx = MAX(maxx, x);
					miny = MIN(miny, y);
					maxy = MAX(maxy, y);
				}
			}
		int side = maxx - minx + 1, n = cp_qr_width(q);
		g_assert_cmpint(side, ==, maxy - miny + 1);
		g_assert_cmpint(side % n, ==, 0); /* whole-pixel modules */
		int m = side / n;
		g_assert_cmpint(m, >=, 2);
		for (int y = 0; y < n; y++)
			for (int x = 0; x < n; x++) {
				guint32 c = px(s, minx + x * m + m / 2, miny + y * m + m / 2);
				g_assert_cmphex(c, ==, cp_qr_dark(q, x, y) ? 0 : 0xffffff);
			}
		/* every pixel of symbol + quiet zone is pure black or white */
		int qz = CP_QR_MIN_QUIET * m;
		for (int y = miny - qz; y <= maxy + qz; y++)
			for (int x = minx - qz; x <= maxx + qz; x++) {
				guint32 c = px(s, x, y);
				g_assert_true(c == 0 || c == 0xffffff);
				bool in_zone = x < minx || x > maxx || y < miny || y > maxy;
				if (in_zone)
					g_assert_cmphex(c, ==, 0xffffff);
			}
		/* and it stays inside its 25 mm box */
		g_assert_cmpint(minx - qz, >=, PX(10 + k * 0.037) - 1);
		g_assert_cmpint(maxx + qz, <=, PX(35 + k * 0.037));
		cairo_surface_destroy(s);
	}
	cp_qr_free(q);
}

static char *zbar(const char *png)
{
	char *prog = g_find_program_in_path("zbarimg");
	if (!prog)
		return NULL;
	char *argv[] = {prog, "--raw", "-q", "-Sdisable", "-Sqrcode.enable", (char *)png, NULL};
	char *out = NULL;
	int status = 0;
	GError *ge = NULL;
	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
	                           &out, NULL, &status, &ge));
	g_free(prog);
	g_strchomp(out);
	return out;
}

/* A real decoder reads both the pixel-snapped raster drawing and the vector
 * drawing (recorded, then rasterised at an awkward scale). */
static void test_zbar_round_trip(void)
{
	char *prog = g_find_program_in_path("zbarimg");
	if (!prog) {
		g_test_skip("zbarimg is not installed");
		return;
	}
	g_free(prog);
	cp_error *err = NULL;
	cp_qr *q = cp_qr_encode(url, 1, &err);
	tu_assert_no_error(err);
	char *dir = tu_scratch("qr");

	cairo_surface_t *s = render(q, 0.05);
	char *png = g_build_filename(dir, "raster.png", NULL);
	g_assert_cmpint(cairo_surface_write_to_png(s, png), ==, CAIRO_STATUS_SUCCESS);
	char *got = zbar(png);
	g_assert_cmpstr(got, ==, url);
	g_free(got);
	g_free(png);
	cairo_surface_destroy(s);

	/* vector: a recording surface is not an image, so no snapping */
	cairo_surface_t *rec = cairo_recording_surface_create(CAIRO_CONTENT_COLOR, NULL);
	cairo_t *cr = cairo_create(rec);
	cp_qr_draw(q, cr, 10, 10, 25, 31, CP_QR_MIN_QUIET, (double[]){0, 0, 0.3, 1});
	cairo_destroy(cr);
	double ix, iy, iw, ih;
	cairo_recording_surface_ink_extents(rec, &ix, &iy, &iw, &ih);
	/* centred square: the white quiet zone covers the whole 25 mm width */
	g_assert_cmpfloat(fabs(ix - 10), <, 0.01);
	g_assert_cmpfloat(fabs(iw - 25), <, 0.01);
	g_assert_cmpfloat(fabs(iy - 13), <, 0.01); /* extents come whole-unit rounded */
	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 300, 300);
	cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_scale(cr, 6.37, 6.37);
	cairo_set_source_surface(cr, rec, 0, 0);
	cairo_paint(cr);
	cairo_destroy(cr);
	png = g_build_filename(dir, "vector.png", NULL);
	g_assert_cmpint(cairo_surface_write_to_png(s, png), ==, CAIRO_STATUS_SUCCESS);
	got = zbar(png);
	g_assert_cmpstr(got, ==, url);
	g_free(got);
	g_free(png);
	cairo_surface_destroy(s);
	cairo_surface_destroy(rec);

	/* Chinese text in byte mode survives as UTF-8 */
	cp_qr *zh = cp_qr_encode("证书编号 S000044000123265000001", 1, &err);
	tu_assert_no_error(err);
	s = render(zh, 0);
	png = g_build_filename(dir, "utf8.png", NULL);
	g_assert_cmpint(cairo_surface_write_to_png(s, png), ==, CAIRO_STATUS_SUCCESS);
	got = zbar(png);
	g_assert_cmpstr(got, ==, "证书编号 S000044000123265000001");
	g_free(got);
	g_free(png);
	cairo_surface_destroy(s);
	cp_qr_free(zh);
	cp_qr_free(q);
	g_free(dir);
}

/* On a PDF the symbol is one 1-bit /ImageMask (one pixel a module, not
 * interpolated) instead of a path of rectangles: the file holds exactly one
 * stencil of width x width pixels, and poppler's rendering at 300 and 150 dpi
 * decodes with zbar (which also proves the mask's bit order). */
static void test_pdf_mask(void)
{
	cp_error *err = NULL;
	cp_qr *q = cp_qr_encode(url, 1, &err);
	tu_assert_no_error(err);
	char *dir = tu_scratch("qr-pdf");
	char *pdf = g_build_filename(dir, "qr.pdf", NULL);
	cairo_surface_t *s = cairo_pdf_surface_create(pdf, 200, 200);
	cairo_t *cr = cairo_create(s);
	cairo_scale(cr, 72 / 25.4, 72 / 25.4);
	cp_qr_draw(q, cr, 10, 10, 25, 31, CP_QR_MIN_QUIET, NULL);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
	char *data;
	gsize len;
	g_assert_true(g_file_get_contents(pdf, &data, &len, NULL));
	int masks = 0;
	for (const char *p = data; (p = memmem(p, len - (size_t)(p - data), "/ImageMask true", 15));
	     p += 15)
		masks++;
	g_assert_cmpint(masks, ==, 1);
	char *w = g_strdup_printf("/Width %d", cp_qr_width(q));
	g_assert_nonnull(memmem(data, len, w, strlen(w)));
	g_assert_nonnull(memmem(data, len, "/Interpolate false", 18));
	g_free(w);
	g_free(data);

	char *pdftoppm = g_find_program_in_path("pdftoppm");
	char *zbarimg = g_find_program_in_path("zbarimg");
	if (pdftoppm && zbarimg) {
		for (int dpi = 150; dpi <= 300; dpi += 150) {
			char *r = g_strdup_printf("%d", dpi);
			char *base = g_build_filename(dir, r, NULL);
			char *argv[] = {pdftoppm, "-r", r, "-png", "-singlefile", pdf, base, NULL};
			int status = 0;
			g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
			                           NULL, NULL, NULL, &status, NULL));
			g_assert_cmpint(status, ==, 0);
			char *png = g_strdup_printf("%s.png", base);
			char *got = zbar(png);
			g_assert_cmpstr(got, ==, url);
			g_free(got);
			g_free(png);
			g_free(base);
			g_free(r);
		}
	} else {
		g_test_message("pdftoppm or zbarimg missing: the PDF was not rasterised");
	}
	g_free(pdftoppm);
	g_free(zbarimg);
	g_free(pdf);
	g_free(dir);
	cp_qr_free(q);
}

/* The module size the layout reports follows the box and the quiet zone. */
static void test_module_size(void)
{
	cp_error *err = NULL;
	cp_qr *q = cp_qr_encode(url, 1, &err);
	tu_assert_no_error(err);
	int n = cp_qr_width(q);
	g_assert_cmpfloat(fabs(cp_qr_module_mm(q, 25, 30, 4) - 25.0 / (n + 8)), <, 1e-12);
	g_assert_cmpfloat(fabs(cp_qr_module_mm(q, 25, 30, 1) - 25.0 / (n + 8)), <, 1e-12);
	g_assert_cmpfloat(fabs(cp_qr_module_mm(q, 40, 20, 6) - 20.0 / (n + 12)), <, 1e-12);
	cp_qr_free(q);
}

/* The symbol libqrencode itself makes of text (as cp_qr_encode() builds its
 * input: byte mode, ECI 26 before non-ASCII content), its mask chosen by the
 * library. */
static QRcode *library_symbol(const char *text, int ec)
{
	QRecLevel level = ec >= 3 ? QR_ECLEVEL_H : ec == 2 ? QR_ECLEVEL_Q : QR_ECLEVEL_M;
	QRinput *in = QRinput_new2(0, level);
	g_assert_nonnull(in);
	bool ascii = true;
	for (const char *p = text; *p; p++)
		ascii = ascii && (unsigned char)*p < 0x80;
	if (!ascii)
		g_assert_cmpint(QRinput_appendECIheader(in, 26), ==, 0);
	g_assert_cmpint(QRinput_append(in, QR_MODE_8, (int)strlen(text),
	                               (const unsigned char *)text), ==, 0);
	QRcode *c = QRcode_encodeInput(in);
	QRinput_free(in);
	g_assert_nonnull(c);
	return c;
}

/* cp_qr_encode() chooses the mask by its own scoring (qr.c): the symbol
 * must be exactly the library's, module for module, for every content.
 * Random contents of every length and level, URLs like the real ones, and
 * adversarial ones (long runs of one byte, which make large blocks and long
 * runs of one colour in the data area). */
static void test_mask_as_library(void)
{
	GRand *r = g_rand_new_with_seed(20261206);
	int masks_seen = 0, widths_seen = 0;
	for (int i = 0; i < 3000; i++) {
		int len = i % 10 == 0 ? g_rand_int_range(r, 1, CP_QR_MAX_BYTES + 1)
		                      : g_rand_int_range(r, 1, 400);
		char *text = g_malloc((size_t)len + 1);
		int kind = i % 4;
		for (int k = 0; k < len; k++) {
			if (kind == 0)
				text[k] = (char)g_rand_int_range(r, 1, 256);
			else if (kind == 1)
				text[k] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
				          [g_rand_int_range(r, 0, 64)];
			else if (kind == 2)
				text[k] = (char)(k < len / 2 ? 'a' : g_rand_int_range(r, 1, 3));
			else
				text[k] = (char)(g_rand_int_range(r, 0, 2) ? 0xff : 0x01);
		}
		text[len] = '\0';
		if (i % 50 == 1 && len > 60)
			memcpy(text, url, 60);
		int ec = g_rand_int_range(r, 1, 4);
		cp_error *err = NULL;
		cp_qr *q = cp_qr_encode(text, ec, &err);
		if (!q) {
			/* too long for the level: the library refuses it too */
			cp_error_free(err);
			g_free(text);
			continue;
		}
		QRcode *c = library_symbol(text, ec);
		g_assert_cmpint(cp_qr_width(q), ==, c->width);
		g_assert_cmpint(cp_qr_version(q), ==, c->version);
		/* qr.c scores symbols of up to 64 modules on 64-bit lines, of up
		 * to 128 on 128-bit ones, and leaves wider ones to the library */
		widths_seen |= c->width <= 64 ? 1 : c->width <= 128 ? 2 : 4;
		for (int y = 0; y < c->width; y++)
			for (int x = 0; x < c->width; x++)
				if (cp_qr_dark(q, x, y) != (c->data[y * c->width + x] & 1))
					g_error("content %d (%d bytes, ec %d): module (%d, %d) differs",
					        i, len, ec, x, y);
		/* the format information says which mask: count the distinct ones */
		masks_seen |= 1 << (((c->data[8 * c->width + 2] & 1) << 2) |
		                    ((c->data[8 * c->width + 3] & 1) << 1) |
		                    (c->data[8 * c->width + 4] & 1));
		QRcode_free(c);
		cp_qr_free(q);
		g_free(text);
	}
	/* all eight masks were chosen by some content, at every width */
	g_assert_cmpint(masks_seen, ==, 0xff);
	g_assert_cmpint(widths_seen, ==, 7);
	g_rand_free(r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/qr/encode", test_encode);
	g_test_add_func("/qr/raster-grid", test_raster_grid);
	g_test_add_func("/qr/zbar", test_zbar_round_trip);
	g_test_add_func("/qr/module-size", test_module_size);
	g_test_add_func("/qr/pdf-mask", test_pdf_mask);
	g_test_add_func("/qr/mask-as-library", test_mask_as_library);
	return g_test_run();
}
