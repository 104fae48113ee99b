/* SPDX-License-Identifier: MIT */
/*
 * The ledger on a PostgreSQL server, shared by many print stations (libpq):
 * storage and queries only; the rules are in ledger.c (see backend.h).
 *
 * Why it is built the way it is:
 *  - The schema is versioned (certpress_meta) and made by `certpress ledger
 *    init`, the one step that needs the right to create tables; stations
 *    need only SELECT and INSERT (README: roles and grants).
 *  - A write transaction takes a transaction-scoped advisory lock first, so
 *    the rules' checks and the inserts see one state, as under SQLite's
 *    BEGIN IMMEDIATE. It is held only while a batch is recorded, never while
 *    it prints; a station that waits longer than the busy timeout gives up
 *    (lock_timeout) with a clear message.
 *  - Behind the checks, unique constraints guard what must happen once: one
 *    print per serial, one batch per name, one spoil and one destruction per
 *    sheet, one revocation per number, and (cert_no, seq) — the n-th print of
 *    a number exists once, so two stations can never both print it. Inserts
 *    learn that they lost from ON CONFLICT DO NOTHING RETURNING.
 *  - A batch is one transaction, committed at the end: a station killed or a
 *    connection lost before COMMIT leaves nothing (the server rolls back).
 *  - Times are stored as the same text as in SQLite (UTC with offset) and
 *    compared as timestamptz; the session runs in UTC.
 *  - No password on the command line or in the environment: one in the
 *    connection string, or PGPASSWORD set, is refused; libpq reads it from
 *    ~/.pgpass or PGPASSFILE.
 */
#include "ledger/backend.h"
#include "ledger/ledger.h"

#include <glib.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <string.h>

#include "error.h"
#include "i18n.h"
#include "lazylib.h"

#define PQ_FUNCTIONS(X) X(PQclear) X(PQcmdStatus) X(PQconnectdb) X(PQconninfoFree) \
	X(PQconninfoParse) X(PQenterPipelineMode) X(PQerrorMessage) X(PQexec) \
	X(PQexecPrepared) X(PQexitPipelineMode) X(PQfinish) X(PQfreemem) X(PQgetResult) \
	X(PQgetisnull) X(PQgetvalue) X(PQntuples) X(PQpipelineStatus) X(PQpipelineSync) \
	X(PQprepare) X(PQresultErrorField) X(PQresultStatus) X(PQsendQueryParams) \
	X(PQsendQueryPrepared) X(PQsetNoticeProcessor) X(PQstatus) X(PQtransactionStatus)
CP_LAZY_LIBRARY(pq, CP_SONAME_PQ, N_("a ledger on PostgreSQL"), PQ_FUNCTIONS);

#define PG_SCHEMA_VERSION 3
/* pg_advisory_xact_lock key of the ledger's writers: "CPRG" */
#define PG_WRITE_LOCK "1129337415"

struct cp_ledger_db {
	PGconn *conn;
	char *where; /* the connection string, for messages (it holds no password) */
	int busy_ms;
	bool prepared[CP_LQ_N]; /* the query is a prepared statement "lqN" */
	int piped;              /* pg_send(): queries sent, answers not yet taken */
	bool synced;            /* the pipeline's end was sent (first pg_receive) */
};

struct cp_ledger_rows {
	cp_ledger_db *d;
	PGresult *res;
	int row; /* current row, -1 before the first */
};

/* ----------------------------------------------------------------- schema */

#define APPEND_ONLY(t)                                                                 \
	"CREATE TRIGGER " t "_append_only BEFORE UPDATE OR DELETE ON " t                 \
	" FOR EACH ROW EXECUTE FUNCTION certpress_append_only();"

/* migrations[v] takes the database from schema version v to v + 1; version 0
 * is a database without certpress tables. Never edit an old entry. */
static const char *const migrations[PG_SCHEMA_VERSION] = {
	/* 0 → 1 */
	"CREATE TABLE certpress_meta (key text PRIMARY KEY, value text NOT NULL);"
	"CREATE TABLE stock ("
	"  id bigserial PRIMARY KEY,"
	"  prefix text NOT NULL, width integer NOT NULL,"
	"  first bigint NOT NULL, last bigint NOT NULL,"
	"  received_on text NOT NULL, note text,"
	"  operator text NOT NULL, recorded_at text NOT NULL,"
	"  CHECK (first <= last));"
	"CREATE INDEX stock_prefix ON stock(prefix, width, first);"
	"CREATE TABLE batch ("
	"  id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, note text,"
	"  operator text NOT NULL, started_at text NOT NULL);"
	"CREATE TABLE print ("
	"  id bigserial PRIMARY KEY,"
	"  batch_id bigint NOT NULL REFERENCES batch(id),"
	"  kind text NOT NULL CHECK (kind IN ('issue', 'reprint', 'reissue')),"
	"  cert_no text NOT NULL, seq integer NOT NULL,"
	"  name text NOT NULL, id_masked text NOT NULL,"
	"  level text NOT NULL, occupation text NOT NULL,"
	"  serial text UNIQUE, stock_id bigint REFERENCES stock(id),"
	"  file text NOT NULL, page integer NOT NULL, sha256 text NOT NULL,"
	"  reason text, old_returned integer NOT NULL DEFAULT 0,"
	"  printed_at text NOT NULL, operator text NOT NULL,"
	"  UNIQUE (cert_no, seq),"
	"  CHECK ((kind = 'reissue') = (reason IS NOT NULL)));"
	"CREATE INDEX print_batch ON print(batch_id);"
	"CREATE TABLE spoil ("
	"  id bigserial PRIMARY KEY,"
	"  serial text UNIQUE, stock_id bigint REFERENCES stock(id),"
	"  print_id bigint UNIQUE REFERENCES print(id), cert_no text,"
	"  reason text NOT NULL, at text NOT NULL, operator text NOT NULL,"
	"  CHECK (serial IS NOT NULL OR print_id IS NOT NULL));"
	"CREATE TABLE destruction ("
	"  id bigserial PRIMARY KEY, reason text NOT NULL,"
	"  at text NOT NULL, operator text NOT NULL);"
	"CREATE TABLE destroyed ("
	"  serial text PRIMARY KEY,"
	"  stock_id bigint NOT NULL REFERENCES stock(id),"
	"  destruction_id bigint NOT NULL REFERENCES destruction(id));"
	"CREATE TABLE revocation ("
	"  cert_no text PRIMARY KEY, reason text NOT NULL,"
	"  at text NOT NULL, operator text NOT NULL);"
	"CREATE FUNCTION certpress_append_only() RETURNS trigger LANGUAGE plpgsql AS "
	"  $$BEGIN RAISE EXCEPTION 'append-only: % on %', TG_OP, TG_TABLE_NAME; END$$;"
	APPEND_ONLY("stock") APPEND_ONLY("batch") APPEND_ONLY("print") APPEND_ONLY("spoil")
	APPEND_ONLY("destruction") APPEND_ONLY("destroyed") APPEND_ONLY("revocation")
	"INSERT INTO certpress_meta VALUES ('application', 'certpress ledger');",
	/* 1 → 2: print jobs (certpress print) */
	"CREATE TABLE print_job ("
	"  id bigserial PRIMARY KEY,"
	"  batch_id bigint REFERENCES batch(id),"
	"  file text NOT NULL, dest text NOT NULL, profile text,"
	"  copies integer NOT NULL CHECK (copies >= 1),"
	"  job_id bigint,"
	"  state text NOT NULL CHECK (state IN ('completed', 'canceled', 'aborted', 'refused',"
	"    'unreachable', 'lost', 'interrupted')),"
	"  message text, at text NOT NULL, operator text NOT NULL);"
	"CREATE INDEX print_job_batch ON print_job(batch_id);"
	APPEND_ONLY("print_job"),
	/* 2 → 3: what a batch was made from, so that a page can be made again
	 * (the input file by absolute path and its SHA-256, the template), and
	 * the printer calibration its pages were drawn with. Older batches
	 * have NULLs. */
	"ALTER TABLE batch ADD COLUMN input text, ADD COLUMN input_sha256 text, "
	"ADD COLUMN printer_profile text, ADD COLUMN calibration text, "
	"ADD COLUMN template text, ADD COLUMN template_sha256 text;",
};

