/* SPDX-License-Identifier: MIT */
/* certpress render: a batch to one PDF, a folder of PNG files, or a single
 * PNG preview. Checks and lays out every record first-to-last in one pass;
 * output goes to temporary files that are only renamed into place when the
 * whole batch succeeded, so a refused record or an interruption leaves
 * nothing behind. */
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic.h"
#include "cli/cli.h"
#include "cli/cli_batch.h"
#include "cli/cli_common.h"
#include "cli/cli_print.h"
#include "error.h"
#include "i18n.h"
#include "layout/layout.h"
#include "input/profile.h"
#include "layout/template.h"
#include "output/pdf.h"
#include "output/png.h"
#include "output/report.h"
#include "trust/keys.h"
#include "trust/pngsig.h"
#include "trust/sign.h"

static void help(void)
{
	printf(_("Usage: certpress render --org PROFILE -o OUTPUT [OPTIONS] DATA.csv\n"
	         "Print a checked batch of certificates. OUTPUT decides the kind:\n"
	         "  NAME.pdf   one PDF, one A4 page per certificate, for the printer\n"
	         "  NAME.png   a single preview of the record chosen with --row or --cert-no\n"
	         "  FOLDER     one PNG per certificate, named by certificate number\n"
	         "             (electronic certificates)\n\n"
	         "Every record is checked and laid out first; if any is refused, nothing is\n"
	         "written (see --skip-invalid).\n\n"
	         "Options:\n"
	         "  -O, --org FILE          organization profile (required)\n"
	         "  -o, --output PATH       output (required)\n"
	         "  -t, --template FILE     template (default: the reference certificate)\n"
	         "  -m, --mode MODE         full: static and variable layers on blank paper\n"
	         "                          (default); fill: variable layer only, for stock\n"
	         "                          with a pre-printed background; electronic:\n"
	         "                          everything plus the seal image\n"
	         "      --offset X,Y        printer calibration offset in mm (fill mode)\n"
	         "      --scale SX,SY       printer calibration scale (1 = none)\n"
	         "      --printer NAME      use the offset and scale saved for this printer\n"
	         "      --printers-dir DIR  where printer profiles live\n"
	         "      --dpi N             resolution of PNG output (default 300)\n"
	         "      --row N             only the record on spreadsheet row N\n"
	         "      --rows LIST         only the records on these rows: rows and ranges,\n"
	         "                          e.g. 5-10,12\n"
	         "      --cert-no NUMBER    only the record with this certificate number\n"
	         "      --skip-invalid      print the valid records, write the refused ones\n"
	         "                          to the rejects file, exit 1\n"
	         "      --rejects FILE      where refused rows go (default OUTPUT's name\n"
	         "                          + .rejects.csv with --skip-invalid)\n"
	         "      --font-dir DIR      the organization's own fonts, ahead of the defaults\n"
	         "      --sheet NAME        of a workbook (.xlsx, .xls), the sheet to read\n"
	         "                          (default: the first)\n"
	         "      --ledger FILE       the print ledger (default\n"
	         "                          ~/.local/share/certpress/ledger.sqlite); every\n"
	         "                          page of a PDF or PNG folder is recorded there and a\n"
	         "                          certificate number already issued is refused\n"
	         "      --no-ledger         a proof: record nothing, refuse nothing issued\n"
	         "      --reissue REASON    reissue already issued numbers (第十七条): lost,\n"
	         "                          damaged or wrong; same number, new sheet\n"
	         "      --old-returned      with --reissue: the old sheet was taken back\n"
	         "      --operator NAME     operator recorded in the ledger (default $USER)\n"
	         "      --batch NAME        batch name in the ledger (default: the CSV's name\n"
	         "                          and the date)\n"
	         "      --expect-sha256 HEX refuse unless the CSV file has this SHA-256\n"
	         "      --serial-from S     number the sheets from stock serial S on (default:\n"
	         "                          after the last sheet the ledger printed on); when\n"
	         "                          the template prints the print serial and the CSV\n"
	         "                          has none, every page of a PDF gets the next blank\n"
	         "                          sheet of the stock received, in page order\n"
	         "      --allow-symlink     write through a symbolic link at OUTPUT\n"
	         "      --print DEST        then send the PDF to the printer DEST (a CUPS queue\n"
	         "                          or an ipp:// URI) as 'certpress print' does; the\n"
	         "                          printer profile named after DEST is used when one\n"
	         "                          exists and no --printer, --offset or --scale is given\n"
	         "      --copies N          with --print: copies of every page (default 1)\n"
	         "  -j, --jobs N            threads that lay out and draw the batch (default:\n"
	         "                          one per processor); every N gives the same pages\n"
	         "  -q, --quiet             no report on standard error\n"
	         "  -h, --help              show this help\n\n"
	         "Exit status: 0 printed, 1 records refused (nothing printed, or with\n"
	         "--skip-invalid only the valid ones), 2 usage or environment error,\n"
	         "130 interrupted.\n"));
	printf(_("\nSigned electronic certificates (a FOLDER output):\n"
	         "      --format FORMAT     png (default) or pdf: one PDF per certificate,\n"
	         "                          the seal being a PAdES signature made with the\n"
	         "                          profile's [signing] key; needs --mode electronic\n"
	         "      --name PATTERN      file names, e.g. '{cert_no}-{name}' (default\n"
	         "                          '{cert_no}'; must contain {cert_no})\n"));
}

typedef enum { OUT_PDF, OUT_DIR, OUT_PREVIEW } out_kind;

typedef struct render_ctx {
	cli_batch *b;
	out_kind kind;
	const char *out;
	char *out_abs;          /* out as an absolute path, for the ledger */
	cp_output_opts oo;
	cp_pdf_parts *parts;    /* PDF: one part per worker, joined at the end */
	cp_atomic_dir *dir;
	cp_rejects *rejects;
	cli_rows rows;          /* --row/--rows; n = 0: every row */
	GHashTable *rows_found; /* rows of rows that hold a record */
	const char *want_cert;
	bool matched;
	bool skip_invalid;
	bool refused_any;
	long pages;
	cairo_surface_t *preview;
	cairo_surface_t *raster[CLI_POOL_MAX_WORKERS]; /* PNG folder: a page per worker,
	                                                  reused for all its pages */
	cp_redraw *redraw[CLI_POOL_MAX_WORKERS];       /* and what it keeps of it */
	cp_png_cache *png_cache[CLI_POOL_MAX_WORKERS]; /* and its repeating rows */
	cp_ledger_batch *lb;
	const char *input_sha;   /* the input file's SHA-256; NULL: read from a pipe */
	bool record_tried;       /* prepare_record() went as far as the ledger */
	bool auto_serial;        /* number the sheets from the ledger's stock */
	const char *serial_from; /* --serial-from: the first sheet */
	const char *reissue;
	bool old_returned;
	bool pdf_files;           /* FOLDER of signed per-holder PDFs */
	const char *name_pattern; /* or NULL: {cert_no} */
	cp_signer *signer;
	cp_sign_seal *seal;       /* the seal image of the signature widgets */
	cp_doc_info info;
	time_t when;              /* the claimed signing time of the batch */
	/* Signed PDF folder: each worker draws a chunk's pages into one book,
	 * then cuts it into the holders' files (pdfdir_chunk_done()). */
	cp_pdf_book *book[CLI_POOL_MAX_WORKERS];
	GArray *held[CLI_POOL_MAX_WORKERS]; /* held_page: the book's pages */
} render_ctx;

static void ledger_print_init(const render_ctx *c, const cp_record *rec, cp_ledger_print *p,
                              char *masked)
{
	memset(p, 0, sizeof *p);
	p->cert_no = rec->value[CP_FIELD_CERT_NO];
	p->name = rec->value[CP_FIELD_NAME];
	p->id_masked = masked;
	p->level = rec->value[CP_FIELD_LEVEL];
	p->occupation = rec->value[CP_FIELD_OCCUPATION];
	p->serial = rec->value[CP_FIELD_PRINT_SERIAL];
	p->reissue_reason = c->reissue;
	p->old_returned = c->old_returned;
}

