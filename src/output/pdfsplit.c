/* SPDX-License-Identifier: MIT */
#include "output/pdfsplit.h"

#include <inttypes.h>
#include <libdeflate.h>
#include <string.h>
#include <zlib.h>

#include "error.h"
#include "i18n.h"
#include "output/pdfsyntax.h"

#define MAX_TREE_DEPTH 32
#define MAX_FORM_DEPTH 8
#define MAX_FONT_BYTES (64u << 20)  /* a decoded font program */
#define NCODES 65536                /* two-byte codes of /Identity-H */
/* The font programs cut to a page are compressed at this libdeflate level:
 * 1 costs a third of the time of 6 for 1–2 % more bytes on CFF outlines. */
#define FONT_DEFLATE_LEVEL 1

/* An object of the document, parsed on first use. */
typedef struct sobj {
	int64_t off;        /* from the cross-reference table; -1: not in use */
	int state;          /* 0 not parsed, 1 parsed, -1 damaged */
	const char *v, *ve; /* the value's text */
	const char *data;   /* stream data, or NULL */
	size_t dlen;
} sobj;

/* A CID-keyed CFF font program, decoded, with what cutting it needs. */
typedef struct cff_font {
	bool usable;           /* understood: can be cut */
	guint8 *b;             /* the decoded program */
	size_t n;
	size_t cs_start, cs_end; /* the CharStrings INDEX */
	uint32_t nglyphs;
	uint32_t *glyph;       /* nglyphs + 1 absolute offsets of the charstrings */
	uint16_t *cid_gid;     /* NCODES entries: the glyph of a CID (0: none) */
	GArray *patch;         /* size_t: 5-byte offsets (operator 29) past cs_end */
} cff_font;

struct cp_pdf_split {
	const char *b;
	size_t n;
	const char *label;
	int64_t size;         /* object numbers 0..size-1 */
	sobj *objs;
	const char *header;   /* "%PDF-…" and the binary comment line */
	size_t header_len;
	int64_t root, info;   /* info 0: none */
	GArray *pages;        /* int64_t, in order */
	GHashTable *tree;     /* the catalog and page-tree nodes */
	GHashTable *is_page;
	GHashTable *fonts;    /* font program object -> cff_font */
	GHashTable *forms;    /* Form XObject -> form_memo: what it shows */
	struct libdeflate_compressor *deflate;
	/* per page */
	int64_t *map;         /* old number -> new (0: not copied) */
	GArray *order;        /* old numbers, in new order */
	int64_t last_page;    /* mapped to 3 by the last call */
	int trimmed, whole, cmaps_cut;
};

static bool bad(const cp_pdf_split *s, const char *what, cp_error **err)
{
	cp_set_error(err, CP_E_PARSE, s->label, 0, 0, NULL, _("cannot cut the PDF into pages: %s"),
	             what);
	return false;
}

/* ------------------------------------------------------------ objects */

static const sobj *get(cp_pdf_split *s, int64_t num)
{
	if (num <= 0 || num >= s->size)
		return NULL;
	sobj *o = &s->objs[num];
	if (o->state)
		return o->state > 0 ? o : NULL;
	o->state = -1;
	if (o->off < 0 || (uint64_t)o->off >= s->n)
		return NULL;
	const char *p = s->b + o->off, *e = s->b + s->n, *q;
	int64_t on, og;
	if (!cp_pdfsyntax_parse_uint(p, e, CP_PDFSYNTAX_MAX_OBJECTS, &on, &q) || on != num ||
	    !cp_pdfsyntax_parse_uint(cp_pdfsyntax_skip_ws(q, e), e, 65535, &og, &q) || og != 0 ||
	    !cp_pdfsyntax_is_keyword((p = cp_pdfsyntax_skip_ws(q, e)), e, "obj"))
		return NULL;
	o->v = cp_pdfsyntax_skip_ws(p + 3, e);
	o->ve = cp_pdfsyntax_skip_object(o->v, e, 0);
	if (!o->ve)
		return NULL;
	p = cp_pdfsyntax_skip_ws(o->ve, e);
	if (cp_pdfsyntax_is_keyword(p, e, "stream")) {
		p += 6;
		if (p < e && *p == '\r')
			p++;
		if (p >= e || *p != '\n')
			return NULL;
		p++;
		GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
		const cp_pdf_dict_entry *len = cp_pdfsyntax_parse_dict(o->v, o->ve, d)
		                               ? cp_pdfsyntax_dict_find(d, "Length") : NULL;
		int64_t l = -1, ln, lg;
		if (len && cp_pdfsyntax_match_ref(len->val, len->val + len->vlen, &ln, &lg)) {
			/* get(num) again here would see state -1: no loop */
			const sobj *lo = ln != num ? get(s, ln) : NULL;
			if (lo && !lo->data &&
			    !cp_pdfsyntax_parse_uint(lo->v, lo->ve, (int64_t)s->n, &l, &q))
				l = -1;
		} else if (len && !cp_pdfsyntax_parse_uint(len->val, len->val + len->vlen,
		                                           (int64_t)s->n, &l, &q)) {
			l = -1;
		}
		g_array_free(d, TRUE);
		if (l < 0 || (uint64_t)l > (uint64_t)(e - p))
			return NULL;
		const char *t = cp_pdfsyntax_skip_ws(p + l, e);
		if (!cp_pdfsyntax_is_keyword(t, e, "endstream"))
			return NULL;
		o->data = p;
		o->dlen = (size_t)l;
	}
	o->state = 1;
	return o;
}

/* The dictionary v[0..vlen) or, when it is a reference, the object's. */
static bool dict_of(cp_pdf_split *s, const char *v, size_t vlen, GArray *entries,
                    const sobj **obj)
{
	int64_t num, gen;
	g_array_set_size(entries, 0);
	if (obj)
		*obj = NULL;
	if (cp_pdfsyntax_match_ref(v, v + vlen, &num, &gen)) {
		const sobj *o = get(s, num);
		if (!o)
			return false;
		if (obj)
			*obj = o;
		return cp_pdfsyntax_parse_dict(o->v, o->ve, entries) != NULL;
	}
	return cp_pdfsyntax_parse_dict(v, v + vlen, entries) != NULL;
}

static bool entry_ref(const cp_pdf_dict_entry *e, int64_t *num)
{
	int64_t gen;
	return e && cp_pdfsyntax_match_ref(e->val, e->val + e->vlen, num, &gen) && gen == 0;
}

/* Calls fn for every indirect reference in [p, end); with out, also copies
 * the text there, each reference replaced by the number fn returns in *to. */
typedef bool (*ref_fn)(cp_pdf_split *s, int64_t num, int64_t *to, void *ud);

static bool each_ref(cp_pdf_split *s, const char *p, const char *end, ref_fn fn, void *ud,
                     GString *out)
{
	const char *copied = p;
	while (p < end) {
		char c = *p;
		if (cp_pdfsyntax_is_ws(c) || c == '%') {
			p = cp_pdfsyntax_skip_ws(p, end);
		} else if (c == '(') {
			p = cp_pdfsyntax_skip_string(p, end);
			if (!p)
				return false;
		} else if (c == '<' && p + 1 < end && p[1] == '<') {
			p += 2;
		} else if (c == '<') {
			p = memchr(p, '>', (size_t)(end - p));
			if (!p)
				return false;
			p++;
		} else if (c == '/') {
			p = cp_pdfsyntax_skip_regular(p + 1, end);
		} else if (cp_pdfsyntax_is_delim(c)) {
			p++;
		} else {
			int64_t num, gen, to = 0;
			const char *r = g_ascii_isdigit(c) ? cp_pdfsyntax_match_ref(p, end, &num, &gen)
			                                   : NULL;
			if (!r) {
				p = cp_pdfsyntax_skip_regular(p, end);
				continue;
			}
			if (gen != 0 || !fn(s, num, &to, ud))
				return false;
			if (out) {
				g_string_append_len(out, copied, p - copied);
				g_string_append_printf(out, "%" PRId64 " 0 R", to);
				copied = r;
			}
			p = r;
		}
	}
	if (out)
		g_string_append_len(out, copied, end - copied);
	return true;
}

/* ------------------------------------------------------------ structure */

