/* SPDX-License-Identifier: MIT */
/* Subcommands of the certpress command. Each parses its own options (GNU
 * getopt_long, --help), prints diagnostics on stderr and results on stdout,
 * and returns the exit status: 0 success, 1 records refused or checks failed,
 * 2 usage or environment error. */
#ifndef CP_CLI_H
#define CP_CLI_H

#include <stdbool.h>
#include <stddef.h>

int cli_check(int argc, char **argv);
int cli_render(int argc, char **argv);
int cli_calibrate(int argc, char **argv);
int cli_ledger(int argc, char **argv);
int cli_keys(int argc, char **argv);
int cli_verify(int argc, char **argv);
int cli_print(int argc, char **argv);
int cli_reprint(int argc, char **argv);
int cli_reissue(int argc, char **argv);

/* A sheet recorded as spoiled with the batch `render` prints (reprint). */
typedef struct cli_spoil {
	const char *serial; /* or NULL: the certificate's sheet without a serial */
	const char *cert_no;
	const char *reason;
} cli_spoil;
/* cli_render() with the spoiled sheets of the certificates it prints again:
 * recorded in the batch's ledger transaction before its pages, so that the
 * spoil and the new sheet are recorded together or not at all. *recorded
 * (may be NULL) tells whether the batch was committed to the ledger (a
 * print that fails afterwards leaves it recorded). */
int cli_render_spoiling(int argc, char **argv, const cli_spoil *spoils, size_t n,
                        bool *recorded);
/* The web console; defined in src/console/serve.c (a front end over
 * cli_batch, the loop check and render share). */
int cli_serve(int argc, char **argv);

#endif
