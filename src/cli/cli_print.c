/* SPDX-License-Identifier: MIT */
/* certpress print: a PDF that render wrote, to a printer at actual size,
 * followed until the printer says the job completed, and recorded in the
 * ledger with the batch it holds. */
#include "cli/cli_print.h"

#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "error.h"
#include "i18n.h"
#include "output/ipp.h"

static void help(void)
{
	printf(_("Usage: certpress print -d DEST [OPTIONS] FILE.pdf\n"
	         "Send a PDF written by 'certpress render' to a printer, at actual size on A4\n"
	         "(print-scaling none, one-sided), and follow the job until the printer has\n"
	         "completed it. DEST is a CUPS queue or a printer URI (ipp://HOST/ipp/print,\n"
	         "ipps://…); a URI is reached directly, without a local CUPS server. The job,\n"
	         "its id and how it ended are recorded in the ledger with the file's batch.\n\n"
	         "Options:\n"
	         "  -d, --dest DEST         the printer (required)\n"
	         "  -n, --copies N          copies of every page (default 1)\n"
	         "      --printer NAME      the printer profile the PDF was rendered with,\n"
	         "                          recorded with the job\n"
	         "      --printers-dir DIR  where printer profiles live\n"
	         "      --batch NAME        the ledger batch the file holds (default: the\n"
	         "                          latest batch written to FILE)\n"
	         "      --ledger FILE       the print ledger (default\n"
	         "                          ~/.local/share/certpress/ledger.sqlite)\n"
	         "      --no-ledger         record nothing (a proof)\n"
	         "      --operator NAME     operator recorded in the ledger (default $USER)\n"
	         "  -q, --quiet             no progress on standard error\n"
	         "  -h, --help              show this help\n\n"
	         "Exit status: 0 printed, 2 not printed (printer unreachable, job refused,\n"
	         "canceled or aborted) or usage error, 130 interrupted.\n"));
}

char *cli_print_dest_profile(const char *dest, const char *dir)
{
	char *name = cp_ipp_dest_profile_name(dest);
	if (!name)
		return NULL;
	cp_error *e = NULL;
	char *path = cp_printer_path(name, dir, &e);
	cp_error_free(e);
	bool have = path && g_file_test(path, G_FILE_TEST_IS_REGULAR);
	g_free(path);
	if (!have) {
		g_free(name);
		return NULL;
	}
	return name;
}

static void show(void *ud, const char *line)
{
	fprintf(stderr, "certpress print: %s\n", line);
}

int cli_print_send(const cli_print_job *j)
{
	bool talk = !j->quiet && !g_getenv("CERTPRESS_NO_PROGRESS");
	cp_print_opts o = {
		.dest = j->dest,
		.copies = j->copies,
		.cancel = &cli_interrupted,
		.progress = talk ? show : NULL,
	};
	cp_print_result res;
	cp_error *err = NULL;
	bool ok = cp_ipp_print(&o, j->file, &res, &err);
	if (j->ledger) {
		char *msg = err ? cp_error_format(err) : NULL;
		char *abs = g_canonicalize_filename(j->file, NULL);
		cp_ledger_job lj = {
			.batch = j->batch, .file = abs, .dest = j->dest, .profile = j->profile,
			.copies = j->copies, .job_id = res.job_id,
			.state = cp_print_state_name(res.state), .message = msg,
		};
		cp_error *le = NULL;
		bool recorded = cp_ledger_job_add(j->ledger, &lj, &le);
		g_free(abs);
		if (!recorded) {
			char *m = cp_error_format(le);
			fprintf(stderr, _("certpress: the print job could not be recorded in the ledger: %s\n"), m);
			g_free(m);
			cp_error_free(le);
			if (ok) {
				cp_print_result_clear(&res);
				return 2;
			}
		}
		free(msg);
	}
	int status = 0;
	if (ok) {
		if (!j->quiet)
			fprintf(stderr, g_dngettext(CP_TEXTDOMAIN,
			                            "certpress: printed %s on %s (job %d, %d copy)\n",
			                            "certpress: printed %s on %s (job %d, %d copies)\n",
			                            j->copies),
			        j->file, j->dest, res.job_id, j->copies);
	} else {
		status = cli_fail(err);
	}
	cp_print_result_clear(&res);
	return status;
}

