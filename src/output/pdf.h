/* SPDX-License-Identifier: MIT */
/* Internal additions to the PDF writer of certpress.h (src/output/pdf.c). */
#ifndef CP_PDF_H
#define CP_PDF_H

#include <stdbool.h>

#include "atomic.h"
#include "certpress.h"

/* Has Cairo leave the page content streams of the PDFs certpress makes
 * without a filter, for the join to deflate (pdfjoin.c, deflate_stream()):
 * zlib, set up anew by Cairo for every small stream, took a fifth of a
 * batch's CPU; libdeflate in the join a fraction of it. Cairo has no
 * interface for it; its CAIRO_DEBUG_PDF environment variable, read when a
 * PDF surface is created, does this and nothing else (Cairo 1.16-1.18).
 * Sets it (unless set) with setenv(): call once, before any thread starts.
 * Only the joined PDF gets deflated streams; a per-holder PDF (book) and a
 * calibration sheet keep theirs as they are, a few hundred bytes a page. */
void cp_pdf_process_init(void);

/* cp_pdf_writer_new() writing into out (e.g. a file of a cp_atomic_dir),
 * which it owns from here: committed with the writer, or aborted with it or
 * when this fails. */
cp_pdf_writer *cp_pdf_writer_new_atomic(cp_atomic *out, double width_mm, double height_mm,
                                        const cp_doc_info *info, cp_error **err);

/* Called on the finished temporary file (read-write descriptor, label names
 * it), after the /ViewerPreferences update and before it is put in place:
 * e.g. to append a signature as the file's last update. */
typedef bool (*cp_pdf_finish_fn)(void *ud, int fd, const char *label, cp_error **err);

/* cp_pdf_writer_commit() with finish (may be NULL) run before the commit;
 * when it fails, nothing is put in place. */
bool cp_pdf_writer_commit_finish(cp_pdf_writer *w, cp_pdf_finish_fn finish, void *ud,
                                 cp_error **err);

/* A document drawn in memory (one Cairo document of a few pages), then cut
 * into one standalone PDF per page (src/output/pdfsplit.c): fonts are
 * subset once per book, not once per page's file. One thread at a time. */
typedef struct cp_pdf_book cp_pdf_book;
/* label names the book in messages (e.g. the output folder). Free with
 * cp_pdf_book_free(). */
cp_pdf_book *cp_pdf_book_new(const char *label, double width_mm, double height_mm,
                             const cp_doc_info *info, cp_error **err);
cairo_t *cp_pdf_book_begin_page(cp_pdf_book *bk, cp_error **err);
bool cp_pdf_book_end_page(cp_pdf_book *bk, cp_error **err);
int cp_pdf_book_page_count(const cp_pdf_book *bk);
/* Finishes the document (fonts are subset here); no page may be open and
 * no more can be added. */
bool cp_pdf_book_finish(cp_pdf_book *bk, cp_error **err);
/* Writes page `page` (0-based) of a finished book as a complete PDF into
 * out (which it owns from here), with the /ViewerPreferences of every
 * certpress PDF in its catalog, runs finish (may be NULL; e.g. the
 * signature as the last update) and commits out; on failure out is
 * aborted. */
bool cp_pdf_book_write_page(cp_pdf_book *bk, int page, cp_atomic *out,
                            cp_pdf_finish_fn finish, void *ud, cp_error **err);
void cp_pdf_book_free(cp_pdf_book *bk);

#endif
