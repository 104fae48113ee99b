/* SPDX-License-Identifier: MIT */
/*
 * The print ledger (第十八条): blank stock, prints, spoiled sheets, reissues,
 * destruction and revocation, in one SQLite file.
 *
 * Why it is built the way it is:
 *  - WAL mode with synchronous=FULL: readers (report, export, backup) never
 *    block a printing batch, and a committed batch survives a power cut.
 *  - Every write is one BEGIN IMMEDIATE transaction, so the check "is this
 *    number issued already?" and the insert of the print happen under the same
 *    write lock: two processes can never both issue one number. A batch holds
 *    that lock from its first check to its commit.
 *  - Rows are append-only (triggers refuse UPDATE and DELETE): a ledger is a
 *    record of what happened, corrections are new entries.
 *  - Each table also carries UNIQUE constraints (one print per serial, one
 *    spoil per sheet, one destruction per serial, one revocation per number)
 *    as a second guard behind the checks that give the readable refusals.
 */
#include "ledger/ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "error.h"
#include "i18n.h"
#include "input/csv.h"

struct cp_ledger {
	sqlite3 *db;
	char *path;
	char *operator_name;
	int busy_ms;
	GHashTable *stmts;       /* SQL text (static) → prepared statement */
	cp_ledger_batch *batch;  /* the open batch, or NULL */
};

struct cp_ledger_batch {
	cp_ledger *l;
	char *name;
	char *note;
	char *started_at;
	int64_t row;                 /* batch.id once the first page is added */
	size_t count;
	GHashTable *certs;           /* cert_no → batch_cert: checked, not yet added */
	GHashTable *checked_serials; /* serial → cert_no, for those */
	int64_t next_stock;          /* cp_ledger_batch_next_serial(): the stock range */
	int64_t next_number;         /* and the sheet in it to try next; 0: not begun */
	char *input, *input_sha256;  /* cp_ledger_batch_set_source() */
	char *printer_profile, *calibration;
	char *template_path, *template_sha256;
};

/* A number of the open batch checked and not yet printed: what the check
 * found, so that adding the page does not query the ledger again (within the
 * batch's transaction only the batch itself writes, and it cannot give the
 * number or its serial to another record). Once the page is added its row in
 * the print table stands for it, and the entry goes: the table holds the
 * records in flight, not the whole batch. */
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

/* ----------------------------------------------------------------- schema */

/* migrations[v] takes a ledger from user_version v to v + 1. Version 0 is the
 * empty database that SQLite creates; a new version appends an entry here and
 * bumps CP_LEDGER_SCHEMA_VERSION, never edits an old one. */
static const char *const migrations[CP_LEDGER_SCHEMA_VERSION] = {
	/* 0 → 1 */
	"CREATE TABLE stock ("
	"  id INTEGER PRIMARY KEY,"
	"  prefix TEXT NOT NULL, width INTEGER NOT NULL,"
	"  first INTEGER NOT NULL, last INTEGER NOT NULL,"
	"  received_on TEXT NOT NULL, note TEXT,"
	"  operator TEXT NOT NULL, recorded_at TEXT NOT NULL,"
	"  CHECK (first <= last));"
	"CREATE INDEX stock_prefix ON stock(prefix, width, first);"
	"CREATE TABLE batch ("
	"  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, note TEXT,"
	"  operator TEXT NOT NULL, started_at TEXT NOT NULL);"
	"CREATE TABLE print ("
	"  id INTEGER PRIMARY KEY,"
	"  batch_id INTEGER NOT NULL REFERENCES batch(id),"
	"  kind TEXT NOT NULL CHECK (kind IN ('issue', 'reprint', 'reissue')),"
	"  cert_no TEXT NOT NULL, name TEXT NOT NULL, id_masked TEXT NOT NULL,"
	"  level TEXT NOT NULL, occupation TEXT NOT NULL,"
	"  serial TEXT UNIQUE, stock_id INTEGER REFERENCES stock(id),"
	"  file TEXT NOT NULL, page INTEGER NOT NULL, sha256 TEXT NOT NULL,"
	"  reason TEXT, old_returned INTEGER NOT NULL DEFAULT 0,"
	"  printed_at TEXT NOT NULL, operator TEXT NOT NULL,"
	"  CHECK ((kind = 'reissue') = (reason IS NOT NULL)));"
	"CREATE INDEX print_cert ON print(cert_no);"
	"CREATE TABLE spoil ("
	"  id INTEGER PRIMARY KEY,"
	"  serial TEXT UNIQUE, stock_id INTEGER REFERENCES stock(id),"
	"  print_id INTEGER UNIQUE REFERENCES print(id), cert_no TEXT,"
	"  reason TEXT NOT NULL, at TEXT NOT NULL, operator TEXT NOT NULL,"
	"  CHECK (serial IS NOT NULL OR print_id IS NOT NULL));"
	"CREATE TABLE destruction ("
	"  id INTEGER PRIMARY KEY, reason TEXT NOT NULL,"
	"  at TEXT NOT NULL, operator TEXT NOT NULL);"
	"CREATE TABLE destroyed ("
	"  serial TEXT PRIMARY KEY,"
	"  stock_id INTEGER NOT NULL REFERENCES stock(id),"
	"  destruction_id INTEGER NOT NULL REFERENCES destruction(id));"
	"CREATE TABLE revocation ("
	"  cert_no TEXT PRIMARY KEY, reason TEXT NOT NULL,"
	"  at TEXT NOT NULL, operator TEXT NOT NULL);"
	"CREATE TRIGGER stock_ro BEFORE UPDATE ON stock BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
	"CREATE TRIGGER stock_rd BEFORE DELETE ON stock BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
	"CREATE TRIGGER batch_ro BEFORE UPDATE ON batch BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
	"CREATE TRIGGER batch_rd BEFORE DELETE ON batch BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
	"CREATE TRIGGER print_ro BEFORE UPDATE ON print BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
	"CREATE TRIGGER print_rd BEFORE DELETE ON print BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
	"CREATE TRIGGER spoil_ro BEFORE UPDATE ON spoil BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
	"CREATE TRIGGER spoil_rd BEFORE DELETE ON spoil BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
	"CREATE TRIGGER destruction_ro BEFORE UPDATE ON destruction BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
	"CREATE TRIGGER destruction_rd BEFORE DELETE ON destruction BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
	"CREATE TRIGGER destroyed_ro BEFORE UPDATE ON destroyed BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
	"CREATE TRIGGER destroyed_rd BEFORE DELETE ON destroyed BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
	"CREATE TRIGGER revocation_ro BEFORE UPDATE ON revocation BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
	"CREATE TRIGGER revocation_rd BEFORE DELETE ON revocation BEGIN SELECT RAISE(ABORT, 'append-only'); END;",
	/* 1 → 2: print jobs (certpress print); older ledgers simply have none. */
	"CREATE TABLE print_job ("
	"  id INTEGER PRIMARY KEY,"
	"  batch_id INTEGER REFERENCES batch(id),"
	"  file TEXT NOT NULL, dest TEXT NOT NULL, profile TEXT,"
	"  copies INTEGER NOT NULL CHECK (copies >= 1),"
	"  job_id INTEGER,"
	"  state TEXT NOT NULL CHECK (state IN ('completed', 'canceled', 'aborted', 'refused',"
	"    'unreachable', 'lost', 'interrupted')),"
	"  message TEXT, at TEXT NOT NULL, operator TEXT NOT NULL);"
	"CREATE INDEX print_job_batch ON print_job(batch_id);"
	"CREATE TRIGGER print_job_ro BEFORE UPDATE ON print_job BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
	"CREATE TRIGGER print_job_rd BEFORE DELETE ON print_job BEGIN SELECT RAISE(ABORT, 'append-only'); END;",
	/* 2 → 3: what a batch was made from, so that a page can be made again
	 * (the input file by absolute path and its SHA-256), and the printer
	 * calibration its pages were drawn with. Older batches have NULLs. */
	"ALTER TABLE batch ADD COLUMN input TEXT;"
	"ALTER TABLE batch ADD COLUMN input_sha256 TEXT;"
	"ALTER TABLE batch ADD COLUMN printer_profile TEXT;"
	"ALTER TABLE batch ADD COLUMN calibration TEXT;"
	"ALTER TABLE batch ADD COLUMN template TEXT;"
	"ALTER TABLE batch ADD COLUMN template_sha256 TEXT;",
};

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
	return s ? s : g_strdup(days > 0 ? "9999-12-31 23:59:59" : "0000-01-01 00:00:00");
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

/* ---------------------------------------------------------------- SQLite */

