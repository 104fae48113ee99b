/* SPDX-License-Identifier: MIT */
/*
 * Complete-field checks: nothing a certificate must carry is ever missing
 * from what is printed. The checks are derived from the template's own items
 * (cp_page_items), never written per field, and run on every fixture record
 * of tests/data/golden/records.csv and every record of the shipped sample
 * batch, read with cp_reader, checked with cp_checker and laid out by the
 * engine exactly as the product does:
 *
 *  - full mode: every required [field] (and org_name, the QR code) has ink in
 *    its box, and the photo box shows the record's photo (its pixels, not
 *    just ink: the paste frame is ink too);
 *  - full and fill: the seal area carries no ink but the elements laid over
 *    it; fill (offset 2, -1.5 mm): nothing outside the variable items' boxes,
 *    i.e. nothing of the static layer;
 *  - no mode draws outside the printable area (the template's margin);
 *  - the QR code decodes (zbarimg) to exactly the profile's pattern with the
 *    record's certificate number put in by the test (not by the product's
 *    cp_profile_qr_content()), from the PNG path and from the PDF (pdftoppm);
 *  - the PDF (cp_pdf_writer) has every field value of every page in its text
 *    layer (pdftotext), every font embedded (pdffonts) and every page exactly
 *    595.28 x 841.89 pt (pdfinfo);
 *  - one face per field: within a field's box every character is drawn in
 *    one font (mutool draw -F stext), unless no face of the field's chain
 *    has every character of it;
 *  - the other side: a record missing a field, with a field that cannot fit,
 *    or with a character no font has yields no page, and the reason names
 *    the field or the character.
 */
#include "common/testutil.h"

#include <locale.h>
#include <math.h>
#include <string.h>

#include "common/image_compare.h"
#include "input/image.h"
#include "layout/fonts.h"
#include "layout/layout.h"
#include "layout/template.h"
#include "trust/keys.h"
#include "trust/qrtoken.h"

#include <glib/gstdio.h>
#include <openssl/pem.h>

#include "input/profile.h"

#define DPI 100.0
#define QR_DPI 300.0
#define FILL_DX 2.0
#define FILL_DY (-1.5)
/* Antialiasing of an element's edge may reach this far past its box. */
#define AA_PAD_MM 0.5

typedef struct batch {
	const char *label;
	const char *csv, *profile; /* relative to tests/ */
	ic_batch *b;
	char *load_problem;
	char *dir;                 /* scratch */
	char *pdf;                 /* written on first use */
	char *pdf_problem;
	int npages;                /* pages in the PDF */
	size_t *page_rec;          /* PDF page i holds record page_rec[i] */
	/* The shipped profile plus [signing] qr_signed = yes, with a P-256 key
	 * made for the test: every QR code carries "#cp1.TOKEN". */
	bool signed_qr;
	char *profile_path;        /* absolute, in dir; NULL: tu_path(profile) */
	cp_signer *signer;
	X509 *seal;
} batch;

static cp_fonts *fonts;
static batch batches[] = {
	{.label = "fixtures", .csv = "data/golden/records.csv",
	 .profile = "data/golden/org.conf"},
	{.label = "sample", .csv = "../templates/sample/batch.csv",
	 .profile = "../templates/org.conf"},
	{.label = "signed-qr", .csv = "../templates/sample/batch.csv",
	 .profile = "../templates/org.conf", .signed_qr = true},
};

/* ------------------------------------------------------------------ setup */

static bool loaded(batch *bt)
{
	if (bt->load_problem) {
		g_test_message("%s: %s", bt->label, bt->load_problem);
		g_test_fail();
		return false;
	}
	return true;
}

/* The engine's QR signer for the signed-qr batch. */
static char *sign_qr(const cp_record *rec, const char *url, void *ud, cp_error **err)
{
	batch *bt = ud;
	char *v[CP_QRT_NKEYS];
	cp_qrtoken_fields_of(bt->b->profile, rec, v);
	cp_qrtoken_fields f;
	for (int k = 0; k < CP_QRT_NKEYS; k++)
		f.v[k] = v[k];
	char *out = cp_qrtoken_fragment(bt->signer, &f, url, err);
	for (int k = 0; k < CP_QRT_NKEYS; k++)
		g_free(v[k]);
	return out;
}

/* A P-256 seal and the profile naming it, in bt->dir. */
static void make_signed_profile(batch *bt)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
	                           (const unsigned char *)"test_fields seal", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	g_assert_true(key && X509_sign(x, key, EVP_sha256()) > 0);
	char *kp = g_build_filename(bt->dir, "seal.key", NULL);
	char *cp = g_build_filename(bt->dir, "seal.pem", NULL);
	FILE *f = fopen(kp, "w");
	g_assert_true(f && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	g_assert_cmpint(g_chmod(kp, 0600), ==, 0);
	f = fopen(cp, "w");
	g_assert_true(f && PEM_write_X509(f, x));
	fclose(f);
	EVP_PKEY_free(key);
	bt->seal = x;
	char *src = tu_path(bt->profile), *text = NULL;
	g_assert_true(g_file_get_contents(src, &text, NULL, NULL));
	char *sealpng = tu_path("../templates/seal.png");
	char **parts = g_strsplit(text, "seal = seal.png", 2);
	char *abs_seal = g_strconcat("seal = ", sealpng, NULL);
	char *body = g_strjoinv(abs_seal, parts);
	char *conf = g_strdup_printf("%s\n[signing]\ncertificate = %s\nkey = %s\nqr_signed = yes\n",
	                             body, cp, kp);
	bt->profile_path = g_build_filename(bt->dir, "org.conf", NULL);
	g_assert_true(g_file_set_contents(bt->profile_path, conf, -1, NULL));
	g_strfreev(parts);
	g_free(abs_seal);
	g_free(body);
	g_free(conf);
	g_free(sealpng);
	g_free(text);
	g_free(src);
	cp_error *err = NULL;
	bt->signer = cp_signer_load(cp, kp, NULL, &err);
	tu_assert_no_error(err);
	g_free(kp);
	g_free(cp);
}

static void load(batch *bt)
{
	char *name = g_strconcat("fields-", bt->label, NULL);
	bt->dir = tu_scratch(name);
	g_free(name);
	if (bt->signed_qr)
		make_signed_profile(bt);
	char *csv = tu_path(bt->csv);
	char *org = bt->profile_path ? g_strdup(bt->profile_path) : tu_path(bt->profile);
	char *tmpl = tu_path("../templates/certificate.conf");
	char *why = NULL;
	bt->b = ic_batch_load(csv, org, tmpl, fonts, &why);
	if (!bt->b)
		bt->load_problem = why;
	else if (bt->b->n == 0)
		bt->load_problem = g_strdup_printf("%s has no records", csv);
	else if (bt->signed_qr) {
		/* ic_batch_load() laid the pages out unsigned: again, signed. */
		g_assert_true(cp_profile_qr_signed(bt->b->profile));
		cp_engine_set_qr_signer(bt->b->engine, sign_qr, bt);
		for (size_t i = 0; i < bt->b->n; i++) {
			if (!bt->b->pages[i])
				continue;
			cp_page_free(bt->b->pages[i]);
			cp_error *err = NULL;
			bt->b->pages[i] = cp_engine_layout(bt->b->engine, &bt->b->recs[i], &err);
			tu_assert_no_error(err);
		}
	}
	g_free(csv);
	g_free(org);
	g_free(tmpl);
}

