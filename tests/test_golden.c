/* SPDX-License-Identifier: MIT */
/*
 * Golden-image regression tests: the fixture records of tests/data/golden/
 * (each exercising one layout rule) read, checked and laid out exactly as the
 * product does it, rendered, and compared with golden/<test-name>.png under a
 * tolerance stated per test. Every page test also goes through the PDF
 * writer and poppler (pdftoppm) and is compared with the SAME reference, so
 * that PDF and PNG output cannot drift apart.
 *
 * On a failure the actual image and a diff image (differences red over the
 * faded actual) are written to $BUILD/tests/golden/, and the message names the
 * bounding box of the differences in millimetres and the template elements
 * they fall in. References are only ever written by `make golden`
 * (CERTPRESS_GOLDEN_UPDATE=1); a normal run never touches them.
 *
 * Fonts are pinned (fonts/fonts.manifest): with a font that is not the pinned
 * one the tests fail saying so, not with a pixel difference.
 */
#include "common/testutil.h"

#include <glib/gstdio.h>
#include <locale.h>
#include <math.h>
#include <string.h>

#include "common/image_compare.h"
#include "layout/fonts.h"
#include "layout/layout.h"
#include "layout/template.h"

#define PAGE_DPI 100.0
#define CROP_DPI 300.0

typedef struct gcase {
	const char *name;   /* test path and golden/<name>.png */
	const char *proves; /* the rule the reference pins down */
	long row;           /* spreadsheet row in tests/data/golden/records.csv */
	cp_mode mode;
	double ox, oy;      /* output offset, mm */
	double dpi;
	const double *crop; /* {x, y, w, h} mm, or NULL for the whole page */
	ic_tolerance png;   /* rendered with cp_engine_draw onto an image surface */
	bool pdf;           /* also: PDF writer, then pdftoppm, against the same file */
	ic_tolerance pdf_tol;
} gcase;

/* Image against image from the same code and fonts: identical on one
 * machine (measured: 0 pixels); a cairo/pixman/FreeType upgrade may move an
 * antialiased edge by a few levels on a few pixels, and then `make golden`
 * is the answer. A hyphen at 12 pt is about 10 pixels at 100 dpi. */
#define PNG_TOL {.threshold = 32, .radius = 0, .max_pixels = 8, .size_slack = 0}
/* poppler's Splash rasteriser antialiases glyph and image edges differently
 * from cairo and may round the page to one more pixel row: a pixel passes
 * when it lies within the range of the other image's pixels within 1 px
 * (both ways), widened by 96 levels. Measured: 1 to 9 pixels remain, on
 * glyph edges. A missing glyph or stroke is paper in the other image's
 * neighbourhood and always counts. The QR code is left out (see compare()). */
#define PDF_TOL {.threshold = 96, .radius = 1, .max_pixels = 24, .size_slack = 1}

/* The QR code and the seal, at press resolution. */
static const double qr_seal_crop[4] = {20, 186, 150, 48};

