/* SPDX-License-Identifier: MIT */
/*
 * certpress — print-layout and rendering engine for China's vocational skill
 * level certificates (职业技能等级证书).
 *
 * This is the only public header. The data flows one way:
 *
 *   CSV ──cp_reader──▶ cp_record ──cp_checker──▶ problems / normalised record
 *       ──cp_engine_layout──▶ cp_page (positioned, measured boxes)
 *       ──cp_engine_draw──▶ caller's cairo_t ──▶ PDF / PNG writers at the edge.
 *
 * Conventions:
 *  - Every fallible function takes `cp_error **err` last. On failure it returns
 *    NULL / false / -1 and, when err is not NULL, stores a new error that the
 *    caller frees with cp_error_free(). The function that detects a problem
 *    writes the message; callers only pass it on.
 *  - Strings are UTF-8. "Borrowed" pointers stay valid as long as the object
 *    they came from; everything else returned is owned by the caller.
 *  - Every *_free() accepts NULL.
 */
#ifndef CERTPRESS_H
#define CERTPRESS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cairo.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CP_VERSION "0.1.0"

/* ------------------------------------------------------------------ errors */

typedef enum cp_code {
	CP_OK = 0,
	CP_E_REFUSED,     /* a record cannot be printed completely (exit 1) */
	CP_E_USAGE,       /* bad option or argument (exit 2) */
	CP_E_IO,          /* a file cannot be read or written (exit 2) */
	CP_E_PARSE,       /* syntax or value error in a template, profile or CSV (exit 2) */
	CP_E_FONT,        /* a configured font is missing or not the pinned one (exit 2) */
	CP_E_NOMEM,       /* out of memory or a size limit exceeded (exit 2) */
	CP_E_INTERRUPTED, /* stopped by a signal; nothing was written (exit 130) */
	CP_E_LEDGER,      /* the ledger refused the operation (exit 1) */
} cp_code;

typedef struct cp_error {
	cp_code code;
	char *message; /* translated sentence, no trailing newline */
	char *file;    /* the file the error is about, or NULL */
	long line;     /* 1-based line in that file, or 0 */
	long row;      /* spreadsheet row of the record (header = 1), or 0 */
	char *column;  /* CSV column header, template/profile key or field, or NULL */
	const char *rule; /* a refusal's rule (docs/rules.md), a static string, or NULL */
} cp_error;

/* Frees an error and everything it holds. NULL is allowed. */
void cp_error_free(cp_error *err);

/* Returns the process exit status that the CLI uses for this error:
 * 1 for CP_E_REFUSED and CP_E_LEDGER, 130 for CP_E_INTERRUPTED, 2 otherwise. */
int cp_error_exit_status(const cp_error *err);

/* Returns "FILE:LINE: row R, column C: MESSAGE" with absent parts left out.
 * Free with free(). Never NULL (aborts on out of memory like GLib). */
char *cp_error_format(const cp_error *err);

/* ------------------------------------------------------------------ fields */

typedef enum cp_field {
	CP_FIELD_NAME,         /* 姓名 */
	CP_FIELD_ID_TYPE,      /* 证件类型 */
	CP_FIELD_ID_NUMBER,    /* 证件号码 */
	CP_FIELD_OCCUPATION,   /* 职业名称 */
	CP_FIELD_JOB_TYPE,     /* 工种/职业方向 */
	CP_FIELD_LEVEL,        /* 职业技能等级 */
	CP_FIELD_CERT_NO,      /* 证书编号 */
	CP_FIELD_ISSUE_DATE,   /* 发证日期 */
	CP_FIELD_PHOTO,        /* 照片 */
	CP_FIELD_PRINT_SERIAL, /* 证书印制流水码 (optional column) */
	CP_FIELD_COUNT
} cp_field;

/* Stable English key ("name", "id_type", …); NULL when f is out of range. */
const char *cp_field_key(cp_field f);
/* Regulation's Chinese header ("姓名", …); NULL when f is out of range. */
const char *cp_field_header(cp_field f);
/* Looks a header or key up (Chinese header, English alias, case-insensitive
 * for ASCII, surrounding blanks ignored). Returns the field or -1. */
int cp_field_lookup(const char *name);
/* True for the fields every record must carry (all but photo and print serial;
 * photo is required unless the profile says photos are pasted on). */
bool cp_field_required(cp_field f);

/* ----------------------------------------------------------------- records */

/* One data row. A plain value: the reader fills raw[] and cells[], the checker
 * fills value[] and the parsed parts. Release with cp_record_clear(). */
typedef struct cp_record {
	long row;                    /* spreadsheet row as Excel/WPS number it: with
	                                the header on row 1, the first record is row
	                                2; title rows above the header count too */
	long line;                   /* physical CSV line on which the row starts */
	char **cells;                /* every cell of the row as read, UTF-8 */
	size_t ncells;
	char *raw[CP_FIELD_COUNT];   /* the cell of each known field, NULL if no column */
	char *value[CP_FIELD_COUNT]; /* normalised, printable values (set by the checker):
	                                level "三级/高级工", job type "--" when blank,
	                                issue date "2026年11月27日", photo resolved path */
	bool number[CP_FIELD_COUNT]; /* the field's cell is a number in a workbook
	                                (not text, not a date): a long ID number
	                                has lost digits there */
	char *photo_picture;         /* a workbook's picture in the row's photo cell,
	                                saved to a private temporary file that lives
	                                as long as the reader (its path), or NULL */
	char *photo_picture_problem; /* why the photo cell's picture cannot be
	                                used (two of them, reaching into another
	                                row, beside a file name), or NULL */
	int level;                   /* 1..5 once checked, 0 before */
	int year, month, day;        /* issue date once checked */
	bool photo_decode_due;       /* the checker left the photo's full decode
	                                to cp_checker_decode_photo() */
	size_t photo_decode_at;      /* where in the row's problems its problem goes */
	char *photo_decode_path;     /* the photo to decode when value[] has none
	                                (the row has other photo problems) */
} cp_record;

