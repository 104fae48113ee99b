/* SPDX-License-Identifier: MIT */
#include "trust/sign.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libdeflate.h>

#include "error.h"
#include "i18n.h"
#include "input/image.h"
#include "output/pdfsyntax.h"
#include "trust/pdfdoc.h"

#define MM_TO_PT (72.0 / 25.4)
/* "[0 NNNNNNNNNN NNNNNNNNNN NNNNNNNNNN]" fits; the rest is blanks. */
#define BYTERANGE_WIDTH 48

struct cp_sign_seal {
	int w, h;
	GBytes *rgb, *alpha; /* zlib streams (/FlateDecode) */
};

/* Once per run, before any page is drawn, and in every signed file. For
 * the 500 x 500 sample seal, zlib's level 9 took 250 ms (a tenth of a
 * 1,000-holder run) for 42.7 KB, libdeflate's level 9 92 ms for 43.6 KB,
 * its level 6 8 ms for 45.4 KB. */
static GBytes *deflate_bytes(const unsigned char *d, size_t n)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
	if (!c)
		return NULL;
	size_t cap = libdeflate_zlib_compress_bound(c, n);
	unsigned char *out = g_malloc(cap);
	size_t len = libdeflate_zlib_compress(c, d, n, out, cap);
	libdeflate_free_compressor(c);
	if (!len) {
		g_free(out);
		return NULL;
	}
	return g_bytes_new_take(g_realloc(out, len), len);
}

cp_sign_seal *cp_sign_seal_new(const char *png_path, cp_error **err)
{
	cairo_surface_t *img = cp_image_load(png_path, NULL, err);
	if (!img)
		return NULL;
	cairo_surface_t *px = img;
	if (cairo_image_surface_get_format(img) != CAIRO_FORMAT_ARGB32) {
		/* Any other format drawn onto ARGB32 is the same picture. */
		px = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, cairo_image_surface_get_width(img),
		                                cairo_image_surface_get_height(img));
		cairo_t *cr = cairo_create(px);
		cairo_set_source_surface(cr, img, 0, 0);
		cairo_paint(cr);
		cairo_destroy(cr);
	}
	cairo_surface_flush(px);
	int w = cairo_image_surface_get_width(px), h = cairo_image_surface_get_height(px);
	int stride = cairo_image_surface_get_stride(px);
	const unsigned char *data = cairo_image_surface_get_data(px);
	size_t np = (size_t)w * (size_t)h;
	unsigned char *rgb = g_malloc(np * 3 + 1), *a = g_malloc(np + 1);
	for (int y = 0; y < h; y++) {
		const uint32_t *row = (const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride);
		for (int x = 0; x < w; x++) {
			uint32_t v = row[x];
			unsigned al = v >> 24, r = (v >> 16) & 255, g = (v >> 8) & 255, b = v & 255;
			/* Cairo stores premultiplied alpha; PDF wants it separate. */
			if (al && al < 255) {
				r = (r * 255 + al / 2) / al;
				g = (g * 255 + al / 2) / al;
				b = (b * 255 + al / 2) / al;
			}
			size_t i = (size_t)y * (size_t)w + (size_t)x;
			rgb[3 * i] = (unsigned char)MIN(r, 255u);
			rgb[3 * i + 1] = (unsigned char)MIN(g, 255u);
			rgb[3 * i + 2] = (unsigned char)MIN(b, 255u);
			a[i] = (unsigned char)al;
		}
	}
	cp_sign_seal *s = g_new0(cp_sign_seal, 1);
	s->w = w;
	s->h = h;
	s->rgb = deflate_bytes(rgb, np * 3);
	s->alpha = deflate_bytes(a, np);
	g_free(rgb);
	g_free(a);
	if (px != img)
		cairo_surface_destroy(px);
	cairo_surface_destroy(img);
	if (!s->rgb || !s->alpha || w <= 0 || h <= 0) {
		cp_sign_seal_free(s);
		cp_set_error(err, CP_E_NOMEM, png_path, 0, 0, NULL, _("out of memory"));
		return NULL;
	}
	return s;
}

void cp_sign_seal_free(cp_sign_seal *s)
{
	if (!s)
		return;
	if (s->rgb)
		g_bytes_unref(s->rgb);
	if (s->alpha)
		g_bytes_unref(s->alpha);
	g_free(s);
}

