/* SPDX-License-Identifier: MIT */
#include "output/pdfjoin.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <libdeflate.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "error.h"
#include "i18n.h"
#include "output/pdfsyntax.h"

#define FIRST_READ 4096 /* most objects' text (page, font, stream dictionaries) fit */
#define TAIL_CHECK 256
#define OBUF_BYTES (64u << 10)  /* where "endstream endobj" must be at the end of a stream object */
/* Streams without a filter up to this size are deflated (deflate_stream()). */
#define DEFLATE_MAX (8u << 20)
#define DEFLATE_LEVEL 1 /* as small as 6 on page content (0.4 % more), a third faster */

/* What an object number of a part is. */
enum kind {
	K_FREE = 0, /* free or not in the table */
	K_OBJ,      /* copied */
	K_PAGE,     /* copied; a leaf of the page tree */
	K_NODE,     /* page-tree node: replaced by the new root */
	K_CATALOG,  /* replaced by the new catalog */
	K_DROP,     /* another part's /Info: left out unless referenced */
	K_LATE,     /* a K_DROP object something refers to: copied after the rest */
	K_RES,      /* copied; a page's resource dictionary, given the layer's name */
	K_SKIP,     /* the layer's page: its content becomes a Form XObject */
};

/* The name the shared layer has in every page's resources. */
#define LAYER_NAME "CertpressLayer"

typedef struct part {
	cp_pdf_src src;
	int64_t xref_off;
	uint32_t size;       /* the trailer's /Size: numbers 0 .. size-1 */
	int64_t *offs;       /* by number; -1 when free */
	uint8_t *kind;       /* enum kind, by number */
	uint32_t *order;     /* in-use numbers sorted by offset */
	uint32_t nused;
	GArray *pages;       /* uint32 page object numbers, in the part's order */
	GHashTable *inherit; /* page number -> entries it inherits (char *); may be NULL */
	int64_t info;        /* part 0's /Info number, or -1 */
	int64_t base;        /* part object k becomes base + k */
	long taken;          /* pages given to runs so far */
	enum { P_PAGES, P_UNDER, P_LAYER } role; /* pages; pages with the layer under; the layer */
} part;

typedef struct joiner {
	const char *label;
	FILE *out;
	int64_t pos;    /* bytes written */
	/* Reads go through a window of CP_PDF_JOIN_COPY_BYTES over one part:
	 * objects follow each other in the file, so one pread serves many. */
	char *win;
	const part *win_pt;
	int64_t win_at;
	size_t win_len;
	char *buf;      /* reads larger than the window */
	size_t cap;
	GString *text;  /* the rewritten text of one object */
	char *obuf;     /* output not yet given to stdio, OBUF_BYTES */
	size_t olen;
	int64_t root, catalog;
	int64_t layer_form; /* the layer's Form XObject, or -1 */
	int64_t layer_call; /* the stream that paints it, first in each page's /Contents */
	int64_t nout;   /* the output's /Size */
	/* Output offsets of the numbers being written, xref_lo and up (one
	 * part's, the head's); 0 = free. The table itself is an xref_spill. */
	int64_t *xref;
	int64_t xref_lo;
	struct xref_spill *spill; /* the calling thread's joiner only */
	struct libdeflate_compressor *z; /* for deflate_stream(), made on first use */
	unsigned char *zbuf;
	size_t zcap;
} joiner;

/* ------------------------------------------------------------ messages */

static void join_bad(const cp_pdf_src *src, int64_t at, const char *what, cp_error **err)
{
	if (at >= 0)
		cp_set_error(err, CP_E_PARSE, src->label, 0, 0, NULL,
		             _("part %d is not a PDF that can be joined: %s (at byte %lld)"),
		             src->part, what, (long long)at);
	else
		cp_set_error(err, CP_E_PARSE, src->label, 0, 0, NULL,
		             _("part %d is not a PDF that can be joined: %s"), src->part, what);
}

static bool bad(const part *pt, int64_t at, const char *what, cp_error **err)
{
	return cp_pdfsyntax_bad(&pt->src, at, what, err);
}

/* The same with the object number in the message. */
static bool bad_obj(const part *pt, int64_t at, int64_t num, const char *fmt, cp_error **err)
{
	char *what = g_strdup_printf(fmt, (long long)num);
	bad(pt, at, what, err);
	g_free(what);
	return false;
}

/* ------------------------------------------------------------ output */

static bool out_write(joiner *j, const void *data, size_t len, cp_error **err)
{
	errno = 0;
	if (len && fwrite(data, 1, len, j->out) != len) {
		cp_set_error(err, CP_E_IO, j->label, 0, 0, NULL, _("cannot write: %s"),
		             g_strerror(errno ? errno : EIO));
		return false;
	}
	return true;
}

static bool flush(joiner *j, cp_error **err)
{
	bool ok = out_write(j, j->obuf, j->olen, err);
	j->olen = 0;
	return ok;
}

/* Small writes are gathered so that stdio sees few large ones. */
static bool put(joiner *j, const void *data, size_t len, cp_error **err)
{
	j->pos += (int64_t)len;
	if (j->olen + len <= OBUF_BYTES) {
		memcpy(j->obuf + j->olen, data, len);
		j->olen += len;
		return true;
	}
	if (!flush(j, err))
		return false;
	if (len >= OBUF_BYTES)
		return out_write(j, data, len, err);
	memcpy(j->obuf, data, len);
	j->olen = len;
	return true;
}

