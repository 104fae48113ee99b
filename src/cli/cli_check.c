/* SPDX-License-Identifier: MIT */
/* certpress check: every problem of a batch, by row, column and rule, before
 * anything is printed. */
#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "atomic.h"
#include "cli/cli.h"
#include "cli/cli_batch.h"
#include "cli/cli_common.h"
#include "error.h"
#include "i18n.h"
#include "output/report.h"

static void help(void)
{
	printf(_("Usage: certpress check --org PROFILE [OPTIONS] DATA.csv\n"
	         "Check every record of a batch against the rules of the certificate\n"
	         "(fields, certificate number, ID number, level, date, scope, photo) and,\n"
	         "unless --no-layout, lay each one out on the template so that text that\n"
	         "does not fit and characters no font has are found before printing.\n\n"
	         "Options:\n"
	         "  -O, --org FILE        organization profile (required)\n"
	         "  -t, --template FILE   template to lay records out on\n"
	         "                        (default: the reference certificate)\n"
	         "      --no-layout       check the rules only, do not lay out\n"
	         "      --font-dir DIR    the organization's own fonts, ahead of the defaults\n"
	         "      --sheet NAME      of a workbook (.xlsx, .xls), the sheet to read\n"
	         "                        (default: the first)\n"
	         "  -j, --jobs N          threads that lay the records out (default: one per\n"
	         "                        processor; not with --html); every N gives the\n"
	         "                        same report\n"
	         "      --json            write the report as JSON on standard output\n"
	         "      --rejects FILE    write the refused rows with a reason column (CSV)\n"
	         "      --html FILE       write an HTML report with a thumbnail of each\n"
	         "                        valid certificate and the reasons for each refusal\n"
	         "  -q, --quiet           no human report on standard error\n"
	         "  -h, --help            show this help\n\n"
	         "The human report goes to standard error: one line per problem, then a\n"
	         "summary. Exit status: 0 every record valid (warnings allowed), 1 some\n"
	         "record refused, 2 usage or environment error.\n"));
}

/* Print resolution: what the operator proofreads is what the printer gets. */
#define CLI_CUTOUT_DPI 300

typedef struct check_ctx {
	cli_batch *b;
	cp_rejects *rejects;
	cp_html *html;
	cp_output_opts thumb;
} check_ctx;

static bool on_record(void *ud, cp_record *rec, cp_page *pg, cp_problems *row,
                      bool *still_valid, cp_error **err)
{
	check_ctx *c = ud;
	if (!*still_valid && c->rejects && !cp_rejects_add(c->rejects, rec, row, err))
		return false;
	if (c->html) {
		unsigned char *png = NULL;
		size_t png_len = 0;
		if (pg && !cli_thumbnail(c->b, pg, &c->thumb, &png, &png_len, err))
			return false;
		/* The name, and any field in a fallback face, as printed. */
		if (pg && !cli_cutouts(c->b, pg, CLI_CUTOUT_DPI, c->html, err)) {
			g_free(png);
			return false;
		}
		bool ok = cp_html_add(c->html, rec, *still_valid, row, png, png_len, err);
		g_free(png);
		if (!ok)
			return false;
	}
	return true;
}

/* ---------------------------------------- laid out by the worker threads */

/* The records are checked by this thread, in row order; the workers lay
 * them out (nothing is drawn) and this thread reports each in row order:
 * the same problems as one thread finds, in the same order. */
static bool pool_admit(void *ud, cli_item *it, cp_error **err)
{
	(void)ud;
	(void)err;
	it->draw = false;
	return true;
}

static bool pool_settle(void *ud, cli_item *it, bool *still_valid, cp_error **err)
{
	return on_record(ud, &it->rec, NULL, &it->row, still_valid, err);
}

static const cli_pool_ops check_ops = {
	.admit = pool_admit,
	.settle = pool_settle,
};

