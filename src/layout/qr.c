/* SPDX-License-Identifier: MIT */
#include "layout/qr.h"

#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <math.h>
#include <qrencode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "i18n.h"

struct cp_qr {
	QRcode *code;
};

/* ------------------------------------------------------- mask selection */

/* libqrencode chooses the mask of a symbol by building and scoring all
 * eight masked symbols a module per byte, which is most of its time (most of
 * all on the larger signed symbols). Here the same choice is made a line of
 * modules at a time: the symbol is encoded once with mask 0 by the library,
 * unmasked, scored for each mask by the rules libqrencode 4.1 applies
 * (qr_mask.inc) with every row and column held in one 64-bit word (two for
 * symbols wider than 64 modules), and, when
 * another mask wins, re-masked in place with the library writing the format
 * information. The result is byte for byte the symbol QRcode_encodeInput()
 * makes (tests/test_qr.c compares them on thousands of random contents);
 * only the time differs. Symbols wider than 128 modules (version 28 and
 * up, far larger than a certificate's) are left to the library.
 *
 * QRcode_encodeMask() and Mask_writeFormatInformation() are not in
 * qrencode.h but are exported by the library and listed in Debian's
 * libqrencode4 symbols file since 3.2.0, so a change of them is an ABI
 * change Debian tracks. */
extern QRcode *QRcode_encodeMask(QRinput *input, int mask);
extern int Mask_writeFormatInformation(int width, unsigned char *frame, int mask,
                                       QRecLevel level);

typedef unsigned __int128 qr_wide;

/* Does mask m invert module (x, y)? ISO/IEC 18004 table 10: the module is
 * inverted where the condition holds. */
static bool mask_inverts(int m, int x, int y)
{
	switch (m) {
	case 0: return (x + y) % 2 == 0;
	case 1: return y % 2 == 0;
	case 2: return x % 3 == 0;
	case 3: return (x + y) % 3 == 0;
	case 4: return (y / 2 + x / 3) % 2 == 0;
	case 5: return (x * y) % 2 + (x * y) % 3 == 0;
	case 6: return ((x * y) % 2 + (x * y) % 3) % 2 == 0;
	default: return ((x * y) % 3 + (x + y) % 2) % 2 == 0;
	}
}

/* The modules each mask inverts, as lines of 128: every mask repeats over
 * 12 rows (row y is rows[m][y % 12], bit x) and over 6 columns (column x is
 * cols[m][x % 6], bit y). Made once. */
static struct {
	qr_wide rows[8][12], cols[8][6];
} patterns;

static gpointer make_patterns(gpointer unused)
{
	for (int m = 0; m < 8; m++) {
		for (int y = 0; y < 12; y++)
			for (int x = 0; x < 128; x++)
				if (mask_inverts(m, x, y))
					patterns.rows[m][y] |= (qr_wide)1 << x;
		for (int x = 0; x < 6; x++)
			for (int y = 0; y < 128; y++)
				if (mask_inverts(m, x, y))
					patterns.cols[m][x] |= (qr_wide)1 << y;
	}
	return NULL;
}

#define QR_BITS 64
#include "layout/qr_mask.inc"
#undef QR_BITS
#define QR_BITS 128
#include "layout/qr_mask.inc"
#undef QR_BITS

/* Re-chooses the mask of c, made with mask 0 by the library, as the library
 * would have, keeping its data with the chosen mask and its format
 * information. false (c unchanged) when c is wider than 128 modules or not
 * as expected. */
static bool choose_mask(QRcode *c, QRecLevel level)
{
	return c->width <= 64 ? choose_mask64(c, level) : choose_mask128(c, level);
}

