/* SPDX-License-Identifier: MIT */
#include "common/image_compare.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layout/layout.h"
#include "layout/template.h"

#define MM_PER_INCH 25.4

static inline guint32 px(const unsigned char *data, int stride, int x, int y)
{
	return ((const guint32 *)(data + (size_t)y * (size_t)stride))[x] & 0xffffff;
}

static inline int delta(guint32 a, guint32 b)
{
	int dr = abs((int)((a >> 16) & 255) - (int)((b >> 16) & 255));
	int dg = abs((int)((a >> 8) & 255) - (int)((b >> 8) & 255));
	int db = abs((int)(a & 255) - (int)(b & 255));
	return MAX(dr, MAX(dg, db));
}

/* Does value v (at p in one image) lie, channel by channel, within the range
 * of the pixels within r of p in the other image (widened by threshold)? An
 * exact neighbour matches, and so does an antialiased mix of neighbours, as
 * when one rasteriser covers an edge pixel partly and the other fully. A
 * stroke or glyph missing from the other image is still a difference: its
 * neighbourhood there is all paper. */
static bool matched(guint32 v, const unsigned char *o, int stride, int w, int h, int x,
                    int y, int r, int threshold)
{
	if (delta(v, px(o, stride, x, y)) <= threshold)
		return true;
	int lo[3] = {255, 255, 255}, hi[3] = {0, 0, 0};
	for (int yy = MAX(0, y - r); yy <= MIN(h - 1, y + r); yy++)
		for (int xx = MAX(0, x - r); xx <= MIN(w - 1, x + r); xx++) {
			guint32 c = px(o, stride, xx, yy);
			for (int k = 0; k < 3; k++) {
				int ch = (int)((c >> (16 - 8 * k)) & 255);
				lo[k] = MIN(lo[k], ch);
				hi[k] = MAX(hi[k], ch);
			}
		}
	for (int k = 0; k < 3; k++) {
		int ch = (int)((v >> (16 - 8 * k)) & 255);
		if (ch < lo[k] - threshold || ch > hi[k] + threshold)
			return false;
	}
	return true;
}

/* Rows or columns one image has beyond the other must be blank paper. */
static bool extra_is_white(cairo_surface_t *s, int w, int h)
{
	int W = cairo_image_surface_get_width(s), H = cairo_image_surface_get_height(s);
	int stride = cairo_image_surface_get_stride(s);
	const unsigned char *d = cairo_image_surface_get_data(s);
	for (int y = 0; y < H; y++)
		for (int x = (y < h ? w : 0); x < W; x++)
			if (delta(px(d, stride, x, y), 0xffffff) > 16)
				return false;
	return true;
}

static bool ignored(int x, int y, const ic_box *ignore, size_t n, double dpi)
{
	double k = MM_PER_INCH / dpi, pad = k; /* one pixel of antialiasing */
	for (size_t i = 0; i < n; i++) {
		const ic_box *b = &ignore[i];
		if ((x + 1) * k > b->x - pad && x * k < b->x + b->w + pad &&
		    (y + 1) * k > b->y - pad && y * k < b->y + b->h + pad)
			return true;
	}
	return false;
}

bool ic_compare(cairo_surface_t *actual, cairo_surface_t *expected,
                const ic_tolerance *tol, const ic_box *ignore, size_t n_ignore,
                double dpi, ic_diff *d)
{
	memset(d, 0, sizeof *d);
	cairo_surface_flush(actual);
	cairo_surface_flush(expected);
	int aw = cairo_image_surface_get_width(actual), ah = cairo_image_surface_get_height(actual);
	int ew = cairo_image_surface_get_width(expected);
	int eh = cairo_image_surface_get_height(expected);
	int w = MIN(aw, ew), h = MIN(ah, eh);
	if (abs(aw - ew) > tol->size_slack || abs(ah - eh) > tol->size_slack ||
	    !extra_is_white(actual, w, h) || !extra_is_white(expected, w, h))
		d->size_problem = g_strdup_printf("the image is %d × %d px, the reference "
		                                  "%d × %d px", aw, ah, ew, eh);
	d->width = w;
	d->height = h;
	d->mask = g_malloc0((size_t)MAX(w, 1) * (size_t)MAX(h, 1));
	d->x0 = w;
	d->y0 = h;
	const unsigned char *a = cairo_image_surface_get_data(actual);
	const unsigned char *e = cairo_image_surface_get_data(expected);
	int as = cairo_image_surface_get_stride(actual);
	int es = cairo_image_surface_get_stride(expected);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			guint32 va = px(a, as, x, y), ve = px(e, es, x, y);
			int dl = delta(va, ve);
			if (dl <= tol->threshold || ignored(x, y, ignore, n_ignore, dpi))
				continue;
			if (tol->radius > 0 &&
			    matched(va, e, es, w, h, x, y, tol->radius, tol->threshold) &&
			    matched(ve, a, as, w, h, x, y, tol->radius, tol->threshold))
				continue;
			d->mask[(size_t)y * (size_t)w + (size_t)x] = 1;
			d->differing++;
			d->max_delta = MAX(d->max_delta, dl);
			d->x0 = MIN(d->x0, x);
			d->y0 = MIN(d->y0, y);
			d->x1 = MAX(d->x1, x + 1);
			d->y1 = MAX(d->y1, y + 1);
		}
	return !d->size_problem && d->differing <= tol->max_pixels;
}

