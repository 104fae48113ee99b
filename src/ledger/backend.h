/* SPDX-License-Identifier: MIT */
/*
 * The ledger's storage backends. The rules (what may be issued, reissued,
 * spoiled, destroyed or revoked) live once, in ledger.c; a backend only
 * stores and queries. It does so through a fixed set of named queries
 * (cp_ledger_query): each backend holds its own SQL text for every name, so a
 * new table or query is one new name plus one SQL text per backend.
 *
 * Queries take typed arguments (cp_ledger_arg) and give rows of columns read
 * as text or integers. An INSERT query ends in "ON CONFLICT DO NOTHING
 * RETURNING id": one row when it was recorded, none when a unique constraint
 * refused it (the rules then say why in words).
 */
#ifndef CP_LEDGER_BACKEND_H
#define CP_LEDGER_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "certpress.h"

/* The arguments each query takes (in order) and the columns it gives. */
typedef enum cp_ledger_query {
	/* rules: reads */
	CP_LQ_STOCK_OF,          /* prefix, width, number → id */
	CP_LQ_STOCK_OVERLAP,     /* prefix, width, first, last → first, last */
	CP_LQ_REVOCATION_OF,     /* cert_no → at, reason */
	CP_LQ_CERT_COUNT,        /* cert_no, batch_id → its prints, those in that batch */
	CP_LQ_SERIAL_PRINT,      /* serial → print id, cert_no, batch name, printed_at */
	CP_LQ_SERIAL_SPOILED,    /* serial → at */
	CP_LQ_SERIAL_DESTROYED,  /* serial → at */
	CP_LQ_SERIAL_HELD,       /* serial → cert_no: printed, not spoiled, not taken back */
	CP_LQ_PRINT_UNSERIALED,  /* cert_no → print id: its last unspoiled print without serial */
	CP_LQ_BATCH_NAMED,       /* name → id */
	CP_LQ_CERT_STATE,        /* cert_no, batch_id → revoked at, revocation reason, prints,
	                          * prints in that batch, batch name and printed_at of its last
	                          * unspoiled print (NULLs where none): one row */
	CP_LQ_SERIAL_STATE,      /* prefix, width, number, serial → stock id, printed cert_no,
	                          * its batch name, printed_at, spoiled at, destroyed at
	                          * (NULLs where none): one row */
	CP_LQ_GENERATION,        /* → text that changes whenever anything is recorded */
	CP_LQ_SERIAL_USED,       /* serial → 1 when printed on, spoiled or destroyed, else 0 */
	CP_LQ_LAST_SERIAL,       /* → serial, stock_id of the last print on stock */
	CP_LQ_STOCK_AFTER,       /* id (0: before the first) → id, first of the next range */
	CP_LQ_CERT_STANDING,     /* cert_no → prints, reissues, revocation reason (NULL) */
	CP_LQ_LIVE_OTHER,        /* cert_no, print id → its prints not spoiled, but that one */
	CP_LQ_BATCH_OF_FILE,     /* file, absolute file → name of the last batch printing it */
	CP_LQ_BATCH_OF_RELATIVE, /* base name → file, batch name: files recorded by a relative
	                          * path ending in it, the latest first */
	/* rules: writes, each → id (no row: a unique constraint refused it) */
	CP_LQ_STOCK_INSERT,      /* prefix, width, first, last, received_on, note, operator, at */
	CP_LQ_BATCH_INSERT,      /* name, note, operator, started_at, input, input_sha256,
	                          * printer_profile, calibration, template, template_sha256 */
	CP_LQ_PRINT_INSERT,      /* batch_id, kind, cert_no, name, id_masked, level, occupation,
	                          * serial, stock_id (0: none), file, page, sha256, reason,
	                          * old_returned, printed_at, operator */
	CP_LQ_SPOIL_INSERT,      /* serial, stock_id, print_id, cert_no, reason, at, operator */
	CP_LQ_DESTRUCTION_INSERT,/* reason, at, operator */
	CP_LQ_DESTROYED_INSERT,  /* serial, stock_id, destruction_id */
	CP_LQ_REVOCATION_INSERT, /* cert_no, reason, at, operator */
	CP_LQ_JOB_INSERT,        /* batch_id (0: none), file, dest, profile, copies, job_id
	                          * (0: none), state, message, at, operator */
	/* balance: day (received_on ≤), stock_id (0: all), end instant (UTC) → count */
	CP_LQ_BAL_RECEIVED,      /* day, stock_id */
	CP_LQ_BAL_DESTROYED,
	CP_LQ_BAL_SPOILED,
	CP_LQ_BAL_ISSUED,
	CP_LQ_BAL_RETURNED,      /* of those issued, the sheets taken back (收回) by a later
	                          * reissue with the old sheet returned */
	/* report activity: first day, last day, start instant, end instant → count */
	CP_LQ_ACT_STOCK,         /* first day, last day */
	CP_LQ_ACT_PRINTED,       /* start, end instants (UTC), and so on */
	CP_LQ_ACT_ISSUED,
	CP_LQ_ACT_REPRINTED,
	CP_LQ_ACT_REISSUED,
	CP_LQ_ACT_SPOILED,
	CP_LQ_ACT_DESTROYED,
	CP_LQ_ACT_REVOKED,
	CP_LQ_BATCHES,           /* start, end → name, started_at, operator, note, pages,
	                          * issued, reprinted, reissued, files, input, input_sha256,
	                          * printer_profile, calibration, template, template_sha256 */
	CP_LQ_JOBS,              /* start, end → at, batch name, file, dest, job_id, copies,
	                          * state, profile, message (print jobs, in order) */
	CP_LQ_STOCK_IDS,         /* day → id (received by then, in order) */
	CP_LQ_STOCK_ROW,         /* id → prefix, width, first, last, received_on, note */
	CP_LQ_HISTORY,           /* cert_no → at, rank, id, kind, batch, serial, file, page,
	                          * sha256, name, id_masked, level, occupation, reason,
	                          * old_returned, operator (in time order); a print job of a
	                          * batch holding it: kind 'job', batch, page = job_id,
	                          * sha256 = dest, name = state, id_masked = copies,
	                          * reason = message; then a column ordering a second's
	                          * entries as they happened (not to be read) */
	CP_LQ_EXPORT,            /* → event, at, rank, id, cert_no, name, id_masked, level,
	                          * occupation, serial, width, first, last, batch, file, page,
	                          * sha256, reason, old_returned, operator, note */
	/* reprint: where a printed certificate came from → cert_no, serial, batch name,
	 * input, input_sha256, printer_profile, page, template, template_sha256 */
	CP_LQ_SOURCE_OF_CERT,    /* cert_no: its latest print not spoiled */
	CP_LQ_SOURCE_OF_PAGE,    /* batch name, page */
	/* moving a whole ledger (cp_ledger_migrate): every row of a table with
	 * its id, in id order; a LOAD takes the same columns as text and answers
	 * one row; LOAD_DONE ends a load (sequences past the ids loaded) */
	CP_LQ_ENTRIES,           /* → rows in all tables */
	CP_LQ_DUMP_STOCK,        /* → id, prefix, width, first, last, received_on, note,
	                          * operator, recorded_at */
	CP_LQ_DUMP_BATCH,        /* → id, name, note, operator, started_at, input,
	                          * input_sha256, printer_profile, calibration, template,
	                          * template_sha256 */
	CP_LQ_DUMP_PRINT,        /* → id, batch_id, kind, cert_no, name, id_masked, level,
	                          * occupation, serial, stock_id, file, page, sha256, reason,
	                          * old_returned, printed_at, operator */
	CP_LQ_DUMP_SPOIL,        /* → id, serial, stock_id, print_id, cert_no, reason, at,
	                          * operator */
	CP_LQ_DUMP_DESTRUCTION,  /* → id, reason, at, operator */
	CP_LQ_DUMP_DESTROYED,    /* → serial, stock_id, destruction_id */
	CP_LQ_DUMP_REVOCATION,   /* → cert_no, reason, at, operator */
	CP_LQ_DUMP_JOB,          /* → id, batch_id, file, dest, profile, copies, job_id, state,
	                          * message, at, operator */
	CP_LQ_LOAD_STOCK,
	CP_LQ_LOAD_BATCH,
	CP_LQ_LOAD_PRINT,
	CP_LQ_LOAD_SPOIL,
	CP_LQ_LOAD_DESTRUCTION,
	CP_LQ_LOAD_DESTROYED,
	CP_LQ_LOAD_REVOCATION,
	CP_LQ_LOAD_JOB,
	CP_LQ_LOAD_DONE,
	CP_LQ_N
} cp_ledger_query;

