/* SPDX-License-Identifier: MIT */
#include "trust/qrtoken.h"

#include <cbor.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <openssl/ec.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zbar.h>

#include "error.h"
#include "i18n.h"
#include "input/image.h"
#include "input/profile.h"
#include "lazylib.h"

#define ZBAR_FUNCTIONS(X) X(zbar_image_create) X(zbar_image_destroy) \
	X(zbar_image_first_symbol) X(zbar_image_free_data) X(zbar_image_scanner_create) \
	X(zbar_image_scanner_destroy) X(zbar_image_scanner_set_config) X(zbar_image_set_data) \
	X(zbar_image_set_format) X(zbar_image_set_size) X(zbar_scan_image) \
	X(zbar_symbol_get_data) X(zbar_symbol_get_data_length) X(zbar_symbol_get_type) \
	X(zbar_symbol_next)
CP_LAZY_LIBRARY(zbar, CP_SONAME_ZBAR, N_("reading a QR code from an image"),
                ZBAR_FUNCTIONS);

#define COSE_SIGN1_TAG 18
#define COSE_ALG 1
#define COSE_KID 4
#define COSE_ES256 (-7)

static const char *val(const cp_record *rec, int f)
{
	return rec->value[f] ? rec->value[f] : rec->raw[f];
}

void cp_qrtoken_fields_of(const cp_profile *p, const cp_record *rec, char *out[CP_QRT_NKEYS])
{
	memset(out, 0, CP_QRT_NKEYS * sizeof out[0]);
	out[CP_QRT_CERT_NO] = g_strdup(val(rec, CP_FIELD_CERT_NO));
	out[CP_QRT_NAME] = g_strdup(val(rec, CP_FIELD_NAME));
	const char *id = val(rec, CP_FIELD_ID_NUMBER);
	if (id && *id) {
		char *m = cp_mask_id(id);
		out[CP_QRT_ID_MASKED] = g_strdup(m);
		free(m);
	}
	out[CP_QRT_OCCUPATION] = g_strdup(val(rec, CP_FIELD_OCCUPATION));
	out[CP_QRT_JOB_TYPE] = g_strdup(val(rec, CP_FIELD_JOB_TYPE));
	out[CP_QRT_LEVEL] = g_strdup(val(rec, CP_FIELD_LEVEL));
	if (rec->year > 0)
		out[CP_QRT_ISSUE_DATE] = g_strdup_printf("%04d-%02d-%02d", rec->year, rec->month,
		                                         rec->day);
	else
		out[CP_QRT_ISSUE_DATE] = g_strdup(val(rec, CP_FIELD_ISSUE_DATE));
	out[CP_QRT_ORGANIZATION] = g_strdup(cp_profile_name(p));
}

/* ------------------------------------------------------------ shared parts */

bool cp_qrtoken_kid(X509 *cert, unsigned char kid[CP_QRTOKEN_KID_LEN])
{
	unsigned char *der = NULL;
	int n = i2d_X509(cert, &der);
	if (n <= 0)
		return false;
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(der, (size_t)n, md);
	OPENSSL_free(der);
	memcpy(kid, md, CP_QRTOKEN_KID_LEN);
	return true;
}

/* Serialises item into a new g_malloc'd buffer. */
static unsigned char *serialize(cbor_item_t *item, size_t *len)
{
	unsigned char *buf = NULL;
	size_t cap = 0;
	*len = item ? cbor_serialize_alloc(item, &buf, &cap) : 0;
	if (*len == 0) {
		free(buf);
		return NULL;
	}
	unsigned char *out = g_memdup2(buf, *len);
	free(buf);
	return out;
}