static const gcase cases[] = {
	{"plain-full", "a plain record in full mode: every field on one line at 12 pt, "
	               "labels, border, QR, photo; level 三级",
	 2, CP_MODE_FULL, 0, 0, PAGE_DPI, NULL, PNG_TOL, true, PDF_TOL},
	{"plain-fill", "fill mode with a printer offset of 2, -1.5 mm: the variable layer "
	               "only, moved by exactly the offset",
	 2, CP_MODE_FILL, 2, -1.5, PAGE_DPI, NULL, PNG_TOL, true, PDF_TOL},
	{"plain-electronic", "electronic mode: everything plus the seal image over the "
	                     "organization name and date",
	 2, CP_MODE_ELECTRONIC, 0, 0, PAGE_DPI, NULL, PNG_TOL, true, PDF_TOL},
	{"no-job-type", "an occupation without job types prints \"--\" (第十二条); level "
	                "一级/高级技师",
	 3, CP_MODE_FULL, 0, 0, PAGE_DPI, NULL, PNG_TOL, true, PDF_TOL},
	{"long-occupation", "a 35-character occupation wraps onto two lines at 12 pt; "
	                    "level 二级/技师",
	 4, CP_MODE_FULL, 0, 0, PAGE_DPI, NULL, PNG_TOL, true, PDF_TOL},
	{"long-name", "a 20-character name shrinks on one line; level 四级/中级工",
	 5, CP_MODE_FULL, 0, 0, PAGE_DPI, NULL, PNG_TOL, true, PDF_TOL},
	{"rare-chars", "rare characters from the fallback fonts: 䶮 𠇔 (Noto Serif CJK), "
	               "𠀁 (HanaMinB only); level 五级/初级工",
	 6, CP_MODE_FULL, 0, 0, PAGE_DPI, NULL, PNG_TOL, true, PDF_TOL},
	{"minority-name", "a minority name with the middle dot ·",
	 7, CP_MODE_FULL, 0, 0, PAGE_DPI, NULL, PNG_TOL, true, PDF_TOL},
	{"latin-name", "a Latin name and a passport number",
	 8, CP_MODE_FULL, 0, 0, PAGE_DPI, NULL, PNG_TOL, true, PDF_TOL},
	{"fallback-name", "one face per field: FandolFang lacks 喆, so the whole name 郭娟喆 "
	                  "is set in Noto Serif CJK SC ExtraLight, matched in size",
	 9, CP_MODE_FULL, 0, 0, PAGE_DPI, NULL, PNG_TOL, true, PDF_TOL},
	{"fallback-fields", "a one-character fallback in each text field (name 王赟, "
	                    "occupation 珺琇工艺师, job type 昳彧方向): each field in one face",
	 10, CP_MODE_FULL, 0, 0, PAGE_DPI, NULL, PNG_TOL, true, PDF_TOL},
	{"qr-seal-300dpi", "the QR code (module edges on whole pixels) and the seal at "
	                   "300 dpi, electronic mode",
	 2, CP_MODE_ELECTRONIC, 0, 0, CROP_DPI, qr_seal_crop, PNG_TOL, false, PDF_TOL},
};

/* Everything the golden tests share, loaded once. */
typedef struct golden {
	char *fonts_problem; /* why nothing can be compared, or NULL */
	cp_fonts *fonts;
	ic_batch *batch;
	/* the PDF of every case with pdf = true, rasterised; NULL when not yet */
	bool pdf_done;
	char *pdf_problem;
	cairo_surface_t **pdf_pages;
	int npdf;
} golden;

static golden G;
static bool update_mode;

/* Loads the pinned fonts from fonts_dir (NULL: the installed ones) and the
 * fixture batch. A font problem is kept as the reason every golden test will
 * give instead of comparing pixels. */
static void golden_load(golden *g, const char *fonts_dir)
{
	memset(g, 0, sizeof *g);
	cp_error *err = NULL;
	g->fonts = cp_fonts_new(fonts_dir, NULL, &err);
	if (!g->fonts) {
		char *m = cp_error_format(err);
		g->fonts_problem = g_strdup_printf(
			"golden images not compared: the fonts are not the pinned set "
			"(%s): %s", err->code == CP_E_FONT ? "CP_E_FONT" : "error", m);
		g_free(m);
		cp_error_free(err);
		return;
	}
	char *csv = tu_path("data/golden/records.csv");
	char *org = tu_path("data/golden/org.conf");
	char *tmpl = tu_path("../templates/certificate.conf");
	char *why = NULL;
	g->batch = ic_batch_load(csv, org, tmpl, g->fonts, &why);
	if (!g->batch) {
		g->fonts_problem = g_strdup_printf("golden fixture cannot be loaded: %s", why);
		g_free(why);
	}
	g_free(csv);
	g_free(org);
	g_free(tmpl);
}

static void golden_clear(golden *g)
{
	for (int i = 0; i < g->npdf; i++)
		cairo_surface_destroy(g->pdf_pages[i]);
	g_free(g->pdf_pages);
	g_free(g->pdf_problem);
	ic_batch_free(g->batch);
	cp_fonts_free(g->fonts);
	g_free(g->fonts_problem);
	memset(g, 0, sizeof *g);
}