static void append_stream(GString *u, GBytes *b)
{
	gsize n;
	const char *d = g_bytes_get_data(b, &n);
	g_string_append_printf(u, " /Length %" G_GSIZE_FORMAT " >>\nstream\n", n);
	g_string_append_len(u, d, (gssize)n);
	g_string_append(u, "\nendstream\nendobj\n");
}

static bool sign_bad(const char *label, const char *why, cp_error **err)
{
	cp_set_error(err, CP_E_PARSE, label, 0, 0, NULL, _("cannot sign this PDF: %s"), why);
	return false;
}

/* The whole file, which is small (a certificate of one page). */
static char *read_fd(int fd, const char *label, size_t *len, cp_error **err)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		cp_set_error(err, CP_E_IO, label, 0, 0, NULL, _("cannot read: %s"), g_strerror(errno));
		return NULL;
	}
	if (st.st_size > (off_t)CP_SIGN_MAX_FILE) {
		cp_set_error(err, CP_E_PARSE, label, 0, 0, NULL,
		             _("the file is larger than %u bytes"), CP_SIGN_MAX_FILE);
		return NULL;
	}
	size_t n = (size_t)st.st_size, got = 0;
	char *b = g_malloc(n + 1);
	while (got < n) {
		ssize_t r = pread(fd, b + got, n - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			cp_set_error(err, CP_E_IO, label, 0, 0, NULL, _("cannot read: %s"),
			             r < 0 ? g_strerror(errno) : _("unexpected end of file"));
			g_free(b);
			return NULL;
		}
		got += (size_t)r;
	}
	b[n] = '\0';
	*len = n;
	return b;
}

/* A PDF text string: UTF-16BE with a byte order mark, hex-encoded, so any
 * name or occupation survives without escaping rules. */
static void append_text_string(GString *out, const char *utf8)
{
	glong n = 0;
	gunichar2 *u = g_utf8_to_utf16(utf8, -1, NULL, &n, NULL);
	g_string_append(out, "<FEFF");
	for (glong i = 0; u && i < n; i++)
		g_string_append_printf(out, "%04X", u[i]);
	g_string_append_c(out, '>');
	g_free(u);
}

static char *pdf_date(time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[32];
	strftime(buf, sizeof buf, "D:%Y%m%d%H%M%S+00'00'", &tm);
	return g_strdup(buf);
}

/* The first leaf of the page tree: its number and dictionary. */
static bool first_page(const cp_pdfdoc *d, const char *cat, const char *cat_end,
                       int64_t *num, int64_t *gen, const char **pd, const char **pe,
                       cp_error **err)
{
	GArray *e = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	bool ok = false;
	cp_pdfdoc_dict(cat, cat_end, e);
	const cp_pdf_dict_entry *pages = cp_pdfsyntax_dict_find(e, "Pages");
	if (!pages || !cp_pdfsyntax_match_ref(pages->val, pages->val + pages->vlen, num, gen)) {
		sign_bad(d->label, _("the catalog has no /Pages"), err);
		goto done;
	}
	for (int depth = 0; depth < CP_PDFSYNTAX_MAX_DEPTH; depth++) {
		if (!cp_pdfdoc_object(d, *num, *gen, pd, pe, NULL)) {
			sign_bad(d->label, _("a page tree node cannot be found"), err);
			goto done;
		}
		g_array_set_size(e, 0);
		cp_pdfdoc_dict(*pd, *pe, e);
		const cp_pdf_dict_entry *type = cp_pdfsyntax_dict_find(e, "Type");
		if (type && cp_pdfsyntax_entry_is(type, "/Page")) {
			ok = true;
			goto done;
		}
		const cp_pdf_dict_entry *kids = cp_pdfsyntax_dict_find(e, "Kids");
		if (!kids || kids->vlen < 2 || kids->val[0] != '[' ||
		    !cp_pdfsyntax_match_ref(kids->val + 1, kids->val + kids->vlen, num, gen)) {
			sign_bad(d->label, _("the page tree has no first page"), err);
			goto done;
		}
	}
	sign_bad(d->label, _("the page tree is nested too deep"), err);
done:
	g_array_free(e, TRUE);
	return ok;
}

