/* SPDX-License-Identifier: MIT */
#include "common/testutil.h"

#include <cairo-pdf.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "output/pdfjoin.h"

#define VP "/ViewerPreferences << /PrintScaling /None >>"

static cairo_status_t to_file(void *closure, const unsigned char *data, unsigned int len)
{
	return fwrite(data, 1, len, closure) == len ? CAIRO_STATUS_SUCCESS
	                                            : CAIRO_STATUS_WRITE_ERROR;
}

/* A part as a certpress worker writes it: a Cairo stream surface into an
 * (unlinked) temporary file; page i shows "P<part>-<i>", even pages paint
 * one shared image (stored once: CAIRO_MIME_TYPE_UNIQUE_ID), every page
 * paints one recording surface (a Form XObject). Returns the descriptor. */
static int make_part(int part, int pages, const char *title)
{
	FILE *f = tmpfile();
	g_assert_nonnull(f);
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(to_file, f, 595.28, 841.89);
	cairo_pdf_surface_restrict_to_version(s, CAIRO_PDF_VERSION_1_5);
	if (title)
		cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title);
	cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 32, 32);
	unsigned char *px = cairo_image_surface_get_data(img);
	for (int i = 0; i < 32 * 32 * 4; i++)
		px[i] = (unsigned char)(i * 7 + part);
	cairo_surface_mark_dirty(img);
	static const unsigned char uid[] = "certpress-test-image";
	cairo_surface_set_mime_data(img, CAIRO_MIME_TYPE_UNIQUE_ID, uid, sizeof uid - 1, NULL,
	                            NULL);
	/* Bounded and with a unique ID, as src/layout/layout.c's shared layer. */
	cairo_rectangle_t ext = {0, 0, 40, 20};
	cairo_surface_t *rec = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &ext);
	static const unsigned char rid[] = "certpress-test-layer";
	cairo_surface_set_mime_data(rec, CAIRO_MIME_TYPE_UNIQUE_ID, rid, sizeof rid - 1, NULL,
	                            NULL);
	cairo_t *rc = cairo_create(rec);
	cairo_set_source_rgb(rc, 0.1, 0.2, 0.8);
	cairo_rectangle(rc, 0, 0, 40, 20);
	cairo_fill(rc);
	cairo_destroy(rc);
	cairo_t *cr = cairo_create(s);
	for (int i = 0; i < pages; i++) {
		char text[32];
		g_snprintf(text, sizeof text, "P%d-%d", part, i);
		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_select_font_face(cr, "sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
		cairo_set_font_size(cr, 24);
		cairo_move_to(cr, 72, 100);
		cairo_show_text(cr, text);
		if (i % 2 == 0) {
			cairo_set_source_surface(cr, img, 72, 200);
			cairo_paint(cr);
		}
		cairo_set_source_surface(cr, rec, 300, 300);
		cairo_paint(cr);
		cairo_show_page(cr);
	}
	cairo_destroy(cr);
	cairo_surface_finish(s);
	g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
	cairo_surface_destroy(img);
	cairo_surface_destroy(rec);
	g_assert_cmpint(fflush(f), ==, 0);
	int fd = dup(fileno(f));
	fclose(f);
	lseek(fd, 3, SEEK_SET); /* the joiner must not depend on the position */
	return fd;
}

static char *join_to_file(const char *dir, const char *name, const int *fds, int n,
                          const cp_pdf_run *runs, size_t nruns, const char *extra,
                          cp_error **err)
{
	char *path = g_build_filename(dir, name, NULL);
	FILE *out = fopen(path, "wb");
	g_assert_nonnull(out);
	bool ok = cp_pdf_join(out, path, fds, n, runs, nruns, extra, err);
	g_assert_cmpint(fclose(out), ==, 0);
	if (!ok) {
		g_free(path);
		return NULL;
	}
	return path;
}

/* The text of each page, in order, as poppler extracts it. */
static char **page_texts(const char *path, int *n)
{
	int st;
	const char *argv[] = {"pdftotext", "-layout", path, "-", NULL};
	char *out = tu_run(argv, &st);
	g_assert_cmpint(st, ==, 0);
	char **pages = g_strsplit(out, "\f", -1);
	g_free(out);
	*n = (int)g_strv_length(pages) - 1; /* the text ends with a form feed */
	for (int i = 0; pages[i]; i++)
		g_strstrip(pages[i]);
	return pages;
}

/* The page texts are exactly what the runs ask for, in their order. */
static void expect_order(const char *path, const cp_pdf_run *runs, size_t nruns)
{
	int n;
	char **pages = page_texts(path, &n);
	int next[8] = {0}, k = 0;
	for (size_t r = 0; r < nruns; r++)
		for (long i = 0; i < runs[r].pages; i++, k++) {
			char want[32];
			g_snprintf(want, sizeof want, "P%d-%d", runs[r].part, next[runs[r].part]++);
			g_assert_cmpint(k, <, n);
			g_assert_cmpstr(pages[k], ==, want);
		}
	g_assert_cmpint(k, ==, n);
	g_strfreev(pages);
}

static char *pdfinfo(const char *path)
{
	int st;
	const char *argv[] = {"pdfinfo", path, NULL};
	char *out = tu_run(argv, &st);
	g_assert_cmpint(st, ==, 0);
	return out;
}

static bool have_tools(void)
{
	if (tu_have("qpdf") && tu_have("pdfinfo") && tu_have("pdftotext"))
		return true;
	g_test_skip("qpdf or poppler-utils is not installed");
	return false;
}

/* The output's cross-reference table as 7.5.4 has it, checked entry by
 * entry (qpdf rebuilds what it cannot use and pdfinfo ignores free
 * entries): one section 0..N-1, N the trailer's /Size; each entry in use
 * points at "n 0 obj"; entry 0 (generation 65535) begins the list of free
 * numbers, each free entry names the next free number up, the last 0.
 * Returns how many numbers are free besides 0. */