/* ---------------------------------------------------------------- queries */

/* An instant the rules pass ("YYYY-MM-DD HH:MM:SS", UTC) */
#define UTC(n) "($" #n "::text || '+00')::timestamptz"
#define IN_PERIOD(t) " (" t ")::timestamptz >= " UTC(1) " AND (" t ")::timestamptz < " UTC(2)
#define RETURNING " ON CONFLICT DO NOTHING RETURNING id"

static const char *const sql[CP_LQ_N] = {
	[CP_LQ_STOCK_OF] =
		"SELECT id FROM stock WHERE prefix = $1::text AND width = $2::integer "
		"AND first <= $3::bigint AND last >= $3::bigint",
	[CP_LQ_STOCK_OVERLAP] =
		"SELECT first, last FROM stock WHERE prefix = $1::text AND width = $2::integer "
		"AND first <= $4::bigint AND last >= $3::bigint ORDER BY id LIMIT 1",
	[CP_LQ_REVOCATION_OF] = "SELECT at, reason FROM revocation WHERE cert_no = $1::text",
	[CP_LQ_CERT_COUNT] =
		"SELECT count(*), count(*) FILTER (WHERE batch_id = $2::bigint) "
		"FROM print WHERE cert_no = $1::text",
	[CP_LQ_SERIAL_PRINT] =
		"SELECT p.id, p.cert_no, b.name, p.printed_at FROM print p "
		"JOIN batch b ON b.id = p.batch_id WHERE p.serial = $1::text",
	[CP_LQ_SERIAL_SPOILED] = "SELECT at FROM spoil WHERE serial = $1::text",
	[CP_LQ_SERIAL_DESTROYED] =
		"SELECT x.at FROM destroyed d JOIN destruction x ON x.id = d.destruction_id "
		"WHERE d.serial = $1::text",
	[CP_LQ_SERIAL_HELD] =
		"SELECT p.cert_no FROM print p WHERE p.serial = $1::text "
		"AND NOT EXISTS (SELECT 1 FROM spoil s WHERE s.print_id = p.id) "
		"AND NOT EXISTS (SELECT 1 FROM print r WHERE r.cert_no = p.cert_no "
		"  AND r.kind = 'reissue' AND r.old_returned <> 0 AND r.id > p.id)",
	[CP_LQ_PRINT_UNSERIALED] =
		"SELECT p.id FROM print p WHERE p.cert_no = $1::text AND p.serial IS NULL "
		"AND NOT EXISTS (SELECT 1 FROM spoil s WHERE s.print_id = p.id) "
		"ORDER BY p.id DESC LIMIT 1",
	[CP_LQ_BATCH_NAMED] = "SELECT id FROM batch WHERE name = $1::text",
	[CP_LQ_CERT_STATE] =
		"SELECT (SELECT at FROM revocation WHERE cert_no = $1::text), (SELECT reason "
		"FROM revocation WHERE cert_no = $1::text), (SELECT count(*) FROM print WHERE "
		"cert_no = $1::text), (SELECT count(*) FROM print WHERE cert_no = $1::text AND "
		"batch_id = $2::bigint), (SELECT b.name FROM print p JOIN batch b ON b.id = "
		"p.batch_id WHERE p.cert_no = $1::text AND NOT EXISTS (SELECT 1 FROM spoil s "
		"WHERE s.print_id = p.id) ORDER BY p.id DESC LIMIT 1), (SELECT p.printed_at FROM "
		"print p JOIN batch b ON b.id = p.batch_id WHERE p.cert_no = $1::text AND NOT "
		"EXISTS (SELECT 1 FROM spoil s WHERE s.print_id = p.id) ORDER BY p.id DESC LIMIT "
		"1)",
	[CP_LQ_SERIAL_STATE] =
		"SELECT (SELECT id FROM stock WHERE prefix = $1::text AND width = $2::integer "
		"AND first <= $3::bigint AND last >= $3::bigint), (SELECT cert_no FROM print "
		"WHERE serial = $4::text), (SELECT b.name FROM print p JOIN batch b ON b.id = "
		"p.batch_id WHERE p.serial = $4::text), (SELECT printed_at FROM print WHERE "
		"serial = $4::text), (SELECT at FROM spoil WHERE serial = $4::text), (SELECT "
		"x.at FROM destroyed d JOIN destruction x ON x.id = d.destruction_id WHERE "
		"d.serial = $4::text)",
	[CP_LQ_GENERATION] =
		CP_SQL_GENERATION,
	[CP_LQ_SERIAL_USED] =
		"SELECT (EXISTS (SELECT 1 FROM print WHERE serial = $1::text) "
		"OR EXISTS (SELECT 1 FROM spoil WHERE serial = $1::text) "
		"OR EXISTS (SELECT 1 FROM destroyed WHERE serial = $1::text))::integer",
	[CP_LQ_LAST_SERIAL] =
		CP_SQL_LAST_SERIAL,
	[CP_LQ_STOCK_AFTER] =
		"SELECT id, first FROM stock WHERE id > $1::bigint ORDER BY id LIMIT 1",
	[CP_LQ_LIVE_OTHER] =
		"SELECT count(*) FROM print p WHERE p.cert_no = $1::text AND p.id <> $2::bigint "
		"AND NOT EXISTS (SELECT 1 FROM spoil s WHERE s.print_id = p.id)",
	[CP_LQ_CERT_STANDING] =
		"SELECT (SELECT count(*) FROM print WHERE cert_no = $1::text), "
		"(SELECT count(*) FROM print WHERE cert_no = $1::text AND kind = 'reissue'), "
		"(SELECT reason FROM revocation WHERE cert_no = $1::text)",
	[CP_LQ_BATCH_OF_FILE] =
		"SELECT b.name FROM print p JOIN batch b ON b.id = p.batch_id "
		"WHERE p.file = $1::text OR p.file = $2::text ORDER BY p.id DESC LIMIT 1",
	[CP_LQ_BATCH_OF_RELATIVE] =
		"SELECT p.file, b.name FROM print p JOIN batch b ON b.id = p.batch_id "
		"WHERE left(p.file, 1) <> '/' AND (p.file = $1::text "
		"OR right(p.file, length($1::text) + 1) = '/' || $1::text) "
		"GROUP BY p.batch_id, p.file, b.name ORDER BY max(p.id) DESC",
	[CP_LQ_STOCK_INSERT] =
		"INSERT INTO stock (prefix, width, first, last, received_on, note, "
		"operator, recorded_at) VALUES ($1::text, $2::integer, $3::bigint, $4::bigint, "
		"$5::text, $6::text, $7::text, $8::text)" RETURNING,
	[CP_LQ_BATCH_INSERT] =
		"INSERT INTO batch (name, note, operator, started_at, input, input_sha256, "
		"printer_profile, calibration, template, template_sha256) "
		"VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, "
		"$8::text, $9::text, $10::text)" RETURNING,
	/* seq: this number's n-th print, unique with the number */
	[CP_LQ_PRINT_INSERT] =
		"INSERT INTO print (batch_id, kind, cert_no, seq, name, id_masked, level, "
		"occupation, serial, stock_id, file, page, sha256, reason, old_returned, "
		"printed_at, operator) VALUES ($1::bigint, $2::text, $3::text, "
		"(SELECT count(*) + 1 FROM print WHERE cert_no = $3::text), $4::text, $5::text, "
		"$6::text, $7::text, $8::text, $9::bigint, $10::text, $11::integer, $12::text, "
		"$13::text, $14::integer, $15::text, $16::text)" RETURNING,
	[CP_LQ_SPOIL_INSERT] =
		"INSERT INTO spoil (serial, stock_id, print_id, cert_no, reason, at, operator) "
		"VALUES ($1::text, $2::bigint, $3::bigint, $4::text, $5::text, $6::text, "
		"$7::text)" RETURNING,
	[CP_LQ_DESTRUCTION_INSERT] =
		"INSERT INTO destruction (reason, at, operator) VALUES ($1::text, $2::text, "
		"$3::text)" RETURNING,
	[CP_LQ_DESTROYED_INSERT] =
		"INSERT INTO destroyed (serial, stock_id, destruction_id) "
		"VALUES ($1::text, $2::bigint, $3::bigint) ON CONFLICT DO NOTHING RETURNING 1",
	[CP_LQ_REVOCATION_INSERT] =
		"INSERT INTO revocation (cert_no, reason, at, operator) "
		"VALUES ($1::text, $2::text, $3::text, $4::text) ON CONFLICT DO NOTHING RETURNING 1",
	[CP_LQ_BAL_RECEIVED] =
		"SELECT coalesce(sum(last - first + 1), 0) FROM stock "
		"WHERE received_on <= $1::text AND ($2::bigint = 0 OR id = $2::bigint)",
	[CP_LQ_BAL_DESTROYED] =
		"SELECT count(*) FROM destroyed d JOIN destruction x ON x.id = d.destruction_id "
		"JOIN stock s ON s.id = d.stock_id WHERE x.at::timestamptz < " UTC(3) " "
		"AND s.received_on <= $1::text AND ($2::bigint = 0 OR s.id = $2::bigint)",
	[CP_LQ_BAL_SPOILED] =
		"SELECT count(*) FROM spoil sp JOIN stock s ON s.id = sp.stock_id "
		"WHERE sp.at::timestamptz < " UTC(3) " AND s.received_on <= $1::text "
		"AND ($2::bigint = 0 OR s.id = $2::bigint) AND NOT EXISTS (SELECT 1 FROM destroyed d "
		"  JOIN destruction x ON x.id = d.destruction_id "
		"  WHERE d.serial = sp.serial AND x.at::timestamptz < " UTC(3) ")",
	[CP_LQ_BAL_ISSUED] =
		"SELECT count(*) FROM print p JOIN stock s ON s.id = p.stock_id "
		"WHERE p.printed_at::timestamptz < " UTC(3) " AND s.received_on <= $1::text "
		"AND ($2::bigint = 0 OR s.id = $2::bigint) "
		"AND NOT EXISTS (SELECT 1 FROM spoil sp WHERE sp.serial = p.serial "
		"  AND sp.at::timestamptz < " UTC(3) ") "
		"AND NOT EXISTS (SELECT 1 FROM destroyed d "
		"  JOIN destruction x ON x.id = d.destruction_id "
		"  WHERE d.serial = p.serial AND x.at::timestamptz < " UTC(3) ")",
	[CP_LQ_BAL_RETURNED] =
		"SELECT count(*) FROM print p JOIN stock s ON s.id = p.stock_id "
		"WHERE p.printed_at::timestamptz < " UTC(3) " AND s.received_on <= $1::text "
		"AND ($2::bigint = 0 OR s.id = $2::bigint) "
		"AND EXISTS (SELECT 1 FROM print r WHERE r.cert_no = p.cert_no "
		"  AND r.id > p.id AND r.kind = 'reissue' AND r.old_returned = 1 "
		"  AND r.printed_at::timestamptz < " UTC(3) ") "
		"AND NOT EXISTS (SELECT 1 FROM spoil sp WHERE sp.serial = p.serial "
		"  AND sp.at::timestamptz < " UTC(3) ") "
		"AND NOT EXISTS (SELECT 1 FROM destroyed d "
		"  JOIN destruction x ON x.id = d.destruction_id "
		"  WHERE d.serial = p.serial AND x.at::timestamptz < " UTC(3) ")",
	[CP_LQ_ACT_STOCK] =
		"SELECT coalesce(sum(last - first + 1), 0) FROM stock "
		"WHERE received_on BETWEEN $1::text AND $2::text",
	[CP_LQ_ACT_PRINTED] = "SELECT count(*) FROM print WHERE" IN_PERIOD("printed_at"),
	[CP_LQ_ACT_ISSUED] =
		"SELECT count(*) FROM print WHERE kind = 'issue' AND" IN_PERIOD("printed_at"),
	[CP_LQ_ACT_REPRINTED] =
		"SELECT count(*) FROM print WHERE kind = 'reprint' AND" IN_PERIOD("printed_at"),
	[CP_LQ_ACT_REISSUED] =
		"SELECT count(*) FROM print WHERE kind = 'reissue' AND" IN_PERIOD("printed_at"),
	[CP_LQ_ACT_SPOILED] = "SELECT count(*) FROM spoil WHERE" IN_PERIOD("at"),
	[CP_LQ_ACT_DESTROYED] =
		"SELECT count(*) FROM destroyed d JOIN destruction x ON x.id = d.destruction_id "
		"WHERE" IN_PERIOD("x.at"),
	[CP_LQ_ACT_REVOKED] = "SELECT count(*) FROM revocation WHERE" IN_PERIOD("at"),
	[CP_LQ_JOB_INSERT] =
		"INSERT INTO print_job (batch_id, file, dest, profile, copies, job_id, state, "
		"message, at, operator) VALUES ($1::bigint, $2::text, $3::text, $4::text, "
		"$5::integer, $6::bigint, $7::text, $8::text, $9::text, $10::text)" RETURNING,
	[CP_LQ_JOBS] =
		"SELECT j.at, b.name, j.file, j.dest, j.job_id, j.copies, j.state, j.profile, "
		"j.message FROM print_job j LEFT JOIN batch b ON b.id = j.batch_id "
		"WHERE" IN_PERIOD("j.at") " ORDER BY j.id",
	[CP_LQ_BATCHES] =
		"SELECT b.name, b.started_at, b.operator, b.note, count(p.id), "
		"count(*) FILTER (WHERE p.kind = 'issue'), count(*) FILTER (WHERE p.kind = 'reprint'), "
		"count(*) FILTER (WHERE p.kind = 'reissue'), count(DISTINCT p.file), "
		"b.input, b.input_sha256, b.printer_profile, b.calibration, b.template, "
		"b.template_sha256 "
		"FROM batch b JOIN print p ON p.batch_id = b.id "
		"WHERE" IN_PERIOD("b.started_at") " GROUP BY b.id ORDER BY b.id",
	[CP_LQ_STOCK_IDS] = "SELECT id FROM stock WHERE received_on <= $1::text ORDER BY id",
	[CP_LQ_STOCK_ROW] =
		"SELECT prefix, width, first, last, received_on, note FROM stock WHERE id = $1::bigint",
	[CP_LQ_HISTORY] =
		"SELECT * FROM ("
		"SELECT p.printed_at AS at, 1 AS rank, p.id, p.kind, b.name AS batch, p.serial, "
		"  p.file, p.page, p.sha256, p.name, p.id_masked, p.level, p.occupation, p.reason, "
		"  p.old_returned, p.operator, p.id::numeric AS seq "
		"FROM print p JOIN batch b ON b.id = p.batch_id WHERE p.cert_no = $1::text "
		"UNION ALL "
		"SELECT s.at, 2, s.id, 'spoil', NULL, s.serial, NULL, NULL, NULL, NULL, NULL, NULL, "
		"  NULL, s.reason, NULL, s.operator, coalesce(s.print_id::numeric, 9e18) "
		"FROM spoil s WHERE s.cert_no = $1::text "
		"UNION ALL "
		"SELECT x.at, 3, x.id, 'destroy', NULL, d.serial, NULL, NULL, NULL, NULL, NULL, NULL, "
		"  NULL, x.reason, NULL, x.operator, 9e18 "
		"FROM destroyed d JOIN destruction x ON x.id = d.destruction_id "
		"WHERE d.serial IN (SELECT serial FROM print WHERE cert_no = $1::text "
		"  AND serial IS NOT NULL) "
		"UNION ALL "
		"SELECT r.at, 4, 0, 'revoke', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
		"  r.reason, NULL, r.operator, 9e18 FROM revocation r WHERE r.cert_no = $1::text "
		"UNION ALL "
		"SELECT j.at, 1.5, j.id, 'job', b.name, NULL, NULL, j.job_id, j.dest, j.state, "
		"  j.copies::text, NULL, NULL, j.message, NULL, j.operator, "
		"  (SELECT max(id) FROM print WHERE batch_id = j.batch_id AND cert_no = $1::text)::numeric "
		"FROM print_job j JOIN batch b ON b.id = j.batch_id "
		"WHERE j.batch_id IN (SELECT batch_id FROM print WHERE cert_no = $1::text) "
		/* in time; within one second (times have whole seconds) in the
		 * order they can only have happened in: a print, the job of its
		 * batch, the spoiling of that sheet, a later print, then what has
		 * no print of its own */
		") h ORDER BY at::timestamptz, seq, 2, 3",
	/* stock at the start of the day received in the session's time zone,
	 * which is the operator's offset for this query (see pg_open()) */
	[CP_LQ_EXPORT] =
		"SELECT * FROM ("
		"SELECT 'stock' AS event, s.received_on AS at, 0 AS rank, s.id AS id, "
		"  NULL::text AS cert_no, NULL::text, NULL::text, NULL::text, NULL::text, "
		"  s.prefix AS serial, s.width, s.first, s.last, NULL::text, NULL::text, "
		"  NULL::integer, NULL::text, NULL::text, NULL::integer, s.operator, s.note, "
		"  (s.received_on || ' 00:00:00')::timestamp AT TIME ZONE $1::interval AS t "
		"FROM stock s "
		"UNION ALL "
		"SELECT p.kind, p.printed_at, 1, p.id, p.cert_no, p.name, p.id_masked, p.level, "
		"  p.occupation, p.serial, NULL, NULL, NULL, b.name, p.file, p.page, p.sha256, "
		"  p.reason, CASE WHEN p.kind = 'reissue' THEN p.old_returned END, p.operator, NULL, "
		"  p.printed_at::timestamptz "
		"FROM print p JOIN batch b ON b.id = p.batch_id "
		"UNION ALL "
		"SELECT 'spoil', s.at, 2, s.id, s.cert_no, NULL, NULL, NULL, NULL, s.serial, NULL, "
		"  NULL, NULL, NULL, NULL, NULL, NULL, s.reason, NULL, s.operator, NULL, "
		"  s.at::timestamptz "
		"FROM spoil s "
		"UNION ALL "
		"SELECT 'destroy', x.at, 3, x.id, NULL, NULL, NULL, NULL, NULL, d.serial, NULL, "
		"  NULL, NULL, NULL, NULL, NULL, NULL, x.reason, NULL, x.operator, NULL, "
		"  x.at::timestamptz "
		"FROM destroyed d JOIN destruction x ON x.id = d.destruction_id "
		"UNION ALL "
		"SELECT 'revoke', r.at, 4, 0, r.cert_no, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
		"  NULL, NULL, NULL, NULL, NULL, r.reason, NULL, r.operator, NULL, "
		"  r.at::timestamptz "
		"FROM revocation r "
		") e ORDER BY t, 3, 4, 10",
	[CP_LQ_SOURCE_OF_CERT] =
		"SELECT " "p.cert_no, p.serial, b.name, b.input, b.input_sha256, "
		"b.printer_profile, p.page, b.template, b.template_sha256 "
		"FROM print p JOIN batch b ON b.id = p.batch_id "
		"WHERE p.cert_no = $1::text AND NOT EXISTS (SELECT 1 FROM spoil s "
		"  WHERE s.print_id = p.id) ORDER BY p.id DESC LIMIT 1",
	[CP_LQ_SOURCE_OF_PAGE] =
		"SELECT " "p.cert_no, p.serial, b.name, b.input, b.input_sha256, "
		"b.printer_profile, p.page, b.template, b.template_sha256 "
		"FROM print p JOIN batch b ON b.id = p.batch_id "
		"WHERE b.name = $1::text AND p.page = $2::integer ORDER BY p.id DESC LIMIT 1",
	[CP_LQ_ENTRIES] =
		CP_SQL_ENTRIES,
	[CP_LQ_DUMP_STOCK] =
		CP_SQL_DUMP_STOCK,
	[CP_LQ_DUMP_BATCH] =
		CP_SQL_DUMP_BATCH,
	[CP_LQ_DUMP_PRINT] =
		CP_SQL_DUMP_PRINT,
	[CP_LQ_DUMP_SPOIL] =
		CP_SQL_DUMP_SPOIL,
	[CP_LQ_DUMP_DESTRUCTION] =
		CP_SQL_DUMP_DESTRUCTION,
	[CP_LQ_DUMP_DESTROYED] =
		CP_SQL_DUMP_DESTROYED,
	[CP_LQ_DUMP_REVOCATION] =
		CP_SQL_DUMP_REVOCATION,
	[CP_LQ_DUMP_JOB] =
		CP_SQL_DUMP_JOB,
	[CP_LQ_LOAD_STOCK] =
		"INSERT INTO stock (id, prefix, width, first, last, received_on, note, operator, "
		"recorded_at) VALUES ($1::bigint, $2::text, $3::integer, $4::bigint, $5::bigint, "
		"$6::text, $7::text, $8::text, $9::text) RETURNING 1",
	[CP_LQ_LOAD_BATCH] =
		"INSERT INTO batch (id, name, note, operator, started_at, input, input_sha256, "
		"printer_profile, calibration, template, template_sha256) VALUES ($1::bigint, "
		"$2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, "
		"$10::text, $11::text) RETURNING 1",
	[CP_LQ_LOAD_PRINT] =
		"INSERT INTO print (id, batch_id, kind, cert_no, seq, name, id_masked, level, "
		"occupation, serial, stock_id, file, page, sha256, reason, old_returned, "
		"printed_at, operator) VALUES ($1::bigint, $2::bigint, $3::text, $4::text, "
		"(SELECT count(*) + 1 FROM print WHERE cert_no = $4::text), $5::text, $6::text, "
		"$7::text, $8::text, $9::text, $10::bigint, $11::text, $12::integer, $13::text, "
		"$14::text, $15::integer, $16::text, $17::text) RETURNING 1",
	[CP_LQ_LOAD_SPOIL] =
		"INSERT INTO spoil (id, serial, stock_id, print_id, cert_no, reason, at, "
		"operator) VALUES ($1::bigint, $2::text, $3::bigint, $4::bigint, $5::text, "
		"$6::text, $7::text, $8::text) RETURNING 1",
	[CP_LQ_LOAD_DESTRUCTION] =
		"INSERT INTO destruction (id, reason, at, operator) VALUES ($1::bigint, "
		"$2::text, $3::text, $4::text) RETURNING 1",
	[CP_LQ_LOAD_DESTROYED] =
		"INSERT INTO destroyed (serial, stock_id, destruction_id) VALUES ($1::text, "
		"$2::bigint, $3::bigint) RETURNING 1",
	[CP_LQ_LOAD_REVOCATION] =
		"INSERT INTO revocation (cert_no, reason, at, operator) VALUES ($1::text, "
		"$2::text, $3::text, $4::text) RETURNING 1",
	[CP_LQ_LOAD_JOB] =
		"INSERT INTO print_job (id, batch_id, file, dest, profile, copies, job_id, state, "
		"message, at, operator) VALUES ($1::bigint, $2::bigint, $3::text, $4::text, "
		"$5::text, $6::integer, $7::bigint, $8::text, $9::text, $10::text, $11::text) "
		"RETURNING 1",
	[CP_LQ_LOAD_DONE] =
		"SELECT setval(pg_get_serial_sequence('stock', 'id'), coalesce((SELECT max(id) "
		"FROM stock), 0) + 1, false), setval(pg_get_serial_sequence('batch', 'id'), "
		"coalesce((SELECT max(id) FROM batch), 0) + 1, false), "
		"setval(pg_get_serial_sequence('print', 'id'), coalesce((SELECT max(id) FROM "
		"print), 0) + 1, false), setval(pg_get_serial_sequence('spoil', 'id'), "
		"coalesce((SELECT max(id) FROM spoil), 0) + 1, false), "
		"setval(pg_get_serial_sequence('destruction', 'id'), coalesce((SELECT max(id) "
		"FROM destruction), 0) + 1, false), "
		"setval(pg_get_serial_sequence('print_job', 'id'), coalesce((SELECT max(id) "
		"FROM print_job), 0) + 1, false)",
};

