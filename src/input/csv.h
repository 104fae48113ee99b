/* SPDX-License-Identifier: MIT */
/*
 * Internal helpers and limits of the CSV reader (the public cp_reader_* API is
 * in certpress.h).
 *
 * Limits (bad input gets a clear error instead of unbounded memory):
 *  - CP_CSV_MAX_FIELD:   bytes in one cell, after conversion to UTF-8;
 *  - CP_CSV_MAX_COLUMNS: cells in one row;
 *  - CP_CSV_MAX_ROW:     bytes in one row (all cells together).
 * A record's memory is therefore bounded by CP_CSV_MAX_ROW plus per-cell
 * overhead, and the reader's own buffers by a few CP_CSV_CHUNK.
 */
#ifndef CP_CSV_H
#define CP_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

#include "certpress.h"

#define CP_CSV_CHUNK (64u * 1024)        /* bytes read from the file at a time */
#define CP_CSV_SNIFF CP_CSV_CHUNK        /* bytes examined to detect the encoding */
#define CP_CSV_MAX_FIELD (64u * 1024)    /* bytes per cell */
#define CP_CSV_MAX_COLUMNS 1000u         /* cells per row */
#define CP_CSV_MAX_ROW (1024u * 1024)    /* bytes per row */
#define CP_CSV_HEADER_SCAN 10u           /* non-blank rows searched for the header */

/* CSV written for spreadsheets (the ledger export, the rejects file), against
 * CSV injection (OWASP): a cell that begins with '=', '+', '-', '@', a tab or
 * a CR and is not a plain number ("-5", "+86", "3.5") would be run as a
 * formula by Excel or LibreOffice, so it is written with one apostrophe in
 * front ("'=HYPERLINK(…)"), which makes it text; every other cell, and all
 * the rest of this one, is written as it is. The reader drops that one
 * apostrophe again, so a rejects file corrected and read back gives the
 * values it was written from. */
bool cp_csv_formula_like(const char *s);
/* Appends s as one RFC 4180 cell (quoted when it holds a separator, quote,
 * line end or blank at either end, or was neutralised as above); NULL is an
 * empty cell. */
void cp_csv_append_cell(GString *g, const char *s);

#endif
