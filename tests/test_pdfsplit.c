/* SPDX-License-Identifier: MIT */
#include "common/testutil.h"

#include <cairo-ft.h>
#include <cairo-pdf.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "output/pdfjoin.h"
#include "output/pdfsplit.h"

#define VP "/ViewerPreferences << /PrintScaling /None >>"

/* What each page shows in FandolFang, a CID-keyed CFF face as certpress
 * embeds them; every page also shows SHARED, and page 1 a Form XObject
 * (a bounded recording surface, as the layout's static layer) with FORM. */
static const char *const page_text[] = {"甲乙丙丁", "戊己庚辛", "壬癸子丑"};
#define SHARED "证书编号"
#define FORM "职业技能"
#define NPAGES 3

static FT_Library ft;
static FT_Face ft_face;

static cairo_font_face_t *fandol(void)
{
	char *path = g_build_filename(CP_DATADIR, "fonts", "FandolFang-Regular.otf", NULL);
	if (!ft)
		g_assert_cmpint(FT_Init_FreeType(&ft), ==, 0);
	if (!ft_face)
		g_assert_cmpint(FT_New_Face(ft, path, 0, &ft_face), ==, 0);
	cairo_font_face_t *f = cairo_ft_font_face_create_for_ft_face(ft_face, 0);
	g_free(path);
	g_assert_cmpint(cairo_font_face_status(f), ==, CAIRO_STATUS_SUCCESS);
	return f;
}

static void show(cairo_t *cr, cairo_font_face_t *face, double x, double y, const char *s)
{
	cairo_set_font_face(cr, face);
	cairo_set_font_size(cr, 20);
	cairo_move_to(cr, x, y);
	cairo_show_text(cr, s);
}

/* The document, as a worker's book: NPAGES pages drawn by Cairo; with
 * plain set, its content streams without a filter, as certpress's Cairo
 * leaves them (cp_pdf_process_init()). */
static GByteArray *make_doc(bool plain)
{
	GByteArray *b = g_byte_array_new();
	if (plain)
		g_setenv("CAIRO_DEBUG_PDF", "1", TRUE);
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(tu_append_bytes, b, 595.28, 841.89);
	cairo_pdf_surface_restrict_to_version(s, CAIRO_PDF_VERSION_1_5);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, "split test");
	cairo_font_face_t *face = fandol();
	cairo_rectangle_t ext = {0, 0, 200, 40};
	cairo_surface_t *rec = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &ext);
	static const unsigned char rid[] = "certpress-split-layer";
	cairo_surface_set_mime_data(rec, CAIRO_MIME_TYPE_UNIQUE_ID, rid, sizeof rid - 1, NULL, NULL);
	cairo_t *rc = cairo_create(rec);
	cairo_set_source_rgb(rc, 0.6, 0.1, 0.1);
	show(rc, face, 0, 30, FORM);
	cairo_destroy(rc);
	cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 16, 16);
	if (plain)
		g_unsetenv("CAIRO_DEBUG_PDF"); /* read when the surface was made */
	cairo_t *cr = cairo_create(s);
	for (int i = 0; i < NPAGES; i++) {
		cairo_set_source_rgb(cr, 0, 0, 0);
		show(cr, face, 72, 100, page_text[i]);
		show(cr, face, 72, 160, SHARED);
		if (i == 1) {
			cairo_set_source_surface(cr, rec, 72, 300);
			cairo_paint(cr);
		}
		if (i == 2) {
			cairo_set_source_surface(cr, img, 72, 400);
			cairo_paint(cr);
		}
		cairo_show_page(cr);
	}
	cairo_destroy(cr);
	cairo_surface_finish(s);
	g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
	cairo_surface_destroy(rec);
	cairo_surface_destroy(img);
	cairo_font_face_destroy(face);
	return b;
}

static char *save(const char *dir, const char *name, const GString *g)
{
	char *path = g_build_filename(dir, name, NULL);
	g_assert_true(g_file_set_contents(path, g->str, (gssize)g->len, NULL));
	return path;
}

static char *text_of(const char *path, int page)
{
	char pg[16];
	g_snprintf(pg, sizeof pg, "%d", page);
	const char *argv[] = {"pdftotext", "-enc", "UTF-8", "-f", pg, "-l", pg, path, "-", NULL};
	int st;
	char *out = tu_run(argv, &st);
	g_assert_cmpint(st, ==, 0);
	return out;
}