/* Frees what the record holds and zeroes it. NULL is allowed. */
void cp_record_clear(cp_record *rec);

/* Masks an ID number for messages and logs: the first 4 and last 4 characters
 * are kept, the rest become '*'; short values are masked entirely.
 * Free with free(). */
char *cp_mask_id(const char *id);

/* ------------------------------------------------------------------ reader */

typedef struct cp_reader cp_reader;

/* Opens a CSV file exported by a spreadsheet: RFC 4180 quoting, CRLF or LF,
 * UTF-8 with or without BOM, or GB18030/GBK (detected and converted). Finds
 * the header row (cp_reader_header_row) and maps it to fields; a missing required column is an error
 * naming it. Records are then read one at a time, in bounded memory. */
cp_reader *cp_reader_open(const char *path, cp_error **err);
/* The same; the file may also be a pipe or a FIFO, read as records arrive.
 * When a signal interrupts a read that waits for input and *cancel is then
 * non-zero, reading stops with CP_E_INTERRUPTED (cancel may be NULL). */
cp_reader *cp_reader_open_cancellable(const char *path, const volatile sig_atomic_t *cancel,
                                      cp_error **err);
/* The same, also for workbooks, told by their first bytes: .xlsx (Office Open
 * XML as Excel and WPS write it) and .xls (BIFF). Of a workbook the sheet
 * named `sheet` is read, or the first visible worksheet when sheet is NULL
 * (a CSV file with a sheet name is a usage error). Cells come as a CSV
 * export would have them: dates by their number format as 2026-11-27,
 * formulas as their cached result; rows keep their spreadsheet numbers, and
 * record.line is the row. cp_reader_encoding() describes the workbook and
 * sheet. */
cp_reader *cp_reader_open_sheet(const char *path, const char *sheet, cp_error **err);
/* Both: a workbook's sheet (or a CSV file, pipe or FIFO) with reads that a
 * signal can cancel; sheet and cancel may be NULL. A pipe or FIFO is always
 * read as CSV text. */
cp_reader *cp_reader_open_ex(const char *path, const char *sheet,
                             const volatile sig_atomic_t *cancel, cp_error **err);
void cp_reader_free(cp_reader *r);

/* Reads the next record into *out (cleared first). Returns 1 when a record was
 * read, 0 at end of file, -1 on an error that stops reading (I/O, a field over
 * the size limit, an unterminated quote at end of file). Row-level defects that
 * still let reading go on (wrong number of cells, invalid text) are reported by
 * the checker, not here. */
int cp_reader_next(cp_reader *r, cp_record *out, cp_error **err);

/* Borrowed: the header cells as in the file, and their count. */
const char *const *cp_reader_header(const cp_reader *r, size_t *n);
/* Borrowed: the header cell used for a field ("姓名" or "name"), or NULL. */
const char *cp_reader_column(const cp_reader *r, cp_field f);
/* Borrowed: "UTF-8", "UTF-8 (BOM)" or "GB18030", or for a workbook
 * "xlsx workbook, sheet 名单". */
const char *cp_reader_encoding(const cp_reader *r);
/* Borrowed: the folder holding the CSV; photos are relative to it. */
const char *cp_reader_dir(const cp_reader *r);
/* Borrowed: the path given to cp_reader_open(). */
const char *cp_reader_path(const cp_reader *r);
/* The spreadsheet row taken as the header: the first of the first 10
 * non-blank rows that names every required column (title and note rows
 * above it are skipped). */
long cp_reader_header_row(const cp_reader *r);
/* How far reading has come, as the fraction of the file's bytes taken in so
 * far (read ahead by up to one chunk), for progress displays. Returns false
 * when the size is unknown (a pipe, a device). */
bool cp_reader_progress(const cp_reader *r, double *fraction);
/* Read from a pipe or FIFO and read to its end: the SHA-256 (64 hex digits)
 * of every byte that came through, as a regular file holding the same data
 * would have. NULL otherwise (a regular file: hash it; or not at the end).
 * Free with g_free(). */
char *cp_reader_stream_sha256(const cp_reader *r);

/* ----------------------------------------------------------------- profile */

typedef enum cp_photo_policy {
	CP_PHOTO_PRINTED, /* the photo is printed; every record needs one */
	CP_PHOTO_PASTED,  /* photos are pasted on paper stock by hand; may be absent */
} cp_photo_policy;

/* What to do with a field whose font lacks one of its characters (the field
 * is then set in a fallback face, layout.h): profile key font_fallback. */
typedef enum cp_fallback_policy {
	CP_FALLBACK_WARN,   /* set it in the fallback face, and warn (default) */
	CP_FALLBACK_REFUSE, /* refuse the record: every field in its own font */
} cp_fallback_policy;

typedef struct cp_profile cp_profile;

/* Loads an organization profile (see README, "Organization profile"). */
cp_profile *cp_profile_load(const char *path, cp_error **err);
void cp_profile_free(cp_profile *p);
const char *cp_profile_name(const cp_profile *p);       /* borrowed */
const char *cp_profile_prefix(const cp_profile *p);     /* 13 characters, borrowed */
const char *cp_profile_seal_path(const cp_profile *p);  /* absolute, or NULL */
cp_photo_policy cp_profile_photo_policy(const cp_profile *p);
cp_fallback_policy cp_profile_fallback_policy(const cp_profile *p);
/* photo_fit: photos as they come are taken (crop: another shape centre-cropped,
 * a file name differing in case used, an EXIF-turned phone photo turned
 * upright; each with a warning), or refused with the reason (refuse). */
