/* SPDX-License-Identifier: MIT */
/* `certpress ledger …`: the print ledger from the command line (第十八条).
 * argv[0] is "ledger", argv[1] the action. Reissues are printed through
 * `certpress render --reissue REASON`, which uses the same ledger API. */
#include <getopt.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certpress.h"
#include "cli/cli.h"
#include "error.h"
#include "i18n.h"

/* Options every action takes. */
typedef struct common {
	const char *ledger;
	const char *operator_name;
	int busy_ms;
} common;

enum { OPT_LEDGER = 1000, OPT_OPERATOR, OPT_BUSY, OPT_HELP };

#define COMMON_OPTIONS \
	{"ledger", required_argument, NULL, OPT_LEDGER}, \
	{"operator", required_argument, NULL, OPT_OPERATOR}, \
	{"busy-timeout", required_argument, NULL, OPT_BUSY}, \
	{"help", no_argument, NULL, OPT_HELP}

static const char common_help[] = N_(
	"  --ledger FILE         the ledger (default $XDG_DATA_HOME/certpress/ledger.sqlite)\n"
	"  --operator NAME       who records the entry (default $USER)\n"
	"  --busy-timeout SECS   wait this long for another writer (default 60)\n"
	"  --help                show this help\n");

static int usage_error(const char *action, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(const char *action, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "certpress ledger%s%s: %s\n", action ? " " : "", action ? action : "", m);
	if (action)
		fprintf(stderr, _("Try 'certpress ledger %s --help'.\n"), action);
	else
		fputs(_("Try 'certpress ledger --help'.\n"), stderr);
	g_free(m);
	return 2;
}

static int report_error(cp_error *err)
{
	char *m = cp_error_format(err);
	fprintf(stderr, "certpress ledger: %s\n", m);
	g_free(m);
	int rc = cp_error_exit_status(err);
	cp_error_free(err);
	return rc;
}

/* Returns 1 when c was a common option, 0 when not, -1 on a bad value. */
static int common_opt(int c, const char *arg, common *co, const char *action)
{
	switch (c) {
	case OPT_LEDGER:
		co->ledger = arg;
		return 1;
	case OPT_OPERATOR:
		co->operator_name = arg;
		return 1;
	case OPT_BUSY: {
		char *end = NULL;
		double s = g_ascii_strtod(arg, &end);
		if (!end || *end || end == arg || !(s >= 0 && s <= 86400)) {
			usage_error(action, _("--busy-timeout takes seconds from 0 to 86400, not '%s'"),
			            arg);
			return -1;
		}
		co->busy_ms = (int)(s * 1000);
		return 1;
	}
	default:
		return 0;
	}
}

/* Reading actions never create a ledger: a missing file is more likely a
 * wrong --ledger than an empty history. */
static cp_ledger *open_existing(const common *co, cp_error **err)
{
	char *path = co->ledger ? g_strdup(co->ledger) : cp_ledger_default_path();
	/* a server's ledger: opening it says whether it was made */
	bool exists = cp_ledger_is_server(path) || g_file_test(path, G_FILE_TEST_EXISTS);
	if (!exists)
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL,
		             _("there is no ledger here (nothing was recorded yet?); "
		               "--ledger FILE reads another one"));
	g_free(path);
	return exists ? cp_ledger_open(co->ledger, co->busy_ms, err) : NULL;
}

static cp_ledger *open_ledger(const common *co, cp_error **err)
{
	cp_ledger *l = cp_ledger_open(co->ledger, co->busy_ms, err);
	if (l)
		cp_ledger_set_operator(l, co->operator_name);
	return l;
}

/* What the actions' own options set; each action lists those it takes. */
typedef struct args {
	const char *from, *to, *date, *note, *serial, *reason, *cert_no, *out;
	bool json, csv;
} args;

