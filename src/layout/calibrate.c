/* SPDX-License-Identifier: MIT */
/*
 * The calibration page. Everything is drawn in page millimetres so the same
 * call serves the PDF and the raster writers. Reading it:
 *  - offset: the scales near each edge carry lines labelled -5..+5 mm at
 *    0.5 mm steps; the line labelled v lies at page coordinate REF + v, REF
 *    being 20 mm in from that edge. Measured from the paper edge, the line
 *    that falls at exactly 20 mm names the correction to enter: a printer
 *    that shifts everything 1.5 mm right puts line -1.5 there, and an offset
 *    of -1.5 mm cancels the shift. Both edges read the same when the scale
 *    is right; placing labels that way (not mirrored) is deliberate.
 *  - scale: crosshairs sit 20 mm in from each corner, so their nominal
 *    distance is W - 40 by H - 40; nominal / measured is the scale.
 *
 * Fonts: until the engine hands its private fontconfig set (cp_fonts) to
 * this function, text goes through pango_cairo_create_layout() on the given
 * cairo_t with the family "Noto Sans CJK SC" from the system.
 */
#include <glib.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "certpress.h"
#include "error.h"
#include "i18n.h"

#define FONT_FAMILY "Noto Sans CJK SC"
#define LINE_MM 0.15
#define REF_MM 20.0      /* crosshairs and offset scales sit this far in */
#define MIN_PAGE_MM 100.0

typedef enum { ALIGN_LEFT, ALIGN_CENTER, ALIGN_RIGHT } align;

/* Text with its top edge at y; x is the left, centre or right per a. */
static void text_at(cairo_t *cr, double x, double y, double size_mm, align a, bool bold,
                    const char *s, double wrap_mm)
{
	PangoLayout *l = pango_cairo_create_layout(cr);
	/* Text metrics must not snap to device pixels: the page is read with a
	 * ruler, and must look the same in PDF and PNG. */
	PangoContext *pc = pango_layout_get_context(l);
	cairo_font_options_t *fo = cairo_font_options_create();
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	pango_cairo_context_set_font_options(pc, fo);
	cairo_font_options_destroy(fo);
	pango_context_set_round_glyph_positions(pc, FALSE);
	pango_layout_context_changed(l);
	PangoFontDescription *fd = pango_font_description_new();
	pango_font_description_set_family(fd, FONT_FAMILY);
	pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
	/* Absolute size is in user units, i.e. millimetres here. */
	pango_font_description_set_absolute_size(fd, size_mm * PANGO_SCALE);
	pango_layout_set_font_description(l, fd);
	pango_font_description_free(fd);
	if (wrap_mm > 0) {
		pango_layout_set_width(l, pango_units_from_double(wrap_mm));
		pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	}
	pango_layout_set_text(l, s, -1);
	int w, h;
	pango_layout_get_size(l, &w, &h);
	double dx = a == ALIGN_LEFT ? 0 : a == ALIGN_CENTER ? -pango_units_to_double(w) / 2
	                                                    : -pango_units_to_double(w);
	cairo_move_to(cr, x + dx, y);
	pango_cairo_show_layout(cr, l);
	g_object_unref(l);
}

static void line(cairo_t *cr, double x0, double y0, double x1, double y1)
{
	cairo_move_to(cr, x0, y0);
	cairo_line_to(cr, x1, y1);
	cairo_stroke(cr);
}

static double tick_len(int mm)
{
	return mm % 10 == 0 ? 5.0 : mm % 5 == 0 ? 3.5 : 2.0;
}

static void rulers(cairo_t *cr, double W, double H)
{
	char num[16];
	for (int x = 0; x <= (int)floor(W); x++) {
		double t = tick_len(x);
		line(cr, x, 0, x, t);
		line(cr, x, H, x, H - t);
		if (x % 10 == 0 && x >= 10 && x <= W - 10) {
			g_snprintf(num, sizeof num, "%d", x);
			text_at(cr, x, 5.3, 2.0, ALIGN_CENTER, false, num, 0);
			text_at(cr, x, H - 5.3 - 2.8, 2.0, ALIGN_CENTER, false, num, 0);
		}
	}
	for (int y = 0; y <= (int)floor(H); y++) {
		double t = tick_len(y);
		line(cr, 0, y, t, y);
		line(cr, W, y, W - t, y);
		if (y % 10 == 0 && y >= 10 && y <= H - 10) {
			g_snprintf(num, sizeof num, "%d", y);
			text_at(cr, 5.6, y - 1.4, 2.0, ALIGN_LEFT, false, num, 0);
			text_at(cr, W - 5.6, y - 1.4, 2.0, ALIGN_RIGHT, false, num, 0);
		}
	}
}

static void crosshair(cairo_t *cr, double x, double y)
{
	line(cr, x - 6, y, x + 6, y);
	line(cr, x, y - 6, x, y + 6);
	cairo_new_sub_path(cr);
	cairo_arc(cr, x, y, 3, 0, 2 * G_PI);
	cairo_stroke(cr);
	char label[48];
	g_snprintf(label, sizeof label, "%g, %g", x, y);
	text_at(cr, x + 3.4, y + 0.5, 1.8, ALIGN_LEFT, false, label, 0);
}