/* --------------------------------------------------------------- plumbing */

/* The server's message, first line only. g_free(). */
static char *server_message(cp_ledger_db *d, const PGresult *res)
{
	const char *m = res ? pq.PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!m || !*m)
		m = pq.PQerrorMessage(d->conn);
	char *s = g_strdup(m && *m ? m : "?");
	char *nl = strchr(s, '\n');
	if (nl)
		*nl = '\0';
	return s;
}

static void db_error(cp_ledger_db *d, const PGresult *res, cp_error **err)
{
	const char *state = res ? pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char *m = server_message(d, res);
	if (pq.PQstatus(d->conn) != CONNECTION_OK)
		cp_set_error(err, CP_E_IO, d->where, 0, 0, NULL,
		             _("the connection to the ledger server was lost (%s); nothing of "
		               "this was recorded"),
		             m);
	else if (state && strcmp(state, "55P03") == 0)
		cp_set_error(err, CP_E_IO, d->where, 0, 0, NULL,
		             _("another batch is printing on this ledger, or another process is "
		               "writing to it (waited %.1f s)"),
		             d->busy_ms / 1000.0);
	else if (state && strncmp(state, "23", 2) == 0)
		cp_set_error(err, CP_E_LEDGER, d->where, 0, 0, NULL,
		             _("the ledger refused an entry that contradicts it: %s"), m);
	else
		cp_set_error(err, CP_E_IO, d->where, 0, 0, NULL, _("ledger error: %s"), m);
	g_free(m);
}

