/* SPDX-License-Identifier: MIT */
/*
 * The .xls reader (BIFF, Excel 97-2003 and WPS's "Excel 97-2003" saves),
 * through Debian's FreeXL, which reads the compound file, the shared
 * strings and the date cells (it turns dates into "YYYY-MM-DD" itself).
 * FreeXL loads the whole file: its size is checked first (xlsx.h). Rows are
 * then taken from FreeXL's cell table one at a time.
 */
#include <freexl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "i18n.h"
#include "input/csv.h"
#include "input/sheet.h"
#include "input/xlsx.h"

typedef struct xls {
	cp_sheet base;
	char *path;
	const void *h;
	unsigned rows;
	unsigned short cols;
	unsigned next_row; /* 0-based */
	char **cells;
	bool *number;
	size_t ncells;
} xls;

static const char *freexl_reason(int rc)
{
	switch (rc) {
	case FREEXL_FILE_NOT_FOUND:
		return _("the file cannot be read");
	case FREEXL_INSUFFICIENT_MEMORY:
		return _("out of memory");
	case FREEXL_BIFF_PASSWORD:
		return _("the workbook is protected by a password");
	case FREEXL_BIFF_WORKBOOK_NOT_FOUND:
	case FREEXL_INVALID_CFBF_HEADER:
	case FREEXL_CFBF_INVALID_SIGNATURE:
		return _("it is not an Excel 97-2003 workbook");
	default:
		return _("the workbook is damaged");
	}
}

static void clear_cells(xls *x)
{
	for (size_t i = 0; i < x->ncells; i++) {
		g_free(x->cells[i]);
		x->cells[i] = NULL;
		x->number[i] = false;
	}
}

static int xls_next(cp_sheet *s, cp_sheet_row *row, cp_error **err)
{
	xls *x = (xls *)s;
	while (x->next_row < x->rows) {
		unsigned r = x->next_row++;
		clear_cells(x);
		size_t used = 0;
		for (unsigned short c = 0; c < x->cols; c++) {
			FreeXL_CellValue v;
			int rc = freexl_get_cell_value(x->h, r, c, &v);
			if (rc != FREEXL_OK) {
				cp_set_error(err, CP_E_PARSE, x->path, (long)r + 1, (long)r + 1, NULL,
				             _("cannot read the cell in column %u: %s"), c + 1u,
				             freexl_reason(rc));
				return -1;
			}
			char buf[64];
			char *text = NULL;
			bool number = false;
			switch (v.type) {
			case FREEXL_CELL_INT:
				snprintf(buf, sizeof buf, "%d", v.value.int_value);
				text = g_strdup(buf);
				number = true;
				break;
			case FREEXL_CELL_DOUBLE:
				cp_sheet_number_text(v.value.double_value, buf, sizeof buf);
				text = g_strdup(buf);
				number = true;
				break;
			case FREEXL_CELL_TEXT:
			case FREEXL_CELL_SST_TEXT:
			case FREEXL_CELL_DATE:
			case FREEXL_CELL_DATETIME:
			case FREEXL_CELL_TIME:
				text = g_strdup(v.value.text_value ? v.value.text_value : "");
				break;
			default:
				break;
			}
			if (!text)
				continue;
			x->cells[c] = text;
			x->number[c] = number;
			used = (size_t)c + 1;
		}
		if (!used)
			continue; /* an empty row */
		row->row = (long)r + 1;
		row->ncells = used;
		row->cells = x->cells;
		row->number = x->number;
		return 1;
	}
	return 0;
}

static double xls_progress(const cp_sheet *s)
{
	const xls *x = (const xls *)s;
	return x->rows ? (double)x->next_row / x->rows : -1;
}

static void xls_free(cp_sheet *s)
{
	xls *x = (xls *)s;
	clear_cells(x);
	g_free(x->cells);
	g_free(x->number);
	if (x->h)
		freexl_close(x->h);
	g_free(x->path);
	g_free(x);
}

static const cp_sheet_ops xls_ops = {xls_next, xls_free, xls_progress};

cp_sheet *cp_xls_open(const char *path, const char *sheet, cp_error **err)
{
	struct stat st;
	if (stat(path, &st) == 0 && st.st_size > (off_t)CP_XLS_MAX_BYTES) {
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL,
		             _("the workbook is larger than the limit of %u bytes"),
		             CP_XLS_MAX_BYTES);
		return NULL;
	}
	xls *x = g_new0(xls, 1);
	x->base.ops = &xls_ops;
	x->path = g_strdup(path);
	int rc = freexl_open(path, &x->h);
	if (rc != FREEXL_OK) {
		x->h = NULL; /* FreeXL has freed what it opened */
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL, _("cannot open the workbook: %s"),
		             freexl_reason(rc));
		goto fail;
	}
	unsigned count = 0;
	if (freexl_get_info(x->h, FREEXL_BIFF_SHEET_COUNT, &count) != FREEXL_OK || count == 0) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL,
		             _("the workbook has no visible worksheet"));
		goto fail;
	}
	int chosen = -1;
	const char *chosen_name = NULL;
	GString *names = g_string_new(NULL);
	for (unsigned i = 0; i < count && i < 65535u; i++) {
		const char *name = NULL;
		if (freexl_get_worksheet_name(x->h, (unsigned short)i, &name) != FREEXL_OK)
			name = NULL;
		g_string_append_printf(names, "%s%s", i ? "、" : "", name ? name : "?");
		if (chosen < 0 && (!sheet || (name && strcmp(name, sheet) == 0))) {
			chosen = (int)i;
			chosen_name = name;
		}
	}
	if (chosen < 0) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
		             _("the workbook has no sheet named %s (its sheets: %s)"), sheet,
		             names->str);
		g_string_free(names, TRUE);
		goto fail;
	}
	g_string_free(names, TRUE);
	if ((rc = freexl_select_active_worksheet(x->h, (unsigned short)chosen)) != FREEXL_OK ||
	    (rc = freexl_worksheet_dimensions(x->h, &x->rows, &x->cols)) != FREEXL_OK) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL, _("cannot open the workbook: %s"),
		             freexl_reason(rc));
		goto fail;
	}
	if (x->cols > CP_CSV_MAX_COLUMNS) {
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL,
		             _("the row has a cell beyond the limit of %u columns"),
		             CP_CSV_MAX_COLUMNS);
		goto fail;
	}
	x->ncells = x->cols;
	x->cells = g_new0(char *, x->cols + 1);
	x->number = g_new0(bool, x->cols + 1);
	x->base.describe = g_strdup_printf(_("xls workbook, sheet %s"),
	                                   chosen_name ? chosen_name : "?");
	return &x->base;
fail:
	xls_free(&x->base);
	return NULL;
}
