/* SPDX-License-Identifier: MIT */
/* The CSV reader: quoting, line endings, encodings, headers, limits. */
#include "common/testutil.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/csv.h"

static const char header_zh[] =
	"姓名,证件类型,证件号码,职业名称,工种/职业方向,职业技能等级,证书编号,发证日期,照片";

/* Writes len bytes (NULs allowed) to a scratch file. Free with g_free(). */
static char *write_bytes(const char *test, const char *name, const void *data, size_t len)
{
	char *dir = tu_scratch(test);
	char *p = g_build_filename(dir, name, NULL);
	g_assert_true(g_file_set_contents(p, data, (gssize)len, NULL));
	g_free(dir);
	return p;
}

static char *write_text(const char *test, const char *text)
{
	return write_bytes(test, "t.csv", text, strlen(text));
}

static cp_reader *open_ok(const char *path)
{
	cp_error *err = NULL;
	cp_reader *r = cp_reader_open(path, &err);
	tu_assert_no_error(err);
	g_assert_nonnull(r);
	return r;
}

static cp_reader *open_text(const char *test, const char *text)
{
	char *p = write_text(test, text);
	cp_reader *r = open_ok(p);
	g_free(p);
	return r;
}

static void next_ok(cp_reader *r, cp_record *rec)
{
	cp_error *err = NULL;
	int k = cp_reader_next(r, rec, &err);
	tu_assert_no_error(err);
	g_assert_cmpint(k, ==, 1);
}

static void expect_end(cp_reader *r, cp_record *rec)
{
	cp_error *err = NULL;
	g_assert_cmpint(cp_reader_next(r, rec, &err), ==, 0);
	tu_assert_no_error(err);
}

static void expect_open_error(const char *test, const char *text, size_t len, cp_code code,
                              const char *needle)
{
	char *p = write_bytes(test, "t.csv", text, len);
	cp_error *err = NULL;
	g_assert_null(cp_reader_open(p, &err));
	tu_assert_error(&err, code, needle);
	g_free(p);
}

/* The error from the first cp_reader_next() of a file that opens fine. */
static void expect_next_error(const char *test, const char *text, size_t len, cp_code code,
                              const char *needle)
{
	char *p = write_bytes(test, "t.csv", text, len);
	cp_reader *r = open_ok(p);
	cp_record rec = {0};
	cp_error *err = NULL;
	g_assert_cmpint(cp_reader_next(r, &rec, &err), ==, -1);
	tu_assert_error(&err, code, needle);
	/* Reading stays stopped instead of going on from a random place. */
	g_assert_cmpint(cp_reader_next(r, &rec, &err), ==, -1);
	tu_assert_error(&err, CP_E_PARSE, NULL);
	cp_record_clear(&rec);
	cp_reader_free(r);
	g_free(p);
}

/* The two records of basic.csv and its encoded copies, as UTF-8. */
static void check_basic(cp_reader *r)
{
	size_t n = 0;
	const char *const *h = cp_reader_header(r, &n);
	g_assert_cmpuint(n, ==, 10);
	g_assert_cmpstr(h[0], ==, "姓名");
	g_assert_cmpstr(h[9], ==, "证书印制流水码");
	for (int f = 0; f < CP_FIELD_COUNT; f++)
		g_assert_cmpstr(cp_reader_column(r, f), ==, cp_field_header(f));

	cp_record rec = {0};
	next_ok(r, &rec);
	g_assert_cmpint(rec.row, ==, 2);
	g_assert_cmpint(rec.line, ==, 2);
	g_assert_cmpuint(rec.ncells, ==, 10);
	g_assert_cmpstr(rec.raw[CP_FIELD_NAME], ==, "张三");
	g_assert_cmpstr(rec.raw[CP_FIELD_ID_NUMBER], ==, "11010519491231002X");
	g_assert_cmpstr(rec.raw[CP_FIELD_JOB_TYPE], ==, "");
	g_assert_cmpstr(rec.raw[CP_FIELD_LEVEL], ==, "三级/高级工");
	g_assert_cmpstr(rec.raw[CP_FIELD_PRINT_SERIAL], ==, "A0000001");
	/* raw[] is a copy, not the cell itself (the record owns both). */
	g_assert_true(rec.raw[CP_FIELD_NAME] != rec.cells[0]);
	g_assert_null(rec.value[CP_FIELD_NAME]);
	next_ok(r, &rec);
	g_assert_cmpint(rec.row, ==, 3);
	g_assert_cmpint(rec.line, ==, 3);
	g_assert_cmpstr(rec.raw[CP_FIELD_NAME], ==, "李·四");
	g_assert_cmpstr(rec.raw[CP_FIELD_OCCUPATION], ==, "焊工");
	g_assert_cmpstr(rec.raw[CP_FIELD_JOB_TYPE], ==, "手工电弧焊");
	expect_end(r, &rec);
	/* The end stays the end. */
	expect_end(r, &rec);
	cp_record_clear(&rec);
}

/* Proves: a plain UTF-8 export is read with every field mapped, spreadsheet
 * row numbers, the folder made absolute and the path kept as given. */
static void test_basic(void)
{
	char *p = tu_path("data/csv/basic.csv");
	cp_reader *r = open_ok(p);
	g_assert_cmpstr(cp_reader_encoding(r), ==, "UTF-8");
	g_assert_cmpstr(cp_reader_path(r), ==, p);
	char *dir = tu_path("data/csv");
	char *real = realpath(dir, NULL);
	g_assert_cmpstr(cp_reader_dir(r), ==, real);
	g_assert_true(g_path_is_absolute(cp_reader_dir(r)));
	check_basic(r);
	cp_reader_free(r);
	free(real);
	g_free(dir);
	g_free(p);
	cp_reader_free(NULL);
}