/* Runs commands that return no rows. */
static bool exec(cp_ledger_db *d, const char *s, cp_error **err)
{
	PGresult *res = pq.PQexec(d->conn, s);
	ExecStatusType st = pq.PQresultStatus(res);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		db_error(d, res, err);
	pq.PQclear(res);
	return ok;
}

/* The arguments as libpq's text values (nums holds the numbers' text);
 * returns how many (CP_LQ_EXPORT adds the operator's offset, *tz: g_free). */
static int pg_values(cp_ledger_query q, const cp_ledger_arg *args, int nargs,
                     const char *values[24], char nums[24][24], char **tz)
{
	g_assert(q >= 0 && q < CP_LQ_N && sql[q]);
	g_assert(nargs < 24);
	*tz = NULL;
	for (int i = 0; i < nargs; i++) {
		if (args[i].type == 't') {
			values[i] = args[i].s;
		} else if (args[i].type == 'I' && args[i].i == 0) {
			values[i] = NULL;
		} else {
			g_snprintf(nums[i], sizeof nums[i], "%" PRId64, args[i].i);
			values[i] = nums[i];
		}
	}
	if (q == CP_LQ_EXPORT) {
		/* the operator's offset now, as the time zone of the days received */
		GDateTime *now = g_date_time_new_now_local();
		*tz = g_date_time_format(now, "%:z");
		g_date_time_unref(now);
		values[nargs++] = *tz;
	}
	return nargs;
}

