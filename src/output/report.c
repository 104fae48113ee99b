/* SPDX-License-Identifier: MIT */
#include "output/report.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "error.h"
#include "i18n.h"
#include "input/csv.h"
#include "input/rules.h"

/* ------------------------------------------------------- atomic files */

/* Reports and rejects go through atomic.h like every output: an unlinked
 * file until complete, then linked and renamed over the destination, so a
 * reader never sees half a report and an interrupted run (even a killed
 * one) leaves the previous one intact. Mode 0600: they hold personal data. */
typedef struct out_file {
	cp_atomic *a;
	FILE *f; /* borrowed from a */
} out_file;

static void set_io_error(cp_error **err, const char *path, int errnum, const char *what)
{
	cp_set_error(err, CP_E_IO, path, 0, 0, NULL, "%s: %s", what, g_strerror(errnum));
}

static bool out_open(out_file *o, const char *path, cp_error **err)
{
	memset(o, 0, sizeof *o);
	o->a = cp_atomic_open(path, CP_ATOMIC_PRIVATE, err);
	if (!o->a)
		return false;
	o->f = cp_atomic_file(o->a);
	return true;
}

static void out_abort(out_file *o)
{
	cp_atomic_abort(o->a);
	memset(o, 0, sizeof *o);
}

static bool out_commit(out_file *o, cp_error **err)
{
	bool ok = cp_atomic_commit(o->a, err);
	memset(o, 0, sizeof *o);
	return ok;
}

/* ----------------------------------------------------------- shared */

/* Text taken from the CSV reaches terminals and browsers: make it valid
 * UTF-8 and show control characters (an ESC could drive the terminal, a
 * newline would break one-line-per-problem) and invisible ones as visible
 * escapes: a bidi override (U+202E) echoed raw would reorder the rest of the
 * terminal line, the report's own words included, and a zero-width character
 * would hide the very thing that was refused. */
static void append_clean(GString *g, const char *s)
{
	char *v = g_utf8_make_valid(s, -1);
	for (const char *p = v; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c == '\n')
			g_string_append(g, "\\n");
		else if (c == '\r')
			g_string_append(g, "\\r");
		else if (c == '\t')
			g_string_append(g, "\\t");
		else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || cp_rule_char_invisible(c))
			g_string_append_printf(g, "\\u%04x", c);
		else
			g_string_append_len(g, p, g_utf8_next_char(p) - p);
	}
	g_free(v);
}

static unsigned long count_arg(long n)
{
	return n > 0 ? (unsigned long)n : 0;
}

/* "20 records, 18 valid, 2 refused, 1 warning" */
static void append_counts(GString *g, const cp_report_summary *s)
{
	g_string_append_printf(g, dngettext(CP_TEXTDOMAIN, "%ld record", "%ld records",
	                                    count_arg(s->records)), s->records);
	g_string_append(g, ", ");
	g_string_append_printf(g, _("%ld valid"), s->valid);
	g_string_append(g, ", ");
	g_string_append_printf(g, _("%ld refused"), s->refused);
	g_string_append(g, ", ");
	g_string_append_printf(g, dngettext(CP_TEXTDOMAIN, "%ld warning", "%ld warnings",
	                                    count_arg(s->warnings)), s->warnings);
}

/* ------------------------------------------------------------- text */

void cp_report_text(FILE *out, const cp_problems *ps, const cp_report_summary *s)
{
	cp_report_text_lines(out, ps, s ? s->csv_path : NULL);
	if (s)
		cp_report_text_summary(out, s);
}

