/* SPDX-License-Identifier: MIT */
/*
 * Check reports: what a check run found, for people and for programs.
 *
 *  - cp_report_text(): one line per problem, then a summary line (terminal).
 *  - cp_report_json(): one JSON document (scripts, CI).
 *  - cp_rejects_*: the refused rows as a CSV the operator corrects and feeds
 *    back in.
 *  - cp_html_*: one self-contained page to look a batch through, with a
 *    thumbnail of every printable certificate.
 *
 * Personal data: ID numbers appear masked in the text, JSON and HTML reports
 * (cp_problem.value is masked by the checker; the HTML masks the record's ID
 * itself with cp_mask_id()). The rejects CSV is the one exception: it re-emits
 * the refused rows exactly as read, full ID numbers included, because it is
 * the operator's own data to correct and re-submit. Files written here are
 * therefore created with mode 0600.
 *
 * The file writers are atomic: they write to a temporary file in the same
 * folder and rename it over the destination on *_close(); *_abort(), or a
 * failed *_close(), removes the temporary file and leaves any earlier file at
 * the destination untouched.
 */
#ifndef CP_REPORT_H
#define CP_REPORT_H

#include <glib.h>
#include <stdio.h>

#include "certpress.h"

/* One run's summary. Strings are borrowed; encoding may be NULL. */
typedef struct cp_report_summary {
	long records;  /* data rows read */
	long valid;    /* printable rows */
	long refused;  /* rows with at least one error */
	long warnings; /* problems of severity CP_SEV_WARNING */
	const char *csv_path;
	const char *encoding; /* cp_reader_encoding(), or NULL */
	long header_row;      /* cp_reader_header_row(); 0 when unknown */
} cp_report_summary;

/* Header of the column the rejects CSV adds after the original ones. The
 * reader must ignore it (it is not a field) so that a corrected rejects file
 * can be checked again as it is. */
#define CP_REJECTS_REASON_COLUMN "拒绝原因"

/* Writes one line per problem, in the order given:
 *   batch.csv:7: row 6, column 证件号码 (id_number): [id.check_digit 第十一条] MESSAGE (value 4401**********123X)
 * (warnings carry "warning:" before the bracket; absent parts are left out),
 * then the summary line. ps may be NULL (no problems). Write errors are the
 * caller's to notice with ferror(out). */
void cp_report_text(FILE *out, const cp_problems *ps, const cp_report_summary *s);
/* The two parts of cp_report_text(): the problem lines (csv_path, may be
 * NULL, in front of each), and the summary line. */
void cp_report_text_lines(FILE *out, const cp_problems *ps, const char *csv_path);
void cp_report_text_summary(FILE *out, const cp_report_summary *s);

/* Writes the JSON document
 *   {"csv":…, "encoding":…|null, "header_row":N|null,
 *    "summary":{"records":N,"valid":N,"refused":N,"warnings":N},
 *    "problems":[{"severity":"error"|"warning","row":N|null,"line":N|null,
 *                 "field":"id_number"|null,"column":"证件号码"|null,
 *                 "value":"…"|null,"rule":"…","article":"…"|null,
 *                 "message":"…"}, …]}
 * followed by a newline. Invalid UTF-8 in any string becomes U+FFFD, so the
 * output is always valid JSON. ps may be NULL. Fails with CP_E_IO when out
 * cannot be written. */
bool cp_report_json(FILE *out, const cp_problems *ps, const cp_report_summary *s,
                    cp_error **err);

/* ------------------------------------------------------------ rejects CSV */

typedef struct cp_rejects cp_rejects;

/* Starts a rejects CSV at path: UTF-8 with BOM (Excel opens it as UTF-8),
 * CRLF line ends, RFC 4180 quoting, the given header (borrowed, copied out at
 * once) followed by CP_REJECTS_REASON_COLUMN. nheader must be at least 1.
 * Returns NULL with CP_E_IO when the temporary file cannot be created. Finish
 * with cp_rejects_close() or cp_rejects_abort(). */
cp_rejects *cp_rejects_open(const char *path, const char *const *header, size_t nheader,
                            cp_error **err);

/* Appends rec's cells as read (rec->cells; a short row is padded with empty
 * cells to the header's width, the cells of a long row are all kept) and the
 * reason: the messages of ps_of_this_row's errors joined with "；" (warnings
 * are left out). ps_of_this_row may be NULL. Both are borrowed. */
bool cp_rejects_add(cp_rejects *r, const cp_record *rec, const cp_problems *ps_of_this_row,
                    cp_error **err);

/* Flushes, syncs and renames the file into place, then frees r (also on
 * failure, which removes the temporary file). */
bool cp_rejects_close(cp_rejects *r, cp_error **err);

/* Removes the temporary file and frees r. NULL is allowed. */
void cp_rejects_abort(cp_rejects *r);

/* ------------------------------------------------------------ HTML report */

typedef struct cp_html cp_html;

/* Starts an HTML report at path. Records are added as they are checked; the
 * page (summary first, then every record) is assembled on cp_html_close(),
 * when the summary is known. Records stream to an unlinked scratch file, so
 * memory stays bounded however large the batch. */
cp_html *cp_html_open(const char *path, cp_error **err);

/* Adds one record: its row, name, masked ID number, occupation, job type,
 * level, certificate number and status; for a printable record the thumbnail
 * (png/png_len, borrowed, may be NULL/0 when there is none) embedded as a
 * data: URI; the problems of this row (ps_of_this_row, may be NULL): reasons
 * for a refused record, warnings for a printable one. All text is escaped. */
bool cp_html_add(cp_html *h, const cp_record *rec, bool valid, const cp_problems *ps_of_this_row,
                 const unsigned char *png, size_t png_len, cp_error **err);

/* Queues, for the next cp_html_add(), a field as certpress renders it: a PNG
 * (borrowed; copied) cut from the page at print resolution, shown beside
 * the field's label and text, so that an operator proofreads what will be
 * printed, not the browser's font. face: the face it is set in when that is
 * not its own font (layout.h), else NULL. Clicking the image shows it at full
 * size. */
bool cp_html_add_cutout(cp_html *h, const char *label, const char *text, const char *face,
                        const unsigned char *png, size_t png_len, cp_error **err);

/* Writes the page with summary s (borrowed), renames it into place and frees
 * h (also on failure). */
bool cp_html_close(cp_html *h, const cp_report_summary *s, cp_error **err);

/* Removes the temporary files and frees h. NULL is allowed. */
void cp_html_abort(cp_html *h);

/* Appends s as an RFC 8259 string (null for NULL; invalid UTF-8 replaced). */
void cp_report_json_str(GString *g, const char *s);

#endif
