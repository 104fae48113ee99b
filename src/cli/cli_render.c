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
#include "error.h"
#include "i18n.h"
#include "layout/layout.h"
#include "output/report.h"

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
	         "      --cert-no NUMBER    only the record with this certificate number\n"
	         "      --skip-invalid      print the valid records, write the refused ones\n"
	         "                          to the rejects file, exit 1\n"
	         "      --rejects FILE      where refused rows go (default OUTPUT's name\n"
	         "                          + .rejects.csv with --skip-invalid)\n"
	         "      --font-dir DIR      the organization's own fonts, ahead of the defaults\n"
	         "      --ledger FILE       the print ledger (default\n"
	         "                          ~/.local/share/certpress/ledger.sqlite); every\n"
	         "                          page of a PDF or PNG folder is recorded there and a\n"
	         "                          certificate number already issued is refused\n"
	         "      --no-ledger         a proof: record nothing, refuse nothing issued\n"
	         "      --reissue REASON    reissue already issued numbers (第十七条): lost,\n"
	         "                          damaged or wrong; same number, new sheet\n"
	         "      --old-returned      with --reissue: the old sheet was taken back\n"
	         "      --operator NAME     operator recorded in the ledger (default $USER)\n"
	         "      --batch NAME        batch name in the ledger (default: generated)\n"
	         "      --allow-symlink     write through a symbolic link at OUTPUT\n"
	         "  -j, --jobs N            threads that lay out and draw the batch (default:\n"
	         "                          one per processor); every N gives the same pages\n"
	         "  -q, --quiet             no report on standard error\n"
	         "  -h, --help              show this help\n\n"
	         "Exit status: 0 printed, 1 records refused (nothing printed, or with\n"
	         "--skip-invalid only the valid ones), 2 usage or environment error,\n"
	         "130 interrupted.\n"));
}

typedef enum { OUT_PDF, OUT_DIR, OUT_PREVIEW } out_kind;