/* One argument: 't' text (s, NULL binds NULL), 'i' integer, 'I' a row id
 * where 0 binds NULL. */
typedef struct cp_ledger_arg {
	char type;
	const char *s;
	int64_t i;
} cp_ledger_arg;

typedef enum cp_ledger_tx {
	CP_LEDGER_TX_READ,  /* one snapshot for several queries */
	CP_LEDGER_TX_WRITE, /* everything read stays true until commit */
} cp_ledger_tx;

typedef struct cp_ledger_db cp_ledger_db;     /* a backend's connection */
typedef struct cp_ledger_rows cp_ledger_rows; /* a query's result */

typedef struct cp_ledger_ops {
	const char *name; /* "sqlite", "postgresql" */
	/* Connects to `where` (a file, a conninfo) and brings its schema up to
	 * date where the backend may (SQLite); `create`: the caller asks for the
	 * schema to be made (ledger init). */
	cp_ledger_db *(*open)(const char *where, int busy_ms, bool create, cp_error **err);
	void (*close)(cp_ledger_db *db);
	bool (*begin)(cp_ledger_db *db, cp_ledger_tx tx, cp_error **err);
	bool (*commit)(cp_ledger_db *db, cp_error **err); /* rolls back on failure */
	void (*rollback)(cp_ledger_db *db);               /* no-op outside a transaction */
	/* Runs query q; NULL with err set on failure. Free with done(). */
	cp_ledger_rows *(*query)(cp_ledger_db *db, cp_ledger_query q, const cp_ledger_arg *args,
	                         int nargs, cp_error **err);
	/* Pipelining, where the backend has it (NULL otherwise: query() one
	 * at a time): send() queues query q, receive() gives the answers in the
	 * order sent (NULL with err set on failure: the answers after it are
	 * dropped, and the transaction fails), abandon() drops those not taken.
	 * While queries are queued, nothing else is run on the connection. */
	bool (*send)(cp_ledger_db *db, cp_ledger_query q, const cp_ledger_arg *args, int nargs,
	             cp_error **err);
	cp_ledger_rows *(*receive)(cp_ledger_db *db, cp_error **err);
	void (*abandon)(cp_ledger_db *db);
	/* 1: a row is current, 0: no more rows, -1: error (err set). */
	int (*next)(cp_ledger_rows *r, cp_error **err);
	const char *(*text)(cp_ledger_rows *r, int col); /* NULL for NULL */
	void (*done)(cp_ledger_rows *r);
	/* A consistent copy for safekeeping, or NULL when the backend has its
	 * own tools (the message says which). */
	bool (*backup)(cp_ledger_db *db, const char *path, cp_error **err);
} cp_ledger_ops;

