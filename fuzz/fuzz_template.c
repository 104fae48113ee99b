/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "template": the certificate template loader (src/layout/template.c,
 * on top of src/input/conf.c) through cp_template_load() on arbitrary text written
 * to <scratch>/fuzz.template. A copy of templates/seal.png sits beside it as
 * seal.png so that [image] sections naming it can load.
 *
 * Checked beyond "no crash": the error contract, and what the header
 * promises of a loaded template: page size and margin within bounds, every
 * element's box (with half its stroke) inside the printable area, font sizes
 * and line counts within bounds, colours in [0, 1], exactly one photo, QR
 * code and seal, and every required field bound.
 */
#include "fuzz.h"

#include <math.h>

#include "layout/template.h"

static void check_color(const cp_rgba *c, const cp_element *e)
{
	const double v[4] = {c->r, c->g, c->b, c->a};
	for (int i = 0; i < 4; i++)
		if (!(v[i] >= 0 && v[i] <= 1))
			cp_fuzz_fail("element on line %ld: colour component %g", e->line, v[i]);
}

static void check_inside(const cp_template *t, const cp_element *e, double x0,
                         double y0, double x1, double y1)
{
	const double eps = 1e-6;
	if (!(x0 >= t->margin - eps && y0 >= t->margin - eps &&
	      x1 <= t->width - t->margin + eps && y1 <= t->height - t->margin + eps))
		cp_fuzz_fail("element on line %ld (%g,%g)-(%g,%g) outside page %g x %g "
		             "margin %g", e->line, x0, y0, x1, y1, t->width, t->height,
		             t->margin);
}

static void check_element(const cp_template *t, const cp_element *e, bool *bound,
                          int *count)
{
	if ((unsigned)e->kind > CP_EL_RECT)
		cp_fuzz_fail("element kind %d", (int)e->kind);
	count[e->kind]++;
	check_color(&e->color, e);
	if (e->has_fill)
		check_color(&e->fill, e);
	if (e->kind == CP_EL_LINE) {
		double hw = e->stroke / 2;
		check_inside(t, e, fmin(e->x, e->x2) - hw, fmin(e->y, e->y2) - hw,
		             fmax(e->x, e->x2) + hw, fmax(e->y, e->y2) + hw);
		return;
	}
	if (!(e->w > 0 && e->h > 0))
		cp_fuzz_fail("element on line %ld: box %g x %g", e->line, e->w, e->h);
	double hs = e->kind == CP_EL_RECT ? e->stroke / 2 : 0;
	check_inside(t, e, e->x - hs, e->y - hs, e->x + e->w + hs, e->y + e->h + hs);
	if (e->kind == CP_EL_TEXT || e->kind == CP_EL_FIELD) {
		if (!e->font || !*e->font)
			cp_fuzz_fail("text element without a font");
		if (!(e->size >= CP_TEMPLATE_MIN_PT && e->size <= CP_TEMPLATE_MAX_PT &&
		      e->min_size >= CP_TEMPLATE_MIN_PT && e->min_size <= e->size))
			cp_fuzz_fail("sizes %g / %g", e->size, e->min_size);
		if (e->max_lines < 1 || e->max_lines > CP_TEMPLATE_MAX_LINES)
			cp_fuzz_fail("max_lines %d", e->max_lines);
	}
	if (e->kind == CP_EL_TEXT && (!e->text || strlen(e->text) > CP_TEMPLATE_MAX_TEXT))
		cp_fuzz_fail("static text missing or too long");
	if (e->kind == CP_EL_FIELD) {
		if (e->bind < 0 || e->bind >= CP_BIND_COUNT || e->bind == CP_FIELD_PHOTO ||
		    !cp_template_bind_key(e->bind))
			cp_fuzz_fail("field bound to %d", e->bind);
		bound[e->bind] = true;
	}
	if (e->kind == CP_EL_IMAGE &&
	    (!e->file || !g_file_test(e->file, G_FILE_TEST_IS_REGULAR) || !e->modes))
		cp_fuzz_fail("image element without a file or modes");
	if (e->kind == CP_EL_QR && (e->quiet < 4 || e->quiet > 20 || e->ec < 1 || e->ec > 3))
		cp_fuzz_fail("qr quiet %d ec %d", e->quiet, e->ec);
}

int cp_fuzz_template(const uint8_t *data, size_t size)
{
	cp_fuzz_put_seal();
	char *path = cp_fuzz_write("fuzz.template", data, size);
	cp_error *err = NULL;
	cp_template *t = cp_template_load(path, &err);
	cp_fuzz_check_result(t != NULL, err, "cp_template_load");
	g_free(path);
	if (!t)
		return 0;
	double w = cp_template_page_width_mm(t), h = cp_template_page_height_mm(t);
	if (!(w >= CP_TEMPLATE_MIN_PAGE_MM && w <= CP_TEMPLATE_MAX_PAGE_MM &&
	      h >= CP_TEMPLATE_MIN_PAGE_MM && h <= CP_TEMPLATE_MAX_PAGE_MM))
		cp_fuzz_fail("page %g x %g", w, h);
	if (!(t->margin >= 0 && t->margin <= fmin(w, h) / 4))
		cp_fuzz_fail("margin %g", t->margin);
	if (t->n > CP_TEMPLATE_MAX_ELEMENTS)
		cp_fuzz_fail("%zu elements", t->n);
	bool bound[CP_BIND_COUNT] = {false};
	int count[CP_EL_RECT + 1] = {0};
	for (size_t i = 0; i < t->n; i++)
		check_element(t, &t->el[i], bound, count);
	if (count[CP_EL_PHOTO] != 1 || count[CP_EL_QR] != 1 || count[CP_EL_SEAL] != 1)
		cp_fuzz_fail("photo/qr/seal counts %d/%d/%d", count[CP_EL_PHOTO],
		             count[CP_EL_QR], count[CP_EL_SEAL]);
	for (int b = 0; b < CP_FIELD_COUNT; b++)
		if (b != CP_FIELD_PHOTO && cp_field_required((cp_field)b) && !bound[b])
			cp_fuzz_fail("required field %s not bound", cp_field_key((cp_field)b));
	if (!bound[CP_BIND_ORG_NAME])
		cp_fuzz_fail("org_name not bound");
	cp_template_free(t);
	return 0;
}

CP_FUZZ_ENTRY(template)
