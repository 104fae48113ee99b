/* SPDX-License-Identifier: MIT */
#include "error.h"

#include <glib.h>
#include <stdlib.h>

#include "i18n.h"

void cp_set_errorv(cp_error **err, cp_code code, const char *file, long line,
                   long row, const char *column, const char *fmt, va_list ap)
{
	if (!err || *err)
		return;
	cp_error *e = g_new0(cp_error, 1);
	e->code = code;
	e->message = g_strdup_vprintf(fmt, ap);
	e->file = g_strdup(file);
	e->line = line;
	e->row = row;
	e->column = g_strdup(column);
	*err = e;
}

void cp_set_error(cp_error **err, cp_code code, const char *file, long line,
                  long row, const char *column, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cp_set_errorv(err, code, file, line, row, column, fmt, ap);
	va_end(ap);
}

void cp_propagate_error(cp_error **dst, cp_error *src)
{
	if (!src)
		return;
	if (dst && !*dst)
		*dst = src;
	else
		cp_error_free(src);
}

void cp_error_set_rule(cp_error **err, const char *rule)
{
	if (err && *err)
		(*err)->rule = rule;
}

cp_error *cp_error_copy(const cp_error *e)
{
	if (!e)
		return NULL;
	cp_error *c = g_new0(cp_error, 1);
	*c = *e;
	c->message = g_strdup(e->message);
	c->file = g_strdup(e->file);
	c->column = g_strdup(e->column);
	return c;
}

void cp_error_free(cp_error *err)
{
	if (!err)
		return;
	g_free(err->message);
	g_free(err->file);
	g_free(err->column);
	g_free(err);
}

int cp_error_exit_status(const cp_error *err)
{
	if (!err)
		return 0;
	switch (err->code) {
	case CP_OK:
		return 0;
	case CP_E_REFUSED:
	case CP_E_LEDGER:
		return 1;
	case CP_E_INTERRUPTED:
		return 130;
	default:
		return 2;
	}
}

char *cp_error_format(const cp_error *err)
{
	GString *s = g_string_new(NULL);
	if (err->file) {
		g_string_append(s, err->file);
		if (err->line > 0)
			g_string_append_printf(s, ":%ld", err->line);
		g_string_append(s, ": ");
	}
	/* Whole frames, not pieces, so that a translation can use its own
	 * punctuation ("第 5 行，列 姓名："). */
	if (err->row > 0 && err->column)
		g_string_append_printf(s, _("row %ld, column %s: "), err->row, err->column);
	else if (err->row > 0)
		g_string_append_printf(s, _("row %ld: "), err->row);
	else if (err->column)
		/* Template and profile errors: the column is the key. */
		g_string_append_printf(s, _("key %s: "), err->column);
	g_string_append(s, err->message ? err->message : "");
	return g_string_free(s, FALSE);
}
