/* SPDX-License-Identifier: MIT */
/*
 * The ledger in one SQLite file: storage and queries only; the rules are in
 * ledger.c (see backend.h).
 *
 * Why it is built the way it is:
 *  - WAL mode with synchronous=FULL: readers (report, export, backup) never
 *    block a printing batch, and a committed batch survives a power cut.
 *  - Every write is one BEGIN IMMEDIATE transaction, so the rules' checks and
 *    the inserts happen under the same write lock: two processes can never
 *    both issue one number. A batch takes that lock only when it is recorded
 *    (cp_ledger_batch_prepare), not while it is printed.
 *  - Rows are append-only (triggers refuse UPDATE and DELETE): a ledger is a
 *    record of what happened, corrections are new entries.
 *  - Each table also carries UNIQUE constraints (one print per serial, one
 *    spoil per sheet, one destruction per serial, one revocation per number)
 *    as a second guard behind the checks that give the readable refusals.
 */
#include "ledger/backend.h"
#include "ledger/ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "error.h"
#include "i18n.h"

struct cp_ledger_rows {
	sqlite3_stmt *st; /* prepared on first use, kept */
	cp_ledger_db *d;
};

struct cp_ledger_db {
	sqlite3 *db;
	char *path;
	int busy_ms;
	cp_ledger_rows rows[CP_LQ_N];
};

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


/* ---------------------------------------------------------------- queries */

/* Times of entries are stored in UTC with their offset, as
 * 2026-12-06T04:05:06+00:00; ledgers written before that hold the recording
 * machine's local time with its offset. Both name one instant, so queries
 * compare datetime(at), which SQLite turns into UTC from either form
 * ("YYYY-MM-DD HH:MM:SS", the form of the instants the rules pass). */
#define IN_PERIOD(t) " datetime(" t ") >= ?1 AND datetime(" t ") < ?2"
#define RETURNING " ON CONFLICT DO NOTHING RETURNING id"