#define OPT_FROM {"from", required_argument, NULL, 'f'}
#define OPT_TO {"to", required_argument, NULL, 't'}
#define OPT_DATE {"date", required_argument, NULL, 'd'}
#define OPT_NOTE {"note", required_argument, NULL, 'n'}
#define OPT_SERIAL {"serial", required_argument, NULL, 's'}
#define OPT_REASON {"reason", required_argument, NULL, 'r'}
#define OPT_CERT_NO {"cert-no", required_argument, NULL, 'c'}
#define OPT_OUTPUT {"output", required_argument, NULL, 'o'}
#define OPT_JSON {"json", no_argument, NULL, 'j'}
#define OPT_CSV {"csv", no_argument, NULL, 'C'}

static void take_opt(int c, const char *arg, args *a)
{
	switch (c) {
	case 'f': a->from = arg; break;
	case 't': a->to = arg; break;
	case 'd': a->date = arg; break;
	case 'n': a->note = arg; break;
	case 's': a->serial = arg; break;
	case 'r': a->reason = arg; break;
	case 'c': a->cert_no = arg; break;
	case 'o': a->out = arg; break;
	case 'j': a->json = true; break;
	case 'C': a->csv = true; break;
	}
}

/* Parses argv for one action into a. opts lists the action's own options
 * followed by COMMON_OPTIONS. Returns -1 to go on, or the exit status (help
 * printed: 0). */

static int parse(int argc, char **argv, const char *action, const char *help,
                 const struct option *opts, args *a, common *co)
{
	/* optind = 0 makes GNU getopt start over for each action. */
	optind = 0;
	opterr = 0;
	/* Only -o has a short form (as in other tools); ':' first reports a
	 * missing value apart from an unknown option. */
	const char *shorts = ":";
	for (const struct option *o = opts; o->name; o++)
		if (o->val == 'o')
			shorts = ":o:";
	int c, rc = -1;
	while (rc < 0 && (c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(help, stdout);
			fputs(_(common_help), stdout);
			rc = 0;
		} else if (c == '?') {
			rc = usage_error(action, _("unknown option '%s'"), argv[optind - 1]);
		} else if (c == ':') {
			rc = usage_error(action, _("option '%s' needs a value"), argv[optind - 1]);
		} else {
			int r = common_opt(c, optarg, co, action);
			if (r < 0)
				rc = 2;
			else if (r == 0)
				take_opt(c, optarg, a);
		}
	}
	return rc;
}

/* parse() for an action that takes no other argument. */
static int parse_all(int argc, char **argv, const char *action, const char *help,
                     const struct option *opts, args *a, common *co)
{
	int rc = parse(argc, argv, action, help, opts, a, co);
	if (rc < 0 && optind < argc)
		rc = usage_error(action, _("unexpected argument '%s'"), argv[optind]);
	return rc;
}

/* ------------------------------------------------------------ stock add */

static int do_stock(int argc, char **argv, common *co)
{
	static const struct option opts[] = {
		OPT_FROM, OPT_TO, OPT_DATE, OPT_NOTE, COMMON_OPTIONS, {NULL, 0, NULL, 0},
	};
	const char *help = _("Usage: certpress ledger stock add --from SERIAL --to SERIAL "
	                     "[--date YYYY-MM-DD] [--note TEXT]\n"
	                     "Records blank certificate stock received (证书印制流水码 FROM to TO).\n");
	if (argc < 2 || strcmp(argv[1], "add") != 0) {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			fputs(help, stdout);
			fputs(_(common_help), stdout);
			return 0;
		}
		return usage_error("stock", _("the only stock action is 'add'"));
	}
	args a = {0};
	int rc = parse_all(argc - 1, argv + 1, "stock add", help, opts, &a, co);
	if (rc >= 0)
		return rc;
	if (!a.from || !a.to)
		return usage_error("stock add", _("--from and --to are required"));
	cp_error *err = NULL;
	cp_ledger *l = open_ledger(co, &err);
	int64_t n = 0;
	if (!l || !cp_ledger_stock_add(l, a.from, a.to, a.date, a.note, &n, &err)) {
		cp_ledger_free(l);
		return report_error(err);
	}
	printf(_("recorded %" PRId64 " sheets of stock, %s to %s\n"), n, a.from, a.to);
	cp_ledger_free(l);
	return 0;
}