static void db_error(cp_ledger *l, int rc, cp_error **err)
{
	int prim = rc & 0xff;
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		cp_set_error(err, CP_E_IO, l->path, 0, 0, NULL,
		             _("the ledger is in use by another process (waited %.1f s)"),
		             l->busy_ms / 1000.0);
	else if (prim == SQLITE_CONSTRAINT)
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("the ledger refused an entry that contradicts it: %s"),
		             sqlite3_errmsg(l->db));
	else if (prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT)
		cp_set_error(err, CP_E_IO, l->path, 0, 0, NULL,
		             _("not a certpress ledger or damaged: %s"), sqlite3_errmsg(l->db));
	else
		cp_set_error(err, CP_E_IO, l->path, 0, 0, NULL, _("ledger error: %s"),
		             sqlite3_errmsg(l->db));
}

static bool bindv(sqlite3_stmt *st, const char *types, va_list ap)
{
	int rc = SQLITE_OK;
	for (int i = 0; types[i] && rc == SQLITE_OK; i++) {
		if (types[i] == 't') {
			const char *s = va_arg(ap, const char *);
			rc = s ? sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(st, i + 1);
		} else if (types[i] == 'i') {
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		} else if (types[i] == 'I') {
			/* a row id where 0 means none: NULL keeps the foreign key valid */
			int64_t v = va_arg(ap, int64_t);
			rc = v ? sqlite3_bind_int64(st, i + 1, v) : sqlite3_bind_null(st, i + 1);
		} else {
			g_assert_not_reached();
		}
	}
	return rc == SQLITE_OK;
}

/* Returns the cached statement for sql (a string literal), reset and bound.
 * types: 't' const char * (NULL binds NULL), 'i' int64_t, 'I' int64_t with
 * 0 bound as NULL. */
static sqlite3_stmt *qv(cp_ledger *l, cp_error **err, const char *sql, const char *types,
                        va_list ap)
{
	sqlite3_stmt *st = g_hash_table_lookup(l->stmts, sql);
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		int rc = sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK) {
			db_error(l, rc, err);
			return NULL;
		}
		g_hash_table_insert(l->stmts, (char *)sql, st);
	}
	if (!bindv(st, types, ap)) {
		db_error(l, sqlite3_errcode(l->db), err);
		return NULL;
	}
	return st;
}

static sqlite3_stmt *q(cp_ledger *l, cp_error **err, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	sqlite3_stmt *st = qv(l, err, sql, types, ap);
	va_end(ap);
	return st;
}

/* 1 for a row, 0 when done, -1 on error (err set, statement reset). */
static int step(cp_ledger *l, sqlite3_stmt *st, cp_error **err)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	db_error(l, rc, err);
	return -1;
}

/* Runs a statement that returns no rows. */
static bool run(cp_ledger *l, cp_error **err, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	sqlite3_stmt *st = qv(l, err, sql, types, ap);
	va_end(ap);
	return st && step(l, st, err) == 0;
}

/* Runs a query whose first column is an integer: 1 found (*out set), 0 no
 * row, -1 error. */
static int q_int(cp_ledger *l, int64_t *out, cp_error **err, const char *sql,
                 const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	sqlite3_stmt *st = qv(l, err, sql, types, ap);
	va_end(ap);
	if (!st)
		return -1;
	int r = step(l, st, err);
	if (r == 1) {
		*out = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return r;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return g_strdup(t ? (const char *)t : "");
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

/* Column i, a stored time, in the operator's time zone. g_free(). */
static char *col_time(sqlite3_stmt *st, int i)
{
	return shown_time((const char *)sqlite3_column_text(st, i));
}

static bool exec(cp_ledger *l, const char *sql, cp_error **err)
{
	int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		db_error(l, rc, err);
		return false;
	}
	return true;
}

/* Takes the write lock now (not at the first write), waiting up to the busy
 * timeout, so that everything read afterwards stays true until COMMIT. */
static bool begin_immediate(cp_ledger *l, cp_error **err)
{
	if (l->batch) {
		cp_set_error(err, CP_E_USAGE, l->path, 0, 0, NULL,
		             _("a print batch is open on this ledger; commit or abort it first"));
		return false;
	}
	return exec(l, "BEGIN IMMEDIATE", err);
}

/* A read snapshot, so that a report's several queries see one moment. */
static bool begin_read(cp_ledger *l, cp_error **err)
{
	if (l->batch) {
		cp_set_error(err, CP_E_USAGE, l->path, 0, 0, NULL,
		             _("a print batch is open on this ledger; commit or abort it first"));
		return false;
	}
	return exec(l, "BEGIN", err);
}

static void rollback(cp_ledger *l)
{
	if (!sqlite3_get_autocommit(l->db))
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
}

static bool commit(cp_ledger *l, cp_error **err)
{
	if (exec(l, "COMMIT", err))
		return true;
	rollback(l);
	return false;
}

/* ------------------------------------------------------------ open/close */

static void stmt_finalize(void *st)
{
	sqlite3_finalize(st);
}

char *cp_ledger_default_path(void)
{
	return g_build_filename(g_get_user_data_dir(), "certpress", "ledger.sqlite", NULL);
}

static bool pragma_text(cp_ledger *l, const char *sql, char **out, cp_error **err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(l->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = col_dup(st, 0);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			*out = g_strdup("");
			rc = SQLITE_OK;
		}
	}
	if (rc != SQLITE_OK)
		db_error(l, rc, err);
	sqlite3_finalize(st);
	return rc == SQLITE_OK;
}

static bool pragma_int(cp_ledger *l, const char *sql, int64_t *out, cp_error **err)
{
	char *s = NULL;
	if (!pragma_text(l, sql, &s, err))
		return false;
	*out = g_ascii_strtoll(s, NULL, 10);
	g_free(s);
	return true;
}

/* Brings the schema to CP_LEDGER_SCHEMA_VERSION inside one write transaction,
 * re-reading the version under the lock (another process may have migrated
 * meanwhile). */
static bool migrate(cp_ledger *l, cp_error **err)
{
	int64_t version = 0, app = 0, objects = 0;
	if (!pragma_int(l, "PRAGMA user_version", &version, err) ||
	    !pragma_int(l, "PRAGMA application_id", &app, err))
		return false;
	if (version == CP_LEDGER_SCHEMA_VERSION && app == CP_LEDGER_APPLICATION_ID)
		return true;
	if (!begin_immediate(l, err))
		return false;
	if (!pragma_int(l, "PRAGMA user_version", &version, err) ||
	    !pragma_int(l, "PRAGMA application_id", &app, err) ||
	    !pragma_int(l, "SELECT count(*) FROM sqlite_master", &objects, err))
		goto fail;
	if (app != 0 && app != CP_LEDGER_APPLICATION_ID) {
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("this SQLite file belongs to another program, not a certpress ledger"));
		goto fail;
	}
	if (version > CP_LEDGER_SCHEMA_VERSION) {
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("the ledger has schema version %" PRId64 ", newer than the %d this "
		               "certpress knows; use a newer certpress"),
		             version, CP_LEDGER_SCHEMA_VERSION);
		goto fail;
	}
	if (version < 0 || (version == 0 && objects > 0 && app != CP_LEDGER_APPLICATION_ID)) {
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("this SQLite file has tables but is not a certpress ledger"));
		goto fail;
	}
	for (int64_t v = version; v < CP_LEDGER_SCHEMA_VERSION; v++)
		if (!exec(l, migrations[v], err))
			goto fail;
	char *set = g_strdup_printf("PRAGMA user_version = %d; PRAGMA application_id = %d",
	                            CP_LEDGER_SCHEMA_VERSION, CP_LEDGER_APPLICATION_ID);
	bool ok = exec(l, set, err);
	g_free(set);
	if (!ok)
		goto fail;
	return commit(l, err);
fail:
	rollback(l);
	return false;
}

/* Switching to WAL needs a moment without other connections in a rollback
 * journal transaction; two processes opening a fresh ledger at once can meet
 * here, so retry within the busy timeout. */
static bool set_wal(cp_ledger *l, cp_error **err)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)l->busy_ms * 1000;
	for (;;) {
		char *mode = NULL;
		cp_error *e = NULL;
		if (pragma_text(l, "PRAGMA journal_mode = WAL", &mode, &e)) {
			bool wal = g_ascii_strcasecmp(mode, "wal") == 0;
			g_free(mode);
			if (wal)
				return true;
			cp_set_error(err, CP_E_IO, l->path, 0, 0, NULL,
			             _("the ledger cannot use write-ahead logging here "
			               "(a network file system?)"));
			return false;
		}
		int rc = sqlite3_errcode(l->db) & 0xff;
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) ||
		    g_get_monotonic_time() > deadline) {
			cp_propagate_error(err, e);
			return false;
		}
		cp_error_free(e);
		g_usleep(10000);
	}
}