/* Sig_structure = ["Signature1", protected, external_aad, payload] (RFC 9052 §4.4). */
static unsigned char *sig_structure(const unsigned char *prot, size_t nprot, const char *aad,
                                    const unsigned char *payload, size_t npayload, size_t *len)
{
	cbor_item_t *a = cbor_new_definite_array(4);
	bool ok = a && cbor_array_push(a, cbor_move(cbor_build_string("Signature1"))) &&
	          cbor_array_push(a, cbor_move(cbor_build_bytestring(prot, nprot))) &&
	          cbor_array_push(a, cbor_move(cbor_build_bytestring((const unsigned char *)aad,
	                                                             strlen(aad)))) &&
	          cbor_array_push(a, cbor_move(cbor_build_bytestring(payload, npayload)));
	unsigned char *out = ok ? serialize(a, len) : NULL;
	if (a)
		cbor_decref(&a);
	return out;
}

/* ------------------------------------------------------------------ sign */

static bool add_pair(cbor_item_t *map, cbor_item_t *k, cbor_item_t *v)
{
	return cbor_map_add(map, (struct cbor_pair){.key = cbor_move(k), .value = cbor_move(v)});
}

unsigned char *cp_qrtoken_cose_sign(const cp_signer *s, const unsigned char *payload,
                                    size_t npayload, const char *aad, size_t *len,
                                    cp_error **err)
{
	EVP_PKEY *key = cp_signer_key(s);
	if (!EVP_PKEY_is_a(key, "EC") || EVP_PKEY_get_bits(key) != 256) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("a signed QR code needs a P-256 (ES256) seal key"));
		return NULL;
	}
	unsigned char kid[CP_QRTOKEN_KID_LEN];
	cbor_item_t *prot_map = cbor_new_definite_map(2);
	unsigned char *prot = NULL, *tbs = NULL, *sig = NULL, *cose = NULL;
	size_t nprot = 0, ntbs = 0, siglen = 0;
	ECDSA_SIG *es = NULL;
	EVP_MD_CTX *md = NULL;
	cbor_item_t *arr = NULL, *tag = NULL;
	*len = 0;
	if (!cp_qrtoken_kid(cp_signer_cert(s), kid) || !prot_map ||
	    !add_pair(prot_map, cbor_build_uint8(COSE_ALG), cbor_build_negint8(-1 - COSE_ES256)) ||
	    !add_pair(prot_map, cbor_build_uint8(COSE_KID), cbor_build_bytestring(kid, sizeof kid)))
		goto fail;
	prot = serialize(prot_map, &nprot);
	if (!prot)
		goto fail;
	tbs = sig_structure(prot, nprot, aad, payload, npayload, &ntbs);
	md = EVP_MD_CTX_new();
	if (!tbs || !md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) <= 0 ||
	    EVP_DigestSign(md, NULL, &siglen, tbs, ntbs) <= 0)
		goto fail;
	sig = g_malloc(siglen);
	if (EVP_DigestSign(md, sig, &siglen, tbs, ntbs) <= 0)
		goto fail;
	/* OpenSSL gives DER (SEQUENCE of r, s); COSE wants r‖s, 32 bytes each. */
	const unsigned char *p = sig;
	es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
	unsigned char rs[64];
	const BIGNUM *r, *sv;
	if (!es)
		goto fail;
	ECDSA_SIG_get0(es, &r, &sv);
	if (BN_bn2binpad(r, rs, 32) != 32 || BN_bn2binpad(sv, rs + 32, 32) != 32)
		goto fail;
	arr = cbor_new_definite_array(4);
	tag = cbor_new_tag(COSE_SIGN1_TAG);
	if (!arr || !tag || !cbor_array_push(arr, cbor_move(cbor_build_bytestring(prot, nprot))) ||
	    !cbor_array_push(arr, cbor_move(cbor_new_definite_map(0))) ||
	    !cbor_array_push(arr, cbor_move(cbor_build_bytestring(payload, npayload))) ||
	    !cbor_array_push(arr, cbor_move(cbor_build_bytestring(rs, sizeof rs))))
		goto fail;
	cbor_tag_set_item(tag, arr);
	cose = serialize(tag, len);
	if (cose)
		goto done;