/* Proves: a relative path still gives an absolute folder. */
static void test_relative_dir(void)
{
	char *dir = tu_scratch("relative");
	char *p = tu_write(dir, "r.csv", header_zh);
	char *cwd = g_get_current_dir();
	g_assert_cmpint(g_chdir(dir), ==, 0);
	cp_reader *r = open_ok("r.csv");
	g_assert_cmpint(g_chdir(cwd), ==, 0);
	char *real = realpath(dir, NULL);
	g_assert_cmpstr(cp_reader_dir(r), ==, real);
	g_assert_cmpstr(cp_reader_path(r), ==, "r.csv");
	cp_reader_free(r);
	free(real);
	g_free(cwd);
	g_free(p);
	g_free(dir);
}

/* Proves: the UTF-8 BOM is dropped (姓名 still maps) and reported. */
static void test_bom(void)
{
	char *p = tu_path("data/csv/bom.csv");
	cp_reader *r = open_ok(p);
	g_assert_cmpstr(cp_reader_encoding(r), ==, "UTF-8 (BOM)");
	check_basic(r);
	cp_reader_free(r);
	g_free(p);
}

/* Proves: a GB18030 export (made with iconv) is detected and converted. */
static void test_gb18030(void)
{
	char *p = tu_path("data/csv/gb18030.csv");
	cp_reader *r = open_ok(p);
	g_assert_cmpstr(cp_reader_encoding(r), ==, "GB18030");
	check_basic(r);
	cp_reader_free(r);
	g_free(p);
}

/* Proves: Excel's "Unicode text" (UTF-16LE, BOM, tabs, CRLF) is read. */
static void test_utf16(void)
{
	char *p = tu_path("data/csv/unicode-text.txt");
	cp_reader *r = open_ok(p);
	g_assert_cmpstr(cp_reader_encoding(r), ==, "UTF-16LE");
	check_basic(r);
	cp_reader_free(r);
	g_free(p);

	/* Big-endian with commas, built here. */
	char *text = g_strdup_printf("%s\n王五,护照,E12345678,电工,--,二级,Y000111000001262000001,"
	                             "2026-11-27,p.jpg\n", header_zh);
	gsize len = 0;
	char *be = g_convert(text, -1, "UTF-16BE", "UTF-8", NULL, &len, NULL);
	g_assert_nonnull(be);
	char *buf = g_malloc(len + 2);
	buf[0] = (char)0xFE;
	buf[1] = (char)0xFF;
	memcpy(buf + 2, be, len);
	p = write_bytes("utf16be", "t.csv", buf, len + 2);
	r = open_ok(p);
	g_assert_cmpstr(cp_reader_encoding(r), ==, "UTF-16BE");
	cp_record rec = {0};
	next_ok(r, &rec);
	g_assert_cmpstr(rec.raw[CP_FIELD_NAME], ==, "王五");
	g_assert_cmpstr(rec.raw[CP_FIELD_ID_NUMBER], ==, "E12345678");
	expect_end(r, &rec);
	cp_reader_free(r);
	g_free(p);
	g_free(buf);
	g_free(be);
	g_free(text);
}

/* Proves: RFC 4180 quoting — commas, doubled quotes and line breaks inside
 * quotes; then `line` (physical) and `row` (spreadsheet) differ. A quote
 * inside an unquoted cell and text after a closing quote are kept. */
static void test_quoting(void)
{
	char *text = g_strdup_printf(
		"%s\n"
		"\"张,三\",\"say \"\"hi\"\"\",\"line1\nline2\r\nline3\",a\"b,\"x\"y,,,,\n"
		"李四,,,,,,,,\n"
		"\"\",\"\"\"\",,,,,,,\"last\"",
		header_zh);
	cp_reader *r = open_text("quoting", text);
	cp_record rec = {0};
	next_ok(r, &rec);
	g_assert_cmpint(rec.row, ==, 2);
	g_assert_cmpint(rec.line, ==, 2);
	g_assert_cmpuint(rec.ncells, ==, 9);
	g_assert_cmpstr(rec.cells[0], ==, "张,三");
	g_assert_cmpstr(rec.cells[1], ==, "say \"hi\"");
	g_assert_cmpstr(rec.cells[2], ==, "line1\nline2\r\nline3");
	g_assert_cmpstr(rec.cells[3], ==, "a\"b");
	g_assert_cmpstr(rec.cells[4], ==, "xy");
	g_assert_cmpstr(rec.raw[CP_FIELD_OCCUPATION], ==, "a\"b");
	next_ok(r, &rec);
	g_assert_cmpint(rec.row, ==, 3);
	g_assert_cmpint(rec.line, ==, 5); /* two line breaks inside row 2 */
	g_assert_cmpstr(rec.raw[CP_FIELD_NAME], ==, "李四");
	next_ok(r, &rec);
	g_assert_cmpint(rec.row, ==, 4);
	g_assert_cmpint(rec.line, ==, 6);
	g_assert_cmpstr(rec.cells[0], ==, "");
	g_assert_cmpstr(rec.cells[1], ==, "\"");
	g_assert_cmpstr(rec.cells[8], ==, "last"); /* no final newline */
	expect_end(r, &rec);
	cp_record_clear(&rec);
	cp_reader_free(r);
	g_free(text);
}

/* Proves: CRLF, LF and lone CR all end rows and count lines, mixed too,
 * and a CRLF split by nothing special still counts one line. */
