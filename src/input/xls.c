/* SPDX-License-Identifier: MIT */
/*
 * The .xls reader (BIFF, Excel 97-2003 and WPS's "Excel 97-2003" saves),
 * through Debian's FreeXL, which reads the compound file, the shared
 * strings and the date cells (it turns dates into "YYYY-MM-DD" itself).
 *
 * FreeXL runs in a child process. fuzz_xlsx found it reading outside a
 * stack buffer on a damaged file (FreeXL 1.0.6, inside its string
 * conversion): a memory error there must not become one in certpress. The
 * child opens the workbook, writes the chosen sheet's rows to a pipe and
 * exits; the parent keeps the rows (an .xls has at most 65536 × 256 cells,
 * and the file is at most CP_XLS_MAX_BYTES) and hands them out. A child that
 * dies, hangs past CP_XLS_SECONDS or writes more than CP_XLS_MAX_OUTPUT
 * makes the workbook refused as damaged. The file is read at open time,
 * before any worker thread of a batch exists.
 *
 * The pipe carries records: 'D' text (the description), 'E' code text (an
 * error), 'R' row ncells then per cell a kind byte (0 empty, 1 text,
 * 2 number) and text, and 'Z' at the end; integers in host order, texts as a
 * 32-bit length and the bytes.
 */
#include <errno.h>
#include <freexl.h>
#include <glib.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "i18n.h"
#include "input/csv.h"
#include "input/sheet.h"
#include "input/xlsx.h"

#define CP_XLS_SECONDS 60
#define CP_XLS_MAX_OUTPUT (2u * CP_XLS_MAX_BYTES)

typedef struct xls_row {
	long row;
	size_t ncells;
	char **cells;
	bool *number;
} xls_row;

typedef struct xls {
	cp_sheet base;
	GArray *rows; /* xls_row */
	guint next;
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

/* ------------------------------------------------------------- the child */

static void put_bytes(FILE *out, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, out) != n)
		_exit(3);
}

static void put_text(FILE *out, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);
	put_bytes(out, &n, sizeof n);
	put_bytes(out, s, n);
}

static void put_error(FILE *out, int code, long row, const char *msg)
{
	put_bytes(out, "E", 1);
	int32_t c = code;
	int64_t r = row;
	put_bytes(out, &c, sizeof c);
	put_bytes(out, &r, sizeof r);
	put_text(out, msg);
}