fail:
	cp_set_error(err, CP_E_NOMEM, NULL, 0, 0, NULL, _("cannot make the signed QR token"));
done:
	if (prot_map)
		cbor_decref(&prot_map);
	if (arr)
		cbor_decref(&arr);
	if (tag)
		cbor_decref(&tag);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	g_free(prot);
	g_free(tbs);
	g_free(sig);
	return cose;
}

char *cp_qrtoken_fragment(const cp_signer *s, const cp_qrtoken_fields *f, const char *url,
                          cp_error **err)
{
	size_t n = 0;
	for (int k = 1; k < CP_QRT_NKEYS; k++)
		n += f->v[k] != NULL;
	cbor_item_t *pay_map = cbor_new_definite_map(n);
	unsigned char *payload = NULL, *cose = NULL;
	size_t npayload = 0, ncose = 0;
	char *out = NULL;
	bool ok = pay_map != NULL;
	for (int k = 1; ok && k < CP_QRT_NKEYS; k++)
		if (f->v[k])
			ok = add_pair(pay_map, cbor_build_uint8((uint8_t)k), cbor_build_string(f->v[k]));
	payload = ok ? serialize(pay_map, &npayload) : NULL;
	if (pay_map)
		cbor_decref(&pay_map);
	if (!payload) {
		cp_set_error(err, CP_E_NOMEM, NULL, 0, 0, NULL, _("cannot make the signed QR token"));
		return NULL;
	}
	cose = cp_qrtoken_cose_sign(s, payload, npayload, url, &ncose, err);
	g_free(payload);
	if (!cose)
		return NULL;
	/* base64url without padding. */
	char *b = g_base64_encode(cose, ncose);
	size_t bl = strlen(b);
	while (bl > 0 && b[bl - 1] == '=')
		b[--bl] = '\0';
	for (char *c = b; *c; c++)
		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
	out = g_strconcat("#" CP_QRTOKEN_PREFIX, b, NULL);
	g_free(b);
	g_free(cose);
	return out;
}

/* ---------------------------------------------------------------- verify */

/* libcbor allocates what a header announces before it reads the items (an
 * array "of 10^9 items" in five bytes asks for gigabytes), so every buffer
 * is walked first: exactly one item of unsigned and negative integers, byte
 * and text strings, arrays and maps, definite lengths only, nested at most
 * 8 deep, each length within the bytes that are left. Nothing else appears
 * in a token. */
static bool cbor_head(const unsigned char **p, const unsigned char *end, int *major,
                      uint64_t *arg)
{
	if (*p >= end)
		return false;
	unsigned ib = *(*p)++;
	unsigned ai = ib & 31;
	*major = (int)(ib >> 5);
	if (ai < 24) {
		*arg = ai;
		return true;
	}
	if (ai > 27) /* reserved, or an indefinite length */
		return false;
	size_t len = (size_t)1 << (ai - 24);
	if ((size_t)(end - *p) < len)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++)
		v = v << 8 | (*p)[i];
	*p += len;
	*arg = v;
	return true;
}

static bool cbor_skim(const unsigned char **p, const unsigned char *end, int depth)
{
	int major;
	uint64_t arg;
	if (depth > 8 || !cbor_head(p, end, &major, &arg))
		return false;
	switch (major) {
	case 0: /* unsigned */
	case 1: /* negative */
		return true;
	case 2: /* bytes */
	case 3: /* text */
		if (arg > (uint64_t)(end - *p))
			return false;
		*p += arg;
		return true;
	case 4: /* array: each item at least one byte */
	case 5: /* map: each pair at least two */
		if (arg > (uint64_t)(end - *p))
			return false;
		for (uint64_t i = 0; i < (major == 5 ? 2 * arg : arg); i++)
			if (!cbor_skim(p, end, depth + 1))
				return false;
		return true;
	default:
		return false;
	}
}