static void test_line_endings(void)
{
	static const char *const eols[] = {"\r\n", "\n", "\r"};
	for (size_t i = 0; i < G_N_ELEMENTS(eols); i++) {
		const char *e = eols[i];
		char *text = g_strdup_printf("%s%sa,,,,,,,,%s%sb,,,,,,,,%sc,,,,,,,,", header_zh, e,
		                             e, e, e);
		cp_reader *r = open_text("eol", text);
		cp_record rec = {0};
		next_ok(r, &rec);
		g_assert_cmpstr(rec.cells[0], ==, "a");
		g_assert_cmpstr(rec.cells[8], ==, "");
		g_assert_cmpint(rec.row, ==, 2);
		g_assert_cmpint(rec.line, ==, 2);
		next_ok(r, &rec); /* the blank row 3 is skipped but counted */
		g_assert_cmpstr(rec.cells[0], ==, "b");
		g_assert_cmpint(rec.row, ==, 4);
		g_assert_cmpint(rec.line, ==, 4);
		next_ok(r, &rec);
		g_assert_cmpstr(rec.cells[0], ==, "c");
		g_assert_cmpint(rec.row, ==, 5);
		g_assert_cmpint(rec.line, ==, 5);
		expect_end(r, &rec);
		cp_reader_free(r);
		g_free(text);
	}
	char *text = g_strdup_printf("%s\r\na\nb\rc\r\n\"q\rq\",x\r\nd\n", header_zh);
	cp_reader *r = open_text("eol-mixed", text);
	cp_record rec = {0};
	static const char *const first[] = {"a", "b", "c", "q\rq", "d"};
	static const long lines[] = {2, 3, 4, 5, 7};
	for (size_t i = 0; i < G_N_ELEMENTS(first); i++) {
		next_ok(r, &rec);
		g_assert_cmpstr(rec.cells[0], ==, first[i]);
		g_assert_cmpint(rec.line, ==, lines[i]);
		g_assert_cmpint(rec.row, ==, (long)i + 2);
	}
	expect_end(r, &rec);
	cp_reader_free(r);
	g_free(text);
}

/* Proves: headers in English (any case), in another order, with variants,
 * blanks (U+3000 too) and unknown columns map to the right fields, and
 * unknown cells stay in cells[]. */
static void test_headers(void)
{
	cp_reader *r = open_text("headers",
		"备注,Cert_No, ID Number ,NAME,id_type,occupation,\xE3\x80\x80工种（职业方向）,等级,"
		"issue_date,流水码,,\n"
		"x,Y000111000001263000001,11010519491231002X,张三,居民身份证,电工,,3,2026-11-27,S1\n");
	g_assert_cmpstr(cp_reader_column(r, CP_FIELD_CERT_NO), ==, "Cert_No");
	g_assert_cmpstr(cp_reader_column(r, CP_FIELD_ID_NUMBER), ==, "ID Number");
	g_assert_cmpstr(cp_reader_column(r, CP_FIELD_JOB_TYPE), ==, "工种（职业方向）");
	g_assert_cmpstr(cp_reader_column(r, CP_FIELD_LEVEL), ==, "等级");
	g_assert_null(cp_reader_column(r, CP_FIELD_PHOTO));
	g_assert_null(cp_reader_column(r, (cp_field)99));
	size_t n = 0;
	const char *const *h = cp_reader_header(r, &n);
	g_assert_cmpuint(n, ==, 12); /* trailing empty header cells are kept */
	g_assert_cmpstr(h[2], ==, " ID Number ");
	cp_record rec = {0};
	next_ok(r, &rec);
	g_assert_cmpuint(rec.ncells, ==, 10);
	g_assert_cmpstr(rec.cells[0], ==, "x");
	g_assert_cmpstr(rec.raw[CP_FIELD_NAME], ==, "张三");
	g_assert_cmpstr(rec.raw[CP_FIELD_CERT_NO], ==, "Y000111000001263000001");
	g_assert_cmpstr(rec.raw[CP_FIELD_LEVEL], ==, "3");
	g_assert_cmpstr(rec.raw[CP_FIELD_PRINT_SERIAL], ==, "S1");
	g_assert_null(rec.raw[CP_FIELD_PHOTO]); /* no such column */
	cp_record_clear(&rec);
	cp_reader_free(r);
}

/* Proves: missing and duplicate columns are errors that name them. */
static void test_header_errors(void)
{
	static const char no_id[] = "姓名,证件类型,职业名称,工种,职业技能等级,证书编号,发证日期\n";
	expect_open_error("hdr", no_id, sizeof no_id - 1, CP_E_PARSE,
	                  "missing required column: 证件号码 (id_number)");
	static const char two[] = "name,id_type,occupation,job_type,level,cert_no\n";
	expect_open_error("hdr", two, sizeof two - 1, CP_E_PARSE,
	                  "missing required columns: 证件号码 (id_number), 发证日期 (issue_date)");
	char *dup = g_strdup_printf("%s, 身份证号 \n", header_zh);
	expect_open_error("hdr", dup, strlen(dup), CP_E_PARSE,
	                  "row 1, column 身份证号: columns 3 (证件号码) and 10 (身份证号) both give "
	                  "证件号码 (id_number)");
	g_free(dup);
	/* The header is the first non-blank row: a spreadsheet row number. */
	char *late = g_strdup_printf("\n,,\n%s\nx,,,,,,,,\n", header_zh);
	cp_reader *r = open_text("hdr-late", late);
	cp_record rec = {0};
	next_ok(r, &rec);
	g_assert_cmpint(rec.row, ==, 4);
	g_assert_cmpint(rec.line, ==, 4);
	cp_record_clear(&rec);
	cp_reader_free(r);
	g_free(late);
}

/* Proves: title and note rows above the header are skipped (the header is
 * the first row naming every required column, within the first 10 non-blank
 * rows), rows keep the spreadsheet's numbers, a tab-separated file with a
 * title line is still told by its header; with no header the message says
 * what was looked for and how to fix it. */
