/* SPDX-License-Identifier: MIT */
/* Check reports: text lines, JSON (validated by an independent parser, Perl's
 * core JSON::PP), the rejects CSV (read back with an RFC 4180 parser written
 * here, not the writer's code) and the HTML page. */
#include "common/testutil.h"

#include <cairo.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "output/report.h"


static const char *const header[] = {
	"姓名", "证件类型", "证件号码", "职业名称", "工种/职业方向",
	"职业技能等级", "证书编号", "发证日期", "照片",
};
#define NHEADER (sizeof header / sizeof header[0])

/* A record whose cells are copies of the given strings; raw[] borrows them in
 * header order. Free with free_record(). */
static cp_record make_record(long row, const char *const *cells, size_t n)
{
	cp_record r = {0};
	r.row = row;
	r.line = row;
	r.ncells = n;
	r.cells = g_new0(char *, n + 1);
	for (size_t i = 0; i < n; i++) {
		r.cells[i] = g_strdup(cells[i]);
		if (i < CP_FIELD_PHOTO + 1)
			r.raw[i] = r.cells[i];
	}
	return r;
}

static void free_record(cp_record *r)
{
	g_strfreev(r->cells);
	memset(r, 0, sizeof *r);
}

static void add_problem(cp_problems *ps, cp_severity sev, long row, int field, const char *column,
                        const char *value, const char *rule, const char *article,
                        const char *message)
{
	if (ps->len == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 4;
		ps->items = g_renew(cp_problem, ps->items, ps->cap);
	}
	ps->items[ps->len++] = (cp_problem){
		.severity = sev, .row = row, .line = row ? row + 1 : 0, .field = field,
		.column = g_strdup(column), .value = g_strdup(value), .rule = rule,
		.article = article, .message = g_strdup(message),
	};
}