void cp_report_text_lines(FILE *out, const cp_problems *ps, const char *csv)
{
	GString *g = g_string_new(NULL);
	for (size_t i = 0; ps && i < ps->len; i++) {
		const cp_problem *p = &ps->items[i];
		g_string_truncate(g, 0);
		if (csv) {
			append_clean(g, csv);
			if (p->line > 0)
				g_string_append_printf(g, ":%ld", p->line);
			g_string_append(g, ": ");
		}
		const char *key = p->field >= 0 ? cp_field_key((cp_field)p->field) : NULL;
		GString *col = NULL;
		if (p->column || key) {
			col = g_string_new(NULL);
			append_clean(col, p->column ? p->column : key);
			if (p->column && key && strcmp(p->column, key) != 0)
				g_string_append_printf(col, " (%s)", key);
		}
		/* Whole frames, so that a translation can use its own punctuation. */
		if (p->row > 0 && col)
			g_string_append_printf(g, _("row %ld, column %s: "), p->row, col->str);
		else if (p->row > 0)
			g_string_append_printf(g, _("row %ld: "), p->row);
		else if (col)
			g_string_append_printf(g, _("column %s: "), col->str);
		if (col)
			g_string_free(col, TRUE);
		if (p->severity == CP_SEV_WARNING)
			g_string_append(g, _("warning: "));
		if (p->rule) {
			g_string_append_printf(g, "[%s", p->rule);
			if (p->article)
				g_string_append_printf(g, " %s", p->article);
			g_string_append(g, "] ");
		}
		append_clean(g, p->message ? p->message : "");
		if (p->value && *p->value) {
			GString *v = g_string_new(NULL);
			append_clean(v, p->value);
			g_string_append_printf(g, _(" (value %s)"), v->str);
			g_string_free(v, TRUE);
		}
		g_string_append_c(g, '\n');
		fputs(g->str, out);
	}
	g_string_free(g, TRUE);
}

void cp_report_text_summary(FILE *out, const cp_report_summary *s)
{
	GString *g = g_string_new(NULL);
	if (s->csv_path) {
		append_clean(g, s->csv_path);
		g_string_append(g, ": ");
	}
	append_counts(g, s);
	if (s->encoding)
		g_string_append_printf(g, _("; encoding %s"), s->encoding);
	/* said when title rows were skipped, so the operator sees it */
	if (s->header_row > 1)
		g_string_append_printf(g, _("; header on row %ld"), s->header_row);
	g_string_append_c(g, '\n');
	fputs(g->str, out);
	g_string_free(g, TRUE);
}

/* ------------------------------------------------------------- JSON */

/* RFC 8259 string: quote, backslash and C0 controls escaped; U+2028/U+2029
 * too, so the document can be pasted into JavaScript. */
void cp_report_json_str(GString *g, const char *s)
{
	if (!s) {
		g_string_append(g, "null");
		return;
	}
	char *v = g_utf8_make_valid(s, -1);
	g_string_append_c(g, '"');
	for (const char *p = v; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		switch (c) {
		case '"': g_string_append(g, "\\\""); break;
		case '\\': g_string_append(g, "\\\\"); break;
		case '\b': g_string_append(g, "\\b"); break;
		case '\f': g_string_append(g, "\\f"); break;
		case '\n': g_string_append(g, "\\n"); break;
		case '\r': g_string_append(g, "\\r"); break;
		case '\t': g_string_append(g, "\\t"); break;
		default:
			if (c < 0x20 || c == 0x2028 || c == 0x2029)
				g_string_append_printf(g, "\\u%04x", c);
			else
				g_string_append_len(g, p, g_utf8_next_char(p) - p);
		}
	}
	g_string_append_c(g, '"');
	g_free(v);
}

static void json_str(GString *g, const char *s)
{
	cp_report_json_str(g, s);
}

static void json_num_or_null(GString *g, long n)
{
	if (n > 0)
		g_string_append_printf(g, "%ld", n);
	else
		g_string_append(g, "null");
}