static int expect_xref(const char *path)
{
	char *pdf;
	gsize len;
	g_assert_true(g_file_get_contents(path, &pdf, &len, NULL));
	g_assert_cmpuint(len, >, 64);
	const char *sx = memmem(pdf + len - 64, 64, "startxref\n", 10);
	g_assert_nonnull(sx);
	long at = atol(sx + 10);
	g_assert_cmpint(at, >, 0);
	g_assert_cmpint(at, <, (long)len);
	const char *t = pdf + at;
	long n;
	int used;
	g_assert_cmpint(sscanf(t, "xref\n0 %ld\n%n", &n, &used), ==, 1);
	const char *e = t + used;
	g_assert_cmpint((long)(e - pdf) + 20 * n, <, (long)len);
	const char *tr = strstr(e + 20 * n, "/Size ");
	g_assert_nonnull(tr);
	g_assert_cmpint(atol(tr + 6), ==, n);
	long expect_free = -1; /* the number the previous free entry named */
	int frees = 0;
	for (long k = 0; k < n; k++, e += 20) {
		g_assert_true(e[10] == ' ' && e[16] == ' ' && e[18] == '\r' && e[19] == '\n');
		long v = atol(e), gen = atol(e + 11);
		if (e[17] == 'n') {
			g_assert_cmpint(k, !=, 0);
			g_assert_cmpint(gen, ==, 0);
			char head[32];
			int hl = g_snprintf(head, sizeof head, "%ld 0 obj", k);
			g_assert_cmpint(v + hl, <, (long)len);
			g_assert_true(memcmp(pdf + v, head, (size_t)hl) == 0);
			continue;
		}
		g_assert_cmpint(e[17], ==, 'f');
		g_assert_cmpint(gen, ==, k == 0 ? 65535 : 0);
		if (k > 0) {
			g_assert_cmpint(k, ==, expect_free); /* none skipped */
			frees++;
		}
		g_assert_true(v == 0 || v > k);
		expect_free = v;
	}
	g_assert_cmpint(expect_free, ==, 0); /* the list ends */
	g_free(pdf);
	return frees;
}

/* Two and three parts with interleaved runs: a valid file (qpdf finds no
 * warning), every page in run order, part 0's title, the caller's catalog
 * entry, one page count. */
static void test_interleaved(void)
{
	if (!have_tools())
		return;
	char *dir = tu_scratch("pdfjoin-ok");
	int fds[3] = {make_part(0, 3, "Part zero"), make_part(1, 4, "Part one"),
	              make_part(2, 2, NULL)};
	long pages;
	cp_error *err = NULL;
	g_assert_true(cp_pdf_part_pages(fds[1], &pages, &err));
	tu_assert_no_error(err);
	g_assert_cmpint(pages, ==, 4);

	const cp_pdf_run two[] = {{0, 2}, {1, 3}, {0, 1}, {1, 1}};
	char *path = join_to_file(dir, "two.pdf", fds, 2, two, G_N_ELEMENTS(two), VP, &err);
	tu_assert_no_error(err);
	tu_qpdf_check_ok(path);
	expect_order(path, two, G_N_ELEMENTS(two));
	/* Part 1's /Info is left out: its number is free. */
	g_assert_cmpint(expect_xref(path), >=, 1);
	char *info = pdfinfo(path);
	g_assert_nonnull(strstr(info, "Pages:           7"));
	g_assert_nonnull(strstr(info, "Title:           Part zero"));
	g_free(info);
	int st;
	const char *argv[] = {"qpdf", "--show-object=2", path, NULL};
	char *cat = tu_run(argv, &st);
	g_assert_cmpint(st, ==, 0);
	g_test_message("catalog: %s", cat);
	g_assert_nonnull(strstr(cat, "/Type /Catalog"));
	g_assert_nonnull(strstr(cat, "/ViewerPreferences << /PrintScaling /None >>"));
	g_free(cat);
	const char *targv[] = {"qpdf", "--show-object=trailer", path, NULL};
	char *trailer = tu_run(targv, &st);
	g_assert_nonnull(strstr(trailer, "/Root 2 0 R"));
	g_assert_nonnull(strstr(trailer, "/ID ["));
	g_free(trailer);

	const cp_pdf_run three[] = {{2, 1}, {0, 1}, {1, 2}, {0, 2}, {2, 1}, {1, 2}};
	char *path3 = join_to_file(dir, "three.pdf", fds, 3, three, G_N_ELEMENTS(three), NULL,
	                           &err);
	tu_assert_no_error(err);
	tu_qpdf_check_ok(path3);
	expect_order(path3, three, G_N_ELEMENTS(three));
	g_assert_cmpint(expect_xref(path3), >=, 1);
	info = pdfinfo(path3);
	g_assert_nonnull(strstr(info, "Pages:           9"));
	g_assert_nonnull(strstr(info, "Title:           Part zero"));
	g_free(info);

	/* The same input twice: the same bytes (the /ID too). */
	char *again = join_to_file(dir, "three-again.pdf", fds, 3, three, G_N_ELEMENTS(three),
	                           NULL, &err);
	tu_assert_no_error(err);
	char *a, *b;
	gsize alen, blen;
	g_assert_true(g_file_get_contents(path3, &a, &alen, NULL));
	g_assert_true(g_file_get_contents(again, &b, &blen, NULL));
	g_assert_cmpuint(alen, ==, blen);
	g_assert_true(memcmp(a, b, alen) == 0);
	g_free(a);
	g_free(b);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	g_free(again);
	g_free(path3);
	g_free(path);
	g_free(dir);
}