/* The laid-out page of a case, or NULL after failing the test with the
 * reason (fonts, fixture, or the record refused). */
static const cp_page *case_page(golden *g, const gcase *c, size_t *index)
{
	if (g->fonts_problem) {
		g_test_message("%s", g->fonts_problem);
		if (g_test_subprocess()) /* messages are not shown there */
			g_print("%s\n", g->fonts_problem);
		g_test_fail();
		return NULL;
	}
	for (size_t i = 0; i < g->batch->n; i++) {
		if (g->batch->recs[i].row != c->row)
			continue;
		if (index)
			*index = i;
		if (!g->batch->pages[i]) {
			g_test_message("golden %s: the record (row %ld) was refused, so there is "
			               "nothing to compare: %s", c->name, c->row,
			               g->batch->refusal[i]);
			g_test_fail();
		}
		return g->batch->pages[i];
	}
	g_test_message("golden %s: tests/data/golden/records.csv has no row %ld", c->name,
	               c->row);
	g_test_fail();
	return NULL;
}

static char *reference_path(const char *name)
{
	char *file = g_strconcat(name, ".png", NULL);
	char *p = g_build_filename(CP_TESTDIR, "..", "golden", file, NULL);
	g_free(file);
	return p;
}

static char *output_dir(void)
{
	const char *build = g_getenv("BUILD");
	char *d = g_build_filename(build ? build : CP_TESTDIR "/../build", "tests", "golden",
	                           NULL);
	g_mkdir_with_parents(d, 0755);
	return d;
}

static void write_png(cairo_surface_t *s, const char *path, double dpi)
{
	cp_error *err = NULL;
	cp_png_write(s, path, dpi, &err);
	tu_assert_no_error(err);
}

/* Compares actual with the case's reference. what: "" for the image path,
 * ".pdf" for the PDF path (names the output files). */
static void compare(const gcase *c, const cp_page *pg, cairo_surface_t *actual,
                    const ic_tolerance *tol, const char *what)
{
	char *ref = reference_path(c->name);
	char *why = NULL;
	cairo_surface_t *expected = ic_load_png(ref, &why);
	if (!expected) {
		g_test_message("golden %s%s: no reference (%s); run `make golden` to create "
		               "it, then review it", c->name, what, why);
		g_test_fail();
		g_free(why);
		g_free(ref);
		return;
	}
	/* The QR code snaps its modules to whole pixels on raster targets
	 * only (src/layout/qr.c), so in the PDF it is a little larger: it is left out
	 * of the PDF comparison and decoded from the PDF by test_fields. */
	ic_box skip[1];
	size_t nskip = 0;
	if (strcmp(what, ".pdf") == 0) {
		size_t n;
		const cp_page_item *items = cp_page_items(pg, &n);
		for (size_t i = 0; i < n; i++)
			if (items[i].kind == CP_EL_QR && nskip < G_N_ELEMENTS(skip))
				skip[nskip++] = (ic_box){items[i].x + c->ox, items[i].y + c->oy,
				                         items[i].w, items[i].h};
	}
	ic_diff d;
	bool same = ic_compare(actual, expected, tol, skip, nskip, c->dpi, &d);
	double ox = c->crop ? c->crop[0] : 0, oy = c->crop ? c->crop[1] : 0;
	char *where = ic_describe(&d, c->dpi, ox, oy, pg, c->ox, c->oy);
	g_test_message("golden %s%s: %ld pixels differ (threshold %d, radius %d, at most "
	               "%ld allowed), largest channel difference %d: %s", c->name, what,
	               d.differing, tol->threshold, tol->radius, tol->max_pixels, d.max_delta,
	               where);
	if (!same) {
		char *dir = output_dir();
		char *base = g_strconcat(c->name, what, NULL);
		char *out = g_strdup_printf("%s/%s.out.png", dir, base);
		char *diff = g_strdup_printf("%s/%s.diff.png", dir, base);
		write_png(actual, out, c->dpi);
		cairo_surface_t *di = ic_diff_image(actual, &d);
		write_png(di, diff, c->dpi);
		cairo_surface_destroy(di);
		g_test_message("golden %s%s FAILED (%s): %s%s%ld pixels differ by more than %d "
		               "(%ld allowed); %s. Actual: %s  Diff (red): %s  Reference: %s. "
		               "If the change is intended, run `make golden` and review the "
		               "new reference.",
		               c->name, what, c->proves, d.size_problem ? d.size_problem : "",
		               d.size_problem ? "; " : "", d.differing, tol->threshold,
		               tol->max_pixels, where, out, diff, ref);
		g_test_fail();
		g_free(out);
		g_free(diff);
		g_free(base);
		g_free(dir);
	}
	g_free(where);
	ic_diff_clear(&d);
	cairo_surface_destroy(expected);
	g_free(ref);
}