cp_ledger *cp_ledger_open(const char *path, int busy_timeout_ms, cp_error **err)
{
	cp_ledger *l = g_new0(cp_ledger, 1);
	l->path = path ? g_strdup(path) : cp_ledger_default_path();
	l->busy_ms = busy_timeout_ms < 0 ? CP_LEDGER_BUSY_TIMEOUT_MS : busy_timeout_ms;
	l->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	                                 stmt_finalize);
	const char *user = g_getenv("USER");
	l->operator_name = g_strdup(user && *user ? user : g_get_user_name());

	if (!*l->path) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL, _("the ledger path is empty"));
		goto fail;
	}
	/* Personal data (第二十一条): a folder we create is 0700 and a new file
	 * 0600 before SQLite touches it; SQLite gives its -wal and -shm files the
	 * main file's mode. */
	char *dir = g_path_get_dirname(l->path);
	if (!g_file_test(dir, G_FILE_TEST_IS_DIR) && g_mkdir_with_parents(dir, 0700) != 0) {
		int e = errno;
		cp_set_error(err, CP_E_IO, dir, 0, 0, NULL, _("cannot create the folder: %s"),
		             g_strerror(e));
		g_free(dir);
		goto fail;
	}
	g_free(dir);
	int fd = open(l->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		close(fd);
	} else if (errno != EEXIST) {
		int e = errno;
		cp_set_error(err, CP_E_IO, l->path, 0, 0, NULL, _("cannot create the ledger: %s"),
		             g_strerror(e));
		goto fail;
	}
	int rc = sqlite3_open_v2(l->path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW,
	                         NULL);
	if (rc != SQLITE_OK) {
		if (l->db)
			db_error(l, rc, err);
		else
			cp_set_error(err, CP_E_NOMEM, l->path, 0, 0, NULL, _("out of memory"));
		goto fail;
	}
	sqlite3_extended_result_codes(l->db, 1);
	sqlite3_busy_timeout(l->db, l->busy_ms);
	if (!set_wal(l, err) ||
	    !exec(l, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", err) ||
	    !migrate(l, err))
		goto fail;
	return l;
fail:
	cp_ledger_free(l);
	return NULL;
}

void cp_ledger_free(cp_ledger *l)
{
	if (!l)
		return;
	cp_ledger_batch_abort(l->batch);
	if (l->stmts)
		g_hash_table_destroy(l->stmts);
	if (l->db)
		sqlite3_close(l->db);
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
	int r = q_int(l, stock_id, err,
	              "SELECT id FROM stock WHERE prefix = ?1 AND width = ?2 AND first <= ?3 "
	              "AND last >= ?3",
	              "tii", s.prefix, (int64_t)s.width, s.number);
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
	if (!check_text(note, "--note", false, err) || !begin_immediate(l, err))
		goto out;
	int64_t id = 0;
	int r = q_int(l, &id, err,
	              "SELECT id FROM stock WHERE prefix = ?1 AND width = ?2 AND first <= ?4 "
	              "AND last >= ?3",
	              "tiii", a.prefix, (int64_t)a.width, a.number, b.number);
	if (r == 1) {
		int64_t f = 0, t = 0;
		q_int(l, &f, err, "SELECT first FROM stock WHERE id = ?1", "i", id);
		q_int(l, &t, err, "SELECT last FROM stock WHERE id = ?1", "i", id);
		char *fs = cp_serial_format(&a, f), *ts = cp_serial_format(&a, t);
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("%s to %s overlaps stock already received (%s to %s)"),
		             first, last, fs, ts);
		g_free(fs);
		g_free(ts);
	}
	char *at = now_stamp();
	if (r == 0)
		ok = run(l, err,
		         "INSERT INTO stock (prefix, width, first, last, received_on, note, "
		         "operator, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		         "tiiitttt", a.prefix, (int64_t)a.width, a.number, b.number,
		         date ? date : day, note && *note ? note : NULL, l->operator_name, at) &&
		     commit(l, err);
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
	sqlite3_stmt *st = q(l, err, "SELECT at, reason FROM revocation WHERE cert_no = ?1",
	                     "t", cert_no);
	if (!st)
		return false;
	int r = step(l, st, err);
	if (r == 1) {
		char *when = col_time(st, 0);
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("certificate number %s was revoked on %s (%s) and can never be "
		               "printed again (第二十四条)"),
		             cert_no, when, col(st, 1));
		g_free(when);
		sqlite3_reset(st);
	}
	return r == 0;
}

/* Checks that a sheet is received and unused: sets *stock_id. */
static bool check_serial_free(cp_ledger *l, const char *serial, int64_t *stock_id,
                              cp_error **err)
{
	if (stock_of(l, serial, stock_id, err) != 1)
		return false;
	sqlite3_stmt *st = q(l, err,
	                     "SELECT p.cert_no, b.name, p.printed_at FROM print p "
	                     "JOIN batch b ON b.id = p.batch_id WHERE p.serial = ?1",
	                     "t", serial);
	if (!st)
		return false;
	int r = step(l, st, err);
	if (r == 1) {
		char *when = col_time(st, 2);
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("stock serial %s was already used for certificate %s in batch %s "
		               "on %s"),
		             serial, col(st, 0), col(st, 1), when);
		g_free(when);
		sqlite3_reset(st);
	}
	if (r != 0)
		return false;
	st = q(l, err, "SELECT at FROM spoil WHERE serial = ?1", "t", serial);
	if (!st || (r = step(l, st, err)) < 0)
		return false;
	if (r == 1) {
		char *when = col_time(st, 0);
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("stock serial %s was recorded as spoiled on %s"), serial, when);
		g_free(when);
		sqlite3_reset(st);
		return false;
	}
	st = q(l, err,
	       "SELECT x.at FROM destroyed d JOIN destruction x ON x.id = d.destruction_id "
	       "WHERE d.serial = ?1",
	       "t", serial);
	if (!st || (r = step(l, st, err)) < 0)
		return false;
	if (r == 1) {
		char *when = col_time(st, 0);
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("stock serial %s was destroyed on %s"), serial, when);
		g_free(when);
		sqlite3_reset(st);
		return false;
	}
	return true;
}

/* The rules of 第十三条 and 第十七条 for one number: sets *kind to "issue",
 * "reprint" (every earlier sheet spoiled) or "reissue". adding: called from
 * _add, where the number's own reservation is not a conflict. */
static bool check_print(cp_ledger_batch *b, const cp_ledger_print *p, bool adding,
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
	if (!refuse_revoked(l, cert, err))
		return false;
	/* Twice in this batch: checked twice (a reservation still waiting for
	 * its page), or printed already (its row, in this transaction). */
	int64_t any = 0, here = 0;
	sqlite3_stmt *cnt = q(l, err,
	                      "SELECT count(*), count(CASE WHEN batch_id = ?2 THEN 1 END) "
	                      "FROM print WHERE cert_no = ?1",
	                      "ti", cert, b->row);
	int r = cnt ? step(l, cnt, err) : -1;
	if (r < 0)
		return false;
	if (r == 1) {
		any = sqlite3_column_int64(cnt, 0);
		here = sqlite3_column_int64(cnt, 1);
		sqlite3_reset(cnt);
	}
	if (here || (!adding && g_hash_table_contains(b->certs, cert))) {
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("certificate number %s appears twice in this batch"), cert);
		return false;
	}
	sqlite3_stmt *st = q(l, err,
	                     "SELECT b.name, p.printed_at, p.kind FROM print p "
	                     "JOIN batch b ON b.id = p.batch_id WHERE p.cert_no = ?1 "
	                     "AND NOT EXISTS (SELECT 1 FROM spoil s WHERE s.print_id = p.id) "
	                     "ORDER BY p.id DESC LIMIT 1",
	                     "t", cert);
	if (!st)
		return false;
	int live = step(l, st, err);
	if (live < 0)
		return false;
	if (live && !p->reissue_reason) {
		char *when = col_time(st, 1);
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("certificate number %s was already issued in batch %s on %s; "
		               "printing it again needs a reissue with a reason (第十七条)"),
		             cert, col(st, 0), when);
		g_free(when);
		sqlite3_reset(st);
		return false;
	}
	if (live)
		sqlite3_reset(st);
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
		return false;
	}
	*kind = live ? "reissue" : any ? "reprint" : "issue";
	if (!serial)
		return true;
	const char *holder = g_hash_table_lookup(b->checked_serials, serial);
	/* A refusal of the sheet, not of the number: named by the serial's
	 * field, so that a report files it under that column. */
	cp_error *se = NULL;
	if (holder && strcmp(holder, cert) != 0)
		cp_set_error(&se, CP_E_LEDGER, l->path, 0, 0, "print_serial",
		             _("stock serial %s is given to both %s and %s in this batch"), serial,
		             holder, cert);
	else if (!check_serial_free(l, serial, stock_id, &se) && se && !se->column)
		se->column = g_strdup("print_serial");
	if (!se)
		return true;
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