static bool read_xref(cp_pdf_split *s, GArray *trailer, cp_error **err)
{
	const char *b = s->b, *e = s->b + s->n, *q;
	size_t tail = s->n < 1024 ? s->n : 1024;
	const char *sx = cp_pdfsyntax_rfind(e - tail, tail, "startxref");
	int64_t off;
	if (!sx || !cp_pdfsyntax_parse_uint(cp_pdfsyntax_skip_ws(sx + 9, e), e,
	                                    (int64_t)s->n - 1, &off, &q))
		return bad(s, _("no startxref at the end of the file"), err);
	const char *p = b + off;
	if (!cp_pdfsyntax_is_keyword(p, e, "xref"))
		return bad(s, _("no classic cross-reference table"), err);
	p += 4;
	GArray *subs = g_array_new(FALSE, FALSE, sizeof(cp_pdf_xref_sub));
	int64_t size = 0;
	for (;;) {
		p = cp_pdfsyntax_skip_ws(p, e);
		if (cp_pdfsyntax_is_keyword(p, e, "trailer"))
			break;
		cp_pdf_xref_sub sub;
		if (!cp_pdfsyntax_parse_uint(p, e, CP_PDFSYNTAX_MAX_OBJECTS, &sub.start, &q) ||
		    !cp_pdfsyntax_parse_uint(cp_pdfsyntax_skip_ws(q, e), e,
		                             CP_PDFSYNTAX_MAX_OBJECTS, &sub.count, &q)) {
			g_array_free(subs, TRUE);
			return bad(s, _("a damaged cross-reference table"), err);
		}
		p = cp_pdfsyntax_skip_ws(q, e);
		if ((e - p) / 20 < sub.count || sub.start + sub.count > CP_PDFSYNTAX_MAX_OBJECTS) {
			g_array_free(subs, TRUE);
			return bad(s, _("a damaged cross-reference table"), err);
		}
		sub.entries_at = p - b;
		if (sub.start + sub.count > size)
			size = sub.start + sub.count;
		g_array_append_val(subs, sub);
		p += 20 * sub.count;
	}
	if (size > (int64_t)(s->n / 8) + 1) {
		g_array_free(subs, TRUE);
		return bad(s, _("a damaged cross-reference table"), err);
	}
	s->size = size;
	s->objs = g_new(sobj, size ? size : 1);
	for (int64_t i = 0; i < size; i++)
		s->objs[i] = (sobj){.off = -1};
	for (guint i = 0; i < subs->len; i++) {
		const cp_pdf_xref_sub *sub = &g_array_index(subs, cp_pdf_xref_sub, i);
		for (int64_t k = 0; k < sub->count; k++) {
			int64_t o, g;
			bool in_use;
			if (!cp_pdfsyntax_parse_xref_entry(b + sub->entries_at + 20 * k, &o, &g, &in_use)) {
				g_array_free(subs, TRUE);
				return bad(s, _("a damaged cross-reference table"), err);
			}
			if (in_use)
				s->objs[sub->start + k].off = g == 0 ? o : -1;
		}
	}
	g_array_free(subs, TRUE);
	if (!cp_pdfsyntax_parse_dict(p + 7, e, trailer))
		return bad(s, _("a damaged trailer"), err);
	if (cp_pdfsyntax_dict_find(trailer, "Prev") || cp_pdfsyntax_dict_find(trailer, "Encrypt"))
		return bad(s, _("an updated or encrypted file"), err);
	return true;
}

static bool walk_tree(cp_pdf_split *s, int64_t num, int depth, GArray *d, cp_error **err)
{
	if (depth > MAX_TREE_DEPTH)
		return bad(s, _("the page tree is nested too deep"), err);
	const sobj *o = get(s, num);
	if (!o || g_hash_table_contains(s->tree, GINT_TO_POINTER(num)) ||
	    g_hash_table_contains(s->is_page, GINT_TO_POINTER(num)))
		return bad(s, _("a damaged page tree"), err);
	g_array_set_size(d, 0);
	if (!cp_pdfsyntax_parse_dict(o->v, o->ve, d))
		return bad(s, _("a damaged page tree"), err);
	const cp_pdf_dict_entry *type = cp_pdfsyntax_dict_find(d, "Type");
	if (cp_pdfsyntax_entry_is(type, "/Page")) {
		if (!cp_pdfsyntax_dict_find(d, "MediaBox") || !cp_pdfsyntax_dict_find(d, "Resources"))
			return bad(s, _("a page without its own /MediaBox and /Resources"), err);
		if (s->pages->len >= CP_PDF_SPLIT_MAX_PAGES)
			return bad(s, _("too many pages"), err);
		g_hash_table_add(s->is_page, GINT_TO_POINTER(num));
		g_array_append_val(s->pages, num);
		return true;
	}
	if (!cp_pdfsyntax_entry_is(type, "/Pages"))
		return bad(s, _("a damaged page tree"), err);
	static const char *const inherited[] = {"Resources", "MediaBox", "CropBox", "Rotate"};
	for (size_t i = 0; i < G_N_ELEMENTS(inherited); i++)
		if (cp_pdfsyntax_dict_find(d, inherited[i]))
			return bad(s, _("a page tree node with inherited attributes"), err);
	g_hash_table_add(s->tree, GINT_TO_POINTER(num));
	const cp_pdf_dict_entry *kids = cp_pdfsyntax_dict_find(d, "Kids");
	if (!kids || kids->vlen < 2 || kids->val[0] != '[')
		return bad(s, _("a damaged page tree"), err);
	GArray *kn = g_array_new(FALSE, FALSE, sizeof(int64_t));
	const char *p = kids->val + 1, *end = kids->val + kids->vlen - 1;
	bool ok = true;
	for (;;) {
		p = cp_pdfsyntax_skip_ws(p, end);
		if (p >= end)
			break;
		int64_t k, g;
		const char *r = cp_pdfsyntax_match_ref(p, end, &k, &g);
		if (!r || g != 0) {
			ok = bad(s, _("a damaged page tree"), err);
			break;
		}
		g_array_append_val(kn, k);
		p = r;
	}
	for (guint i = 0; ok && i < kn->len; i++)
		ok = walk_tree(s, g_array_index(kn, int64_t, i), depth + 1, d, err);
	g_array_free(kn, TRUE);
	return ok;
}

static void cff_font_free(gpointer p)
{
	cff_font *f = p;
	if (!f)
		return;
	g_free(f->b);
	g_free(f->glyph);
	g_free(f->cid_gid);
	if (f->patch)
		g_array_free(f->patch, TRUE);
	g_free(f);
}

static void form_memo_free(gpointer p);

cp_pdf_split *cp_pdf_split_new(const char *b, size_t n, const char *label, cp_error **err)
{
	cp_pdf_split *s = g_new0(cp_pdf_split, 1);
	s->b = b;
	s->n = n;
	s->label = label;
	s->pages = g_array_new(FALSE, FALSE, sizeof(int64_t));
	s->tree = g_hash_table_new(NULL, NULL);
	s->is_page = g_hash_table_new(NULL, NULL);
	s->fonts = g_hash_table_new_full(NULL, NULL, NULL, cff_font_free);
	s->forms = g_hash_table_new_full(NULL, NULL, NULL, form_memo_free);
	s->order = g_array_new(FALSE, FALSE, sizeof(int64_t));
	GArray *trailer = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	bool ok = false;
	if (n < 32 || memcmp(b, "%PDF-", 5) != 0) {
		bad(s, _("not a PDF file"), err);
		goto done;
	}
	/* The header line and the comment of binary bytes Cairo puts after it. */
	const char *eol = memchr(b, '\n', n);
	if (eol && eol + 1 < b + n && eol[1] == '%') {
		const char *eol2 = memchr(eol + 1, '\n', (size_t)(b + n - eol - 1));
		if (eol2)
			eol = eol2;
	}
	if (!eol || eol - b > 64) {
		bad(s, _("not a PDF file"), err);
		goto done;
	}
	s->header = b;
	s->header_len = (size_t)(eol + 1 - b);
	if (!read_xref(s, trailer, err))
		goto done;
	const cp_pdf_dict_entry *root = cp_pdfsyntax_dict_find(trailer, "Root");
	const cp_pdf_dict_entry *info = cp_pdfsyntax_dict_find(trailer, "Info");
	if (!entry_ref(root, &s->root) || (info && !entry_ref(info, &s->info))) {
		bad(s, _("a damaged trailer"), err);
		goto done;
	}
	const sobj *cat = get(s, s->root);
	int64_t pages;
	if (!cat || !cp_pdfsyntax_parse_dict(cat->v, cat->ve, d) ||
	    !entry_ref(cp_pdfsyntax_dict_find(d, "Pages"), &pages)) {
		bad(s, _("the catalog has no /Pages"), err);
		goto done;
	}
	g_hash_table_add(s->tree, GINT_TO_POINTER(s->root));
	if (!walk_tree(s, pages, 0, d, err))
		goto done;
	s->map = g_new0(int64_t, s->size ? s->size : 1);
	s->deflate = libdeflate_alloc_compressor(FONT_DEFLATE_LEVEL);
	if (!s->deflate) {
		cp_set_error(err, CP_E_NOMEM, label, 0, 0, NULL, _("out of memory"));
		goto done;
	}
	ok = true;
done:
	g_array_free(trailer, TRUE);
	g_array_free(d, TRUE);
	if (!ok) {
		cp_pdf_split_free(s);
		return NULL;
	}
	return s;
}