/* Prepared once per connection: parsed and planned once, not per row. */
static bool pg_prepare(cp_ledger_db *d, cp_ledger_query q, char name[16], cp_error **err)
{
	g_snprintf(name, 16, "lq%d", (int)q);
	if (d->prepared[q])
		return true;
	PGresult *prep = pq.PQprepare(d->conn, name, sql[q], 0, NULL);
	bool ok = pq.PQresultStatus(prep) == PGRES_COMMAND_OK;
	if (!ok)
		db_error(d, prep, err);
	pq.PQclear(prep);
	d->prepared[q] = ok;
	return ok;
}

static cp_ledger_rows *rows_of(cp_ledger_db *d, PGresult *res)
{
	cp_ledger_rows *r = g_new(cp_ledger_rows, 1);
	r->d = d;
	r->res = res;
	r->row = -1;
	return r;
}

static cp_ledger_rows *pg_query(cp_ledger_db *d, cp_ledger_query q, const cp_ledger_arg *args,
                                int nargs, cp_error **err)
{
	g_assert(d->piped == 0);
	const char *values[24];
	char nums[24][24], name[16], *tz;
	nargs = pg_values(q, args, nargs, values, nums, &tz);
	if (!pg_prepare(d, q, name, err)) {
		g_free(tz);
		return NULL;
	}
	PGresult *res = pq.PQexecPrepared(d->conn, name, nargs, values, NULL, NULL, 0);
	g_free(tz);
	if (pq.PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error(d, res, err);
		pq.PQclear(res);
		return NULL;
	}
	return rows_of(d, res);
}