bool cp_report_json(FILE *out, const cp_problems *ps, const cp_report_summary *s,
                    cp_error **err)
{
	static const cp_report_summary none = {0};
	if (!s)
		s = &none;
	/* One problem at a time, so memory does not grow with the batch. */
	GString *g = g_string_new("{\"csv\":");
	json_str(g, s->csv_path);
	g_string_append(g, ",\"encoding\":");
	json_str(g, s->encoding);
	g_string_append(g, ",\"header_row\":");
	json_num_or_null(g, s->header_row);
	g_string_append_printf(g, ",\"summary\":{\"records\":%ld,\"valid\":%ld,\"refused\":%ld,"
	                       "\"warnings\":%ld},\"problems\":[",
	                       s->records, s->valid, s->refused, s->warnings);
	for (size_t i = 0; ps && i < ps->len; i++) {
		const cp_problem *p = &ps->items[i];
		if (i)
			g_string_append_c(g, ',');
		g_string_append(g, "\n{\"severity\":");
		g_string_append(g, p->severity == CP_SEV_WARNING ? "\"warning\"" : "\"error\"");
		g_string_append(g, ",\"row\":");
		json_num_or_null(g, p->row);
		g_string_append(g, ",\"line\":");
		json_num_or_null(g, p->line);
		g_string_append(g, ",\"field\":");
		json_str(g, p->field >= 0 ? cp_field_key((cp_field)p->field) : NULL);
		g_string_append(g, ",\"column\":");
		json_str(g, p->column);
		g_string_append(g, ",\"value\":");
		json_str(g, p->value);
		g_string_append(g, ",\"rule\":");
		json_str(g, p->rule);
		g_string_append(g, ",\"article\":");
		json_str(g, p->article);
		g_string_append(g, ",\"message\":");
		json_str(g, p->message ? p->message : "");
		g_string_append_c(g, '}');
		if (fwrite(g->str, 1, g->len, out) != g->len)
			goto fail;
		g_string_truncate(g, 0);
	}
	g_string_append(g, "]}\n");
	if (fwrite(g->str, 1, g->len, out) != g->len || fflush(out) != 0 || ferror(out))
		goto fail;
	g_string_free(g, TRUE);
	return true;
fail:
	set_io_error(err, NULL, errno ? errno : EIO, _("cannot write the JSON report"));
	g_string_free(g, TRUE);
	return false;
}

/* ------------------------------------------------------ rejects CSV */

struct cp_rejects {
	out_file out;
	size_t nheader;
};

/* RFC 4180, and neutralised against CSV injection (input/csv.h). */
static void csv_cell(GString *g, const char *s)
{
	cp_csv_append_cell(g, s);
}

static bool rejects_write(cp_rejects *r, const GString *g, cp_error **err)
{
	if (fwrite(g->str, 1, g->len, r->out.f) != g->len) {
		set_io_error(err, cp_atomic_path(r->out.a), errno ? errno : EIO, _("cannot write the file"));
		return false;
	}
	return true;
}

cp_rejects *cp_rejects_open(const char *path, const char *const *header, size_t nheader,
                            cp_error **err)
{
	if (!header || nheader == 0) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL, "%s",
		             _("the rejects file needs the CSV header"));
		return NULL;
	}
	cp_rejects *r = g_new0(cp_rejects, 1);
	if (!out_open(&r->out, path, err)) {
		g_free(r);
		return NULL;
	}
	r->nheader = nheader;
	/* BOM: without it Excel reads the file in the ANSI code page (GBK) and
	 * shows mojibake. CRLF as Excel writes. */
	GString *g = g_string_new("\xEF\xBB\xBF");
	for (size_t i = 0; i < nheader; i++) {
		csv_cell(g, header[i]);
		g_string_append_c(g, ',');
	}
	csv_cell(g, CP_REJECTS_REASON_COLUMN);
	g_string_append(g, "\r\n");
	bool ok = rejects_write(r, g, err);
	g_string_free(g, TRUE);
	if (!ok) {
		cp_rejects_abort(r);
		return NULL;
	}
	return r;
}

