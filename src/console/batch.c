/* SPDX-License-Identifier: MIT */
/* The console's batch (batch.h): the check loop of `certpress check` and the
 * preview of `certpress render --row N -o x.png`, over cli_batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_batch.h"
#include "cli/cli_common.h"
#include "console/batch.h"
#include "error.h"
#include "i18n.h"
#include "output/report.h"

struct console_batch {
	cli_batch b;      /* profile, template, fonts, engine: kept; reader and
	                     checker: of the batch being run */
	char *path;       /* the loaded data file, or NULL */
	char *sheet;
	GString *json;
	GHashTable *cuts; /* row → GBytes: the name as printed (PNG) */
};

/* The name cut-outs, as `check --html` shows them: print resolution, kept
 * in memory up to a bound (rows past it show no cut-out). */
#define CUT_DPI 300
#define CUT_BYTES_MAX ((size_t)64 << 20)

typedef struct load_ctx {
	console_batch *cb;
	GString *rows;
	GHashTable *cuts;
	size_t cut_bytes;
	long row;
	bool cut;   /* this row's name was cut out */
	char *face; /* the face of this row's name when not its own font */
} load_ctx;

console_batch *console_batch_new(const char *org, const char *template_path,
                                 const char *font_dir, cp_error **err)
{
	console_batch *cb = g_new0(console_batch, 1);
	cb->json = g_string_new("{\"loaded\":false}");
	cli_batch_opts o = {.org = org, .template_path = template_path, .font_dir = font_dir};
	if (!cli_batch_open(&cb->b, &o, err))
		goto fail;
	return cb;
fail:
	console_batch_free(cb);
	return NULL;
}

void console_batch_free(console_batch *cb)
{
	if (!cb)
		return;
	cli_batch_close(&cb->b);
	g_free(cb->path);
	g_free(cb->sheet);
	g_string_free(cb->json, TRUE);
	if (cb->cuts)
		g_hash_table_destroy(cb->cuts);
	g_free(cb);
}

const char *console_batch_path(const console_batch *cb)
{
	return cb->path;
}

const char *console_batch_sheet(const console_batch *cb)
{
	return cb->sheet;
}

bool console_batch_loaded(const console_batch *cb)
{
	return cb->path != NULL;
}

const char *console_batch_json(const console_batch *cb)
{
	return cb->json->str;
}

static void json_member(GString *g, const char *key, const char *value)
{
	g_string_append_printf(g, ",\"%s\":", key);
	cp_report_json_str(g, value);
}

static bool keep_cutout(void *ud, int bind, const char *text, const char *face,
                        const unsigned char *png, size_t png_len, cp_error **err)
{
	load_ctx *c = ud;
	if (bind != CP_FIELD_NAME || c->cut || c->cut_bytes + png_len > CUT_BYTES_MAX)
		return true;
	g_hash_table_insert(c->cuts, GSIZE_TO_POINTER((gsize)c->row), g_bytes_new(png, png_len));
	c->cut = true;
	c->cut_bytes += png_len;
	c->face = g_strdup(face);
	return true;
}

/* A row's line for the page: its state and the fields an operator knows it
 * by, the ID number masked; the name as printed. */
static bool on_record(void *ud, cp_record *rec, cp_page *pg, cp_problems *row,
                      bool *still_valid, cp_error **err)
{
	load_ctx *c = ud;
	GString *rows = c->rows;
	c->cut = false;
	g_free(c->face);
	c->face = NULL;
	c->row = rec->row;
	if (pg && *still_valid && !cli_cutouts_each(&c->cb->b, pg, CUT_DPI, keep_cutout, c, err))
		return false;
	bool warned = false;
	for (size_t i = 0; i < row->len; i++)
		if (row->items[i].severity == CP_SEV_WARNING)
			warned = true;
	if (rows->len > 1)
		g_string_append_c(rows, ',');
	g_string_append_printf(rows, "{\"row\":%ld,\"state\":\"%s\"", rec->row,
	                       !*still_valid ? "refused" : warned ? "warning" : "ok");
	static const struct {
		const char *key;
		cp_field f;
	} shown[] = {
		{"name", CP_FIELD_NAME},           {"cert_no", CP_FIELD_CERT_NO},
		{"occupation", CP_FIELD_OCCUPATION}, {"job_type", CP_FIELD_JOB_TYPE},
		{"level", CP_FIELD_LEVEL},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(shown); i++) {
		cp_field f = shown[i].f;
		json_member(rows, shown[i].key, rec->value[f] ? rec->value[f] : rec->raw[f]);
	}
	const char *id = rec->raw[CP_FIELD_ID_NUMBER];
	char *masked = id ? cp_mask_id(id) : NULL;
	json_member(rows, "id", masked);
	free(masked);
	g_string_append_printf(rows, ",\"cutout\":%s", c->cut ? "true" : "false");
	if (c->face)
		json_member(rows, "face", c->face);
	g_string_append_c(rows, '}');
	return true;
}