static bool putf(joiner *j, cp_error **err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Object n starts at the current output position. */
static void xref_set(joiner *j, int64_t n)
{
	j->xref[n - j->xref_lo] = j->pos;
}

static bool putf(joiner *j, cp_error **err, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	g_assert(n >= 0 && (size_t)n < sizeof tmp);
	return put(j, tmp, (size_t)n, err);
}

/* ------------------------------------------------------- part structure */

static int cmp_by_offset(gconstpointer a, gconstpointer b, gpointer offs)
{
	int64_t x = ((const int64_t *)offs)[*(const uint32_t *)a];
	int64_t y = ((const int64_t *)offs)[*(const uint32_t *)b];
	return (x > y) - (x < y);
}

/* Where the object that starts at offs[num] ends: the next object's offset
 * or the cross-reference table's. */
static int64_t extent_end(const part *pt, uint32_t num)
{
	int64_t off = pt->offs[num];
	uint32_t lo = 0, hi = pt->nused;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pt->offs[pt->order[mid]] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < pt->nused ? pt->offs[pt->order[lo]] : pt->xref_off;
}

/* Bytes [off, off + want) of the part, or fewer at its end (*got): a
 * pointer into the window or into j->buf, valid until the next fetch. */
static const char *fetch(joiner *j, const part *pt, int64_t off, size_t want, size_t *got,
                         cp_error **err)
{
	if (j->win_pt == pt && off >= j->win_at &&
	    off + (int64_t)want <= j->win_at + (int64_t)j->win_len) {
		*got = want;
		return j->win + (off - j->win_at);
	}
	char *into = j->win;
	size_t len = CP_PDF_JOIN_COPY_BYTES;
	if (want > len) {
		if (j->cap < want) {
			g_free(j->buf);
			j->buf = g_malloc(want);
			j->cap = want;
		}
		into = j->buf;
		len = want;
	} else {
		j->win_pt = NULL;
	}
	ssize_t n = cp_pdfsyntax_read_at(&pt->src, off, into, len, err);
	if (n < 0)
		return NULL;
	if (into == j->win) {
		j->win_pt = pt;
		j->win_at = off;
		j->win_len = (size_t)n;
	}
	*got = MIN(want, (size_t)n);
	return into;
}

static bool read_xref_entries(joiner *j, part *pt, GArray *subs, cp_error **err)
{
	const size_t per_read = CP_PDF_JOIN_COPY_BYTES / 20;
	for (guint i = 0; i < subs->len; i++) {
		const cp_pdf_xref_sub *s = &g_array_index(subs, cp_pdf_xref_sub, i);
		if (s->start + s->count > pt->size)
			return bad(pt, s->entries_at, _("the cross-reference table goes beyond /Size"),
			           err);
		for (int64_t k = 0; k < s->count;) {
			size_t n = (size_t)MIN((int64_t)per_read, s->count - k);
			int64_t at = s->entries_at + 20 * k;
			size_t got;
			const char *chunk = fetch(j, pt, at, 20 * n, &got, err);
			if (!chunk)
				return false;
			if (got != 20 * n)
				return bad(pt, at, _("truncated cross-reference entry"), err);
			for (size_t e = 0; e < n; e++, k++) {
				int64_t num = s->start + k, off, gen;
				bool in_use;
				if (!cp_pdfsyntax_parse_xref_entry(chunk + 20 * e, &off, &gen, &in_use))
					return bad(pt, at + 20 * (int64_t)e,
					           _("damaged cross-reference entry"), err);
				if (pt->kind[num] != K_FREE)
					return bad_obj(pt, at + 20 * (int64_t)e, num,
					               _("object %lld is listed twice in the "
					                 "cross-reference table"), err);
				if (!in_use) {
					pt->kind[num] = K_DROP; /* only marks "listed" until the end */
					continue;
				}
				if (num == 0 || gen != 0)
					return bad_obj(pt, at + 20 * (int64_t)e, num,
					               _("object %lld has a generation other than 0"),
					               err);
				/* 9: "%PDF-1.x" and an end-of-line come first. */
				if (off < 9 || off >= pt->xref_off)
					return bad_obj(pt, at + 20 * (int64_t)e, num,
					               _("the offset of object %lld is outside the "
					                 "file's body"), err);
				pt->offs[num] = off;
				pt->kind[num] = K_OBJ;
				pt->nused++;
			}
		}
	}
	memset(pt->kind, K_FREE, pt->size); /* forget the free marks */
	pt->order = g_new(uint32_t, pt->nused ? pt->nused : 1);
	uint32_t n = 0;
	for (uint32_t k = 0; k < pt->size; k++)
		if (pt->offs[k] >= 0) {
			pt->order[n++] = k;
			pt->kind[k] = K_OBJ;
		}
	g_qsort_with_data(pt->order, (gint)n, sizeof *pt->order, cmp_by_offset, pt->offs);
	for (uint32_t k = 1; k < n; k++)
		if (pt->offs[pt->order[k]] == pt->offs[pt->order[k - 1]])
			return bad_obj(pt, pt->offs[pt->order[k]], pt->order[k],
			               _("object %lld starts where another object starts"), err);
	return true;
}

/* Fetches the start of object num (at most max bytes of its extent) and
 * checks its "num 0 obj" header. Sets *start to the object's first byte,
 * *body after "obj", *end, and *whole when the whole extent was read. */
static bool read_object(joiner *j, part *pt, uint32_t num, int64_t ext, size_t max,
                        const char **start, const char **body, const char **end, bool *whole,
                        cp_error **err)
{
	int64_t off = pt->offs[num], len = ext - off;
	size_t want = len < (int64_t)max ? (size_t)len : max, got;
	const char *text = fetch(j, pt, off, want, &got, err);
	if (!text)
		return false;
	const char *e = text + got, *q;
	const char *p = cp_pdfsyntax_skip_ws(text, e);
	int64_t n, g;
	if (!cp_pdfsyntax_parse_uint(p, e, CP_PDFSYNTAX_MAX_OBJECTS, &n, &q) || n != num ||
	    !cp_pdfsyntax_parse_uint(cp_pdfsyntax_skip_ws(q, e), e, 65535, &g, &q) || g != 0 ||
	    !cp_pdfsyntax_is_keyword((p = cp_pdfsyntax_skip_ws(q, e)), e, "obj"))
		return bad_obj(pt, off, num,
		               _("the cross-reference entry of object %lld does not point at it"),
		               err);
	*start = text;
	*body = p + 3;
	*end = e;
	*whole = (int64_t)got == len;
	return true;
}

/* Reads object num's dictionary (growing the read up to max bytes) into
 * entries, pointing into the text [*start, *end) fetch() gave. */
static bool read_dict_object(joiner *j, part *pt, uint32_t num, size_t max,
                             const char **start, const char **end, GArray *entries,
                             cp_error **err)
{
	for (size_t want = FIRST_READ;; want = want > max / 4 ? max : want * 4) {
		const char *body;
		bool whole;
		if (!read_object(j, pt, num, extent_end(pt, num), want, start, &body, end, &whole,
		                 err))
			return false;
		g_array_set_size(entries, 0);
		if (cp_pdfsyntax_parse_dict(body, *end, entries))
			return true;
		if (whole || want >= max)
			return bad_obj(pt, pt->offs[num], num,
			               whole ? _("object %lld is not a valid dictionary")
			                     : _("object %lld is larger than the limit"),
			               err);
	}
}

/* What a page inherits from its ancestors (7.7.3.4). */
static const char *const inheritable[] = {"Resources", "MediaBox", "CropBox", "Rotate"};
typedef struct inherited {
	const cp_pdf_dict_entry *e[G_N_ELEMENTS(inheritable)];
} inherited;

static bool walk(joiner *j, part *pt, uint32_t num, const inherited *inh, int depth,
                 int64_t *leaves, cp_error **err);

static bool walk_node(joiner *j, part *pt, uint32_t num, GArray *d, const inherited *from,
                      int depth, int64_t *leaves, cp_error **err)
{
	int64_t at = pt->offs[num];
	inherited inh = *from;
	for (size_t i = 0; i < G_N_ELEMENTS(inheritable); i++) {
		const cp_pdf_dict_entry *e = cp_pdfsyntax_dict_find(d, inheritable[i]);
		if (e)
			inh.e[i] = e;
	}
	const cp_pdf_dict_entry *kids = cp_pdfsyntax_dict_find(d, "Kids");
	const cp_pdf_dict_entry *count = cp_pdfsyntax_dict_find(d, "Count");
	int64_t want, n, g;
	const char *q;
	if (!kids || kids->val[0] != '[' || !count ||
	    !cp_pdfsyntax_parse_uint(count->val, count->val + count->vlen,
	                             CP_PDFSYNTAX_MAX_OBJECTS, &want, &q))
		return bad_obj(pt, at, num, _("page-tree node %lld has no valid /Kids or /Count"),
		               err);
	int64_t before = *leaves;
	const char *p = kids->val + 1, *end = kids->val + kids->vlen - 1;
	while ((p = cp_pdfsyntax_skip_ws(p, end)) < end) {
		p = cp_pdfsyntax_match_ref(p, end, &n, &g);
		if (!p)
			return bad_obj(pt, at, num,
			               _("the /Kids of page-tree node %lld holds something other "
			                 "than references"), err);
		if (n >= pt->size || g != 0 || pt->kind[n] != K_OBJ)
			return bad_obj(pt, at, n,
			               _("the page tree refers to object %lld, which is missing or "
			                 "already in the tree"), err);
		if (!walk(j, pt, (uint32_t)n, &inh, depth + 1, leaves, err))
			return false;
	}
	if (*leaves - before != want)
		return bad_obj(pt, at, num,
		               _("the /Count of page-tree node %lld is not its number of pages"),
		               err);
	return true;
}

static bool ref_value(const cp_pdf_dict_entry *e, int64_t *num);

static bool walk_page(part *pt, uint32_t num, GArray *d, const inherited *inh,
                      cp_error **err)
{
	pt->kind[num] = pt->role == P_LAYER ? K_SKIP : K_PAGE;
	g_array_append_val(pt->pages, num);
	if (pt->role == P_UNDER) {
		/* A resource dictionary of its own gets the layer's name when it
		 * is copied (copy_object); one in the page is edited there. */
		const cp_pdf_dict_entry *r = cp_pdfsyntax_dict_find(d, "Resources");
		int64_t rn;
		if (!r)
			r = inh->e[0];
		if (r && r->val[0] != '<') {
			if (!ref_value(r, &rn) || rn >= pt->size ||
			    (pt->kind[rn] != K_OBJ && pt->kind[rn] != K_RES))
				return bad_obj(pt, pt->offs[num], num,
				               _("the /Resources of page %lld is neither a dictionary "
				                 "nor a reference to an object in use"), err);
			pt->kind[rn] = K_RES;
		}
	}
	GString *extra = NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(inheritable); i++) {
		if (!inh->e[i] || cp_pdfsyntax_dict_find(d, inheritable[i]))
			continue;
		if (!extra)
			extra = g_string_new(NULL);
		g_string_append_printf(extra, "\n   /%s ", inheritable[i]);
		g_string_append_len(extra, inh->e[i]->val, (gssize)inh->e[i]->vlen);
	}
	if (extra) {
		if (!pt->inherit)
			pt->inherit = g_hash_table_new_full(NULL, NULL, NULL, g_free);
		g_hash_table_insert(pt->inherit, GUINT_TO_POINTER(num), g_string_free(extra, FALSE));
	}
	return true;
}

/* Visits the page-tree node or page num. A node's text is copied out of the
 * read window while its kids are visited (the inherited entries point into
 * it). */
static bool walk(joiner *j, part *pt, uint32_t num, const inherited *inh, int depth,
                 int64_t *leaves, cp_error **err)
{
	if (depth > CP_PDF_JOIN_MAX_TREE_DEPTH)
		return bad(pt, pt->offs[num], _("the page tree is nested too deeply"), err);
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	const char *start, *end;
	bool ok = read_dict_object(j, pt, num, CP_PDF_JOIN_MAX_NODE_BYTES, &start, &end, d, err);
	if (ok) {
		const cp_pdf_dict_entry *type = cp_pdfsyntax_dict_find(d, "Type");
		if (cp_pdfsyntax_entry_is(type, "/Pages")) {
			pt->kind[num] = K_NODE;
			char *own = g_memdup2(start, (gsize)(end - start));
			for (guint i = 0; i < d->len; i++) {
				cp_pdf_dict_entry *e = &g_array_index(d, cp_pdf_dict_entry, i);
				e->key = own + (e->key - start);
				e->val = own + (e->val - start);
			}
			ok = walk_node(j, pt, num, d, inh, depth, leaves, err);
			g_free(own);
		} else if (cp_pdfsyntax_entry_is(type, "/Page")) {
			ok = walk_page(pt, num, d, inh, err) && ++*leaves > 0;
		} else {
			ok = bad_obj(pt, pt->offs[num], num,
			             _("object %lld in the page tree is neither a page nor a page-tree "
			               "node"), err);
		}
	}
	g_array_free(d, TRUE);
	return ok;
}