static const char *const sql[CP_LQ_N] = {
	[CP_LQ_STOCK_OF] =
		"SELECT id FROM stock WHERE prefix = ?1 AND width = ?2 AND first <= ?3 "
		"AND last >= ?3",
	[CP_LQ_STOCK_OVERLAP] =
		"SELECT first, last FROM stock WHERE prefix = ?1 AND width = ?2 AND first <= ?4 "
		"AND last >= ?3 ORDER BY id LIMIT 1",
	[CP_LQ_REVOCATION_OF] = "SELECT at, reason FROM revocation WHERE cert_no = ?1",
	[CP_LQ_CERT_COUNT] =
		"SELECT count(*), count(CASE WHEN batch_id = ?2 THEN 1 END) "
		"FROM print WHERE cert_no = ?1",
	[CP_LQ_SERIAL_PRINT] =
		"SELECT p.id, p.cert_no, b.name, p.printed_at FROM print p "
		"JOIN batch b ON b.id = p.batch_id WHERE p.serial = ?1",
	[CP_LQ_SERIAL_SPOILED] = "SELECT at FROM spoil WHERE serial = ?1",
	[CP_LQ_SERIAL_DESTROYED] =
		"SELECT x.at FROM destroyed d JOIN destruction x ON x.id = d.destruction_id "
		"WHERE d.serial = ?1",
	[CP_LQ_SERIAL_HELD] =
		"SELECT p.cert_no FROM print p WHERE p.serial = ?1 "
		"AND NOT EXISTS (SELECT 1 FROM spoil s WHERE s.print_id = p.id) "
		"AND NOT EXISTS (SELECT 1 FROM print r WHERE r.cert_no = p.cert_no "
		"  AND r.kind = 'reissue' AND r.old_returned AND r.id > p.id)",
	[CP_LQ_PRINT_UNSERIALED] =
		"SELECT p.id FROM print p WHERE p.cert_no = ?1 AND p.serial IS NULL "
		"AND NOT EXISTS (SELECT 1 FROM spoil s WHERE s.print_id = p.id) "
		"ORDER BY p.id DESC LIMIT 1",
	[CP_LQ_BATCH_NAMED] = "SELECT id FROM batch WHERE name = ?1",
	[CP_LQ_CERT_STATE] =
		"SELECT (SELECT at FROM revocation WHERE cert_no = ?1), (SELECT reason FROM "
		"revocation WHERE cert_no = ?1), (SELECT count(*) FROM print WHERE cert_no = "
		"?1), (SELECT count(*) FROM print WHERE cert_no = ?1 AND batch_id = ?2), (SELECT "
		"b.name FROM print p JOIN batch b ON b.id = p.batch_id WHERE p.cert_no = ?1 AND "
		"NOT EXISTS (SELECT 1 FROM spoil s WHERE s.print_id = p.id) ORDER BY p.id DESC "
		"LIMIT 1), (SELECT p.printed_at FROM print p JOIN batch b ON b.id = p.batch_id "
		"WHERE p.cert_no = ?1 AND NOT EXISTS (SELECT 1 FROM spoil s WHERE s.print_id = "
		"p.id) ORDER BY p.id DESC LIMIT 1)",
	[CP_LQ_SERIAL_STATE] =
		"SELECT (SELECT id FROM stock WHERE prefix = ?1 AND width = ?2 AND first <= ?3 "
		"AND last >= ?3), (SELECT cert_no FROM print WHERE serial = ?4), (SELECT b.name "
		"FROM print p JOIN batch b ON b.id = p.batch_id WHERE p.serial = ?4), (SELECT "
		"printed_at FROM print WHERE serial = ?4), (SELECT at FROM spoil WHERE serial = "
		"?4), (SELECT x.at FROM destroyed d JOIN destruction x ON x.id = "
		"d.destruction_id WHERE d.serial = ?4)",
	[CP_LQ_GENERATION] =
		CP_SQL_GENERATION,
	[CP_LQ_SERIAL_USED] =
		"SELECT EXISTS (SELECT 1 FROM print WHERE serial = ?1) "
		"OR EXISTS (SELECT 1 FROM spoil WHERE serial = ?1) "
		"OR EXISTS (SELECT 1 FROM destroyed WHERE serial = ?1)",
	[CP_LQ_LAST_SERIAL] =
		CP_SQL_LAST_SERIAL,
	[CP_LQ_STOCK_AFTER] = "SELECT id, first FROM stock WHERE id > ?1 ORDER BY id LIMIT 1",
	[CP_LQ_LIVE_OTHER] =
		"SELECT count(*) FROM print p WHERE p.cert_no = ?1 AND p.id <> ?2 "
		"AND NOT EXISTS (SELECT 1 FROM spoil s WHERE s.print_id = p.id)",
	[CP_LQ_CERT_STANDING] =
		"SELECT (SELECT count(*) FROM print WHERE cert_no = ?1), "
		"(SELECT count(*) FROM print WHERE cert_no = ?1 AND kind = 'reissue'), "
		"(SELECT reason FROM revocation WHERE cert_no = ?1)",
	[CP_LQ_BATCH_OF_FILE] =
		"SELECT b.name FROM print p JOIN batch b ON b.id = p.batch_id "
		"WHERE p.file = ?1 OR p.file = ?2 ORDER BY p.id DESC LIMIT 1",
	[CP_LQ_BATCH_OF_RELATIVE] =
		"SELECT p.file, b.name FROM print p JOIN batch b ON b.id = p.batch_id "
		"WHERE substr(p.file, 1, 1) <> '/' AND (p.file = ?1 OR p.file LIKE '%/' || ?1) "
		"GROUP BY p.batch_id, p.file ORDER BY max(p.id) DESC",
	[CP_LQ_STOCK_INSERT] =
		"INSERT INTO stock (prefix, width, first, last, received_on, note, "
		"operator, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)" RETURNING,
	[CP_LQ_BATCH_INSERT] =
		"INSERT INTO batch (name, note, operator, started_at, input, input_sha256, "
		"printer_profile, calibration, template, template_sha256) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)" RETURNING,
	[CP_LQ_PRINT_INSERT] =
		"INSERT INTO print (batch_id, kind, cert_no, name, id_masked, level, "
		"occupation, serial, stock_id, file, page, sha256, reason, old_returned, "
		"printed_at, operator) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
		"?11, ?12, ?13, ?14, ?15, ?16)" RETURNING,
	[CP_LQ_SPOIL_INSERT] =
		"INSERT INTO spoil (serial, stock_id, print_id, cert_no, reason, at, operator) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)" RETURNING,
	[CP_LQ_DESTRUCTION_INSERT] =
		"INSERT INTO destruction (reason, at, operator) VALUES (?1, ?2, ?3)" RETURNING,
	[CP_LQ_DESTROYED_INSERT] =
		"INSERT INTO destroyed (serial, stock_id, destruction_id) VALUES (?1, ?2, ?3)"
		" ON CONFLICT DO NOTHING RETURNING 1",
	[CP_LQ_REVOCATION_INSERT] =
		"INSERT INTO revocation (cert_no, reason, at, operator) VALUES (?1, ?2, ?3, ?4)"
		" ON CONFLICT DO NOTHING RETURNING 1",
	/* Each received sheet is in exactly one state at the end of a day:
	 * destroyed, else spoiled, else issued (printed on), else remaining. */
	[CP_LQ_BAL_RECEIVED] =
		"SELECT coalesce(sum(last - first + 1), 0) FROM stock "
		"WHERE received_on <= ?1 AND (?2 = 0 OR id = ?2)",
	[CP_LQ_BAL_DESTROYED] =
		"SELECT count(*) FROM destroyed d JOIN destruction x ON x.id = d.destruction_id "
		"JOIN stock s ON s.id = d.stock_id WHERE datetime(x.at) < ?3 "
		"AND s.received_on <= ?1 AND (?2 = 0 OR s.id = ?2)",
	[CP_LQ_BAL_SPOILED] =
		"SELECT count(*) FROM spoil sp JOIN stock s ON s.id = sp.stock_id "
		"WHERE datetime(sp.at) < ?3 AND s.received_on <= ?1 "
		"AND (?2 = 0 OR s.id = ?2) AND NOT EXISTS (SELECT 1 FROM destroyed d "
		"  JOIN destruction x ON x.id = d.destruction_id "
		"  WHERE d.serial = sp.serial AND datetime(x.at) < ?3)",
	[CP_LQ_BAL_ISSUED] =
		"SELECT count(*) FROM print p JOIN stock s ON s.id = p.stock_id "
		"WHERE datetime(p.printed_at) < ?3 AND s.received_on <= ?1 "
		"AND (?2 = 0 OR s.id = ?2) "
		"AND NOT EXISTS (SELECT 1 FROM spoil sp WHERE sp.serial = p.serial "
		"  AND datetime(sp.at) < ?3) "
		"AND NOT EXISTS (SELECT 1 FROM destroyed d "
		"  JOIN destruction x ON x.id = d.destruction_id "
		"  WHERE d.serial = p.serial AND datetime(x.at) < ?3)",
	[CP_LQ_BAL_RETURNED] =
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
	[CP_LQ_ACT_STOCK] =
		"SELECT coalesce(sum(last - first + 1), 0) FROM stock "
		"WHERE received_on BETWEEN ?1 AND ?2",
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
		"message, at, operator) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)" RETURNING,
	[CP_LQ_JOBS] =
		"SELECT j.at, b.name, j.file, j.dest, j.job_id, j.copies, j.state, j.profile, "
		"j.message FROM print_job j LEFT JOIN batch b ON b.id = j.batch_id "
		"WHERE" IN_PERIOD("j.at") " ORDER BY j.id",
	[CP_LQ_BATCHES] =
		"SELECT b.name, b.started_at, b.operator, b.note, count(p.id), "
		"sum(p.kind = 'issue'), sum(p.kind = 'reprint'), "
		"sum(p.kind = 'reissue'), count(DISTINCT p.file), "
		"b.input, b.input_sha256, b.printer_profile, b.calibration, b.template, "
		"b.template_sha256 "
		"FROM batch b JOIN print p ON p.batch_id = b.id "
		"WHERE datetime(b.started_at) >= ?1 AND datetime(b.started_at) < ?2 "
		"GROUP BY b.id ORDER BY b.id",
	[CP_LQ_STOCK_IDS] = "SELECT id FROM stock WHERE received_on <= ?1 ORDER BY id",
	[CP_LQ_STOCK_ROW] =
		"SELECT prefix, width, first, last, received_on, note FROM stock WHERE id = ?1",
	/* Every entry about one certificate, in time order whatever offset it
	 * was stored with: its prints, the spoiled sheets and destruction of the
	 * sheets it was printed on, its revocation. */
	[CP_LQ_HISTORY] =
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
		"SELECT j.at, 1.5, j.id, 'job', b.name, NULL, NULL, j.job_id, j.dest, j.state, "
		"  j.copies, NULL, NULL, j.message, NULL, j.operator, "
		"  (SELECT max(id) FROM print WHERE batch_id = j.batch_id AND cert_no = ?1) "
		"FROM print_job j JOIN batch b ON b.id = j.batch_id "
		"WHERE j.batch_id IN (SELECT batch_id FROM print WHERE cert_no = ?1) "
		/* Times have whole seconds: within one second the entries go in the
		 * order they can only have happened in (seq) — a print, then the job
		 * of its batch, then the spoiling of that sheet, then a later print
		 * (a reprint), then what has no print of its own. */
		") ORDER BY datetime(at), seq, 2, 3",
	[CP_LQ_EXPORT] =
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
		/* in time, whatever offset a time was stored with; stock at the start
		 * of the operator's day it was received */
		") ORDER BY CASE WHEN event = 'stock' THEN datetime(at, 'utc') ELSE datetime(at) END, "
		"3, 4, 10",
	[CP_LQ_SOURCE_OF_CERT] =
		"SELECT " "p.cert_no, p.serial, b.name, b.input, b.input_sha256, "
		"b.printer_profile, p.page, b.template, b.template_sha256 "
		"FROM print p JOIN batch b ON b.id = p.batch_id "
		"WHERE p.cert_no = ?1 AND NOT EXISTS (SELECT 1 FROM spoil s "
		"  WHERE s.print_id = p.id) ORDER BY p.id DESC LIMIT 1",
	[CP_LQ_SOURCE_OF_PAGE] =
		"SELECT " "p.cert_no, p.serial, b.name, b.input, b.input_sha256, "
		"b.printer_profile, p.page, b.template, b.template_sha256 "
		"FROM print p JOIN batch b ON b.id = p.batch_id "
		"WHERE b.name = ?1 AND p.page = ?2 ORDER BY p.id DESC LIMIT 1",
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
		"recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING 1",
	[CP_LQ_LOAD_BATCH] =
		"INSERT INTO batch (id, name, note, operator, started_at, input, input_sha256, "
		"printer_profile, calibration, template, template_sha256) VALUES (?1, ?2, ?3, "
		"?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING 1",
	[CP_LQ_LOAD_PRINT] =
		"INSERT INTO print (id, batch_id, kind, cert_no, name, id_masked, level, "
		"occupation, serial, stock_id, file, page, sha256, reason, old_returned, "
		"printed_at, operator) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
		"?12, ?13, ?14, ?15, ?16, ?17) RETURNING 1",
	[CP_LQ_LOAD_SPOIL] =
		"INSERT INTO spoil (id, serial, stock_id, print_id, cert_no, reason, at, "
		"operator) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING 1",
	[CP_LQ_LOAD_DESTRUCTION] =
		"INSERT INTO destruction (id, reason, at, operator) VALUES (?1, ?2, ?3, ?4) "
		"RETURNING 1",
	[CP_LQ_LOAD_DESTROYED] =
		"INSERT INTO destroyed (serial, stock_id, destruction_id) VALUES (?1, ?2, ?3) "
		"RETURNING 1",
	[CP_LQ_LOAD_REVOCATION] =
		"INSERT INTO revocation (cert_no, reason, at, operator) VALUES (?1, ?2, ?3, ?4) "
		"RETURNING 1",
	[CP_LQ_LOAD_JOB] =
		"INSERT INTO print_job (id, batch_id, file, dest, profile, copies, job_id, state, "
		"message, at, operator) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
		"RETURNING 1",
	[CP_LQ_LOAD_DONE] =
		"SELECT 1",
};

