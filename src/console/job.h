/* SPDX-License-Identifier: MIT */
/* The console's print jobs: `certpress render … --print DEST` run in-process
 * (cli_render(), the same code as the command) on a worker thread, one at a
 * time, its messages captured for the page. */
#ifndef CP_CONSOLE_JOB_H
#define CP_CONSOLE_JOB_H

#include <stdbool.h>

#include "certpress.h"

typedef struct console_jobs console_jobs;

console_jobs *console_jobs_new(void);
/* Interrupts a running job (as SIGINT would), waits for it, frees all. */
void console_jobs_free(console_jobs *js);

/* Starts `certpress render` with argv (NULL-terminated, argv[0] "render";
 * taken). Returns the job's number, or 0 with *err (CP_E_USAGE) when a job
 * is still running. */
int console_jobs_start(console_jobs *js, char **argv, cp_error **err);

/* Job n as JSON (g_free()):
 *   {"id":N,"state":"running"|"done","status":EXIT|null,"log":…}
 * With wait, first waits (at most timeout_s seconds) until the job is done.
 * NULL when there is no job n. */
char *console_jobs_json(console_jobs *js, int n, bool wait, int timeout_s);

#endif