bool cp_rejects_add(cp_rejects *r, const cp_record *rec, const cp_problems *ps_of_this_row,
                    cp_error **err)
{
	GString *g = g_string_new(NULL);
	size_t n = rec->ncells > r->nheader ? rec->ncells : r->nheader;
	for (size_t i = 0; i < n; i++) {
		csv_cell(g, i < rec->ncells && rec->cells ? rec->cells[i] : "");
		g_string_append_c(g, ',');
	}
	GString *reason = g_string_new(NULL);
	for (size_t i = 0; ps_of_this_row && i < ps_of_this_row->len; i++) {
		const cp_problem *p = &ps_of_this_row->items[i];
		if (p->severity != CP_SEV_ERROR || !p->message)
			continue;
		if (reason->len)
			g_string_append(reason, "；");
		/* A clerk fixes the source sheet from this file: each reason
		 * names the row as the sheet numbers it and the column. */
		if (p->row > 0 && p->column)
			g_string_append_printf(reason, _("row %ld, column %s: %s"), p->row, p->column,
			                       p->message);
		else if (p->row > 0)
			g_string_append_printf(reason, _("row %ld: %s"), p->row, p->message);
		else
			g_string_append(reason, p->message);
	}
	csv_cell(g, reason->str);
	g_string_free(reason, TRUE);
	g_string_append(g, "\r\n");
	bool ok = rejects_write(r, g, err);
	g_string_free(g, TRUE);
	return ok;
}

bool cp_rejects_close(cp_rejects *r, cp_error **err)
{
	bool ok = out_commit(&r->out, err);
	g_free(r);
	return ok;
}

void cp_rejects_abort(cp_rejects *r)
{
	if (!r)
		return;
	out_abort(&r->out);
	g_free(r);
}

/* ------------------------------------------------------------- HTML */

struct cp_html {
	out_file out; /* the page, opened at once so an unwritable folder fails early */
	FILE *body;   /* records, unlinked scratch file in the same folder */
	GArray *refused_rows; /* long: rows to list at the top, with links */
	GPtrArray *cuts;      /* html_cut*: queued for the next record */
};

typedef struct html_cut {
	char *label, *text, *face;
	GBytes *png;
} html_cut;

static void html_cut_free(gpointer p)
{
	html_cut *c = p;
	g_free(c->label);
	g_free(c->text);
	g_free(c->face);
	g_bytes_unref(c->png);
	g_free(c);
}

static void html_esc(FILE *f, const char *s)
{
	if (!s)
		return;
	/* append_clean() makes it valid UTF-8, which g_markup_escape_text()
	 * expects, and shows what a browser would hide or reorder. */
	GString *v = g_string_new(NULL);
	append_clean(v, s);
	char *e = g_markup_escape_text(v->str, -1);
	fputs(e, f);
	g_free(e);
	g_string_free(v, TRUE);
}

cp_html *cp_html_open(const char *path, cp_error **err)
{
	cp_html *h = g_new0(cp_html, 1);
	if (!out_open(&h->out, path, err)) {
		g_free(h);
		return NULL;
	}
	/* A scratch file with no name at all: nothing is left behind however
	 * the run ends. */
	char *dir = g_path_get_dirname(path);
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		char *tmp = g_build_filename(dir, ".certpress-html-XXXXXX", NULL);
		fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
		if (fd >= 0)
			g_unlink(tmp);
		g_free(tmp);
	}
	g_free(dir);
	if (fd >= 0) {
		h->body = fdopen(fd, "w+b");
		if (!h->body)
			close(fd);
	}
	if (!h->body) {
		set_io_error(err, path, errno, _("cannot create the file"));
		out_abort(&h->out);
		g_free(h);
		return NULL;
	}
	h->refused_rows = g_array_new(FALSE, FALSE, sizeof(long));
	return h;
}

static const char png_signature[8] = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'};

/* Streams base64 so a large thumbnail needs no second copy in memory. */
static void html_base64(FILE *f, const unsigned char *data, size_t len)
{
	enum { CHUNK = 3 * 1024 };
	char buf[CHUNK / 3 * 4 + 8];
	gint state = 0, save = 0;
	for (size_t off = 0; off < len; off += CHUNK) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		gsize w = g_base64_encode_step(data + off, n, FALSE, buf, &state, &save);
		fwrite(buf, 1, w, f);
	}
	gsize w = g_base64_encode_close(FALSE, buf, &state, &save);
	fwrite(buf, 1, w, f);
}

static const char *rec_text(const cp_record *rec, cp_field f)
{
	if (rec->value[f])
		return rec->value[f];
	return rec->raw[f];
}