static void unload(batch *bt)
{
	ic_batch_free(bt->b);
	cp_signer_free(bt->signer);
	X509_free(bt->seal);
	g_free(bt->profile_path);
	g_free(bt->load_problem);
	g_free(bt->dir);
	g_free(bt->pdf);
	g_free(bt->pdf_problem);
	g_free(bt->page_rec);
}

static cairo_surface_t *render(batch *bt, size_t i, cp_mode mode, double dx, double dy)
{
	cp_output_opts o;
	cp_output_opts_init(&o);
	o.mode = mode;
	o.offset_x_mm = dx;
	o.offset_y_mm = dy;
	o.dpi = DPI;
	return ic_render(bt->b->engine, bt->b->pages[i], bt->b->tmpl, &o, DPI, NULL);
}

/* Every printable record as one PDF, through the product's PDF writer. */
static bool pdf(batch *bt)
{
	if (bt->pdf || bt->pdf_problem)
		goto done;
	bt->pdf = g_build_filename(bt->dir, "batch.pdf", NULL);
	bt->page_rec = g_new0(size_t, bt->b->n);
	cp_error *err = NULL;
	cp_pdf_writer *w = cp_pdf_writer_new(bt->pdf, cp_template_page_width_mm(bt->b->tmpl),
	                                     cp_template_page_height_mm(bt->b->tmpl), NULL,
	                                     &err);
	tu_assert_no_error(err);
	for (size_t i = 0; i < bt->b->n; i++) {
		if (!bt->b->pages[i])
			continue;
		cairo_t *cr = cp_pdf_writer_begin_page(w, &err);
		tu_assert_no_error(err);
		cp_engine_draw(bt->b->engine, bt->b->pages[i], cr, NULL);
		g_assert_true(cp_pdf_writer_end_page(w, &err));
		bt->page_rec[bt->npages++] = i;
	}
	g_assert_true(cp_pdf_writer_commit(w, &err));
	tu_assert_no_error(err);
	g_test_message("%s: %s, %d pages", bt->label, bt->pdf, bt->npages);
done:
	if (bt->pdf_problem) {
		g_test_message("%s", bt->pdf_problem);
		g_test_fail();
		return false;
	}
	return true;
}

static bool tools(const char *const *progs)
{
	const char *missing = NULL;
	if (ic_have_tools(progs, &missing))
		return true;
	/* scripts/deps.sh installs them on CI; a missing one is a failure
	 * there, not a silent pass */
	g_test_message("%s is not installed (scripts/deps.sh installs poppler-utils, mupdf-tools and "
	               "zbar-tools)", missing);
	g_test_fail();
	return false;
}

static const char *row_name(const batch *bt, size_t i)
{
	const char *n = bt->b->recs[i].value[CP_FIELD_NAME];
	return n ? n : "?";
}

/* ------------------------------------------------------------------ tests */

/* Every record of the batch is accepted by the checker and laid out. */
static void test_printable(gconstpointer data)
{
	batch *bt = (batch *)data;
	if (!loaded(bt))
		return;
	for (size_t i = 0; i < bt->b->n; i++)
		if (!bt->b->pages[i]) {
			g_test_message("%s row %ld refused: %s", bt->label, bt->b->recs[i].row,
			               bt->b->refusal[i]);
			g_test_fail();
		}
}

/* A required value: a [field] bound to a required record field or to the
 * organization's name. */
static bool required_bind(int bind)
{
	if (bind == CP_BIND_ORG_NAME)
		return true;
	return bind >= 0 && bind < CP_FIELD_COUNT && cp_field_required((cp_field)bind);
}

/* The photo box must show the photo, not merely ink (the grey frame marking
 * where a photo is pasted by hand is ink too). Both the rendered box and the
 * photo file are cut into a PHOTO_GX x PHOTO_GY grid of cells over the area
 * where the photo belongs (the box, fitted to the photo's aspect ratio and
 * centred, less PHOTO_INSET_MM of antialiased edge all round), and the cells'
 * mean colours are compared: their correlation (Pearson, over the 3 channels
 * of every cell) must be at least PHOTO_MIN_CORR, and no cell's mean may be
 * more than PHOTO_MAX_DIFF levels away from the photo's in any channel.
 * Measured on the fixtures and the sample at 100 dpi: correlation >= 0.999,
 * largest difference <= 7 levels; a box holding only the paste frame has no
 * variation inside it, correlation 0. The photo file is found from the CSV
 * cell by the test (relative to the CSV's folder) and decoded by cp_image_load. */
#define PHOTO_GX 5
#define PHOTO_GY 7
#define PHOTO_INSET_MM 0.5
#define PHOTO_MIN_CORR 0.95
#define PHOTO_MAX_DIFF 24.0

/* Mean colour (composited on white) of each grid cell over the rectangle
 * x0, y0, w, h (pixels of s): out[3 * (cy * PHOTO_GX + cx) + channel]. */
static void cell_means(cairo_surface_t *s, double x0, double y0, double w, double h,
                       double *out)
{
	cairo_surface_flush(s);
	const unsigned char *d = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	bool alpha = cairo_image_surface_get_format(s) == CAIRO_FORMAT_ARGB32;
	int sw = cairo_image_surface_get_width(s), sh = cairo_image_surface_get_height(s);
	for (int cy = 0; cy < PHOTO_GY; cy++)
		for (int cx = 0; cx < PHOTO_GX; cx++) {
			/* the pixels whose centres lie in the cell */
			int px0 = (int)ceil(x0 + w * cx / PHOTO_GX - 0.5);
			int px1 = (int)ceil(x0 + w * (cx + 1) / PHOTO_GX - 0.5);
			int py0 = (int)ceil(y0 + h * cy / PHOTO_GY - 0.5);
			int py1 = (int)ceil(y0 + h * (cy + 1) / PHOTO_GY - 0.5);
			double sum[3] = {0, 0, 0};
			long n = 0;
			for (int y = MAX(py0, 0); y < MIN(py1, sh); y++)
				for (int x = MAX(px0, 0); x < MIN(px1, sw); x++) {
					guint32 c = *(const guint32 *)(d + (size_t)y * stride + 4 * (size_t)x);
					int white = alpha ? 255 - (int)(c >> 24) : 0; /* premultiplied */
					for (int k = 0; k < 3; k++)
						sum[k] += (double)((c >> (16 - 8 * k)) & 255) + white;
					n++;
				}
			for (int k = 0; k < 3; k++)
				out[3 * (cy * PHOTO_GX + cx) + k] = n ? sum[k] / (double)n : 0;
		}
}