static void part_clear(part *pt)
{
	g_free(pt->offs);
	g_free(pt->kind);
	g_free(pt->order);
	if (pt->pages)
		g_array_free(pt->pages, TRUE);
	if (pt->inherit)
		g_hash_table_destroy(pt->inherit);
	memset(pt, 0, sizeof *pt);
}

/* Frees what only copying needs (13 bytes an object): the parts are all
 * loaded first (their sizes and pages make the new page tree), then each is
 * loaded again just before it is copied, so that the tables of one part at
 * a time are in memory, not those of all (17 MB for 100,000 pages). */
static void part_park(part *pt)
{
	g_free(pt->offs);
	g_free(pt->kind);
	g_free(pt->order);
	pt->offs = NULL;
	pt->kind = NULL;
	pt->order = NULL;
}

static bool part_load(joiner *j, part *pt, int fd, int index, const char *label,
                      cp_error **err);

static bool part_reload(joiner *j, part *pt, int index, const char *label, cp_error **err)
{
	part fresh = {.role = pt->role};
	bool ok = part_load(j, &fresh, pt->src.fd, index, label, err);
	if (ok && (fresh.size != pt->size || fresh.pages->len != pt->pages->len ||
	           fresh.info != pt->info || fresh.xref_off != pt->xref_off)) {
		bad(pt, fresh.xref_off, _("the file changed while it was being joined"), err);
		ok = false;
	}
	if (ok) {
		pt->offs = fresh.offs;
		pt->kind = fresh.kind;
		pt->order = fresh.order;
		pt->nused = fresh.nused;
		fresh.offs = NULL;
		fresh.kind = NULL;
		fresh.order = NULL;
	}
	part_clear(&fresh);
	return ok;
}

static bool ref_value(const cp_pdf_dict_entry *e, int64_t *num)
{
	int64_t gen;
	return e && cp_pdfsyntax_match_ref(e->val, e->val + e->vlen, num, &gen) && gen == 0;
}

/* Reads part index's structure: cross-reference table, trailer, catalog and
 * page tree. */
static bool part_load(joiner *j, part *pt, int fd, int index, const char *label,
                      cp_error **err)
{
	pt->src = (cp_pdf_src){.fd = fd, .label = label, .bad = join_bad, .part = index};
	pt->info = -1;
	pt->pages = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	GArray *subs = g_array_new(FALSE, FALSE, sizeof(cp_pdf_xref_sub));
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	char *text = NULL;
	size_t tlen = 0;
	bool ok = false;
	int64_t trailer_at, size, root, pages, info = -1;
	const char *q;

	if (!cp_pdfsyntax_open(&pt->src, err) ||
	    !cp_pdfsyntax_find_startxref(&pt->src, &pt->xref_off, err) ||
	    !cp_pdfsyntax_scan_xref(&pt->src, pt->xref_off, subs, &trailer_at, err))
		goto done;
	text = cp_pdfsyntax_read_text(&pt->src, trailer_at, 4096, &tlen, err);
	if (!text)
		goto done;
	if (!cp_pdfsyntax_parse_dict(text, text + tlen, d)) {
		bad(pt, trailer_at, _("damaged trailer dictionary"), err);
		goto done;
	}
	const cp_pdf_dict_entry *e = cp_pdfsyntax_dict_find(d, "Size");
	if (cp_pdfsyntax_dict_find(d, "Prev") || cp_pdfsyntax_dict_find(d, "XRefStm")) {
		bad(pt, trailer_at, _("it has been updated incrementally"), err);
		goto done;
	}
	if (cp_pdfsyntax_dict_find(d, "Encrypt")) {
		bad(pt, trailer_at, _("the file is encrypted"), err);
		goto done;
	}
	if (!e || !cp_pdfsyntax_parse_uint(e->val, e->val + e->vlen, CP_PDFSYNTAX_MAX_OBJECTS + 1,
	                                   &size, &q) || size < 1) {
		bad(pt, trailer_at, _("the trailer has no valid /Size"), err);
		goto done;
	}
	if (!ref_value(cp_pdfsyntax_dict_find(d, "Root"), &root) || root >= size) {
		bad(pt, trailer_at, _("the trailer has no valid /Root"), err);
		goto done;
	}
	e = cp_pdfsyntax_dict_find(d, "Info");
	if (e && (!ref_value(e, &info) || info >= size)) {
		bad(pt, trailer_at, _("the trailer has no valid /Info"), err);
		goto done;
	}
	/* The table may not be larger than the file can hold: each entry takes
	 * 20 bytes, so /Size alone cannot make us allocate much. */
	int64_t listed = 0;
	for (guint i = 0; i < subs->len; i++) {
		const cp_pdf_xref_sub *s = &g_array_index(subs, cp_pdf_xref_sub, i);
		listed = MAX(listed, s->start + s->count);
	}
	if (size != listed) {
		bad(pt, trailer_at, _("/Size in the trailer does not match the cross-reference table"),
		    err);
		goto done;
	}
	pt->size = (uint32_t)size;
	pt->offs = g_new(int64_t, pt->size);
	for (uint32_t k = 0; k < pt->size; k++)
		pt->offs[k] = -1;
	pt->kind = g_new0(uint8_t, pt->size);
	if (!read_xref_entries(j, pt, subs, err))
		goto done;

	if (pt->kind[root] != K_OBJ) {
		bad(pt, trailer_at, _("the trailer's /Root is not in use"), err);
		goto done;
	}
	const char *start, *end;
	if (!read_dict_object(j, pt, (uint32_t)root, CP_PDF_JOIN_MAX_OBJECT_BYTES, &start, &end,
	                      d, err))
		goto done;
	if (!cp_pdfsyntax_entry_is(cp_pdfsyntax_dict_find(d, "Type"), "/Catalog") ||
	    !ref_value(cp_pdfsyntax_dict_find(d, "Pages"), &pages) || pages >= size ||
	    pt->kind[pages] != K_OBJ || pages == root) {
		bad(pt, pt->offs[root], _("the /Root object is not a catalog with /Pages"), err);
		goto done;
	}
	pt->kind[root] = K_CATALOG;
	int64_t leaves = 0;
	inherited none = {{NULL}};
	if (!walk(j, pt, (uint32_t)pages, &none, 0, &leaves, err))
		goto done;
	if (pt->kind[pages] != K_NODE) {
		bad(pt, pt->offs[pages], _("the catalog's /Pages is not a page-tree node"), err);
		goto done;
	}
	if (leaves == 0) {
		bad(pt, pt->offs[pages], _("it has no pages"), err);
		goto done;
	}
	if (info >= 0) {
		if (pt->kind[info] != K_OBJ) {
			bad(pt, trailer_at, _("the trailer's /Info is not an ordinary object in use"),
			    err);
			goto done;
		}
		if (index == 0)
			pt->info = info;
		else
			pt->kind[info] = K_DROP;
	}
	ok = true;
done:
	g_free(text);
	g_array_free(subs, TRUE);
	g_array_free(d, TRUE);
	return ok;
}

/* -------------------------------------------------------- object copying */

enum rw { RW_END, RW_STREAM, RW_MORE, RW_BAD };

typedef struct rewriter {
	part *pt;
	const joiner *j;
	const char *why;  /* RW_BAD: translated reason */
	int64_t bad_num;  /* for a reason naming an object, else -1 */
	const char *stop; /* RW_END: after "endobj"; RW_STREAM: first data byte */
} rewriter;

static bool map_ref(const rewriter *rw, int64_t num, int64_t gen, int64_t *out)
{
	part *pt = rw->pt;
	if (num >= pt->size || gen != 0)
		return false;
	switch (pt->kind[num]) {
	case K_DROP:
		/* Odd but valid: keep it after all (its number is reserved). */
		pt->kind[num] = K_LATE;
		*out = pt->base + num;
		return true;
	case K_OBJ:
	case K_PAGE:
	case K_RES:
	case K_LATE:
		*out = pt->base + num;
		return true;
	case K_NODE:
		*out = rw->j->root;
		return true;
	case K_CATALOG:
		*out = rw->j->catalog;
		return true;
	default:
		return false;
	}
}

static void append_ref(GString *o, int64_t num)
{
	char tmp[32], *t = tmp + sizeof tmp;
	*--t = 'R';
	*--t = ' ';
	*--t = '0';
	*--t = ' ';
	do
		*--t = (char)('0' + num % 10);
	while ((num /= 10) > 0);
	g_string_append_len(o, t, tmp + sizeof tmp - t);
}