static bool valid_sha256(const char *s);

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
		int r = q_int(l, &id, err, "SELECT id FROM batch WHERE name = ?1", "t", name);
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
	if (b->row) {
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
	g_free(b->template_path);
	g_free(b->template_sha256);
	b->template_path = g_strdup(path);
	b->template_sha256 = g_ascii_strdown(sha256, -1);
	return true;
}

cp_ledger_batch *cp_ledger_batch_begin(cp_ledger *l, const char *name, const char *note,
                                       cp_error **err)
{
	if (!check_text(name, "batch", false, err) || !check_text(note, "note", false, err))
		return NULL;
	if (!begin_immediate(l, err))
		return NULL;
	cp_ledger_batch *b = g_new0(cp_ledger_batch, 1);
	b->l = l;
	b->started_at = now_stamp();
	if (name && *name) {
		b->name = g_strdup(name);
	} else if (note && *note) {
		/* Named after the input file and the day, as an auditor looks
		 * for it; the lock is held, so the first free one is ours. */
		if (!default_batch_name(l, note, &b->name, err)) {
			g_free(b);
			rollback(l);
			return NULL;
		}
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
	l->batch = b;
	int64_t id;
	int r = q_int(l, &id, err, "SELECT id FROM batch WHERE name = ?1", "t", b->name);
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

bool cp_ledger_batch_check(cp_ledger_batch *b, const cp_ledger_print *p, cp_error **err)
{
	const char *kind;
	int64_t stock_id;
	if (!check_print(b, p, false, &kind, &stock_id, err))
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

bool cp_ledger_batch_add(cp_ledger_batch *b, const cp_ledger_print *p, cp_error **err)
{
	cp_ledger *l = b->l;
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
	if (!c || g_strcmp0(c->serial, serial) != 0 ||
	    c->reissue != (p->reissue_reason != NULL)) {
		const char *kind;
		int64_t stock_id;
		if (!check_print(b, p, true, &kind, &stock_id, err))
			return false;
		c = reserve(b, p, kind, stock_id);
	}
	const char *kind = c->kind;
	int64_t stock_id = c->stock_id;
	if (!b->row) {
		if (!run(l, err,
		         "INSERT INTO batch (name, note, operator, started_at, input, input_sha256, "
		         "printer_profile, calibration, template, template_sha256) "
		         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
		         "tttttttttt", b->name, b->note, l->operator_name, b->started_at, b->input,
		         b->input_sha256, b->printer_profile, b->calibration, b->template_path,
		         b->template_sha256))
			return false;
		b->row = sqlite3_last_insert_rowid(l->db);
	}
	char *sha = g_ascii_strdown(p->sha256, -1);
	char *at = now_stamp();
	bool reissue = strcmp(kind, "reissue") == 0;
	bool ok = run(l, err,
	              "INSERT INTO print (batch_id, kind, cert_no, name, id_masked, level, "
	              "occupation, serial, stock_id, file, page, sha256, reason, old_returned, "
	              "printed_at, operator) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
	              "?11, ?12, ?13, ?14, ?15, ?16)",
	              "i" "ttttttt" "I" "t" "i" "tt" "i" "tt", b->row, kind, p->cert_no, p->name, p->id_masked,
	              p->level, p->occupation, p->serial && *p->serial ? p->serial : NULL,
	              stock_id, p->file, (int64_t)p->page, sha,
	              reissue ? p->reissue_reason : NULL, (int64_t)(reissue && p->old_returned),
	              at, l->operator_name);
	g_free(sha);
	g_free(at);
	if (!ok)
		return false;
	/* The row now speaks for the number and its serial. */
	if (c->serial)
		g_hash_table_remove(b->checked_serials, c->serial);
	g_hash_table_remove(b->certs, c->cert);
	b->count++;
	return true;
}

/* True (*used set) when a sheet was printed on, spoiled or destroyed. */
static bool serial_used(cp_ledger *l, const char *serial, bool *used, cp_error **err)
{
	int64_t n = 0;
	if (q_int(l, &n, err,
	          "SELECT EXISTS (SELECT 1 FROM print WHERE serial = ?1) "
	          "OR EXISTS (SELECT 1 FROM spoil WHERE serial = ?1) "
	          "OR EXISTS (SELECT 1 FROM destroyed WHERE serial = ?1)",
	          "t", serial) < 0)
		return false;
	*used = n != 0;
	return true;
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
	sqlite3_stmt *st = q(l, err,
	                     "SELECT serial, stock_id FROM print WHERE stock_id IS NOT NULL "
	                     "ORDER BY id DESC LIMIT 1",
	                     "");
	int r = st ? step(l, st, err) : -1;
	if (r < 0)
		return false;
	if (r == 1) {
		cp_serial s;
		bool ok = cp_serial_parse(col(st, 0), "serial", &s, err);
		b->next_stock = sqlite3_column_int64(st, 1);
		sqlite3_reset(st);
		if (!ok)
			return false;
		b->next_number = s.number + 1;
		return true;
	}
	st = q(l, err, "SELECT id, first FROM stock ORDER BY id LIMIT 1", "");
	r = st ? step(l, st, err) : -1;
	if (r < 0)
		return false;
	if (r == 0) {
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("no blank stock was received: record it with 'certpress ledger stock "
		               "add' before numbering sheets from it"));
		return false;
	}
	b->next_stock = sqlite3_column_int64(st, 0);
	b->next_number = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	return true;
}

bool cp_ledger_batch_next_serial(cp_ledger_batch *b, const char *from, char **serial,
                                 cp_error **err)
{
	cp_ledger *l = b->l;
	*serial = NULL;
	if (b->next_number == 0 && !next_serial_begin(b, from, err))
		return false;
	for (;;) {
		sqlite3_stmt *st = q(l, err, "SELECT prefix, width, last FROM stock WHERE id = ?1",
		                     "i", b->next_stock);
		int r = st ? step(l, st, err) : -1;
		if (r <= 0)
			return false;
		cp_serial range;
		g_strlcpy(range.prefix, col(st, 0), sizeof range.prefix);
		range.width = (int)sqlite3_column_int64(st, 1);
		int64_t last = sqlite3_column_int64(st, 2);
		sqlite3_reset(st);
		for (; b->next_number <= last; b->next_number++) {
			char *cand = cp_serial_format(&range, b->next_number);
			bool used = g_hash_table_contains(b->checked_serials, cand);
			if (!used && !serial_used(l, cand, &used, err)) {
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
		st = q(l, err, "SELECT id, first FROM stock WHERE id > ?1 ORDER BY id LIMIT 1", "i",
		        b->next_stock);
		r = st ? step(l, st, err) : -1;
		if (r < 0)
			return false;
		if (r == 0) {
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("the blank stock received is used up: record the next delivery "
			               "with 'certpress ledger stock add'"));
			return false;
		}
		b->next_stock = sqlite3_column_int64(st, 0);
		b->next_number = sqlite3_column_int64(st, 1);
		sqlite3_reset(st);
	}
}

static void batch_free(cp_ledger_batch *b)
{
	if (b->l->batch == b)
		b->l->batch = NULL;
	g_hash_table_destroy(b->certs);
	g_hash_table_destroy(b->checked_serials);
	g_free(b->name);
	g_free(b->note);
	g_free(b->started_at);
	g_free(b->input);
	g_free(b->input_sha256);
	g_free(b->printer_profile);
	g_free(b->calibration);
	g_free(b->template_path);
	g_free(b->template_sha256);
	g_free(b);
}

bool cp_ledger_batch_commit(cp_ledger_batch *b, cp_error **err)
{
	cp_ledger *l = b->l;
	batch_free(b);
	return commit(l, err);
}

void cp_ledger_batch_abort(cp_ledger_batch *b)
{
	if (!b)
		return;
	cp_ledger *l = b->l;
	batch_free(b);
	rollback(l);
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
	if (!begin_immediate(l, err))
		goto out;
	int64_t batch_id = 0;
	if (j->batch) {
		int r = q_int(l, &batch_id, err, "SELECT id FROM batch WHERE name = ?1", "t", j->batch);
		if (r == 0)
			cp_set_error(err, CP_E_USAGE, l->path, 0, 0, NULL,
			             _("there is no batch named %s in the ledger"), j->batch);
		if (r != 1) {
			rollback(l);
			goto out;
		}
	}
	char *at = now_stamp();
	ok = run(l, err,
	         "INSERT INTO print_job (batch_id, file, dest, profile, copies, job_id, state, "
	         "message, at, operator) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	         "ItttiItttt", batch_id, j->file, j->dest, j->profile, (int64_t)j->copies,
	         (int64_t)j->job_id, j->state, msg, at, l->operator_name);
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
	sqlite3_stmt *st = q(l, err,
	                     "SELECT b.name FROM print p JOIN batch b ON b.id = p.batch_id "
	                     "WHERE p.file = ?1 OR p.file = ?2 ORDER BY p.id DESC LIMIT 1",
	                     "tt", file, abs);
	int r = st ? step(l, st, err) : -1;
	if (r == 1)
		*name = col_dup(st, 0);
	if (st)
		sqlite3_reset(st);
	/* A file recorded by a relative path names the same file when it
	 * resolves to it from here (render and print run in one folder). */
	if (r == 0) {
		char *base = g_path_get_basename(abs);
		st = q(l, err,
		       "SELECT p.file, b.name FROM print p JOIN batch b ON b.id = p.batch_id "
		       "WHERE substr(p.file, 1, 1) <> '/' AND (p.file = ?1 OR p.file LIKE '%/' || ?1 "
		       ") GROUP BY p.batch_id, p.file ORDER BY max(p.id) DESC",
		       "t", base);
		g_free(base);
		while (st && (r = step(l, st, err)) == 1) {
			char *c = g_canonicalize_filename(col(st, 0), NULL);
			bool same = strcmp(c, abs) == 0;
			g_free(c);
			if (same) {
				*name = col_dup(st, 1);
				sqlite3_reset(st);
				r = 0;
				break;
			}
		}
		if (!st)
			r = -1;
	}
	g_free(abs);
	rollback(l);
	return r >= 0;
}

/* ------------------------------------------------- spoil, destroy, revoke */

bool cp_ledger_spoil(cp_ledger *l, const char *serial, const char *cert_no,
                     const char *reason, cp_error **err)
{
	if (serial && !*serial)
		serial = NULL;
	if (cert_no && !*cert_no)
		cert_no = NULL;
	if (!serial && !cert_no) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("name the spoiled sheet by its stock serial (or, for a sheet "
		               "without one, by its certificate number)"));
		return false;
	}
	cp_serial parsed;
	if ((serial && !cp_serial_parse(serial, "--serial", &parsed, err)) ||
	    (cert_no && !check_cert_no(cert_no, err)) ||
	    !check_text(reason, "--reason", true, err) || !begin_immediate(l, err))
		return false;
	int64_t stock_id = 0, print_id = 0, n = 0;
	char *printed_cert = NULL;
	bool ok = false;
	sqlite3_stmt *st;
	int r;
	if (serial) {
		if (stock_of(l, serial, &stock_id, err) != 1)
			goto out;
		if ((r = q_int(l, &n, err, "SELECT count(*) FROM destroyed WHERE serial = ?1", "t",
		               serial)) < 0)
			goto out;
		if (n) {
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("stock serial %s was destroyed already"), serial);
			goto out;
		}
		if (q_int(l, &n, err, "SELECT count(*) FROM spoil WHERE serial = ?1", "t",
		          serial) < 0)
			goto out;
		if (n) {
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("stock serial %s was recorded as spoiled already"), serial);
			goto out;
		}
		st = q(l, err, "SELECT id, cert_no FROM print WHERE serial = ?1", "t", serial);
		if (!st || (r = step(l, st, err)) < 0)
			goto out;
		if (r == 1) {
			print_id = sqlite3_column_int64(st, 0);
			printed_cert = col_dup(st, 1);
			sqlite3_reset(st);
		}
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
		r = q_int(l, &print_id, err,
		          "SELECT p.id FROM print p WHERE p.cert_no = ?1 AND p.serial IS NULL "
		          "AND NOT EXISTS (SELECT 1 FROM spoil s WHERE s.print_id = p.id) "
		          "ORDER BY p.id DESC LIMIT 1",
		          "t", cert_no);
		if (r < 0)
			goto out;
		if (r == 0) {
			cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
			             _("certificate %s has no issued sheet printed without a stock "
			               "serial; name the sheet with --serial"),
			             cert_no);
			goto out;
		}
		printed_cert = g_strdup(cert_no);
	}
	char *at = now_stamp();
	ok = run(l, err,
	         "INSERT INTO spoil (serial, stock_id, print_id, cert_no, reason, at, operator) "
	         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	         "tIItttt", serial, stock_id, print_id,
	         printed_cert, reason, at, l->operator_name) &&
	     commit(l, err);
	g_free(at);