static void child(const char *path, const char *sheet, int fd)
{
	FILE *out = fdopen(fd, "wb");
	if (!out)
		_exit(3);
	const void *h = NULL;
	int rc = freexl_open(path, &h);
	if (rc != FREEXL_OK) {
		char *m = g_strdup_printf(_("cannot open the workbook: %s"), freexl_reason(rc));
		put_error(out, CP_E_PARSE, 0, m);
		goto end;
	}
	unsigned count = 0;
	if (freexl_get_info(h, FREEXL_BIFF_SHEET_COUNT, &count) != FREEXL_OK || count == 0) {
		put_error(out, CP_E_PARSE, 0, _("the workbook has no visible worksheet"));
		goto end;
	}
	int chosen = -1;
	const char *chosen_name = NULL;
	GString *names = g_string_new(NULL);
	for (unsigned i = 0; i < count && i < 65535u; i++) {
		const char *name = NULL;
		if (freexl_get_worksheet_name(h, (unsigned short)i, &name) != FREEXL_OK ||
		    !name || !g_utf8_validate(name, -1, NULL))
			name = "?";
		g_string_append_printf(names, "%s%s", i ? "、" : "", name);
		if (chosen < 0 && (!sheet || strcmp(name, sheet) == 0)) {
			chosen = (int)i;
			chosen_name = name;
		}
	}
	if (chosen < 0) {
		char *m = g_strdup_printf(_("the workbook has no sheet named %s (its sheets: %s)"),
		                          sheet, names->str);
		put_error(out, CP_E_USAGE, 0, m);
		goto end;
	}
	unsigned rows = 0;
	unsigned short cols = 0;
	if ((rc = freexl_select_active_worksheet(h, (unsigned short)chosen)) != FREEXL_OK ||
	    (rc = freexl_worksheet_dimensions(h, &rows, &cols)) != FREEXL_OK) {
		char *m = g_strdup_printf(_("cannot open the workbook: %s"), freexl_reason(rc));
		put_error(out, CP_E_PARSE, 0, m);
		goto end;
	}
	if (cols > CP_CSV_MAX_COLUMNS) {
		char *m = g_strdup_printf(_("the row has a cell beyond the limit of %u columns"),
		                          CP_CSV_MAX_COLUMNS);
		put_error(out, CP_E_NOMEM, 0, m);
		goto end;
	}
	char *d = g_strdup_printf(_("xls workbook, sheet %s"), chosen_name);
	put_bytes(out, "D", 1);
	put_text(out, d);
	for (unsigned r = 0; r < rows; r++) {
		GPtrArray *cells = g_ptr_array_new_with_free_func(g_free);
		GByteArray *kinds = g_byte_array_new();
		size_t used = 0;
		for (unsigned short c = 0; c < cols; c++) {
			FreeXL_CellValue v;
			rc = freexl_get_cell_value(h, r, c, &v);
			char buf[64];
			char *text = NULL;
			guint8 kind = 1;
			if (rc != FREEXL_OK) {
				char *m = g_strdup_printf(_("cannot read the cell in column %u: %s"),
				                          c + 1u, freexl_reason(rc));
				put_error(out, CP_E_PARSE, (long)r + 1, m);
				goto end;
			}
			switch (v.type) {
			case FREEXL_CELL_INT:
				snprintf(buf, sizeof buf, "%d", v.value.int_value);
				text = g_strdup(buf);
				kind = 2;
				break;
			case FREEXL_CELL_DOUBLE:
				cp_sheet_number_text(v.value.double_value, buf, sizeof buf);
				text = g_strdup(buf);
				kind = 2;
				break;
			case FREEXL_CELL_TEXT:
			case FREEXL_CELL_SST_TEXT:
			case FREEXL_CELL_DATE:
			case FREEXL_CELL_DATETIME:
			case FREEXL_CELL_TIME:
				text = v.value.text_value && g_utf8_validate(v.value.text_value, -1, NULL)
				               ? g_strdup(v.value.text_value)
				               : g_strdup("");
				break;
			default:
				kind = 0;
				break;
			}
			g_ptr_array_add(cells, text);
			g_byte_array_append(kinds, &kind, 1);
			if (text)
				used = (size_t)c + 1;
		}
		if (used) {
			put_bytes(out, "R", 1);
			int64_t rn = (int64_t)r + 1;
			uint32_t n = (uint32_t)used;
			put_bytes(out, &rn, sizeof rn);
			put_bytes(out, &n, sizeof n);
			for (size_t i = 0; i < used; i++) {
				put_bytes(out, &kinds->data[i], 1);
				if (kinds->data[i])
					put_text(out, cells->pdata[i]);
			}
		}
		g_ptr_array_free(cells, TRUE);
		g_byte_array_free(kinds, TRUE);
	}
	put_bytes(out, "Z", 1);
end:
	if (fflush(out) != 0)
		_exit(3);
	/* no atexit handlers, no FreeXL teardown: the process ends here */
	_exit(0);
}

/* ------------------------------------------------------------ the parent */

typedef struct reader {
	const unsigned char *p, *end;
} reader;

static bool get(reader *r, void *out, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		return false;
	memcpy(out, r->p, n);
	r->p += n;
	return true;
}

static char *get_text(reader *r)
{
	uint32_t n;
	if (!get(r, &n, sizeof n) || (size_t)(r->end - r->p) < n)
		return NULL;
	char *s = g_strndup((const char *)r->p, n);
	r->p += n;
	return s;
}

static void rows_free(GArray *rows)
{
	for (guint i = 0; rows && i < rows->len; i++) {
		xls_row *x = &g_array_index(rows, xls_row, i);
		for (size_t j = 0; j < x->ncells; j++)
			g_free(x->cells[j]);
		g_free(x->cells);
		g_free(x->number);
	}
	if (rows)
		g_array_free(rows, TRUE);
}

static int xls_next(cp_sheet *s, cp_sheet_row *row, cp_error **err)
{
	xls *x = (xls *)s;
	if (x->next >= x->rows->len)
		return 0;
	const xls_row *r = &g_array_index(x->rows, xls_row, x->next++);
	row->row = r->row;
	row->ncells = r->ncells;
	row->cells = r->cells;
	row->number = r->number;
	return 1;
}

