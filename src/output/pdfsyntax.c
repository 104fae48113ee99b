/* SPDX-License-Identifier: MIT */
#include "output/pdfsyntax.h"

#include <errno.h>
#include <libdeflate.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "i18n.h"

#define TAIL_BYTES 2048 /* startxref sits in the last 1024 bytes per the spec */

/* NUL, TAB, LF, FF, CR and space are white-space; ()<>[]{}/% delimit. */
const unsigned char cp_pdfsyntax_class[256] = {
	[0] = 1, ['\t'] = 1, ['\n'] = 1, ['\f'] = 1, ['\r'] = 1, [' '] = 1,
	['('] = 2, [')'] = 2, ['<'] = 2, ['>'] = 2, ['['] = 2, [']'] = 2,
	['{'] = 2, ['}'] = 2, ['/'] = 2, ['%'] = 2,
};

/* --------------------------------------------------------------- lexing */

const char *cp_pdfsyntax_skip_ws(const char *p, const char *end)
{
	while (p < end) {
		if (cp_pdfsyntax_is_ws(*p)) {
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

const char *cp_pdfsyntax_skip_regular(const char *p, const char *end)
{
	while (p < end && cp_pdfsyntax_is_regular(*p))
		p++;
	return p;
}

const char *cp_pdfsyntax_skip_string(const char *p, const char *end)
{
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

const char *cp_pdfsyntax_skip_object(const char *p, const char *end, int depth)
{
	if (depth > CP_PDFSYNTAX_MAX_DEPTH)
		return NULL;
	p = cp_pdfsyntax_skip_ws(p, end);
	if (p >= end)
		return NULL;
	if (*p == '<' && p + 1 < end && p[1] == '<') {
		p += 2;
		for (;;) {
			p = cp_pdfsyntax_skip_ws(p, end);
			if (p + 1 < end && p[0] == '>' && p[1] == '>')
				return p + 2;
			p = cp_pdfsyntax_skip_object(p, end, depth + 1);
			if (!p)
				return NULL;
		}
	}
	if (*p == '<') {
		for (p++; p < end && *p != '>'; p++)
			if (!g_ascii_isxdigit(*p) && !cp_pdfsyntax_is_ws(*p))
				return NULL;
		return p < end ? p + 1 : NULL;
	}
	if (*p == '(')
		return cp_pdfsyntax_skip_string(p, end);
	if (*p == '[') {
		p++;
		for (;;) {
			p = cp_pdfsyntax_skip_ws(p, end);
			if (p < end && *p == ']')
				return p + 1;
			p = cp_pdfsyntax_skip_object(p, end, depth + 1);
			if (!p)
				return NULL;
		}
	}
	if (*p == '/')
		return cp_pdfsyntax_skip_regular(p + 1, end);
	if (cp_pdfsyntax_is_delim(*p))
		return NULL;
	const char *q = cp_pdfsyntax_skip_regular(p, end);
	return q > p ? q : NULL;
}

bool cp_pdfsyntax_parse_uint(const char *p, const char *end, int64_t max, int64_t *out,
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
	if (p < end && cp_pdfsyntax_is_regular(*p))
		return false;
	*out = v;
	*next = p;
	return true;
}

bool cp_pdfsyntax_is_keyword(const char *p, const char *end, const char *kw)
{
	size_t n = strlen(kw);
	return (size_t)(end - p) >= n && memcmp(p, kw, n) == 0 &&
	       ((size_t)(end - p) == n || !cp_pdfsyntax_is_regular(p[n]));
}

const char *cp_pdfsyntax_match_ref(const char *p, const char *end, int64_t *num,
                                   int64_t *gen)
{
	const char *q;
	p = cp_pdfsyntax_skip_ws(p, end);
	if (!cp_pdfsyntax_parse_uint(p, end, CP_PDFSYNTAX_MAX_OBJECTS, num, &q))
		return NULL;
	p = cp_pdfsyntax_skip_ws(q, end);
	if (!cp_pdfsyntax_parse_uint(p, end, 65535, gen, &q))
		return NULL;
	p = cp_pdfsyntax_skip_ws(q, end);
	return cp_pdfsyntax_is_keyword(p, end, "R") ? p + 1 : NULL;
}

const char *cp_pdfsyntax_parse_dict(const char *p, const char *end, GArray *entries)
{
	p = cp_pdfsyntax_skip_ws(p, end);
	if (!(p + 1 < end && p[0] == '<' && p[1] == '<'))
		return NULL;
	p += 2;
	for (;;) {
		p = cp_pdfsyntax_skip_ws(p, end);
		if (p + 1 < end && p[0] == '>' && p[1] == '>')
			return p + 2;
		if (p >= end || *p != '/')
			return NULL;
		cp_pdf_dict_entry e = {.key = p + 1};
		p = cp_pdfsyntax_skip_regular(p + 1, end);
		e.klen = (size_t)(p - e.key);
		e.val = cp_pdfsyntax_skip_ws(p, end);
		int64_t n, g;
		const char *q = cp_pdfsyntax_match_ref(e.val, end, &n, &g);
		if (!q)
			q = cp_pdfsyntax_skip_object(e.val, end, 1);
		if (!q)
			return NULL;
		e.vlen = (size_t)(q - e.val);
		g_array_append_val(entries, e);
		p = q;
	}
}

const cp_pdf_dict_entry *cp_pdfsyntax_dict_find(GArray *entries, const char *key)
{
	size_t n = strlen(key);
	for (guint i = 0; i < entries->len; i++) {
		const cp_pdf_dict_entry *e = &g_array_index(entries, cp_pdf_dict_entry, i);
		if (e->klen == n && memcmp(e->key, key, n) == 0)
			return e;
	}
	return NULL;
}

bool cp_pdfsyntax_plain_stream(GArray *d)
{
	return !cp_pdfsyntax_dict_find(d, "Filter") && !cp_pdfsyntax_dict_find(d, "DecodeParms") &&
	       !cp_pdfsyntax_dict_find(d, "F");
}

size_t cp_pdfsyntax_deflate(struct libdeflate_compressor *z, const void *data, size_t n,
                            unsigned char **buf, size_t *cap)
{
	size_t bound = libdeflate_zlib_compress_bound(z, n);
	if (*cap < bound) {
		g_free(*buf);
		*buf = g_malloc(bound);
		*cap = bound;
	}
	size_t zn = libdeflate_zlib_compress(z, data, n, *buf, *cap);
	return zn < n ? zn : 0;
}

bool cp_pdfsyntax_entry_is(const cp_pdf_dict_entry *e, const char *name)
{
	return e && e->vlen == strlen(name) && memcmp(e->val, name, e->vlen) == 0;
}

/* g_strstr_len() and friends stop at a NUL byte, which binary streams hold. */
const char *cp_pdfsyntax_find(const char *h, size_t hlen, const char *needle)
{
	return memmem(h, hlen, needle, strlen(needle));
}

const char *cp_pdfsyntax_rfind(const char *h, size_t hlen, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = hlen >= n ? hlen - n + 1 : 0; i-- > 0;)
		if (memcmp(h + i, needle, n) == 0)
			return h + i;
	return NULL;
}

/* ---------------------------------------------------------------- file */

bool cp_pdfsyntax_bad(const cp_pdf_src *src, int64_t at, const char *what, cp_error **err)
{
	src->bad(src, at, what, err);
	return false;
}

bool cp_pdfsyntax_open(cp_pdf_src *src, cp_error **err)
{
	struct stat st;
	if (fstat(src->fd, &st) != 0) {
		cp_set_error(err, CP_E_IO, src->label, 0, 0, NULL, _("cannot read: %s"),
		             g_strerror(errno));
		return false;
	}
	src->size = st.st_size;
	return true;
}

ssize_t cp_pdfsyntax_read_at(const cp_pdf_src *src, int64_t off, char *buf, size_t len,
                             cp_error **err)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(src->fd, buf + got, len - got, (off_t)(off + (int64_t)got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cp_set_error(err, CP_E_IO, src->label, 0, 0, NULL, _("cannot read: %s"),
			             g_strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

bool cp_pdfsyntax_find_startxref(const cp_pdf_src *src, int64_t *xref_off, cp_error **err)
{
	char head[8];
	ssize_t n = cp_pdfsyntax_read_at(src, 0, head, 5, err);
	if (n < 0)
		return false;
	if (n < 5 || memcmp(head, "%PDF-", 5) != 0)
		return cp_pdfsyntax_bad(src, 0, _("it is not a PDF file"), err);

	char tail[TAIL_BYTES + 1];
	int64_t tail_off = src->size > TAIL_BYTES ? src->size - TAIL_BYTES : 0;
	n = cp_pdfsyntax_read_at(src, tail_off, tail, (size_t)(src->size - tail_off), err);
	if (n < 0)
		return false;
	tail[n] = 0;
	const char *sx = cp_pdfsyntax_rfind(tail, (size_t)n, "startxref");
	if (!sx)
		return cp_pdfsyntax_bad(src, src->size,
		                        _("no startxref at the end (is the file truncated?)"), err);
	const char *tend = tail + n, *q;
	if (!cp_pdfsyntax_parse_uint(cp_pdfsyntax_skip_ws(sx + 9, tend), tend,
	                             CP_PDFSYNTAX_MAX_OFFSET, xref_off, &q) ||
	    !cp_pdfsyntax_find(q, (size_t)(tend - q), "%%EOF"))
		return cp_pdfsyntax_bad(src, tail_off + (sx - tail),
		                        _("damaged startxref or no %%EOF (is the file truncated?)"),
		                        err);
	if (*xref_off >= src->size)
		return cp_pdfsyntax_bad(src, tail_off + (sx - tail),
		                        _("startxref points past the end of the file"), err);
	return true;
}

bool cp_pdfsyntax_scan_xref(const cp_pdf_src *src, int64_t off, GArray *subs,
                            int64_t *trailer_at, cp_error **err)
{
	char buf[128];
	ssize_t n = cp_pdfsyntax_read_at(src, off, buf, sizeof buf, err);
	if (n < 0)
		return false;
	const char *end = buf + n, *p = cp_pdfsyntax_skip_ws(buf, end);
	if (!cp_pdfsyntax_is_keyword(p, end, "xref")) {
		int64_t a, b;
		const char *q;
		if (cp_pdfsyntax_parse_uint(p, end, CP_PDFSYNTAX_MAX_OBJECTS, &a, &q) &&
		    cp_pdfsyntax_parse_uint(cp_pdfsyntax_skip_ws(q, end), end, 65535, &b, &q) &&
		    cp_pdfsyntax_is_keyword(cp_pdfsyntax_skip_ws(q, end), end, "obj")) {
			/* An object: say "stream" only if it really is one. */
			char dict[1024];
			ssize_t m = cp_pdfsyntax_read_at(src, off, dict, sizeof dict, err);
			if (m < 0)
				return false;
			for (const char *x = dict;
			     (x = cp_pdfsyntax_find(x, (size_t)(dict + m - x), "/XRef")); x += 5) {
				if (x + 5 < dict + m && !cp_pdfsyntax_is_regular(x[5]))
					return cp_pdfsyntax_bad(
						src, off,
						_("it uses a cross-reference stream (compressed "
						  "PDF 1.5 structure), which is not supported"),
						err);
			}
		}
		return cp_pdfsyntax_bad(src, off,
		                        _("startxref does not point at a cross-reference table"),
		                        err);
	}
	int64_t pos = off + (p - buf) + 4;
	for (int guard = 0;; guard++) {
		if (guard > 100000)
			return cp_pdfsyntax_bad(src, pos, _("too many cross-reference subsections"),
			                        err);
		n = cp_pdfsyntax_read_at(src, pos, buf, sizeof buf, err);
		if (n < 0)
			return false;
		end = buf + n;
		p = cp_pdfsyntax_skip_ws(buf, end);
		if (cp_pdfsyntax_is_keyword(p, end, "trailer")) {
			*trailer_at = pos + (p - buf) + 7;
			return true;
		}
		cp_pdf_xref_sub s;
		const char *q;
		if (!cp_pdfsyntax_parse_uint(p, end, CP_PDFSYNTAX_MAX_OBJECTS, &s.start, &q) ||
		    !cp_pdfsyntax_parse_uint(cp_pdfsyntax_skip_ws(q, end), end,
		                             CP_PDFSYNTAX_MAX_OBJECTS, &s.count, &q) ||
		    s.start + s.count > CP_PDFSYNTAX_MAX_OBJECTS + 1)
			return cp_pdfsyntax_bad(src, pos + (p - buf),
			                        _("damaged cross-reference table"), err);
		/* The header line ends with an end-of-line; entries start after it. */
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q < end && *q == '\r')
			q++;
		if (q < end && *q == '\n')
			q++;
		s.entries_at = pos + (q - buf);
		g_array_append_val(subs, s);
		pos = s.entries_at + 20 * s.count;
		if (pos > src->size)
			return cp_pdfsyntax_bad(
				src, s.entries_at,
				_("the cross-reference table runs past the end of the file"), err);
	}
}

bool cp_pdfsyntax_parse_xref_entry(const char entry[20], int64_t *offset, int64_t *gen,
                                   bool *in_use)
{
	/* One byte more than an entry, kept NUL: the checks below look at *q
	 * and q[1] after numbers that may run to the end of the 20. */
	char e[21] = {0};
	memcpy(e, entry, 20);
	const char *q, *end = e + 20;
	if (!cp_pdfsyntax_parse_uint(e, end, CP_PDFSYNTAX_MAX_OFFSET, offset, &q) || *q != ' ' ||
	    !cp_pdfsyntax_parse_uint(q + 1, end, 99999, gen, &q) || *q != ' ' ||
	    (q[1] != 'n' && q[1] != 'f'))
		return false;
	*in_use = q[1] == 'n';
	return true;
}

char *cp_pdfsyntax_read_text(const cp_pdf_src *src, int64_t off, size_t max, size_t *len,
                             cp_error **err)
{
	int64_t avail = src->size - off;
	if (avail < 0)
		avail = 0;
	size_t want = avail < (int64_t)max ? (size_t)avail : max;
	char *buf = g_malloc(want + 1);
	ssize_t n = cp_pdfsyntax_read_at(src, off, buf, want, err);
	if (n < 0) {
		g_free(buf);
		return NULL;
	}
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}
