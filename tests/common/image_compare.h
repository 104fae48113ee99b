/* SPDX-License-Identifier: MIT */
/*
 * Raster helpers for the golden-image and complete-field tests: rendering a
 * laid-out page (whole or a crop) at a resolution, comparing two images with
 * a stated tolerance, a diff image, naming the template elements a difference
 * overlaps, counting ink in boxes given in millimetres, and running the
 * poppler and zbar command-line tools.
 *
 * Images are cairo image surfaces, RGB24 or ARGB32 (alpha ignored: the pages
 * are painted white first). Boxes are in page millimetres, origin top-left.
 */
#ifndef CP_IMAGE_COMPARE_H
#define CP_IMAGE_COMPARE_H

#include <cairo.h>
#include <glib.h>
#include <stdbool.h>

#include "certpress.h"

/* A pixel is "ink" when some channel is darker than this. Antialiasing of a
 * faint edge stays above it; every element of the reference template is far
 * below it. */
#define IC_INK_LEVEL 200

/* How much two images may differ and still be "the same". */
typedef struct ic_tolerance {
	int threshold;     /* a pixel differs when a channel differs by more than this */
	int radius;        /* 0: pixel against pixel; r > 0: a pixel matches when some
	                      pixel of the other image within r pixels (both ways)
	                      is within threshold, absorbing sub-pixel shifts of
	                      edges between rasterisers */
	long max_pixels;   /* at most this many differing pixels pass */
	int size_slack;    /* sizes may differ by this many pixels a side (rounding
	                      of the page size by another rasteriser); the extra
	                      rows or columns must be white */
} ic_tolerance;

/* The outcome of a comparison. Clear with ic_diff_clear(). */
typedef struct ic_diff {
	int width, height;   /* the compared (common) area, pixels */
	long differing;      /* differing pixels */
	int max_delta;       /* largest channel difference found at a differing pixel */
	int x0, y0, x1, y1;  /* bounding box of differing pixels, [x0,x1) × [y0,y1) */
	guint8 *mask;        /* width × height, 1 where a pixel differs (g_free) */
	char *size_problem;  /* set when the sizes differ beyond the slack (g_free) */
} ic_diff;

/* A box in millimetres. */
typedef struct ic_box {
	double x, y, w, h;
} ic_box;

/* Compares actual against expected. Pixels touching one of the n_ignore
 * boxes (mm from the images' top-left corner at dpi; ignore may be NULL) are
 * not compared: an element drawn differently on different targets by design.
 * Returns true when they are the same within tol (no size problem and
 * differing <= max_pixels); *d is always filled. */
bool ic_compare(cairo_surface_t *actual, cairo_surface_t *expected,
                const ic_tolerance *tol, const ic_box *ignore, size_t n_ignore,
                double dpi, ic_diff *d);
void ic_diff_clear(ic_diff *d);

/* A diff image the size of the compared area: the actual image faded towards
 * white, with every differing pixel pure red. cairo_surface_destroy(). */
cairo_surface_t *ic_diff_image(cairo_surface_t *actual, const ic_diff *d);

/* Where a difference is, in words: its bounding box in millimetres and the
 * template elements (layout items) whose boxes hold differing pixels, most
 * first, e.g. "differences in x 70.0–92.3 mm, y 66.1–75.0 mm; 312 px in
 * [field name] (certificate.conf:101), 4 px outside every element".
 * origin_*_mm: the page position of the image's top-left pixel (a crop);
 * shift_*_mm: the output offset the page was drawn with. g_free(). */
char *ic_describe(const ic_diff *d, double dpi, double origin_x_mm, double origin_y_mm,
                  const cp_page *pg, double shift_x_mm, double shift_y_mm);

/* The template element of item i in words: "[field name]
 * (certificate.conf:101)". g_free(). */
char *ic_item_name(const cp_page *pg, size_t i);

/* Renders a page in mode o at dpi: the whole page (crop NULL) or the crop
 * {x, y, w, h} mm, on white. Asserts on failure. cairo_surface_destroy(). */
cairo_surface_t *ic_render(cp_engine *e, const cp_page *pg, const cp_template *t,
                           const cp_output_opts *o, double dpi, const double *crop);

/* Loads a PNG; NULL with *why set (g_free) when it cannot be read. */
cairo_surface_t *ic_load_png(const char *path, char **why);

/* Pixels inside the box (mm, page coordinates of an image whose top-left is
 * at the page origin) darker than level in some channel. */
long ic_ink_in(cairo_surface_t *s, double dpi, double x, double y, double w, double h,
               int level);
/* Pixels inside the box that are seal red (strong red, weak green and blue). */
long ic_red_in(cairo_surface_t *s, double dpi, double x, double y, double w, double h);

/* Ink pixels (darker than level) inside area but outside every box (each
 * grown by pad_mm). *where (may be NULL) gets the bounding box of those
 * pixels in mm. */
long ic_ink_outside(cairo_surface_t *s, double dpi, const ic_box *area,
                    const ic_box *boxes, size_t n, double pad_mm, int level,
                    ic_box *where);

/* Runs argv (argv[0] looked up in PATH) and returns its standard output
 * (g_free), or NULL with *why saying what went wrong (not found, spawn
 * failure, exit status with standard error). */
char *ic_run(const char *const *argv, char **why);

/* True when every one of the NULL-terminated programs is in PATH; otherwise
 * *missing names the first one that is not (static). */
bool ic_have_tools(const char *const *progs, const char **missing);

/* Rasterises every page of a PDF with pdftoppm at dpi into dir and loads the
 * pages. Returns the number of pages (*pages: g_free the array and destroy
 * each surface), or -1 with *why. */
int ic_pdf_rasterise(const char *pdf, double dpi, const char *dir,
                     cairo_surface_t ***pages, char **why);

/* A batch as the product prints it: the CSV read with cp_reader, every record
 * checked with cp_checker against the profile, and laid out on the template.
 * A record the checker refuses (its problems) or the engine refuses (its
 * error) has no page and a refusal saying why. */
typedef struct ic_batch {
	cp_profile *profile;
	cp_template *tmpl;
	cp_engine *engine;   /* borrows the fonts given to ic_batch_load() */
	cp_record *recs;
	cp_page **pages;     /* NULL where refused */
	char **refusal;      /* NULL where printable */
	size_t n;
} ic_batch;

/* NULL with *why (g_free) when a file cannot be loaded. ic_batch_free(). */
ic_batch *ic_batch_load(const char *csv, const char *profile, const char *tmpl,
                        cp_fonts *fonts, char **why);
void ic_batch_free(ic_batch *b);

#endif