static void test_title_rows(void)
{
	char *text = g_strdup_printf("2026年第3批鉴定合格人员名单,,,,,,,,\n"
	                             "\n"
	                             "制表单位：示例中心,,,,,,,,\n%s\nx,,,,,,,,\n",
	                             header_zh);
	cp_reader *r = open_text("title", text);
	g_assert_cmpint(cp_reader_header_row(r), ==, 4);
	g_assert_cmpstr(cp_reader_column(r, CP_FIELD_NAME), ==, "姓名");
	cp_record rec = {0};
	next_ok(r, &rec);
	g_assert_cmpstr(rec.raw[CP_FIELD_NAME], ==, "x");
	g_assert_cmpint(rec.row, ==, 5);
	expect_end(r, &rec);
	cp_reader_free(r);
	g_free(text);

	/* tab-separated, the title line without any tab */
	char *tabbed = g_strdup(header_zh);
	g_strdelimit(tabbed, ",", '\t');
	text = g_strdup_printf("合格人员名单\n%s\ny\t\t\t\t\t\t\t\t\n", tabbed);
	r = open_text("title-tab", text);
	g_assert_cmpint(cp_reader_header_row(r), ==, 2);
	next_ok(r, &rec);
	g_assert_cmpstr(rec.raw[CP_FIELD_NAME], ==, "y");
	g_assert_cmpint(rec.row, ==, 3);
	cp_record_clear(&rec);
	cp_reader_free(r);
	g_free(text);
	g_free(tabbed);

	/* no header at all in the first 10 non-blank rows */
	GString *g = g_string_new(NULL);
	for (int i = 0; i < 10; i++)
		g_string_append_printf(g, "说明第%d行,,,\n\n", i + 1);
	GString *late = g_string_new(g->str);
	g_string_append(late, header_zh);
	expect_open_error("no-header", late->str, late->len, CP_E_PARSE,
	                  "no header row found in the first 10 rows: looked for a row with "
	                  "the columns 姓名 (name), 证件类型 (id_type), 证件号码 (id_number)");
	expect_open_error("no-header", late->str, late->len, CP_E_PARSE,
	                  "delete the title or note rows above it");
	g_string_free(late, TRUE);
	g_string_free(g, TRUE);
	/* one title row, then a header short of a column: that row is named */
	static const char short_hdr[] = "名单\n姓名,证件类型,职业名称,工种,职业技能等级,证书编号,发证日期\n";
	expect_open_error("short-hdr", short_hdr, sizeof short_hdr - 1, CP_E_PARSE,
	                  "row 2: missing required column: 证件号码 (id_number)");
}

/* Proves: blank rows (empty, commas only, blanks only) are skipped while
 * still counting as spreadsheet rows. */
static void test_blank_rows(void)
{
	char *text = g_strdup_printf("%s\n\n,,,,,,,,\n \xE3\x80\x80,\t\na,,,,,,,,\n\n,,\n", header_zh);
	cp_reader *r = open_text("blank", text);
	cp_record rec = {0};
	next_ok(r, &rec);
	g_assert_cmpstr(rec.cells[0], ==, "a");
	g_assert_cmpint(rec.row, ==, 5);
	g_assert_cmpint(rec.line, ==, 5);
	expect_end(r, &rec);
	cp_reader_free(r);
	g_free(text);
}

/* Proves: rows shorter or longer than the header come back as read; a field
 * past the end of a short row is NULL. */
static void test_short_long_rows(void)
{
	char *text = g_strdup_printf("%s\n张三,居民身份证\n李四,,,,,,,,,extra,more\n", header_zh);
	cp_reader *r = open_text("shortlong", text);
	cp_record rec = {0};
	next_ok(r, &rec);
	g_assert_cmpuint(rec.ncells, ==, 2);
	g_assert_cmpstr(rec.raw[CP_FIELD_ID_TYPE], ==, "居民身份证");
	g_assert_null(rec.raw[CP_FIELD_ID_NUMBER]);
	g_assert_null(rec.raw[CP_FIELD_PHOTO]);
	g_assert_null(rec.cells[2]);
	next_ok(r, &rec);
	g_assert_cmpuint(rec.ncells, ==, 11);
	g_assert_cmpstr(rec.cells[10], ==, "more");
	g_assert_cmpstr(rec.raw[CP_FIELD_PHOTO], ==, "");
	expect_end(r, &rec);
	cp_reader_free(r);
	g_free(text);
}

/* Proves: an unterminated quote is an error naming the line where the
 * quoted cell started, not the end of the file. */
static void test_unterminated_quote(void)
{
	char *text = g_strdup_printf("%s\na,,,,,,,,\nb,\"open\nmore\nlines,,,\n", header_zh);
	char *p = write_text("unterminated", text);
	cp_reader *r = open_ok(p);
	cp_record rec = {0};
	next_ok(r, &rec);
	cp_error *err = NULL;
	g_assert_cmpint(cp_reader_next(r, &rec, &err), ==, -1);
	g_assert_cmpint(err->line, ==, 3);
	g_assert_cmpint(err->row, ==, 3);
	tu_assert_error(&err, CP_E_PARSE, "t.csv:3: row 3, column 证件类型: the quoted cell that "
	                "starts on line 3 is never closed");
	g_assert_null(rec.cells); /* cleared, nothing half-read */
	cp_reader_free(r);
	g_free(p);
	g_free(text);
	/* In the header itself. */
	static const char hdr[] = "姓名,\"证件类型\n";
	expect_open_error("unterminated", hdr, sizeof hdr - 1, CP_E_PARSE, "t.csv:1: row 1");
}

