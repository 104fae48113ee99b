/* SPDX-License-Identifier: MIT */
#include "common/testutil.h"

#include <glib/gstdio.h>
#include <string.h>

#include "error.h"
#include "input/image.h"

/* Three A4 pages with metadata: poppler reads 3 pages of 595.28 x 841.89 pt
 * and the title; qpdf finds no error; the catalog carries PrintScaling /None;
 * a JPEG drawn on every page is embedded once, byte for byte. */
static void test_three_pages(void)
{
	char *dir = tu_scratch("pdf-three");
	char *path = g_build_filename(dir, "batch.pdf", NULL);
	char *photo_path = tu_path("data/image/photo.jpg");
	cp_error *err = NULL;
	cairo_surface_t *photo = cp_image_load(photo_path, NULL, &err);
	tu_assert_no_error(err);
	cp_doc_info info = {.title = "职业技能等级证书", .author = "certpress test",
	                    .subject = "batch", .creator = "certpress", .keywords = "a, b"};
	g_setenv("SOURCE_DATE_EPOCH", "1767225600", TRUE); /* 2026-01-01 UTC */
	cp_pdf_writer *w = cp_pdf_writer_new(path, 210, 297, &info, &err);
	g_unsetenv("SOURCE_DATE_EPOCH");
	tu_assert_no_error(err);
	for (int i = 0; i < 3; i++) {
		cairo_t *cr = cp_pdf_writer_begin_page(w, &err);
		tu_assert_no_error(err);
		g_assert_null(cp_pdf_writer_begin_page(w, &err));
		tu_assert_error(&err, CP_E_USAGE, "already open");
		cairo_rectangle(cr, 10 + i, 10, 190, 277); /* millimetres */
		cairo_set_line_width(cr, 0.5);
		cairo_stroke(cr);
		cairo_save(cr);
		cairo_translate(cr, 30, 40);
		cairo_scale(cr, 35.0 / 90, 35.0 / 90);
		cairo_set_source_surface(cr, photo, 0, 0);
		cairo_paint(cr);
		cairo_restore(cr);
		g_assert_true(cp_pdf_writer_end_page(w, &err));
		tu_assert_no_error(err);
	}
	g_assert_cmpint(cp_pdf_writer_page_count(w), ==, 3);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS)); /* not before commit */
	g_assert_true(cp_pdf_writer_commit(w, &err));
	tu_assert_no_error(err);
	cairo_surface_destroy(photo);

	char *pdf, *jpeg;
	gsize plen, jlen;
	g_assert_true(g_file_get_contents(path, &pdf, &plen, NULL));
	g_assert_true(g_file_get_contents(photo_path, &jpeg, &jlen, NULL));
	g_assert_cmpint(tu_count(pdf, plen, "/DCTDecode"), ==, 1);
	g_assert_nonnull(memmem(pdf, plen, jpeg, jlen));
	g_assert_true(g_str_has_prefix(pdf, "%PDF-1.5"));
	g_free(jpeg);
	g_free(pdf);

	if (tu_have("pdfinfo")) {
		int st;
		const char *argv[] = {"pdfinfo", "-isodates", "-enc", "UTF-8", path, NULL};
		char *out = tu_run(argv, &st);
		g_test_message("%s", out);
		g_assert_cmpint(st, ==, 0);
		g_assert_nonnull(strstr(out, "Pages:           3"));
		const char *ps = strstr(out, "Page size:");
		g_assert_nonnull(ps);
		double pw = 0, ph = 0;
		g_assert_cmpint(sscanf(ps, "Page size: %lf x %lf pts", &pw, &ph), ==, 2);
		g_assert_cmpfloat_with_epsilon(pw, 595.28, 0.01);
		g_assert_cmpfloat_with_epsilon(ph, 841.89, 0.01);
		g_assert_nonnull(strstr(out, "Title:           职业技能等级证书"));
		g_assert_nonnull(strstr(out, "Author:          certpress test"));
		g_assert_nonnull(strstr(out, "Keywords:        a, b"));
		g_assert_nonnull(strstr(out, "CreationDate:    2026-01-01T00:00:00"));
		g_free(out);
	} else {
		g_test_message("pdfinfo not installed: page size not checked by poppler");
	}
	if (tu_have("qpdf")) {
		int st;
		const char *argv[] = {"qpdf", "--check", path, NULL};
		g_free(tu_run(argv, &st));
		g_assert_cmpint(st, ==, 0);
		const char *argv2[] = {"qpdf", "--json", path, NULL};
		char *json = tu_run(argv2, &st);
		g_assert_cmpint(st, ==, 0);
		g_assert_nonnull(strstr(json, "\"/PrintScaling\": \"/None\""));
		g_free(json);
	}
	g_free(photo_path);
	g_free(path);
	g_free(dir);
}

