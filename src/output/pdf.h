/* SPDX-License-Identifier: MIT */
/* Internal additions to the PDF writer of certpress.h (src/output/pdf.c). */
#ifndef CP_PDF_H
#define CP_PDF_H

#include <stdbool.h>

#include "atomic.h"
#include "certpress.h"

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

#endif