typedef enum cp_photo_fit { CP_PHOTO_FIT_CROP, CP_PHOTO_FIT_REFUSE } cp_photo_fit;
cp_photo_fit cp_profile_photo_fit(const cp_profile *p);
/* The QR content for a record: the profile's pattern with {cert_no} (and
 * {name}, {org}) substituted. Free with free(). */
char *cp_profile_qr_content(const cp_profile *p, const cp_record *rec);
/* Optional provincial query URL, or NULL. Borrowed. */
const char *cp_profile_province_url(const cp_profile *p);

/* ----------------------------------------------------------------- checker */

typedef enum cp_severity { CP_SEV_ERROR, CP_SEV_WARNING } cp_severity;

typedef struct cp_problem {
	cp_severity severity;
	long row;           /* spreadsheet row (header = 1), 0 for the whole file */
	long line;          /* CSV line where the row starts */
	int field;          /* cp_field, or -1 */
	char *column;       /* the CSV header of that column, or NULL */
	char *value;        /* the offending value (ID numbers masked), or NULL */
	const char *rule;   /* stable rule id, e.g. "cert_no.prefix" (static) */
	const char *article;/* "第十三条" etc., or NULL (static) */
	char *message;      /* translated explanation */
} cp_problem;

typedef struct cp_problems {
	cp_problem *items;
	size_t len, cap;
} cp_problems;

void cp_problems_clear(cp_problems *ps);
/* Puts p (taken over: its strings are the list's now) at index at (at most
 * ps->len), the problems from there on one place further. */
void cp_problems_insert(cp_problems *ps, size_t at, cp_problem p);

typedef struct cp_checker cp_checker;

/* A checker applies every rule of SPEC.md to records of one batch, in order.
 * It remembers certificate numbers already seen (uniqueness in the batch).
 * The profile is borrowed and must outlive the checker. data_dir is the CSV's
 * folder (photos must stay inside it). */
cp_checker *cp_checker_new(const cp_profile *profile, const char *data_dir,
                           const cp_reader *reader, cp_error **err);
void cp_checker_free(cp_checker *c);

/* Checks rec, fills rec->value[] and the parsed parts, and appends any problem
 * to out. Returns true when the record is printable (no CP_SEV_ERROR). */
bool cp_checker_check(cp_checker *c, cp_record *rec, cp_problems *out);
/* Whether cp_checker_check() decodes each photo in full (the default) or
 * reads only its header (size, shape, format): a preview decodes its own
 * record's photo only. */
void cp_checker_decode_photos(cp_checker *c, bool decode);
/* Whether cp_checker_check() leaves the full decode of each photo it would
 * decode to cp_checker_decode_photo() (rec->photo_decode_due), so that
 * another thread can do it: every byte of a photo of its own per holder is
 * most of a batch's check. Off by default. */
void cp_checker_defer_photo_decode(cp_checker *c, bool defer);
/* The decode cp_checker_check() left for later (rec->photo_decode_due; does
 * nothing and returns true otherwise): false when the photo cannot be
 * decoded, with the problem put into out where cp_checker_check() would have
 * put it (out is the row's problems it filled) and the photo's value
 * cleared. Only reads the checker: any thread may call it, one per record. */
bool cp_checker_decode_photo(const cp_checker *c, cp_record *rec, cp_problems *out);

/* --------------------------------------------------------------- rendering */

typedef struct cp_template cp_template;

/* Loads a template (see README, "Template format"). Errors name file, line
 * and key. Relative paths inside resolve against the template's folder. */
cp_template *cp_template_load(const char *path, cp_error **err);
void cp_template_free(cp_template *t);
double cp_template_page_width_mm(const cp_template *t);
double cp_template_page_height_mm(const cp_template *t);

typedef enum cp_mode {
	CP_MODE_FULL,       /* static + variable layers on blank paper; seal area empty */
	CP_MODE_FILL,       /* variable layer only, for pre-printed stock, offset applied */
	CP_MODE_ELECTRONIC, /* everything, plus the seal image and background artwork */
} cp_mode;

/* Parses "full", "fill", "electronic". Returns -1 for anything else. */
int cp_mode_parse(const char *s);
const char *cp_mode_name(cp_mode m);

/* Geometry applied at output time, never by editing the template:
 * page point p becomes (p + offset) scaled about the page origin. */
typedef struct cp_output_opts {
	cp_mode mode;
	double offset_x_mm, offset_y_mm; /* printer calibration offset */
	double scale_x, scale_y;         /* printer calibration scale, 1.0 = none */
	double dpi;                      /* raster resolution, default 300 */
	/* Electronic mode: leave the seal out of the page, because a signature's
	 * widget shows it (signed PDFs; src/trust/sign.h). Default false. */
	bool seal_in_signature;
	/* PDF: the static layer is on a page of its own (cp_engine_draw_layer)
	 * that the writer puts under every page (cp_pdf_parts_layer), so
	 * cp_engine_draw leaves it out. Default false. */
	bool layer_apart;
} cp_output_opts;

/* Defaults: full mode, no offset, scale 1, 300 dpi. */
void cp_output_opts_init(cp_output_opts *o);

/* The data folder (fonts/, templates/) and the message catalogue folder
 * (bind the "certpress" text domain to it): $CERTPRESS_DATADIR and
 * $CERTPRESS_LOCALEDIR when set, else found from the running program's own
 * location: <prefix>/bin/PROG reads <prefix>/share/certpress and
 * <prefix>/share/locale; <top>/build/PROG, in a build tree, reads <top> and
 * <top>/build/locale. Borrowed strings. */
const char *cp_datadir(void);
const char *cp_localedir(void);

/* Fonts: a private fontconfig configuration built from the project's fonts/
 * manifest (checksums verified), so machine fonts never change the output.
 * fonts_dir NULL: cp_datadir()/fonts. extra_dir (may be NULL) adds an
 * organization's own fonts ahead of the defaults. */