static void html_dd(FILE *f, const char *label, const char *value)
{
	fputs("<dt>", f);
	html_esc(f, label);
	fputs("</dt><dd>", f);
	html_esc(f, value && *value ? value : "—");
	fputs("</dd>", f);
}

bool cp_html_add_cutout(cp_html *h, const char *label, const char *text, const char *face,
                        const unsigned char *png, size_t png_len, cp_error **err)
{
	if (!png || png_len < sizeof png_signature ||
	    memcmp(png, png_signature, sizeof png_signature)) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL, "%s",
		             _("the field's cut-out is not a PNG image"));
		return false;
	}
	html_cut *c = g_new0(html_cut, 1);
	c->label = g_strdup(label);
	c->text = g_strdup(text);
	c->face = g_strdup(face);
	c->png = g_bytes_new(png, png_len);
	if (!h->cuts)
		h->cuts = g_ptr_array_new_with_free_func(html_cut_free);
	g_ptr_array_add(h->cuts, c);
	return true;
}

/* The queued cut-outs, as figures: the image (click: full size) and the
 * label, the text and the face. */
static void html_cuts(cp_html *h, FILE *f)
{
	if (!h->cuts || h->cuts->len == 0)
		return;
	fputs("<div class=\"cuts\">\n", f);
	for (guint i = 0; i < h->cuts->len; i++) {
		const html_cut *c = h->cuts->pdata[i];
		gsize len;
		const unsigned char *png = g_bytes_get_data(c->png, &len);
		fputs("<figure class=\"cut\"><img class=\"zoom\" tabindex=\"0\" title=\"", f);
		html_esc(f, _("as printed; click for full size"));
		fputs("\" alt=\"", f);
		html_esc(f, c->text);
		fputs("\" src=\"data:image/png;base64,", f);
		html_base64(f, png, len);
		fputs("\"><figcaption>", f);
		html_esc(f, c->label);
		fputs(": ", f);
		html_esc(f, c->text);
		if (c->face) {
			fputs(" <span class=\"face\">", f);
			char *set = g_strdup_printf(_("(set in %s)"), c->face);
			html_esc(f, set);
			g_free(set);
			fputs("</span>", f);
		}
		fputs("</figcaption></figure>\n", f);
	}
	fputs("</div>\n", f);
	g_ptr_array_set_size(h->cuts, 0);
}

