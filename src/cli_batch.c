/* SPDX-License-Identifier: MIT */
#include "cli_batch.h"

#include <glib.h>
#include <string.h>

#include "cli_common.h"
#include "error.h"
#include "i18n.h"

bool cli_batch_open(cli_batch *b, const cli_batch_opts *o, cp_error **err)
{
	memset(b, 0, sizeof *b);
	b->profile = cp_profile_load(o->org, err);
	if (!b->profile)
		return false;
	if (o->template_path) {
		b->tpl = cp_template_load(o->template_path, err);
		if (!b->tpl)
			return false;
		char *fonts_dir = cli_data_path("fonts");
		b->fonts = cp_fonts_new(fonts_dir, o->font_dir, err);
		g_free(fonts_dir);
		if (!b->fonts)
			return false;
		b->engine = cp_engine_new(b->tpl, b->profile, b->fonts, err);
		if (!b->engine)
			return false;
	}
	b->reader = cp_reader_open(o->csv, err);
	if (!b->reader)
		return false;
	b->checker = cp_checker_new(b->profile, cp_reader_dir(b->reader), b->reader, err);
	return b->checker != NULL;
}

void cli_problem_add(cp_problems *ps, cp_severity sev, const cp_record *rec, int field,
                     const char *column, const char *value, const char *rule,
                     const char *article, const char *message)
{
	if (ps->len == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 8;
		ps->items = g_renew(cp_problem, ps->items, ps->cap);
	}
	ps->items[ps->len++] = (cp_problem){
		.severity = sev,
		.row = rec ? rec->row : 0,
		.line = rec ? rec->line : 0,
		.field = field,
		.column = g_strdup(column),
		.value = g_strdup(value),
		.rule = rule,
		.article = article,
		.message = g_strdup(message),
	};
}

void cli_problems_move(cp_problems *dst, cp_problems *src)
{
	for (size_t i = 0; i < src->len; i++) {
		if (dst->len == dst->cap) {
			dst->cap = dst->cap ? dst->cap * 2 : 16;
			dst->items = g_renew(cp_problem, dst->items, dst->cap);
		}
		dst->items[dst->len++] = src->items[i];
	}
	src->len = 0;
}

/* A layout refusal becomes a problem of the row like any rule's, so the
 * operator sees it in the same report before anything is printed. */
static void layout_problem(cli_batch *b, const cp_record *rec, cp_error *e,
                           cp_problems *row)
{
	int field = e->column ? cp_field_lookup(e->column) : -1;
	const char *col = field >= 0 ? cp_reader_column(b->reader, field) : NULL;
	const char *value = field >= 0 && field != CP_FIELD_ID_NUMBER ? rec->value[field] : NULL;
	cli_problem_add(row, CP_SEV_ERROR, rec, field, col ? col : e->column, value,
	                "layout.print", "第十五条", e->message);
}

bool cli_batch_run(cli_batch *b, cli_record_fn fn, void *ud, const char *what,
                   cp_error **err)
{
	cp_record rec;
	memset(&rec, 0, sizeof rec);
	cp_problems row = {0};
	cli_progress prog;
	cli_progress_start(&prog, what, 0);
	bool ok = true;
	for (;;) {
		if (cli_interrupted) {
			cp_set_error(err, CP_E_INTERRUPTED, NULL, 0, 0, NULL,
			             _("interrupted; nothing was written"));
			ok = false;
			break;
		}
		int r = cp_reader_next(b->reader, &rec, err);
		if (r < 0) {
			ok = false;
			break;
		}
		if (r == 0)
			break;
		b->records++;
		bool valid = cp_checker_check(b->checker, &rec, &row);
		cp_page *pg = NULL;
		if (valid && b->engine) {
			cp_error *le = NULL;
			pg = cp_engine_layout(b->engine, &rec, &le);
			if (!pg) {
				if (le && le->code != CP_E_REFUSED) {
					cp_propagate_error(err, le);
					ok = false;
					break;
				}
				if (le)
					layout_problem(b, &rec, le, &row);
				cp_error_free(le);
				valid = false;
			}
		}
		bool still = valid;
		if (fn && !fn(ud, &rec, pg, &row, &still, err)) {
			cp_page_free(pg);
			ok = false;
			break;
		}
		cp_page_free(pg);
		for (size_t i = 0; i < row.len; i++)
			if (row.items[i].severity == CP_SEV_WARNING)
				b->warnings++;
		if (still)
			b->valid++;
		else
			b->refused++;
		cli_problems_move(&b->problems, &row);
		cp_reader_progress(b->reader, &prog.fraction);
		cli_progress_step(&prog);
	}
	cli_progress_end(&prog);
	cp_problems_clear(&row);
	cp_record_clear(&rec);
	return ok;
}

void cli_batch_close(cli_batch *b)
{
	cp_checker_free(b->checker);
	cp_reader_free(b->reader);
	cp_engine_free(b->engine);
	cp_fonts_free(b->fonts);
	cp_template_free(b->tpl);
	cp_profile_free(b->profile);
	cp_problems_clear(&b->problems);
	memset(b, 0, sizeof *b);
}

static cairo_status_t append_bytes(void *closure, const unsigned char *data,
                                   unsigned int length)
{
	g_byte_array_append(closure, data, length);
	return CAIRO_STATUS_SUCCESS;
}

bool cli_thumbnail(cli_batch *b, const cp_page *pg, const cp_output_opts *o,
                   unsigned char **png, size_t *png_len, cp_error **err)
{
	cairo_t *cr = NULL;
	cairo_surface_t *s = cp_raster_new(cp_template_page_width_mm(b->tpl),
	                                   cp_template_page_height_mm(b->tpl), o->dpi,
	                                   &cr, err);
	if (!s)
		return false;
	cp_engine_draw(b->engine, pg, cr, o);
	cairo_destroy(cr);
	GByteArray *ba = g_byte_array_new();
	cairo_status_t st = cairo_surface_write_to_png_stream(s, append_bytes, ba);
	cairo_surface_destroy(s);
	if (st != CAIRO_STATUS_SUCCESS) {
		g_byte_array_free(ba, TRUE);
		cp_set_error(err, CP_E_NOMEM, NULL, 0, 0, NULL,
		             _("cannot encode a thumbnail: %s"), cairo_status_to_string(st));
		return false;
	}
	*png_len = ba->len;
	*png = g_byte_array_free(ba, FALSE);
	return true;
}