/* Copies the object text [p, end) (after "N 0 obj") to o with every
 * indirect reference renumbered, up to and including "endobj" or the
 * end-of-line after "stream". With fragment set, [p, end) is a run of
 * dictionary entries and its end is the end of the text. extra (entries
 * inherited by a page, or NULL) is inserted before the first top-level
 * dictionary's ">>". Ends short of end (not a fragment): RW_MORE. */
static enum rw rewrite(rewriter *rw, const char *p, const char *end, bool fragment,
                       const char *extra, GString *o)
{
	int depth = 0;
	bool top_dict_seen = false;
	const char *copied = p; /* text before this is in o: copied in spans */
	rw->bad_num = -1;
	while (p < end) {
		const char *s = p;
		char c = *p;
		if (cp_pdfsyntax_is_ws(c)) {
			while (p < end && cp_pdfsyntax_is_ws(*p))
				p++;
		} else if (c == '%') {
			while (p < end && *p != '\n' && *p != '\r')
				p++;
		} else if (c == '(') {
			p = cp_pdfsyntax_skip_string(p, end);
			if (!p)
				return RW_MORE;
		} else if (c == '<') {
			if (p + 1 >= end)
				return RW_MORE;
			if (p[1] == '<') {
				if (++depth > CP_PDFSYNTAX_MAX_DEPTH) {
					rw->why = _("nested too deeply");
					return RW_BAD;
				}
				p += 2;
			} else {
				for (p++; p < end && *p != '>'; p++)
					if (!g_ascii_isxdigit(*p) && !cp_pdfsyntax_is_ws(*p)) {
						rw->why = _("a damaged hexadecimal string");
						return RW_BAD;
					}
				if (p >= end)
					return RW_MORE;
				p++;
			}
		} else if (c == '>') {
			if (p + 1 >= end)
				return RW_MORE;
			if (p[1] != '>' || depth == 0) {
				rw->why = _("an unbalanced \">\" or \">>\"");
				return RW_BAD;
			}
			if (--depth == 0 && !top_dict_seen && extra) {
				g_string_append_len(o, copied, p - copied);
				copied = p;
				rewriter sub = *rw;
				enum rw r = rewrite(&sub, extra, extra + strlen(extra), true, NULL, o);
				if (r != RW_END) {
					*rw = sub;
					return r;
				}
			}
			if (depth == 0)
				top_dict_seen = true;
			p += 2;
		} else if (c == '[') {
			if (++depth > CP_PDFSYNTAX_MAX_DEPTH) {
				rw->why = _("nested too deeply");
				return RW_BAD;
			}
			p++;
		} else if (c == ']') {
			if (depth == 0) {
				rw->why = _("an unbalanced \"]\"");
				return RW_BAD;
			}
			depth--;
			p++;
		} else if (c == '/') {
			p = cp_pdfsyntax_skip_regular(p + 1, end);
			if (p >= end && !fragment)
				return RW_MORE;
		} else if (cp_pdfsyntax_is_delim(c)) {
			rw->why = _("an unexpected delimiter");
			return RW_BAD;
		} else {
			const char *q = cp_pdfsyntax_skip_regular(p, end);
			if (q >= end && !fragment)
				return RW_MORE;
			int64_t num, gen, to;
			const char *r = g_ascii_isdigit(c) ? cp_pdfsyntax_match_ref(p, end, &num, &gen)
			                                   : NULL;
			if (r && r >= end && !fragment)
				return RW_MORE;
			if (r) {
				if (!map_ref(rw, num, gen, &to)) {
					rw->why = _("a reference to object %lld, which is not in use");
					rw->bad_num = num;
					return RW_BAD;
				}
				g_string_append_len(o, copied, s - copied);
				append_ref(o, to);
				p = copied = r;
				continue;
			}
			if (g_ascii_isdigit(c) && !fragment) {
				/* "12 0" then the end: it may be a reference cut short. */
				const char *t = cp_pdfsyntax_skip_ws(q, end);
				if (t >= end || (g_ascii_isdigit(*t) &&
				                 cp_pdfsyntax_skip_ws(cp_pdfsyntax_skip_regular(t, end),
				                                      end) >= end))
					return RW_MORE;
			}
			p = q;
			size_t n = (size_t)(q - s);
			if ((n == 6 && memcmp(s, "endobj", 6) == 0) ||
			    (n == 6 && memcmp(s, "stream", 6) == 0)) {
				if (depth != 0 || fragment) {
					rw->why = _("an object that does not end where it should");
					return RW_BAD;
				}
				if (s[0] == 's') {
					if (p < end && *p == '\r')
						p++;
					if (p >= end)
						return RW_MORE;
					if (*p != '\n') {
						rw->why = _("\"stream\" not followed by an end-of-line");
						return RW_BAD;
					}
					p++;
				}
				g_string_append_len(o, copied, p - copied);
				rw->stop = p;
				return s[0] == 's' ? RW_STREAM : RW_END;
			}
			if (n == 1 && *s == 'R') {
				rw->why = _("a damaged reference (object number too large?)");
				return RW_BAD;
			}
			if ((n == 3 && memcmp(s, "obj", 3) == 0) ||
			    (n == 9 && memcmp(s, "endstream", 9) == 0) ||
			    (n == 7 && memcmp(s, "trailer", 7) == 0) ||
			    (n == 4 && memcmp(s, "xref", 4) == 0)) {
				rw->why = _("an object that does not end where it should");
				return RW_BAD;
			}
		}
	}
	if (fragment && depth == 0) {
		g_string_append_len(o, copied, p - copied);
		return RW_END;
	}
	if (fragment) {
		rw->why = _("an unbalanced \"<<\" or \"[\"");
		return RW_BAD;
	}
	return RW_MORE;
}

/* Checks that the stream object's bytes [data, ext) end with "endstream",
 * "endobj" and white-space only; sets *copy_end after "endobj". */
static bool stream_tail(joiner *j, part *pt, uint32_t num, int64_t data, int64_t ext,
                        int64_t *copy_end, cp_error **err)
{
	int64_t from = MAX(data, ext - TAIL_CHECK);
	size_t n;
	const char *t = fetch(j, pt, from, (size_t)(ext - from), &n, err);
	if (!t)
		return false;
	const char *e = t + n;
	while (e > t && cp_pdfsyntax_is_ws(e[-1]))
		e--;
	const char *eo = e - t >= 6 ? e - 6 : NULL;
	if (eo && memcmp(eo, "endobj", 6) == 0) {
		const char *es = eo;
		while (es > t && cp_pdfsyntax_is_ws(es[-1]))
			es--;
		if (es - t >= 9 && memcmp(es - 9, "endstream", 9) == 0) {
			*copy_end = from + (e - t);
			return true;
		}
	}
	return bad_obj(pt, ext, num,
	               _("stream object %lld does not end with \"endstream endobj\" before "
	                 "the next object"), err);
}

static bool copy_range(joiner *j, part *pt, int64_t from, int64_t to, cp_error **err)
{
	while (from < to) {
		size_t n = (size_t)MIN((int64_t)CP_PDF_JOIN_COPY_BYTES, to - from), got;
		const char *data = fetch(j, pt, from, n, &got, err);
		if (!data)
			return false;
		if (got != n)
			return bad(pt, from + (int64_t)got, _("the file ends early"), err);
		if (!put(j, data, n, err))
			return false;
		from += (int64_t)n;
	}
	return true;
}

/* Gives the resource dictionary that starts at t->str + at (after blanks)
 * the layer's name in its /XObject dictionary (making one when it has
 * none). False when the text is not a dictionary or its /XObject is not a
 * dictionary in place. */
static bool add_layer_name(GString *t, size_t at, int64_t form)
{
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	const char *p = cp_pdfsyntax_skip_ws(t->str + at, t->str + t->len);
	bool ok = cp_pdfsyntax_parse_dict(p, t->str + t->len, d) != NULL;
	const cp_pdf_dict_entry *x = ok ? cp_pdfsyntax_dict_find(d, "XObject") : NULL;
	char *add = NULL;
	size_t pos = 0;
	if (ok && x) {
		ok = x->vlen >= 4 && x->val[0] == '<' && x->val[1] == '<';
		pos = (size_t)(x->val + x->vlen - 2 - t->str);
		add = g_strdup_printf(" /" LAYER_NAME " %" PRId64 " 0 R ", form);
	} else if (ok) {
		pos = (size_t)(p + 2 - t->str);
		add = g_strdup_printf(" /XObject << /" LAYER_NAME " %" PRId64 " 0 R >> ", form);
	}
	g_array_free(d, TRUE);
	if (ok)
		g_string_insert(t, (gssize)pos, add);
	g_free(add);
	return ok;
}

/* Puts the layer under the page whose dictionary (rewritten) is t: its
 * /Contents become [call original…] and an inline /Resources gets the
 * layer's name (one of its own is K_RES, edited when it is copied). */
