/* SPDX-License-Identifier: MIT */
#include "common/testutil.h"

#include <cairo-pdf.h>
#include <string.h>

#include "error.h"
#include "output/pdfupdate.h"

#define VP "<< /PrintScaling /None >>"

/* A two-page A4 PDF as Cairo writes it. */
static char *make_pdf(const char *dir, const char *name)
{
	char *path = g_build_filename(dir, name, NULL);
	cairo_surface_t *s = cairo_pdf_surface_create(path, 595.28, 841.89);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, "t");
	cairo_t *cr = cairo_create(s);
	for (int i = 0; i < 2; i++) {
		cairo_rectangle(cr, 100, 100, 50 + i, 50);
		cairo_fill(cr);
		cairo_show_page(cr);
	}
	cairo_destroy(cr);
	cairo_surface_destroy(s);
	return path;
}

/* The catalog as qpdf sees it in the newest revision. */
static char *qpdf_catalog(const char *path)
{
	int st;
	const char *a1[] = {"qpdf", "--show-object=trailer", path, NULL};
	char *trailer = tu_run(a1, &st);
	g_assert_cmpint(st, ==, 0);
	const char *r = strstr(trailer, "/Root ");
	g_assert_nonnull(r);
	int num = atoi(r + 6);
	g_free(trailer);
	char *obj = g_strdup_printf("--show-object=%d", num);
	const char *a2[] = {"qpdf", obj, path, NULL};
	char *cat = tu_run(a2, &st);
	g_assert_cmpint(st, ==, 0);
	g_free(obj);
	return cat;
}

/* The update appends a revision with /ViewerPreferences that qpdf accepts
 * and sees, the old bytes stay a prefix of the file, and poppler still
 * reads page count and size. */
static void test_set_viewer_preferences(void)
{
	if (!tu_have("qpdf") || !tu_have("pdfinfo")) {
		g_test_skip("qpdf or pdfinfo is not installed");
		return;
	}
	char *dir = tu_scratch("pdfupdate-ok");
	char *path = make_pdf(dir, "a.pdf");
	char *before;
	gsize blen;
	g_assert_true(g_file_get_contents(path, &before, &blen, NULL));
	cp_error *err = NULL;
	g_assert_true(cp_pdf_set_catalog_entry(path, "ViewerPreferences", VP, &err));
	tu_assert_no_error(err);
	char *after;
	gsize alen;
	g_assert_true(g_file_get_contents(path, &after, &alen, NULL));
	g_assert_cmpuint(alen, >, blen);
	g_assert_cmpint(memcmp(before, after, blen), ==, 0);
	tu_qpdf_check_ok(path);
	char *cat = qpdf_catalog(path);
	g_test_message("catalog: %s", cat);
	g_assert_nonnull(strstr(cat, "/PrintScaling /None"));
	g_assert_nonnull(strstr(cat, "/Type /Catalog"));
	g_assert_nonnull(strstr(cat, "/Pages"));
	g_free(cat);
	int st;
	const char *argv[] = {"pdfinfo", path, NULL};
	char *info = tu_run(argv, &st);
	g_assert_cmpint(st, ==, 0);
	g_assert_nonnull(strstr(info, "Pages:           2"));
	g_assert_nonnull(strstr(info, "595.28 x 841.89 pts"));
	g_assert_nonnull(strstr(info, "Title:           t"));
	g_free(info);

	/* A second update replaces the entry instead of adding another, and
	 * chains to the first through /Prev. */
	g_assert_true(cp_pdf_set_catalog_entry(path, "ViewerPreferences",
	                                       "<< /PrintScaling /AppDefault /Duplex /Simplex >>",
	                                       &err));
	tu_assert_no_error(err);
	tu_qpdf_check_ok(path);
	cat = qpdf_catalog(path);
	g_assert_nonnull(strstr(cat, "/Duplex /Simplex"));
	g_assert_null(strstr(cat, "/PrintScaling /None"));
	g_assert_null(strstr(strstr(cat, "/ViewerPreferences") + 1, "/ViewerPreferences"));
	g_free(cat);
	g_free(after);
	g_free(before);
	g_free(path);
	g_free(dir);
}

