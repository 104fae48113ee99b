/* SPDX-License-Identifier: MIT */
/*
 * The print ledger (第十八条): blank stock, prints, spoiled sheets, reissues,
 * destruction and revocation. This file holds the rules, once: what may be
 * issued, reissued, spoiled, destroyed or revoked, and the reports. Storing
 * and querying is a backend's (backend.h; sqlite.c).
 *
 * Why it is built the way it is:
 *  - Every write is one write transaction of the backend, its checks and its
 *    inserts together, so two processes can never both issue one number.
 *  - A print batch holds no lock while it is printed: checking its records
 *    only reads, its pages wait in a temporary file, and the batch is recorded in
 *    one short write transaction when it is prepared for commit (checked
 *    again there, under the lock). A station killed before that leaves
 *    nothing; one that loses a number to another station meanwhile is
 *    refused at that point with the number named, and records nothing.
 *  - Each table carries UNIQUE constraints (one print per serial, one spoil
 *    per sheet, one destruction per serial, one revocation per number) as a
 *    second guard behind the checks that give the readable refusals; an
 *    insert learns it lost from "ON CONFLICT DO NOTHING RETURNING".
 */
#include "ledger/ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "error.h"
#include "i18n.h"
#include "keyset.h"
#include "input/csv.h"
#include "ledger/backend.h"

struct cp_ledger {
	const cp_ledger_ops *ops;
	cp_ledger_db *db;
	char *path; /* as named to the user: a file, a connection without password */
	char *operator_name;
	cp_ledger_batch *batch; /* the open batch, or NULL */
};

/* A page added to the open batch, waiting to be recorded (in the batch's
 * spill file, read back one at a time when the batch is recorded). */
typedef struct pending_page {
	const char *cert_no, *name, *id_masked, *level, *occupation, *serial, *file, *sha256,
		*reason;
	const char *kind; /* what the check found: "issue", "reprint", "reissue" (static) */
	int64_t stock_id;
	int page;
	bool old_returned;
} pending_page;

struct cp_ledger_batch {
	cp_ledger *l;
	char *name;
	char *note;
	char *started_at;
	int64_t row;                 /* batch.id once recorded (prepared) */
	char *generation;            /* the ledger's generation before the first check */
	bool prepared;               /* the write transaction is open, everything in it */
	size_t count;
	GHashTable *certs;           /* cert_no → batch_cert: checked, not yet added */
	GHashTable *checked_serials; /* serial → cert_no, for those */
	cp_keyset *added;            /* cert_no: pages added (src/keyset.h) */
	GHashTable *added_serials;   /* serial → cert_no, for those */
	FILE *spill;                 /* pending pages, in the order added (see spill_page) */
	GStringChunk *strings;       /* the added serials and their numbers */
	int64_t next_stock;          /* cp_ledger_batch_next_serial(): the stock range */
	int64_t next_number;         /* and the sheet in it to try next; 0: not begun */
	char *auto_from;             /* named after this input file (no name given) */
	char *input, *input_sha256;  /* cp_ledger_batch_set_source() */
	char *printer_profile, *calibration;
	char *template_path, *template_sha256;
	GPtrArray *spoils;           /* batch_spoil: recorded first, by the prepare */
	GHashTable *ahead;           /* cert_no → cp_ledger_rows: CERT_STATE asked ahead */
};

/* A sheet to record as spoiled with the batch (cp_ledger_batch_spoil()). */
typedef struct batch_spoil {
	char *serial; /* or NULL: cert_no's sheet without a serial */
	char *cert_no;
	char *reason;
	int64_t print_id; /* the print on the sheet, as the snapshot saw it */
} batch_spoil;

static void batch_spoil_free(gpointer p)
{
	batch_spoil *sp = p;
	g_free(sp->serial);
	g_free(sp->cert_no);
	g_free(sp->reason);
	g_free(sp);
}

/* A number of the open batch checked and not yet added: what the check
 * found, so that adding the page does not query the ledger again. */
typedef struct batch_cert {
	const char *kind; /* "issue", "reprint" or "reissue" (static) */
	int64_t stock_id;
	char *serial;     /* the stock serial reserved, or NULL */
	bool reissue;     /* checked as a reissue (with a reason) */
	char cert[];      /* the number: the table's key */
} batch_cert;

static void batch_cert_free(gpointer p)
{
	batch_cert *c = p;
	g_free(c->serial);
	g_free(c);
}

/* ---------------------------------------------------------------- helpers */

/* Times of entries are stored in UTC with their offset, as
 * 2026-12-06T04:05:06+00:00. Ledgers written before that hold the recording
 * machine's local time with its offset (2026-12-06T12:05:06+08:00). Both name
 * one instant, so both are read alike: queries compare datetime(at), which
 * SQLite turns into UTC from either form ("YYYY-MM-DD HH:MM:SS"), and every
 * time shown is converted to the operator's time zone (TZ) by shown_time().
 * Dates (stock received_on, report periods) are calendar days of the
 * operator's time zone. */
static char *now_stamp(void)
{
	GDateTime *dt = g_date_time_new_now_utc();
	char *s = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S%:z");
	g_date_time_unref(dt);
	return s;
}

/* A stored time in the operator's time zone, with its offset; a value that
 * is not a time (never written by certpress) is shown as stored. g_free(). */
static char *shown_time(const char *stored)
{
	GDateTime *dt = stored ? g_date_time_new_from_iso8601(stored, NULL) : NULL;
	if (!dt)
		return g_strdup(stored ? stored : "");
	GDateTime *local = g_date_time_to_local(dt);
	char *s = local ? g_date_time_format(local, "%Y-%m-%dT%H:%M:%S%:z") : NULL;
	if (local)
		g_date_time_unref(local);
	g_date_time_unref(dt);
	return s ? s : g_strdup(stored);
}

/* The instant the operator's day `date` (YYYY-MM-DD, valid) starts, plus
 * `days` days, in UTC as datetime() writes it, to compare with datetime(at).
 * Past year 9999 (or before year 1): a bound later (earlier) than any time. */
static char *day_start_utc(const char *date, int days)
{
	GTimeZone *tz = g_time_zone_new_local();
	GDateTime *d = g_date_time_new(tz, atoi(date), atoi(date + 5), atoi(date + 8), 0, 0, 0);
	GDateTime *e = d ? g_date_time_add_days(d, days) : NULL;
	GDateTime *u = e ? g_date_time_to_utc(e) : NULL;
	char *s = u ? g_date_time_format(u, "%Y-%m-%d %H:%M:%S") : NULL;
	if (u)
		g_date_time_unref(u);
	if (e)
		g_date_time_unref(e);
	if (d)
		g_date_time_unref(d);
	g_time_zone_unref(tz);
	return s ? s : g_strdup(days > 0 ? "9999-12-31 23:59:59" : "0001-01-01 00:00:00");
}

static char *today(void)
{
	GDateTime *dt = g_date_time_new_now_local();
	char *s = g_date_time_format(dt, "%Y-%m-%d");
	g_date_time_unref(dt);
	return s;
}

/* Accepts exactly YYYY-MM-DD naming a real day, so that the string compares
 * correctly with the stored days (received_on) and day_start_utc() can read it. */
static bool valid_date(const char *s)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !g_ascii_isdigit(s[i]))
			return false;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	return y >= 1 && m >= 1 && m <= 12 && g_date_valid_dmy(d, m, y);
}

/* Text that goes into the ledger: valid UTF-8, bounded, no control
 * characters (they would break the CSV export and the report's columns). */
static bool check_text(const char *s, const char *what, bool required, cp_error **err)
{
	if (!s || !*s) {
		if (required)
			cp_set_error(err, CP_E_USAGE, NULL, 0, 0, what, _("a value is required"));
		return !required;
	}
	size_t n = strlen(s);
	if (n > CP_LEDGER_MAX_TEXT) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, what,
		             _("the value is longer than %d bytes"), CP_LEDGER_MAX_TEXT);
		return false;
	}
	if (!g_utf8_validate(s, (gssize)n, NULL)) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, what, _("the value is not valid UTF-8"));
		return false;
	}
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			cp_set_error(err, CP_E_USAGE, NULL, 0, 0, what,
			             _("the value contains a control character"));
			return false;
		}
	return true;
}

static bool check_cert_no(const char *s, cp_error **err)
{
	size_t n = s ? strlen(s) : 0;
	bool ok = n > 0 && n <= CP_LEDGER_MAX_CERT_NO;
	for (size_t i = 0; ok && i < n; i++)
		ok = g_ascii_isalnum(s[i]);
	if (!ok)
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, "cert_no",
		             _("a certificate number is 1 to %d letters and digits"),
		             CP_LEDGER_MAX_CERT_NO);
	return ok;
}

/* The ledger must never hold a whole ID number (第二十一条). cp_mask_id()
 * leaves at most the first and last 4 characters readable; anything with more
 * is refused without quoting it. */
static bool check_masked_id(const char *s, cp_error **err)
{
	if (!check_text(s, "id_masked", true, err))
		return false;
	size_t clear = 0;
	for (const char *p = s; *p; p = g_utf8_next_char(p))
		if (*p != '*')
			clear++;
	if (clear > 8) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, "id_masked",
		             _("the ID number is not masked; pass it through cp_mask_id()"));
		return false;
	}
	return true;
}

bool cp_serial_parse(const char *s, const char *what, cp_serial *out, cp_error **err)
{
	size_t n = s ? strlen(s) : 0, digits = 0;
	while (digits < n && g_ascii_isdigit(s[n - 1 - digits]))
		digits++;
	size_t plen = n - digits;
	bool ok = digits >= 1 && digits <= CP_LEDGER_MAX_DIGITS && plen <= CP_LEDGER_MAX_PREFIX;
	for (size_t i = 0; ok && i < plen; i++)
		ok = g_ascii_isalnum(s[i]) || s[i] == '-';
	if (!ok) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, what,
		             _("'%s' is not a stock serial (letters, then up to %d digits, "
		               "e.g. GD2026000001)"),
		             s ? s : "", CP_LEDGER_MAX_DIGITS);
		return false;
	}
	memcpy(out->prefix, s, plen);
	out->prefix[plen] = '\0';
	out->width = (int)digits;
	out->number = g_ascii_strtoll(s + plen, NULL, 10);
	return true;
}

char *cp_serial_format(const cp_serial *s, int64_t number)
{
	return g_strdup_printf("%s%0*" PRId64, s->prefix, s->width, number);
}

/* --------------------------------------------------------- backend access */

#define MAX_ARGS 20

/* Runs query q with arguments typed by `types` ('t' const char *, 'i'
 * int64_t, 'I' int64_t row id with 0 for none). */
static int args_of(cp_ledger_arg args[MAX_ARGS], const char *types, va_list ap)
{
	int n = 0;
	for (; types[n]; n++) {
		g_assert(n < MAX_ARGS);
		args[n].type = types[n];
		args[n].s = NULL;
		args[n].i = 0;
		if (types[n] == 't')
			args[n].s = va_arg(ap, const char *);
		else
			args[n].i = va_arg(ap, int64_t);
	}
	return n;
}

static cp_ledger_rows *qv(cp_ledger *l, cp_error **err, cp_ledger_query q, const char *types,
                          va_list ap)
{
	cp_ledger_arg args[MAX_ARGS];
	int n = args_of(args, types, ap);
	return l->ops->query(l->db, q, args, n, err);
}

/* Like q(), on a backend that pipelines (l->ops->send): the query is sent,
 * its answer read later with l->ops->receive(). */
static bool q_send(cp_ledger *l, cp_error **err, cp_ledger_query qq, const char *types, ...)
{
	cp_ledger_arg args[MAX_ARGS];
	va_list ap;
	va_start(ap, types);
	int n = args_of(args, types, ap);
	va_end(ap);
	return l->ops->send(l->db, qq, args, n, err);
}

static cp_ledger_rows *q(cp_ledger *l, cp_error **err, cp_ledger_query qq, const char *types,
                         ...)
{
	va_list ap;
	va_start(ap, types);
	cp_ledger_rows *r = qv(l, err, qq, types, ap);
	va_end(ap);
	return r;
}

/* 1 for a row, 0 when done, -1 on error (err set). */
static int step(cp_ledger *l, cp_ledger_rows *r, cp_error **err)
{
	return r ? l->ops->next(r, err) : -1;
}

static void done(cp_ledger *l, cp_ledger_rows *r)
{
	if (r)
		l->ops->done(r);
}

/* Column i of the current row; "" for NULL. */
static const char *col(cp_ledger *l, cp_ledger_rows *r, int i)
{
	const char *t = l->ops->text(r, i);
	return t ? t : "";
}

static bool col_null(cp_ledger *l, cp_ledger_rows *r, int i)
{
	return l->ops->text(r, i) == NULL;
}