out:
	if (!ok)
		rollback(l);
	g_free(printed_cert);
	return ok;
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
	if (q_int(l, &n, err, "SELECT count(*) FROM destroyed WHERE serial = ?1", "t", serial) < 0)
		goto out;
	if (n) {
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("stock serial %s was destroyed already"), serial);
		goto out;
	}
	sqlite3_stmt *st = q(l, err,
	                     "SELECT p.cert_no FROM print p WHERE p.serial = ?1 "
	                     "AND NOT EXISTS (SELECT 1 FROM spoil s WHERE s.print_id = p.id) "
	                     "AND NOT EXISTS (SELECT 1 FROM print r WHERE r.cert_no = p.cert_no "
	                     "  AND r.kind = 'reissue' AND r.old_returned AND r.id > p.id)",
	                     "t", serial);
	int r = st ? step(l, st, err) : -1;
	if (r < 0)
		goto out;
	if (r == 1) {
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("stock serial %s carries certificate %s, which is issued; only "
		               "blank, spoiled or returned sheets can be destroyed"),
		             serial, col(st, 0));
		sqlite3_reset(st);
		goto out;
	}
	ok = run(l, err, "INSERT INTO destroyed (serial, stock_id, destruction_id) VALUES (?1, ?2, ?3)",
	         "tii", serial, stock_id, destruction);
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
	if (!check_text(reason, "--reason", true, err) || !begin_immediate(l, err))
		return false;
	char *at = now_stamp();
	bool ok = run(l, err, "INSERT INTO destruction (reason, at, operator) VALUES (?1, ?2, ?3)",
	              "ttt", reason, at, l->operator_name);
	g_free(at);
	int64_t id = sqlite3_last_insert_rowid(l->db);
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
	    !begin_immediate(l, err))
		return false;
	int64_t n = 0;
	bool ok = false;
	if (q_int(l, &n, err, "SELECT count(*) FROM print WHERE cert_no = ?1", "t", cert_no) < 0)
		goto out;
	if (!n) {
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("certificate number %s is not in the ledger"), cert_no);
		goto out;
	}
	if (!refuse_revoked(l, cert_no, err))
		goto out;
	char *at = now_stamp();
	ok = run(l, err,
	         "INSERT INTO revocation (cert_no, reason, at, operator) VALUES (?1, ?2, ?3, ?4)",
	         "tttt", cert_no, reason, at, l->operator_name) &&
	     commit(l, err);
	g_free(at);
out:
	if (!ok)
		rollback(l);
	return ok;
}

/* ---------------------------------------------------------------- balance */

/* Of the sheets counted as issued, those taken back from the holder by a
 * later reissue with the old sheet returned (收回) before `end`: they move
 * from issued to returned (and on to destroyed when destroyed). */
static bool balance_returned(cp_ledger *l, int64_t stock_id, const char *end, const char *d,
                             cp_ledger_balance *o, cp_error **err)
{
	if (q_int(l, &o->returned, err,
	          "SELECT count(*) FROM print p JOIN stock s ON s.id = p.stock_id "
	          "WHERE datetime(p.printed_at) < ?3 AND s.received_on <= ?1 "
	          "AND (?2 = 0 OR s.id = ?2) "
	          "AND EXISTS (SELECT 1 FROM print r WHERE r.cert_no = p.cert_no "
	          "  AND r.id > p.id AND r.kind = 'reissue' AND r.old_returned = 1 "
	          "  AND datetime(r.printed_at) < ?3) "
	          "AND NOT EXISTS (SELECT 1 FROM spoil sp WHERE sp.serial = p.serial "
	          "  AND datetime(sp.at) < ?3) "
	          "AND NOT EXISTS (SELECT 1 FROM destroyed d "
	          "  JOIN destruction x ON x.id = d.destruction_id "
	          "  WHERE d.serial = p.serial AND datetime(x.at) < ?3)",
	          "tit", d, stock_id, end) < 0)
		return false;
	o->issued -= o->returned;
	return true;
}

/* Each received sheet is in exactly one state at the end of a day:
 * destroyed, else spoiled, else issued (printed on), else remaining; so the
 * four add up to what was received by construction, and the report shows
 * every term. Timestamps compare by their local date prefix. */