cp_qr *cp_qr_encode(const char *text, int ec, cp_error **err)
{
	size_t len = text ? strlen(text) : 0;
	if (len == 0) {
		cp_set_error(err, CP_E_REFUSED, NULL, 0, 0, "qr",
		             _("the QR code content is empty"));
		return NULL;
	}
	if (len > CP_QR_MAX_BYTES) {
		cp_set_error(err, CP_E_REFUSED, NULL, 0, 0, "qr",
		             _("the QR code content is %zu bytes long; at most %d fit"),
		             len, CP_QR_MAX_BYTES);
		return NULL;
	}
	QRecLevel level = ec >= 3 ? QR_ECLEVEL_H : ec == 2 ? QR_ECLEVEL_Q : QR_ECLEVEL_M;
	/* Byte mode keeps the URL exactly as given (the alphanumeric mode would
	 * need upper case); version 0 lets the library pick the smallest. Byte
	 * mode has no fixed encoding: non-ASCII content gets an ECI 26 (UTF-8)
	 * header, or decoders guess Shift JIS. */
	QRcode *code = NULL;
	QRinput *in = QRinput_new2(0, level);
	bool ascii = true;
	for (size_t i = 0; i < len; i++)
		ascii = ascii && (unsigned char)text[i] < 0x80;
	if (in && (ascii || QRinput_appendECIheader(in, 26) == 0) &&
	    QRinput_append(in, QR_MODE_8, (int)len, (const unsigned char *)text) == 0)
		code = QRcode_encodeMask(in, 0);
	if (code && !choose_mask(code, level)) {
		/* wider than 128 modules: the library's own choice */
		QRcode_free(code);
		code = QRcode_encodeInput(in);
	}
	if (in)
		QRinput_free(in);
	if (!code) {
		cp_set_error(err, CP_E_REFUSED, NULL, 0, 0, "qr",
		             _("the QR code cannot be encoded: %s"), g_strerror(errno));
		return NULL;
	}
	cp_qr *q = g_new(cp_qr, 1);
	q->code = code;
	return q;
}

void cp_qr_free(cp_qr *q)
{
	if (!q)
		return;
	QRcode_free(q->code);
	g_free(q);
}

int cp_qr_width(const cp_qr *q)
{
	return q->code->width;
}

int cp_qr_version(const cp_qr *q)
{
	return q->code->version;
}

bool cp_qr_dark(const cp_qr *q, int x, int y)
{
	int w = q->code->width;
	if (x < 0 || y < 0 || x >= w || y >= w)
		return false;
	/* libqrencode: bit 0 of each byte is the module colour */
	return q->code->data[(size_t)y * (size_t)w + (size_t)x] & 1;
}

/* Adds one rectangle per horizontal run of dark modules; module (0, 0) is at
 * (ox, oy) and modules are m units wide. Returns the number of runs. */
static int add_runs(const cp_qr *q, cairo_t *cr, double ox, double oy, double m)
{
	int w = q->code->width, runs = 0;
	for (int y = 0; y < w; y++) {
		for (int x = 0; x < w;) {
			if (!cp_qr_dark(q, x, y)) {
				x++;
				continue;
			}
			int x0 = x;
			while (x < w && cp_qr_dark(q, x, y))
				x++;
			if (cr)
				cairo_rectangle(cr, ox + x0 * m, oy + y * m, (x - x0) * m, m);
			runs++;
		}
	}
	return runs;
}

/* The symbol as a CAIRO_FORMAT_A1 surface, one pixel a module, dark = 1;
 * NULL when out of memory. */
static cairo_surface_t *module_mask(const cp_qr *q)
{
	int w = q->code->width;
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_A1, w, w);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(s);
		return NULL;
	}
	cairo_surface_flush(s);
	unsigned char *d = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	const unsigned char *mod = q->code->data; /* bit 0: the module is dark */
	for (int y = 0; y < w; y++, mod += w) {
		/* pixman's a1: 32-bit words in native order, the first pixel in
		 * the least significant bit on little-endian machines. Each word
		 * is put together from its 32 modules without a branch. */
		uint32_t *row = (uint32_t *)(d + (size_t)y * (size_t)stride);
		for (int x0 = 0; x0 < w; x0 += 32) {
			uint32_t word = 0;
			int end = w - x0 < 32 ? w - x0 : 32;
			for (int i = 0; i < end; i++)
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
				word |= (uint32_t)(mod[x0 + i] & 1) << i;
#else
				word |= (uint32_t)(mod[x0 + i] & 1) << (31 - i);
#endif
			row[x0 / 32] = word;
		}
	}
	cairo_surface_mark_dirty(s);
	return s;
}