static int64_t col_int(cp_ledger *l, cp_ledger_rows *r, int i)
{
	const char *t = l->ops->text(r, i);
	/* a boolean column reads as 't'/'f' from some backends */
	if (t && (*t == 't' || *t == 'f') && !t[1])
		return *t == 't';
	return t ? g_ascii_strtoll(t, NULL, 10) : 0;
}

/* Column i, a stored time, in the operator's time zone. g_free(). */
static char *col_time(cp_ledger *l, cp_ledger_rows *r, int i)
{
	return shown_time(l->ops->text(r, i));
}

/* Runs a query whose first column is an integer: 1 found (*out set), 0 no
 * row, -1 error. An INSERT … RETURNING id gives 0 when a unique constraint
 * refused the row. */
static int q_int(cp_ledger *l, int64_t *out, cp_error **err, cp_ledger_query qq,
                 const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	cp_ledger_rows *r = qv(l, err, qq, types, ap);
	va_end(ap);
	int found = step(l, r, err);
	if (found == 1)
		*out = col_int(l, r, 0);
	done(l, r);
	return found;
}

static bool batch_refuses(cp_ledger *l, cp_error **err)
{
	if (!l->batch)
		return false;
	cp_set_error(err, CP_E_USAGE, l->path, 0, 0, NULL,
	             _("a print batch is open on this ledger; commit or abort it first"));
	return true;
}

/* A write transaction: everything read afterwards stays true until commit. */
static bool begin_write(cp_ledger *l, cp_error **err)
{
	return !batch_refuses(l, err) && l->ops->begin(l->db, CP_LEDGER_TX_WRITE, err);
}

/* A read snapshot, so that a report's several queries see one moment. */
static bool begin_read(cp_ledger *l, cp_error **err)
{
	return !batch_refuses(l, err) && l->ops->begin(l->db, CP_LEDGER_TX_READ, err);
}

static void rollback(cp_ledger *l)
{
	l->ops->rollback(l->db);
}

static bool commit(cp_ledger *l, cp_error **err)
{
	return l->ops->commit(l->db, err);
}

/* ------------------------------------------------------------ open/close */

char *cp_ledger_default_path(void)
{
	return g_build_filename(g_get_user_data_dir(), "certpress", "ledger.sqlite", NULL);
}

static cp_ledger *ledger_open(const char *path, int busy_timeout_ms, bool create,
                              cp_error **err)
{
	cp_ledger *l = g_new0(cp_ledger, 1);
	l->path = path ? g_strdup(path) : cp_ledger_default_path();
	l->ops = cp_ledger_pg_conninfo(l->path) ? &cp_ledger_pg_ops : &cp_ledger_sqlite_ops;
	const char *user = g_getenv("USER");
	l->operator_name = g_strdup(user && *user ? user : g_get_user_name());
	l->db = l->ops->open(l->path,
	                     busy_timeout_ms < 0 ? CP_LEDGER_BUSY_TIMEOUT_MS : busy_timeout_ms,
	                     create, err);
	if (!l->db) {
		cp_ledger_free(l);
		return NULL;
	}
	return l;
}

cp_ledger *cp_ledger_open(const char *path, int busy_timeout_ms, cp_error **err)
{
	return ledger_open(path, busy_timeout_ms, false, err);
}

cp_ledger *cp_ledger_init(const char *path, int busy_timeout_ms, cp_error **err)
{
	return ledger_open(path, busy_timeout_ms, true, err);
}

bool cp_ledger_is_server(const char *path)
{
	return cp_ledger_pg_conninfo(path);
}

void cp_ledger_free(cp_ledger *l)
{
	if (!l)
		return;
	cp_ledger_batch_abort(l->batch);
	if (l->db)
		l->ops->close(l->db);
	g_free(l->path);
	g_free(l->operator_name);
	g_free(l);
}

const char *cp_ledger_path(const cp_ledger *l)
{
	return l->path;
}

void cp_ledger_set_operator(cp_ledger *l, const char *operator_name)
{
	if (!operator_name || !*operator_name)
		return;
	g_free(l->operator_name);
	l->operator_name = g_strdup(operator_name);
}

/* ------------------------------------------------------------------ stock */

/* Finds the received range holding serial: 1 found (*stock_id), 0 not
 * received (err set), -1 error. */
static int stock_of(cp_ledger *l, const char *serial, int64_t *stock_id, cp_error **err)
{
	cp_serial s;
	if (!cp_serial_parse(serial, "serial", &s, err))
		return -1;
	int r = q_int(l, stock_id, err, CP_LQ_STOCK_OF, "tii", s.prefix, (int64_t)s.width,
	              s.number);
	if (r == 0)
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("stock serial %s was never received (record it with "
		               "'certpress ledger stock add')"),
		             serial);
	return r;
}

/* Parses first..last as one range of stock serials: same prefix and width,
 * in order, at most CP_LEDGER_MAX_RANGE sheets. */
static bool parse_range(const char *first, const char *last, cp_serial *a, cp_serial *b,
                        cp_error **err)
{
	if (!cp_serial_parse(first, "--from", a, err) || !cp_serial_parse(last, "--to", b, err))
		return false;
	if (strcmp(a->prefix, b->prefix) != 0 || a->width != b->width || a->number > b->number) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("%s to %s is not a range: both ends need the same prefix and "
		               "number of digits, the first not above the last"),
		             first, last);
		return false;
	}
	if (b->number - a->number >= CP_LEDGER_MAX_RANGE) {
		cp_set_error(err, CP_E_NOMEM, NULL, 0, 0, NULL,
		             _("a range holds at most %d sheets"), CP_LEDGER_MAX_RANGE);
		return false;
	}
	return true;
}

bool cp_ledger_stock_add(cp_ledger *l, const char *first, const char *last,
                         const char *date, const char *note, int64_t *count,
                         cp_error **err)
{
	cp_serial a, b;
	if (!parse_range(first, last, &a, &b, err))
		return false;
	char *day = today();
	bool ok = false;
	if (date && !valid_date(date)) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, "--date",
		             _("'%s' is not a date (YYYY-MM-DD)"), date);
		goto out;
	}
	if (date && strcmp(date, day) > 0) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, "--date",
		             _("%s is in the future"), date);
		goto out;
	}
	if (!check_text(note, "--note", false, err) || !begin_write(l, err))
		goto out;
	cp_ledger_rows *r = q(l, err, CP_LQ_STOCK_OVERLAP, "tiii", a.prefix, (int64_t)a.width,
	                      a.number, b.number);
	int found = step(l, r, err);
	if (found == 1) {
		char *fs = cp_serial_format(&a, col_int(l, r, 0));
		char *ts = cp_serial_format(&a, col_int(l, r, 1));
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("%s to %s overlaps stock already received (%s to %s)"),
		             first, last, fs, ts);
		g_free(fs);
		g_free(ts);
	}
	done(l, r);
	char *at = now_stamp();
	int64_t id = 0;
	if (found == 0) {
		found = q_int(l, &id, err, CP_LQ_STOCK_INSERT, "tiiitttt", a.prefix,
		              (int64_t)a.width, a.number, b.number, date ? date : day,
		              note && *note ? note : NULL, l->operator_name, at);
		if (found == 0)
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("the ledger refused an entry that contradicts it: %s"), "stock");
		ok = found == 1 && commit(l, err);
	}
	g_free(at);
	if (!ok)
		rollback(l);
	else if (count)
		*count = b.number - a.number + 1;
out:
	g_free(day);
	return ok;
}

/* ----------------------------------------------------------------- checks */

static bool refuse_revoked(cp_ledger *l, const char *cert_no, cp_error **err)
{
	cp_ledger_rows *r = q(l, err, CP_LQ_REVOCATION_OF, "t", cert_no);
	int found = step(l, r, err);
	if (found == 1) {
		char *when = col_time(l, r, 0);
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("certificate number %s was revoked on %s (%s) and can never be "
		               "printed again (第二十四条)"),
		             cert_no, when, col(l, r, 1));
		cp_error_set_rule(err, "ledger.revoked");
		g_free(when);
	}
	done(l, r);
	return found == 0;
}

/* The refusal for a serial printed on already. */
static void serial_used(cp_ledger *l, cp_ledger_rows *r, const char *serial, cp_error **err)
{
	char *when = col_time(l, r, 3);
	cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
	             _("stock serial %s was already used for certificate %s in batch %s "
	               "on %s"),
	             serial, col(l, r, 1), col(l, r, 2), when);
	g_free(when);
}

/* Checks that a sheet is received and unused: sets *stock_id. One query
 * answers all of it (one round trip to a server per page). */
static bool check_serial_free(cp_ledger *l, const char *serial, int64_t *stock_id,
                              cp_error **err)
{
	cp_serial sp;
	if (!cp_serial_parse(serial, "serial", &sp, err))
		return false;
	cp_ledger_rows *r = q(l, err, CP_LQ_SERIAL_STATE, "tiit", sp.prefix, (int64_t)sp.width,
	                      sp.number, serial);
	int found = step(l, r, err);
	bool ok = false;
	if (found == 1) {
		char *when = NULL;
		if (col_null(l, r, 0)) {
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("stock serial %s was never received (record it with "
			               "'certpress ledger stock add')"),
			             serial);
		} else if (!col_null(l, r, 1)) {
			when = col_time(l, r, 3);
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("stock serial %s was already used for certificate %s in batch %s "
			               "on %s"),
			             serial, col(l, r, 1), col(l, r, 2), when);
		} else if (!col_null(l, r, 4)) {
			when = col_time(l, r, 4);
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("stock serial %s was recorded as spoiled on %s"), serial, when);
		} else if (!col_null(l, r, 5)) {
			when = col_time(l, r, 5);
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("stock serial %s was destroyed on %s"), serial, when);
		} else {
			*stock_id = col_int(l, r, 0);
			ok = true;
		}
		g_free(when);
	}
	done(l, r);
	return ok;
}

/* Where a print is checked: before printing (its number is reserved in the
 * batch), when its page is added (its own reservation is no conflict), or
 * when the batch is recorded (the batch's earlier pages are in the ledger,
 * in the transaction; the checks in memory were made when they were added). */
typedef enum { AT_CHECK, AT_ADD, AT_RECORD } check_stage;

/* The answer to CERT_STATE for cert asked by cp_ledger_batch_ahead(), taken
 * (the caller frees it with done()), or NULL. */
static cp_ledger_rows *take_ahead(cp_ledger_batch *b, const char *cert)
{
	gpointer key, rows;
	if (!b->ahead || !g_hash_table_steal_extended(b->ahead, cert, &key, &rows))
		return NULL;
	g_free(key);
	return rows;
}

/* Drops the answers asked ahead and not taken (their records were not
 * checked: refused before, or the run stopped). */
static void drop_ahead(cp_ledger_batch *b)
{
	if (!b->ahead)
		return;
	GHashTableIter it;
	gpointer rows;
	g_hash_table_iter_init(&it, b->ahead);
	while (g_hash_table_iter_next(&it, NULL, &rows)) {
		done(b->l, rows);
		g_hash_table_iter_remove(&it);
	}
}

/* The rules of 第十三条 and 第十七条 for one number: sets *kind to "issue",
 * "reprint" (every earlier sheet spoiled) or "reissue". */