cbor_item_t *cp_qrtoken_cbor_load(const unsigned char *b, size_t n)
{
	const unsigned char *p = b;
	if (!b || !cbor_skim(&p, b + n, 0) || p != b + n)
		return NULL;
	struct cbor_load_result lr;
	cbor_item_t *it = cbor_load(b, n, &lr);
	if (it && (lr.error.code != CBOR_ERR_NONE || lr.read != n))
		cbor_decref(&it);
	return it;
}

static void fail(cp_verify_result *r, cp_verify_status st, char *reason)
{
	r->status = st;
	g_free(r->reason);
	r->reason = reason;
}

static bool is_bstr(const cbor_item_t *it)
{
	return it && cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it);
}

static char *text_of(const cbor_item_t *it)
{
	if (!it || !cbor_isa_string(it) || !cbor_string_is_definite(it))
		return NULL;
	size_t n = cbor_string_length(it);
	if (n == 0)
		return g_strdup("");
	const char *s = (const char *)cbor_string_handle(it);
	if (n > 1024 || !s || !g_utf8_validate(s, (gssize)n, NULL) || memchr(s, 0, n))
		return NULL;
	return g_strndup(s, n);
}

/* The protected header: exactly {1: -7, 4: kid(8 bytes)}. */
static bool read_protected(const unsigned char *b, size_t n, unsigned char kid[CP_QRTOKEN_KID_LEN])
{
	cbor_item_t *m = cp_qrtoken_cbor_load(b, n);
	bool alg = false, haskid = false, ok = m && cbor_isa_map(m) && cbor_map_is_definite(m);
	for (size_t i = 0; ok && i < cbor_map_size(m); i++) {
		struct cbor_pair pr = cbor_map_handle(m)[i];
		if (!cbor_isa_uint(pr.key)) {
			ok = false;
		} else if (cbor_get_int(pr.key) == COSE_ALG && !alg) {
			alg = cbor_isa_negint(pr.value) && cbor_get_int(pr.value) == (uint64_t)(-1 - COSE_ES256);
			ok = alg;
		} else if (cbor_get_int(pr.key) == COSE_KID && !haskid) {
			haskid = is_bstr(pr.value) && cbor_bytestring_length(pr.value) == CP_QRTOKEN_KID_LEN;
			if (haskid)
				memcpy(kid, cbor_bytestring_handle(pr.value), CP_QRTOKEN_KID_LEN);
			ok = haskid;
		}
	}
	if (m)
		cbor_decref(&m);
	return ok && alg && haskid;
}

/* The payload: a map of small unsigned keys to text; unknown keys refused. */
static bool read_payload(const unsigned char *b, size_t n, char *v[CP_QRT_NKEYS])
{
	cbor_item_t *m = cp_qrtoken_cbor_load(b, n);
	bool ok = m && cbor_isa_map(m) && cbor_map_is_definite(m);
	for (size_t i = 0; ok && i < cbor_map_size(m); i++) {
		struct cbor_pair pr = cbor_map_handle(m)[i];
		uint64_t k = cbor_isa_uint(pr.key) ? cbor_get_int(pr.key) : 0;
		if (k < 1 || k >= CP_QRT_NKEYS || v[k]) {
			ok = false;
			break;
		}
		v[k] = text_of(pr.value);
		ok = v[k] != NULL;
	}
	if (m)
		cbor_decref(&m);
	return ok && v[CP_QRT_CERT_NO] && v[CP_QRT_NAME];
}

static unsigned char *b64url_decode(const char *s, size_t n, size_t *len)
{
	if (n % 4 == 1)
		return NULL;
	GString *g = g_string_sized_new(n + 3);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!g_ascii_isalnum(c)) {
			g_string_free(g, TRUE);
			return NULL;
		}
		g_string_append_c(g, c);
	}
	while (g->len % 4)
		g_string_append_c(g, '=');
	gsize out = 0;
	unsigned char *b = g_base64_decode(g->str, &out);
	g_string_free(g, TRUE);
	*len = out;
	return b;
}