int cli_print(int argc, char **argv)
{
	enum { OPT_PRINTER = 256, OPT_PRINTERS_DIR, OPT_BATCH, OPT_LEDGER, OPT_NO_LEDGER,
	       OPT_OPERATOR };
	static const struct option longopts[] = {
		{"dest", required_argument, NULL, 'd'},
		{"copies", required_argument, NULL, 'n'},
		{"printer", required_argument, NULL, OPT_PRINTER},
		{"printers-dir", required_argument, NULL, OPT_PRINTERS_DIR},
		{"batch", required_argument, NULL, OPT_BATCH},
		{"ledger", required_argument, NULL, OPT_LEDGER},
		{"no-ledger", no_argument, NULL, OPT_NO_LEDGER},
		{"operator", required_argument, NULL, OPT_OPERATOR},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dest = NULL, *printer = NULL, *printers_dir = NULL, *batch = NULL,
		   *ledger_path = NULL, *operator_name = NULL;
	bool no_ledger = false, quiet = false;
	long copies = 0;
	int ch;
	bool seen[CLI_OPT_SEEN] = {0};
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:n:qh", longopts, NULL)) != -1) {
		if (!cli_opt_once(longopts, ch, seen))
			return cli_usage_error("print", _("%s is given twice; give it once"),
			                       cli_opt_name(longopts, ch));
		switch (ch) {
		case 'd': dest = optarg; break;
		case 'n':
			if (!cli_parse_long(optarg, 1, 999, &copies))
				return cli_usage_error("print", _("--copies must be a whole number from 1 to 999"));
			break;
		case OPT_PRINTER: printer = optarg; break;
		case OPT_PRINTERS_DIR: printers_dir = optarg; break;
		case OPT_BATCH: batch = optarg; break;
		case OPT_LEDGER: ledger_path = optarg; break;
		case OPT_NO_LEDGER: no_ledger = true; break;
		case OPT_OPERATOR: operator_name = optarg; break;
		case 'q': quiet = true; break;
		case 'h': help(); return 0;
		default: return cli_usage_error("print", _("unknown option"));
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("print", _("expected exactly one PDF file"));
	if (!dest)
		return cli_usage_error("print", _("-d DEST is required (a CUPS queue or an ipp:// URI)"));
	if (no_ledger && (ledger_path || batch || operator_name))
		return cli_usage_error("print", _("--no-ledger cannot go with --ledger, --batch or --operator"));
	const char *file = argv[optind];
	cp_error *err = NULL;
	if (printer) {
		cp_output_opts oo;
		cp_output_opts_init(&oo);
		if (!cp_printer_load(printer, printers_dir, &oo, &err))
			return cli_fail(err);
	} else if (!quiet) {
		char *auto_name = cli_print_dest_profile(dest, printers_dir);
		if (auto_name)
			fprintf(stderr, _("certpress print: note: printer profile '%s' exists for this "
			                  "printer; the PDF is printed as it was rendered (render with "
			                  "--printer %s, or 'render --print %s', to calibrate it)\n"),
			        auto_name, auto_name, dest);
		g_free(auto_name);
	}
	if (!g_file_test(file, G_FILE_TEST_IS_REGULAR)) {
		cp_set_error(&err, CP_E_IO, file, 0, 0, NULL, _("no such file"));
		return cli_fail(err);
	}
	cli_install_signals();
	cp_ledger *ledger = NULL;
	char *found = NULL;
	int status = 2;
	if (!no_ledger) {
		char *path = ledger_path ? g_strdup(ledger_path) : cp_ledger_default_path();
		ledger = cp_ledger_open(path, -1, &err);
		g_free(path);
		if (!ledger)
			goto out;
		cp_ledger_set_operator(ledger, operator_name);
		if (!batch) {
			if (!cp_ledger_batch_of_file(ledger, file, &found, &err))
				goto out;
			batch = found;
			if (!batch && !quiet)
				fprintf(stderr, _("certpress print: note: no batch of the ledger was written "
				                  "to %s; the job is recorded without one\n"),
				        file);
		}
	}
	cli_print_job j = {
		.dest = dest, .file = file, .copies = copies ? (int)copies : 1,
		.profile = printer, .batch = batch, .ledger = ledger, .quiet = quiet,
	};
	status = cli_print_send(&j);
out:
	cp_ledger_free(ledger);
	g_free(found);
	if (err)
		status = cli_fail(err);
	return status;
}