static bool check_print(cp_ledger_batch *b, const cp_ledger_print *p, check_stage stage,
                        const char **kind, int64_t *stock_id, cp_error **err)
{
	cp_ledger *l = b->l;
	const char *cert = p->cert_no;
	const char *serial = p->serial && *p->serial ? p->serial : NULL;
	*stock_id = 0;
	if (!check_cert_no(cert, err))
		return false;
	if (p->reissue_reason && !check_text(p->reissue_reason, "reissue_reason", true, err))
		return false;
	/* Twice in this batch: added already, or checked twice (a reservation
	 * still waiting for its page). */
	if ((stage != AT_RECORD && cp_keyset_lookup(b->added, cert)) ||
	    (stage == AT_CHECK && g_hash_table_contains(b->certs, cert))) {
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("certificate number %s appears twice in this batch"), cert);
		return false;
	}
	if (serial && stage != AT_RECORD) {
		const char *holder = g_hash_table_lookup(b->checked_serials, serial);
		if (!holder || strcmp(holder, cert) == 0)
			holder = g_hash_table_lookup(b->added_serials, serial);
		if (holder && strcmp(holder, cert) != 0) {
			/* a refusal of the sheet: filed under the serial's column */
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, "print_serial",
			             _("stock serial %s is given to both %s and %s in this batch"),
			             serial, holder, cert);
			return false;
		}
	}
	/* revoked?, how often printed (here: in this batch, once recorded),
	 * the last sheet not spoiled: one query */
	cp_ledger_rows *r = stage == AT_CHECK ? take_ahead(b, cert) : NULL;
	if (!r)
		r = q(l, err, CP_LQ_CERT_STATE, "ti", cert, b->row);
	int found = step(l, r, err);
	int64_t any = 0, here = 0;
	int live = 0;
	/* A sheet of this number spoiled with the batch (not yet in the ledger
	 * before the prepare): the number may be printed again when that was
	 * its only standing sheet. */
	const batch_spoil *sp = NULL;
	for (guint i = 0; stage != AT_RECORD && b->spoils && i < b->spoils->len; i++)
		if (strcmp(((batch_spoil *)b->spoils->pdata[i])->cert_no, cert) == 0)
			sp = b->spoils->pdata[i];
	char *issued_in = NULL, *issued_at = NULL;
	if (found == 1 && !col_null(l, r, 0)) {
		char *when = col_time(l, r, 0);
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("certificate number %s was revoked on %s (%s) and can never be "
		               "printed again (第二十四条)"),
		             cert, when, col(l, r, 1));
		cp_error_set_rule(err, "ledger.revoked");
		g_free(when);
		found = -1;
	} else if (found == 1) {
		any = col_int(l, r, 2);
		here = col_int(l, r, 3);
		live = !col_null(l, r, 4);
		if (here) {
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("certificate number %s appears twice in this batch"), cert);
			found = -1;
		} else if (live && !p->reissue_reason && sp) {
			issued_in = g_strdup(col(l, r, 4));
			issued_at = col_time(l, r, 5);
		} else if (live && !p->reissue_reason) {
			char *when = col_time(l, r, 5);
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("certificate number %s was already issued in batch %s on %s; "
			               "printing it again needs a reissue with a reason (第十七条)"),
			             cert, col(l, r, 4), when);
			g_free(when);
			found = -1;
		}
	}
	done(l, r);
	if (found == 1 && issued_in) {
		int64_t other = 0;
		if (q_int(l, &other, err, CP_LQ_LIVE_OTHER, "ti", cert, sp->print_id) < 0)
			found = -1;
		else if (other)
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("certificate number %s was already issued in batch %s on %s; "
			               "printing it again needs a reissue with a reason (第十七条)"),
			             cert, issued_in, issued_at);
		else
			live = 0;
		if (other)
			found = -1;
	}
	g_free(issued_in);
	g_free(issued_at);
	if (found != 1)
		return false;
	if (!live && p->reissue_reason) {
		if (any)
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("certificate number %s cannot be reissued: every sheet printed "
			               "for it was spoiled, so print it again without a reissue"),
			             cert);
		else
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("certificate number %s cannot be reissued: it was never issued"),
			             cert);
		cp_error_set_rule(err, "ledger.reissue");
		return false;
	}
	*kind = live ? "reissue" : any ? "reprint" : "issue";
	if (!serial)
		return true;
	/* A refusal of the sheet, not of the number: named by the serial's
	 * field, so that a report files it under that column. */
	cp_error *se = NULL;
	if (check_serial_free(l, serial, stock_id, &se))
		return true;
	if (se && !se->column)
		se->column = g_strdup("print_serial");
	cp_propagate_error(err, se);
	return false;
}

static batch_cert *reserve(cp_ledger_batch *b, const cp_ledger_print *p, const char *kind,
                           int64_t stock_id)
{
	size_t n = strlen(p->cert_no);
	batch_cert *c = g_malloc(sizeof *c + n + 1);
	c->kind = kind;
	c->stock_id = stock_id;
	c->serial = p->serial && *p->serial ? g_strdup(p->serial) : NULL;
	c->reissue = p->reissue_reason != NULL;
	memcpy(c->cert, p->cert_no, n + 1);
	g_hash_table_replace(b->certs, c->cert, c);
	if (c->serial)
		g_hash_table_replace(b->checked_serials, g_strdup(c->serial), g_strdup(c->cert));
	return c;
}

/* ------------------------------------------------------------------ batch */

/* The ledger's generation: it changes whenever anything is recorded (the
 * tables are append-only and written one transaction at a time under the
 * writers' lock, so their largest ids and counts only grow). g_free(). */
static char *generation(cp_ledger *l, cp_error **err)
{
	cp_ledger_rows *r = q(l, err, CP_LQ_GENERATION, "");
	char *g = step(l, r, err) == 1 ? g_strdup(col(l, r, 0)) : NULL;
	done(l, r);
	if (!g && err && !*err)
		cp_set_error(err, CP_E_IO, l->path, 0, 0, NULL, _("ledger error: %s"), "generation");
	return g;
}

static bool valid_sha256(const char *s);
static bool batch_open(const cp_ledger_batch *b, cp_error **err);
static bool spoil_record(cp_ledger *l, const char *serial, const char *cert_no,
                         const char *reason, bool insert, int64_t *print_id_out,
                         cp_error **err);

/* The default name of a batch from the file it was made from: the file's
 * name without extension and the operator's day, "batch-2026-12-06", then
 * "batch-2026-12-06-2" and so on when taken. */
static bool default_batch_name(cp_ledger *l, const char *input, char **out, cp_error **err)
{
	char *base = g_path_get_basename(input);
	char *dot = strrchr(base, '.');
	if (dot && dot != base)
		*dot = '\0';
	if (strlen(base) > 200) {
		const char *cut = g_utf8_find_prev_char(base, base + 201);
		base[cut ? cut - base : 200] = '\0';
	}
	char *day = today();
	char *stem = g_strdup_printf("%s-%s", base, day);
	g_free(base);
	g_free(day);
	bool ok = false;
	for (int n = 1; n < 100000; n++) {
		char *name = n == 1 ? g_strdup(stem) : g_strdup_printf("%s-%d", stem, n);
		int64_t id;
		int r = q_int(l, &id, err, CP_LQ_BATCH_NAMED, "t", name);
		if (r == 0) {
			*out = name;
			ok = true;
			break;
		}
		g_free(name);
		if (r < 0)
			break;
	}
	g_free(stem);
	return ok;
}

bool cp_ledger_batch_set_source(cp_ledger_batch *b, const char *input, const char *input_sha256,
                                const char *printer_profile, const char *calibration,
                                cp_error **err)
{
	if (!check_text(input, "input", false, err) ||
	    !check_text(printer_profile, "printer profile", false, err) ||
	    !check_text(calibration, "calibration", false, err))
		return false;
	if (input_sha256 && !valid_sha256(input_sha256)) {
		cp_set_error(err, CP_E_USAGE, input, 0, 0, "sha256",
		             _("the input file's checksum must be 64 hexadecimal digits (SHA-256)"));
		return false;
	}
	if (b->count || b->prepared) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("the batch's source is set before its first page"));
		return false;
	}
	g_free(b->input);
	g_free(b->input_sha256);
	g_free(b->printer_profile);
	g_free(b->calibration);
	b->input = input && *input ? g_strdup(input) : NULL;
	b->input_sha256 = input_sha256 ? g_ascii_strdown(input_sha256, -1) : NULL;
	b->printer_profile = printer_profile && *printer_profile ? g_strdup(printer_profile) : NULL;
	b->calibration = calibration && *calibration ? g_strdup(calibration) : NULL;
	return true;
}

bool cp_ledger_batch_set_input_sha256(cp_ledger_batch *b, const char *sha256, cp_error **err)
{
	if (!batch_open(b, err))
		return false;
	if (!valid_sha256(sha256)) {
		cp_set_error(err, CP_E_USAGE, b->input, 0, 0, "sha256",
		             _("the input file's checksum must be 64 hexadecimal digits (SHA-256)"));
		return false;
	}
	g_free(b->input_sha256);
	b->input_sha256 = g_ascii_strdown(sha256, -1);
	return true;
}

bool cp_ledger_batch_set_template(cp_ledger_batch *b, const char *path, const char *sha256,
                                  cp_error **err)
{
	if (!check_text(path, "template", true, err))
		return false;
	if (!valid_sha256(sha256)) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, "sha256",
		             _("the template's checksum must be 64 hexadecimal digits (SHA-256)"));
		return false;
	}
	if (b->prepared) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("the batch's source is set before its first page"));
		return false;
	}
	g_free(b->template_path);
	g_free(b->template_sha256);
	b->template_path = g_strdup(path);
	b->template_sha256 = g_ascii_strdown(sha256, -1);
	return true;
}

cp_ledger_batch *cp_ledger_batch_begin(cp_ledger *l, const char *name, const char *note,
                                       cp_error **err)
{
	if (!check_text(name, "batch", false, err) || !check_text(note, "note", false, err) ||
	    batch_refuses(l, err))
		return NULL;
	cp_ledger_batch *b = g_new0(cp_ledger_batch, 1);
	b->l = l;
	b->started_at = now_stamp();
	if (name && *name) {
		b->name = g_strdup(name);
	} else if (note && *note) {
		/* Named after the input file and the day, as an auditor looks for
		 * it: the first free one in the snapshot read below, taken again
		 * under the writers' lock when another station took it meanwhile
		 * (cp_ledger_batch_prepare). */
		b->auto_from = g_strdup(note);
	} else {
		/* Unique without coordination: time, process and randomness. */
		GDateTime *dt = g_date_time_new_now_local();
		char *t = g_date_time_format(dt, "%Y%m%d-%H%M%S");
		b->name = g_strdup_printf("%s-%d-%08x", t, (int)getpid(), g_random_int());
		g_free(t);
		g_date_time_unref(dt);
	}
	b->note = note && *note ? g_strdup(note) : NULL;
	b->certs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, batch_cert_free);
	b->checked_serials = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	b->added = cp_keyset_new(CP_LEDGER_MAX_CERT_NO, 0);
	b->added_serials = g_hash_table_new(g_str_hash, g_str_equal);
	b->strings = g_string_chunk_new(65536);
	b->ahead = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	l->batch = b;
	/* The checks read one snapshot (one transaction, not one per query);
	 * what others record meanwhile is seen when the batch is recorded. */
	if (!l->ops->begin(l->db, CP_LEDGER_TX_READ, err)) {
		cp_ledger_batch_abort(b);
		return NULL;
	}
	b->generation = generation(l, err);
	if (!b->generation) {
		cp_ledger_batch_abort(b);
		return NULL;
	}
	if (b->auto_from && !default_batch_name(l, b->auto_from, &b->name, err)) {
		cp_ledger_batch_abort(b);
		return NULL;
	}
	/* Asked now for an early answer; the unique name decides when the batch
	 * is recorded. */
	int64_t id;
	int r = q_int(l, &id, err, CP_LQ_BATCH_NAMED, "t", b->name);
	if (r == 1)
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("a batch named %s is already in the ledger"), b->name);
	if (r != 0) {
		cp_ledger_batch_abort(b);
		return NULL;
	}
	return b;
}

const char *cp_ledger_batch_name(const cp_ledger_batch *b)
{
	return b->name;
}

size_t cp_ledger_batch_count(const cp_ledger_batch *b)
{
	return b->count;
}

static bool batch_open(const cp_ledger_batch *b, cp_error **err)
{
	if (!b->prepared)
		return true;
	cp_set_error(err, CP_E_USAGE, b->l->path, 0, 0, NULL,
	             _("the batch is being recorded; nothing can be added to it now"));
	return false;
}

bool cp_ledger_batch_ahead(cp_ledger_batch *b, const char *const *cert_nos, size_t n,
                           cp_error **err)
{
	cp_ledger *l = b->l;
	if (!batch_open(b, err))
		return false;
	drop_ahead(b);
	if (!l->ops->send)
		return true; /* a local file: one query each costs no round trip */
	const char *sent[CP_LEDGER_AHEAD_MAX];
	size_t k = 0;
	bool ok = true;
	for (size_t i = 0; ok && i < n && k < CP_LEDGER_AHEAD_MAX; i++) {
		const char *c = cert_nos[i];
		/* what check_print() would refuse before asking, or ask twice */
		if (!c || !check_cert_no(c, NULL) || g_hash_table_contains(b->ahead, c) ||
		    cp_keyset_lookup(b->added, c) || g_hash_table_contains(b->certs, c))
			continue;
		bool twice = false;
		for (size_t j = 0; j < k && !twice; j++)
			twice = strcmp(sent[j], c) == 0;
		if (twice)
			continue;
		ok = q_send(l, err, CP_LQ_CERT_STATE, "ti", c, b->row);
		if (ok)
			sent[k++] = c;
	}
	for (size_t j = 0; ok && j < k; j++) {
		cp_ledger_rows *r = l->ops->receive(l->db, err);
		if (!r)
			ok = false;
		else
			g_hash_table_insert(b->ahead, g_strdup(sent[j]), r);
	}
	if (!ok) {
		l->ops->abandon(l->db);
		drop_ahead(b);
	}
	return ok;
}

bool cp_ledger_batch_check(cp_ledger_batch *b, const cp_ledger_print *p, cp_error **err)
{
	const char *kind;
	int64_t stock_id;
	if (!batch_open(b, err) || !check_print(b, p, AT_CHECK, &kind, &stock_id, err))
		return false;
	reserve(b, p, kind, stock_id);
	return true;
}

static bool valid_sha256(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!g_ascii_isxdigit(s[i]))
			return false;
	return true;
}