void cp_pdf_split_free(cp_pdf_split *s)
{
	if (!s)
		return;
	g_free(s->objs);
	g_free(s->map);
	g_array_free(s->pages, TRUE);
	g_array_free(s->order, TRUE);
	g_hash_table_destroy(s->tree);
	g_hash_table_destroy(s->is_page);
	g_hash_table_destroy(s->fonts);
	g_hash_table_destroy(s->forms);
	if (s->deflate)
		libdeflate_free_compressor(s->deflate);
	g_free(s);
}

int cp_pdf_split_pages(const cp_pdf_split *s)
{
	return (int)s->pages->len;
}

void cp_pdf_split_font_stats(const cp_pdf_split *s, int *trimmed, int *whole, int *cmaps)
{
	*trimmed = s->trimmed;
	*whole = s->whole;
	*cmaps = s->cmaps_cut;
}

/* ------------------------------------------------------------ CFF fonts */

static guint8 *inflate_all(const char *data, size_t n, size_t *out_n)
{
	z_stream z = {0};
	if (inflateInit(&z) != Z_OK)
		return NULL;
	size_t cap = n * 4 + 1024, len = 0;
	guint8 *out = g_malloc(cap);
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)n;
	int r;
	do {
		if (len == cap) {
			if (cap >= MAX_FONT_BYTES)
				break;
			cap *= 2;
			out = g_realloc(out, cap);
		}
		z.next_out = out + len;
		z.avail_out = (uInt)(cap - len);
		r = inflate(&z, Z_NO_FLUSH);
		len = cap - z.avail_out;
	} while (r == Z_OK || (r == Z_BUF_ERROR && z.avail_out == 0));
	inflateEnd(&z);
	if (r != Z_STREAM_END) {
		g_free(out);
		return NULL;
	}
	*out_n = len;
	return out;
}

/* An INDEX at off: count, offset size, first data byte (minus one, as
 * offsets count from 1) and its end. */
typedef struct cff_index {
	size_t at, count, offsize, base, end;
} cff_index;

static bool cff_index_read(const guint8 *b, size_t n, size_t off, cff_index *x)
{
	if (off + 2 > n)
		return false;
	x->at = off;
	x->count = (size_t)b[off] << 8 | b[off + 1];
	if (x->count == 0) {
		x->offsize = 0;
		x->base = x->end = off + 2;
		return true;
	}
	if (off + 3 > n)
		return false;
	x->offsize = b[off + 2];
	if (x->offsize < 1 || x->offsize > 4 || (n - off - 3) / x->offsize < x->count + 1)
		return false;
	x->base = off + 3 + (x->count + 1) * x->offsize - 1;
	size_t last = 0;
	for (size_t i = 0; i <= x->count; i++) {
		size_t v = 0;
		for (size_t k = 0; k < x->offsize; k++)
			v = v << 8 | b[off + 3 + i * x->offsize + k];
		if (v < 1 || v < last || v - 1 > n - x->base - 1)
			return false;
		last = v;
	}
	x->end = x->base + last;
	return x->end <= n;
}

static size_t cff_index_off(const guint8 *b, const cff_index *x, size_t i)
{
	size_t v = 0;
	for (size_t k = 0; k < x->offsize; k++)
		v = v << 8 | b[x->at + 3 + i * x->offsize + k];
	return x->base + v;
}

/* A DICT operand list: values and, for 5-byte integers, where they are. */
typedef struct cff_op {
	int op;           /* 0..21, or 1200 + escaped operator */
	int nargs;
	int64_t arg[4];
	size_t at[4];     /* position of a 5-byte integer (operator 29), or 0 */
} cff_op;

/* Calls fn for every operator of the DICT [p, end). */
static bool cff_dict(const guint8 *b, size_t p, size_t end,
                     bool (*fn)(const cff_op *o, void *ud), void *ud)
{
	cff_op o = {0};
	while (p < end) {
		guint8 v = b[p];
		if (v <= 21) {
			if (v == 12) {
				if (p + 1 >= end)
					return false;
				o.op = 1200 + b[p + 1];
				p += 2;
			} else {
				o.op = v;
				p++;
			}
			if (!fn(&o, ud))
				return false;
			o = (cff_op){0};
			continue;
		}
		int64_t val = 0;
		size_t at = 0;
		if (v == 28) {
			if (p + 3 > end)
				return false;
			val = (int16_t)(b[p + 1] << 8 | b[p + 2]);
			p += 3;
		} else if (v == 29) {
			if (p + 5 > end)
				return false;
			val = (int32_t)((uint32_t)b[p + 1] << 24 | (uint32_t)b[p + 2] << 16 |
			                (uint32_t)b[p + 3] << 8 | b[p + 4]);
			at = p;
			p += 5;
		} else if (v == 30) {
			for (p++; p < end; p++)
				if ((b[p] & 15) == 15 || (b[p] >> 4) == 15)
					break;
			if (p++ >= end)
				return false;
		} else if (v >= 32 && v <= 246) {
			val = v - 139;
			p++;
		} else if (v >= 247 && v <= 250) {
			if (p + 2 > end)
				return false;
			val = (v - 247) * 256 + b[p + 1] + 108;
			p += 2;
		} else if (v >= 251 && v <= 254) {
			if (p + 2 > end)
				return false;
			val = -(v - 251) * 256 - b[p + 1] - 108;
			p += 2;
		} else {
			return false;
		}
		if (o.nargs < 4) {
			o.arg[o.nargs] = val;
			o.at[o.nargs] = at;
		}
		o.nargs++;
	}
	return true;
}

/* The offsets a DICT holds, checked against the CharStrings INDEX: one
 * past it must be a 5-byte integer (it is moved when the INDEX shrinks). */
typedef struct cff_scan {
	cff_font *f;
	bool ros;
	int64_t charstrings, charset, fdarray, fdselect;
	bool ok;
} cff_scan;

static bool note_offset(cff_scan *c, int64_t v, size_t at)
{
	if (v < 0 || (size_t)v > c->f->n)
		return false;
	if (c->f->cs_end && (size_t)v >= c->f->cs_end) {
		if (!at)
			return false;
		g_array_append_val(c->f->patch, at);
	} else if (c->f->cs_end && (size_t)v > c->f->cs_start) {
		return false;
	}
	return true;
}

static bool top_op(const cff_op *o, void *ud)
{
	cff_scan *c = ud;
	if (o->nargs < 1 && o->op != 1230)
		return true;
	switch (o->op) {
	case 1230:
		c->ros = true;
		return true;
	case 17:
		c->charstrings = o->arg[0];
		return true;
	case 15:
		c->charset = o->arg[0];
		return true;
	case 1236:
		c->fdarray = o->arg[0];
		return true;
	case 1237:
		c->fdselect = o->arg[0];
		return true;
	case 16:
	case 18:
		/* A CID-keyed font has neither an Encoding nor a top Private. */
		return false;
	default:
		return true;
	}
}

/* The second pass, once the CharStrings INDEX is known: every offset. */
static bool top_patch(const cff_op *o, void *ud)
{
	cff_scan *c = ud;
	if (o->op == 17 || o->op == 15 || o->op == 1236 || o->op == 1237)
		return o->nargs == 1 && note_offset(c, o->arg[0], o->at[0]);
	return true;
}

static bool fd_patch(const cff_op *o, void *ud)
{
	cff_scan *c = ud;
	if (o->op == 18)
		return o->nargs == 2 && note_offset(c, o->arg[1], o->at[1]);
	return true;
}

/* Decodes and reads the font program of stream object o. NULL fields mean
 * it cannot be cut (f->usable false), never an error: it is copied whole. */