static bool ecdsa_ok(X509 *cert, const unsigned char *tbs, size_t ntbs, const unsigned char rs[64])
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, 32, NULL), *s = BN_bin2bn(rs + 32, 32, NULL);
	unsigned char *der = NULL;
	int nder = 0;
	bool ok = false;
	if (es && r && s && ECDSA_SIG_set0(es, r, s)) {
		r = s = NULL;
		nder = i2d_ECDSA_SIG(es, &der);
	}
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (nder > 0 && pk && md && EVP_PKEY_is_a(pk, "EC") &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) > 0)
		ok = EVP_DigestVerify(md, der, (size_t)nder, tbs, ntbs) == 1;
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return ok;
}

bool cp_qrtoken_cose_open(const unsigned char *b, size_t n, cp_qrtoken_cose *c)
{
	memset(c, 0, sizeof *c);
	/* The tag by hand: libcbor 0.8 refuses tags 6 to 20 (0xc6–0xd4) as
	 * unassigned, COSE_Sign1's 18 among them (PJK/libcbor#307, fixed after
	 * Debian 12's version); the array under it is libcbor's. */
	cbor_item_t *arr = b && n > 1 && b[0] == 0xc0 + COSE_SIGN1_TAG
	                       ? cp_qrtoken_cbor_load(b + 1, n - 1) : NULL;
	cbor_item_t **h = arr && cbor_isa_array(arr) && cbor_array_is_definite(arr) &&
	                          cbor_array_size(arr) == 4
	                      ? cbor_array_handle(arr) : NULL;
	if (!h || !is_bstr(h[0]) || !cbor_isa_map(h[1]) || !is_bstr(h[2]) || !is_bstr(h[3]) ||
	    !read_protected(cbor_bytestring_handle(h[0]), cbor_bytestring_length(h[0]), c->kid) ||
	    cbor_bytestring_length(h[3]) != 64) {
		if (arr)
			cbor_decref(&arr);
		return false;
	}
	c->arr = arr;
	c->prot = cbor_bytestring_handle(h[0]);
	c->nprot = cbor_bytestring_length(h[0]);
	c->payload = cbor_bytestring_handle(h[2]);
	c->npayload = cbor_bytestring_length(h[2]);
	c->sig = cbor_bytestring_handle(h[3]);
	return true;
}

void cp_qrtoken_cose_close(cp_qrtoken_cose *c)
{
	if (c->arr)
		cbor_decref(&c->arr);
	memset(c, 0, sizeof *c);
}

X509 *cp_qrtoken_cose_cert(const cp_qrtoken_cose *c, STACK_OF(X509) *anchors)
{
	for (int i = 0; anchors && i < sk_X509_num(anchors); i++) {
		unsigned char k2[CP_QRTOKEN_KID_LEN];
		if (cp_qrtoken_kid(sk_X509_value(anchors, i), k2) &&
		    memcmp(k2, c->kid, sizeof k2) == 0)
			return sk_X509_value(anchors, i);
	}
	return NULL;
}

bool cp_qrtoken_cose_check(const cp_qrtoken_cose *c, X509 *cert, const char *aad)
{
	size_t ntbs = 0;
	unsigned char *tbs = sig_structure(c->prot, c->nprot, aad, c->payload, c->npayload, &ntbs);
	bool good = tbs && ecdsa_ok(cert, tbs, ntbs, c->sig);
	g_free(tbs);
	return good;
}

static char *hex(const unsigned char *b, size_t n)
{
	GString *g = g_string_sized_new(n * 2);
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(g, "%02x", b[i]);
	return g_string_free(g, FALSE);
}

char *cp_qrtoken_unknown_kid(const cp_qrtoken_cose *c)
{
	char *kh = hex(c->kid, sizeof c->kid);
	char *m = g_strdup_printf(_("signed by an unknown key (kid %s): no trusted seal "
	                            "certificate matches"), kh);
	g_free(kh);
	return m;
}