/* The pages of a batch wait on disk, not in memory: a 100,000-page batch
 * would otherwise hold some 30 MB until it is recorded. The file is
 * anonymous (tmpfile(): 0600, unlinked at once), so it holds the names and
 * masked ID numbers only while the process lives. A page: its number, the
 * flags, the stock id, then nine strings, each a length (0xFFFF: NULL) and
 * its bytes. */
#define SPILL_NULL 0xFFFFu
static const char *const kinds[] = {"issue", "reprint", "reissue"};

static bool spill_page(cp_ledger_batch *b, const pending_page *pg, cp_error **err)
{
	if (!b->spill && !(b->spill = tmpfile())) {
		cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL, _("cannot create a temporary file: %s"),
		             g_strerror(errno));
		return false;
	}
	const char *f[9] = {pg->cert_no, pg->name, pg->id_masked, pg->level, pg->occupation,
	                    pg->serial, pg->file, pg->sha256, pg->reason};
	int32_t page = pg->page;
	uint8_t flags = (uint8_t)((pg->old_returned ? 4 : 0) |
	                          (strcmp(pg->kind, "reissue") == 0   ? 2
	                           : strcmp(pg->kind, "reprint") == 0 ? 1
	                                                              : 0));
	bool ok = fwrite(&page, sizeof page, 1, b->spill) == 1 &&
	          fwrite(&flags, 1, 1, b->spill) == 1 &&
	          fwrite(&pg->stock_id, sizeof pg->stock_id, 1, b->spill) == 1;
	for (int i = 0; ok && i < 9; i++) {
		size_t n = f[i] ? strlen(f[i]) : 0;
		uint16_t len = f[i] ? (uint16_t)n : SPILL_NULL; /* each ≤ CP_LEDGER_MAX_TEXT */
		ok = fwrite(&len, sizeof len, 1, b->spill) == 1 &&
		     (n == 0 || fwrite(f[i], 1, n, b->spill) == n);
	}
	if (!ok)
		cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL, _("cannot write: %s"), g_strerror(errno));
	return ok;
}

/* Reads the next spilled page into *pg, its strings in buf[]. 1 read, 0 at
 * the end, -1 error. */
static int unspill_page(cp_ledger_batch *b, pending_page *pg,
                        char buf[9][CP_LEDGER_MAX_TEXT + 1], cp_error **err)
{
	int32_t page;
	uint8_t flags;
	if (fread(&page, sizeof page, 1, b->spill) != 1)
		return feof(b->spill) ? 0 : -1;
	bool ok = fread(&flags, 1, 1, b->spill) == 1 &&
	          fread(&pg->stock_id, sizeof pg->stock_id, 1, b->spill) == 1;
	const char *f[9] = {NULL};
	for (int i = 0; ok && i < 9; i++) {
		uint16_t len;
		ok = fread(&len, sizeof len, 1, b->spill) == 1 &&
		     (len == SPILL_NULL || len <= CP_LEDGER_MAX_TEXT) &&
		     (len == SPILL_NULL || len == 0 || fread(buf[i], 1, len, b->spill) == len);
		if (ok && len != SPILL_NULL) {
			buf[i][len] = '\0';
			f[i] = buf[i];
		}
	}
	if (!ok) {
		cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL, _("ledger error: %s"),
		             _("the batch's temporary file cannot be read back"));
		return -1;
	}
	*pg = (pending_page){
		.cert_no = f[0], .name = f[1], .id_masked = f[2], .level = f[3], .occupation = f[4],
		.serial = f[5], .file = f[6], .sha256 = f[7], .reason = f[8], .page = page,
		.old_returned = flags & 4, .kind = kinds[flags & 3], .stock_id = pg->stock_id,
	};
	return 1;
}

/* A serial, and the number it was given to, kept for the rest of the batch.
 * Each is added once (a second page of either is refused first), so a plain
 * copy: the _const
 * variant keeps a hash table of its own to share equal strings, 1.5 MB more
 * at 100,000 pages. */
static const char *keep(cp_ledger_batch *b, const char *s)
{
	return s ? g_string_chunk_insert(b->strings, s) : NULL;
}

bool cp_ledger_batch_add(cp_ledger_batch *b, const cp_ledger_print *p, cp_error **err)
{
	if (!batch_open(b, err))
		return false;
	if (!check_text(p->name, "name", true, err) || !check_masked_id(p->id_masked, err) ||
	    !check_text(p->level, "level", true, err) ||
	    !check_text(p->occupation, "occupation", true, err) ||
	    !check_text(p->file, "file", true, err))
		return false;
	if (p->page < 1 || p->page > CP_LEDGER_MAX_PAGE) {
		cp_set_error(err, CP_E_USAGE, p->file, 0, 0, "page",
		             _("page %d is out of range"), p->page);
		return false;
	}
	if (!valid_sha256(p->sha256)) {
		cp_set_error(err, CP_E_USAGE, p->file, 0, 0, "sha256",
		             _("the page checksum must be 64 hexadecimal digits (SHA-256)"));
		return false;
	}
	/* Checked already (the usual way: check every record, then add the
	 * printed pages): the verdict stands unless the serial or the reissue
	 * changed. */
	batch_cert *c = g_hash_table_lookup(b->certs, p->cert_no);
	const char *serial = p->serial && *p->serial ? p->serial : NULL;
	const char *kind = c ? c->kind : NULL;
	int64_t stock_id = c ? c->stock_id : 0;
	if (!c || g_strcmp0(c->serial, serial) != 0 ||
	    c->reissue != (p->reissue_reason != NULL)) {
		if (!check_print(b, p, AT_ADD, &kind, &stock_id, err))
			return false;
	}
	bool reissue = p->reissue_reason != NULL;
	char *sha = g_ascii_strdown(p->sha256, -1);
	pending_page pg = {
		.cert_no = p->cert_no, .name = p->name, .id_masked = p->id_masked,
		.level = p->level, .occupation = p->occupation, .serial = serial,
		.file = p->file, .page = p->page, .sha256 = sha,
		.reason = reissue ? p->reissue_reason : NULL,
		.old_returned = reissue && p->old_returned,
		.kind = kind, .stock_id = stock_id,
	};
	bool ok = spill_page(b, &pg, err);
	g_free(sha);
	if (!ok)
		return false;
	/* The page now speaks for the number and its serial. */
	cp_keyset_add(b->added, p->cert_no, NULL);
	if (serial)
		g_hash_table_insert(b->added_serials, (char *)keep(b, serial),
		                    (char *)keep(b, p->cert_no));
	if (c) {
		if (c->serial)
			g_hash_table_remove(b->checked_serials, c->serial);
		g_hash_table_remove(b->certs, c->cert);
	}
	b->count++;
	return true;
}

/* Inserts a page of the open batch (as `kind`, on sheet stock_id): 1
 * recorded (*id set), 0 refused by a unique constraint, -1 error; with
 * `send`, only sent (1), its answer read later (record_pages_piped). */
static int insert_page(cp_ledger_batch *b, const pending_page *pg, const char *kind,
                       int64_t stock_id, bool send, int64_t *id, cp_error **err)
{
	cp_ledger *l = b->l;
	char *at = now_stamp();
#define PAGE_ARGS                                                                           \
	"i" "ttttttt" "I" "t" "i" "tt" "i" "tt", b->row, kind, pg->cert_no, pg->name,            \
		pg->id_masked, pg->level, pg->occupation, pg->serial, stock_id, pg->file,           \
		(int64_t)pg->page, pg->sha256, pg->reason, (int64_t)pg->old_returned, at,           \
		l->operator_name
	int r = send ? (q_send(l, err, CP_LQ_PRINT_INSERT, PAGE_ARGS) ? 1 : -1)
	             : q_int(l, id, err, CP_LQ_PRINT_INSERT, PAGE_ARGS);
#undef PAGE_ARGS
	g_free(at);
	return r;
}

/* A page's insert refused: another station won its number or its sheet
 * between the check and the insert; says which. */
static void lost_page(cp_ledger *l, const char *cert_no, const char *serial, cp_error **err)
{
	cp_ledger_rows *u = serial ? q(l, err, CP_LQ_SERIAL_PRINT, "t", serial) : NULL;
	if (u && step(l, u, err) == 1)
		serial_used(l, u, serial, err);
	else if (!err || !*err)
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("certificate number %s was printed by another batch meanwhile"),
		             cert_no);
	done(l, u);
}

/* Records one pending page under the write lock: the rules again, against
 * what the ledger holds now (unless `unchanged`: nothing was written to the
 * ledger since the batch's first check, so every verdict stands), then the
 * insert; a unique constraint that refuses it (another station won the
 * number or the serial) is named as the check would. */
static bool record_page(cp_ledger_batch *b, const pending_page *pg, bool unchanged,
                        cp_error **err)
{
	cp_ledger *l = b->l;
	cp_ledger_print p = {
		.cert_no = pg->cert_no, .name = pg->name, .id_masked = pg->id_masked,
		.level = pg->level, .occupation = pg->occupation, .serial = pg->serial,
		.file = pg->file, .page = pg->page, .sha256 = pg->sha256,
		.reissue_reason = pg->reason, .old_returned = pg->old_returned,
	};
	const char *kind = pg->kind;
	int64_t stock_id = pg->stock_id, id;
	if (!unchanged && !check_print(b, &p, AT_RECORD, &kind, &stock_id, err))
		return false;
	int r = insert_page(b, pg, kind, stock_id, false, &id, err);
	if (r == 0)
		lost_page(l, p.cert_no, p.serial, err);
	return r == 1;
}

/* The pages of a batch whose every verdict stands (nothing was recorded
 * since its first check), on a backend that pipelines: their inserts are
 * sent PIPE_PAGES at a time and the answers read after each lot, one round
 * trip to the server a lot instead of one a page. The same inserts in the
 * same transaction as record_page(): a refusal or an error rolls back all. */
#define PIPE_PAGES 256
static bool record_pages_piped(cp_ledger_batch *b, char (*buf)[CP_LEDGER_MAX_TEXT + 1],
                               cp_error **err)
{
	cp_ledger *l = b->l;
	char *certs[PIPE_PAGES], *serials[PIPE_PAGES];
	bool ok = true;
	int more = 1;
	while (ok && more == 1) {
		int n = 0, lost = -1;
		pending_page pg;
		while (ok && n < PIPE_PAGES && (more = unspill_page(b, &pg, buf, err)) == 1) {
			ok = insert_page(b, &pg, pg.kind, pg.stock_id, true, NULL, err) == 1;
			certs[n] = g_strdup(pg.cert_no);
			serials[n] = g_strdup(pg.serial);
			n++;
		}
		ok = ok && more >= 0;
		for (int i = 0; ok && i < n; i++) {
			cp_ledger_rows *r = l->ops->receive(l->db, err);
			int found = step(l, r, err);
			done(l, r);
			if (found < 0)
				ok = false;
			else if (found == 0 && lost < 0)
				lost = i; /* another station won it: the answers go on */
		}
		if (!ok)
			l->ops->abandon(l->db);
		else if (lost >= 0) {
			lost_page(l, certs[lost], serials[lost], err);
			ok = false;
		}
		for (int i = 0; i < n; i++) {
			g_free(certs[i]);
			g_free(serials[i]);
		}
	}
	return ok && more == 0;
}

static int insert_batch(cp_ledger_batch *b, cp_error **err)
{
	cp_ledger *l = b->l;
	return q_int(l, &b->row, err, CP_LQ_BATCH_INSERT, "tttttttttt", b->name, b->note,
	             l->operator_name, b->started_at, b->input, b->input_sha256,
	             b->printer_profile, b->calibration, b->template_path, b->template_sha256);
}

bool cp_ledger_batch_prepare(cp_ledger_batch *b, cp_error **err)
{
	if (b->prepared)
		return true;
	cp_ledger *l = b->l;
	/* The batch's checks and inserts in one write transaction: the lock is
	 * held from here to the commit, the time it takes to record the batch. */
	rollback(l); /* the checks' snapshot */
	if (!l->ops->begin(l->db, CP_LEDGER_TX_WRITE, err))
		return false;
	/* Under the lock: has anything been recorded since the first check? */
	char *now = generation(l, err);
	bool unchanged = now && b->generation && strcmp(now, b->generation) == 0;
	int r = now ? insert_batch(b, err) : -1;
	if (r == 0 && b->auto_from) {
		/* Another station took the default name meanwhile: the next one
		 * free, under the lock. */
		char *name = NULL;
		r = default_batch_name(l, b->auto_from, &name, err) ? 1 : -1;
		if (r == 1) {
			g_free(b->name);
			b->name = name;
			r = insert_batch(b, err);
		}
	}
	g_free(now);
	if (r == 0)
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("a batch named %s is already in the ledger"), b->name);
	bool ok = r == 1;
	/* The sheets spoiled with the batch, checked again under the lock, go
	 * in before its pages: the pages print their numbers again. */
	for (guint i = 0; ok && b->spoils && i < b->spoils->len; i++) {
		const batch_spoil *sp = b->spoils->pdata[i];
		ok = spoil_record(l, sp->serial, sp->cert_no, sp->reason, true, NULL, err);
	}
	if (ok && b->spill && fseek(b->spill, 0, SEEK_SET) != 0) {
		cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL, _("ledger error: %s"), g_strerror(errno));
		ok = false;
	}
	if (ok && b->spill) {
		char(*buf)[CP_LEDGER_MAX_TEXT + 1] = g_malloc(9 * (CP_LEDGER_MAX_TEXT + 1));
		pending_page pg;
		int more;
		if (unchanged && l->ops->send) {
			ok = record_pages_piped(b, buf, err);
		} else {
			while (ok && (more = unspill_page(b, &pg, buf, err)) == 1)
				ok = record_page(b, &pg, unchanged, err);
			ok = ok && more == 0;
		}
		g_free(buf);
	}
	if (!ok) {
		rollback(l);
		b->row = 0;
		return false;
	}
	b->prepared = true;
	return true;
}

