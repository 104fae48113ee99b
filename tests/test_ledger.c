/* SPDX-License-Identifier: MIT */
/* Print ledger: the rules of 第十三条, 第十七条, 第十八条 and 第二十四条, the
 * transaction guarantees (concurrent writers, a process killed mid-batch),
 * backup, schema versions and the auditors' export.
 *
 * Written once, run twice: on SQLite files, and, when CERTPRESS_TEST_PG names
 * a throwaway PostgreSQL server (tests/cli/ledger-pg.sh starts one), on it —
 * every test in a fresh schema of its own. Tests of what only one backend has
 * (file modes, the SQLite backup, a server that goes away) run on that one. */
#include "common/testutil.h"

#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ledger.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define CERT(n) "S000144123456263" n /* 22 characters with a 6-digit n */

/* CERTPRESS_TEST_PG: the test server's connection string, or NULL. */
static const char *pg_base;

static PGconn *pg_connect(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK)
		g_error("cannot connect to the test server: %s", PQerrorMessage(c));
	return c;
}

static void pg_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		g_error("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

/* A new, empty ledger: a file in a fresh folder, or a fresh schema on the
 * test server (made with cp_ledger_init(), as `ledger init` does). */
static char *scratch_ledger(const char *name)
{
	if (!pg_base) {
		char *dir = tu_scratch(name);
		char *path = g_build_filename(dir, "ledger.sqlite", NULL);
		g_free(dir);
		return path;
	}
	char *schema = g_strdelimit(g_strdup(name), "-", '_');
	PGconn *c = pg_connect(pg_base);
	char *sql = g_strdup_printf("SET client_min_messages = warning; "
	                            "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema,
	                            schema);
	pg_exec(c, sql);
	PQfinish(c);
	char *path = g_strdup_printf("%s options='-c search_path=%s'", pg_base, schema);
	cp_error *err = NULL;
	cp_ledger *l = cp_ledger_init(path, 10000, &err);
	tu_assert_no_error(err);
	cp_ledger_free(l);
	g_free(sql);
	g_free(schema);
	return path;
}

/* Runs SQL on the ledger's own storage, behind the ledger's back. */
static void raw_exec(const char *path, const char *sql)
{
	if (pg_base) {
		PGconn *c = pg_connect(path);
		pg_exec(c, sql);
		PQfinish(c);
		return;
	}
	sqlite3 *db;
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
}

/* The first column of every row of a query on the ledger's storage. */
static GPtrArray *raw_column(const char *path, const char *sql)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	if (pg_base) {
		PGconn *c = pg_connect(path);
		PGresult *r = PQexec(c, sql);
		g_assert_cmpint(PQresultStatus(r), ==, PGRES_TUPLES_OK);
		for (int i = 0; i < PQntuples(r); i++)
			g_ptr_array_add(a, g_strdup(PQgetvalue(r, i, 0)));
		PQclear(r);
		PQfinish(c);
		return a;
	}
	sqlite3 *db;
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	sqlite3_stmt *st;
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		g_ptr_array_add(a, g_strdup((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return a;
}

/* Another process's write lock on the ledger, held until lock_release(). */
typedef struct lock_holder {
	sqlite3 *db;
	PGconn *pg;
} lock_holder;

static lock_holder lock_take(const char *path)
{
	lock_holder h = {0};
	if (pg_base) {
		h.pg = pg_connect(path);
		pg_exec(h.pg, "BEGIN");
		pg_exec(h.pg, "SELECT pg_advisory_xact_lock(1129337415)"); /* the writers' lock */
		return h;
	}
	g_assert_cmpint(sqlite3_open(path, &h.db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(h.db, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
	return h;
}

static void lock_release(lock_holder *h)
{
	if (h->pg) {
		pg_exec(h->pg, "ROLLBACK");
		PQfinish(h->pg);
	} else {
		g_assert_cmpint(sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL), ==, SQLITE_OK);
		sqlite3_close(h->db);
	}
}

static cp_ledger *open_ok(const char *path)
{
	cp_error *err = NULL;
	cp_ledger *l = cp_ledger_open(path, 10000, &err);
	tu_assert_no_error(err);
	g_assert_nonnull(l);
	cp_ledger_set_operator(l, "tester");
	return l;
}

static cp_ledger_print page(const char *cert, const char *serial, int n)
{
	cp_ledger_print p = {
		.cert_no = cert, .name = "张三", .id_masked = "4401**********1234",
		.level = "三级/高级工", .occupation = "电工", .serial = serial,
		.file = "out/batch.pdf", .page = n, .sha256 = SHA_A,
	};
	return p;
}

/* One batch: checks every number first, then adds and commits. Returns false
 * with err set at the first refusal (the batch is rolled back). */
static bool issue(cp_ledger *l, const char *name, const char *const *certs,
                  const char *const *serials, size_t n, const char *reissue,
                  bool returned, cp_error **err)
{
	cp_ledger_batch *b = cp_ledger_batch_begin(l, name, "batch.csv", err);
	if (!b)
		return false;
	for (size_t i = 0; i < n; i++) {
		cp_ledger_print p = page(certs[i], serials ? serials[i] : NULL, (int)i + 1);
		p.reissue_reason = reissue;
		p.old_returned = returned;
		if (!cp_ledger_batch_check(b, &p, err))
			goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		cp_ledger_print p = page(certs[i], serials ? serials[i] : NULL, (int)i + 1);
		p.reissue_reason = reissue;
		p.old_returned = returned;
		if (!cp_ledger_batch_add(b, &p, err))
			goto fail;
	}
	return cp_ledger_batch_commit(b, err);
fail:
	cp_ledger_batch_abort(b);
	return false;
}

static bool issue1(cp_ledger *l, const char *name, const char *cert, const char *serial,
                   cp_error **err)
{
	return issue(l, name, &cert, serial ? &serial : NULL, 1, NULL, false, err);
}

static void stock(cp_ledger *l, const char *from, const char *to, const char *date)
{
	cp_error *err = NULL;
	g_assert_true(cp_ledger_stock_add(l, from, to, date, "from the province", NULL, &err));
	tu_assert_no_error(err);
}

static char *export_string(cp_ledger *l)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cp_error *err = NULL;
	g_assert_true(cp_ledger_export_csv(l, f, &err));
	tu_assert_no_error(err);
	fclose(f);
	return buf;
}

static char *yesterday(void)
{
	GDateTime *now = g_date_time_new_now_local();
	GDateTime *y = g_date_time_add_days(now, -1);
	char *s = g_date_time_format(y, "%Y-%m-%d");
	g_date_time_unref(y);
	g_date_time_unref(now);
	return s;
}

/* Proves: a new ledger and its new folder are owner-only (personal data,
 * 第二十一条), it is in WAL mode and at the current schema version. */
static void test_create_mode(void)
{
	char *dir = tu_scratch("ledger-mode");
	char *path = g_build_filename(dir, "private", "sub", "ledger.sqlite", NULL);
	cp_ledger *l = open_ok(path);
	g_assert_cmpstr(cp_ledger_path(l), ==, path);
	stock(l, "GD01", "GD09", NULL); /* a write, so -wal/-shm exist */
	GStatBuf st;
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	char *wal = g_strconcat(path, "-wal", NULL);
	g_assert_cmpint(g_stat(wal, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	char *sub = g_path_get_dirname(path);
	g_assert_cmpint(g_stat(sub, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0700);
	cp_ledger_free(l);

	sqlite3 *db;
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	sqlite3_stmt *s;
	sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
	g_assert_cmpint(sqlite3_step(s), ==, SQLITE_ROW);
	g_assert_cmpint(sqlite3_column_int(s, 0), ==, CP_LEDGER_SCHEMA_VERSION);
	sqlite3_finalize(s);
	sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL);
	g_assert_cmpint(sqlite3_step(s), ==, SQLITE_ROW);
	g_assert_cmpstr((const char *)sqlite3_column_text(s, 0), ==, "wal");
	sqlite3_finalize(s);
	/* rows are append-only: a correction is a new entry, never an edit */
	g_assert_cmpint(sqlite3_exec(db, "DELETE FROM stock", NULL, NULL, NULL), !=, SQLITE_OK);
	sqlite3_close(db);

	/* the default location follows XDG_DATA_HOME */
	char *def = cp_ledger_default_path();
	g_assert_true(g_str_has_suffix(def, "/certpress/ledger.sqlite"));
	g_free(def);
	g_free(sub);
	g_free(wal);
	g_free(path);
	g_free(dir);
}

/* Proves: a number issued in one batch is refused in a later one, naming the
 * number and the earlier batch; twice in one batch is refused; and a refusal
 * at check time leaves nothing of the batch behind. */
static void test_duplicate(void)
{
	char *path = scratch_ledger("ledger-dup");
	cp_ledger *l = open_ok(path);
	cp_error *err = NULL;
	const char *first[] = {CERT("000001"), CERT("000002")};
	g_assert_true(issue(l, "batch-1", first, NULL, 2, NULL, false, &err));
	tu_assert_no_error(err);

	const char *second[] = {CERT("000003"), CERT("000002")};
	g_assert_false(issue(l, "batch-2", second, NULL, 2, NULL, false, &err));
	tu_assert_error(&err, CP_E_LEDGER, CERT("000002") " was already issued in batch batch-1");
	/* 000003 was checked in the refused batch but never committed */
	g_assert_null(cp_ledger_history(l, CERT("000003"), &err));
	tu_assert_error(&err, CP_E_LEDGER, "not in the ledger");

	const char *twice[] = {CERT("000004"), CERT("000004")};
	g_assert_false(issue(l, "batch-3", twice, NULL, 2, NULL, false, &err));
	tu_assert_error(&err, CP_E_LEDGER, "appears twice in this batch");

	/* adding without checking first runs the same rules */
	cp_ledger_batch *b = cp_ledger_batch_begin(l, "batch-4", NULL, &err);
	tu_assert_no_error(err);
	cp_ledger_print p = page(CERT("000001"), NULL, 1);
	g_assert_false(cp_ledger_batch_add(b, &p, &err));
	tu_assert_error(&err, CP_E_LEDGER, "already issued");
	p = page(CERT("000005"), NULL, 1);
	g_assert_true(cp_ledger_batch_add(b, &p, &err));
	g_assert_false(cp_ledger_batch_add(b, &p, &err));
	tu_assert_error(&err, CP_E_LEDGER, "appears twice");
	g_assert_cmpuint(cp_ledger_batch_count(b), ==, 1);
	/* what a check found is not taken for granted when the page added
	 * differs: checked as a reissue, added as a first issue of a number
	 * already issued, is refused (the verdict is made again) */
	p = page(CERT("000002"), NULL, 2);
	p.reissue_reason = "lost";
	g_assert_true(cp_ledger_batch_check(b, &p, &err));
	p.reissue_reason = NULL;
	g_assert_false(cp_ledger_batch_add(b, &p, &err));
	tu_assert_error(&err, CP_E_LEDGER, "already issued");
	g_assert_cmpuint(cp_ledger_batch_count(b), ==, 1);
	/* a batch name is unique; one batch at a time per handle */
	g_assert_null(cp_ledger_batch_begin(l, "batch-5", NULL, &err));
	tu_assert_error(&err, CP_E_USAGE, "batch is open");
	g_assert_true(cp_ledger_batch_commit(b, &err));
	g_assert_null(cp_ledger_batch_begin(l, "batch-1", NULL, &err));
	tu_assert_error(&err, CP_E_LEDGER, "batch named batch-1 is already");

	char *h = cp_ledger_history(l, CERT("000002"), &err);
	tu_assert_no_error(err);
	g_assert_nonnull(strstr(h, "batch batch-1"));
	g_assert_cmpint(tu_count(h, strlen(h), "  issued"), ==, 1);
	g_free(h);
	cp_ledger_free(l);
	g_free(path);
}

/* Proves 第十七条: a reissue keeps the number, takes a new serial, records
 * reason and whether the old sheet came back; a returned old sheet may be
 * destroyed, an issued one not; a never-issued number cannot be reissued. */
static void test_reissue(void)
{
	char *path = scratch_ledger("ledger-reissue");
	cp_ledger *l = open_ok(path);
	cp_error *err = NULL;
	stock(l, "GD2026000001", "GD2026000010", NULL);
	g_assert_true(issue1(l, "b1", CERT("000001"), "GD2026000001", &err));
	g_assert_true(issue1(l, "b2", CERT("000002"), "GD2026000002", &err));
	tu_assert_no_error(err);

	const char *c1 = CERT("000001"), *s_used = "GD2026000002", *s3 = "GD2026000003";
	/* a reissue needs a new serial: the old one (or any used) is refused */
	g_assert_false(issue(l, "r0", &c1, &s_used, 1, "damaged", true, &err));
	tu_assert_error(&err, CP_E_LEDGER, "GD2026000002 was already used for certificate");
	g_assert_true(issue(l, "r1", &c1, &s3, 1, "damaged", true, &err));
	tu_assert_no_error(err);

	const char *never = CERT("000009");
	g_assert_false(issue(l, "r2", &never, NULL, 1, "lost", false, &err));
	tu_assert_error(&err, CP_E_LEDGER, "never issued");
	/* an empty reason is no reason */
	g_assert_false(issue(l, "r3", &c1, NULL, 1, "", false, &err));
	tu_assert_error(&err, CP_E_USAGE, "reissue_reason");

	/* lost: a second reissue, old sheet not returned */
	g_assert_true(issue(l, "r4", &c1, NULL, 1, "lost by the holder", false, &err));
	tu_assert_no_error(err);

	char *h = cp_ledger_history(l, c1, &err);
	tu_assert_no_error(err);
	g_test_message("%s", h);
	g_assert_cmpint(tu_count(h, strlen(h), "reissued"), ==, 2);
	g_assert_nonnull(strstr(h, "serial GD2026000003"));
	g_assert_nonnull(strstr(h, "reason: damaged  old sheet taken back"));
	g_assert_nonnull(strstr(h, "reason: lost by the holder  old sheet not returned"));
	g_free(h);

	/* the original taken back at the reissue counts as returned (收回),
	 * not issued, until it is destroyed */
	cp_ledger_balance bal;
	g_assert_true(cp_ledger_balance_at(l, NULL, &bal, &err));
	tu_assert_no_error(err);
	g_assert_cmpint(bal.received, ==, 10);
	g_assert_cmpint(bal.issued, ==, 2);
	g_assert_cmpint(bal.returned, ==, 1);
	g_assert_cmpint(bal.remaining, ==, 7);

	/* the damaged original came back and may be destroyed; the holder's
	 * sheets may not */
	int64_t n = 0;
	g_assert_true(cp_ledger_destroy(l, "GD2026000001", NULL, "returned, damaged", &n, &err));
	tu_assert_no_error(err);
	g_assert_cmpint(n, ==, 1);
	g_assert_true(cp_ledger_balance_at(l, NULL, &bal, &err));
	tu_assert_no_error(err);
	g_assert_cmpint(bal.returned, ==, 0);
	g_assert_cmpint(bal.destroyed, ==, 1);
	g_assert_cmpint(bal.issued, ==, 2);
	g_assert_false(cp_ledger_destroy(l, "GD2026000003", NULL, "oops", NULL, &err));
	tu_assert_error(&err, CP_E_LEDGER, "which is issued");
	g_assert_false(cp_ledger_destroy(l, "GD2026000002", NULL, "oops", NULL, &err));
	tu_assert_error(&err, CP_E_LEDGER, "GD2026000002 carries certificate");
	cp_ledger_free(l);
	g_free(path);
}

/* Proves: after a spoiled sheet the certificate is printed again as a
 * reprint, not a reissue; then it counts as issued again. A spoil must name
 * the right certificate, and a sheet is spoiled once. */
static void test_spoil(void)
{
	char *path = scratch_ledger("ledger-spoil");
	cp_ledger *l = open_ok(path);
	cp_error *err = NULL;
	stock(l, "GD2026000001", "GD2026000010", NULL);
	const char *c1 = CERT("000001");
	g_assert_true(issue1(l, "b1", c1, "GD2026000001", &err));
	tu_assert_no_error(err);

	g_assert_false(cp_ledger_spoil(l, "GD2026000001", CERT("000002"), "smudge", &err));
	tu_assert_error(&err, CP_E_LEDGER, "carries certificate " CERT("000001") ", not");
	g_assert_false(cp_ledger_spoil(l, "GD2026000009", c1, "smudge", &err));
	tu_assert_error(&err, CP_E_LEDGER, "no certificate was printed on stock serial");
	g_assert_false(cp_ledger_spoil(l, "GD2026000001", c1, "", &err));
	tu_assert_error(&err, CP_E_USAGE, "--reason");
	g_assert_true(cp_ledger_spoil(l, "GD2026000001", c1, "smudge", &err));
	tu_assert_no_error(err);
	g_assert_false(cp_ledger_spoil(l, "GD2026000001", NULL, "again", &err));
	tu_assert_error(&err, CP_E_LEDGER, "spoiled already");
	/* the spoiled serial itself cannot carry a new print */
	g_assert_false(issue1(l, "b2", c1, "GD2026000001", &err));
	tu_assert_error(&err, CP_E_LEDGER, "GD2026000001 was already used");
	/* a reissue is wrong here: nothing was issued */
	const char *s2 = "GD2026000002";
	g_assert_false(issue(l, "b2", &c1, &s2, 1, "damaged", false, &err));
	tu_assert_error(&err, CP_E_LEDGER, "every sheet printed for it was spoiled");
	g_assert_true(issue1(l, "b3", c1, "GD2026000002", &err));
	tu_assert_no_error(err);
	/* now it is issued again */
	g_assert_false(issue1(l, "b4", c1, "GD2026000003", &err));
	tu_assert_error(&err, CP_E_LEDGER, "already issued in batch b3");

	/* a blank sheet lost in a misfeed */
	g_assert_true(cp_ledger_spoil(l, "GD2026000004", NULL, "misfeed", &err));
	tu_assert_no_error(err);
	/* a sheet printed without a serial is named by its number */
	g_assert_true(issue1(l, "b5", CERT("000005"), NULL, &err));
	g_assert_true(cp_ledger_spoil(l, NULL, CERT("000005"), "toner streak", &err));
	tu_assert_no_error(err);
	g_assert_false(cp_ledger_spoil(l, NULL, CERT("000005"), "again", &err));
	tu_assert_error(&err, CP_E_LEDGER, "no issued sheet printed without a stock serial");
	g_assert_true(issue1(l, "b6", CERT("000005"), NULL, &err));
	tu_assert_no_error(err);

	char *h = cp_ledger_history(l, c1, &err);
	tu_assert_no_error(err);
	g_test_message("%s", h);
	g_assert_nonnull(strstr(h, "sheet spoiled  serial GD2026000001  reason: smudge"));
	g_assert_nonnull(strstr(h, "printed again (earlier sheet spoiled)  batch b3"));
	g_assert_null(strstr(h, "reissued"));
	g_free(h);
	cp_ledger_free(l);
	g_free(path);
}

/* cp_ledger_batch_ahead(): the numbers asked for in one round trip get the
 * verdicts they get one by one: issued, revoked, new, twice in the chunk,
 * malformed, a reissue; a second call drops what the first left unused. */
static void test_ahead(void)
{
	char *path = scratch_ledger("ledger-ahead");
	cp_ledger *l = open_ok(path);
	cp_error *err = NULL;
	const char *first[] = {CERT("000001"), CERT("000002")};
	g_assert_true(issue(l, "batch-1", first, NULL, 2, NULL, false, &err));
	g_assert_true(cp_ledger_revoke(l, CERT("000002"), "fraud", &err));
	tu_assert_no_error(err);

	cp_ledger_batch *b = cp_ledger_batch_begin(l, "batch-2", NULL, &err);
	tu_assert_no_error(err);
	const char *chunk[] = {CERT("000001"), CERT("000002"), CERT("000003"), CERT("000003"),
	                       "S0000440", NULL, CERT("000004")};
	g_assert_true(cp_ledger_batch_ahead(b, chunk, G_N_ELEMENTS(chunk), &err));
	tu_assert_no_error(err);
	cp_ledger_print p = page(CERT("000001"), NULL, 1);
	g_assert_false(cp_ledger_batch_check(b, &p, &err));
	tu_assert_error(&err, CP_E_LEDGER, CERT("000001") " was already issued in batch batch-1");
	p = page(CERT("000002"), NULL, 2);
	g_assert_false(cp_ledger_batch_check(b, &p, &err));
	g_assert_nonnull(err);
	g_assert_cmpstr(err->rule, ==, "ledger.revoked");
	tu_assert_error(&err, CP_E_LEDGER, CERT("000002") " was revoked on");
	p = page(CERT("000003"), NULL, 3);
	g_assert_true(cp_ledger_batch_check(b, &p, &err));
	tu_assert_no_error(err);
	g_assert_false(cp_ledger_batch_check(b, &p, &err));
	tu_assert_error(&err, CP_E_LEDGER, "appears twice in this batch");
	/* asked again: what was asked and not used (000004) is dropped, and a
	 * number checked in the batch already is not asked for */
	const char *next[] = {CERT("000003"), CERT("000001")};
	g_assert_true(cp_ledger_batch_ahead(b, next, G_N_ELEMENTS(next), &err));
	tu_assert_no_error(err);
	p = page(CERT("000001"), NULL, 4);
	p.reissue_reason = "lost";
	g_assert_true(cp_ledger_batch_check(b, &p, &err));
	tu_assert_no_error(err);
	p = page(CERT("000004"), NULL, 5);
	g_assert_true(cp_ledger_batch_check(b, &p, &err));
	tu_assert_no_error(err);
	cp_ledger_batch_abort(b);
	cp_ledger_free(l);
	g_free(path);
}

static void assert_balance(cp_ledger *l, const char *date, int64_t rec, int64_t iss,
                           int64_t spo, int64_t des, int64_t rem);

/* Proves: a sheet spoiled with a batch (reprint) is recorded in the batch's
 * transaction, before its page, or not at all: an aborted batch leaves the
 * ledger as it was; the page of the spoiled sheet's number is a reprint; a
 * sheet spoiled by another station meanwhile refuses the batch at its
 * prepare, recording nothing; a number with another standing sheet is still
 * refused; the spoil comes before the number's check. */
static void test_batch_spoil(void)
{
	char *path = scratch_ledger("ledger-batch-spoil");
	cp_ledger *l = open_ok(path);
	cp_error *err = NULL;
	stock(l, "GD2026000001", "GD2026000020", NULL);
	const char *c1 = CERT("000001"), *c2 = CERT("000002"), *c3 = CERT("000003");
	g_assert_true(issue1(l, "b1", c1, "GD2026000001", &err));
	g_assert_true(issue1(l, "b2", c2, "GD2026000002", &err));
	tu_assert_no_error(err);
	char *before = export_string(l);

	/* spoiled and printed again, then aborted: nothing recorded */
	cp_ledger_batch *b = cp_ledger_batch_begin(l, "r1", "batch.csv", &err);
	g_assert_nonnull(b);
	g_assert_true(cp_ledger_batch_spoil(b, "GD2026000001", c1, "jam", &err));
	tu_assert_no_error(err);
	cp_ledger_print p = page(c1, "GD2026000003", 1);
	g_assert_true(cp_ledger_batch_check(b, &p, &err));
	g_assert_true(cp_ledger_batch_add(b, &p, &err));
	tu_assert_no_error(err);
	cp_ledger_batch_abort(b);
	char *after = export_string(l);
	g_assert_cmpstr(before, ==, after);
	g_free(after);

	/* the wrong sheet, a spoil after the number's check */
	b = cp_ledger_batch_begin(l, "r2", "batch.csv", &err);
	g_assert_false(cp_ledger_batch_spoil(b, "GD2026000001", c2, "jam", &err));
	tu_assert_error(&err, CP_E_LEDGER, "carries certificate " CERT("000001") ", not");
	p = page(c2, "GD2026000004", 1);
	g_assert_false(cp_ledger_batch_check(b, &p, &err));
	tu_assert_error(&err, CP_E_LEDGER, "already issued in batch b2");
	p = page(c1, "GD2026000004", 1);
	g_assert_false(cp_ledger_batch_check(b, &p, &err));
	tu_assert_error(&err, CP_E_LEDGER, "already issued in batch b1");
	p = page(CERT("000009"), "GD2026000004", 1);
	g_assert_true(cp_ledger_batch_check(b, &p, &err));
	g_assert_false(cp_ledger_batch_spoil(b, "GD2026000004", CERT("000009"), "jam", &err));
	tu_assert_error(&err, CP_E_USAGE, "before that number is checked");
	cp_ledger_batch_abort(b);

	/* committed: the spoil, then the reprint on the next sheet */
	b = cp_ledger_batch_begin(l, "r3", "batch.csv", &err);
	g_assert_true(cp_ledger_batch_spoil(b, "GD2026000001", c1, "jam", &err));
	g_assert_false(cp_ledger_batch_spoil(b, "GD2026000001", c1, "jam", &err));
	tu_assert_error(&err, CP_E_LEDGER, "spoiled twice in this batch");
	p = page(c1, "GD2026000003", 1);
	g_assert_true(cp_ledger_batch_check(b, &p, &err));
	g_assert_true(cp_ledger_batch_add(b, &p, &err));
	g_assert_true(cp_ledger_batch_commit(b, &err));
	tu_assert_no_error(err);
	char *h = cp_ledger_history(l, c1, &err);
	tu_assert_no_error(err);
	char *spoiled = strstr(h, "sheet spoiled  serial GD2026000001  reason: jam");
	char *again = strstr(h, "printed again (earlier sheet spoiled)  batch r3  serial GD2026000003");
	g_assert_nonnull(spoiled);
	g_assert_nonnull(again);
	g_assert_true(spoiled < again);
	g_free(h);
	assert_balance(l, NULL, 20, 2, 1, 0, 17);

	/* another station spoils the sheet meanwhile: refused at the prepare,
	 * nothing of the batch recorded */
	b = cp_ledger_batch_begin(l, "r4", "batch.csv", &err);
	g_assert_true(cp_ledger_batch_spoil(b, "GD2026000002", c2, "jam", &err));
	p = page(c2, "GD2026000005", 1);
	g_assert_true(cp_ledger_batch_check(b, &p, &err));
	g_assert_true(cp_ledger_batch_add(b, &p, &err));
	tu_assert_no_error(err);
	cp_ledger *other = open_ok(path);
	g_assert_true(cp_ledger_spoil(other, "GD2026000002", c2, "smudge", &err));
	tu_assert_no_error(err);
	g_free(before);
	before = export_string(other);
	cp_ledger_free(other);
	g_assert_false(cp_ledger_batch_commit(b, &err));
	tu_assert_error(&err, CP_E_LEDGER, "GD2026000002 was recorded as spoiled already");
	after = export_string(l);
	g_assert_cmpstr(before, ==, after);
	g_free(after);

	/* a number with another standing sheet (reissued, the old one not
	 * returned): spoiling one of them does not make it printable */
	g_assert_true(issue1(l, "b5", c3, "GD2026000006", &err));
	const char *s7 = "GD2026000007";
	g_assert_true(issue(l, "b6", &c3, &s7, 1, "lost", false, &err));
	tu_assert_no_error(err);
	b = cp_ledger_batch_begin(l, "r5", "batch.csv", &err);
	g_assert_true(cp_ledger_batch_spoil(b, "GD2026000007", c3, "jam", &err));
	p = page(c3, "GD2026000008", 1);
	g_assert_false(cp_ledger_batch_check(b, &p, &err));
	tu_assert_error(&err, CP_E_LEDGER, "already issued in batch");
	cp_ledger_batch_abort(b);
	g_free(before);
	cp_ledger_free(l);
	g_free(path);
}

/* Proves 第二十四条: a revoked number is never printed again, not even as a
 * reissue; only a number in the ledger can be revoked, once. */
static void test_revoke(void)
{
	char *path = scratch_ledger("ledger-revoke");
	cp_ledger *l = open_ok(path);
	cp_error *err = NULL;
	const char *c = CERT("000001");
	g_assert_false(cp_ledger_revoke(l, c, "fraud", &err));
	tu_assert_error(&err, CP_E_LEDGER, "not in the ledger");
	g_assert_true(issue1(l, "b1", c, NULL, &err));
	g_assert_true(cp_ledger_revoke(l, c, "obtained by fraud", &err));
	tu_assert_no_error(err);
	g_assert_false(cp_ledger_revoke(l, c, "twice", &err));
	tu_assert_error(&err, CP_E_LEDGER, "was revoked");
	g_assert_false(issue1(l, "b2", c, NULL, &err));
	tu_assert_error(&err, CP_E_LEDGER, CERT("000001") " was revoked on");
	g_assert_false(issue(l, "b3", &c, NULL, 1, "lost", false, &err));
	tu_assert_error(&err, CP_E_LEDGER, "can never be printed again");
	char *h = cp_ledger_history(l, c, &err);
	g_assert_nonnull(strstr(h, "revoked (第二十四条)  reason: obtained by fraud"));
	g_free(h);
	cp_ledger_free(l);
	g_free(path);
}

static void assert_balance(cp_ledger *l, const char *date, int64_t rec, int64_t iss,
                           int64_t spo, int64_t des, int64_t rem)
{
	cp_error *err = NULL;
	cp_ledger_balance b;
	g_assert_true(cp_ledger_balance_at(l, date, &b, &err));
	tu_assert_no_error(err);
	g_assert_cmpint(b.received, ==, rec);
	g_assert_cmpint(b.issued, ==, iss);
	g_assert_cmpint(b.spoiled, ==, spo);
	g_assert_cmpint(b.destroyed, ==, des);
	g_assert_cmpint(b.remaining, ==, rem);
	g_assert_cmpint(b.received, ==,
	                b.issued + b.returned + b.spoiled + b.destroyed + b.remaining);
}

/* Proves 第十八条's stock ledger: received = issued + spoiled + destroyed +
 * remaining through every kind of event, at the end of a past day too; and
 * the stock rules (overlap, future date, unknown serial, all-or-nothing
 * destruction). */
static void test_balance(void)
{
	char *path = scratch_ledger("ledger-balance");
	cp_ledger *l = open_ok(path);
	cp_error *err = NULL;
	char *yday = yesterday();
	stock(l, "GD2026000001", "GD2026000010", yday);
	stock(l, "GD2026000011", "GD2026000015", NULL);
	assert_balance(l, NULL, 15, 0, 0, 0, 15);

	g_assert_false(cp_ledger_stock_add(l, "GD2026000015", "GD2026000020", NULL, NULL, NULL,
	                                   &err));
	tu_assert_error(&err, CP_E_LEDGER, "overlaps stock already received (GD2026000011 to "
	                                   "GD2026000015)");
	g_assert_false(cp_ledger_stock_add(l, "GD20", "GD2026000020", NULL, NULL, NULL, &err));
	tu_assert_error(&err, CP_E_USAGE, "is not a range");
	g_assert_false(cp_ledger_stock_add(l, "GD30", "GD31", "2999-01-01", NULL, NULL, &err));
	tu_assert_error(&err, CP_E_USAGE, "in the future");
	g_assert_false(cp_ledger_stock_add(l, "GD30", "GD31", "2026-02-30", NULL, NULL, &err));
	tu_assert_error(&err, CP_E_USAGE, "not a date");
	g_assert_false(cp_ledger_stock_add(l, "GD*1", "GD*2", NULL, NULL, NULL, &err));
	tu_assert_error(&err, CP_E_USAGE, "is not a stock serial");
	g_assert_false(issue1(l, "bx", CERT("000099"), "HB0001", &err));
	tu_assert_error(&err, CP_E_LEDGER, "HB0001 was never received");

	const char *certs[] = {CERT("000001"), CERT("000002"), CERT("000003")};
	const char *serials[] = {"GD2026000001", "GD2026000002", "GD2026000003"};
	g_assert_true(issue(l, "b1", certs, serials, 3, NULL, false, &err));
	tu_assert_no_error(err);
	assert_balance(l, NULL, 15, 3, 0, 0, 12);
	g_assert_true(cp_ledger_spoil(l, "GD2026000004", NULL, "misfeed", &err));
	g_assert_true(cp_ledger_spoil(l, "GD2026000003", NULL, "smudge", &err));
	tu_assert_no_error(err);
	assert_balance(l, NULL, 15, 2, 2, 0, 11);

	/* a range with an issued sheet in it is refused as a whole */
	g_assert_false(cp_ledger_destroy(l, "GD2026000001", "GD2026000006", "wet", NULL, &err));
	tu_assert_error(&err, CP_E_LEDGER, "GD2026000001 carries certificate");
	assert_balance(l, NULL, 15, 2, 2, 0, 11);
	int64_t n = 0;
	g_assert_true(cp_ledger_destroy(l, "GD2026000004", "GD2026000006", "spoiled and wet", &n,
	                                &err));
	tu_assert_no_error(err);
	g_assert_cmpint(n, ==, 3);
	g_assert_false(cp_ledger_destroy(l, "GD2026000006", NULL, "twice", NULL, &err));
	tu_assert_error(&err, CP_E_LEDGER, "destroyed already");
	g_assert_false(cp_ledger_destroy(l, "GD2026000099", NULL, "unknown", NULL, &err));
	tu_assert_error(&err, CP_E_LEDGER, "never received");
	/* spoiled 3 and 4, destroyed 4..6: 2 issued, 1 spoiled, 3 destroyed */
	assert_balance(l, NULL, 15, 2, 1, 3, 9);
	/* a destroyed sheet cannot be printed on or spoiled */
	g_assert_false(issue1(l, "b2", CERT("000007"), "GD2026000005", &err));
	tu_assert_error(&err, CP_E_LEDGER, "GD2026000005 was destroyed on");
	g_assert_false(cp_ledger_spoil(l, "GD2026000005", NULL, "x", &err));
	tu_assert_error(&err, CP_E_LEDGER, "destroyed already");
	/* the reprint after the spoiled sheet consumes a new one */
	g_assert_true(issue1(l, "b3", CERT("000003"), "GD2026000011", &err));
	assert_balance(l, NULL, 15, 3, 1, 3, 8);

	/* at the end of yesterday only the first range was there, untouched */
	assert_balance(l, yday, 10, 0, 0, 0, 10);
	g_assert_false(cp_ledger_balance_at(l, "yesterday", &(cp_ledger_balance){0}, &err));
	tu_assert_error(&err, CP_E_USAGE, "not a date");

	/* the report shows the same numbers, as text and as JSON */
	char *r = cp_ledger_report(l, NULL, NULL, false, &err);
	tu_assert_no_error(err);
	g_test_message("%s", r);
	g_assert_nonnull(strstr(r, "remaining             8"));
	g_assert_nonnull(strstr(r, "GD2026000011 to GD2026000015"));
	g_assert_nonnull(strstr(r, "b3  "));
	g_free(r);
	r = cp_ledger_report(l, NULL, NULL, true, &err);
	tu_assert_no_error(err);
	g_test_message("%s", r);
	g_assert_nonnull(strstr(r, "\"balance\": {\"at\": null, \"received\": 15, \"issued\": 3, "
	                           "\"spoiled\": 1, \"destroyed\": 3, \"remaining\": 8, "
	                           "\"returned\": 0}"));
	g_assert_nonnull(strstr(r, "\"printed\": 4, \"issued\": 3, \"reprinted\": 1"));
	g_free(r);
	/* a period that ended yesterday saw the first range only, no printing */
	r = cp_ledger_report(l, yday, yday, true, &err);
	tu_assert_no_error(err);
	g_assert_nonnull(strstr(r, "\"stock_received\": 10, \"printed\": 0"));
	g_assert_nonnull(strstr(r, "\"batches\": []"));
	g_free(r);
	g_assert_null(cp_ledger_report(l, "2026-02-01", "2026-01-01", false, &err));
	tu_assert_error(&err, CP_E_USAGE, "starts");
	g_free(yday);
	cp_ledger_free(l);
	g_free(path);
}

/* Proves: bad values are refused with a clear error, and a whole ID number
 * never enters the ledger or the message. */
static void test_validation(void)
{
	char *path = scratch_ledger("ledger-valid");
	cp_ledger *l = open_ok(path);
	cp_error *err = NULL;
	cp_ledger_batch *b = cp_ledger_batch_begin(l, NULL, NULL, &err);
	tu_assert_no_error(err);
	g_assert_true(g_str_has_prefix(cp_ledger_batch_name(b), "20"));
	cp_ledger_print p = page(CERT("000001"), NULL, 1);
	p.id_masked = "440101199001011234";
	g_assert_false(cp_ledger_batch_add(b, &p, &err));
	g_assert_nonnull(err);
	char *m = cp_error_format(err);
	g_assert_null(strstr(m, "199001011234"));
	tu_assert_error(&err, CP_E_USAGE, "not masked");
	g_free(m);
	p = page(CERT("000001"), NULL, 1);
	p.sha256 = "abc";
	g_assert_false(cp_ledger_batch_add(b, &p, &err));
	tu_assert_error(&err, CP_E_USAGE, "SHA-256");
	p = page(CERT("000001"), NULL, 0);
	g_assert_false(cp_ledger_batch_add(b, &p, &err));
	tu_assert_error(&err, CP_E_USAGE, "page 0");
	p = page("Y0001-44", NULL, 1);
	g_assert_false(cp_ledger_batch_check(b, &p, &err));
	tu_assert_error(&err, CP_E_USAGE, "letters and digits");
	p = page(CERT("000001"), NULL, 1);
	p.name = "张\n三";
	g_assert_false(cp_ledger_batch_add(b, &p, &err));
	tu_assert_error(&err, CP_E_USAGE, "control character");
	p = page(CERT("000001"), "GD-*-1", 1);
	g_assert_false(cp_ledger_batch_check(b, &p, &err));
	tu_assert_error(&err, CP_E_USAGE, "not a stock serial");
	p = page(CERT("000001"), "GD1234567890123456789", 1);
	g_assert_false(cp_ledger_batch_check(b, &p, &err));
	tu_assert_error(&err, CP_E_USAGE, "not a stock serial");
	g_assert_cmpuint(cp_ledger_batch_count(b), ==, 0);
	/* what cp_mask_id() makes of an ID card and a passport number is accepted */
	char *m1 = cp_mask_id("440101199001011234"), *m2 = cp_mask_id("E12345678");
	p = page(CERT("000001"), NULL, 1);
	p.id_masked = m1;
	g_assert_true(cp_ledger_batch_add(b, &p, &err));
	p = page(CERT("000002"), NULL, 2);
	p.id_masked = m2;
	g_assert_true(cp_ledger_batch_add(b, &p, &err));
	tu_assert_no_error(err);
	g_free(m1);
	g_free(m2);
	cp_ledger_batch_abort(b);
	cp_ledger_batch_abort(NULL);
	cp_ledger_free(NULL);

	cp_serial s;
	g_assert_true(cp_serial_parse("GD2026000042", "x", &s, &err));
	g_assert_cmpstr(s.prefix, ==, "GD");
	g_assert_cmpint(s.width, ==, 10);
	g_assert_cmpint(s.number, ==, 2026000042);
	char *f = cp_serial_format(&s, 7);
	g_assert_cmpstr(f, ==, "GD0000000007");
	g_free(f);
	cp_ledger_free(l);
	g_free(path);
}

/* ---------------------------------------------------------- concurrency */

#define RACE_N 40

/* Child of the race: waits for the start signal, then tries to issue every
 * number in its own one-page batch, writing each number it won to out. */
static int race_child(int k, const char *path, int start_fd, const char *out)
{
	cp_error *err = NULL;
	cp_ledger *l = cp_ledger_open(path, 20000, &err);
	if (!l)
		return 4;
	char c;
	if (read(start_fd, &c, 1) < 0)
		return 3;
	GString *won = g_string_new(NULL);
	/* opposite orders meet in the middle; in the pause inside the batch
	 * (where the renderer would draw) the other process may record the
	 * same number: then this one loses it at its commit */
	for (int j = 1; j <= RACE_N; j++) {
		int i = k == 0 ? j : RACE_N + 1 - j;
		char cert[32];
		g_snprintf(cert, sizeof cert, "S000144123456263%06d", i);
		cp_ledger_batch *b = cp_ledger_batch_begin(l, NULL, NULL, &err);
		cp_ledger_print p = page(cert, NULL, 1);
		if (b && cp_ledger_batch_check(b, &p, &err)) {
			g_usleep(500);
			if (!cp_ledger_batch_add(b, &p, &err))
				return 5;
			if (cp_ledger_batch_commit(b, &err)) {
				g_string_append_printf(won, "%s\n", cert);
			} else if (err->code == CP_E_LEDGER && strstr(err->message, "already issued")) {
				cp_error_free(err);
				err = NULL;
				continue;
			} else {
				return 8;
			}
			/* SQLite's busy wait is not fair: give the other process a gap
			 * to take the lock, as real runs between batches would */
			g_usleep(2000);
		} else if (b && err->code == CP_E_LEDGER && strstr(err->message, "already issued")) {
			cp_ledger_batch_abort(b);
			cp_error_free(err);
			err = NULL;
		} else {
			return 6;
		}
	}
	cp_ledger_free(l);
	return g_file_set_contents(out, won->str, -1, NULL) ? 0 : 7;
}

/* Proves: two processes issuing the same numbers at the same time never both
 * win one: every number is issued exactly once, by one of them. */
static void test_race(void)
{
	char *dir = tu_scratch("ledger-race");
	char *path = scratch_ledger("ledger-race");
	cp_ledger_free(open_ok(path));
	int start[2];
	g_assert_cmpint(pipe(start), ==, 0);
	pid_t pid[2];
	char *out[2];
	for (int k = 0; k < 2; k++) {
		out[k] = g_strdup_printf("%s/won-%d.txt", dir, k);
		fflush(NULL);
		pid[k] = fork();
		g_assert_cmpint(pid[k], >=, 0);
		if (pid[k] == 0) {
			close(start[1]);
			_exit(race_child(k, path, start[0], out[k]));
		}
	}
	close(start[0]);
	close(start[1]); /* both children see EOF and start together */
	for (int k = 0; k < 2; k++) {
		int st;
		g_assert_cmpint(waitpid(pid[k], &st, 0), ==, pid[k]);
		g_assert_true(WIFEXITED(st));
		g_assert_cmpint(WEXITSTATUS(st), ==, 0);
	}
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int k = 0; k < 2; k++) {
		char *text = NULL;
		g_assert_true(g_file_get_contents(out[k], &text, NULL, NULL));
		char **lines = g_strsplit(text, "\n", -1);
		int wins = 0;
		for (char **p = lines; *p && **p; p++, wins++) {
			g_assert_false(g_hash_table_contains(seen, *p)); /* never both */
			g_hash_table_add(seen, g_strdup(*p));
		}
		g_test_message("process %d won %d numbers", k, wins);
		g_strfreev(lines);
		g_free(text);
		g_free(out[k]);
	}
	g_assert_cmpuint(g_hash_table_size(seen), ==, RACE_N); /* and none lost */
	cp_ledger *l = open_ok(path);
	char *csv = export_string(l);
	g_assert_cmpint(tu_count(csv, strlen(csv), "\r\nissue,"), ==, RACE_N);
	g_free(csv);
	cp_ledger_free(l);
	g_hash_table_destroy(seen);
	g_free(path);
	g_free(dir);
}

/* Proves: a batch holds no lock while it is checked and printed: a second
 * batch on the same ledger is recorded meanwhile; the one that loses a number
 * that way is refused at its commit, naming the number, and records nothing;
 * a writer that holds the lock (here a plain SQLite connection) makes a
 * commit give up after the busy timeout with a clear error, while checks and
 * reports go on. */
static void test_busy(void)
{
	char *path = scratch_ledger("ledger-busy");
	cp_ledger *a = open_ok(path);
	cp_error *err = NULL;
	cp_ledger *b = cp_ledger_open(path, 100, &err);
	tu_assert_no_error(err);
	cp_ledger_batch *ba = cp_ledger_batch_begin(a, "a", NULL, &err);
	tu_assert_no_error(err);
	cp_ledger_print p = page(CERT("000001"), NULL, 1);
	g_assert_true(cp_ledger_batch_check(ba, &p, &err));
	g_assert_true(cp_ledger_batch_add(ba, &p, &err));
	/* another station records a whole batch while a's is open */
	g_assert_true(issue1(b, "b", CERT("000002"), NULL, &err));
	tu_assert_no_error(err);
	p = page(CERT("000003"), NULL, 2);
	g_assert_true(cp_ledger_batch_add(ba, &p, &err));
	g_assert_true(cp_ledger_batch_commit(ba, &err));
	tu_assert_no_error(err);

	/* both check 000004; b records first; a loses it at its commit */
	ba = cp_ledger_batch_begin(a, "a2", NULL, &err);
	tu_assert_no_error(err);
	p = page(CERT("000005"), NULL, 1);
	g_assert_true(cp_ledger_batch_add(ba, &p, &err));
	p = page(CERT("000004"), NULL, 2);
	g_assert_true(cp_ledger_batch_check(ba, &p, &err));
	g_assert_true(cp_ledger_batch_add(ba, &p, &err));
	g_assert_true(issue1(b, "b2", CERT("000004"), NULL, &err));
	tu_assert_no_error(err);
	g_assert_false(cp_ledger_batch_commit(ba, &err));
	tu_assert_error(&err, CP_E_LEDGER, CERT("000004") " was already issued in batch b2");
	g_assert_null(cp_ledger_history(a, CERT("000005"), &err));
	tu_assert_error(&err, CP_E_LEDGER, "not in the ledger");

	/* any entry recorded meanwhile (here a blank sheet spoiled) makes the
	 * commit check every page again */
	stock(b, "GD01", "GD09", NULL);
	ba = cp_ledger_batch_begin(a, "a3", NULL, &err);
	tu_assert_no_error(err);
	p = page(CERT("000020"), "GD03", 1);
	g_assert_true(cp_ledger_batch_check(ba, &p, &err));
	g_assert_true(cp_ledger_batch_add(ba, &p, &err));
	g_assert_true(cp_ledger_spoil(b, "GD03", NULL, "misfeed", &err));
	g_assert_false(cp_ledger_batch_commit(ba, &err));
	tu_assert_error(&err, CP_E_LEDGER, "GD03 was recorded as spoiled");

	/* a lock held by someone else: checking goes on, the commit gives up */
	lock_holder holder = lock_take(path);
	cp_ledger_batch *bb = cp_ledger_batch_begin(b, "b3", NULL, &err);
	tu_assert_no_error(err);
	p = page(CERT("000006"), NULL, 1);
	g_assert_true(cp_ledger_batch_check(bb, &p, &err));
	g_assert_true(cp_ledger_batch_add(bb, &p, &err));
	gint64 t0 = g_get_monotonic_time();
	g_assert_false(cp_ledger_batch_commit(bb, &err));
	gint64 waited = g_get_monotonic_time() - t0;
	tu_assert_error(&err, CP_E_IO, "another batch is printing on this ledger");
	g_assert_cmpint(waited, >=, 80000);
	/* readers are not blocked by the lock (WAL) */
	char *r = cp_ledger_report(b, NULL, NULL, false, &err);
	tu_assert_no_error(err);
	g_free(r);
	lock_release(&holder);
	g_assert_true(issue1(b, "b3", CERT("000006"), NULL, &err));
	tu_assert_no_error(err);
	char *csv = export_string(b);
	g_assert_cmpint(tu_count(csv, strlen(csv), "\r\nissue,"), ==, 5);
	g_free(csv);
	cp_ledger_free(a);
	cp_ledger_free(b);
	g_free(path);
}

/* Proves: a process killed with SIGKILL in the middle of a batch (pages
 * added, not committed) leaves the ledger exactly as before, and running the
 * batch again completes it. */
static void test_kill(void)
{
	char *path = scratch_ledger("ledger-kill");
	cp_ledger *l = open_ok(path);
	cp_error *err = NULL;
	stock(l, "GD2026000001", "GD2026000020", NULL);
	g_assert_true(issue1(l, "earlier", CERT("000100"), "GD2026000020", &err));
	tu_assert_no_error(err);
	char *before = export_string(l);
	cp_ledger_free(l);

	static const char *certs[10], *serials[10];
	char cbuf[10][32], sbuf[10][32];
	for (int i = 0; i < 10; i++) {
		g_snprintf(cbuf[i], 32, "S000144123456263%06d", i + 1);
		g_snprintf(sbuf[i], 32, "GD2026%06d", i + 1);
		certs[i] = cbuf[i];
		serials[i] = sbuf[i];
	}
	int ready[2];
	g_assert_cmpint(pipe(ready), ==, 0);
	fflush(NULL);
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		cp_ledger *cl = cp_ledger_open(path, 10000, NULL);
		cp_ledger_batch *b = cl ? cp_ledger_batch_begin(cl, "killed", NULL, NULL) : NULL;
		if (!b)
			_exit(3);
		for (int i = 0; i < 10; i++) {
			cp_ledger_print p = page(certs[i], serials[i], i + 1);
			if (!cp_ledger_batch_check(b, &p, NULL))
				_exit(4);
		}
		for (int i = 0; i < 5; i++) {
			cp_ledger_print p = page(certs[i], serials[i], i + 1);
			if (!cp_ledger_batch_add(b, &p, NULL))
				_exit(5);
		}
		if (write(ready[1], "x", 1) != 1)
			_exit(6);
		for (;;)
			pause();
	}
	close(ready[1]);
	char c;
	g_assert_cmpint(read(ready[0], &c, 1), ==, 1); /* mid-batch now */
	close(ready[0]);
	g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
	int st;
	g_assert_cmpint(waitpid(pid, &st, 0), ==, pid);
	g_assert_true(WIFSIGNALED(st));

	l = open_ok(path);
	char *after = export_string(l);
	g_assert_cmpstr(after, ==, before);
	g_assert_null(cp_ledger_history(l, certs[0], &err));
	tu_assert_error(&err, CP_E_LEDGER, "not in the ledger");
	/* the same batch name is free again: nothing of it was recorded */
	g_assert_true(issue(l, "killed", certs, serials, 10, NULL, false, &err));
	tu_assert_no_error(err);
	char *done = export_string(l);
	g_assert_cmpint(tu_count(done, strlen(done), "\r\nissue,"), ==, 11);
	cp_ledger_balance bal;
	g_assert_true(cp_ledger_balance_at(l, NULL, &bal, &err));
	g_assert_cmpint(bal.issued, ==, 11);
	g_assert_cmpint(bal.remaining, ==, 9);
	g_free(done);
	g_free(after);
	g_free(before);
	cp_ledger_free(l);
	g_free(path);
}

/* ------------------------------------------------ backup, schema, export */

/* Proves: the online backup is a consistent, owner-only, single-file copy
 * that opens as a ledger with the same history and the same rules. */
static void test_backup(void)
{
	char *dir = tu_scratch("ledger-backup");
	char *path = g_build_filename(dir, "ledger.sqlite", NULL);
	char *copy = g_build_filename(dir, "copy.sqlite", NULL);
	cp_ledger *l = open_ok(path);
	cp_error *err = NULL;
	stock(l, "GD01", "GD20", NULL);
	const char *certs[] = {CERT("000001"), CERT("000002")};
	const char *serials[] = {"GD01", "GD02"};
	g_assert_true(issue(l, "b1", certs, serials, 2, NULL, false, &err));
	g_assert_true(cp_ledger_spoil(l, "GD02", NULL, "smudge", &err));
	g_assert_true(cp_ledger_revoke(l, certs[0], "fraud", &err));
	tu_assert_no_error(err);

	cp_ledger_batch *b = cp_ledger_batch_begin(l, "open", NULL, &err);
	g_assert_false(cp_ledger_backup(l, copy, &err));
	tu_assert_error(&err, CP_E_USAGE, "batch is open");
	cp_ledger_batch_abort(b);

	g_assert_true(cp_ledger_backup(l, copy, &err));
	tu_assert_no_error(err);
	GStatBuf st;
	g_assert_cmpint(g_stat(copy, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	char *wal = g_strconcat(copy, "-wal", NULL);
	g_assert_false(g_file_test(wal, G_FILE_TEST_EXISTS));

	cp_ledger *c = open_ok(copy);
	char *e1 = export_string(l), *e2 = export_string(c);
	g_assert_cmpstr(e1, ==, e2);
	char *h1 = cp_ledger_history(l, certs[1], &err), *h2 = cp_ledger_history(c, certs[1], &err);
	tu_assert_no_error(err);
	g_assert_cmpstr(h1, ==, h2);
	/* the copy enforces the same history */
	g_assert_false(issue1(c, "b2", certs[0], NULL, &err));
	tu_assert_error(&err, CP_E_LEDGER, "revoked");
	g_assert_true(issue1(c, "b2", certs[1], "GD03", &err));
	tu_assert_no_error(err);
	g_free(h1);
	g_free(h2);
	g_free(e1);
	g_free(e2);
	g_free(wal);
	cp_ledger_free(c);
	cp_ledger_free(l);
	g_free(copy);
	g_free(path);
	g_free(dir);
}

static void sql_file(const char *path, const char *sql)
{
	raw_exec(path, sql);
}

/* Proves: a newer schema is refused clearly, a foreign SQLite file and a
 * non-database are refused, and an empty version-0 database is migrated. */
static void test_schema(void)
{
	char *dir = tu_scratch("ledger-schema");
	cp_error *err = NULL;

	char *newer = g_build_filename(dir, "newer.sqlite", NULL);
	cp_ledger_free(open_ok(newer));
	sql_file(newer, "PRAGMA user_version = 99");
	g_assert_null(cp_ledger_open(newer, 1000, &err));
	char *newer_msg = g_strdup_printf("schema version 99, newer than the %d", CP_LEDGER_SCHEMA_VERSION);
	tu_assert_error(&err, CP_E_LEDGER, newer_msg);
	g_free(newer_msg);

	char *foreign = g_build_filename(dir, "foreign.sqlite", NULL);
	sql_file(foreign, "CREATE TABLE t (x); INSERT INTO t VALUES (1)");
	g_assert_null(cp_ledger_open(foreign, 1000, &err));
	tu_assert_error(&err, CP_E_LEDGER, "not a certpress ledger");

	char *other = g_build_filename(dir, "other.sqlite", NULL);
	sql_file(other, "PRAGMA application_id = 12345");
	g_assert_null(cp_ledger_open(other, 1000, &err));
	tu_assert_error(&err, CP_E_LEDGER, "another program");

	char *junk = g_build_filename(dir, "junk.sqlite", NULL);
	g_assert_true(g_file_set_contents(junk, "this is not a database, just some text that "
	                                        "is long enough to have a header page",
	                                  -1, NULL));
	g_assert_null(cp_ledger_open(junk, 1000, &err));
	tu_assert_error(&err, CP_E_IO, "junk.sqlite");

	/* version 0: an SQLite file with no tables, as sqlite3 leaves it */
	char *v0 = g_build_filename(dir, "v0.sqlite", NULL);
	sql_file(v0, "PRAGMA user_version = 0; VACUUM");
	cp_ledger *l = open_ok(v0);
	stock(l, "GD01", "GD02", NULL);
	cp_ledger_free(l);
	l = open_ok(v0); /* reopening an up-to-date ledger changes nothing */
	assert_balance(l, NULL, 2, 0, 0, 0, 2);
	cp_ledger_free(l);

	g_assert_null(cp_ledger_open("", 1000, &err));
	tu_assert_error(&err, CP_E_USAGE, "empty");
	g_free(v0);
	g_free(junk);
	g_free(other);
	g_free(foreign);
	g_free(newer);
	g_free(dir);
}

/* Proves: a print job is recorded with its batch, destination, job id and
 * final state; report and history show it; an unknown batch or state is
 * refused; the batch of a file is found by the path given or its absolute
 * path; a version-1 ledger (before print jobs) is migrated with its entries
 * kept. */
static void test_print_jobs(void)
{
	char *path = scratch_ledger("ledger-jobs");
	cp_ledger *l = open_ok(path);
	cp_error *err = NULL;
	g_assert_true(issue1(l, "b1", CERT("000001"), NULL, &err));
	tu_assert_no_error(err);

	char *name = NULL;
	g_assert_true(cp_ledger_batch_of_file(l, "out/batch.pdf", &name, &err));
	g_assert_cmpstr(name, ==, "b1");
	g_free(name);
	char *cwd = g_get_current_dir();
	char *abs = g_build_filename(cwd, "out", "batch.pdf", NULL);
	g_assert_true(cp_ledger_batch_of_file(l, abs, &name, &err));
	g_assert_cmpstr(name, ==, "b1"); /* recorded relative, asked absolute, from here */
	g_free(name);
	g_free(abs);
	g_assert_true(cp_ledger_batch_of_file(l, "/elsewhere/out/batch.pdf", &name, &err));
	g_assert_null(name);
	g_assert_true(cp_ledger_batch_of_file(l, "./out/../out/batch.pdf", &name, &err));
	g_assert_cmpstr(name, ==, "b1");
	g_free(name);
	g_free(cwd);
	g_assert_true(cp_ledger_batch_of_file(l, "elsewhere.pdf", &name, &err));
	g_assert_null(name);

	cp_ledger_job j = {
		.batch = "b1", .file = "out/batch.pdf", .dest = "ipp://127.0.0.1:8631/ipp/print",
		.copies = 2, .job_id = 7, .state = "completed",
	};
	g_assert_true(cp_ledger_job_add(l, &j, &err));
	tu_assert_no_error(err);
	j.job_id = 8;
	j.state = "canceled";
	j.message = "job 8 was canceled\n(by the operator)";
	g_assert_true(cp_ledger_job_add(l, &j, &err));
	tu_assert_no_error(err);
	j.batch = NULL;
	j.job_id = 0;
	j.state = "unreachable";
	j.message = NULL;
	g_assert_true(cp_ledger_job_add(l, &j, &err));
	tu_assert_no_error(err);

	j.batch = "nope";
	g_assert_false(cp_ledger_job_add(l, &j, &err));
	tu_assert_error(&err, CP_E_USAGE, "no batch named nope");
	j.batch = "b1";
	j.state = "printed-maybe";
	g_assert_false(cp_ledger_job_add(l, &j, &err));
	tu_assert_error(&err, CP_E_USAGE, "known state");
	j.state = "completed";
	j.copies = 0;
	g_assert_false(cp_ledger_job_add(l, &j, &err));
	tu_assert_error(&err, CP_E_USAGE, "known state");

	char *r = cp_ledger_report(l, NULL, NULL, false, &err);
	tu_assert_no_error(err);
	g_assert_nonnull(strstr(r, "batch b1  to ipp://127.0.0.1:8631/ipp/print  job 7  copies 2  "
	                           "printed (job completed)"));
	g_assert_nonnull(strstr(r, "job 8  copies 2  NOT PRINTED: job canceled"));
	g_assert_nonnull(strstr(r, "out/batch.pdf  to ipp://127.0.0.1:8631/ipp/print  copies 2  "
	                           "NOT PRINTED: the printer could not be reached"));
	free(r);
	r = cp_ledger_report(l, NULL, NULL, true, &err);
	tu_assert_no_error(err);
	g_assert_nonnull(strstr(r, "\"job_id\": 8, \"copies\": 2, \"state\": \"canceled\""));
	g_assert_nonnull(strstr(r, "\"message\": \"job 8 was canceled (by the operator)\""));
	free(r);
	char *h = cp_ledger_history(l, CERT("000001"), &err);
	tu_assert_no_error(err);
	g_assert_nonnull(strstr(h, "batch b1 sent to printer ipp://127.0.0.1:8631/ipp/print  job 7"));
	g_assert_nonnull(strstr(h, "NOT PRINTED: job canceled  job 8 was canceled (by the operator)"));
	free(h);
	cp_ledger_free(l);

	/* Back to version 1: no print_job table, no batch source. SQLite:
	 * opening migrates it. PostgreSQL: a station refuses it, naming
	 * 'ledger init', which migrates it. */
#define DROP_SOURCE "ALTER TABLE batch DROP COLUMN input; " \
	"ALTER TABLE batch DROP COLUMN input_sha256; " \
	"ALTER TABLE batch DROP COLUMN printer_profile; " \
	"ALTER TABLE batch DROP COLUMN calibration; " \
	"ALTER TABLE batch DROP COLUMN template; " \
	"ALTER TABLE batch DROP COLUMN template_sha256; "
	if (pg_base) {
		sql_file(path, "DROP TABLE print_job; " DROP_SOURCE
		               "UPDATE certpress_meta SET value = '1' WHERE key = 'schema_version'");
		g_assert_null(cp_ledger_open(path, 1000, &err));
		tu_assert_error(&err, CP_E_LEDGER, "older than this certpress");
		cp_ledger_free(cp_ledger_init(path, 1000, &err));
		tu_assert_no_error(err);
	} else {
		sql_file(path, "DROP TABLE print_job; " DROP_SOURCE "PRAGMA user_version = 1");
	}
#undef DROP_SOURCE
	l = open_ok(path);
	char *csv = export_string(l);
	g_assert_nonnull(strstr(csv, CERT("000001")));
	free(csv);
	j.copies = 1;
	g_assert_true(cp_ledger_job_add(l, &j, &err));
	tu_assert_no_error(err);
	cp_ledger_free(l);
	g_free(path);
}

/* Proves: a batch records what it was made from (schema 3) and a reprint
 * finds it by number (the sheet not spoiled) or by page; a batch without a
 * name is named after its input and the day, then -2. */
static void test_source(void)
{
	char *path = scratch_ledger("ledger-source");
	cp_ledger *l = open_ok(path);
	cp_error *err = NULL;
	static const char sha_in[] =
	    "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
	static const char sha_tpl[] =
	    "0000000000000000000000000000000000000000000000000000000000000001";
	cp_ledger_batch *b = cp_ledger_batch_begin(l, NULL, "/data/May exam.csv", &err);
	tu_assert_no_error(err);
	GDateTime *now = g_date_time_new_now_local();
	char *day = g_date_time_format(now, "%Y-%m-%d");
	g_date_time_unref(now);
	char *want = g_strdup_printf("May exam-%s", day);
	g_assert_cmpstr(cp_ledger_batch_name(b), ==, want);
	g_assert_false(cp_ledger_batch_set_source(b, "/data/May exam.csv", "12", NULL, NULL, &err));
	tu_assert_error(&err, CP_E_USAGE, "SHA-256");
	g_assert_true(cp_ledger_batch_set_source(b, "/data/May exam.csv", sha_in, "office",
	                                         "offset 0.5 mm right", &err));
	g_assert_true(cp_ledger_batch_set_template(b, "/data/t.conf", sha_tpl, &err));
	tu_assert_no_error(err);
	cp_ledger_print p = page(CERT("000001"), NULL, 1);
	g_assert_true(cp_ledger_batch_check(b, &p, &err) && cp_ledger_batch_add(b, &p, &err));
	g_assert_false(cp_ledger_batch_set_source(b, NULL, NULL, NULL, NULL, &err));
	tu_assert_error(&err, CP_E_USAGE, "before its first page");
	g_assert_true(cp_ledger_batch_commit(b, &err));
	tu_assert_no_error(err);
	b = cp_ledger_batch_begin(l, NULL, "/other/May exam.txt", &err);
	tu_assert_no_error(err);
	char *want2 = g_strdup_printf("%s-2", want);
	g_assert_cmpstr(cp_ledger_batch_name(b), ==, want2);
	cp_ledger_batch_abort(b);

	cp_ledger_source src;
	g_assert_true(cp_ledger_source_of(l, CERT("000001"), NULL, 0, &src, &err));
	tu_assert_no_error(err);
	g_assert_cmpstr(src.batch, ==, want);
	g_assert_cmpint(src.page, ==, 1);
	g_assert_cmpstr(src.input, ==, "/data/May exam.csv");
	g_assert_cmpstr(src.input_sha256, ==,
	                "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
	g_assert_cmpstr(src.printer_profile, ==, "office");
	g_assert_cmpstr(src.template_path, ==, "/data/t.conf");
	g_assert_cmpstr(src.template_sha256, ==, sha_tpl);
	g_assert_null(src.serial);
	cp_ledger_source_clear(&src);
	g_assert_true(cp_ledger_source_of(l, NULL, want, 1, &src, &err));
	g_assert_cmpstr(src.cert_no, ==, CERT("000001"));
	cp_ledger_source_clear(&src);
	g_assert_false(cp_ledger_source_of(l, NULL, want, 2, &src, &err));
	tu_assert_error(&err, CP_E_LEDGER, "has no page 2");
	g_assert_false(cp_ledger_source_of(l, CERT("000002"), NULL, 0, &src, &err));
	tu_assert_error(&err, CP_E_LEDGER, "no printed sheet");

	char *r = cp_ledger_report(l, NULL, NULL, true, &err);
	tu_assert_no_error(err);
	g_assert_nonnull(strstr(r, "\"input\": \"/data/May exam.csv\""));
	g_assert_nonnull(strstr(r, "\"calibration\": \"offset 0.5 mm right\""));
	free(r);
	g_free(want2);
	g_free(want);
	g_free(day);
	cp_ledger_free(l);
	g_free(path);
}

/* Proves: a number's standing for `verify --ledger`: unknown, issued,
 * reissued, revoked (with the reason). */
static void test_cert_state(void)
{
	char *path = scratch_ledger("ledger-cert-state");
	cp_ledger *l = open_ok(path);
	cp_error *err = NULL;
	const char *a = CERT("000001"), *b = CERT("000002");
	cp_ledger_state st;
	char *why = NULL;
	g_assert_true(cp_ledger_cert_state(l, a, &st, &why, &err));
	g_assert_cmpint(st, ==, CP_LEDGER_UNKNOWN);
	g_assert_null(why);
	g_assert_true(issue1(l, "s1", a, NULL, &err));
	g_assert_true(issue1(l, "s2", b, NULL, &err));
	tu_assert_no_error(err);
	g_assert_true(cp_ledger_cert_state(l, a, &st, NULL, &err));
	g_assert_cmpint(st, ==, CP_LEDGER_ISSUED);
	g_assert_true(issue(l, "s3", &a, NULL, 1, "lost", false, &err));
	tu_assert_no_error(err);
	g_assert_true(cp_ledger_cert_state(l, a, &st, &why, &err));
	g_assert_cmpint(st, ==, CP_LEDGER_REISSUED);
	g_assert_null(why);
	g_assert_true(cp_ledger_revoke(l, b, "forged", &err));
	tu_assert_no_error(err);
	g_assert_true(cp_ledger_cert_state(l, b, &st, &why, &err));
	g_assert_cmpint(st, ==, CP_LEDGER_REVOKED);
	g_assert_cmpstr(why, ==, "forged");
	g_free(why);
	g_assert_false(cp_ledger_cert_state(l, "no such", &st, NULL, &err));
	tu_assert_error(&err, CP_E_USAGE, "letters and digits");
	cp_ledger_free(l);
	g_free(path);
}

/* Proves: blank sheets are handed out in stock order from the first sheet
 * received, skipping sheets printed on, spoiled, destroyed or reserved in
 * the batch; a new batch goes on after the last sheet printed on; from must
 * be a blank received sheet; used-up stock is refused. */
static void test_next_serial(void)
{
	char *path = scratch_ledger("ledger-next-serial");
	cp_ledger *l = open_ok(path);
	cp_error *err = NULL;
	stock(l, "GD01", "GD04", NULL);
	stock(l, "XY0101", "XY0103", NULL);
	g_assert_true(cp_ledger_spoil(l, "GD02", NULL, "jam", &err));
	tu_assert_no_error(err);

	cp_ledger_batch *b = cp_ledger_batch_begin(l, "n1", NULL, &err);
	g_assert_nonnull(b);
	char *s = NULL;
	const char *want[] = {"GD01", "GD03", "GD04", "XY0101"};
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
		g_assert_true(cp_ledger_batch_next_serial(b, NULL, &s, &err));
		tu_assert_no_error(err);
		g_assert_cmpstr(s, ==, want[i]);
		char cert[32];
		g_snprintf(cert, sizeof cert, CERT("%06d"), (int)i + 1);
		cp_ledger_print p = page(cert, s, (int)i + 1);
		g_assert_true(cp_ledger_batch_add(b, &p, &err));
		tu_assert_no_error(err);
		g_free(s);
	}
	g_assert_true(cp_ledger_batch_commit(b, &err));
	tu_assert_no_error(err);

	b = cp_ledger_batch_begin(l, "n2", NULL, &err);
	g_assert_true(cp_ledger_batch_next_serial(b, NULL, &s, &err));
	g_assert_cmpstr(s, ==, "XY0102"); /* after the last sheet printed on */
	/* reserved by a check, not yet printed: skipped */
	cp_ledger_print p = page(CERT("000010"), "XY0103", 1);
	g_assert_true(cp_ledger_batch_check(b, &p, &err));
	g_free(s);
	g_assert_false(cp_ledger_batch_next_serial(b, NULL, &s, &err));
	g_assert_null(s);
	tu_assert_error(&err, CP_E_LEDGER, "used up");
	cp_ledger_batch_abort(b);

	b = cp_ledger_batch_begin(l, "n3", NULL, &err);
	g_assert_false(cp_ledger_batch_next_serial(b, "GD03", &s, &err));
	tu_assert_error(&err, CP_E_LEDGER, "already used");
	cp_ledger_batch_abort(b);
	b = cp_ledger_batch_begin(l, "n3", NULL, &err);
	g_assert_false(cp_ledger_batch_next_serial(b, "GD09", &s, &err));
	tu_assert_error(&err, CP_E_LEDGER, "never received");
	cp_ledger_batch_abort(b);
	b = cp_ledger_batch_begin(l, "n3", NULL, &err);
	g_assert_true(cp_ledger_batch_next_serial(b, "XY0103", &s, &err));
	g_assert_cmpstr(s, ==, "XY0103");
	g_free(s);
	cp_ledger_batch_abort(b);
	cp_ledger_free(l);
	g_free(path);
}

/* Proves: the auditors' CSV has a BOM, CRLF lines, every event in order, and
 * quotes values holding commas, quotes or edge blanks (RFC 4180); an atomic
 * file export is owner-only and complete. */
static void test_export(void)
{
	char *dir = tu_scratch("ledger-export");
	char *path = scratch_ledger("ledger-export");
	cp_ledger *l = open_ok(path);
	cp_error *err = NULL;
	g_assert_true(cp_ledger_stock_add(l, "GD01", "GD03", "2026-01-05", "box 1, \"red\"", NULL,
	                                  &err));
	cp_ledger_batch *b = cp_ledger_batch_begin(l, "b1", NULL, &err);
	cp_ledger_print p = page(CERT("000001"), "GD01", 1);
	p.name = "李\"四,五";
	p.occupation = " 电工";
	g_assert_true(cp_ledger_batch_add(b, &p, &err));
	g_assert_true(cp_ledger_batch_commit(b, &err));
	g_assert_true(cp_ledger_spoil(l, "GD01", NULL, "smudge, left edge", &err));
	g_assert_true(cp_ledger_destroy(l, "GD01", "GD02", "shredded", NULL, &err));
	tu_assert_no_error(err);

	char *csv = export_string(l);
	g_test_message("%s", csv);
	char **lines = g_strsplit(csv, "\r\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 7); /* header, 5 events, "" */
	g_assert_cmpstr(lines[0], ==,
	                "\xEF\xBB\xBF" "event,time,cert_no,name,id_masked,level,occupation,serial,"
	                "serial_to,batch,file,page,sha256,reason,old_sheet_returned,operator,note");
	g_assert_cmpstr(lines[1], ==,
	                "stock,2026-01-05,,,,,,GD01,GD03,,,,,,,tester,\"box 1, \"\"red\"\"\"");
	g_assert_true(g_str_has_prefix(lines[2], "issue,"));
	char *want = g_strdup_printf(",%s,\"李\"\"四,五\",4401**********1234,三级/高级工,"
	                             "\" 电工\",GD01,,b1,out/batch.pdf,1,%s,,,tester,",
	                             CERT("000001"), SHA_A);
	g_assert_nonnull(strstr(lines[2], want));
	g_free(want);
	g_assert_true(g_str_has_prefix(lines[3], "spoil,"));
	g_assert_true(g_str_has_suffix(lines[3], ",GD01,,,,,,\"smudge, left edge\",,tester,"));
	g_assert_true(g_str_has_prefix(lines[4], "destroy,"));
	g_assert_nonnull(strstr(lines[4], ",GD01,"));
	g_assert_nonnull(strstr(lines[5], ",GD02,"));
	g_assert_cmpstr(lines[6], ==, "");
	g_strfreev(lines);

	char *file = g_build_filename(dir, "audit.csv", NULL);
	g_assert_true(cp_ledger_export_csv_file(l, file, &err));
	tu_assert_no_error(err);
	char *text = NULL;
	g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, csv);
	GStatBuf st;
	g_assert_cmpint(g_stat(file, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_false(cp_ledger_export_csv_file(l, "/nonexistent/dir/audit.csv", &err));
	tu_assert_error(&err, CP_E_IO, "/nonexistent/dir/audit.csv");
	g_free(text);
	g_free(file);
	g_free(csv);
	cp_ledger_free(l);
	g_free(path);
	g_free(dir);
}

/* Sets TZ for this process (GLib and SQLite's libc both read it). */
static void set_tz(const char *tz)
{
	g_setenv("TZ", tz, TRUE);
	tzset();
}

static char *report_string(cp_ledger *l, const char *from, const char *to)
{
	cp_error *err = NULL;
	char *r = cp_ledger_report(l, from, to, TRUE, &err);
	tu_assert_no_error(err);
	g_assert_nonnull(r);
	return r;
}

/* Proves: times are stored in UTC with the offset; a ledger written before
 * that, with the recording machine's local times (+08:00), reads the same:
 * shown in the operator's time zone (TZ=UTC and TZ=Asia/Shanghai on the same
 * file), exported in time order where the stored strings sort the other way,
 * and counted in the operator's calendar day by reports and balances. */
static void test_times(void)
{
	char *path = scratch_ledger("ledger-times");
	char *saved = g_strdup(g_getenv("TZ"));
	cp_error *err = NULL;
	cp_ledger *l = open_ok(path);
	stock(l, "GD01", "GD09", "2026-01-05");
	gint64 before = g_get_real_time() / G_USEC_PER_SEC;
	g_assert_true(issue1(l, "b1", CERT("000001"), "GD01", &err));
	g_assert_true(issue1(l, "b2", CERT("000002"), "GD02", &err));
	gint64 after = g_get_real_time() / G_USEC_PER_SEC;
	tu_assert_no_error(err);
	cp_ledger_free(l);

	/* what is stored today: UTC, with its offset */
	GPtrArray *stored = raw_column(path, "SELECT printed_at FROM print UNION ALL "
	                                     "SELECT started_at FROM batch");
	for (guint i = 0; i < stored->len; i++) {
		const char *at = g_ptr_array_index(stored, i);
		g_assert_true(g_str_has_suffix(at, "+00:00"));
		g_assert_cmpint(strlen(at), ==, strlen("2026-01-09T23:30:00+00:00"));
		/* the moment it was recorded, to the second */
		GDateTime *dt = g_date_time_new_from_iso8601(at, NULL);
		g_assert_nonnull(dt);
		g_assert_cmpint(g_date_time_to_unix(dt), >=, before);
		g_assert_cmpint(g_date_time_to_unix(dt), <=, after);
		g_date_time_unref(dt);
	}
	g_assert_cmpint(stored->len, ==, 4);
	g_ptr_array_unref(stored);

	/* an older ledger: local times of a machine in Shanghai for b1, UTC for
	 * b2; 07:30+08:00 on the 10th is 23:30 UTC on the 9th, before b2's 23:45 */
	raw_exec(path, pg_base ? "ALTER TABLE print DISABLE TRIGGER USER;"
	                         "ALTER TABLE batch DISABLE TRIGGER USER"
	                       : "DROP TRIGGER print_ro; DROP TRIGGER batch_ro");
	raw_exec(path, "UPDATE batch SET started_at = '2026-01-10T07:29:00+08:00' WHERE name = 'b1';"
	               "UPDATE batch SET started_at = '2026-01-09T23:44:00+00:00' WHERE name = 'b2';"
	               "UPDATE print SET printed_at = '2026-01-10T07:30:00+08:00' "
	               "  WHERE cert_no = '" CERT("000001") "';"
	               "UPDATE print SET printed_at = '2026-01-09T23:45:00+00:00' "
	               "  WHERE cert_no = '" CERT("000002") "';");
	l = open_ok(path);
	cp_ledger_balance b;

	set_tz("UTC");
	char *h = cp_ledger_history(l, CERT("000001"), &err);
	tu_assert_no_error(err);
	g_assert_nonnull(strstr(h, "\n2026-01-09T23:30:00+00:00  issued"));
	g_free(h);
	char *e = export_string(l);
	char *i1 = strstr(e, "issue,2026-01-09T23:30:00+00:00," CERT("000001"));
	char *i2 = strstr(e, "issue,2026-01-09T23:45:00+00:00," CERT("000002"));
	g_assert_nonnull(i1);
	g_assert_nonnull(i2);
	g_assert_true(i1 < i2);
	g_free(e);
	char *r = report_string(l, "2026-01-09", "2026-01-09");
	g_assert_nonnull(strstr(r, "\"printed\": 2,"));
	g_assert_nonnull(strstr(r, "\"started_at\": \"2026-01-09T23:29:00+00:00\""));
	g_free(r);
	r = report_string(l, "2026-01-10", "2026-01-10");
	g_assert_nonnull(strstr(r, "\"printed\": 0,"));
	g_free(r);
	g_assert_true(cp_ledger_balance_at(l, "2026-01-09", &b, &err));
	g_assert_cmpint(b.issued, ==, 2);

	set_tz("Asia/Shanghai");
	h = cp_ledger_history(l, CERT("000002"), &err);
	tu_assert_no_error(err);
	g_assert_nonnull(strstr(h, "\n2026-01-10T07:45:00+08:00  issued"));
	g_free(h);
	e = export_string(l);
	i1 = strstr(e, "issue,2026-01-10T07:30:00+08:00," CERT("000001"));
	i2 = strstr(e, "issue,2026-01-10T07:45:00+08:00," CERT("000002"));
	g_assert_nonnull(i1);
	g_assert_nonnull(i2);
	g_assert_true(i1 < i2);
	g_assert_nonnull(strstr(e, "stock,2026-01-05,")); /* a day stays a day */
	g_free(e);
	r = report_string(l, "2026-01-10", "2026-01-10");
	g_assert_nonnull(strstr(r, "\"printed\": 2,"));
	g_assert_nonnull(strstr(r, "\"started_at\": \"2026-01-10T07:29:00+08:00\""));
	g_assert_nonnull(strstr(r, "\"started_at\": \"2026-01-10T07:44:00+08:00\""));
	g_free(r);
	r = report_string(l, "2026-01-09", "2026-01-09");
	g_assert_nonnull(strstr(r, "\"printed\": 0,"));
	g_assert_nonnull(strstr(r, "\"batches\": []"));
	g_free(r);
	g_assert_true(cp_ledger_balance_at(l, "2026-01-09", &b, &err));
	g_assert_cmpint(b.issued, ==, 0);
	g_assert_true(cp_ledger_balance_at(l, "2026-01-10", &b, &err));
	g_assert_cmpint(b.issued, ==, 2);
	tu_assert_no_error(err);

	cp_ledger_free(l);
	if (saved)
		set_tz(saved);
	else {
		g_unsetenv("TZ");
		tzset();
	}
	g_free(saved);
	g_free(path);
}

/* ------------------------------------------------------------ PostgreSQL */

/* Proves: a password in the connection string is refused without being
 * quoted back; a database without the schema is refused with the way to make
 * it; the schema is versioned, init is idempotent, and rows are append-only
 * on the server too (stations cannot edit the record). */
static void test_pg_server(void)
{
	cp_error *err = NULL;
	char *with_pw = g_strdup_printf("%s password=s3cret-pw", pg_base);
	g_assert_null(cp_ledger_open(with_pw, 1000, &err));
	g_assert_nonnull(err);
	g_assert_null(strstr(err->message, "s3cret-pw"));
	tu_assert_error(&err, CP_E_USAGE, "~/.pgpass");
	g_free(with_pw);
	g_assert_null(cp_ledger_open("postgresql://cp:s3cret-pw@localhost/ledger", 1000, &err));
	tu_assert_error(&err, CP_E_USAGE, "holds a password");

	PGconn *c = pg_connect(pg_base);
	pg_exec(c, "SET client_min_messages = warning; "
	           "DROP SCHEMA IF EXISTS ledger_empty CASCADE; CREATE SCHEMA ledger_empty");
	PQfinish(c);
	char *path = g_strdup_printf("%s options='-c search_path=ledger_empty'", pg_base);
	g_assert_null(cp_ledger_open(path, 1000, &err));
	tu_assert_error(&err, CP_E_LEDGER, "certpress ledger init");
	cp_ledger *l = cp_ledger_init(path, 1000, &err);
	tu_assert_no_error(err);
	cp_ledger_free(l);
	l = cp_ledger_init(path, 1000, &err); /* again: nothing to do */
	tu_assert_no_error(err);
	stock(l, "GD01", "GD09", NULL);
	cp_ledger_free(l);
	GPtrArray *v = raw_column(path, "SELECT value FROM certpress_meta "
	                                "WHERE key = 'schema_version'");
	g_assert_cmpuint(v->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(v, 0), ==, "3"); /* 3: a batch's source */
	g_ptr_array_unref(v);
	c = pg_connect(path);
	PGresult *r = PQexec(c, "DELETE FROM stock");
	g_assert_cmpint(PQresultStatus(r), ==, PGRES_FATAL_ERROR);
	g_assert_nonnull(strstr(PQresultErrorMessage(r), "append-only"));
	PQclear(r);
	r = PQexec(c, "UPDATE certpress_meta SET value = '99' WHERE key = 'schema_version'");
	g_assert_cmpint(PQresultStatus(r), ==, PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
	g_assert_null(cp_ledger_open(path, 1000, &err));
	tu_assert_error(&err, CP_E_LEDGER, "newer");
	g_free(path);
}

/* Ends every other connection to the test server (a server going away, as
 * the station sees it). */
static void terminate_others(void)
{
	PGconn *c = pg_connect(pg_base);
	pg_exec(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	           "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'");
	PQfinish(c);
}

/* Proves: a connection lost mid-batch — before it was recorded, or after its
 * pages were written but before COMMIT — is an error naming the loss, and
 * nothing of the batch is in the ledger. */
static void test_pg_lost(void)
{
	char *path = scratch_ledger("ledger-lost");
	cp_error *err = NULL;
	for (int when = 0; when < 2; when++) {
		cp_ledger *l = open_ok(path);
		cp_ledger_batch *b = cp_ledger_batch_begin(l, "lost", NULL, &err);
		tu_assert_no_error(err);
		for (int i = 1; i <= 3; i++) {
			char cert[32];
			g_snprintf(cert, sizeof cert, "S000144123456263%06d", i);
			cp_ledger_print p = page(cert, NULL, i);
			g_assert_true(cp_ledger_batch_add(b, &p, &err));
		}
		if (when == 1)
			g_assert_true(cp_ledger_batch_prepare(b, &err));
		terminate_others();
		g_assert_false(cp_ledger_batch_commit(b, &err));
		tu_assert_error(&err, CP_E_IO, "connection to the ledger server was lost");
		cp_ledger_free(l);
		l = open_ok(path);
		g_assert_null(cp_ledger_history(l, CERT("000001"), &err));
		tu_assert_error(&err, CP_E_LEDGER, "not in the ledger");
		char *csv = export_string(l);
		g_assert_cmpint(tu_count(csv, strlen(csv), "\r\nissue,"), ==, 0);
		g_free(csv);
		cp_ledger_free(l);
	}
	g_free(path);
}

/* Proves the last guard: a station whose checks passed (the rival's print
 * is not committed yet, and was written without the rules, as by a station
 * of another program) does not print the number again: its insert waits on
 * the unique (cert_no, seq), learns from ON CONFLICT DO NOTHING RETURNING that
 * it lost, and the batch is refused naming the number, recording nothing. */
static void test_pg_guard(void)
{
	char *path = scratch_ledger("ledger-guard");
	PGconn *rival = pg_connect(path);
	pg_exec(rival, "BEGIN");
	pg_exec(rival, "INSERT INTO batch (name, operator, started_at) "
	               "VALUES ('rival', 'x', '2026-01-01T00:00:00+00:00')");
	pg_exec(rival, "INSERT INTO print (batch_id, kind, cert_no, seq, name, id_masked, level, "
	               "occupation, file, page, sha256, printed_at, operator) "
	               "SELECT id, 'issue', '" CERT("000001") "', 1, 'x', 'x', 'x', 'x', 'x', 1, "
	               "'x', '2026-01-01T00:00:00+00:00', 'x' FROM batch WHERE name = 'rival'");
	fflush(NULL);
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		cp_error *err = NULL;
		cp_ledger *l = cp_ledger_open(path, 20000, &err);
		if (!l)
			_exit(3);
		const char *certs[] = {CERT("000002"), CERT("000001")};
		if (issue(l, "station", certs, NULL, 2, NULL, false, &err))
			_exit(4);
		_exit(err->code == CP_E_LEDGER &&
		      strstr(err->message, CERT("000001") " was printed by another batch meanwhile")
		          ? 0 : 5);
	}
	/* the event: the station's insert is waiting on the rival's row (or
	 * the station is done: then it did not wait, and the test fails below) */
	PGconn *watch = pg_connect(pg_base);
	int st = 0;
	pid_t gone = 0;
	while ((gone = waitpid(pid, &st, WNOHANG)) == 0) {
		PGresult *r = PQexec(watch, "SELECT count(*) FROM pg_locks WHERE NOT granted");
		g_assert_cmpint(PQresultStatus(r), ==, PGRES_TUPLES_OK);
		bool waiting = atoi(PQgetvalue(r, 0, 0)) > 0;
		PQclear(r);
		if (waiting)
			break;
		g_usleep(1000);
	}
	PQfinish(watch);
	pg_exec(rival, "COMMIT");
	PQfinish(rival);
	if (!gone)
		g_assert_cmpint(waitpid(pid, &st, 0), ==, pid);
	g_assert_true(WIFEXITED(st));
	g_assert_cmpint(WEXITSTATUS(st), ==, 0);
	GPtrArray *rows = raw_column(path, "SELECT cert_no FROM print ORDER BY id");
	g_assert_cmpuint(rows->len, ==, 1); /* the rival's only: nothing of the station */
	g_ptr_array_unref(rows);
	g_free(path);
}

/* Proves: `ledger migrate` moves the print jobs too (with their batch, state
 * and message, compared before commit), and the server's job ids go on after
 * the ones moved. */
static void test_pg_migrate_jobs(void)
{
	char *dir = tu_scratch("ledger-pg-migrate-jobs");
	char *file = g_build_filename(dir, "ledger.sqlite", NULL);
	cp_error *err = NULL;
	cp_ledger *from = open_ok(file);
	cp_ledger_batch *b = cp_ledger_batch_begin(from, "b1", "batch.csv", &err);
	tu_assert_no_error(err);
	g_assert_true(cp_ledger_batch_set_source(
	    b, "/in/batch.csv", "1111111111111111111111111111111111111111111111111111111111111111",
	    "office", "offset 0 mm", &err));
	g_assert_true(cp_ledger_batch_set_template(
	    b, "/in/t.conf", "2222222222222222222222222222222222222222222222222222222222222222",
	    &err));
	cp_ledger_print pr = page(CERT("000001"), NULL, 1);
	g_assert_true(cp_ledger_batch_check(b, &pr, &err) && cp_ledger_batch_add(b, &pr, &err));
	g_assert_true(cp_ledger_batch_commit(b, &err));
	tu_assert_no_error(err);
	cp_ledger_job j = {
		.batch = "b1", .file = "out/batch.pdf", .dest = "ipp://127.0.0.1:8631/ipp/print",
		.copies = 1, .job_id = 7, .state = "aborted", .message = "paper jam",
	};
	g_assert_true(cp_ledger_job_add(from, &j, &err));
	tu_assert_no_error(err);
	char *path = scratch_ledger("ledger-pg-migrate-jobs");
	cp_ledger *to = open_ok(path);
	int64_t n = 0;
	g_assert_true(cp_ledger_migrate(from, to, &n, &err));
	tu_assert_no_error(err);
	g_assert_cmpint(n, ==, 3); /* the batch, its print, the job */
	/* the batch's source (schema 3) moved with it */
	cp_ledger_source src;
	g_assert_true(cp_ledger_source_of(to, CERT("000001"), NULL, 0, &src, &err));
	tu_assert_no_error(err);
	g_assert_cmpstr(src.input, ==, "/in/batch.csv");
	g_assert_cmpstr(src.printer_profile, ==, "office");
	g_assert_cmpstr(src.template_path, ==, "/in/t.conf");
	g_assert_cmpstr(src.template_sha256, ==,
	                "2222222222222222222222222222222222222222222222222222222222222222");
	cp_ledger_source_clear(&src);
	j.job_id = 8;
	j.state = "completed";
	j.message = NULL;
	g_assert_true(cp_ledger_job_add(to, &j, &err));
	tu_assert_no_error(err);
	char *h = cp_ledger_history(to, CERT("000001"), &err);
	tu_assert_no_error(err);
	g_assert_nonnull(strstr(h, "job 7  copies 1  NOT PRINTED: job aborted by the printer  "
	                           "paper jam"));
	g_assert_nonnull(strstr(h, "job 8  copies 1  printed (job completed)"));
	free(h);
	GPtrArray *ids = raw_column(path, "SELECT id FROM print_job ORDER BY id");
	g_assert_cmpuint(ids->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(ids, 1), ==, "2");
	g_ptr_array_unref(ids);
	cp_ledger_free(to);
	cp_ledger_free(from);
	g_free(path);
	g_free(file);
	g_free(dir);
}

int main(int argc, char **argv)
{
	/* the default path must never be the developer's real ledger */
	char *home = tu_scratch("ledger-xdg");
	g_setenv("XDG_DATA_HOME", home, TRUE);
	g_test_init(&argc, &argv, NULL);
	pg_base = g_getenv("CERTPRESS_TEST_PG");
	if (pg_base && !*pg_base)
		pg_base = NULL;
	const char *b = pg_base ? "/ledger-pg" : "/ledger";
	char *name;
#define ADD(n, f) (name = g_strconcat(b, n, NULL), g_test_add_func(name, f), g_free(name))
	if (!pg_base) {
		ADD("/create-mode", test_create_mode);
		ADD("/backup", test_backup);
		ADD("/schema", test_schema);
	} else {
		ADD("/server", test_pg_server);
		ADD("/connection-lost", test_pg_lost);
		ADD("/guard", test_pg_guard);
		ADD("/migrate-jobs", test_pg_migrate_jobs);
	}
	ADD("/duplicate", test_duplicate);
	ADD("/reissue", test_reissue);
	ADD("/spoil", test_spoil);
	ADD("/batch-spoil", test_batch_spoil);
	ADD("/revoke", test_revoke);
	ADD("/ahead", test_ahead);
	ADD("/balance", test_balance);
	ADD("/validation", test_validation);
	ADD("/race", test_race);
	ADD("/busy", test_busy);
	ADD("/kill", test_kill);
	ADD("/export", test_export);
	ADD("/times", test_times);
	ADD("/print-jobs", test_print_jobs);
	ADD("/next-serial", test_next_serial);
	ADD("/cert-state", test_cert_state);
	ADD("/source", test_source);
#undef ADD
	int rc = g_test_run();
	g_free(home);
	return rc;
}