static void opts_for(const gcase *c, cp_output_opts *o)
{
	cp_output_opts_init(o);
	o->mode = c->mode;
	o->offset_x_mm = c->ox;
	o->offset_y_mm = c->oy;
	o->dpi = c->dpi;
}

static void test_png(gconstpointer data)
{
	const gcase *c = data;
	g_test_message("proves: %s", c->proves);
	const cp_page *pg = case_page(&G, c, NULL);
	if (!pg)
		return;
	cp_output_opts o;
	opts_for(c, &o);
	cairo_surface_t *s = ic_render(G.batch->engine, pg, G.batch->tmpl, &o, c->dpi, c->crop);
	if (update_mode) {
		char *ref = reference_path(c->name);
		write_png(s, ref, c->dpi);
		g_test_message("golden %s: reference rewritten: %s", c->name, ref);
		g_free(ref);
	}
	compare(c, pg, s, &c->png, "");
	cairo_surface_destroy(s);
}

/* Writes one PDF holding a page for every case with pdf = true (in table
 * order) through cp_pdf_writer, and rasterises it with poppler. */
static void make_pdf(golden *g)
{
	g->pdf_done = true;
	const char *missing = NULL;
	const char *tools[] = {"pdftoppm", NULL};
	if (!ic_have_tools(tools, &missing)) {
		g->pdf_problem = g_strdup_printf("%s is not installed (scripts/deps.sh "
		                                 "installs poppler-utils)", missing);
		return;
	}
	char *dir = tu_scratch("golden-pdf");
	char *pdf = g_build_filename(dir, "golden.pdf", NULL);
	cp_error *err = NULL;
	cp_pdf_writer *w = cp_pdf_writer_new(pdf, cp_template_page_width_mm(g->batch->tmpl),
	                                     cp_template_page_height_mm(g->batch->tmpl), NULL,
	                                     &err);
	tu_assert_no_error(err);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		if (!cases[i].pdf)
			continue;
		const cp_page *pg = NULL;
		for (size_t k = 0; k < g->batch->n; k++)
			if (g->batch->recs[k].row == cases[i].row)
				pg = g->batch->pages[k];
		cairo_t *cr = cp_pdf_writer_begin_page(w, &err);
		tu_assert_no_error(err);
		if (pg) { /* a refused record leaves a blank page; its PNG test says why */
			cp_output_opts o;
			opts_for(&cases[i], &o);
			cp_engine_draw(g->batch->engine, pg, cr, &o);
		}
		g_assert_true(cp_pdf_writer_end_page(w, &err));
		tu_assert_no_error(err);
	}
	g_assert_true(cp_pdf_writer_commit(w, &err));
	tu_assert_no_error(err);
	char *why = NULL;
	g->npdf = ic_pdf_rasterise(pdf, PAGE_DPI, dir, &g->pdf_pages, &why);
	if (g->npdf < 0) {
		g->npdf = 0;
		g->pdf_problem = why;
	}
	g_test_message("PDF of the golden pages: %s (%d pages rasterised)", pdf, g->npdf);
	g_free(pdf);
	g_free(dir);
}

