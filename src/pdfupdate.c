/* SPDX-License-Identifier: MIT */
#include "pdfupdate.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "i18n.h"

#define TAIL_BYTES 2048      /* startxref sits in the last 1024 bytes per the spec */
#define MAX_DEPTH 64         /* nesting of dictionaries and arrays in one object */
#define MAX_OBJECTS 8388607  /* PDF's own limit on object numbers */

/* --------------------------------------------------------------- lexing */

static bool is_ws(char c)
{
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

static bool is_delim(char c)
{
	return strchr("()<>[]{}/%", c) && c;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end) {
		if (is_ws(*p)) {
			p++;
		} else if (*p == '%') {
			while (p < end && *p != '\n' && *p != '\r')
				p++;
		} else {
			break;
		}
	}
	return p;
}

static const char *skip_regular(const char *p, const char *end)
{
	while (p < end && !is_ws(*p) && !is_delim(*p))
		p++;
	return p;
}

/* Returns the end of the one object starting at p (after blanks), or NULL
 * when it is malformed or runs past end. */
static const char *skip_object(const char *p, const char *end, int depth)
{
	if (depth > MAX_DEPTH)
		return NULL;
	p = skip_ws(p, end);
	if (p >= end)
		return NULL;
	if (*p == '<' && p + 1 < end && p[1] == '<') {
		p += 2;
		for (;;) {
			p = skip_ws(p, end);
			if (p + 1 < end && p[0] == '>' && p[1] == '>')
				return p + 2;
			p = skip_object(p, end, depth + 1);
			if (!p)
				return NULL;
		}
	}
	if (*p == '<') {
		for (p++; p < end && *p != '>'; p++)
			if (!g_ascii_isxdigit(*p) && !is_ws(*p))
				return NULL;
		return p < end ? p + 1 : NULL;
	}
	if (*p == '(') {
		int nest = 1;
		for (p++; p < end; p++) {
			if (*p == '\\')
				p++;
			else if (*p == '(')
				nest++;
			else if (*p == ')' && --nest == 0)
				return p + 1;
		}
		return NULL;
	}
	if (*p == '[') {
		p++;
		for (;;) {
			p = skip_ws(p, end);
			if (p < end && *p == ']')
				return p + 1;
			p = skip_object(p, end, depth + 1);
			if (!p)
				return NULL;
		}
	}
	if (*p == '/')
		return skip_regular(p + 1, end);
	if (is_delim(*p))
		return NULL;
	const char *q = skip_regular(p, end);
	return q > p ? q : NULL;
}

static bool parse_uint(const char *p, const char *end, int64_t max, int64_t *out,
                       const char **next)
{
	if (p >= end || !g_ascii_isdigit(*p))
		return false;
	int64_t v = 0;
	while (p < end && g_ascii_isdigit(*p)) {
		v = v * 10 + (*p++ - '0');
		if (v > max)
			return false;
	}
	if (p < end && !is_ws(*p) && !is_delim(*p))
		return false;
	*out = v;
	*next = p;
	return true;
}

static bool is_keyword(const char *p, const char *end, const char *kw)
{
	size_t n = strlen(kw);
	return (size_t)(end - p) >= n && memcmp(p, kw, n) == 0 &&
	       ((size_t)(end - p) == n || is_ws(p[n]) || is_delim(p[n]));
}

/* "N G R" starting at p: returns its end, or NULL. */
static const char *match_ref(const char *p, const char *end, int64_t *num, int64_t *gen)
{
	const char *q;
	p = skip_ws(p, end);
	if (!parse_uint(p, end, MAX_OBJECTS, num, &q))
		return NULL;
	p = skip_ws(q, end);
	if (!parse_uint(p, end, 65535, gen, &q))
		return NULL;
	p = skip_ws(q, end);
	return is_keyword(p, end, "R") ? p + 1 : NULL;
}

typedef struct dict_entry {
	const char *key; /* after the slash */
	size_t klen;
	const char *val; /* trimmed */
	size_t vlen;
} dict_entry;

/* Splits the dictionary at p into entries (pointing into the text). Returns
 * the end of the dictionary or NULL. An indirect reference counts as one
 * value, so "/Pages 1 0 R" stays together. */