bool cp_html_add(cp_html *h, const cp_record *rec, bool valid, const cp_problems *ps_of_this_row,
                 const unsigned char *png, size_t png_len, cp_error **err)
{
	if (png && png_len > 0 &&
	    (png_len < sizeof png_signature || memcmp(png, png_signature, sizeof png_signature))) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, rec->row, NULL, "%s",
		             _("the certificate thumbnail is not a PNG image"));
		return false;
	}
	FILE *f = h->body;
	if (!valid)
		g_array_append_val(h->refused_rows, rec->row);

	bool warned = false;
	for (size_t i = 0; ps_of_this_row && i < ps_of_this_row->len; i++)
		warned = warned || ps_of_this_row->items[i].severity == CP_SEV_WARNING;
	fprintf(f, "<section class=\"rec %s%s\" id=\"row-%ld\">\n<h2><span class=\"status\">",
	        valid ? "ok" : "refused", warned ? " warned" : "", rec->row);
	html_esc(f, valid ? _("Printable") : _("Refused"));
	fputs("</span> ", f);
	char *row = g_strdup_printf(_("row %ld"), rec->row);
	html_esc(f, row);
	g_free(row);
	fputs(" · ", f);
	html_esc(f, rec_text(rec, CP_FIELD_NAME));
	fputs("</h2>\n<div class=\"body\">\n", f);
	if (valid && png && png_len > 0) {
		fputs("<img class=\"thumb zoom\" tabindex=\"0\" alt=\"", f);
		html_esc(f, _("certificate preview"));
		fputs("\" src=\"data:image/png;base64,", f);
		html_base64(f, png, png_len);
		fputs("\">\n", f);
	}
	/* The page is for looking through, and it may be mailed or left on a
	 * shared drive: the ID number is shown masked like everywhere else. */
	const char *id = rec_text(rec, CP_FIELD_ID_NUMBER);
	char *masked = id ? cp_mask_id(id) : NULL;
	fputs("<dl>", f);
	html_dd(f, _("Name"), rec_text(rec, CP_FIELD_NAME));
	html_dd(f, _("ID type"), rec_text(rec, CP_FIELD_ID_TYPE));
	html_dd(f, _("ID number"), masked);
	html_dd(f, _("Occupation"), rec_text(rec, CP_FIELD_OCCUPATION));
	html_dd(f, _("Job type"), rec_text(rec, CP_FIELD_JOB_TYPE));
	html_dd(f, _("Level"), rec_text(rec, CP_FIELD_LEVEL));
	html_dd(f, _("Certificate number"), rec_text(rec, CP_FIELD_CERT_NO));
	html_dd(f, _("Issue date"), rec_text(rec, CP_FIELD_ISSUE_DATE));
	fputs("</dl>\n", f);
	free(masked);
	html_cuts(h, f);

	if (ps_of_this_row && ps_of_this_row->len > 0) {
		fputs("<ul class=\"problems\">\n", f);
		for (size_t i = 0; i < ps_of_this_row->len; i++) {
			const cp_problem *p = &ps_of_this_row->items[i];
			bool warn = p->severity == CP_SEV_WARNING;
			fprintf(f, "<li class=\"%s\">", warn ? "warning" : "error");
			if (warn)
				html_esc(f, _("warning: "));
			if (p->column) {
				fputs("<b>", f);
				html_esc(f, p->column);
				fputs("</b>: ", f);
			}
			html_esc(f, p->message);
			if (p->value) {
				fputs(" <code>", f);
				html_esc(f, p->value);
				fputs("</code>", f);
			}
			if (p->rule) {
				fputs(" <span class=\"rule\">[", f);
				html_esc(f, p->rule);
				if (p->article) {
					fputc(' ', f);
					html_esc(f, p->article);
				}
				fputs("]</span>", f);
			}
			fputs("</li>\n", f);
		}
		fputs("</ul>\n", f);
	}
	fputs("</div>\n</section>\n", f);
	if (ferror(f)) {
		set_io_error(err, cp_atomic_path(h->out.a), errno ? errno : EIO, _("cannot write the file"));
		return false;
	}
	return true;
}

static const char html_style[] =
	"body{font-family:\"Noto Sans CJK SC\",\"Microsoft YaHei\",\"PingFang SC\",sans-serif;"
	"margin:2em auto;max-width:60em;padding:0 1em;color:#222}\n"
	"h1{font-size:1.5em}h2{font-size:1.1em;margin:0 0 .5em}\n"
	"table.summary td,table.summary th{padding:.2em 1em .2em 0;text-align:left}\n"
	".rec{border:1px solid #ccc;border-left:6px solid #2a7;border-radius:4px;"
	"padding:.8em 1em;margin:1em 0;page-break-inside:avoid}\n"
	".rec.refused{border-left-color:#d7000f;background:#fff6f6}\n"
	".status{display:inline-block;padding:0 .4em;border-radius:3px;color:#fff;background:#2a7}\n"
	".refused .status{background:#d7000f}\n"
	".body{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}\n"
	".thumb{width:16em;height:auto;border:1px solid #999;box-shadow:0 1px 4px #0003}\n"
	"dl{display:grid;grid-template-columns:auto 1fr;gap:.15em 1em;margin:0}"
	"dt{color:#666}dd{margin:0}\n"
	"ul.problems{flex-basis:100%;margin:.3em 0 0;padding-left:1.2em}\n"
	"li.error{color:#a00}li.warning{color:#850}.rule{color:#777;font-size:.9em}\n"
	"code{background:#f3f3f3;padding:0 .2em}\n"
	".cuts{flex-basis:100%;display:flex;flex-wrap:wrap;gap:.5em 1.5em}\n"
	"figure.cut{margin:0}figure.cut img{height:3em;width:auto;border:1px solid #ddd;"
	"cursor:zoom-in;background:#fff}\n"
	"img.zoom{cursor:zoom-in;outline:none}"
	"img.zoom:focus{height:auto;width:auto;max-width:100%;cursor:zoom-out}\n"
	"figcaption{font-size:.85em;color:#555}.face{color:#850}\n"
	"label.filter{display:inline-block;margin:.5em 0}"
	"#only-problems:checked~section.rec.ok:not(.warned){display:none}\n";