static double xls_progress(const cp_sheet *s)
{
	const xls *x = (const xls *)s;
	return x->rows->len ? (double)x->next / x->rows->len : 1;
}

static void xls_free(cp_sheet *s)
{
	xls *x = (xls *)s;
	rows_free(x->rows);
	g_free(x);
}

static const cp_sheet_ops xls_ops = {xls_next, xls_free, xls_progress, NULL};

/* Turns what the child wrote into rows; false with *err on an error record
 * or damaged output. */
static bool parse_output(xls *x, const char *path, const GByteArray *b, cp_error **err)
{
	reader r = {b->data, b->data + b->len};
	long last = 0;
	for (;;) {
		char tag;
		if (!get(&r, &tag, 1))
			break;
		if (tag == 'Z')
			return true;
		if (tag == 'D') {
			char *d = get_text(&r);
			if (!d)
				break;
			g_free(x->base.describe);
			x->base.describe = d;
		} else if (tag == 'E') {
			int32_t code;
			int64_t row;
			char *m = NULL;
			if (!get(&r, &code, sizeof code) || !get(&r, &row, sizeof row) ||
			    !(m = get_text(&r)))
				break;
			cp_set_error(err, (cp_code)code, path, (long)row, (long)row, NULL, "%s", m);
			g_free(m);
			return false;
		} else if (tag == 'R') {
			int64_t rn;
			uint32_t n;
			if (!get(&r, &rn, sizeof rn) || !get(&r, &n, sizeof n) || rn <= last ||
			    n == 0 || n > CP_CSV_MAX_COLUMNS)
				break;
			xls_row row = {(long)rn, n, g_new0(char *, n + 1), g_new0(bool, n + 1)};
			g_array_append_val(x->rows, row);
			last = (long)rn;
			for (uint32_t i = 0; i < n; i++) {
				guint8 kind;
				if (!get(&r, &kind, 1) || kind > 2)
					goto bad;
				if (kind == 0)
					continue;
				char *t = get_text(&r);
				if (!t)
					goto bad;
				row.cells[i] = t;
				row.number[i] = kind == 2;
			}
		} else {
			break;
		}
	}
bad:
	cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL, _("cannot open the workbook: %s"),
	             _("the workbook is damaged"));
	return false;
}

cp_sheet *cp_xls_open(const char *path, const char *sheet, cp_error **err)
{
	struct stat st;
	if (stat(path, &st) == 0 && st.st_size > (off_t)CP_XLS_MAX_BYTES) {
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL,
		             _("the workbook is larger than the limit of %u bytes"),
		             CP_XLS_MAX_BYTES);
		return NULL;
	}
	int fds[2];
	if (pipe(fds) != 0) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot open the workbook: %s"),
		             g_strerror(errno));
		return NULL;
	}
	fflush(NULL); /* nothing buffered is written twice */
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot open the workbook: %s"),
		             g_strerror(errno));
		return NULL;
	}
	if (pid == 0) {
		close(fds[0]);
		alarm(CP_XLS_SECONDS); /* a hang ends as a death by SIGALRM */
		child(path, sheet, fds[1]);
		_exit(3);
	}
	close(fds[1]);
	GByteArray *b = g_byte_array_new();
	unsigned char buf[65536];
	bool too_much = false;
	for (;;) {
		ssize_t n = read(fds[0], buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (b->len + (size_t)n > CP_XLS_MAX_OUTPUT) {
			too_much = true;
			kill(pid, SIGKILL);
			break;
		}
		g_byte_array_append(b, buf, (guint)n);
	}
	close(fds[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	xls *x = g_new0(xls, 1);
	x->base.ops = &xls_ops;
	x->rows = g_array_new(FALSE, TRUE, sizeof(xls_row));
	bool ok;
	if (too_much) {
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL,
		             _("the workbook is larger than the limit of %u bytes"),
		             CP_XLS_MAX_OUTPUT);
		ok = false;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* the reader died on it: damaged (or made to harm) */
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL, _("cannot open the workbook: %s"),
		             _("the workbook is damaged"));
		ok = false;
	} else {
		ok = parse_output(x, path, b, err);
	}
	g_byte_array_free(b, TRUE);
	if (ok && !x->base.describe)
		x->base.describe = g_strdup("xls");
	if (!ok) {
		g_free(x->base.describe);
		x->base.describe = NULL;
		xls_free(&x->base);
		return NULL;
	}
	return &x->base;
}