static char *slurp(const char *path, gsize *len)
{
	char *text = NULL;
	GError *ge = NULL;
	if (!g_file_get_contents(path, &text, len, &ge))
		g_error("cannot read %s: %s", path, ge->message);
	return text;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entries of a folder, sorted, joined by '|' (temporary files would show). */
static char *dir_listing(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	g_assert_nonnull(d);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *n;
	while ((n = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(n));
	g_dir_close(d);
	g_ptr_array_sort(names, cmp_names);
	g_ptr_array_add(names, NULL);
	char *s = g_strjoinv("|", (char **)names->pdata);
	g_ptr_array_free(names, TRUE);
	return s;
}

/* ------------------------------------------------------------------ text */

/* A problem line carries file:line, row, column header with field key, rule,
 * article, message and masked value; control characters from the data are
 * shown escaped (one problem stays one line; no raw ESC reaches a terminal);
 * warnings are marked; the summary counts close the report. */
static void test_text(void)
{
	cp_problems ps = {0};
	add_problem(&ps, CP_SEV_ERROR, 6, CP_FIELD_ID_NUMBER, "证件号码", "4401**********123X",
	            "id.check_digit", "第十一条", "the check digit is wrong");
	add_problem(&ps, CP_SEV_WARNING, 9, CP_FIELD_NAME, "姓名", "a\nb\x1b[2J",
	            "name.spaces", NULL, "two\nlines");
	add_problem(&ps, CP_SEV_ERROR, 0, -1, NULL, NULL, "csv.header", NULL, "no 姓名 column");
	cp_report_summary s = {.records = 20, .valid = 18, .refused = 2, .warnings = 1,
	                       .csv_path = "batch.csv", .encoding = "UTF-8 (BOM)"};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cp_report_text(f, &ps, &s);
	fclose(f);
	g_test_message("%s", buf);
	char **lines = g_strsplit(buf, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 5); /* 3 problems + summary + "" */
	g_assert_cmpstr(lines[0], ==,
	                "batch.csv:7: row 6, column 证件号码 (id_number): [id.check_digit 第十一条] "
	                "the check digit is wrong (value 4401**********123X)");
	g_assert_cmpstr(lines[1], ==,
	                "batch.csv:10: row 9, column 姓名 (name): warning: [name.spaces] "
	                "two\\nlines (value a\\nb\\u001b[2J)");
	g_assert_cmpstr(lines[2], ==, "batch.csv: [csv.header] no 姓名 column");
	g_assert_cmpstr(lines[3], ==,
	                "batch.csv: 20 records, 18 valid, 2 refused, 1 warning; encoding UTF-8 (BOM)");
	g_assert_cmpstr(lines[4], ==, "");
	g_strfreev(lines);
	free(buf);
	cp_problems_clear(&ps);
}

/* ------------------------------------------------------------------ JSON */

/* Decodes the JSON with Perl's JSON::PP (strict: rejects raw control
 * characters, bad escapes, trailing commas and malformed UTF-8) and prints
 * every string back as hex of its UTF-8 bytes, "null" for null, so the test
 * compares exact values. */
static const char perl_dump[] =
	"use strict; use JSON::PP;"
	"local $/; open(my $f, '<:raw', $ARGV[0]) or die; my $t = <$f>;"
	"my $d = JSON::PP->new->utf8->decode($t);"
	"sub h { my $v = shift; return 'null' unless defined $v; utf8::encode($v);"
	"  return 'x' . unpack('H*', $v) }"
	"print join(' ', map { h($_) } $d->{csv}, $d->{encoding},"
	"  @{$d->{summary}}{qw(records valid refused warnings)}), \"\\n\";"
	"for my $p (@{$d->{problems}}) {"
	"  print join(' ', map { h($_) } @$p{qw(severity row line field column value rule article"
	"  message)}), \"\\n\" }";

static void hex_of(GString *g, const char *s)
{
	if (g->len && g->str[g->len - 1] != '\n')
		g_string_append_c(g, ' ');
	if (!s) {
		g_string_append(g, "null");
		return;
	}
	g_string_append_c(g, 'x');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		g_string_append_printf(g, "%02x", *p);
}

static void test_json(void)
{
	char *perl = g_find_program_in_path("perl");
	if (!perl) {
		g_test_skip("perl is not installed (scripts/deps.sh installs it)");
		return;
	}
	cp_problems ps = {0};
	const char *tricky = "say \"hi\" \\ back\\slash\n\ttab\r\x01\x1f\x7f 中文 李𠇔 \u2028end";
	add_problem(&ps, CP_SEV_ERROR, 6, CP_FIELD_ID_NUMBER, "证件号码", "4401**********123X",
	            "id.check_digit", "第十一条", tricky);
	/* invalid UTF-8 from a broken CSV must not make the document invalid */
	add_problem(&ps, CP_SEV_WARNING, 0, -1, NULL, "bad \xff\xfe byte", "csv.encoding", NULL,
	            "</script> <b>&amp;</b>");
	cp_report_summary s = {.records = 3, .valid = 2, .refused = 1, .warnings = 1,
	                       .csv_path = "数据/batch \"1\".csv", .encoding = NULL};

	char *dir = tu_scratch("report-json");
	char *path = g_build_filename(dir, "r.json", NULL);
	FILE *f = fopen(path, "wb");
	g_assert_nonnull(f);
	cp_error *err = NULL;
	g_assert_true(cp_report_json(f, &ps, &s, &err));
	tu_assert_no_error(err);
	g_assert_cmpint(fclose(f), ==, 0);

	char *out = NULL, *errout = NULL;
	int status = 0;
	char *argv[] = {perl, "-e", (char *)perl_dump, path, NULL};
	GError *ge = NULL;
	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &errout,
	                           &status, &ge));
	g_test_message("perl: %s", errout);
	g_assert_true(g_spawn_check_wait_status(status, NULL));

	GString *want = g_string_new(NULL);
	hex_of(want, s.csv_path);
	hex_of(want, NULL);
	hex_of(want, "3");
	hex_of(want, "2");
	hex_of(want, "1");
	hex_of(want, "1");
	g_string_append_c(want, '\n');
	hex_of(want, "error");
	hex_of(want, "6");
	hex_of(want, "7");
	hex_of(want, "id_number");
	hex_of(want, "证件号码");
	hex_of(want, "4401**********123X");
	hex_of(want, "id.check_digit");
	hex_of(want, "第十一条");
	hex_of(want, tricky);
	g_string_append_c(want, '\n');
	hex_of(want, "warning");
	hex_of(want, NULL);
	hex_of(want, NULL);
	hex_of(want, NULL);
	hex_of(want, NULL);
	hex_of(want, "bad \xEF\xBF\xBD\xEF\xBF\xBD byte"); /* each bad byte → U+FFFD */
	hex_of(want, "csv.encoding");
	hex_of(want, NULL);
	hex_of(want, "</script> <b>&amp;</b>");
	g_string_append_c(want, '\n');
	g_assert_cmpstr(out, ==, want->str);

	/* No raw control byte anywhere in the document, and U+2028 is escaped. */
	gsize len;
	char *doc = slurp(path, &len);
	for (gsize i = 0; i + 1 < len; i++)
		g_assert_cmpint((unsigned char)doc[i], >=, doc[i] == '\n' ? 0 : 0x20);
	g_assert_nonnull(strstr(doc, "\\u2028end"));
	g_assert_true(g_str_has_suffix(doc, "]}\n"));

	g_free(doc);
	g_string_free(want, TRUE);
	g_free(out);
	g_free(errout);
	g_free(path);
	g_free(dir);
	g_free(perl);
	cp_problems_clear(&ps);
}