void cp_qrtoken_signer_info(X509 *cert, cp_verify_result *r)
{
	g_free(r->signer);
	g_free(r->issuer);
	g_free(r->fingerprint);
	r->signer = cp_keys_subject(cert);
	r->issuer = cp_keys_name(X509_get_issuer_name(cert));
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdn = 0;
	X509_digest(cert, EVP_sha256(), md, &mdn);
	r->fingerprint = hex(md, mdn);
}

void cp_qrtoken_verify(const char *qr_text, size_t len, STACK_OF(X509) *anchors,
                       cp_verify_result *r)
{
	memset(r, 0, sizeof *r);
	r->subfilter = g_strdup("COSE_Sign1 ES256 (QR)");
	const char *hash = memchr(qr_text, '#', len);
	size_t plen = strlen(CP_QRTOKEN_PREFIX);
	if (!hash || (size_t)(qr_text + len - hash - 1) < plen ||
	    memcmp(hash + 1, CP_QRTOKEN_PREFIX, plen) != 0) {
		fail(r, CP_VERIFY_UNSIGNED,
		     g_strdup(_("the QR code carries no signed token (no '#cp1.' part): check the "
		                "certificate at its query address")));
		return;
	}
	r->query_url = g_utf8_make_valid(qr_text, hash - qr_text);
	const char *tok = hash + 1 + plen;
	size_t ntok = (size_t)(qr_text + len - tok);
	char *v[CP_QRT_NKEYS] = {0};
	unsigned char *cose = NULL;
	size_t ncose = 0;
	cp_qrtoken_cose c = {0};
	if (ntok > CP_QRTOKEN_MAX_CHARS) {
		fail(r, CP_VERIFY_TAMPERED, g_strdup(_("the signed token is too long")));
		goto out;
	}
	cose = b64url_decode(tok, ntok, &ncose);
	if (!cp_qrtoken_cose_open(cose, ncose, &c) || !read_payload(c.payload, c.npayload, v)) {
		fail(r, CP_VERIFY_TAMPERED,
		     g_strdup(_("the signed token is damaged or truncated: it is not a complete "
		                "COSE_Sign1 ES256 structure with the certificate's fields")));
		goto out;
	}
	r->cert_no = v[CP_QRT_CERT_NO];
	r->name = v[CP_QRT_NAME];
	r->id_masked = v[CP_QRT_ID_MASKED];
	r->occupation = v[CP_QRT_OCCUPATION];
	r->job_type = v[CP_QRT_JOB_TYPE];
	r->level = v[CP_QRT_LEVEL];
	r->issue_date = v[CP_QRT_ISSUE_DATE];
	r->organization = v[CP_QRT_ORGANIZATION];
	memset(v, 0, sizeof v);
	X509 *cert = cp_qrtoken_cose_cert(&c, anchors);
	if (!cert) {
		fail(r, CP_VERIFY_UNTRUSTED, cp_qrtoken_unknown_kid(&c));
		goto out;
	}
	cp_qrtoken_signer_info(cert, r);
	if (!cp_qrtoken_cose_check(&c, cert, r->query_url)) {
		if (!strstr(r->query_url, r->cert_no))
			fail(r, CP_VERIFY_TAMPERED,
			     g_strdup_printf(_("the signed token is for certificate %s, but the QR "
			                       "code's query address names another: a token moved "
			                       "from another certificate"), r->cert_no));
		else
			fail(r, CP_VERIFY_TAMPERED,
			     g_strdup(_("the signature does not match the signed fields and query "
			                "address: the token was altered")));
		goto out;
	}
	r->status = CP_VERIFY_VALID;
out:
	for (int k = 0; k < CP_QRT_NKEYS; k++)
		g_free(v[k]);
	cp_qrtoken_cose_close(&c);
	g_free(cose);
}

