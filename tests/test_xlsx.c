/* SPDX-License-Identifier: MIT */
/* The workbook readers (xlsx.c, xls.c, sheet.c): packages, strings, dates
 * and styles, sheets, limits and hostile parts. Workbooks are built here with
 * libzip from XML written out in each test, so every byte of every part is
 * under the test's control (the fixtures written by openpyxl and xlwt are
 * tests/data/workbook/, used by tests/cli/workbook.sh and below). */
#include "common/testutil.h"

#include <string.h>
#include <time.h>
#include <zip.h>

#include "input/sheet.h"
#include "input/xlsx.h"

static char *scratch;

#define NS "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" " \
           "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""
#define RELNS "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define PKGRELS "http://schemas.openxmlformats.org/package/2006/relationships"

typedef struct part {
	const char *name;
	const char *text; /* NUL-terminated */
} part;

/* Writes the parts into scratch/name. */
static char *write_zip(const char *name, const part *parts, size_t n)
{
	char *path = g_build_filename(scratch, name, NULL);
	int ze = 0;
	zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &ze);
	g_assert_nonnull(z);
	for (size_t i = 0; i < n; i++) {
		char *copy = g_strdup(parts[i].text);
		zip_source_t *s = zip_source_buffer(z, copy, strlen(copy), 1);
		g_assert_nonnull(s);
		g_assert_cmpint(zip_file_add(z, parts[i].name, s, ZIP_FL_ENC_UTF_8), >=, 0);
	}
	g_assert_cmpint(zip_close(z), ==, 0);
	return path;
}