/* Height of the page's /MediaBox, points. */
static bool media_height(GArray *page, double *h)
{
	const cp_pdf_dict_entry *mb = cp_pdfsyntax_dict_find(page, "MediaBox");
	if (!mb || mb->vlen < 2 || mb->val[0] != '[')
		return false;
	char *s = g_strndup(mb->val + 1, mb->vlen - 1);
	double v[4];
	char *p = s, *q;
	for (int i = 0; i < 4; i++) {
		v[i] = g_ascii_strtod(p, &q);
		if (q == p) {
			g_free(s);
			return false;
		}
		p = q;
	}
	g_free(s);
	*h = v[3] - v[1];
	return *h > 0;
}

/* Appends dictionary entries other than skip, as they were. */
static void copy_dict(GString *out, GArray *e, const char *skip)
{
	for (guint i = 0; i < e->len; i++) {
		const cp_pdf_dict_entry *de = &g_array_index(e, cp_pdf_dict_entry, i);
		if (skip && de->klen == strlen(skip) && memcmp(de->key, skip, de->klen) == 0)
			continue;
		g_string_append(out, "\n   /");
		g_string_append_len(out, de->key, (gssize)de->klen);
		g_string_append_c(out, ' ');
		g_string_append_len(out, de->val, (gssize)de->vlen);
	}
}

/* DER SET OF the signer's signed attributes (X.690 11.6: sorted by their
 * encodings), as signed. */
static unsigned char *signed_attrs_der(CMS_SignerInfo *si, int *len)
{
	int n = CMS_signed_get_attr_count(si);
	GPtrArray *enc = g_ptr_array_new_with_free_func(g_free);
	GArray *lens = g_array_new(FALSE, FALSE, sizeof(int));
	size_t total = 0;
	for (int i = 0; i < n; i++) {
		unsigned char *der = NULL;
		int l = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &der);
		if (l <= 0)
			goto fail;
		unsigned char *copy = g_memdup2(der, (gsize)l);
		OPENSSL_free(der);
		g_ptr_array_add(enc, copy);
		g_array_append_val(lens, l);
		total += (size_t)l;
	}
	/* Insertion sort: a handful of attributes. */
	for (guint i = 1; i < enc->len; i++)
		for (guint j = i; j > 0; j--) {
			unsigned char *a = enc->pdata[j - 1], *b = enc->pdata[j];
			int la = g_array_index(lens, int, j - 1), lb = g_array_index(lens, int, j);
			int c = memcmp(a, b, (size_t)MIN(la, lb));
			if (c < 0 || (c == 0 && la <= lb))
				break;
			enc->pdata[j - 1] = b;
			enc->pdata[j] = a;
			g_array_index(lens, int, j - 1) = lb;
			g_array_index(lens, int, j) = la;
		}
	unsigned char hdr[6];
	int hl = 0;
	hdr[hl++] = 0x31;
	if (total < 0x80) {
		hdr[hl++] = (unsigned char)total;
	} else if (total < 0x100) {
		hdr[hl++] = 0x81;
		hdr[hl++] = (unsigned char)total;
	} else if (total < 0x10000) {
		hdr[hl++] = 0x82;
		hdr[hl++] = (unsigned char)(total >> 8);
		hdr[hl++] = (unsigned char)total;
	} else {
		goto fail;
	}
	unsigned char *out = g_malloc((size_t)hl + total);
	memcpy(out, hdr, (size_t)hl);
	size_t at = (size_t)hl;
	for (guint i = 0; i < enc->len; i++) {
		int l = g_array_index(lens, int, i);
		memcpy(out + at, enc->pdata[i], (size_t)l);
		at += (size_t)l;
	}
	*len = (int)at;
	g_ptr_array_free(enc, TRUE);
	g_array_free(lens, TRUE);
	return out;
fail:
	g_ptr_array_free(enc, TRUE);
	g_array_free(lens, TRUE);
	return NULL;
}