/* --------------------------------------------------------------- plumbing */

static void db_error(cp_ledger_db *d, int rc, cp_error **err)
{
	int prim = rc & 0xff;
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		cp_set_error(err, CP_E_IO, d->path, 0, 0, NULL,
		             _("another batch is printing on this ledger, or another process is "
		               "writing to it (waited %.1f s)"),
		             d->busy_ms / 1000.0);
	else if (prim == SQLITE_CONSTRAINT)
		cp_set_error(err, CP_E_LEDGER, d->path, 0, 0, NULL,
		             _("the ledger refused an entry that contradicts it: %s"),
		             sqlite3_errmsg(d->db));
	else if (prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT)
		cp_set_error(err, CP_E_IO, d->path, 0, 0, NULL,
		             _("not a certpress ledger or damaged: %s"), sqlite3_errmsg(d->db));
	else
		cp_set_error(err, CP_E_IO, d->path, 0, 0, NULL, _("ledger error: %s"),
		             sqlite3_errmsg(d->db));
}

static bool exec(cp_ledger_db *d, const char *s, cp_error **err)
{
	int rc = sqlite3_exec(d->db, s, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		db_error(d, rc, err);
		return false;
	}
	return true;
}

static cp_ledger_rows *sq_query(cp_ledger_db *d, cp_ledger_query q, const cp_ledger_arg *args,
                                int nargs, cp_error **err)
{
	g_assert(q >= 0 && q < CP_LQ_N && sql[q]);
	sqlite3_stmt *st = d->rows[q].st;
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		int rc = sqlite3_prepare_v3(d->db, sql[q], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK) {
			db_error(d, rc, err);
			return NULL;
		}
		d->rows[q].st = st;
		d->rows[q].d = d;
	}
	int rc = SQLITE_OK;
	for (int i = 0; i < nargs && rc == SQLITE_OK; i++) {
		const cp_ledger_arg *a = &args[i];
		if (a->type == 't')
			rc = a->s ? sqlite3_bind_text(st, i + 1, a->s, -1, SQLITE_TRANSIENT)
			          : sqlite3_bind_null(st, i + 1);
		else if (a->type == 'I' && a->i == 0)
			/* a row id where 0 means none: NULL keeps the foreign key valid */
			rc = sqlite3_bind_null(st, i + 1);
		else
			rc = sqlite3_bind_int64(st, i + 1, a->i);
	}
	if (rc != SQLITE_OK) {
		db_error(d, rc, err);
		return NULL;
	}
	return &d->rows[q];
}