static double correlation(const double *a, const double *b, int n)
{
	double ma = 0, mb = 0;
	for (int i = 0; i < n; i++) {
		ma += a[i] / n;
		mb += b[i] / n;
	}
	double sab = 0, saa = 0, sbb = 0;
	for (int i = 0; i < n; i++) {
		sab += (a[i] - ma) * (b[i] - mb);
		saa += (a[i] - ma) * (a[i] - ma);
		sbb += (b[i] - mb) * (b[i] - mb);
	}
	return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
}

/* True when the photo box of page i (item it) on s (full page at DPI) shows
 * the record's photo; else a test message says how far it is from it. */
static bool photo_shown(const batch *bt, size_t i, cairo_surface_t *s, const cp_page_item *it)
{
	const char *cell = bt->b->recs[i].raw[CP_FIELD_PHOTO];
	char *csv = tu_path(bt->csv), *dir = g_path_get_dirname(csv);
	char *rel = g_strstrip(g_strdup(cell ? cell : ""));
	char *path = g_build_filename(dir, rel, NULL);
	cp_error *err = NULL;
	cairo_surface_t *photo = cp_image_load(path, NULL, &err);
	tu_assert_no_error(err);
	int iw = cairo_image_surface_get_width(photo), ih = cairo_image_surface_get_height(photo);
	/* where the photo belongs: fitted into the box, centred */
	double k = fmin(it->w / iw, it->h / ih);
	double fx = it->x + (it->w - iw * k) / 2, fy = it->y + (it->h - ih * k) / 2;
	double in = PHOTO_INSET_MM, mm_px = DPI / 25.4;
	double want[3 * PHOTO_GX * PHOTO_GY], got[3 * PHOTO_GX * PHOTO_GY];
	cell_means(photo, in / k, in / k, iw - 2 * in / k, ih - 2 * in / k, want);
	cell_means(s, (fx + in) * mm_px, (fy + in) * mm_px, (iw * k - 2 * in) * mm_px,
	           (ih * k - 2 * in) * mm_px, got);
	int n = 3 * PHOTO_GX * PHOTO_GY;
	double corr = correlation(got, want, n), worst = 0;
	for (int j = 0; j < n; j++)
		worst = fmax(worst, fabs(got[j] - want[j]));
	bool ok = corr >= PHOTO_MIN_CORR && worst <= PHOTO_MAX_DIFF;
	g_test_message("%s row %ld: photo %s: correlation %.4f, largest cell difference %.1f",
	               bt->label, bt->b->recs[i].row, rel, corr, worst);
	if (!ok)
		g_test_message("%s row %ld (%s): the photo box does not show the photo %s: "
		               "correlation %.3f (at least %.2f wanted), a cell's mean colour %.0f "
		               "levels off (at most %.0f)", bt->label, bt->b->recs[i].row,
		               row_name(bt, i), path, corr, PHOTO_MIN_CORR, worst, PHOTO_MAX_DIFF);
	cairo_surface_destroy(photo);
	g_free(path);
	g_free(rel);
	g_free(dir);
	g_free(csv);
	return ok;
}

/* Full mode: the box of every required field and the QR code has ink, and
 * the photo box shows the photo (photo_shown()). Boxes are shrunk by 0.2 mm
 * so that a neighbour's antialiased edge or the rule under a field does not
 * count. */
static void test_required_inked(gconstpointer data)
{
	batch *bt = (batch *)data;
	if (!loaded(bt))
		return;
	int checked = 0, pages = 0;
	for (size_t i = 0; i < bt->b->n; i++) {
		if (!bt->b->pages[i])
			continue;
		pages++;
		cairo_surface_t *s = render(bt, i, CP_MODE_FULL, 0, 0);
		size_t n;
		const cp_page_item *items = cp_page_items(bt->b->pages[i], &n);
		for (size_t k = 0; k < n; k++) {
			const cp_page_item *it = &items[k];
			bool need = (it->kind == CP_EL_FIELD && required_bind(it->bind)) ||
			            it->kind == CP_EL_QR ||
			            (it->kind == CP_EL_PHOTO &&
			             cp_profile_photo_policy(bt->b->profile) == CP_PHOTO_PRINTED);
			if (!need)
				continue;
			checked++;
			if (it->kind == CP_EL_PHOTO) {
				if (!photo_shown(bt, i, s, it))
					g_test_fail();
				continue;
			}
			long ink = ic_ink_in(s, DPI, it->x + 0.2, it->y + 0.2, it->w - 0.4,
			                     it->h - 0.4, IC_INK_LEVEL);
			if (ink == 0) {
				char *what = ic_item_name(bt->b->pages[i], k);
				g_test_message("%s row %ld (%s): %s has no ink in full mode%s%s%s",
				               bt->label, bt->b->recs[i].row, row_name(bt, i), what,
				               it->text ? " (value \"" : "", it->text ? it->text : "",
				               it->text ? "\")" : "");
				g_free(what);
				g_test_fail();
			}
		}
		cairo_surface_destroy(s);
	}
	/* 8 required record fields (all but photo and print serial) + org_name
	 * + photo + QR on every page */
	g_test_message("%d boxes checked", checked);
	g_assert_cmpint(checked, >=, 11 * pages);
}

/* The items' boxes (grown by pad, moved by dx, dy) except those for which
 * skip returns true. g_free(). */
static ic_box *boxes(const cp_page *pg, bool (*skip)(const cp_page_item *), double dx,
                     double dy, size_t *nb)
{
	size_t n;
	const cp_page_item *items = cp_page_items(pg, &n);
	ic_box *b = g_new(ic_box, 4 * (n ? n : 1));
	*nb = 0;
	for (size_t k = 0; k < n; k++) {
		if (skip(&items[k]))
			continue;
		const cp_page_item *it = &items[k];
		double x0 = MIN(it->x, it->x + it->w) + dx, y0 = MIN(it->y, it->y + it->h) + dy;
		double w = fabs(it->w), h = fabs(it->h);
		double st = (it->kind == CP_EL_LINE || it->kind == CP_EL_RECT) ? it->el->stroke : 0;
		if (it->kind == CP_EL_RECT && !it->el->has_fill) {
			/* a frame covers its outline, not what it encloses */
			b[(*nb)++] = (ic_box){x0 - st / 2, y0 - st / 2, w + st, st};
			b[(*nb)++] = (ic_box){x0 - st / 2, y0 + h - st / 2, w + st, st};
			b[(*nb)++] = (ic_box){x0 - st / 2, y0 - st / 2, st, h + st};
			b[(*nb)++] = (ic_box){x0 + w - st / 2, y0 - st / 2, st, h + st};
			continue;
		}
		b[(*nb)++] = (ic_box){x0 - st / 2, y0 - st / 2, w + st, h + st};
	}
	return b;
}

