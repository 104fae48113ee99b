/* SPDX-License-Identifier: MIT */
/* certpress reprint: a sheet spoiled in the printer, printed again in one
 * command. The ledger says which batch (and so which input file) the
 * certificate came from; the file is checked against the SHA-256 the batch
 * recorded, and the same record is rendered again (kind "reprint", on the
 * next blank sheet when sheets are numbered from the stock) by `certpress
 * render` on exactly that file. The order: the new sheet is drawn into a
 * temporary file; the spoiled sheet and the new one are recorded in one
 * ledger transaction (cp_ledger_batch_spoil()); the PDF is put in place;
 * the transaction commits; then it is printed (-d). A render that fails, or
 * a process killed on the way, records nothing. */
#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "error.h"
#include "i18n.h"

/* The option both commands take beyond the shared text. */
static void help_input(void)
{
	printf(_("      --input FILE        the batch's CSV file, when the batch was read from a\n"
	         "                          pipe or the file was moved: it must have the\n"
	         "                          SHA-256 the batch recorded\n"));
}

static void help(void)
{
	printf(_("Usage: certpress reprint CERT_NO... --reason R --org PROFILE -o OUT.pdf [OPTIONS]\n"
	         "       certpress reprint --batch NAME --pages 17,18 --reason R --org PROFILE -o OUT.pdf\n"
	         "Record the sheets a certificate was spoiled on and print the same\n"
	         "certificate again, from the input file of the batch that printed it (the\n"
	         "ledger keeps its path and SHA-256: a file that changed or is gone is refused).\n\n"
	         "Options:\n"
	         "      --spoiled SERIAL[,…] the spoiled sheets, one per certificate (default: the\n"
	         "                          sheet the ledger says each was printed on)\n"
	         "      --reason R          why the sheet is spoiled (required)\n"
	         "      --org PROFILE       the organization profile (required)\n"
	         "  -o, --output FILE       the PDF of the new sheets (default with -d:\n"
	         "                          reprint-CERT_NO.pdf)\n"
	         "  -d, --dest DEST         print it at once (CUPS queue or ipp:// URI)\n"
	         "      --batch NAME        with --pages: the pages of this batch\n"
	         "      --pages LIST        page numbers of the batch's PDF, e.g. 17,18\n"
	         "  -t, --template FILE     the template (default: the batch's, unchanged)\n"
	         "      --printer NAME      printer profile (default: the batch's)\n"
	         "      --printers-dir DIR  where printer profiles live\n"
	         "      --ledger FILE       the print ledger\n"
	         "      --operator NAME     operator recorded in the ledger (default $USER)\n"
	         "  -q, --quiet             only errors\n"
	         "  -h, --help              show this help\n"));
	help_input();
}

static void help_reissue(void)
{
	printf(_("Usage: certpress reissue CERT_NO... --reason R --org PROFILE -o OUT.pdf [OPTIONS]\n"
	         "Reissue a certificate that was lost or damaged (第十七条): the same certificate\n"
	         "number on the next blank sheet of the stock, recorded in the ledger as a\n"
	         "reissue with its reason. The record is taken from the input file of the\n"
	         "batch that printed the certificate (the ledger keeps its path and SHA-256: a\n"
	         "file that changed or is gone is refused). A certificate with wrong\n"
	         "information is reissued from the corrected file: certpress render --reissue R.\n\n"
	         "Options:\n"
	         "      --reason R          why it is reissued: lost, damaged … (required)\n"
	         "      --old-returned      the old certificate was taken back (收回)\n"
	         "      --org PROFILE       the organization profile (required)\n"
	         "  -o, --output FILE       the PDF of the new sheets (default with -d:\n"
	         "                          reissue-CERT_NO.pdf)\n"
	         "  -d, --dest DEST         print it at once (CUPS queue or ipp:// URI)\n"
	         "  -t, --template FILE     the template (default: the batch's, unchanged)\n"
	         "      --printer NAME      printer profile (default: the batch's)\n"
	         "      --printers-dir DIR  where printer profiles live\n"
	         "      --ledger FILE       the print ledger\n"
	         "      --operator NAME     operator recorded in the ledger (default $USER)\n"
	         "  -q, --quiet             only errors\n"
	         "  -h, --help              show this help\n"));
	help_input();
}