static int sq_next(cp_ledger_rows *r, cp_error **err)
{
	int rc = sqlite3_step(r->st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	db_error(r->d, rc, err);
	return -1;
}

static const char *sq_text(cp_ledger_rows *r, int col)
{
	return (const char *)sqlite3_column_text(r->st, col);
}

static void sq_done(cp_ledger_rows *r)
{
	if (r)
		sqlite3_reset(r->st);
}

/* ------------------------------------------------------------ open/close */

static bool pragma_text(cp_ledger_db *d, const char *s, char **out, cp_error **err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(d->db, s, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(st, 0);
			*out = g_strdup(t ? (const char *)t : "");
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			*out = g_strdup("");
			rc = SQLITE_OK;
		}
	}
	if (rc != SQLITE_OK)
		db_error(d, rc, err);
	sqlite3_finalize(st);
	return rc == SQLITE_OK;
}

static bool pragma_int(cp_ledger_db *d, const char *s, int64_t *out, cp_error **err)
{
	char *t = NULL;
	if (!pragma_text(d, s, &t, err))
		return false;
	*out = g_ascii_strtoll(t, NULL, 10);
	g_free(t);
	return true;
}

static void sq_rollback(cp_ledger_db *d)
{
	if (!sqlite3_get_autocommit(d->db))
		sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
}