static bool is_seal(const cp_page_item *it)
{
	return it->kind == CP_EL_SEAL;
}

static bool is_static(const cp_page_item *it)
{
	return it->layer == CP_LAYER_STATIC;
}

/* Full and fill mode: the seal is applied by hand on paper, so its area holds
 * no seal red and no ink except the elements laid over it (organization
 * name, date, their labels). */
static void test_seal_area_empty(gconstpointer data)
{
	batch *bt = (batch *)data;
	if (!loaded(bt))
		return;
	for (size_t i = 0; i < bt->b->n; i++) {
		if (!bt->b->pages[i])
			continue;
		size_t n;
		const cp_page_item *items = cp_page_items(bt->b->pages[i], &n);
		for (int m = 0; m < 2; m++) {
			cp_mode mode = m ? CP_MODE_FILL : CP_MODE_FULL;
			double dx = m ? FILL_DX : 0, dy = m ? FILL_DY : 0;
			cairo_surface_t *s = render(bt, i, mode, dx, dy);
			size_t nb;
			ic_box *others = boxes(bt->b->pages[i], is_seal, dx, dy, &nb);
			for (size_t k = 0; k < n; k++) {
				if (items[k].kind != CP_EL_SEAL)
					continue;
				ic_box area = {items[k].x + dx, items[k].y + dy, items[k].w, items[k].h};
				long red = ic_red_in(s, DPI, area.x, area.y, area.w, area.h);
				ic_box where;
				long ink = ic_ink_outside(s, DPI, &area, others, nb, AA_PAD_MM,
				                          IC_INK_LEVEL, &where);
				if (red || ink) {
					g_test_message("%s row %ld, %s mode: the seal area has %ld seal-red "
					               "pixels and %ld ink pixels outside the elements "
					               "over it (x %.1f–%.1f, y %.1f–%.1f mm)", bt->label,
					               bt->b->recs[i].row, cp_mode_name(mode), red, ink,
					               where.x, where.x + where.w, where.y,
					               where.y + where.h);
					g_test_fail();
				}
			}
			g_free(others);
			cairo_surface_destroy(s);
		}
	}
}

/* Fill mode prints on pre-printed stock: nothing of the static layer, i.e.
 * no ink outside the variable items' boxes, at the printer offset. */
static void test_fill_no_static(gconstpointer data)
{
	batch *bt = (batch *)data;
	if (!loaded(bt))
		return;
	double W = cp_template_page_width_mm(bt->b->tmpl);
	double H = cp_template_page_height_mm(bt->b->tmpl);
	for (size_t i = 0; i < bt->b->n; i++) {
		if (!bt->b->pages[i])
			continue;
		cairo_surface_t *s = render(bt, i, CP_MODE_FILL, FILL_DX, FILL_DY);
		size_t nb;
		ic_box *var = boxes(bt->b->pages[i], is_static, FILL_DX, FILL_DY, &nb);
		ic_box page = {0, 0, W, H}, where;
		long ink = ic_ink_outside(s, DPI, &page, var, nb, AA_PAD_MM, IC_INK_LEVEL, &where);
		if (ink) {
			g_test_message("%s row %ld, fill mode: %ld ink pixels outside every variable "
			               "element (x %.1f–%.1f, y %.1f–%.1f mm): the static layer "
			               "is printed", bt->label, bt->b->recs[i].row, ink, where.x,
			               where.x + where.w, where.y, where.y + where.h);
			g_test_fail();
		}
		/* and the variable layer is there */
		g_assert_cmpint(ic_ink_in(s, DPI, 0, 0, W, H, IC_INK_LEVEL), >, 1000);
		g_free(var);
		cairo_surface_destroy(s);
	}
}

/* No mode draws in the margin the template declares non-printable. */
static void test_inside_printable_area(gconstpointer data)
{
	batch *bt = (batch *)data;
	if (!loaded(bt))
		return;
	double W = cp_template_page_width_mm(bt->b->tmpl);
	double H = cp_template_page_height_mm(bt->b->tmpl);
	double mg = bt->b->tmpl->margin;
	g_assert_cmpfloat(mg, >, 0);
	ic_box page = {0, 0, W, H}, printable = {mg, mg, W - 2 * mg, H - 2 * mg};
	static const struct {
		cp_mode mode;
		double dx, dy;
	} modes[] = {{CP_MODE_FULL, 0, 0},
	             {CP_MODE_FILL, FILL_DX, FILL_DY},
	             {CP_MODE_ELECTRONIC, 0, 0}};
	for (size_t i = 0; i < bt->b->n; i++) {
		if (!bt->b->pages[i])
			continue;
		for (size_t m = 0; m < G_N_ELEMENTS(modes); m++) {
			cairo_surface_t *s = render(bt, i, modes[m].mode, modes[m].dx, modes[m].dy);
			ic_box where;
			/* any ink at all, even faint antialiasing, counts here */
			long ink = ic_ink_outside(s, DPI, &page, &printable, 1, 0, 250, &where);
			if (ink) {
				g_test_message("%s row %ld, %s mode: %ld pixels drawn in the %g mm "
				               "margin (x %.1f–%.1f, y %.1f–%.1f mm)", bt->label,
				               bt->b->recs[i].row, cp_mode_name(modes[m].mode), ink, mg,
				               where.x, where.x + where.w, where.y, where.y + where.h);
				g_test_fail();
			}
			cairo_surface_destroy(s);
		}
	}
}

static const cp_page_item *qr_item(const cp_page *pg)
{
	size_t n;
	const cp_page_item *items = cp_page_items(pg, &n);
	for (size_t k = 0; k < n; k++)
		if (items[k].kind == CP_EL_QR)
			return &items[k];
	return NULL;
}

/* The QR code's text as zbarimg reads it from png, or NULL with *why. */
static char *decode(const char *png, char **why)
{
	/* QR only: zbar's 1-D decoders can find a spurious "barcode" in a page's
	 * text or seal (seen: a Codabar "D$-D" beside the QR of one page). */
	const char *argv[] = {"zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", png, NULL};
	char *out = ic_run(argv, why);
	if (out)
		g_strchomp(out);
	return out;
}

/* The text the QR code must hold, worked out by the test itself and not by
 * cp_profile_qr_content() (which builds what is printed, so comparing with it
 * would pass a wrong URL): the `qr =` line of the profile file as written,
 * with {cert_no} replaced by the certificate number as the CSV cell gives it.
 * Both profiles use only {cert_no} and the numbers are letters and digits, so
 * no escaping applies; any other placeholder fails rather than being guessed.
 * NULL with the reason as a test message and failure. */
