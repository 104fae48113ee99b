/* SPDX-License-Identifier: MIT */
/* certpress serve: the web console, a local HTTP server on 127.0.0.1 over
 * the same library calls as the command line (docs/console.md). */
#ifndef CP_CONSOLE_H
#define CP_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct console_opts {
	const char *org;           /* organization profile (required) */
	const char *template_path; /* template to lay records out on */
	const char *font_dir;      /* extra fonts, or NULL */
	const char *data;          /* a data file to load at start, or NULL */
	const char *sheet;         /* of that workbook, or NULL */
	const char *ledger;        /* the print ledger, or NULL: render's default */
	const char *printers_dir;  /* printer profiles, or NULL: the default */
	const char *output_dir;    /* where prints, electronic certificates and
	                              the uploaded inputs they came from are kept */
	unsigned port;             /* 0: any free port */
	size_t upload_limit;       /* bytes of one request's body */
} console_opts;

/* Serves until SIGINT or SIGTERM, then stops and removes its temporary
 * folder. Returns the exit status (0 after a clean stop, 2 when it cannot
 * start). */
int console_run(const console_opts *o);

#endif