static bool sq_commit(cp_ledger_db *d, cp_error **err)
{
	if (exec(d, "COMMIT", err))
		return true;
	sq_rollback(d);
	return false;
}

/* BEGIN IMMEDIATE takes the write lock now (not at the first write), waiting
 * up to the busy timeout, so that everything read afterwards stays true
 * until COMMIT; a plain BEGIN is a read snapshot at the first query. */
static bool sq_begin(cp_ledger_db *d, cp_ledger_tx tx, cp_error **err)
{
	return exec(d, tx == CP_LEDGER_TX_WRITE ? "BEGIN IMMEDIATE" : "BEGIN", err);
}

/* Brings the schema to CP_LEDGER_SCHEMA_VERSION inside one write transaction,
 * re-reading the version under the lock (another process may have migrated
 * meanwhile). */
static bool migrate(cp_ledger_db *d, cp_error **err)
{
	int64_t version = 0, app = 0, objects = 0;
	if (!pragma_int(d, "PRAGMA user_version", &version, err) ||
	    !pragma_int(d, "PRAGMA application_id", &app, err))
		return false;
	if (version == CP_LEDGER_SCHEMA_VERSION && app == CP_LEDGER_APPLICATION_ID)
		return true;
	if (!sq_begin(d, CP_LEDGER_TX_WRITE, err))
		return false;
	if (!pragma_int(d, "PRAGMA user_version", &version, err) ||
	    !pragma_int(d, "PRAGMA application_id", &app, err) ||
	    !pragma_int(d, "SELECT count(*) FROM sqlite_master", &objects, err))
		goto fail;
	if (app != 0 && app != CP_LEDGER_APPLICATION_ID) {
		cp_set_error(err, CP_E_LEDGER, d->path, 0, 0, NULL,
		             _("this SQLite file belongs to another program, not a certpress ledger"));
		goto fail;
	}
	if (version > CP_LEDGER_SCHEMA_VERSION) {
		cp_set_error(err, CP_E_LEDGER, d->path, 0, 0, NULL,
		             _("the ledger has schema version %" PRId64 ", newer than the %d this "
		               "certpress knows; use a newer certpress"),
		             version, CP_LEDGER_SCHEMA_VERSION);
		goto fail;
	}
	if (version < 0 || (version == 0 && objects > 0 && app != CP_LEDGER_APPLICATION_ID)) {
		cp_set_error(err, CP_E_LEDGER, d->path, 0, 0, NULL,
		             _("this SQLite file has tables but is not a certpress ledger"));
		goto fail;
	}
	for (int64_t v = version; v < CP_LEDGER_SCHEMA_VERSION; v++)
		if (!exec(d, migrations[v], err))
			goto fail;
	char *set = g_strdup_printf("PRAGMA user_version = %d; PRAGMA application_id = %d",
	                            CP_LEDGER_SCHEMA_VERSION, CP_LEDGER_APPLICATION_ID);
	bool ok = exec(d, set, err);
	g_free(set);
	if (!ok)
		goto fail;
	return sq_commit(d, err);
fail:
	sq_rollback(d);
	return false;
}

