/* SPDX-License-Identifier: MIT */
/* certpress render: a batch to one PDF, a folder of PNG files, or a single
 * PNG preview. Checks and lays out every record first-to-last in one pass;
 * output goes to temporary files that are only renamed into place when the
 * whole batch succeeded, so a refused record or an interruption leaves
 * nothing behind. */
#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "atomic.h"
#include "cli.h"
#include "cli_batch.h"
#include "cli_common.h"
#include "i18n.h"
#include "report.h"

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
	         "      --allow-symlink     write through a symbolic link at OUTPUT\n"
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
	cp_pdf_writer *pdf;
	cp_atomic_dir *dir;
	cp_rejects *rejects;
	long want_row;
	const char *want_cert;
	bool matched;
	bool skip_invalid;
	bool refused_any;
	long pages;
	cairo_surface_t *preview;
} render_ctx;

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

/* A new white raster page with pg drawn on it. */
static cairo_surface_t *draw_raster(render_ctx *c, const cp_page *pg, cp_error **err)
{
	cairo_t *cr = NULL;
	cairo_surface_t *s = cp_raster_new(cp_template_page_width_mm(c->b->tpl),
	                                   cp_template_page_height_mm(c->b->tpl),
	                                   c->oo.dpi, &cr, err);
	if (!s)
		return NULL;
	cp_engine_draw(c->b->engine, pg, cr, &c->oo);
	cairo_destroy(cr);
	return s;
}

static bool on_record(void *ud, cp_record *rec, cp_page *pg, cp_problems *row,
                      bool *still_valid, cp_error **err)
{
	render_ctx *c = ud;
	bool sel = selected(c, rec);
	if (sel)
		c->matched = true;
	if (!*still_valid) {
		/* A preview only cares about its own row; a batch about all. */
		if (c->kind != OUT_PREVIEW || sel)
			c->refused_any = true;
		if (c->rejects && !cp_rejects_add(c->rejects, rec, row, err))
			return false;
		return true;
	}
	if (!sel || (c->refused_any && !c->skip_invalid))
		return true;
	switch (c->kind) {
	case OUT_PDF: {
		cairo_t *cr = cp_pdf_writer_begin_page(c->pdf, err);
		if (!cr)
			return false;
		cp_engine_draw(c->b->engine, pg, cr, &c->oo);
		if (!cp_pdf_writer_end_page(c->pdf, err))
			return false;
		break;
	}
	case OUT_DIR: {
		char *name = g_strdup_printf("%s.png", rec->value[CP_FIELD_CERT_NO]);
		char *path = g_build_filename(cp_atomic_dir_path(c->dir), name, NULL);
		cairo_surface_t *s = draw_raster(c, pg, err);
		bool ok = s && cp_png_write(s, path, c->oo.dpi, err);
		cairo_surface_destroy(s);
		g_free(path);
		g_free(name);
		if (!ok)
			return false;
		break;
	}
	case OUT_PREVIEW:
		/* Kept until the run ends: written only if it ends well. */
		if (c->preview)
			return true;
		c->preview = draw_raster(c, pg, err);
		if (!c->preview)
			return false;
		break;
	}
	c->pages++;
	return true;
}