/* One part alone: a valid file with the same page texts. */
static void test_identity(void)
{
	if (!have_tools())
		return;
	char *dir = tu_scratch("pdfjoin-one");
	int fd = make_part(0, 5, "Alone");
	const cp_pdf_run runs[] = {{0, 5}};
	cp_error *err = NULL;
	char *path = join_to_file(dir, "one.pdf", &fd, 1, runs, 1, NULL, &err);
	tu_assert_no_error(err);
	tu_qpdf_check_ok(path);
	expect_order(path, runs, 1);
	char *info = pdfinfo(path);
	g_assert_nonnull(strstr(info, "Title:           Alone"));
	g_assert_nonnull(strstr(info, "595.28 x 841.89 pts"));
	g_free(info);
	/* The part's one image and one Form XObject, each stored once, are
	 * still stored once. */
	char *bytes;
	gsize blen;
	g_assert_true(g_file_get_contents(path, &bytes, &blen, NULL));
	int images = 0, forms = 0;
	for (const char *p = bytes; (p = memmem(p, blen - (gsize)(p - bytes), "/Subtype /", 10));
	     p += 10) {
		images += strncmp(p + 10, "Image", 5) == 0;
		forms += strncmp(p + 10, "Form", 4) == 0;
	}
	g_assert_cmpint(images, ==, 1);
	g_assert_cmpint(forms, >=, 1);
	g_free(bytes);
	close(fd);
	g_free(path);
	g_free(dir);
}

static void expect_join_error(const int *fds, int n, const cp_pdf_run *runs, size_t nruns,
                              const char *extra, cp_code code, const char *needle)
{
	FILE *out = tmpfile();
	cp_error *err = NULL;
	g_assert_false(cp_pdf_join(out, "out.pdf", fds, n, runs, nruns, extra, &err));
	tu_assert_error(&err, code, needle);
	fclose(out);
}

/* Runs that do not take every page exactly once, a bad part index, a bad
 * catalog addition: CP_E_USAGE. */
static void test_bad_runs(void)
{
	int fds[2] = {make_part(0, 3, NULL), make_part(1, 2, NULL)};
	const cp_pdf_run skip[] = {{0, 2}, {1, 2}};
	expect_join_error(fds, 2, skip, G_N_ELEMENTS(skip), NULL, CP_E_USAGE, "2 of the 3 pages");
	const cp_pdf_run over[] = {{0, 3}, {1, 2}, {0, 1}};
	expect_join_error(fds, 2, over, G_N_ELEMENTS(over), NULL, CP_E_USAGE, "only 0 left");
	const cp_pdf_run index[] = {{0, 3}, {2, 2}};
	expect_join_error(fds, 2, index, G_N_ELEMENTS(index), NULL, CP_E_USAGE, "part 2");
	const cp_pdf_run neg[] = {{-1, 3}};
	expect_join_error(fds, 2, neg, G_N_ELEMENTS(neg), NULL, CP_E_USAGE, "part -1");
	const cp_pdf_run zero[] = {{0, 0}, {0, 3}, {1, 2}};
	expect_join_error(fds, 2, zero, G_N_ELEMENTS(zero), NULL, CP_E_USAGE, "0 pages");
	expect_join_error(fds, 2, NULL, 0, NULL, CP_E_USAGE, "0 of the 3 pages");
	const cp_pdf_run all[] = {{0, 3}, {1, 2}};
	expect_join_error(fds, 2, all, 2, "/A 1 0 R", CP_E_USAGE, "not PDF key/value");
	expect_join_error(fds, 2, all, 2, "/A >> endobj", CP_E_USAGE, "not PDF key/value");
	expect_join_error(fds, 2, all, 2, "/A endobj", CP_E_USAGE, "not PDF key/value");
	expect_join_error(fds, 0, all, 2, NULL, CP_E_USAGE, "no parts");
	close(fds[0]);
	close(fds[1]);
}

static int fd_from(const char *data, size_t len)
{
	FILE *f = tmpfile();
	g_assert_nonnull(f);
	g_assert_cmpuint(fwrite(data, 1, len, f), ==, len);
	fflush(f);
	int fd = dup(fileno(f));
	fclose(f);
	return fd;
}

/* A PDF of objects 1 .. n-1 (objs[0] unused), each "k 0 obj" objs[k],
 * with a classic cross-reference table and a trailer with /Size and the
 * entries given; its descriptor. */
static int fd_of_objects(const char *const *objs, size_t n, const char *trailer)
{
	GString *pdf = g_string_new("%PDF-1.5\n");
	int64_t *offs = g_new0(int64_t, n);
	for (size_t i = 1; i < n; i++) {
		offs[i] = (int64_t)pdf->len;
		g_string_append_printf(pdf, "%zu 0 obj\n%s\nendobj\n", i, objs[i]);
	}
	size_t xref = pdf->len;
	g_string_append_printf(pdf, "xref\n0 %zu\n0000000000 65535 f \n", n);
	for (size_t i = 1; i < n; i++)
		g_string_append_printf(pdf, "%010lld 00000 n \n", (long long)offs[i]);
	g_string_append_printf(pdf, "trailer\n<< /Size %zu %s >>\nstartxref\n%zu\n%%%%EOF\n", n,
	                       trailer, xref);
	int fd = fd_from(pdf->str, pdf->len);
	g_string_free(pdf, TRUE);
	g_free(offs);
	return fd;
}

static char *fd_contents(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	char *buf = g_malloc((size_t)end + 1);
	g_assert_cmpint(pread(fd, buf, (size_t)end, 0), ==, end);
	buf[end] = 0;
	*len = (size_t)end;
	return buf;
}