/* Switching to WAL needs a moment without other connections in a rollback
 * journal transaction; two processes opening a fresh ledger at once can meet
 * here, so retry within the busy timeout. */
static bool set_wal(cp_ledger_db *d, cp_error **err)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)d->busy_ms * 1000;
	for (;;) {
		char *mode = NULL;
		cp_error *e = NULL;
		if (pragma_text(d, "PRAGMA journal_mode = WAL", &mode, &e)) {
			bool wal = g_ascii_strcasecmp(mode, "wal") == 0;
			g_free(mode);
			if (wal)
				return true;
			cp_set_error(err, CP_E_IO, d->path, 0, 0, NULL,
			             _("the ledger cannot use write-ahead logging here "
			               "(a network file system?)"));
			return false;
		}
		int rc = sqlite3_errcode(d->db) & 0xff;
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) ||
		    g_get_monotonic_time() > deadline) {
			cp_propagate_error(err, e);
			return false;
		}
		cp_error_free(e);
		g_usleep(10000);
	}
}

static void sq_close(cp_ledger_db *d)
{
	if (!d)
		return;
	for (int i = 0; i < CP_LQ_N; i++)
		sqlite3_finalize(d->rows[i].st);
	if (d->db)
		sqlite3_close(d->db);
	g_free(d->path);
	g_free(d);
}