extern const cp_ledger_ops cp_ledger_sqlite_ops;
extern const cp_ledger_ops cp_ledger_pg_ops;

/* Whether `where` names a PostgreSQL server (a postgresql:// or postgres://
 * URI, or libpq keyword=value pairs) rather than an SQLite file. */
bool cp_ledger_pg_conninfo(const char *where);


/* The queries both backends write in the same SQL (no parameters, no
 * dialect): one text each, used by the tables of sqlite.c and pg.c. */
#define CP_SQL_GENERATION \
	"SELECT (SELECT coalesce(max(id), 0) FROM stock) || ',' || " \
	"(SELECT coalesce(max(id), 0) FROM batch) || ',' || " \
	"(SELECT coalesce(max(id), 0) FROM print) || ',' || " \
	"(SELECT coalesce(max(id), 0) FROM spoil) || ',' || " \
	"(SELECT coalesce(max(id), 0) FROM destruction) || ',' || " \
	"(SELECT count(*) FROM revocation)"
#define CP_SQL_LAST_SERIAL \
	"SELECT serial, stock_id FROM print WHERE stock_id IS NOT NULL " \
	"ORDER BY id DESC LIMIT 1"
#define CP_SQL_ENTRIES \
	"SELECT (SELECT count(*) FROM stock) + (SELECT count(*) FROM batch) + (SELECT " \
	"count(*) FROM print) + (SELECT count(*) FROM spoil) + (SELECT count(*) FROM " \
	"destruction) + (SELECT count(*) FROM destroyed) + (SELECT count(*) FROM " \
	"revocation) + (SELECT count(*) FROM print_job)"
#define CP_SQL_DUMP_STOCK \
	"SELECT id, prefix, width, first, last, received_on, note, operator, recorded_at " \
	"FROM stock ORDER BY id"
#define CP_SQL_DUMP_BATCH \
	"SELECT id, name, note, operator, started_at, input, input_sha256, " \
	"printer_profile, calibration, template, template_sha256 FROM batch ORDER BY id"
#define CP_SQL_DUMP_PRINT \
	"SELECT id, batch_id, kind, cert_no, name, id_masked, level, occupation, serial, " \
	"stock_id, file, page, sha256, reason, old_returned, printed_at, operator FROM " \
	"print ORDER BY id"
#define CP_SQL_DUMP_SPOIL \
	"SELECT id, serial, stock_id, print_id, cert_no, reason, at, operator FROM spoil " \
	"ORDER BY id"
#define CP_SQL_DUMP_DESTRUCTION \
	"SELECT id, reason, at, operator FROM destruction ORDER BY id"
#define CP_SQL_DUMP_DESTROYED \
	"SELECT serial, stock_id, destruction_id FROM destroyed ORDER BY destruction_id, " \
	"serial"
#define CP_SQL_DUMP_REVOCATION \
	"SELECT cert_no, reason, at, operator FROM revocation ORDER BY at, cert_no"
#define CP_SQL_DUMP_JOB \
	"SELECT id, batch_id, file, dest, profile, copies, job_id, state, message, at, " \
	"operator FROM print_job ORDER BY id"

#endif