/* Replaces the first occurrence of from (which must exist) by to, of the
 * same length, in a copy of data. */
static int patched(const char *data, size_t len, const char *from, const char *to)
{
	g_assert_cmpuint(strlen(from), ==, strlen(to));
	char *copy = g_memdup2(data, len);
	char *at = memmem(copy, len, from, strlen(from));
	g_assert_nonnull(at);
	memcpy(at, to, strlen(to));
	int fd = fd_from(copy, len);
	g_free(copy);
	return fd;
}

/* A part made of data with bytes [at, at + cut) replaced by insert (the
 * data holds NUL bytes: no printf on it). */
static int spliced(const char *data, size_t len, size_t at, size_t cut, const char *insert)
{
	GString *s = g_string_new_len(data, (gssize)at);
	g_string_append(s, insert);
	g_string_append_len(s, data + at + cut, (gssize)(len - at - cut));
	int fd = fd_from(s->str, s->len);
	g_string_free(s, TRUE);
	return fd;
}

static void expect_parse_error(int bad, int good, const char *needle)
{
	int fds[2] = {good, bad};
	const cp_pdf_run runs[] = {{0, 1}, {1, 1}};
	/* The page count is never reached: the part fails first. */
	expect_join_error(fds, 2, runs, 2, NULL, CP_E_PARSE, needle);
	close(bad);
}

/* Parts that are not PDFs of the expected shape: CP_E_PARSE naming part 1
 * and what is wrong, never a crash (this test also runs under make asan). */
static void test_bad_parts(void)
{
	int good = make_part(0, 1, NULL);
	size_t len;
	char *data = fd_contents(make_part(1, 1, "x"), &len);

	expect_parse_error(fd_from(data, len / 2), good, "part 1");
	expect_parse_error(fd_from("garbage, not a PDF\n", 19), good, "not a PDF file");
	expect_parse_error(fd_from("", 0), good, "not a PDF file");
	/* no trailer: the keyword renamed */
	expect_parse_error(patched(data, len, "trailer", "trai1er"), good,
	                   "damaged cross-reference table");
	/* startxref off by one byte into the table */
	const char *sx = g_strrstr_len(data + len - 64, 64, "startxref\n");
	g_assert_nonnull(sx);
	char *bent = g_strdup_printf("startxref\n%d\n%%%%EOF\n", atoi(sx + 10) + 1);
	expect_parse_error(spliced(data, len, (size_t)(sx - data), len - (size_t)(sx - data), bent),
	                   good, "cross-reference table");
	g_free(bent);
	/* an xref entry pointing one byte off its object */
	expect_parse_error(patched(data, len, "0000000015 00000 n", "0000000016 00000 n"), good,
	                   "does not point at it");
	/* a reference to object 10^9, to one past /Size, to a free one */
	expect_parse_error(patched(data, len, "      /Type /Group", "/T 1000000000 0 R "), good,
	                   "damaged reference");
	expect_parse_error(patched(data, len, "/Resources 3 0 R", "/Re 8000000 0 R "), good,
	                   "object 8000000, which is not in use");
	expect_parse_error(patched(data, len, "/Resources 3 0 R", "/Resources 0 0 R"), good,
	                   "object 0, which is not in use");
	/* a huge /Size (the trailer follows every offset: its length may change) */
	const char *size = memmem(data, len, "/Size ", 6);
	g_assert_nonnull(size);
	size_t at = (size_t)(size - data), cut = (size_t)(strchr(size, '\n') - size);
	expect_parse_error(spliced(data, len, at, cut, "/Size 4000000000"), good, "/Size");
	expect_parse_error(spliced(data, len, at, cut, "/Size 8000000"), good, "/Size");
	/* a generation other than 0, an encrypted or updated part */
	expect_parse_error(patched(data, len, "/Root", "/Prev"), good, "incrementally");
	expect_parse_error(patched(data, len, "/Type /Catalog", "/Type /Catalot"), good,
	                   "not a catalog");
	expect_parse_error(patched(data, len, "/Type /Page ", "/Type /Pagx "), good,
	                   "neither a page");
	expect_parse_error(patched(data, len, "/Count 1", "/Count 2"), good, "/Count");
	expect_parse_error(patched(data, len, "endstream", "endstrean"), good, "endstream");
	expect_parse_error(patched(data, len, "stream\n", "strea \n"), good, "part 1");
	g_free(data);
	close(good);
}

/* A page tree with an intermediate node that gives its pages /MediaBox and
 * /Rotate by inheritance: the joined pages keep them. */