static bool selected(const render_ctx *c, const cp_record *rec)
{
	if (c->rows.n)
		return cli_rows_has(&c->rows, rec->row);
	if (c->want_cert) {
		const char *v = rec->raw[CP_FIELD_CERT_NO];
		if (!v)
			return false;
		while (*v == ' ' || *v == '\t')
			v++;
		size_t n = strlen(c->want_cert);
		if (strncmp(v, c->want_cert, n) != 0)
			return false;
		for (v += n; *v; v++)
			if (*v != ' ' && *v != '\t')
				return false;
		return true;
	}
	return true;
}

static void note_match(render_ctx *c, const cp_record *rec)
{
	c->matched = true;
	if (c->rows.n)
		g_hash_table_add(c->rows_found, GSIZE_TO_POINTER((gsize)rec->row));
}

/* The rows asked for that hold no record ("7, 9-11"); NULL when none. Free
 * with g_free(). */
static char *rows_missing(const render_ctx *c)
{
	if ((long)g_hash_table_size(c->rows_found) >= c->rows.count)
		return NULL;
	GString *s = g_string_new(NULL);
	int shown = 0;
	for (size_t i = 0; i < c->rows.n && shown < 10; i++) {
		for (long r = c->rows.range[i].first; r <= c->rows.range[i].last; r++) {
			if (g_hash_table_contains(c->rows_found, GSIZE_TO_POINTER((gsize)r)))
				continue;
			long end = r;
			while (end < c->rows.range[i].last &&
			       !g_hash_table_contains(c->rows_found, GSIZE_TO_POINTER((gsize)(end + 1))))
				end++;
			if (shown++ == 10) {
				g_string_append(s, ", …");
				break;
			}
			g_string_append_printf(s, end > r ? "%s%ld-%ld" : "%s%ld", s->len ? ", " : "", r,
			                       end);
			r = end;
		}
	}
	return g_string_free(s, false);
}

/* A new white raster page with pg drawn on it by engine e. */
static cairo_surface_t *draw_raster(render_ctx *c, cp_engine *e, const cp_page *pg,
                                    cp_error **err)
{
	cairo_t *cr = NULL;
	cairo_surface_t *s = cp_raster_new(cp_template_page_width_mm(c->b->tpl),
	                                   cp_template_page_height_mm(c->b->tpl),
	                                   c->oo.dpi, &cr, err);
	if (!s)
		return NULL;
	cp_engine_draw(e, pg, cr, &c->oo);
	cairo_destroy(cr);
	return s;
}

/* Like draw_raster(), but into one page kept in c->raster[part] for the
 * whole folder (one per worker): a fresh 35 MB A4 page at 300 dpi per
 * certificate cost as much in page faults (mapping, zeroing, unmapping) as
 * drawing it; and only what changes from record to record is drawn again
 * (cp_engine_redraw()). Borrowed: valid until the next call. */
static cairo_surface_t *reuse_raster(render_ctx *c, cp_engine *e, int part, const cp_page *pg,
                                     cp_error **err)
{
	cairo_surface_t **slot = &c->raster[part];
	if (!*slot) {
		cairo_t *cr = NULL;
		*slot = cp_raster_new(cp_template_page_width_mm(c->b->tpl),
		                      cp_template_page_height_mm(c->b->tpl), c->oo.dpi, &cr, err);
		if (!*slot)
			return NULL;
		cairo_destroy(cr);
		cp_redraw_free(c->redraw[part]);
		c->redraw[part] = cp_redraw_new();
	}
	cairo_t *cr = cairo_create(*slot);
	/* The user space cp_raster_new() sets up. */
	cairo_scale(cr, c->oo.dpi / 25.4, c->oo.dpi / 25.4);
	cp_engine_redraw(e, c->redraw[part], pg, cr, &c->oo);
	cairo_status_t st = cairo_status(cr);
	cairo_destroy(cr);
	if (st != CAIRO_STATUS_SUCCESS) {
		cp_set_error(err, CP_E_NOMEM, NULL, 0, 0, NULL, _("out of memory"));
		return NULL;
	}
	return *slot;
}

/* The ledger's verdict on a record about to be printed: a number already
 * issued refuses the row (reported with the others, not the end of the run).
 * False only on a stopping error. */
static bool ledger_admit(render_ctx *c, const cp_record *rec, cp_problems *row, bool *valid,
                         cp_error **err)
{
	char *masked = cp_mask_id(rec->value[CP_FIELD_ID_NUMBER]);
	cp_ledger_print lp;
	ledger_print_init(c, rec, &lp, masked);
	cp_error *le = NULL;
	bool ok = cp_ledger_batch_check(c->lb, &lp, &le);
	g_free(masked);
	if (ok)
		return true;
	if (le->code != CP_E_LEDGER) {
		cp_propagate_error(err, le);
		return false;
	}
	/* The sheet (its serial) or the number, whichever the ledger refused. */
	bool sheet = le->column && strcmp(le->column, "print_serial") == 0;
	cp_field f = sheet ? CP_FIELD_PRINT_SERIAL : CP_FIELD_CERT_NO;
	cli_problem_add(row, CP_SEV_ERROR, rec, f, cp_reader_column(c->b->reader, f), rec->value[f],
	                le->rule ? le->rule : sheet ? "ledger.serial" : "ledger.issued",
	                le->message);
	cp_error_free(le);
	*valid = false;
	return true;
}

/* Records a printed page in the ledger. */
static bool ledger_record(render_ctx *c, const cp_record *rec, const char *file, int page,
                          const char *digest, cp_error **err)
{
	char *masked = cp_mask_id(rec->value[CP_FIELD_ID_NUMBER]);
	cp_ledger_print lp;
	ledger_print_init(c, rec, &lp, masked);
	lp.file = file;
	lp.page = page;
	lp.sha256 = digest;
	bool ok = cp_ledger_batch_add(c->lb, &lp, err);
	g_free(masked);
	return ok;
}

/* A refused row: from now on nothing is printed (unless --skip-invalid), and
 * the row goes to the rejects file. */
static bool refuse(render_ctx *c, const cp_record *rec, const cp_problems *row, cp_error **err)
{
	c->refused_any = true;
	return !c->rejects || cp_rejects_add(c->rejects, rec, row, err);
}

/* Once a record is refused nothing will be printed (without --skip-invalid):
 * keep checking, stop drawing. */
static bool drawing(const render_ctx *c)
{
	return !c->refused_any || c->skip_invalid;
}

/* A preview lays out its own record only. */
static bool preview_lay_out(void *ud, const cp_record *rec)
{
	return selected(ud, rec);
}

/* A preview: one record, drawn by this thread. */
static bool on_record(void *ud, cp_record *rec, cp_page *pg, cp_problems *row,
                      bool *still_valid, cp_error **err)
{
	render_ctx *c = ud;
	bool sel = selected(c, rec);
	if (sel)
		note_match(c, rec);
	if (!*still_valid) {
		/* A preview only cares about its own row. */
		if (sel)
			c->refused_any = true;
		return !c->rejects || cp_rejects_add(c->rejects, rec, row, err);
	}
	/* Kept until the run ends: written only if it ends well. */
	if (!sel || c->preview || c->refused_any)
		return true;
	c->preview = draw_raster(c, c->b->engine, pg, err);
	if (!c->preview)
		return false;
	c->pages++;
	return true;
}

/* A PDF or a PNG folder: the pool's steps (cli_batch.h). admit and settle
 * run on this thread in row order; draw and done on the workers. */
static bool batch_admit(void *ud, cli_item *it, cp_error **err)
{
	render_ctx *c = ud;
	bool sel = selected(c, &it->rec);
	if (sel)
		note_match(c, &it->rec);
	if (!it->valid) {
		c->refused_any = true;
		return true;
	}
	if (!sel)
		return true;
	if (c->lb && !ledger_admit(c, &it->rec, &it->row, &it->valid, err))
		return false;
	if (!it->valid)
		c->refused_any = true;
	it->draw = it->valid && drawing(c);
	/* The next blank sheet, in page order: admit runs in row order, and
	 * only for the pages that will be printed. */
	if (it->draw && c->auto_serial) {
		char *serial = NULL;
		if (!cp_ledger_batch_next_serial(c->lb, c->serial_from, &serial, err))
			return false;
		g_free(it->rec.value[CP_FIELD_PRINT_SERIAL]);
		it->rec.value[CP_FIELD_PRINT_SERIAL] = serial;
	}
	return true;
}