typedef struct cp_fonts cp_fonts;
cp_fonts *cp_fonts_new(const char *fonts_dir, const char *extra_dir, cp_error **err);
void cp_fonts_free(cp_fonts *f);

/* An engine lays records out on a template for one organization. It borrows
 * the template, profile and fonts, which must outlive it. */
typedef struct cp_engine cp_engine;
cp_engine *cp_engine_new(const cp_template *t, const cp_profile *p, cp_fonts *f,
                         cp_error **err);
/* Flags of cp_engine_new_ex(). */
enum {
	/* The engine never draws an electronic page with the seal on it (a
	 * paper run or preview, a signed PDF whose signature carries the
	 * seal): the seal image is not decoded, and such a page gets none. The
	 * profile has checked that the file is there. */
	CP_ENGINE_NO_SEAL = 1u << 0,
};
cp_engine *cp_engine_new_ex(const cp_template *t, const cp_profile *p, cp_fonts *f,
                            unsigned flags, cp_error **err);
void cp_engine_free(cp_engine *e);
/* A signed QR code (profile [signing] qr_signed): fn returns what is appended
 * to each record's query address, the signature over it and the record's
 * fields (src/trust/qrtoken.h: "#cp1.TOKEN"; g_free()), or NULL with err set.
 * Called from whichever thread lays the record out. fn NULL: none. */
typedef char *(*cp_qr_sign_fn)(const cp_record *rec, const char *url, void *ud, cp_error **err);
void cp_engine_set_qr_signer(cp_engine *e, cp_qr_sign_fn fn, void *ud);

/* A laid-out certificate: every element measured and positioned. */
typedef struct cp_page cp_page;

/* Lays a checked record out. Fails with CP_E_REFUSED naming the field when
 * text cannot fit (after wrapping and shrinking to the element's minimum) or
 * when a character has no glyph in any configured font (naming it and its code
 * point), so that no page ever needs completing by hand. */
cp_page *cp_engine_layout(cp_engine *e, const cp_record *rec, cp_error **err);
void cp_page_free(cp_page *pg);

/* Draws a page onto the caller's cairo_t, whose user space must be in
 * millimetres with the origin at the page's top-left corner. The output
 * options' offset and scale are applied here. */
void cp_engine_draw(cp_engine *e, const cp_page *pg, cairo_t *cr,
                    const cp_output_opts *o);
/* Draws only the layer a PDF shares (the elements the same on every page
 * that meet no earlier per-record element: the static art, and the fields
 * the profile fills; in fill mode only those fields), as cp_engine_draw()
 * draws it under pg's own elements, onto a PDF page of its own. False,
 * drawing nothing, when there is none: a target other than a PDF, a mode
 * that draws none of those elements. */
bool cp_engine_draw_layer(cp_engine *e, const cp_page *pg, cairo_t *cr,
                          const cp_output_opts *o);

/* Pages drawn one after another on one raster (a folder of PNGs, one raster
 * per worker). The first cp_engine_redraw() draws the whole page on the
 * white raster and keeps, for each element that changes from record to
 * record, the pixels under it: the paper and the static layer. Each later
 * call puts those back and draws only those elements, each clipped to the
 * whole device pixels around its box (0.5 mm beyond it, as far as a text's
 * ink may reach) that are
 * put back next time, so nothing of one holder can stay on the next page.
 * The static elements drawn once are those a PDF shares as its form layer
 * (they meet no earlier per-record element), so the raster is the one a
 * fresh cp_engine_draw() would give, pixel for pixel (tests/cli/render.sh
 * compares a folder with single pages). */
typedef struct cp_redraw cp_redraw;
cp_redraw *cp_redraw_new(void);
void cp_redraw_free(cp_redraw *r);
/* cr: on the raster of r's first call (user space as for cp_engine_draw),
 * with the same engine, options and template every call. */
void cp_engine_redraw(cp_engine *e, cp_redraw *r, const cp_page *pg, cairo_t *cr,
                      const cp_output_opts *o);

/* ---- outputs ---- */

/* Document information written into a PDF's /Info; any member may be NULL. */
typedef struct cp_doc_info {
	const char *title, *author, *subject, *creator, *keywords;
} cp_doc_info;

/* A batch PDF: pages stream out to a temporary file beside path as they are
 * finished (memory stays flat), every page exactly width_mm x height_mm. On
 * commit the file gets /ViewerPreferences << /PrintScaling /None >> (so a
 * viewer does not "fit to page" a certificate), is synced and renamed into
 * place; until then an existing file at path is untouched. The creation date
 * is now, or SOURCE_DATE_EPOCH when set (reproducible output). path must not
 * be a symlink. Free with cp_pdf_writer_commit() or cp_pdf_writer_abort(). */
typedef struct cp_pdf_writer cp_pdf_writer;
cp_pdf_writer *cp_pdf_writer_new(const char *path, double width_mm, double height_mm,
                                 const cp_doc_info *info, cp_error **err);
/* Starts a page. The cairo_t is borrowed until cp_pdf_writer_end_page(); its
 * user space is in millimetres with the origin at the top-left corner. */
cairo_t *cp_pdf_writer_begin_page(cp_pdf_writer *w, cp_error **err);
bool cp_pdf_writer_end_page(cp_pdf_writer *w, cp_error **err);
/* Pages written so far. */
int cp_pdf_writer_page_count(const cp_pdf_writer *w);
/* Finishes the document and puts it in place. Frees w whatever happens; on
 * failure nothing is left at path that was not there before. */
bool cp_pdf_writer_commit(cp_pdf_writer *w, cp_error **err);
/* Removes the temporary file and frees w. NULL is allowed. */
void cp_pdf_writer_abort(cp_pdf_writer *w);