/* An existing file is untouched until commit; abort leaves it as it was and
 * no temporary file behind; committing with no pages or an open page fails
 * and writes nothing. */
static void test_abort_and_misuse(void)
{
	char *dir = tu_scratch("pdf-abort");
	char *path = tu_write(dir, "out.pdf", "previous run");
	cp_error *err = NULL;
	cp_pdf_writer *w = cp_pdf_writer_new(path, 85.6, 54, NULL, &err);
	tu_assert_no_error(err);
	cairo_t *cr = cp_pdf_writer_begin_page(w, &err);
	cairo_paint(cr);
	g_assert_true(cp_pdf_writer_end_page(w, &err));
	cp_pdf_writer_abort(w);
	cp_pdf_writer_abort(NULL);
	char *s;
	g_assert_true(g_file_get_contents(path, &s, NULL, NULL));
	g_assert_cmpstr(s, ==, "previous run");
	g_free(s);
	g_assert_cmpint(tu_count_entries(dir), ==, 1);

	w = cp_pdf_writer_new(path, 210, 297, NULL, &err);
	g_assert_false(cp_pdf_writer_commit(w, &err));
	tu_assert_error(&err, CP_E_USAGE, "no pages");
	w = cp_pdf_writer_new(path, 210, 297, NULL, &err);
	g_assert_false(cp_pdf_writer_end_page(w, &err));
	tu_assert_error(&err, CP_E_USAGE, "no page is open");
	cp_pdf_writer_begin_page(w, &err);
	g_assert_false(cp_pdf_writer_commit(w, &err));
	tu_assert_error(&err, CP_E_USAGE, "still open");
	g_assert_true(g_file_get_contents(path, &s, NULL, NULL));
	g_assert_cmpstr(s, ==, "previous run");
	g_free(s);

	g_assert_null(cp_pdf_writer_new(path, 0, 297, NULL, &err));
	tu_assert_error(&err, CP_E_USAGE, "page size");
	g_assert_null(cp_pdf_writer_new(path, 210, 1e9, NULL, &err));
	tu_assert_error(&err, CP_E_USAGE, "page size");
	cp_doc_info bad = {.title = "\xff\xfe"};
	g_assert_null(cp_pdf_writer_new(path, 210, 297, &bad, &err));
	tu_assert_error(&err, CP_E_USAGE, "UTF-8");
	char *missing = g_build_filename(dir, "nope", "out.pdf", NULL);
	g_assert_null(cp_pdf_writer_new(missing, 210, 297, NULL, &err));
	tu_assert_error(&err, CP_E_IO, "does not exist");
	g_free(missing);
	g_free(path);
	g_free(dir);
}

/* ------------------------------------------------------------------ parts */

#define PARTS_PAGES 12
/* Which part draws each page of the final document: interleaved, part 3
 * never used (a worker that got no work). */
static const int part_of_page[PARTS_PAGES] = {0, 0, 1, 2, 2, 2, 1, 0, 1, 2, 0, 0};

typedef struct part_job {
	cp_pdf_parts *p;
	int part;
	cairo_surface_t *photo;
	bool layer; /* the word LAYER drawn apart, under every page */
	cp_error *err;
} part_job;

static gint layers_drawn;