static bool balance(cp_ledger *l, const char *date, int64_t stock_id, cp_ledger_balance *o,
                    cp_error **err)
{
	const char *d = date ? date : "9999-12-31";
	char *end = date ? day_start_utc(date, 1) : g_strdup("9999-12-31 23:59:59");
	memset(o, 0, sizeof *o);
	bool ok = !(
	    q_int(l, &o->received, err,
	          "SELECT coalesce(sum(last - first + 1), 0) FROM stock "
	          "WHERE received_on <= ?1 AND (?2 = 0 OR id = ?2)",
	          "ti", d, stock_id) < 0 ||
	    q_int(l, &o->destroyed, err,
	          "SELECT count(*) FROM destroyed d JOIN destruction x ON x.id = d.destruction_id "
	          "JOIN stock s ON s.id = d.stock_id WHERE datetime(x.at) < ?3 "
	          "AND s.received_on <= ?1 AND (?2 = 0 OR s.id = ?2)",
	          "tit", d, stock_id, end) < 0 ||
	    q_int(l, &o->spoiled, err,
	          "SELECT count(*) FROM spoil sp JOIN stock s ON s.id = sp.stock_id "
	          "WHERE datetime(sp.at) < ?3 AND s.received_on <= ?1 "
	          "AND (?2 = 0 OR s.id = ?2) AND NOT EXISTS (SELECT 1 FROM destroyed d "
	          "  JOIN destruction x ON x.id = d.destruction_id "
	          "  WHERE d.serial = sp.serial AND datetime(x.at) < ?3)",
	          "tit", d, stock_id, end) < 0 ||
	    q_int(l, &o->issued, err,
	          "SELECT count(*) FROM print p JOIN stock s ON s.id = p.stock_id "
	          "WHERE datetime(p.printed_at) < ?3 AND s.received_on <= ?1 "
	          "AND (?2 = 0 OR s.id = ?2) "
	          "AND NOT EXISTS (SELECT 1 FROM spoil sp WHERE sp.serial = p.serial "
	          "  AND datetime(sp.at) < ?3) "
	          "AND NOT EXISTS (SELECT 1 FROM destroyed d "
	          "  JOIN destruction x ON x.id = d.destruction_id "
	          "  WHERE d.serial = p.serial AND datetime(x.at) < ?3)",
	          "tit", d, stock_id, end) < 0 ||
	    !balance_returned(l, stock_id, end, d, o, err));
	g_free(end);
	if (!ok)
		return false;
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

/* ?1, ?2: the period's first and last day (stock only); ?3, ?4: the
 * instants (UTC) it starts and ends, for the stored times (see now_stamp()). */
#define IN_PERIOD(t) " datetime(" t ") >= ?3 AND datetime(" t ") < ?4"
static const char *const activity_sql[NACT] = {
	"SELECT coalesce(sum(last - first + 1), 0) FROM stock WHERE received_on BETWEEN ?1 AND ?2",
	"SELECT count(*) FROM print WHERE" IN_PERIOD("printed_at"),
	"SELECT count(*) FROM print WHERE kind = 'issue' AND" IN_PERIOD("printed_at"),
	"SELECT count(*) FROM print WHERE kind = 'reprint' AND" IN_PERIOD("printed_at"),
	"SELECT count(*) FROM print WHERE kind = 'reissue' AND" IN_PERIOD("printed_at"),
	"SELECT count(*) FROM spoil WHERE" IN_PERIOD("at"),
	("SELECT count(*) FROM destroyed d JOIN destruction x ON x.id = d.destruction_id "
	 "WHERE" IN_PERIOD("x.at")),
	"SELECT count(*) FROM revocation WHERE" IN_PERIOD("at"),
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

/* A print job's final state, as a reader of the ledger says it. */
static const char *job_state_label(const char *state)
{
	if (strcmp(state, "completed") == 0)
		return _("printed (job completed)");
	if (strcmp(state, "canceled") == 0)
		return _("NOT PRINTED: job canceled");
	if (strcmp(state, "aborted") == 0)
		return _("NOT PRINTED: job aborted by the printer");
	if (strcmp(state, "refused") == 0)
		return _("NOT PRINTED: the printer refused the job");
	if (strcmp(state, "unreachable") == 0)
		return _("NOT PRINTED: the printer could not be reached");
	if (strcmp(state, "interrupted") == 0)
		return _("interrupted; the job was asked to cancel");
	return _("contact lost: whether it printed is unknown");
}

/* The print jobs of the period: where each batch was sent and how it ended. */
static bool report_jobs(cp_ledger *l, const char *fu, const char *tu, bool json, GString *s,
                        cp_error **err)
{
	sqlite3_stmt *st = q(l, err,
	                     "SELECT j.at, b.name, j.file, j.dest, j.job_id, j.copies, j.state, "
	                     "j.profile, j.message FROM print_job j LEFT JOIN batch b "
	                     "ON b.id = j.batch_id "
	                     "WHERE datetime(j.at) >= ?1 AND datetime(j.at) < ?2 "
	                     "ORDER BY j.id",
	                     "tt", fu, tu);
	if (!st)
		return false;
	int r, n = 0;
	if (!json)
		g_string_append_printf(s, "\n%s\n", _("Print jobs"));
	while ((r = step(l, st, err)) == 1) {
		if (json) {
			g_string_append(s, n ? ",\n    {\"at\": " : "\n    {\"at\": ");
			char *when = col_time(st, 0);
			json_str(s, when);
			g_free(when);
			g_string_append(s, ", \"batch\": ");
			json_str(s, (const char *)sqlite3_column_text(st, 1));
			g_string_append(s, ", \"file\": ");
			json_str(s, col(st, 2));
			g_string_append(s, ", \"dest\": ");
			json_str(s, col(st, 3));
			g_string_append_printf(s, ", \"job_id\": %lld, \"copies\": %lld, \"state\": ",
			                       sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5));
			json_str(s, col(st, 6));
			g_string_append(s, ", \"profile\": ");
			json_str(s, (const char *)sqlite3_column_text(st, 7));
			g_string_append(s, ", \"message\": ");
			json_str(s, (const char *)sqlite3_column_text(st, 8));
			g_string_append_c(s, '}');
		} else {
			char *when = col_time(st, 0);
			g_string_append_printf(s, "  %s  ", when);
			g_free(when);
			if (sqlite3_column_type(st, 1) != SQLITE_NULL)
				g_string_append_printf(s, _("batch %s"), col(st, 1));
			else
				g_string_append(s, col(st, 2));
			g_string_append_printf(s, _("  to %s"), col(st, 3));
			if (sqlite3_column_int64(st, 4) > 0)
				g_string_append_printf(s, _("  job %lld"), sqlite3_column_int64(st, 4));
			g_string_append_printf(s, _("  copies %lld  %s"), sqlite3_column_int64(st, 5),
			                       job_state_label(col(st, 6)));
			if (sqlite3_column_type(st, 7) != SQLITE_NULL)
				g_string_append_printf(s, _("  printer profile %s"), col(st, 7));
			g_string_append_c(s, '\n');
		}
		n++;
	}
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
static void batch_source_json(GString *s, sqlite3_stmt *st, int i)
{
	static const char *const keys[] = {"input", "input_sha256", "printer_profile",
	                                   "calibration", "template", "template_sha256"};
	for (int k = 0; k < (int)G_N_ELEMENTS(keys); k++) {
		g_string_append_printf(s, ", \"%s\": ", keys[k]);
		json_str(s, (const char *)sqlite3_column_text(st, i + k));
	}
}

static void batch_source_text(GString *s, sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i + 1) != SQLITE_NULL)
		g_string_append_printf(s, _("    input sha256 %s\n"), col(st, i + 1));
	if (sqlite3_column_type(st, i + 3) != SQLITE_NULL)
		g_string_append_printf(s, _("    printer profile %s, %s\n"),
		                       sqlite3_column_type(st, i + 2) != SQLITE_NULL ? col(st, i + 2)
		                                                                   : _("none"),
		                       col(st, i + 3));
}

/* The report, the period given as days (f, t: for the stock received) and as
 * instants in UTC (fu, tu: for the stored times). */