static char *expected_qr(const batch *bt, size_t i)
{
	char *path = bt->profile_path ? g_strdup(bt->profile_path) : tu_path(bt->profile);
	char *text = NULL, *want = NULL;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	char **lines = g_strsplit(text, "\n", -1);
	const char *pattern = NULL;
	for (char **l = lines; *l && !pattern; l++) {
		char *t = g_strstrip(*l);
		if (g_str_has_prefix(t, "qr") && g_strstrip(t + 2)[0] == '=')
			pattern = g_strstrip(strchr(t, '=') + 1);
	}
	const char *cert = bt->b->recs[i].raw[CP_FIELD_CERT_NO];
	if (!pattern || !cert)
		g_test_message("%s: %s", path, pattern ? "a record without a certificate number"
		                                       : "no 'qr =' line");
	else if (strstr(pattern, "{name}") || strstr(pattern, "{org}"))
		g_test_message("%s: the QR pattern '%s' uses a placeholder this test does not "
		               "expand; give the fixture {cert_no} only", path, pattern);
	else {
		char **parts = g_strsplit(pattern, "{cert_no}", -1);
		want = g_strjoinv(cert, parts);
		g_strfreev(parts);
	}
	if (!want)
		g_test_fail();
	g_strfreev(lines);
	g_free(text);
	g_free(path);
	return want;
}

static void check_qr(const batch *bt, size_t i, const char *png, const char *path_kind)
{
	char *want = expected_qr(bt, i);
	if (!want)
		return;
	char *why = NULL;
	char *got = decode(png, &why);
	if (!got && strstr(why, "code 4")) { /* zbarimg's "no symbol found" */
		g_free(why);
		why = g_strdup("no QR code found");
	}
	if (got && bt->signed_qr) {
		/* The query address, then "#cp1." and a token that verifies
		 * against the test's seal and signs this row's number and name
		 * as the CSV gives them; what the token holds field by field is
		 * checked independently by tests/qrverify.py (tests/cli/qr.sh). */
		char *prefix = g_strconcat(want, "#" CP_QRTOKEN_PREFIX, NULL);
		const char *problem = NULL;
		cp_verify_result r;
		STACK_OF(X509) *a = sk_X509_new_null();
		sk_X509_push(a, bt->seal);
		cp_qrtoken_verify(got, strlen(got), a, &r);
		sk_X509_free(a);
		const cp_record *rec = &bt->b->recs[i];
		if (!g_str_has_prefix(got, prefix))
			problem = "does not start with the query address and #cp1.";
		else if (r.status != CP_VERIFY_VALID)
			problem = r.reason;
		else if (g_strcmp0(r.cert_no, rec->raw[CP_FIELD_CERT_NO]) != 0 ||
		         g_strcmp0(r.name, rec->raw[CP_FIELD_NAME]) != 0)
			problem = "signs another certificate number or name than the CSV's";
		if (problem) {
			g_test_message("%s row %ld (%s): the signed QR code of the %s %s reads \"%s\": "
			               "%s", bt->label, rec->row, row_name(bt, i), path_kind, png,
			               got, problem);
			g_test_fail();
		}
		cp_verify_result_clear(&r);
		g_free(prefix);
	} else if (!got || strcmp(got, want) != 0) {
		g_test_message("%s row %ld (%s): the QR code of the %s %s %s%s%s, expected "
		               "\"%s\"", bt->label, bt->b->recs[i].row, row_name(bt, i), path_kind,
		               png, got ? "reads \"" : "does not decode: ", got ? got : why,
		               got ? "\"" : "", want);
		g_test_fail();
	}
	g_free(got);
	g_free(why);
	g_free(want);
}

/* The QR code decodes to exactly the profile's content for the record: on a
 * 300 dpi render of its box, and on poppler's 300 dpi render of the PDF. */
static void test_qr_decodes(gconstpointer data)
{
	batch *bt = (batch *)data;
	static const char *const need[] = {"zbarimg", "pdftoppm", NULL};
	if (!loaded(bt) || !tools(need) || !pdf(bt))
		return;
	/* The expectation itself, pinned by a literal: both fixtures start with
	 * certificate S000044000123263000001 and the national query pattern. */
	char *first = expected_qr(bt, 0);
	g_assert_cmpstr(first, ==, "http://jndj.osta.org.cn/?zsbh=S000044000123263000001");
	g_free(first);
	const cp_page_item *q0 = NULL;
	for (size_t i = 0; i < bt->b->n; i++) {
		if (!bt->b->pages[i])
			continue;
		const cp_page_item *q = qr_item(bt->b->pages[i]);
		g_assert_nonnull(q);
		q0 = q;
		double crop[4] = {q->x - 2, q->y - 2, q->w + 4, q->h + 4};
		cp_output_opts o;
		cp_output_opts_init(&o);
		cairo_surface_t *s = ic_render(bt->b->engine, bt->b->pages[i], bt->b->tmpl, &o,
		                               QR_DPI, crop);
		char *png = g_strdup_printf("%s/qr-row%ld.png", bt->dir, bt->b->recs[i].row);
		g_assert_cmpint(cairo_surface_write_to_png(s, png), ==, CAIRO_STATUS_SUCCESS);
		cairo_surface_destroy(s);
		check_qr(bt, i, png, "PNG render");
		g_free(png);
	}
	/* The same box from the PDF: every page cropped to it by pdftoppm
	 * (the template places the QR code identically on every page). */
	double k = QR_DPI / 25.4;
	char *x = g_strdup_printf("%d", (int)floor((q0->x - 2) * k));
	char *y = g_strdup_printf("%d", (int)floor((q0->y - 2) * k));
	char *w = g_strdup_printf("%d", (int)ceil((q0->w + 4) * k));
	char *h = g_strdup_printf("%d", (int)ceil((q0->h + 4) * k));
	char *prefix = g_build_filename(bt->dir, "pdfqr", NULL);
	const char *argv[] = {"pdftoppm", "-r", "300", "-x", x, "-y", y, "-W", w, "-H", h,
	                      "-png", bt->pdf, prefix, NULL};
	char *why = NULL;
	char *out = ic_run(argv, &why);
	if (!out) {
		g_test_message("%s", why);
		g_test_fail();
	}
	for (int p = 0; out && p < bt->npages; p++) {
		char *png = NULL;
		for (int digits = 1; digits <= 3 && !png; digits++) {
			char *c = g_strdup_printf("%s-%0*d.png", prefix, digits, p + 1);
			if (g_file_test(c, G_FILE_TEST_EXISTS))
				png = c;
			else
				g_free(c);
		}
		g_assert_nonnull(png);
		check_qr(bt, bt->page_rec[p], png, "PDF page");
		g_free(png);
	}
	g_free(out);
	g_free(why);
	g_free(prefix);
	g_free(x);
	g_free(y);
	g_free(w);
	g_free(h);
}

static char *strip_space(const char *s)
{
	GString *o = g_string_new(NULL);
	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (!g_unichar_isspace(c))
			g_string_append_unichar(o, c);
	}
	return g_string_free(o, FALSE);
}

/* The text of the PDF's page (1-based) inside an item's box, whitespace
 * removed, or NULL. */