static void test_inherited(void)
{
	if (!have_tools())
		return;
	/* object 1 root -> 2 node (inheritable attributes) -> 3, 4 pages */
	const char *objs[] = {
		NULL,
		"<< /Type /Pages /Kids [ 2 0 R ] /Count 2 /Resources 6 0 R >>",
		"<< /Type /Pages /Parent 1 0 R /Kids [ 3 0 R 4 0 R ] /Count 2\n"
		"   /MediaBox [ 0 0 200 100 ] /Rotate 90 >>",
		"<< /Type /Page % a comment with >> and (\n   /Parent 2 0 R /Contents 5 0 R >>",
		"<< /Type /Page /Parent 2 0 R /Contents 5 0 R /MediaBox [0 0 300 300] "
		"/Title (a \\) string with 9 0 R % and >> inside) /H <41 42> >>",
		"<< /Length 20 >>\nstream\n0 0 m 10 10 l S %%%\nendstream",
		"<< /ProcSet [ /PDF ] >>",
		"<< /Type /Catalog /Pages 1 0 R >>",
	};
	int fd = fd_of_objects(objs, G_N_ELEMENTS(objs), "/Root 7 0 R");
	char *dir = tu_scratch("pdfjoin-inherit");
	const cp_pdf_run runs[] = {{0, 2}};
	cp_error *err = NULL;
	char *path = join_to_file(dir, "inherit.pdf", &fd, 1, runs, 1, NULL, &err);
	tu_assert_no_error(err);
	tu_qpdf_check_ok(path);
	int st;
	const char *argv[] = {"pdfinfo", "-f", "1", "-l", "2", path, NULL};
	char *info = tu_run(argv, &st);
	g_test_message("%s", info);
	g_assert_nonnull(strstr(info, "Page    1 size:  200 x 100 pts"));
	g_assert_nonnull(strstr(info, "Page    1 rot:   90"));
	g_assert_nonnull(strstr(info, "Page    2 size:  300 x 300 pts"));
	g_assert_nonnull(strstr(info, "Page    2 rot:   90"));
	g_free(info);
	/* the string with ") 9 0 R %" kept as it was, the reference in the
	 * resources renumbered */
	char *out;
	gsize olen;
	g_assert_true(g_file_get_contents(path, &out, &olen, NULL));
	g_assert_nonnull(strstr(out, "/Title (a \\) string with 9 0 R % and >> inside)"));
	g_assert_nonnull(strstr(out, "/Resources 8 0 R"));
	g_free(out);
	close(fd);
	g_free(path);
	g_free(dir);
}

/* ------------------------------------------------------- the layer apart */

/* The static art of the layer tests: a frame, a word, and a Form XObject
 * (a recording surface with a unique ID, as layout.c's shared layer). */
static void layer_art(cairo_t *cr)
{
	static const unsigned char rid[] = "certpress-test-art";
	cairo_rectangle_t ext = {0, 0, 60, 30};
	cairo_surface_t *rec = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &ext);
	cairo_surface_set_mime_data(rec, CAIRO_MIME_TYPE_UNIQUE_ID, rid, sizeof rid - 1, NULL,
	                            NULL);
	cairo_t *rc = cairo_create(rec);
	cairo_set_source_rgb(rc, 0.8, 0.1, 0.1);
	cairo_set_line_width(rc, 3);
	cairo_rectangle(rc, 2, 2, 56, 26);
	cairo_stroke(rc);
	cairo_destroy(rc);
	cairo_save(cr);
	cairo_set_source_surface(cr, rec, 400, 60);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0.2, 0.5, 0.2);
	cairo_select_font_face(cr, "serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	cairo_set_font_size(cr, 30);
	cairo_move_to(cr, 60, 60);
	cairo_show_text(cr, "LAYER");
	cairo_rectangle(cr, 20, 20, 555.28, 801.89);
	cairo_set_line_width(cr, 4);
	cairo_stroke(cr);
	cairo_restore(cr);
	cairo_surface_destroy(rec);
}

/* A part of `pages` pages, each a translucent square over the art's word
 * and "P<part>-<i>", with the layer's art drawn first on each page when
 * inline_art (else it is left to the joiner); with pages 0, the layer's
 * page: the art alone. */
static int make_layered(int part, int pages, bool inline_art)
{
	FILE *f = tmpfile();
	g_assert_nonnull(f);
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(to_file, f, 595.28, 841.89);
	cairo_pdf_surface_restrict_to_version(s, CAIRO_PDF_VERSION_1_5);
	cairo_t *cr = cairo_create(s);
	for (int i = 0; i < (pages ? pages : 1); i++) {
		if (inline_art || !pages)
			layer_art(cr);
		if (pages) {
			char text[32];
			g_snprintf(text, sizeof text, "P%d-%d", part, i);
			/* over the word: the order is seen */
			cairo_set_source_rgba(cr, 0, 0, 0.9, 0.6);
			cairo_rectangle(cr, 80 + 10 * i, 30, 40, 40);
			cairo_fill(cr);
			cairo_set_source_rgb(cr, 0, 0, 0);
			cairo_select_font_face(cr, "sans", CAIRO_FONT_SLANT_NORMAL,
			                       CAIRO_FONT_WEIGHT_NORMAL);
			cairo_set_font_size(cr, 24);
			cairo_move_to(cr, 72, 200);
			cairo_show_text(cr, text);
		}
		cairo_show_page(cr);
	}
	cairo_destroy(cr);
	cairo_surface_finish(s);
	g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
	g_assert_cmpint(fflush(f), ==, 0);
	int fd = dup(fileno(f));
	fclose(f);
	return fd;
}

/* Each page of path as a PPM (raw pixels) at 40 dpi, concatenated. */
static char *raster(const char *dir, const char *path, const char *stem, size_t *len)
{
	char *root = g_build_filename(dir, stem, NULL);
	int st;
	const char *argv[] = {"pdftoppm", "-r", "40", path, root, NULL};
	g_free(tu_run(argv, &st));
	g_assert_cmpint(st, ==, 0);
	GString *all = g_string_new(NULL);
	for (int page = 1;; page++) {
		char *f = g_strdup_printf("%s-%d.ppm", root, page), *data;
		gsize n;
		bool ok = g_file_get_contents(f, &data, &n, NULL);
		g_free(f);
		if (!ok)
			break;
		g_string_append_len(all, data, (gssize)n);
		g_free(data);
	}
	g_free(root);
	*len = all->len;
	return g_string_free(all, FALSE);
}

static int count(const char *t, size_t n, const char *needle)
{
	int k = 0;
	size_t nl = strlen(needle);
	for (const char *p = t; (p = memmem(p, n - (size_t)(p - t), needle, nl)); p++)
		k++;
	return k;
}

/* Two parts joined with the layer apart render exactly as the same parts
 * drawn with the art first on every page; the layer's drawing and the
 * stream that paints it are stored once; the file is valid. A layer of
 * two pages is refused. */