static const char *parse_dict(const char *p, const char *end, GArray *entries)
{
	p = skip_ws(p, end);
	if (!(p + 1 < end && p[0] == '<' && p[1] == '<'))
		return NULL;
	p += 2;
	for (;;) {
		p = skip_ws(p, end);
		if (p + 1 < end && p[0] == '>' && p[1] == '>')
			return p + 2;
		if (p >= end || *p != '/')
			return NULL;
		dict_entry e = {.key = p + 1};
		p = skip_regular(p + 1, end);
		e.klen = (size_t)(p - e.key);
		e.val = skip_ws(p, end);
		int64_t n, g;
		const char *q = match_ref(e.val, end, &n, &g);
		if (!q)
			q = skip_object(e.val, end, 1);
		if (!q)
			return NULL;
		e.vlen = (size_t)(q - e.val);
		g_array_append_val(entries, e);
		p = q;
	}
}

static const dict_entry *dict_find(GArray *entries, const char *key)
{
	size_t n = strlen(key);
	for (guint i = 0; i < entries->len; i++) {
		const dict_entry *e = &g_array_index(entries, dict_entry, i);
		if (e->klen == n && memcmp(e->key, key, n) == 0)
			return e;
	}
	return NULL;
}

/* g_strstr_len() and friends stop at a NUL byte, which binary streams hold. */
static const char *mem_find(const char *h, size_t hlen, const char *needle)
{
	return memmem(h, hlen, needle, strlen(needle));
}

static const char *mem_rfind(const char *h, size_t hlen, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = hlen >= n ? hlen - n + 1 : 0; i-- > 0;)
		if (memcmp(h + i, needle, n) == 0)
			return h + i;
	return NULL;
}

/* ---------------------------------------------------------------- file */

typedef struct pdf_file {
	int fd;
	const char *label;
	int64_t size;
} pdf_file;

/* Reads up to len bytes at off; returns how many (short only at end of file),
 * or -1 with an error. */