bool console_batch_load(console_batch *cb, const char *path, const char *sheet,
                        const char *shown, cp_error **err)
{
	cli_batch *b = &cb->b;
	if (!cli_batch_reset(b, path, sheet, err))
		goto fail;
	GString *rows = g_string_new("[");
	load_ctx lc = {
		.cb = cb, .rows = rows,
		.cuts = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)g_bytes_unref),
	};
	bool ran = cli_batch_run(b, on_record, &lc, _("checking"), err);
	g_free(lc.face);
	if (!ran) {
		g_hash_table_destroy(lc.cuts);
		g_string_free(rows, TRUE);
		goto fail;
	}
	g_string_append_c(rows, ']');
	cp_report_summary sum = {
		.records = b->records, .valid = b->valid, .refused = b->refused,
		.warnings = b->warnings, .csv_path = shown,
		.encoding = cp_reader_encoding(b->reader),
		.header_row = cp_reader_header_row(b->reader),
	};
	char *report = NULL;
	size_t report_len = 0;
	FILE *mem = open_memstream(&report, &report_len);
	bool ok = mem && cp_report_json(mem, &b->problems, &sum, err);
	if (mem && fclose(mem) != 0 && ok) {
		cp_set_error(err, CP_E_NOMEM, NULL, 0, 0, NULL, _("out of memory"));
		ok = false;
	}
	if (!ok) {
		free(report);
		g_hash_table_destroy(lc.cuts);
		g_string_free(rows, TRUE);
		goto fail;
	}
	g_string_truncate(cb->json, 0);
	g_string_append(cb->json, "{\"loaded\":true");
	json_member(cb->json, "file", shown);
	g_string_append(cb->json, ",\"report\":");
	while (report_len && report[report_len - 1] == '\n')
		report_len--;
	g_string_append_len(cb->json, report, (gssize)report_len);
	g_string_append_printf(cb->json, ",\"rows\":%s}", rows->str);
	free(report);
	g_string_free(rows, TRUE);
	if (cb->cuts)
		g_hash_table_destroy(cb->cuts);
	cb->cuts = lc.cuts;
	g_free(cb->path);
	cb->path = g_strdup(path);
	g_free(cb->sheet);
	cb->sheet = g_strdup(sheet);
	return true;
fail:
	/* The batch before stays the one previewed. */
	if (cb->path) {
		cp_error *again = NULL;
		if (!cli_batch_reset(b, cb->path, cb->sheet, &again))
			cp_error_free(again);
	}
	return false;
}

GBytes *console_batch_cutout(const console_batch *cb, long row)
{
	return cb->cuts ? g_hash_table_lookup(cb->cuts, GSIZE_TO_POINTER((gsize)row)) : NULL;
}

typedef struct preview_ctx {
	cli_batch *b;
	long row;
	cp_output_opts oo;
	bool found;
	unsigned char *png;
	size_t len;
	char *why; /* the reasons the row is refused */
} preview_ctx;

static bool preview_lay_out(void *ud, const cp_record *rec)
{
	const preview_ctx *c = ud;
	return rec->row == c->row;
}

static bool preview_record(void *ud, cp_record *rec, cp_page *pg, cp_problems *row,
                           bool *still_valid, cp_error **err)
{
	preview_ctx *c = ud;
	if (rec->row != c->row)
		return true;
	c->found = true;
	if (!*still_valid || !pg) {
		GString *why = g_string_new(NULL);
		for (size_t i = 0; i < row->len; i++)
			if (row->items[i].severity == CP_SEV_ERROR)
				g_string_append_printf(why, "%s%s", why->len ? "；" : "",
				                       row->items[i].message);
		c->why = g_string_free(why, FALSE);
		return true;
	}
	return cli_thumbnail(c->b, pg, &c->oo, &c->png, &c->len, err);
}

bool console_batch_preview(console_batch *cb, long row, cp_mode mode, double dpi,
                           unsigned char **png, size_t *len, cp_error **err)
{
	if (!cb->path) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL, _("no batch is loaded"));
		return false;
	}
	cli_batch *b = &cb->b;
	if (!cli_batch_reset(b, cb->path, cb->sheet, err))
		return false;
	preview_ctx c = {.b = b, .row = row};
	cp_output_opts_init(&c.oo);
	c.oo.mode = mode;
	c.oo.dpi = dpi;
	b->lay_out = preview_lay_out;
	bool ok = cli_batch_run(b, preview_record, &c, _("checking"), err);
	b->lay_out = NULL;
	if (ok && !c.found) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("there is no record on row %ld"), row);
		ok = false;
	} else if (ok && !c.png) {
		cp_set_error(err, CP_E_REFUSED, NULL, 0, row, NULL,
		             _("row %ld is not printable: %s"), row, c.why ? c.why : "");
		ok = false;
	}
	g_free(c.why);
	if (!ok) {
		g_free(c.png);
		return false;
	}
	*png = c.png;
	*len = c.len;
	return true;
}
