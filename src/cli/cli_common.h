/* SPDX-License-Identifier: MIT */
/* Pieces shared by the subcommands: locale set-up, data folder, error
 * printing, signals and terminal progress. */
#ifndef CP_CLI_COMMON_H
#define CP_CLI_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "certpress.h"

/* Sets the locale from the environment (setlocale(LC_ALL, "") and more:
 * messages in the language asked for by LANGUAGE, LC_ALL, LC_MESSAGES or
 * LANG even when that locale is not generated) and binds the message
 * catalogue (cp_localedir()). First thing in main(), before any thread. */
void cli_init_i18n(void);

/* The project's data folder, cp_datadir(). Borrowed. */
const char *cli_datadir(void);
/* datadir/rel; free with g_free(). */
char *cli_data_path(const char *rel);

/* Prints "certpress: <formatted error>" on stderr, frees err and returns the
 * exit status for it. */
int cli_fail(cp_error *err);
/* Prints a usage error ("certpress CMD: …", then a hint to --help) and
 * returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parses "X,Y" (or "X Y") into two numbers. */
bool cli_parse_pair(const char *s, double *x, double *y);
/* Parses a whole decimal number in [min, max]. */
bool cli_parse_long(const char *s, long min, long max, long *out);

/* Spreadsheet rows chosen with --rows "5-10,12": ranges and single rows,
 * each from 2 (row 1 is the header) to CLI_ROW_MAX. Kept sorted and merged. */
#define CLI_ROW_MAX 100000000L
typedef struct cli_row_range {
	long first, last;
} cli_row_range;
typedef struct cli_rows {
	cli_row_range *range; /* ascending, not overlapping */
	size_t n;
	long count;       /* rows in all ranges */
} cli_rows;
/* Parses s into *rows (cleared first). False, with *why set to a translated
 * reason (static), when s is not a list of rows. */
bool cli_rows_parse(const char *s, cli_rows *rows, const char **why);
bool cli_rows_has(const cli_rows *rows, long row);
void cli_rows_clear(cli_rows *rows);

/* Repeated options: a value given twice is an error, never the last one
 * silently winning. seen[] (zeroed, CLI_OPT_SEEN entries) notes each option
 * character or long option value; returns false when ch takes an argument in
 * longopts and was seen before. */
struct option;
#define CLI_OPT_SEEN 512
bool cli_opt_once(const struct option *longopts, int ch, bool seen[CLI_OPT_SEEN]);
/* "--name" of the option whose value is ch (or "-c"). Static storage. */
const char *cli_opt_name(const struct option *longopts, int ch);

/* True when a and b name the same file: the same inode when both exist,
 * else the same absolute path once "." and ".." are resolved (two outputs
 * not yet written). */
bool cli_same_file(const char *a, const char *b);
/* The SHA-256 of a file's bytes as 64 lowercase hex digits (g_free()), or
 * NULL with *err set (CP_E_IO naming the file). */
char *cli_file_sha256(const char *path, cp_error **err);

/* SIGINT/SIGTERM set cli_interrupted; loops poll it and abort cleanly. A
 * second signal removes every live temporary file and exits at once. */
extern volatile sig_atomic_t cli_interrupted;
/* Prints "certpress: note: MESSAGE" on standard error (the atomic-output
 * notice hook: leftovers of interrupted runs). */
void cli_notice(const char *message);
void cli_install_signals(void);

/* Progress on a terminal (stderr is a tty): count, rate and time left,
 * redrawn at most ten times a second; silent otherwise. Time left comes from
 * total when known, else from fraction (set by the caller from the reader). */
typedef struct cli_progress {
	bool on;
	long total;
	long done;
	double start, last;
	double fraction; /* of the input read, when total is unknown; 0: unknown */
	const char *what;
} cli_progress;
void cli_progress_start(cli_progress *p, const char *what, long total);
void cli_progress_step(cli_progress *p);
void cli_progress_end(cli_progress *p);

/* A test's hook to stop the process at a named point of its work, for a
 * SIGKILL there (tests/cli/reprint.sh): when CERTPRESS_TEST_PAUSE_AT names
 * `point`, writes the point's name and a newline to the FIFO
 * CERTPRESS_TEST_PAUSE_FIFO names, then waits until killed. Otherwise does
 * nothing. */
void cli_test_pause(const char *point);

#endif
