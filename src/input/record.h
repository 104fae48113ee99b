/* SPDX-License-Identifier: MIT */
/*
 * Internal helpers on a record's cell text, shared by every reader of the
 * input stage (the public cp_record_* API is in certpress.h): what counts as
 * a blank around a cell's text is decided here once.
 */
#ifndef CP_RECORD_H
#define CP_RECORD_H

#include <stdbool.h>
#include <stddef.h>

/* Narrows [*s, *s + *n) so that leading and trailing blanks are left out:
 * ASCII white space, U+00A0 no-break space, U+3000 ideographic space and
 * U+FEFF (a stray byte-order mark). */
void cp_text_trim(const char **s, size_t *n);

/* True when the NUL-terminated s holds only blanks (see cp_text_trim). */
bool cp_text_blank(const char *s);

#endif