/* The ledger asked once for a chunk's numbers (cp_ledger_batch_ahead):
 * those of the records that passed the checks and will be printed. */
static bool batch_ahead(void *ud, cli_item *items, size_t n, cp_error **err)
{
	render_ctx *c = ud;
	if (!c->lb)
		return true;
	const char *certs[CP_LEDGER_AHEAD_MAX];
	size_t k = 0;
	for (size_t i = 0; i < n && k < CP_LEDGER_AHEAD_MAX; i++)
		if (items[i].valid && selected(c, &items[i].rec))
			certs[k++] = items[i].rec.value[CP_FIELD_CERT_NO];
	return cp_ledger_batch_ahead(c->lb, certs, k, err);
}

/* True when the template prints the 证书印制流水码. */
static bool template_prints_serial(const cp_template *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->el[i].kind == CP_EL_FIELD && t->el[i].bind == CP_FIELD_PRINT_SERIAL)
			return true;
	return false;
}

/* The static layer, drawn once for the whole PDF by the first page's
 * worker (cp_pdf_parts_layer). */
typedef struct layer_draw {
	cp_engine *e;
	const cp_page *pg;
	const cp_output_opts *o;
} layer_draw;

static bool draw_layer(void *ud, cairo_t *cr)
{
	layer_draw *l = ud;
	return cp_engine_draw_layer(l->e, l->pg, cr, l->o);
}

static bool pdf_draw(void *ud, int part, cp_engine *e, const cp_page *pg, cli_item *it,
                     cp_error **err)
{
	render_ctx *c = ud;
	cp_output_opts o = c->oo;
	layer_draw l = {e, pg, &c->oo};
	int under = cp_pdf_parts_layer(c->parts, draw_layer, &l, err);
	if (under < 0)
		return false;
	o.layer_apart = under > 0;
	cairo_t *cr = cp_pdf_parts_begin_page(c->parts, part, err);
	if (!cr)
		return false;
	cp_engine_draw(e, pg, cr, &o);
	size_t n;
	const cp_page_item *items = cp_page_items(pg, &n);
	for (size_t i = 0; i < n; i++) {
		if (items[i].forced) {
			cp_pdf_parts_page_uses_fallback(c->parts, part);
			break;
		}
	}
	if (!cp_pdf_parts_end_page(c->parts, part, err))
		return false;
	if (c->lb)
		it->digest = cp_page_digest(pg, c->oo.mode, it->rec.value[CP_FIELD_PHOTO]);
	return true;
}

static bool pdf_done(void *ud, int part, cp_error **err)
{
	render_ctx *c = ud;
	return cp_pdf_parts_finish(c->parts, part, err);
}

/* The first error of a row's problems, for a message. */
static const char *first_error(const cp_problems *row)
{
	for (size_t i = 0; i < row->len; i++)
		if (row->items[i].severity == CP_SEV_ERROR)
			return row->items[i].message;
	return "";
}

static bool pdf_settle(void *ud, cli_item *it, bool *still_valid, cp_error **err)
{
	render_ctx *c = ud;
	/* A row refused once its sheet was numbered (batch_admit(): while its
	 * page was laid out) leaves that sheet unused while the pages after it
	 * carry the serials of the sheets after theirs: with --skip-invalid
	 * every later page would go onto a sheet other than the one the ledger
	 * names. The batch stops, nothing printed or recorded. */
	if (!*still_valid && it->draw && c->auto_serial && c->skip_invalid) {
		cp_set_error(err, CP_E_REFUSED, NULL, it->rec.line, it->rec.row, NULL,
		             _("refused while its page was laid out (%s), after blank sheet %s "
		               "had been numbered for it: the pages after it would not match "
		               "their sheets; nothing was printed. Correct the row, or leave it "
		               "out of the input, and print again"),
		             first_error(&it->row),
		             it->rec.value[CP_FIELD_PRINT_SERIAL]
		                     ? it->rec.value[CP_FIELD_PRINT_SERIAL]
		                     : "-");
		return false;
	}
	if (!*still_valid)
		return refuse(c, &it->rec, &it->row, err);
	/* Not drawn: not the selected row, or nothing is going to be printed. */
	if (it->part < 0)
		return true;
	if (!cp_pdf_parts_order(c->parts, it->part, 1, err))
		return false;
	c->pages++;
	return !c->lb || ledger_record(c, &it->rec, c->out_abs, (int)c->pages, it->digest, err);
}

/* A value made safe as (part of) a file name: no folder separators, no
 * control characters, no leading dot. */
static void append_safe(GString *g, const char *v)
{
	size_t start = g->len;
	for (const char *p = v ? v : ""; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		g_string_append_c(g, ch < 0x20 || ch == 0x7f || ch == '/' || ch == '\\' ? '_' : (char)ch);
	}
	if (g->len > start && g->str[start] == '.')
		g->str[start] = '_';
}

/* The file name of a holder's page: the pattern with {cert_no} and {name}
 * (default: the certificate number) and the extension. */
static char *holder_name(const render_ctx *c, const cp_record *rec, const char *ext)
{
	const char *pat = c->name_pattern ? c->name_pattern : "{cert_no}";
	GString *g = g_string_new(NULL);
	for (const char *p = pat; *p;) {
		if (g_str_has_prefix(p, "{cert_no}")) {
			append_safe(g, rec->value[CP_FIELD_CERT_NO]);
			p += 9;
		} else if (g_str_has_prefix(p, "{name}")) {
			append_safe(g, rec->value[CP_FIELD_NAME]);
			p += 6;
		} else {
			char one[2] = {*p++, 0};
			append_safe(g, one);
		}
	}
	/* Names stay well inside NAME_MAX (255 bytes), on a character boundary. */
	if (g->len > 200) {
		const char *cut = g_utf8_find_prev_char(g->str, g->str + 201);
		g_string_truncate(g, cut ? (gsize)(cut - g->str) : 200);
	}
	g_string_append(g, ext);
	return g_string_free(g, FALSE);
}

static char *png_name(const render_ctx *c, const cp_record *rec)
{
	return holder_name(c, rec, ".png");
}

/* ------------------------------------------- one signed PDF per holder */

typedef struct sign_job {
	const render_ctx *c;
	cp_sign_opts so;
} sign_job;

/* A page of a worker's book: whose it is and how it is signed. */
typedef struct held_page {
	cli_item *it;     /* borrowed: the chunk is the worker's until it is done */
	char *masked;     /* the ID number as the signature carries it */
	sign_job j;
} held_page;

static bool sign_finish(void *ud, int fd, const char *label, cp_error **err)
{
	sign_job *j = ud;
	return cp_sign_pdf_fd(j->c->signer, fd, label, &j->so, err);
}

static void held_clear(render_ctx *c, int part)
{
	GArray *h = c->held[part];
	for (guint i = 0; h && i < h->len; i++)
		g_free(g_array_index(h, held_page, i).masked);
	if (h)
		g_array_set_size(h, 0);
	cp_pdf_book_free(c->book[part]);
	c->book[part] = NULL;
}