/* True (*used set) when a sheet was printed on, spoiled or destroyed. */
static bool serial_taken(cp_ledger *l, const char *serial, bool *used, cp_error **err)
{
	int64_t n = 0;
	if (q_int(l, &n, err, CP_LQ_SERIAL_USED, "t", serial) != 1)
		return false;
	*used = n != 0;
	return true;
}

/* The received range after stock id `after` (0: the first): 1 found
 * (b->next_stock, b->next_number at its first sheet), 0 none, -1 error. */
static int next_range(cp_ledger_batch *b, int64_t after, cp_error **err)
{
	cp_ledger *l = b->l;
	cp_ledger_rows *r = q(l, err, CP_LQ_STOCK_AFTER, "i", after);
	int found = step(l, r, err);
	if (found == 1) {
		b->next_stock = col_int(l, r, 0);
		b->next_number = col_int(l, r, 1);
	}
	done(l, r);
	return found;
}

/* Where numbering begins: at from, else after the last sheet printed on
 * (the next one in the tray), else at the first sheet received. */
static bool next_serial_begin(cp_ledger_batch *b, const char *from, cp_error **err)
{
	cp_ledger *l = b->l;
	if (from) {
		/* The sheet the operator sees on top of the tray: blank, or a
		 * mistake worth stopping for. */
		cp_serial s;
		if (!cp_serial_parse(from, "--serial-from", &s, err) ||
		    !check_serial_free(l, from, &b->next_stock, err))
			return false;
		b->next_number = s.number;
		return true;
	}
	cp_ledger_rows *r = q(l, err, CP_LQ_LAST_SERIAL, "");
	int found = step(l, r, err);
	if (found == 1) {
		cp_serial s;
		bool ok = cp_serial_parse(col(l, r, 0), "serial", &s, err);
		b->next_stock = col_int(l, r, 1);
		done(l, r);
		if (!ok)
			return false;
		b->next_number = s.number + 1;
		return true;
	}
	done(l, r);
	if (found < 0)
		return false;
	found = next_range(b, 0, err);
	if (found == 0)
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("no blank stock was received: record it with 'certpress ledger stock "
		               "add' before numbering sheets from it"));
	return found == 1;
}

bool cp_ledger_batch_next_serial(cp_ledger_batch *b, const char *from, char **serial,
                                 cp_error **err)
{
	cp_ledger *l = b->l;
	*serial = NULL;
	if (!batch_open(b, err))
		return false;
	if (b->next_number == 0 && !next_serial_begin(b, from, err))
		return false;
	for (;;) {
		cp_ledger_rows *r = q(l, err, CP_LQ_STOCK_ROW, "i", b->next_stock);
		if (step(l, r, err) != 1) {
			done(l, r);
			if (err && !*err)
				cp_set_error(err, CP_E_IO, l->path, 0, 0, NULL, _("ledger error: %s"),
				             "stock");
			return false;
		}
		cp_serial range;
		g_strlcpy(range.prefix, col(l, r, 0), sizeof range.prefix);
		range.width = (int)col_int(l, r, 1);
		int64_t last = col_int(l, r, 3);
		done(l, r);
		for (; b->next_number <= last; b->next_number++) {
			char *cand = cp_serial_format(&range, b->next_number);
			/* reserved in this batch (checked, or its page added) */
			bool used = g_hash_table_contains(b->checked_serials, cand) ||
			            g_hash_table_contains(b->added_serials, cand);
			if (!used && !serial_taken(l, cand, &used, err)) {
				g_free(cand);
				return false;
			}
			if (!used) {
				b->next_number++;
				*serial = cand;
				return true;
			}
			g_free(cand);
		}
		/* This range is used up: on to the next one received. */
		int found = next_range(b, b->next_stock, err);
		if (found == 0)
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("the blank stock received is used up: record the next delivery "
			               "with 'certpress ledger stock add'"));
		if (found != 1)
			return false;
	}
}
static void batch_free(cp_ledger_batch *b)
{
	drop_ahead(b);
	if (b->ahead)
		g_hash_table_destroy(b->ahead);
	if (b->l->batch == b)
		b->l->batch = NULL;
	g_hash_table_destroy(b->certs);
	g_hash_table_destroy(b->checked_serials);
	cp_keyset_free(b->added);
	g_hash_table_destroy(b->added_serials);
	if (b->spill)
		fclose(b->spill);
	g_string_chunk_free(b->strings);
	g_free(b->name);
	g_free(b->note);
	g_free(b->started_at);
	g_free(b->generation);
	g_free(b->auto_from);
	g_free(b->input);
	g_free(b->input_sha256);
	g_free(b->printer_profile);
	g_free(b->calibration);
	g_free(b->template_path);
	g_free(b->template_sha256);
	if (b->spoils)
		g_ptr_array_free(b->spoils, TRUE);
	g_free(b);
}

bool cp_ledger_batch_commit(cp_ledger_batch *b, cp_error **err)
{
	cp_ledger *l = b->l;
	bool ok = cp_ledger_batch_prepare(b, err) && commit(l, err);
	if (!ok)
		rollback(l);
	batch_free(b);
	return ok;
}

void cp_ledger_batch_abort(cp_ledger_batch *b)
{
	if (!b)
		return;
	cp_ledger *l = b->l;
	batch_free(b);
	rollback(l); /* the checks' snapshot, or the recorded batch */
}

/* ------------------------------------------------------------- print jobs */

static const char *const job_states[] = {
	"completed", "canceled", "aborted", "refused", "unreachable", "lost", "interrupted",
};

bool cp_ledger_job_add(cp_ledger *l, const cp_ledger_job *j, cp_error **err)
{
	if (!check_text(j->batch, "batch", false, err) || !check_text(j->file, "file", true, err) ||
	    !check_text(j->dest, "dest", true, err) || !check_text(j->profile, "profile", false, err))
		return false;
	bool known = false;
	for (size_t i = 0; i < G_N_ELEMENTS(job_states); i++)
		known = known || g_strcmp0(j->state, job_states[i]) == 0;
	if (!known || j->copies < 1 || j->job_id < 0) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, "state",
		             _("a print job needs a known state, copies and job id"));
		return false;
	}
	/* The printer's words: one bounded line, whatever they were. */
	char *msg = NULL;
	if (j->message && *j->message) {
		msg = g_utf8_make_valid(j->message, -1);
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
		if (strlen(msg) > CP_LEDGER_MAX_TEXT) {
			char *cut = g_utf8_substring(msg, 0, CP_LEDGER_MAX_TEXT / 4);
			g_free(msg);
			msg = cut;
		}
	}
	bool ok = false;
	if (!begin_write(l, err))
		goto out;
	int64_t batch_id = 0, id;
	if (j->batch) {
		int r = q_int(l, &batch_id, err, CP_LQ_BATCH_NAMED, "t", j->batch);
		if (r == 0)
			cp_set_error(err, CP_E_USAGE, l->path, 0, 0, NULL,
			             _("there is no batch named %s in the ledger"), j->batch);
		if (r != 1) {
			rollback(l);
			goto out;
		}
	}
	char *at = now_stamp();
	ok = q_int(l, &id, err, CP_LQ_JOB_INSERT, "ItttiItttt", batch_id, j->file, j->dest,
	           j->profile, (int64_t)j->copies, (int64_t)j->job_id, j->state, msg, at,
	           l->operator_name) == 1;
	g_free(at);
	if (ok)
		ok = commit(l, err);
	else
		rollback(l);
out:
	g_free(msg);
	return ok;
}

bool cp_ledger_batch_of_file(cp_ledger *l, const char *file, char **name, cp_error **err)
{
	*name = NULL;
	if (!check_text(file, "file", true, err) || !begin_read(l, err))
		return false;
	char *abs = g_canonicalize_filename(file, NULL);
	cp_ledger_rows *st = q(l, err, CP_LQ_BATCH_OF_FILE, "tt", file, abs);
	int r = step(l, st, err);
	if (r == 1)
		*name = g_strdup(col(l, st, 0));
	done(l, st);
	/* A file recorded by a relative path names the same file when it
	 * resolves to it from here (render and print run in one folder). */
	if (r == 0) {
		char *base = g_path_get_basename(abs);
		st = q(l, err, CP_LQ_BATCH_OF_RELATIVE, "t", base);
		g_free(base);
		while ((r = step(l, st, err)) == 1) {
			char *c = g_canonicalize_filename(col(l, st, 0), NULL);
			bool same = strcmp(c, abs) == 0;
			g_free(c);
			if (same) {
				*name = g_strdup(col(l, st, 1));
				r = 0;
				break;
			}
		}
		done(l, st);
	}
	g_free(abs);
	rollback(l);
	return r >= 0;
}

/* ------------------------------------------------- spoil, destroy, revoke */

/* The rules of a spoiled sheet, in the open transaction: the sheet
 * (serial, or cert_no's last standing sheet without one) must be received,
 * not destroyed nor spoiled already, and carry cert_no when that is given.
 * With insert, records it; else sets *print_id (may be NULL) to the print on
 * it and records nothing. */
static bool spoil_record(cp_ledger *l, const char *serial, const char *cert_no,
                         const char *reason, bool insert, int64_t *print_id_out,
                         cp_error **err)
{
	int64_t stock_id = 0, print_id = 0, n = 0;
	char *printed_cert = NULL;
	bool ok = false;
	int found;
	if (serial) {
		if (stock_of(l, serial, &stock_id, err) != 1)
			goto out;
		cp_ledger_rows *r = q(l, err, CP_LQ_SERIAL_DESTROYED, "t", serial);
		found = step(l, r, err);
		done(l, r);
		if (found < 0)
			goto out;
		if (found) {
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("stock serial %s was destroyed already"), serial);
			goto out;
		}
		r = q(l, err, CP_LQ_SERIAL_SPOILED, "t", serial);
		found = step(l, r, err);
		done(l, r);
		if (found < 0)
			goto out;
		if (found) {
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("stock serial %s was recorded as spoiled already"), serial);
			goto out;
		}
		r = q(l, err, CP_LQ_SERIAL_PRINT, "t", serial);
		found = step(l, r, err);
		if (found == 1) {
			print_id = col_int(l, r, 0);
			printed_cert = g_strdup(col(l, r, 1));
		}
		done(l, r);
		if (found < 0)
			goto out;
		if (cert_no && (!printed_cert || strcmp(cert_no, printed_cert) != 0)) {
			if (printed_cert)
				cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
				             _("stock serial %s carries certificate %s, not %s"), serial,
				             printed_cert, cert_no);
			else
				cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
				             _("no certificate was printed on stock serial %s, so it "
				               "cannot carry %s"),
				             serial, cert_no);
			goto out;
		}
	} else {
		found = q_int(l, &print_id, err, CP_LQ_PRINT_UNSERIALED, "t", cert_no);
		if (found < 0)
			goto out;
		if (found == 0) {
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("certificate %s has no issued sheet printed without a stock "
			               "serial; name the sheet with --serial"),
			             cert_no);
			goto out;
		}
		printed_cert = g_strdup(cert_no);
	}
	if (print_id_out)
		*print_id_out = print_id;
	if (!insert) {
		ok = true;
		goto out;
	}
	char *at = now_stamp();
	found = q_int(l, &n, err, CP_LQ_SPOIL_INSERT, "tIItttt", serial, stock_id, print_id,
	              printed_cert, reason, at, l->operator_name);
	g_free(at);
	if (found == 0)
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("the sheet was recorded as spoiled already"));
	ok = found == 1;
out:
	g_free(printed_cert);
	return ok;
}