static cp_ledger_db *sq_open(const char *path, int busy_ms, bool create, cp_error **err)
{
	(void)create; /* opening a file makes its schema: there are no grants */
	cp_ledger_db *d = g_new0(cp_ledger_db, 1);
	d->path = g_strdup(path);
	d->busy_ms = busy_ms;
	if (!*d->path) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL, _("the ledger path is empty"));
		goto fail;
	}
	/* Personal data (第二十一条): a folder we create is 0700 and a new file
	 * 0600 before SQLite touches it; SQLite gives its -wal and -shm files the
	 * main file's mode. */
	char *dir = g_path_get_dirname(d->path);
	if (!g_file_test(dir, G_FILE_TEST_IS_DIR) && g_mkdir_with_parents(dir, 0700) != 0) {
		int e = errno;
		cp_set_error(err, CP_E_IO, dir, 0, 0, NULL, _("cannot create the folder: %s"),
		             g_strerror(e));
		g_free(dir);
		goto fail;
	}
	g_free(dir);
	int fd = open(d->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		close(fd);
	} else if (errno != EEXIST) {
		int e = errno;
		cp_set_error(err, CP_E_IO, d->path, 0, 0, NULL, _("cannot create the ledger: %s"),
		             g_strerror(e));
		goto fail;
	}
	int rc = sqlite3_open_v2(d->path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW,
	                         NULL);
	if (rc != SQLITE_OK) {
		if (d->db)
			db_error(d, rc, err);
		else
			cp_set_error(err, CP_E_NOMEM, d->path, 0, 0, NULL, _("out of memory"));
		goto fail;
	}
	sqlite3_extended_result_codes(d->db, 1);
	sqlite3_busy_timeout(d->db, d->busy_ms);
	if (!set_wal(d, err) ||
	    !exec(d, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", err) ||
	    !migrate(d, err))
		goto fail;
	return d;
fail:
	sq_close(d);
	return NULL;
}

/* ----------------------------------------------------------------- backup */

static bool sq_backup(cp_ledger_db *d, const char *path, cp_error **err)
{
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
		sqlite3_busy_timeout(dst, d->busy_ms);
		sqlite3_backup *bk = sqlite3_backup_init(dst, "main", d->db, "main");
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

const cp_ledger_ops cp_ledger_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.query = sq_query,
	.next = sq_next,
	.text = sq_text,
	.done = sq_done,
	.backup = sq_backup,
};