static const char root_rels[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	"<Relationships xmlns=\"" PKGRELS "\">"
	"<Relationship Id=\"rId1\" Type=\"" RELNS "/officeDocument\" Target=\"xl/workbook.xml\"/>"
	"</Relationships>";

static const char one_sheet_workbook[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	"<workbook " NS "><sheets><sheet name=\"名单\" sheetId=\"1\" r:id=\"rId1\"/></sheets>"
	"</workbook>";

static const char wb_rels[] =
	"<Relationships xmlns=\"" PKGRELS "\">"
	"<Relationship Id=\"rId1\" Type=\"" RELNS "/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
	"<Relationship Id=\"rId2\" Type=\"" RELNS "/sharedStrings\" Target=\"sharedStrings.xml\"/>"
	"<Relationship Id=\"rId3\" Type=\"" RELNS "/styles\" Target=\"styles.xml\"/>"
	"</Relationships>";

/* A one-sheet workbook: the sheet's <sheetData> content, and optionally the
 * shared strings, styles and a workbook part of its own. */
static char *workbook(const char *name, const char *rows, const char *sst, const char *styles,
                      const char *wb)
{
	char *sheet = g_strdup_printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	                              "<worksheet " NS "><dimension ref=\"A1\"/><sheetData>%s"
	                              "</sheetData></worksheet>", rows);
	part parts[6];
	size_t n = 0;
	parts[n++] = (part){"[Content_Types].xml", "<Types/>"};
	parts[n++] = (part){"_rels/.rels", root_rels};
	parts[n++] = (part){"xl/workbook.xml", wb ? wb : one_sheet_workbook};
	parts[n++] = (part){"xl/_rels/workbook.xml.rels", wb_rels};
	parts[n++] = (part){"xl/worksheets/sheet1.xml", sheet};
	char *sst_xml = NULL, *styles_xml = NULL;
	part more[2];
	size_t m = 0;
	if (sst) {
		sst_xml = g_strdup_printf("<sst " NS ">%s</sst>", sst);
		more[m++] = (part){"xl/sharedStrings.xml", sst_xml};
	}
	if (styles) {
		styles_xml = g_strdup_printf("<styleSheet " NS ">%s</styleSheet>", styles);
		more[m++] = (part){"xl/styles.xml", styles_xml};
	}
	part all[8];
	memcpy(all, parts, n * sizeof *parts);
	memcpy(all + n, more, m * sizeof *more);
	char *path = write_zip(name, all, n + m);
	g_free(sheet);
	g_free(sst_xml);
	g_free(styles_xml);
	return path;
}

static cp_sheet *open_ok(const char *path, const char *sheet)
{
	cp_error *err = NULL;
	cp_sheet *s = cp_xlsx_open(path, sheet, &err);
	tu_assert_no_error(err);
	g_assert_nonnull(s);
	return s;
}

static void next_ok(cp_sheet *s, cp_sheet_row *r)
{
	cp_error *err = NULL;
	int k = cp_sheet_next(s, r, &err);
	tu_assert_no_error(err);
	g_assert_cmpint(k, ==, 1);
}

static void expect_end(cp_sheet *s)
{
	cp_error *err = NULL;
	cp_sheet_row r;
	g_assert_cmpint(cp_sheet_next(s, &r, &err), ==, 0);
	tu_assert_no_error(err);
}

static const char *cell(const cp_sheet_row *r, size_t i)
{
	return i < r->ncells ? r->cells[i] : NULL;
}

/* ---------------------------------------------------------------- tests */

/* Shared strings (runs joined, phonetic guides left out, _xHHHH_ decoded),
 * inline strings, formulas by their cached value, booleans, errors, numbers
 * as Excel shows them (flagged as numbers), cells without references,
 * empty cells in between, prefixed element names, rows numbered as in the
 * sheet with empty rows left out. */
static void test_cells(void)
{
	const char *sst =
		"<si><t>姓名</t></si>"
		"<si><r><t>张</t></r><r><rPr><b/></rPr><t xml:space=\"preserve\">三 </t></r>"
		"<rPh sb=\"0\" eb=\"1\"><t>ZHANG</t></rPh></si>"
		"<si><t>A_x000D_B_x005F_x0041_</t></si>";
	const char *rows =
		"<row r=\"2\"><c r=\"A2\" t=\"s\"><v>0</v></c><c r=\"C2\" t=\"s\"><v>1</v></c></row>"
		"<row r=\"3\"/>"
		"<row r=\"5\"><c t=\"s\"><v>2</v></c><c t=\"inlineStr\"><is><t>行内</t></is></c>"
		"<c t=\"str\"><f>A1&amp;\"x\"</f><v>缓存</v></c><c><f>1+2</f><v>3</v></c>"
		"<c t=\"b\"><v>1</v></c><c t=\"e\"><v>#N/A</v></c></row>"
		"<row r=\"6\"><c r=\"A6\"><v>1.5</v></c><c r=\"B6\"><v>440106199207082485</v></c>"
		"<c r=\"C6\"><v>-0.25</v></c><c r=\"D6\"><v>1E-05</v></c>"
		"<c r=\"E6\" t=\"inlineStr\"><is><t>44010619920708248X</t></is></c>"
		"<c r=\"F6\"/><c r=\"G6\" t=\"d\"><v>2026-11-27T00:00:00</v></c></row>";
	char *p = workbook("cells.xlsx", rows, sst, NULL, NULL);
	cp_sheet *s = open_ok(p, NULL);
	g_assert_cmpstr(cp_sheet_describe(s), ==, "xlsx workbook, sheet 名单");
	cp_sheet_row r;
	next_ok(s, &r);
	g_assert_cmpint(r.row, ==, 2);
	g_assert_cmpuint(r.ncells, ==, 3);
	g_assert_cmpstr(cell(&r, 0), ==, "姓名");
	g_assert_null(cell(&r, 1));
	g_assert_cmpstr(cell(&r, 2), ==, "张三 ");
	next_ok(s, &r);
	g_assert_cmpint(r.row, ==, 5);
	g_assert_cmpstr(cell(&r, 0), ==, "A\rB_x0041_");
	g_assert_cmpstr(cell(&r, 1), ==, "行内");
	g_assert_cmpstr(cell(&r, 2), ==, "缓存");
	g_assert_cmpstr(cell(&r, 3), ==, "3");
	g_assert_true(r.number[3]);
	g_assert_false(r.number[2]);
	g_assert_cmpstr(cell(&r, 4), ==, "TRUE");
	g_assert_cmpstr(cell(&r, 5), ==, "#N/A");
	next_ok(s, &r);
	g_assert_cmpint(r.row, ==, 6);
	g_assert_cmpstr(cell(&r, 0), ==, "1.5");
	g_assert_cmpstr(cell(&r, 1), ==, "4.40106199207082E+17");
	g_assert_true(r.number[1]);
	g_assert_cmpstr(cell(&r, 2), ==, "-0.25");
	g_assert_cmpstr(cell(&r, 3), ==, "1E-05");
	g_assert_cmpstr(cell(&r, 4), ==, "44010619920708248X");
	g_assert_false(r.number[4]);
	g_assert_null(cell(&r, 5));
	g_assert_cmpstr(cell(&r, 6), ==, "2026-11-27");
	expect_end(s);
	expect_end(s);
	cp_sheet_free(s);
	g_free(p);

	/* prefixed names (some writers), no shared strings part at all */
	const char *prefixed =
		"<x:row r=\"1\" xmlns:x=\"urn:x\"><x:c r=\"B1\" t=\"inlineStr\"><x:is><x:t>前缀</x:t>"
		"</x:is></x:c></x:row>";
	p = workbook("prefixed.xlsx", prefixed, NULL, NULL, NULL);
	s = open_ok(p, NULL);
	next_ok(s, &r);
	g_assert_cmpstr(cell(&r, 1), ==, "前缀");
	expect_end(s);
	cp_sheet_free(s);
	g_free(p);
}

/* Every built-in number format id Excel and WPS write (the zh-CN dates
 * 27-31, 36, 50-54, 57, 58 and times 32-35, 55, 56 too) and custom formats:
 * each cell holds 46353.5, noon of 27 November 2026. */
static void test_date_formats(void)
{
	static const struct {
		const char *code; /* NULL: a built-in id */
		int id;
		const char *want;
	} f[] = {
		{NULL, 0, "46353.5"},   {NULL, 2, "46353.5"},   {NULL, 49, "46353.5"},
		{NULL, 14, "D"}, {NULL, 15, "D"}, {NULL, 16, "D"}, {NULL, 17, "D"},
		{NULL, 18, "T"}, {NULL, 19, "T"}, {NULL, 20, "T"}, {NULL, 21, "T"},
		{NULL, 22, "D"},
		{NULL, 27, "D"}, {NULL, 28, "D"}, {NULL, 29, "D"}, {NULL, 30, "D"},
		{NULL, 31, "D"}, {NULL, 32, "T"}, {NULL, 33, "T"}, {NULL, 34, "T"},
		{NULL, 35, "T"}, {NULL, 36, "D"},
		{NULL, 45, "T"}, {NULL, 46, "T"}, {NULL, 47, "T"},
		{NULL, 50, "D"}, {NULL, 51, "D"}, {NULL, 52, "D"}, {NULL, 53, "D"},
		{NULL, 54, "D"}, {NULL, 55, "T"}, {NULL, 56, "T"}, {NULL, 57, "D"},
		{NULL, 58, "D"},
		{"yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;", 164, "D"},
		{"[$-804]yyyy/m/d;@", 165, "D"},
		{"[h]:mm:ss", 166, "T"},
		{"h:mm", 167, "T"},
		{"mm:ss", 168, "T"},
		{"0.00", 169, "46353.5"},
		{"&quot;day &quot;0", 170, "46353.5"},
		{"General", 171, "46353.5"},
		{"[Red]0.0;[Blue]-0.0", 172, "46353.5"},
		{"yyyy-mm-dd hh:mm", 173, "D"},
		{"\\d0", 174, "46353.5"},
		{"e&quot;年&quot;m&quot;月&quot;", 175, "D"},
	};
	GString *fmts = g_string_new("<numFmts>");
	GString *xfs = g_string_new("<cellXfs>");
	GString *rows = g_string_new("<row r=\"1\">");
	for (size_t i = 0; i < G_N_ELEMENTS(f); i++) {
		if (f[i].code)
			g_string_append_printf(fmts, "<numFmt numFmtId=\"%d\" formatCode=\"%s\"/>",
			                        f[i].id, f[i].code);
		g_string_append_printf(xfs, "<xf numFmtId=\"%d\" applyNumberFormat=\"1\"/>",
		                       f[i].id);
		g_string_append_printf(rows, "<c s=\"%zu\"><v>46353.5</v></c>", i);
	}
	g_string_append(fmts, "</numFmts><cellStyleXfs><xf numFmtId=\"14\"/></cellStyleXfs>");
	g_string_append(xfs, "</cellXfs>");
	g_string_append(rows, "</row>");
	g_string_append(fmts, xfs->str);
	char *p = workbook("dates.xlsx", rows->str, NULL, fmts->str, NULL);
	cp_sheet *s = open_ok(p, NULL);
	cp_sheet_row r;
	next_ok(s, &r);
	g_assert_cmpuint(r.ncells, ==, G_N_ELEMENTS(f));
	for (size_t i = 0; i < G_N_ELEMENTS(f); i++) {
		const char *want = strcmp(f[i].want, "D") == 0   ? "2026-11-27 12:00:00"
		                   : strcmp(f[i].want, "T") == 0 ? "12:00:00"
		                                                 : f[i].want;
		g_test_message("format %d %s: %s", f[i].id, f[i].code ? f[i].code : "",
		               r.cells[i]);
		g_assert_cmpstr(r.cells[i], ==, want);
		g_assert_true(r.number[i] == (strcmp(want, "46353.5") == 0));
	}
	cp_sheet_free(s);
	g_free(p);
	g_string_free(fmts, TRUE);
	g_string_free(xfs, TRUE);
	g_string_free(rows, TRUE);
}

/* Serial numbers: the 1900 system with Lotus's phantom 29 February 1900,
 * and the 1904 system (workbookPr date1904). The expected dates are
 * openpyxl's (from_excel) for the same serials. */
static void test_serials(void)
{
	static const struct {
		double v;
		bool d1904;
		const char *want; /* NULL: not a date */
	} c[] = {
		{1, false, "1900-01-01"},
		{59, false, "1900-02-28"},
		{60, false, "1900-02-29"},
		{61, false, "1900-03-01"},
		{46353, false, "2026-11-27"},
		{46353.25, false, "2026-11-27 06:00:00"},
		{46353.99999999, false, "2026-11-28"},
		{2958465, false, "9999-12-31"},
		{2958466, false, NULL},
		{0, false, NULL},
		{-1, false, NULL},
		{0, true, "1904-01-01"},
		{44891, true, "2026-11-27"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(c); i++) {
		char buf[64] = "";
		bool ok = cp_sheet_serial_text(c[i].v, c[i].d1904, false, buf, sizeof buf);
		g_test_message("%.8f %d → %s", c[i].v, c[i].d1904, ok ? buf : "(none)");
		g_assert_true(ok == (c[i].want != NULL));
		if (ok)
			g_assert_cmpstr(buf, ==, c[i].want);
	}

	/* through a workbook: date1904="1" moves every date */
	const char *wb1904 = "<workbook " NS "><workbookPr date1904=\"1\"/><sheets>"
	                     "<sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
	char *p = workbook("d1904.xlsx", "<row r=\"1\"><c s=\"1\"><v>44891</v></c></row>", NULL,
	                   "<cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"31\"/></cellXfs>",
	                   wb1904);
	cp_sheet *s = open_ok(p, NULL);
	cp_sheet_row r;
	next_ok(s, &r);
	g_assert_cmpstr(r.cells[0], ==, "2026-11-27");
	cp_sheet_free(s);
	g_free(p);
}

/* Sheets: the first visible worksheet by default (not a hidden one, not a
 * chart), another by --sheet, an unknown name lists the sheets; targets
 * absolute or relative; part names found ignoring case. */
static void test_sheets(void)
{
	const char *wb = "<workbook " NS "><sheets>"
	                 "<sheet name=\"隐藏\" sheetId=\"1\" state=\"hidden\" r:id=\"rId1\"/>"
	                 "<sheet name=\"图表\" sheetId=\"2\" r:id=\"rId2\"/>"
	                 "<sheet name=\"名单\" sheetId=\"3\" r:id=\"rId3\"/>"
	                 "<sheet name=\"第二批\" sheetId=\"4\" r:id=\"rId4\"/>"
	                 "</sheets></workbook>";
	const char *rels = "<Relationships xmlns=\"" PKGRELS "\">"
	                   "<Relationship Id=\"rId1\" Type=\"" RELNS "/worksheet\" "
	                   "Target=\"worksheets/sheet1.xml\"/>"
	                   "<Relationship Id=\"rId2\" Type=\"" RELNS "/chartsheet\" "
	                   "Target=\"chartsheets/sheet1.xml\"/>"
	                   "<Relationship Id=\"rId3\" Type=\"" RELNS "/worksheet\" "
	                   "Target=\"/xl/worksheets/../worksheets/sheet2.xml\"/>"
	                   "<Relationship Id=\"rId4\" Type=\"" RELNS "/worksheet\" "
	                   "Target=\"worksheets/sheet3.xml\"/>"
	                   "</Relationships>";
#define ONE(text) "<worksheet " NS "><sheetData><row r=\"1\"><c t=\"inlineStr\"><is><t>" \
                  text "</t></is></c></row></sheetData></worksheet>"
	const part parts[] = {
		{"_rels/.rels", root_rels},
		{"xl/workbook.xml", wb},
		{"xl/_rels/workbook.xml.rels", rels},
		{"xl/worksheets/sheet1.xml", ONE("hidden")},
		{"xl/chartsheets/sheet1.xml", "<chartsheet/>"},
		{"XL/Worksheets/Sheet2.XML", ONE("list")},
		{"xl/worksheets/sheet3.xml", ONE("second")},
	};
#undef ONE
	char *p = write_zip("sheets.xlsx", parts, G_N_ELEMENTS(parts));
	cp_sheet_row r;
	cp_sheet *s = open_ok(p, NULL);
	g_assert_cmpstr(cp_sheet_describe(s), ==, "xlsx workbook, sheet 名单");
	next_ok(s, &r);
	g_assert_cmpstr(r.cells[0], ==, "list");
	cp_sheet_free(s);
	s = open_ok(p, "第二批");
	next_ok(s, &r);
	g_assert_cmpstr(r.cells[0], ==, "second");
	cp_sheet_free(s);
	s = open_ok(p, "隐藏");
	next_ok(s, &r);
	g_assert_cmpstr(r.cells[0], ==, "hidden");
	cp_sheet_free(s);
	cp_error *err = NULL;
	g_assert_null(cp_xlsx_open(p, "第三批", &err));
	tu_assert_error(&err, CP_E_USAGE,
	                "the workbook has no sheet named 第三批 (its sheets: 隐藏、图表、名单、第二批)");
	g_assert_null(cp_xlsx_open(p, "图表", &err));
	tu_assert_error(&err, CP_E_PARSE, "not a worksheet");
	g_free(p);
}

/* The CSV reader's face for workbooks: the header found below a title row,
 * rows numbered as in the sheet, a number cell flagged on its field. */
static void test_reader(void)
{
	const char *rows =
		"<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>2026年第3批鉴定合格人员名单</t></is>"
		"</c></row>"
		"<row r=\"3\">"
		"<c r=\"A3\" t=\"inlineStr\"><is><t>姓名</t></is></c>"
		"<c r=\"B3\" t=\"inlineStr\"><is><t>证件类型</t></is></c>"
		"<c r=\"C3\" t=\"inlineStr\"><is><t>证件号码</t></is></c>"
		"<c r=\"D3\" t=\"inlineStr\"><is><t>职业名称</t></is></c>"
		"<c r=\"E3\" t=\"inlineStr\"><is><t>工种/职业方向</t></is></c>"
		"<c r=\"F3\" t=\"inlineStr\"><is><t>职业技能等级</t></is></c>"
		"<c r=\"G3\" t=\"inlineStr\"><is><t>证书编号</t></is></c>"
		"<c r=\"H3\" t=\"inlineStr\"><is><t>发证日期</t></is></c></row>"
		"<row r=\"7\"><c r=\"A7\" t=\"inlineStr\"><is><t>张三</t></is></c>"
		"<c r=\"C7\"><v>440106199207082485</v></c>"
		"<c r=\"H7\" s=\"1\"><v>46353</v></c></row>";
	char *p = workbook("reader.xlsx", rows, NULL,
	                   "<cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"57\"/></cellXfs>", NULL);
	cp_error *err = NULL;
	cp_reader *rd = cp_reader_open(p, &err);
	tu_assert_no_error(err);
	g_assert_cmpint(cp_reader_header_row(rd), ==, 3);
	g_assert_cmpstr(cp_reader_encoding(rd), ==, "xlsx workbook, sheet 名单");
	cp_record rec = {0};
	g_assert_cmpint(cp_reader_next(rd, &rec, &err), ==, 1);
	tu_assert_no_error(err);
	g_assert_cmpint(rec.row, ==, 7);
	g_assert_cmpstr(rec.raw[CP_FIELD_NAME], ==, "张三");
	g_assert_cmpstr(rec.raw[CP_FIELD_ISSUE_DATE], ==, "2026-11-27");
	g_assert_false(rec.number[CP_FIELD_ISSUE_DATE]);
	g_assert_true(rec.number[CP_FIELD_ID_NUMBER]);
	g_assert_false(rec.number[CP_FIELD_NAME]);
	g_assert_cmpstr(rec.raw[CP_FIELD_ID_TYPE], ==, "");
	g_assert_cmpint(cp_reader_next(rd, &rec, &err), ==, 0);
	cp_record_clear(&rec);
	cp_reader_free(rd);
	g_assert_null(cp_reader_open_sheet(p, "没有", &err));
	tu_assert_error(&err, CP_E_USAGE, "no sheet named 没有");
	g_free(p);
	/* --sheet with a CSV file */
	char *csv = tu_write(scratch, "plain.csv", "a,b\n");
	g_assert_null(cp_reader_open_sheet(csv, "名单", &err));
	tu_assert_error(&err, CP_E_USAGE, "--sheet is for workbooks");
	g_free(csv);
}

/* The fixtures written by openpyxl and xlwt read the same. */
static void test_other_writers(void)
{
	const char *names[] = {"data/workbook/sample.xlsx", "data/workbook/sample.xls"};
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		char *p = tu_path(names[i]);
		cp_error *err = NULL;
		cp_reader *rd = cp_reader_open(p, &err);
		tu_assert_no_error(err);
		g_assert_cmpint(cp_reader_header_row(rd), ==, 2);
		cp_record rec = {0};
		g_assert_cmpint(cp_reader_next(rd, &rec, &err), ==, 1);
		g_assert_cmpint(rec.row, ==, 3);
		g_assert_cmpstr(rec.raw[CP_FIELD_NAME], ==, "陈志强");
		g_assert_cmpstr(rec.raw[CP_FIELD_ID_NUMBER], ==, "44010319850312149X");
		g_assert_cmpstr(rec.raw[CP_FIELD_ISSUE_DATE], ==, "2026-11-27");
		g_assert_cmpstr(rec.raw[CP_FIELD_PHOTO], ==, "photos/001.jpg");
		g_assert_cmpint(cp_reader_next(rd, &rec, &err), ==, 1);
		/* the sample writes this one 2026/11/27: a date cell all the same */
		g_assert_cmpstr(rec.raw[CP_FIELD_ISSUE_DATE], ==, "2026-11-27");
		long n = 2;
		while (cp_reader_next(rd, &rec, &err) == 1)
			n++;
		tu_assert_no_error(err);
		g_assert_cmpint(n, ==, 20);
		cp_record_clear(&rec);
		cp_reader_free(rd);
		g_free(p);
	}
}

/* Pictures: found by the cell their top-left corner is anchored in, their
 * bytes as stored (openpyxl's fixture: the sample's JPEG files); a two-cell
 * anchor whose bottom edge is at the very top of the next row stays in its
 * row; a picture whose image part is missing is an error. */
static void test_pictures(void)
{
	char *p = tu_path("data/workbook/pictures.xlsx");
	cp_sheet *s = open_ok(p, NULL);
	cp_sheet_picture pc;
	cp_error *err = NULL;
	g_assert_cmpint(cp_sheet_pictures(s, 3, 8, &pc, &err), ==, 1);
	tu_assert_no_error(err);
	g_assert_cmpint(pc.to_row, ==, 0);
	char *photo = tu_path("../templates/sample/photos/001.jpg"), *file;
	gsize flen;
	g_assert_true(g_file_get_contents(photo, &file, &flen, NULL));
	g_assert_cmpuint(pc.len, ==, flen);
	g_assert_cmpint(memcmp(pc.data, file, flen), ==, 0);
	cp_sheet_picture_clear(&pc);
	g_free(file);
	g_free(photo);
	g_assert_cmpint(cp_sheet_pictures(s, 3, 0, &pc, &err), ==, 0);
	g_assert_null(pc.data);
	g_assert_cmpint(cp_sheet_pictures(s, 2, 8, &pc, &err), ==, 0);
	cp_sheet_free(s);
	g_free(p);

	const char *sheet_rels =
		"<Relationships xmlns=\"" PKGRELS "\"><Relationship Id=\"d\" Type=\"" RELNS
		"/drawing\" Target=\"../drawings/drawing1.xml\"/></Relationships>";
	const char *drawing_rels =
		"<Relationships xmlns=\"" PKGRELS "\">"
		"<Relationship Id=\"i1\" Type=\"" RELNS "/image\" Target=\"../media/a.png\"/>"
		"<Relationship Id=\"i2\" Type=\"" RELNS "/image\" Target=\"/xl/media/gone.png\"/>"
		"</Relationships>";
#define ANCHOR(fr, tr, off, id) \
	"<xdr:twoCellAnchor><xdr:from><xdr:col>1</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>" \
	fr "</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>2</xdr:col>" \
	"<xdr:colOff>0</xdr:colOff><xdr:row>" tr "</xdr:row><xdr:rowOff>" off "</xdr:rowOff>" \
	"</xdr:to><xdr:pic><xdr:blipFill><a:blip r:embed=\"" id "\"/></xdr:blipFill></xdr:pic>" \
	"</xdr:twoCellAnchor>"
	const char *drawing = "<xdr:wsDr xmlns:xdr=\"x\" xmlns:a=\"a\" xmlns:r=\"r\">"
	                      ANCHOR("0", "1", "0", "i1") ANCHOR("1", "2", "5", "i1")
	                      ANCHOR("3", "3", "9", "i2") "</xdr:wsDr>";
#undef ANCHOR
	const char *sheet = "<worksheet " NS "><sheetData><row r=\"1\"><c><v>1</v></c></row>"
	                    "</sheetData></worksheet>";
	const part parts[] = {
		{"_rels/.rels", root_rels},
		{"xl/workbook.xml", one_sheet_workbook},
		{"xl/_rels/workbook.xml.rels", wb_rels},
		{"xl/worksheets/sheet1.xml", sheet},
		{"xl/worksheets/_rels/sheet1.xml.rels", sheet_rels},
		{"xl/drawings/drawing1.xml", drawing},
		{"xl/drawings/_rels/drawing1.xml.rels", drawing_rels},
		{"xl/media/a.png", "not really a PNG"},
	};
	p = write_zip("anchors.xlsx", parts, G_N_ELEMENTS(parts));
	s = open_ok(p, NULL);
	g_assert_cmpint(cp_sheet_pictures(s, 1, 1, &pc, &err), ==, 1);
	g_assert_cmpint(pc.to_row, ==, 1); /* ends at the top of row 2: within row 1 */
	g_assert_cmpuint(pc.len, ==, strlen("not really a PNG"));
	cp_sheet_picture_clear(&pc);
	g_assert_cmpint(cp_sheet_pictures(s, 2, 1, &pc, &err), ==, 1);
	g_assert_cmpint(pc.to_row, ==, 3); /* 5 EMU into row 3 */
	cp_sheet_picture_clear(&pc);
	g_assert_cmpint(cp_sheet_pictures(s, 4, 1, &pc, &err), ==, -1);
	tu_assert_error(&err, CP_E_PARSE, "no part xl/media/gone.png");
	cp_sheet_free(s);
	g_free(p);

	/* A batch of 6,000 rows has 6,000 pictures, each related by the
	 * drawing (as openpyxl and Excel write them): all found. */
	GString *big = g_string_new("<xdr:wsDr xmlns:xdr=\"x\" xmlns:a=\"a\" xmlns:r=\"r\">");
	GString *big_rels = g_string_new("<Relationships xmlns=\"" PKGRELS "\">");
	for (int i = 0; i < 6000; i++) {
		g_string_append_printf(big, "<xdr:oneCellAnchor><xdr:from><xdr:col>1</xdr:col>"
		                       "<xdr:row>%d</xdr:row></xdr:from><xdr:pic><xdr:blipFill>"
		                       "<a:blip r:embed=\"p%d\"/></xdr:blipFill></xdr:pic>"
		                       "</xdr:oneCellAnchor>", i, i);
		g_string_append_printf(big_rels, "<Relationship Id=\"p%d\" Type=\"" RELNS
		                       "/image\" Target=\"../media/a.png\"/>", i);
	}
	g_string_append(big, "</xdr:wsDr>");
	g_string_append(big_rels, "</Relationships>");
	part many[G_N_ELEMENTS(parts)];
	memcpy(many, parts, sizeof parts);
	many[5].text = big->str;
	many[6].text = big_rels->str;
	p = write_zip("many-pictures.xlsx", many, G_N_ELEMENTS(many));
	s = open_ok(p, NULL);
	g_assert_cmpint(cp_sheet_pictures(s, 6000, 1, &pc, &err), ==, 1);
	tu_assert_no_error(err);
	g_assert_cmpuint(pc.len, ==, strlen("not really a PNG"));
	cp_sheet_picture_clear(&pc);
	cp_sheet_free(s);
	g_free(p);
	g_string_free(big, TRUE);
	g_string_free(big_rels, TRUE);
}

/* Pictures in cells. WPS: DISPIMG("ID_…",1) formulas naming the xdr:pic of
 * xl/cellimages.xml by its cNvPr name (G2 by its formula, G3 by the cached
 * value alone, G4 an ID the workbook does not have). Excel 365: vm="N"
 * through xl/metadata.xml and xl/richData to the image (H2, H3 sharing one
 * image; H4 a vm beyond the metadata; H5 a rich value that is not an image,
 * as a data type is, which keeps its text; J5 an image from the web). A cell with a picture reads as
 * empty; an anchored picture over an in-cell one counts two. The shapes are
 * those XlsxWriter (metadata.py, rich_value*.py) and WPS write. */
static void test_cell_pictures(void)
{
	const char *rels =
		"<Relationships xmlns=\"" PKGRELS "\">"
		"<Relationship Id=\"rId1\" Type=\"" RELNS "/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
		"<Relationship Id=\"rId5\" Type=\"http://www.wps.cn/officeDocument/2020/cellImage\" "
		"Target=\"cellimages.xml\"/>"
		"<Relationship Id=\"rId6\" Type=\"" RELNS "/sheetMetadata\" Target=\"metadata.xml\"/>"
		"<Relationship Id=\"rId7\" Type=\"http://schemas.microsoft.com/office/2022/10/"
		"relationships/richValueRel\" Target=\"richData/richValueRel.xml\"/>"
		"<Relationship Id=\"rId8\" Type=\"http://schemas.microsoft.com/office/2017/06/"
		"relationships/rdRichValue\" Target=\"richData/rdrichvalue.xml\"/>"
		"<Relationship Id=\"rId9\" Type=\"http://schemas.microsoft.com/office/2017/06/"
		"relationships/rdRichValueStructure\" Target=\"richData/rdrichvaluestructure.xml\"/>"
		"</Relationships>";
	const char *cellimages =
		"<etc:cellImages xmlns:xdr=\"x\" xmlns:r=\"r\" xmlns:a=\"a\" xmlns:etc=\"e\">"
		"<etc:cellImage><xdr:pic><xdr:nvPicPr><xdr:cNvPr id=\"2\" name=\"ID_A1B2\"/>"
		"</xdr:nvPicPr><xdr:blipFill><a:blip r:embed=\"rId1\"/></xdr:blipFill></xdr:pic>"
		"</etc:cellImage></etc:cellImages>";
	const char *cellimages_rels =
		"<Relationships xmlns=\"" PKGRELS "\"><Relationship Id=\"rId1\" Type=\"" RELNS
		"/image\" Target=\"media/image1.jpeg\"/></Relationships>";
	const char *metadata =
		"<metadata " NS " xmlns:xlrd=\"http://schemas.microsoft.com/office/spreadsheetml/"
		"2017/richdata\"><metadataTypes count=\"2\"><metadataType name=\"XLDAPR\"/>"
		"<metadataType name=\"XLRICHVALUE\"/></metadataTypes>"
		"<futureMetadata name=\"XLDAPR\" count=\"1\"><bk><extLst><ext><xda:x xmlns:xda=\"d\"/>"
		"</ext></extLst></bk></futureMetadata>"
		"<futureMetadata name=\"XLRICHVALUE\" count=\"4\">"
		"<bk><extLst><ext><xlrd:rvb i=\"0\"/></ext></extLst></bk>"
		"<bk><extLst><ext><xlrd:rvb i=\"1\"/></ext></extLst></bk>"
		"<bk><extLst><ext><xlrd:rvb i=\"2\"/></ext></extLst></bk>"
		"<bk><extLst><ext><xlrd:rvb i=\"3\"/></ext></extLst></bk></futureMetadata>"
		"<valueMetadata count=\"3\"><bk><rc t=\"2\" v=\"0\"/></bk><bk><rc t=\"2\" v=\"1\"/></bk>"
		"<bk><rc t=\"2\" v=\"2\"/></bk><bk><rc t=\"2\" v=\"3\"/></bk></valueMetadata>"
		"</metadata>";
	const char *structures =
		"<rvStructures xmlns=\"s\" count=\"2\"><s t=\"_localImage\">"
		"<k n=\"CalcOrigin\" t=\"i\"/><k n=\"_rvRel:LocalImageIdentifier\" t=\"i\"/></s>"
		"<s t=\"_linkedentity\"><k n=\"%EntityId\" t=\"s\"/></s>"
		"<s t=\"_webimage\"><k n=\"WebImageIdentifier\" t=\"i\"/><k n=\"CalcOrigin\" "
		"t=\"i\"/></s></rvStructures>";
	const char *values =
		"<rvData xmlns=\"s\" count=\"3\"><rv s=\"0\"><v>5</v><v>0</v></rv>"
		"<rv s=\"0\"><v>5</v><v>1</v></rv><rv s=\"1\"><v>x</v></rv>"
		"<rv s=\"2\"><v>0</v><v>1</v></rv></rvData>";
	const char *valuerel =
		"<richValueRels xmlns=\"v\" xmlns:r=\"" RELNS "\"><rel r:id=\"rId1\"/>"
		"<rel r:id=\"rId2\"/></richValueRels>";
	const char *valuerel_rels =
		"<Relationships xmlns=\"" PKGRELS "\">"
		"<Relationship Id=\"rId1\" Type=\"" RELNS "/image\" Target=\"../media/gone.png\"/>"
		"<Relationship Id=\"rId2\" Type=\"" RELNS "/image\" Target=\"../media/image2.png\"/>"
		"</Relationships>";
	const char *sheet_rels =
		"<Relationships xmlns=\"" PKGRELS "\"><Relationship Id=\"d\" Type=\"" RELNS
		"/drawing\" Target=\"../drawings/drawing1.xml\"/></Relationships>";
	const char *drawing_rels =
		"<Relationships xmlns=\"" PKGRELS "\"><Relationship Id=\"i1\" Type=\"" RELNS
		"/image\" Target=\"../media/image2.png\"/></Relationships>";
	const char *drawing =
		"<xdr:wsDr xmlns:xdr=\"x\" xmlns:a=\"a\" xmlns:r=\"r\"><xdr:oneCellAnchor><xdr:from>"
		"<xdr:col>7</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>2</xdr:row>"
		"<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:pic><xdr:blipFill><a:blip r:embed=\"i1\"/>"
		"</xdr:blipFill></xdr:pic></xdr:oneCellAnchor></xdr:wsDr>";
	const char *sheet =
		"<worksheet " NS "><sheetData>"
		"<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>甲</t></is></c>"
		"<c r=\"G2\" t=\"str\"><f>_xlfn.DISPIMG(\"ID_A1B2\",1)</f><v>=DISPIMG(\"ID_A1B2\",1)</v></c>"
		"<c r=\"H2\" t=\"e\" vm=\"2\"><v>#VALUE!</v></c></row>"
		"<row r=\"3\"><c r=\"A3\"><v>3</v></c><c r=\"G3\" t=\"str\"><v>=DISPIMG(\"ID_A1B2\",1)</v></c>"
		"<c r=\"H3\" t=\"e\" vm=\"2\"><v>#VALUE!</v></c></row>"
		"<row r=\"4\"><c r=\"A4\"><v>4</v></c><c r=\"G4\" t=\"str\"><f>DISPIMG(\"ID_GONE\",1)</f><v>x</v></c>"
		"<c r=\"H4\" t=\"e\" vm=\"9\"><v>#VALUE!</v></c></row>"
		"<row r=\"5\"><c r=\"A5\"><v>5</v></c><c r=\"H5\" t=\"e\" vm=\"3\"><v>#VALUE!</v></c>"
		"<c r=\"I5\" t=\"e\" vm=\"1\"><v>#VALUE!</v></c>"
		"<c r=\"J5\" t=\"e\" vm=\"4\"><v>#VALUE!</v></c></row>"
		"</sheetData></worksheet>";
	const part parts[] = {
		{"_rels/.rels", root_rels},
		{"xl/workbook.xml", one_sheet_workbook},
		{"xl/_rels/workbook.xml.rels", rels},
		{"xl/worksheets/sheet1.xml", sheet},
		{"xl/worksheets/_rels/sheet1.xml.rels", sheet_rels},
		{"xl/drawings/drawing1.xml", drawing},
		{"xl/drawings/_rels/drawing1.xml.rels", drawing_rels},
		{"xl/cellimages.xml", cellimages},
		{"xl/_rels/cellimages.xml.rels", cellimages_rels},
		{"xl/metadata.xml", metadata},
		{"xl/richData/rdrichvaluestructure.xml", structures},
		{"xl/richData/rdrichvalue.xml", values},
		{"xl/richData/richValueRel.xml", valuerel},
		{"xl/richData/_rels/richValueRel.xml.rels", valuerel_rels},
		{"xl/media/image1.jpeg", "the WPS picture"},
		{"xl/media/image2.png", "the Excel picture"},
	};
	char *p = write_zip("incell.xlsx", parts, G_N_ELEMENTS(parts));
	cp_sheet *s = open_ok(p, NULL);
	cp_sheet_row r;
	cp_error *err = NULL;
	const long nrows[] = {2, 3, 4, 5};
	for (size_t i = 0; i < G_N_ELEMENTS(nrows); i++) {
		next_ok(s, &r);
		g_assert_cmpint(r.row, ==, nrows[i]);
		/* the picture cells read as empty; H5 (a data type) as its text */
		for (size_t c = 6; c < r.ncells; c++)
			if (!(r.row == 5 && c == 7))
				g_assert_null(r.cells[c]);
		if (r.row == 5)
			g_assert_cmpstr(r.cells[7], ==, "#VALUE!");
	}
	cp_sheet_picture pc;
	/* WPS, by formula and by cached value */
	for (long row = 2; row <= 3; row++) {
		g_assert_cmpint(cp_sheet_pictures(s, row, 6, &pc, &err), ==, 1);
		tu_assert_no_error(err);
		g_assert_true(pc.in_cell);
		g_assert_cmpint(pc.anchored, ==, 0);
		g_assert_null(pc.missing);
		g_assert_cmpmem(pc.data, pc.len, "the WPS picture", strlen("the WPS picture"));
		cp_sheet_picture_clear(&pc);
	}
	g_assert_cmpint(cp_sheet_pictures(s, 4, 6, &pc, &err), ==, 1);
	g_assert_cmpstr(pc.missing, ==, "DISPIMG \"ID_GONE\"");
	g_assert_null(pc.data);
	cp_sheet_picture_clear(&pc);
	/* Excel: vm 2 → rich value 1 → rel 1 → image2.png */
	g_assert_cmpint(cp_sheet_pictures(s, 2, 7, &pc, &err), ==, 1);
	tu_assert_no_error(err);
	g_assert_true(pc.in_cell);
	g_assert_cmpmem(pc.data, pc.len, "the Excel picture", strlen("the Excel picture"));
	cp_sheet_picture_clear(&pc);
	/* H3: in the cell and anchored over it */
	g_assert_cmpint(cp_sheet_pictures(s, 3, 7, &pc, &err), ==, 2);
	g_assert_true(pc.in_cell);
	g_assert_cmpint(pc.anchored, ==, 1);
	g_assert_null(pc.data);
	cp_sheet_picture_clear(&pc);
	g_assert_cmpint(cp_sheet_pictures(s, 4, 7, &pc, &err), ==, 1);
	g_assert_cmpstr(pc.missing, ==, "vm=\"9\"");
	cp_sheet_picture_clear(&pc);
	/* vm 1 → rich value 0 → rel 0, whose image is not in the package */
	g_assert_cmpint(cp_sheet_pictures(s, 5, 8, &pc, &err), ==, 1);
	g_assert_cmpstr(pc.missing, ==, "vm=\"1\"");
	cp_sheet_picture_clear(&pc);
	/* vm 4: IMAGE("https://…"), an image from the web, not in the workbook */
	g_assert_cmpint(cp_sheet_pictures(s, 5, 9, &pc, &err), ==, 1);
	g_assert_cmpstr(pc.missing, ==, "vm=\"4\"");
	cp_sheet_picture_clear(&pc);
	g_assert_cmpint(cp_sheet_pictures(s, 5, 7, &pc, &err), ==, 0);
	g_assert_cmpint(cp_sheet_pictures(s, 2, 0, &pc, &err), ==, 0);
	tu_assert_no_error(err);
	cp_sheet_free(s);
	g_free(p);
}

/* .xls through FreeXL in its child process: the sheet by name, an unknown
 * name listing the sheets, a file FreeXL reads outside its buffers (found
 * by fuzz_xlsx) refused or read, never taking the process down. */
static void test_xls(void)
{
	char *p = tu_path("data/workbook/broken.xls");
	cp_error *err = NULL;
	cp_sheet *s = cp_xls_open(p, "名单", &err);
	tu_assert_no_error(err);
	g_assert_cmpstr(cp_sheet_describe(s), ==, "xls workbook, sheet 名单");
	cp_sheet_row r;
	next_ok(s, &r);
	g_assert_cmpint(r.row, ==, 1);
	g_assert_cmpstr(r.cells[0], ==, "2026年第3批鉴定合格人员名单");
	next_ok(s, &r);
	g_assert_cmpint(r.row, ==, 2);
	g_assert_cmpstr(r.cells[2], ==, "证件号码");
	g_assert_false(r.number[2]);
	cp_sheet_free(s);
	g_assert_null(cp_xls_open(p, "第二批", &err));
	tu_assert_error(&err, CP_E_USAGE, "no sheet named 第二批 (its sheets: 名单)");
	g_free(p);
	p = tu_path("data/fuzz-regress/xlsx/freexl-stack-underflow-in-iconv.xls");
	s = cp_xls_open(p, NULL, &err);
	if (s) {
		while (cp_sheet_next(s, &r, &err) == 1)
			;
		cp_sheet_free(s);
	} else {
		tu_assert_error(&err, CP_E_PARSE, "cannot open the workbook");
	}
	g_free(p);
	p = tu_write(scratch, "not.xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 and nothing else");
	g_assert_null(cp_xls_open(p, NULL, &err));
	tu_assert_error(&err, CP_E_PARSE, "cannot open the workbook");
	g_free(p);
}

/* Broken and hostile workbooks: each refused with a message saying why,
 * quickly and in bounded memory. */
static void test_hostile(void)
{
	const char *laughs =
		"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
		"<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
		"<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
		"<worksheet " NS "><sheetData><row r=\"1\"><c t=\"inlineStr\"><is><t>&lol3;</t>"
		"</is></c></row></sheetData></worksheet>";
	const part laugh_parts[] = {
		{"_rels/.rels", root_rels},
		{"xl/workbook.xml", one_sheet_workbook},
		{"xl/_rels/workbook.xml.rels", wb_rels},
		{"xl/worksheets/sheet1.xml", laughs},
	};
	char *p = write_zip("laughs.xlsx", laugh_parts, G_N_ELEMENTS(laugh_parts));
	cp_error *err = NULL;
	cp_sheet *s = open_ok(p, NULL);
	cp_sheet_row r;
	g_assert_cmpint(cp_sheet_next(s, &r, &err), ==, -1);
	tu_assert_error(&err, CP_E_PARSE, "the sheet declares a DTD");
	/* and stays stopped */
	g_assert_cmpint(cp_sheet_next(s, &r, &err), ==, -1);
	tu_assert_error(&err, CP_E_PARSE, NULL);
	cp_sheet_free(s);
	g_free(p);

	const char *ext_wb = "<?xml version=\"1.0\"?><!DOCTYPE w [<!ENTITY x SYSTEM "
	                     "\"file:///etc/passwd\">]><workbook " NS "><sheets>"
	                     "<sheet name=\"&x;\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
	p = workbook("external.xlsx", "", NULL, NULL, ext_wb);
	g_assert_null(cp_xlsx_open(p, NULL, &err));
	tu_assert_error(&err, CP_E_PARSE, "xl/workbook.xml declares a DTD");
	g_free(p);

	/* nesting */
	GString *deep = g_string_new("<row r=\"1\"><c t=\"inlineStr\"><is>");
	for (int i = 0; i < 200; i++)
		g_string_append(deep, "<x>");
	for (int i = 0; i < 200; i++)
		g_string_append(deep, "</x>");
	g_string_append(deep, "</is></c></row>");
	p = workbook("deep.xlsx", deep->str, NULL, NULL, NULL);
	g_string_free(deep, TRUE);
	s = open_ok(p, NULL);
	g_assert_cmpint(cp_sheet_next(s, &r, &err), ==, -1);
	tu_assert_error(&err, CP_E_PARSE, "deeper than 64 levels");
	cp_sheet_free(s);
	g_free(p);

	/* broken references */
	static const struct {
		const char *rows, *sst, *needle;
	} bad[] = {
		{"<row r=\"1\"><c t=\"s\"><v>5</v></c></row>", "<si><t>a</t></si>",
		 "shared string 5, which the workbook does not have"},
		{"<row r=\"1\"><c t=\"s\"><v>0</v></c></row>", NULL, "shared string 0"},
		{"<row r=\"2\"><c><v>1</v></c></row><row r=\"2\"><c><v>1</v></c></row>", NULL,
		 "out of order (row 2 after row 2)"},
		{"<row r=\"3\"><c r=\"A4\"><v>1</v></c></row>", NULL,
		 "a cell \"A4\" that is not a cell of row 3"},
		{"<row r=\"1\"><c r=\"ALM1\"><v>1</v></c></row>", NULL,
		 "beyond the limit of 1000 columns"},
		{"<row r=\"1048577\"><c><v>1</v></c></row>", NULL, "a row numbered \"1048577\""},
		{"<row r=\"1\"><c><v>1</v></c>", NULL, "not well-formed XML"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		p = workbook("bad.xlsx", bad[i].rows, bad[i].sst, NULL, NULL);
		s = open_ok(p, NULL);
		int k;
		while ((k = cp_sheet_next(s, &r, &err)) == 1)
			;
		g_assert_cmpint(k, ==, -1);
		tu_assert_error(&err, k == -1 ? err->code : 0, bad[i].needle);
		cp_sheet_free(s);
		g_free(p);
	}

	/* not a workbook, a workbook without its sheet */
	const part none[] = {{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}};
	p = write_zip("ods.xlsx", none, G_N_ELEMENTS(none));
	g_assert_null(cp_xlsx_open(p, NULL, &err));
	tu_assert_error(&err, CP_E_PARSE, "no part xl/workbook.xml");
	g_free(p);
	const part nosheet[] = {
		{"_rels/.rels", root_rels},
		{"xl/workbook.xml", one_sheet_workbook},
		{"xl/_rels/workbook.xml.rels", wb_rels},
	};
	p = write_zip("nosheet.xlsx", nosheet, G_N_ELEMENTS(nosheet));
	g_assert_null(cp_xlsx_open(p, NULL, &err));
	tu_assert_error(&err, CP_E_PARSE, "no part xl/worksheets/sheet1.xml");
	g_free(p);
	p = tu_write(scratch, "cut.xlsx", "PK\x03\x04 this is not a zip");
	g_assert_null(cp_xlsx_open(p, NULL, &err));
	tu_assert_error(&err, CP_E_PARSE, "cannot open the workbook");
	g_free(p);
}

/* A million empty rows (and one more with a cell) read in well under a
 * second, keeping no row. */
static void test_empty_rows(void)
{
	GString *g = g_string_sized_new(24u << 20);
	for (long i = 1; i <= 1000000; i++)
		g_string_append_printf(g, "<row r=\"%ld\"/>", i);
	g_string_append(g, "<row r=\"1000001\"><c><v>7</v></c></row>");
	char *p = workbook("empty-rows.xlsx", g->str, NULL, NULL, NULL);
	g_string_free(g, TRUE);
	gint64 t0 = g_get_monotonic_time();
	cp_sheet *s = open_ok(p, NULL);
	cp_sheet_row r;
	next_ok(s, &r);
	g_assert_cmpint(r.row, ==, 1000001);
	g_assert_cmpstr(r.cells[0], ==, "7");
	expect_end(s);
	cp_sheet_free(s);
	double secs = (g_get_monotonic_time() - t0) / 1e6;
	g_test_message("a million empty rows in %.2f s", secs);
	g_assert_cmpfloat(secs, <, 20); /* generous: sanitizers, a busy machine */
	g_free(p);
}

/* Spaces, made as libzip asks for them: a part that inflates to `size`
 * bytes without ever being in memory. */
typedef struct filler {
	zip_uint64_t size, off;
	const char *head;
} filler;

static zip_int64_t fill(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
	filler *f = ud;
	switch (cmd) {
	case ZIP_SOURCE_OPEN:
		f->off = 0;
		return 0;
	case ZIP_SOURCE_READ: {
		zip_uint64_t n = f->size - f->off < len ? f->size - f->off : len;
		size_t hl = strlen(f->head);
		memset(data, ' ', n);
		for (zip_uint64_t at = f->off; at < hl && at < f->off + n; at++)
			((char *)data)[at - f->off] = f->head[at];
		f->off += n;
		return (zip_int64_t)n;
	}
	case ZIP_SOURCE_CLOSE:
		return 0;
	case ZIP_SOURCE_STAT: {
		zip_stat_t *st = data;
		zip_stat_init(st);
		st->size = f->size;
		st->valid |= ZIP_STAT_SIZE;
		return sizeof *st;
	}
	case ZIP_SOURCE_ERROR:
		memset(data, 0, 2 * sizeof(int));
		return 2 * sizeof(int);
	case ZIP_SOURCE_FREE:
		return 0;
	case ZIP_SOURCE_SUPPORTS:
		return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ,
		                                      ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
		                                      ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
	default:
		return -1;
	}
}

/* A zip bomb: a sheet of a few hundred kilobytes that inflates past the
 * limit is refused from the zip's directory, before inflating. */
static void test_zip_bomb(void)
{
	char *path = g_build_filename(scratch, "bomb.xlsx", NULL);
	int ze = 0;
	zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &ze);
	g_assert_nonnull(z);
	const part small[] = {
		{"_rels/.rels", root_rels},
		{"xl/workbook.xml", one_sheet_workbook},
		{"xl/_rels/workbook.xml.rels", wb_rels},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(small); i++)
		zip_file_add(z, small[i].name,
		             zip_source_buffer(z, small[i].text, strlen(small[i].text), 0), 0);
	filler f = {(zip_uint64_t)CP_XLSX_MAX_PART + 1, 0, "<worksheet><sheetData>"};
	zip_source_t *src = zip_source_function(z, fill, &f);
	g_assert_nonnull(src);
	zip_int64_t idx = zip_file_add(z, "xl/worksheets/sheet1.xml", src, 0);
	g_assert_cmpint(idx, >=, 0);
	zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 1);
	g_assert_cmpint(zip_close(z), ==, 0);
	cp_error *err = NULL;
	g_assert_null(cp_xlsx_open(path, NULL, &err));
	tu_assert_error(&err, CP_E_NOMEM, "the sheet inflates to more than the limit");
	g_free(path);

	/* too many parts */
	path = g_build_filename(scratch, "parts.xlsx", NULL);
	z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &ze);
	for (unsigned i = 0; i <= CP_XLSX_MAX_ENTRIES; i++) {
		char name[32];
		g_snprintf(name, sizeof name, "p/%u", i);
		zip_file_add(z, name, zip_source_buffer(z, "", 0, 0), 0);
	}
	g_assert_cmpint(zip_close(z), ==, 0);
	g_assert_null(cp_xlsx_open(path, NULL, &err));
	tu_assert_error(&err, CP_E_NOMEM, "more than 10000 parts");
	g_free(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	scratch = tu_scratch("xlsx");
	g_test_add_func("/xlsx/cells", test_cells);
	g_test_add_func("/xlsx/date-formats", test_date_formats);
	g_test_add_func("/xlsx/serials", test_serials);
	g_test_add_func("/xlsx/sheets", test_sheets);
	g_test_add_func("/xlsx/reader", test_reader);
	g_test_add_func("/xlsx/other-writers", test_other_writers);
	g_test_add_func("/xlsx/pictures", test_pictures);
	g_test_add_func("/xlsx/cell-pictures", test_cell_pictures);
	g_test_add_func("/xlsx/xls", test_xls);
	g_test_add_func("/xlsx/hostile", test_hostile);
	g_test_add_func("/xlsx/empty-rows", test_empty_rows);
	g_test_add_func("/xlsx/zip-bomb", test_zip_bomb);
	int rc = g_test_run();
	g_free(scratch);
	return rc;
}