/* The arguments of a spoiled sheet; serial and cert_no "" are NULL. */
static bool spoil_args(const char **serial, const char **cert_no, const char *reason,
                       cp_error **err)
{
	if (*serial && !**serial)
		*serial = NULL;
	if (*cert_no && !**cert_no)
		*cert_no = NULL;
	if (!*serial && !*cert_no) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("name the spoiled sheet by its stock serial (or, for a sheet "
		               "without one, by its certificate number)"));
		return false;
	}
	cp_serial parsed;
	return !((*serial && !cp_serial_parse(*serial, "--serial", &parsed, err)) ||
	         (*cert_no && !check_cert_no(*cert_no, err)) ||
	         !check_text(reason, "--reason", true, err));
}

bool cp_ledger_spoil(cp_ledger *l, const char *serial, const char *cert_no,
                     const char *reason, cp_error **err)
{
	if (!spoil_args(&serial, &cert_no, reason, err) || !begin_write(l, err))
		return false;
	bool ok = spoil_record(l, serial, cert_no, reason, true, NULL, err) && commit(l, err);
	if (!ok)
		rollback(l);
	return ok;
}

bool cp_ledger_batch_spoil(cp_ledger_batch *b, const char *serial, const char *cert_no,
                           const char *reason, cp_error **err)
{
	if (!batch_open(b, err) || !spoil_args(&serial, &cert_no, reason, err))
		return false;
	if (!cert_no || g_hash_table_contains(b->certs, cert_no) ||
	    cp_keyset_lookup(b->added, cert_no)) {
		cp_set_error(err, CP_E_USAGE, b->l->path, 0, 0, NULL,
		             _("a sheet spoiled with a batch names its certificate number and "
		               "comes before that number is checked"));
		return false;
	}
	for (guint i = 0; b->spoils && i < b->spoils->len; i++) {
		const batch_spoil *o = b->spoils->pdata[i];
		if (strcmp(o->cert_no, cert_no) == 0 || (serial && g_strcmp0(o->serial, serial) == 0)) {
			cp_set_error(err, CP_E_LEDGER, b->l->path, 0, 0, NULL,
			             _("the sheet of certificate %s is spoiled twice in this batch"),
			             cert_no);
			return false;
		}
	}
	int64_t print_id = 0;
	if (!spoil_record(b->l, serial, cert_no, reason, false, &print_id, err))
		return false;
	batch_spoil *sp = g_new0(batch_spoil, 1);
	sp->serial = g_strdup(serial);
	sp->cert_no = g_strdup(cert_no);
	sp->reason = g_strdup(reason);
	sp->print_id = print_id;
	if (!b->spoils)
		b->spoils = g_ptr_array_new_with_free_func(batch_spoil_free);
	g_ptr_array_add(b->spoils, sp);
	return true;
}

/* A printed sheet may be destroyed when it was spoiled or taken back by a
 * later reissue (第十七条); an issued sheet in the holder's hands may not. */
static bool destroy_one(cp_ledger *l, const cp_serial *range, int64_t number,
                        int64_t destruction, cp_error **err)
{
	char *serial = cp_serial_format(range, number);
	int64_t stock_id = 0, n = 0;
	bool ok = false;
	if (stock_of(l, serial, &stock_id, err) != 1)
		goto out;
	cp_ledger_rows *r = q(l, err, CP_LQ_SERIAL_HELD, "t", serial);
	int found = step(l, r, err);
	if (found == 1)
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("stock serial %s carries certificate %s, which is issued; only "
		               "blank, spoiled or returned sheets can be destroyed"),
		             serial, col(l, r, 0));
	done(l, r);
	if (found != 0)
		goto out;
	found = q_int(l, &n, err, CP_LQ_DESTROYED_INSERT, "tii", serial, stock_id, destruction);
	if (found == 0)
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("stock serial %s was destroyed already"), serial);
	ok = found == 1;
out:
	g_free(serial);
	return ok;
}

bool cp_ledger_destroy(cp_ledger *l, const char *first, const char *last,
                       const char *reason, int64_t *count, cp_error **err)
{
	cp_serial a, b;
	if (!last || !*last)
		last = first;
	if (!parse_range(first, last, &a, &b, err))
		return false;
	if (!check_text(reason, "--reason", true, err) || !begin_write(l, err))
		return false;
	char *at = now_stamp();
	int64_t id = 0;
	int found = q_int(l, &id, err, CP_LQ_DESTRUCTION_INSERT, "ttt", reason, at,
	                  l->operator_name);
	if (found == 0)
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("the ledger refused an entry that contradicts it: %s"), "destruction");
	bool ok = found == 1;
	g_free(at);
	/* All or nothing: one sheet that may not be destroyed refuses the range. */
	for (int64_t n = a.number; ok && n <= b.number; n++)
		ok = destroy_one(l, &a, n, id, err);
	if (ok && (ok = commit(l, err)) && count)
		*count = b.number - a.number + 1;
	if (!ok)
		rollback(l);
	return ok;
}

bool cp_ledger_revoke(cp_ledger *l, const char *cert_no, const char *reason, cp_error **err)
{
	if (!check_cert_no(cert_no, err) || !check_text(reason, "--reason", true, err) ||
	    !begin_write(l, err))
		return false;
	int64_t n = 0, one = 0;
	bool ok = false;
	cp_ledger_rows *r = q(l, err, CP_LQ_CERT_COUNT, "ti", cert_no, (int64_t)0);
	int found = step(l, r, err);
	if (found == 1)
		n = col_int(l, r, 0);
	done(l, r);
	if (found < 0)
		goto out;
	if (!n) {
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("certificate number %s is not in the ledger"), cert_no);
		goto out;
	}
	if (!refuse_revoked(l, cert_no, err))
		goto out;
	char *at = now_stamp();
	found = q_int(l, &one, err, CP_LQ_REVOCATION_INSERT, "tttt", cert_no, reason, at,
	              l->operator_name);
	g_free(at);
	if (found == 0)
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("certificate number %s was revoked meanwhile"), cert_no);
	ok = found == 1 && commit(l, err);
out:
	if (!ok)
		rollback(l);
	return ok;
}

/* ---------------------------------------------------------------- balance */

/* Each received sheet is in exactly one state at the end of a day:
 * destroyed, else spoiled, else issued (printed on), else remaining; so the
 * four add up to what was received by construction, and the report shows
 * every term. */
static bool balance(cp_ledger *l, const char *date, int64_t stock_id, cp_ledger_balance *o,
                    cp_error **err)
{
	const char *d = date ? date : "9999-12-31";
	char *end = date ? day_start_utc(date, 1) : g_strdup("9999-12-31 23:59:59");
	memset(o, 0, sizeof *o);
	bool ok = !(q_int(l, &o->received, err, CP_LQ_BAL_RECEIVED, "ti", d, stock_id) < 0 ||
	            q_int(l, &o->destroyed, err, CP_LQ_BAL_DESTROYED, "tit", d, stock_id, end) < 0 ||
	            q_int(l, &o->spoiled, err, CP_LQ_BAL_SPOILED, "tit", d, stock_id, end) < 0 ||
	            q_int(l, &o->issued, err, CP_LQ_BAL_ISSUED, "tit", d, stock_id, end) < 0 ||
	            /* of those issued, the sheets taken back from the holder by a
	             * later reissue with the old sheet returned (收回): they move
	             * from issued to returned (and on to destroyed when destroyed) */
	            q_int(l, &o->returned, err, CP_LQ_BAL_RETURNED, "tit", d, stock_id, end) < 0);
	g_free(end);
	if (!ok)
		return false;
	o->issued -= o->returned;
	o->remaining = o->received - o->issued - o->returned - o->spoiled - o->destroyed;
	return true;
}

bool cp_ledger_balance_at(cp_ledger *l, const char *date, cp_ledger_balance *out,
                          cp_error **err)
{
	if (date && !valid_date(date)) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL, _("'%s' is not a date (YYYY-MM-DD)"),
		             date);
		return false;
	}
	/* One read transaction so that the four counts see the same moment. */
	if (!begin_read(l, err))
		return false;
	bool ok = balance(l, date, 0, out, err);
	rollback(l);
	return ok;
}

/* ----------------------------------------------------------------- report */

static void json_str(GString *s, const char *v)
{
	if (!v) {
		g_string_append(s, "null");
		return;
	}
	g_string_append_c(s, '"');
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			g_string_append_printf(s, "\\%c", *p);
		else if (*p < 0x20)
			g_string_append_printf(s, "\\u%04x", *p);
		else
			g_string_append_c(s, (char)*p);
	}
	g_string_append_c(s, '"');
}

static const char *const activity_keys[] = {
	"stock_received", "printed", "issued", "reprinted", "reissued",
	"spoiled", "destroyed", "revoked",
};
#define NACT G_N_ELEMENTS(activity_keys)

static const cp_ledger_query activity_query[NACT] = {
	CP_LQ_ACT_STOCK, CP_LQ_ACT_PRINTED, CP_LQ_ACT_ISSUED, CP_LQ_ACT_REPRINTED,
	CP_LQ_ACT_REISSUED, CP_LQ_ACT_SPOILED, CP_LQ_ACT_DESTROYED, CP_LQ_ACT_REVOKED,
};

static const char *activity_label(size_t i)
{
	switch (i) {
	case 0: return _("sheets of stock received");
	case 1: return _("pages printed");
	case 2: return _("  first issue");
	case 3: return _("  printed again after a spoiled sheet");
	case 4: return _("  reissued (第十七条)");
	case 5: return _("sheets spoiled");
	case 6: return _("sheets destroyed");
	default: return _("certificates revoked (第二十四条)");
	}
}

/* A label padded to `width` terminal columns (CJK characters take two, so
 * printf's byte count would misalign translated reports), then a number. */
static void labelled(GString *s, const char *label, int width, int64_t n)
{
	int cols = 0;
	for (const char *p = label; *p; p = g_utf8_next_char(p))
		cols += g_unichar_iswide(g_utf8_get_char(p)) ? 2 : 1;
	g_string_append_printf(s, "  %s%*s %10" PRId64 "\n", label,
	                       cols < width ? width - cols : 0, "", n);
}

static void balance_text(GString *s, const cp_ledger_balance *b)
{
	labelled(s, _("received"), 12, b->received);
	labelled(s, _("issued"), 12, b->issued);
	labelled(s, _("returned"), 12, b->returned);
	labelled(s, _("spoiled"), 12, b->spoiled);
	labelled(s, _("destroyed"), 12, b->destroyed);
	labelled(s, _("remaining"), 12, b->remaining);
}

static void balance_json(GString *s, const cp_ledger_balance *b)
{
	g_string_append_printf(s,
	                       "\"received\": %" PRId64 ", \"issued\": %" PRId64
	                       ", \"spoiled\": %" PRId64 ", \"destroyed\": %" PRId64
	                       ", \"remaining\": %" PRId64 ", \"returned\": %" PRId64,
	                       b->received, b->issued, b->spoiled, b->destroyed, b->remaining,
	                       b->returned);
}

/* Words for a stored keyword: the text of the entry whose key it is, else
 * of the last entry (key NULL). */
typedef struct label {
	const char *key, *text;
} label;

static const char *label_of(const label *t, const char *key)
{
	while (t->key && strcmp(t->key, key) != 0)
		t++;
	return _(t->text);
}

/* A print job's final state, as a reader of the ledger says it. */
static const label job_state_labels[] = {
	{"completed", N_("printed (job completed)")},
	{"canceled", N_("NOT PRINTED: job canceled")},
	{"aborted", N_("NOT PRINTED: job aborted by the printer")},
	{"refused", N_("NOT PRINTED: the printer refused the job")},
	{"unreachable", N_("NOT PRINTED: the printer could not be reached")},
	{"interrupted", N_("interrupted; the job was asked to cancel")},
	{NULL, N_("contact lost: whether it printed is unknown")},
};

/* The print jobs of the period: where each batch was sent and how it ended. */
static bool report_jobs(cp_ledger *l, const char *fu, const char *tu, bool json, GString *s,
                        cp_error **err)
{
	cp_ledger_rows *st = q(l, err, CP_LQ_JOBS, "tt", fu, tu);
	int r, n = 0;
	if (!json)
		g_string_append_printf(s, "\n%s\n", _("Print jobs"));
	while ((r = step(l, st, err)) == 1) {
		char *when = col_time(l, st, 0);
		if (json) {
			g_string_append(s, n ? ",\n    {\"at\": " : "\n    {\"at\": ");
			json_str(s, when);
			g_string_append(s, ", \"batch\": ");
			json_str(s, l->ops->text(st, 1));
			g_string_append(s, ", \"file\": ");
			json_str(s, col(l, st, 2));
			g_string_append(s, ", \"dest\": ");
			json_str(s, col(l, st, 3));
			g_string_append_printf(s, ", \"job_id\": %" PRId64 ", \"copies\": %" PRId64
			                       ", \"state\": ",
			                       col_int(l, st, 4), col_int(l, st, 5));
			json_str(s, col(l, st, 6));
			g_string_append(s, ", \"profile\": ");
			json_str(s, l->ops->text(st, 7));
			g_string_append(s, ", \"message\": ");
			json_str(s, l->ops->text(st, 8));
			g_string_append_c(s, '}');
		} else {
			g_string_append_printf(s, "  %s  ", when);
			if (!col_null(l, st, 1))
				g_string_append_printf(s, _("batch %s"), col(l, st, 1));
			else
				g_string_append(s, col(l, st, 2));
			g_string_append_printf(s, _("  to %s"), col(l, st, 3));
			if (col_int(l, st, 4) > 0)
				g_string_append_printf(s, _("  job %lld"), (long long)col_int(l, st, 4));
			g_string_append_printf(s, _("  copies %lld  %s"), (long long)col_int(l, st, 5),
			                       label_of(job_state_labels, col(l, st, 6)));
			if (!col_null(l, st, 7))
				g_string_append_printf(s, _("  printer profile %s"), col(l, st, 7));
			g_string_append_c(s, '\n');
		}
		g_free(when);
		n++;
	}
	done(l, st);
	if (r < 0)
		return false;
	if (json)
		g_string_append(s, n ? "\n  ],\n  " : "],\n  ");
	else if (!n)
		g_string_append_printf(s, "  %s\n", _("(none)"));
	return true;
}

