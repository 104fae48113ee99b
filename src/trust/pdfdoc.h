/* SPDX-License-Identifier: MIT */
/*
 * A PDF file held in memory, for signing and verifying (src/trust/sign.c,
 * verify.c): the newest trailer and object lookup through the chain of
 * classic cross-reference tables (ISO 32000-1, 7.5.4–7.5.6). Internal.
 */
#ifndef CP_PDFDOC_H
#define CP_PDFDOC_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "certpress.h"

typedef struct cp_pdfdoc {
	const char *b;   /* the file's bytes; borrowed */
	size_t n;
	const char *label;
	int64_t xref_off;      /* the last startxref */
	GArray *revs;          /* int64_t: xref offsets, newest first */
	GArray *trailer;       /* cp_pdf_dict_entry of the newest trailer */
	int64_t root_num, root_gen, size;
	int64_t next_num;      /* above every object number any table lists and /Size */
} cp_pdfdoc;

/* Reads the structure of b[0..n); false with CP_E_PARSE (prefixed by what,
 * e.g. "cannot sign this PDF") for anything we do not handle. Clear with
 * cp_pdfdoc_clear() whatever it returns. */
bool cp_pdfdoc_open(cp_pdfdoc *d, const char *b, size_t n, const char *label,
                    const char *what, cp_error **err);
void cp_pdfdoc_clear(cp_pdfdoc *d);
/* The dictionary of object num gen: *dict points at "<<" inside d->b, and
 * *end after the matching ">>". Also gives the object's offset. */
bool cp_pdfdoc_object(const cp_pdfdoc *d, int64_t num, int64_t gen, const char **dict,
                      const char **end, int64_t *offset);
/* Parses the dictionary at [p, end) into entries (cp_pdf_dict_entry). */
bool cp_pdfdoc_dict(const char *p, const char *end, GArray *entries);

#endif
