/* SPDX-License-Identifier: MIT */
#include "output/pdfupdate.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "i18n.h"
#include "output/pdfsyntax.h"

/* ------------------------------------------------------------ helpers */

typedef cp_pdf_dict_entry dict_entry;
typedef cp_pdf_src pdf_file;

static void update_bad(const cp_pdf_src *src, int64_t at, const char *what, cp_error **err)
{
	cp_set_error(err, CP_E_PARSE, src->label, 0, 0, NULL,
	             _("cannot update this PDF: %s"), what);
}

static bool bad(cp_error **err, const pdf_file *f, const char *what)
{
	return cp_pdfsyntax_bad(f, -1, what, err);
}

typedef struct revision_scan {
	GArray *subs;       /* cp_pdf_xref_sub */
	int64_t trailer_at; /* offset just after the keyword "trailer" */
} revision_scan;

/* Looks num up in one revision's table: 1 found (offset, gen set),
 * 0 not in this revision, -1 error. */
static int lookup(const pdf_file *f, const revision_scan *rs, int64_t num, int64_t *offset,
                  int64_t *gen, cp_error **err)
{
	for (guint i = 0; i < rs->subs->len; i++) {
		const cp_pdf_xref_sub *s = &g_array_index(rs->subs, cp_pdf_xref_sub, i);
		if (num < s->start || num >= s->start + s->count)
			continue;
		char e[20];
		ssize_t n = cp_pdfsyntax_read_at(f, s->entries_at + 20 * (num - s->start), e, 20, err);
		if (n < 0)
			return -1;
		if (n != 20)
			return bad(err, f, _("truncated cross-reference entry")), -1;
		bool in_use;
		if (!cp_pdfsyntax_parse_xref_entry(e, offset, gen, &in_use))
			return bad(err, f, _("damaged cross-reference entry")), -1;
		if (!in_use)
			return bad(err, f, _("the catalog object is marked free")), -1;
		return 1;
	}
	return 0;
}

static char *read_dict_text(const pdf_file *f, int64_t off, size_t *len, cp_error **err)
{
	return cp_pdfsyntax_read_text(f, off, CP_PDF_MAX_DICT_BYTES, len, err);
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
	const char *q = cp_pdfsyntax_match_ref(v, end, &n, &g);
	if (!q) {
		const char *p = cp_pdfsyntax_skip_ws(v, end);
		/* Only data objects: a bare keyword could smuggle in "endobj". */
		if (p < end && g_ascii_isalpha(*p) && !cp_pdfsyntax_is_keyword(p, end, "true") &&
		    !cp_pdfsyntax_is_keyword(p, end, "false") && !cp_pdfsyntax_is_keyword(p, end, "null"))
			return false;
		q = cp_pdfsyntax_skip_object(v, end, 0);
	}
	return q && cp_pdfsyntax_skip_ws(q, end) == end && !memchr(v, '%', (size_t)(end - v));
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
	pdf_file f = {.fd = fd, .label = label, .bad = update_bad};
	int64_t xref_off;
	if (!cp_pdfsyntax_open(&f, err) || !cp_pdfsyntax_find_startxref(&f, &xref_off, err))
		return false;
	const char *q;

	bool ok = false;
	GArray *trailer = g_array_new(FALSE, FALSE, sizeof(dict_entry));
	GArray *catalog = g_array_new(FALSE, FALSE, sizeof(dict_entry));
	char *trailer_text = NULL, *cat_text = NULL;
	GString *out = NULL;
	GHashTable *seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	revision_scan rs = {.subs = g_array_new(FALSE, FALSE, sizeof(cp_pdf_xref_sub))};
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
		if (!cp_pdfsyntax_scan_xref(&f, cur, rs.subs, &rs.trailer_at, err))
			goto done;
		size_t tlen;
		char *text = read_dict_text(&f, rs.trailer_at, &tlen, err);
		if (!text)
			goto done;
		GArray *entries = rev == 0 ? trailer : g_array_new(FALSE, FALSE, sizeof(dict_entry));
		if (!cp_pdfsyntax_parse_dict(text, text + tlen, entries)) {
			if (rev)
				g_array_free(entries, TRUE);
			g_free(text);
			bad(err, &f, _("damaged trailer dictionary"));
			goto done;
		}
		int64_t prev = -1;
		const dict_entry *e = cp_pdfsyntax_dict_find(entries, "Prev");
		if (e && (!cp_pdfsyntax_parse_uint(e->val, e->val + e->vlen, CP_PDFSYNTAX_MAX_OFFSET, &prev, &q) ||
		          prev >= f.size)) {
			if (rev)
				g_array_free(entries, TRUE);
			g_free(text);
			bad(err, &f, _("damaged /Prev in the trailer"));
			goto done;
		}
		if (rev == 0) {
			trailer_text = text; /* entries point into it */
			if (cp_pdfsyntax_dict_find(trailer, "Encrypt")) {
				bad(err, &f, _("the file is encrypted"));
				goto done;
			}
			e = cp_pdfsyntax_dict_find(trailer, "Root");
			if (!e || !cp_pdfsyntax_match_ref(e->val, e->val + e->vlen, &root_num, &root_gen)) {
				bad(err, &f, _("the trailer has no /Root"));
				goto done;
			}
			e = cp_pdfsyntax_dict_find(trailer, "Size");
			if (!e || !cp_pdfsyntax_parse_uint(e->val, e->val + e->vlen, CP_PDFSYNTAX_MAX_OBJECTS + 1, &size_entry, &q)) {
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
	const char *p = cp_pdfsyntax_skip_ws(cat_text, cend);
	if (!cp_pdfsyntax_parse_uint(p, cend, CP_PDFSYNTAX_MAX_OBJECTS, &on, &q) || on != root_num ||
	    !cp_pdfsyntax_parse_uint(cp_pdfsyntax_skip_ws(q, cend), cend, 65535, &og, &q) || og != root_gen ||
	    !cp_pdfsyntax_is_keyword((p = cp_pdfsyntax_skip_ws(q, cend)), cend, "obj")) {
		bad(err, &f, _("the catalog's cross-reference entry points at the wrong place"));
		goto done;
	}
	if (!cp_pdfsyntax_parse_dict(p + 3, cend, catalog)) {
		bad(err, &f, _("damaged catalog dictionary"));
		goto done;
	}
	const dict_entry *type = cp_pdfsyntax_dict_find(catalog, "Type");
	if (!type || type->vlen != 8 || memcmp(type->val, "/Catalog", 8) != 0) {
		bad(err, &f, _("the /Root object is not a catalog"));
		goto done;
	}

	/* The new revision: catalog, xref section, trailer. */
	char last = 0;
	if (f.size > 0 && cp_pdfsyntax_read_at(&f, f.size - 1, &last, 1, err) != 1)
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
		const dict_entry *te = cp_pdfsyntax_dict_find(trailer, carry[i]);
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