/* A batch's source (schema 3) from columns i…i+5 of st: input, its SHA-256,
 * printer profile, calibration, template, its SHA-256; NULL in batches
 * recorded before. */
static void batch_source_json(cp_ledger *l, GString *s, cp_ledger_rows *st, int i)
{
	static const char *const keys[] = {"input", "input_sha256", "printer_profile",
	                                   "calibration", "template", "template_sha256"};
	for (int k = 0; k < (int)G_N_ELEMENTS(keys); k++) {
		g_string_append_printf(s, ", \"%s\": ", keys[k]);
		json_str(s, l->ops->text(st, i + k));
	}
}

static void batch_source_text(cp_ledger *l, GString *s, cp_ledger_rows *st, int i)
{
	if (!col_null(l, st, i + 1))
		g_string_append_printf(s, _("    input sha256 %s\n"), col(l, st, i + 1));
	if (!col_null(l, st, i + 3))
		g_string_append_printf(s, _("    printer profile %s, %s\n"),
		                       !col_null(l, st, i + 2) ? col(l, st, i + 2) : _("none"),
		                       col(l, st, i + 3));
}

/* The report, the period given as days (f, t: for the stock received) and as
 * instants in UTC (fu, tu: for the stored times). */
static bool report_text(cp_ledger *l, const char *f, const char *t, const char *fu,
                        const char *tu, const char *from, const char *to, bool json,
                        GString *s, cp_error **err)
{
	int64_t act[NACT];
	for (size_t i = 0; i < NACT; i++)
		if ((i ? q_int(l, &act[i], err, activity_query[i], "tt", fu, tu)
		       : q_int(l, &act[i], err, activity_query[i], "tt", f, t)) < 0)
			return false;
	cp_ledger_balance total;
	if (!balance(l, to, 0, &total, err))
		return false;

	if (json) {
		g_string_append(s, "{\n  \"ledger\": ");
		json_str(s, l->path);
		g_string_append(s, ",\n  \"from\": ");
		json_str(s, from);
		g_string_append(s, ",\n  \"to\": ");
		json_str(s, to);
		g_string_append(s, ",\n  \"activity\": {");
		for (size_t i = 0; i < NACT; i++)
			g_string_append_printf(s, "%s\"%s\": %" PRId64, i ? ", " : "", activity_keys[i],
			                       act[i]);
		g_string_append(s, "},\n  \"batches\": [");
	} else {
		g_string_append_printf(s, _("Print ledger %s\n"), l->path);
		if (from || to)
			g_string_append_printf(s, _("Period: %s to %s\n"), from ? from : "…",
			                       to ? to : "…");
		else
			g_string_append(s, _("Period: everything recorded\n"));
		g_string_append_printf(s, "\n%s\n", _("Activity in the period"));
		for (size_t i = 0; i < NACT; i++)
			labelled(s, activity_label(i), 40, act[i]);
		g_string_append_printf(s, "\n%s\n", _("Batches"));
	}

	cp_ledger_rows *st = q(l, err, CP_LQ_BATCHES, "tt", fu, tu);
	if (!st)
		return false;
	int r, nb = 0;
	while ((r = step(l, st, err)) == 1) {
		if (json) {
			g_string_append(s, nb ? ",\n    {\"name\": " : "\n    {\"name\": ");
			json_str(s, col(l, st, 0));
			g_string_append(s, ", \"started_at\": ");
			char *when = col_time(l, st, 1);
			json_str(s, when);
			g_free(when);
			g_string_append(s, ", \"operator\": ");
			json_str(s, col(l, st, 2));
			g_string_append(s, ", \"note\": ");
			json_str(s, l->ops->text(st, 3));
			g_string_append_printf(s,
			                       ", \"pages\": %lld, \"issued\": %lld, \"reprinted\": %lld"
			                       ", \"reissued\": %lld, \"files\": %lld",
			                       (long long)col_int(l, st, 4), (long long)col_int(l, st, 5),
			                       (long long)col_int(l, st, 6), (long long)col_int(l, st, 7),
			                       (long long)col_int(l, st, 8));
			batch_source_json(l, s, st, 9);
			g_string_append_c(s, '}');
		} else {
			char *when = col_time(l, st, 1);
			g_string_append_printf(s, _("  %s  %s  operator %s  pages %lld (issue %lld, "
			                            "again %lld, reissue %lld)"),
			                       col(l, st, 0), when, col(l, st, 2),
			                       (long long)col_int(l, st, 4), (long long)col_int(l, st, 5),
			                       (long long)col_int(l, st, 6), (long long)col_int(l, st, 7));
			g_free(when);
			if (!col_null(l, st, 3))
				g_string_append_printf(s, "  %s", col(l, st, 3));
			g_string_append_c(s, '\n');
			batch_source_text(l, s, st, 9);
		}
		nb++;
	}
	done(l, st);
	if (r < 0)
		return false;
	if (!json && !nb)
		g_string_append_printf(s, "  %s\n", _("(none)"));

	if (json)
		g_string_append(s, nb ? "\n  ],\n  \"print_jobs\": [" : "],\n  \"print_jobs\": [");
	if (!report_jobs(l, fu, tu, json, s, err))
		return false;
	if (json) {
		g_string_append(s, "\"balance\": {\"at\": ");
		json_str(s, to);
		g_string_append(s, ", ");
		balance_json(s, &total);
		g_string_append(s, "},\n  \"stock\": [");
	} else {
		if (to)
			g_string_append_printf(s, _("\nStock balance at the end of %s\n"), to);
		else
			g_string_append_printf(s, "\n%s\n", _("Stock balance now"));
		balance_text(s, &total);
	}

	/* Per range: collect ids first, the balance queries reuse statements. */
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
	st = q(l, err, CP_LQ_STOCK_IDS, "t", t);
	while ((r = step(l, st, err)) == 1) {
		int64_t id = col_int(l, st, 0);
		g_array_append_val(ids, id);
	}
	done(l, st);
	bool ok = r == 0;
	for (guint i = 0; ok && i < ids->len; i++) {
		int64_t id = g_array_index(ids, int64_t, i);
		cp_ledger_balance rb;
		if (!balance(l, to, id, &rb, err)) {
			ok = false;
			break;
		}
		st = q(l, err, CP_LQ_STOCK_ROW, "i", id);
		if (step(l, st, err) != 1) {
			done(l, st);
			ok = false;
			break;
		}
		cp_serial sr;
		g_strlcpy(sr.prefix, col(l, st, 0), sizeof sr.prefix);
		sr.width = (int)col_int(l, st, 1);
		char *a = cp_serial_format(&sr, col_int(l, st, 2));
		char *b = cp_serial_format(&sr, col_int(l, st, 3));
		if (json) {
			g_string_append(s, i ? ",\n    {\"first\": " : "\n    {\"first\": ");
			json_str(s, a);
			g_string_append(s, ", \"last\": ");
			json_str(s, b);
			g_string_append(s, ", \"received_on\": ");
			json_str(s, col(l, st, 4));
			g_string_append(s, ", \"note\": ");
			json_str(s, l->ops->text(st, 5));
			g_string_append(s, ", ");
			balance_json(s, &rb);
			g_string_append_c(s, '}');
		} else {
			if (i == 0)
				g_string_append_printf(s, "\n%s\n", _("Per range of stock"));
			g_string_append_printf(s,
			                       _("  %s to %s (received %s): %" PRId64 " received, %" PRId64
			                         " issued, %" PRId64 " spoiled, %" PRId64
			                         " destroyed, %" PRId64 " remaining\n"),
			                       a, b, col(l, st, 4), rb.received, rb.issued, rb.spoiled,
			                       rb.destroyed, rb.remaining);
			if (rb.returned)
				g_string_append_printf(s, _("    and %" PRId64 " taken back from the "
				                            "holder (收回)\n"),
				                       rb.returned);
		}
		g_free(a);
		g_free(b);
		done(l, st);
	}
	if (json)
		g_string_append(s, ids->len ? "\n  ]\n}\n" : "]\n}\n");
	g_array_free(ids, TRUE);
	return ok;
}

static bool report_body(cp_ledger *l, const char *from, const char *to, bool json,
                        GString *s, cp_error **err)
{
	const char *f = from ? from : "0000-00-00", *t = to ? to : "9999-12-31";
	char *fu = from ? day_start_utc(from, 0) : g_strdup("0001-01-01 00:00:00");
	char *tu = to ? day_start_utc(to, 1) : g_strdup("9999-12-31 23:59:59");
	bool ok = report_text(l, f, t, fu, tu, from, to, json, s, err);
	g_free(fu);
	g_free(tu);
	return ok;
}

char *cp_ledger_report(cp_ledger *l, const char *from, const char *to, bool json,
                       cp_error **err)
{
	if ((from && !valid_date(from)) || (to && !valid_date(to))) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL, _("'%s' is not a date (YYYY-MM-DD)"),
		             from && !valid_date(from) ? from : to);
		return NULL;
	}
	if (from && to && strcmp(from, to) > 0) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("the period starts (%s) after it ends (%s)"), from, to);
		return NULL;
	}
	if (!begin_read(l, err))
		return NULL;
	GString *s = g_string_new(NULL);
	bool ok = report_body(l, from, to, json, s, err);
	rollback(l);
	return g_string_free(s, !ok);
}

/* ---------------------------------------------------------------- history */

/* An entry of a certificate's history. */
static const label entry_kinds[] = {
	{"issue", N_("issued")},
	{"reprint", N_("printed again (earlier sheet spoiled)")},
	{"reissue", N_("reissued (第十七条)")},
	{"spoil", N_("sheet spoiled")},
	{"destroy", N_("sheet destroyed")},
	{NULL, N_("revoked (第二十四条)")},
};

char *cp_ledger_history(cp_ledger *l, const char *cert_no, cp_error **err)
{
	if (!check_cert_no(cert_no, err) || !begin_read(l, err))
		return NULL;
	GString *s = g_string_new(NULL);
	cp_ledger_rows *st = q(l, err, CP_LQ_HISTORY, "t", cert_no);
	int r = -1, n = 0;
	while ((r = step(l, st, err)) == 1) {
		const char *kind = col(l, st, 3);
		if (!n++)
			g_string_append_printf(s, _("Certificate %s\n"), cert_no);
		char *when = col_time(l, st, 0);
		if (strcmp(kind, "job") == 0) {
			/* The batch holding the certificate went to a printer. */
			g_string_append_printf(s, "%s  ", when);
			g_free(when);
			g_string_append_printf(s, _("batch %s sent to printer %s"), col(l, st, 4),
			                       col(l, st, 8));
			if (col_int(l, st, 7) > 0)
				g_string_append_printf(s, _("  job %lld"), (long long)col_int(l, st, 7));
			g_string_append_printf(s, _("  copies %lld  %s"), (long long)col_int(l, st, 10),
			                       label_of(job_state_labels, col(l, st, 9)));
			if (!col_null(l, st, 13))
				g_string_append_printf(s, "  %s", col(l, st, 13));
			g_string_append_printf(s, _("  operator %s\n"), col(l, st, 15));
			continue;
		}
		g_string_append_printf(s, "%s  %s", when, label_of(entry_kinds, kind));
		g_free(when);
		if (!col_null(l, st, 4))
			g_string_append_printf(s, _("  batch %s"), col(l, st, 4));
		if (!col_null(l, st, 5))
			g_string_append_printf(s, _("  serial %s"), col(l, st, 5));
		if (!col_null(l, st, 6))
			g_string_append_printf(s, _("  %s page %lld  sha256 %s  %s %s  %s  %s"),
			                       col(l, st, 6), (long long)col_int(l, st, 7), col(l, st, 8),
			                       col(l, st, 9), col(l, st, 10), col(l, st, 11), col(l, st, 12));
		if (!col_null(l, st, 13))
			g_string_append_printf(s, _("  reason: %s"), col(l, st, 13));
		if (strcmp(kind, "reissue") == 0)
			g_string_append(s, col_int(l, st, 14) ? _("  old sheet taken back")
			                                                : _("  old sheet not returned"));
		g_string_append_printf(s, _("  operator %s\n"), col(l, st, 15));
	}
	done(l, st);
	rollback(l);
	if (r == 0 && !n) {
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("certificate number %s is not in the ledger"), cert_no);
		r = -1;
	}
	return g_string_free(s, r != 0);
}