static void test_layer(void)
{
	if (!have_tools() || !tu_have("pdftoppm"))
		return;
	char *dir = tu_scratch("pdfjoin-layer");
	int bare[2] = {make_layered(0, 3, false), make_layered(1, 2, false)};
	int drawn[2] = {make_layered(0, 3, true), make_layered(1, 2, true)};
	int layer = make_layered(0, 0, false);
	const cp_pdf_run runs[] = {{0, 1}, {1, 2}, {0, 2}};
	cp_error *err = NULL;
	char *want = join_to_file(dir, "drawn.pdf", drawn, 2, runs, 3, VP, &err);
	tu_assert_no_error(err);
	char *path = g_build_filename(dir, "under.pdf", NULL);
	FILE *out = fopen(path, "wb");
	g_assert_nonnull(out);
	g_assert_true(cp_pdf_join_under(out, path, bare, 2, runs, 3, layer, VP, &err));
	tu_assert_no_error(err);
	g_assert_cmpint(fclose(out), ==, 0);
	tu_qpdf_check_ok(path);
	size_t na, nb;
	char *a = raster(dir, want, "want", &na), *b = raster(dir, path, "got", &nb);
	g_assert_cmpuint(na, >, 5 * 1000);
	g_assert_cmpuint(na, ==, nb);
	g_assert_true(memcmp(a, b, na) == 0);
	g_free(a);
	g_free(b);
	char *text;
	gsize len;
	g_assert_true(g_file_get_contents(path, &text, &len, NULL));
	g_assert_cmpint(count(text, len, "q /CertpressLayer Do Q"), ==, 1);
	/* the call, and each page's resources */
	g_assert_cmpint(count(text, len, "/CertpressLayer "), ==, 1 + 5);
	g_assert_cmpint(count(text, len, "/Subtype /Form /BBox"), ==, 1);
	g_free(text);

	int two = make_layered(0, 2, true);
	out = fopen(path, "wb");
	g_assert_false(cp_pdf_join_under(out, path, bare, 2, runs, 3, two, VP, &err));
	fclose(out);
	tu_assert_error(&err, CP_E_PARSE, "the shared layer is not one page");
	for (int i = 0; i < 2; i++) {
		close(bare[i]);
		close(drawn[i]);
	}
	close(layer);
	close(two);
	g_free(want);
	g_free(path);
	g_free(dir);
}

/* The layer under pages of other shapes than Cairo's: resources inherited
 * from the page tree as an object (whose /XObject is empty), resources in
 * the page with no /XObject, an empty resource dictionary, /Contents as an
 * array. Each gets the layer's name once and the call first in its
 * /Contents; qpdf finds no fault. */
static void test_layer_shapes(void)
{
	if (!have_tools())
		return;
	const char *objs[] = {
		NULL,
		"<< /Type /Pages /Kids [ 3 0 R 4 0 R 9 0 R ] /Count 3 /Resources 6 0 R "
		"/MediaBox [ 0 0 200 100 ] >>",
		"<< /Type /Catalog /Pages 1 0 R >>",
		"<< /Type /Page /Parent 1 0 R /Contents 5 0 R >>",
		"<< /Type /Page /Parent 1 0 R /Contents [ 5 0 R 8 0 R ] "
		"/Resources << /ProcSet [ /PDF ] >> >>",
		"<< /Length 20 >>\nstream\n0 0 m 10 10 l S %%%\nendstream",
		"<< /ProcSet [ /PDF ] /XObject << >> >>",
		"<< /Producer (test) >>",
		"<< /Length 9 >>\nstream\n5 5 m 9 9\nendstream",
		"<< /Type /Page /Parent 1 0 R /Contents 8 0 R /Resources << >> >>",
	};
	int fd = fd_of_objects(objs, G_N_ELEMENTS(objs), "/Root 2 0 R /Info 7 0 R");
	int layer = make_layered(0, 0, false);
	char *dir = tu_scratch("pdfjoin-layer-shapes");
	char *path = g_build_filename(dir, "shapes.pdf", NULL);
	FILE *out = fopen(path, "wb");
	g_assert_nonnull(out);
	const cp_pdf_run runs[] = {{0, 3}};
	cp_error *err = NULL;
	g_assert_true(cp_pdf_join_under(out, path, &fd, 1, runs, 1, layer, NULL, &err));
	tu_assert_no_error(err);
	g_assert_cmpint(fclose(out), ==, 0);
	tu_qpdf_check_ok(path);
	char *text;
	gsize len;
	g_assert_true(g_file_get_contents(path, &text, &len, NULL));
	/* Runs of spaces as one, for the comparisons below. */
	size_t k = 0;
	for (size_t i = 0; i < len; i++)
		if (!(text[i] == ' ' && k && text[k - 1] == ' '))
			text[k++] = text[i];
	len = k;
	/* part object n is 2 + n; the layer's form 15, the call 28 (the last) */
	g_assert_cmpint(count(text, len, "/Contents [28 0 R 7 0 R]"), ==, 1);
	g_assert_cmpint(count(text, len, "/Resources 8 0 R"), ==, 1);
	g_assert_cmpint(count(text, len, "<< /ProcSet [ /PDF ] /XObject << /CertpressLayer 15 0 R >> >>"),
	                ==, 1);
	g_assert_cmpint(count(text, len, "/Contents [28 0 R 7 0 R 10 0 R ] /Resources << /XObject << "
	                                 "/CertpressLayer 15 0 R >> /ProcSet [ /PDF ] >>"),
	                ==, 1);
	g_assert_cmpint(count(text, len, "/Contents [28 0 R 10 0 R] /Resources << /XObject << "
	                                 "/CertpressLayer 15 0 R >> >>"),
	                ==, 1);
	g_assert_cmpint(count(text, len, "28 0 obj\n<< /Length 23 >>\nstream\nq /CertpressLayer Do Q\n"),
	                ==, 1);
	g_free(text);
	close(fd);
	close(layer);
	g_free(path);
	g_free(dir);
}

