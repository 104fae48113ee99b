/* SPDX-License-Identifier: MIT */
/* The loop that check and render share: read each record, check it, lay it
 * out on the template, and hand the result to the subcommand. Problems of
 * every row are kept for the final report (they grow with bad rows only;
 * good rows cost nothing once handled, so memory stays flat in the batch). */
#ifndef CP_CLI_BATCH_H
#define CP_CLI_BATCH_H

#include <stdbool.h>

#include "certpress.h"
#include "output/report.h"
#include "trust/keys.h"

typedef struct cli_batch_opts {
	const char *csv;
	const char *sheet;         /* of a workbook, or NULL: the first */
	const char *org;
	const char *template_path; /* NULL: do not lay out (check --no-layout) */
	const char *font_dir;      /* extra fonts, or NULL */
	bool workers_lay_out;      /* load the template but leave fonts and the
	                              engine to cli_batch_run_pool()'s workers */
	unsigned engine_flags;     /* for cp_engine_new_ex(), e.g. CP_ENGINE_NO_SEAL */
	/* With workers_lay_out: the engines of up to this many workers are
	 * made from cli_batch_open() on, on threads of their own, while the
	 * caller opens the input, the output and the ledger; the pool's
	 * workers take them (cli_batch_run_pool(), same `workers`). One
	 * unless the input is a file of a few chunks' rows at least: a batch
	 * of one chunk has one worker. 0: none (the workers make their own). */
	int warm;
} cli_batch_opts;

struct cli_warm;

typedef struct cli_batch {
	cp_profile *profile;
	cp_template *tpl;
	cp_fonts *fonts;
	cp_engine *engine;
	cp_reader *reader;
	cp_checker *checker;
	char *fonts_dir, *font_dir; /* for the engines of pool workers */
	unsigned engine_flags;      /* cli_batch_opts' */
	cp_signer *qr_signer; /* [signing] qr_signed: signs every QR code, or NULL */
	struct cli_warm *warm; /* cli_batch_opts.warm engines, nwarm of them */
	int nwarm;
	/* cli_batch_run_pool(): the workers decode the photos in full
	 * (cp_checker_defer_photo_decode()), each before it lays the record
	 * out, instead of the reading thread; a record whose photo fails is
	 * then refused by its worker, after the admit. */
	bool decode_in_workers;
	/* Every problem of the run, in row order. Their strings live in
	 * problem_text: a message is kept once however many rows have it. */
	cp_problems problems;
	GStringChunk *problem_text;
	long records, valid, refused, warnings;
	/* cli_batch_run() lays out only the records this accepts (called with
	 * its ud; NULL: every record). A preview needs its own page only: the
	 * other rows are still checked, for what the rules need from them
	 * (duplicate numbers), but not laid out, and their photos are probed
	 * (header: size, shape) but not decoded. */
	bool (*lay_out)(void *ud, const cp_record *rec);
} cli_batch;

/* Called once per record. valid: no error so far (checked and, with a
 * template, laid out). pg: the laid-out page when valid and a template is
 * used (borrowed for the call), else NULL. row: this row's problems (borrowed;
 * the callback may append more, e.g. a ledger refusal, and then must return
 * false in *still_valid). Return false with *err to stop the run. */
typedef bool (*cli_record_fn)(void *ud, cp_record *rec, cp_page *pg,
                              cp_problems *row, bool *still_valid, cp_error **err);

/* o->csv NULL: opens profile, template and fonts only; cli_batch_reset()
 * then names the data (the web console checks one file after another with
 * the same fonts and engine). */
bool cli_batch_open(cli_batch *b, const cli_batch_opts *o, cp_error **err);
/* Reads csv (sheet: of a workbook, or NULL) from its start with a new
 * reader and checker; counts and problems cleared. */
bool cli_batch_reset(cli_batch *b, const char *csv, const char *sheet, cp_error **err);
/* Runs the loop; returns false on a stopping error (I/O, interrupt). */
bool cli_batch_run(cli_batch *b, cli_record_fn fn, void *ud, const char *what,
                   cp_error **err);
void cli_batch_close(cli_batch *b);

/* The same loop on several cores: the calling thread reads and checks the
 * records in order and hands them, a few dozen at a time, to worker threads
 * (each with its own fonts and engine, as Pango and fontconfig objects must
 * not be shared between threads) that lay them out and draw them; the
 * results come back to the calling thread in row order again. Reports,
 * ledger and rejects therefore see exactly the sequence of the plain loop. */