static bool pdfdir_draw(void *ud, int part, cp_engine *e, const cp_page *pg, cli_item *it,
                        cp_error **err)
{
	render_ctx *c = ud;
	if (!c->book[part]) {
		c->book[part] = cp_pdf_book_new(c->out, cp_template_page_width_mm(c->b->tpl),
		                                cp_template_page_height_mm(c->b->tpl), &c->info, err);
		if (!c->book[part])
			return false;
		if (!c->held[part])
			c->held[part] = g_array_new(FALSE, FALSE, sizeof(held_page));
	}
	cairo_t *cr = cp_pdf_book_begin_page(c->book[part], err);
	if (!cr)
		return false;
	cp_engine_draw(e, pg, cr, &c->oo);
	if (!cp_pdf_book_end_page(c->book[part], err))
		return false;
	/* The widget covers the seal's box, where the seal is drawn. */
	size_t n;
	const cp_page_item *items = cp_page_items(pg, &n);
	const cp_page_item *seal = NULL;
	for (size_t i = 0; i < n && !seal; i++)
		if (items[i].kind == CP_EL_SEAL)
			seal = &items[i];
	const cp_record *rec = &it->rec;
	char *masked = cp_mask_id(rec->value[CP_FIELD_ID_NUMBER]);
	sign_job j = {
		.c = c,
		.so = {
			.when = c->when,
			.cert_no = rec->value[CP_FIELD_CERT_NO], .name = rec->value[CP_FIELD_NAME],
			.id_masked = masked, .occupation = rec->value[CP_FIELD_OCCUPATION],
			.level = rec->value[CP_FIELD_LEVEL],
		},
	};
	if (seal) {
		j.so.seal = c->seal;
		j.so.x_mm = (seal->x + c->oo.offset_x_mm) * c->oo.scale_x;
		j.so.y_mm = (seal->y + c->oo.offset_y_mm) * c->oo.scale_y;
		j.so.w_mm = seal->w * c->oo.scale_x;
		j.so.h_mm = seal->h * c->oo.scale_y;
	}
	held_page h = {.it = it, .masked = masked, .j = j};
	g_array_append_val(c->held[part], h);
	if (c->lb)
		it->digest = cp_page_digest(pg, c->oo.mode, it->rec.value[CP_FIELD_PHOTO]);
	return true;
}

/* The chunk's pages, each its own file, signed in this worker thread. */
static bool pdfdir_chunk_done(void *ud, int part, cp_error **err)
{
	render_ctx *c = ud;
	if (!c->book[part])
		return true;
	bool ok = cp_pdf_book_finish(c->book[part], err);
	GArray *held = c->held[part];
	for (guint i = 0; ok && i < held->len; i++) {
		held_page *h = &g_array_index(held, held_page, i);
		char *name = holder_name(c, &h->it->rec, ".pdf");
		cp_atomic *f = cp_atomic_dir_file(c->dir, name, err);
		g_free(name);
		ok = f && cp_pdf_book_write_page(c->book[part], (int)i, f, sign_finish, &h->j, err);
	}
	held_clear(c, part);
	return ok;
}

static bool pdfdir_done(void *ud, int part, cp_error **err)
{
	render_ctx *c = ud;
	held_clear(c, part);
	if (c->held[part])
		g_array_free(c->held[part], TRUE);
	c->held[part] = NULL;
	return true;
}

/* A folder of one file per holder (PNG or signed PDF): the holder's file,
 * page 1, goes into the ledger in row order. */
static bool holder_settle(render_ctx *c, cli_item *it, bool *still_valid, const char *ext,
                          cp_error **err)
{
	if (!*still_valid)
		return refuse(c, &it->rec, &it->row, err);
	if (it->part < 0)
		return true;
	c->pages++;
	if (!c->lb)
		return true;
	char *name = holder_name(c, &it->rec, ext);
	char *file = g_build_filename(c->out_abs, name, NULL);
	bool ok = ledger_record(c, &it->rec, file, 1, it->digest, err);
	g_free(file);
	g_free(name);
	return ok;
}

static bool pdfdir_settle(void *ud, cli_item *it, bool *still_valid, cp_error **err)
{
	return holder_settle(ud, it, still_valid, ".pdf", err);
}

static bool png_draw(void *ud, int part, cp_engine *e, const cp_page *pg, cli_item *it,
                     cp_error **err)
{
	render_ctx *c = ud;
	char *name = png_name(c, &it->rec);
	cairo_surface_t *s = reuse_raster(c, e, part, pg, err);
	if (s && !c->png_cache[part])
		c->png_cache[part] = cp_png_cache_new();
	cp_atomic *f = s ? cp_atomic_dir_file(c->dir, name, err) : NULL;
	g_free(name);
	/* An electronic certificate of a profile that signs its QR codes:
	 * the token in an iTXt chunk and the file signed (trust/pngsig.h),
	 * here in the worker's thread. */
	cp_png_seal seal;
	const char *qr = c->b->qr_signer && c->oo.mode == CP_MODE_ELECTRONIC ? cp_page_qr_text(pg)
	                                                                     : NULL;
	if (qr)
		cp_pngsig_init(&seal, c->b->qr_signer, qr);
	bool ok = f && cp_png_write_atomic_sealed(s, f, c->oo.dpi, c->png_cache[part],
	                                          qr ? &seal : NULL, err);
	if (ok && c->lb)
		it->digest = cp_page_digest(pg, c->oo.mode, it->rec.value[CP_FIELD_PHOTO]);
	return ok;
}

static bool png_done(void *ud, int part, cp_error **err)
{
	render_ctx *c = ud;
	if (c->raster[part])
		cairo_surface_destroy(c->raster[part]);
	c->raster[part] = NULL;
	cp_redraw_free(c->redraw[part]);
	c->redraw[part] = NULL;
	cp_png_cache_free(c->png_cache[part]);
	c->png_cache[part] = NULL;
	return true;
}

static bool png_settle(void *ud, cli_item *it, bool *still_valid, cp_error **err)
{
	return holder_settle(ud, it, still_valid, ".png", err);
}

/* Records the batch in the ledger, not yet committed
 * (cp_ledger_batch_prepare(): its checks and inserts under the write lock),
 * when it is going to be printed. The pool calls it once every record is
 * settled, while the workers still finish their files and the process
 * would otherwise wait for them (the inserts of a 1,000-page batch take 8
 * ms); cli_render_spoiling() calls it again after them, then with nothing
 * left to do. When the batch is not to be printed (interrupted, a row
 * asked for missing, records refused, no page) it does nothing and the
 * caller says why. A batch is recorded before anything is put in place: a
 * number another station issued meanwhile refuses it here, and nothing is
 * written; the ledger is locked from here to the commit. */
static bool prepare_record(render_ctx *c, cp_error **err)
{
	if (c->record_tried || cli_interrupted || c->pages == 0 ||
	    (c->refused_any && !c->skip_invalid) || (c->want_cert && !c->matched))
		return true;
	if (c->rows.n) {
		char *missing = rows_missing(c);
		bool all = !missing;
		g_free(missing);
		if (!all)
			return true;
	}
	c->record_tried = true;
	/* An input read from a pipe: its checksum is known now that it is read
	 * (to its end), so that the same data given as a file later can be
	 * checked against it (certpress reprint --input). */
	if (c->lb && !c->input_sha) {
		char *stream_sha = cp_reader_stream_sha256(c->b->reader);
		bool ok = !stream_sha || cp_ledger_batch_set_input_sha256(c->lb, stream_sha, err);
		g_free(stream_sha);
		if (!ok)
			return false;
	}
	cli_test_pause("rendered");
	if (c->lb && !cp_ledger_batch_prepare(c->lb, err))
		return false;
	cli_test_pause("prepared");
	return true;
}

static bool batch_drained(void *ud, cp_error **err)
{
	return prepare_record(ud, err);
}

static const cli_pool_ops pdf_ops = {
	.admit = batch_admit, .ahead = batch_ahead, .draw = pdf_draw, .done = pdf_done,
	.settle = pdf_settle, .drained = batch_drained,
};
static const cli_pool_ops png_ops = {
	.admit = batch_admit, .ahead = batch_ahead, .draw = png_draw, .done = png_done,
	.settle = png_settle, .drained = batch_drained,
};
static const cli_pool_ops pdfdir_ops = {
	.admit = batch_admit, .ahead = batch_ahead, .draw = pdfdir_draw,
	.chunk_done = pdfdir_chunk_done,
	.done = pdfdir_done, .settle = pdfdir_settle, .drained = batch_drained,
	/* 64 holders per document: its fonts are subset once for 64 files
	 * rather than 32 (6 % of a run's instructions, bench/README.md). */
	.chunk = 64,
};