static void expect_untouched_failure(const char *path, const char *key, const char *value,
                                     cp_code code, const char *needle)
{
	char *before;
	gsize blen;
	g_assert_true(g_file_get_contents(path, &before, &blen, NULL));
	cp_error *err = NULL;
	g_assert_false(cp_pdf_set_catalog_entry(path, key, value, &err));
	tu_assert_error(&err, code, needle);
	char *after;
	gsize alen;
	g_assert_true(g_file_get_contents(path, &after, &alen, NULL));
	g_assert_cmpuint(alen, ==, blen);
	g_assert_cmpint(memcmp(before, after, blen), ==, 0);
	g_free(before);
	g_free(after);
}

/* Files that are not PDFs we can update give a clear error and are left
 * byte for byte as they were. */
static void test_bad_inputs(void)
{
	char *dir = tu_scratch("pdfupdate-bad");
	char *txt = tu_write(dir, "notes.pdf", "hello, not a PDF\n");
	expect_untouched_failure(txt, "ViewerPreferences", VP, CP_E_PARSE, "not a PDF file");
	char *empty = tu_write(dir, "empty.pdf", "");
	expect_untouched_failure(empty, "ViewerPreferences", VP, CP_E_PARSE, "not a PDF file");

	char *good = make_pdf(dir, "good.pdf");
	char *data;
	gsize len;
	g_assert_true(g_file_get_contents(good, &data, &len, NULL));
	/* cut in the middle: no startxref at the end */
	char *trunc = g_build_filename(dir, "truncated.pdf", NULL);
	g_assert_true(g_file_set_contents(trunc, data, (gssize)(len / 2), NULL));
	expect_untouched_failure(trunc, "ViewerPreferences", VP, CP_E_PARSE, "truncated");
	/* startxref pointing at garbage */
	/* (the file holds binary streams: no str* functions on it) */
	char *sx = NULL;
	for (gsize i = len - 10; i > 0 && !sx; i--)
		if (memcmp(data + i, "startxref\n", 10) == 0)
			sx = data + i;
	g_assert_nonnull(sx);
	char *bent = g_strdup_printf("%.*sstartxref\n20\n%%%%EOF\n", (int)(sx - data), data);
	char *badx = g_build_filename(dir, "badxref.pdf", NULL);
	g_assert_true(g_file_set_contents(badx, bent, -1, NULL));
	expect_untouched_failure(badx, "ViewerPreferences", VP, CP_E_PARSE,
	                         "cross-reference table");
	/* "%PDF-" and nothing PDF-like */
	char *hdr = tu_write(dir, "header-only.pdf", "%PDF-1.5\n%%EOF\n");
	expect_untouched_failure(hdr, "ViewerPreferences", VP, CP_E_PARSE, "no startxref");

	/* bad key or value: refused before the file is even read */
	expect_untouched_failure(good, "View/erPreferences", VP, CP_E_USAGE, "invalid PDF name");
	expect_untouched_failure(good, "ViewerPreferences", "<< /PrintScaling /None",
	                         CP_E_USAGE, "not one PDF object");
	expect_untouched_failure(good, "ViewerPreferences", ">> endobj", CP_E_USAGE,
	                         "not one PDF object");
	expect_untouched_failure(good, "ViewerPreferences", "/A /B", CP_E_USAGE,
	                         "not one PDF object");

	cp_error *err = NULL;
	char *missing = g_build_filename(dir, "missing.pdf", NULL);
	g_assert_false(cp_pdf_set_catalog_entry(missing, "ViewerPreferences", VP, &err));
	tu_assert_error(&err, CP_E_IO, "missing.pdf");

	/* A cross-reference stream (what qpdf writes with object streams) is
	 * refused with a message that says so. */
	if (tu_have("qpdf")) {
		char *xs = g_build_filename(dir, "xrefstream.pdf", NULL);
		const char *argv[] = {"qpdf", "--object-streams=generate", good, xs, NULL};
		int st;
		g_free(tu_run(argv, &st));
		g_assert_cmpint(st, ==, 0);
		expect_untouched_failure(xs, "ViewerPreferences", VP, CP_E_PARSE,
		                         "cross-reference stream");
		g_free(xs);
	}
	g_free(missing);
	g_free(hdr);
	g_free(badx);
	g_free(bent);
	g_free(trunc);
	g_free(data);
	g_free(good);
	g_free(empty);
	g_free(txt);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pdfupdate/set-viewer-preferences", test_set_viewer_preferences);
	g_test_add_func("/pdfupdate/bad-inputs", test_bad_inputs);
	return g_test_run();
}