/* Proves: a NUL byte stops reading with its line. */
static void test_nul(void)
{
	/* Past the sample, so the tokenizer meets it. */
	GString *s = g_string_new(header_zh);
	g_string_append(s, "\n");
	long nrows = 0;
	for (; s->len < CP_CSV_SNIFF + 10; nrows++)
		g_string_append(s, "a,,,,,,,,\n");
	g_string_append(s, "b\n,c,,,,,,,,\n");
	s->str[s->len - 9] = '\0'; /* the 'c' */
	char *p = write_bytes("nul", "t.csv", s->str, s->len);
	cp_reader *r = open_ok(p);
	cp_record rec = {0};
	cp_error *err = NULL;
	for (long i = 0; i < nrows; i++)
		next_ok(r, &rec);
	next_ok(r, &rec);
	g_assert_cmpstr(rec.cells[0], ==, "b");
	g_assert_cmpint(cp_reader_next(r, &rec, &err), ==, -1);
	g_assert_nonnull(err);
	g_assert_cmpint(err->line, ==, nrows + 3);
	g_assert_cmpint(err->row, ==, nrows + 3);
	tu_assert_error(&err, CP_E_PARSE, "NUL byte");
	cp_record_clear(&rec);
	cp_reader_free(r);
	g_free(p);
	g_string_free(s, TRUE);

	/* In the sample: found at once, with its line. */
	static const char early[] = "姓名\r\nx\ry\n\0";
	expect_open_error("nul", early, sizeof early - 1, CP_E_PARSE, "t.csv:4: NUL byte");
	/* UTF-16 without a BOM is full of NULs: the error says what it may be. */
	gsize n = 0;
	char *u16 = g_convert(header_zh, -1, "UTF-16LE", "UTF-8", NULL, &n, NULL);
	expect_open_error("nul", u16, n, CP_E_PARSE, "UTF-16");
	g_free(u16);
}

/* Proves: a 10 MB cell and a 10,000-column line fail fast with a limit
 * error naming row, line and column, without reading the rest. */
static void test_limits(void)
{
	size_t big = 10u * 1024 * 1024;
	GString *s = g_string_new(header_zh);
	g_string_append(s, "\nok,,,,,,,,\n张三,\"");
	gsize at = s->len;
	g_string_set_size(s, at + big);
	memset(s->str + at, 'x', big);
	g_string_append(s, "\",,,,,,,\n");
	gint64 t0 = g_get_monotonic_time();
	char *p = write_bytes("limits", "t.csv", s->str, s->len);
	cp_reader *r = open_ok(p);
	cp_record rec = {0};
	next_ok(r, &rec);
	cp_error *err = NULL;
	g_assert_cmpint(cp_reader_next(r, &rec, &err), ==, -1);
	tu_assert_error(&err, CP_E_NOMEM, "t.csv:3: row 3, column 证件类型: the cell in column 2 "
	                "is longer than the limit of 65536 bytes");
	cp_reader_free(r);
	g_test_message("10 MB cell rejected in %.1f ms (including writing the file)",
	               (double)(g_get_monotonic_time() - t0) / 1000.0);
	g_free(p);

	/* Exactly at the limit is fine. */
	g_string_assign(s, header_zh);
	g_string_append(s, "\n");
	at = s->len;
	g_string_set_size(s, at + CP_CSV_MAX_FIELD);
	memset(s->str + at, 'y', CP_CSV_MAX_FIELD);
	g_string_append(s, ",,,,,,,,\n");
	p = write_bytes("limits", "t.csv", s->str, s->len);
	r = open_ok(p);
	next_ok(r, &rec);
	g_assert_cmpuint(strlen(rec.cells[0]), ==, CP_CSV_MAX_FIELD);
	cp_reader_free(r);
	g_free(p);

	/* 10,000 columns. */
	g_string_assign(s, header_zh);
	g_string_append(s, "\n");
	for (int i = 0; i < 10000; i++)
		g_string_append(s, "a,");
	g_string_append(s, "\n");
	expect_next_error("limits", s->str, s->len, CP_E_NOMEM,
	                  "t.csv:2: row 2: the row has more than the limit of 1000 cells");
	/* ... and as the header. */
	g_string_truncate(s, 0);
	for (int i = 0; i < 10000; i++)
		g_string_append(s, ",");
	g_string_append(s, header_zh);
	expect_open_error("limits", s->str, s->len, CP_E_NOMEM, "limit of 1000 cells");

	/* A row of many cells each under the cell limit, over the row limit. */
	g_string_assign(s, header_zh);
	g_string_append(s, "\n");
	for (int i = 0; i < 20; i++) {
		at = s->len;
		g_string_set_size(s, at + 60000);
		memset(s->str + at, 'z', 60000);
		g_string_append_c(s, ',');
	}
	expect_next_error("limits", s->str, s->len, CP_E_NOMEM, "the row is longer than the limit");
	cp_record_clear(&rec);
	g_string_free(s, TRUE);
}

/* Proves: empty, blank-only, header-only and missing files. */
static void test_empty_and_missing(void)
{
	expect_open_error("empty", "", 0, CP_E_PARSE, "no header row");
	expect_open_error("empty", "\n\r\n,,,\n", 7, CP_E_PARSE, "no header row");
	static const char bom_only[] = "\xEF\xBB\xBF";
	expect_open_error("empty", bom_only, 3, CP_E_PARSE, "no header row");

	cp_reader *r = open_text("header-only", header_zh);
	cp_record rec = {0};
	expect_end(r, &rec);
	cp_reader_free(r);

	cp_error *err = NULL;
	char *dir = tu_scratch("missing");
	char *p = g_build_filename(dir, "nope.csv", NULL);
	g_assert_null(cp_reader_open(p, &err));
	tu_assert_error(&err, CP_E_IO, "nope.csv: cannot open the file");
	/* A folder is not a file either. */
	g_assert_null(cp_reader_open(dir, &err));
	g_assert_nonnull(err);
	g_assert_cmpint(err->code, ==, CP_E_IO);
	g_assert_cmpstr(err->file, ==, dir);
	tu_assert_error(&err, CP_E_IO, NULL);
	g_free(p);
	g_free(dir);
}

/* Builds GB18030 bytes: header, filler rows, then rows whose multibyte
 * characters sit across the chunk boundaries at file offsets 65536 (a 2-byte
 * character) and 131072 (a 4-byte one, U+20000). The expected names go
 * into names. */