/* A full disk is reported as CP_E_IO, not ignored. */
static void test_json_write_error(void)
{
	FILE *f = fopen("/dev/full", "w");
	if (!f) {
		g_test_skip("no /dev/full");
		return;
	}
	cp_report_summary s = {.records = 1, .csv_path = "x.csv"};
	cp_error *err = NULL;
	g_assert_false(cp_report_json(f, NULL, &s, &err));
	tu_assert_error(&err, CP_E_IO, "cannot write the JSON report");
	fclose(f);
}

/* ----------------------------------------------------------- rejects CSV */

/* RFC 4180 reader, independent of the writer: rows of cells. */
static GPtrArray *parse_csv(const char *s, gsize len)
{
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	GPtrArray *row = g_ptr_array_new();
	GString *cell = g_string_new(NULL);
	gsize i = 0;
	while (i < len) {
		if (s[i] == '"' && cell->len == 0) {
			for (i++; i < len; i++) {
				if (s[i] == '"' && i + 1 < len && s[i + 1] == '"')
					g_string_append_c(cell, s[i++]);
				else if (s[i] == '"')
					break;
				else
					g_string_append_c(cell, s[i]);
			}
			g_assert_cmpuint(i, <, len); /* closing quote present */
			i++;
			g_assert_true(i == len || s[i] == ',' || s[i] == '\r');
			continue;
		}
		if (s[i] == ',') {
			g_ptr_array_add(row, g_strdup(cell->str));
			g_string_truncate(cell, 0);
			i++;
		} else if (s[i] == '\r') {
			g_assert_true(i + 1 < len && s[i + 1] == '\n'); /* CRLF record ends */
			g_ptr_array_add(row, g_strdup(cell->str));
			g_string_truncate(cell, 0);
			g_ptr_array_add(row, NULL);
			g_ptr_array_add(rows, g_ptr_array_free(row, FALSE));
			row = g_ptr_array_new();
			i += 2;
		} else {
			g_assert_true(s[i] != '\n' && s[i] != '"'); /* bare LF or quote: bad */
			g_string_append_c(cell, s[i++]);
		}
	}
	g_assert_cmpuint(row->len, ==, 0); /* file ends with CRLF */
	g_ptr_array_free(row, TRUE);
	g_string_free(cell, TRUE);
	return rows;
}

/* Cells with quotes, commas, CR/LF and blanks come back exactly; the full ID
 * number is kept (operator's own data); a short row is padded, a long row
 * keeps every cell; the reason joins this row's errors (not warnings) with
 * "；"; BOM and CRLF as Excel expects; mode 0600; no temporary file left. */