/* The layer apart: the word LAYER (or nothing, when there is none). */
static bool draw_layer(void *ud, cairo_t *cr)
{
	const part_job *j = ud;
	g_atomic_int_inc(&layers_drawn);
	if (!j->layer)
		return false;
	cairo_select_font_face(cr, "sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	cairo_set_font_size(cr, 12);
	cairo_move_to(cr, 20, 200);
	cairo_show_text(cr, "LAYER");
	return true;
}

/* One thread per part, all drawing at once: page n says "PAGE-n". */
static gpointer draw_part(gpointer data)
{
	part_job *j = data;
	for (int n = 0; n < PARTS_PAGES; n++) {
		if (part_of_page[n] != j->part)
			continue;
		int under = cp_pdf_parts_layer(j->p, draw_layer, j, &j->err);
		if (under < 0 || under != j->layer) {
			if (!j->err)
				cp_set_error(&j->err, CP_E_USAGE, NULL, 0, 0, NULL, "layer %d", under);
			return NULL;
		}
		cairo_t *cr = cp_pdf_parts_begin_page(j->p, j->part, &j->err);
		if (!cr)
			return NULL;
		char text[32];
		g_snprintf(text, sizeof text, "PAGE-%02d", n);
		cairo_select_font_face(cr, "sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
		cairo_set_font_size(cr, 12);
		cairo_move_to(cr, 20, 30);
		cairo_show_text(cr, text);
		cairo_set_source_surface(cr, j->photo, 60, 60);
		cairo_paint(cr);
		if (!cp_pdf_parts_end_page(j->p, j->part, &j->err))
			return NULL;
	}
	cp_pdf_parts_finish(j->p, j->part, &j->err);
	return NULL;
}

/* Four parts drawn by four threads at once and joined: every page is where
 * the order put it (poppler reads PAGE-n on page n+1), the document is
 * valid for qpdf, keeps the title and PrintScaling, each part's photo is
 * stored once per file of a part that used it, and no temporary file is
 * left. With part_pages > 0 the parts rotate to a new file that often, and
 * the layer (drawn once, by whichever thread came first) is under every
 * page of every file; without, the layer's drawing has nothing to draw and
 * there is none. */
static void check_parts(long part_pages)
{
	bool layer = part_pages > 0;
	g_atomic_int_set(&layers_drawn, 0);
	char *dir = tu_scratch(part_pages ? "pdf-parts-rotating" : "pdf-parts");
	char *path = g_build_filename(dir, "joined.pdf", NULL);
	char *photo_path = tu_path("data/image/photo.jpg");
	cp_error *err = NULL;
	cairo_surface_t *photo = cp_image_load(photo_path, NULL, &err);
	tu_assert_no_error(err);
	cp_doc_info info = {.title = "职业技能等级证书"};
	cp_pdf_parts *p = cp_pdf_parts_new(path, 210, 297, &info, 4, &err);
	tu_assert_no_error(err);
	if (part_pages)
		cp_pdf_parts_set_part_pages(p, part_pages);
	part_job jobs[4];
	GThread *th[4];
	for (int k = 0; k < 4; k++) {
		jobs[k] = (part_job){.p = p, .part = k, .photo = photo, .layer = layer};
		th[k] = g_thread_new("part", draw_part, &jobs[k]);
	}
	for (int k = 0; k < 4; k++) {
		g_thread_join(th[k]);
		tu_assert_no_error(jobs[k].err);
	}
	for (int n = 0; n < PARTS_PAGES; n++)
		g_assert_true(cp_pdf_parts_order(p, part_of_page[n], 1, &err));
	g_assert_cmpint(cp_pdf_parts_page_count(p), ==, PARTS_PAGES);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS)); /* not before commit */
	g_assert_true(cp_pdf_parts_commit(p, &err));
	tu_assert_no_error(err);
	cairo_surface_destroy(photo);

	char *pdf;
	gsize plen;
	g_assert_true(g_file_get_contents(path, &pdf, &plen, NULL));
	size_t files = 0;
	for (int k = 0; k < 4; k++) {
		long n = 0;
		for (int i = 0; i < PARTS_PAGES; i++)
			n += part_of_page[i] == k;
		long per = part_pages ? part_pages : CP_PDF_PART_PAGES;
		files += (size_t)((n + per - 1) / per);
	}
	g_assert_cmpuint(files, ==, part_pages == 2 ? 7 : 3);
	g_assert_cmpint(tu_count(pdf, plen, "/DCTDecode"), ==, (int)files);
	g_assert_cmpint(g_atomic_int_get(&layers_drawn), ==, 1);
	g_assert_cmpint(tu_count(pdf, plen, "q /CertpressLayer Do Q"), ==, layer);
	g_free(pdf);
	g_assert_cmpint(tu_count_entries(dir), ==, 1);

	if (tu_have("pdftotext")) {
		for (int n = 0; n < PARTS_PAGES; n++) {
			char page[8], want[32];
			g_snprintf(page, sizeof page, "%d", n + 1);
			g_snprintf(want, sizeof want, "PAGE-%02d", n);
			int st;
			const char *argv[] = {"pdftotext", "-f", page, "-l", page, path, "-", NULL};
			char *out = tu_run(argv, &st);
			g_assert_cmpint(st, ==, 0);
			g_assert_nonnull(strstr(out, want));
			g_assert_true((strstr(out, "LAYER") != NULL) == layer);
			g_free(out);
		}
	}
	if (tu_have("qpdf")) {
		tu_qpdf_check_ok(path);
		int st;
		const char *argv2[] = {"qpdf", "--json", path, NULL};
		char *json = tu_run(argv2, &st);
		g_assert_cmpint(st, ==, 0);
		g_assert_nonnull(strstr(json, "\"/PrintScaling\": \"/None\""));
		g_free(json);
	}
	if (tu_have("pdfinfo")) {
		int st;
		const char *argv[] = {"pdfinfo", "-enc", "UTF-8", path, NULL};
		char *out = tu_run(argv, &st);
		g_assert_cmpint(st, ==, 0);
		g_assert_nonnull(strstr(out, "Pages:           12"));
		g_assert_nonnull(strstr(out, "Title:           职业技能等级证书"));
		g_free(out);
	}
	g_free(photo_path);
	g_free(path);
	g_free(dir);
}

