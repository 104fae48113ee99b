/* SPDX-License-Identifier: MIT */
#include "trust/pdfdoc.h"

#include <string.h>

#include "error.h"
#include "i18n.h"
#include "output/pdfsyntax.h"
#include "output/pdfupdate.h"

static bool bad(const cp_pdfdoc *d, const char *what, const char *why, cp_error **err)
{
	cp_set_error(err, CP_E_PARSE, d->label, 0, 0, NULL, "%s: %s", what, why);
	return false;
}

/* Finds trailer dictionary text of the xref section at off; raises
 * *next past every object number it lists. */
static bool scan_xref(const cp_pdfdoc *d, int64_t off, const char **trailer, int64_t *next)
{
	const char *p = d->b + off, *end = d->b + d->n;
	if (!cp_pdfsyntax_is_keyword(p, end, "xref"))
		return false;
	p += 4;
	for (;;) {
		p = cp_pdfsyntax_skip_ws(p, end);
		if (cp_pdfsyntax_is_keyword(p, end, "trailer")) {
			*trailer = p + 7;
			return true;
		}
		int64_t start, count;
		const char *q;
		if (!cp_pdfsyntax_parse_uint(p, end, CP_PDFSYNTAX_MAX_OBJECTS, &start, &q) ||
		    !cp_pdfsyntax_parse_uint(cp_pdfsyntax_skip_ws(q, end), end,
		                             CP_PDFSYNTAX_MAX_OBJECTS, &count, &q))
			return false;
		p = cp_pdfsyntax_skip_ws(q, end);
		if ((end - p) / 20 < count)
			return false;
		if (count > 0 && start + count > *next)
			*next = start + count;
		p += 20 * count;
	}
}

/* Offset of object num in the section at off: 1 found, 0 not there, -1 bad. */
static int xref_lookup(const cp_pdfdoc *d, int64_t off, int64_t num, int64_t *at, int64_t *gen)
{
	const char *p = d->b + off + 4, *end = d->b + d->n;
	for (;;) {
		p = cp_pdfsyntax_skip_ws(p, end);
		if (cp_pdfsyntax_is_keyword(p, end, "trailer"))
			return 0;
		int64_t start, count;
		const char *q;
		if (!cp_pdfsyntax_parse_uint(p, end, CP_PDFSYNTAX_MAX_OBJECTS, &start, &q) ||
		    !cp_pdfsyntax_parse_uint(cp_pdfsyntax_skip_ws(q, end), end,
		                             CP_PDFSYNTAX_MAX_OBJECTS, &count, &q))
			return -1;
		p = cp_pdfsyntax_skip_ws(q, end);
		if ((end - p) / 20 < count)
			return -1;
		if (num >= start && num < start + count) {
			bool in_use;
			if (!cp_pdfsyntax_parse_xref_entry(p + 20 * (num - start), at, gen, &in_use))
				return -1;
			return in_use ? 1 : -1;
		}
		p += 20 * count;
	}
}

bool cp_pdfdoc_dict(const char *p, const char *end, GArray *entries)
{
	return cp_pdfsyntax_parse_dict(p, end, entries) != NULL;
}

