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
 * taken). When zip_dir is given (the folder render writes into), a render
 * that ends with status 0 is followed by zip_path: a zip of the folder's
 * files (libzip). Returns the job's number, or 0 with *err (CP_E_USAGE)
 * when a job is still running. */
int console_jobs_start(console_jobs *js, char **argv, const char *zip_dir,
                       const char *zip_path, cp_error **err);

/* The zip of job n, once made (g_free()), or NULL. */
char *console_jobs_zip(console_jobs *js, int n);

/* Job n as JSON (g_free()):
 *   {"id":N,"state":"running"|"done","status":EXIT|null,"log":…,
 *    "zip":true|false}
 * With wait, first waits (at most timeout_s seconds) until the job is done.
 * NULL when there is no job n. */
char *console_jobs_json(console_jobs *js, int n, bool wait, int timeout_s);

#endif