static void test_rejects_roundtrip(void)
{
	char *dir = tu_scratch("report-rejects");
	char *path = g_build_filename(dir, "rejects.csv", NULL);
	cp_error *err = NULL;
	cp_rejects *r = cp_rejects_open(path, header, NHEADER, &err);
	tu_assert_no_error(err);
	g_assert_nonnull(r);

	const char *row1[] = {"张\"三\"", "居民身份证", "44010319850312149X", "电工, 维修",
	                      "", "三级", "S000044000123263000001", "2026-11-27",
	                      "photos/\r\n001.jpg"};
	const char *row2[] = {"  李四 ", "护照", "C8R2TX7N4"};           /* short row */
	const char *row3[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "extra\"", "x,y"};
	cp_record r1 = make_record(2, row1, G_N_ELEMENTS(row1));
	cp_record r2 = make_record(3, row2, G_N_ELEMENTS(row2));
	cp_record r3 = make_record(4, row3, G_N_ELEMENTS(row3));
	cp_problems p1 = {0};
	add_problem(&p1, CP_SEV_ERROR, 2, CP_FIELD_ID_NUMBER, "证件号码", "4401***", "id.check_digit",
	            NULL, "check digit \"X\" is wrong");
	add_problem(&p1, CP_SEV_WARNING, 2, CP_FIELD_NAME, "姓名", NULL, "name.x", NULL,
	            "just a warning");
	add_problem(&p1, CP_SEV_ERROR, 2, CP_FIELD_PHOTO, "照片", NULL, "photo.missing", NULL,
	            "photo missing,\nsee folder");
	g_assert_true(cp_rejects_add(r, &r1, &p1, &err));
	g_assert_true(cp_rejects_add(r, &r2, NULL, &err));
	g_assert_true(cp_rejects_add(r, &r3, NULL, &err));
	tu_assert_no_error(err);
	/* nothing under the final name until close */
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_true(cp_rejects_close(r, &err));
	tu_assert_no_error(err);

	char *ls = dir_listing(dir);
	g_assert_cmpstr(ls, ==, "rejects.csv");
	g_free(ls);
	struct stat st;
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);

	gsize len;
	char *text = slurp(path, &len);
	g_assert_true(g_str_has_prefix(text, "\xEF\xBB\xBF姓名,证件类型,"));
	GPtrArray *rows = parse_csv(text + 3, len - 3);
	g_assert_cmpuint(rows->len, ==, 4);
	char **h = rows->pdata[0];
	g_assert_cmpuint(g_strv_length(h), ==, NHEADER + 1);
	for (size_t i = 0; i < NHEADER; i++)
		g_assert_cmpstr(h[i], ==, header[i]);
	g_assert_cmpstr(h[NHEADER], ==, CP_REJECTS_REASON_COLUMN);

	char **c1 = rows->pdata[1];
	g_assert_cmpuint(g_strv_length(c1), ==, NHEADER + 1);
	for (size_t i = 0; i < NHEADER; i++)
		g_assert_cmpstr(c1[i], ==, row1[i]);
	g_assert_cmpstr(c1[NHEADER], ==,
	                "row 2, column 证件号码: check digit \"X\" is wrong；"
	                "row 2, column 照片: photo missing,\nsee folder");

	char **c2 = rows->pdata[2];
	g_assert_cmpuint(g_strv_length(c2), ==, NHEADER + 1);
	g_assert_cmpstr(c2[0], ==, "  李四 ");
	g_assert_cmpstr(c2[2], ==, "C8R2TX7N4");
	g_assert_cmpstr(c2[3], ==, "");
	g_assert_cmpstr(c2[NHEADER], ==, "");

	char **c3 = rows->pdata[3];
	g_assert_cmpuint(g_strv_length(c3), ==, G_N_ELEMENTS(row3) + 1);
	g_assert_cmpstr(c3[9], ==, "extra\"");
	g_assert_cmpstr(c3[10], ==, "x,y");

	g_ptr_array_free(rows, TRUE);
	g_free(text);
	cp_problems_clear(&p1);
	free_record(&r1);
	free_record(&r2);
	free_record(&r3);
	g_free(path);
	g_free(dir);
}

/* Abort removes the temporary file and leaves an earlier file at the
 * destination as it was; a folder that does not exist is a CP_E_IO error
 * naming the path; abort(NULL) is allowed. */
static void test_rejects_abort(void)
{
	char *dir = tu_scratch("report-rejects-abort");
	char *path = tu_write(dir, "rejects.csv", "earlier run\n");
	cp_error *err = NULL;
	cp_rejects *r = cp_rejects_open(path, header, NHEADER, &err);
	tu_assert_no_error(err);
	const char *row[] = {"x"};
	cp_record rec = make_record(2, row, 1);
	g_assert_true(cp_rejects_add(r, &rec, NULL, &err));
	cp_rejects_abort(r);
	char *ls = dir_listing(dir);
	g_assert_cmpstr(ls, ==, "rejects.csv");
	g_free(ls);
	gsize len;
	char *text = slurp(path, &len);
	g_assert_cmpstr(text, ==, "earlier run\n");
	g_free(text);
	g_unlink(path);
	ls = dir_listing(dir);
	g_assert_cmpstr(ls, ==, "");
	g_free(ls);

	char *bad = g_build_filename(dir, "no-such-folder", "rejects.csv", NULL);
	g_assert_null(cp_rejects_open(bad, header, NHEADER, &err));
	tu_assert_error(&err, CP_E_IO, "no-such-folder/rejects.csv");
	g_assert_null(cp_rejects_open(path, header, 0, &err));
	tu_assert_error(&err, CP_E_USAGE, NULL);
	cp_rejects_abort(NULL);

	free_record(&rec);
	g_free(bad);
	g_free(path);
	g_free(dir);
}