/* ---------------------------------------- spoil, destroy, revoke: one form */

static const struct option sheet_opts[] = {
	OPT_SERIAL, OPT_FROM, OPT_TO, OPT_REASON, OPT_CERT_NO, COMMON_OPTIONS, {NULL, 0, NULL, 0},
};

static int do_sheet(int argc, char **argv, common *co)
{
	const char *action = argv[0];
	const char *help;
	if (strcmp(action, "spoil") == 0)
		help = _("Usage: certpress ledger spoil --serial SERIAL --reason TEXT "
		         "[--cert-no NUMBER]\n"
		         "Records a spoiled sheet (misfeed, smudge). The certificate printed on it\n"
		         "may then be printed again without becoming a reissue. A sheet printed\n"
		         "without a serial is named by --cert-no alone.\n");
	else if (strcmp(action, "destroy") == 0)
		help = _("Usage: certpress ledger destroy (--serial SERIAL | --from SERIAL --to SERIAL) "
		         "--reason TEXT\n"
		         "Records destruction of blank, spoiled or returned sheets (all or none).\n");
	else
		help = _("Usage: certpress ledger revoke --cert-no NUMBER --reason TEXT\n"
		         "Revokes a certificate (第二十四条); it can never be printed again.\n");
	args a = {0};
	int rc = parse_all(argc, argv, action, help, sheet_opts, &a, co);
	if (rc >= 0)
		return rc;
	if (!a.reason)
		return usage_error(action, _("--reason is required"));
	bool spoil = strcmp(action, "spoil") == 0, destroy = strcmp(action, "destroy") == 0;
	if (spoil && (a.from || a.to || (!a.serial && !a.cert_no)))
		return usage_error(action, _("give --serial (and optionally --cert-no)"));
	if (destroy && (a.cert_no || !a.serial == !(a.from && a.to) || (!a.from != !a.to) ||
	                (a.serial && a.from)))
		return usage_error(action, _("give either --serial or both --from and --to"));
	if (!spoil && !destroy && (!a.cert_no || a.serial || a.from || a.to))
		return usage_error(action, _("give --cert-no and --reason"));

	cp_error *err = NULL;
	cp_ledger *l = open_ledger(co, &err);
	int64_t n = 0;
	bool ok = l != NULL;
	if (ok && spoil)
		ok = cp_ledger_spoil(l, a.serial, a.cert_no, a.reason, &err);
	else if (ok && destroy)
		ok = cp_ledger_destroy(l, a.serial ? a.serial : a.from, a.serial ? NULL : a.to,
		                       a.reason, &n, &err);
	else if (ok)
		ok = cp_ledger_revoke(l, a.cert_no, a.reason, &err);
	cp_ledger_free(l);
	if (!ok)
		return report_error(err);
	if (spoil)
		printf(_("recorded spoiled sheet %s\n"), a.serial ? a.serial : a.cert_no);
	else if (destroy)
		printf(_("recorded destruction of %" PRId64 " sheets\n"), n);
	else
		printf(_("revoked certificate %s\n"), a.cert_no);
	return 0;
}

/* --------------------------------------------------------------- report */

static int do_report(int argc, char **argv, common *co)
{
	static const struct option opts[] = {
		OPT_FROM, OPT_TO, OPT_JSON, COMMON_OPTIONS, {NULL, 0, NULL, 0},
	};
	const char *help = _("Usage: certpress ledger report [--from YYYY-MM-DD] [--to YYYY-MM-DD] "
	                     "[--json]\n"
	                     "Activity in the period, every batch in it, and the stock balance\n"
	                     "(received = issued + returned + spoiled + destroyed + remaining) at its end.\n");
	args a = {0};
	int rc = parse_all(argc, argv, "report", help, opts, &a, co);
	if (rc >= 0)
		return rc;
	cp_error *err = NULL;
	cp_ledger *l = open_existing(co, &err);
	char *text = l ? cp_ledger_report(l, a.from, a.to, a.json, &err) : NULL;
	cp_ledger_free(l);
	if (!text)
		return report_error(err);
	fputs(text, stdout);
	g_free(text);
	return 0;
}

