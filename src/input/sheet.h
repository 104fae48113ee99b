/* SPDX-License-Identifier: MIT */
/*
 * A workbook sheet read row by row: the common face of the .xlsx (xlsx.c)
 * and .xls (xls.c) readers, behind which the CSV reader (csv.c) takes rows
 * from a workbook exactly as it takes them from a CSV file. Cells come as
 * the text a "CSV UTF-8" export of the sheet would hold: text as typed,
 * numbers in the shortest form that keeps them (up to 15 significant
 * digits, as Excel), date and time cells (by their number format) as
 * 2026-11-27 or 2026-11-27 13:05:00, formulas as their cached result.
 */
#ifndef CP_SHEET_H
#define CP_SHEET_H

#include <stdbool.h>
#include <stddef.h>

#include "certpress.h"

typedef struct cp_sheet cp_sheet;

/* The pictures of one cell (cp_sheet_pictures()). */
typedef struct cp_sheet_picture {
	int anchored;   /* pictures anchored with their top-left corner in the cell */
	bool in_cell;   /* a picture placed in the cell as its value ("picture in
	                 * cell": WPS's DISPIMG, Excel 365's Place in Cell) */
	long to_row;    /* the row the first anchored picture's bottom edge
	                 * reaches into, 0 for one anchored to one cell */
	char *missing;  /* in_cell, but the workbook does not hold the image:
	                 * how the cell refers to it ("DISPIMG \"ID_…\""), g_free */
	unsigned char *data; /* the bytes of the one picture (g_free) */
	size_t len;
} cp_sheet_picture;

/* One row of a sheet. Borrowed until the next cp_sheet_next() or
 * cp_sheet_free(): cells[i] is NULL for an empty cell; number[i] is true for
 * a cell stored as a number that is not a date or time (the digits of a
 * long ID number are gone in such a cell). */
typedef struct cp_sheet_row {
	long row; /* as the spreadsheet numbers it, from 1 */
	size_t ncells;
	char *const *cells;
	const bool *number;
} cp_sheet_row;

/* What a reader implements. */
typedef struct cp_sheet_ops {
	/* 1 and *row filled, 0 at the end, -1 on an error. Rows come in
	 * increasing order; rows without any cell may be left out. */
	int (*next)(cp_sheet *s, cp_sheet_row *row, cp_error **err);
	void (*free)(cp_sheet *s);
	/* Fraction of the sheet read so far, or a negative number. */
	double (*progress)(const cp_sheet *s);
	/* May be NULL (no pictures). See cp_sheet_pictures(). */
	int (*pictures)(cp_sheet *s, long row, long col, cp_sheet_picture *out, cp_error **err);
} cp_sheet_ops;

struct cp_sheet {
	const cp_sheet_ops *ops;
	char *describe; /* "xlsx, sheet 名单" (g_free'd by cp_sheet_free) */
};

/* Opens the named sheet (NULL: the first visible worksheet) of an Office
 * Open XML workbook (.xlsx, as Excel and WPS write it). */
cp_sheet *cp_xlsx_open(const char *path, const char *sheet, cp_error **err);
/* The same for a BIFF workbook (.xls, Excel 97-2003). */
cp_sheet *cp_xls_open(const char *path, const char *sheet, cp_error **err);

int cp_sheet_next(cp_sheet *s, cp_sheet_row *row, cp_error **err);
double cp_sheet_progress(const cp_sheet *s);
/* Borrowed: how the reader describes the source ("xlsx, sheet 名单"). */
const char *cp_sheet_describe(const cp_sheet *s);
void cp_sheet_free(cp_sheet *s);
/* The pictures of a cell (row from 1, column from 0): those anchored with
 * their top-left corner in it and the one placed in it as its value (such a
 * cell reads as empty). Returns their count (0 when none) with *out filled;
 * when the count is 1 and the picture is in the workbook, out->data holds
 * its bytes. -1 on an error reading it. Free out with
 * cp_sheet_picture_clear(). */
int cp_sheet_pictures(cp_sheet *s, long row, long col, cp_sheet_picture *out, cp_error **err);
void cp_sheet_picture_clear(cp_sheet_picture *p);

/* Shared by the readers. The text of a number cell, Excel's way: integers
 * up to 15 digits whole, others with 15 significant digits, exponents as
 * E+17. Writes into buf (at least 32 bytes). */
void cp_sheet_number_text(double v, char *buf, size_t size);
/* The text of a date/time serial (days since the epoch, fraction the time
 * of day): "2026-11-27", "2026-11-27 13:05:00", or "13:05:00" for a
 * time-only format. The 1900 system repeats Excel's leap-year bug (serial 60
 * is the 29 February 1900 that never was, shown so that the date check
 * refuses it); date1904 counts from 1904-01-01. False when v is not a date
 * Excel can show (negative, past 9999-12-31): the caller shows the number. */
bool cp_sheet_serial_text(double v, bool date1904, bool time_only, char *buf, size_t size);

#endif
