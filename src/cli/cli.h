/* SPDX-License-Identifier: MIT */
/* Subcommands of the certpress command. Each parses its own options (GNU
 * getopt_long, --help), prints diagnostics on stderr and results on stdout,
 * and returns the exit status: 0 success, 1 records refused or checks failed,
 * 2 usage or environment error. */
#ifndef CP_CLI_H
#define CP_CLI_H

int cli_check(int argc, char **argv);
int cli_render(int argc, char **argv);
int cli_calibrate(int argc, char **argv);
int cli_ledger(int argc, char **argv);
int cli_keys(int argc, char **argv);
int cli_verify(int argc, char **argv);
int cli_print(int argc, char **argv);
int cli_reprint(int argc, char **argv);
/* The web console; defined in src/console/serve.c (a front end over
 * cli_batch, the loop check and render share). */
int cli_serve(int argc, char **argv);

#endif