/* The problems on standard error, except the numbers the ledger says were
 * issued already: one line for all of those (a batch run twice would
 * otherwise print a line per certificate); the rejects file still gives
 * each row its reason. */
static void report_refusals(const cp_problems *all, const cp_report_summary *sum)
{
	cp_problems rest = {.items = g_new(cp_problem, all->len + 1)};
	GArray *rows = g_array_new(FALSE, FALSE, sizeof(long));
	const char *first_no = NULL;
	for (size_t i = 0; i < all->len; i++) {
		const cp_problem *p = &all->items[i];
		if (!p->rule || strcmp(p->rule, "ledger.issued") != 0) {
			rest.items[rest.len++] = *p;
			continue;
		}
		if (!rows->len)
			first_no = p->value;
		g_array_append_val(rows, p->row);
	}
	cp_report_text_lines(stderr, &rest, sum->csv_path);
	if (rows->len) {
		/* rows come in order: runs of consecutive rows as ranges, ten at most */
		GString *g = g_string_new(NULL);
		int shown = 0;
		for (guint i = 0; i < rows->len; i++) {
			long a = g_array_index(rows, long, i), z = a;
			while (i + 1 < rows->len && g_array_index(rows, long, i + 1) == z + 1)
				z = g_array_index(rows, long, ++i);
			if (shown++ == 10) {
				g_string_append(g, ", …");
				break;
			}
			g_string_append_printf(g, z > a ? "%s%ld-%ld" : "%s%ld", g->len ? ", " : "", a, z);
		}
		long n = (long)rows->len;
		fprintf(stderr,
		        g_dngettext(CP_TEXTDOMAIN,
		                    "certpress: %ld certificate number was already issued (row %s, "
		                    "%s) and is refused (第十三条); 'certpress ledger show NUMBER' "
		                    "tells when; to print it again give --reissue REASON (第十七条)\n",
		                    "certpress: %ld certificate numbers were already issued (rows %s; "
		                    "the first %s) and are refused (第十三条); 'certpress ledger show "
		                    "NUMBER' tells when; to print them again give --reissue REASON "
		                    "(第十七条)\n",
		                    (gulong)n),
		        n, g->str, first_no ? first_no : "");
		g_string_free(g, TRUE);
	}
	cp_report_text_summary(stderr, sum);
	g_array_free(rows, TRUE);
	g_free(rest.items);
}

/* The outputs of one run must be distinct files: each is renamed into place
 * on its own, so the last rename would silently replace the other. Worst is
 * the ledger: a PDF renamed over it throws away the audit record while the
 * batch still commits into the unlinked file. */
static bool distinct_outputs(const char *out, const char *rejects, const char *ledger,
                             cp_error **err)
{
	if (ledger && cli_same_file(out, ledger)) {
		cp_set_error(err, CP_E_USAGE, out, 0, 0, NULL,
		             _("the output is the ledger file %s"), ledger);
		return false;
	}
	if (rejects && cli_same_file(rejects, out)) {
		cp_set_error(err, CP_E_USAGE, rejects, 0, 0, NULL,
		             _("the rejects file is the output %s"), out);
		return false;
	}
	if (rejects && ledger && cli_same_file(rejects, ledger)) {
		cp_set_error(err, CP_E_USAGE, rejects, 0, 0, NULL,
		             _("the rejects file is the ledger file %s"), ledger);
		return false;
	}
	return true;
}

/* Leaving before the run: what the options allocated goes. */
static int early(render_ctx *c, char *auto_printer, int status)
{
	cli_rows_clear(&c->rows);
	g_free(auto_printer);
	return status;
}

int cli_render(int argc, char **argv)
{
	return cli_render_spoiling(argc, argv, NULL, 0, NULL);
}