int cp_qr_run_count(const cp_qr *q)
{
	return add_runs(q, NULL, 0, 0, 0);
}

double cp_qr_module_mm(const cp_qr *q, double w, double h, int quiet)
{
	if (quiet < CP_QR_MIN_QUIET)
		quiet = CP_QR_MIN_QUIET;
	return fmin(w, h) / (q->code->width + 2 * quiet);
}

void cp_qr_draw(const cp_qr *q, cairo_t *cr, double x, double y, double w, double h,
                int quiet, const double *rgba)
{
	if (quiet < CP_QR_MIN_QUIET)
		quiet = CP_QR_MIN_QUIET;
	int n = q->code->width + 2 * quiet;
	double m = fmin(w, h) / n;
	double side = m * n;
	double ox = x + (w - side) / 2, oy = y + (h - side) / 2;

	cairo_save(cr);
	cairo_surface_t *target = cairo_get_target(cr);
	if (cairo_surface_get_type(target) == CAIRO_SURFACE_TYPE_IMAGE) {
		/* Snap to the pixel grid: whole-pixel modules, no grey seams
		 * between runs that confuse a decoder's binariser. */
		double x0 = ox, y0 = oy, x1 = ox + side, y1 = oy + side;
		cairo_user_to_device(cr, &x0, &y0);
		cairo_user_to_device(cr, &x1, &y1);
		double dw = fabs(x1 - x0), dh = fabs(y1 - y0);
		double pm = floor(fmin(dw, dh) / n);
		if (pm >= 1) {
			double px = round(fmin(x0, x1) + (dw - pm * n) / 2);
			double py = round(fmin(y0, y1) + (dh - pm * n) / 2);
			cairo_identity_matrix(cr);
			ox = px + quiet * pm;
			oy = py + quiet * pm;
			cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
			cairo_set_source_rgb(cr, 1, 1, 1);
			cairo_rectangle(cr, px, py, pm * n, pm * n);
			cairo_fill(cr);
			if (rgba)
				cairo_set_source_rgba(cr, rgba[0], rgba[1], rgba[2], rgba[3]);
			else
				cairo_set_source_rgb(cr, 0, 0, 0);
			add_runs(q, cr, ox, oy, pm);
			cairo_fill(cr);
			cairo_restore(cr);
			return;
		}
	}
	/* The quiet zone must be light even on pre-printed artwork. */
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, ox, oy, side, side);
	cairo_fill(cr);
	if (rgba)
		cairo_set_source_rgba(cr, rgba[0], rgba[1], rgba[2], rgba[3]);
	else
		cairo_set_source_rgb(cr, 0, 0, 0);
	if (cairo_surface_get_type(target) == CAIRO_SURFACE_TYPE_PDF) {
		cairo_surface_t *mask = module_mask(q);
		if (mask) {
			/* A 1-bit stencil, one pixel a module, scaled with
			 * nearest-neighbour sampling: Cairo writes it as an
			 * /ImageMask of a few hundred bytes instead of a path of
			 * hundreds of rectangles whose coordinates dominate the
			 * page's content stream, and viewers keep module edges
			 * sharp. */
			cairo_translate(cr, ox + quiet * m, oy + quiet * m);
			cairo_scale(cr, m, m);
			cairo_pattern_t *pat = cairo_pattern_create_for_surface(mask);
			cairo_pattern_set_filter(pat, CAIRO_FILTER_NEAREST);
			cairo_mask(cr, pat);
			cairo_pattern_destroy(pat);
			cairo_surface_destroy(mask);
			cairo_restore(cr);
			return;
		}
	}
	/* One path, one fill: runs share edges, and separate fills would leave
	 * hairline seams in PDF viewers. */
	cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
	add_runs(q, cr, ox + quiet * m, oy + quiet * m, m);
	cairo_fill(cr);
	cairo_restore(cr);
}
