/* SPDX-License-Identifier: MIT */
#include "trust/pngsig.h"

#include <cbor.h>
#include <errno.h>
#include <glib.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "error.h"
#include "i18n.h"
#include "trust/qrtoken.h"

#define SHA_LEN 32
/* The payload: {1: h'<SHA-256>', 2: <byte count>} with the count always as
 * a 64-bit unsigned integer (1b + 8 bytes), so it is 46 bytes. */
#define PAYLOAD_LEN 46
#define MAX_ITXT 16384  /* an iTXt chunk longer than this is not ours */

/* ------------------------------------------------------------------ sign */

static unsigned char *make(void *ud, const unsigned char sha256[32], uint64_t n, size_t *len,
                           cp_error **err)
{
	unsigned char pl[PAYLOAD_LEN], *p = pl;
	*p++ = 0xa2;                  /* map(2) */
	*p++ = 0x01;                  /* 1: */
	*p++ = 0x58, *p++ = SHA_LEN;  /* bytes(32) */
	memcpy(p, sha256, SHA_LEN);
	p += SHA_LEN;
	*p++ = 0x02;                  /* 2: */
	*p++ = 0x1b;                  /* uint64 */
	for (int i = 7; i >= 0; i--)
		*p++ = (unsigned char)(n >> (8 * i));
	return cp_qrtoken_cose_sign(ud, pl, sizeof pl, CP_PNGSIG_AAD, len, err);
}

void cp_pngsig_init(cp_png_seal *seal, const cp_signer *s, const char *qr_text)
{
	memset(seal, 0, sizeof *seal);
	seal->keyword = CP_PNGSIG_KEYWORD;
	seal->text = qr_text;
	memcpy(seal->type, CP_PNGSIG_TYPE, 5);
	seal->make = make;
	seal->ud = (void *)s;
}

/* ---------------------------------------------------------------- verify */

static uint32_t be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* What the walk over the chunks found. */
typedef struct scan {
	bool sealed;
	int64_t seal_off;        /* where the cpSG chunk starts (its length field) */
	unsigned char *seal;     /* its data */
	size_t nseal;
	bool seal_crc_ok;
	bool after_ok;           /* exactly IEND follows it, and nothing after IEND */
	char *token;             /* the certpress-token iTXt text before it, or NULL */
} scan;

/* The text of an uncompressed iTXt chunk with our keyword, or NULL. */
static char *itxt_token(const unsigned char *d, size_t n)
{
	size_t kl = strlen(CP_PNGSIG_KEYWORD);
	if (n < kl + 3 || memcmp(d, CP_PNGSIG_KEYWORD, kl + 1) != 0)
		return NULL;
	const unsigned char *p = d + kl + 1, *end = d + n;
	if (p[0] != 0 /* uncompressed */)
		return NULL;
	p += 2; /* flag, method */
	const unsigned char *z = memchr(p, 0, (size_t)(end - p)); /* language tag */
	if (!z)
		return NULL;
	p = z + 1;
	z = memchr(p, 0, (size_t)(end - p)); /* translated keyword */
	if (!z)
		return NULL;
	p = z + 1;
	if (memchr(p, 0, (size_t)(end - p)) || !g_utf8_validate((const char *)p, end - p, NULL))
		return NULL;
	return g_strndup((const char *)p, (size_t)(end - p));
}

static bool walk(FILE *f, const char *path, int64_t size, scan *s, cp_error **err)
{
	unsigned char h[8];
	if (fread(h, 1, 8, f) != 8 || memcmp(h, "\x89PNG\r\n\x1a\n", 8) != 0) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL, _("not a PNG file"));
		return false;
	}
	int64_t off = 8;
	bool after_seal_other = false, iend = false;
	for (;;) {
		if (fread(h, 1, 8, f) != 8)
			break;
		uint32_t len = be32(h);
		const unsigned char *type = h + 4;
		if (len > 0x7fffffffu || off + 12 + (int64_t)len > size) {
			/* truncated or damaged; a seal cut short is a damaged seal */
			if (!s->sealed && memcmp(type, CP_PNGSIG_TYPE, 4) == 0) {
				s->sealed = true;
				s->seal_off = off;
			}
			break;
		}
		bool want_data = false;
		if (memcmp(type, CP_PNGSIG_TYPE, 4) == 0 && !s->sealed)
			want_data = true;
		else if (memcmp(type, "iTXt", 4) == 0 && !s->sealed && !s->token && len <= MAX_ITXT)
			want_data = true;
		if (want_data && memcmp(type, CP_PNGSIG_TYPE, 4) == 0 && len > CP_PNGSIG_MAX_CHUNK) {
			/* a seal too long to be ours: a damaged one */
			s->sealed = true;
			s->seal_off = off;
			s->seal = NULL;
			want_data = false;
		}
		if (want_data) {
			unsigned char *d = g_malloc(len ? len : 1);
			unsigned char crc[4];
			if (fread(d, 1, len, f) != len || fread(crc, 1, 4, f) != 4) {
				g_free(d);
				break;
			}
			if (memcmp(type, CP_PNGSIG_TYPE, 4) == 0) {
				uLong c = crc32(crc32(0, type, 4), d, len);
				s->sealed = true;
				s->seal_off = off;
				s->seal = d;
				s->nseal = len;
				s->seal_crc_ok = c == be32(crc);
			} else {
				s->token = itxt_token(d, len);
				g_free(d);
			}
		} else if (fseeko(f, (off_t)len + 4, SEEK_CUR) != 0) {
			cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot read: %s"),
			             g_strerror(errno));
			return false;
		} else if (s->sealed && off > s->seal_off) {
			if (memcmp(type, "IEND", 4) == 0 && len == 0 && !iend)
				iend = true;
			else
				after_seal_other = true;
		}
		off += 12 + (int64_t)len;
		if (memcmp(type, "IEND", 4) == 0 && !s->sealed)
			break; /* an unsealed PNG: done */
		if (iend)
			break;
	}
	s->after_ok = iend && !after_seal_other && off == size;
	return true;
}

