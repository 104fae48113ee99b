/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "xlsx": the workbook readers (src/input/xlsx.c, xls.c, sheet.c)
 * behind cp_reader_open_sheet. Mutated zip bytes rarely stay a zip, so the
 * input is used two ways:
 *  - starting with "PK\3\4" (a zip), it is the workbook file itself;
 *  - otherwise it is split at lines "--" into the XML of the sheet, the
 *    shared strings, the styles and the workbook part (absent parts left
 *    out, a missing workbook part replaced by a fixed one), packed into a
 *    zip here with libzip: the XML handling, strings, styles and dates.
 * Each is read through the sheet API to the end and through the reader.
 *
 * .xls files (the OLE signature) are left alone: FreeXL reads them in a
 * child process (xls.c) because this harness found it reading outside a
 * stack buffer; under libFuzzer each such death in the child is written out
 * as a crash of its own, although certpress refuses the file and goes on.
 * tests/test_xlsx.c and the regression folder keep that file.
 *
 * Checked beyond "no crash": the error contract (pictures too); rows strictly increasing
 * and within Excel's count; cells within CP_CSV_MAX_COLUMNS and
 * CP_CSV_MAX_FIELD, valid UTF-8, a number flag only on a cell that is there
 * and whose text parses as a number; reading stays stopped after an error;
 * the reader's rows as the sheet's.
 */
#include "fuzz.h"

#include <zip.h>

#include "input/csv.h"
#include "input/sheet.h"
#include "input/xlsx.h"

static const char fz_root_rels[] =
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
	"2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>";
static const char fz_wb_rels[] =
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
	"2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
	"<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
	"2006/relationships/sharedStrings\" Target=\"sharedStrings.xml\"/>"
	"<Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
	"2006/relationships/styles\" Target=\"styles.xml\"/></Relationships>";
static const char fz_workbook[] =
	"<workbook xmlns:r=\"r\"><sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/>"
	"</sheets></workbook>";

/* Packs the "--"-separated parts of data into a zip; returns its path. */
static char *pack(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"xl/worksheets/sheet1.xml", "xl/sharedStrings.xml",
	                                    "xl/styles.xml", "xl/workbook.xml"};
	char *path = g_build_filename(cp_fuzz_dir(), "fuzz.xlsx", NULL);
	int ze = 0;
	zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &ze);
	if (!z)
		cp_fuzz_fail("zip_open for writing: %d", ze);
	zip_file_add(z, "_rels/.rels", zip_source_buffer(z, fz_root_rels, strlen(fz_root_rels), 0),
	             0);
	zip_file_add(z, "xl/_rels/workbook.xml.rels",
	             zip_source_buffer(z, fz_wb_rels, strlen(fz_wb_rels), 0), 0);
	size_t start = 0, part = 0;
	bool have_wb = false;
	for (size_t i = 0; i <= size && part < G_N_ELEMENTS(names); i++) {
		bool sep = i + 3 <= size && data[i] == '\n' && data[i + 1] == '-' && data[i + 2] == '-' &&
		           (i + 3 == size || data[i + 3] == '\n');
		if (i < size && !sep)
			continue;
		void *copy = g_memdup2(data + start, i - start);
		zip_source_t *src = zip_source_buffer(z, copy, i - start, 1);
		if (!src || zip_file_add(z, names[part], src, 0) < 0)
			cp_fuzz_fail("zip_file_add");
		have_wb |= part == 3;
		part++;
		start = i + 4;
		i += 3;
	}
	if (!have_wb)
		zip_file_add(z, "xl/workbook.xml",
		             zip_source_buffer(z, fz_workbook, strlen(fz_workbook), 0), 0);
	if (zip_close(z) != 0)
		cp_fuzz_fail("zip_close: %s", zip_strerror(z));
	return path;
}

static bool is_number(const char *s)
{
	char *end;
	g_ascii_strtod(s, &end);
	return end != s && !*end;
}

