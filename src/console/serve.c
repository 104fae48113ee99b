/* SPDX-License-Identifier: MIT */
/* certpress serve: the options of the web console (console.h). */
#include <getopt.h>
#include <glib.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "console/console.h"
#include "i18n.h"

#define UPLOAD_LIMIT_MIB 64

static void help(void)
{
	printf(_("Usage: certpress serve --org PROFILE [OPTIONS] [DATA.csv|DATA.xlsx]\n"
	         "A web console on this machine: load a batch, see every row's state and\n"
	         "reasons, preview each certificate and print in a browser. Listens on 127.0.0.1\n"
	         "only and prints one line with the address to open; the address carries\n"
	         "a random token without which nothing is served. SIGINT or SIGTERM stop\n"
	         "it and remove its uploads.\n\n"
	         "Options:\n"
	         "  -O, --org FILE          organization profile (required)\n"
	         "  -t, --template FILE     template to lay records out on\n"
	         "                          (default: the reference certificate)\n"
	         "      --font-dir DIR      the organization's own fonts, ahead of the defaults\n"
	         "      --sheet NAME        of a workbook given here, the sheet to read\n"
	         "  -p, --port N            the port (default 0: any free one)\n"
	         "      --upload-limit MIB  the largest upload (default %d MiB)\n"
	         "      --ledger FILE       the print ledger prints are recorded in\n"
	         "                          (default: as certpress render)\n"
	         "      --printers-dir DIR  where printer profiles live\n"
	         "      --output-dir DIR    where the PDFs printed and signed from the page are\n"
	         "                          kept, with a copy of each uploaded batch they came\n"
	         "                          from (the ledger points at them; default\n"
	         "                          ./certpress-output)\n"
	         "  -h, --help              show this help\n"),
	       UPLOAD_LIMIT_MIB);
}

int cli_serve(int argc, char **argv)
{
	enum { OPT_FONT_DIR = 256, OPT_SHEET, OPT_UPLOAD_LIMIT, OPT_LEDGER, OPT_PRINTERS_DIR, OPT_OUTPUT_DIR };
	static const struct option longopts[] = {
		{"org", required_argument, NULL, 'O'},
		{"template", required_argument, NULL, 't'},
		{"font-dir", required_argument, NULL, OPT_FONT_DIR},
		{"sheet", required_argument, NULL, OPT_SHEET},
		{"port", required_argument, NULL, 'p'},
		{"upload-limit", required_argument, NULL, OPT_UPLOAD_LIMIT},
		{"ledger", required_argument, NULL, OPT_LEDGER},
		{"printers-dir", required_argument, NULL, OPT_PRINTERS_DIR},
		{"output-dir", required_argument, NULL, OPT_OUTPUT_DIR},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	console_opts o = {.upload_limit = (size_t)UPLOAD_LIMIT_MIB << 20};
	bool seen[CLI_OPT_SEEN] = {0};
	long n;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "O:t:p:h", longopts, NULL)) != -1) {
		if (!cli_opt_once(longopts, ch, seen))
			return cli_usage_error("serve", _("%s is given twice; give it once"), cli_opt_name(longopts, ch));
		switch (ch) {
		case 'O': o.org = optarg; break;
		case 't': o.template_path = optarg; break;
		case OPT_FONT_DIR: o.font_dir = optarg; break;
		case OPT_SHEET: o.sheet = optarg; break;
		case OPT_LEDGER: o.ledger = optarg; break;
		case OPT_PRINTERS_DIR: o.printers_dir = optarg; break;
		case OPT_OUTPUT_DIR: o.output_dir = optarg; break;
		case 'p':
			if (!cli_parse_long(optarg, 0, 65535, &n))
				return cli_usage_error("serve", _("--port must be a number from 0 to 65535"));
			o.port = (unsigned)n;
			break;
		case OPT_UPLOAD_LIMIT:
			if (!cli_parse_long(optarg, 1, 4096, &n))
				return cli_usage_error("serve",
				                       _("--upload-limit must be a number of MiB from 1 to 4096"));
			o.upload_limit = (size_t)n << 20;
			break;
		case 'h': help(); return 0;
		default: return cli_usage_error("serve", _("unknown option"));
		}
	}
	if (argc - optind > 1)
		return cli_usage_error("serve", _("expected at most one data file"));
	if (!o.org)
		return cli_usage_error("serve", _("--org PROFILE is required"));
	if (o.sheet && optind == argc)
		return cli_usage_error("serve", _("--sheet needs a data file"));
	o.data = optind < argc ? argv[optind] : NULL;
	if (!o.output_dir)
		o.output_dir = "certpress-output";
	char *def_tpl = cli_data_path("templates/certificate.conf");
	if (!o.template_path)
		o.template_path = def_tpl;
	int status = console_run(&o);
	g_free(def_tpl);
	return status;
}
