/* SPDX-License-Identifier: MIT */
/*
 * PDF file syntax shared by the modules that read PDF files we may not have
 * written ourselves (src/output/pdfupdate.c, src/output/pdfjoin.c): lexing of the object
 * syntax (ISO 32000-1, 7.2 and 7.3) over a byte range, reading through
 * pread(), and the classic cross-reference table and trailer (7.5.4, 7.5.5).
 * Internal to the library.
 *
 * Every function here works on [p, end) and never reads past end; none of
 * them needs a terminating NUL (stream data holds NUL bytes). Numbers are
 * bounded by the caller's maximum before they can overflow.
 */
#ifndef CP_PDFSYNTAX_H
#define CP_PDFSYNTAX_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "certpress.h"

#define CP_PDFSYNTAX_MAX_OBJECTS 8388607 /* PDF's own limit on object numbers */
#define CP_PDFSYNTAX_MAX_DEPTH 64        /* nesting of dictionaries and arrays */
#define CP_PDFSYNTAX_MAX_OFFSET INT64_C(9999999999) /* 10 digits in an xref entry */

/* Character classes (7.2.2): bit 1 white-space, bit 2 delimiter. */
extern const unsigned char cp_pdfsyntax_class[256];

static inline bool cp_pdfsyntax_is_ws(char c)
{
	return cp_pdfsyntax_class[(unsigned char)c] & 1;
}

static inline bool cp_pdfsyntax_is_delim(char c)
{
	return cp_pdfsyntax_class[(unsigned char)c] & 2;
}

static inline bool cp_pdfsyntax_is_regular(char c)
{
	return !cp_pdfsyntax_class[(unsigned char)c];
}

/* Skips white-space and comments. */
const char *cp_pdfsyntax_skip_ws(const char *p, const char *end);
/* Skips a run of regular characters (a name's body, a number, a keyword). */
const char *cp_pdfsyntax_skip_regular(const char *p, const char *end);
/* The end of the one direct object starting at p (after blanks), or NULL when
 * it is malformed, nested deeper than CP_PDFSYNTAX_MAX_DEPTH or runs past
 * end. depth is the nesting already entered (0 at the top). */
const char *cp_pdfsyntax_skip_object(const char *p, const char *end, int depth);
/* The end of the literal string whose "(" is at p, honouring nesting and
 * backslash escapes, or NULL when it does not end before end. */
const char *cp_pdfsyntax_skip_string(const char *p, const char *end);
/* An unsigned decimal integer at p no greater than max, ending at a
 * white-space or delimiter (or end): sets *out and *next. */
bool cp_pdfsyntax_parse_uint(const char *p, const char *end, int64_t max, int64_t *out,
                             const char **next);
/* Whether the keyword kw starts at p and is not followed by a regular char. */
bool cp_pdfsyntax_is_keyword(const char *p, const char *end, const char *kw);
/* "N G R" starting at p (after blanks): returns its end, or NULL. */
const char *cp_pdfsyntax_match_ref(const char *p, const char *end, int64_t *num,
                                   int64_t *gen);

typedef struct cp_pdf_dict_entry {
	const char *key; /* after the slash; points into the parsed text */
	size_t klen;
	const char *val; /* trimmed */
	size_t vlen;
} cp_pdf_dict_entry;

/* Splits the dictionary at p (after blanks) into cp_pdf_dict_entry items
 * appended to entries (pointing into the text). Returns the end of the
 * dictionary (after ">>") or NULL. An indirect reference counts as one value,
 * so "/Pages 1 0 R" stays together. */
const char *cp_pdfsyntax_parse_dict(const char *p, const char *end, GArray *entries);
/* The entry with key (without slash), or NULL. Borrowed from entries. */
const cp_pdf_dict_entry *cp_pdfsyntax_dict_find(GArray *entries, const char *key);
/* Whether the entry's value is exactly the name (with slash), e.g. "/Page". */
bool cp_pdfsyntax_entry_is(const cp_pdf_dict_entry *e, const char *name);

/* memmem() for a NUL-terminated needle, and its last occurrence. */
const char *cp_pdfsyntax_find(const char *h, size_t hlen, const char *needle);
const char *cp_pdfsyntax_rfind(const char *h, size_t hlen, const char *needle);

/* A PDF file read through pread(): the descriptor's position is not used. */
typedef struct cp_pdf_src cp_pdf_src;
struct cp_pdf_src {
	int fd;
	const char *label; /* names the file in messages; borrowed */
	int64_t size;
	/* Stores the module's CP_E_PARSE error for a file that cannot be used:
	 * what (translated) went wrong, at byte offset at (-1: not known). */
	void (*bad)(const cp_pdf_src *src, int64_t at, const char *what, cp_error **err);
	int part; /* for the bad() callback; unused here */
};

/* Calls src->bad() and returns false, for `return cp_pdfsyntax_bad(...)`. */
bool cp_pdfsyntax_bad(const cp_pdf_src *src, int64_t at, const char *what, cp_error **err);

/* Sets src->size from fstat(); CP_E_IO naming strerror on failure. */
bool cp_pdfsyntax_open(cp_pdf_src *src, cp_error **err);
/* Reads up to len bytes at off; returns how many (short only at end of
 * file), or -1 with CP_E_IO. */
ssize_t cp_pdfsyntax_read_at(const cp_pdf_src *src, int64_t off, char *buf, size_t len,
                             cp_error **err);
/* Checks the "%PDF-" header and finds the offset startxref gives (before the
 * end of the file) in the file's tail. */
bool cp_pdfsyntax_find_startxref(const cp_pdf_src *src, int64_t *xref_off, cp_error **err);

typedef struct cp_pdf_xref_sub {
	int64_t start, count, entries_at;
} cp_pdf_xref_sub;

/* Reads the subsection headers of the classic cross-reference table at off
 * into subs (cp_pdf_xref_sub items); entries have a fixed width of 20 bytes,
 * so only the headers are read. *trailer_at is set just after "trailer".
 * A cross-reference stream is refused with a message saying so. */
bool cp_pdfsyntax_scan_xref(const cp_pdf_src *src, int64_t off, GArray *subs,
                            int64_t *trailer_at, cp_error **err);
/* Parses one 20-byte entry "oooooooooo ggggg n\r\n": false when damaged. */
bool cp_pdfsyntax_parse_xref_entry(const char entry[20], int64_t *offset, int64_t *gen,
                                   bool *in_use);
/* A stream without a filter is deflated when it is copied (pdfjoin.c,
 * pdfsplit.c: a page's content, which pdf.c has Cairo leave plain) from
 * this many bytes on. */
#define CP_PDFSYNTAX_DEFLATE_MIN 64
struct libdeflate_compressor;
/* Whether a stream whose dictionary has the entries d can be deflated as it
 * is copied: no /Filter, /DecodeParms or /F (data in another file). */
bool cp_pdfsyntax_plain_stream(GArray *d);
/* data[0, n) deflated (zlib format) by z into *buf, grown as needed (*cap:
 * its size; g_free it): the deflated length, or 0 when not smaller than n. */
size_t cp_pdfsyntax_deflate(struct libdeflate_compressor *z, const void *data, size_t n,
                            unsigned char **buf, size_t *cap);

/* Reads at most max bytes at off into a new NUL-terminated buffer (free
 * with g_free); *len is how many were read. NULL with CP_E_IO. */
char *cp_pdfsyntax_read_text(const cp_pdf_src *src, int64_t off, size_t max, size_t *len,
                             cp_error **err);

#endif