/* A batch PDF drawn by several threads at once: each thread draws its pages
 * into its own part (a Cairo surface over an unlinked temporary file beside
 * path), and the commit joins the parts into one file at path, pages in the
 * order cp_pdf_parts_order() was told, objects shared by the pages of a part
 * (fonts, photos) stored once per part, the static layer once per file
 * (cp_pdf_parts_layer). Same guarantees as
 * cp_pdf_writer: page size, /PrintScaling /None, creation date, nothing at
 * path until a successful commit.
 * Threads: the functions taking a part may be called from any thread, one
 * thread per part at a time; the others from the thread that created p. */
#define CP_PDF_MAX_PARTS 64
typedef struct cp_pdf_parts cp_pdf_parts;
cp_pdf_parts *cp_pdf_parts_new(const char *path, double width_mm, double height_mm,
                               const cp_doc_info *info, int nparts, cp_error **err);
/* A part is written as files of at most this many pages each. Cairo holds
 * about 250 bytes per page until its document is finished (an entry for each
 * page's QR image among them), so finishing a file every so many pages keeps
 * a batch of any length flat in memory. Each file costs fonts once more:
 * shared resources are stored once per file (about 1 MB of font subsets a
 * file for names in 2,000 different characters), and Cairo reads a CFF
 * font's whole table when the file first uses it and again when it subsets
 * it (20 MB for Noto Serif CJK, the fallback for rare characters): some
 * 0.25 s of CPU a file. 6,000 pages: 1.5 MB a worker, 2 MB less peak than
 * 10,000 at 100,000 certificates for 3-4 % more CPU and 1 % more bytes
 * (bench/README.md); a batch of up to 12,000 on two workers is one file
 * each. */
#define CP_PDF_PART_PAGES 6000
/* Changes that number for p (tests; before the first page). */
void cp_pdf_parts_set_part_pages(cp_pdf_parts *p, long pages);
/* Starts a page of part (0..nparts-1); the cairo_t is borrowed until
 * cp_pdf_parts_end_page(), its user space in millimetres from the top left. */
cairo_t *cp_pdf_parts_begin_page(cp_pdf_parts *p, int part, cp_error **err);
bool cp_pdf_parts_end_page(cp_pdf_parts *p, int part, cp_error **err);
/* Says that the open page of part sets text in a fallback face (a field
 * with a character its primary face lacks); before cp_pdf_parts_end_page(). */
void cp_pdf_parts_page_uses_fallback(cp_pdf_parts *p, int part);
/* The static layer drawn once, on a page of its own, and put under every
 * page by the commit (cp_pdf_join_under, src/output/pdfjoin.h): Cairo
 * replays a Form XObject's drawing for every page that paints it, to
 * analyse the page, which cost 13 % of a batch (bench/README.md). The first
 * call draws it with draw(ud, cr) (cr as for a page) and every call then
 * returns 1: draw the pages with cp_output_opts.layer_apart. 0 when draw
 * returned false (no layer: draw the pages as usual); -1 with err when the
 * page could not be written. Any thread. */
typedef bool (*cp_pdf_layer_fn)(void *ud, cairo_t *cr);
int cp_pdf_parts_layer(cp_pdf_parts *p, cp_pdf_layer_fn draw, void *ud, cp_error **err);
/* Completes part (fonts are subset here, the costly step): from the part's
 * own thread when it has drawn its last page, so parts finish in parallel.
 * The commit finishes any part not finished yet. */
bool cp_pdf_parts_finish(cp_pdf_parts *p, int part, cp_error **err);
/* Appends the next pages pages of part to the final page order. */
bool cp_pdf_parts_order(cp_pdf_parts *p, int part, long pages, cp_error **err);
/* Pages placed in the order so far. */
long cp_pdf_parts_page_count(const cp_pdf_parts *p);
/* A flag (set by a signal handler, say) that makes the commit stop with
 * CP_E_INTERRUPTED before the join and before the output is put in place:
 * joining a long batch takes seconds. NULL: none. */
void cp_pdf_parts_set_cancel(cp_pdf_parts *p, const volatile sig_atomic_t *flag);
/* Joins the parts and puts the file in place; frees p whatever happens. */
bool cp_pdf_parts_commit(cp_pdf_parts *p, cp_error **err);
/* Removes every temporary file and frees p. NULL is allowed. */
void cp_pdf_parts_abort(cp_pdf_parts *p);

/* Raster pages. Limits: at most CP_RASTER_MAX_SIDE pixels a side. */
#define CP_RASTER_MAX_SIDE 20000
/* A white RGB24 page of width_mm x height_mm at dpi (rounded to whole
 * pixels). *cr (owned by the caller: cairo_destroy) draws in millimetres,
 * origin top-left. Destroy the surface with cairo_surface_destroy(). */
cairo_surface_t *cp_raster_new(double width_mm, double height_mm, double dpi,
                               cairo_t **cr, cp_error **err);
/* Writes an image surface (RGB24, or ARGB32 which is un-premultiplied and
 * keeps its alpha) as an 8-bit PNG with a pHYs chunk for dpi, atomically. */
bool cp_png_write(cairo_surface_t *surface, const char *path, double dpi, cp_error **err);
/* The same for one thread writing page after page of one template: cache
 * keeps the compressed rows that repeat from one page to the next (the
 * static art), compared byte for byte before reuse; tens of MB. Use a
 * cache from one thread at a time. */
typedef struct cp_zrun_cache cp_png_cache;
cp_png_cache *cp_png_cache_new(void);
void cp_png_cache_free(cp_png_cache *cache);
bool cp_png_write_cached(cairo_surface_t *surface, const char *path, double dpi,
                         cp_png_cache *cache, cp_error **err);

/* Draws the printer calibration page (rulers on all four edges, crosshairs
 * 20 mm from each corner and at the centre, offset scales near each edge and
 * a bilingual instruction) on cr, whose user space is in millimetres with the
 * origin top-left. o's offset and scale are applied (so a saved profile can
 * be checked); o may be NULL. Fails when the page is smaller than
 * 100 x 100 mm or cairo reports an error. */