static void html_summary_row(FILE *f, const char *label, const char *value)
{
	fputs("<tr><th>", f);
	html_esc(f, label);
	fputs("</th><td>", f);
	html_esc(f, value);
	fputs("</td></tr>\n", f);
}

bool cp_html_close(cp_html *h, const cp_report_summary *s, cp_error **err)
{
	static const cp_report_summary none = {0};
	if (!s)
		s = &none;
	FILE *f = h->out.f;
	fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
	      f);
	html_esc(f, _("Check report"));
	if (s->csv_path) {
		fputs(" — ", f);
		html_esc(f, s->csv_path);
	}
	fputs("</title>\n<style>\n", f);
	fputs(html_style, f);
	fputs("</style>\n</head>\n<body>\n<h1>", f);
	html_esc(f, _("Check report"));
	fputs("</h1>\n<table class=\"summary\">\n", f);
	char buf[64];
	if (s->csv_path)
		html_summary_row(f, _("CSV file"), s->csv_path);
	if (s->encoding)
		html_summary_row(f, _("Encoding"), s->encoding);
	snprintf(buf, sizeof buf, "%ld", s->records);
	html_summary_row(f, _("Records"), buf);
	snprintf(buf, sizeof buf, "%ld", s->valid);
	html_summary_row(f, _("Printable"), buf);
	snprintf(buf, sizeof buf, "%ld", s->refused);
	html_summary_row(f, _("Refused"), buf);
	snprintf(buf, sizeof buf, "%ld", s->warnings);
	html_summary_row(f, _("Warnings"), buf);
	/* The filter is plain CSS (no script in a report that may be mailed):
	 * the checkbox precedes the records as their sibling. */
	fputs("</table>\n<input type=\"checkbox\" id=\"only-problems\">"
	      "<label class=\"filter\" for=\"only-problems\"> ", f);
	html_esc(f, _("show only refused rows and rows with warnings"));
	fputs("</label>\n", f);
	if (h->refused_rows->len > 0) {
		fputs("<p class=\"refused-index\">", f);
		html_esc(f, _("Refused rows:"));
		for (guint i = 0; i < h->refused_rows->len; i++) {
			long r = g_array_index(h->refused_rows, long, i);
			fprintf(f, "%s <a href=\"#row-%ld\">%ld</a>", i ? "," : "", r, r);
		}
		fputs("</p>\n", f);
	}

	/* Append the records streamed so far. */
	int e = 0;
	if (fflush(h->body) != 0 || fseek(h->body, 0, SEEK_SET) != 0)
		e = errno ? errno : EIO;
	char chunk[65536];
	size_t n;
	while (!e && (n = fread(chunk, 1, sizeof chunk, h->body)) > 0) {
		if (fwrite(chunk, 1, n, f) != n)
			e = errno ? errno : EIO;
	}
	if (!e && ferror(h->body))
		e = errno ? errno : EIO;
	fclose(h->body);
	h->body = NULL;
	g_array_free(h->refused_rows, TRUE);
	if (h->cuts)
		g_ptr_array_free(h->cuts, TRUE);
	if (e) {
		set_io_error(err, cp_atomic_path(h->out.a), e, _("cannot write the file"));
		out_abort(&h->out);
		g_free(h);
		return false;
	}
	fputs("</body>\n</html>\n", f);
	bool ok = out_commit(&h->out, err);
	g_free(h);
	return ok;
}

void cp_html_abort(cp_html *h)
{
	if (!h)
		return;
	if (h->body)
		fclose(h->body);
	g_array_free(h->refused_rows, TRUE);
	if (h->cuts)
		g_ptr_array_free(h->cuts, TRUE);
	out_abort(&h->out);
	g_free(h);
}
