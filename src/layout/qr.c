/* SPDX-License-Identifier: MIT */
#include "layout/qr.h"

#include <errno.h>
#include <glib.h>
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
 * (below) with every row and column held in one 128-bit word, and, when
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

typedef unsigned __int128 qr_line; /* bit x: module x of a line, dark = 1 */
#define QR_LINE_MAX 128

static inline int popcount128(qr_line v)
{
	return __builtin_popcountll((uint64_t)v) + __builtin_popcountll((uint64_t)(v >> 64));
}

static inline int ctz128(qr_line v) /* v != 0 */
{
	uint64_t lo = (uint64_t)v;
	return lo ? __builtin_ctzll(lo) : 64 + __builtin_ctzll((uint64_t)(v >> 64));
}

static inline int top128(qr_line v) /* the highest set bit; v != 0 */
{
	uint64_t hi = (uint64_t)(v >> 64);
	return hi ? 127 - __builtin_clzll(hi) : 63 - __builtin_clzll((uint64_t)v);
}

/* Are the len modules from `from` on all set in v (within 0 … n-1)? */
static inline bool all_set(qr_line v, int from, int len, int n)
{
	if (from < 0 || len <= 0 || from + len > n)
		return false;
	qr_line m = len >= 128 ? ~(qr_line)0 : ((qr_line)1 << len) - 1;
	return ((v >> from) & m) == m;
}

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

/* Rule 3 at one dark run [s, s + 3k): 40 when it is the middle of dark k,
 * light k, dark 3k, light k, dark k runs (1:1:3:1:1) and the pattern has no
 * dark module before it in the line or light for 4k modules before it, or
 * else no dark module after it or light for 4k modules after it. */
static int finder_like(qr_line d, qr_line l, int n, int s, int k)
{
	int a = s - 2 * k, e = s + 5 * k; /* the pattern is [a, e) */
	if (!all_set(l, s - k, k, n) || !all_set(d, a, k, n) || !all_set(l, s + 3 * k, k, n) ||
	    !all_set(d, s + 4 * k, k, n))
		return 0;
	/* the outer dark runs end where the pattern does */
	if ((a > 0 && !((l >> (a - 1)) & 1)) || (e < n && !((l >> e) & 1)))
		return 0;
	if (ctz128(d) == a || all_set(l, a - 4 * k, 4 * k, n) || top128(d) == e - 1 ||
	    all_set(l, e, 4 * k, n))
		return 40;
	return 0;
}

/* The penalty of one row or column of n modules by libqrencode's rules 1
 * and 3. Rule 1: each run of 5 or more modules of one colour costs 3 plus
 * its length beyond 5 (counted as the 5-module windows of one colour, L - 4
 * a run, plus 2 for each run's first window). Rule 3: finder_like() at each
 * dark run that can be the middle of such a pattern. */
static inline __attribute__((always_inline)) int line_penalty(qr_line d, int n)
{
	qr_line valid = n == 128 ? ~(qr_line)0 : ((qr_line)1 << n) - 1;
	d &= valid;
	qr_line l = ~d & valid;
	qr_line same = ~(d ^ (d >> 1)) & (valid >> 1); /* x and x + 1 alike */
	qr_line w5 = same & (same >> 1) & (same >> 2) & (same >> 3);
	qr_line start = ((d ^ (d << 1)) | 1) & valid; /* a run starts at x */
	int p = popcount128(w5) + 2 * popcount128(w5 & start);
	if (n < 7)
		return p;
	/* k = 1: the whole 1011101 pattern, bounded by light or the line's
	 * ends; k >= 2: every dark run of 6 or more from its start. */
	qr_line before = (l << 1) | 1, after = (l >> 7) | ((qr_line)1 << (n - 7));
	qr_line c = d & (l >> 1) & (d >> 2) & (d >> 3) & (d >> 4) & (l >> 5) & (d >> 6) & before &
	            after;
	while (c) {
		int s = ctz128(c);
		c &= c - 1;
		p += finder_like(d, l, n, s + 2, 1);
	}
	qr_line run6 = d & (d >> 1) & (d >> 2) & (d >> 3) & (d >> 4) & (d >> 5) & before;
	while (run6) {
		int s = ctz128(run6);
		run6 &= run6 - 1;
		qr_line rest = l >> s;
		int len = rest ? ctz128(rest) : n - s;
		if (len % 3 == 0)
			p += finder_like(d, l, n, s, len / 3);
	}
	return p;
}

/* The score of a masked symbol, lower is better: rows[y] bit x and
 * cols[x] bit y are module (x, y). Rules 1 and 3 on every row and column;
 * rule 2: every 2 x 2 block of one colour costs 3; rule 4: 10 for every
 * 5 % the dark share (rounded to a whole per cent) is away from 50 %. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
/* With the POPCNT instruction where the processor has it (chosen once at
 * start-up): Debian's baseline x86-64 has none, and its libgcc routine was
 * 1.2 % of a PDF batch. */
__attribute__((target_clones("popcnt", "default")))
#endif
static int symbol_penalty(const qr_line *rows, const qr_line *cols, int n)
{
	int p = 0, dark = 0;
	qr_line inner = (n == 128 ? ~(qr_line)0 : ((qr_line)1 << n) - 1) & ~(qr_line)1;
	for (int y = 0; y < n; y++) {
		dark += popcount128(rows[y]);
		p += line_penalty(rows[y], n) + line_penalty(cols[y], n);
		if (y == 0)
			continue;
		/* blocks whose right-hand column is x = 1 … n - 1 */
		qr_line a = rows[y - 1], b = rows[y], a1 = a << 1, b1 = b << 1;
		p += 3 * popcount128(~(a ^ b) & ~(a1 ^ b1) & ~(b ^ b1) & inner);
	}
	int w2 = n * n;
	int ratio = (200 * dark + w2) / w2 / 2;
	return p + abs(ratio - 50) / 5 * 10;
}