/* ------------------------------------------------------------------ HTML */

static cairo_status_t png_sink(void *closure, const unsigned char *data, unsigned int len)
{
	g_byte_array_append(closure, data, len);
	return CAIRO_STATUS_SUCCESS;
}

static GByteArray *tiny_png(void)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 30, 21);
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgb(cr, 0.8, 0.1, 0.1);
	cairo_paint(cr);
	cairo_destroy(cr);
	GByteArray *b = g_byte_array_new();
	g_assert_cmpint(cairo_surface_write_to_png_stream(s, png_sink, b), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
	return b;
}

static const char *after(const char *hay, const char *needle)
{
	const char *p = strstr(hay, needle);
	if (!p)
		g_test_message("missing from the page: %s", needle);
	g_assert_nonnull(p);
	return p;
}

/* The page: summary before the records, refused rows listed with links, the
 * thumbnail embedded byte-exact as base64, every text escaped (a <script> in a
 * name stays text), ID numbers masked only, reasons of refused rows shown. */
static void test_html(void)
{
	char *dir = tu_scratch("report-html");
	char *path = g_build_filename(dir, "report.html", NULL);
	cp_error *err = NULL;
	cp_html *h = cp_html_open(path, &err);
	tu_assert_no_error(err);
	g_assert_nonnull(h);

	const char *ok_cells[] = {"<script>alert(1)</script> & 王䶮", "居民身份证",
	                          "44010319850312149X", "电工", "", "三级",
	                          "S000044000123263000001", "2026-11-27", "photos/001.jpg"};
	const char *bad_cells[] = {"MARTIN SCHULZ", "居民身份证", "440106199207082480", "焊工",
	                           "电焊工", "技师", "S000044000123262000001", "2026/11/27",
	                           "photos/002.jpg"};
	cp_record ok = make_record(2, ok_cells, G_N_ELEMENTS(ok_cells));
	cp_record bad = make_record(3, bad_cells, G_N_ELEMENTS(bad_cells));
	ok.value[CP_FIELD_JOB_TYPE] = g_strdup("--");
	cp_problems pb = {0};
	add_problem(&pb, CP_SEV_ERROR, 3, CP_FIELD_ID_NUMBER, "证件号码", "4401**********2480",
	            "id.check_digit", "第十一条", "check digit <wrong> \"8\"");
	GByteArray *png = tiny_png();
	/* the name as printed, queued for the next record (issue 16) */
	g_assert_true(cp_html_add_cutout(h, "name (姓名)", "<b>王䶮</b>", "Noto Serif CJK SC",
	                                 png->data, png->len, &err));
	g_assert_true(cp_html_add(h, &ok, true, NULL, png->data, png->len, &err));
	g_assert_true(cp_html_add(h, &bad, false, &pb, NULL, 0, &err));
	tu_assert_no_error(err);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	cp_report_summary s = {.records = 2, .valid = 1, .refused = 1, .warnings = 0,
	                       .csv_path = "batch<1>.csv", .encoding = "UTF-8 (BOM)"};
	g_assert_true(cp_html_close(h, &s, &err));
	tu_assert_no_error(err);
	char *ls = dir_listing(dir);
	g_assert_cmpstr(ls, ==, "report.html");
	g_free(ls);

	gsize len;
	char *page = slurp(path, &len);
	g_assert_true(g_utf8_validate(page, (gssize)len, NULL));
	g_assert_true(g_str_has_prefix(page, "<!DOCTYPE html>"));
	g_assert_null(strstr(page, "<script"));
	g_assert_null(strstr(page, "batch<1>"));
	g_assert_null(strstr(page, "<wrong>"));
	g_assert_null(strstr(page, "44010319850312149X"));
	g_assert_null(strstr(page, "440106199207082480"));

	const char *p = after(page, "batch&lt;1&gt;.csv");
	p = after(p, "<td>2</td>"); /* records */
	p = after(p, "href=\"#row-3\"");
	p = after(p, "id=\"row-2\"");
	p = after(p, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 王䶮");
	char *b64 = g_base64_encode(png->data, png->len);
	char *img = g_strconcat("data:image/png;base64,", b64, "\"", NULL);
	p = after(p, img);
	char *m1 = cp_mask_id("44010319850312149X");
	p = after(p, m1);
	p = after(p, "<dd>--</dd>"); /* normalised value preferred to the blank raw cell */
	/* the cut-out: image (focusable: click for full size), label, text, face */
	p = after(p, "<figure class=\"cut\"><img class=\"zoom\" tabindex=\"0\"");
	p = after(p, img);
	p = after(p, "<figcaption>name (姓名): &lt;b&gt;王䶮&lt;/b&gt; <span class=\"face\">(set "
	             "in Noto Serif CJK SC)</span></figcaption>");
	p = after(p, "id=\"row-3\"");
	char *m2 = cp_mask_id("440106199207082480");
	p = after(p, m2);
	p = after(p, "check digit &lt;wrong&gt; &quot;8&quot;");
	p = after(p, "</html>");
	/* one cut-out, used by the record it was queued for only */
	g_assert_null(strstr(after(page, "<figure class=\"cut\">") + 1, "<figure class=\"cut\">"));
	/* the filter of refused and warned rows precedes the records */
	g_assert_nonnull(strstr(page, "<input type=\"checkbox\" id=\"only-problems\">"));
	g_assert_true(strstr(page, "id=\"only-problems\"") < strstr(page, "id=\"row-2\""));

	g_free(m1);
	g_free(m2);
	g_free(img);
	g_free(b64);
	g_free(page);
	g_byte_array_unref(png);
	cp_problems_clear(&pb);
	g_free(ok.value[CP_FIELD_JOB_TYPE]);
	free_record(&ok);
	free_record(&bad);
	g_free(path);
	g_free(dir);
}

/* Abort leaves no file at all (page and scratch body); bytes that are not a
 * PNG are refused as a thumbnail; abort(NULL) is allowed. */
static void test_html_abort(void)
{
	char *dir = tu_scratch("report-html-abort");
	char *path = g_build_filename(dir, "report.html", NULL);
	cp_error *err = NULL;
	cp_html *h = cp_html_open(path, &err);
	tu_assert_no_error(err);
	const char *cells[] = {"x"};
	cp_record rec = make_record(2, cells, 1);
	static const unsigned char not_png[] = "GIF89a....";
	g_assert_false(cp_html_add(h, &rec, true, NULL, not_png, sizeof not_png, &err));
	tu_assert_error(&err, CP_E_USAGE, "not a PNG");
	g_assert_true(cp_html_add(h, &rec, true, NULL, NULL, 0, &err));
	g_assert_false(cp_html_add_cutout(h, "name", "x", NULL, not_png, sizeof not_png, &err));
	tu_assert_error(&err, CP_E_USAGE, "not a PNG");
	GByteArray *png = tiny_png();
	g_assert_true(cp_html_add_cutout(h, "name", "x", NULL, png->data, png->len, &err));
	g_byte_array_unref(png);
	cp_html_abort(h); /* frees the queued cut-out */
	char *ls = dir_listing(dir);
	g_assert_cmpstr(ls, ==, "");
	g_free(ls);
	cp_html_abort(NULL);

	char *bad = g_build_filename(dir, "missing", "r.html", NULL);
	g_assert_null(cp_html_open(bad, &err));
	tu_assert_error(&err, CP_E_IO, "missing/r.html");

	free_record(&rec);
	g_free(bad);
	g_free(path);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/report/text", test_text);
	g_test_add_func("/report/json", test_json);
	g_test_add_func("/report/json-write-error", test_json_write_error);
	g_test_add_func("/report/rejects-roundtrip", test_rejects_roundtrip);
	g_test_add_func("/report/rejects-abort", test_rejects_abort);
	g_test_add_func("/report/html", test_html);
	g_test_add_func("/report/html-abort", test_html_abort);
	return g_test_run();
}