static cff_font *cff_load(const sobj *o)
{
	cff_font *f = g_new0(cff_font, 1);
	f->patch = g_array_new(FALSE, FALSE, sizeof(size_t));
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	if (!cp_pdfsyntax_parse_dict(o->v, o->ve, d))
		goto done;
	const cp_pdf_dict_entry *flt = cp_pdfsyntax_dict_find(d, "Filter");
	if (!cp_pdfsyntax_entry_is(cp_pdfsyntax_dict_find(d, "Subtype"), "/CIDFontType0C") ||
	    cp_pdfsyntax_dict_find(d, "DecodeParms") || (flt && !cp_pdfsyntax_entry_is(flt, "/FlateDecode")))
		goto done;
	if (flt) {
		f->b = inflate_all(o->data, o->dlen, &f->n);
	} else {
		f->b = g_memdup2(o->data, o->dlen);
		f->n = o->dlen;
	}
	const guint8 *b = f->b;
	size_t n = f->n;
	if (!b || n < 4 || b[0] != 1 || b[2] < 4 || b[2] >= n)
		goto done;
	cff_index name, top, str, gsub, cs, fda;
	if (!cff_index_read(b, n, b[2], &name) || !cff_index_read(b, n, name.end, &top) ||
	    top.count != 1 || !cff_index_read(b, n, top.end, &str) ||
	    !cff_index_read(b, n, str.end, &gsub))
		goto done;
	cff_scan c = {.f = f, .charstrings = -1, .charset = -1, .fdarray = -1, .fdselect = -1};
	size_t t0 = cff_index_off(b, &top, 0), t1 = cff_index_off(b, &top, 1);
	if (!cff_dict(b, t0, t1, top_op, &c) || !c.ros || c.charstrings <= 0 || c.charset <= 2 ||
	    c.fdarray <= 0 || c.fdselect <= 0 || !cff_index_read(b, n, (size_t)c.charstrings, &cs) ||
	    cs.count < 1)
		goto done;
	f->cs_start = cs.at;
	f->cs_end = cs.end;
	f->nglyphs = (uint32_t)cs.count;
	if (!cff_dict(b, t0, t1, top_patch, &c) ||
	    !cff_index_read(b, n, (size_t)c.fdarray, &fda))
		goto done;
	for (size_t i = 0; i < fda.count; i++)
		if (!cff_dict(b, cff_index_off(b, &fda, i), cff_index_off(b, &fda, i + 1), fd_patch, &c))
			goto done;
	f->glyph = g_new(uint32_t, cs.count + 1);
	for (size_t i = 0; i <= cs.count; i++)
		f->glyph[i] = (uint32_t)cff_index_off(b, &cs, i);
	/* The charset names the CID of every glyph but .notdef. */
	f->cid_gid = g_new0(uint16_t, NCODES);
	size_t p = (size_t)c.charset;
	if (p >= n)
		goto done;
	int fmt = b[p++];
	for (uint32_t gid = 1; gid < f->nglyphs;) {
		if (fmt == 0) {
			if (p + 2 > n)
				goto done;
			f->cid_gid[b[p] << 8 | b[p + 1]] = (uint16_t)gid++;
			p += 2;
		} else if (fmt == 1 || fmt == 2) {
			size_t w = fmt == 1 ? 3 : 4;
			if (p + w > n)
				goto done;
			uint32_t first = (uint32_t)(b[p] << 8 | b[p + 1]);
			uint32_t left = fmt == 1 ? b[p + 2] : (uint32_t)(b[p + 2] << 8 | b[p + 3]);
			p += w;
			for (uint32_t k = 0; k <= left && gid < f->nglyphs; k++, gid++) {
				if (first + k >= NCODES)
					goto done;
				f->cid_gid[first + k] = (uint16_t)gid;
			}
		} else {
			goto done;
		}
	}
	if (f->nglyphs > 65535)
		goto done;
	f->usable = true;
done:
	g_array_free(d, TRUE);
	return f;
}

static void put_u32(guint8 *p, uint32_t v)
{
	p[0] = (guint8)(v >> 24);
	p[1] = (guint8)(v >> 16);
	p[2] = (guint8)(v >> 8);
	p[3] = (guint8)v;
}

/* The program with every glyph whose CID is not in used (a bitmap of
 * NCODES bits) replaced by endchar; NULL when every glyph is used. */
static guint8 *cff_cut(const cff_font *f, const guint8 *used, size_t *out_n)
{
	guint8 *keep = g_malloc0(f->nglyphs);
	keep[0] = 1;
	for (uint32_t byte = 0; byte < NCODES / 8; byte++) {
		unsigned bits = used[byte];
		for (uint32_t cid = byte * 8; bits; bits >>= 1, cid++)
			if (bits & 1)
				keep[f->cid_gid[cid]] = 1;
	}
	size_t data = 0;
	uint32_t kept = 0;
	for (uint32_t g = 0; g < f->nglyphs; g++) {
		if (keep[g]) {
			kept++;
			data += f->glyph[g + 1] - f->glyph[g];
		} else {
			data += 1;
		}
	}
	if (kept == f->nglyphs) {
		g_free(keep);
		return NULL;
	}
	size_t offsize = data + 1 <= 0xff ? 1 : data + 1 <= 0xffff ? 2 : data + 1 <= 0xffffff ? 3 : 4;
	size_t ilen = 3 + (f->nglyphs + 1) * offsize + data;
	size_t old = f->cs_end - f->cs_start;
	size_t n = f->n - old + ilen;
	guint8 *o = g_malloc(n);
	memcpy(o, f->b, f->cs_start);
	guint8 *x = o + f->cs_start;
	x[0] = (guint8)(f->nglyphs >> 8);
	x[1] = (guint8)f->nglyphs;
	x[2] = (guint8)offsize;
	guint8 *offs = x + 3, *dp = x + 3 + (f->nglyphs + 1) * offsize;
	size_t at = 1;
	for (uint32_t g = 0; g <= f->nglyphs; g++) {
		for (size_t k = 0; k < offsize; k++)
			offs[g * offsize + k] = (guint8)(at >> (8 * (offsize - 1 - k)));
		if (g == f->nglyphs)
			break;
		if (keep[g]) {
			size_t l = f->glyph[g + 1] - f->glyph[g];
			memcpy(dp, f->b + f->glyph[g], l);
			dp += l;
			at += l;
		} else {
			*dp++ = 14; /* endchar */
			at++;
		}
	}
	memcpy(o + f->cs_start + ilen, f->b + f->cs_end, f->n - f->cs_end);
	int64_t delta = (int64_t)ilen - (int64_t)old;
	for (guint i = 0; i < f->patch->len; i++) {
		size_t pos = g_array_index(f->patch, size_t, i);
		const guint8 *v = f->b + pos + 1;
		int64_t val = (int32_t)((uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 |
		                        (uint32_t)v[2] << 8 | v[3]);
		size_t npos = pos >= f->cs_end ? (size_t)((int64_t)pos + delta) : pos;
		put_u32(o + npos + 1, (uint32_t)(val + delta));
	}
	g_free(keep);
	*out_n = n;
	return o;
}

/* ------------------------------------------------------ glyphs in use */

/* What a page's content shows, per font program. */
typedef struct usage {
	cp_pdf_split *s;
	GHashTable *used;     /* font program object -> bitmap of NCODES bits */
	GHashTable *whole;    /* font programs to copy whole */
	GHashTable *scanned;  /* content streams read */
	bool ok;              /* false: copy every font whole */
} usage;

/* What a Form XObject with resources of its own shows: the same on every
 * page that paints it (the layout's static layer is one, on all pages). */
typedef struct form_memo {
	usage u;
} form_memo;

static void usage_init(usage *u, cp_pdf_split *s)
{
	*u = (usage){
		.s = s, .ok = true,
		.used = g_hash_table_new_full(NULL, NULL, NULL, g_free),
		.whole = g_hash_table_new(NULL, NULL),
		.scanned = g_hash_table_new(NULL, NULL),
	};
}

static void usage_clear(usage *u)
{
	g_hash_table_destroy(u->used);
	g_hash_table_destroy(u->whole);
	g_hash_table_destroy(u->scanned);
}

static void form_memo_free(gpointer p)
{
	form_memo *m = p;
	usage_clear(&m->u);
	g_free(m);
}

/* Adds what from shows to u. */
static void usage_merge(usage *u, const usage *from)
{
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, from->scanned);
	while (g_hash_table_iter_next(&it, &k, NULL))
		g_hash_table_add(u->scanned, k);
	g_hash_table_iter_init(&it, from->whole);
	while (g_hash_table_iter_next(&it, &k, NULL))
		g_hash_table_add(u->whole, k);
	g_hash_table_iter_init(&it, from->used);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		guint8 *bits = g_hash_table_lookup(u->used, k);
		if (!bits) {
			g_hash_table_insert(u->used, k, g_memdup2(v, NCODES / 8));
			continue;
		}
		const guint8 *add = v;
		for (size_t i = 0; i < NCODES / 8; i++)
			bits[i] |= add[i];
	}
}

