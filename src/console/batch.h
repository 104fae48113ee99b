/* SPDX-License-Identifier: MIT */
/* The console's batch: one data file, checked once when it is loaded (the
 * report of `certpress check --json` and a line per row for the page), and
 * laid out again for each preview. The profile, template, fonts and engine
 * are opened once per console and reused, so a preview costs one pass of
 * the reader and checker and one page drawn, not a font set-up. Not
 * thread-safe: one thread (the server's) uses it. */
#ifndef CP_CONSOLE_BATCH_H
#define CP_CONSOLE_BATCH_H

#include <glib.h>
#include <stdbool.h>

#include "certpress.h"

typedef struct console_batch console_batch;

/* Opens the organization's profile, the template and the fonts. */
console_batch *console_batch_new(const char *org, const char *template_path,
                                 const char *font_dir, cp_error **err);
void console_batch_free(console_batch *cb);

/* Checks the data file at path (sheet: of a workbook, or NULL) and keeps it
 * as the batch, replacing the one before; shown is the name the report
 * gives it (the path, or an upload's file name). On failure (a file that
 * cannot be read, a missing column) the batch before is kept. */
bool console_batch_load(console_batch *cb, const char *path, const char *sheet,
                        const char *shown, cp_error **err);
/* The loaded data file and its sheet (borrowed; NULL when none). */
const char *console_batch_path(const console_batch *cb);
const char *console_batch_sheet(const console_batch *cb);
/* True once a batch is loaded. */
bool console_batch_loaded(const console_batch *cb);
/* The batch as JSON (borrowed):
 *   {"loaded":true,"file":…,"report":<check --json's document>,
 *    "rows":[{"row":N,"state":"ok"|"warning"|"refused","name":…,
 *             "id":<masked>,"cert_no":…,"occupation":…,"job_type":…,
 *             "level":…,"cutout":true|false[,"face":…]}, …]}
 * (cutout: GET the name as printed with console_batch_cutout(); face: the
 * face the name is set in when not its own font).
 * or {"loaded":false}. */
const char *console_batch_json(const console_batch *cb);

/* The name of the printable record on row `row` cut from its page at print
 * resolution (as `check --html` shows it), a PNG; NULL when there is none.
 * Borrowed until the next load. */
GBytes *console_batch_cutout(const console_batch *cb, long row);

/* The certificate on spreadsheet row `row` drawn at dpi in mode, as a PNG
 * (g_free()): what `certpress render --row N -o x.png` writes. A refused
 * row, or no record on that row, fails with CP_E_REFUSED / CP_E_USAGE and
 * the reason. */
bool console_batch_preview(console_batch *cb, long row, cp_mode mode, double dpi,
                           unsigned char **png, size_t *len, cp_error **err);

#endif
