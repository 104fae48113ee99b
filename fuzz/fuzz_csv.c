/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "csv": the streaming CSV reader (src/input/csv.c) on arbitrary file
 * contents — encoding detection (UTF-8, BOM, GB18030, UTF-16), delimiter
 * sniffing, RFC 4180 quoting, header mapping and the size limits.
 */
#include "fuzz.h"

#include "input/csv.h"

int cp_fuzz_csv(const uint8_t *data, size_t size)
{
	char *path = cp_fuzz_write("fuzz.csv", data, size);
	cp_error *err = NULL;
	cp_reader *r = cp_reader_open(path, &err);
	cp_fuzz_check_result(r != NULL, err, "cp_reader_open");
	err = NULL;
	if (!r) {
		g_free(path);
		return 0;
	}
	size_t nh = 0;
	const char *const *header = cp_reader_header(r, &nh);
	if (nh > CP_CSV_MAX_COLUMNS)
		cp_fuzz_fail("header has %zu cells, limit %u", nh, CP_CSV_MAX_COLUMNS);
	for (size_t i = 0; i < nh; i++)
		if (!header[i])
			cp_fuzz_fail("header cell %zu is NULL", i);
	for (int f = 0; f < CP_FIELD_COUNT; f++) {
		const char *col = cp_reader_column(r, (cp_field)f);
		/* a missing required column is an open error, not a later surprise */
		if (!col && cp_field_required((cp_field)f) && f != CP_FIELD_PHOTO)
			cp_fuzz_fail("opened without the required column %s", cp_field_key(f));
	}
	if (!cp_reader_encoding(r) || !cp_reader_dir(r) || !cp_reader_path(r))
		cp_fuzz_fail("reader accessor returned NULL");

	cp_record rec = {0};
	long last_row = 1, last_line = 0;
	int k;
	while ((k = cp_reader_next(r, &rec, &err)) == 1) {
		if (rec.row <= last_row || rec.line <= last_line)
			cp_fuzz_fail("row %ld line %ld after row %ld line %ld", rec.row,
			             rec.line, last_row, last_line);
		last_row = rec.row;
		last_line = rec.line;
		if (rec.ncells > CP_CSV_MAX_COLUMNS)
			cp_fuzz_fail("row has %zu cells", rec.ncells);
		size_t total = 0;
		for (size_t i = 0; i < rec.ncells; i++) {
			size_t n = strlen(rec.cells[i]);
			if (n > CP_CSV_MAX_FIELD)
				cp_fuzz_fail("cell of %zu bytes passed the limit", n);
			total += n;
		}
		if (total > CP_CSV_MAX_ROW)
			cp_fuzz_fail("row of %zu bytes passed the limit", total);
		if (rec.cells[rec.ncells])
			cp_fuzz_fail("cells[] not NULL-terminated");
	}
	cp_fuzz_check_result(k == 0, err, "cp_reader_next");
	err = NULL;
	if (k < 0) {
		/* reading stays stopped after an error */
		if (cp_reader_next(r, &rec, &err) != -1)
			cp_fuzz_fail("cp_reader_next went on after an error");
		cp_fuzz_check_result(false, err, "cp_reader_next after error");
	}
	cp_record_clear(&rec);
	cp_reader_free(r);
	g_free(path);
	return 0;
}

CP_FUZZ_ENTRY(csv)