static bool report_text(cp_ledger *l, const char *f, const char *t, const char *fu,
                        const char *tu, const char *from, const char *to, bool json,
                        GString *s, cp_error **err)
{
	int64_t act[NACT];
	for (size_t i = 0; i < NACT; i++)
		if ((i ? q_int(l, &act[i], err, activity_sql[i], "tttt", f, t, fu, tu)
		       : q_int(l, &act[i], err, activity_sql[i], "tt", f, t)) < 0)
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

	sqlite3_stmt *st = q(l, err,
	                     "SELECT b.name, b.started_at, b.operator, b.note, count(p.id), "
	                     "sum(p.kind = 'issue'), sum(p.kind = 'reprint'), "
	                     "sum(p.kind = 'reissue'), count(DISTINCT p.file), "
	                     "b.input, b.input_sha256, b.printer_profile, b.calibration, "
	                     "b.template, b.template_sha256 "
	                     "FROM batch b JOIN print p ON p.batch_id = b.id "
	                     "WHERE datetime(b.started_at) >= ?1 AND datetime(b.started_at) < ?2 "
	                     "GROUP BY b.id ORDER BY b.id",
	                     "tt", fu, tu);
	if (!st)
		return false;
	int r, nb = 0;
	while ((r = step(l, st, err)) == 1) {
		if (json) {
			g_string_append(s, nb ? ",\n    {\"name\": " : "\n    {\"name\": ");
			json_str(s, col(st, 0));
			g_string_append(s, ", \"started_at\": ");
			char *when = col_time(st, 1);
			json_str(s, when);
			g_free(when);
			g_string_append(s, ", \"operator\": ");
			json_str(s, col(st, 2));
			g_string_append(s, ", \"note\": ");
			json_str(s, (const char *)sqlite3_column_text(st, 3));
			g_string_append_printf(s,
			                       ", \"pages\": %lld, \"issued\": %lld, \"reprinted\": %lld"
			                       ", \"reissued\": %lld, \"files\": %lld}",
			                       sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5),
			                       sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 7),
			                       sqlite3_column_int64(st, 8));
			s->len--; /* the closing brace */
			batch_source_json(s, st, 9);
			g_string_append_c(s, '}');
		} else {
			char *when = col_time(st, 1);
			g_string_append_printf(s, _("  %s  %s  operator %s  pages %lld (issue %lld, "
			                            "again %lld, reissue %lld)"),
			                       col(st, 0), when, col(st, 2),
			                       sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5),
			                       sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 7));
			g_free(when);
			if (sqlite3_column_type(st, 3) != SQLITE_NULL)
				g_string_append_printf(s, "  %s", col(st, 3));
			g_string_append_c(s, '\n');
			batch_source_text(s, st, 9);
		}
		nb++;
	}
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
	st = q(l, err, "SELECT id FROM stock WHERE received_on <= ?1 ORDER BY id", "t", t);
	while (st && (r = step(l, st, err)) == 1) {
		int64_t id = sqlite3_column_int64(st, 0);
		g_array_append_val(ids, id);
	}
	bool ok = st && r == 0;
	for (guint i = 0; ok && i < ids->len; i++) {
		int64_t id = g_array_index(ids, int64_t, i);
		cp_ledger_balance rb;
		st = q(l, err,
		       "SELECT prefix, width, first, last, received_on, note FROM stock WHERE id = ?1",
		       "i", id);
		if (!st || !balance(l, to, id, &rb, err) || step(l, st, err) != 1) {
			ok = false;
			break;
		}
		cp_serial sr;
		g_strlcpy(sr.prefix, col(st, 0), sizeof sr.prefix);
		sr.width = (int)sqlite3_column_int64(st, 1);
		char *a = cp_serial_format(&sr, sqlite3_column_int64(st, 2));
		char *b = cp_serial_format(&sr, sqlite3_column_int64(st, 3));
		if (json) {
			g_string_append(s, i ? ",\n    {\"first\": " : "\n    {\"first\": ");
			json_str(s, a);
			g_string_append(s, ", \"last\": ");
			json_str(s, b);
			g_string_append(s, ", \"received_on\": ");
			json_str(s, col(st, 4));
			g_string_append(s, ", \"note\": ");
			json_str(s, (const char *)sqlite3_column_text(st, 5));
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
			                       a, b, col(st, 4), rb.received, rb.issued, rb.spoiled,
			                       rb.destroyed, rb.remaining);
			if (rb.returned)
				g_string_append_printf(s, _("    and %" PRId64 " taken back from the "
				                            "holder (收回)\n"),
				                       rb.returned);
		}
		g_free(a);
		g_free(b);
		sqlite3_reset(st);
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
	char *fu = from ? day_start_utc(from, 0) : g_strdup("0000-01-01 00:00:00");
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

/* Every entry about one certificate, in time order: its prints, the spoiled
 * sheets and destruction of the sheets it was printed on, its revocation. */
static const char history_sql[] =
	"SELECT * FROM ("
	"SELECT p.printed_at AS at, 1 AS rank, p.id, p.kind, b.name, p.serial, p.file, "
	"  p.page, p.sha256, p.name, p.id_masked, p.level, p.occupation, p.reason, "
	"  p.old_returned, p.operator, p.id AS seq "
	"FROM print p JOIN batch b ON b.id = p.batch_id WHERE p.cert_no = ?1 "
	"UNION ALL "
	"SELECT s.at, 2, s.id, 'spoil', NULL, s.serial, NULL, NULL, NULL, NULL, NULL, NULL, "
	"  NULL, s.reason, NULL, s.operator, coalesce(s.print_id, 9e18) "
	"FROM spoil s WHERE s.cert_no = ?1 "
	"UNION ALL "
	"SELECT x.at, 3, x.id, 'destroy', NULL, d.serial, NULL, NULL, NULL, NULL, NULL, NULL, "
	"  NULL, x.reason, NULL, x.operator, 9e18 "
	"FROM destroyed d JOIN destruction x ON x.id = d.destruction_id "
	"WHERE d.serial IN (SELECT serial FROM print WHERE cert_no = ?1 AND serial IS NOT NULL) "
	"UNION ALL "
	"SELECT r.at, 4, 0, 'revoke', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
	"  r.reason, NULL, r.operator, 9e18 FROM revocation r WHERE r.cert_no = ?1 "
	"UNION ALL "
	"SELECT j.at, 1.5, j.id, 'job', b.name, NULL, NULL, j.job_id, j.dest, j.state, j.copies, "
	"  NULL, NULL, j.message, NULL, j.operator, "
	"  (SELECT max(id) FROM print WHERE batch_id = j.batch_id) "
	"FROM print_job j JOIN batch b ON b.id = j.batch_id "
	"WHERE j.batch_id IN (SELECT batch_id FROM print WHERE cert_no = ?1) "
	/* In time, whatever offset it was stored with. Times have whole
	 * seconds: within one second the entries go in the order they can only
	 * have happened in (seq) — a print, then the job of its batch, then the
	 * spoiling of that sheet, then a later print (a reprint), then what has
	 * no print of its own. */
	") ORDER BY datetime(at), seq, 2, 3";

static const char *kind_label(const char *k)
{
	if (strcmp(k, "issue") == 0)
		return _("issued");
	if (strcmp(k, "reprint") == 0)
		return _("printed again (earlier sheet spoiled)");
	if (strcmp(k, "reissue") == 0)
		return _("reissued (第十七条)");
	if (strcmp(k, "spoil") == 0)
		return _("sheet spoiled");
	if (strcmp(k, "destroy") == 0)
		return _("sheet destroyed");
	return _("revoked (第二十四条)");
}

char *cp_ledger_history(cp_ledger *l, const char *cert_no, cp_error **err)
{
	if (!check_cert_no(cert_no, err) || !begin_read(l, err))
		return NULL;
	GString *s = g_string_new(NULL);
	sqlite3_stmt *st = q(l, err, history_sql, "t", cert_no);
	int r = -1, n = 0;
	while (st && (r = step(l, st, err)) == 1) {
		const char *kind = col(st, 3);
		if (!n++)
			g_string_append_printf(s, _("Certificate %s\n"), cert_no);
		char *when = col_time(st, 0);
		if (strcmp(kind, "job") == 0) {
			/* The batch holding the certificate went to a printer. */
			g_string_append_printf(s, "%s  ", when);
			g_free(when);
			g_string_append_printf(s, _("batch %s sent to printer %s"), col(st, 4),
			                       col(st, 8));
			if (sqlite3_column_int64(st, 7) > 0)
				g_string_append_printf(s, _("  job %lld"), sqlite3_column_int64(st, 7));
			g_string_append_printf(s, _("  copies %lld  %s"), sqlite3_column_int64(st, 10),
			                       job_state_label(col(st, 9)));
			if (sqlite3_column_type(st, 13) != SQLITE_NULL)
				g_string_append_printf(s, "  %s", col(st, 13));
			g_string_append_printf(s, _("  operator %s\n"), col(st, 15));
			continue;
		}
		g_string_append_printf(s, "%s  %s", when, kind_label(kind));
		g_free(when);
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			g_string_append_printf(s, _("  batch %s"), col(st, 4));
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			g_string_append_printf(s, _("  serial %s"), col(st, 5));
		if (sqlite3_column_type(st, 6) != SQLITE_NULL)
			g_string_append_printf(s, _("  %s page %lld  sha256 %s  %s %s  %s  %s"),
			                       col(st, 6), sqlite3_column_int64(st, 7), col(st, 8),
			                       col(st, 9), col(st, 10), col(st, 11), col(st, 12));
		if (sqlite3_column_type(st, 13) != SQLITE_NULL)
			g_string_append_printf(s, _("  reason: %s"), col(st, 13));
		if (strcmp(kind, "reissue") == 0)
			g_string_append(s, sqlite3_column_int64(st, 14) ? _("  old sheet taken back")
			                                                : _("  old sheet not returned"));
		g_string_append_printf(s, _("  operator %s\n"), col(st, 15));
	}
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
	sqlite3_stmt *st = q(l, err,
		"SELECT (SELECT count(*) FROM print WHERE cert_no = ?1), "
		"  (SELECT count(*) FROM print WHERE cert_no = ?1 AND kind = 'reissue'), "
		"  (SELECT reason FROM revocation WHERE cert_no = ?1)", "t", cert_no);
	int r = st ? step(l, st, err) : -1;
	if (r == 1) {
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			*state = CP_LEDGER_REVOKED;
			if (revoke_reason)
				*revoke_reason = g_strdup(col(st, 2));
		} else if (sqlite3_column_int64(st, 1) > 0) {
			*state = CP_LEDGER_REISSUED;
		} else if (sqlite3_column_int64(st, 0) > 0) {
			*state = CP_LEDGER_ISSUED;
		}
		sqlite3_reset(st);
	}
	rollback(l);
	return r == 1;
}