/* One offset scale. vertical: the lines are vertical (x = base + v), spread
 * along y from `along`; otherwise horizontal (y = base + v). */
static void offset_scale(cairo_t *cr, bool vertical, double base, double along)
{
	char num[16];
	const int n = (int)(CP_CALIBRATE_SCALE_MM * 2); /* lines every 0.5 mm */
	for (int i = -n; i <= n; i++) {
		double v = i * 0.5, len = i % 2 == 0 ? (i == 0 ? 8 : 6) : 4;
		double c = base + v;
		cairo_set_line_width(cr, i == 0 ? 2 * LINE_MM : LINE_MM);
		if (vertical)
			line(cr, c, along, c, along + len);
		else
			line(cr, along, c, along + len, c);
		/* Labels every 2 mm: at 1 mm they would run into each other. */
		if (i % 4 == 0) {
			g_snprintf(num, sizeof num, "%+d", i / 2);
			if (i == 0)
				g_strlcpy(num, "0", sizeof num);
			if (vertical)
				text_at(cr, c, along - 2.2, 1.5, ALIGN_CENTER, false, num, 0);
			else
				text_at(cr, along - 0.8, c - 1.0, 1.5, ALIGN_RIGHT, false, num, 0);
		}
	}
	cairo_set_line_width(cr, LINE_MM);
}

bool cp_calibrate_draw(cairo_t *cr, double width_mm, double height_mm,
                       const cp_output_opts *o, cp_error **err)
{
	double W = width_mm, H = height_mm;
	if (!(W >= MIN_PAGE_MM && H >= MIN_PAGE_MM && W <= 5000 && H <= 5000)) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("the calibration page needs a page between %g and 5000 mm a side, "
		               "not %g x %g mm"),
		             MIN_PAGE_MM, W, H);
		return false;
	}
	cairo_save(cr);
	if (o) {
		/* p' = (p + offset) * scale, about the page origin (certpress.h). */
		cairo_scale(cr, o->scale_x, o->scale_y);
		cairo_translate(cr, o->offset_x_mm, o->offset_y_mm);
	}
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_set_line_width(cr, LINE_MM);
	cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
	rulers(cr, W, H);

	crosshair(cr, REF_MM, REF_MM);
	crosshair(cr, W - REF_MM, REF_MM);
	crosshair(cr, REF_MM, H - REF_MM);
	crosshair(cr, W - REF_MM, H - REF_MM);
	crosshair(cr, W / 2, H / 2);

	/* Offset scales in the middle of each edge, clear of the crosshairs. */
	offset_scale(cr, true, REF_MM, H / 2 - 34);           /* left */
	offset_scale(cr, true, W - REF_MM, H / 2 - 34);       /* right */
	offset_scale(cr, false, REF_MM, W / 2 - 34);          /* top */
	offset_scale(cr, false, H - REF_MM, W / 2 - 34);      /* bottom */

	char *title = g_strdup_printf("certpress 打印机校准页 / printer calibration page — "
	                              "%g × %g mm",
	                              W, H);
	text_at(cr, W / 2, 28, 3.2, ALIGN_CENTER, true, title, W - 60);
	g_free(title);

	double nx = W - 2 * REF_MM, ny = H - 2 * REF_MM;
	char *how = g_strdup_printf(
		"1. 以“实际大小”（不缩放）打印本页。\n"
		"   Print this page at actual size (no \"fit to page\").\n"
		"2. 偏移：用直尺从纸张左边缘量 20 mm，该处重合的刻线数字即 X 偏移（mm）；"
		"从上边缘同样量出 Y 偏移。右、下边缘的刻度读数应与之相同。\n"
		"   Offset: measure 20 mm from the left paper edge; the number of the line "
		"there is the X offset in mm. Measure from the top edge the same way for Y. "
		"The right and bottom scales should read the same.\n"
		"3. 缩放：量左右两个十字中心的距离（标称 %g mm），X 缩放 = 标称 ÷ 实测；"
		"上下两个十字中心（标称 %g mm）同理得 Y 缩放。\n"
		"   Scale: measure between the left and right crosshair centres (nominal %g mm); "
		"X scale = nominal ÷ measured. Top to bottom (nominal %g mm) gives the Y scale.\n"
		"4. 保存 / Save:\n"
		"   certpress calibrate --printer 名称/NAME --offset X,Y --scale SX,SY --save\n"
		"   然后打印时使用 / then print with: certpress render --printer NAME …",
		nx, ny, nx, ny);
	text_at(cr, 30, H / 2 + 14, 2.6, ALIGN_LEFT, false, how, W - 60);
	g_free(how);
	cairo_restore(cr);

	cairo_status_t st = cairo_status(cr);
	if (st != CAIRO_STATUS_SUCCESS) {
		cp_set_error(err, st == CAIRO_STATUS_NO_MEMORY ? CP_E_NOMEM : CP_E_IO, NULL, 0, 0,
		             NULL, _("drawing the calibration page failed: %s"),
		             cairo_status_to_string(st));
		return false;
	}
	return true;
}
