/* SPDX-License-Identifier: MIT */
#include "cli/cli_common.h"

#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <math.h>
#include <libintl.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "error.h"
#include "i18n.h"

volatile sig_atomic_t cli_interrupted = 0;

/* The first of the variables that is set and not empty, or NULL. */
static const char *first_set(const char *const *names)
{
	for (; *names; names++) {
		const char *v = getenv(*names);
		if (v && *v)
			return v;
	}
	return NULL;
}

static bool is_c_locale(const char *l)
{
	return strcmp(l, "C") == 0 || strcmp(l, "POSIX") == 0;
}

/* Messages follow the user's language even where its locale is not
 * generated (a plain Debian has only C.UTF-8): glibc then leaves every
 * category at "C", and its gettext ignores LANGUAGE while the message locale
 * is exactly "C". The built-in C.UTF-8 is not "C" (measured on glibc 2.36),
 * so the message category moves to it and LANGUAGE carries the language
 * asked for by LANG/LC_MESSAGES/LC_ALL when LANGUAGE itself is unset. A
 * locale asked for as C or POSIX keeps the untranslated messages (as
 * `LC_ALL=C command` always does). Runs before any thread starts. */
static void init_locale(void)
{
	static const char *const posix_vars[] = {"LC_ALL", "LC_MESSAGES", "LANG", NULL};
	static const char *const language_var[] = {"LANGUAGE", NULL};
	if (!setlocale(LC_ALL, "")) {
		/* One variable names a locale that is not there: take each
		 * category that can be had. */
		static const int cats[] = {LC_CTYPE, LC_NUMERIC, LC_TIME, LC_COLLATE,
		                           LC_MONETARY, LC_MESSAGES};
		for (size_t i = 0; i < G_N_ELEMENTS(cats); i++)
			setlocale(cats[i], "");
	}
	const char *posix = first_set(posix_vars);
	const char *language = first_set(language_var);
	const char *msgs = setlocale(LC_MESSAGES, NULL);
	if ((posix && is_c_locale(posix)) || !msgs || strcmp(msgs, "C") != 0)
		return;
	const char *want = language ? language : posix;
	if (!want || is_c_locale(want))
		return;
	if (!setlocale(LC_MESSAGES, "C.UTF-8"))
		return;
	const char *ctype = setlocale(LC_CTYPE, NULL);
	if (ctype && strcmp(ctype, "C") == 0)
		setlocale(LC_CTYPE, "C.UTF-8");
	if (!language)
		setenv("LANGUAGE", want, 1);
}

void cli_init_i18n(void)
{
	init_locale();
	bindtextdomain(CP_TEXTDOMAIN, cp_localedir());
	bind_textdomain_codeset(CP_TEXTDOMAIN, "UTF-8");
	textdomain(CP_TEXTDOMAIN);
}

const char *cli_datadir(void)
{
	return cp_datadir();
}

char *cli_data_path(const char *rel)
{
	return g_build_filename(cli_datadir(), rel, NULL);
}

int cli_fail(cp_error *err)
{
	char *m = cp_error_format(err);
	fprintf(stderr, "certpress: %s\n", m);
	g_free(m);
	int st = cp_error_exit_status(err);
	cp_error_free(err);
	return st ? st : 2;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "certpress %s: %s\n", cmd, m);
	fprintf(stderr, _("Try 'certpress %s --help'.\n"), cmd);
	g_free(m);
	return 2;
}

bool cli_parse_pair(const char *s, double *x, double *y)
{
	char *end;
	errno = 0;
	double a = g_ascii_strtod(s, &end);
	if (end == s || errno)
		return false;
	while (*end == ' ')
		end++;
	if (*end != ',' && *end != 'x' && *end != ' ')
		return false;
	s = end + 1;
	double b = g_ascii_strtod(s, &end);
	if (end == s || errno || *end)
		return false;
	if (!isfinite(a) || !isfinite(b))
		return false;
	*x = a;
	*y = b;
	return true;
}

bool cli_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static int cmp_range(const void *a, const void *b)
{
	const cli_row_range *x = a, *y = b;
	return (x->first > y->first) - (x->first < y->first);
}

static bool parse_row(const char *s, const char *end, long *out)
{
	while (s < end && *s == ' ')
		s++;
	while (end > s && end[-1] == ' ')
		end--;
	if (s == end || end - s > 12)
		return false;
	char buf[16];
	memcpy(buf, s, (size_t)(end - s));
	buf[end - s] = '\0';
	for (const char *p = buf; *p; p++)
		if (!g_ascii_isdigit(*p))
			return false;
	return cli_parse_long(buf, 2, CLI_ROW_MAX, out);
}