static void test_pdf(gconstpointer data)
{
	const gcase *c = data;
	g_test_message("proves: %s, through the PDF writer and poppler", c->proves);
	const cp_page *pg = case_page(&G, c, NULL);
	if (!pg)
		return;
	if (!G.pdf_done)
		make_pdf(&G);
	if (G.pdf_problem) {
		g_test_message("golden %s.pdf: %s", c->name, G.pdf_problem);
		g_test_fail();
		return;
	}
	int page = 0;
	for (const gcase *k = cases; k < c; k++)
		page += k->pdf;
	g_assert_cmpint(page, <, G.npdf);
	compare(c, pg, G.pdf_pages[page], &c->pdf_tol, ".pdf");
}

/* Fails the test (without stopping the others) when cond is false. */
#define CHECK(cond, ...) \
	do { \
		if (!(cond)) { \
			g_test_message(__VA_ARGS__); \
			g_test_fail(); \
		} \
	} while (0)

/* The rule behind each of a few references, checked on the layout too, so
 * that a reference regenerated from broken code is caught. */
static void test_rules_behind_references(void)
{
	const cp_page *pg;
	if ((pg = case_page(&G, &cases[3], NULL))) {
		const char *jt = cp_page_find(pg, CP_FIELD_JOB_TYPE)->text;
		CHECK(strcmp(jt, "--") == 0, "no-job-type: job type printed as \"%s\", not \"--\"",
		      jt);
	}
	if ((pg = case_page(&G, &cases[4], NULL))) {
		const cp_page_item *occ = cp_page_find(pg, CP_FIELD_OCCUPATION);
		CHECK(g_utf8_strlen(occ->text, -1) >= 30 && occ->lines == 2 &&
		              occ->font_size == 12,
		      "long-occupation: %ld characters on %d lines at %g pt, expected 30+ on 2 "
		      "at 12 pt", g_utf8_strlen(occ->text, -1), occ->lines, occ->font_size);
	}
	if ((pg = case_page(&G, &cases[5], NULL))) {
		const cp_page_item *name = cp_page_find(pg, CP_FIELD_NAME);
		CHECK(name->lines == 1 && name->font_size < 12,
		      "long-name: %d lines at %g pt, expected 1 line below 12 pt", name->lines,
		      name->font_size);
	}
	/* One face per field (layout.h): what each fallback case is set in. */
	if ((pg = case_page(&G, &cases[6], NULL))) {
		const cp_page_item *name = cp_page_find(pg, CP_FIELD_NAME);
		CHECK(name->forced && strcmp(name->forced, "䶮𠇔𠀁") == 0 && name->face &&
		              strcmp(name->face, "Noto Serif CJK SC") == 0 && name->faces &&
		              strcmp(name->faces, "𠀁 HanaMinB") == 0,
		      "rare-chars: forced %s, face %s, faces %s; expected 䶮𠇔𠀁 forcing Noto "
		      "Serif CJK SC with 𠀁 HanaMinB", name->forced ? name->forced : "-",
		      name->face ? name->face : "-", name->faces ? name->faces : "-");
	}
	for (size_t c = 7; c < G_N_ELEMENTS(cases); c++) {
		if (!(pg = case_page(&G, &cases[c], NULL)))
			continue;
		const cp_page_item *name = cp_page_find(pg, CP_FIELD_NAME);
		if (strcmp(cases[c].name, "minority-name") == 0 ||
		    strcmp(cases[c].name, "latin-name") == 0 || strcmp(cases[c].name, "qr-seal-300dpi") == 0) {
			CHECK(!name->forced && !name->face,
			      "%s: the name is set in its own font, yet falls back for %s",
			      cases[c].name, name->forced ? name->forced : "-");
			continue;
		}
		int binds[] = {CP_FIELD_NAME, CP_FIELD_OCCUPATION, CP_FIELD_JOB_TYPE};
		size_t nb = strcmp(cases[c].name, "fallback-fields") == 0 ? 3 : 1;
		for (size_t b = 0; b < nb; b++) {
			const cp_page_item *it = cp_page_find(pg, binds[b]);
			CHECK(it->forced && it->face && strcmp(it->face, "Noto Serif CJK SC") == 0 &&
			              !it->faces,
			      "%s: %s set in %s (forced by %s, mixed %s); expected whole in Noto "
			      "Serif CJK SC", cases[c].name, cp_layout_bind_label(binds[b]),
			      it->face ? it->face : "its own font", it->forced ? it->forced : "-",
			      it->faces ? it->faces : "no");
		}
	}
	if (G.fonts) {
		/* 𠀁 (U+20001) exists only in HanaMinB; 䶮 in Noto Serif CJK */
		static const char *const fam[][2] = {{"𠀁", "HanaMinB"},
		                                     {"䶮", "Noto Serif CJK SC"}};
		for (size_t i = 0; i < G_N_ELEMENTS(fam); i++) {
			char *got = cp_fonts_family_for(G.fonts, NULL, fam[i][0]);
			CHECK(got && strcmp(got, fam[i][1]) == 0, "%s is set in %s, expected %s",
			      fam[i][0], got ? got : "no font", fam[i][1]);
			g_free(got);
		}
	}
	/* every level is pinned by some reference */
	bool level[6] = {false};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		size_t k;
		if (case_page(&G, &cases[i], &k))
			level[G.batch->recs[k].level] = true;
	}
	for (int l = 1; l <= 5; l++)
		CHECK(level[l], "no golden reference pins level %d", l);
}