/* ----------------------------------------------------------------- export */

static const char export_sql[] =
	"SELECT * FROM ("
	"SELECT 'stock' AS event, s.received_on AS at, 0 AS rank, s.id AS id, NULL, NULL, "
	"  NULL, NULL, NULL, s.prefix, s.width, s.first, s.last, NULL, NULL, NULL, NULL, "
	"  NULL, NULL, s.operator, s.note "
	"FROM stock s "
	"UNION ALL "
	"SELECT p.kind, p.printed_at, 1, p.id, p.cert_no, p.name, p.id_masked, p.level, "
	"  p.occupation, p.serial, NULL, NULL, NULL, b.name, p.file, p.page, p.sha256, "
	"  p.reason, CASE WHEN p.kind = 'reissue' THEN p.old_returned END, p.operator, NULL "
	"FROM print p JOIN batch b ON b.id = p.batch_id "
	"UNION ALL "
	"SELECT 'spoil', s.at, 2, s.id, s.cert_no, NULL, NULL, NULL, NULL, s.serial, NULL, "
	"  NULL, NULL, NULL, NULL, NULL, NULL, s.reason, NULL, s.operator, NULL "
	"FROM spoil s "
	"UNION ALL "
	"SELECT 'destroy', x.at, 3, x.id, NULL, NULL, NULL, NULL, NULL, d.serial, NULL, "
	"  NULL, NULL, NULL, NULL, NULL, NULL, x.reason, NULL, x.operator, NULL "
	"FROM destroyed d JOIN destruction x ON x.id = d.destruction_id "
	"UNION ALL "
	"SELECT 'revoke', r.at, 4, 0, r.cert_no, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
	"  NULL, NULL, NULL, NULL, NULL, r.reason, NULL, r.operator, NULL "
	"FROM revocation r "
	/* in time, whatever offset a time was stored with; stock at the start of
	 * the operator's day it was received */
	") ORDER BY CASE WHEN event = 'stock' THEN datetime(at, 'utc') ELSE datetime(at) END, "
	"3, 4, 10";

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
	sqlite3_stmt *st = q(l, err, export_sql, "");
	int r = -1;
	bool ok = true;
	while (ok && st && (r = step(l, st, err)) == 1) {
		const char *ev = col(st, 0);
		bool stock = strcmp(ev, "stock") == 0;
		char *serial = NULL, *serial_to = NULL;
		if (stock) {
			cp_serial sr;
			g_strlcpy(sr.prefix, col(st, 9), sizeof sr.prefix);
			sr.width = (int)sqlite3_column_int64(st, 10);
			serial = cp_serial_format(&sr, sqlite3_column_int64(st, 11));
			serial_to = cp_serial_format(&sr, sqlite3_column_int64(st, 12));
		} else {
			serial = g_strdup((const char *)sqlite3_column_text(st, 9));
		}
		/* a time in the operator's time zone; stock has its day received */
		char *when = stock ? g_strdup(col(st, 1)) : col_time(st, 1);
		const char *f[17] = {
			export_event(ev), when, col(st, 4), col(st, 5), col(st, 6), col(st, 7), col(st, 8),
			serial, serial_to, col(st, 13), col(st, 14), col(st, 15), col(st, 16),
			col(st, 17),
			sqlite3_column_type(st, 18) == SQLITE_NULL ? ""
			: sqlite3_column_int64(st, 18) ? _("yes") : _("no"),
			col(st, 19), col(st, 20),
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
	if (st && r == 1)
		sqlite3_reset(st);
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

/* Creates a temporary 0600 file beside path, for an atomic rename. */
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
	sqlite3_stmt *st =
	    cert_no ? q(l, err,
	                "SELECT p.cert_no, p.serial, b.name, b.input, b.input_sha256, "
	                "b.printer_profile, p.page, b.template, b.template_sha256 "
	                "FROM print p JOIN batch b ON b.id = p.batch_id WHERE p.cert_no = ?1 AND NOT EXISTS (SELECT 1 FROM spoil s "
	                "  WHERE s.print_id = p.id) ORDER BY p.id DESC LIMIT 1",
	                "t", cert_no)
	            : q(l, err,
	                "SELECT p.cert_no, p.serial, b.name, b.input, b.input_sha256, "
	                "b.printer_profile, p.page, b.template, b.template_sha256 "
	                "FROM print p JOIN batch b ON b.id = p.batch_id WHERE b.name = ?1 AND p.page = ?2 ORDER BY p.id DESC LIMIT 1",
	                "ti", batch, (int64_t)page);
	int r = st ? step(l, st, err) : -1;
	if (r == 1) {
		out->cert_no = col_dup(st, 0);
		out->serial = sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL : col_dup(st, 1);
		out->batch = col_dup(st, 2);
		out->input = sqlite3_column_type(st, 3) == SQLITE_NULL ? NULL : col_dup(st, 3);
		out->input_sha256 = sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : col_dup(st, 4);
		out->printer_profile =
		    sqlite3_column_type(st, 5) == SQLITE_NULL ? NULL : col_dup(st, 5);
		out->page = (int)sqlite3_column_int64(st, 6);
		out->template_path = sqlite3_column_type(st, 7) == SQLITE_NULL ? NULL : col_dup(st, 7);
		out->template_sha256 =
		    sqlite3_column_type(st, 8) == SQLITE_NULL ? NULL : col_dup(st, 8);
		sqlite3_reset(st);
	} else if (r == 0 && cert_no) {
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("certificate number %s has no printed sheet in the ledger that is not "
		               "spoiled"),
		             cert_no);
	} else if (r == 0) {
		cp_set_error(err, CP_E_LEDGER, l->path, 0, 0, NULL,
		             _("batch %s has no page %d in the ledger"), batch, page);
	}
	rollback(l);
	return r == 1;
}

/* ----------------------------------------------------------------- backup */

bool cp_ledger_backup(cp_ledger *l, const char *path, cp_error **err)
{
	if (l->batch) {
		/* The backup would read this connection's uncommitted pages. */
		cp_set_error(err, CP_E_USAGE, l->path, 0, 0, NULL,
		             _("a print batch is open on this ledger; commit or abort it first"));
		return false;
	}
	/* SQLite needs a name: a named temporary (.NAME.cptmp-PID-XXXXXX),
	 * which a later backup to the same file removes if this one was
	 * killed. */
	cp_atomic *a = cp_atomic_open_named(path, CP_ATOMIC_PRIVATE, err);
	if (!a)
		return false;
	const char *tmp = cp_atomic_temp_path(a);
	sqlite3 *dst = NULL;
	bool ok = false;
	int rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(dst, l->busy_ms);
		sqlite3_backup *bk = sqlite3_backup_init(dst, "main", l->db, "main");
		if (bk) {
			/* One step copies everything under a single read snapshot. A busy
			 * destination cannot happen (nobody else knows the temp file). */
			rc = sqlite3_backup_step(bk, -1);
			int rc2 = sqlite3_backup_finish(bk);
			if (rc == SQLITE_DONE)
				rc = rc2;
		} else {
			rc = sqlite3_errcode(dst);
		}
	}
	/* A single self-contained file: rollback journal in the copy (the ledger
	 * switches it back to WAL when opened), and prove it reads back whole. */
	char *check = NULL;
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_stmt *st = NULL;
		rc = sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &st, NULL);
		if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			check = g_strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		if (!check || strcmp(check, "ok") != 0)
			rc = SQLITE_CORRUPT;
	}
	if (rc != SQLITE_OK)
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("backup failed: %s"),
		             dst ? sqlite3_errmsg(dst) : _("out of memory"));
	else
		ok = true;
	g_free(check);
	if (sqlite3_close(dst) != SQLITE_OK)
		ok = false;
	if (!ok) {
		cp_atomic_abort(a);
		return false;
	}
	/* SQLite wrote through its own descriptor; the commit's fsync covers
	 * the same file. */
	return cp_atomic_commit(a, err);
}