/* Pipelining (libpq's pipeline mode): queries sent one after another
 * without waiting, their answers read afterwards in order, one round trip
 * for all of them instead of one each. Inside the caller's transaction: a
 * query that fails aborts the rest, and the transaction with them. */
static bool pg_send(cp_ledger_db *d, cp_ledger_query q, const cp_ledger_arg *args, int nargs,
                    cp_error **err)
{
	g_assert(!d->synced);
	const char *values[24];
	char nums[24][24], name[16], *tz;
	nargs = pg_values(q, args, nargs, values, nums, &tz);
	/* libpq copies the values into its buffer: they need not outlive this.
	 * A statement is prepared before the pipeline begins (pq.PQprepare waits
	 * for its answer); one first met inside it is sent with its text. */
	bool ok = d->piped || (pg_prepare(d, q, name, err) && pq.PQenterPipelineMode(d->conn) == 1);
	g_snprintf(name, sizeof name, "lq%d", (int)q);
	if (ok && d->prepared[q])
		ok = pq.PQsendQueryPrepared(d->conn, name, nargs, values, NULL, NULL, 0) == 1;
	else if (ok)
		ok = pq.PQsendQueryParams(d->conn, sql[q], nargs, NULL, values, NULL, NULL, 0) == 1;
	g_free(tz);
	if (ok) {
		d->piped++;
		return true;
	}
	if (err && !*err)
		db_error(d, NULL, err);
	return false;
}