static int do_init(int argc, char **argv, common *co)
{
	static const struct option opts[] = {COMMON_OPTIONS, {NULL, 0, NULL, 0}};
	const char *help = _("Usage: certpress ledger init --ledger WHERE\n"
	                     "Makes the ledger's tables, or brings them up to this version: in a\n"
	                     "PostgreSQL database (WHERE: postgresql://HOST/DB or host=… dbname=…;\n"
	                     "needs the right to create tables; stations then need only SELECT and\n"
	                     "INSERT), or in a new SQLite file. Every --ledger takes either.\n");
	args a = {0};
	int rc = parse_all(argc, argv, "init", help, opts, &a, co);
	if (rc >= 0)
		return rc;
	cp_error *err = NULL;
	cp_ledger *l = cp_ledger_init(co->ledger, co->busy_ms, &err);
	if (!l)
		return report_error(err);
	printf(_("the ledger is ready: %s\n"), cp_ledger_path(l));
	cp_ledger_free(l);
	return 0;
}

static int do_migrate(int argc, char **argv, common *co)
{
	static const struct option opts[] = {
		OPT_FROM, OPT_TO, COMMON_OPTIONS, {NULL, 0, NULL, 0},
	};
	const char *help = _("Usage: certpress ledger migrate --from LEDGER --to LEDGER\n"
	                     "Moves every entry of one ledger into a new, empty one (an SQLite file\n"
	                     "into a PostgreSQL database: --to postgresql://HOST/DB), in one\n"
	                     "transaction kept only when the export and the balance read the same.\n");
	args a = {0};
	int rc = parse_all(argc, argv, "migrate", help, opts, &a, co);
	if (rc >= 0)
		return rc;
	if (!a.from || !a.to)
		return usage_error("migrate", _("--from and --to are required"));
	cp_error *err = NULL;
	common src = *co;
	src.ledger = a.from;
	cp_ledger *from = open_existing(&src, &err);
	cp_ledger *to = from ? cp_ledger_init(a.to, co->busy_ms, &err) : NULL;
	int64_t n = 0;
	bool ok = to && cp_ledger_migrate(from, to, &n, &err);
	if (ok)
		printf(_("moved %" PRId64 " entries from %s to %s; the export and the balance "
		         "match\n"),
		       n, cp_ledger_path(from), cp_ledger_path(to));
	cp_ledger_free(to);
	cp_ledger_free(from);
	return ok ? 0 : report_error(err);
}

static int do_show(int argc, char **argv, common *co)
{
	static const struct option opts[] = {COMMON_OPTIONS, {NULL, 0, NULL, 0}};
	const char *help = _("Usage: certpress ledger show CERT_NO\n"
	                     "The whole history of one certificate: prints, reissues, spoiled\n"
	                     "and destroyed sheets, revocation.\n");
	args a = {0};
	int rc = parse(argc, argv, "show", help, opts, &a, co);
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return usage_error("show", _("give exactly one certificate number"));
	cp_error *err = NULL;
	cp_ledger *l = open_existing(co, &err);
	char *text = l ? cp_ledger_history(l, argv[optind], &err) : NULL;
	cp_ledger_free(l);
	if (!text)
		return report_error(err);
	fputs(text, stdout);
	g_free(text);
	return 0;
}