static bool put_layer_under(const joiner *j, GString *t)
{
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	const char *p = cp_pdfsyntax_skip_ws(t->str, t->str + t->len);
	size_t open = (size_t)(p - t->str); /* "<<": offsets survive the inserts below */
	bool ok = cp_pdfsyntax_parse_dict(p, t->str + t->len, d) != NULL;
	const cp_pdf_dict_entry *c = ok ? cp_pdfsyntax_dict_find(d, "Contents") : NULL;
	const cp_pdf_dict_entry *r = ok ? cp_pdfsyntax_dict_find(d, "Resources") : NULL;
	size_t res_at = r && r->val[0] == '<' ? (size_t)(r->val - t->str) : 0;
	char *call = g_strdup_printf("%" PRId64 " 0 R ", j->layer_call);
	int64_t num;
	if (!c) {
		ok = false;
	} else if (c->val[0] == '[') {
		size_t at = (size_t)(c->val + 1 - t->str);
		if (res_at > at)
			res_at += strlen(call);
		g_string_insert(t, (gssize)at, call);
	} else if (ref_value(c, &num)) {
		size_t at = (size_t)(c->val - t->str), end = at + c->vlen;
		if (res_at > at)
			res_at += strlen(call) + 2;
		g_string_insert_c(t, (gssize)end, ']');
		g_string_insert(t, (gssize)at, call);
		g_string_insert_c(t, (gssize)at, '[');
	} else {
		ok = false;
	}
	g_free(call);
	g_array_free(d, TRUE);
	if (ok && !r) {
		char *res = g_strdup_printf(" /Resources << /XObject << /" LAYER_NAME " %" PRId64
		                            " 0 R >> >> ", j->layer_form);
		g_string_insert(t, (gssize)(open + 2), res);
		g_free(res);
	}
	return ok && (res_at == 0 || add_layer_name(t, res_at, j->layer_form));
}

/* The number object num of pt holds ("N 0 obj N endobj") in *v: 1; 0
 * when it holds something else or is not an object in use; -1 on an
 * error. */
static int read_number(joiner *j, part *pt, int64_t num, int64_t *v, cp_error **err)
{
	if (num <= 0 || num >= pt->size || pt->kind[num] != K_OBJ)
		return 0;
	const char *start, *body, *end, *q;
	bool whole;
	if (!read_object(j, pt, (uint32_t)num, extent_end(pt, (uint32_t)num), 64, &start, &body,
	                 &end, &whole, err))
		return -1;
	const char *p = cp_pdfsyntax_skip_ws(body, end);
	return cp_pdfsyntax_parse_uint(p, end, INT64_MAX / 2, v, &q) &&
	       cp_pdfsyntax_is_keyword(cp_pdfsyntax_skip_ws(q, end), end, "endobj");
}

/* Writes stream object num deflated, when it has no filter: pdf.c has
 * Cairo leave page content streams as they are (zlib, set up anew for each
 * small stream, cost a fifth of the CPU), and the join deflates them with
 * libdeflate, a fraction of that. j->text is its rewritten dictionary up to
 * "stream" and its end-of-line; its data starts at data, and the object's
 * bytes end at copy_end. Returns 1 when written; 0 when the stream is to be
 * copied as it is (a /Filter or /DecodeParms, a /Length that is not a
 * number or a reference to one, data that is not followed by "endstream",
 * too short or too long, or no smaller deflated); -1 on an error. */
static int deflate_stream(joiner *j, part *pt, uint32_t num, int64_t data, int64_t copy_end,
                          cp_error **err)
{
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	const char *t = cp_pdfsyntax_skip_ws(j->text->str, j->text->str + j->text->len);
	int ret = 0;
	int64_t len = -1, ref;
	if (!cp_pdfsyntax_parse_dict(t, j->text->str + j->text->len, d) ||
	    !cp_pdfsyntax_plain_stream(d))
		goto out;
	const cp_pdf_dict_entry *le = cp_pdfsyntax_dict_find(d, "Length");
	const char *q;
	if (!le)
		goto out;
	size_t at = (size_t)(le->val - j->text->str), vlen = le->vlen;
	if (ref_value(le, &ref)) { /* renumbered: the part's own number is ref - base */
		if ((ret = read_number(j, pt, ref - pt->base, &len, err)) != 1) {
			ret = ret < 0 ? -1 : 0;
			goto out;
		}
		ret = 0;
	} else if (!cp_pdfsyntax_parse_uint(le->val, le->val + le->vlen, INT64_MAX / 2, &len, &q) ||
	           q != le->val + le->vlen) {
		goto out;
	}
	if (len < CP_PDFSYNTAX_DEFLATE_MIN || len > (int64_t)DEFLATE_MAX || len > copy_end - data)
		goto out;
	/* the data, then an optional end-of-line and "endstream" */
	size_t got;
	const char *after = fetch(j, pt, data + len, (size_t)MIN(copy_end - data - len, 16), &got,
	                          err);
	if (!after) {
		ret = -1;
		goto out;
	}
	const char *ae = after + got, *a = after;
	if (a < ae && *a == '\r')
		a++;
	if (a < ae && *a == '\n')
		a++;
	if (!cp_pdfsyntax_is_keyword(a, ae, "endstream"))
		goto out;
	const char *raw = fetch(j, pt, data, (size_t)len, &got, err);
	if (!raw) {
		ret = -1;
		goto out;
	}
	if (got != (size_t)len) {
		bad(pt, data + (int64_t)got, _("the file ends early"), err);
		ret = -1;
		goto out;
	}
	if (!j->z && !(j->z = libdeflate_alloc_compressor(DEFLATE_LEVEL)))
		goto out;
	size_t zlen = cp_pdfsyntax_deflate(j->z, raw, (size_t)len, &j->zbuf, &j->zcap);
	if (zlen == 0)
		goto out;
	char *nl = g_strdup_printf("%zu /Filter /FlateDecode", zlen);
	g_string_erase(j->text, (gssize)at, (gssize)vlen);
	g_string_insert(j->text, (gssize)at, nl);
	g_free(nl);
	xref_set(j, pt->base + num);
	char head[32];
	int hl = snprintf(head, sizeof head, "%" PRId64 " 0 obj", pt->base + num);
	ret = put(j, head, (size_t)hl, err) && put(j, j->text->str, j->text->len, err) &&
	              put(j, j->zbuf, zlen, err) && put(j, "\nendstream\nendobj\n", 18, err)
	              ? 1
	              : -1;
out:
	g_array_free(d, TRUE);
	return ret;
}

/* Copies object num, which ends where the next object (or the table)
 * starts, at ext. */
static bool copy_object(joiner *j, part *pt, uint32_t num, int64_t ext, cp_error **err)
{
	int64_t off = pt->offs[num];
	const char *extra = pt->inherit ? g_hash_table_lookup(pt->inherit,
	                                                      GUINT_TO_POINTER(num)) : NULL;
	rewriter rw = {.pt = pt, .j = j};
	enum rw r;
	const char *start;
	for (size_t want = FIRST_READ;; want = want > CP_PDF_JOIN_MAX_OBJECT_BYTES / 4
	                                          ? CP_PDF_JOIN_MAX_OBJECT_BYTES : want * 4) {
		const char *body, *end;
		bool whole;
		if (!read_object(j, pt, num, ext, want, &start, &body, &end, &whole, err))
			return false;
		g_string_truncate(j->text, 0);
		r = rewrite(&rw, body, end, false, extra, j->text);
		if (r == RW_BAD) {
			char *what = rw.bad_num >= 0 ? g_strdup_printf(rw.why, (long long)rw.bad_num)
			                             : g_strdup(rw.why);
			char *msg = g_strdup_printf(_("object %lld: %s"), (long long)num, what);
			bad(pt, off + (body - start), msg, err);
			g_free(msg);
			g_free(what);
			return false;
		}
		if (r != RW_MORE)
			break;
		if (whole || want >= CP_PDF_JOIN_MAX_OBJECT_BYTES)
			return bad_obj(pt, off, num,
			               whole ? _("object %lld does not end before the next object")
			                     : _("object %lld is larger than the limit"),
			               err);
	}
	int64_t data = off + (rw.stop - start), copy_end = 0;
	if (r == RW_STREAM && !stream_tail(j, pt, num, data, ext, &copy_end, err))
		return false;
	bool edit = j->layer_form >= 0 && pt->role == P_UNDER &&
	            (pt->kind[num] == K_RES || pt->kind[num] == K_PAGE);
	if (edit && (r != RW_END || !(pt->kind[num] == K_RES
	                                      ? add_layer_name(j->text, 0, j->layer_form)
	                                      : put_layer_under(j, j->text))))
		return bad_obj(pt, off, num,
		               pt->kind[num] == K_RES
		                       ? _("resource dictionary %lld has an /XObject that is not "
		                           "a dictionary in place")
		                       : _("the layer cannot go under page %lld: its /Contents are "
		                           "not a stream or an array of streams, or its /Resources "
		                           "have an /XObject that is not a dictionary in place"),
		               err);
	if (r == RW_STREAM) {
		int done = deflate_stream(j, pt, num, data, copy_end, err);
		if (done != 0)
			return done > 0;
	}
	xref_set(j, pt->base + num);
	char head[32];
	int hl = snprintf(head, sizeof head, "%" PRId64 " 0 obj", pt->base + num);
	if (!put(j, head, (size_t)hl, err) ||
	    !put(j, j->text->str, j->text->len, err))
		return false;
	if (r == RW_STREAM && !copy_range(j, pt, data, copy_end, err))
		return false;
	return put(j, "\n", 1, err);
}

