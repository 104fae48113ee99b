/* SPDX-License-Identifier: MIT */
/* Sending a written PDF to a printer, shared by `certpress print` and
 * `certpress render --print`. */
#ifndef CP_CLI_PRINT_H
#define CP_CLI_PRINT_H

#include <stdbool.h>

#include "certpress.h"

typedef struct cli_print_job {
	const char *dest;    /* CUPS queue or ipp:// / ipps:// URI */
	const char *file;    /* the PDF */
	int copies;
	const char *profile; /* printer profile the pages were laid out with, or NULL */
	const char *batch;   /* the ledger batch of the file, or NULL */
	cp_ledger *ledger;   /* where the job is recorded, or NULL */
	bool quiet;          /* no progress and no final line */
} cli_print_job;

/* Prints j->file on j->dest, following the job to its end (progress on
 * stderr unless j->quiet or CERTPRESS_NO_PROGRESS is set), records the job
 * in j->ledger, and returns the exit status: 0 completed, 2 not printed or
 * unknown, 130 interrupted. Errors are printed. */
int cli_print_send(const cli_print_job *j);

/* When a printer profile named after dest exists (cp_ipp_dest_profile_name()
 * in the profiles folder dir, NULL: the default one), its name; else NULL.
 * Free with g_free(). */
char *cli_print_dest_profile(const char *dest, const char *dir);

#endif