/* Leaves pipeline mode, reading whatever answers are left (after an error:
 * the aborted rest). */
static void pipeline_end(cp_ledger_db *d)
{
	if (!d->synced && pq.PQpipelineStatus(d->conn) != PQ_PIPELINE_OFF)
		pq.PQpipelineSync(d->conn);
	/* up to the sync's own result; NULL twice in a row: nothing more comes */
	for (int nulls = 0; nulls < 2 && pq.PQpipelineStatus(d->conn) != PQ_PIPELINE_OFF;) {
		PGresult *res = pq.PQgetResult(d->conn);
		if (!res) {
			if (pq.PQstatus(d->conn) != CONNECTION_OK)
				break;
			nulls++;
			continue;
		}
		nulls = 0;
		bool sync = pq.PQresultStatus(res) == PGRES_PIPELINE_SYNC;
		pq.PQclear(res);
		if (sync)
			break;
	}
	pq.PQexitPipelineMode(d->conn);
	d->piped = 0;
	d->synced = false;
}

/* The answer to the oldest query sent and not yet answered. */
static cp_ledger_rows *pg_receive(cp_ledger_db *d, cp_error **err)
{
	g_assert(d->piped > 0);
	if (!d->synced) {
		if (pq.PQpipelineSync(d->conn) != 1) {
			db_error(d, NULL, err);
			pipeline_end(d);
			return NULL;
		}
		d->synced = true;
	}
	PGresult *res = pq.PQgetResult(d->conn);
	if (pq.PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error(d, res, err);
		pq.PQclear(res);
		pipeline_end(d);
		return NULL;
	}
	/* each query's answer ends with a NULL */
	PGresult *end = pq.PQgetResult(d->conn);
	pq.PQclear(end);
	if (--d->piped == 0)
		pipeline_end(d);
	return rows_of(d, res);
}

/* Drops the answers not yet taken (the caller stops early). */
static void pg_abandon(cp_ledger_db *d)
{
	if (d->piped)
		pipeline_end(d);
}

static int pg_next(cp_ledger_rows *r, cp_error **err)
{
	(void)err;
	if (r->row + 1 >= pq.PQntuples(r->res))
		return 0;
	r->row++;
	return 1;
}

static const char *pg_text(cp_ledger_rows *r, int col)
{
	if (r->row < 0 || pq.PQgetisnull(r->res, r->row, col))
		return NULL;
	return pq.PQgetvalue(r->res, r->row, col);
}

static void pg_done(cp_ledger_rows *r)
{
	if (!r)
		return;
	pq.PQclear(r->res);
	g_free(r);
}

/* ------------------------------------------------------------ transactions */

static void pg_rollback(cp_ledger_db *d)
{
	pg_abandon(d);
	if (pq.PQtransactionStatus(d->conn) != PQTRANS_IDLE)
		pq.PQclear(pq.PQexec(d->conn, "ROLLBACK"));
}

