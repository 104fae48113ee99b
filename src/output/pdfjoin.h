/* SPDX-License-Identifier: MIT */
/*
 * Joins part PDFs written by Cairo (one per rendering thread) into one PDF,
 * pages in an order the caller gives. Internal to the library.
 *
 * A part must have the shape Cairo 1.16 writes: one revision with a classic
 * cross-reference table (no /Prev, no cross-reference or object streams, no
 * encryption), generation numbers 0, "N 0 obj ... endobj" objects, a catalog
 * whose /Pages is a page tree (nested nodes are followed), streams whose
 * "stream" keyword ends with CRLF or LF. Anything else is CP_E_PARSE naming
 * the part, what is wrong and the byte offset.
 *
 * Every in-use object of every part is copied to the output, renumbered,
 * except each part's catalog, page-tree nodes and (parts other than 0) the
 * document information dictionary. Only the dictionary/array text of an
 * object is parsed (and its indirect references rewritten); stream data is
 * copied byte for byte through a fixed buffer, never decompressed. Attributes
 * a part's page-tree node gives its pages by inheritance (/Resources
 * /MediaBox /CropBox /Rotate) are written into each page dictionary that
 * lacks them, so nothing is lost when the nodes are replaced by one new root.
 * Entries of a part's catalog other than /Type and /Pages (outline, names,
 * structure tree) are not carried over: they describe the part, not the
 * joined document.
 *
 * Memory: about 21 bytes per object of every part plus 4 per page, the text
 * of one object at a time (at most CP_PDF_JOIN_MAX_OBJECT_BYTES; a page-tree
 * node up to CP_PDF_JOIN_MAX_NODE_BYTES) and one CP_PDF_JOIN_COPY_BYTES read
 * window; parts are never read whole nor mapped. Objects are read in file
 * order, so the window serves many objects per pread().
 */
#ifndef CP_PDFJOIN_H
#define CP_PDFJOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "certpress.h"

/* Bounds on what is read from a part. */
#define CP_PDF_JOIN_MAX_OBJECT_BYTES (1u << 20)  /* non-stream text of an object */
#define CP_PDF_JOIN_MAX_NODE_BYTES (32u << 20)   /* a page-tree node (its /Kids) */
#define CP_PDF_JOIN_MAX_TREE_DEPTH 32            /* nesting of page-tree nodes */
#define CP_PDF_JOIN_MAX_OBJECTS 8388607          /* objects in the joined file */
#define CP_PDF_JOIN_COPY_BYTES (256u << 10)      /* read window and copy buffer */

typedef struct cp_pdf_run {
	int part;   /* index into fds */
	long pages; /* how many pages, >= 1 */
} cp_pdf_run;

/* Writes to out (a FILE* open for writing, positioned at the start of an
 * empty file) one PDF holding every page of the nparts part PDFs read through
 * fds (read with pread, never closed, positions irrelevant), in the order runs
 * give: run i takes the next runs[i].pages pages of part runs[i].part, in that
 * part's own page order. Every page of every part must be taken exactly once,
 * else CP_E_USAGE. The new catalog gets catalog_extra appended inside its
 * dictionary when not NULL (PDF key/value pairs without indirect references,
 * e.g. "/ViewerPreferences << /PrintScaling /None >>"; CP_E_USAGE when it is
 * not). The document information dictionary is part 0's. label names the
 * output in messages.
 * CP_E_IO for read/write errors (strerror named), CP_E_PARSE for a part that
 * is not a PDF of the shape described above (which part, what, byte offset),
 * CP_E_NOMEM past the limits above. On failure out holds garbage: the caller
 * discards it. The output is the same bytes for the same input. */
bool cp_pdf_join(FILE *out, const char *label, const int *fds, int nparts,
                 const cp_pdf_run *runs, size_t nruns, const char *catalog_extra,
                 cp_error **err);

/* cp_pdf_join() with a shared layer under every page: layer_fd (or -1 for
 * none) reads a one-page PDF of the same shape, drawn on its own, whose
 * page's /Contents (one stream), /Resources (an object) and /MediaBox are
 * its own. That page is not placed: its content stream becomes a Form
 * XObject (/BBox its /MediaBox, /Resources its own), every page's resources
 * name it /CertpressLayer, and every page's /Contents become [C original…]
 * where C is one stream "q /CertpressLayer Do Q" shared by all pages. The
 * pages render as if the layer's page had been drawn first on each of
 * them; the layer's objects are stored once (src/output/pdf.c, parts). */
bool cp_pdf_join_under(FILE *out, const char *label, const int *fds, int nparts,
                       const cp_pdf_run *runs, size_t nruns, int layer_fd,
                       const char *catalog_extra, cp_error **err);

/* cp_pdf_join_under() with the parts' objects copied (and their page
 * content deflated) by up to `threads` threads side by side, each part into
 * an anonymous file in tmp_dir (cp_atomic_scratch()) then appended to out in
 * part order: the same bytes. tmp_dir NULL or threads <= 1: one thread, no
 * temporary files. Also CP_E_IO when such a file cannot be made. */
bool cp_pdf_join_parallel(FILE *out, const char *label, const int *fds, int nparts,
                          const cp_pdf_run *runs, size_t nruns, int layer_fd,
                          const char *catalog_extra, const char *tmp_dir, int threads,
                          cp_error **err);

/* Sets *pages to the number of pages of the part PDF read through fd (with
 * pread), checking the part the way cp_pdf_join() does (the objects' text is
 * not read). Errors as cp_pdf_join(). */
bool cp_pdf_part_pages(int fd, long *pages, cp_error **err);

#endif