static void test_parts(void)
{
	check_parts(0);
}

static void test_parts_rotating(void)
{
	check_parts(2);
}

/* An order that does not match what the parts hold, or a part out of range,
 * is refused and leaves nothing behind; so does an abort. */
static void test_parts_misuse(void)
{
	char *dir = tu_scratch("pdf-parts-misuse");
	char *path = tu_write(dir, "out.pdf", "previous run");
	cp_error *err = NULL;
	g_assert_null(cp_pdf_parts_new(path, 210, 297, NULL, 0, &err));
	tu_assert_error(&err, CP_E_USAGE, "parts");
	g_assert_null(cp_pdf_parts_new(path, 210, 297, NULL, CP_PDF_MAX_PARTS + 1, &err));
	tu_assert_error(&err, CP_E_USAGE, "parts");

	cp_pdf_parts *p = cp_pdf_parts_new(path, 210, 297, NULL, 2, &err);
	g_assert_null(cp_pdf_parts_begin_page(p, 2, &err));
	tu_assert_error(&err, CP_E_USAGE, "part 2");
	g_assert_false(cp_pdf_parts_end_page(p, 0, &err));
	tu_assert_error(&err, CP_E_USAGE, "no page is open");
	cairo_t *cr = cp_pdf_parts_begin_page(p, 0, &err);
	tu_assert_no_error(err);
	cairo_paint(cr);
	g_assert_true(cp_pdf_parts_end_page(p, 0, &err));
	g_assert_true(cp_pdf_parts_order(p, 0, 2, &err)); /* one more than drawn */
	g_assert_false(cp_pdf_parts_commit(p, &err));
	g_assert_nonnull(err);
	g_assert_cmpint(err->code, ==, CP_E_USAGE);
	cp_error_free(err);
	err = NULL;

	p = cp_pdf_parts_new(path, 210, 297, NULL, 2, &err);
	cr = cp_pdf_parts_begin_page(p, 1, &err);
	cairo_paint(cr);
	g_assert_true(cp_pdf_parts_end_page(p, 1, &err));
	g_assert_true(cp_pdf_parts_order(p, 0, 1, &err)); /* part 0 drew nothing */
	g_assert_false(cp_pdf_parts_commit(p, &err));
	tu_assert_error(&err, CP_E_USAGE, "part 0");

	p = cp_pdf_parts_new(path, 210, 297, NULL, 2, &err);
	g_assert_false(cp_pdf_parts_commit(p, &err));
	tu_assert_error(&err, CP_E_USAGE, "no pages");

	/* an interrupt before the commit: nothing is put in place */
	volatile sig_atomic_t stop = 1;
	p = cp_pdf_parts_new(path, 210, 297, NULL, 2, &err);
	cp_pdf_parts_set_cancel(p, &stop);
	cr = cp_pdf_parts_begin_page(p, 0, &err);
	cairo_paint(cr);
	g_assert_true(cp_pdf_parts_end_page(p, 0, &err));
	g_assert_true(cp_pdf_parts_order(p, 0, 1, &err));
	g_assert_false(cp_pdf_parts_commit(p, &err));
	tu_assert_error(&err, CP_E_INTERRUPTED, "interrupted");

	p = cp_pdf_parts_new(path, 210, 297, NULL, 2, &err);
	cr = cp_pdf_parts_begin_page(p, 0, &err);
	cairo_paint(cr);
	g_assert_true(cp_pdf_parts_end_page(p, 0, &err));
	cp_pdf_parts_abort(p);
	cp_pdf_parts_abort(NULL);

	char *s;
	g_assert_true(g_file_get_contents(path, &s, NULL, NULL));
	g_assert_cmpstr(s, ==, "previous run");
	g_free(s);
	g_assert_cmpint(tu_count_entries(dir), ==, 1);
	g_free(path);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pdf/three-pages", test_three_pages);
	g_test_add_func("/pdf/abort-and-misuse", test_abort_and_misuse);
	g_test_add_func("/pdf/parts", test_parts);
	g_test_add_func("/pdf/parts-rotating", test_parts_rotating);
	g_test_add_func("/pdf/parts-misuse", test_parts_misuse);
	return g_test_run();
}