/* "oooooooooo ggggg t\r\n": written by hand, a million of them are fast. */
static void xref_entry(char *e, int64_t value, int gen, char type)
{
	for (int i = 9; i >= 0; i--, value /= 10)
		e[i] = (char)('0' + value % 10);
	e[10] = ' ';
	for (int i = 15; i >= 11; i--, gen /= 10)
		e[i] = (char)('0' + gen % 10);
	e[16] = ' ';
	e[17] = type;
	e[18] = '\r';
	e[19] = '\n';
}

/* ---------------------------------------------- the cross-reference table
 *
 * The output's table goes, in number order, to an unlinked scratch file as
 * each range of numbers becomes final: the head's (0-2) once written, each
 * part's once appended, the layer's call last. Memory then holds the
 * offsets of the parts being copied (8 bytes a number), not the whole
 * output's (5 MB at 100,000 pages, at the end of a batch, its peak). The
 * entry of a free number names the next free number (7.5.4), not known yet:
 * free entries are written as placeholders and linked when the table is
 * copied into the output (write_tail()). */
typedef struct xref_spill {
	FILE *f;
	int fd;
	int64_t next; /* the next number to write */
	GArray *free; /* int64_t: the free numbers written, in order */
} xref_spill;

#define SPILL_BATCH 256 /* entries formatted per fwrite() */

static bool spill_open(xref_spill *x, const char *dir, const char *label, cp_error **err)
{
	*x = (xref_spill){.fd = -1, .free = g_array_new(FALSE, FALSE, sizeof(int64_t))};
	x->fd = cp_atomic_scratch(dir ? dir : g_get_tmp_dir(), label, err);
	if (x->fd < 0)
		return false;
	if (!(x->f = fdopen(x->fd, "w+"))) {
		cp_set_error(err, CP_E_NOMEM, label, 0, 0, NULL, _("out of memory"));
		return false;
	}
	return true;
}

static void spill_close(xref_spill *x)
{
	if (x->f)
		fclose(x->f);
	else if (x->fd >= 0)
		close(x->fd);
	g_array_free(x->free, TRUE);
}

/* The entries of numbers first .. first + n - 1, whose offsets are v[0..n)
 * (0: free); the numbers before first are written already. */
static bool spill_range(joiner *j, const int64_t *v, int64_t first, int64_t n, cp_error **err)
{
	xref_spill *x = j->spill;
	g_assert(first == x->next);
	char buf[20 * SPILL_BATCH];
	for (int64_t i = 0; i < n;) {
		size_t k = 0;
		for (; k < SPILL_BATCH && i < n; k++, i++) {
			if (v[i] > 0) {
				xref_entry(buf + 20 * k, v[i], 0, 'n');
				continue;
			}
			int64_t num = first + i;
			g_array_append_val(x->free, num);
			xref_entry(buf + 20 * k, 0, 0, 'f');
		}
		errno = 0;
		if (fwrite(buf, 20, k, x->f) != k) {
			cp_set_error(err, CP_E_IO, j->label, 0, 0, NULL, _("cannot write: %s"),
			             g_strerror(errno ? errno : EIO));
			return false;
		}
	}
	x->next = first + n;
	return true;
}

/* Reads len bytes at off of the file fd (a copy, the table) into j->win. */
static bool read_scratch(joiner *j, int fd, int64_t off, size_t len, cp_error **err)
{
	cp_pdf_src src = {.fd = fd, .label = j->label, .bad = join_bad, .part = -1};
	ssize_t got = cp_pdfsyntax_read_at(&src, off, j->win, len, err);
	if (got < 0)
		return false;
	j->win_pt = NULL; /* the window now holds the file, not a part */
	if ((size_t)got != len) {
		cp_set_error(err, CP_E_IO, j->label, 0, 0, NULL, _("a temporary file ended early"));
		return false;
	}
	return true;
}

/* Copies part index's objects (loaded again for it, then parked). */
static bool copy_part(joiner *j, part *pt, int index, cp_error **err)
{
	if (!part_reload(j, pt, index, j->label, err))
		return false;
	/* Second pass: the dropped /Info when something referred to it. */
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t i = 0; i < pt->nused; i++) {
			uint32_t num = pt->order[i];
			uint8_t k = pt->kind[num];
			if ((pass == 0 ? k == K_OBJ || k == K_PAGE || k == K_RES : k == K_LATE) &&
			    !copy_object(j, pt, num,
			                 i + 1 < pt->nused ? pt->offs[pt->order[i + 1]] : pt->xref_off,
			                 err))
				return false;
		}
	part_park(pt);
	return true;
}

/* copy_part() into j itself, the part's entries then added to the table. */
static bool copy_part_here(joiner *j, part *pt, int index, cp_error **err)
{
	j->xref = g_new0(int64_t, pt->size);
	j->xref_lo = pt->base;
	bool ok = copy_part(j, pt, index, err) &&
	          spill_range(j, j->xref + 1, pt->base + 1, (int64_t)pt->size - 1, err);
	g_free(j->xref);
	j->xref = NULL;
	return ok;
}

/* ---------------------------------------------------- copying in parallel
 *
 * What a join does besides reading the parts' tables is copying their
 * objects, and deflating their page content on the way (a fixed cost of
 * some 8 µs a stream in libdeflate, most of the join): parts are
 * independent, so threads copy them side by side, each part into an
 * unlinked file of its own (copy_part() on a joiner of the thread's, the
 * offsets it records counted from that file's start), and the calling
 * thread appends the files in part order, adding the file's place to its
 * objects' offsets. The bytes are the same as those of one thread. At most
 * COPY_AHEAD parts more than the threads are copied before they are
 * appended, so the files take some parts' room on disk, not the output's. */
#define COPY_AHEAD 2

typedef struct copier copier;

typedef struct copy_slot {
	int fd;         /* the part's copy, or -1 */
	int64_t len;    /* its bytes */
	int64_t *xref;  /* its objects' offsets in it, by number - the part's base */
	cp_error *err;  /* why it failed */
	bool done;
} copy_slot;

struct copier {
	const joiner *j; /* the settings every thread's joiner takes */
	part *parts;
	int nload;
	const char *tmp_dir;
	GMutex lock;
	GCond cond;
	int next;      /* the next part to take */
	int appended;  /* parts appended so far */
	int window;    /* parts copied ahead of the last appended, at most */
	bool stop;     /* a part failed or the caller gave up: take no more */
	copy_slot *slots;
};

/* The buffers a joiner reads and writes through (joiner_drop() frees). */
static void joiner_buffers(joiner *t)
{
	t->win = g_malloc(CP_PDF_JOIN_COPY_BYTES);
	t->obuf = g_malloc(OBUF_BYTES);
	t->text = g_string_sized_new(FIRST_READ);
}

/* A joiner for a copying thread: j's settings, buffers of its own, output
 * to out counted from 1 (0 is a free entry in the shared xref table). */
static void joiner_fork(joiner *t, const joiner *j, FILE *out)
{
	*t = (joiner){.label = j->label, .out = out, .pos = 1, .root = j->root,
	              .catalog = j->catalog, .layer_form = j->layer_form,
	              .layer_call = j->layer_call, .nout = j->nout};
	joiner_buffers(t);
}

static void joiner_drop(joiner *t)
{
	g_free(t->buf);
	g_free(t->win);
	g_free(t->obuf);
	g_free(t->zbuf);
	if (t->z)
		libdeflate_free_compressor(t->z);
	g_string_free(t->text, TRUE);
}

/* Copies part p into an unlinked file in c->tmp_dir. */
static void copy_one(copier *c, int p, copy_slot *s)
{
	int fd = cp_atomic_scratch(c->tmp_dir, c->j->label, &s->err);
	if (fd < 0)
		return;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		cp_set_error(&s->err, CP_E_NOMEM, c->j->label, 0, 0, NULL, _("out of memory"));
		close(fd);
		return;
	}
	joiner t;
	joiner_fork(&t, c->j, f);
	const part *pt = &c->parts[p];
	s->xref = t.xref = g_new0(int64_t, pt->size);
	t.xref_lo = pt->base;
	bool ok = copy_part(&t, &c->parts[p], p, &s->err) && flush(&t, &s->err);
	if (ok && (fflush(f) != 0 || ferror(f))) {
		cp_set_error(&s->err, CP_E_IO, c->j->label, 0, 0, NULL, _("cannot write: %s"),
		             g_strerror(errno ? errno : EIO));
		ok = false;
	}
	s->len = t.pos - 1;
	joiner_drop(&t);
	if (ok)
		s->fd = dup(fd);
	if (ok && s->fd < 0)
		cp_set_error(&s->err, CP_E_IO, c->j->label, 0, 0, NULL, _("cannot write: %s"),
		             g_strerror(errno));
	fclose(f);
}