void ic_diff_clear(ic_diff *d)
{
	if (!d)
		return;
	g_free(d->mask);
	g_free(d->size_problem);
	memset(d, 0, sizeof *d);
}

cairo_surface_t *ic_diff_image(cairo_surface_t *actual, const ic_diff *d)
{
	int w = MAX(d->width, 1), h = MAX(d->height, 1);
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	cairo_surface_flush(s);
	unsigned char *o = cairo_image_surface_get_data(s);
	int os = cairo_image_surface_get_stride(s);
	const unsigned char *a = cairo_image_surface_get_data(actual);
	int as = cairo_image_surface_get_stride(actual);
	for (int y = 0; y < d->height; y++)
		for (int x = 0; x < d->width; x++) {
			guint32 v = px(a, as, x, y), out;
			if (d->mask[(size_t)y * (size_t)d->width + (size_t)x]) {
				out = 0xff0000;
			} else {
				/* a quarter of the ink, so red stands out on any colour */
				guint32 r = 255 - (255 - ((v >> 16) & 255)) / 4;
				guint32 g = 255 - (255 - ((v >> 8) & 255)) / 4;
				guint32 b = 255 - (255 - (v & 255)) / 4;
				out = (r << 16) | (g << 8) | b;
			}
			((guint32 *)(o + (size_t)y * (size_t)os))[x] = out;
		}
	cairo_surface_mark_dirty(s);
	return s;
}

char *ic_item_name(const cp_page *pg, size_t i)
{
	static const char *const kinds[] = {"text", "field", "photo", "qr",
	                                    "seal", "image", "line", "rect"};
	size_t n;
	const cp_page_item *it = &cp_page_items(pg, &n)[i];
	const cp_element *el = it->el;
	const char *k = (unsigned)it->kind < G_N_ELEMENTS(kinds) ? kinds[it->kind] : "?";
	return g_strdup_printf("[%s%s%s] (line %ld)", k, el->name ? " " : "",
	                       el->name ? el->name : "", el->line);
}

/* An item's box in page mm, normalised (a line's may run backwards) and grown
 * by pad so that antialiased edges and strokes belong to it. */
static ic_box item_box(const cp_page_item *it, double pad)
{
	double x0 = MIN(it->x, it->x + it->w), x1 = MAX(it->x, it->x + it->w);
	double y0 = MIN(it->y, it->y + it->h), y1 = MAX(it->y, it->y + it->h);
	if (it->kind == CP_EL_LINE || it->kind == CP_EL_RECT)
		pad += it->el->stroke / 2;
	return (ic_box){x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad};
}

typedef struct hit {
	size_t item;
	long count;
} hit;

static int by_count(const void *a, const void *b)
{
	const hit *x = a, *y = b;
	return (y->count > x->count) - (y->count < x->count);
}