/* The CMS SignedData over the byte range (nparts pieces): detached,
 * SHA-256, signing-certificate-v2, no signing-time. DER in *der
 * (OPENSSL_free). The SignedData and its signer are set up by OpenSSL
 * without content (CMS_PARTIAL); the digest, the attributes and the
 * signature are made here, once: CMS_final() would copy the data through
 * its BIO chain and sign with a signingTime attribute, which PAdES forbids
 * and OpenSSL 3.0 always adds. */
static int make_cms(const cp_signer *s, const unsigned char *const *part, const size_t *plen,
                    int nparts, unsigned char **der)
{
	int len = -1, alen;
	unsigned char *attrs = NULL, *sig = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, cp_signer_chain(s), NULL,
	                                CMS_PARTIAL | CMS_DETACHED | CMS_BINARY);
	CMS_SignerInfo *si = cms ? CMS_add1_signer(cms, cp_signer_cert(s), cp_signer_key(s),
	                                           EVP_sha256(),
	                                           CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP |
	                                           CMS_CADES)
	                         : NULL;
	if (!mc || !si || EVP_DigestInit_ex(mc, EVP_sha256(), NULL) != 1)
		goto done;
	for (int i = 0; i < nparts; i++)
		if (EVP_DigestUpdate(mc, part[i], plen[i]) != 1)
			goto done;
	if (EVP_DigestFinal_ex(mc, md, &mdlen) != 1 ||
	    !CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
	                                 OBJ_nid2obj(NID_pkcs7_data), -1) ||
	    !CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, md,
	                                 (int)mdlen) ||
	    CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) >= 0)
		goto done;
	attrs = signed_attrs_der(si, &alen);
	if (!attrs)
		goto done;
	EVP_MD_CTX_free(mc);
	mc = EVP_MD_CTX_new();
	size_t slen = 0;
	if (!mc || EVP_DigestSignInit(mc, NULL, EVP_sha256(), NULL, cp_signer_key(s)) != 1 ||
	    EVP_DigestSign(mc, NULL, &slen, attrs, (size_t)alen) != 1)
		goto done;
	sig = OPENSSL_malloc(slen);
	if (!sig || EVP_DigestSign(mc, sig, &slen, attrs, (size_t)alen) != 1)
		goto done;
	if (!ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig, (int)slen))
		goto done;
	len = i2d_CMS_ContentInfo(cms, der);
done:
	ERR_clear_error();
	OPENSSL_free(sig);
	g_free(attrs);
	EVP_MD_CTX_free(mc);
	CMS_ContentInfo_free(cms);
	return len;
}

static size_t contents_capacity(const cp_signer *s)
{
	size_t n = 2048 + (size_t)EVP_PKEY_get_size(cp_signer_key(s));
	n += (size_t)i2d_X509(cp_signer_cert(s), NULL);
	STACK_OF(X509) *ch = cp_signer_chain(s);
	for (int i = 0; i < sk_X509_num(ch); i++)
		n += (size_t)i2d_X509(sk_X509_value(ch, i), NULL);
	return n;
}

typedef struct xent {
	int64_t num, gen, off;
} xent;

static gint xent_cmp(gconstpointer a, gconstpointer b)
{
	const xent *x = a, *y = b;
	return x->num < y->num ? -1 : x->num > y->num;
}