typedef struct cli_item {
	cp_record rec;
	cp_problems row; /* the row's problems so far */
	bool valid;      /* printable as far as known before layout */
	bool draw;       /* set by admit: draw the page when it lays out */
	/* Set by the worker: */
	cp_error *refusal; /* layout refused the record (CP_E_REFUSED) */
	int part;          /* the worker that drew the page, or -1 */
	char *digest;      /* for draw to fill (g_free'd with the item) */
} cli_item;

typedef struct cli_pool_ops {
	/* Calling thread, row order, after the checker (it->valid says how it
	 * went): may refuse the record (a problem in it->row, it->valid =
	 * false) and sets it->draw. */
	bool (*admit)(void *ud, cli_item *it, cp_error **err);
	/* Calling thread, before the admits of a chunk (the records of a few
	 * dozen rows, checked): may look ahead for them all at once, e.g. ask
	 * the ledger in one round trip; may be NULL. */
	bool (*ahead)(void *ud, cli_item *items, size_t n, cp_error **err);
	/* Worker thread `part` (0..workers-1): draws the laid-out page. Called
	 * only for records with it->draw that laid out. */
	bool (*draw)(void *ud, int part, cp_engine *e, const cp_page *pg, cli_item *it,
	             cp_error **err);
	/* Worker thread `part`, after it drew the pages of a chunk (a few dozen
	 * records) and before the chunk goes back to the calling thread; may be
	 * NULL. A signed per-holder PDF folder writes the chunk's files here. */
	bool (*chunk_done)(void *ud, int part, cp_error **err);
	/* Worker thread `part`, after its last page (e.g. finishes its output). */
	bool (*done)(void *ud, int part, cp_error **err);
	/* Calling thread, row order: the record's outcome; *still_valid as for
	 * cli_record_fn (a layout refusal is already in it->row). */
	bool (*settle)(void *ud, cli_item *it, bool *still_valid, cp_error **err);
	/* Calling thread, once, when every record is settled, while the
	 * workers finish their output (done); not after an error. May be NULL.
	 * A render records the batch in the ledger here. */
	bool (*drained)(void *ud, cp_error **err);
	/* Records per chunk, 1..CLI_POOL_MAX_CHUNK; 0 for the default (32). A
	 * signed per-holder PDF folder draws a whole chunk into one document
	 * (fonts subset once per chunk) and takes a larger one. */
	int chunk;
} cli_pool_ops;

#define CLI_POOL_MAX_CHUNK 64
#define CLI_POOL_MAX_WORKERS 16
/* The number of workers to use by default: the processors online, at most
 * CLI_POOL_MAX_WORKERS. */
int cli_pool_default_workers(void);
/* Runs the loop with up to `workers` threads (started as work arrives, so a
 * short batch uses one). b must have been opened with workers_lay_out. */
bool cli_batch_run_pool(cli_batch *b, const cli_pool_ops *ops, void *ud, int workers,
                        const char *what, cp_error **err);

/* Opens the rejects file at path for the batch's rows (same header as its
 * CSV), after checking that path is a sane output that is none of inputs
 * (NULL-terminated). NULL with err on failure. */
cp_rejects *cli_batch_rejects_open(cli_batch *b, const char *path,
                                   const char *const *inputs, cp_error **err);

/* Appends a problem to ps (strings copied; rule static, its source from
 * cp_rule_source_of()). */
void cli_problem_add(cp_problems *ps, cp_severity sev, const cp_record *rec, int field,
                     const char *column, const char *value, const char *rule,
                     const char *message);

/* Renders pg as a small PNG in memory (o->dpi, e.g. 40) for the HTML report.
 * *png is freed with g_free(). */
bool cli_thumbnail(cli_batch *b, const cp_page *pg, const cp_output_opts *o,
                   unsigned char **png, size_t *png_len, cp_error **err);

/* The fields of pg an operator proofreads in the HTML report, each cut from
 * the page at dpi (its set text and 1 mm around) as a PNG and queued with
 * cp_html_add_cutout(): the name always, and every field set in a face other
 * than its own font. */
bool cli_cutouts(cli_batch *b, const cp_page *pg, double dpi, cp_html *html,
                 cp_error **err);
/* The same cut-outs handed to fn one by one: bind is the field (layout.h),
 * text the set text, face as for cp_html_add_cutout() (NULL: its own
 * font); strings and png are borrowed for the call. */
typedef bool (*cli_cutout_fn)(void *ud, int bind, const char *text, const char *face,
                              const unsigned char *png, size_t png_len, cp_error **err);
bool cli_cutouts_each(cli_batch *b, const cp_page *pg, double dpi, cli_cutout_fn fn,
                      void *ud, cp_error **err);

#endif