char *ic_describe(const ic_diff *d, double dpi, double origin_x_mm, double origin_y_mm,
                  const cp_page *pg, double shift_x_mm, double shift_y_mm)
{
	if (d->differing == 0)
		return g_strdup("no differing pixels");
	double k = MM_PER_INCH / dpi;
	GString *s = g_string_new(NULL);
	g_string_append_printf(s, "differences in x %.1f–%.1f mm, y %.1f–%.1f mm of the page",
	                       origin_x_mm + d->x0 * k, origin_x_mm + d->x1 * k,
	                       origin_y_mm + d->y0 * k, origin_y_mm + d->y1 * k);
	if (!pg)
		return g_string_free(s, FALSE);
	size_t n;
	const cp_page_item *items = cp_page_items(pg, &n);
	hit *hits = g_new0(hit, n);
	long outside = 0;
	for (int y = d->y0; y < d->y1; y++)
		for (int x = d->x0; x < d->x1; x++) {
			if (!d->mask[(size_t)y * (size_t)d->width + (size_t)x])
				continue;
			/* the pixel's centre, in template coordinates */
			double mx = origin_x_mm + (x + 0.5) * k - shift_x_mm;
			double my = origin_y_mm + (y + 0.5) * k - shift_y_mm;
			bool any = false;
			for (size_t i = 0; i < n; i++) {
				ic_box b = item_box(&items[i], 0.5);
				if (!(mx >= b.x && mx < b.x + b.w && my >= b.y && my < b.y + b.h))
					continue;
				/* a frame owns its outline, not what it encloses */
				const cp_element *el = items[i].el;
				double in = el->stroke + 1.0;
				if (items[i].kind == CP_EL_RECT && !el->has_fill &&
				    mx > b.x + in && mx < b.x + b.w - in && my > b.y + in &&
				    my < b.y + b.h - in)
					continue;
				hits[i].item = i;
				hits[i].count++;
				any = true;
			}
			outside += !any;
		}
	qsort(hits, n, sizeof *hits, by_count);
	int listed = 0;
	for (size_t i = 0; i < n && hits[i].count > 0; i++) {
		if (listed == 8) {
			g_string_append(s, ", …");
			break;
		}
		char *name = ic_item_name(pg, hits[i].item);
		g_string_append_printf(s, "%s %ld px in %s", listed ? "," : ";", hits[i].count,
		                       name);
		g_free(name);
		listed++;
	}
	if (outside)
		g_string_append_printf(s, "%s %ld px outside every element", listed ? "," : ";",
		                       outside);
	g_free(hits);
	return g_string_free(s, FALSE);
}

cairo_surface_t *ic_render(cp_engine *e, const cp_page *pg, const cp_template *t,
                           const cp_output_opts *o, double dpi, const double *crop)
{
	cairo_surface_t *s;
	cairo_t *cr = NULL;
	if (!crop) {
		/* The product's own raster page, so the goldens cover it too. */
		cp_error *err = NULL;
		s = cp_raster_new(cp_template_page_width_mm(t), cp_template_page_height_mm(t),
		                  dpi, &cr, &err);
		if (err) {
			char *m = cp_error_format(err);
			g_test_message("cp_raster_new: %s", m);
			g_free(m);
		}
		g_assert_nonnull(s);
	} else {
		int w = (int)ceil(crop[2] / MM_PER_INCH * dpi);
		int h = (int)ceil(crop[3] / MM_PER_INCH * dpi);
		s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
		cr = cairo_create(s);
		cairo_set_source_rgb(cr, 1, 1, 1);
		cairo_paint(cr);
		cairo_scale(cr, dpi / MM_PER_INCH, dpi / MM_PER_INCH);
		cairo_translate(cr, -crop[0], -crop[1]);
	}
	cp_engine_draw(e, pg, cr, o);
	g_assert_cmpint(cairo_status(cr), ==, CAIRO_STATUS_SUCCESS);
	cairo_destroy(cr);
	cairo_surface_flush(s);
	return s;
}

cairo_surface_t *ic_load_png(const char *path, char **why)
{
	cairo_surface_t *s = cairo_image_surface_create_from_png(path);
	cairo_status_t st = cairo_surface_status(s);
	if (st != CAIRO_STATUS_SUCCESS) {
		*why = g_strdup_printf("cannot read %s: %s", path,
		                       st == CAIRO_STATUS_FILE_NOT_FOUND
		                               ? "no such file"
		                               : cairo_status_to_string(st));
		cairo_surface_destroy(s);
		return NULL;
	}
	cairo_surface_flush(s);
	return s;
}

/* The pixel rectangle [x0,x1) × [y0,y1) covering a box, clipped to the image. */
static void pixel_rect(cairo_surface_t *s, double dpi, double x, double y, double w,
                       double h, int *x0, int *y0, int *x1, int *y1)
{
	int W = cairo_image_surface_get_width(s), H = cairo_image_surface_get_height(s);
	double k = dpi / MM_PER_INCH;
	*x0 = (int)CLAMP(floor(x * k), 0, W);
	*y0 = (int)CLAMP(floor(y * k), 0, H);
	*x1 = (int)CLAMP(ceil((x + w) * k), 0, W);
	*y1 = (int)CLAMP(ceil((y + h) * k), 0, H);
}

