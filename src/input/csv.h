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

#include "certpress.h"

#define CP_CSV_CHUNK (64u * 1024)        /* bytes read from the file at a time */
#define CP_CSV_SNIFF CP_CSV_CHUNK        /* bytes examined to detect the encoding */
#define CP_CSV_MAX_FIELD (64u * 1024)    /* bytes per cell */
#define CP_CSV_MAX_COLUMNS 1000u         /* cells per row */
#define CP_CSV_MAX_ROW (1024u * 1024)    /* bytes per row */
#define CP_CSV_HEADER_SCAN 10u           /* non-blank rows searched for the header */

#endif
