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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
	long row;                    /* spreadsheet row as Excel/WPS number it: the
	                                header is row 1, the first record row 2 */
	long line;                   /* physical CSV line on which the row starts */
	char **cells;                /* every cell of the row as read, UTF-8 */
	size_t ncells;
	char *raw[CP_FIELD_COUNT];   /* the cell of each known field, NULL if no column */
	char *value[CP_FIELD_COUNT]; /* normalised, printable values (set by the checker):
	                                level "三级/高级工", job type "--" when blank,
	                                issue date "2026年11月27日", photo resolved path */
	int level;                   /* 1..5 once checked, 0 before */
	int year, month, day;        /* issue date once checked */
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
 * UTF-8 with or without BOM, or GB18030/GBK (detected and converted). Reads
 * the header row and maps it to fields; a missing required column is an error
 * naming it. Records are then read one at a time, in bounded memory. */
cp_reader *cp_reader_open(const char *path, cp_error **err);
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
/* Borrowed: "UTF-8", "UTF-8 (BOM)" or "GB18030". */
const char *cp_reader_encoding(const cp_reader *r);
/* Borrowed: the folder holding the CSV; photos are relative to it. */
const char *cp_reader_dir(const cp_reader *r);
/* Borrowed: the path given to cp_reader_open(). */
const char *cp_reader_path(const cp_reader *r);

/* ----------------------------------------------------------------- profile */

typedef enum cp_photo_policy {
	CP_PHOTO_PRINTED, /* the photo is printed; every record needs one */
	CP_PHOTO_PASTED,  /* photos are pasted on paper stock by hand; may be absent */
} cp_photo_policy;

typedef struct cp_profile cp_profile;

/* Loads an organization profile (see README, "Organization profile"). */
cp_profile *cp_profile_load(const char *path, cp_error **err);
void cp_profile_free(cp_profile *p);
const char *cp_profile_name(const cp_profile *p);       /* borrowed */
const char *cp_profile_prefix(const cp_profile *p);     /* 13 characters, borrowed */
const char *cp_profile_seal_path(const cp_profile *p);  /* absolute, or NULL */
cp_photo_policy cp_profile_photo_policy(const cp_profile *p);
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
} cp_output_opts;

/* Defaults: full mode, no offset, scale 1, 300 dpi. */
void cp_output_opts_init(cp_output_opts *o);

/* Fonts: a private fontconfig configuration built from the project's fonts/
 * manifest (checksums verified), so machine fonts never change the output.
 * extra_dir (may be NULL) adds an organization's own fonts ahead of the
 * defaults. */
typedef struct cp_fonts cp_fonts;
cp_fonts *cp_fonts_new(const char *fonts_dir, const char *extra_dir, cp_error **err);
void cp_fonts_free(cp_fonts *f);

/* An engine lays records out on a template for one organization. It borrows
 * the template, profile and fonts, which must outlive it. */
typedef struct cp_engine cp_engine;
cp_engine *cp_engine_new(const cp_template *t, const cp_profile *p, cp_fonts *f,
                         cp_error **err);
void cp_engine_free(cp_engine *e);

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

/* ----------------------------------------------------------------- outputs */

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

/* Draws the printer calibration page (rulers on all four edges, crosshairs
 * 20 mm from each corner and at the centre, offset scales near each edge and
 * a bilingual instruction) on cr, whose user space is in millimetres with the
 * origin top-left. o's offset and scale are applied (so a saved profile can
 * be checked); o may be NULL. Fails when the page is smaller than
 * 100 x 100 mm or cairo reports an error. */
bool cp_calibrate_draw(cairo_t *cr, double width_mm, double height_mm,
                       const cp_output_opts *o, cp_error **err);

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

#ifdef __cplusplus
}
#endif
#endif /* CERTPRESS_H */