static char *box_text(const batch *bt, int page, const cp_page_item *it)
{
	double k = 72 / 25.4; /* pdftotext crops in points at its default 72 dpi */
	char *pg = g_strdup_printf("%d", page);
	char *x = g_strdup_printf("%d", (int)floor(it->x * k));
	char *y = g_strdup_printf("%d", (int)floor(it->y * k));
	char *w = g_strdup_printf("%d", (int)ceil(it->w * k) + 1);
	char *h = g_strdup_printf("%d", (int)ceil(it->h * k) + 1);
	const char *argv[] = {"pdftotext", "-layout", "-enc", "UTF-8", "-f", pg, "-l", pg,
	                      "-x", x, "-y", y, "-W", w, "-H", h, bt->pdf, "-", NULL};
	char *why = NULL;
	char *out = ic_run(argv, &why);
	char *flat = out ? strip_space(out) : NULL;
	if (!out)
		g_test_message("%s", why);
	g_free(why);
	g_free(out);
	g_free(pg);
	g_free(x);
	g_free(y);
	g_free(w);
	g_free(h);
	return flat;
}

/* The PDF's text layer holds every field value of every page as laid out
 * (the item's text; a wrapped value may break lines, so whitespace is
 * removed on both sides). */
static void test_pdf_text(gconstpointer data)
{
	batch *bt = (batch *)data;
	static const char *const need[] = {"pdftotext", NULL};
	if (!loaded(bt) || !tools(need) || !pdf(bt))
		return;
	const char *argv[] = {"pdftotext", "-layout", "-enc", "UTF-8", bt->pdf, "-", NULL};
	char *why = NULL;
	char *text = ic_run(argv, &why);
	if (!text) {
		g_test_message("%s", why);
		g_test_fail();
		g_free(why);
		return;
	}
	char **pages = g_strsplit(text, "\f", -1);
	g_assert_cmpuint(g_strv_length(pages), >=, (guint)bt->npages);
	int values = 0;
	for (int p = 0; p < bt->npages; p++) {
		size_t i = bt->page_rec[p];
		char *flat = strip_space(pages[p]);
		size_t n;
		const cp_page_item *items = cp_page_items(bt->b->pages[i], &n);
		for (size_t k = 0; k < n; k++) {
			if (items[k].kind != CP_EL_FIELD || !items[k].text || !*items[k].text)
				continue;
			char *v = strip_space(items[k].text);
			values++;
			bool found = strstr(flat, v) != NULL;
			if (!found && items[k].lines > 1) {
				/* -layout may set a label between the lines of a wrapped
				 * value: read the item's own box then */
				char *box = box_text(bt, p + 1, &items[k]);
				found = box && strstr(box, v);
				g_free(box);
			}
			if (!found) {
				char *what = ic_item_name(bt->b->pages[i], k);
				g_test_message("%s PDF page %d (row %ld): %s \"%s\" is not in the text "
				               "layer", bt->label, p + 1, bt->b->recs[i].row, what,
				               items[k].text);
				g_free(what);
				g_test_fail();
			}
			g_free(v);
		}
		g_free(flat);
	}
	g_test_message("%d values found in the text of %d pages", values, bt->npages);
	g_strfreev(pages);
	g_free(text);
}

/* Every font in the PDF is embedded: pdffonts' "emb" column says yes on
 * every row. */
static void test_pdf_fonts_embedded(gconstpointer data)
{
	batch *bt = (batch *)data;
	static const char *const need[] = {"pdffonts", NULL};
	if (!loaded(bt) || !tools(need) || !pdf(bt))
		return;
	const char *argv[] = {"pdffonts", bt->pdf, NULL};
	char *why = NULL;
	char *out = ic_run(argv, &why);
	if (!out) {
		g_test_message("%s", why);
		g_test_fail();
		g_free(why);
		return;
	}
	char **lines = g_strsplit(out, "\n", -1);
	int fonts_seen = 0;
	for (char **l = lines; *l; l++) {
		if (!**l || g_str_has_prefix(*l, "name ") || g_str_has_prefix(*l, "-----"))
			continue;
		/* name type… encoding emb sub uni object-id generation: the type
		 * may be several words, so count from the end */
		char **tok = g_strsplit_set(g_strstrip(*l), " ", -1);
		GPtrArray *t = g_ptr_array_new();
		for (char **q = tok; *q; q++)
			if (**q)
				g_ptr_array_add(t, *q);
		g_assert_cmpuint(t->len, >=, 6);
		const char *emb = t->pdata[t->len - 5];
		fonts_seen++;
		if (strcmp(emb, "yes") != 0) {
			g_test_message("%s: font not embedded: %s", bt->label, *l);
			g_test_fail();
		}
		g_ptr_array_free(t, TRUE);
		g_strfreev(tok);
	}
	g_test_message("%d fonts, all embedded", fonts_seen);
	g_assert_cmpint(fonts_seen, >, 0);
	g_strfreev(lines);
	g_free(out);
}

/* The number after `key="` in an XML line of mutool's stext, or NAN. */
static double xml_num(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	return p ? g_ascii_strtod(p + strlen(key), NULL) : NAN;
}

/* True when some face of the item's chain (its font list, then the fallback
 * chain) has every character of its text. */
static bool one_face_covers(const cp_page_item *it)
{
	const cp_element *el = it->el;
	char *list = g_strdup_printf("%s, %s", el->font && *el->font ? el->font
	                                                             : CP_FONTS_DEFAULT_FIELD,
	                             CP_FONTS_FALLBACK);
	char **fams = g_strsplit(list, ",", -1);
	bool covers = false;
	for (char **f = fams; *f && !covers; f++) {
		cp_face face = cp_fonts_face(fonts, g_strstrip(*f), el->bold, false);
		covers = true;
		for (const char *p = it->text; *p && covers; p = g_utf8_next_char(p)) {
			gunichar c = g_utf8_get_char(p);
			covers = g_unichar_isspace(c) || cp_face_has(&face, c);
		}
	}
	g_strfreev(fams);
	g_free(list);
	return covers;
}

/* One face per field (issue 16): mutool reads, from the PDF, the font that
 * draws each character; within a field's box every character comes from one
 * font, unless no face of the field's chain has all of its characters. */