static bool pg_begin(cp_ledger_db *d, cp_ledger_tx tx, cp_error **err)
{
	if (tx == CP_LEDGER_TX_READ)
		return exec(d, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
	if (!exec(d, "BEGIN", err))
		return false;
	if (exec(d, "SELECT pg_advisory_xact_lock(" PG_WRITE_LOCK ")", err))
		return true;
	pg_rollback(d);
	return false;
}

static bool pg_commit(cp_ledger_db *d, cp_error **err)
{
	g_assert(d->piped == 0); /* every answer read before the commit */
	PGresult *res = pq.PQexec(d->conn, "COMMIT");
	/* a transaction that failed answers COMMIT with ROLLBACK */
	bool ok = pq.PQresultStatus(res) == PGRES_COMMAND_OK &&
	          strcmp(pq.PQcmdStatus(res), "COMMIT") == 0;
	if (!ok && pq.PQresultStatus(res) == PGRES_COMMAND_OK)
		cp_set_error(err, CP_E_IO, d->where, 0, 0, NULL,
		             _("ledger error: %s"), _("the server rolled the transaction back"));
	else if (!ok)
		db_error(d, res, err);
	pq.PQclear(res);
	if (!ok)
		pg_rollback(d);
	return ok;
}

/* ------------------------------------------------------------ open/close */

/* The schema version, 0 for none; -1 on error. */
static int schema_version(cp_ledger_db *d, cp_error **err)
{
	PGresult *res = pq.PQexec(d->conn, "SELECT to_regclass('certpress_meta') IS NOT NULL");
	int v = -1;
	if (pq.PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error(d, res, err);
	} else if (strcmp(pq.PQgetvalue(res, 0, 0), "t") != 0) {
		v = 0;
	} else {
		pq.PQclear(res);
		res = pq.PQexec(d->conn,
		                "SELECT coalesce((SELECT value FROM certpress_meta "
		                "WHERE key = 'schema_version'), '0')");
		if (pq.PQresultStatus(res) != PGRES_TUPLES_OK)
			db_error(d, res, err);
		else
			v = atoi(pq.PQgetvalue(res, 0, 0));
	}
	pq.PQclear(res);
	return v;
}

/* Brings the schema up to PG_SCHEMA_VERSION under the writers' lock. */
static bool migrate(cp_ledger_db *d, cp_error **err)
{
	if (!pg_begin(d, CP_LEDGER_TX_WRITE, err))
		return false;
	int v = schema_version(d, err);
	if (v < 0)
		goto fail;
	if (v > PG_SCHEMA_VERSION) {
		cp_set_error(err, CP_E_LEDGER, d->where, 0, 0, NULL,
		             _("the ledger has schema version %" PRId64 ", newer than the %d this "
		               "certpress knows; use a newer certpress"),
		             (int64_t)v, PG_SCHEMA_VERSION);
		goto fail;
	}
	for (; v < PG_SCHEMA_VERSION; v++)
		if (!exec(d, migrations[v], err))
			goto fail;
	char *set = g_strdup_printf("INSERT INTO certpress_meta VALUES ('schema_version', '%d') "
	                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	                            PG_SCHEMA_VERSION);
	bool ok = exec(d, set, err);
	g_free(set);
	if (ok)
		return pg_commit(d, err);
fail:
	pg_rollback(d);
	return false;
}

static void pg_close(cp_ledger_db *d)
{
	if (!d)
		return;
	if (d->conn)
		pq.PQfinish(d->conn);
	g_free(d->where);
	g_free(d);
}

/* The server's notices (e.g. "relation exists, skipping") are not for the
 * operator; errors come back with the results. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static cp_ledger_db *pg_open(const char *where, int busy_ms, bool create, cp_error **err)
{
	if (!cp_lazy_open(&pq_lib, err))
		return NULL;
	cp_ledger_db *d = g_new0(cp_ledger_db, 1);
	d->where = g_strdup(where);
	d->busy_ms = busy_ms;
	char *perr = NULL;
	PQconninfoOption *opts = pq.PQconninfoParse(where, &perr);
	if (!opts) {
		cp_set_error(err, CP_E_USAGE, where, 0, 0, "--ledger",
		             _("not a PostgreSQL connection string: %s"), perr ? perr : "?");
		pq.PQfreemem(perr);
		goto fail;
	}
	bool password = false;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
			password = true;
	pq.PQconninfoFree(opts);
	if (password) {
		/* never quote it back */
		g_free(d->where);
		d->where = g_strdup("--ledger");
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, "--ledger",
		             _("the connection string holds a password; keep it in ~/.pgpass "
		               "(or the file PGPASSFILE names), not on the command line"));
		goto fail;
	}
	/* Nor in the environment: any process of the same user reads another's
	 * environment (/proc/PID/environ, ps e), and every child inherits it;
	 * libpq would take it silently before ~/.pgpass. */
	const char *envpw = g_getenv("PGPASSWORD");
	if (envpw && *envpw) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("PGPASSWORD is set in the environment, where every process of the "
		               "user can read it and every child inherits it; certpress does not "
		               "take the ledger's password from there: keep it in ~/.pgpass (or the "
		               "file PGPASSFILE names, mode 0600) and unset PGPASSWORD"));
		goto fail;
	}
	d->conn = pq.PQconnectdb(where);
	if (!d->conn || pq.PQstatus(d->conn) != CONNECTION_OK) {
		char *m = d->conn ? server_message(d, NULL) : g_strdup(_("out of memory"));
		cp_set_error(err, CP_E_IO, where, 0, 0, NULL,
		             _("cannot connect to the ledger server: %s"), m);
		g_free(m);
		goto fail;
	}
	pq.PQsetNoticeProcessor(d->conn, quiet, NULL);
	/* lock_timeout 0 would wait for ever */
	char *setup = g_strdup_printf("SET TIME ZONE 'UTC'; SET lock_timeout = %d; "
	                              "SET client_encoding = 'UTF8'; SET application_name = 'certpress'",
	                              busy_ms > 0 ? busy_ms : 1);
	bool ok = exec(d, setup, err);
	g_free(setup);
	if (!ok)
		goto fail;
	int v = schema_version(d, err);
	if (v < 0)
		goto fail;
	if (create && v < PG_SCHEMA_VERSION) {
		if (!migrate(d, err))
			goto fail;
	} else if (v == 0) {
		cp_set_error(err, CP_E_LEDGER, where, 0, 0, NULL,
		             _("this database holds no certpress ledger yet; create it with "
		               "'certpress ledger init --ledger …' (needs the right to create "
		               "tables)"));
		goto fail;
	} else if (v != PG_SCHEMA_VERSION) {
		cp_set_error(err, CP_E_LEDGER, where, 0, 0, NULL,
		             v > PG_SCHEMA_VERSION
		                 ? _("the ledger's schema is newer than this certpress knows; use a "
		                     "newer certpress")
		                 : _("the ledger's schema is older than this certpress; bring it up "
		                     "to date with 'certpress ledger init'"));
		goto fail;
	}
	return d;
fail:
	pg_close(d);
	return NULL;
}

static bool pg_backup(cp_ledger_db *d, const char *path, cp_error **err)
{
	(void)path;
	cp_set_error(err, CP_E_USAGE, d->where, 0, 0, NULL,
	             _("a ledger on PostgreSQL is backed up with pg_dump (see the README), not "
	               "with 'certpress ledger backup'"));
	return false;
}

bool cp_ledger_pg_conninfo(const char *where)
{
	if (!where)
		return false;
	if (g_str_has_prefix(where, "postgresql://") || g_str_has_prefix(where, "postgres://"))
		return true;
	/* keyword=value pairs: "host=/tmp dbname=ledger" */
	const char *p = where;
	while (*p == ' ')
		p++;
	const char *k = p;
	while (g_ascii_isalpha(*p) || *p == '_')
		p++;
	while (*p == ' ')
		p++;
	return p > k && *p == '=';
}

const cp_ledger_ops cp_ledger_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.query = pg_query,
	.send = pg_send,
	.receive = pg_receive,
	.abandon = pg_abandon,
	.next = pg_next,
	.text = pg_text,
	.done = pg_done,
	.backup = pg_backup,
};