/* The pages of path as PNG at 40 dpi, concatenated (g_free). */
static char *pages_png(const char *path, size_t *len)
{
	int st;
	char *dir = g_path_get_dirname(path), *base = g_path_get_basename(path);
	char *prefix = g_build_filename(dir, base, NULL);
	const char *argv[] = {"pdftoppm", "-r", "40", "-png", path, prefix, NULL};
	g_free(tu_run(argv, &st));
	g_assert_cmpint(st, ==, 0);
	GString *all = g_string_new(NULL);
	for (int i = 1;; i++) {
		char *png = g_strdup_printf("%s-%d.png", prefix, i);
		gchar *data;
		gsize n;
		bool have = g_file_get_contents(png, &data, &n, NULL);
		g_free(png);
		if (!have)
			break;
		g_string_append_len(all, data, (gssize)n);
		g_free(data);
	}
	g_free(prefix);
	g_free(base);
	g_free(dir);
	*len = all->len;
	return g_string_free(all, FALSE);
}

/* The content streams Cairo leaves without a filter (CAIRO_DEBUG_PDF, as
 * cp_pdf_process_init() asks) are deflated by the join: qpdf decodes every
 * stream, and the pages look the same as the part's. */
static void test_deflate(void)
{
	if (!have_tools())
		return;
	g_setenv("CAIRO_DEBUG_PDF", "1", TRUE);
	int fd = make_part(0, 3, NULL);
	g_unsetenv("CAIRO_DEBUG_PDF");
	size_t plen;
	char *ptext = fd_contents(fd, &plen);
	char *dir = tu_scratch("pdfjoin-deflate");
	char *part = g_build_filename(dir, "part.pdf", NULL);
	g_assert_true(g_file_set_contents(part, ptext, (gssize)plen, NULL));
	const cp_pdf_run runs[] = {{0, 3}};
	cp_error *err = NULL;
	char *path = join_to_file(dir, "deflated.pdf", &fd, 1, runs, 1, NULL, &err);
	tu_assert_no_error(err);
	tu_qpdf_check_ok(path);
	expect_order(path, runs, 1);
	gchar *out;
	gsize olen;
	g_assert_true(g_file_get_contents(path, &out, &olen, NULL));
	/* three pages' content and the form's, each without a filter before */
	g_assert_cmpint(tu_count(out, olen, "/FlateDecode"), >=,
	                tu_count(ptext, plen, "/FlateDecode") + 4);
	size_t a, b;
	char *want = pages_png(part, &a), *got = pages_png(path, &b);
	g_assert_cmpuint(a, >, 0);
	g_assert_cmpuint(a, ==, b);
	g_assert_true(memcmp(want, got, a) == 0);
	g_free(want);
	g_free(got);
	g_free(out);
	g_free(path);
	g_free(part);
	g_free(ptext);
	g_free(dir);
	close(fd);
}

/* Which streams without a filter the join deflates: one with a direct
 * /Length and one whose /Length refers to a number, not one whose /Length
 * refers to something else, nor one whose /Length does not end where
 * "endstream" is, nor one too short to gain; the others' bytes stay. */
static void test_deflate_which(void)
{
	GString *data = g_string_new(NULL);
	while (data->len < 300)
		g_string_append(data, "0 0 m 10 10 l S ");
	g_string_truncate(data, 300);
	char *direct = g_strdup_printf("<< /Length 300 >>\nstream\n%s\nendstream", data->str);
	char *byref = g_strdup_printf("<< /Length 12 0 R >>\nstream\n%s\nendstream", data->str);
	char *notnum = g_strdup_printf("<< /Length 13 0 R >>\nstream\n%s\nendstream", data->str);
	char *wrong = g_strdup_printf("<< /Length 299 >>\nstream\n%s\nendstream", data->str);
	const char *objs[] = {
		NULL,
		"<< /Type /Pages /Kids [ 3 0 R 4 0 R 5 0 R 6 0 R 7 0 R ] /Count 5 "
		"/MediaBox [ 0 0 200 100 ] >>",
		"<< /Type /Catalog /Pages 1 0 R >>",
		"<< /Type /Page /Parent 1 0 R /Contents 8 0 R >>",
		"<< /Type /Page /Parent 1 0 R /Contents 9 0 R >>",
		"<< /Type /Page /Parent 1 0 R /Contents 10 0 R >>",
		"<< /Type /Page /Parent 1 0 R /Contents 11 0 R >>",
		"<< /Type /Page /Parent 1 0 R /Contents 14 0 R >>",
		direct,
		byref,
		notnum,
		wrong,
		"300",
		"(300)",
		"<< /Length 20 >>\nstream\n0 0 m 10 10 l S %%%\nendstream",
	};
	int fd = fd_of_objects(objs, G_N_ELEMENTS(objs), "/Root 2 0 R");
	char *dir = tu_scratch("pdfjoin-deflate-which");
	const cp_pdf_run runs[] = {{0, 5}};
	cp_error *err = NULL;
	char *path = join_to_file(dir, "which.pdf", &fd, 1, runs, 1, NULL, &err);
	tu_assert_no_error(err);
	gchar *out;
	gsize olen;
	g_assert_true(g_file_get_contents(path, &out, &olen, NULL));
	g_assert_cmpint(tu_count(out, olen, "/FlateDecode"), ==, 2);
	g_assert_cmpint(tu_count(out, olen, data->str), ==, 2); /* notnum's, wrong's */
	g_assert_cmpint(tu_count(out, olen, "<< /Length 15 0 R >>"), ==, 1); /* notnum */
	g_assert_cmpint(tu_count(out, olen, "<< /Length 299 >>"), ==, 1);
	g_assert_cmpint(tu_count(out, olen, "0 0 m 10 10 l S %%%"), ==, 1);
	g_free(out);
	g_free(path);
	g_free(dir);
	close(fd);
	g_free(direct);
	g_free(byref);
	g_free(notnum);
	g_free(wrong);
	g_string_free(data, TRUE);
}