/* The page rendered by poppler, as PNG bytes. */
static GBytes *picture(const char *path, int page, const char *dir, const char *stem)
{
	char pg[16];
	g_snprintf(pg, sizeof pg, "%d", page);
	char *prefix = g_build_filename(dir, stem, NULL);
	const char *argv[] = {"pdftoppm", "-r", "40", "-png", "-singlefile", "-f", pg, "-l", pg,
	                      path, prefix, NULL};
	int st;
	g_free(tu_run(argv, &st));
	g_assert_cmpint(st, ==, 0);
	char *png = g_strconcat(prefix, ".png", NULL);
	char *data;
	gsize n;
	g_assert_true(g_file_get_contents(png, &data, &n, NULL));
	g_free(png);
	g_free(prefix);
	return g_bytes_new_take(data, n);
}

/* Splits the document (plain: make_doc()) and checks every page's file;
 * flate[i]: how many /FlateDecode page i's has. */
static void split_pages(bool plain, int *flate)
{
	GByteArray *doc = make_doc(plain);
	char *dir = tu_scratch(plain ? "pdfsplit-pages-plain" : "pdfsplit-pages");
	GString *whole = g_string_new_len((const char *)doc->data, (gssize)doc->len);
	char *whole_path = save(dir, "whole.pdf", whole);
	cp_error *err = NULL;
	cp_pdf_split *s = cp_pdf_split_new((const char *)doc->data, doc->len, "doc", &err);
	tu_assert_no_error(err);
	g_assert_cmpint(cp_pdf_split_pages(s), ==, NPAGES);
	bool poppler = tu_have("pdftotext") && tu_have("pdftoppm");
	for (int i = 0; i < NPAGES; i++) {
		GString *g = g_string_new(NULL);
		g_assert_true(cp_pdf_split_page(s, i, VP, g, &err));
		tu_assert_no_error(err);
		int trimmed, kept, cmaps;
		cp_pdf_split_font_stats(s, &trimmed, &kept, &cmaps);
		/* The face's program covers every page's glyphs: cut to this
		 * page's in each file, and so are its ToUnicode CMap and the
		 * CIDFont's /W. */
		g_assert_cmpint(trimmed, ==, 1);
		g_assert_cmpint(kept, ==, 0);
		g_assert_cmpint(cmaps, ==, 2);
		g_assert_cmpint(tu_count(g->str, g->len, VP), ==, 1);
		flate[i] = tu_count(g->str, g->len, "/FlateDecode");
		char name[32];
		g_snprintf(name, sizeof name, "page%d.pdf", i);
		char *path = save(dir, name, g);
		/* One page, by the joiner's own reading of Cairo-shaped files. */
		int fd = open(path, O_RDONLY);
		g_assert_cmpint(fd, >=, 0);
		long pages = 0;
		g_assert_true(cp_pdf_part_pages(fd, &pages, &err));
		tu_assert_no_error(err);
		g_assert_cmpint(pages, ==, 1);
		close(fd);
		if (tu_have("qpdf")) {
			tu_qpdf_check_ok(path);
			/* The file does not name the other pages' characters: its
			 * streams, uncompressed, map none of their codes. */
			char *qdf = g_strconcat(path, ".qdf", NULL);
			const char *argv[] = {"qpdf", "--qdf", "--object-streams=disable", path, qdf,
			                      NULL};
			int st;
			g_free(tu_run(argv, &st));
			g_assert_cmpint(st, ==, 0);
			char *txt;
			gsize tn;
			g_assert_true(g_file_get_contents(qdf, &txt, &tn, NULL));
			for (int k = 0; k < NPAGES; k++) {
				for (const char *c = page_text[k]; *c; c = g_utf8_next_char(c)) {
					char hex[16];
					g_snprintf(hex, sizeof hex, "<%04x>", g_utf8_get_char(c));
					g_assert_cmpint(tu_count(txt, tn, hex) > 0, ==, k == i);
				}
			}
			g_free(txt);
			g_free(qdf);
		}
		if (poppler) {
			char *t = text_of(path, 1);
			for (int k = 0; k < NPAGES; k++)
				g_assert_true((strstr(t, page_text[k]) != NULL) == (k == i));
			g_assert_nonnull(strstr(t, SHARED));
			g_assert_true((strstr(t, FORM) != NULL) == (i == 1));
			g_free(t);
			/* The same picture as the page in the whole document: no
			 * glyph it shows was cut. */
			GBytes *a = picture(path, 1, dir, "cut");
			GBytes *b = picture(whole_path, i + 1, dir, "whole");
			g_assert_true(g_bytes_equal(a, b));
			g_bytes_unref(a);
			g_bytes_unref(b);
		}
		/* Smaller than the whole document, whose font has every page's
		 * glyphs. */
		g_assert_cmpuint(g->len, <, doc->len);
		g_free(path);
		g_string_free(g, TRUE);
	}
	GString *g = g_string_new(NULL);
	g_assert_false(cp_pdf_split_page(s, NPAGES, VP, g, &err));
	tu_assert_error(&err, CP_E_USAGE, NULL);
	g_string_free(g, TRUE);
	cp_pdf_split_free(s);
	g_string_free(whole, TRUE);
	g_free(whole_path);
	g_free(dir);
	g_byte_array_unref(doc);
}