/* The font program behind a Type0 font with /Identity-H, and whether its
 * codes are CIDs we can follow; 0 when there is none to cut. */
static int64_t font_program(cp_pdf_split *s, int64_t font, bool *identity, int64_t *to_unicode,
                            int64_t *cid_font)
{
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	int64_t out = 0, cid, desc, file;
	const sobj *o = get(s, font);
	*identity = false;
	if (to_unicode)
		*to_unicode = 0;
	if (!o || !cp_pdfsyntax_parse_dict(o->v, o->ve, d) ||
	    !cp_pdfsyntax_entry_is(cp_pdfsyntax_dict_find(d, "Subtype"), "/Type0"))
		goto done;
	*identity = cp_pdfsyntax_entry_is(cp_pdfsyntax_dict_find(d, "Encoding"), "/Identity-H");
	if (to_unicode && !entry_ref(cp_pdfsyntax_dict_find(d, "ToUnicode"), to_unicode))
		*to_unicode = 0;
	const cp_pdf_dict_entry *df = cp_pdfsyntax_dict_find(d, "DescendantFonts");
	if (!df || df->vlen < 2 || df->val[0] != '[')
		goto done;
	int64_t gen;
	if (!cp_pdfsyntax_match_ref(df->val + 1, df->val + df->vlen, &cid, &gen) || gen != 0 ||
	    !dict_of(s, df->val + 1, df->vlen - 1, d, NULL) ||
	    !cp_pdfsyntax_entry_is(cp_pdfsyntax_dict_find(d, "Subtype"), "/CIDFontType0") ||
	    !entry_ref(cp_pdfsyntax_dict_find(d, "FontDescriptor"), &desc))
		goto done;
	const sobj *dd = get(s, desc);
	g_array_set_size(d, 0);
	if (!dd || !cp_pdfsyntax_parse_dict(dd->v, dd->ve, d) ||
	    !entry_ref(cp_pdfsyntax_dict_find(d, "FontFile3"), &file))
		goto done;
	out = file;
	if (cid_font)
		*cid_font = cid;
done:
	g_array_free(d, TRUE);
	return out;
}

static bool scan_content(usage *u, const char *res, size_t reslen, const char *data,
                         size_t len, int depth);

/* The object a resource name stands for: /Font or /XObject of res. */
static int64_t resource(usage *u, const char *res, size_t reslen, const char *kind,
                        const char *name, size_t nlen)
{
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	int64_t num = 0;
	if (dict_of(u->s, res, reslen, d, NULL)) {
		const cp_pdf_dict_entry *k = cp_pdfsyntax_dict_find(d, kind);
		if (k) {
			const char *kv = k->val;
			size_t kl = k->vlen;
			if (dict_of(u->s, kv, kl, d, NULL)) {
				for (guint i = 0; i < d->len; i++) {
					const cp_pdf_dict_entry *e = &g_array_index(d, cp_pdf_dict_entry, i);
					if (e->klen == nlen && memcmp(e->key, name, nlen) == 0) {
						if (!entry_ref(e, &num))
							num = 0;
						break;
					}
				}
			}
		}
	}
	g_array_free(d, TRUE);
	return num;
}

/* A Form XObject painted by Do: its content with its own resources. */
static bool scan_form(usage *u, int64_t num, const char *res, size_t reslen, int depth)
{
	const sobj *o = get(u->s, num);
	if (!o)
		return false;
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	bool ok = false;
	if (!cp_pdfsyntax_parse_dict(o->v, o->ve, d))
		goto done;
	const cp_pdf_dict_entry *st = cp_pdfsyntax_dict_find(d, "Subtype");
	if (cp_pdfsyntax_entry_is(st, "/Image")) {
		ok = true;
		goto done;
	}
	if (!cp_pdfsyntax_entry_is(st, "/Form") || !o->data)
		goto done;
	if (g_hash_table_contains(u->scanned, GINT_TO_POINTER(num))) {
		ok = true;
		goto done;
	}
	g_hash_table_add(u->scanned, GINT_TO_POINTER(num));
	const cp_pdf_dict_entry *fr = cp_pdfsyntax_dict_find(d, "Resources");
	const cp_pdf_dict_entry *flt = cp_pdfsyntax_dict_find(d, "Filter");
	const char *r = fr ? fr->val : res;
	size_t rl = fr ? fr->vlen : reslen;
	if (cp_pdfsyntax_dict_find(d, "DecodeParms"))
		goto done;
	form_memo *m = fr ? g_hash_table_lookup(u->s->forms, GINT_TO_POINTER(num)) : NULL;
	if (m) {
		usage_merge(u, &m->u);
		ok = m->u.ok;
		goto done;
	}
	usage own, *into = u;
	if (fr) {
		usage_init(&own, u->s);
		g_hash_table_add(own.scanned, GINT_TO_POINTER(num));
		into = &own;
	}
	if (flt && cp_pdfsyntax_entry_is(flt, "/FlateDecode")) {
		size_t n;
		guint8 *plain = inflate_all(o->data, o->dlen, &n);
		if (plain)
			ok = scan_content(into, r, rl, (const char *)plain, n, depth + 1);
		g_free(plain);
	} else if (!flt) {
		ok = scan_content(into, r, rl, o->data, o->dlen, depth + 1);
	}
	if (fr) {
		m = g_new0(form_memo, 1);
		m->u = own;
		m->u.ok = ok;
		g_hash_table_insert(u->s->forms, GINT_TO_POINTER(num), m);
		usage_merge(u, &m->u);
	}
done:
	g_array_free(d, TRUE);
	return ok;
}

static void add_codes(usage *u, int64_t file, const char *p, const char *end)
{
	guint8 *bits = g_hash_table_lookup(u->used, GINT_TO_POINTER(file));
	if (!bits) {
		bits = g_malloc0(NCODES / 8);
		g_hash_table_insert(u->used, GINT_TO_POINTER(file), bits);
	}
	unsigned code = 0, nib = 0;
	for (; p < end; p++) {
		int h = g_ascii_xdigit_value(*p);
		if (h < 0)
			continue;
		code = code << 4 | (unsigned)h;
		if (++nib == 4) {
			bits[code >> 3] |= (guint8)(1u << (code & 7));
			code = nib = 0;
		}
	}
	if (nib) /* a code cut short: not a two-byte string after all */
		g_hash_table_add(u->whole, GINT_TO_POINTER(file));
}

#define MAX_OPERANDS 64

/* Reads a content stream for the text it shows (Tf, Tj, TJ, ', ") and the
 * forms it paints (Do). */