/* ----------------------------------------------------------------- images */

bool cp_qrtoken_is_image(const char *path)
{
	unsigned char b[8] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, b, sizeof b);
	close(fd);
	return (n == 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) ||
	       (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff);
}

bool cp_qrtoken_verify_surface(cairo_surface_t *s, STACK_OF(X509) *anchors,
                               cp_verify_result *r, cp_error **err)
{
	if (!cp_lazy_open(&zbar_lib, err))
		return false;
	int w = cairo_image_surface_get_width(s), hgt = cairo_image_surface_get_height(s);
	int stride = cairo_image_surface_get_stride(s);
	cairo_surface_flush(s);
	const unsigned char *px = cairo_image_surface_get_data(s);
	bool alpha = cairo_image_surface_get_format(s) == CAIRO_FORMAT_ARGB32;
	unsigned char *grey = px && w > 0 && hgt > 0 ? malloc((size_t)w * (size_t)hgt) : NULL;
	if (!grey) {
		cp_set_error(err, CP_E_NOMEM, NULL, 0, 0, NULL, _("out of memory"));
		return false;
	}
	for (int y = 0; y < hgt; y++) {
		const uint32_t *row = (const uint32_t *)(px + (size_t)y * (size_t)stride);
		for (int x = 0; x < w; x++) {
			uint32_t p = row[x];
			unsigned a = alpha ? p >> 24 : 255;
			unsigned rr = (p >> 16) & 255, gg = (p >> 8) & 255, bb = p & 255;
			/* Premultiplied over white. */
			unsigned l = (299 * rr + 587 * gg + 114 * bb) / 1000 + (255 - a);
			grey[(size_t)y * (size_t)w + (size_t)x] = (unsigned char)(l > 255 ? 255 : l);
		}
	}
	zbar_image_scanner_t *sc = zbar.zbar_image_scanner_create();
	zbar.zbar_image_scanner_set_config(sc, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
	zbar.zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	zbar.zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
	zbar_image_t *img = zbar.zbar_image_create();
	zbar.zbar_image_set_format(img, zbar_fourcc('Y', '8', '0', '0'));
	zbar.zbar_image_set_size(img, (unsigned)w, (unsigned)hgt);
	zbar.zbar_image_set_data(img, grey, (unsigned long)w * (unsigned long)hgt,
	                         zbar.zbar_image_free_data);
	int n = zbar.zbar_scan_image(sc, img);
	const zbar_symbol_t *sym = NULL;
	/* The first QR code that carries a token, else the first QR code. */
	for (const zbar_symbol_t *y = n > 0 ? zbar.zbar_image_first_symbol(img) : NULL; y;
	     y = zbar.zbar_symbol_next(y)) {
		if (zbar.zbar_symbol_get_type(y) != ZBAR_QRCODE)
			continue;
		const char *d = zbar.zbar_symbol_get_data(y);
		if (!sym || strstr(d, "#" CP_QRTOKEN_PREFIX))
			sym = y;
	}
	if (sym) {
		cp_qrtoken_verify(zbar.zbar_symbol_get_data(sym),
		                  zbar.zbar_symbol_get_data_length(sym), anchors, r);
	} else {
		memset(r, 0, sizeof *r);
		r->status = CP_VERIFY_UNSIGNED;
		r->reason = g_strdup(_("no QR code was found in the image"));
	}
	zbar.zbar_image_destroy(img);
	zbar.zbar_image_scanner_destroy(sc);
	return true;
}

bool cp_qrtoken_verify_image(const char *path, STACK_OF(X509) *anchors, cp_verify_result *r,
                             cp_error **err)
{
	cairo_surface_t *s = cp_image_load(path, NULL, err);
	if (!s)
		return false;
	bool ok = cp_qrtoken_verify_surface(s, anchors, r, err);
	cairo_surface_destroy(s);
	return ok;
}