/* A font that is not the pinned one: the golden test fails naming the font
 * and the manifest line, and compares no pixels. Run in a subprocess with a
 * fonts folder whose manifest pins FandolFang to a wrong checksum. */
static void test_fonts_pinned(void)
{
	if (g_test_subprocess()) {
		char *dir = tu_scratch("golden-bad-fonts");
		char *font = g_build_filename(CP_TESTDIR, "..", "fonts", "FandolFang-Regular.otf",
		                              NULL);
		char *canon = g_canonicalize_filename(font, NULL);
		char *manifest = g_strdup_printf(
			"# wrong on purpose\n%s %s test\n", canon,
			"0000000000000000000000000000000000000000000000000000000000000000");
		char *p = tu_write(dir, "fonts.manifest", manifest);
		golden bad;
		golden_load(&bad, dir);
		golden saved = G;
		G = bad;
		test_png(&cases[0]); /* fails, saying why */
		G = saved;
		golden_clear(&bad);
		g_free(p);
		g_free(manifest);
		g_free(canon);
		g_free(font);
		g_free(dir);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_failed();
	g_test_trap_assert_stdout("*golden images not compared: the fonts are not the "
	                          "pinned set (CP_E_FONT)*FandolFang-Regular.otf is not "
	                          "the pinned one*");
	/* the reason is the font, not a pixel difference */
	g_test_trap_assert_stdout_unmatched("*FAILED*pixels differ*");
}

int main(int argc, char **argv)
{
	char *cache = tu_scratch("golden-cache-home");
	g_setenv("XDG_CACHE_HOME", cache, TRUE);
	g_free(cache);
	g_setenv("SOURCE_DATE_EPOCH", "1795737600", TRUE);
	setlocale(LC_ALL, "C.UTF-8"); /* messages hold Chinese text */
	/* Every golden failure at once: one regression usually shows in several
	 * references, and together they say where it is. */
	char **args = g_new0(char *, (size_t)argc + 2);
	memcpy(args, argv, sizeof *argv * (size_t)argc);
	args[argc++] = "--keep-going";
	argv = args;
	g_test_init(&argc, &argv, NULL);
	const char *u = g_getenv("CERTPRESS_GOLDEN_UPDATE");
	update_mode = u && strcmp(u, "1") == 0;
	golden_load(&G, NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *path = g_strconcat("/golden/png/", cases[i].name, NULL);
		g_test_add_data_func(path, &cases[i], test_png);
		g_free(path);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		if (!cases[i].pdf)
			continue;
		char *path = g_strconcat("/golden/pdf/", cases[i].name, NULL);
		g_test_add_data_func(path, &cases[i], test_pdf);
		g_free(path);
	}
	g_test_add_func("/golden/rules", test_rules_behind_references);
	g_test_add_func("/golden/fonts-pinned", test_fonts_pinned);
	int rc = g_test_run();
	golden_clear(&G);
	g_free(args);
	return rc;
}