bool cp_sign_pdf_fd(const cp_signer *s, int fd, const char *label, const cp_sign_opts *o,
                    cp_error **err)
{
	size_t n;
	char *b = read_fd(fd, label, &n, err);
	if (!b)
		return false;
	bool ok = false;
	cp_pdfdoc d;
	GArray *cat = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	GArray *page = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	GArray *xr = g_array_new(FALSE, FALSE, sizeof(xent));
	GString *u = g_string_new(NULL);
	unsigned char *der = NULL;
	char *date = NULL;
	int derlen = -1;
	if (!cp_pdfdoc_open(&d, b, n, label, _("cannot sign this PDF"), err))
		goto done;
	const char *cd, *ce;
	if (!cp_pdfdoc_object(&d, d.root_num, d.root_gen, &cd, &ce, NULL)) {
		sign_bad(label, _("the catalog cannot be found"), err);
		goto done;
	}
	cp_pdfdoc_dict(cd, ce, cat);
	if (cp_pdfsyntax_dict_find(cat, "AcroForm")) {
		sign_bad(label, _("it already has a form (/AcroForm)"), err);
		goto done;
	}
	int64_t pnum, pgen;
	const char *pd, *pe;
	if (!first_page(&d, cd, ce, &pnum, &pgen, &pd, &pe, err))
		goto done;
	cp_pdfdoc_dict(pd, pe, page);
	double ph;
	if (!media_height(page, &ph)) {
		sign_bad(label, _("the page has no /MediaBox of its own"), err);
		goto done;
	}
	const cp_pdf_dict_entry *annots = cp_pdfsyntax_dict_find(page, "Annots");
	if (annots && (annots->vlen < 2 || annots->val[0] != '[')) {
		sign_bad(label, _("the page's /Annots is not a direct array"), err);
		goto done;
	}

	/* New numbers above every one in use: /Size may be wrong. */
	int64_t base = d.next_num;
	int64_t sig_num = base, wid_num = base + 1, ap_num = base + 2;
	int64_t img_num = base + 3, mask_num = base + 4;
	int64_t new_size = o->seal ? mask_num + 1 : ap_num + 1;
	if (n == 0 || (b[n - 1] != '\n' && b[n - 1] != '\r'))
		g_string_append_c(u, '\n');
	xent x;
	/* The signature dictionary. */
	x = (xent){sig_num, 0, (int64_t)(n + u->len)};
	g_array_append_val(xr, x);
	date = pdf_date(o->when);
	g_string_append_printf(u, "%" PRId64 " 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite "
	                       "/SubFilter /ETSI.CAdES.detached\n   /M (%s)\n"
	                       "   /Prop_Build << /App << /Name /certpress /REx (" CP_VERSION
	                       ") >> >>\n", sig_num, date);
	if (o->cert_no || o->name || o->occupation || o->level || o->id_masked) {
		g_string_append(u, "   /CP.Cert <<");
		const char *keys[] = {"CertNo", "Name", "ID", "Occupation", "Level"};
		const char *vals[] = {o->cert_no, o->name, o->id_masked, o->occupation, o->level};
		for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
			if (vals[i]) {
				g_string_append_printf(u, " /%s ", keys[i]);
				append_text_string(u, vals[i]);
			}
		g_string_append(u, " >>\n");
	}
	g_string_append(u, "   /ByteRange ");
	size_t br_at = u->len;
	g_string_append_printf(u, "%*s\n   /Contents ", BYTERANGE_WIDTH, "");
	size_t cap = contents_capacity(s);
	size_t c_at = u->len; /* the '<' */
	g_string_append_c(u, '<');
	for (size_t i = 0; i < 2 * cap; i++)
		g_string_append_c(u, '0');
	g_string_append(u, ">\n>>\nendobj\n");
	size_t c_end = c_at + 2 * cap + 2; /* after the '>' */

	/* The field and its widget, over the seal's box. */
	double x1 = o->x_mm * MM_TO_PT, x2 = (o->x_mm + o->w_mm) * MM_TO_PT;
	double y2 = ph - o->y_mm * MM_TO_PT, y1 = ph - (o->y_mm + o->h_mm) * MM_TO_PT;
	char r[4][G_ASCII_DTOSTR_BUF_SIZE];
	g_ascii_formatd(r[0], sizeof r[0], "%.2f", x1);
	g_ascii_formatd(r[1], sizeof r[1], "%.2f", y1);
	g_ascii_formatd(r[2], sizeof r[2], "%.2f", x2);
	g_ascii_formatd(r[3], sizeof r[3], "%.2f", y2);
	x = (xent){wid_num, 0, (int64_t)(n + u->len)};
	g_array_append_val(xr, x);
	g_string_append_printf(u, "%" PRId64 " 0 obj\n<< /Type /Annot /Subtype /Widget /FT /Sig "
	                       "/F 132 /T (seal)\n   /Rect [%s %s %s %s] /P %" PRId64 " %" PRId64
	                       " R\n   /V %" PRId64 " 0 R /AP << /N %" PRId64 " 0 R >>\n>>\nendobj\n",
	                       wid_num, r[0], r[1], r[2], r[3], pnum, pgen, sig_num, ap_num);
	/* Its appearance: the seal, fitted into the box as the layout fits it
	 * (centred, aspect kept) and multiplied into the page like ink. */
	char w[G_ASCII_DTOSTR_BUF_SIZE], h[G_ASCII_DTOSTR_BUF_SIZE];
	g_ascii_formatd(w, sizeof w, "%.4f", x2 - x1);
	g_ascii_formatd(h, sizeof h, "%.4f", y2 - y1);
	x = (xent){ap_num, 0, (int64_t)(n + u->len)};
	g_array_append_val(xr, x);
	if (!o->seal) {
		g_string_append_printf(u, "%" PRId64 " 0 obj\n<< /Type /XObject /Subtype /Form "
		                       "/BBox [0 0 %s %s] /Resources << >> /Length 0 >>\nstream\n"
		                       "\nendstream\nendobj\n", ap_num, w, h);
	} else {
		const cp_sign_seal *sl = o->seal;
		double bw = x2 - x1, bh = y2 - y1;
		double sc = MIN(bw / sl->w, bh / sl->h);
		char m[4][G_ASCII_DTOSTR_BUF_SIZE];
		g_ascii_formatd(m[0], sizeof m[0], "%.4f", sl->w * sc);
		g_ascii_formatd(m[1], sizeof m[1], "%.4f", sl->h * sc);
		g_ascii_formatd(m[2], sizeof m[2], "%.4f", (bw - sl->w * sc) / 2);
		g_ascii_formatd(m[3], sizeof m[3], "%.4f", (bh - sl->h * sc) / 2);
		char *content = g_strdup_printf("q /G0 gs %s 0 0 %s %s %s cm /Im0 Do Q\n",
		                                m[0], m[1], m[2], m[3]);
		g_string_append_printf(u, "%" PRId64 " 0 obj\n<< /Type /XObject /Subtype /Form "
		                       "/BBox [0 0 %s %s]\n   /Resources << /XObject << /Im0 %" PRId64
		                       " 0 R >> /ExtGState << /G0 << /BM /Multiply >> >> >>\n"
		                       "   /Length %zu >>\nstream\n%sendstream\nendobj\n",
		                       ap_num, w, h, img_num, strlen(content), content);
		g_free(content);
		x = (xent){img_num, 0, (int64_t)(n + u->len)};
		g_array_append_val(xr, x);
		g_string_append_printf(u, "%" PRId64 " 0 obj\n<< /Type /XObject /Subtype /Image "
		                       "/Width %d /Height %d /ColorSpace /DeviceRGB\n"
		                       "   /BitsPerComponent 8 /Interpolate true /SMask %" PRId64
		                       " 0 R /Filter /FlateDecode", img_num, sl->w, sl->h, mask_num);
		append_stream(u, sl->rgb);
		x = (xent){mask_num, 0, (int64_t)(n + u->len)};
		g_array_append_val(xr, x);
		g_string_append_printf(u, "%" PRId64 " 0 obj\n<< /Type /XObject /Subtype /Image "
		                       "/Width %d /Height %d /ColorSpace /DeviceGray\n"
		                       "   /BitsPerComponent 8 /Interpolate true /Filter /FlateDecode",
		                       mask_num, sl->w, sl->h);
		append_stream(u, sl->alpha);
	}
	/* The page, now with the widget. */
	x = (xent){pnum, pgen, (int64_t)(n + u->len)};
	g_array_append_val(xr, x);
	g_string_append_printf(u, "%" PRId64 " %" PRId64 " obj\n<<", pnum, pgen);
	copy_dict(u, page, "Annots");
	g_string_append(u, "\n   /Annots [");
	if (annots)
		g_string_append_len(u, annots->val + 1, (gssize)annots->vlen - 2);
	g_string_append_printf(u, " %" PRId64 " 0 R]\n>>\nendobj\n", wid_num);
	/* The catalog, now with the form. */
	x = (xent){d.root_num, d.root_gen, (int64_t)(n + u->len)};
	g_array_append_val(xr, x);
	g_string_append_printf(u, "%" PRId64 " %" PRId64 " obj\n<<", d.root_num, d.root_gen);
	copy_dict(u, cat, NULL);
	g_string_append_printf(u, "\n   /AcroForm << /Fields [%" PRId64 " 0 R] /SigFlags 3 >>\n"
	                       ">>\nendobj\n", wid_num);

	/* Cross-reference section: one subsection per run of numbers. */
	g_array_sort(xr, xent_cmp);
	int64_t xref_at = (int64_t)(n + u->len);
	g_string_append(u, "xref\n");
	for (guint i = 0; i < xr->len;) {
		guint j = i + 1;
		while (j < xr->len && g_array_index(xr, xent, j).num == g_array_index(xr, xent, j - 1).num + 1)
			j++;
		g_string_append_printf(u, "%" PRId64 " %u\n", g_array_index(xr, xent, i).num, j - i);
		for (guint k = i; k < j; k++) {
			const xent *e = &g_array_index(xr, xent, k);
			g_string_append_printf(u, "%010" PRId64 " %05" PRId64 " n \n", e->off, e->gen);
		}
		i = j;
	}
	g_string_append_printf(u, "trailer\n<< /Size %" PRId64 "\n   /Root %" PRId64 " %" PRId64
	                       " R\n", new_size, d.root_num, d.root_gen);
	const char *carry[] = {"Info", "ID"};
	for (size_t i = 0; i < G_N_ELEMENTS(carry); i++) {
		const cp_pdf_dict_entry *te = cp_pdfsyntax_dict_find(d.trailer, carry[i]);
		if (te) {
			g_string_append_printf(u, "   /%s ", carry[i]);
			g_string_append_len(u, te->val, (gssize)te->vlen);
			g_string_append_c(u, '\n');
		}
	}
	g_string_append_printf(u, "   /Prev %" PRId64 "\n>>\nstartxref\n%" PRId64 "\n%%%%EOF\n",
	                       d.xref_off, xref_at);

	/* The byte range: everything but the hex string of /Contents. */
	int64_t a1 = (int64_t)(n + c_at), b2 = (int64_t)(n + c_end);
	int64_t l2 = (int64_t)(n + u->len) - b2;
	char br[BYTERANGE_WIDTH + 1];
	int bl = snprintf(br, sizeof br, "[0 %" PRId64 " %" PRId64 " %" PRId64 "]", a1, b2, l2);
	if (bl < 0 || bl > BYTERANGE_WIDTH) {
		sign_bad(label, _("the file is too large for its byte range"), err);
		goto done;
	}
	memcpy(u->str + br_at, br, (size_t)bl);

	const unsigned char *part[] = {(const unsigned char *)b, (const unsigned char *)u->str,
	                               (const unsigned char *)u->str + c_end};
	size_t plen[] = {n, c_at, (size_t)l2};
	derlen = make_cms(s, part, plen, 3, &der);
	if (derlen <= 0) {
		cp_set_error(err, CP_E_NOMEM, label, 0, 0, NULL,
		             _("OpenSSL could not make the signature"));
		goto done;
	}
	if ((size_t)derlen > cap) {
		sign_bad(label, _("the signature is larger than the room made for it"), err);
		goto done;
	}
	static const char hex[] = "0123456789ABCDEF";
	for (int i = 0; i < derlen; i++) {
		u->str[c_at + 1 + 2 * (size_t)i] = hex[der[i] >> 4];
		u->str[c_at + 2 + 2 * (size_t)i] = hex[der[i] & 15];
	}
	/* Appended in one go; on failure the file goes back to its old size. */
	size_t done_w = 0;
	while (done_w < u->len) {
		ssize_t wr = pwrite(fd, u->str + done_w, u->len - done_w, (off_t)(n + done_w));
		if (wr < 0 && errno == EINTR)
			continue;
		if (wr <= 0) {
			int e = wr < 0 ? errno : EIO;
			if (ftruncate(fd, (off_t)n) != 0) {
				/* report the write error */
			}
			cp_set_error(err, CP_E_IO, label, 0, 0, NULL, _("cannot write: %s"),
			             g_strerror(e));
			goto done;
		}
		done_w += (size_t)wr;
	}
	ok = true;
done:
	OPENSSL_free(der);
	g_free(date);
	g_string_free(u, TRUE);
	g_array_free(xr, TRUE);
	g_array_free(cat, TRUE);
	g_array_free(page, TRUE);
	cp_pdfdoc_clear(&d);
	g_free(b);
	return ok;
}