static ssize_t read_at(const pdf_file *f, int64_t off, char *buf, size_t len, cp_error **err)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(f->fd, buf + got, len - got, (off_t)(off + (int64_t)got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cp_set_error(err, CP_E_IO, f->label, 0, 0, NULL, _("cannot read: %s"),
			             g_strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static bool bad(cp_error **err, const pdf_file *f, const char *what)
{
	cp_set_error(err, CP_E_PARSE, f->label, 0, 0, NULL,
	             _("cannot update this PDF: %s"), what);
	return false;
}

typedef struct subsection {
	int64_t start, count, entries_at;
} subsection;

typedef struct revision_scan {
	GArray *subs;      /* subsection */
	int64_t trailer_at; /* offset just after the keyword "trailer" */
} revision_scan;

/* Reads the subsection headers of the classic xref table at off. Entries
 * have a fixed width of 20 bytes, so only the headers need reading. */
static bool scan_xref(const pdf_file *f, int64_t off, revision_scan *rs, cp_error **err)
{
	char buf[128];
	ssize_t n = read_at(f, off, buf, sizeof buf, err);
	if (n < 0)
		return false;
	const char *end = buf + n, *p = skip_ws(buf, end);
	if (!is_keyword(p, end, "xref")) {
		int64_t a, b;
		const char *q;
		if (parse_uint(p, end, MAX_OBJECTS, &a, &q) &&
		    parse_uint(skip_ws(q, end), end, 65535, &b, &q) &&
		    is_keyword(skip_ws(q, end), end, "obj")) {
			/* An object: say "stream" only if it really is one. */
			char dict[1024];
			ssize_t m = read_at(f, off, dict, sizeof dict, err);
			if (m < 0)
				return false;
			for (const char *x = dict; (x = mem_find(x, (size_t)(dict + m - x), "/XRef"));
			     x += 5) {
				if (x + 5 < dict + m && (is_ws(x[5]) || is_delim(x[5])))
					return bad(err, f,
					           _("it uses a cross-reference stream (compressed "
					             "PDF 1.5 structure), which is not supported"));
			}
		}
		return bad(err, f, _("startxref does not point at a cross-reference table"));
	}
	int64_t pos = off + (p - buf) + 4;
	for (int guard = 0;; guard++) {
		if (guard > 100000)
			return bad(err, f, _("too many cross-reference subsections"));
		n = read_at(f, pos, buf, sizeof buf, err);
		if (n < 0)
			return false;
		end = buf + n;
		p = skip_ws(buf, end);
		if (is_keyword(p, end, "trailer")) {
			rs->trailer_at = pos + (p - buf) + 7;
			return true;
		}
		subsection s;
		const char *q;
		if (!parse_uint(p, end, MAX_OBJECTS, &s.start, &q) ||
		    !parse_uint(skip_ws(q, end), end, MAX_OBJECTS, &s.count, &q) ||
		    s.start + s.count > MAX_OBJECTS + 1)
			return bad(err, f, _("damaged cross-reference table"));
		/* The header line ends with an end-of-line; entries start after it. */
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q < end && *q == '\r')
			q++;
		if (q < end && *q == '\n')
			q++;
		s.entries_at = pos + (q - buf);
		g_array_append_val(rs->subs, s);
		pos = s.entries_at + 20 * s.count;
		if (pos > f->size)
			return bad(err, f, _("the cross-reference table runs past the end of the file"));
	}
}

/* Looks num up in one revision's table: 1 found (offset, gen set),
 * 0 not in this revision, -1 error. */
static int lookup(const pdf_file *f, const revision_scan *rs, int64_t num, int64_t *offset,
                  int64_t *gen, cp_error **err)
{
	for (guint i = 0; i < rs->subs->len; i++) {
		const subsection *s = &g_array_index(rs->subs, subsection, i);
		if (num < s->start || num >= s->start + s->count)
			continue;
		/* One byte more than an entry, kept NUL: the checks below look at
		 * *q and q[1] after numbers that may run to the end of the 20. */
		char e[21] = {0};
		ssize_t n = read_at(f, s->entries_at + 20 * (num - s->start), e, 20, err);
		if (n < 0)
			return -1;
		if (n != 20)
			return bad(err, f, _("truncated cross-reference entry")), -1;
		const char *q, *end = e + 20;
		if (!parse_uint(e, end, INT64_C(9999999999), offset, &q) || *q != ' ' ||
		    !parse_uint(q + 1, end, 99999, gen, &q) || *q != ' ' ||
		    (q[1] != 'n' && q[1] != 'f'))
			return bad(err, f, _("damaged cross-reference entry")), -1;
		if (q[1] == 'f')
			return bad(err, f, _("the catalog object is marked free")), -1;
		return 1;
	}
	return 0;
}

static char *read_dict_text(const pdf_file *f, int64_t off, size_t *len, cp_error **err)
{
	int64_t avail = f->size - off;
	size_t want = avail < (int64_t)CP_PDF_MAX_DICT_BYTES ? (size_t)avail : CP_PDF_MAX_DICT_BYTES;
	char *buf = g_malloc(want + 1);
	ssize_t n = read_at(f, off, buf, want, err);
	if (n < 0) {
		g_free(buf);
		return NULL;
	}
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

static bool valid_key(const char *key)
{
	if (!key || !*key)
		return false;
	for (const char *p = key; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '.' && *p != '-')
			return false;
	return true;
}

static bool valid_value(const char *v)
{
	if (!v)
		return false;
	const char *end = v + strlen(v);
	int64_t n, g;
	const char *q = match_ref(v, end, &n, &g);
	if (!q) {
		const char *p = skip_ws(v, end);
		/* Only data objects: a bare keyword could smuggle in "endobj". */
		if (p < end && g_ascii_isalpha(*p) && !is_keyword(p, end, "true") &&
		    !is_keyword(p, end, "false") && !is_keyword(p, end, "null"))
			return false;
		q = skip_object(v, end, 0);
	}
	return q && skip_ws(q, end) == end && !memchr(v, '%', (size_t)(end - v));
}

static bool write_all_at(const pdf_file *f, int64_t off, const char *buf, size_t len,
                         cp_error **err)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pwrite(f->fd, buf + done, len - done, (off_t)(off + (int64_t)done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			/* Leave the file as it was: a half-written revision would
			 * make the whole document unreadable for some viewers. */
			if (ftruncate(f->fd, (off_t)f->size) != 0) {
				/* nothing more to do; report the write error */
			}
			cp_set_error(err, CP_E_IO, f->label, 0, 0, NULL, _("cannot write: %s"),
			             g_strerror(e));
			return false;
		}
		done += (size_t)n;
	}
	return true;
}

bool cp_pdf_set_catalog_entry_fd(int fd, const char *label, const char *key,
                                 const char *value_pdf, cp_error **err)
{
	if (!valid_key(key)) {
		cp_set_error(err, CP_E_USAGE, label, 0, 0, NULL,
		             _("invalid PDF name for a catalog entry: %s"), key ? key : "(null)");
		return false;
	}
	if (!valid_value(value_pdf)) {
		cp_set_error(err, CP_E_USAGE, label, 0, 0, key,
		             _("the value is not one PDF object: %s"), value_pdf ? value_pdf : "(null)");
		return false;
	}
	pdf_file f = {.fd = fd, .label = label};
	struct stat st;
	if (fstat(fd, &st) != 0) {
		cp_set_error(err, CP_E_IO, label, 0, 0, NULL, _("cannot read: %s"), g_strerror(errno));
		return false;
	}
	f.size = st.st_size;

	char head[8];
	ssize_t n = read_at(&f, 0, head, 5, err);
	if (n < 0)
		return false;
	if (n < 5 || memcmp(head, "%PDF-", 5) != 0)
		return bad(err, &f, _("it is not a PDF file"));

	char tail[TAIL_BYTES + 1];
	int64_t tail_off = f.size > TAIL_BYTES ? f.size - TAIL_BYTES : 0;
	n = read_at(&f, tail_off, tail, (size_t)(f.size - tail_off), err);
	if (n < 0)
		return false;
	tail[n] = 0;
	const char *sx = mem_rfind(tail, (size_t)n, "startxref");
	if (!sx)
		return bad(err, &f, _("no startxref at the end (is the file truncated?)"));
	const char *tend = tail + n, *q;
	int64_t xref_off;
	if (!parse_uint(skip_ws(sx + 9, tend), tend, INT64_C(9999999999), &xref_off, &q) ||
	    !mem_find(q, (size_t)(tend - q), "%%EOF"))
		return bad(err, &f, _("damaged startxref or no %%EOF (is the file truncated?)"));
	if (xref_off >= f.size)
		return bad(err, &f, _("startxref points past the end of the file"));

	bool ok = false;
	GArray *trailer = g_array_new(FALSE, FALSE, sizeof(dict_entry));
	GArray *catalog = g_array_new(FALSE, FALSE, sizeof(dict_entry));
	char *trailer_text = NULL, *cat_text = NULL;
	GString *out = NULL;
	GHashTable *seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	revision_scan rs = {.subs = g_array_new(FALSE, FALSE, sizeof(subsection))};
	int64_t root_num = -1, root_gen = 0, cat_off = -1, size_entry = 0;

	for (int64_t cur = xref_off, rev = 0; cur >= 0; rev++) {
		if (rev >= CP_PDF_MAX_REVISIONS) {
			bad(err, &f, _("too many revisions"));
			goto done;
		}
		if (g_hash_table_contains(seen, &cur)) {
			bad(err, &f, _("the /Prev chain loops"));
			goto done;
		}
		g_hash_table_add(seen, g_memdup2(&cur, sizeof cur));
		g_array_set_size(rs.subs, 0);
		if (!scan_xref(&f, cur, &rs, err))
			goto done;
		size_t tlen;
		char *text = read_dict_text(&f, rs.trailer_at, &tlen, err);
		if (!text)
			goto done;
		GArray *entries = rev == 0 ? trailer : g_array_new(FALSE, FALSE, sizeof(dict_entry));
		if (!parse_dict(text, text + tlen, entries)) {
			if (rev)
				g_array_free(entries, TRUE);
			g_free(text);
			bad(err, &f, _("damaged trailer dictionary"));
			goto done;
		}
		int64_t prev = -1;
		const dict_entry *e = dict_find(entries, "Prev");
		if (e && (!parse_uint(e->val, e->val + e->vlen, INT64_C(9999999999), &prev, &q) ||
		          prev >= f.size)) {
			if (rev)
				g_array_free(entries, TRUE);
			g_free(text);
			bad(err, &f, _("damaged /Prev in the trailer"));
			goto done;
		}
		if (rev == 0) {
			trailer_text = text; /* entries point into it */
			if (dict_find(trailer, "Encrypt")) {
				bad(err, &f, _("the file is encrypted"));
				goto done;
			}
			e = dict_find(trailer, "Root");
			if (!e || !match_ref(e->val, e->val + e->vlen, &root_num, &root_gen)) {
				bad(err, &f, _("the trailer has no /Root"));
				goto done;
			}
			e = dict_find(trailer, "Size");
			if (!e || !parse_uint(e->val, e->val + e->vlen, MAX_OBJECTS + 1, &size_entry, &q)) {
				bad(err, &f, _("the trailer has no valid /Size"));
				goto done;
			}
		} else {
			g_array_free(entries, TRUE);
			g_free(text);
		}
		int64_t gen;
		int r = lookup(&f, &rs, root_num, &cat_off, &gen, err);
		if (r < 0)
			goto done;
		if (r > 0) {
			if (gen != root_gen) {
				bad(err, &f, _("the catalog's generation does not match /Root"));
				goto done;
			}
			break;
		}
		cur = prev;
	}
	if (cat_off < 0) {
		bad(err, &f, _("the catalog object is not in any cross-reference table"));
		goto done;
	}
	if (cat_off >= f.size) {
		bad(err, &f, _("the catalog's offset is past the end of the file"));
		goto done;
	}

	size_t clen;
	cat_text = read_dict_text(&f, cat_off, &clen, err);
	if (!cat_text)
		goto done;
	const char *cend = cat_text + clen;
	int64_t on, og;
	const char *p = skip_ws(cat_text, cend);
	if (!parse_uint(p, cend, MAX_OBJECTS, &on, &q) || on != root_num ||
	    !parse_uint(skip_ws(q, cend), cend, 65535, &og, &q) || og != root_gen ||
	    !is_keyword((p = skip_ws(q, cend)), cend, "obj")) {
		bad(err, &f, _("the catalog's cross-reference entry points at the wrong place"));
		goto done;
	}
	if (!parse_dict(p + 3, cend, catalog)) {
		bad(err, &f, _("damaged catalog dictionary"));
		goto done;
	}
	const dict_entry *type = dict_find(catalog, "Type");
	if (!type || type->vlen != 8 || memcmp(type->val, "/Catalog", 8) != 0) {
		bad(err, &f, _("the /Root object is not a catalog"));
		goto done;
	}

	/* The new revision: catalog, xref section, trailer. */
	char last = 0;
	if (f.size > 0 && read_at(&f, f.size - 1, &last, 1, err) != 1)
		goto done;
	out = g_string_new(last == '\n' || last == '\r' ? "" : "\n");
	int64_t obj_at = f.size + (int64_t)out->len;
	g_string_append_printf(out, "%" PRId64 " %" PRId64 " obj\n<<", root_num, root_gen);
	bool replaced = false;
	for (guint i = 0; i < catalog->len; i++) {
		const dict_entry *ce = &g_array_index(catalog, dict_entry, i);
		g_string_append(out, "\n   /");
		g_string_append_len(out, ce->key, (gssize)ce->klen);
		g_string_append_c(out, ' ');
		if (ce->klen == strlen(key) && memcmp(ce->key, key, ce->klen) == 0) {
			g_string_append(out, value_pdf);
			replaced = true;
		} else {
			g_string_append_len(out, ce->val, (gssize)ce->vlen);
		}
	}
	if (!replaced)
		g_string_append_printf(out, "\n   /%s %s", key, value_pdf);
	g_string_append(out, "\n>>\nendobj\n");
	int64_t xref_at = f.size + (int64_t)out->len;
	g_string_append_printf(out, "xref\n%" PRId64 " 1\n%010" PRId64 " %05" PRId64 " n \n",
	                       root_num, obj_at, root_gen);
	int64_t new_size = size_entry > root_num ? size_entry : root_num + 1;
	g_string_append_printf(out, "trailer\n<< /Size %" PRId64 "\n   /Root %" PRId64 " %" PRId64
	                       " R\n", new_size, root_num, root_gen);
	const char *carry[] = {"Info", "ID"};
	for (size_t i = 0; i < G_N_ELEMENTS(carry); i++) {
		const dict_entry *te = dict_find(trailer, carry[i]);
		if (te) {
			g_string_append_printf(out, "   /%s ", carry[i]);
			g_string_append_len(out, te->val, (gssize)te->vlen);
			g_string_append_c(out, '\n');
		}
	}
	g_string_append_printf(out, "   /Prev %" PRId64 "\n>>\nstartxref\n%" PRId64 "\n%%%%EOF\n",
	                       xref_off, xref_at);
	ok = write_all_at(&f, f.size, out->str, out->len, err);
done:
	if (out)
		g_string_free(out, TRUE);
	g_array_free(trailer, TRUE);
	g_array_free(catalog, TRUE);
	g_array_free(rs.subs, TRUE);
	g_hash_table_destroy(seen);
	g_free(trailer_text);
	g_free(cat_text);
	return ok;
}

bool cp_pdf_set_catalog_entry(const char *path, const char *key, const char *value_pdf,
                              cp_error **err)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot open: %s"), g_strerror(errno));
		return false;
	}
	bool ok = cp_pdf_set_catalog_entry_fd(fd, path, key, value_pdf, err);
	if (ok && fsync(fd) != 0) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot write: %s"), g_strerror(errno));
		ok = false;
	}
	close(fd);
	return ok;
}