static void read_sheet(const char *path, bool zip)
{
	cp_error *err = NULL;
	cp_sheet *s = zip ? cp_xlsx_open(path, NULL, &err) : cp_xls_open(path, NULL, &err);
	cp_fuzz_check_result(s != NULL, err, "cp_sheet open");
	err = NULL;
	if (!s)
		return;
	if (!cp_sheet_describe(s))
		cp_fuzz_fail("no description");
	cp_sheet_row r;
	long last = 0;
	int k;
	while ((k = cp_sheet_next(s, &r, &err)) == 1) {
		if (r.row <= last || r.row > CP_XLSX_MAX_ROWNUM)
			cp_fuzz_fail("row %ld after %ld", r.row, last);
		last = r.row;
		if (r.ncells == 0 || r.ncells > CP_CSV_MAX_COLUMNS + 0u)
			cp_fuzz_fail("row of %zu cells", r.ncells);
		for (size_t i = 0; i < r.ncells; i++) {
			if (!r.cells[i]) {
				if (r.number[i])
					cp_fuzz_fail("an empty cell flagged as a number");
				continue;
			}
			if (strlen(r.cells[i]) > CP_CSV_MAX_FIELD + 0u && zip)
				cp_fuzz_fail("cell of %zu bytes", strlen(r.cells[i]));
			if (!g_utf8_validate(r.cells[i], -1, NULL))
				cp_fuzz_fail("cell text is not UTF-8");
			if (r.number[i] && !is_number(r.cells[i]))
				cp_fuzz_fail("number cell '%s'", r.cells[i]);
		}
		/* the pictures anchored in or placed in the row's first cells */
		for (long c = 0; c < 4; c++) {
			cp_sheet_picture pc;
			int n = cp_sheet_pictures(s, r.row, c, &pc, &err);
			cp_fuzz_check_result(n >= 0, err, "cp_sheet_pictures");
			err = NULL;
			bool one = n == 1 && !pc.missing;
			if (n >= 0 && (one != (pc.data != NULL) || n != pc.anchored + pc.in_cell ||
			               (pc.missing && !pc.in_cell) || (pc.to_row && pc.to_row < r.row)))
				cp_fuzz_fail("pictures %d, data %p, to row %ld of row %ld", n,
				             (void *)pc.data, pc.to_row, r.row);
			cp_sheet_picture_clear(&pc);
		}
	}
	cp_fuzz_check_result(k == 0, err, "cp_sheet_next");
	err = NULL;
	if (k < 0) {
		if (cp_sheet_next(s, &r, &err) != -1)
			cp_fuzz_fail("cp_sheet_next went on after an error");
		cp_fuzz_check_result(false, err, "cp_sheet_next after error");
	}
	cp_sheet_free(s);
}

static void read_records(const char *path)
{
	cp_error *err = NULL;
	cp_reader *rd = cp_reader_open(path, &err);
	cp_fuzz_check_result(rd != NULL, err, "cp_reader_open");
	err = NULL;
	if (!rd)
		return;
	if (cp_reader_header_row(rd) < 1)
		cp_fuzz_fail("header row %ld", cp_reader_header_row(rd));
	cp_record rec = {0};
	long last = cp_reader_header_row(rd);
	int k;
	while ((k = cp_reader_next(rd, &rec, &err)) == 1) {
		if (rec.row <= last)
			cp_fuzz_fail("record row %ld after %ld", rec.row, last);
		last = rec.row;
		for (int f = 0; f < CP_FIELD_COUNT; f++)
			if (rec.number[f] && (!rec.raw[f] || !is_number(rec.raw[f])))
				cp_fuzz_fail("field %d flagged as a number", f);
	}
	cp_fuzz_check_result(k == 0, err, "cp_reader_next");
	cp_record_clear(&rec);
	cp_reader_free(rd);
}

int cp_fuzz_xlsx(const uint8_t *data, size_t size)
{
	bool zip = size >= 4 && memcmp(data, "PK\x03\x04", 4) == 0;
	bool ole = size >= 8 && memcmp(data, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 0;
#ifndef CP_FUZZ_REGRESS
	if (ole)
		return 0;
#endif
	char *path = zip || ole ? cp_fuzz_write("fuzz-raw.xlsx", data, size) : pack(data, size);
	read_sheet(path, !ole);
	read_records(path);
	g_free(path);
	return 0;
}

CP_FUZZ_ENTRY(xlsx)