static bool scan_content(usage *u, const char *res, size_t reslen, const char *data,
                         size_t len, int depth)
{
	if (depth > MAX_FORM_DEPTH)
		return false;
	const char *p = data, *end = data + len;
	const char *hex[MAX_OPERANDS], *hex_end[MAX_OPERANDS];
	int nhex = 0;
	bool literal = false, overflow = false;
	const char *name = NULL;
	size_t nlen = 0;
	int64_t file = 0;       /* the current font's program, 0: none to cut */
	bool identity = false;
	int array = 0;
	/* The fonts this stream selected so far: Cairo selects one again at
	 * every text object. */
	struct {
		const char *name;
		size_t nlen;
		int64_t file;
		bool identity;
	} seen[8];
	int nseen = 0;
	while (p < end) {
		char c = *p;
		if (cp_pdfsyntax_is_ws(c) || c == '%') {
			p = cp_pdfsyntax_skip_ws(p, end);
		} else if (c == '(') {
			p = cp_pdfsyntax_skip_string(p, end);
			if (!p)
				return false;
			literal = true;
		} else if (c == '<' && p + 1 < end && p[1] == '<') {
			p = cp_pdfsyntax_skip_object(p, end, 1);
			if (!p)
				return false;
		} else if (c == '<') {
			const char *q = memchr(p, '>', (size_t)(end - p));
			if (!q)
				return false;
			if (nhex < MAX_OPERANDS) {
				hex[nhex] = p + 1;
				hex_end[nhex++] = q;
			} else {
				overflow = true;
			}
			p = q + 1;
		} else if (c == '[') {
			array++;
			p++;
		} else if (c == ']') {
			array--;
			p++;
		} else if (c == '/') {
			name = p + 1;
			p = cp_pdfsyntax_skip_regular(p + 1, end);
			nlen = (size_t)(p - name);
		} else if (cp_pdfsyntax_is_delim(c)) {
			return false;
		} else {
			const char *s = p;
			p = cp_pdfsyntax_skip_regular(p, end);
			size_t n = (size_t)(p - s);
			if (g_ascii_isdigit(c) || c == '-' || c == '+' || c == '.')
				continue;
			if (array) /* only numbers and strings inside TJ's array */
				return false;
			if ((n == 2 && memcmp(s, "Tf", 2) == 0)) {
				if (!name)
					return false;
				int k = 0;
				while (k < nseen && !(seen[k].nlen == nlen &&
				                      memcmp(seen[k].name, name, nlen) == 0))
					k++;
				if (k < nseen) {
					file = seen[k].file;
					identity = seen[k].identity;
				} else {
					int64_t font = resource(u, res, reslen, "Font", name, nlen);
					file = font ? font_program(u->s, font, &identity, NULL, NULL) : 0;
					if (file && !identity)
						g_hash_table_add(u->whole, GINT_TO_POINTER(file));
					if (nseen < (int)G_N_ELEMENTS(seen)) {
						seen[nseen].name = name;
						seen[nseen].nlen = nlen;
						seen[nseen].file = file;
						seen[nseen++].identity = identity;
					}
				}
			} else if ((n == 2 && (memcmp(s, "Tj", 2) == 0 || memcmp(s, "TJ", 2) == 0)) ||
			           (n == 1 && (*s == '\'' || *s == '"'))) {
				if (file && (literal || overflow))
					g_hash_table_add(u->whole, GINT_TO_POINTER(file));
				for (int i = 0; file && i < nhex; i++)
					add_codes(u, file, hex[i], hex_end[i]);
			} else if (n == 2 && memcmp(s, "Do", 2) == 0) {
				if (!name)
					return false;
				int64_t x = resource(u, res, reslen, "XObject", name, nlen);
				if (!x || !scan_form(u, x, res, reslen, depth))
					return false;
			} else if (n == 2 && memcmp(s, "BI", 2) == 0) {
				return false; /* inline image data is not PDF syntax */
			}
			nhex = 0;
			literal = overflow = false;
			name = NULL;
		}
	}
	return array == 0;
}

/* The page's content: a stream or an array of streams (concatenated). */
static void scan_page(usage *u, GArray *page)
{
	const cp_pdf_dict_entry *res = cp_pdfsyntax_dict_find(page, "Resources");
	const cp_pdf_dict_entry *ct = cp_pdfsyntax_dict_find(page, "Contents");
	if (!res || !ct) {
		u->ok = ct == NULL;
		return;
	}
	GString *all = g_string_new(NULL);
	const char *p = ct->val, *end = ct->val + ct->vlen;
	if (*p == '[')
		p++, end--;
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	for (;;) {
		p = cp_pdfsyntax_skip_ws(p, end);
		if (p >= end)
			break;
		int64_t num, gen;
		const char *r = cp_pdfsyntax_match_ref(p, end, &num, &gen);
		const sobj *o = r ? get(u->s, num) : NULL;
		g_array_set_size(d, 0);
		if (!o || !o->data || !cp_pdfsyntax_parse_dict(o->v, o->ve, d) ||
		    cp_pdfsyntax_dict_find(d, "DecodeParms")) {
			u->ok = false;
			break;
		}
		g_hash_table_add(u->scanned, GINT_TO_POINTER(num));
		const cp_pdf_dict_entry *flt = cp_pdfsyntax_dict_find(d, "Filter");
		if (flt && cp_pdfsyntax_entry_is(flt, "/FlateDecode")) {
			size_t n;
			guint8 *plain = inflate_all(o->data, o->dlen, &n);
			if (!plain) {
				u->ok = false;
				break;
			}
			g_string_append_len(all, (const char *)plain, (gssize)n);
			g_free(plain);
		} else if (!flt) {
			g_string_append_len(all, o->data, (gssize)o->dlen);
		} else {
			u->ok = false;
			break;
		}
		g_string_append_c(all, '\n');
		p = r;
	}
	if (u->ok)
		u->ok = scan_content(u, res->val, res->vlen, all->str, all->len, 0);
	g_array_free(d, TRUE);
	g_string_free(all, TRUE);
}

/* ------------------------------------------------------------ one page */

/* Whether a non-stream object may be a Type0 font (checked properly by
 * font_program()). */
static bool maybe_type0(const sobj *o)
{
	return cp_pdfsyntax_find(o->v, (size_t)(o->ve - o->v), "/Type0") != NULL;
}

typedef struct walker {
	GArray *stack;
	int64_t next;
	int64_t page;
	bool foreign;    /* reached another page or the page tree */
} walker;

static bool visit(cp_pdf_split *s, int64_t num, int64_t *to, void *ud)
{
	walker *w = ud;
	if (num == w->page) {
		*to = 3;
		return true;
	}
	if (g_hash_table_contains(s->tree, GINT_TO_POINTER(num)) ||
	    g_hash_table_contains(s->is_page, GINT_TO_POINTER(num))) {
		w->foreign = true;
		return false;
	}
	if (!get(s, num))
		return false;
	if (!s->map[num]) {
		s->map[num] = w->next++;
		g_array_append_val(s->order, num);
		g_array_append_val(w->stack, num);
	}
	*to = s->map[num];
	return true;
}

static bool mapped(cp_pdf_split *s, int64_t num, int64_t *to, void *ud)
{
	(void)ud;
	if (num <= 0 || num >= s->size || !s->map[num])
		return false;
	*to = s->map[num];
	return true;
}

/* A stream that draws (and may show text with the page's fonts). */
static bool draws(const sobj *o, GArray *d)
{
	g_array_set_size(d, 0);
	if (!cp_pdfsyntax_parse_dict(o->v, o->ve, d))
		return true;
	const cp_pdf_dict_entry *st = cp_pdfsyntax_dict_find(d, "Subtype");
	return cp_pdfsyntax_entry_is(st, "/Form") || cp_pdfsyntax_entry_is(st, "/Type3") ||
	       cp_pdfsyntax_dict_find(d, "PatternType") || cp_pdfsyntax_dict_find(d, "CharProcs");
}

/* Appends dictionary entries of d except those named in skip (NULL-ended),
 * references renumbered. */
static bool put_entries(cp_pdf_split *s, GArray *d, const char *const *skip, GString *out)
{
	for (guint i = 0; i < d->len; i++) {
		const cp_pdf_dict_entry *e = &g_array_index(d, cp_pdf_dict_entry, i);
		bool drop = false;
		for (const char *const *k = skip; *k && !drop; k++)
			drop = e->klen == strlen(*k) && memcmp(e->key, *k, e->klen) == 0;
		if (drop)
			continue;
		g_string_append(out, "\n   /");
		g_string_append_len(out, e->key, (gssize)e->klen);
		g_string_append_c(out, ' ');
		if (!each_ref(s, e->val, e->val + e->vlen, mapped, NULL, out))
			return false;
	}
	return true;
}

/* Writes stream o deflated when it has no filter and that makes it
 * smaller: a page's content, which pdf.c has Cairo leave plain (pdf.h,
 * cp_pdf_process_init()). *done when written. */
static bool put_deflated(cp_pdf_split *s, const sobj *o, GString *out, bool *done)
{
	*done = false;
	if (o->dlen < CP_PDFSYNTAX_DEFLATE_MIN)
		return true;
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	unsigned char *z = NULL;
	size_t cap = 0;
	bool ok = true;
	if (cp_pdfsyntax_parse_dict(o->v, o->ve, d) && cp_pdfsyntax_plain_stream(d)) {
		size_t zn = cp_pdfsyntax_deflate(s->deflate, o->data, o->dlen, &z, &cap);
		if (zn > 0) {
			static const char *const skip[] = {"Length", "Filter", "DecodeParms", NULL};
			g_string_append(out, "<<");
			ok = put_entries(s, d, skip, out);
			g_string_append_printf(out, "\n   /Filter /FlateDecode /Length %zu\n>>\nstream\n",
			                       zn);
			g_string_append_len(out, (const char *)z, (gssize)zn);
			g_string_append(out, "\nendstream");
			*done = ok;
		}
	}
	g_free(z);
	g_array_free(d, TRUE);
	return ok;
}