static GString *gb_split_file(GPtrArray *names)
{
	GString *out = g_string_new(NULL);
	gsize n = 0;
	char *h = g_convert(header_zh, -1, "GB18030", "UTF-8", NULL, &n, NULL);
	g_string_append_len(out, h, (gssize)n);
	g_string_append_c(out, '\n');
	g_free(h);
	static const char *const names_utf8[] = {"张三", "\xF0\xA0\x80\x80" "四"}; /* 𠀀四 */
	const gsize boundary[] = {CP_CSV_CHUNK, 2 * CP_CSV_CHUNK};
	const gsize before[] = {1, 2}; /* bytes of the character before the boundary */
	for (int k = 0; k < 2; k++) {
		/* Filler rows, then one padded so the name starts right. */
		while (out->len + 200 < boundary[k]) {
			g_string_append(out, "filler,,,,,,,,\n");
			g_ptr_array_add(names, g_strdup("filler"));
		}
		/* The padded row is pad letters then ",,,,,,,,\n" (9 bytes). */
		gsize pad = boundary[k] - before[k] - out->len - 9;
		for (gsize i = 0; i < pad; i++)
			g_string_append_c(out, 'p');
		g_string_append(out, ",,,,,,,,\n");
		g_ptr_array_add(names, g_strnfill(pad, 'p'));
		char *gb = g_convert(names_utf8[k], -1, "GB18030", "UTF-8", NULL, &n, NULL);
		g_assert_cmpuint(out->len + before[k], ==, boundary[k]);
		g_string_append_len(out, gb, (gssize)n);
		g_string_append(out, ",,,,,,,,\n");
		g_ptr_array_add(names, g_strdup(names_utf8[k]));
		g_free(gb);
	}
	g_string_append(out, "end,,,,,,,,\n");
	g_ptr_array_add(names, g_strdup("end"));
	return out;
}

/* Proves: a file whose first chunks are all ASCII (an English header, many
 * rows of Latin names) is decided at its first non-ASCII byte: GB18030
 * converted from there on, with a character split across the next chunk
 * boundary; UTF-8 kept as it is. */
static void test_late_encoding(void)
{
	static const char hdr[] = "name,id_type,id_number,occupation,job_type,level,cert_no,"
	                          "issue_date,photo\n";
	for (int gb = 0; gb <= 1; gb++) {
		GString *s = g_string_new(hdr);
		long rows = 0;
		while (s->len < CP_CSV_CHUNK + 30000) {
			g_string_append(s, "Li Lei,,,,,,,,\n");
			rows++;
		}
		/* pad so that 张 straddles the boundary at 2 × CP_CSV_CHUNK */
		gsize n = 0;
		char *name = gb ? g_convert("张三", -1, "GB18030", "UTF-8", NULL, &n, NULL)
		                : g_strdup("张三");
		n = strlen(name);
		gsize pad = 2 * CP_CSV_CHUNK - 1 - s->len - 9;
		for (gsize i = 0; i < pad; i++)
			g_string_append_c(s, 'p');
		g_string_append(s, ",,,,,,,,\n");
		g_assert_cmpuint(s->len + 1, ==, 2 * CP_CSV_CHUNK);
		g_string_append(s, name);
		g_string_append(s, ",,,,,,,,\nend,,,,,,,,\n");
		g_free(name);
		char *p = write_bytes("late", gb ? "gb.csv" : "utf8.csv", s->str, s->len);
		cp_reader *r = open_ok(p);
		cp_record rec = {0};
		cp_error *err = NULL;
		long got = 0;
		char *seen = NULL;
		while (cp_reader_next(r, &rec, &err) == 1) {
			got++;
			if (got == rows + 2) {
				g_free(seen);
				seen = g_strdup(rec.raw[CP_FIELD_NAME]);
			}
		}
		tu_assert_no_error(err);
		g_assert_cmpint(got, ==, rows + 3);
		g_assert_cmpstr(seen, ==, "张三");
		g_assert_cmpstr(cp_reader_encoding(r), ==, gb ? "GB18030" : "UTF-8");
		g_free(seen);
		cp_record_clear(&rec);
		cp_reader_free(r);
		g_free(p);
		g_string_free(s, TRUE);
	}
}

/* Proves: GB18030 characters split by a chunk boundary are converted
 * whole (2- and 4-byte sequences), and every row survives. */
static void test_gb18030_chunks(void)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GString *s = gb_split_file(names);
	char *p = write_bytes("gbchunks", "t.csv", s->str, s->len);
	cp_reader *r = open_ok(p);
	g_assert_cmpstr(cp_reader_encoding(r), ==, "GB18030");
	cp_record rec = {0};
	for (guint i = 0; i < names->len; i++) {
		next_ok(r, &rec);
		g_assert_cmpstr(rec.raw[CP_FIELD_NAME], ==, names->pdata[i]);
		g_assert_cmpint(rec.row, ==, (long)i + 2);
	}
	expect_end(r, &rec);
	cp_reader_free(r);
	g_free(p);

	/* An invalid byte past the sample: an error naming its line. */
	gsize lines = names->len + 1;
	g_string_append(s, "bad\xFF,,,,,,,,\n");
	p = write_bytes("gbchunks", "t.csv", s->str, s->len);
	r = open_ok(p);
	for (guint i = 0; i < names->len; i++)
		next_ok(r, &rec);
	cp_error *err = NULL;
	g_assert_cmpint(cp_reader_next(r, &rec, &err), ==, -1);
	char *needle = g_strdup_printf("t.csv:%zu: row %zu: the text is not valid GB18030",
	                               lines + 1, lines + 1);
	tu_assert_error(&err, CP_E_PARSE, needle);
	g_free(needle);
	cp_reader_free(r);
	g_free(p);

	/* A file cut in the middle of a character. */
	g_string_truncate(s, s->len - strlen("bad\xFF,,,,,,,,\n"));
	g_string_append(s, "x\xD5");
	p = write_bytes("gbchunks", "t.csv", s->str, s->len);
	r = open_ok(p);
	for (guint i = 0; i < names->len; i++)
		next_ok(r, &rec);
	g_assert_cmpint(cp_reader_next(r, &rec, &err), ==, -1);
	tu_assert_error(&err, CP_E_PARSE, "ends in the middle of a GB18030 character");
	cp_reader_free(r);
	g_free(p);
	cp_record_clear(&rec);
	g_string_free(s, TRUE);
	g_ptr_array_unref(names);
}