int cli_check(int argc, char **argv)
{
	enum { OPT_NO_LAYOUT = 256, OPT_FONT_DIR, OPT_JSON, OPT_REJECTS, OPT_HTML, OPT_SHEET };
	static const struct option longopts[] = {
		{"org", required_argument, NULL, 'O'},
		{"template", required_argument, NULL, 't'},
		{"no-layout", no_argument, NULL, OPT_NO_LAYOUT},
		{"font-dir", required_argument, NULL, OPT_FONT_DIR},
		{"json", no_argument, NULL, OPT_JSON},
		{"rejects", required_argument, NULL, OPT_REJECTS},
		{"html", required_argument, NULL, OPT_HTML},
		{"sheet", required_argument, NULL, OPT_SHEET},
		{"jobs", required_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *org = NULL, *tpl = NULL, *font_dir = NULL, *rejects = NULL, *html = NULL, *sheet = NULL;
	bool no_layout = false, json = false, quiet = false, jobs_given = false;
	int jobs = cli_pool_default_workers();
	long v;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "O:t:j:qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'O': org = optarg; break;
		case 't': tpl = optarg; break;
		case OPT_NO_LAYOUT: no_layout = true; break;
		case OPT_FONT_DIR: font_dir = optarg; break;
		case OPT_JSON: json = true; break;
		case OPT_REJECTS: rejects = optarg; break;
		case OPT_HTML: html = optarg; break;
		case OPT_SHEET: sheet = optarg; break;
		case 'j':
			if (!cli_parse_long(optarg, 1, CLI_POOL_MAX_WORKERS, &v))
				return cli_usage_error("check", _("--jobs must be a whole number from 1 to %d"),
				                       CLI_POOL_MAX_WORKERS);
			jobs = (int)v;
			jobs_given = true;
			break;
		case 'q': quiet = true; break;
		case 'h': help(); return 0;
		default: return cli_usage_error("check", _("unknown option"));
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("check", _("expected exactly one CSV file"));
	if (!org)
		return cli_usage_error("check", _("--org PROFILE is required"));
	if (no_layout && (tpl || html))
		return cli_usage_error("check", _("--no-layout cannot go with --template or --html"));
	if (jobs_given && (no_layout || html))
		return cli_usage_error("check", _("--jobs lays records out on threads: not with "
		                                  "--no-layout or --html"));
	/* The HTML report draws each valid record's thumbnail from its page,
	 * on this thread; without layout there is nothing for workers to do. */
	bool pool = !no_layout && !html;

	cli_install_signals();
	char *def_tpl = cli_data_path("templates/certificate.conf");
	cli_batch_opts bo = {
		.csv = argv[optind], .sheet = sheet, .org = org, .font_dir = font_dir,
		.template_path = no_layout ? NULL : tpl ? tpl : def_tpl,
		.workers_lay_out = pool,
		.warm = pool ? jobs : 0,
	};
	cli_batch b = {0};
	check_ctx ctx = {.b = &b};
	cp_output_opts_init(&ctx.thumb);
	ctx.thumb.dpi = 40;
	cp_error *err = NULL;
	int status = 2;
	if (!cli_batch_open(&b, &bo, &err))
		goto out;
	/* The template too: --html over it would replace it with a report. */
	const char *inputs[] = {argv[optind], org, bo.template_path, NULL};
	/* Each is renamed into place on its own: the second would replace the
	 * first. */
	if (rejects && html && cli_same_file(rejects, html)) {
		cp_set_error(&err, CP_E_USAGE, html, 0, 0, NULL,
		             _("the HTML report is the rejects file %s"), rejects);
		goto out;
	}
	if (rejects) {
		ctx.rejects = cli_batch_rejects_open(&b, rejects, inputs, &err);
		if (!ctx.rejects)
			goto out;
	}
	if (html) {
		if (!cp_atomic_check_target(html, inputs, 0, &err))
			goto out;
		ctx.html = cp_html_open(html, &err);
		if (!ctx.html)
			goto out;
	}
	b.decode_in_workers = true; /* the same report, in row order (settle) */
	if (pool ? !cli_batch_run_pool(&b, &check_ops, &ctx, jobs, _("checking"), &err)
	         : !cli_batch_run(&b, on_record, &ctx, _("checking"), &err))
		goto out;

	cp_report_summary sum = {
		.records = b.records, .valid = b.valid, .refused = b.refused,
		.warnings = b.warnings, .csv_path = argv[optind],
		.encoding = cp_reader_encoding(b.reader),
		.header_row = cp_reader_header_row(b.reader),
	};
	if (ctx.rejects) {
		bool ok = cp_rejects_close(ctx.rejects, &err);
		ctx.rejects = NULL;
		if (!ok)
			goto out;
	}
	if (ctx.html) {
		bool ok = cp_html_close(ctx.html, &sum, &err);
		ctx.html = NULL;
		if (!ok)
			goto out;
	}
	if (!quiet)
		cp_report_text(stderr, &b.problems, &sum);
	if (json && !cp_report_json(stdout, &b.problems, &sum, &err))
		goto out;
	status = b.refused > 0 ? 1 : 0;
out:
	cp_rejects_abort(ctx.rejects);
	cp_html_abort(ctx.html);
	cli_batch_close(&b);
	g_free(def_tpl);
	if (err)
		status = cli_fail(err);
	return status;
}