int cli_render(int argc, char **argv)
{
	enum { OPT_OFFSET = 256, OPT_SCALE, OPT_PRINTER, OPT_PRINTERS_DIR, OPT_DPI, OPT_ROW,
	       OPT_CERT, OPT_SKIP, OPT_REJECTS, OPT_FONT_DIR, OPT_SYMLINK };
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
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *org = NULL, *out = NULL, *tpl = NULL, *printer = NULL,
		   *printers_dir = NULL, *rejects = NULL, *font_dir = NULL;
	const char *offset = NULL, *scale = NULL;
	bool allow_symlink = false, quiet = false;
	render_ctx c = {0};
	cp_output_opts_init(&c.oo);
	int ch;
	long v;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "O:o:t:m:qh", longopts, NULL)) != -1) {
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
	cp_error *err = NULL;
	if (printer && !cp_printer_load(printer, printers_dir, &c.oo, &err))
		return cli_fail(err);
	if (offset && !cli_parse_pair(offset, &c.oo.offset_x_mm, &c.oo.offset_y_mm))
		return cli_usage_error("render", _("--offset takes X,Y in millimetres, e.g. 1.5,-0.5"));
	if (scale && (!cli_parse_pair(scale, &c.oo.scale_x, &c.oo.scale_y) ||
	              c.oo.scale_x < 0.9 || c.oo.scale_x > 1.1 || c.oo.scale_y < 0.9 || c.oo.scale_y > 1.1))
		return cli_usage_error("render", _("--scale takes SX,SY between 0.9 and 1.1"));
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

	cli_install_signals();
	char *def_tpl = cli_data_path("templates/certificate.conf");
	char *def_rejects = NULL;
	cli_batch_opts bo = {
		.csv = argv[optind], .org = org, .font_dir = font_dir,
		.template_path = tpl ? tpl : def_tpl,
	};
	cli_batch b = {0};
	c.b = &b;
	int status = 2;
	const char *inputs[] = {argv[optind], org, bo.template_path, NULL};
	if (!cli_batch_open(&b, &bo, &err))
		goto out;
	/* An existing output is replaced (atomically), like cc -o; an input never. */
	unsigned flags = CP_ATOMIC_REPLACE | (allow_symlink ? CP_ATOMIC_FOLLOW_SYMLINK : 0);
	if (!cp_atomic_check_output(out, inputs, flags, &err))
		goto out;
	if (c.skip_invalid && !rejects)
		rejects = def_rejects = g_strdup_printf("%s.rejects.csv", out);
	if (rejects) {
		size_t nh;
		const char *const *hdr = cp_reader_header(b.reader, &nh);
		if (!cp_atomic_check_output(rejects, inputs, CP_ATOMIC_REPLACE, &err))
			goto out;
		c.rejects = cp_rejects_open(rejects, hdr, nh, &err);
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
		c.pdf = cp_pdf_writer_new(out, cp_template_page_width_mm(b.tpl),
		                          cp_template_page_height_mm(b.tpl), &info, &err);
		g_free(subject);
		if (!c.pdf)
			goto out;
	} else if (c.kind == OUT_DIR) {
		c.dir = cp_atomic_dir_open(out, flags, &err);
		if (!c.dir)
			goto out;
	}

	if (!cli_batch_run(&b, on_record, &c, _("rendering"), &err))
		goto out;

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
	if (c.rejects) {
		bool ok = cp_rejects_close(c.rejects, &err);
		c.rejects = NULL;
		if (!ok)
			goto out;
	}
	if (c.pdf) {
		bool ok = cp_pdf_writer_commit(c.pdf, &err);
		c.pdf = NULL;
		if (!ok)
			goto out;
	}
	if (c.dir) {
		bool ok = cp_atomic_dir_commit(c.dir, &err);
		c.dir = NULL;
		if (!ok)
			goto out;
	}
	if (c.preview && !cp_png_write(c.preview, out, c.oo.dpi, &err))
		goto out;
	if (!quiet)
		fprintf(stderr, g_dngettext(CP_TEXTDOMAIN, "certpress: wrote %ld certificate to %s\n",
		                            "certpress: wrote %ld certificates to %s\n", c.pages),
		        c.pages, out);
	status = c.refused_any ? 1 : 0;
	if (c.refused_any && rejects && !quiet)
		fprintf(stderr, _("certpress: refused rows written to %s\n"), rejects);
out:
	cp_pdf_writer_abort(c.pdf);
	cp_atomic_dir_abort(c.dir);
	cp_rejects_abort(c.rejects);
	if (c.preview)
		cairo_surface_destroy(c.preview);
	cli_batch_close(&b);
	g_free(def_tpl);
	g_free(def_rejects);
	if (err)
		status = cli_fail(err);
	return status;
}
