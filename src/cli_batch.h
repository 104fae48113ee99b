/* SPDX-License-Identifier: MIT */
/* The loop that check and render share: read each record, check it, lay it
 * out on the template, and hand the result to the subcommand. Problems of
 * every row are kept for the final report (they grow with bad rows only;
 * good rows cost nothing once handled, so memory stays flat in the batch). */
#ifndef CP_CLI_BATCH_H
#define CP_CLI_BATCH_H

#include <stdbool.h>

#include "certpress.h"

typedef struct cli_batch_opts {
	const char *csv;
	const char *org;
	const char *template_path; /* NULL: do not lay out (check --no-layout) */
	const char *font_dir;      /* extra fonts, or NULL */
} cli_batch_opts;

typedef struct cli_batch {
	cp_profile *profile;
	cp_template *tpl;
	cp_fonts *fonts;
	cp_engine *engine;
	cp_reader *reader;
	cp_checker *checker;
	cp_problems problems; /* every problem of the run, in row order */
	long records, valid, refused, warnings;
} cli_batch;

/* Called once per record. valid: no error so far (checked and, with a
 * template, laid out). pg: the laid-out page when valid and a template is
 * used (borrowed for the call), else NULL. row: this row's problems (borrowed;
 * the callback may append more, e.g. a ledger refusal, and then must return
 * false in *still_valid). Return false with *err to stop the run. */
typedef bool (*cli_record_fn)(void *ud, cp_record *rec, cp_page *pg,
                              cp_problems *row, bool *still_valid, cp_error **err);

bool cli_batch_open(cli_batch *b, const cli_batch_opts *o, cp_error **err);
/* Runs the loop; returns false on a stopping error (I/O, interrupt). */
bool cli_batch_run(cli_batch *b, cli_record_fn fn, void *ud, const char *what,
                   cp_error **err);
void cli_batch_close(cli_batch *b);

/* Appends a problem to ps (strings copied; rule and article static). */
void cli_problem_add(cp_problems *ps, cp_severity sev, const cp_record *rec, int field,
                     const char *column, const char *value, const char *rule,
                     const char *article, const char *message);
/* Moves every problem of src to the end of dst; src is left empty. */
void cli_problems_move(cp_problems *dst, cp_problems *src);

/* Renders pg as a small PNG in memory (o->dpi, e.g. 40) for the HTML report.
 * *png is freed with g_free(). */
bool cli_thumbnail(cli_batch *b, const cp_page *pg, const cp_output_opts *o,
                   unsigned char **png, size_t *png_len, cp_error **err);

#endif