bool cp_pdfdoc_open(cp_pdfdoc *d, const char *b, size_t n, const char *label,
                    const char *what, cp_error **err)
{
	memset(d, 0, sizeof *d);
	d->b = b;
	d->n = n;
	d->label = label;
	d->revs = g_array_new(FALSE, FALSE, sizeof(int64_t));
	d->trailer = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	if (n < 32 || memcmp(b, "%PDF-", 5) != 0)
		return bad(d, what, _("not a PDF file"), err);
	size_t tail = n < 1024 ? n : 1024;
	const char *sx = cp_pdfsyntax_rfind(b + n - tail, tail, "startxref");
	const char *q;
	if (!sx || !cp_pdfsyntax_parse_uint(cp_pdfsyntax_skip_ws(sx + 9, b + n), b + n,
	                                    (int64_t)n - 1, &d->xref_off, &q))
		return bad(d, what, _("no startxref at the end of the file"), err);
	int64_t cur = d->xref_off;
	for (int rev = 0; cur >= 0; rev++) {
		if (rev >= CP_PDF_MAX_REVISIONS)
			return bad(d, what, _("too many revisions"), err);
		for (guint i = 0; i < d->revs->len; i++)
			if (g_array_index(d->revs, int64_t, i) == cur)
				return bad(d, what, _("the /Prev chain loops"), err);
		const char *t;
		if (!scan_xref(d, cur, &t, &d->next_num))
			return bad(d, what, _("damaged or compressed cross-reference table "
			                      "(only classic tables are supported)"), err);
		g_array_append_val(d->revs, cur);
		GArray *entries = rev == 0 ? d->trailer
		                           : g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
		if (!cp_pdfsyntax_parse_dict(t, b + n, entries)) {
			if (rev)
				g_array_free(entries, TRUE);
			return bad(d, what, _("damaged trailer dictionary"), err);
		}
		int64_t prev = -1;
		const cp_pdf_dict_entry *e = cp_pdfsyntax_dict_find(entries, "Prev");
		bool ok = !e || cp_pdfsyntax_parse_uint(e->val, e->val + e->vlen, (int64_t)n - 1,
		                                       &prev, &q);
		if (rev)
			g_array_free(entries, TRUE);
		if (!ok)
			return bad(d, what, _("damaged /Prev in the trailer"), err);
		cur = prev;
	}
	if (cp_pdfsyntax_dict_find(d->trailer, "Encrypt"))
		return bad(d, what, _("the file is encrypted"), err);
	const cp_pdf_dict_entry *e = cp_pdfsyntax_dict_find(d->trailer, "Root");
	if (!e || !cp_pdfsyntax_match_ref(e->val, e->val + e->vlen, &d->root_num, &d->root_gen))
		return bad(d, what, _("the trailer has no /Root"), err);
	e = cp_pdfsyntax_dict_find(d->trailer, "Size");
	if (!e || !cp_pdfsyntax_parse_uint(e->val, e->val + e->vlen, CP_PDFSYNTAX_MAX_OBJECTS + 1,
	                                   &d->size, &q))
		return bad(d, what, _("the trailer has no valid /Size"), err);
	if (d->size > d->next_num)
		d->next_num = d->size;
	if (d->next_num + 8 > CP_PDFSYNTAX_MAX_OBJECTS)
		return bad(d, what, _("no object numbers left for the signature"), err);
	return true;
}

void cp_pdfdoc_clear(cp_pdfdoc *d)
{
	if (d->revs)
		g_array_free(d->revs, TRUE);
	if (d->trailer)
		g_array_free(d->trailer, TRUE);
	d->revs = d->trailer = NULL;
}

bool cp_pdfdoc_object(const cp_pdfdoc *d, int64_t num, int64_t gen, const char **dict,
                      const char **end, int64_t *offset)
{
	for (guint i = 0; i < d->revs->len; i++) {
		int64_t at, g;
		int r = xref_lookup(d, g_array_index(d->revs, int64_t, i), num, &at, &g);
		if (r < 0)
			return false;
		if (r == 0)
			continue;
		if (g != gen || at < 0 || (uint64_t)at >= d->n)
			return false;
		const char *p = d->b + at, *e = d->b + d->n, *q;
		int64_t on, og;
		if (!cp_pdfsyntax_parse_uint(p, e, CP_PDFSYNTAX_MAX_OBJECTS, &on, &q) || on != num ||
		    !cp_pdfsyntax_parse_uint(cp_pdfsyntax_skip_ws(q, e), e, 65535, &og, &q) ||
		    og != gen || !cp_pdfsyntax_is_keyword((p = cp_pdfsyntax_skip_ws(q, e)), e, "obj"))
			return false;
		p = cp_pdfsyntax_skip_ws(p + 3, e);
		if (e - p < 2 || p[0] != '<' || p[1] != '<')
			return false;
		const char *de = cp_pdfsyntax_skip_object(p, e, 0);
		if (!de)
			return false;
		*dict = p;
		*end = de;
		if (offset)
			*offset = at;
		return true;
	}
	return false;
}