/* Proves: invalid UTF-8 in a UTF-8 file is passed on to the record (the
 * checker reports it), whether past the sample or in bytes that are not
 * GB18030 either. */
static void test_invalid_utf8(void)
{
	GString *s = g_string_new(header_zh);
	g_string_append(s, "\n");
	while (s->len < CP_CSV_SNIFF + 100)
		g_string_append(s, "张三,,,,,,,,\n");
	g_string_append(s, "bad\xC3(,,,,,,,,\n");
	char *p = write_bytes("badutf8", "t.csv", s->str, s->len);
	cp_reader *r = open_ok(p);
	g_assert_cmpstr(cp_reader_encoding(r), ==, "UTF-8");
	cp_record rec = {0};
	cp_error *err = NULL;
	char *last = NULL;
	while (cp_reader_next(r, &rec, &err) == 1) {
		g_free(last);
		last = g_strdup(rec.raw[CP_FIELD_NAME]);
	}
	tu_assert_no_error(err);
	g_assert_cmpstr(last, ==, "bad\xC3(");
	g_free(last);
	cp_reader_free(r);
	g_free(p);

	/* 0xFF is neither UTF-8 nor GB18030. */
	char *text = g_strdup_printf("%s\nx\xFF\xFE,,,,,,,,\n", header_zh);
	r = open_text("badutf8", text);
	g_assert_cmpstr(cp_reader_encoding(r), ==, "UTF-8");
	next_ok(r, &rec);
	g_assert_cmpstr(rec.raw[CP_FIELD_NAME], ==, "x\xFF\xFE");
	cp_reader_free(r);
	cp_record_clear(&rec);
	g_free(text);
	g_string_free(s, TRUE);
}

/* Proves: a UTF-8 character cut by the end of the 64 KiB sample does not
 * make the file look like something else, and tab-separated UTF-8 works. */
static void test_utf8_sample_cut(void)
{
	/* All ASCII before the cut: otherwise the UTF-8 header alone would
	 * fail as GB18030 and hide what this tests. */
	GString *s = g_string_new("name\tid_type\tid_number\toccupation\tjob_type\tlevel\t"
	                          "cert_no\tissue_date\tphoto");
	g_string_append(s, "\n");
	long rows = 0;
	for (; s->len + 100 < CP_CSV_SNIFF; rows++)
		g_string_append(s, "a\t\t\t\t\t\t\t\t\n");
	/* pad letters, "\n", then 张 (3 bytes) starting 1 byte before the cut */
	gsize pad = CP_CSV_SNIFF - 1 - s->len - 1;
	for (gsize i = 0; i < pad; i++)
		g_string_append_c(s, 'p');
	g_string_append(s, "\n张三\t\t\t\t\t\t\t\t\n");
	g_assert_cmpint((guchar)s->str[CP_CSV_SNIFF - 1], ==, 0xE5);
	char *p = write_bytes("utf8cut", "t.csv", s->str, s->len);
	cp_reader *r = open_ok(p);
	g_assert_cmpstr(cp_reader_encoding(r), ==, "UTF-8");
	cp_record rec = {0};
	for (long i = 0; i < rows + 1; i++)
		next_ok(r, &rec);
	g_assert_cmpuint(rec.ncells, ==, 1);
	next_ok(r, &rec);
	g_assert_cmpuint(rec.ncells, ==, 9);
	g_assert_cmpstr(rec.raw[CP_FIELD_NAME], ==, "张三");
	g_assert_cmpint(rec.row, ==, rows + 3);
	expect_end(r, &rec);
	cp_reader_free(r);
	g_free(p);
	g_string_free(s, TRUE);
}

/* A workbook is told by its first bytes, whatever its name, and read as a
 * workbook (test_xlsx.c has the real ones): a damaged one is named as such,
 * not reported as a stray NUL byte. */
static void test_workbook(void)
{
	char *dir = tu_scratch("csv-workbook");
	static const char xlsx[] = "PK\x03\x04\x14\x00\x06\x00[Content_Types].xml";
	static const char xls[] = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00\x00";
	const struct { const char *name; const char *data; size_t len; } cases[] = {
		{"batch.xlsx", xlsx, sizeof xlsx - 1},
		{"batch.xls", xls, sizeof xls - 1},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *path = g_build_filename(dir, cases[i].name, NULL);
		g_assert_true(g_file_set_contents(path, cases[i].data, (gssize)cases[i].len, NULL));
		cp_error *err = NULL;
		g_assert_null(cp_reader_open(path, &err));
		tu_assert_error(&err, CP_E_PARSE, "cannot open the workbook");
		g_free(path);
	}
	g_free(dir);
}

/* Progress follows the bytes actually consumed, never goes back, and reaches
 * 1 exactly at the end, for plain and converted (GB18030) files alike. */