static bool put_font(cp_pdf_split *s, const sobj *o, const guint8 *used, GString *out,
                     bool *done)
{
	*done = false;
	int64_t num = o - s->objs;
	cff_font *f = g_hash_table_lookup(s->fonts, GINT_TO_POINTER(num));
	if (!f) {
		f = cff_load(o);
		g_hash_table_insert(s->fonts, GINT_TO_POINTER(num), f);
	}
	if (!f->usable)
		return true;
	size_t cn;
	guint8 *cut = cff_cut(f, used, &cn);
	if (!cut)
		return true;
	size_t bound = libdeflate_zlib_compress_bound(s->deflate, cn);
	guint8 *z = g_malloc(bound);
	size_t zn = libdeflate_zlib_compress(s->deflate, cut, cn, z, bound);
	g_free(cut);
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	bool ok = zn > 0 && cp_pdfsyntax_parse_dict(o->v, o->ve, d);
	static const char *const skip[] = {"Length", "Filter", "DecodeParms", NULL};
	if (ok) {
		g_string_append(out, "<<");
		ok = put_entries(s, d, skip, out);
		g_string_append_printf(out, "\n   /Filter /FlateDecode /Length %zu\n>>\nstream\n", zn);
		g_string_append_len(out, (const char *)z, (gssize)zn);
		g_string_append(out, "\nendstream");
	}
	g_array_free(d, TRUE);
	g_free(z);
	*done = ok;
	return ok;
}

static bool hex_code(const char *p, const char *end, const char **next, unsigned *code)
{
	p = cp_pdfsyntax_skip_ws(p, end);
	if (p >= end || *p != '<')
		return false;
	unsigned v = 0;
	int n = 0;
	for (p++; p < end && *p != '>'; p++) {
		int h = g_ascii_xdigit_value(*p);
		if (h < 0 || ++n > 4)
			return false;
		v = v << 4 | (unsigned)h;
	}
	if (p >= end || n != 4)
		return false;
	*next = p + 1;
	*code = v;
	return true;
}

/* The ToUnicode CMap of a font whose program is cut to the page: only the
 * codes the page shows, so that a holder's file does not list the
 * characters of the other holders drawn into the same document. */
static bool put_cmap(cp_pdf_split *s, const sobj *o, const guint8 *used, GString *out,
                     bool *done)
{
	*done = false;
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	GString *cm = g_string_new(NULL), *blk = g_string_new(NULL);
	guint8 *plain = NULL, *z = NULL;
	size_t n = 0;
	bool ok = true;
	if (!cp_pdfsyntax_parse_dict(o->v, o->ve, d) || cp_pdfsyntax_dict_find(d, "DecodeParms"))
		goto done;
	const cp_pdf_dict_entry *flt = cp_pdfsyntax_dict_find(d, "Filter");
	if (flt && !cp_pdfsyntax_entry_is(flt, "/FlateDecode"))
		goto done;
	plain = flt ? inflate_all(o->data, o->dlen, &n) : g_memdup2(o->data, o->dlen);
	if (!flt)
		n = o->dlen;
	if (!plain)
		goto done;
	const char *p = (const char *)plain, *end = p + n;
	int state = 0, kept = 0; /* 1: in bfchar, 2: in bfrange */
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end, *next = eol ? eol + 1 : end;
		size_t ll = (size_t)(le - p);
		if (state == 0) {
			if (ll >= 11 && memcmp(le - 11, "beginbfchar", 11) == 0)
				state = 1;
			else if (ll >= 12 && memcmp(le - 12, "beginbfrange", 12) == 0)
				state = 2;
			else
				g_string_append_len(cm, p, (gssize)(next - p));
			if (state) {
				kept = 0;
				g_string_truncate(blk, 0);
			}
		} else if ((ll == 9 && memcmp(p, "endbfchar", 9) == 0) ||
		           (ll == 10 && memcmp(p, "endbfrange", 10) == 0)) {
			if (kept)
				g_string_append_printf(cm, "%d %s\n%s%.*s\n", kept,
				                       state == 1 ? "beginbfchar" : "beginbfrange",
				                       blk->str, (int)ll, p);
			state = 0;
		} else {
			unsigned lo, hi;
			const char *q;
			if (!hex_code(p, le, &q, &lo) || (state == 2 && !hex_code(q, le, &q, &hi)))
				goto done; /* not a CMap we know: kept whole */
			if (state == 1)
				hi = lo;
			bool any = false;
			for (unsigned c = lo; c <= hi && c < NCODES && !any; c++)
				any = used[c >> 3] & (1u << (c & 7));
			if (any) {
				g_string_append_len(blk, p, (gssize)(next - p));
				kept++;
			}
		}
		p = next;
	}
	if (state)
		goto done;
	size_t bound = libdeflate_zlib_compress_bound(s->deflate, cm->len);
	z = g_malloc(bound);
	size_t zn = libdeflate_zlib_compress(s->deflate, cm->str, cm->len, z, bound);
	static const char *const skip[] = {"Length", "Filter", "DecodeParms", NULL};
	if (!zn)
		goto done;
	g_string_append(out, "<<");
	ok = put_entries(s, d, skip, out);
	g_string_append_printf(out, "\n   /Filter /FlateDecode /Length %zu\n>>\nstream\n", zn);
	g_string_append_len(out, (const char *)z, (gssize)zn);
	g_string_append(out, "\nendstream");
	*done = ok;
done:
	g_free(z);
	g_free(plain);
	g_string_free(blk, TRUE);
	g_string_free(cm, TRUE);
	g_array_free(d, TRUE);
	return ok;
}

typedef struct width {
	unsigned cid;
	const char *w; /* the number's text */
	size_t len;
} width;

static gint width_cmp(gconstpointer a, gconstpointer b)
{
	const width *x = a, *y = b;
	return x->cid < y->cid ? -1 : x->cid > y->cid;
}

/* The next number of a /W array (after blanks), or NULL. */
static const char *w_number(const char *p, const char *end, const char **num, size_t *len)
{
	p = cp_pdfsyntax_skip_ws(p, end);
	if (p >= end || !(g_ascii_isdigit(*p) || *p == '-' || *p == '+' || *p == '.'))
		return NULL;
	const char *q = cp_pdfsyntax_skip_regular(p, end);
	*num = p;
	*len = (size_t)(q - p);
	return q;
}

static bool w_cid(const char *num, size_t len, unsigned *cid)
{
	int64_t v;
	const char *q;
	if (!cp_pdfsyntax_parse_uint(num, num + len, NCODES - 1, &v, &q) || q != num + len)
		return false;
	*cid = (unsigned)v;
	return true;
}

/* The CIDFont of a font whose program is cut to the page: its /W gives
 * the widths of the page's codes only (the others fall back to /DW and
 * are blank anyway). */
static bool put_widths(cp_pdf_split *s, const sobj *o, const guint8 *used, GString *out,
                       bool *done)
{
	*done = false;
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	GArray *ws = g_array_new(FALSE, FALSE, sizeof(width));
	bool ok = true;
	const cp_pdf_dict_entry *we = cp_pdfsyntax_parse_dict(o->v, o->ve, d)
	                              ? cp_pdfsyntax_dict_find(d, "W") : NULL;
	if (!we || we->vlen < 2 || we->val[0] != '[' || we->val[we->vlen - 1] != ']')
		goto done;
	const char *p = we->val + 1, *end = we->val + we->vlen - 1, *num;
	size_t len;
	for (;;) {
		p = cp_pdfsyntax_skip_ws(p, end);
		if (p >= end)
			break;
		unsigned c1, c2;
		if (!(p = w_number(p, end, &num, &len)) || !w_cid(num, len, &c1))
			goto done;
		p = cp_pdfsyntax_skip_ws(p, end);
		if (p < end && *p == '[') {
			for (p++;; c1++) {
				p = cp_pdfsyntax_skip_ws(p, end);
				if (p < end && *p == ']') {
					p++;
					break;
				}
				if (!(p = w_number(p, end, &num, &len)) || c1 >= NCODES)
					goto done;
				if (used[c1 >> 3] & (1u << (c1 & 7))) {
					width w = {c1, num, len};
					g_array_append_val(ws, w);
				}
			}
		} else {
			const char *wn;
			size_t wl;
			if (!(p = w_number(p, end, &num, &len)) || !w_cid(num, len, &c2) || c2 < c1 ||
			    !(p = w_number(p, end, &wn, &wl)))
				goto done;
			for (unsigned c = c1; c <= c2; c++)
				if (used[c >> 3] & (1u << (c & 7))) {
					width w = {c, wn, wl};
					g_array_append_val(ws, w);
				}
		}
	}
	g_array_sort(ws, width_cmp);
	static const char *const skip[] = {"W", NULL};
	g_string_append(out, "<<");
	ok = put_entries(s, d, skip, out);
	g_string_append(out, "\n   /W [");
	for (guint i = 0; i < ws->len; i++) {
		const width *w = &g_array_index(ws, width, i);
		bool run = i > 0 && g_array_index(ws, width, i - 1).cid + 1 == w->cid;
		if (!run)
			g_string_append_printf(out, "%s%u [", i ? "] " : " ", w->cid);
		else
			g_string_append_c(out, ' ');
		g_string_append_len(out, w->w, (gssize)w->len);
	}
	g_string_append(out, ws->len ? "] ]\n>>" : " ]\n>>");
	*done = ok;
done:
	g_array_free(ws, TRUE);
	g_array_free(d, TRUE);
	return ok;
}