static void test_pdf_one_face(gconstpointer data)
{
	batch *bt = (batch *)data;
	static const char *const need[] = {"mutool", NULL};
	if (!loaded(bt) || !tools(need) || !pdf(bt))
		return;
	const char *argv[] = {"mutool", "draw", "-q", "-F", "stext", "-o", "-", bt->pdf, NULL};
	char *why = NULL;
	char *out = ic_run(argv, &why);
	if (!out) {
		g_test_message("%s", why);
		g_test_fail();
		g_free(why);
		return;
	}
	/* fonts[page][item]: the font names seen in the item's box */
	GHashTable ***seen = g_new0(GHashTable **, (size_t)bt->npages);
	char **lines = g_strsplit(out, "\n", -1);
	int page = -1, chars = 0;
	char *font = NULL;
	for (char **l = lines; *l; l++) {
		const char *t = *l;
		while (*t == ' ')
			t++;
		if (g_str_has_prefix(t, "<page ")) {
			page++;
		} else if (g_str_has_prefix(t, "<font name=\"")) {
			g_free(font);
			const char *n = t + strlen("<font name=\"");
			const char *plus = strchr(n, '+'), *q = strchr(n, '"');
			if (plus && plus < q)
				n = plus + 1; /* the subset tag */
			font = g_strndup(n, (gsize)(q - n));
		} else if (g_str_has_prefix(t, "<char ") && page >= 0 && page < bt->npages &&
		           font) {
			double x = xml_num(t, " x=\""), y = xml_num(t, " y=\"");
			double k = 25.4 / 72; /* pt to mm */
			x *= k, y *= k;
			size_t n;
			const cp_page_item *it = cp_page_items(bt->b->pages[bt->page_rec[page]], &n);
			if (!seen[page])
				seen[page] = g_new0(GHashTable *, n);
			for (size_t i = 0; i < n; i++) {
				/* the glyph's origin, nudged off the box edges */
				if (it[i].kind != CP_EL_FIELD || x + 0.1 < it[i].x ||
				    x + 0.1 > it[i].x + it[i].w || y - 0.5 < it[i].y ||
				    y - 0.5 > it[i].y + it[i].h)
					continue;
				if (!seen[page][i])
					seen[page][i] = g_hash_table_new_full(g_str_hash, g_str_equal,
					                                      g_free, NULL);
				g_hash_table_add(seen[page][i], g_strdup(font));
				chars++;
			}
		}
	}
	g_free(font);
	int fields = 0, mixed = 0;
	for (int p = 0; p < bt->npages; p++) {
		size_t n;
		const cp_page_item *it = cp_page_items(bt->b->pages[bt->page_rec[p]], &n);
		for (size_t i = 0; seen[p] && i < n; i++) {
			if (!seen[p][i])
				continue;
			fields++;
			guint nf = g_hash_table_size(seen[p][i]);
			if (nf > 1 && !one_face_covers(&it[i])) {
				mixed++;
			} else if (nf > 1) {
				GString *names = g_string_new(NULL);
				GHashTableIter hi;
				gpointer key;
				g_hash_table_iter_init(&hi, seen[p][i]);
				while (g_hash_table_iter_next(&hi, &key, NULL))
					g_string_append_printf(names, " %s", (const char *)key);
				char *what = ic_item_name(bt->b->pages[bt->page_rec[p]], i);
				g_test_message("%s PDF page %d (row %ld): %s \"%s\" is drawn in %u "
				               "fonts (%s), yet one face has all of it", bt->label,
				               p + 1, bt->b->recs[bt->page_rec[p]].row, what,
				               it[i].text, nf, names->str + 1);
				g_free(what);
				g_string_free(names, TRUE);
				g_test_fail();
			}
			g_hash_table_destroy(seen[p][i]);
		}
		g_free(seen[p]);
	}
	g_test_message("%d characters in %d fields: one font each, %d fields where no face "
	               "has every character", chars, fields, mixed);
	g_assert_cmpint(fields, >, 0);
	g_free(seen);
	g_strfreev(lines);
	g_free(out);
}

/* Every page is exactly A4 as the template says: 595.28 x 841.89 pt (to the
 * hundredth of a point). */
static void test_pdf_page_size(gconstpointer data)
{
	batch *bt = (batch *)data;
	static const char *const need[] = {"pdfinfo", NULL};
	if (!loaded(bt) || !tools(need) || !pdf(bt))
		return;
	char *last = g_strdup_printf("%d", bt->npages);
	const char *argv[] = {"pdfinfo", "-f", "1", "-l", last, bt->pdf, NULL};
	char *why = NULL;
	char *out = ic_run(argv, &why);
	g_free(last);
	if (!out) {
		g_test_message("%s", why);
		g_test_fail();
		g_free(why);
		return;
	}
	char *want = g_strdup_printf("%.2f x %.2f pts",
	                             cp_template_page_width_mm(bt->b->tmpl) / 25.4 * 72,
	                             cp_template_page_height_mm(bt->b->tmpl) / 25.4 * 72);
	g_assert_cmpstr(want, ==, "595.28 x 841.89 pts");
	char **lines = g_strsplit(out, "\n", -1);
	int pages = 0;
	for (char **l = lines; *l; l++) {
		if (!g_str_has_prefix(*l, "Page ") || !strstr(*l, " size:"))
			continue;
		pages++;
		double w = 0, h = 0;
		const char *sz = strstr(*l, " size:") + 6;
		/* pdfinfo prints up to three decimals: 595.276 x 841.89 */
		if (sscanf(sz, " %lf x %lf pts", &w, &h) != 2 || fabs(w - 595.28) > 0.005 ||
		    fabs(h - 841.89) > 0.005) {
			g_test_message("%s: %s (expected %s)", bt->label, *l, want);
			g_test_fail();
		}
	}
	g_assert_cmpint(pages, ==, bt->npages);
	g_free(want);
	g_strfreev(lines);
	g_free(out);
}

/* ------------------------------------------------------- the refusals */

/* A copy of a printable record's values (the layout reads value[] only). */
static void copy_record(const cp_record *from, cp_record *to)
{
	memset(to, 0, sizeof *to);
	to->row = from->row;
	to->level = from->level;
	for (int f = 0; f < CP_FIELD_COUNT; f++)
		to->value[f] = g_strdup(from->value[f]);
}

static void expect_refused(const batch *bt, const cp_record *rec, const char *needle1,
                           const char *needle2, const char *what)
{
	cp_error *err = NULL;
	cp_page *pg = cp_engine_layout(bt->b->engine, rec, &err);
	if (pg) {
		g_test_message("%s: a page was laid out", what);
		cp_page_free(pg);
		g_test_fail();
		return;
	}
	g_assert_nonnull(err);
	char *m = cp_error_format(err);
	g_test_message("%s: refused: %s", what, m);
	if (err->code != CP_E_REFUSED || err->row != rec->row || !strstr(m, needle1) ||
	    (needle2 && !strstr(m, needle2))) {
		g_test_message("%s: expected CP_E_REFUSED naming \"%s\"%s%s%s", what, needle1,
		               needle2 ? " and \"" : "", needle2 ? needle2 : "",
		               needle2 ? "\"" : "");
		g_test_fail();
	}
	g_free(m);
	cp_error_free(err);
}

/* For every [field] of the template bound to a record value: blanking a
 * required one, making it too long for its box, or putting a character no
 * font has into it refuses the record, naming the field (and the code
 * point). */