static void test_progress(void)
{
	const char *files[] = {"data/csv/basic.csv", "data/csv/gb18030.csv"};
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		char *path = tu_path(files[i]);
		cp_error *err = NULL;
		cp_reader *r = cp_reader_open(path, &err);
		tu_assert_no_error(err);
		double f = -1, last = 0;
		g_assert_true(cp_reader_progress(r, &f));
		g_assert_cmpfloat(f, >=, 0);
		g_assert_cmpfloat(f, <, 1);
		cp_record rec = {0};
		int n;
		while ((n = cp_reader_next(r, &rec, &err)) == 1) {
			g_assert_true(cp_reader_progress(r, &f));
			g_assert_cmpfloat(f, >=, last);
			last = f;
		}
		g_assert_cmpint(n, ==, 0);
		g_assert_true(cp_reader_progress(r, &f));
		g_assert_cmpfloat(f, ==, 1);
		cp_record_clear(&rec);
		cp_reader_free(r);
		g_free(path);
	}
	g_assert_false(cp_reader_progress(NULL, &(double){0}));
}


/* Not a proof: prints how long 10,000 rows take (machines are noisy). */
static void test_speed(void)
{
	GString *s = g_string_new(header_zh);
	g_string_append(s, ",证书印制流水码\n");
	for (int i = 0; i < 10000; i++)
		g_string_append_printf(s, "张三%d,居民身份证,11010519491231002X,电工,\"低压, 电工\","
		                       "三级/高级工,Y000111000001263%06d,2026-11-27,photos/%d.jpg,"
		                       "A%07d\r\n", i, i, i, i);
	char *p = write_bytes("speed", "t.csv", s->str, s->len);
	gint64 t0 = g_get_monotonic_time();
	cp_reader *r = open_ok(p);
	cp_record rec = {0};
	cp_error *err = NULL;
	long n = 0;
	while (cp_reader_next(r, &rec, &err) == 1)
		n++;
	gint64 t1 = g_get_monotonic_time();
	tu_assert_no_error(err);
	g_assert_cmpint(n, ==, 10000);
	g_assert_cmpint(rec.row, ==, 0); /* cleared at the end */
	g_test_message("read 10,000 rows (%zu bytes) in %.2f ms", s->len,
	               (double)(t1 - t0) / 1000.0);
	cp_reader_free(r);
	g_free(p);
	g_string_free(s, TRUE);
}


/* Writing against CSV injection: what is neutralised, what is left alone,
 * and the reader giving back what was written. */
static void test_write_neutralise(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{"=1+2", "\"'=1+2\""},
		{"+cmd|' /C calc'!A0", "\"'+cmd|' /C calc'!A0\""},
		{"-2+3", "\"'-2+3\""},
		{"@SUM(A1)", "\"'@SUM(A1)\""},
		{"\tx", "\"'\tx\""},
		{"\rx", "\"'\rx\""},
		{"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
		{"-5", "-5"},      /* a negative number stays a number */
		{"+86", "+86"},
		{"-3.25", "-3.25"},
		{"S000044000123263000001", "S000044000123263000001"},
		{"GD2026000017", "GD2026000017"},
		{"张三", "张三"},
		{"a=b", "a=b"},    /* only the first character counts */
		{"", ""},
		{"a,b", "\"a,b\""},
		{" x", "\" x\""},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		GString *g = g_string_new(NULL);
		cp_csv_append_cell(g, cases[i].in);
		g_assert_cmpstr(g->str, ==, cases[i].out);
		g_string_free(g, TRUE);
	}
	GString *g = g_string_new(NULL);
	cp_csv_append_cell(g, NULL);
	g_assert_cmpstr(g->str, ==, "");
	g_string_free(g, TRUE);

	/* Written, then read back: the values come back as they were. */
	const char *vals[] = {"=1+2", "-5", "@x", "'plain", "-", "+86 138"};
	GString *f = g_string_new(header_zh);
	g_string_append(f, ",a,b,c,d,e,f\r\n,,,,,,,,");
	for (size_t i = 0; i < G_N_ELEMENTS(vals); i++) {
		g_string_append_c(f, ',');
		cp_csv_append_cell(f, vals[i]);
	}
	g_string_append(f, "\r\n");
	cp_reader *r = open_text("csv-neutralise", f->str);
	cp_record rec = {0};
	next_ok(r, &rec);
	g_assert_cmpuint(rec.ncells, ==, 9 + G_N_ELEMENTS(vals));
	for (size_t i = 0; i < G_N_ELEMENTS(vals); i++)
		g_assert_cmpstr(rec.cells[9 + i], ==, vals[i]);
	expect_end(r, &rec);
	cp_record_clear(&rec);
	cp_reader_free(r);
	g_string_free(f, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/csv/basic", test_basic);
	g_test_add_func("/csv/relative-dir", test_relative_dir);
	g_test_add_func("/csv/bom", test_bom);
	g_test_add_func("/csv/gb18030", test_gb18030);
	g_test_add_func("/csv/gb18030-chunks", test_gb18030_chunks);
	g_test_add_func("/csv/utf16", test_utf16);
	g_test_add_func("/csv/invalid-utf8", test_invalid_utf8);
	g_test_add_func("/csv/utf8-sample-cut", test_utf8_sample_cut);
	g_test_add_func("/csv/quoting", test_quoting);
	g_test_add_func("/csv/line-endings", test_line_endings);
	g_test_add_func("/csv/headers", test_headers);
	g_test_add_func("/csv/header-errors", test_header_errors);
	g_test_add_func("/csv/blank-rows", test_blank_rows);
	g_test_add_func("/csv/title-rows", test_title_rows);
	g_test_add_func("/csv/late-encoding", test_late_encoding);
	g_test_add_func("/csv/short-long-rows", test_short_long_rows);
	g_test_add_func("/csv/unterminated-quote", test_unterminated_quote);
	g_test_add_func("/csv/nul", test_nul);
	g_test_add_func("/csv/limits", test_limits);
	g_test_add_func("/csv/empty-and-missing", test_empty_and_missing);
	g_test_add_func("/csv/workbook", test_workbook);
	g_test_add_func("/csv/progress", test_progress);
	g_test_add_func("/csv/speed", test_speed);
	g_test_add_func("/csv/write-neutralise", test_write_neutralise);
	return g_test_run();
}