bool cp_pdf_split_page(cp_pdf_split *s, int page, const char *catalog_extra, GString *out,
                       cp_error **err)
{
	if (page < 0 || (guint)page >= s->pages->len) {
		cp_set_error(err, CP_E_USAGE, s->label, 0, 0, NULL, _("there is no page %d"), page + 1);
		return false;
	}
	int64_t pnum = g_array_index(s->pages, int64_t, page);
	const sobj *po = get(s, pnum);
	GArray *pd = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	GArray *xref = g_array_new(FALSE, FALSE, sizeof(int64_t));
	usage u;
	usage_init(&u, s);
	GHashTable *cmaps = NULL; /* ToUnicode object -> font program */
	walker w = {.stack = g_array_new(FALSE, FALSE, sizeof(int64_t)), .next = 4, .page = pnum};
	bool ok = false;
	s->trimmed = s->whole = s->cmaps_cut = 0;
	for (guint i = 0; i < s->order->len; i++)
		s->map[g_array_index(s->order, int64_t, i)] = 0;
	g_array_set_size(s->order, 0);
	s->map[s->last_page] = 0;
	s->map[pnum] = 3;
	s->last_page = pnum;
	size_t start = out->len;
	if (!po || !cp_pdfsyntax_parse_dict(po->v, po->ve, pd)) {
		bad(s, _("a damaged page"), err);
		goto done;
	}
	/* Everything the page reaches, but not its parent; then the document
	 * information. */
	for (guint i = 0; i < pd->len; i++) {
		const cp_pdf_dict_entry *e = &g_array_index(pd, cp_pdf_dict_entry, i);
		if (e->klen == 6 && memcmp(e->key, "Parent", 6) == 0)
			continue;
		if (!each_ref(s, e->val, e->val + e->vlen, visit, &w, NULL))
			goto walk_bad;
	}
	int64_t info_to = 0;
	if (s->info && !visit(s, s->info, &info_to, &w))
		goto walk_bad;
	while (w.stack->len) {
		int64_t num = g_array_index(w.stack, int64_t, w.stack->len - 1);
		g_array_set_size(w.stack, w.stack->len - 1);
		const sobj *o = get(s, num);
		if (!each_ref(s, o->v, o->ve, visit, &w, NULL))
			goto walk_bad;
	}
	/* Which glyphs the page shows; any drawing stream not read means the
	 * fonts go whole. */
	scan_page(&u, pd);
	for (guint i = 0; u.ok && i < s->order->len; i++) {
		int64_t num = g_array_index(s->order, int64_t, i);
		const sobj *o = get(s, num);
		if (o->data && draws(o, d) && !g_hash_table_contains(u.scanned, GINT_TO_POINTER(num)))
			u.ok = false;
	}
	/* The ToUnicode CMap of every Type0 font the page reaches, and the
	 * font program its codes belong to. */
	cmaps = g_hash_table_new(NULL, NULL);
	for (guint i = 0; u.ok && i < s->order->len; i++) {
		int64_t num = g_array_index(s->order, int64_t, i), tu, cidf = 0, file;
		const sobj *o = get(s, num);
		bool identity;
		if (o->data || !maybe_type0(o))
			continue;
		file = font_program(s, num, &identity, &tu, &cidf);
		if (!file || !identity || g_hash_table_contains(u.whole, GINT_TO_POINTER(file)))
			continue;
		if (tu)
			g_hash_table_insert(cmaps, GINT_TO_POINTER(tu), GINT_TO_POINTER(file));
		if (cidf)
			g_hash_table_insert(cmaps, GINT_TO_POINTER(cidf), GINT_TO_POINTER(file));
	}

	/* The file: catalog 1, page tree 2, the page 3, then what it reaches. */
	g_string_append_len(out, s->header, (gssize)s->header_len);
	int64_t at = (int64_t)(out->len - start);
	g_array_append_val(xref, at);
	g_string_append_printf(out, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R%s%s >>\nendobj\n",
	                       catalog_extra ? " " : "", catalog_extra ? catalog_extra : "");
	at = (int64_t)(out->len - start);
	g_array_append_val(xref, at);
	g_string_append(out, "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n");
	at = (int64_t)(out->len - start);
	g_array_append_val(xref, at);
	static const char *const no_parent[] = {"Parent", NULL};
	g_string_append(out, "3 0 obj\n<< /Parent 2 0 R");
	if (!put_entries(s, pd, no_parent, out))
		goto walk_bad;
	g_string_append(out, "\n>>\nendobj\n");
	for (guint i = 0; i < s->order->len; i++) {
		int64_t num = g_array_index(s->order, int64_t, i);
		const sobj *o = get(s, num);
		at = (int64_t)(out->len - start);
		g_array_append_val(xref, at);
		g_string_append_printf(out, "%" PRId64 " 0 obj\n", s->map[num]);
		const guint8 *used = u.ok ? g_hash_table_lookup(u.used, GINT_TO_POINTER(num)) : NULL;
		bool cut = false, cff = false;
		if (o->data) {
			g_array_set_size(d, 0);
			cff = cp_pdfsyntax_parse_dict(o->v, o->ve, d) &&
			      cp_pdfsyntax_entry_is(cp_pdfsyntax_dict_find(d, "Subtype"),
			                            "/CIDFontType0C");
		}
		if (cff && u.ok && !g_hash_table_contains(u.whole, GINT_TO_POINTER(num))) {
			/* A font program the page shows nothing of still has
			 * .notdef; one it shows everything of is copied. */
			static const guint8 none[NCODES / 8];
			if (!put_font(s, o, used ? used : none, out, &cut))
				goto walk_bad;
		}
		int64_t cmap_of = u.ok ? GPOINTER_TO_INT(g_hash_table_lookup(cmaps,
		                                                             GINT_TO_POINTER(num)))
		                       : 0;
		bool cmap_cut = false;
		if (cmap_of) {
			/* The font's ToUnicode CMap (a stream) or CIDFont (its /W). */
			static const guint8 none[NCODES / 8];
			const guint8 *cu = g_hash_table_lookup(u.used, GINT_TO_POINTER(cmap_of));
			if (!(o->data ? put_cmap : put_widths)(s, o, cu ? cu : none, out, &cmap_cut))
				goto walk_bad;
		}
		if (cut) {
			s->trimmed++;
		} else if (cmap_cut) {
			s->cmaps_cut++;
		} else {
			if (cff)
				s->whole++;
			bool deflated = false;
			if (o->data && !cff && !put_deflated(s, o, out, &deflated))
				goto walk_bad;
			if (!deflated && !each_ref(s, o->v, o->ve, mapped, NULL, out))
				goto walk_bad;
			if (o->data && !deflated) {
				g_string_append(out, "\nstream\n");
				g_string_append_len(out, o->data, (gssize)o->dlen);
				g_string_append(out, "\nendstream");
			}
		}
		g_string_append(out, "\nendobj\n");
	}
	int64_t xref_at = (int64_t)(out->len - start);
	g_string_append_printf(out, "xref\n0 %u\n0000000000 65535 f \n", xref->len + 1);
	for (guint i = 0; i < xref->len; i++)
		g_string_append_printf(out, "%010" PRId64 " 00000 n \n",
		                       g_array_index(xref, int64_t, i));
	g_string_append_printf(out, "trailer\n<< /Size %u /Root 1 0 R", xref->len + 1);
	if (info_to)
		g_string_append_printf(out, " /Info %" PRId64 " 0 R", info_to);
	g_string_append_printf(out, " >>\nstartxref\n%" PRId64 "\n%%%%EOF\n", xref_at);
	ok = true;
	goto done;
walk_bad:
	bad(s, w.foreign ? _("a page refers to other pages") : _("a damaged object"), err);
done:
	g_array_free(w.stack, TRUE);
	g_array_free(pd, TRUE);
	g_array_free(d, TRUE);
	g_array_free(xref, TRUE);
	usage_clear(&u);
	if (cmaps)
		g_hash_table_destroy(cmaps);
	return ok;
}