static inline bool is_ink(guint32 c, int level)
{
	return (int)((c >> 16) & 255) < level || (int)((c >> 8) & 255) < level ||
	       (int)(c & 255) < level;
}

long ic_ink_in(cairo_surface_t *s, double dpi, double x, double y, double w, double h,
               int level)
{
	int x0, y0, x1, y1;
	pixel_rect(s, dpi, x, y, w, h, &x0, &y0, &x1, &y1);
	const unsigned char *d = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	long n = 0;
	for (int py = y0; py < y1; py++)
		for (int pxx = x0; pxx < x1; pxx++)
			n += is_ink(px(d, stride, pxx, py), level);
	return n;
}

long ic_red_in(cairo_surface_t *s, double dpi, double x, double y, double w, double h)
{
	int x0, y0, x1, y1;
	pixel_rect(s, dpi, x, y, w, h, &x0, &y0, &x1, &y1);
	const unsigned char *d = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	long n = 0;
	for (int py = y0; py < y1; py++)
		for (int pxx = x0; pxx < x1; pxx++) {
			guint32 c = px(d, stride, pxx, py);
			int r = (c >> 16) & 255, g = (c >> 8) & 255, b = c & 255;
			n += r > 150 && g < 110 && b < 110;
		}
	return n;
}

long ic_ink_outside(cairo_surface_t *s, double dpi, const ic_box *area,
                    const ic_box *boxes, size_t n, double pad_mm, int level,
                    ic_box *where)
{
	int x0, y0, x1, y1;
	pixel_rect(s, dpi, area->x, area->y, area->w, area->h, &x0, &y0, &x1, &y1);
	const unsigned char *d = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	double k = MM_PER_INCH / dpi;
	long count = 0;
	int bx0 = x1, by0 = y1, bx1 = x0, by1 = y0;
	for (int py = y0; py < y1; py++)
		for (int pxx = x0; pxx < x1; pxx++) {
			if (!is_ink(px(d, stride, pxx, py), level))
				continue;
			/* a pixel belongs to a box when any part of it does */
			double mx0 = pxx * k, mx1 = (pxx + 1) * k;
			double my0 = py * k, my1 = (py + 1) * k;
			bool inside = false;
			for (size_t i = 0; i < n && !inside; i++) {
				const ic_box *b = &boxes[i];
				inside = mx1 > b->x - pad_mm && mx0 < b->x + b->w + pad_mm &&
				         my1 > b->y - pad_mm && my0 < b->y + b->h + pad_mm;
			}
			if (inside)
				continue;
			count++;
			bx0 = MIN(bx0, pxx);
			by0 = MIN(by0, py);
			bx1 = MAX(bx1, pxx + 1);
			by1 = MAX(by1, py + 1);
		}
	if (where)
		*where = count ? (ic_box){bx0 * k, by0 * k, (bx1 - bx0) * k, (by1 - by0) * k}
		               : (ic_box){0, 0, 0, 0};
	return count;
}

char *ic_run(const char *const *argv, char **why)
{
	char *out = NULL, *errout = NULL;
	int status = 0;
	GError *ge = NULL;
	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
	                  &errout, &status, &ge)) {
		*why = g_strdup_printf("cannot run %s: %s", argv[0], ge->message);
		g_error_free(ge);
		return NULL;
	}
	if (!g_spawn_check_wait_status(status, &ge)) {
		*why = g_strdup_printf("%s failed (%s): %s", argv[0], ge->message,
		                       errout ? g_strstrip(errout) : "");
		g_error_free(ge);
		g_free(out);
		g_free(errout);
		return NULL;
	}
	g_free(errout);
	return out;
}

bool ic_have_tools(const char *const *progs, const char **missing)
{
	for (; *progs; progs++) {
		char *p = g_find_program_in_path(*progs);
		g_free(p);
		if (!p) {
			*missing = *progs;
			return false;
		}
	}
	return true;
}