static int do_export(int argc, char **argv, common *co)
{
	static const struct option opts[] = {
		OPT_CSV, OPT_OUTPUT, COMMON_OPTIONS, {NULL, 0, NULL, 0},
	};
	const char *help = _("Usage: certpress ledger export --csv [-o FILE]\n"
	                     "Every entry as CSV for auditors (UTF-8 with BOM). With -o the file\n"
	                     "is written atomically and readable by its owner only.\n");
	args a = {0};
	int rc = parse_all(argc, argv, "export", help, opts, &a, co);
	if (rc >= 0)
		return rc;
	if (!a.csv)
		return usage_error("export", _("choose the format: --csv"));
	cp_error *err = NULL;
	cp_ledger *l = open_existing(co, &err);
	bool ok = l && (a.out && strcmp(a.out, "-") != 0 ? cp_ledger_export_csv_file(l, a.out, &err)
	                                                 : cp_ledger_export_csv(l, stdout, &err));
	cp_ledger_free(l);
	if (ok && fflush(stdout) != 0) {
		cp_set_error(&err, CP_E_IO, NULL, 0, 0, NULL, _("cannot write to standard output"));
		ok = false;
	}
	return ok ? 0 : report_error(err);
}

static int do_backup(int argc, char **argv, common *co)
{
	static const struct option opts[] = {
		OPT_OUTPUT, COMMON_OPTIONS, {NULL, 0, NULL, 0},
	};
	const char *help = _("Usage: certpress ledger backup -o FILE\n"
	                     "A consistent copy of the ledger (SQLite online backup), safe while\n"
	                     "others print; open it with --ledger FILE to restore or inspect.\n");
	args a = {0};
	int rc = parse_all(argc, argv, "backup", help, opts, &a, co);
	if (rc >= 0)
		return rc;
	if (!a.out)
		return usage_error("backup", _("-o FILE is required"));
	cp_error *err = NULL;
	cp_ledger *l = open_existing(co, &err);
	bool ok = l && cp_ledger_backup(l, a.out, &err);
	cp_ledger_free(l);
	if (!ok)
		return report_error(err);
	printf(_("backed up to %s\n"), a.out);
	return 0;
}

/* ----------------------------------------------------------------- entry */

static const struct action {
	const char *name;
	int (*run)(int argc, char **argv, common *co);
	const char *summary;
} actions[] = {
	{"init", do_init, N_("init                        make the ledger's tables (PostgreSQL)")},
	{"stock", do_stock, N_("stock add --from S --to S   record blank stock received")},
	{"spoil", do_sheet, N_("spoil --serial S --reason R record a spoiled sheet")},
	{"destroy", do_sheet, N_("destroy --serial S | --from S --to S --reason R")},
	{"revoke", do_sheet, N_("revoke --cert-no C --reason R (第二十四条)")},
	{"report", do_report, N_("report [--from D --to D] [--json]  balance and batches")},
	{"show", do_show, N_("show CERT_NO                history of one certificate")},
	{"export", do_export, N_("export --csv [-o FILE]      every entry for auditors")},
	{"migrate", do_migrate, N_("migrate --from FILE --to URI  move a ledger to PostgreSQL")},
	{"backup", do_backup, N_("backup -o FILE              consistent copy of the ledger")},
};

static void ledger_help(FILE *f)
{
	fputs(_("Usage: certpress ledger ACTION [OPTIONS]\n"
	        "The print ledger (第十八条): stock, prints, spoiled sheets, reissues,\n"
	        "destruction and revocation. Actions:\n"),
	      f);
	for (size_t i = 0; i < G_N_ELEMENTS(actions); i++)
		fprintf(f, "  %s\n", _(actions[i].summary));
	fputs(_("Reissues (第十七条) are printed with 'certpress render --reissue REASON'.\n"
	        "Each action takes --help. Exit status: 0 done, 1 refused by the ledger,\n"
	        "2 usage or environment error.\n"),
	      f);
}

int cli_ledger(int argc, char **argv)
{
	if (argc < 2) {
		ledger_help(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		ledger_help(stdout);
		return 0;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(actions); i++)
		if (strcmp(argv[1], actions[i].name) == 0) {
			common co = {.busy_ms = -1};
			return actions[i].run(argc - 1, argv + 1, &co);
		}
	return usage_error(NULL, _("unknown action '%s'"), argv[1]);
}