/* A cell as the reader gives it, blanks trimmed at both ends. */
static bool same_number(const char *cell, const char *want)
{
	if (!cell)
		return false;
	char *t = g_strstrip(g_strdup(cell));
	bool same = strcmp(t, want) == 0;
	g_free(t);
	return same;
}

/* The rows of `input` holding the numbers of src[] ("5,9"), or NULL with
 * *err naming the first number not found. The file must not give serials:
 * the spoiled sheet's serial would be printed again. */
static char *rows_of(const char *input, cp_ledger_source *src, size_t n, cp_error **err)
{
	cp_reader *r = cp_reader_open(input, err);
	if (!r)
		return NULL;
	if (cp_reader_column(r, CP_FIELD_PRINT_SERIAL)) {
		cp_set_error(err, CP_E_USAGE, input, 0, 0, NULL,
		             _("the file gives the stock serials (column %s): the spoiled sheet's "
		               "serial would be printed again; print it with render and a corrected "
		               "serial"),
		             cp_reader_column(r, CP_FIELD_PRINT_SERIAL));
		cp_reader_free(r);
		return NULL;
	}
	long *row = g_new0(long, n);
	cp_record rec = {0};
	int k;
	while ((k = cp_reader_next(r, &rec, err)) == 1) {
		for (size_t i = 0; i < n; i++)
			if (!row[i] && same_number(rec.raw[CP_FIELD_CERT_NO], src[i].cert_no))
				row[i] = rec.row;
		cp_record_clear(&rec);
	}
	cp_record_clear(&rec);
	cp_reader_free(r);
	GString *g = NULL;
	if (k == 0) {
		g = g_string_new(NULL);
		for (size_t i = 0; i < n && g; i++) {
			if (!row[i]) {
				cp_set_error(err, CP_E_USAGE, input, 0, 0, NULL,
				             _("certificate number %s is not in the file"), src[i].cert_no);
				g_string_free(g, TRUE);
				g = NULL;
				break;
			}
			g_string_append_printf(g, "%s%ld", i ? "," : "", row[i]);
		}
	}
	g_free(row);
	return g ? g_string_free(g, FALSE) : NULL;
}

/* The batch's input file (or `given`, --input FILE) is there and holds the
 * data the batch was printed from: sets *input to the file to read. */
static bool check_input(const cp_ledger_source *s, const char *given, const char **input,
                        cp_error **err)
{
	if (!s->input) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("batch %s was recorded before the ledger kept its input file; print "
		               "certificate %s again with render --cert-no from the CSV"),
		             s->batch, s->cert_no);
		return false;
	}
	/* An input with no checksum in a ledger that keeps inputs was a pipe
	 * or FIFO read before their data was hashed. */
	if (!s->input_sha256) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("batch %s was read from a pipe (%s) and no checksum of what came "
		               "through it was recorded, so no file can be checked against it; print "
		               "certificate %s again with render --cert-no from the CSV"),
		             s->batch, s->input, s->cert_no);
		return false;
	}
	struct stat st;
	if (!given && stat(s->input, &st) == 0 && !S_ISREG(st.st_mode)) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("batch %s was read from a pipe (%s): what came through it cannot be "
		               "read again; give the CSV file with --input FILE, which must have the "
		               "SHA-256 the batch recorded (%s); nothing was recorded or printed"),
		             s->batch, s->input, s->input_sha256);
		return false;
	}
	if (!given && !g_file_test(s->input, G_FILE_TEST_EXISTS)) {
		cp_set_error(err, CP_E_USAGE, s->input, 0, 0, NULL,
		             _("the input file of batch %s is gone; if it was moved, give it with "
		               "--input FILE (checked against the SHA-256 the batch recorded); nothing "
		               "was recorded or printed"),
		             s->batch);
		return false;
	}
	const char *path = given ? given : s->input;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, "--input",
		             _("not a regular file: give the CSV file itself, whose SHA-256 is "
		               "checked against the batch's"));
		return false;
	}
	char *sha = cli_file_sha256(path, err);
	if (!sha)
		return false;
	bool same = g_ascii_strcasecmp(sha, s->input_sha256) == 0;
	if (!same && given)
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
		             _("this is not the input of batch %s: its SHA-256 is %s, the batch "
		               "recorded %s; nothing was recorded or printed"),
		             s->batch, sha, s->input_sha256);
	else if (!same)
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
		             _("the input file changed since batch %s was printed (SHA-256 %s then, "
		               "%s now); nothing was recorded or printed"),
		             s->batch, s->input_sha256, sha);
	g_free(sha);
	if (same)
		*input = path;
	return same;
}

