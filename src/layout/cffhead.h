/* SPDX-License-Identifier: MIT */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Two lookups in a font file's bytes, for the face stream of fonts.c; each
 * reads only inside d[0, len) and refuses what is not well formed. */

/* Where a CFF table's header, Name INDEX and Top DICT INDEX end (the bytes
 * Cairo 1.16 reads to learn whether a face is CID-keyed) when they are
 * all inside the table's first len bytes d; 0 otherwise. */
size_t cp_cff_head_end(const unsigned char *d, size_t len);

/* The offset and length of face index's table tag in an sfnt file (an
 * OpenType font, or a collection: 'ttcf') whose first len bytes are d.
 * True when the file's header, the face's table directory and its entry
 * for tag are inside d; false otherwise (*at and *n untouched). */
bool cp_sfnt_table(const unsigned char *d, size_t len, int index, const char tag[4],
                   uint32_t *at, uint32_t *n);
