/* SPDX-License-Identifier: MIT */
/* Internal additions to the PDF writer of certpress.h (src/output/pdf.c). */
#ifndef CP_PDF_H
#define CP_PDF_H

#include <stdbool.h>

#include "certpress.h"

/* Called on the finished temporary file (read-write descriptor, label names
 * it), after the /ViewerPreferences update and before it is put in place:
 * e.g. to append a signature as the file's last update. */
typedef bool (*cp_pdf_finish_fn)(void *ud, int fd, const char *label, cp_error **err);

/* cp_pdf_writer_commit() with finish (may be NULL) run before the commit;
 * when it fails, nothing is put in place. */
bool cp_pdf_writer_commit_finish(cp_pdf_writer *w, cp_pdf_finish_fn finish, void *ud,
                                 cp_error **err);

#endif