bool cli_rows_parse(const char *s, cli_rows *rows, const char **why)
{
	cli_rows_clear(rows);
	*why = _("give spreadsheet rows (2 or more; row 1 is the header) as a list of rows "
	         "and ranges, e.g. 5-10,12");
	GArray *a = g_array_new(FALSE, FALSE, sizeof(cli_row_range));
	const char *p = s;
	for (;;) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *dash = memchr(p, '-', (size_t)(end - p));
		cli_row_range r;
		if (!parse_row(p, dash ? dash : end, &r.first) ||
		    !parse_row(dash ? dash + 1 : p, end, &r.last))
			goto bad;
		if (r.last < r.first) {
			*why = _("a range of rows runs from the smaller to the larger, e.g. 5-10");
			goto bad;
		}
		g_array_append_val(a, r);
		if (!comma)
			break;
		p = comma + 1;
	}
	qsort(a->data, a->len, sizeof(cli_row_range), cmp_range);
	rows->range = g_new(cli_row_range, a->len);
	for (guint i = 0; i < a->len; i++) {
		cli_row_range r = g_array_index(a, cli_row_range, i);
		cli_row_range *prev = rows->n ? &rows->range[rows->n - 1] : NULL;
		if (prev && r.first <= prev->last + 1) {
			if (r.last > prev->last)
				prev->last = r.last;
			continue;
		}
		rows->range[rows->n++] = r;
	}
	for (size_t i = 0; i < rows->n; i++)
		rows->count += rows->range[i].last - rows->range[i].first + 1;
	g_array_free(a, TRUE);
	return true;
bad:
	g_array_free(a, TRUE);
	return false;
}

bool cli_rows_has(const cli_rows *rows, long row)
{
	size_t lo = 0, hi = rows->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (row < rows->range[mid].first)
			hi = mid;
		else if (row > rows->range[mid].last)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

void cli_rows_clear(cli_rows *rows)
{
	g_free(rows->range);
	memset(rows, 0, sizeof *rows);
}

bool cli_opt_once(const struct option *longopts, int ch, bool seen[CLI_OPT_SEEN])
{
	if (ch < 0 || ch >= CLI_OPT_SEEN)
		return true;
	bool takes_value = false;
	for (const struct option *o = longopts; o->name; o++)
		if (o->val == ch && !o->flag)
			takes_value = o->has_arg != no_argument;
	if (!takes_value)
		return true;
	if (seen[ch])
		return false;
	seen[ch] = true;
	return true;
}

const char *cli_opt_name(const struct option *longopts, int ch)
{
	static char buf[80];
	for (const struct option *o = longopts; o->name; o++)
		if (o->val == ch && !o->flag) {
			g_snprintf(buf, sizeof buf, "--%s", o->name);
			return buf;
		}
	g_snprintf(buf, sizeof buf, "-%c", ch);
	return buf;
}

bool cli_same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	char *ca = g_canonicalize_filename(a, NULL);
	char *cb = g_canonicalize_filename(b, NULL);
	bool same = strcmp(ca, cb) == 0;
	g_free(ca);
	g_free(cb);
	return same;
}

char *cli_file_sha256(const char *path, cp_error **err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot read the file: %s"),
		             g_strerror(e));
		return NULL;
	}
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	unsigned char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		g_checksum_update(ck, buf, n);
	bool bad = ferror(f);
	int e = errno;
	fclose(f);
	char *hex = bad ? NULL : g_strdup(g_checksum_get_string(ck));
	g_checksum_free(ck);
	if (bad)
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot read the file: %s"),
		             g_strerror(e));
	return hex;
}

static void on_signal(int sig)
{
	if (cli_interrupted) {
		/* Second signal: the loop did not get there in time. */
		cp_atomic_cleanup_all();
		_exit(130);
	}
	cli_interrupted = sig;
}

void cli_notice(const char *message)
{
	fprintf(stderr, _("certpress: note: %s\n"), message);
}

void cli_install_signals(void)
{
	cp_atomic_install_signal_handlers(on_signal);
}

void cli_progress_start(cli_progress *p, const char *what, long total)
{
	memset(p, 0, sizeof *p);
	p->on = isatty(STDERR_FILENO) && !g_getenv("CERTPRESS_NO_PROGRESS");
	p->total = total;
	p->what = what;
	p->start = p->last = g_get_monotonic_time() / 1e6;
}

void cli_progress_step(cli_progress *p)
{
	p->done++;
	if (!p->on)
		return;
	double now = g_get_monotonic_time() / 1e6;
	if (now - p->last < 0.1 && p->done != p->total)
		return;
	p->last = now;
	double el = now - p->start;
	double rate = el > 0 ? p->done / el : 0;
	double left = -1;
	if (p->total > 0 && rate > 0)
		left = (p->total - p->done) / rate;
	else if (p->fraction > 0.01)
		left = el * (1 - p->fraction) / p->fraction;
	fputc('\r', stderr);
	if (p->total > 0 && rate > 0)
		fprintf(stderr, _("%s: %ld/%ld, %.0f/s, %.0f s left   "), p->what,
		        p->done, p->total, rate, left);
	else if (left >= 0)
		fprintf(stderr, _("%s: %ld, %.0f/s, about %.0f s left   "), p->what,
		        p->done, rate, left);
	else
		fprintf(stderr, _("%s: %ld, %.0f/s   "), p->what, p->done, rate);
	fflush(stderr);
}

void cli_progress_end(cli_progress *p)
{
	if (p->on && p->done > 0)
		fputc('\n', stderr);
}

void cli_test_pause(const char *point)
{
	const char *at = g_getenv("CERTPRESS_TEST_PAUSE_AT");
	const char *fifo = g_getenv("CERTPRESS_TEST_PAUSE_FIFO");
	if (!at || !fifo || strcmp(at, point) != 0)
		return;
	FILE *f = fopen(fifo, "w");
	if (f) {
		fprintf(f, "%s\n", point);
		fclose(f);
	}
	for (;;)
		pause();
}