static void test_refusals_per_field(void)
{
	batch *bt = &batches[0];
	if (!loaded(bt))
		return;
	const cp_record *good = NULL;
	for (size_t i = 0; i < bt->b->n && !good; i++)
		if (bt->b->pages[i])
			good = &bt->b->recs[i];
	g_assert_nonnull(good);
	const cp_template *t = bt->b->tmpl;
	GString *huge = g_string_new(NULL);
	for (int i = 0; i < 200; i++)
		g_string_append(huge, "電");
	int fields = 0;
	for (size_t k = 0; k < t->n; k++) {
		const cp_element *el = &t->el[k];
		if (el->kind != CP_EL_FIELD || el->bind < 0 || el->bind >= CP_FIELD_COUNT)
			continue;
		fields++;
		const char *label = cp_layout_bind_label(el->bind);
		cp_record rec;
		char *what;
		if (el->required) {
			copy_record(good, &rec);
			g_free(rec.value[el->bind]);
			rec.value[el->bind] = NULL;
			what = g_strdup_printf("%s missing", label);
			expect_refused(bt, &rec, label, NULL, what);
			g_free(what);
			cp_record_clear(&rec);
		}
		copy_record(good, &rec);
		g_free(rec.value[el->bind]);
		rec.value[el->bind] = g_strdup(huge->str);
		what = g_strdup_printf("%s too long", label);
		expect_refused(bt, &rec, label, "does not fit", what);
		g_free(what);
		cp_record_clear(&rec);

		copy_record(good, &rec);
		char *v = g_strconcat(rec.value[el->bind] ? rec.value[el->bind] : "",
		                      "\xf4\x8f\xbf\xbd", NULL); /* U+10FFFD */
		g_free(rec.value[el->bind]);
		rec.value[el->bind] = v;
		what = g_strdup_printf("%s with U+10FFFD", label);
		expect_refused(bt, &rec, label, "U+10FFFD", what);
		g_free(what);
		cp_record_clear(&rec);
	}
	g_string_free(huge, TRUE);
	g_assert_cmpint(fields, >=, 8);
}

/* Through the whole path (reader, checker, engine): a record with a missing
 * field, an unfittable name, a private-use character or a character no font
 * has gets no page, and the reason names the field and the character. */
static void test_refusals_from_csv(void)
{
	char *dir = tu_scratch("fields-refused");
	char *src = tu_path("data/golden/photos/a.jpg");
	char *photo = g_build_filename(dir, "a.jpg", NULL);
	char *jpg = NULL;
	gsize len = 0;
	g_assert_true(g_file_get_contents(src, &jpg, &len, NULL));
	g_assert_true(g_file_set_contents(photo, jpg, (gssize)len, NULL));
	char *csv = tu_write(
		dir, "refused.csv",
		"姓名,证件类型,证件号码,职业名称,工种/职业方向,职业技能等级,证书编号,发证日期,照片\n"
		",居民身份证,440305200101010950,电工,维修电工,三级,S000044000123263000001,"
		"2026-11-27,a.jpg\n"
		"MAXIMILIANA ALEXANDRINA KONSTANTINOPOULOU-WOLFESCHLEGELSTEIN,护照,"
		"C8R2TX7N4,电工,维修电工,三级,S000044000123263000002,2026-11-27,a.jpg\n"
		"王\xf3\xb0\x80\x80,居民身份证,440305200101010950,电工,维修电工,三级,"
		"S000044000123263000003,2026-11-27,a.jpg\n"
		"王\xf0\xb0\x80\x80,居民身份证,440305200101010950,电工,维修电工,三级," /* U+30000 */
		"S000044000123263000005,2026-11-27,a.jpg\n"
		"张伟,居民身份证,440305200101010950,电工,维修电工,三级,S000044000123263000004,"
		"2026-11-27,a.jpg\n");
	char *org = tu_path("data/golden/org.conf");
	char *tmpl = tu_path("../templates/certificate.conf");
	char *why = NULL;
	ic_batch *b = ic_batch_load(csv, org, tmpl, fonts, &why);
	if (!b)
		g_test_message("%s", why);
	g_assert_nonnull(b);
	g_assert_cmpuint(b->n, ==, 5);
	static const char *const expect[][2] = {
		{"姓名", "name is blank"},       /* the checker, naming the column */
		{"name (姓名)", "does not fit"}, /* the engine */
		{"姓名", "U+F0000"},             /* the checker: private use */
		{"name (姓名)", "U+30000"},      /* the engine: Ext G, in no font */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(expect); i++) {
		g_test_message("row %ld: %s", b->recs[i].row,
		               b->refusal[i] ? b->refusal[i] : "(printed)");
		g_assert_null(b->pages[i]);
		g_assert_nonnull(b->refusal[i]);
		g_assert_nonnull(strstr(b->refusal[i], expect[i][0]));
		g_assert_nonnull(strstr(b->refusal[i], expect[i][1]));
	}
	/* and a good record after them still prints */
	g_assert_nonnull(b->pages[4]);
	ic_batch_free(b);
	g_free(tmpl);
	g_free(org);
	g_free(csv);
	g_free(jpg);
	g_free(photo);
	g_free(src);
	g_free(dir);
}

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "C.UTF-8"); /* messages hold Chinese text */
	char *cache = tu_scratch("fields-cache-home");
	g_setenv("XDG_CACHE_HOME", cache, TRUE);
	g_free(cache);
	/* Every failure at once: one broken rule shows in several checks, and
	 * together they say which. */
	char **args = g_new0(char *, (size_t)argc + 2);
	memcpy(args, argv, sizeof *argv * (size_t)argc);
	args[argc++] = "--keep-going";
	argv = args;
	g_test_init(&argc, &argv, NULL);
	cp_error *err = NULL;
	fonts = cp_fonts_new(NULL, NULL, &err);
	tu_assert_no_error(err);
	for (size_t i = 0; i < G_N_ELEMENTS(batches); i++)
		load(&batches[i]);

	static const struct {
		const char *name;
		GTestDataFunc fn;
	} checks[] = {
		{"printable", test_printable},
		{"required-inked", test_required_inked},
		{"seal-area-empty", test_seal_area_empty},
		{"fill-no-static", test_fill_no_static},
		{"printable-area", test_inside_printable_area},
		{"qr-decodes", test_qr_decodes},
		{"pdf-text", test_pdf_text},
		{"pdf-fonts-embedded", test_pdf_fonts_embedded},
		{"pdf-page-size", test_pdf_page_size},
		{"pdf-one-face", test_pdf_one_face},
	};
	for (size_t b = 0; b < G_N_ELEMENTS(batches); b++)
		for (size_t c = 0; c < G_N_ELEMENTS(checks); c++) {
			char *path = g_strdup_printf("/fields/%s/%s", batches[b].label,
			                             checks[c].name);
			g_test_add_data_func(path, &batches[b], checks[c].fn);
			g_free(path);
		}
	g_test_add_func("/fields/refused/per-field", test_refusals_per_field);
	g_test_add_func("/fields/refused/csv", test_refusals_from_csv);
	int rc = g_test_run();
	for (size_t i = 0; i < G_N_ELEMENTS(batches); i++)
		unload(&batches[i]);
	cp_fonts_free(fonts);
	g_free(args);
	return rc;
}
