/* SPDX-License-Identifier: MIT */
/* Print ledger internals: limits, the schema version and the stock serial
 * parser. The public API is in certpress.h ("ledger"). */
#ifndef CP_LEDGER_H
#define CP_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "certpress.h"

#define CP_LEDGER_SCHEMA_VERSION 3          /* PRAGMA user_version written */
#define CP_LEDGER_APPLICATION_ID 0x43505247 /* PRAGMA application_id, "CPRG" */
#define CP_LEDGER_MAX_TEXT 1024             /* bytes in any text field */
#define CP_LEDGER_MAX_CERT_NO 32            /* bytes in a certificate number */
#define CP_LEDGER_MAX_PREFIX 32             /* bytes in a serial's prefix */
#define CP_LEDGER_MAX_DIGITS 18             /* digits in a serial's number (int64) */
#define CP_LEDGER_MAX_RANGE 1000000         /* sheets in one stock/destroy range */
#define CP_LEDGER_MAX_PAGE 10000000         /* page number in one output file */

/* A parsed stock serial: prefix (letters, digits, '-') and the trailing run
 * of digits as a number of fixed width. */
typedef struct cp_serial {
	char prefix[CP_LEDGER_MAX_PREFIX + 1];
	int width;
	int64_t number;
} cp_serial;

/* Parses s into *out. Errors (CP_E_USAGE) quote s. what names the option or
 * field for the message (e.g. "--from"). */
bool cp_serial_parse(const char *s, const char *what, cp_serial *out, cp_error **err);
/* Formats prefix + zero-padded number. Free with g_free(). */
char *cp_serial_format(const cp_serial *s, int64_t number);

#endif