static void test_pages(void)
{
	int flate[NPAGES];
	split_pages(false, flate);
}

/* From a document whose content streams are plain, each page's file has
 * them deflated: as many compressed streams as from Cairo's own, and the
 * same pictures (split_pages()). */
static void test_pages_plain(void)
{
	int zipped[NPAGES], plain[NPAGES];
	split_pages(false, zipped);
	split_pages(true, plain);
	for (int i = 0; i < NPAGES; i++)
		g_assert_cmpint(plain[i], ==, zipped[i]);
}

/* A PDF from object texts (object i + 1 is objs[i]), with a correct
 * classic cross-reference table. */
static GString *hand_pdf(const char *const *objs, int n, const char *trailer_extra)
{
	GString *g = g_string_new("%PDF-1.5\n%\xb5\xed\xae\xfb\n");
	GArray *off = g_array_new(FALSE, FALSE, sizeof(gsize));
	for (int i = 0; i < n; i++) {
		g_array_append_val(off, g->len);
		g_string_append_printf(g, "%d 0 obj\n%s\nendobj\n", i + 1, objs[i]);
	}
	gsize xref = g->len;
	g_string_append_printf(g, "xref\n0 %d\n0000000000 65535 f \n", n + 1);
	for (int i = 0; i < n; i++)
		g_string_append_printf(g, "%010zu 00000 n \n", g_array_index(off, gsize, i));
	g_string_append_printf(g, "trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%zu\n%%%%EOF\n",
	                       n + 1, trailer_extra ? trailer_extra : "", xref);
	g_array_free(off, TRUE);
	return g;
}


static void test_fallback(void)
{
	/* A font program that is not CFF at all, and a page whose content has
	 * an inline image: nothing is cut, the file is still made. */
	static const char content[] = "BT /F1 12 Tf <00010002> Tj ET\n"
	                              "BI /W 1 /H 1 /CS /G /BPC 8 ID \x01 EI";
	char *cobj = g_strdup_printf("<< /Length %zu >>\nstream\n%s\nendstream", sizeof content - 1,
	                             content);
	const char *objs[] = {
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 4 0 R\n"
		 "   /Resources << /Font << /F1 5 0 R >> >> >>"),
		cobj,
		("<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H "
		 "/DescendantFonts [6 0 R] >>"),
		"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /X /FontDescriptor 7 0 R >>",
		"<< /Type /FontDescriptor /FontName /X /FontFile3 8 0 R >>",
		"<< /Subtype /CIDFontType0C /Length 9 0 R >>\nstream\nnot a font\nendstream",
		"10",
		"<< /Title (hand) >>",
	};
	GString *pdf = hand_pdf(objs, G_N_ELEMENTS(objs), "/Info 10 0 R ");
	cp_error *err = NULL;
	cp_pdf_split *s = cp_pdf_split_new(pdf->str, pdf->len, "hand", &err);
	tu_assert_no_error(err);
	GString *g = g_string_new(NULL);
	g_assert_true(cp_pdf_split_page(s, 0, VP, g, &err));
	tu_assert_no_error(err);
	int trimmed, kept, cmaps;
	cp_pdf_split_font_stats(s, &trimmed, &kept, &cmaps);
	g_assert_cmpint(trimmed, ==, 0);
	g_assert_cmpint(cmaps, ==, 0);
	g_assert_cmpint(kept, ==, 1);
	g_assert_cmpint(tu_count(g->str, g->len, "not a font"), ==, 1);
	g_assert_cmpint(tu_count(g->str, g->len, "(hand)"), ==, 1);
	if (tu_have("qpdf")) {
		char *dir = tu_scratch("pdfsplit-fallback");
		char *path = save(dir, "page.pdf", g);
		tu_qpdf_check_ok(path);
		g_free(path);
		g_free(dir);
	}
	g_string_free(g, TRUE);
	cp_pdf_split_free(s);
	g_string_free(pdf, TRUE);
	g_free(cobj);
}