/* Without -t: the template the batch was laid out with, unchanged. */
static bool check_template(const cp_ledger_source *s, const char **tpl, cp_error **err)
{
	if (!s->template_path)
		return true; /* not recorded: the installed one, as render does */
	char *sha = g_file_test(s->template_path, G_FILE_TEST_IS_REGULAR)
	                ? cli_file_sha256(s->template_path, err)
	                : NULL;
	bool same = sha && g_ascii_strcasecmp(sha, s->template_sha256) == 0;
	if (!same && !(err && *err))
		cp_set_error(err, CP_E_USAGE, s->template_path, 0, 0, NULL,
		             _("the template batch %s was laid out with is gone or changed; give "
		               "-t TEMPLATE to lay the certificate out with another one; nothing was "
		               "recorded or printed"),
		             s->batch);
	g_free(sha);
	if (same)
		*tpl = s->template_path;
	return same;
}

/* reprint (a spoiled sheet, printed again) and reissue (第十七条: lost or
 * damaged, the same number on a new sheet) share everything but what the
 * ledger records. */
static int reprint_main(int argc, char **argv, bool reissue)
{
	const char *cmd = reissue ? "reissue" : "reprint";
	enum { OPT_SPOILED = 256, OPT_REASON, OPT_BATCH, OPT_PAGES, OPT_PRINTER, OPT_PRINTERS_DIR,
	       OPT_LEDGER, OPT_OPERATOR, OPT_OLD_RETURNED, OPT_INPUT };
	static const struct option longopts[] = {
		{"spoiled", required_argument, NULL, OPT_SPOILED},
		{"reason", required_argument, NULL, OPT_REASON},
		{"org", required_argument, NULL, 'O'},
		{"output", required_argument, NULL, 'o'},
		{"dest", required_argument, NULL, 'd'},
		{"batch", required_argument, NULL, OPT_BATCH},
		{"pages", required_argument, NULL, OPT_PAGES},
		{"template", required_argument, NULL, 't'},
		{"printer", required_argument, NULL, OPT_PRINTER},
		{"printers-dir", required_argument, NULL, OPT_PRINTERS_DIR},
		{"ledger", required_argument, NULL, OPT_LEDGER},
		{"operator", required_argument, NULL, OPT_OPERATOR},
		{"old-returned", no_argument, NULL, OPT_OLD_RETURNED},
		{"input", required_argument, NULL, OPT_INPUT},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *spoiled = NULL, *reason = NULL, *org = NULL, *out = NULL, *dest = NULL,
	           *batch = NULL, *pages = NULL, *tpl = NULL, *printer = NULL, *pdir = NULL,
	           *ledger_path = NULL, *operator_name = NULL, *given_input = NULL,
	           *input = NULL;
	bool quiet = false, old_returned = false, seen[CLI_OPT_SEEN] = {0};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "O:o:d:t:qh", longopts, NULL)) != -1) {
		if (ch != '?' && ch != 'h' && !cli_opt_once(longopts, ch, seen))
			return cli_usage_error(cmd, _("%s is given twice; give it once"),
			                       cli_opt_name(longopts, ch));
		switch (ch) {
		case OPT_SPOILED: spoiled = optarg; break;
		case OPT_REASON: reason = optarg; break;
		case 'O': org = optarg; break;
		case 'o': out = optarg; break;
		case 'd': dest = optarg; break;
		case OPT_BATCH: batch = optarg; break;
		case OPT_PAGES: pages = optarg; break;
		case 't': tpl = optarg; break;
		case OPT_PRINTER: printer = optarg; break;
		case OPT_PRINTERS_DIR: pdir = optarg; break;
		case OPT_LEDGER: ledger_path = optarg; break;
		case OPT_OPERATOR: operator_name = optarg; break;
		case OPT_OLD_RETURNED: old_returned = true; break;
		case OPT_INPUT: given_input = optarg; break;
		case 'q': quiet = true; break;
		case 'h':
			if (reissue)
				help_reissue();
			else
				help();
			return 0;
		default: return cli_usage_error(cmd, _("unknown option"));
		}
	}
	if (reissue && spoiled)
		return cli_usage_error(cmd, _("a reissue spoils no sheet: --spoiled is for "
		                              "'certpress reprint'"));
	if (!reissue && old_returned)
		return cli_usage_error(cmd, _("--old-returned is for 'certpress reissue' (the "
		                              "holder's old certificate taken back)"));
	int ncert = argc - optind;
	if ((!reason || !*reason) && reissue)
		return cli_usage_error(cmd, _("--reason R is required: why is it reissued (lost, "
		                              "damaged …)?"));
	if (!reason || !*reason)
		return cli_usage_error(cmd, _("--reason R is required: why was the sheet spoiled?"));
	if (!org)
		return cli_usage_error(cmd, _("--org PROFILE is required"));
	if (!!batch != !!pages)
		return cli_usage_error(cmd, _("--batch and --pages go together"));
	if ((ncert > 0) == (batch != NULL))
		return cli_usage_error(cmd, _("name the certificates: CERT_NO… or --batch NAME --pages LIST"));
	if (!out && !dest)
		return cli_usage_error(cmd, _("-o OUT.pdf or -d DEST is required"));

	/* The targets: numbers given, or the pages of a batch. */
	GPtrArray *targets = g_ptr_array_new();
	if (pages) {
		char **p = g_strsplit(pages, ",", -1);
		for (char **q = p; *q; q++) {
			long v;
			if (!cli_parse_long(g_strstrip(*q), 1, 10000000, &v)) {
				g_strfreev(p);
				g_ptr_array_free(targets, TRUE);
				return cli_usage_error(cmd, _("--pages takes page numbers, e.g. 17,18"));
			}
			g_ptr_array_add(targets, GSIZE_TO_POINTER((gsize)v));
		}
		g_strfreev(p);
	}
	size_t n = pages ? targets->len : (size_t)ncert;
	char **serials = spoiled ? g_strsplit(spoiled, ",", -1) : NULL;
	if (serials && g_strv_length(serials) != n) {
		g_strfreev(serials);
		g_ptr_array_free(targets, TRUE);
		return cli_usage_error(cmd, _("--spoiled gives one serial per certificate (%zu)"), n);
	}

	cp_error *err = NULL;
	int status = 2;
	cp_ledger_source *src = g_new0(cp_ledger_source, n);
	char *lpath = ledger_path ? g_strdup(ledger_path) : cp_ledger_default_path();
	char *rows = NULL, *def_out = NULL;
	cli_spoil *spoil = NULL;
	cp_ledger *l = cp_ledger_open(lpath, -1, &err);
	if (!l)
		goto out;
	cp_ledger_set_operator(l, operator_name);
	for (size_t i = 0; i < n; i++) {
		if (!cp_ledger_source_of(l, pages ? NULL : argv[optind + i], batch,
		                         pages ? (int)GPOINTER_TO_SIZE(targets->pdata[i]) : 0, &src[i],
		                         &err))
			goto out;
		if (serials && src[i].serial && strcmp(g_strstrip(serials[i]), src[i].serial) != 0) {
			cp_set_error(&err, CP_E_USAGE, lpath, 0, 0, NULL,
			             _("certificate %s was printed on sheet %s, not %s: name the sheet "
			               "the ledger recorded"),
			             src[i].cert_no, src[i].serial, serials[i]);
			goto out;
		}
		/* A revoked number is never printed again (第二十四条): said here,
		 * plainly, before anything is drawn. */
		cp_ledger_state state;
		char *why = NULL;
		if (!cp_ledger_cert_state(l, src[i].cert_no, &state, &why, &err))
			goto out;
		if (state == CP_LEDGER_REVOKED) {
			cp_set_error(&err, CP_E_LEDGER, lpath, 0, 0, NULL,
			             _("certificate number %s was revoked (%s) and can never be "
			               "printed again (第二十四条); nothing was recorded or printed"),
			             src[i].cert_no, why ? why : "-");
			g_free(why);
			goto out;
		}
		g_free(why);
		if (i && g_strcmp0(src[i].input, src[0].input) != 0) {
			cp_set_error(&err, CP_E_USAGE, NULL, 0, 0, NULL,
			             _("certificates %s and %s come from different input files: reprint "
			               "them one batch at a time"),
			             src[0].cert_no, src[i].cert_no);
			goto out;
		}
	}
	if (!check_input(&src[0], given_input, &input, &err) ||
	    (!tpl && !check_template(&src[0], &tpl, &err)))
		goto out;
	rows = rows_of(input, src, n, &err);
	if (!rows)
		goto out;
	/* Everything checked. The spoiled sheets are recorded by render, in one
	 * ledger transaction with their new sheets, once these are drawn: a
	 * render that fails, or a process killed, records neither. */
	spoil = g_new0(cli_spoil, n);
	for (size_t i = 0; i < n && !reissue; i++) {
		const char *given = serials && *serials[i] ? g_strstrip(serials[i]) : NULL;
		spoil[i] = (cli_spoil){.serial = given ? given : src[i].serial,
		                       .cert_no = src[i].cert_no, .reason = reason};
	}
	cp_ledger_free(l);
	l = NULL;

	/* The same records again, from the same file, on the next sheets. */
	if (!out)
		out = def_out = g_strdup_printf("%s-%s.pdf", cmd, src[0].cert_no);
	const char *prof = printer ? printer : src[0].printer_profile;
	GPtrArray *a = g_ptr_array_new();
	const char *fixed[] = {"render", "--org", org, "--ledger", lpath, "--rows", rows,
	                       "--expect-sha256", src[0].input_sha256, "-o", out};
	for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++)
		g_ptr_array_add(a, (char *)fixed[i]);