/* The modules each mask inverts, as lines of 128: every mask repeats over
 * 12 rows (row y is rows[m][y % 12], bit x) and over 6 columns (column x is
 * cols[m][x % 6], bit y). Made once. */
static struct {
	qr_line rows[8][12], cols[8][6];
} patterns;

static gpointer make_patterns(gpointer unused)
{
	for (int m = 0; m < 8; m++) {
		for (int y = 0; y < 12; y++)
			for (int x = 0; x < QR_LINE_MAX; x++)
				if (mask_inverts(m, x, y))
					patterns.rows[m][y] |= (qr_line)1 << x;
		for (int x = 0; x < 6; x++)
			for (int y = 0; y < QR_LINE_MAX; y++)
				if (mask_inverts(m, x, y))
					patterns.cols[m][x] |= (qr_line)1 << y;
	}
	return NULL;
}

/* Re-chooses the mask of c, made with mask 0 by the library, as the library
 * would have, keeping its data with the chosen mask and its format
 * information. false (c unchanged) when c is wider than 128 modules or not
 * as expected. */
static bool choose_mask(QRcode *c, QRecLevel level)
{
	static GOnce once = G_ONCE_INIT;
	g_once(&once, make_patterns, NULL);
	int n = c->width;
	if (n < 21 || n > QR_LINE_MAX)
		return false;
	/* Unmasked colours (U, by row and by column), the modules a mask
	 * inverts (D: not function patterns) and where the format
	 * information goes. qrencode.h: bit 7 of a module marks function
	 * patterns, bit 2 the format information, bit 0 the colour. */
	qr_line U[QR_LINE_MAX] = {0}, D[QR_LINE_MAX] = {0};
	qr_line Uc[QR_LINE_MAX] = {0}, Dc[QR_LINE_MAX] = {0};
	int fpos[30], nf = 0;
	for (int y = 0; y < n; y++) {
		const unsigned char *row = c->data + (size_t)y * (size_t)n;
		for (int x = 0; x < n; x++) {
			if ((row[x] & 0x84) == 0x84) {
				if (nf == 30)
					return false;
				fpos[nf++] = y * n + x;
			}
		}
	}
	/* Lines built from their last module back, one bit shift a module. */
	for (int i = 0; i < n; i++) {
		qr_line u = 0, dr = 0, uc = 0, dc = 0;
		const unsigned char *row = c->data + (size_t)i * (size_t)n;
		const unsigned char *col = c->data + (size_t)i;
		for (int j = n - 1; j >= 0; j--) {
			unsigned char v = row[j], w = col[(size_t)j * (size_t)n];
			u = (u << 1) | (qr_line)((v & 0x84) != 0x84 && (v & 1));
			dr = (dr << 1) | (qr_line)!(v & 0x80);
			uc = (uc << 1) | (qr_line)((w & 0x84) != 0x84 && (w & 1));
			dc = (dc << 1) | (qr_line)!(w & 0x80);
		}
		U[i] = u, D[i] = dr, Uc[i] = uc, Dc[i] = dc;
	}
	if (nf != 30)
		return false;
	for (int i = 0; i < n; i++) { /* mask 0 off */
		U[i] ^= patterns.rows[0][i % 12] & D[i];
		Uc[i] ^= patterns.cols[0][i % 6] & Dc[i];
	}
	unsigned char *fmt = g_malloc((size_t)n * (size_t)n);
	qr_line R[QR_LINE_MAX], C[QR_LINE_MAX];
	int best = 0, best_p = 0;
	for (int m = 0; m < 8; m++) {
		for (int i = 0; i < n; i++) {
			R[i] = U[i] ^ (patterns.rows[m][i % 12] & D[i]);
			C[i] = Uc[i] ^ (patterns.cols[m][i % 6] & Dc[i]);
		}
		Mask_writeFormatInformation(n, fmt, m, level);
		for (int i = 0; i < nf; i++) {
			if (fmt[fpos[i]] & 1) {
				int x = fpos[i] % n, y = fpos[i] / n;
				R[y] |= (qr_line)1 << x;
				C[x] |= (qr_line)1 << y;
			}
		}
		int p = symbol_penalty(R, C, n);
		if (m == 0 || p < best_p)
			best = m, best_p = p;
	}
	g_free(fmt);
	if (best != 0) {
		for (int y = 0; y < n; y++) {
			qr_line flip = (patterns.rows[0][y % 12] ^ patterns.rows[best][y % 12]) & D[y];
			while (flip) {
				c->data[(size_t)y * (size_t)n + (size_t)ctz128(flip)] ^= 1;
				flip &= flip - 1;
			}
		}
		Mask_writeFormatInformation(n, c->data, best, level);
	}
	return true;
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
	for (int y = 0; y < w; y++) {
		/* pixman's a1: 32-bit words in native order, the first pixel in
		 * the least significant bit on little-endian machines. */
		uint32_t *row = (uint32_t *)(d + (size_t)y * (size_t)stride);
		for (int x = 0; x < w; x++) {
			if (!cp_qr_dark(q, x, y))
				continue;
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
			row[x / 32] |= 1u << (x % 32);
#else
			row[x / 32] |= 0x80000000u >> (x % 32);
#endif
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
