/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "pdfsplit": the page cutter (src/output/pdfsplit.c), which
 * parses a Cairo PDF, walks each page's objects and content streams and
 * rewrites CFF font programs, ToUnicode CMaps and /W arrays, on arbitrary
 * bytes.
 *
 * Checked beyond "no crash": a refusal is CP_E_PARSE or CP_E_NOMEM; the page
 * count is within CP_PDF_SPLIT_MAX_PAGES; each page cut (the first few) is a
 * PDF the cutter reads again with exactly one page, which cuts to itself
 * once more without error; cutting the same page twice gives the same bytes.
 */
#include "fuzz.h"

#include "output/pdfsplit.h"

#define FUZZ_SPLIT_PAGES 4

static void check_refusal(cp_error *err, const char *what)
{
	if (!err)
		cp_fuzz_fail("%s failed without an error", what);
	if (err->code != CP_E_PARSE && err->code != CP_E_NOMEM)
		cp_fuzz_fail("%s: error code %d", what, err->code);
	cp_fuzz_check_result(false, err, what);
}

/* The page cut out of a document is itself a one-page document that cuts
 * again. */
static void check_cut(const GString *page)
{
	cp_error *err = NULL;
	cp_pdf_split *s = cp_pdf_split_new(page->str, page->len, "cut.pdf", &err);
	if (!s) {
		char *m = cp_error_format(err);
		cp_fuzz_fail("a page the cutter wrote cannot be read again: %s", m);
	}
	if (cp_pdf_split_pages(s) != 1)
		cp_fuzz_fail("a page the cutter wrote has %d pages", cp_pdf_split_pages(s));
	GString *again = g_string_new(NULL);
	if (!cp_pdf_split_page(s, 0, NULL, again, &err)) {
		char *m = cp_error_format(err);
		cp_fuzz_fail("a page the cutter wrote cannot be cut again: %s", m);
	}
	g_string_free(again, TRUE);
	cp_pdf_split_free(s);
}

int cp_fuzz_pdfsplit(const uint8_t *data, size_t size);
int cp_fuzz_pdfsplit(const uint8_t *data, size_t size)
{
	/* The cutter reads a borrowed buffer: an exact-size copy lets ASan see
	 * any read past its end. */
	char *b = g_memdup2(data, size ? size : 1);
	cp_error *err = NULL;
	cp_pdf_split *s = cp_pdf_split_new(b, size, "fuzz.pdf", &err);
	if (!s) {
		check_refusal(err, "cp_pdf_split_new");
		g_free(b);
		return 0;
	}
	cp_fuzz_check_result(true, err, "cp_pdf_split_new");
	int pages = cp_pdf_split_pages(s);
	if (pages < 0 || pages > CP_PDF_SPLIT_MAX_PAGES)
		cp_fuzz_fail("%d pages", pages);
	for (int p = 0; p < pages && p < FUZZ_SPLIT_PAGES; p++) {
		GString *one = g_string_new(NULL), *two = g_string_new(NULL);
		err = NULL;
		bool ok = cp_pdf_split_page(s, p, "/ViewerPreferences << /PrintScaling /None >>",
		                            one, &err);
		if (!ok) {
			check_refusal(err, "cp_pdf_split_page");
		} else {
			cp_fuzz_check_result(true, err, "cp_pdf_split_page");
			err = NULL;
			if (!cp_pdf_split_page(s, p, "/ViewerPreferences << /PrintScaling /None >>",
			                       two, &err))
				cp_fuzz_fail("page %d cut once but not twice", p);
			cp_fuzz_check_result(true, err, "cp_pdf_split_page (again)");
			if (one->len != two->len || memcmp(one->str, two->str, one->len) != 0)
				cp_fuzz_fail("page %d cut twice gave different bytes", p);
			check_cut(one);
		}
		g_string_free(one, TRUE);
		g_string_free(two, TRUE);
	}
	cp_pdf_split_free(s);
	g_free(b);
	return 0;
}

CP_FUZZ_ENTRY(pdfsplit)