int ic_pdf_rasterise(const char *pdf, double dpi, const char *dir,
                     cairo_surface_t ***pages, char **why)
{
	char *res = g_strdup_printf("%g", dpi);
	char *prefix = g_build_filename(dir, "page", NULL);
	const char *argv[] = {"pdftoppm", "-r", res, "-png", pdf, prefix, NULL};
	char *out = ic_run(argv, why);
	g_free(res);
	if (!out) {
		g_free(prefix);
		return -1;
	}
	g_free(out);
	/* pdftoppm numbers pages with as many digits as the last page needs:
	 * page-1.png … or page-01.png … */
	GPtrArray *a = g_ptr_array_new();
	for (int i = 1;; i++) {
		char *p = NULL;
		for (int digits = 1; digits <= 6 && !p; digits++) {
			char *c = g_strdup_printf("%s-%0*d.png", prefix, digits, i);
			if (g_file_test(c, G_FILE_TEST_EXISTS))
				p = c;
			else
				g_free(c);
		}
		if (!p)
			break;
		cairo_surface_t *s = ic_load_png(p, why);
		g_free(p);
		if (!s) {
			for (guint k = 0; k < a->len; k++)
				cairo_surface_destroy(a->pdata[k]);
			g_ptr_array_free(a, TRUE);
			g_free(prefix);
			return -1;
		}
		g_ptr_array_add(a, s);
	}
	g_free(prefix);
	int n = (int)a->len;
	*pages = (cairo_surface_t **)g_ptr_array_free(a, FALSE);
	return n;
}

/* ------------------------------------------------------------------ batch */

static char *err_text(cp_error *err)
{
	char *m = cp_error_format(err);
	cp_error_free(err);
	return m;
}

ic_batch *ic_batch_load(const char *csv, const char *profile, const char *tmpl,
                        cp_fonts *fonts, char **why)
{
	cp_error *err = NULL;
	ic_batch *b = g_new0(ic_batch, 1);
	cp_reader *r = NULL;
	cp_checker *c = NULL;
	if (!(b->profile = cp_profile_load(profile, &err)) ||
	    !(b->tmpl = cp_template_load(tmpl, &err)) ||
	    !(b->engine = cp_engine_new(b->tmpl, b->profile, fonts, &err)) ||
	    !(r = cp_reader_open(csv, &err)) ||
	    !(c = cp_checker_new(b->profile, cp_reader_dir(r), r, &err)))
		goto fail;
	GArray *recs = g_array_new(FALSE, TRUE, sizeof(cp_record));
	for (;;) {
		cp_record rec = {0};
		int got = cp_reader_next(r, &rec, &err);
		if (got <= 0) {
			cp_record_clear(&rec);
			b->n = recs->len;
			b->recs = (cp_record *)g_array_free(recs, FALSE);
			if (got < 0)
				goto fail;
			break;
		}
		g_array_append_val(recs, rec);
	}
	b->pages = g_new0(cp_page *, b->n ? b->n : 1);
	b->refusal = g_new0(char *, b->n ? b->n : 1);
	for (size_t i = 0; i < b->n; i++) {
		cp_problems ps = {0};
		if (!cp_checker_check(c, &b->recs[i], &ps)) {
			GString *s = g_string_new(NULL);
			for (size_t k = 0; k < ps.len; k++)
				if (ps.items[k].severity == CP_SEV_ERROR)
					g_string_append_printf(s, "%srow %ld, %s: %s (%s)",
					                       s->len ? "; " : "", ps.items[k].row,
					                       ps.items[k].column ? ps.items[k].column
					                                          : "-",
					                       ps.items[k].message, ps.items[k].rule);
			b->refusal[i] = g_string_free(s, FALSE);
		} else if (!(b->pages[i] = cp_engine_layout(b->engine, &b->recs[i], &err))) {
			b->refusal[i] = err_text(err);
			err = NULL;
		}
		cp_problems_clear(&ps);
	}
	cp_checker_free(c);
	cp_reader_free(r);
	return b;
fail:
	*why = err_text(err);
	cp_checker_free(c);
	cp_reader_free(r);
	ic_batch_free(b);
	return NULL;
}

void ic_batch_free(ic_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		/* pages and refusals are allocated only once every record is read */
		cp_page_free(b->pages ? b->pages[i] : NULL);
		if (b->refusal)
			g_free(b->refusal[i]);
		cp_record_clear(&b->recs[i]);
	}
	g_free(b->pages);
	g_free(b->refusal);
	g_free(b->recs);
	cp_engine_free(b->engine);
	cp_template_free(b->tmpl);
	cp_profile_free(b->profile);
	g_free(b);
}
