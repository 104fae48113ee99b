/* SPDX-License-Identifier: MIT */
/* certpress serve: the options of the web console (console.h). */
#include <getopt.h>
#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	         "      --lang zh|en        the language of the messages the page shows\n"
	         "                          (checks, refusals, jobs; default: the\n"
	         "                          environment's, as every command)\n"
	         "  -h, --help              show this help\n"),
	       UPLOAD_LIMIT_MIB);
}

/* --lang: the messages the library writes for the page (a check's reasons,
 * a job's log) in that language, whatever the server's environment says.
 * gettext follows LANGUAGE unless the message locale is exactly "C" (as in
 * cli_common.c's init_locale()); set before any thread starts. */
static bool set_language(const char *lang)
{
	if (strcmp(lang, "zh") == 0) {
		const char *msgs = setlocale(LC_MESSAGES, NULL);
		if ((!msgs || strcmp(msgs, "C") == 0 || strcmp(msgs, "POSIX") == 0) &&
		    !setlocale(LC_MESSAGES, "C.UTF-8"))
			return false;
		return setenv("LANGUAGE", "zh_CN", 1) == 0;
	}
	if (strcmp(lang, "en") == 0)
		return setenv("LANGUAGE", "en", 1) == 0;
	return false;
}

int cli_serve(int argc, char **argv)
{
	enum { OPT_FONT_DIR = 256, OPT_SHEET, OPT_UPLOAD_LIMIT, OPT_LEDGER, OPT_PRINTERS_DIR,
	       OPT_OUTPUT_DIR, OPT_LANG };
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
		{"lang", required_argument, NULL, OPT_LANG},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	console_opts o = {.upload_limit = (size_t)UPLOAD_LIMIT_MIB << 20};
	const char *lang = NULL;
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
		case OPT_LANG:
			if (strcmp(optarg, "zh") != 0 && strcmp(optarg, "en") != 0)
				return cli_usage_error("serve", _("--lang is zh or en"));
			lang = optarg;
			break;
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
	if (lang && !set_language(lang))
		return cli_usage_error("serve", _("the messages cannot be set to --lang %s here"),
		                       lang);
	char *def_tpl = cli_data_path("templates/certificate.conf");
	if (!o.template_path)
		o.template_path = def_tpl;
	int status = console_run(&o);
	g_free(def_tpl);
	return status;
}