/* Joined on several threads (each part copied into a scratch file, the
 * files appended in order), the output is the same bytes as on one: six
 * parts of Cairo's plain page content (deflated by the copying threads), a
 * shared layer, pages interleaved, with fewer threads than parts (the
 * threads wait for the appending) and more. A part that cannot be copied
 * is named as on one thread, whichever thread copied it. */
static void test_parallel(void)
{
	if (!have_tools())
		return;
	enum { N = 6 };
	static const int pages[N] = {3, 1, 4, 2, 2, 5};
	int fds[N];
	g_setenv("CAIRO_DEBUG_PDF", "1", TRUE);
	for (int i = 0; i < N; i++)
		fds[i] = make_layered(i, pages[i], false);
	int layer = make_layered(0, 0, false);
	g_unsetenv("CAIRO_DEBUG_PDF");
	const cp_pdf_run runs[] = {{0, 1}, {1, 1}, {2, 2}, {0, 2}, {3, 2}, {5, 1},
	                           {4, 2}, {2, 2}, {5, 4}};
	size_t nruns = G_N_ELEMENTS(runs);
	char *dir = tu_scratch("pdfjoin-parallel");
	char *one = g_build_filename(dir, "one.pdf", NULL);
	FILE *out = fopen(one, "wb");
	g_assert_nonnull(out);
	cp_error *err = NULL;
	g_assert_true(cp_pdf_join_under(out, one, fds, N, runs, nruns, layer, VP, &err));
	tu_assert_no_error(err);
	g_assert_cmpint(fclose(out), ==, 0);
	tu_qpdf_check_ok(one);
	g_assert_cmpint(expect_xref(one), >=, N - 1); /* the other parts' /Info */
	gchar *want;
	gsize wlen;
	g_assert_true(g_file_get_contents(one, &want, &wlen, NULL));
	g_assert_cmpint(tu_count(want, wlen, "/FlateDecode"), >=, 17);
	static const int threads[] = {2, 3, 16};
	for (size_t t = 0; t < G_N_ELEMENTS(threads); t++) {
		char *path = g_strdup_printf("%s/threads-%d.pdf", dir, threads[t]);
		out = fopen(path, "wb");
		g_assert_nonnull(out);
		g_assert_true(cp_pdf_join_parallel(out, path, fds, N, runs, nruns, layer, VP, dir,
		                                   threads[t], &err));
		tu_assert_no_error(err);
		g_assert_cmpint(fclose(out), ==, 0);
		gchar *got;
		gsize glen;
		g_assert_true(g_file_get_contents(path, &got, &glen, NULL));
		g_assert_cmpuint(glen, ==, wlen);
		g_assert_true(memcmp(got, want, wlen) == 0);
		g_free(got);
		g_free(path);
	}
	/* part 4's first stream broken: found while copying, not loading */
	size_t len;
	char *text = fd_contents(fds[4], &len);
	int broken = patched(text, len, "endstream", "endstreaX");
	int bad_fds[N];
	memcpy(bad_fds, fds, sizeof fds);
	bad_fds[4] = broken;
	char *bad_one = NULL;
	for (int threads_n = 1; threads_n <= 3; threads_n += 2) {
		out = fopen(one, "wb");
		g_assert_nonnull(out);
		g_assert_false(cp_pdf_join_parallel(out, one, bad_fds, N, runs, nruns, layer, VP, dir,
		                                    threads_n, &err));
		fclose(out);
		g_assert_nonnull(err);
		g_assert_cmpint(err->code, ==, CP_E_PARSE);
		g_assert_nonnull(strstr(err->message, "part 4 "));
		if (!bad_one)
			bad_one = g_strdup(err->message);
		else
			g_assert_cmpstr(err->message, ==, bad_one);
		cp_error_free(err);
		err = NULL;
	}
	g_free(bad_one);
	/* no scratch file to be had: an I/O error naming why, nothing else */
	char *nowhere = g_build_filename(dir, "no-such-folder", NULL);
	out = fopen(one, "wb");
	g_assert_nonnull(out);
	g_assert_false(cp_pdf_join_parallel(out, one, fds, N, runs, nruns, layer, VP, nowhere, 2,
	                                    &err));
	fclose(out);
	tu_assert_error(&err, CP_E_IO, "cannot create a temporary file");
	g_free(nowhere);
	close(broken);
	g_free(text);
	for (int i = 0; i < N; i++)
		close(fds[i]);
	close(layer);
	g_free(want);
	g_free(one);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pdfjoin/interleaved", test_interleaved);
	g_test_add_func("/pdfjoin/identity", test_identity);
	g_test_add_func("/pdfjoin/bad-runs", test_bad_runs);
	g_test_add_func("/pdfjoin/bad-parts", test_bad_parts);
	g_test_add_func("/pdfjoin/inherited", test_inherited);
	g_test_add_func("/pdfjoin/layer", test_layer);
	g_test_add_func("/pdfjoin/layer-shapes", test_layer_shapes);
	g_test_add_func("/pdfjoin/deflate", test_deflate);
	g_test_add_func("/pdfjoin/deflate-which", test_deflate_which);
	g_test_add_func("/pdfjoin/parallel", test_parallel);
	return g_test_run();
}