bool cp_calibrate_draw(cairo_t *cr, double width_mm, double height_mm,
                       const cp_output_opts *o, cp_error **err);
/* How far the calibration page's offset scales reach either way (mm): the
 * largest offset read from the page. calibrate --save refuses a larger one
 * unless forced (up to CP_PRINTER_MAX_OFFSET_MM). */
#define CP_CALIBRATE_SCALE_MM 5.0

/* Printer profiles: dir/NAME.conf holding
 *     [printer]
 *     offset = X Y      millimetres, each within +-CP_PRINTER_MAX_OFFSET_MM
 *     scale = SX SY     each within CP_PRINTER_MIN_SCALE..CP_PRINTER_MAX_SCALE
 * (both optional when loading: 0 0 and 1 1). dir NULL means
 * g_get_user_config_dir()/certpress/printers. NAME is 1-64 characters of
 * [A-Za-z0-9._-] not starting with '.'. Loading sets only the offset and
 * scale members of *o. */
#define CP_PRINTER_MAX_OFFSET_MM 20.0
#define CP_PRINTER_MIN_SCALE 0.9
#define CP_PRINTER_MAX_SCALE 1.1
bool cp_printer_load(const char *name, const char *dir, cp_output_opts *o, cp_error **err);
/* Saves (atomically; creating dir when missing) the offset and scale of o. */
bool cp_printer_save(const char *name, const char *dir, const cp_output_opts *o,
                     cp_error **err);
/* The profile's file path. Free with free(). NULL with CP_E_USAGE for a bad
 * name. */
char *cp_printer_path(const char *name, const char *dir, cp_error **err);

/* ---- ledger ---- */
/*
 * The print ledger (印制、核发、销毁、补发和余存台账, 第十八条): an SQLite file
 * recording blank stock received, every page printed for issue, spoiled
 * sheets, reissues (第十七条), destruction and revocation (第二十四条).
 * It holds personal data (names, masked ID numbers): it is created owner-only
 * (file 0600, folder 0700) and never stores a whole ID number.
 *
 * A stock serial (证书印制流水码) is an alphanumeric prefix followed by a
 * fixed-width number, e.g. GD2026000001; a range is two serials with the same
 * prefix and width.
 *
 * Printing a batch:
 *   l = cp_ledger_open(path, -1, &err);
 *   b = cp_ledger_batch_begin(l, NULL, csv_path, &err);  // no lock
 *   for each record: cp_ledger_batch_check(b, &p, &err);  // refusals first
 *   for each page:   cp_ledger_batch_add(b, &p, &err);    // after rendering
 *   cp_ledger_batch_prepare(b, &err);  // write lock, checked again, recorded
 *   rename the output file into place;
 *   cp_ledger_batch_commit(b, &err);  // or cp_ledger_batch_abort(b)
 * Until the commit nothing is visible to others, and a process killed at any
 * point leaves the ledger as it was. A batch holds no lock while it is
 * checked and printed (its checks read one snapshot; its pages wait in an
 * anonymous temporary file); the ledger is locked for writing only from the
 * prepare to the commit.
 */

typedef struct cp_ledger cp_ledger;
typedef struct cp_ledger_batch cp_ledger_batch;

#define CP_LEDGER_BUSY_TIMEOUT_MS 60000 /* default wait for another writer */

/* $XDG_DATA_HOME/certpress/ledger.sqlite (g_get_user_data_dir()).
 * Free with free(). */
char *cp_ledger_default_path(void);

/* Opens (creating when absent) a ledger. path NULL means the default path.
 * busy_timeout_ms < 0 means CP_LEDGER_BUSY_TIMEOUT_MS. A new file is created
 * 0600 and a missing folder 0700. Refuses a file of a newer schema version
 * or one that is not a certpress ledger; migrates an older one. The operator
 * recorded with every entry is $USER until cp_ledger_set_operator(). */
cp_ledger *cp_ledger_open(const char *path, int busy_timeout_ms, cp_error **err);
/* The ledger may also live on a PostgreSQL server, shared by many print
 * stations: path is then a libpq connection string ("postgresql://host/db",
 * "postgres://…" or "host=… dbname=…"; cp_ledger_is_server() tells). Its
 * password comes from ~/.pgpass or PGPASSFILE; a password in path is
 * refused. cp_ledger_open() needs the schema made by cp_ledger_init(), which
 * needs the right to create tables; for a file both are the same. */
cp_ledger *cp_ledger_init(const char *path, int busy_timeout_ms, cp_error **err);
bool cp_ledger_is_server(const char *path);
/* Moves every entry of `from` into `to`, which must be empty (e.g. an SQLite
 * file into a PostgreSQL server made with cp_ledger_init()), in one
 * transaction that commits only when the export and the balance of `to`
 * read exactly as those of `from`. *entries (may be NULL): rows moved. */
bool cp_ledger_migrate(cp_ledger *from, cp_ledger *to, int64_t *entries, cp_error **err);
/* Closes the ledger; an open batch is rolled back first. NULL is allowed. */
void cp_ledger_free(cp_ledger *l);
/* Borrowed: the file's path. */
const char *cp_ledger_path(const cp_ledger *l);
/* Sets the operator name recorded from now on (copied). NULL or "" keeps the
 * current one. */
void cp_ledger_set_operator(cp_ledger *l, const char *operator_name);