/* SHA-256 of the first n bytes of f. */
static bool hash_prefix(FILE *f, int64_t n, unsigned char md[SHA_LEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char buf[65536];
	bool ok = c && fseeko(f, 0, SEEK_SET) == 0 && EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	while (ok && n > 0) {
		size_t want = n < (int64_t)sizeof buf ? (size_t)n : sizeof buf;
		ok = fread(buf, 1, want, f) == want && EVP_DigestUpdate(c, buf, want);
		n -= (int64_t)want;
	}
	unsigned int mdn = 0;
	ok = ok && EVP_DigestFinal_ex(c, md, &mdn) && mdn == SHA_LEN;
	EVP_MD_CTX_free(c);
	return ok;
}

/* The payload {1: bstr(32), 2: uint}. */
static bool read_payload(const unsigned char *b, size_t n, unsigned char sha[SHA_LEN],
                         uint64_t *count)
{
	cbor_item_t *m = cp_qrtoken_cbor_load(b, n);
	bool has_sha = false, has_n = false;
	bool ok = m && cbor_isa_map(m) && cbor_map_is_definite(m) && cbor_map_size(m) == 2;
	for (size_t i = 0; ok && i < 2; i++) {
		struct cbor_pair pr = cbor_map_handle(m)[i];
		uint64_t k = cbor_isa_uint(pr.key) ? cbor_get_int(pr.key) : 0;
		if (k == 1 && !has_sha && cbor_isa_bytestring(pr.value) &&
		    cbor_bytestring_is_definite(pr.value) &&
		    cbor_bytestring_length(pr.value) == SHA_LEN) {
			memcpy(sha, cbor_bytestring_handle(pr.value), SHA_LEN);
			has_sha = true;
		} else if (k == 2 && !has_n && cbor_isa_uint(pr.value)) {
			*count = cbor_get_int(pr.value);
			has_n = true;
		} else {
			ok = false;
		}
	}
	if (m)
		cbor_decref(&m);
	return ok && has_sha && has_n;
}

static void image_fail(cp_verify_result *r, cp_verify_status st, const char *reason)
{
	r->image_status = st;
	g_free(r->image_reason);
	r->image_reason = g_strdup(reason);
}

bool cp_pngsig_verify(const char *path, STACK_OF(X509) *anchors, cp_verify_result *r,
                      bool *sealed, cp_error **err)
{
	*sealed = false;
	FILE *f = fopen(path, "rbe");
	if (!f) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot open: %s"), g_strerror(errno));
		return false;
	}
	struct stat st;
	scan s = {0};
	bool ok = fstat(fileno(f), &st) == 0;
	if (!ok)
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot read: %s"), g_strerror(errno));
	ok = ok && walk(f, path, (int64_t)st.st_size, &s, err);
	if (!ok || !s.sealed) {
		fclose(f);
		g_free(s.seal);
		g_free(s.token);
		return ok;
	}
	*sealed = true;
	/* the token first: its fields are shown whatever the image's state */
	if (s.token) {
		cp_qrtoken_verify(s.token, strlen(s.token), anchors, r);
	} else {
		memset(r, 0, sizeof *r);
		r->status = CP_VERIFY_UNSIGNED;
		r->reason = g_strdup(_("the signed image carries no certpress-token iTXt chunk"));
	}
	r->token_status = r->status;
	r->token_reason = g_strdup(r->reason);
	r->image_sealed = true;
	r->image_status = CP_VERIFY_VALID;
	g_free(r->subfilter);
	r->subfilter = g_strdup("COSE_Sign1 ES256 (PNG " CP_PNGSIG_TYPE " + QR token)");

	cp_qrtoken_cose c = {0};
	unsigned char want[SHA_LEN], got[SHA_LEN];
	uint64_t count = 0;
	X509 *cert = NULL;
	if (!s.seal || !s.seal_crc_ok || !cp_qrtoken_cose_open(s.seal, s.nseal, &c) ||
	    !read_payload(c.payload, c.npayload, want, &count)) {
		image_fail(r, CP_VERIFY_TAMPERED,
		           _("the image's signature chunk (cpSG) is damaged"));
	} else if (!(cert = cp_qrtoken_cose_cert(&c, anchors))) {
		char *m = cp_qrtoken_unknown_kid(&c);
		image_fail(r, CP_VERIFY_UNTRUSTED, m);
		g_free(m);
	} else if (!cp_qrtoken_cose_check(&c, cert, CP_PNGSIG_AAD)) {
		image_fail(r, CP_VERIFY_TAMPERED,
		           _("the image's signature does not match its signed digest: the "
		             "signature chunk was altered"));
	} else if (count != (uint64_t)s.seal_off || !hash_prefix(f, s.seal_off, got) ||
	           memcmp(got, want, SHA_LEN) != 0) {
		image_fail(r, CP_VERIFY_CHANGED, _("the image was changed after it was issued"));
	} else if (!s.after_ok) {
		image_fail(r, CP_VERIFY_CHANGED,
		           _("data was added after the image's signature (only IEND may follow it)"));
	}
	if (cert && r->image_status != CP_VERIFY_TAMPERED && !r->signer)
		cp_qrtoken_signer_info(cert, r);
	if (r->image_status != CP_VERIFY_VALID) {
		r->status = r->image_status;
		g_free(r->reason);
		r->reason = g_strdup(r->image_reason);
	}
	cp_qrtoken_cose_close(&c);
	fclose(f);
	g_free(s.seal);
	g_free(s.token);
	return true;
}
