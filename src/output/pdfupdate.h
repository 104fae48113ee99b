/* SPDX-License-Identifier: MIT */
/*
 * PDF incremental update (ISO 32000-1, 7.5.6): a new revision of one object
 * appended after the last %%EOF, with its own cross-reference section and a
 * trailer pointing back (/Prev) at the previous one. The bytes already in the
 * file are never changed, so whatever was valid stays valid (and a signature
 * over the earlier revision, later, stays intact).
 *
 * Supported: files with a classic cross-reference table (what Cairo writes),
 * any number of earlier updates. Refused with a clear CP_E_PARSE error: a
 * cross-reference stream (compressed PDF 1.5 object streams), an encrypted
 * file, anything whose trailer or catalog cannot be found.
 */
#ifndef CP_PDFUPDATE_H
#define CP_PDFUPDATE_H

#include <stdbool.h>

#include "certpress.h"

/* Bounds on what is read from a file we may not have written ourselves. */
#define CP_PDF_MAX_REVISIONS 256          /* /Prev chain length */
#define CP_PDF_MAX_DICT_BYTES (64u << 10) /* catalog or trailer dictionary */

/* Sets key (a PDF name without the slash, e.g. "ViewerPreferences") in the
 * document catalog to value_pdf (PDF syntax for one direct object, e.g.
 * "<< /PrintScaling /None >>"), replacing an existing entry of that key.
 * The file at path is updated in place by appending; on any error it is left
 * exactly as it was (a partial append is truncated away). CP_E_IO for
 * read/write failures, CP_E_PARSE for a file that is not a PDF we can update,
 * CP_E_USAGE for a bad key or value. */
bool cp_pdf_set_catalog_entry(const char *path, const char *key, const char *value_pdf,
                              cp_error **err);

/* The same on an open file descriptor (read and write, positioned anywhere);
 * label names the file in messages. The descriptor is not closed or synced. */
bool cp_pdf_set_catalog_entry_fd(int fd, const char *label, const char *key,
                                 const char *value_pdf, cp_error **err);

#endif