typedef struct render_ctx {
	cli_batch *b;
	out_kind kind;
	const char *out;
	cp_output_opts oo;
	cp_pdf_parts *parts;    /* PDF: one part per worker, joined at the end */
	cp_atomic_dir *dir;
	cp_rejects *rejects;
	long want_row;
	const char *want_cert;
	bool matched;
	bool skip_invalid;
	bool refused_any;
	long pages;
	cairo_surface_t *preview;
	cairo_surface_t *raster[CLI_POOL_MAX_WORKERS]; /* PNG folder: a page per worker,
	                                                  reused for all its pages */
	cp_ledger_batch *lb;
	const char *reissue;
	bool old_returned;
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
	if (c->want_row > 0)
		return rec->row == c->want_row;
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

/* Like draw_raster(), but into one page kept in *slot for the whole folder
 * (one per worker): a fresh 35 MB A4 page at 300 dpi per certificate cost as
 * much in page faults (mapping, zeroing, unmapping) as drawing it. Borrowed:
 * valid until the next call. */
static cairo_surface_t *reuse_raster(render_ctx *c, cp_engine *e, cairo_surface_t **slot,
                                     const cp_page *pg, cp_error **err)
{
	if (!*slot) {
		*slot = draw_raster(c, e, pg, err);
		return *slot;
	}
	cairo_t *cr = cairo_create(*slot);
	cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
	/* The user space cp_raster_new() sets up. */
	cairo_scale(cr, c->oo.dpi / 25.4, c->oo.dpi / 25.4);
	cp_engine_draw(e, pg, cr, &c->oo);
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
	cli_problem_add(row, CP_SEV_ERROR, rec, CP_FIELD_CERT_NO,
	                cp_reader_column(c->b->reader, CP_FIELD_CERT_NO),
	                rec->value[CP_FIELD_CERT_NO], "ledger.issued", "第十三条", le->message);
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

/* A preview: one record, drawn by this thread. */
static bool on_record(void *ud, cp_record *rec, cp_page *pg, cp_problems *row,
                      bool *still_valid, cp_error **err)
{
	render_ctx *c = ud;
	bool sel = selected(c, rec);
	if (sel)
		c->matched = true;
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
		c->matched = true;
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
	return true;
}

static bool pdf_draw(void *ud, int part, cp_engine *e, const cp_page *pg, cli_item *it,
                     cp_error **err)
{
	render_ctx *c = ud;
	cairo_t *cr = cp_pdf_parts_begin_page(c->parts, part, err);
	if (!cr)
		return false;
	cp_engine_draw(e, pg, cr, &c->oo);
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

static bool pdf_settle(void *ud, cli_item *it, bool *still_valid, cp_error **err)
{
	render_ctx *c = ud;
	if (!*still_valid)
		return refuse(c, &it->rec, &it->row, err);
	/* Not drawn: not the selected row, or nothing is going to be printed. */
	if (it->part < 0)
		return true;
	if (!cp_pdf_parts_order(c->parts, it->part, 1, err))
		return false;
	c->pages++;
	return !c->lb || ledger_record(c, &it->rec, c->out, (int)c->pages, it->digest, err);
}

static char *png_name(const cp_record *rec)
{
	return g_strdup_printf("%s.png", rec->value[CP_FIELD_CERT_NO]);
}

static bool png_draw(void *ud, int part, cp_engine *e, const cp_page *pg, cli_item *it,
                     cp_error **err)
{
	render_ctx *c = ud;
	char *name = png_name(&it->rec);
	char *path = g_build_filename(cp_atomic_dir_temp_path(c->dir), name, NULL);
	g_free(name);
	cairo_surface_t *s = reuse_raster(c, e, &c->raster[part], pg, err);
	bool ok = s && cp_png_write(s, path, c->oo.dpi, err);
	g_free(path);
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
	return true;
}

static bool png_settle(void *ud, cli_item *it, bool *still_valid, cp_error **err)
{
	render_ctx *c = ud;
	if (!*still_valid)
		return refuse(c, &it->rec, &it->row, err);
	if (it->part < 0)
		return true;
	c->pages++;
	if (!c->lb)
		return true;
	char *name = png_name(&it->rec);
	char *file = g_build_filename(c->out, name, NULL);
	bool ok = ledger_record(c, &it->rec, file, 1, it->digest, err);
	g_free(file);
	g_free(name);
	return ok;
}

static const cli_pool_ops pdf_ops = {
	.admit = batch_admit, .draw = pdf_draw, .done = pdf_done, .settle = pdf_settle,
};
static const cli_pool_ops png_ops = {
	.admit = batch_admit, .draw = png_draw, .done = png_done, .settle = png_settle,
};

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

int cli_render(int argc, char **argv)
{
	enum { OPT_OFFSET = 256, OPT_SCALE, OPT_PRINTER, OPT_PRINTERS_DIR, OPT_DPI, OPT_ROW,
	       OPT_CERT, OPT_SKIP, OPT_REJECTS, OPT_FONT_DIR, OPT_SYMLINK, OPT_LEDGER,
	       OPT_NO_LEDGER, OPT_REISSUE, OPT_OLD_RETURNED, OPT_OPERATOR, OPT_BATCH };
	int jobs = cli_pool_default_workers();
	static const struct option longopts[] = {
		{"org", required_argument, NULL, 'O'},
		{"output", required_argument, NULL, 'o'},
		{"template", required_argument, NULL, 't'},
		{"mode", required_argument, NULL, 'm'},
		{"offset", required_argument, NULL, OPT_OFFSET},
		{"scale", required_argument, NULL, OPT_SCALE},
		{"printer", required_argument, NULL, OPT_PRINTER},
		{"printers-dir", required_argument, NULL, OPT_PRINTERS_DIR},
		{"dpi", required_argument, NULL, OPT_DPI},
		{"row", required_argument, NULL, OPT_ROW},
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
		{"jobs", required_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *org = NULL, *out = NULL, *tpl = NULL, *printer = NULL,
		   *printers_dir = NULL, *rejects = NULL, *font_dir = NULL;
	const char *offset = NULL, *scale = NULL;
	const char *ledger_path = NULL, *operator_name = NULL, *batch_name = NULL;
	bool no_ledger = false;
	cp_ledger *ledger = NULL;
	bool allow_symlink = false, quiet = false;
	render_ctx c = {0};
	cp_output_opts_init(&c.oo);
	int ch;
	long v;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "O:o:t:m:j:qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'O': org = optarg; break;
		case 'o': out = optarg; break;
		case 't': tpl = optarg; break;
		case 'm': {
			int m = cp_mode_parse(optarg);
			if (m < 0)
				return cli_usage_error("render", _("--mode must be full, fill or electronic, not '%s'"), optarg);
			c.oo.mode = m;
			break;
		}
		case OPT_OFFSET: offset = optarg; break;
		case OPT_SCALE: scale = optarg; break;
		case OPT_PRINTER: printer = optarg; break;
		case OPT_PRINTERS_DIR: printers_dir = optarg; break;
		case OPT_DPI:
			if (!cli_parse_long(optarg, 50, 1200, &v))
				return cli_usage_error("render", _("--dpi must be a whole number from 50 to 1200"));
			c.oo.dpi = v;
			break;
		case OPT_ROW:
			if (!cli_parse_long(optarg, 2, 100000000, &v))
				return cli_usage_error("render", _("--row must be a spreadsheet row number (2 or more; row 1 is the header)"));
			c.want_row = v;
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
		case 'j':
			if (!cli_parse_long(optarg, 1, CLI_POOL_MAX_WORKERS, &v))
				return cli_usage_error("render", _("--jobs must be a whole number from 1 to %d"),
				                       CLI_POOL_MAX_WORKERS);
			jobs = (int)v;
			break;
		case 'q': quiet = true; break;
		case 'h': help(); return 0;
		default: return cli_usage_error("render", _("unknown option"));
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("render", _("expected exactly one CSV file"));
	if (!org)
		return cli_usage_error("render", _("--org PROFILE is required"));
	if (!out)
		return cli_usage_error("render", _("-o OUTPUT is required"));
	if (c.want_row && c.want_cert)
		return cli_usage_error("render", _("--row and --cert-no exclude each other"));
	if (no_ledger && (ledger_path || c.reissue || operator_name || batch_name))
		return cli_usage_error("render", _("--no-ledger cannot go with --ledger, --reissue, --operator or --batch"));
	if (c.old_returned && !c.reissue)
		return cli_usage_error("render", _("--old-returned goes with --reissue REASON"));
	if (c.reissue && strspn(c.reissue, " \t") == strlen(c.reissue))
		return cli_usage_error("render", _("--reissue needs a reason (lost, damaged, wrong information …)"));
	cp_error *err = NULL;
	if (printer && !cp_printer_load(printer, printers_dir, &c.oo, &err))
		return cli_fail(err);
	/* The same bounds as a saved printer profile: an offset a profile could
	 * not hold is a typo (50 for 5.0), and would print off the sheet. */
	const double mo = CP_PRINTER_MAX_OFFSET_MM;
	if (offset && (!cli_parse_pair(offset, &c.oo.offset_x_mm, &c.oo.offset_y_mm) ||
	               !(fabs(c.oo.offset_x_mm) <= mo && fabs(c.oo.offset_y_mm) <= mo)))
		return cli_usage_error("render", _("--offset takes X,Y in millimetres, each between -%g and %g, e.g. 1.5,-0.5"),
		                       mo, mo);
	if (scale && (!cli_parse_pair(scale, &c.oo.scale_x, &c.oo.scale_y) ||
	              c.oo.scale_x < CP_PRINTER_MIN_SCALE || c.oo.scale_x > CP_PRINTER_MAX_SCALE ||
	              c.oo.scale_y < CP_PRINTER_MIN_SCALE || c.oo.scale_y > CP_PRINTER_MAX_SCALE))
		return cli_usage_error("render", _("--scale takes SX,SY between %g and %g"),
		                       CP_PRINTER_MIN_SCALE, CP_PRINTER_MAX_SCALE);
	if ((offset || printer) && c.oo.mode != CP_MODE_FILL && !quiet)
		fprintf(stderr, _("certpress render: note: the calibration offset also applies in %s mode\n"),
		        cp_mode_name(c.oo.mode));

	if (g_str_has_suffix(out, ".pdf") || g_str_has_suffix(out, ".PDF"))
		c.kind = OUT_PDF;
	else if (g_str_has_suffix(out, ".png") || g_str_has_suffix(out, ".PNG"))
		c.kind = OUT_PREVIEW;
	else
		c.kind = OUT_DIR;
	if (c.kind == OUT_PREVIEW && !c.want_row && !c.want_cert)
		return cli_usage_error("render", _("a PNG preview needs --row N or --cert-no NUMBER"));
	c.out = out;
	if (c.kind == OUT_PREVIEW && (ledger_path || c.reissue))
		return cli_usage_error("render", _("a preview is not recorded in the ledger; drop --ledger and --reissue"));

	cli_install_signals();
	char *def_tpl = cli_data_path("templates/certificate.conf");
	char *def_rejects = NULL;
	char *ledger_file = NULL;
	char *resolved = NULL; /* from realpath(): free() */
	cli_batch_opts bo = {
		.csv = argv[optind], .org = org, .font_dir = font_dir,
		.template_path = tpl ? tpl : def_tpl,
		/* A batch is laid out and drawn by the pool's workers. */
		.workers_lay_out = c.kind != OUT_PREVIEW,
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
	if (c.skip_invalid && !rejects)
		rejects = def_rejects = g_strdup_printf("%s.rejects.csv", out);
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
		c.lb = cp_ledger_batch_begin(ledger, batch_name, argv[optind], &err);
		if (!c.lb)
			goto out;
	}
	if (c.oo.mode == CP_MODE_ELECTRONIC && !cp_profile_seal_path(b.profile)) {
		cp_set_error(&err, CP_E_USAGE, org, 0, 0, "seal",
		             _("electronic certificates need the organization's seal image: set 'seal' in the profile"));
		goto out;
	}

	if (c.kind == OUT_PREVIEW ? !cli_batch_run(&b, on_record, &c, _("rendering"), &err)
	                          : !cli_batch_run_pool(&b, c.kind == OUT_PDF ? &pdf_ops : &png_ops,
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
	};
	if (!quiet && (b.problems.len > 0 || b.refused > 0))
		cp_report_text(stderr, &b.problems, &sum);
	if ((c.want_row || c.want_cert) && !c.matched) {
		if (c.want_row)
			cp_set_error(&err, CP_E_USAGE, argv[optind], 0, 0, NULL,
			             _("there is no record on row %ld"), c.want_row);
		else
			cp_set_error(&err, CP_E_USAGE, argv[optind], 0, 0, NULL,
			             _("no record has certificate number %s"), c.want_cert);
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
	/* The batch is recorded (not yet committed) before anything is put in
	 * place: a number another station issued meanwhile refuses it here, and
	 * nothing is written. The ledger is locked from here to the commit. */
	if (c.lb && !cp_ledger_batch_prepare(c.lb, &err))
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
	if (c.lb) {
		bool ok = cp_ledger_batch_commit(c.lb, &err);
		c.lb = NULL;
		if (!ok)
			goto out;
	}
	if (!quiet)
		fprintf(stderr, g_dngettext(CP_TEXTDOMAIN, "certpress: wrote %ld certificate to %s\n",
		                            "certpress: wrote %ld certificates to %s\n", c.pages),
		        c.pages, out);
	status = c.refused_any ? 1 : 0;
	if (c.refused_any && rejects && !quiet)
		fprintf(stderr, _("certpress: refused rows written to %s\n"), rejects);
out:
	cp_ledger_batch_abort(c.lb);
	cp_ledger_free(ledger);
	cp_pdf_parts_abort(c.parts);
	cp_atomic_dir_abort(c.dir);
	cp_rejects_abort(c.rejects);
	if (c.preview)
		cairo_surface_destroy(c.preview);
	for (int i = 0; i < CLI_POOL_MAX_WORKERS; i++)
		if (c.raster[i])
			cairo_surface_destroy(c.raster[i]);
	cli_batch_close(&b);
	g_free(def_tpl);
	g_free(def_rejects);
	g_free(ledger_file);
	free(resolved);
	if (err)
		status = cli_fail(err);
	return status;
}