/* One printed page. Strings are borrowed for the call only. */
typedef struct cp_ledger_print {
	const char *cert_no;        /* 证书编号, required */
	const char *name;           /* holder's name, required for _add */
	const char *id_masked;      /* cp_mask_id() of the ID number; a value with
	                               more than 8 characters unmasked is refused */
	const char *level;          /* e.g. "三级/高级工", required for _add */
	const char *occupation;     /* required for _add */
	const char *serial;         /* stock serial consumed, or NULL/"" */
	const char *file;           /* output file as finally named, for _add */
	int page;                   /* 1-based page in that file, for _add */
	const char *sha256;         /* 64 hex digits of the page content, for _add */
	const char *reissue_reason; /* non-NULL: a reissue (第十七条) */
	bool old_returned;          /* reissue: the old sheet was taken back */
} cp_ledger_print;

/* Begins a batch; it takes no lock (see cp_ledger_batch_prepare()). name NULL
 * names it after note (the input file: its name without extension and
 * today's date, "-2"… when taken), or generates a unique one without a note;
 * a name already in the ledger is refused. note (may be NULL) is kept with the batch,
 * e.g. the CSV file. One batch at a time per ledger handle. Finish it with
 * cp_ledger_batch_commit() or cp_ledger_batch_abort(). */
cp_ledger_batch *cp_ledger_batch_begin(cp_ledger *l, const char *name, const char *note,
                                       cp_error **err);
/* Borrowed: the batch's name. */
const char *cp_ledger_batch_name(const cp_ledger_batch *b);
/* What the batch is made from, recorded with it (call before the first
 * page): the input file by absolute path and its SHA-256 (64 hex digits),
 * the printer profile and a line describing the calibration the pages were
 * drawn with. Any may be NULL. */
bool cp_ledger_batch_set_source(cp_ledger_batch *b, const char *input, const char *input_sha256,
                                const char *printer_profile, const char *calibration,
                                cp_error **err);
/* The input's SHA-256 once known: an input read from a pipe is hashed as it
 * is read, to its end. Allowed until the batch is prepared. */
bool cp_ledger_batch_set_input_sha256(cp_ledger_batch *b, const char *sha256, cp_error **err);
/* The template the pages were laid out with: absolute path and SHA-256. */
bool cp_ledger_batch_set_template(cp_ledger_batch *b, const char *path, const char *sha256,
                                  cp_error **err);
/* Checks that p->cert_no may be printed (and p->serial used) in this batch and
 * reserves both. Refuses (CP_E_LEDGER, naming the number and the earlier
 * batch and time) a number already issued unless p->reissue_reason is given,
 * a reissue of a number never issued, a revoked number, a number or serial
 * twice in the batch, and a serial not received or already used, spoiled or
 * destroyed. A number whose every sheet was spoiled may be printed again.
 * Only cert_no, serial and reissue_reason are looked at. */
bool cp_ledger_batch_check(cp_ledger_batch *b, const cp_ledger_print *p, cp_error **err);
/* Asks the ledger ahead, in one round trip, what cp_ledger_batch_check()
 * will want to know of each of these numbers (at most CP_LEDGER_AHEAD_MAX;
 * NULL, malformed or repeated ones are skipped): on a PostgreSQL server one
 * query per record would cost a round trip each while the workers draw. The
 * answers come from the batch's snapshot, as the checks' own; each is used
 * by the next check of its number, and a call drops those of the previous
 * call not used. Does nothing on a ledger file. */
#define CP_LEDGER_AHEAD_MAX 64
bool cp_ledger_batch_ahead(cp_ledger_batch *b, const char *const *cert_nos, size_t n,
                           cp_error **err);
/* Records one printed page (running the same checks when the number was not
 * checked before). Every field is validated. */
bool cp_ledger_batch_add(cp_ledger_batch *b, const cp_ledger_print *p, cp_error **err);
/* Number of pages added so far. */
size_t cp_ledger_batch_count(const cp_ledger_batch *b);
/* The next blank sheet of received stock for this batch, in stock order
 * (*serial, free with g_free()): the first call starts at from (a received
 * serial) or, when from is NULL, after the sheet the ledger last printed on
 * (the first sheet received when none was); every call goes on from the
 * previous one. Sheets issued, spoiled, destroyed or reserved in this batch
 * are skipped. Refuses (CP_E_LEDGER) when no stock is left. The serial still
 * has to be checked (cp_ledger_batch_check) to be reserved. */
bool cp_ledger_batch_next_serial(cp_ledger_batch *b, const char *from, char **serial,
                                 cp_error **err);
/* Records the batch in one write transaction, waiting up to the busy timeout
 * for another writer: every page is checked again under the lock (another
 * station may have issued a number or used a serial meanwhile: CP_E_LEDGER,
 * naming it) and inserted. Nothing can be checked or added afterwards; the
 * transaction stays open until cp_ledger_batch_commit() or _abort(). On
 * failure nothing is recorded; abort the batch. */
bool cp_ledger_batch_prepare(cp_ledger_batch *b, cp_error **err);
/* Prepares (when not done yet), commits and frees b (also on failure, after
 * rolling back). */
bool cp_ledger_batch_commit(cp_ledger_batch *b, cp_error **err);
/* Rolls back and frees b. NULL is allowed. */
void cp_ledger_batch_abort(cp_ledger_batch *b);

/* Records a spoiled sheet with the batch (call before any page is checked):
 * the same rules as cp_ledger_spoil(), cert_no required, checked now
 * against the batch's snapshot and again when the batch is prepared, and
 * recorded in the batch's transaction before its pages. The number on that
 * sheet may then be checked and added as printed again ("reprint") in this
 * batch: the spoil and the new sheet are recorded together, or neither. */
bool cp_ledger_batch_spoil(cp_ledger_batch *b, const char *serial, const char *cert_no,
                           const char *reason, cp_error **err);

/* Records blank stock received: serials first..last inclusive, date
 * "YYYY-MM-DD" (NULL = today, never in the future), note may be NULL.
 * A range overlapping stock already received is refused. *count (may be
 * NULL) receives the number of sheets. */
bool cp_ledger_stock_add(cp_ledger *l, const char *first, const char *last,
                         const char *date, const char *note, int64_t *count,
                         cp_error **err);
