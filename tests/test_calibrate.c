/* SPDX-License-Identifier: MIT */
#include "common/testutil.h"

#include <string.h>

#include "error.h"

#define DPI 200.0

/* fontconfig keeps its caches for the life of the process in structures
 * LeakSanitizer cannot follow (offset-encoded pointers), and tearing them
 * down with FcFini() races pango's and cairo's own caches. Only fontconfig
 * is exempted; a leak in our code still fails the ASan run. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\n";
}

/* Darkness (0 white .. 255 black) of the pixel holding the point (x, y) in
 * millimetres: for asserting that a spot is blank. */
static int ink_px(cairo_surface_t *s, double x_mm, double y_mm)
{
	const unsigned char *d = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	int x = (int)(x_mm / 25.4 * DPI), y = (int)(y_mm / 25.4 * DPI);
	return 255 - (int)((((const uint32_t *)(d + y * stride))[x] >> 8) & 0xff);
}

/* The darkest of that pixel and its 8 neighbours: for asserting ink where an
 * anti-aliased line of about one pixel falls. */
static int ink_at(cairo_surface_t *s, double x_mm, double y_mm)
{
	cairo_surface_flush(s);
	const unsigned char *d = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	int cx = (int)(x_mm / 25.4 * DPI), cy = (int)(y_mm / 25.4 * DPI);
	int best = 0;
	for (int y = cy - 1; y <= cy + 1; y++)
		for (int x = cx - 1; x <= cx + 1; x++) {
			uint32_t p = ((const uint32_t *)(d + y * stride))[x];
			int dark = 255 - (int)((p >> 8) & 0xff);
			if (dark > best)
				best = dark;
		}
	return best;
}

/* Dark pixels in a rectangle given in millimetres. */
static long ink_in(cairo_surface_t *s, double x0, double y0, double x1, double y1)
{
	const unsigned char *d = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	long n = 0;
	for (int y = (int)(y0 / 25.4 * DPI); y < (int)(y1 / 25.4 * DPI); y++)
		for (int x = (int)(x0 / 25.4 * DPI); x < (int)(x1 / 25.4 * DPI); x++)
			if ((((const uint32_t *)(d + y * stride))[x] & 0xff) < 128)
				n++;
	return n;
}

static cairo_surface_t *render(const cp_output_opts *o)
{
	cairo_t *cr = NULL;
	cp_error *err = NULL;
	cairo_surface_t *s = cp_raster_new(210, 297, DPI, &cr, &err);
	tu_assert_no_error(err);
	g_assert_true(cp_calibrate_draw(cr, 210, 297, o, &err));
	tu_assert_no_error(err);
	cairo_destroy(cr);
	cairo_surface_flush(s);
	return s;
}

/* The page carries what it promises, where it promises: the 10 mm ruler
 * ticks on all four edges (long, 5 mm) but no 1 mm tick reaching 3 mm in;
 * nothing between millimetre ticks; crosshairs 20 mm in from the corners and
 * at the centre; the 0 line of each offset scale at 20 mm; text in the title
 * and instruction areas. */
static void test_marks(void)
{
	cairo_surface_t *s = render(NULL);
	/* top ruler: 10 mm tick is 5 mm long, 11 mm tick is 2 mm long */
	g_assert_cmpint(ink_at(s, 100, 4), >, 100);
	g_assert_cmpint(ink_at(s, 101, 1), >, 100);
	g_assert_cmpint(ink_px(s, 101, 3), <, 30);
	g_assert_cmpint(ink_px(s, 100.5, 1), <, 30);
	/* other edges */
	g_assert_cmpint(ink_at(s, 100, 297 - 4), >, 100);
	g_assert_cmpint(ink_at(s, 4, 150), >, 100);
	g_assert_cmpint(ink_at(s, 210 - 4, 150), >, 100);
	g_assert_cmpint(ink_px(s, 210 - 4, 150.5), <, 30);
	/* crosshairs: centre lines, and white inside the ring off the lines */
	double cx[] = {20, 190, 20, 190, 105}, cy[] = {20, 20, 277, 277, 148.5};
	for (int i = 0; i < 5; i++) {
		g_assert_cmpint(ink_at(s, cx[i] + 5, cy[i]), >, 100);
		g_assert_cmpint(ink_at(s, cx[i], cy[i] - 5), >, 100);
		g_assert_cmpint(ink_px(s, cx[i] - 1.5, cy[i] - 1.5), <, 30);
	}
	/* offset scale, left edge: the 0 line at x = 20 mm, lines 0.5 mm apart */
	double y = 148.5 - 34 + 3;
	g_assert_cmpint(ink_at(s, 20, y), >, 100);
	g_assert_cmpint(ink_at(s, 20.5, y), >, 100);
	g_assert_cmpint(ink_px(s, 20.75, y), <, 30);
	/* title and instructions */
	g_assert_cmpint(ink_in(s, 30, 27, 180, 34), >, 500);
	g_assert_cmpint(ink_in(s, 30, 163, 180, 230), >, 5000);
	cairo_surface_destroy(s);
}

/* A saved offset moves everything: with offset x = 2 mm the 100 mm tick
 * appears at 102 mm; with scale 1.05 the right crosshair moves from 190 to
 * 199.5 mm. */
static void test_offset_applied(void)
{
	cp_output_opts o = {.offset_x_mm = 2, .offset_y_mm = 0, .scale_x = 1, .scale_y = 1};
	cairo_surface_t *s = render(&o);
	g_assert_cmpint(ink_at(s, 102, 4), >, 100);
	g_assert_cmpint(ink_px(s, 100, 4), <, 30);
	cairo_surface_destroy(s);
	o.offset_x_mm = 0;
	o.scale_x = 1.05;
	s = render(&o);
	/* the right crosshair's vertical stroke: at 190 mm unscaled */
	g_assert_cmpint(ink_at(s, 190 * 1.05, 16), >, 100);
	g_assert_cmpint(ink_px(s, 190, 16), <, 30);
	cairo_surface_destroy(s);
}

/* Too small a page is refused; a cairo_t already in error is reported. */
static void test_errors(void)
{
	cairo_t *cr = NULL;
	cp_error *err = NULL;
	cairo_surface_t *s = cp_raster_new(90, 50, 72, &cr, &err);
	g_assert_false(cp_calibrate_draw(cr, 90, 50, NULL, &err));
	tu_assert_error(&err, CP_E_USAGE, "calibration page");
	cairo_restore(cr); /* unbalanced: puts cr into an error state */
	g_assert_false(cp_calibrate_draw(cr, 100, 100, NULL, &err));
	tu_assert_error(&err, CP_E_IO, "calibration page failed");
	cairo_destroy(cr);
	cairo_surface_destroy(s);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/calibrate/marks", test_marks);
	g_test_add_func("/calibrate/offset-applied", test_offset_applied);
	g_test_add_func("/calibrate/errors", test_errors);
	return g_test_run();
}