static void test_refused(void)
{
	cp_error *err = NULL;
	/* Not a PDF. */
	g_assert_null(cp_pdf_split_new("hello, this is not a PDF file at all", 36, "t", &err));
	tu_assert_error(&err, CP_E_PARSE, "not a PDF");
	/* A page that refers to another page: the file would hold both. */
	const char *objs[] = {
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
		("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Resources << >> "
		 "/Annots [5 0 R] >>"),
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Resources << >> >>",
		"<< /Type /Annot /Subtype /Link /Rect [0 0 1 1] /Dest [4 0 R /Fit] >>",
	};
	GString *pdf = hand_pdf(objs, G_N_ELEMENTS(objs), NULL);
	cp_pdf_split *s = cp_pdf_split_new(pdf->str, pdf->len, "links", &err);
	tu_assert_no_error(err);
	GString *g = g_string_new(NULL);
	g_assert_false(cp_pdf_split_page(s, 0, VP, g, &err));
	tu_assert_error(&err, CP_E_PARSE, "other pages");
	/* The other page is fine. */
	g_string_truncate(g, 0);
	g_assert_true(cp_pdf_split_page(s, 1, VP, g, &err));
	tu_assert_no_error(err);
	cp_pdf_split_free(s);
	g_string_free(pdf, TRUE);
	/* A page inheriting its resources from the tree. */
	const char *inh[] = {
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 /Resources << >> >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Resources << >> >>",
	};
	pdf = hand_pdf(inh, G_N_ELEMENTS(inh), NULL);
	g_assert_null(cp_pdf_split_new(pdf->str, pdf->len, "inherit", &err));
	tu_assert_error(&err, CP_E_PARSE, "inherited");
	g_string_free(pdf, TRUE);
	/* A damaged object: a stream whose /Length runs past its end. */
	const char *dmg[] = {
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Resources << >> "
		 "/Contents 4 0 R >>"),
		"<< /Length 9999 >>\nstream\nq Q\nendstream",
	};
	pdf = hand_pdf(dmg, G_N_ELEMENTS(dmg), NULL);
	s = cp_pdf_split_new(pdf->str, pdf->len, "damaged", &err);
	tu_assert_no_error(err);
	g_string_truncate(g, 0);
	g_assert_false(cp_pdf_split_page(s, 0, VP, g, &err));
	tu_assert_error(&err, CP_E_PARSE, "damaged");
	cp_pdf_split_free(s);
	g_string_free(pdf, TRUE);
	/* Every shorter prefix of a good file is refused, never read past. */
	const char *ok[] = {
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Resources << >> >>",
	};
	pdf = hand_pdf(ok, G_N_ELEMENTS(ok), NULL);
	for (gsize n = 0; n < pdf->len; n++) {
		char *copy = g_memdup2(pdf->str, n); /* exactly n bytes: ASan sees overreads */
		s = cp_pdf_split_new(copy, n, "prefix", &err);
		if (s) {
			g_string_truncate(g, 0);
			if (!cp_pdf_split_page(s, 0, VP, g, &err))
				cp_error_free(err);
			err = NULL;
			cp_pdf_split_free(s);
		} else {
			g_assert_nonnull(err);
			cp_error_free(err);
			err = NULL;
		}
		g_free(copy);
	}
	g_string_free(pdf, TRUE);
	g_string_free(g, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pdfsplit/pages", test_pages);
	g_test_add_func("/pdfsplit/pages-plain", test_pages_plain);
	g_test_add_func("/pdfsplit/fallback", test_fallback);
	g_test_add_func("/pdfsplit/refused", test_refused);
	int r = g_test_run();
	/* Cairo's font caches hold the face until they are reset. */
	cairo_debug_reset_static_data();
	if (ft_face)
		FT_Done_Face(ft_face);
	if (ft)
		FT_Done_FreeType(ft);
	return r;
}