int cli_render_spoiling(int argc, char **argv, const cli_spoil *spoils, size_t nspoils,
                        bool *recorded)
{
	if (recorded)
		*recorded = false;
	enum { OPT_OFFSET = 256, OPT_SCALE, OPT_PRINTER, OPT_PRINTERS_DIR, OPT_DPI, OPT_ROW,
	       OPT_CERT, OPT_SKIP, OPT_REJECTS, OPT_FONT_DIR, OPT_SYMLINK, OPT_LEDGER,
	       OPT_NO_LEDGER, OPT_REISSUE, OPT_OLD_RETURNED, OPT_OPERATOR, OPT_BATCH, OPT_PRINT,
	       OPT_COPIES, OPT_ROWS, OPT_SERIAL_FROM, OPT_FORMAT, OPT_NAME, OPT_EXPECT_SHA, OPT_SHEET };
	int jobs = cli_pool_default_workers();
	static const struct option longopts[] = {
		{"org", required_argument, NULL, 'O'},
		{"output", required_argument, NULL, 'o'},
		{"template", required_argument, NULL, 't'},
		{"expect-sha256", required_argument, NULL, OPT_EXPECT_SHA},
		{"mode", required_argument, NULL, 'm'},
		{"offset", required_argument, NULL, OPT_OFFSET},
		{"scale", required_argument, NULL, OPT_SCALE},
		{"printer", required_argument, NULL, OPT_PRINTER},
		{"printers-dir", required_argument, NULL, OPT_PRINTERS_DIR},
		{"dpi", required_argument, NULL, OPT_DPI},
		{"row", required_argument, NULL, OPT_ROW},
		{"rows", required_argument, NULL, OPT_ROWS},
		{"serial-from", required_argument, NULL, OPT_SERIAL_FROM},
		{"cert-no", required_argument, NULL, OPT_CERT},
		{"skip-invalid", no_argument, NULL, OPT_SKIP},
		{"rejects", required_argument, NULL, OPT_REJECTS},
		{"font-dir", required_argument, NULL, OPT_FONT_DIR},
		{"allow-symlink", no_argument, NULL, OPT_SYMLINK},
		{"ledger", required_argument, NULL, OPT_LEDGER},
		{"no-ledger", no_argument, NULL, OPT_NO_LEDGER},
		{"reissue", required_argument, NULL, OPT_REISSUE},
		{"old-returned", no_argument, NULL, OPT_OLD_RETURNED},
		{"operator", required_argument, NULL, OPT_OPERATOR},
		{"batch", required_argument, NULL, OPT_BATCH},
		{"print", required_argument, NULL, OPT_PRINT},
		{"copies", required_argument, NULL, OPT_COPIES},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"name", required_argument, NULL, OPT_NAME},
		{"sheet", required_argument, NULL, OPT_SHEET},
		{"jobs", required_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *org = NULL, *out = NULL, *tpl = NULL, *printer = NULL,
		   *printers_dir = NULL, *rejects = NULL, *font_dir = NULL;
	const char *offset = NULL, *scale = NULL;
	const char *ledger_path = NULL, *operator_name = NULL, *batch_name = NULL, *sheet = NULL;
	bool no_ledger = false;
	const char *print_dest = NULL;
	long copies = 0;
	char *auto_printer = NULL, *printed_batch = NULL;
	const char *expect_sha = NULL; /* --expect-sha256: the input must be this file */
	cp_ledger *ledger = NULL;
	bool allow_symlink = false, quiet = false;
	render_ctx c = {0};
	cp_output_opts_init(&c.oo);
	int ch;
	long v;
	bool seen[CLI_OPT_SEEN] = {0};
	const char *why;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "O:o:t:m:j:qh", longopts, NULL)) != -1) {
		if (!cli_opt_once(longopts, ch, seen))
			return early(&c, auto_printer, cli_usage_error("render", _("%s is given twice; give it once"),
			                       cli_opt_name(longopts, ch)));
		if ((ch == OPT_ROW || ch == OPT_ROWS) && c.rows.n)
			return early(&c, auto_printer, cli_usage_error("render", _("--row and --rows go in one option: give every row in one --rows, e.g. 5-10,12")));
		switch (ch) {
		case 'O': org = optarg; break;
		case 'o': out = optarg; break;
		case 't': tpl = optarg; break;
		case 'm': {
			int m = cp_mode_parse(optarg);
			if (m < 0)
				return early(&c, auto_printer, cli_usage_error("render", _("--mode must be full, fill or electronic, not '%s'"), optarg));
			c.oo.mode = m;
			break;
		}
		case OPT_OFFSET: offset = optarg; break;
		case OPT_SCALE: scale = optarg; break;
		case OPT_PRINTER: printer = optarg; break;
		case OPT_PRINTERS_DIR: printers_dir = optarg; break;
		case OPT_DPI:
			if (!cli_parse_long(optarg, 50, 1200, &v))
				return early(&c, auto_printer, cli_usage_error("render", _("--dpi must be a whole number from 50 to 1200")));
			c.oo.dpi = v;
			break;
		case OPT_ROW:
			if (!cli_parse_long(optarg, 2, CLI_ROW_MAX, &v))
				return early(&c, auto_printer, cli_usage_error("render", _("--row must be a spreadsheet row number (2 or more; row 1 is the header)")));
			c.rows.range = g_new(cli_row_range, 1);
			c.rows.range[0].first = c.rows.range[0].last = v;
			c.rows.n = 1;
			c.rows.count = 1;
			break;
		case OPT_ROWS:
			if (!cli_rows_parse(optarg, &c.rows, &why))
				return early(&c, auto_printer, cli_usage_error("render", _("--rows '%s': %s"), optarg, why));
			break;
		case OPT_CERT: c.want_cert = optarg; break;
		case OPT_SKIP: c.skip_invalid = true; break;
		case OPT_REJECTS: rejects = optarg; break;
		case OPT_FONT_DIR: font_dir = optarg; break;
		case OPT_SYMLINK: allow_symlink = true; break;
		case OPT_LEDGER: ledger_path = optarg; break;
		case OPT_NO_LEDGER: no_ledger = true; break;
		case OPT_REISSUE: c.reissue = optarg; break;
		case OPT_OLD_RETURNED: c.old_returned = true; break;
		case OPT_OPERATOR: operator_name = optarg; break;
		case OPT_BATCH: batch_name = optarg; break;
		case OPT_PRINT: print_dest = optarg; break;
		case OPT_SERIAL_FROM: c.serial_from = optarg; break;
		case OPT_EXPECT_SHA: expect_sha = optarg; break;
		case OPT_COPIES:
			if (!cli_parse_long(optarg, 1, 999, &copies))
				return early(&c, auto_printer, cli_usage_error("render", _("--copies must be a whole number from 1 to 999")));
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "pdf") == 0)
				c.pdf_files = true;
			else if (strcmp(optarg, "png") != 0)
				return early(&c, auto_printer, cli_usage_error("render", _("--format must be png or pdf, not '%s'"), optarg));
			break;
		case OPT_NAME: c.name_pattern = optarg; break;
		case OPT_SHEET: sheet = optarg; break;
		case 'j':
			if (!cli_parse_long(optarg, 1, CLI_POOL_MAX_WORKERS, &v))
				return early(&c, auto_printer, cli_usage_error("render", _("--jobs must be a whole number from 1 to %d"),
				                       CLI_POOL_MAX_WORKERS));
			jobs = (int)v;
			break;
		case 'q': quiet = true; break;
		case 'h': help(); return early(&c, auto_printer, 0);
		default: return early(&c, auto_printer, cli_usage_error("render", _("unknown option")));
		}
	}
	if (optind != argc - 1)
		return early(&c, auto_printer, cli_usage_error("render", _("expected exactly one CSV file")));
	if (!org)
		return early(&c, auto_printer, cli_usage_error("render", _("--org PROFILE is required")));
	if (!out)
		return early(&c, auto_printer, cli_usage_error("render", _("-o OUTPUT is required")));
	if (c.rows.n && c.want_cert)
		return early(&c, auto_printer, cli_usage_error("render", _("--row and --cert-no exclude each other")));
	if (no_ledger && (ledger_path || c.reissue || operator_name || batch_name))
		return early(&c, auto_printer, cli_usage_error("render", _("--no-ledger cannot go with --ledger, --reissue, --operator or --batch")));
	if (c.old_returned && !c.reissue)
		return early(&c, auto_printer, cli_usage_error("render", _("--old-returned goes with --reissue REASON")));
	if (c.reissue && strspn(c.reissue, " \t") == strlen(c.reissue))
		return early(&c, auto_printer, cli_usage_error("render", _("--reissue needs a reason (lost, damaged, wrong information …)")));
	if (c.serial_from && no_ledger)
		return early(&c, auto_printer, cli_usage_error("render", _("--serial-from numbers sheets from the ledger's stock: it cannot go with --no-ledger")));
	if (copies && !print_dest)
		return early(&c, auto_printer, cli_usage_error("render", _("--copies goes with --print DEST")));
	if (print_dest && !(g_str_has_suffix(out, ".pdf") || g_str_has_suffix(out, ".PDF")))
		return early(&c, auto_printer, cli_usage_error("render", _("--print sends a PDF: give -o NAME.pdf")));
	/* The calibration of the printer the batch goes to, unless the operator
	 * chose one. */
	if (print_dest && !printer && !offset && !scale) {
		printer = auto_printer = cli_print_dest_profile(print_dest, printers_dir);
		if (printer && !quiet)
			fprintf(stderr, _("certpress render: using printer profile '%s' for %s\n"), printer,
			        print_dest);
	}
	cp_error *err = NULL;
	if (printer && !cp_printer_load(printer, printers_dir, &c.oo, &err))
		return early(&c, auto_printer, cli_fail(err));
	/* The same bounds as a saved printer profile: an offset a profile could
	 * not hold is a typo (50 for 5.0), and would print off the sheet. */
	const double mo = CP_PRINTER_MAX_OFFSET_MM;
	if (offset && (!cli_parse_pair(offset, &c.oo.offset_x_mm, &c.oo.offset_y_mm) ||
	               !(fabs(c.oo.offset_x_mm) <= mo && fabs(c.oo.offset_y_mm) <= mo)))
		return early(&c, auto_printer, cli_usage_error("render", _("--offset takes X,Y in millimetres, each between -%g and %g, e.g. 1.5,-0.5"),
		                       mo, mo));
	if (scale && (!cli_parse_pair(scale, &c.oo.scale_x, &c.oo.scale_y) ||
	              c.oo.scale_x < CP_PRINTER_MIN_SCALE || c.oo.scale_x > CP_PRINTER_MAX_SCALE ||
	              c.oo.scale_y < CP_PRINTER_MIN_SCALE || c.oo.scale_y > CP_PRINTER_MAX_SCALE))
		return early(&c, auto_printer, cli_usage_error("render", _("--scale takes SX,SY between %g and %g"),
		                       CP_PRINTER_MIN_SCALE, CP_PRINTER_MAX_SCALE));
	if ((offset || printer) && c.oo.mode != CP_MODE_FILL && !quiet)
		fprintf(stderr, _("certpress render: note: the calibration offset also applies in %s mode\n"),
		        cp_mode_name(c.oo.mode));

	if (g_str_has_suffix(out, ".pdf") || g_str_has_suffix(out, ".PDF"))
		c.kind = OUT_PDF;
	else if (g_str_has_suffix(out, ".png") || g_str_has_suffix(out, ".PNG"))
		c.kind = OUT_PREVIEW;
	else
		c.kind = OUT_DIR;
	if (c.kind == OUT_PREVIEW && !c.rows.n && !c.want_cert)
		return early(&c, auto_printer, cli_usage_error("render", _("a PNG preview needs --row N or --cert-no NUMBER")));
	if (c.kind == OUT_PREVIEW && c.rows.count > 1)
		return early(&c, auto_printer, cli_usage_error("render", _("a PNG preview shows one record: give one row")));
	c.out = out;
	if ((c.pdf_files || c.name_pattern) && c.kind != OUT_DIR)
		return cli_usage_error("render", _("--format and --name are for a FOLDER output"));
	if (c.pdf_files && c.oo.mode != CP_MODE_ELECTRONIC)
		return cli_usage_error("render", _("--format pdf makes signed electronic certificates: it needs --mode electronic"));
	if (c.name_pattern && !strstr(c.name_pattern, "{cert_no}"))
		return cli_usage_error("render", _("--name must contain {cert_no}, so that every file has its own name"));
	if (c.kind == OUT_PREVIEW && (ledger_path || c.reissue))
		return early(&c, auto_printer, cli_usage_error("render", _("a preview is not recorded in the ledger; drop --ledger and --reissue")));

	bool have_stock = false;
	cli_install_signals();
	c.rows_found = g_hash_table_new(g_direct_hash, g_direct_equal);
	char *def_tpl = cli_data_path("templates/certificate.conf");
	char *def_rejects = NULL;
	char *ledger_file = NULL;
	char *resolved = NULL; /* from realpath(): free() */
	char *input_abs = NULL, *input_sha = NULL;
	cli_batch_opts bo = {
		.csv = argv[optind], .sheet = sheet, .org = org, .font_dir = font_dir,
		.template_path = tpl ? tpl : def_tpl,
		/* A batch is laid out and drawn by the pool's workers. */
		.workers_lay_out = c.kind != OUT_PREVIEW,
		.warm = c.kind != OUT_PREVIEW ? jobs : 0,
		/* Only an electronic page shows the seal image. */
		.engine_flags = c.oo.mode == CP_MODE_ELECTRONIC ? 0 : CP_ENGINE_NO_SEAL,
	};
	cli_batch b = {0};
	c.b = &b;
	int status = 2;
	const char *inputs[] = {argv[optind], org, bo.template_path, NULL};
	if (!cli_batch_open(&b, &bo, &err))
		goto out;
	/* An existing output is replaced (atomically), like cc -o; an input never. */
	unsigned flags = allow_symlink ? CP_ATOMIC_ALLOW_SYMLINK : 0;
	if (c.kind != OUT_DIR && !cp_atomic_check_target(out, inputs, flags, &err))
		goto out;
	/* The PDF and PNG writers never write through a link (their contract);
	 * with --allow-symlink the file the link points to is what the operator
	 * means to replace, so they are handed that file. */
	struct stat lst;
	if (c.kind != OUT_DIR && allow_symlink && lstat(out, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		resolved = realpath(out, NULL);
		if (!resolved) {
			cp_set_error(&err, CP_E_IO, out, 0, 0, NULL,
			             _("cannot resolve the symbolic link: %s"), g_strerror(errno));
			goto out;
		}
		c.out = resolved;
	}
	/* The ledger names files absolutely: an auditor, or `certpress print`,
	 * finds them from anywhere. */
	c.out_abs = g_canonicalize_filename(c.out, NULL);
	if (c.skip_invalid && !rejects) {
		/* beside the output: a folder named "pngs/" gives pngs.rejects.csv,
		 * not a hidden file inside the folder (which may not exist yet) */
		size_t n = strlen(out);
		while (n > 1 && out[n - 1] == '/')
			n--;
		rejects = def_rejects = g_strdup_printf("%.*s.rejects.csv", (int)n, out);
	}
	if (c.kind != OUT_PREVIEW && !no_ledger)
		ledger_file = ledger_path ? g_strdup(ledger_path) : cp_ledger_default_path();
	if (!distinct_outputs(c.out, rejects, ledger_file, &err))
		goto out;
	if (rejects) {
		c.rejects = cli_batch_rejects_open(&b, rejects, inputs, &err);
		if (!c.rejects)
			goto out;
	}
	if (c.kind == OUT_PDF) {
		char *subject = g_path_get_basename(argv[optind]);
		cp_doc_info info = {
			.title = "职业技能等级证书 Vocational Skill Level Certificate",
			.author = cp_profile_name(b.profile),
			.subject = subject,
			.creator = "certpress " CP_VERSION,
			.keywords = cp_mode_name(c.oo.mode),
		};
		c.parts = cp_pdf_parts_new(c.out, cp_template_page_width_mm(b.tpl),
		                           cp_template_page_height_mm(b.tpl), &info, jobs, &err);
		g_free(subject);
		if (!c.parts)
			goto out;
		cp_pdf_parts_set_cancel(c.parts, &cli_interrupted);
	} else if (c.kind == OUT_DIR) {
		if (c.pdf_files) {
			/* Nothing is signed with a key that cannot be read, a
			 * certificate that is not valid now, or without a seal. */
			/* The QR signer's key when the QR is signed too: the
			 * passphrase is asked once. */
			c.signer = b.qr_signer ? b.qr_signer : cp_signer_from_profile(b.profile, &err);
			if (!c.signer)
				goto out;
			c.when = time(NULL);
			X509 *sc = cp_signer_cert(c.signer);
			if (X509_cmp_time(X509_get0_notAfter(sc), &c.when) <= 0 ||
			    X509_cmp_time(X509_get0_notBefore(sc), &c.when) >= 0) {
				cp_set_error(&err, CP_E_USAGE, cp_profile_signing_certificate(b.profile),
				             0, 0, NULL,
				             _("the seal certificate is not valid now (expired or not yet "
				               "valid): nothing was signed"));
				goto out;
			}
			/* The seal is the signature's appearance, not page content:
			 * clicking it opens the reader's signature panel. */
			const char *sp = cp_profile_seal_path(b.profile);
			if (!sp) {
				cp_set_error(&err, CP_E_USAGE, org, 0, 0, "seal",
				             _("electronic certificates need the organization's seal image: set 'seal' in the profile"));
				goto out;
			}
			c.seal = cp_sign_seal_new(sp, &err);
			if (!c.seal)
				goto out;
			c.oo.seal_in_signature = true;
			c.info = (cp_doc_info){
				.title = "职业技能等级证书 Vocational Skill Level Certificate",
				.author = cp_profile_name(b.profile),
				.creator = "certpress " CP_VERSION,
				.keywords = cp_mode_name(c.oo.mode),
			};
		}
		c.dir = cp_atomic_dir_open(out, flags, &err);
		if (!c.dir)
			goto out;
	}

	/* A preview is not an issue: only batches go into the ledger. */
	if (c.kind != OUT_PREVIEW && !no_ledger) {
		ledger = cp_ledger_open(ledger_file, -1, &err);
		if (!ledger)
			goto out;
		cp_ledger_set_operator(ledger, operator_name);
		/* No stock ever received: sheets are not numbered (as before). */
		cp_ledger_balance bal;
		if (!cp_ledger_balance_at(ledger, NULL, &bal, &err))
			goto out;
		have_stock = bal.received > 0;
		/* The input by absolute path and checksum (to make a page again,
		 * `certpress reprint`), and the calibration of the pages. */
		input_abs = g_canonicalize_filename(argv[optind], NULL);
		/* A pipe or FIFO was read once already: it has no checksum to
		 * record (nor a page to make again from it). */
		struct stat ist;
		bool regular = stat(argv[optind], &ist) == 0 && S_ISREG(ist.st_mode);
		input_sha = regular ? cli_file_sha256(argv[optind], &err) : NULL;
		if (regular && !input_sha)
			goto out;
		c.input_sha = input_sha;
		if (expect_sha && (!input_sha || g_ascii_strcasecmp(expect_sha, input_sha) != 0)) {
			cp_set_error(&err, CP_E_USAGE, argv[optind], 0, 0, NULL,
			             _("the file changed: its SHA-256 is %s, not the %s expected; "
			               "nothing was printed"),
			             input_sha ? input_sha : "-", expect_sha);
			goto out;
		}
		c.lb = cp_ledger_batch_begin(ledger, batch_name, input_abs, &err);
		if (!c.lb)
			goto out;
		char *calib = c.oo.mode == CP_MODE_ELECTRONIC ? NULL
		              : g_strdup_printf("offset %.2f,%.2f mm, scale %.4f,%.4f",
		                                c.oo.offset_x_mm, c.oo.offset_y_mm, c.oo.scale_x,
		                                c.oo.scale_y);
		bool src_ok = cp_ledger_batch_set_source(c.lb, input_abs, input_sha, printer, calib,
		                                         &err);
		g_free(calib);
		if (!src_ok)
			goto out;
		char *tpl_abs = g_canonicalize_filename(bo.template_path, NULL);
		char *tpl_sha = cli_file_sha256(bo.template_path, &err);
		src_ok = tpl_sha && cp_ledger_batch_set_template(c.lb, tpl_abs, tpl_sha, &err);
		g_free(tpl_abs);
		g_free(tpl_sha);
		if (!src_ok)
			goto out;
		for (size_t i = 0; i < nspoils; i++)
			if (!cp_ledger_batch_spoil(c.lb, spoils[i].serial, spoils[i].cert_no,
			                           spoils[i].reason, &err))
				goto out;
	}
	/* Sheets numbered from the stock: a printed batch (not electronic
	 * certificates), a template that prints the serial, a CSV without one. */
	bool serial_column = cp_reader_column(b.reader, CP_FIELD_PRINT_SERIAL) != NULL;
	c.auto_serial = c.lb && (have_stock || c.serial_from) && c.kind == OUT_PDF && c.oo.mode != CP_MODE_ELECTRONIC &&
	                template_prints_serial(b.tpl) && !serial_column;
	if (c.serial_from && serial_column) {
		cp_set_error(&err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("--serial-from: the CSV gives the serials (column %s); drop the column "
		               "or the option"),
		             cp_reader_column(b.reader, CP_FIELD_PRINT_SERIAL));
		goto out;
	}
	if (c.serial_from && !c.auto_serial) {
		cp_set_error(&err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("--serial-from numbers printed sheets: it needs a PDF output in full "
		               "or fill mode and a template that prints the print serial "
		               "(证书印制流水码)"));
		goto out;
	}
	if (c.oo.mode == CP_MODE_ELECTRONIC && !cp_profile_seal_path(b.profile)) {
		cp_set_error(&err, CP_E_USAGE, org, 0, 0, "seal",
		             _("electronic certificates need the organization's seal image: set 'seal' in the profile"));
		goto out;
	}

	if (c.kind == OUT_PREVIEW)
		b.lay_out = preview_lay_out;
	/* Photos are decoded by the workers, beside the drawing, except where
	 * a page is numbered from the stock before its worker sees it: a photo
	 * refused there would stop the batch (pdf_settle()), not leave the row
	 * out as the reading thread's refusal does. */
	b.decode_in_workers = !c.auto_serial;
	if (c.kind == OUT_PREVIEW ? !cli_batch_run(&b, on_record, &c, _("rendering"), &err)
	                          : !cli_batch_run_pool(&b, c.kind == OUT_PDF ? &pdf_ops
	                                                    : c.pdf_files ? &pdfdir_ops : &png_ops,
	                                                &c, jobs, _("rendering"), &err))
		goto out;
	/* A signal after the last record: still nothing is put in place. */
	if (cli_interrupted) {
		cp_set_error(&err, CP_E_INTERRUPTED, NULL, 0, 0, NULL,
		             _("interrupted; nothing was written"));
		goto out;
	}

	cp_report_summary sum = {
		.records = b.records, .valid = b.valid, .refused = b.refused,
		.warnings = b.warnings, .csv_path = argv[optind],
		.encoding = cp_reader_encoding(b.reader),
		.header_row = cp_reader_header_row(b.reader),
	};
	if (!quiet && (b.problems.len > 0 || b.refused > 0))
		report_refusals(&b.problems, &sum);
	char *missing = c.rows.n ? rows_missing(&c) : NULL;
	if (missing || (c.want_cert && !c.matched)) {
		if (missing && c.rows.count == 1)
			cp_set_error(&err, CP_E_USAGE, argv[optind], 0, 0, NULL,
			             _("there is no record on row %ld"), c.rows.range[0].first);
		else if (missing)
			cp_set_error(&err, CP_E_USAGE, argv[optind], 0, 0, NULL,
			             _("there is no record on rows %s; nothing was written"), missing);
		else
			cp_set_error(&err, CP_E_USAGE, argv[optind], 0, 0, NULL,
			             _("no record has certificate number %s"), c.want_cert);
		g_free(missing);
		goto out;
	}
	if (c.refused_any && !c.skip_invalid) {
		fprintf(stderr, _("certpress: %ld of %ld records refused; nothing was printed.\n"
		                  "Correct them and run again, or use --skip-invalid to print the valid ones.\n"),
		        b.refused, b.records);
		status = 1;
		goto out;
	}
	if (c.pages == 0) {
		fprintf(stderr, _("certpress: no certificate to print; nothing was written.\n"));
		status = 1;
		goto out;
	}
	/* Done by the pool while the workers finished (prepare_record()),
	 * unless the batch was not drawn by the workers (a preview). */
	if (!prepare_record(&c, &err))
		goto out;
	if (c.rejects) {
		bool ok = cp_rejects_close(c.rejects, &err);
		c.rejects = NULL;
		if (!ok)
			goto out;
	}
	if (c.parts) {
		bool ok = cp_pdf_parts_commit(c.parts, &err);
		c.parts = NULL;
		if (!ok)
			goto out;
	}
	if (c.dir) {
		bool ok = cp_atomic_dir_commit(c.dir, &err);
		c.dir = NULL;
		if (!ok)
			goto out;
	}
	if (c.preview && !cp_png_write(c.preview, c.out, c.oo.dpi, &err))
		goto out;
	/* The output is in place: now the ledger. Killed between the two, the
	 * file exists but nothing is recorded, and a re-run completes both. */
	cli_test_pause("placed");
	if (c.lb) {
		printed_batch = g_strdup(cp_ledger_batch_name(c.lb));
		bool ok = cp_ledger_batch_commit(c.lb, &err);
		c.lb = NULL;
		if (!ok)
			goto out;
		if (recorded)
			*recorded = true;
	}
	for (size_t i = 0; i < nspoils && !quiet; i++) {
		if (spoils[i].serial)
			fprintf(stderr, _("certpress: recorded spoiled sheet %s of %s\n"),
			        spoils[i].serial, spoils[i].cert_no);
		else
			fprintf(stderr, _("certpress: recorded the spoiled sheet of %s\n"),
			        spoils[i].cert_no);
	}
	if (!quiet)
		fprintf(stderr, g_dngettext(CP_TEXTDOMAIN, "certpress: wrote %ld certificate to %s\n",
		                            "certpress: wrote %ld certificates to %s\n", c.pages),
		        c.pages, out);
	status = c.refused_any ? 1 : 0;
	if (c.refused_any && rejects && !quiet)
		fprintf(stderr, _("certpress: refused rows written to %s\n"), rejects);
	if (print_dest) {
		cli_print_job j = {
			.dest = print_dest, .file = c.out, .copies = copies ? (int)copies : 1,
			.profile = printer, .batch = printed_batch, .ledger = ledger, .quiet = quiet,
		};
		int ps = cli_print_send(&j);
		if (ps)
			status = ps;
	}
out:
	cp_ledger_batch_abort(c.lb);
	cp_ledger_free(ledger);
	cp_pdf_parts_abort(c.parts);
	cp_atomic_dir_abort(c.dir);
	cp_rejects_abort(c.rejects);
	if (c.preview)
		cairo_surface_destroy(c.preview);
	for (int i = 0; i < CLI_POOL_MAX_WORKERS; i++) {
		if (c.raster[i])
			cairo_surface_destroy(c.raster[i]);
		cp_redraw_free(c.redraw[i]);
		cp_png_cache_free(c.png_cache[i]);
	}
	if (c.signer != b.qr_signer)
		cp_signer_free(c.signer);
	cli_batch_close(&b);
	cp_sign_seal_free(c.seal);
	g_hash_table_destroy(c.rows_found);
	cli_rows_clear(&c.rows);
	g_free(def_tpl);
	g_free(def_rejects);
	g_free(ledger_file);
	g_free(auto_printer);
	g_free(printed_batch);
	g_free(c.out_abs);
	g_free(input_abs);
	g_free(input_sha);
	free(resolved);
	if (err)
		status = cli_fail(err);
	return status;
}