/* Records a spoiled sheet (misfeed, smudge). serial: a received sheet, blank
 * or printed; cert_no, when given, must match the certificate printed on it.
 * serial NULL spoils the last issued sheet of cert_no printed without a
 * serial. The certificate on a spoiled sheet may then be printed again
 * without becoming a reissue. */
bool cp_ledger_spoil(cp_ledger *l, const char *serial, const char *cert_no,
                     const char *reason, cp_error **err);
/* Records destruction of sheets first..last (last NULL = first only): each
 * must be received and blank, spoiled, or the old sheet taken back by a
 * reissue. *count (may be NULL) receives the number destroyed. */
bool cp_ledger_destroy(cp_ledger *l, const char *first, const char *last,
                       const char *reason, int64_t *count, cp_error **err);
/* Revokes an issued certificate (第二十四条); it can never be printed again. */
bool cp_ledger_revoke(cp_ledger *l, const char *cert_no, const char *reason,
                      cp_error **err);

/* Stock balance: received = issued + spoiled + destroyed + remaining. A sheet
 * printed for issue, reprint or reissue counts as issued until it is spoiled
 * or destroyed; a spoiled sheet counts as spoiled until destroyed. */
/* received = issued + returned + spoiled + destroyed + remaining: a sheet
 * printed on and later taken back from its holder at a reissue
 * (--old-returned, 收回) counts as returned until it is destroyed. */
typedef struct cp_ledger_balance {
	int64_t received, issued, spoiled, destroyed, remaining;
	int64_t returned;
} cp_ledger_balance;

/* The balance at the end of day `date` ("YYYY-MM-DD"; NULL = now). */
bool cp_ledger_balance_at(cp_ledger *l, const char *date, cp_ledger_balance *out,
                          cp_error **err);
/* A report for the auditors: activity from `from` to `to` (inclusive
 * "YYYY-MM-DD"; either may be NULL for open-ended), every batch in the
 * period, and the stock balance at the period's end. Plain text or JSON.
 * Free with free(). */
char *cp_ledger_report(cp_ledger *l, const char *from, const char *to, bool json,
                       cp_error **err);
/* The whole history of one certificate, oldest first, as text lines.
 * Refuses (CP_E_LEDGER) a number the ledger does not know. Free with free(). */
char *cp_ledger_history(cp_ledger *l, const char *cert_no, cp_error **err);
/* The state of a certificate number for verification (第二十四条): not in the
 * ledger, issued, reissued (a new sheet of the same number) or revoked; with
 * revoke_reason (may be NULL) set to the recorded reason (g_free) when
 * revoked. */
typedef enum cp_ledger_state {
	CP_LEDGER_UNKNOWN, CP_LEDGER_ISSUED, CP_LEDGER_REISSUED, CP_LEDGER_REVOKED,
} cp_ledger_state;
bool cp_ledger_cert_state(cp_ledger *l, const char *cert_no, cp_ledger_state *state,
                          char **revoke_reason, cp_error **err);
/* Writes every entry as CSV (RFC 4180, UTF-8 with BOM so that spreadsheet
 * programs read the Chinese text, CRLF line ends), oldest first. */
bool cp_ledger_export_csv(cp_ledger *l, FILE *out, cp_error **err);
/* The same into path, atomically (a temporary file renamed into place), 0600. */
bool cp_ledger_export_csv_file(cp_ledger *l, const char *path, cp_error **err);
/* Copies the ledger with SQLite's online backup API into path (atomically,
 * 0600): a consistent single-file copy that cp_ledger_open() accepts. */
bool cp_ledger_backup(cp_ledger *l, const char *path, cp_error **err);

/* A PDF sent to a printer (certpress print): where, the printer's job id and
 * how the job ended. Strings are borrowed for the call only. */
typedef struct cp_ledger_job {
	const char *batch;   /* the batch printed, or NULL for a file of no batch */
	const char *file;    /* the PDF sent, required */
	const char *dest;    /* CUPS queue or printer URI, required */
	const char *profile; /* printer calibration profile of the pages, or NULL */
	int copies;          /* 1 or more */
	int job_id;          /* the printer's job id; 0: none was given */
	const char *state;   /* completed, canceled, aborted, refused,
	                        unreachable, lost or interrupted */
	const char *message; /* the error when not completed, or NULL */
} cp_ledger_job;
/* Records a print job in its own write transaction. An unknown batch or
 * state is refused (CP_E_USAGE). */
bool cp_ledger_job_add(cp_ledger *l, const cp_ledger_job *j, cp_error **err);
/* The name of the latest batch whose pages were written to file (as given,
 * or the same file by its absolute path): *name NULL when none. Free *name
 * with g_free(). */
bool cp_ledger_batch_of_file(cp_ledger *l, const char *file, char **name, cp_error **err);

/* Where a printed certificate came from, to print it again: its latest
 * sheet not spoiled (cert_no given), or page `page` of batch `batch`. */
typedef struct cp_ledger_source {
	char *cert_no;
	char *serial;          /* the sheet's stock serial, or NULL */
	char *batch;
	int page;
	char *input;           /* the batch's input file, absolute; NULL before schema 3 */
	char *input_sha256;    /* its SHA-256 when rendered, or NULL */
	char *printer_profile; /* or NULL */
	char *template_path;   /* the template, absolute, or NULL */
	char *template_sha256; /* its SHA-256 when rendered, or NULL */
} cp_ledger_source;
/* Refuses (CP_E_LEDGER) a number with no standing sheet, or no such page. */
bool cp_ledger_source_of(cp_ledger *l, const char *cert_no, const char *batch, int page,
                         cp_ledger_source *out, cp_error **err);
void cp_ledger_source_clear(cp_ledger_source *src);

#ifdef __cplusplus
}
#endif
#endif /* CERTPRESS_H */