bool cp_ledger_cert_state(cp_ledger *l, const char *cert_no, cp_ledger_state *state,
                          char **revoke_reason, cp_error **err)
{
	*state = CP_LEDGER_UNKNOWN;
	if (revoke_reason)
		*revoke_reason = NULL;
	if (!check_cert_no(cert_no, err) || !begin_read(l, err))
		return false;
	cp_ledger_rows *st = q(l, err, CP_LQ_CERT_STANDING, "t", cert_no);
	int r = step(l, st, err);
	if (r == 1) {
		if (!col_null(l, st, 2)) {
			*state = CP_LEDGER_REVOKED;
			if (revoke_reason)
				*revoke_reason = g_strdup(col(l, st, 2));
		} else if (col_int(l, st, 1) > 0) {
			*state = CP_LEDGER_REISSUED;
		} else if (col_int(l, st, 0) > 0) {
			*state = CP_LEDGER_ISSUED;
		}
	}
	done(l, st);
	rollback(l);
	return r == 1;
}

/* ----------------------------------------------------------------- export */

/* Headers and event names in the operator's language: an auditor reads
 * 证书编号 and 补发 under zh_CN. In English they stay the short keys the
 * export always had (stock, issue, cert_no…), which scripts match on. */
static const char *const export_header[] = {
	N_("event"), N_("time"), N_("cert_no"), N_("name"), N_("id_masked"), N_("level"),
	N_("occupation"), N_("serial"), N_("serial_to"), N_("batch"), N_("file"), N_("page"),
	N_("sha256"), N_("reason"), N_("old_sheet_returned"), N_("operator"), N_("note"),
};

static const char *export_event(const char *ev)
{
	if (strcmp(ev, "stock") == 0)
		return _("stock");
	if (strcmp(ev, "issue") == 0)
		return _("issue");
	if (strcmp(ev, "reprint") == 0)
		return _("reprint");
	if (strcmp(ev, "reissue") == 0)
		return _("reissue");
	if (strcmp(ev, "spoil") == 0)
		return _("spoil");
	if (strcmp(ev, "destroy") == 0)
		return _("destroy");
	return _("revoke");
}

/* RFC 4180 (a field with blanks at either end quoted, as a spreadsheet
 * would trim them), neutralised against CSV injection (input/csv.h). */
static void csv_field(GString *s, const char *v, bool last)
{
	cp_csv_append_cell(s, v);
	g_string_append(s, last ? "\r\n" : ",");
}

static bool export_rows(cp_ledger *l, FILE *out, cp_error **err)
{
	GString *s = g_string_new("\xEF\xBB\xBF");
	for (size_t i = 0; i < G_N_ELEMENTS(export_header); i++)
		csv_field(s, _(export_header[i]), i + 1 == G_N_ELEMENTS(export_header));
	cp_ledger_rows *st = q(l, err, CP_LQ_EXPORT, "");
	int r = -1;
	bool ok = true;
	while (ok && (r = step(l, st, err)) == 1) {
		const char *ev = col(l, st, 0);
		bool stock = strcmp(ev, "stock") == 0;
		char *serial = NULL, *serial_to = NULL;
		if (stock) {
			cp_serial sr;
			g_strlcpy(sr.prefix, col(l, st, 9), sizeof sr.prefix);
			sr.width = (int)col_int(l, st, 10);
			serial = cp_serial_format(&sr, col_int(l, st, 11));
			serial_to = cp_serial_format(&sr, col_int(l, st, 12));
		} else {
			serial = g_strdup(l->ops->text(st, 9));
		}
		/* a time in the operator's time zone; stock has its day received */
		char *when = stock ? g_strdup(col(l, st, 1)) : col_time(l, st, 1);
		const char *f[17] = {
			export_event(ev), when, col(l, st, 4), col(l, st, 5), col(l, st, 6), col(l, st, 7), col(l, st, 8),
			serial, serial_to, col(l, st, 13), col(l, st, 14), col(l, st, 15), col(l, st, 16),
			col(l, st, 17),
			col_null(l, st, 18) ? ""
			: col_int(l, st, 18) ? _("yes") : _("no"),
			col(l, st, 19), col(l, st, 20),
		};
		for (size_t i = 0; i < 17; i++)
			csv_field(s, f[i], i == 16);
		g_free(serial);
		g_free(serial_to);
		g_free(when);
		/* Stream in pieces so a large ledger does not sit in memory. */
		if (s->len > 65536) {
			ok = fwrite(s->str, 1, s->len, out) == s->len;
			g_string_truncate(s, 0);
		}
	}
	done(l, st);
	if (ok && s->len)
		ok = fwrite(s->str, 1, s->len, out) == s->len;
	g_string_free(s, TRUE);
	if (!ok) {
		int e = errno;
		cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL, _("cannot write the export: %s"),
		             g_strerror(e));
	}
	return ok && r == 0;
}

bool cp_ledger_export_csv(cp_ledger *l, FILE *out, cp_error **err)
{
	if (!begin_read(l, err))
		return false;
	bool ok = export_rows(l, out, err);
	rollback(l);
	return ok;
}

bool cp_ledger_export_csv_file(cp_ledger *l, const char *path, cp_error **err)
{
	/* An unlinked file until it is complete (atomic.h): a killed export
	 * leaves nothing, a finished one replaces the previous at once. */
	cp_atomic *a = cp_atomic_open(path, CP_ATOMIC_PRIVATE, err);
	if (!a)
		return false;
	if (!cp_ledger_export_csv(l, cp_atomic_file(a), err)) {
		cp_atomic_abort(a);
		return false;
	}
	return cp_atomic_commit(a, err);
}

/* ---------------------------------------------------------------- migrate */

static const struct {
	cp_ledger_query dump, load;
	int columns;
} tables[] = {
	{CP_LQ_DUMP_STOCK, CP_LQ_LOAD_STOCK, 9},
	{CP_LQ_DUMP_BATCH, CP_LQ_LOAD_BATCH, 11},
	{CP_LQ_DUMP_PRINT, CP_LQ_LOAD_PRINT, 17},
	{CP_LQ_DUMP_SPOIL, CP_LQ_LOAD_SPOIL, 8},
	{CP_LQ_DUMP_DESTRUCTION, CP_LQ_LOAD_DESTRUCTION, 4},
	{CP_LQ_DUMP_DESTROYED, CP_LQ_LOAD_DESTROYED, 3},
	{CP_LQ_DUMP_REVOCATION, CP_LQ_LOAD_REVOCATION, 4},
	{CP_LQ_DUMP_JOB, CP_LQ_LOAD_JOB, 11},
};

/* Copies every row of `from` into `to` (in its open write transaction). */
static bool copy_rows(cp_ledger *from, cp_ledger *to, int64_t *entries, cp_error **err)
{
	for (size_t t = 0; t < G_N_ELEMENTS(tables); t++) {
		cp_ledger_rows *r = q(from, err, tables[t].dump, "");
		int more;
		while ((more = step(from, r, err)) == 1) {
			cp_ledger_arg args[MAX_ARGS];
			for (int c = 0; c < tables[t].columns; c++)
				args[c] = (cp_ledger_arg){.type = 't', .s = from->ops->text(r, c)};
			cp_ledger_rows *w = to->ops->query(to->db, tables[t].load, args,
			                                   tables[t].columns, err);
			int loaded = step(to, w, err);
			done(to, w);
			if (loaded != 1) {
				more = -1;
				break;
			}
			(*entries)++;
		}
		done(from, r);
		if (more != 0)
			return false;
	}
	int64_t one;
	return q_int(to, &one, err, CP_LQ_LOAD_DONE, "") == 1;
}

/* The export and the balance of l, to compare two ledgers. g_free(). */
static char *fingerprint(cp_ledger *l, cp_error **err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		cp_set_error(err, CP_E_NOMEM, NULL, 0, 0, NULL, _("out of memory"));
		return NULL;
	}
	cp_ledger_balance b;
	GString *jobs = g_string_new(NULL); /* the print jobs, which the export leaves out */
	bool ok = export_rows(l, f, err) && balance(l, NULL, 0, &b, err) &&
	          report_jobs(l, "0001-01-01 00:00:00", "9999-12-31 23:59:59", true, jobs, err);
	if (ok)
		fprintf(f, "%" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n%s",
		        b.received, b.issued, b.spoiled, b.destroyed, b.remaining, jobs->str);
	g_string_free(jobs, TRUE);
	fclose(f);
	if (!ok) {
		free(buf);
		return NULL;
	}
	char *s = g_strdup(buf);
	free(buf);
	return s;
}

bool cp_ledger_migrate(cp_ledger *from, cp_ledger *to, int64_t *entries, cp_error **err)
{
	int64_t n = 0, there = 0;
	if (batch_refuses(from, err) || batch_refuses(to, err))
		return false;
	if (!begin_read(from, err))
		return false;
	if (!begin_write(to, err)) {
		rollback(from);
		return false;
	}
	char *a = NULL, *b = NULL;
	bool ok = false;
	if (q_int(to, &there, err, CP_LQ_ENTRIES, "") != 1)
		goto out;
	if (there) {
		cp_set_error(err, CP_E_LEDGER, to->path, 0, 0, NULL,
		             _("the ledger to move into is not empty (%" PRId64 " entries); move "
		               "into a new one"),
		             there);
		goto out;
	}
	if (!copy_rows(from, to, &n, err) || !(a = fingerprint(from, err)) ||
	    !(b = fingerprint(to, err)))
		goto out;
	/* every entry and the balance, as an auditor reads them, before commit */
	if (strcmp(a, b) != 0) {
		cp_set_error(err, CP_E_LEDGER, to->path, 0, 0, NULL,
		             _("the copy does not read back as the original (export or balance "
		               "differ); nothing was moved"));
		goto out;
	}
	ok = commit(to, err);
	if (ok && entries)
		*entries = n;
out:
	if (!ok)
		rollback(to);
	rollback(from);
	g_free(a);
	g_free(b);
	return ok;
}

/* ---------------------------------------------------------- reprint sources */

void cp_ledger_source_clear(cp_ledger_source *src)
{
	g_free(src->cert_no);
	g_free(src->serial);
	g_free(src->batch);
	g_free(src->input);
	g_free(src->input_sha256);
	g_free(src->printer_profile);
	g_free(src->template_path);
	g_free(src->template_sha256);
	memset(src, 0, sizeof *src);
}

static char *col_dup_null(cp_ledger *l, cp_ledger_rows *r, int i)
{
	return col_null(l, r, i) ? NULL : g_strdup(col(l, r, i));
}

bool cp_ledger_source_of(cp_ledger *l, const char *cert_no, const char *batch, int page,
                         cp_ledger_source *out, cp_error **err)
{
	memset(out, 0, sizeof *out);
	if ((cert_no && !check_cert_no(cert_no, err)) || !check_text(batch, "batch", false, err))
		return false;
	if (!begin_read(l, err))
		return false;
	/* The certificate's sheet still standing (not spoiled), newest first;
	 * or the page of the batch. */
	cp_ledger_rows *st = cert_no ? q(l, err, CP_LQ_SOURCE_OF_CERT, "t", cert_no)
	                             : q(l, err, CP_LQ_SOURCE_OF_PAGE, "ti", batch, (int64_t)page);
	int r = st ? step(l, st, err) : -1;
	if (r == 1) {
		out->cert_no = g_strdup(col(l, st, 0));
		out->serial = col_dup_null(l, st, 1);
		out->batch = g_strdup(col(l, st, 2));
		out->input = col_dup_null(l, st, 3);
		out->input_sha256 = col_dup_null(l, st, 4);
		out->printer_profile = col_dup_null(l, st, 5);
		out->page = (int)col_int(l, st, 6);
		out->template_path = col_dup_null(l, st, 7);
		out->template_sha256 = col_dup_null(l, st, 8);
	} else if (r == 0 && cert_no) {
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("certificate number %s has no printed sheet in the ledger that is not "
		               "spoiled"),
		             cert_no);
	} else if (r == 0) {
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("batch %s has no page %d in the ledger"), batch, page);
	}
	if (st)
		done(l, st);
	rollback(l);
	return r == 1;
}

/* ----------------------------------------------------------------- backup */

bool cp_ledger_backup(cp_ledger *l, const char *path, cp_error **err)
{
	/* The backup would read this connection's uncommitted pages. */
	return !batch_refuses(l, err) && l->ops->backup(l->db, path, err);
}