#define OPT(name, v)                                                                         \
	do {                                                                                 \
		if (v) {                                                                     \
			g_ptr_array_add(a, (char *)(name));                                  \
			g_ptr_array_add(a, (char *)(v));                                     \
		}                                                                            \
	} while (0)
	OPT("--template", tpl);
	OPT("--printer", prof);
	OPT("--printers-dir", pdir);
	OPT("--operator", operator_name);
	OPT("--print", dest);
	OPT("--reissue", reissue ? reason : NULL);
#undef OPT
	if (reissue && old_returned)
		g_ptr_array_add(a, "--old-returned");
	if (quiet)
		g_ptr_array_add(a, "-q");
	g_ptr_array_add(a, (char *)input);
	int ac = (int)a->len;
	g_ptr_array_add(a, NULL);
	bool recorded = false;
	status = cli_render_spoiling(ac, (char **)a->pdata, spoil, reissue ? 0 : n, &recorded);
	if (status != 0 && !recorded && reissue)
		fprintf(stderr, _("certpress reissue: nothing was recorded in the ledger; run the "
		                  "same command again once the cause is fixed\n"));
	else if (status != 0 && !recorded)
		fprintf(stderr, _("certpress reprint: nothing was recorded in the ledger (a spoiled "
		                  "sheet is recorded only together with its new sheet); run the "
		                  "same command again once the cause is fixed\n"));
	else if (status != 0 && dest)
		fprintf(stderr, _("certpress: the new sheets are recorded in the ledger, and %s is "
		                  "written, but it was not printed: print it with 'certpress print "
		                  "-d %s %s'\n"),
		        out, dest, out);
	g_ptr_array_free(a, TRUE);
out:
	cp_ledger_free(l);
	for (size_t i = 0; i < n; i++)
		cp_ledger_source_clear(&src[i]);
	g_free(src);
	g_free(lpath);
	g_free(rows);
	g_free(def_out);
	g_free(spoil);
	g_strfreev(serials);
	g_ptr_array_free(targets, TRUE);
	if (err)
		status = cli_fail(err);
	return status;
}

int cli_reprint(int argc, char **argv)
{
	return reprint_main(argc, argv, false);
}

int cli_reissue(int argc, char **argv)
{
	return reprint_main(argc, argv, true);
}