static gpointer copier_main(gpointer data)
{
	copier *c = data;
	g_mutex_lock(&c->lock);
	for (;;) {
		while (!c->stop && c->next < c->nload && c->next >= c->appended + c->window)
			g_cond_wait(&c->cond, &c->lock);
		if (c->stop || c->next >= c->nload)
			break;
		int p = c->next++;
		g_mutex_unlock(&c->lock);
		copy_slot *s = &c->slots[p];
		copy_one(c, p, s);
		g_mutex_lock(&c->lock);
		s->done = true;
		if (s->err)
			c->stop = true;
		g_cond_broadcast(&c->cond);
	}
	g_mutex_unlock(&c->lock);
	return NULL;
}

/* Appends the copy of part p (made by a copier thread) to the output: its
 * bytes, and its place added to its objects' offsets. */
static bool append_copy(joiner *j, const part *pt, copy_slot *s, cp_error **err)
{
	int64_t at = j->pos - 1; /* the copy counted from 1 */
	for (uint32_t n = 1; n < pt->size; n++)
		if (s->xref[n] > 0)
			s->xref[n] += at;
	if (!spill_range(j, s->xref + 1, pt->base + 1, (int64_t)pt->size - 1, err))
		return false;
	for (int64_t off = 0; off < s->len;) {
		size_t n = (size_t)MIN((int64_t)CP_PDF_JOIN_COPY_BYTES, s->len - off);
		if (!read_scratch(j, s->fd, off, n, err) || !put(j, j->win, n, err))
			return false;
		off += (int64_t)n;
	}
	return true;
}

/* Copies the parts' objects on `threads` threads (see above) and appends
 * them in order. False on the first failure, in part order. */
static bool copy_parallel(joiner *j, part *parts, int nload, int threads, const char *tmp_dir,
                          cp_error **err)
{
	copier c = {.j = j, .parts = parts, .nload = nload, .tmp_dir = tmp_dir,
	            .window = threads + COPY_AHEAD};
	g_mutex_init(&c.lock);
	g_cond_init(&c.cond);
	c.slots = g_new0(copy_slot, nload);
	for (int p = 0; p < nload; p++)
		c.slots[p].fd = -1;
	GThread **t = g_new0(GThread *, threads);
	int started = 0;
	for (int i = 0; i < threads; i++) {
		GError *ge = NULL;
		t[i] = g_thread_try_new("cp-join", copier_main, &c, &ge);
		if (!t[i]) {
			g_error_free(ge);
			break;
		}
		started++;
	}
	bool ok = true;
	for (int p = 0; started == 0 && p < nload; p++) /* no thread to be had */
		if (!(ok = copy_part_here(j, &parts[p], p, err)))
			break;
	for (int p = 0; started > 0 && ok && p < nload; p++) {
		copy_slot *s = &c.slots[p];
		g_mutex_lock(&c.lock);
		while (!s->done)
			g_cond_wait(&c.cond, &c.lock);
		g_mutex_unlock(&c.lock);
		if (s->err) {
			cp_propagate_error(err, s->err);
			s->err = NULL;
			ok = false;
			break;
		}
		ok = append_copy(j, &parts[p], s, err);
		close(s->fd);
		s->fd = -1;
		g_free(s->xref);
		s->xref = NULL;
		g_mutex_lock(&c.lock);
		c.appended++;
		if (!ok)
			c.stop = true;
		g_cond_broadcast(&c.cond);
		g_mutex_unlock(&c.lock);
	}
	if (!ok) {
		g_mutex_lock(&c.lock);
		c.stop = true;
		g_cond_broadcast(&c.cond);
		g_mutex_unlock(&c.lock);
	}
	for (int i = 0; i < started; i++)
		g_thread_join(t[i]);
	for (int p = 0; p < nload; p++) {
		if (c.slots[p].fd >= 0)
			close(c.slots[p].fd);
		g_free(c.slots[p].xref);
		cp_error_free(c.slots[p].err);
	}
	g_free(c.slots);
	g_free(t);
	g_mutex_clear(&c.lock);
	g_cond_clear(&c.cond);
	return ok;
}

/* ------------------------------------------------------------- joining */

/* The caller's catalog entries: dictionary entries whose values hold no
 * keywords other than true, false and null (so no "R", "endobj" or
 * "stream" can get into the catalog). */
static bool valid_extra(const char *extra)
{
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	char *text = g_strdup_printf("<< %s\n>>", extra);
	const char *end = text + strlen(text);
	bool ok = cp_pdfsyntax_parse_dict(text, end, d) == end;
	for (const char *p = text; ok && (p = cp_pdfsyntax_skip_ws(p, end)) < end;) {
		if (*p == '(') {
			p = cp_pdfsyntax_skip_string(p, end);
		} else if ((*p == '<' && p[1] == '<') || (*p == '>' && p[1] == '>')) {
			p += 2;
		} else if (*p == '<') {
			p = strchr(p, '>') + 1;
		} else if (*p == '/') {
			p = cp_pdfsyntax_skip_regular(p + 1, end);
		} else if (cp_pdfsyntax_is_delim(*p)) {
			p++;
		} else {
			const char *q = cp_pdfsyntax_skip_regular(p, end);
			ok = g_ascii_isdigit(*p) || *p == '-' || *p == '+' || *p == '.' ||
			     cp_pdfsyntax_is_keyword(p, end, "true") ||
			     cp_pdfsyntax_is_keyword(p, end, "false") ||
			     cp_pdfsyntax_is_keyword(p, end, "null");
			if (ok && g_ascii_isdigit(*p)) {
				int64_t n, g;
				ok = !cp_pdfsyntax_match_ref(p, end, &n, &g);
			}
			p = q;
		}
	}
	g_free(text);
	g_array_free(d, TRUE);
	return ok;
}

static bool check_runs(const char *label, part *parts, int nparts, const cp_pdf_run *runs,
                       size_t nruns, cp_error **err)
{
	for (size_t i = 0; i < nruns; i++) {
		part *pt = &parts[runs[i].part];
		long left = (long)pt->pages->len - pt->taken;
		if (runs[i].pages > left) {
			cp_set_error(err, CP_E_USAGE, label, 0, 0, NULL,
			             _("run %zu takes %ld pages of part %d, which has only %ld left"),
			             i, runs[i].pages, runs[i].part, left);
			return false;
		}
		pt->taken += runs[i].pages;
	}
	for (int p = 0; p < nparts; p++) {
		if (parts[p].taken != (long)parts[p].pages->len) {
			cp_set_error(err, CP_E_USAGE, label, 0, 0, NULL,
			             _("the runs take %ld of the %u pages of part %d"), parts[p].taken,
			             parts[p].pages->len, p);
			return false;
		}
		parts[p].taken = 0;
	}
	return true;
}

static bool write_head(joiner *j, part *parts, const cp_pdf_run *runs, size_t nruns,
                       long total, const char *extra, cp_error **err)
{
	/* The comment's bytes above 127 tell transfer programs the file is binary. */
	if (!put(j, "%PDF-1.5\n%\xb5\xed\xae\xfb\n", 15, err))
		return false;
	xref_set(j, j->root);
	if (!putf(j, err, "%" PRId64 " 0 obj\n<< /Type /Pages\n   /Kids [", j->root))
		return false;
	for (size_t i = 0; i < nruns; i++) {
		part *pt = &parts[runs[i].part];
		for (long k = 0; k < runs[i].pages; k++, pt->taken++) {
			uint32_t num = g_array_index(pt->pages, uint32_t, pt->taken);
			if (!putf(j, err, "%s%" PRId64 " 0 R", k % 8 ? " " : "\n      ",
			          pt->base + num))
				return false;
		}
	}
	if (!putf(j, err, " ]\n   /Count %ld\n>>\nendobj\n", total))
		return false;
	xref_set(j, j->catalog);
	if (!putf(j, err, "%" PRId64 " 0 obj\n<< /Type /Catalog\n   /Pages %" PRId64 " 0 R\n",
	          j->catalog, j->root))
		return false;
	if (extra && (!put(j, "   ", 3, err) || !put(j, extra, strlen(extra), err) ||
	              !put(j, "\n", 1, err)))
		return false;
	return put(j, ">>\nendobj\n", 10, err);
}

/* The cross-reference table (copied from the spill, free numbers linked
 * into the free list, 7.5.4) and the trailer; the /ID is a hash of the
 * table, so identical input gives an identical file. */
static bool write_tail(joiner *j, const part *p0, cp_error **err)
{
	xref_spill *x = j->spill;
	int64_t xref_at = j->pos;
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	bool ok = putf(j, err, "xref\n0 %" PRId64 "\n", j->nout);
	g_assert(x->next == j->nout);
	errno = 0;
	if (ok && fflush(x->f) != 0) {
		cp_set_error(err, CP_E_IO, j->label, 0, 0, NULL, _("cannot write: %s"),
		             g_strerror(errno ? errno : EIO));
		ok = false;
	}
	const int64_t *fr = (const int64_t *)(void *)x->free->data;
	guint k = 0;
	const size_t block = CP_PDF_JOIN_COPY_BYTES / 20 * 20;
	for (int64_t off = 0; ok && off < 20 * j->nout;) {
		size_t n = (size_t)MIN((int64_t)block, 20 * j->nout - off);
		if (!(ok = read_scratch(j, x->fd, off, n, err)))
			break;
		int64_t lo = off / 20, hi = lo + (int64_t)n / 20;
		for (; k < x->free->len && fr[k] < hi; k++)
			xref_entry(j->win + 20 * (fr[k] - lo), k + 1 < x->free->len ? fr[k + 1] : 0,
			           fr[k] == 0 ? 65535 : 0, 'f');
		g_checksum_update(sum, (const guchar *)j->win, n);
		ok = put(j, j->win, n, err);
		off += (int64_t)n;
	}
	const char *id = g_checksum_get_string(sum);
	if (ok)
		ok = putf(j, err, "trailer\n<< /Size %" PRId64 "\n   /Root %" PRId64 " 0 R\n", j->nout,
		          j->catalog);
	if (ok && p0->info >= 0)
		ok = putf(j, err, "   /Info %" PRId64 " 0 R\n", p0->base + p0->info);
	if (ok)
		ok = putf(j, err, "   /ID [<%.32s> <%.32s>]\n>>\nstartxref\n%" PRId64 "\n%%%%EOF\n",
		          id, id, xref_at);
	g_checksum_free(sum);
	return ok;
}

/* Makes the layer part's page a Form XObject: its content stream gets the
 * form's entries (its page's /MediaBox as /BBox, its /Resources: the part's
 * own numbers, which copy_object() renumbers as the rest), and the
 * page itself is left out (K_SKIP). Sets j->layer_form. */
static bool layer_form(joiner *j, part *pt, cp_error **err)
{
	if (pt->pages->len != 1)
		return bad(pt, 0, _("the shared layer is not one page"), err);
	uint32_t page = g_array_index(pt->pages, uint32_t, 0);
	GArray *d = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	const char *start, *end;
	bool ok = read_dict_object(j, pt, page, CP_PDF_JOIN_MAX_OBJECT_BYTES, &start, &end, d, err);
	if (!ok)
		goto out;
	const cp_pdf_dict_entry *c = cp_pdfsyntax_dict_find(d, "Contents");
	const cp_pdf_dict_entry *r = cp_pdfsyntax_dict_find(d, "Resources");
	const cp_pdf_dict_entry *box = cp_pdfsyntax_dict_find(d, "MediaBox");
	int64_t cn, rn;
	if (!ref_value(c, &cn) || cn >= pt->size || pt->kind[cn] != K_OBJ || !ref_value(r, &rn) ||
	    rn >= pt->size || pt->kind[rn] != K_OBJ || !box || box->val[0] != '[' ||
	    memchr(box->val, 'R', box->vlen)) {
		ok = bad_obj(pt, pt->offs[page], page,
		             _("the shared layer's page %lld has not its own /Contents (one "
		               "stream), /Resources (an object) and /MediaBox"), err);
		goto out;
	}
	if (!pt->inherit)
		pt->inherit = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	g_hash_table_insert(pt->inherit, GUINT_TO_POINTER((uint32_t)cn),
	                    g_strdup_printf("\n   /Type /XObject /Subtype /Form /BBox %.*s"
	                                    "\n   /Resources %" PRId64 " 0 R",
	                                    (int)box->vlen, box->val, rn));
	j->layer_form = pt->base + cn;
out:
	g_array_free(d, TRUE);
	return ok;
}

bool cp_pdf_join(FILE *out, const char *label, const int *fds, int nparts,
                 const cp_pdf_run *runs, size_t nruns, const char *catalog_extra,
                 cp_error **err)
{
	return cp_pdf_join_under(out, label, fds, nparts, runs, nruns, -1, catalog_extra, err);
}

bool cp_pdf_join_under(FILE *out, const char *label, const int *fds, int nparts,
                       const cp_pdf_run *runs, size_t nruns, int layer_fd,
                       const char *catalog_extra, cp_error **err)
{
	return cp_pdf_join_parallel(out, label, fds, nparts, runs, nruns, layer_fd, catalog_extra,
	                            NULL, 1, err);
}

bool cp_pdf_join_parallel(FILE *out, const char *label, const int *fds, int nparts,
                          const cp_pdf_run *runs, size_t nruns, int layer_fd,
                          const char *catalog_extra, const char *tmp_dir, int threads,
                          cp_error **err)
{
	if (!out || !fds || nparts < 1 || (!runs && nruns)) {
		cp_set_error(err, CP_E_USAGE, label, 0, 0, NULL, _("no parts to join"));
		return false;
	}
	for (size_t i = 0; i < nruns; i++)
		if (runs[i].part < 0 || runs[i].part >= nparts || runs[i].pages < 1) {
			cp_set_error(err, CP_E_USAGE, label, 0, 0, NULL,
			             _("run %zu names part %d and %ld pages; there are %d parts"), i,
			             runs[i].part, runs[i].pages, nparts);
			return false;
		}
	if (catalog_extra && !valid_extra(catalog_extra)) {
		cp_set_error(err, CP_E_USAGE, label, 0, 0, NULL,
		             _("the catalog entries are not PDF key/value pairs: %s"), catalog_extra);
		return false;
	}

	joiner j = {.label = label, .out = out, .root = 1, .catalog = 2, .layer_form = -1,
	            .layer_call = -1};
	xref_spill spill;
	joiner_buffers(&j);
	/* The layer, when there is one, is read as a part after the others. */
	int nload = nparts + (layer_fd >= 0);
	part *parts = g_new0(part, nload);
	bool ok = false;
	long total = 0;
	int64_t next = 3; /* after the new root and catalog */
	for (int p = 0; p < nload; p++) {
		parts[p].role = p == nparts ? P_LAYER : layer_fd >= 0 ? P_UNDER : P_PAGES;
		if (!part_load(&j, &parts[p], p == nparts ? layer_fd : fds[p], p, label, err))
			goto done;
		parts[p].base = next - 1; /* object 0 is always free */
		next += parts[p].size - 1;
		if (p == nparts) {
			if (!layer_form(&j, &parts[p], err))
				goto done;
			j.layer_call = next++;
		} else {
			total += (long)parts[p].pages->len;
		}
		part_park(&parts[p]);
		if (next > CP_PDF_JOIN_MAX_OBJECTS + 1) {
			cp_set_error(err, CP_E_NOMEM, label, 0, 0, NULL,
			             _("the joined PDF would have more than %d objects"),
			             CP_PDF_JOIN_MAX_OBJECTS);
			goto done;
		}
	}
	if (!check_runs(label, parts, nparts, runs, nruns, err))
		goto done;
	j.nout = next;
	bool spilled = spill_open(&spill, tmp_dir, label, err);
	j.spill = &spill; /* spill_close() whatever spill_open() did */
	if (!spilled)
		goto done;
	int64_t head[3] = {0}; /* 0 (free), the root, the catalog */
	j.xref = head;
	j.xref_lo = 0;
	errno = 0;
	if (!write_head(&j, parts, runs, nruns, total, catalog_extra, err) ||
	    !spill_range(&j, head, 0, 3, err))
		goto done;
	j.xref = NULL;
	if (threads > nload)
		threads = nload;
	if (tmp_dir && threads > 1) {
		if (!copy_parallel(&j, parts, nload, threads, tmp_dir, err))
			goto done;
	} else {
		for (int p = 0; p < nload; p++)
			if (!copy_part_here(&j, &parts[p], p, err))
				goto done;
	}
	if (j.layer_call >= 0) {
		static const char call[] = "q /" LAYER_NAME " Do Q\n";
		int64_t at = j.pos;
		if (!spill_range(&j, &at, j.layer_call, 1, err) ||
		    !putf(&j, err, "%" PRId64 " 0 obj\n<< /Length %zu >>\nstream\n%sendstream\nendobj\n",
		          j.layer_call, sizeof call - 1, call))
			goto done;
	}
	if (!write_tail(&j, &parts[0], err) || !flush(&j, err))
		goto done;
	if (fflush(out) != 0 || ferror(out)) {
		cp_set_error(err, CP_E_IO, label, 0, 0, NULL, _("cannot write: %s"),
		             g_strerror(errno ? errno : EIO));
		goto done;
	}
	ok = true;
done:
	for (int p = 0; p < nload; p++)
		part_clear(&parts[p]);
	g_free(parts);
	if (j.spill)
		spill_close(&spill);
	joiner_drop(&j);
	return ok;
}

bool cp_pdf_part_pages(int fd, long *pages, cp_error **err)
{
	part pt = {0};
	joiner j = {.win = g_malloc(CP_PDF_JOIN_COPY_BYTES)};
	bool ok = part_load(&j, &pt, fd, 0, _("PDF part"), err);
	if (ok)
		*pages = (long)pt.pages->len;
	part_clear(&pt);
	g_free(j.win);
	g_free(j.buf);
	return ok;
}
